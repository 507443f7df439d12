"""Snapshots as gzip WARC files (ISO 28500, written with warcio) and their CDXJ index.

Every record is compressed in memory and appended with one write, so a crawl killed at any
moment leaves whole records only; `recover_tail` still cuts off anything unreadable past
the last committed offset and hands back the records written after it, so the crawl can
account for them (reading records is `pipeline.core.warc`, shared with ingest). Request
records keep their headers except `Cookie`, which is redacted: a snapshot never carries the
session that fetched it.
"""

from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from pipeline.core.warc import INDEX_SUFFIX, StoredRecord, read_records

SOFTWARE = "cryptodrug crawl (Scrapy, warcio)"
DROPPED_HEADERS = {"content-encoding", "transfer-encoding", "content-length"}


@dataclass(frozen=True)
class Fetched:
    """One stored exchange: what was asked and what came back (body already decoded)."""

    url: str
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    request_headers: list[tuple[str, str]]
    fetched_at: datetime


def warc_date(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class SnapshotWriter:
    """Appends records to one snapshot file; each call returns the file's new end offset
    (`exchange`: where its first record starts, and the new end)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def close(self) -> None:
        os.close(self.fd)

    def _append(self, *records: Any) -> int:
        buffer = io.BytesIO()
        writer = WARCWriter(buffer, gzip=True)
        for record in records:
            writer.write_record(record)
        os.write(self.fd, buffer.getvalue())
        return os.fstat(self.fd).st_size

    def warcinfo(self, info: dict[str, str]) -> int:
        writer = WARCWriter(io.BytesIO(), gzip=True)
        return self._append(writer.create_warcinfo_record(self.path.name, info))

    def metadata(self, uri: str, fields: dict[str, Any]) -> int:
        writer = WARCWriter(io.BytesIO(), gzip=True)
        payload = json.dumps(fields, sort_keys=True).encode()
        record = writer.create_warc_record(uri, "metadata", payload=io.BytesIO(payload),
                                           warc_content_type="application/json")
        return self._append(record)

    def exchange(self, page: Fetched, first_seen: tuple[str, str] | None,
                 digest: str) -> tuple[int, int]:
        """A request and its response; a `revisit` record instead of the response when the
        same payload was stored before in this snapshot under another URL."""
        writer = WARCWriter(io.BytesIO(), gzip=True)
        date = warc_date(page.fetched_at)
        headers = [(k, v) for k, v in page.headers if k.lower() not in DROPPED_HEADERS]
        headers.append(("Content-Length", str(len(page.body))))
        http = StatusAndHeaders(f"{page.status} {page.reason}".strip(), headers,
                                protocol="HTTP/1.1")
        if first_seen is None:
            response = writer.create_warc_record(
                page.url, "response", payload=io.BytesIO(page.body), http_headers=http,
                warc_headers_dict={"WARC-Date": date, "WARC-Payload-Digest": digest})
        else:
            response = writer.create_revisit_record(
                page.url, digest, first_seen[0], first_seen[1], http_headers=http,
                warc_headers_dict={"WARC-Date": date})
        request_headers = [(k, "[redacted]" if k.lower() == "cookie" else v)
                           for k, v in page.request_headers]
        path = page.url.split("/", 3)[3] if page.url.count("/") >= 3 else ""
        request = writer.create_warc_record(
            page.url, "request", payload=io.BytesIO(b""),
            http_headers=StatusAndHeaders(f"GET /{path} HTTP/1.1", request_headers,
                                          is_http_request=True),
            warc_headers_dict={"WARC-Date": date,
                               "WARC-Concurrent-To": response.rec_headers["WARC-Record-ID"]})
        start = os.fstat(self.fd).st_size
        return start, self._append(response, request)


def recover_tail(path: Path, committed: int) -> list[StoredRecord]:
    """Records written after the last committed offset (the crawl stopped between storing
    a page and recording it); anything unreadable after them is cut off."""
    if not path.exists():
        return []
    records = list(read_records(path, committed, bodies=True))
    end = records[-1].offset + records[-1].length if records else committed
    if path.stat().st_size > end:
        with path.open("r+b") as fh:
            fh.truncate(end)
    return records


def index_path(warc: Path) -> Path:
    """Where a snapshot's CDXJ index goes: beside it, `.warc.gz` replaced by `.cdxj`."""
    return warc.with_name(warc.name.removesuffix(".gz").removesuffix(".warc") + INDEX_SUFFIX)


def write_index(warc: Path, index: Path) -> int:
    """A CDXJ index (`url timestamp {json}` per response or revisit, sorted) of one
    snapshot; returns the number of lines."""
    lines = []
    for rec in read_records(warc):
        if rec.rec_type not in ("response", "revisit"):
            continue
        stamp = rec.date.replace("-", "").replace(":", "").replace("T", "").rstrip("Z")
        fields = {"url": rec.url, "mime": rec.mime.split(";")[0], "status": rec.status,
                  "digest": rec.digest, "length": rec.length, "offset": rec.offset,
                  "filename": warc.name, "type": rec.rec_type}
        lines.append(f"{rec.url} {stamp} {json.dumps(fields, sort_keys=True)}")
    index.write_text("".join(f"{line}\n" for line in sorted(lines)))
    return len(lines)

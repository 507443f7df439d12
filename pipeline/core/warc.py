"""Reading WARC snapshots (ISO 28500, gzip or plain) and the names of a crawl folder's files.

Shared by the stages that meet snapshots: crawl writes them and reads them back to resume,
ingest reads their pages with the market's adapters. Reading stops quietly at a damaged
tail (a crawl killed mid-write), so whatever whole records a file holds can be used.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from pipeline.core.io import InputError

WARC_SUFFIXES = (".warc.gz", ".warc")
INDEX_SUFFIX = ".cdxj"  # the CDXJ index written next to a finished snapshot
FRONTIER_SUFFIX = ".frontier.sqlite"  # a finished crawl's frontier, kept next to its WARC
STATE_DIR = ".crawl-state"  # an unfinished crawl's frontier and lock


@dataclass(frozen=True)
class StoredRecord:
    offset: int
    length: int
    rec_type: str
    url: str
    date: str
    status: str
    mime: str
    digest: str
    body: bytes


def is_snapshot(path: Path) -> bool:
    return path.name.lower().endswith(WARC_SUFFIXES)


def is_crawl_byproduct(path: Path) -> bool:
    """A crawl's index or frontier: beside the snapshots in a crawl folder, never input."""
    name = path.name.lower()
    return name.endswith((INDEX_SUFFIX, FRONTIER_SUFFIX)) or STATE_DIR in path.parts


def read_records(path: Path, start: int = 0, bodies: bool = False) -> Iterator[StoredRecord]:
    """The records of a WARC from byte `start` on; stops quietly at a damaged tail."""
    with path.open("rb") as fh:
        fh.seek(start)
        iterator = ArchiveIterator(fh)
        try:
            for record in iterator:
                body = record.content_stream().read() if bodies else b""
                iterator.read_to_end(record)
                http = record.http_headers
                yield StoredRecord(
                    offset=iterator.get_record_offset(),
                    length=iterator.get_record_length(),
                    rec_type=record.rec_type,
                    url=record.rec_headers.get_header("WARC-Target-URI") or "",
                    date=record.rec_headers.get_header("WARC-Date") or "",
                    status=http.get_statuscode() if http and record.rec_type != "request"
                    else "",
                    mime=(http.get_header("Content-Type") or "") if http else "",
                    digest=record.rec_headers.get_header("WARC-Payload-Digest") or "",
                    body=body,
                )
        except (ArchiveLoadFailed, EOFError, OSError, ValueError):
            return


def responses(path: Path) -> Iterator[StoredRecord]:
    """The pages a snapshot stored (`response` records, bodies decoded), in file order.
    `revisit` records repeat a page stored before under another URL, and `request`,
    `warcinfo` and `metadata` records hold no page: all are passed over."""
    try:
        with path.open("rb") as fh:
            first = fh.read(4)
    except OSError as err:
        raise InputError(f"{path}: cannot read: {err.strerror}") from err
    if first[:2] != b"\x1f\x8b" and first != b"WARC":
        raise InputError(f"{path}: not a WARC file (neither gzip nor a 'WARC/' header)")
    return (r for r in read_records(path, bodies=True) if r.rec_type == "response")

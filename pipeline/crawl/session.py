"""One crawl's state and decisions: the frontier, the snapshot being written, the cookies.

The Scrapy parts (`engine.py`) only move bytes; everything the crawl decides about a page
(store it, follow its links, pause its host, fetch it again, give up) happens here, and so
does the recovery that makes a killed crawl continue exactly where it stopped.
"""

from __future__ import annotations

import base64
import hashlib
import http.cookiejar
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from pipeline.core.io import InputError
from pipeline.core.warc import STATE_DIR, StoredRecord, read_records
from pipeline.crawl.config import CrawlConfig
from pipeline.crawl.frontier import Frontier
from pipeline.crawl.links import canonical_url, judge_page, trap_of
from pipeline.crawl.warc import (
    Fetched,
    SnapshotWriter,
    recover_tail,
    warc_date,
)


def payload_digest(body: bytes) -> str:
    """The WARC payload digest (base32 SHA-1), as warcio writes it."""
    return "sha1:" + base64.b32encode(hashlib.sha1(body).digest()).decode()


def load_cookies(path: Path | None) -> list[dict[str, str]]:
    """The cookies of a Netscape `cookies.txt` (a browser export), for Scrapy requests."""
    if path is None:
        return []
    jar = http.cookiejar.MozillaCookieJar(str(path))
    try:
        jar.load(ignore_discard=True, ignore_expires=True)
    except (OSError, http.cookiejar.LoadError) as err:
        raise InputError(f"cookies file {path}: not a Netscape cookies.txt ({err})") from None
    return [{"name": c.name, "value": c.value or "", "domain": c.domain, "path": c.path}
            for c in jar]


@dataclass
class Outcome:
    """What became of one fetch, for the console and the counts."""

    stored: bool = False
    message: str = ""


class CrawlSession:
    """The frontier and the snapshot of one market's crawl in an output folder."""

    def __init__(self, cfg: CrawlConfig, out: Path, cookies: Path | None, today: str) -> None:
        self.cfg, self.out, self.cookies_path = cfg, out, cookies
        out.mkdir(parents=True, exist_ok=True)
        self.frontier = Frontier(out / STATE_DIR / "frontier.sqlite", cfg.max_pages,
                                 cfg.max_depth, {t.pattern.pattern: t.max_pages for t in cfg.traps})
        self.resumed = bool(self.frontier.get("snapshot"))
        self.frontier.resume_hosts()  # a new run: the person may have refreshed the cookies
        if not self.resumed:
            self.frontier.set("snapshot", self._new_snapshot_name(today))
            self.frontier.set("started", datetime.now(UTC).isoformat(timespec="seconds"))
        self.snapshot = self.frontier.get("snapshot")
        self.warc_path = out / f"{self.snapshot}.warc.gz"
        self.recovered = self._recover()
        self.writer = SnapshotWriter(self.warc_path)
        self.cookies = load_cookies(cookies)
        self.cookie_generation = 0
        self._cookies_mtime = self._mtime()

    def _new_snapshot_name(self, today: str) -> str:
        name, n = f"{self.cfg.market}-{today}", 1
        while (self.out / f"{name}.warc.gz").exists():
            n += 1
            name = f"{self.cfg.market}-{today}-{n}"
        return name

    def _recover(self) -> dict[str, int]:
        """Pages in flight at a stop go back to pending; records stored after the last
        commit are accounted for (their links followed) instead of fetched again."""
        inflight = self.frontier.recover()
        failed = self.frontier.retry_failed()
        tail = recover_tail(self.warc_path, int(self.frontier.get("warc_offset", "0")))
        end = tail[-1].offset + tail[-1].length if tail else 0
        replayed = 0
        for rec in tail:
            if rec.rec_type not in ("response", "revisit"):
                continue
            body = rec.body if rec.rec_type == "response" else self._first_body(rec.digest)
            self._commit(rec, body, end)
            replayed += 1
        if not self.resumed:
            self.frontier.admit([canonical_url(u, self.cfg) for u in self.cfg.start_urls], 0, {})
        return {"requeued_in_flight": inflight, "retried_failed": failed,
                "replayed_records": replayed}

    def _first_body(self, digest: str) -> bytes:
        first = self.frontier.first_seen(digest)
        if first is None:
            return b""
        return next(read_records(self.warc_path, first[2], bodies=True)).body

    def _commit(self, rec: StoredRecord, body: bytes, end: int) -> None:
        verdict = judge_page(rec.url, int(rec.status or 0), body.decode("utf-8", "replace"),
                             self.cfg)
        self.frontier.stored(rec.url, verdict.links, self._traps(verdict.links), end,
                             rec.digest, rec.date, rec.offset)

    def _traps(self, links: list[str]) -> dict[str, str]:
        return {link: trap for link in links if (trap := trap_of(link, self.cfg))}

    # --- pages ---------------------------------------------------------------------------

    def handle(self, key: str, page: Fetched) -> Outcome:
        """Store a fetched page and admit its links, or pause its host, or fetch it again."""
        verdict = judge_page(page.url, page.status, page.body.decode("utf-8", "replace"),
                             self.cfg)
        if verdict.pause:
            self.frontier.requeue(key)
            return Outcome(message=self.pause(key, f"{verdict.pause} at {page.url}"))
        if page.status >= 500:
            return Outcome(message=self.give_up(key, f"HTTP {page.status} after retries"))
        if verdict.retry:
            if self.frontier.attempts(key) > self.cfg.retries:
                return Outcome(message=self.give_up(key, verdict.retry))
            self.frontier.requeue(key)
            return Outcome()
        digest = payload_digest(page.body)
        first = self.frontier.first_seen(digest)
        start, end = self.writer.exchange(page, first[:2] if first else None, digest)
        self.frontier.stored(key, verdict.links, self._traps(verdict.links), end, digest,
                             warc_date(page.fetched_at), start)
        return Outcome(stored=True)

    def give_up(self, key: str, reason: str) -> str:
        self.frontier.fail(key, reason)
        return f"failed {key}: {reason}"

    def pause(self, key: str, reason: str) -> str:
        host = urlsplit(key).hostname or ""
        if not self.frontier.pause(host, reason):
            return ""
        where = f"refresh {self.cookies_path}" if self.cookies_path else "pass --cookies FILE"
        return (f"paused {host}: {reason}; log in with Tor Browser, export cookies.txt and "
                f"{where} to resume")

    # --- cookies -------------------------------------------------------------------------

    def _mtime(self) -> float:
        return os.stat(self.cookies_path).st_mtime if self.cookies_path else 0.0

    def cookies_refreshed(self) -> bool:
        """True (and the new cookies loaded, paused hosts resumed) when the cookies file
        changed since the crawl read it."""
        if not self.cookies_path or self._mtime() == self._cookies_mtime:
            return False
        self.cookies = load_cookies(self.cookies_path)
        self._cookies_mtime = self._mtime()
        self.cookie_generation += 1
        self.frontier.resume_hosts()
        return True

"""The crawl frontier on disk (SQLite): every URL the crawl has met, and what became of it.

Each change is one transaction, so a crawl killed at any moment (`kill -9` included) restarts
from a consistent state: pages stored are `done` and never fetched again, pages in flight go
back to `pending`. URLs beyond the page, depth or trap bounds are kept as `skipped` with the
reason, so nothing leaves the crawl unaccounted for.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit

SCHEMA = """
CREATE TABLE IF NOT EXISTS urls (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, url TEXT UNIQUE NOT NULL, host TEXT NOT NULL,
  depth INTEGER NOT NULL, trap TEXT NOT NULL DEFAULT '', state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0, reason TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS urls_state ON urls(state, seq);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS paused (host TEXT PRIMARY KEY, reason TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS digests (
  digest TEXT PRIMARY KEY, url TEXT NOT NULL, date TEXT NOT NULL, record_offset INTEGER NOT NULL);
"""
ADMITTED = "state IN ('pending', 'inflight', 'done', 'failed')"


class Frontier:
    """URL states: pending -> inflight -> done | failed; skipped (over a bound) at admission."""

    def __init__(self, path: Path, max_pages: int, max_depth: int,
                 trap_limits: dict[str, int]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.executescript(SCHEMA)
        self.max_pages, self.max_depth, self.trap_limits = max_pages, max_depth, trap_limits
        # Admitted URLs, in all and per trap, counted once here and then kept up to date
        # on admission: a COUNT(*) per link made a large crawl quadratic.
        self.admitted = self._count(ADMITTED)
        self.trapped = dict(self.db.execute(
            f"SELECT trap, COUNT(*) FROM urls WHERE {ADMITTED} AND trap != '' GROUP BY trap"
        ).fetchall())

    def close(self) -> None:
        self.db.close()

    # --- meta ---------------------------------------------------------------------------

    def get(self, key: str, default: str = "") -> str:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    # --- URLs ---------------------------------------------------------------------------

    def recover(self) -> int:
        """After a stop or a kill: pages in flight are fetched again. Returns their number."""
        return self.db.execute("UPDATE urls SET state = 'pending' WHERE state = 'inflight'"
                               ).rowcount

    def admit(self, urls: Iterable[str], depth: int, traps: dict[str, str]) -> None:
        """New URLs (already canonical) enter as pending, or skipped with the bound they
        exceed; URLs met before are left as they are."""
        for url in urls:
            if self.db.execute("SELECT 1 FROM urls WHERE url = ?", (url,)).fetchone():
                continue
            trap = traps.get(url, "")
            reason = self._over_bound(depth, trap)
            self.db.execute(
                "INSERT INTO urls (url, host, depth, trap, state, reason) VALUES (?,?,?,?,?,?)",
                (url, urlsplit(url).hostname or "", depth, trap,
                 "skipped" if reason else "pending", reason))
            if not reason:
                self.admitted += 1
                if trap:
                    self.trapped[trap] = self.trapped.get(trap, 0) + 1

    def _over_bound(self, depth: int, trap: str) -> str:
        if depth > self.max_depth:
            return f"deeper than max_depth {self.max_depth}"
        if self.admitted >= self.max_pages:
            return f"over max_pages {self.max_pages}"
        if trap and self.trapped.get(trap, 0) >= self.trap_limits[trap]:
            return f"trap {trap!r}: over its max_pages {self.trap_limits[trap]}"
        return ""

    def _count(self, where: str, *args: object) -> int:
        return self.db.execute(f"SELECT COUNT(*) FROM urls WHERE {where}", args).fetchone()[0]

    def _ready(self) -> tuple[str, int] | None:
        return self.db.execute(
            "SELECT url, depth FROM urls WHERE state = 'pending' AND host NOT IN "
            "(SELECT host FROM paused) ORDER BY seq LIMIT 1").fetchone()

    def has_ready(self) -> bool:
        """Whether a pending URL of a host that is not paused waits."""
        return self._ready() is not None

    def take(self) -> tuple[str, int] | None:
        """The oldest pending URL of a host that is not paused, now in flight."""
        row = self._ready()
        if row is None:
            return None
        self.db.execute("UPDATE urls SET state = 'inflight', attempts = attempts + 1 "
                        "WHERE url = ?", (row[0],))
        return row[0], row[1]

    def depth(self, url: str) -> int:
        row = self.db.execute("SELECT depth FROM urls WHERE url = ?", (url,)).fetchone()
        return row[0] if row else 0

    def attempts(self, url: str) -> int:
        row = self.db.execute("SELECT attempts FROM urls WHERE url = ?", (url,)).fetchone()
        return row[0] if row else 0

    def stored(self, url: str, links: list[str], traps: dict[str, str], end: int,
               digest: str, date: str, record_offset: int) -> None:
        """One transaction: the page is done, its links admitted, its payload digest
        remembered (where its record starts), the WARC's new end committed."""
        depth = self.depth(url)
        self.db.execute("BEGIN")
        self.db.execute("UPDATE urls SET state = 'done' WHERE url = ?", (url,))
        self.admit(links, depth + 1, traps)
        self.db.execute("INSERT OR IGNORE INTO digests VALUES (?, ?, ?, ?)",
                        (digest, url, date, record_offset))
        self.set("warc_offset", str(end))
        self.db.execute("COMMIT")

    def first_seen(self, digest: str) -> tuple[str, str, int] | None:
        """URL, date and record offset of the first page stored with this payload."""
        return self.db.execute("SELECT url, date, record_offset FROM digests WHERE digest = ?",
                               (digest,)).fetchone()

    def requeue(self, url: str) -> None:
        self.db.execute("UPDATE urls SET state = 'pending' WHERE url = ?", (url,))

    def fail(self, url: str, reason: str) -> None:
        self.db.execute("UPDATE urls SET state = 'failed', reason = ? WHERE url = ?",
                        (reason, url))

    def retry_failed(self) -> int:
        """A new run gives failed pages another chance."""
        return self.db.execute("UPDATE urls SET state = 'pending', attempts = 0, reason = '' "
                               "WHERE state = 'failed'").rowcount

    # --- hosts --------------------------------------------------------------------------

    def pause(self, host: str, reason: str) -> bool:
        """True when the host was not paused yet."""
        return self.db.execute("INSERT OR IGNORE INTO paused VALUES (?, ?)",
                               (host, reason)).rowcount == 1

    def paused(self) -> dict[str, str]:
        return dict(self.db.execute("SELECT host, reason FROM paused").fetchall())

    def resume_hosts(self) -> None:
        self.db.execute("DELETE FROM paused")

    def pending(self) -> int:
        return self._count("state IN ('pending', 'inflight')")

    def counts(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT state, COUNT(*) FROM urls GROUP BY state").fetchall())

"""IO entry of the crawl stage: one market's crawl into a dated WARC snapshot in a folder.

A run either finishes the snapshot (every admitted page stored, skipped with a reason or
failed with a reason: then a closing metadata record, the CDXJ index and the frontier saved
next to the WARC) or stops with pages left (paused hosts, a kill): the next run with the
same output folder continues the same snapshot.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pipeline.core.io import InputError
from pipeline.core.warc import FRONTIER_SUFFIX, STATE_DIR
from pipeline.crawl.config import crawl_config
from pipeline.crawl.session import CrawlSession
from pipeline.crawl.warc import SOFTWARE, index_path, write_index

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
PROXY_SCHEMES = {"socks5h", "socks5", "http"}


def proxy_endpoint(proxy: str | None, no_proxy: bool, hosts: frozenset[str]) -> str:
    """The HTTP proxy URL Scrapy will use ('' for none). Refuses to crawl without a proxy
    unless `no_proxy` is given for a site on this machine."""
    if proxy and no_proxy:
        raise InputError("give either --proxy or --no-proxy, not both")
    if no_proxy:
        remote = sorted(hosts - LOCAL_HOSTS)
        if remote:
            raise InputError(f"--no-proxy is for a local test site only; {remote[0]} needs "
                             "--proxy socks5h://127.0.0.1:9050 (Tor)")
        return ""
    if not proxy:
        raise InputError("refusing to crawl without a proxy: pass --proxy "
                         "socks5h://127.0.0.1:9050 (Tor), or --no-proxy for a local test site")
    scheme = urlsplit(proxy).scheme
    if scheme not in PROXY_SCHEMES or not urlsplit(proxy).hostname:
        raise InputError(f"proxy {proxy!r}: use socks5h://HOST:PORT or http://HOST:PORT")
    if scheme == "http":
        return proxy
    from pipeline.crawl.engine import start_socks_bridge

    return start_socks_bridge(proxy)


def run_crawl(
    market_cfg: dict[str, Any], out: Path, proxy: str | None, no_proxy: bool,
    cookies: Path | None, base_url: str | None = None, max_pages: int | None = None,
    wait: float = 0.0, say: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Crawl (or continue crawling) one market into `out`; returns the run's summary."""
    from pipeline.crawl.engine import run_engine

    cfg = crawl_config(market_cfg, base_url=base_url, max_pages=max_pages)
    endpoint = proxy_endpoint(proxy, no_proxy, cfg.allowed_hosts)
    session = CrawlSession(cfg, out, cookies, date.today().isoformat())
    if session.resumed:
        say(f"resuming {session.snapshot}: " + ", ".join(
            f"{k.replace('_', ' ')} {v}" for k, v in session.recovered.items()))
    session.writer.warcinfo({
        "software": SOFTWARE, "format": "WARC File Format 1.1", "market": cfg.market,
        "snapshot": session.snapshot, "resumed": str(session.resumed).lower(),
        "run-started": datetime.now(UTC).isoformat(timespec="seconds"),
        "user-agent": cfg.user_agent, "proxy": urlsplit(proxy).scheme if proxy else "none",
        "crawl-config": json.dumps(market_cfg.get("crawl", {}), sort_keys=True),
    })
    stored = run_engine(session, endpoint, say, wait)
    return finish(session, stored)


def finish(session: CrawlSession, stored: int) -> dict[str, Any]:
    frontier = session.frontier
    counts, paused, left = frontier.counts(), frontier.paused(), frontier.pending()
    status = "finished" if not left and not paused else "paused" if paused else "stopped"
    if status == "finished":
        end = session.writer.metadata(f"urn:cryptodrug:crawl:{session.snapshot}", {
            "snapshot": session.snapshot, "started": frontier.get("started"),
            "finished": datetime.now(UTC).isoformat(timespec="seconds"), "urls": counts})
        frontier.set("warc_offset", str(end))
    session.writer.close()
    index = index_path(session.warc_path)
    entries = write_index(session.warc_path, index)
    frontier.close()
    state = session.out / STATE_DIR
    if status == "finished":
        frontier_file = session.out / f"{session.snapshot}{FRONTIER_SUFFIX}"
        (state / "frontier.sqlite").rename(frontier_file)
        for leftover in state.iterdir():
            leftover.unlink()
        state.rmdir()
    return {"market": session.cfg.market, "snapshot": session.snapshot, "status": status,
            "warc": str(session.warc_path), "index": str(index), "index_entries": entries,
            "stored_this_run": stored, "urls": counts, "paused_hosts": paused,
            "left": left, **({"recovered": session.recovered} if session.resumed else {})}

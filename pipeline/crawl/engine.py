"""The Scrapy side of a crawl: a scheduler backed by the on-disk frontier, a spider that
hands every response to the `CrawlSession`, the settings (politeness, retries, proxy) and
a local HTTP-to-SOCKS5 bridge (pproxy), since Scrapy speaks HTTP proxies only.

Requests never come from the spider: the scheduler draws them from the frontier, so the
frontier is the one truth about what is left to fetch. Scrapy hands back only the retries
and redirects of requests already in flight, which the scheduler keeps in memory (a kill
loses nothing: their frontier rows are still `inflight` and go back to `pending`).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.core.scheduler import BaseScheduler
from scrapy.crawler import CrawlerProcess
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Request, Response

from pipeline.crawl.session import CrawlSession
from pipeline.crawl.warc import Fetched

KEY = "frontier_url"
RETRY_CODES = [500, 502, 503, 504, 522, 524, 408, 429]


def start_socks_bridge(proxy: str) -> str:
    """An HTTP proxy on 127.0.0.1 (a free port) that forwards every connection to the
    SOCKS5 proxy by host name, so names are resolved by the proxy (Tor), never locally."""
    import pproxy

    parts = urlsplit(proxy)
    remote = pproxy.Connection(f"socks5://{parts.hostname}:{parts.port or 1080}")
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True, name="socks-bridge").start()
    server = pproxy.Server("http://127.0.0.1:0")
    handler = asyncio.run_coroutine_threadsafe(
        server.start_server({"rserver": [remote], "verbose": lambda *_: None}), loop).result(10)
    return f"http://127.0.0.1:{handler.sockets[0].getsockname()[1]}"


def _header_list(headers: Any) -> list[tuple[str, str]]:
    """Scrapy's headers (bytes, possibly repeated) as (name, value) text pairs."""
    return [(k.decode(), b", ".join(v).decode("latin-1")) for k, v in headers.items()]


class FrontierScheduler(BaseScheduler):
    """Scrapy's scheduler interface over `CrawlSession.frontier`."""

    def __init__(self) -> None:
        self.followups: deque[Request] = deque()
        self.spider: MarketSpider | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> FrontierScheduler:
        return cls()

    def open(self, spider: Any) -> None:
        self.spider = spider

    def has_pending_requests(self) -> bool:
        return bool(self.followups) or self.spider.session.frontier.has_ready()

    def enqueue_request(self, request: Request) -> bool:
        self.followups.append(request)
        return True

    def next_request(self) -> Request | None:
        if self.followups:
            return self.followups.popleft()
        taken = self.spider.session.frontier.take()
        return self.spider.request_for(taken[0]) if taken else None


class MarketSpider(scrapy.Spider):
    name = "market"

    def __init__(self, session: CrawlSession, proxy: str, say: Callable[[str], None],
                 wait: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.session, self.proxy, self.say, self.wait = session, proxy, say, wait
        self.allowed_domains = sorted(session.cfg.allowed_hosts)
        self.idle_since: float | None = None
        self.stored = 0

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> MarketSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.idle, signal=signals.spider_idle)
        return spider

    async def start(self) -> AsyncIterator[Request]:
        for request in ():  # every request comes from the frontier scheduler
            yield request

    def request_for(self, url: str) -> Request:
        meta: dict[str, Any] = {KEY: url, "cookiejar": self.session.cookie_generation}
        if self.proxy:
            meta["proxy"] = self.proxy
        return Request(url, callback=self.parse, errback=self.failed, meta=meta,
                       cookies=self.session.cookies, dont_filter=True)

    def parse(self, response: Response) -> None:
        page = Fetched(url=response.url, status=response.status, reason="",
                       headers=_header_list(response.headers), body=response.body,
                       request_headers=_header_list(response.request.headers),
                       fetched_at=datetime.now(UTC))
        outcome = self.session.handle(response.meta[KEY], page)
        self.stored += outcome.stored
        if outcome.message:
            self.say(outcome.message)

    def failed(self, failure: Any) -> None:
        request = failure.request
        message = self.session.give_up(request.meta[KEY], failure.getErrorMessage()[:200]
                                       or failure.type.__name__)
        self.say(message)

    def idle(self) -> None:
        """Stay open while paused hosts may get fresh cookies (`--wait` seconds)."""
        if self.session.cookies_refreshed():
            self.say("cookies refreshed: resuming paused hosts")
            raise DontCloseSpider
        if self.session.frontier.paused() and self.wait > 0:
            now = time.monotonic()
            self.idle_since = self.idle_since or now
            if now - self.idle_since < self.wait:
                raise DontCloseSpider


def scrapy_settings(session: CrawlSession) -> dict[str, Any]:
    cfg = session.cfg
    return {
        "SCHEDULER": f"{__name__}.FrontierScheduler",
        "USER_AGENT": cfg.user_agent,
        "ROBOTSTXT_OBEY": False,
        "CONCURRENT_REQUESTS": max([cfg.concurrency] + [int(h.get("concurrency", 1))
                                                        for h in cfg.hosts.values()]) * 4,
        "CONCURRENT_REQUESTS_PER_DOMAIN": cfg.concurrency,
        "DOWNLOAD_DELAY": cfg.delay,
        "DOWNLOAD_SLOTS": cfg.hosts,
        "AUTOTHROTTLE_ENABLED": cfg.autothrottle,
        "AUTOTHROTTLE_START_DELAY": max(cfg.delay, 0.01),
        "AUTOTHROTTLE_TARGET_CONCURRENCY": float(cfg.concurrency),
        "DOWNLOAD_TIMEOUT": cfg.timeout,
        "RETRY_TIMES": cfg.retries,
        "RETRY_HTTP_CODES": [c for c in RETRY_CODES if c not in cfg.pause_status],
        "HTTPERROR_ALLOW_ALL": True,
        "COOKIES_ENABLED": True,
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": "ERROR",
    }


def run_engine(session: CrawlSession, proxy: str, say: Callable[[str], None],
               wait: float) -> int:
    """Crawl until the frontier is empty, every host left is paused, or `wait` runs out.
    Returns the number of pages stored in this run."""
    process = CrawlerProcess(scrapy_settings(session))
    crawler = process.create_crawler(MarketSpider)
    process.crawl(crawler, session=session, proxy=proxy, say=say, wait=wait)
    process.start()
    return crawler.spider.stored if crawler.spider else 0

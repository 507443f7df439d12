"""The `crawl:` section of a market's YAML, checked once into a `CrawlConfig`.

    crawl:
      base_url: "http://marketxyz.onion/"     # start URLs and link rules are relative to it
      start_urls: ["/"]
      allowed_hosts: []                       # default: the base URL's host only
      follow:                 # page type (page_types name, or `unknown`) -> link regexes
        search: ['/viewProduct\\?offer=', '/\\?category=\\d+(&page=\\d+)?$']
        listing: ['/contactMember\\?member=']
      drop_params: [sid, sort]                # session and sort parameters, dropped
      traps: [{pattern: '/calendar', max_pages: 20}]   # at most 20 pages match the pattern
      max_pages: 20000
      max_depth: 12
      delay: 2.0                              # seconds between requests to one host
      concurrency: 2                          # parallel requests per host
      hosts: {"other.onion": {delay: 5, concurrency: 1}}
      pause_on: [anti_ddos, login]            # page types that pause their host
      pause_status: [403, 429]                # HTTP answers that pause their host
      retries: 3
      timeout: 60
      user_agent: "Mozilla/5.0 (Windows NT 10.0; rv:128.0) Gecko/20100101 Firefox/128.0"

Defaults are polite (one host, two requests at a time, two seconds apart, AutoThrottle on).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

from pipeline.core.io import InputError

UNKNOWN = "unknown"  # the `follow` key for pages that no page type matches
TOR_BROWSER_UA = "Mozilla/5.0 (Windows NT 10.0; rv:128.0) Gecko/20100101 Firefox/128.0"
DEFAULTS: dict[str, Any] = {
    "start_urls": ["/"], "allowed_hosts": [], "follow": {}, "drop_params": [], "traps": [],
    "max_pages": 20000, "max_depth": 12, "delay": 2.0, "concurrency": 2, "hosts": {},
    "pause_on": [], "pause_status": [403, 429], "retries": 3, "timeout": 60,
    "user_agent": TOR_BROWSER_UA, "autothrottle": True,
}


@dataclass(frozen=True)
class Trap:
    pattern: re.Pattern[str]
    max_pages: int


@dataclass(frozen=True)
class CrawlConfig:
    market: str
    base_url: str
    start_urls: list[str]
    allowed_hosts: frozenset[str]
    follow: dict[str, list[re.Pattern[str]]]
    drop_params: frozenset[str]
    traps: list[Trap]
    max_pages: int
    max_depth: int
    delay: float
    concurrency: int
    hosts: dict[str, dict[str, float]]
    pause_on: frozenset[str]
    pause_status: frozenset[int]
    retries: int
    timeout: float
    user_agent: str
    autothrottle: bool
    market_cfg: dict[str, Any] = field(repr=False, default_factory=dict)


def crawl_config(market_cfg: dict[str, Any], base_url: str | None = None,
                 max_pages: int | None = None) -> CrawlConfig:
    """The market's crawl settings with defaults filled in; `base_url` replaces the
    configured one (a local mirror or the test fixture). One-line InputError when unusable."""
    name = market_cfg.get("name", "?")
    section = market_cfg.get("crawl")
    if not isinstance(section, dict):
        raise InputError(f"market {name!r} has no 'crawl:' section in its YAML")
    unknown = set(section) - set(DEFAULTS) - {"base_url"}
    if unknown:
        raise InputError(f"market {name!r}: unknown crawl keys {sorted(unknown)}")
    merged = {**DEFAULTS, **section}
    base = base_url or merged.get("base_url") or ""
    if urlsplit(base).scheme not in ("http", "https") or not urlsplit(base).hostname:
        raise InputError(f"market {name!r}: crawl base_url {base!r} is not an http(s) URL")
    hosts = frozenset(merged["allowed_hosts"] if not base_url and merged["allowed_hosts"]
                      else [urlsplit(base).hostname])
    page_types = {p["name"] for p in market_cfg.get("page_types", [])}
    named = (set(merged["follow"]) - {UNKNOWN}) | set(merged["pause_on"])
    if page_types and not named <= page_types:
        raise InputError(f"market {name!r}: crawl names page types {sorted(named - page_types)}"
                         " that page_types does not define")
    try:
        follow = {kind: [re.compile(p) for p in pats] for kind, pats in merged["follow"].items()}
        traps = [Trap(re.compile(t["pattern"]), int(t["max_pages"])) for t in merged["traps"]]
    except (re.error, KeyError, TypeError) as err:
        raise InputError(f"market {name!r}: bad crawl link rule or trap ({err})") from None
    return CrawlConfig(
        market=name, base_url=base,
        start_urls=[urljoin(base, u) for u in merged["start_urls"]],
        allowed_hosts=hosts, follow=follow,
        drop_params=frozenset(p.lower() for p in merged["drop_params"]), traps=traps,
        max_pages=int(max_pages or merged["max_pages"]), max_depth=int(merged["max_depth"]),
        delay=float(merged["delay"]), concurrency=int(merged["concurrency"]),
        hosts=dict(merged["hosts"]), pause_on=frozenset(merged["pause_on"]),
        pause_status=frozenset(int(s) for s in merged["pause_status"]),
        retries=int(merged["retries"]), timeout=float(merged["timeout"]),
        user_agent=str(merged["user_agent"]), autothrottle=bool(merged["autothrottle"]),
        market_cfg=market_cfg,
    )

"""What the crawler makes of one fetched page: its type, whether it blocks the crawl, and
the links to follow, all by the market's YAML. Pure: text in, decisions out."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePosixPath
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from selectolax.lexbor import LexborHTMLParser

from pipeline.core.pages import detect_page_type, incomplete
from pipeline.crawl.config import UNKNOWN, CrawlConfig


@dataclass
class Verdict:
    """`pause` set: a login, captcha or ban page (the host waits for fresh cookies);
    `retry` set: a page cut off in transfer (fetched again, never stored)."""

    page_type: str = ""
    pause: str = ""
    retry: str = ""
    links: list[str] = field(default_factory=list)


def canonical_url(url: str, cfg: CrawlConfig) -> str:
    """One spelling per page: lowercase scheme and host, no fragment, no default port, the
    market's session and sort parameters dropped, the others sorted."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    port = parts.port
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    netloc = host if port in (None, default) else f"{host}:{port}"
    query = sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                   if k.lower() not in cfg.drop_params)
    return urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", urlencode(query), ""))


def allowed(url: str, cfg: CrawlConfig) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and (parts.hostname or "") in cfg.allowed_hosts


def trap_of(url: str, cfg: CrawlConfig) -> str:
    """The trap pattern a URL falls under ('' when none): such URLs count against the
    pattern's `max_pages`."""
    return next((t.pattern.pattern for t in cfg.traps if t.pattern.search(url)), "")


def judge_page(url: str, status: int, body: str, cfg: CrawlConfig) -> Verdict:
    """Type the page by the market's `page_types`, then decide: pause its host, fetch it
    again, or store it and follow the links its type's rules allow."""
    if status in cfg.pause_status:
        return Verdict(pause=f"HTTP {status}")
    tree = LexborHTMLParser(body)
    page_cfg = detect_page_type(tree, PurePosixPath(urlsplit(url).path or "/"), cfg.market_cfg)
    kind = page_cfg["name"] if page_cfg else ""
    if kind in cfg.pause_on:
        return Verdict(page_type=kind, pause=f"{kind} page")
    missing = incomplete(tree, page_cfg, cfg.market_cfg)
    if missing:
        return Verdict(page_type=kind, retry=f"truncated: lacks {missing}")
    rules = cfg.follow.get(kind or UNKNOWN, [])
    links: list[str] = []
    seen: set[str] = set()
    for node in tree.css("a[href]") if rules else []:
        link = canonical_url(urljoin(url, node.attributes.get("href") or ""), cfg)
        if link not in seen and allowed(link, cfg) and any(r.search(link) for r in rules):
            seen.add(link)
            links.append(link)
    return Verdict(page_type=kind, links=links)

"""A fixture market for the crawler: a small web app written for the project, served on
127.0.0.1 only, with pages generated from the bundled sample (data/sample) in the Dream
page styles that `conf/markets/fixture.yaml` (and so ingest) reads.

What it does to a crawler: category result pages with pagination and sort links, listing,
vendor and ratings pages, a session id in every link (`sid=`), the same listing under two
URLs (`/viewProduct?offer=ID` and `/offer/ID`), an endless calendar, 503s and truncated
bodies on the first request of some listings, slow answers, a captcha interstitial after
`captcha_after` pages for requests without the `human` cookie, and `/messages` redirecting
to a login page. `day` changes the market a little (listings come and go, prices move), so
two crawls give two different snapshots. Every request is recorded in `FixtureMarket.log`.

Run by hand: `python -m fixture_market --port 8765` from tests/.
"""

from __future__ import annotations

import csv
import html
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

SAMPLE = (Path(__file__).resolve().parents[2] / "data" / "sample" / "markets" / "darkmatter"
          / "darkmatter_physical_products_7_7.csv")
HUMAN_TOKEN = "fixture-human-ok"
PAGE_SIZE = 5
FOOTER = ('<div class="footer"><div class="copyRight"><div>fixture market written for the '
          "cryptodrug project</div></div></div>")


@dataclass
class Listing:
    offer: str
    title: str
    vendor: str
    category: list[str]
    ships_from: str
    ships_to: str
    price: str


def sample_listings(n: int, day: int) -> list[Listing]:
    """The first `n` sample rows as listings (the sample over again, titles numbered, when
    `n` is larger: benchmarks crawl thousands); on later days one in ten is gone, one in
    three has a new price, and the rows after `n` start appearing."""
    with SAMPLE.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    wanted = range(n + day * 2)
    chosen = [(i, rows[i % len(rows)]) for i in wanted if day == 0 or (i + day) % 10]
    listings = []
    for i, row in chosen:
        price = row["Price"].split(" ")[0].split("-")[0]
        amount = float(price) * (1 + 0.1 * day) if i % 3 == 0 else float(price)
        round_ = i // len(rows)
        listings.append(Listing(
            offer=str(100000 + i), title=row["Name"] + (f" #{round_}" if round_ else ""),
            vendor=row["Vendor"],
            category=["Drugs"] + [p.strip() for p in row["Category"].split(">")],
            ships_from=row["Ship From"], ships_to=row["Ship To"], price=f"€{amount:.2f}"))
    return listings


def page(title: str, body: str, sidebar: str = "") -> str:
    return (f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"/><title>{html.escape(title)}'
            f'</title></head>\n<body><div class="main">\n{sidebar}<div class="content">\n{body}\n'
            f'</div>\n<a href="/messages">Messages</a>\n{FOOTER}\n</div></body></html>\n')


def sidebar(path: list[str], categories: list[str], sid: str) -> str:
    items = []
    for depth, name in enumerate(path):
        selected = " selected" if depth == len(path) - 1 else ""
        items.append(f'<div class="category{selected} depth{depth}"><a href="/?category='
                     f'{depth}&amp;sid={sid}">{html.escape(name)}</a></div>')
    links = "".join(f'<div class="catlink"><a href="/?category={i}&amp;sid={sid}">'
                    f"{html.escape(c)}</a></div>" for i, c in enumerate(categories))
    return (f'<div class="sidebar browse"><div class="sidebarHeader">Browse by category</div>'
            f'{"".join(items)}{links}</div>\n')


def shop_item(item: Listing, sid: str) -> str:
    return (f'<div class="shopItem"><div class="text oTitle"><a href="/viewProduct?offer='
            f'{item.offer}&amp;sid={sid}">{html.escape(item.title)}</a></div>'
            f'<div class="oOfferBody"><div class="bottom oPrice">{item.price}</div>'
            f'<div class="oVendor"><a href="/contactMember?member={item.vendor}&amp;sid={sid}">'
            f"{item.vendor}</a></div>"
            f'<div class="oShips"><span class="osBod">{html.escape(item.ships_from)} → '
            f"{html.escape(item.ships_to)}</span></div></div></div>\n")


CAPTCHA = page("Security check", '<div class="verifyHuman"><form action="./verifyHuman2" '
               'method="post"><div class="ddos">DDOS Protection<img alt="Captcha" '
               'class="captcha" src="img/captcha2"/></div></form></div>')
LOGIN = page("Login", '<div class="login notloggedin"><div class="title">Login with existing '
             "user</div><form><label>Username</label></form></div>")


@dataclass
class FixtureMarket:
    n_listings: int = 30
    day: int = 0
    captcha_after: int = 0          # 0: never
    slow_s: float = 0.05
    faults: bool = True             # 503s and truncated bodies on first requests
    log: list[tuple[str, str, str]] = field(default_factory=list)   # (host, path, cookie)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.listings = {x.offer: x for x in sample_listings(self.n_listings, self.day)}
        self.categories = sorted({" > ".join(x.category) for x in self.listings.values()})
        self.seen: set[str] = set()
        self.unverified = 0

    # --- pages ---------------------------------------------------------------------------

    def home(self, sid: str) -> str:
        return page("Welcome", f'<div class="welcome">Welcome <a href="/calendar?month='
                    f'2018-11&amp;sid={sid}">Calendar</a></div>',
                    sidebar(["Drugs"], self.categories, sid))

    def search(self, query: dict[str, str], sid: str) -> str:
        index = int(query.get("category", "0"))
        name = self.categories[index % len(self.categories)]
        items = sorted((x for x in self.listings.values() if " > ".join(x.category) == name),
                       key=lambda x: x.offer)
        number = int(query.get("page", "1"))
        shown = items[(number - 1) * PAGE_SIZE: number * PAGE_SIZE]
        nav = f'<a href="/?category={index}&amp;sort=price&amp;sid={sid}">by price</a>'
        if number * PAGE_SIZE < len(items):
            nav += (f' <a href="/?category={index}&amp;page={number + 1}&amp;sid={sid}">'
                    "next</a>")
        body = (f'<div class="shop"><div class="title">{html.escape(name)}</div>'
                f'{"".join(shop_item(x, sid) for x in shown)}<div class="pages">{nav}</div></div>')
        return page(f"Category {name}", body, sidebar(name.split(" > "), self.categories, sid))

    def listing(self, item: Listing) -> str:
        body = (
            f'<div class="viewProduct"><div class="title">{html.escape(item.title)}</div>'
            f'<div class="tabularDetails"><div><label>Vendor</label><span><a href="/contact'
            f'Member?member={item.vendor}">{item.vendor}</a></span></div>'
            f"<div><label>Price</label><span>{item.price}</span></div>"
            f"<div><label>Ships to</label><span>{html.escape(item.ships_to)}</span></div>"
            f"<div><label>Ships from</label><span>{html.escape(item.ships_from)}</span></div>"
            f'</div><div class="preformattedNotes" id="offerDescription"><pre>'
            f"{html.escape(item.title)}</pre></div>"
            f'<form action="./checkout" method="get"><input name="offer" type="hidden" '
            f'value="{item.offer}"/></form></div>')
        return page(item.title, body, sidebar(item.category, [], "0"))  # same under both URLs

    def vendor(self, name: str, sid: str) -> str | None:
        items = [x for x in self.listings.values() if x.vendor == name]
        if not items:
            return None
        rows = "".join(f'<div class="shopItem"><div class="text oTitle"><a href="/offer/'
                       f'{x.offer}">{html.escape(x.title)}</a></div><div class="bottom oPrice">'
                       f"{x.price}</div></div>\n" for x in items)
        body = (f'<div class="contactMember"><table class="pTable"><tr><td><label>Username'
                f"</label></td><td><span>{name} </span></td></tr></table>"
                f'<div class="profileNotes"><div class="memberSince"><label>Join date</label>'
                f'<span>02/03/2018</span></div></div><a href="/ratings?member={name}&amp;'
                f'sid={sid}">Ratings</a><div class="shop">{rows}</div></div>')
        return page("Contact vendor", body)

    def calendar(self, month: str, sid: str) -> str:
        year, mon = (int(p) for p in month.split("-"))
        year, mon = (year + 1, 1) if mon == 12 else (year, mon + 1)
        return page(f"Calendar {month}", f'<div class="calendar">{month} <a href="/calendar?'
                    f'month={year}-{mon:02d}&amp;sid={sid}">next month</a></div>')

    # --- dispatch ------------------------------------------------------------------------

    def answer(self, path: str, cookie: str) -> tuple[int, dict[str, str], str, bool]:
        """(status, headers, body, truncate) for one GET."""
        parts = urlsplit(path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        sid = "s" + str(len(self.log) % 97)
        first = path not in self.seen
        self.seen.add(path)
        if parts.path == "/messages":
            return 302, {"Location": "/login"}, "", False
        if parts.path == "/login":
            return 200, {}, LOGIN, False
        if self.captcha_after and f"human={HUMAN_TOKEN}" not in cookie:
            self.unverified += 1
            if self.unverified > self.captcha_after:
                return 200, {}, CAPTCHA, False
        if parts.path == "/":
            body = self.search(query, sid) if "category" in query else self.home(sid)
            return 200, {}, body, False
        offer = query.get("offer", "") if parts.path == "/viewProduct" else (
            parts.path.removeprefix("/offer/") if parts.path.startswith("/offer/") else "")
        if offer in self.listings:
            number = int(offer) - 100000
            if self.faults and first and number % 7 == 3:
                return 503, {"Retry-After": "0"}, page("Down", "<p>down</p>"), False
            if self.slow_s and number % 5 == 1:
                time.sleep(self.slow_s)
            truncate = self.faults and first and number % 11 == 4
            return 200, {}, self.listing(self.listings[offer]), truncate
        if parts.path in ("/contactMember", "/ratings"):
            body = self.vendor(query.get("member", ""), sid)
            if body is not None:
                return 200, {}, body, False
        if parts.path == "/calendar":
            return 200, {}, self.calendar(query.get("month", "2018-11"), sid), False
        return 404, {}, page("Not found", "<p>not found</p>"), False


class _Handler(BaseHTTPRequestHandler):
    market: FixtureMarket

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        cookie = self.headers.get("Cookie", "")
        with self.market.lock:
            self.market.log.append((self.headers.get("Host", ""), self.path, cookie))
            status, headers, body, truncate = self.market.answer(self.path, cookie)
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data[: len(data) // 2] if truncate else data)
        if truncate:
            self.close_connection = True

    def log_message(self, *args: object) -> None:
        pass


def serve(market: FixtureMarket, port: int = 0) -> tuple[ThreadingHTTPServer, str]:
    """Start the fixture on 127.0.0.1 in a thread; returns the server and its base URL."""
    handler = type("Handler", (_Handler,), {"market": market})
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def cookies_txt(host: str) -> str:
    """A Netscape cookies.txt with the session a person gets after solving the captcha."""
    return f"# Netscape HTTP Cookie File\n{host}\tFALSE\t/\tFALSE\t0\thuman\t{HUMAN_TOKEN}\n"

"""The HTML adapter: saved market pages, parsed by configuration.

A market's YAML lists its `page_types` in order. The first whose `match` rules all hold
decides how a file is read; its `parser` (a name in `PAGE_PARSERS`) says what the page must
yield: `listing` (one listing), `search` (many listings), `vendor` (a vendor profile, with
its listings and ratings when shown), `feedback` (buyer ratings) or `skip` (login, captcha,
404, PGP ... pages: one quarantined row with the type's `reason`). `complete_when` (on the
market or a page type) lists selectors every complete page has, such as the footer: a
data page without one is quarantined as `truncated`. Selectors live in the
YAML, so a team adds a market, or follows a redesign, by configuration:

    page_types:
      - name: listing
        match: {css: "div.viewProduct", title: "(?i)listing", path: "listings/*"}
        listing:                       # block of fields, evaluated on the whole page
          title: "div.viewProduct > div.title"          # CSS: text of the first match
          price_raw: {label: "Price"}                    # value after the label "Price"
          native_id: {css: "input[name=offer]", attr: value}
          category_raw: {tree: "div.category", depth: "depth(\\d+)", selected: selected}
        feedback: {rows: "table.ratingTable tr", fields: {...}}   # optional blocks
      - name: search
        items: {rows: "div.shopItem", fields: {...}, page: {category_raw: ...}}

Field specs: a CSS string, or a mapping with `css` (`all: true` joins every match with
`sep`), `label` (text after a label element matching `label_css` up to the next label),
`tree`, `count`, `value`; then `attr`, `own_text`, `pattern` (first group), `menu` (the
value is a category id: its path in the page's nested category menu), `map`, `date_format`
(strptime, output ISO), `age` (relative ages like `3d 4h` counted back from the scrape
date), then `fallback` (another spec, used when all this gave nothing) and `default`.
Page-wide fields (`scraped_at`) come from the market's `page_fields`; the YAML's
`scraped_at` default covers pages that do not show a date.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import PurePosixPath
from typing import Any

import pandas as pd
from selectolax.lexbor import LexborHTMLParser, LexborNode

from pipeline.core.pages import detect_page_type, incomplete
from pipeline.core.registry import Registry
from pipeline.ingest import ADAPTERS, AdapterResult, Document, clean_text
from pipeline.ingest.tabular import decode, limits

MULTILINE_FIELDS = {"description", "text"}
CODE_TAGS = ("script", "style", "noscript", "template")
AGE_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
# Elements that never stay open (void), or whose next sibling closes them (`<p>`, `<li>`,
# `<td>`, ...): they cannot nest deep, so `nesting_tags` leaves them out.
NON_NESTING = frozenset({
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
    "source", "track", "wbr", "p", "li", "dt", "dd", "tr", "td", "th", "option", "optgroup",
    "thead", "tbody", "tfoot", "colgroup", "caption", "rb", "rt", "rtc", "rp", "html", "head",
    "body",
})
_OPENING_TAG = re.compile(r"<([A-Za-z][A-Za-z0-9]*)")


@dataclass
class Page:
    """What a parser makes of one page; `problem` set means the page yields nothing."""

    listings: list[dict[str, str]] = field(default_factory=list)
    feedback: list[dict[str, str]] = field(default_factory=list)
    vendors: list[dict[str, str]] = field(default_factory=list)
    problem: str | None = None


@dataclass
class PageContext:
    tree: LexborHTMLParser
    page_cfg: dict[str, Any]
    market_cfg: dict[str, Any]
    scraped_at: str
    truncated: bool

    @property
    def label_css(self) -> str:
        return self.page_cfg.get("label_css", self.market_cfg.get("label_css", "label"))


PageParser = Callable[[PageContext], Page]
PAGE_PARSERS: Registry[PageParser] = Registry("HTML page parser")


@ADAPTERS.register("html")
def read_html_page(doc: Document, cfg: dict[str, Any]) -> AdapterResult:
    """One saved page into listing records, feedback and vendor rows, or one quarantined row."""
    path, source = doc.path, doc.source or _rel(doc.path)
    bounds = limits(cfg)
    text = decode(doc, cfg.get("encoding", "utf-8"), bounds["max_file_bytes"])
    if not text.strip():
        return _quarantine(source, cfg, "", "empty file")
    if (tags := nesting_tags(text)) > bounds["max_nesting_tags"]:
        return _quarantine(source, cfg, "", f"{tags} opening tags that may nest, over "
                           f"{bounds['max_nesting_tags']} (limits.max_nesting_tags): "
                           "not a market page")
    tree = LexborHTMLParser(text)
    tree.strip_tags(list(CODE_TAGS))  # their code would otherwise end up in titles
    page_cfg = detect_page_type(tree, path, cfg, clean=clean_text)
    missing = incomplete(tree, page_cfg, cfg)
    if missing:
        what = page_cfg["name"] if page_cfg else "unknown"
        return _quarantine(source, cfg, what, f"truncated: {what} page lacks {missing} "
                                            "(complete_when)")
    if page_cfg is None:
        reason = "unknown page type: no page_types rule of the market matches"
        return _quarantine(source, cfg, "", reason)
    ctx = PageContext(
        tree=tree,
        page_cfg=page_cfg,
        market_cfg=cfg,
        scraped_at=_page_scrape_date(tree, cfg, doc.captured),
        truncated="</html>" not in text[-2000:].lower(),
    )
    page = PAGE_PARSERS.get(page_cfg.get("parser", page_cfg["name"]))(ctx)
    if page.problem:
        return _quarantine(source, cfg, page_cfg["name"], page.problem)
    common = {"market": cfg["name"], "scraped_at": ctx.scraped_at, "source_file": source,
              "page_type": page_cfg["name"]}
    listings = [{**common, **row, "source_row": i} for i, row in enumerate(page.listings)]
    side = {
        name: pd.DataFrame([{**common, **row, "source_row": i} for i, row in enumerate(rows)])
        for name, rows in (("feedback", page.feedback), ("vendors", page.vendors))
        if rows
    }
    return AdapterResult(records=pd.DataFrame(listings), side_tables=side)


def nesting_tags(text: str) -> int:
    """How many opening tags of elements that may hold others (not `NON_NESTING`) the page
    has, counted from tag names alone in one linear pass: a bound on how deep the parser,
    quadratic in that depth, can nest. Closing tags are not subtracted, as no estimate can
    trust them: a `</div>` in an attribute, a comment or a script closes nothing."""
    return sum(name.lower() not in NON_NESTING for name in _OPENING_TAG.findall(text))


# --- page parsers -----------------------------------------------------------------------


@PAGE_PARSERS.register("skip")
def parse_skip(ctx: PageContext) -> Page:
    """Pages that are no market data at all (login, captcha, 404, PGP key, terms)."""
    return Page(problem=ctx.page_cfg.get("reason", f"{ctx.page_cfg['name']} page, not a listing"))


@PAGE_PARSERS.register("listing")
def parse_listing(ctx: PageContext) -> Page:
    """A listing's own page: one listing, plus the ratings shown under it."""
    page = _common_blocks(ctx)
    record = extract_fields(ctx.tree.root, ctx.page_cfg["listing"], ctx)
    if record.get("title"):
        page.listings.append(record)
    else:
        page.problem = _empty_reason(ctx, "listing page without a title")
    return page


@PAGE_PARSERS.register("search")
def parse_search(ctx: PageContext) -> Page:
    """A search or category result page: one listing per result row."""
    page = _common_blocks(ctx)
    if not page.listings:
        page.problem = _empty_reason(ctx, "result page without listings")
    return page


@PAGE_PARSERS.register("vendor")
def parse_vendor(ctx: PageContext) -> Page:
    """A vendor profile: one vendors row, plus the listings and ratings it shows."""
    page = _common_blocks(ctx)
    vendor = extract_fields(ctx.tree.root, ctx.page_cfg["vendor"], ctx)
    if not vendor.get("vendor"):
        page.problem = _empty_reason(ctx, "vendor page without a vendor name")
        return page
    page.vendors.append(vendor)
    for row in page.listings + page.feedback:
        row.setdefault("vendor", vendor["vendor"])
        row["vendor"] = row["vendor"] or vendor["vendor"]
    return page


@PAGE_PARSERS.register("feedback")
def parse_feedback(ctx: PageContext) -> Page:
    """A page of buyer ratings (of a vendor or a listing)."""
    page = parse_vendor(ctx) if "vendor" in ctx.page_cfg else _common_blocks(ctx)
    if not page.problem and not page.feedback:
        page.problem = _empty_reason(ctx, "feedback page without ratings")
    return page


def _common_blocks(ctx: PageContext) -> Page:
    """Repeated blocks any page type may configure: result rows and rating rows."""
    page = Page()
    if "items" in ctx.page_cfg:
        page.listings = extract_rows(ctx, ctx.page_cfg["items"])
    if "feedback" in ctx.page_cfg:
        page.feedback = extract_rows(ctx, ctx.page_cfg["feedback"])
    return page


def _empty_reason(ctx: PageContext, what: str) -> str:
    if ctx.truncated:
        return f"truncated page (no closing </html>): {what}"
    return what


def extract_rows(ctx: PageContext, block: dict[str, Any]) -> list[dict[str, str]]:
    """One record per node matching `rows`; `page` fields (same for every row) are added.
    Rows with no value at all (layout rows) are left out; a cut-off row without a title
    is kept, so that ingest quarantines it with a reason rather than losing it silently."""
    page_values = extract_fields(ctx.tree.root, block.get("page", {}), ctx)
    rows = []
    for node in ctx.tree.css(block["rows"]):
        record = extract_fields(node, block["fields"], ctx)
        if any(record.values()):
            rows.append({**page_values, **record})
    return rows


# --- fields -----------------------------------------------------------------------------


def extract_fields(node: LexborNode, specs: dict[str, Any], ctx: PageContext) -> dict[str, str]:
    return {name: extract_field(node, spec, ctx, name) for name, spec in specs.items()}


def extract_field(node: LexborNode, spec: Any, ctx: PageContext, name: str = "") -> str:
    """The value one field spec (see the module docstring) picks out of `node`."""
    if isinstance(spec, str):
        spec = {"css": spec}
    multiline = name in MULTILINE_FIELDS or spec.get("multiline", False)
    value = _raw_value(node, spec, ctx, multiline)
    value = clean_text(value, single_line=not multiline)
    if value and "pattern" in spec:
        match = re.search(spec["pattern"], value, flags=re.DOTALL)
        value = (match.group(1) if match and match.groups() else match.group(0) if match else "")
        value = value.strip()
    if value and "menu" in spec:
        value = menu_paths(ctx.tree.root, spec["menu"]).get(value, "")
    if value and "map" in spec:
        value = str(spec["map"].get(value, value))
    if value and "date_format" in spec:
        value = _iso_date(value, spec["date_format"])
    if value and spec.get("age"):
        value = _date_from_age(value, ctx.scraped_at)
    if not value and "fallback" in spec:
        value = extract_field(node, spec["fallback"], ctx, name)
    return value or str(spec.get("default", ""))


def _raw_value(node: LexborNode, spec: dict[str, Any], ctx: PageContext, multiline: bool) -> str:
    if "value" in spec:
        return str(spec["value"])
    if "label" in spec:
        return labelled_value(node, spec["label"], spec.get("label_css", ctx.label_css))
    if "tree" in spec:
        return tree_path(ctx.tree.root, spec)
    if "count" in spec:
        return str(len(node.css(spec["count"])))
    targets = node.css(spec["css"]) if "css" in spec else [node]
    if not spec.get("all"):
        targets = targets[:1]
    parts = [_node_value(t, spec, multiline) for t in targets]
    return spec.get("sep", " > ").join(p for p in parts if p.strip())


def _node_value(node: LexborNode, spec: dict[str, Any], multiline: bool) -> str:
    if "attr" in spec:
        return node.attributes.get(spec["attr"]) or ""
    if spec.get("own_text"):
        return node.text(deep=False)
    return node.text(separator="\n" if multiline else " ")


def labelled_value(node: LexborNode, label: str, label_css: str) -> str:
    """Text after the label element whose text matches `label` (a regex, case-insensitive,
    trailing colon optional), up to the next label. Climbs to the label's parents while
    nothing follows it, which covers `<label>X</label><span>v</span>`,
    `<td><b>X</b></td><td>v</td>` and `<small><label>X</label> v</small>` alike."""
    wanted = re.compile(rf"^\s*(?:{label})\s*:?\s*$", re.IGNORECASE)
    for candidate in node.css(label_css):
        if not wanted.match(candidate.text()):
            continue
        current: LexborNode | None = candidate
        for _ in range(3):
            if current is None:
                break
            text = _text_until_next_label(current, label_css)
            if text.strip():
                return text
            current = current.parent
    return ""


def _text_until_next_label(node: LexborNode, label_css: str) -> str:
    parts: list[str] = []
    sibling = node.next
    while sibling is not None:
        if sibling.tag == "-text":
            parts.append(sibling.text_content or "")
        elif sibling.tag == "br":
            if "".join(parts).strip():
                break
        elif sibling.css_matches(label_css) or sibling.css_first(label_css) is not None:
            break
        elif sibling.tag not in ("script", "style", "-comment"):
            parts.append(sibling.text(separator=" "))
        sibling = sibling.next
    return " ".join(parts)


def tree_path(root: LexborNode, spec: dict[str, Any]) -> str:
    """The path to the selected entry of a category tree drawn as a flat list whose items
    carry their depth in a class (`depth0`, `depth1`, ...), joined with `sep`."""
    depth_re = re.compile(spec.get("depth", r"depth(\d+)"))
    selected = spec.get("selected", "selected")
    stack: list[str] = []
    for item in root.css(spec["tree"]):
        classes = (item.attributes.get("class") or "").split()
        depth_match = next((depth_re.fullmatch(c) for c in classes if depth_re.fullmatch(c)), None)
        if depth_match is None:
            continue
        depth = int(depth_match.group(1))
        label_node = item.css_first(spec["text"]) if "text" in spec else item
        label = clean_text(label_node.text(deep=False) if label_node else "")
        stack = stack[:depth] + [label]
        if selected in classes:
            return spec.get("sep", " > ").join(stack)
    return ""


def menu_paths(root: LexborNode, menu: dict[str, Any]) -> dict[str, str]:
    """Every entry of a category menu drawn as nested lists (`<li><a href=".../12/">Name</a>
    <ul>...</ul></li>`), keyed by the id its link carries (`key`, a regex), with its path
    from the top entry. Lets a result row that names only its category id, or a partial
    path, carry the same full path as the listing's own page."""
    top = root.css_first(menu["css"])
    key_re = re.compile(menu["key"])
    paths: dict[str, str] = {}
    for link in top.css("a") if top is not None else []:
        match = key_re.search(link.attributes.get("href") or "")
        if match is None:
            continue
        labels = []
        item = link.parent
        while item is not None and not item.css_matches(menu["css"]):
            entry = next((child for child in item.iter() if child.tag == "a"), None)
            if item.tag == "li" and entry is not None:
                labels.append(clean_text(entry.text(deep=False)))
            item = item.parent
        paths.setdefault(match.group(1), menu.get("sep", " > ").join(reversed(labels)))
    return paths


def _page_scrape_date(tree: LexborHTMLParser, cfg: dict[str, Any], captured: str) -> str:
    """The capture date the page shows (a server clock, a 'today' marker), else the one
    its snapshot recorded (a WARC record's date), else the market's documented default."""
    spec = cfg.get("page_fields", {}).get("scraped_at")
    ctx = PageContext(tree=tree, page_cfg={}, market_cfg=cfg, scraped_at="", truncated=False)
    shown = extract_field(tree.root, spec, ctx) if spec else ""
    return shown or captured or str(cfg.get("scraped_at", ""))


def _iso_date(value: str, fmt: str) -> str:
    try:
        return datetime.strptime(value, fmt).date().isoformat()
    except ValueError:
        return value


def _date_from_age(value: str, scraped_at: str) -> str:
    """`3d 4h` before the scrape date; the value unchanged when it is not an age."""
    parts = re.findall(r"(\d+)\s*([mhdw])\b", value)
    if not parts or not scraped_at:
        return value
    delta = timedelta()
    for amount, unit in parts:
        delta += timedelta(**{AGE_UNITS[unit]: int(amount)})
    return (date.fromisoformat(scraped_at) - delta).isoformat()


def _rel(path: PurePosixPath) -> str:
    """The file with its folder (`listings/listing_0`), not the machine's absolute path."""
    return "/".join(path.parts[-2:])


def _quarantine(source: str, cfg: dict[str, Any], page_type: str, reason: str) -> AdapterResult:
    row = {"market": cfg["name"], "source_file": source, "page_type": page_type,
           "reason": reason}
    return AdapterResult(records=pd.DataFrame(), quarantined=pd.DataFrame([row]))

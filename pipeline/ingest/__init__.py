"""Stage 1, ingest: raw market scrapes (CSV, JSONL, saved HTML, WARC snapshots) into
canonical listings.

A market is configuration (`conf/markets/NAME.yaml`) naming an adapter (`tabular` or
`html`) and how its columns or pages map onto SPEC section 2. Adapters turn one document
(a file, or one page stored in a WARC snapshot of `cryptodrug crawl`) into raw records;
`normalise_listings` then cleans text, checks every row, removes duplicates and assigns
stable ids. Rows that fail a check are quarantined with a reason.
"""

from __future__ import annotations

import fnmatch
import functools
import hashlib
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import ftfy
import pandas as pd

from pipeline.core.io import InputError
from pipeline.core.registry import Registry
from pipeline.core.schema import CANONICAL_COLUMNS, validate_listings
from pipeline.core.text import check_key, keyed_digest, pseudonymise_handle
from pipeline.core.warc import is_crawl_byproduct, is_snapshot, responses

# Companion tables every ingest writes next to its listings (empty where a market has none):
# feedback rows (one per buyer review) and vendor profiles.
SIDE_TABLES = ("feedback", "vendors")
# Columns holding real (if pseudonymous) handles, replaced by tokens when pseudonymising.
HANDLE_COLUMNS = {"vendor", "buyer"}
# Key columns never rewritten when a handle is redacted from a row's text.
ID_COLUMNS = {"listing_id", "market", "native_id", "listing_ref"}
FIRST_MARKET_YEAR = 2011  # Silk Road opened in 2011: earlier scrape dates are errors
MAX_TITLE_CHARS = 1000
MAX_FIELD_CHARS = 100_000
SINGLE_LINE_FIELDS = [c for c in CANONICAL_COLUMNS if c != "description"]
ID_FIELDS = ("market", "scraped_at", "vendor", "title", "price_raw", "currency_raw",
             "category_raw", "ships_from_raw", "ships_to_raw", "description")


@dataclass(frozen=True)
class Document:
    """One input of an adapter: a file, or one page of a WARC snapshot. `path` is what
    file-name patterns and page-type `path` rules see (a WARC page: its URL's path);
    `source`, when set, names the page in `source_file` (a WARC page: its target URI);
    `captured` is the capture date when the input records one (a WARC record's date)."""

    path: PurePosixPath
    body: bytes | None = None  # None: the file at `path`
    source: str = ""
    captured: str = ""

    def read(self, max_bytes: int) -> bytes:
        """The bytes, refused with a one-line error when over `max_bytes`."""
        try:
            size = len(self.body) if self.body is not None else Path(self.path).stat().st_size
            if size > max_bytes:
                raise InputError(f"{self.label}: {size} bytes, over the limit of {max_bytes} "
                                 "(limits.max_file_bytes)")
            return self.body if self.body is not None else Path(self.path).read_bytes()
        except OSError as err:
            raise InputError(f"{self.label}: cannot read: {err.strerror}") from err

    @property
    def label(self) -> str:
        return self.source or str(self.path)


@dataclass
class AdapterResult:
    """What an adapter makes of one input file."""

    records: pd.DataFrame
    quarantined: pd.DataFrame = field(default_factory=pd.DataFrame)
    side_tables: dict[str, pd.DataFrame] = field(default_factory=dict)


Adapter = Callable[[Document, dict[str, Any]], AdapterResult]
ADAPTERS: Registry[Adapter] = Registry("market adapter")


@dataclass
class IngestResult:
    listings: pd.DataFrame
    quarantined: pd.DataFrame
    side_tables: dict[str, pd.DataFrame]
    rows_in: int


COUNT_COLUMNS = ("units_sold", "feedback_count")


def expand_inputs(inputs: Iterable[str | Path], market_cfg: dict[str, Any]) -> list[Path]:
    """Files to read: given files as they are, folders searched (recursively) for the
    market's `files` patterns and for WARC snapshots (never a crawl's index or frontier).
    Sorted, so ids and outputs do not depend on listing order."""
    patterns = market_cfg.get("files", ["*"])
    patterns = [patterns] if isinstance(patterns, str) else list(patterns)
    found: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            matches = sorted(
                p
                for p in path.rglob("*")
                if p.is_file() and not is_crawl_byproduct(p.relative_to(path))
                and (is_snapshot(p) or any(fnmatch.fnmatch(p.name, pat) for pat in patterns))
            )
            if not matches:
                raise InputError(f"{path}: no file matches {', '.join(patterns)}")
            found.extend(matches)
        elif path.is_file():
            found.append(path)
        else:
            raise InputError(f"{path}: no such file or folder")
    return found


def ingest_files(
    paths: list[Path],
    market_cfg: dict[str, Any],
    vendor_key: str | None = None,
    progress: Callable[[Iterable[Path]], Iterable[Path]] = iter,
) -> IngestResult:
    """Run the market's adapter over every file (every stored page of a WARC snapshot),
    then normalise and check the rows."""
    adapter = ADAPTERS.get(market_cfg["adapter"])
    records, quarantined, side_tables = [], [], {}
    for path in progress(paths):
        for document in documents(path):
            result = adapter(document, market_cfg)
            records.append(result.records)
            if len(result.quarantined):
                quarantined.append(result.quarantined)
            for name, table in result.side_tables.items():
                side_tables.setdefault(name, []).append(table)
    raw = pd.concat(records, ignore_index=True) if records else pd.DataFrame()
    rejected = pd.concat(quarantined, ignore_index=True) if quarantined else pd.DataFrame()
    if vendor_key is not None:
        check_key(vendor_key, "the vendor key")
    listings, bad_rows = normalise_listings(raw, market_cfg, vendor_key)
    all_quarantined = pd.concat([rejected, bad_rows], ignore_index=True)
    if "reason" not in all_quarantined.columns:
        all_quarantined["reason"] = pd.Series(dtype=str)
    companions = {
        name: pd.concat(side_tables[name], ignore_index=True)
        if name in side_tables
        else pd.DataFrame({"market": pd.Series(dtype=str)})
        for name in SIDE_TABLES
    }
    if vendor_key:
        listings, all_quarantined = (
            pseudonymise_handles(listings, vendor_key),
            pseudonymise_handles(all_quarantined, vendor_key),
        )
        companions = {k: pseudonymise_handles(v, vendor_key) for k, v in companions.items()}
    companions = {k: typed_counts(v) for k, v in companions.items()}
    return IngestResult(
        listings=listings,
        quarantined=all_quarantined.astype({"reason": str}),
        side_tables=companions,
        rows_in=len(raw) + len(rejected),
    )


def documents(path: Path) -> Iterator[Document]:
    """A file as one document; a WARC snapshot as one per page it stored (`response`
    records, in file order), named by the record's target URI and dated by its capture."""
    if not is_snapshot(path):
        yield Document(path)
        return
    for record in responses(path):
        yield Document(path=PurePosixPath(urlsplit(record.url).path or "/"), body=record.body,
                       source=record.url, captured=record.date[:10])


def clean_text(value: object, single_line: bool = True) -> str:
    """Repair mojibake (ftfy), drop embedded script and style code and control characters
    (NUL included), collapse whitespace."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    text = drop_code(str(value))
    if not text.isascii():  # ftfy is the slow part and ASCII text has nothing to repair
        text = ftfy.fix_text(text)
    text = _CONTROL.sub("", text)
    if single_line:
        return " ".join(text.split())
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line).strip()


# C0 controls and DEL (NUL included). C1 controls stay: in Latin-1 exports they are the
# curly quotes of a mislabelled cp1252 text, and the gold keys were read with them.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CODE_OPEN = re.compile(r"<(script|style)\b", re.IGNORECASE)
_CODE_CLOSE = {tag: re.compile(rf"</{tag}\b", re.IGNORECASE) for tag in ("script", "style")}


def drop_code(text: str) -> str:
    """`text` without `<script>`/`<style>` elements, contents included (an element left
    open runs to the end). One left-to-right pass: hostile text cannot make it slow."""
    if "<" not in text:
        return text
    parts, pos = [], 0
    while (opening := _CODE_OPEN.search(text, pos)) is not None:
        parts.append(text[pos : opening.start()])
        closing = _CODE_CLOSE[opening.group(1).lower()].search(text, opening.end())
        end = text.find(">", closing.end()) if closing else -1
        pos = end + 1 if end >= 0 else len(text)
    parts.append(text[pos:])
    return "".join(parts)


def normalise_listings(
    raw: pd.DataFrame, market_cfg: dict[str, Any], vendor_key: str | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Clean, check and deduplicate raw records; returns (listings, quarantined rows).
    With a `vendor_key`, content ids are keyed (see `make_listing_ids`)."""
    if raw.empty:
        empty = pd.DataFrame(columns=CANONICAL_COLUMNS)
        return empty, pd.DataFrame(columns=["reason"])
    df = raw.copy()
    for column in CANONICAL_COLUMNS:
        if column not in df.columns:
            df[column] = ""
    if "market" not in raw.columns or df["market"].eq("").all():
        df["market"] = market_cfg["name"]
    for column in SINGLE_LINE_FIELDS:
        df[column] = df[column].map(clean_text)
    df["description"] = df["description"].map(lambda v: clean_text(v, single_line=False))
    df["market"] = df["market"].str.lower().str.replace(r"[^a-z0-9_]+", "_", regex=True)
    df["scraped_at"] = df["scraped_at"].map(parse_scrape_date)

    reasons = row_problems(df)
    bad = df[reasons.notna()].assign(reason=reasons[reasons.notna()])
    good = df[reasons.isna()].copy()

    good["listing_id"] = make_listing_ids(good, vendor_key)
    first_ids = good.groupby("listing_id", sort=False).cumcount()
    duplicates = good[first_ids > 0].copy()
    duplicates["reason"] = "duplicate of listing " + duplicates["listing_id"]
    good = good[first_ids == 0]

    ordered = CANONICAL_COLUMNS + [c for c in good.columns if c not in CANONICAL_COLUMNS]
    good = validate_listings(typed_counts(good[ordered].reset_index(drop=True)))
    quarantined = pd.concat([bad, duplicates], ignore_index=True)
    return good, quarantined


def typed_counts(table: pd.DataFrame) -> pd.DataFrame:
    """The counts markets show (`units_sold`, `feedback_count`) as integers, after the ids
    are made from the page's text: spaces and thousands separators (`1,234`, `1.234`) are
    dropped; a value that is not a whole number stays missing and lowers the column's fill
    rate in the ingest metrics."""
    table = table.copy()
    for column in COUNT_COLUMNS:
        if column in table.columns:
            digits = table[column].astype("string").str.replace(r"[\s,.'’]", "", regex=True)
            table[column] = pd.to_numeric(digits.where(digits.str.fullmatch(r"\d+")),
                                          errors="coerce").astype("Int64")
    return table


def parse_scrape_date(value: object) -> str:
    """ISO date string, or '' when the value is not a date."""
    text = str(value or "").strip()
    if not text:
        return ""
    parsed = pd.to_datetime(text, errors="coerce", format="mixed", dayfirst=False)
    return "" if pd.isna(parsed) else parsed.date().isoformat()


def row_problems(df: pd.DataFrame) -> pd.Series:
    """Why each row cannot be a listing (the first problem found), or None when it can."""
    today = date.today().isoformat()
    title_len = df["title"].str.len()
    description_len = df["description"].str.len()
    checks = [
        (df["title"].eq(""), "empty title"),
        (df["scraped_at"].eq(""), "no usable scrape date"),
        ((df["scraped_at"].str[:4] < str(FIRST_MARKET_YEAR)) | (df["scraped_at"] > today),
         "scrape date " + df["scraped_at"] + f" outside {FIRST_MARKET_YEAR}..today"),
        (title_len > MAX_TITLE_CHARS, "title of " + title_len.astype(str)
         + f" characters (limit {MAX_TITLE_CHARS}): misparsed row"),
        (description_len > MAX_FIELD_CHARS, "description of " + description_len.astype(str)
         + f" characters (limit {MAX_FIELD_CHARS})"),
    ]
    reasons = pd.Series(None, index=df.index, dtype=object)
    for failed, reason in checks:
        new = failed & reasons.isna()
        reasons[new] = reason[new] if isinstance(reason, pd.Series) else reason
    return reasons


def make_listing_ids(df: pd.DataFrame, vendor_key: str | None = None) -> pd.Series:
    """Stable ids: the market's own id where the config maps one (`native_id`), else a hash
    of the content, so a listing gets the same id on every run, whatever the file order.
    The content includes the real handle: when pseudonymising, the hash is keyed (HMAC),
    or anyone holding a list of handles could recompute it and link the row."""
    joined = ("\x1f".join(v) for v in zip(*(df[c].astype(str).tolist() for c in ID_FIELDS),
                                           strict=True))
    if vendor_key:
        digests = [keyed_digest(text, vendor_key) for text in joined]
    else:
        digests = [hashlib.sha1(text.encode()).hexdigest()[:16] for text in joined]
    hashed = pd.Series(digests, index=df.index, dtype=str)
    native = df["native_id"].fillna("").astype(str).str.strip() if "native_id" in df else hashed
    own = native.where(native.ne(""), hashed)
    return (df["market"] + "-" + own).astype(str)


def pseudonymise_handles(table: pd.DataFrame, key: str) -> pd.DataFrame:
    """Every handle column (vendors and buyers) of a table replaced by its keyed token, and
    each row's own handles replaced by the same token wherever its text names them
    (a title such as `Vendorname's sampler`), so no column links the row back to the handle."""
    table = table.copy()
    handles = sorted(HANDLE_COLUMNS.intersection(table.columns))
    texts = [c for c in table.columns
             if c not in handles and c not in ID_COLUMNS
             and (table[c].dtype == object or pd.api.types.is_string_dtype(table[c]))]
    for column in handles:
        raw = table[column].fillna("").astype(str).tolist()
        tokens = [pseudonymise_handle(h, key) for h in raw]
        for text in texts:
            table[text] = [redact_handle(v, h, t)
                           for v, h, t in zip(table[text].tolist(), raw, tokens, strict=True)]
        table[column] = tokens
    return table


@functools.lru_cache(maxsize=100_000)
def _handle_pattern(handle: str) -> re.Pattern[str]:
    """The handle as a whole word, any case, any spacing inside it."""
    body = r"\s*".join(re.escape(ch) for ch in handle if not ch.isspace())
    return re.compile(rf"(?<![^\W_]){body}(?![^\W_])", re.IGNORECASE)


def redact_handle(value: object, handle: str, token: str) -> object:
    """`value` with every whole-word mention of `handle` replaced by `token`."""
    if not isinstance(value, str) or not handle.strip() or not value:
        return value
    return _handle_pattern(handle.strip()).sub(token, value)


# Register the adapters (imports for their side effect on ADAPTERS).
from pipeline.ingest import html, tabular  # noqa: E402, F401

"""The tabular adapter: CSV and JSONL exports, mapped onto listings by configuration alone.

Each entry of a market's `columns` says where one output column comes from:

    title: Name                       # a source column
    title: [Name, Product]            # the first of these the file has
    category_raw: {join: [cat, subcat], sep: " > "}
    currency_raw: {value: BTC}        # a constant
    units_sold: {from: detail_qty_sold, pattern: '(\\d+) sold'}   # first regex group
    scraped_at: {filename: '(?P<year>\\d{4})(?P<month>\\d{2})(?P<day>\\d{2})'}
    market: {filename: '^(?P<value>[a-z]+)', map: {asapmarket: asap}}
    scraped_at: {from: date, default: "2024-10-15"}   # `default` fills empty values

`optional: true` on a mapping gives '' when the file lacks the column; plain strings and
lists are required, and a file without them stops with a one-line error naming both.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import PurePath
from typing import Any

import pandas as pd

from pipeline.core.io import InputError, check_json_lines
from pipeline.ingest import ADAPTERS, AdapterResult, Document

REQUIRED_OUTPUTS = ("title",)


# Bounds checked before any parsing, so that no file can make ingest slow: a 2 MB
# single-line header once took 10 s and 50 MB over 15 min (pandas renames duplicate
# header names in quadratic time), and 80,000 nested `<div>`s 29 s (the HTML parser scans
# its stack of open elements for each block tag). A market's YAML may override them under
# `limits:`; `max_nesting_tags` applies to HTML pages (see `html.nesting_tags`; the largest
# real page has 1,632, and 20,000 nested take the parser half a second).
DEFAULT_LIMITS = {"max_file_bytes": 1 << 30, "max_line_chars": 1_000_000, "max_columns": 2000,
                  "max_nesting_tags": 20_000}
MESSAGE_CHARS = 200


def limits(cfg: dict[str, Any]) -> dict[str, int]:
    """The market's file limits, defaults filled in."""
    return {**DEFAULT_LIMITS, **{k: int(v) for k, v in (cfg.get("limits") or {}).items()}}


def one_line(text: str, limit: int = MESSAGE_CHARS) -> str:
    """The first line of `text`, cut to `limit` characters: errors never echo a whole
    50 MB header back."""
    first = text.splitlines()[0] if text else ""
    return first if len(first) <= limit else first[: limit - 1] + "…"


@ADAPTERS.register("tabular")
def read_tabular(doc: Document, cfg: dict[str, Any]) -> AdapterResult:
    """One CSV or JSONL export; ragged rows are quarantined one by one. `source_row`
    counts every data row, ragged ones included, so it always points into the file."""
    path = doc.path
    frame, ragged = read_raw_table(doc, cfg)
    records = map_columns(frame, cfg["columns"], path)
    records["source_file"] = path.name
    records["source_row"] = frame.index.to_numpy() if len(frame) else []
    if len(ragged):
        ragged = ragged.assign(market=cfg["name"], source_file=path.name)
    return AdapterResult(records=records.reset_index(drop=True), quarantined=ragged)


def read_raw_table(doc: Document, cfg: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(all cells as text, indexed by data row; ragged rows with a reason). `na_values`
    in the config become ''."""
    bounds = limits(cfg)
    path = doc.path
    text = decode(doc, cfg.get("encoding", "utf-8"), bounds["max_file_bytes"])
    if not text.strip():
        raise InputError(f"{path}: empty file")
    check_lines(path, text, bounds["max_line_chars"])
    ragged = pd.DataFrame(columns=["source_row", "reason"])
    try:
        if path.suffix.lower() == ".jsonl":
            check_json_lines(path, text)
            frame = pd.read_json(io.StringIO(text), lines=True, dtype=False).astype(str)
        else:
            frame, ragged = read_csv_rows(text, cfg.get("separator", ","), bounds["max_columns"],
                                          path)
    except (ValueError, csv.Error) as err:
        raise InputError(f"{path}: cannot parse: {one_line(str(err))}") from err
    na_values = set(cfg.get("na_values", []))
    if na_values:
        frame = frame.map(lambda v: "" if v in na_values else v)
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame, ragged


def check_lines(path: PurePath, text: str, max_chars: int) -> None:
    """Refuse a file with a line longer than `max_chars`, in one linear pass."""
    start = 0
    while start < len(text):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        if end - start > max_chars:
            raise InputError(f"{path}: line of over {max_chars} characters at character "
                             f"{start} (limits.max_line_chars): not a listing export")
        start = end + 1


def read_csv_rows(text: str, sep: str, max_columns: int,
                  path: PurePath) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(rows with as many fields as the header, the others with a reason), in linear time;
    blank lines are skipped as pandas skips them. Duplicate header names get pandas'
    suffixes (`X`, `X.1`)."""
    csv.field_size_limit(max(len(text), 1))
    # universal newlines: a lone \r ends a line, as it does for pandas
    reader = csv.reader(io.StringIO(text, newline=None), delimiter=sep)
    header = next(reader)
    if len(header) > max_columns:
        raise InputError(f"{path}: header of {len(header)} columns (limits.max_columns = "
                         f"{max_columns}): not a listing export")
    rows, positions, ragged = [], [], []
    for row in reader:
        if not row:
            continue
        position = len(positions) + len(ragged)
        if len(row) == len(header):
            rows.append(row)
            positions.append(position)
        else:
            ragged.append({"source_row": position, "reason": f"ragged row: {len(row)} fields, "
                           f"the header has {len(header)}"})
    frame = pd.DataFrame(rows, columns=unique_names(header), index=positions, dtype=str)
    return frame, pd.DataFrame(ragged, columns=["source_row", "reason"])


def unique_names(names: list[str]) -> list[str]:
    """Header names made unique as pandas does (`X`, `X.1`; empty -> `Unnamed: i`), in
    linear time."""
    seen: dict[str, int] = {}
    out = []
    for i, raw in enumerate(names):
        name = raw or f"Unnamed: {i}"
        candidate = name
        while candidate in seen:
            seen[name] += 1
            candidate = f"{name}.{seen[name]}"
        seen[candidate] = 0
        out.append(candidate)
    return out


def decode(doc: Document, encoding: str,
           max_bytes: int = DEFAULT_LIMITS["max_file_bytes"]) -> str:
    """The document's text in the configured encoding, without a leading byte-order mark
    (a file holding only one is empty); one that is not in it is read as cp1252 (what
    mislabelled Western exports nearly always are) and ftfy repairs the rest.
    A file over `max_bytes` is refused before it is read."""
    raw = doc.read(max_bytes)
    try:
        return raw.decode(encoding).removeprefix("\ufeff")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def map_columns(frame: pd.DataFrame, specs: dict[str, Any], path: PurePath) -> pd.DataFrame:
    out = pd.DataFrame(index=frame.index)
    for name, spec in specs.items():
        out[name] = resolve_column(spec, frame, path, required=name in REQUIRED_OUTPUTS)
    return out


def resolve_column(spec: Any, frame: pd.DataFrame, path: PurePath,
                   required: bool = True) -> pd.Series:
    if isinstance(spec, str | list):
        spec = {"from": spec}
    values = _resolve(spec, frame, path, required)
    if "default" in spec:
        values = values.mask(values.fillna("").eq(""), str(spec["default"]))
    return values


def _resolve(spec: dict[str, Any], frame: pd.DataFrame, path: PurePath,
             required: bool) -> pd.Series:
    if "value" in spec:
        return pd.Series(str(spec["value"]), index=frame.index)
    if "join" in spec:
        present = [c for c in spec["join"] if c in frame.columns]
        if not present:
            return _missing(spec["join"], frame, path, required and not spec.get("optional"))
        sep = spec.get("sep", " > ")
        rows = zip(*(frame[c].str.strip().tolist() for c in present), strict=True)
        return pd.Series([sep.join(v for v in row if v) for row in rows], index=frame.index)
    if "filename" in spec:
        return pd.Series(_from_filename(spec, path), index=frame.index)
    sources = spec["from"] if isinstance(spec["from"], list) else [spec["from"]]
    column = next((c for c in sources if c in frame.columns), None)
    if column is None:
        return _missing(sources, frame, path, required and not spec.get("optional"))
    values = frame[column]
    if "pattern" in spec:
        values = values.str.extract(spec["pattern"], flags=re.DOTALL, expand=False).fillna("")
    return values


def _missing(sources: list[str], frame: pd.DataFrame, path: PurePath, required: bool) -> pd.Series:
    if required:
        raise InputError(
            f"{path}: no column {' or '.join(map(repr, sources))} "
            + one_line(f"(found: {', '.join(frame.columns[:12])})")
        )
    return pd.Series("", index=frame.index)


def _from_filename(spec: dict[str, Any], path: PurePath) -> str:
    match = re.search(spec["filename"], path.name)
    if not match:
        return ""
    groups = {k: v for k, v in match.groupdict().items() if v}
    if "month" in groups:
        year = groups.get("year", spec.get("year", ""))
        return f"{year}-{int(groups['month']):02d}-{int(groups.get('day', spec.get('day', 1))):02d}"
    value = groups.get("value", match.group(0))
    return str(spec.get("map", {}).get(value, value))

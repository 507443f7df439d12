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

import io
import re
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline.ingest import ADAPTERS, AdapterResult
from pipeline.core.io import InputError

REQUIRED_OUTPUTS = ("title",)


@ADAPTERS.register("tabular")
def read_tabular(path: Path, cfg: dict[str, Any]) -> AdapterResult:
    frame = read_raw_table(path, cfg)
    records = map_columns(frame, cfg["columns"], path)
    records["source_file"] = path.name
    records["source_row"] = range(len(records))
    return AdapterResult(records=records)


def read_raw_table(path: Path, cfg: dict[str, Any]) -> pd.DataFrame:
    """All cells as text; `na_values` in the config become ''."""
    text = decode(path, cfg.get("encoding", "utf-8"))
    if not text.strip():
        raise InputError(f"{path}: empty file")
    try:
        if path.suffix.lower() == ".jsonl":
            frame = pd.read_json(io.StringIO(text), lines=True, dtype=False).astype(str)
        else:
            frame = pd.read_csv(
                io.StringIO(text),
                dtype=str,
                keep_default_na=False,
                sep=cfg.get("separator", ","),
                on_bad_lines="error",
            )
    except (ValueError, pd.errors.ParserError) as err:
        raise InputError(f"{path}: cannot parse: {str(err).splitlines()[0]}") from err
    na_values = set(cfg.get("na_values", []))
    if na_values:
        frame = frame.map(lambda v: "" if v in na_values else v)
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def decode(path: Path, encoding: str) -> str:
    """The file's text in the configured encoding; a file that is not in it is read as
    cp1252 (what mislabelled Western exports nearly always are) and ftfy repairs the rest."""
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise InputError(f"{path}: cannot read: {err.strerror}") from err
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def map_columns(frame: pd.DataFrame, specs: dict[str, Any], path: Path) -> pd.DataFrame:
    out = pd.DataFrame(index=frame.index)
    for name, spec in specs.items():
        out[name] = resolve_column(spec, frame, path, required=name in REQUIRED_OUTPUTS)
    return out


def resolve_column(spec: Any, frame: pd.DataFrame, path: Path, required: bool = True) -> pd.Series:
    if isinstance(spec, str | list):
        spec = {"from": spec}
    values = _resolve(spec, frame, path, required)
    if "default" in spec:
        values = values.mask(values.fillna("").eq(""), str(spec["default"]))
    return values


def _resolve(spec: dict[str, Any], frame: pd.DataFrame, path: Path, required: bool) -> pd.Series:
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


def _missing(sources: list[str], frame: pd.DataFrame, path: Path, required: bool) -> pd.Series:
    if required:
        raise InputError(
            f"{path}: no column {' or '.join(map(repr, sources))} "
            f"(found: {', '.join(frame.columns[:12])})"
        )
    return pd.Series("", index=frame.index)


def _from_filename(spec: dict[str, Any], path: Path) -> str:
    match = re.search(spec["filename"], path.name)
    if not match:
        return ""
    groups = {k: v for k, v in match.groupdict().items() if v}
    if "month" in groups:
        year = groups.get("year", spec.get("year", ""))
        return f"{year}-{int(groups['month']):02d}-{int(groups.get('day', spec.get('day', 1))):02d}"
    value = groups.get("value", match.group(0))
    return str(spec.get("map", {}).get(value, value))

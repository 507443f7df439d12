"""Gold labels for extraction, stored without text.

Real listings are keyed by (market config, source file, source row) plus a hash of the
text the labels were read from; at evaluation time the rows are looked up in the tables
`cryptodrug ingest` wrote from the public data (`data/interim/listings/<market>.parquet`)
and a hash mismatch is reported, never silently evaluated. The project-authored
multilingual sample is stored with its text."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline.core.blind import load_blind_listings
from pipeline.core.io import SUPPORTED_EXTENSIONS, InputError, read_table
from pipeline.core.text import fields_key

LABEL_FIELDS = ["mass_g", "units", "dose_mg", "volume_ml", "purity_pct", "price_amount",
                "price_currency", "ships_from", "ships_to", "ships_to_excluded"]
LIST_FIELDS = ("ships_to", "ships_to_excluded")
NUMERIC_FIELDS = ("mass_g", "units", "dose_mg", "volume_ml", "purity_pct", "price_amount")
TEXT_FIELDS = ("title", "description", "price_raw", "currency_raw", "ships_from_raw",
               "ships_to_raw")


def text_hash(row: dict[str, Any] | pd.Series) -> str:
    """The unkeyed `fields_key` of the (public) fields the labels were read from."""
    return fields_key(row.get(f, "") or "" for f in TEXT_FIELDS)


def split_of(digest: str, heldout_fraction: float) -> str:
    """dev or test, fixed by the text hash so the split never moves."""
    return "test" if int(digest[:8], 16) / 0xFFFFFFFF < heldout_fraction else "dev"


def parse_list(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    if value is None or (isinstance(value, float) and value != value) or value == "":
        return []
    if hasattr(value, "tolist"):
        return [str(v) for v in value.tolist()]
    return [str(v) for v in json.loads(value)]


def load_gold(folder: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(real keys + labels, authored sample with text + labels)."""
    folder = Path(folder)
    real_path, sample_path = folder / "real.csv", folder / "sample.jsonl"
    for path in (real_path, sample_path):
        if not path.exists():
            raise InputError(f"{path}: gold file missing")
    real = read_table(real_path)
    sample = read_table(sample_path)
    for frame in (real, sample):
        for name in LIST_FIELDS:
            frame[name] = frame[name].map(parse_list)
        for name in NUMERIC_FIELDS:
            frame[name] = pd.to_numeric(frame[name].replace("", None), errors="coerce")
        for name in ("price_currency", "ships_from"):
            frame[name] = frame[name].map(lambda v: v if isinstance(v, str) and v else None)
    real["source_row"] = real["source_row"].astype(int)
    return real, sample


def market_table(folder: Path, market: str) -> Path | None:
    """The listings table ingest wrote for one market config, in any supported format."""
    found = [folder / f"{market}{ext}" for ext in SUPPORTED_EXTENSIONS]
    return next((p for p in found if p.is_file()), None)


def _summarised(market: object, rows: pd.DataFrame, what: str, examples: int = 3) -> list[str]:
    """One line per market and kind of problem, with a few rows to look at, so a run on
    data without the gold's source files (the bundled sample) says so in one line."""
    if rows.empty:
        return []
    shown = ", ".join(f"{f} row {r}" for f, r in zip(rows["source_file"][:examples],
                                                      rows["source_row"][:examples], strict=True))
    more = f", and {len(rows) - examples} more" if len(rows) > examples else ""
    return [f"{market}: {len(rows)} gold rows {what} (e.g. {shown}{more})"]


def join_listings(real: pd.DataFrame, folder: Path) -> tuple[pd.DataFrame, list[str]]:
    """The gold rows with their text, from the ingested listings in `folder`; returns
    (rows whose text hash still matches, problems: missing tables, rows, changed texts)."""
    frames, problems = [], []
    for market, keys in real.groupby("market_config"):
        path = market_table(folder, str(market))
        if path is None:
            problems.append(f"{folder}/{market}.*: no ingested listings table")
            continue
        listings = read_table(path)
        listings = listings.assign(
            source_row=pd.to_numeric(listings["source_row"], errors="coerce").astype("Int64"))
        merged = keys.drop(columns=["market"], errors="ignore").merge(
            listings, on=["source_file", "source_row"], how="left", suffixes=("", "_listing"))
        found = merged["title"].notna()
        problems += _summarised(market, merged[~found], "not in the ingested listings")
        merged = merged[found]
        same = merged.apply(text_hash, axis=1).eq(merged["text_hash"])
        problems += _summarised(market, merged[~same], "text changed since labelling")
        frames.append(merged[same])
    joined = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=[*real.columns, *TEXT_FIELDS])
    return joined, problems


def load_blind(folder: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(listings, labels) of a blind evaluation set, the labels one row per listing and
    coder (A1, A2 or gold) with the extraction fields, numbers as floats."""
    listings, rows = load_blind_listings(folder, tuple(LABEL_FIELDS), _label_problem)
    labels = pd.DataFrame(rows, columns=["listing_id", "coder", *LABEL_FIELDS])
    for name in NUMERIC_FIELDS:
        labels[name] = pd.to_numeric(labels[name]).astype("float64")
    return listings, labels


def _label_problem(row: dict[str, Any]) -> str | None:
    """Why one blind label row cannot be scored, or None."""
    for name in LIST_FIELDS:
        if row[name] is not None and not (isinstance(row[name], list)
                                          and all(isinstance(v, str) for v in row[name])):
            return f"{name} is not a list of codes"
    for name in NUMERIC_FIELDS:
        if row[name] is not None and (isinstance(row[name], bool)
                                      or not isinstance(row[name], int | float)):
            return f"{name} is not a number"
    for name in ("price_currency", "ships_from"):
        if row[name] is not None and not isinstance(row[name], str):
            return f"{name} is not a string"
    return None

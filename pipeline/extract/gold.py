"""Gold labels for extraction, stored without text.

Real listings are keyed by (market config, source file, source row) plus a hash of the
text the labels were read from; at evaluation time the rows are re-read from the public
data (../shared/data) and a hash mismatch is reported, never silently evaluated. The
project-authored multilingual sample is stored with its text."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline.core.io import InputError, read_table

LABEL_FIELDS = ["mass_g", "units", "dose_mg", "volume_ml", "purity_pct", "price_amount",
                "price_currency", "ships_from", "ships_to", "ships_to_excluded"]
LIST_FIELDS = ("ships_to", "ships_to_excluded")
NUMERIC_FIELDS = ("mass_g", "units", "dose_mg", "volume_ml", "purity_pct", "price_amount")
TEXT_FIELDS = ("title", "description", "price_raw", "currency_raw", "ships_from_raw",
               "ships_to_raw")


def text_hash(row: dict[str, Any] | pd.Series) -> str:
    """SHA-256 (first 16 hex digits) of the fields the labels were read from."""
    joined = "\x1f".join(str(row.get(f, "") or "") for f in TEXT_FIELDS)
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()[:16]


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


def join_public(real: pd.DataFrame, root: Path) -> tuple[pd.DataFrame, list[str]]:
    """Re-read the gold rows from the public data; returns rows with text and problems."""
    from pipeline.core.config import load_market_config
    from pipeline.ingest import ingest_files

    frames, problems = [], []
    for (market, folder, source_file), keys in real.groupby(["market_config", "folder",
                                                             "source_file"]):
        path = root / folder / source_file
        if not path.exists():
            problems.append(f"{path}: missing")
            continue
        listings = ingest_files([path], load_market_config(market)).listings
        listings = listings.assign(source_row=listings["source_row"].astype(int))
        merged = keys.drop(columns=["market"], errors="ignore").merge(
            listings, on=["source_file", "source_row"], how="left", suffixes=("", "_listing"))
        found = merged["title"].notna()
        problems += [f"{source_file} row {r}: not found" for r in merged.loc[~found, "source_row"]]
        merged = merged[found]
        same = merged.apply(text_hash, axis=1).eq(merged["text_hash"])
        problems += [f"{source_file} row {r}: text changed"
                     for r in merged.loc[~same, "source_row"]]
        frames.append(merged[same])
    joined = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return joined, problems

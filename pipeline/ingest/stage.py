"""IO layer of the ingest stage: files in, Parquet/CSV/JSONL out, counts printed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm import tqdm

from pipeline.core.io import side_output_path, write_table, write_with_quarantine
from pipeline.core.schema import CANONICAL_COLUMNS
from pipeline.core.text import vendor_key_from_env
from pipeline.ingest import expand_inputs, ingest_files


def run_ingest(
    inputs: list[Path], cfg: dict[str, Any], out: Path, pseudonymise: bool,
    metrics: Path | None,
) -> dict:
    """`cfg` is the market's configuration (`conf/markets/NAME.yaml`, loaded by the CLI)."""
    paths = expand_inputs(inputs, cfg)
    key = vendor_key_from_env() if pseudonymise else None
    result = ingest_files(
        paths, cfg, vendor_key=key,
        progress=lambda ps: tqdm(ps, desc=f"ingest {cfg['name']}", unit="file", leave=False),
    )
    counts = write_with_quarantine(
        result.listings, result.quarantined, out, result.rows_in, label=f"{cfg['name']} listings"
    )
    for name, table in result.side_tables.items():
        write_table(table, side_output_path(out, name))
    summary = {
        "market": cfg["name"],
        "files": len(paths),
        **counts,
        "fill_rate": fill_rates(result.listings),
        "quarantine_reasons": quarantine_reason_counts(result.quarantined),
        **{f"{name}_rows": len(table) for name, table in result.side_tables.items()},
    }
    if metrics:
        metrics.parent.mkdir(parents=True, exist_ok=True)
        metrics.write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def fill_rates(listings: pd.DataFrame) -> dict[str, float]:
    """Share of listings with a non-empty value, per canonical column."""
    if listings.empty:
        return {c: 0.0 for c in CANONICAL_COLUMNS}
    return {
        c: round(float(listings[c].fillna("").astype(str).str.len().gt(0).mean()), 4)
        for c in CANONICAL_COLUMNS
    }


def quarantine_reason_counts(quarantined: pd.DataFrame) -> dict[str, int]:
    """Reasons grouped by their kind (the text before any specific id or number)."""
    if quarantined.empty:
        return {}
    kinds = quarantined["reason"].str.replace(r"\b(listing|of) \S+.*$", r"\1 …", regex=True)
    return {k: int(v) for k, v in kinds.value_counts().sort_index().items()}

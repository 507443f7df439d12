"""IO entry of the monitor stage: snapshot tables in, monitoring tables (CSV) out."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipeline.core.io import read_table, write_table
from pipeline.monitor.lifecycle import (
    changes,
    lifecycles,
    market_series,
    price_history,
    stack,
    vendor_activity,
)

OUTPUTS = {"lifecycles": lifecycles, "prices": price_history, "vendors": vendor_activity,
           "series": market_series, "changes": changes}


def snapshot_date(table: pd.DataFrame, label: str) -> str:
    """The snapshot's capture date: the most common `scraped_at` of its rows."""
    dates = table.get("scraped_at", pd.Series(dtype=str)).dropna().astype(str)
    return dates.mode().iloc[0] if not dates.empty else label


def run_monitor(inputs: list[Path], out_dir: Path, match: str = "listing_id"
                ) -> dict[str, int]:
    """One table per snapshot (file stem = label) -> `out_dir/{lifecycles,prices,vendors,
    series,changes}.csv`; returns their row counts. `match`: how listings are matched
    across snapshots (see `pipeline.monitor.lifecycle`)."""
    tables = []
    for path in inputs:
        table = read_table(path)
        tables.append((path.name.split(".")[0], snapshot_date(table, path.stem), table))
    stacked = stack(tables, match)
    out_dir.mkdir(parents=True, exist_ok=True)
    counts = {}
    for name, build in OUTPUTS.items():
        frame = build(stacked)
        write_table(frame, out_dir / f"{name}.csv")
        counts[name] = len(frame)
    return counts

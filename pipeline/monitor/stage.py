"""IO entry of the monitor stage: snapshot tables in, monitoring tables (Parquet) out."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipeline.core.io import InputError, console, read_table, table_files, write_table
from pipeline.core.tables import MONITORING, empty_table_schema
from pipeline.monitor.lifecycle import OUTPUTS, monitoring_tables, stack


def snapshot_date(table: pd.DataFrame, label: str) -> str:
    """The snapshot's capture date: the most common `scraped_at` of its rows."""
    dates = table.get("scraped_at", pd.Series(dtype=str)).dropna().astype(str)
    return dates.mode().iloc[0] if not dates.empty else label


def snapshot_files(inputs: list[Path]) -> list[Path]:
    """The snapshot tables the inputs stand for: a file itself; a folder's main tables and
    those of its subfolders (`data/interim/snapshots/<market>/<date>.parquet`), so the
    folder that dvc.yaml fills holds any number of snapshots, none included. A folder
    holding only hidden files (the `.gitignore` DVC writes beside its outputs, which a fresh
    clone of another data configuration carries) holds no snapshot."""
    files: list[Path] = []
    for path in inputs:
        if not path.exists():
            raise InputError(f"{path}: no such file or folder")
        if not path.is_dir():
            files.append(path)
            continue
        for folder in [path, *sorted(p for p in path.iterdir() if p.is_dir())]:
            if any(p.is_file() and not p.name.startswith(".") for p in folder.iterdir()):
                files += table_files(folder)
    return files


def run_monitor(inputs: list[Path], out_dir: Path, match: str = "listing_id"
                ) -> dict[str, int]:
    """One table per snapshot (file stem = label) -> `out_dir/<table>.parquet` for each of
    lifecycles, prices, vendors, series, category_prices and changes; returns their row
    counts. `match`: how listings are matched across snapshots (see
    `pipeline.monitor.lifecycle`). No snapshot at all gives the tables empty."""
    tables = []
    for path in snapshot_files(inputs):
        table = read_table(path)
        tables.append((path.name.split(".")[0], snapshot_date(table, path.stem), table))
    if tables:
        frames = monitoring_tables(stack(tables, match))
    else:
        console.print(f"monitor: no snapshot tables in {', '.join(map(str, inputs))}")
        frames = {name: pd.DataFrame(columns=[c.name for c in MONITORING[name].fields
                                              if c.required]) for name in OUTPUTS}
    out_dir.mkdir(parents=True, exist_ok=True)
    counts = {}
    for name, frame in frames.items():
        schema = empty_table_schema(MONITORING[name], list(frame.columns)) if frame.empty \
            else None
        write_table(frame, out_dir / MONITORING[name].file, schema)
        counts[name] = len(frame)
    return counts


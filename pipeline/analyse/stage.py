"""IO layer of the analyse stage: listings and feedback companions in, Parquet tables out."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from pipeline.analyse import analyse
from pipeline.analyse.common import require_analysable
from pipeline.analyse.transactions import FEEDBACK_COLUMNS
from pipeline.core.config import load_params
from pipeline.ingest import vendor_key_from_env
from pipeline.core.io import console, read_table, write_table


def read_feedback(folder: Path | None) -> pd.DataFrame:
    """Every `*.feedback.*` companion table ingest wrote (empty where a market has none).
    Rows without a `listing_id` are kept and counted as feedback of unknown listings."""
    frames = []
    for path in sorted(folder.glob("*.feedback.*")) if folder else []:
        table = read_table(path)
        if len(table):
            date = next((c for c in ("date", "feedback_date", "created_at") if c in table), None)
            frames.append(table.rename(columns={date: "date"} if date else {})
                          .reindex(columns=FEEDBACK_COLUMNS))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=FEEDBACK_COLUMNS)


def run_analyse(inp: Path, out_dir: Path, feedback_dir: Path | None, params_path: Path | None,
                metrics_path: Path | None) -> dict:
    params = load_params(params_path)
    listings = read_table(inp)
    require_analysable(listings, str(inp))
    key = vendor_key_from_env() if params["analyse"].get("pseudonymise") else None
    with console.status("analysing listings"):
        tables, metrics = analyse(listings, read_feedback(feedback_dir), params["analyse"],
                                  int(params.get("seed", 0)), vendor_key=key)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        write_table(table, out_dir / f"{name}.parquet")
    (out_dir / "summary.json").write_text(json.dumps(metrics, indent=2, default=str) + "\n")
    if metrics_path:
        metrics_path.parent.mkdir(parents=True, exist_ok=True)
        metrics_path.write_text(json.dumps(metrics["linker_evaluation"], indent=2) + "\n")
    console.print(
        f"analyse: {metrics['listings']} listings, {metrics['vendor_accounts']} vendor accounts, "
        f"{metrics['sales']:.0f} sales, {metrics['migration_links']} migration links -> {out_dir}"
    )
    return metrics

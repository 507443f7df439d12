"""IO layer of the analyse stage: listings and feedback companions in, Parquet tables out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline.analyse import analyse
from pipeline.analyse.common import require_analysable, split_analysable
from pipeline.analyse.transactions import FEEDBACK_COLUMNS
from pipeline.core.io import console, read_table, write_table
from pipeline.core.substances import SUBSTANCES_DIR, SubstanceVocabulary
from pipeline.core.tables import ANALYTICS, empty_table_schema
from pipeline.core.text import pseudonymise_handle, vendor_key_from_env

QUARANTINE_TABLE = "listings.quarantine.parquet"


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


def run_analyse(inp: Path, out_dir: Path, feedback_dir: Path | None, cfg: dict[str, Any],
                seed: int, metrics_path: Path | None) -> dict:
    """`cfg` is the `analyse` section of the params. Rows analyse cannot use go to
    `OUT/listings.quarantine.parquet` with a reason."""
    listings = read_table(inp)
    require_analysable(listings, str(inp))
    kept, quarantined = split_analysable(listings)
    key = vendor_key_from_env() if cfg.get("pseudonymise") else None
    vocabulary = SubstanceVocabulary.load(cfg.get("substances") or SUBSTANCES_DIR)
    categories = {s.name: s.category for s in vocabulary.substances.values()}
    with console.status("analysing listings"):
        tables, metrics = analyse(kept, read_feedback(feedback_dir), cfg, seed, vendor_key=key,
                                  categories=categories)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        schema = empty_table_schema(ANALYTICS[name], list(table.columns)) if table.empty else None
        write_table(table, out_dir / f"{name}.parquet", schema)
    if key:
        quarantined = quarantined.assign(vendor=quarantined["vendor"].map(
            lambda h: pseudonymise_handle(h if isinstance(h, str) else "", key)))
    write_table(quarantined, out_dir / QUARANTINE_TABLE)
    metrics.update(rows_in=len(listings), rows_quarantined=len(quarantined))
    (out_dir / "summary.json").write_text(json.dumps(metrics, indent=2, default=str) + "\n")
    if metrics_path:
        metrics_path.parent.mkdir(parents=True, exist_ok=True)
        metrics_path.write_text(json.dumps(metrics["linker_evaluation"], indent=2) + "\n")
    console.print(
        f"analyse: {len(listings)} in, {len(quarantined)} quarantined "
        f"({out_dir / QUARANTINE_TABLE}); {metrics['listings']} listings, "
        f"{metrics['vendor_accounts']} vendor accounts, "
        f"{metrics['sales']:.0f} sales, {metrics['migration_links']} migration links -> {out_dir}"
    )
    return metrics

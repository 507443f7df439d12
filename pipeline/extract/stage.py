"""IO layer of the extraction stages: `cryptodrug extract` and `cryptodrug evaluate-extraction`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
from rich.table import Table

from pipeline.core.config import load_params, public_data_root
from pipeline.extract.core import extract_listings
from pipeline.extract.evaluate import BASELINES, REPORT_FIELDS, evaluate
from pipeline.extract.gold import LABEL_FIELDS, join_public, load_gold
from pipeline.core.io import console, quarantine_frame, read_table, write_with_quarantine
from pipeline.core.schema import require_listing_columns


def run_extract(inp: Path, out: Path, params_path: Path | None) -> dict[str, int]:
    params = load_params(params_path)
    listings = read_table(inp)
    require_listing_columns(listings, str(inp))
    no_text = listings["title"].fillna("").eq("") & listings["price_raw"].fillna("").eq("")
    kept = extract_listings(listings[~no_text], params, progress=True)
    quarantined = quarantine_frame(listings[no_text], "no title and no price to read")
    return write_with_quarantine(kept, quarantined, out, len(listings), label="extract")


def _gold_sets(params: dict[str, Any]) -> tuple[dict[str, tuple[pd.DataFrame, pd.DataFrame]],
                                                   list[str]]:
    """(listings, labels) for the held-out and dev real gold and the authored sample."""
    cfg = params.get("extraction", {})
    real, sample = load_gold(cfg.get("gold", "data/gold/extraction"))
    sets = {"authored": (sample, sample[LABEL_FIELDS])}
    notes: list[str] = []
    root = public_data_root()
    if root is None:
        notes.append("public data absent: real gold not evaluated")
        return sets, notes
    joined, problems = join_public(real, root)
    notes += problems
    for split in ("test", "dev"):
        part = joined[joined["split"] == split].reset_index(drop=True)
        labels = real.set_index(["source_file", "source_row"]).loc[
            list(zip(part["source_file"], part["source_row"], strict=True)), LABEL_FIELDS
        ].reset_index(drop=True)
        sets[f"real_{split}"] = (part, labels)
    return sets, notes


def run_evaluate(out: Path, params_path: Path | None) -> dict[str, Any]:
    params = load_params(params_path)
    sets, notes = _gold_sets(params)
    metrics: dict[str, Any] = {"notes": notes,
                               "quantulum3": "unit classifier disabled (USE_CLF=False)"}
    for name, (listings, labels) in sets.items():
        text_cols = [c for c in listings.columns if c not in LABEL_FIELDS]
        inputs = listings[text_cols].reset_index(drop=True)
        labels = labels.reset_index(drop=True)
        ours = extract_listings(inputs, params)
        block = {"n": len(inputs), "extractor": evaluate(ours, labels, REPORT_FIELDS)}
        for peer in BASELINES.names():
            pred, fields = BASELINES.get(peer)(inputs)
            block[peer] = evaluate(pred, labels, fields)
        metrics[name] = block
        print_table(name, block)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(metrics, indent=2) + "\n")
    return metrics


def print_table(name: str, block: dict[str, Any]) -> None:
    peers = [k for k in block if k not in ("n", "extractor")]
    table = Table(title=f"extraction F1 (P/R) on {name}, n={block['n']}")
    table.add_column("field")
    table.add_column("support", justify="right")
    for who in ["extractor", *peers]:
        table.add_column(who, justify="right")
    for field in REPORT_FIELDS:
        cells = []
        for who in ["extractor", *peers]:
            s = block[who].get(field)
            cells.append("-" if s is None else
                         f"{s['f1']:.3f} ({s['precision']:.2f}/{s['recall']:.2f})")
        table.add_row(field, str(block["extractor"][field]["support"]), *cells)
    console.print(table)

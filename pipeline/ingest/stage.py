"""IO layer of the ingest stage: files in, Parquet/CSV/JSONL out, counts printed."""

from __future__ import annotations

import json
import re
from collections import Counter
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm import tqdm

from pipeline.core.engine import map_partitions
from pipeline.core.io import (
    check_accounting,
    clear_dataset,
    console,
    is_dataset,
    partition_files,
    partition_value,
    quarantine_path,
    side_output_path,
    split_by_partition,
    write_partition,
    write_table,
    write_with_quarantine,
)
from pipeline.core.schema import CANONICAL_COLUMNS
from pipeline.core.text import vendor_key_from_env
from pipeline.ingest import SIDE_TABLES, expand_inputs, ingest_files


def run_ingest(
    inputs: list[Path], cfg: dict[str, Any], out: Path, pseudonymise: bool,
    metrics: Path | None, engine: dict[str, Any] | None = None,
) -> dict:
    """`cfg` is the market's configuration (`conf/markets/NAME.yaml`, loaded by the CLI).
    A dataset OUT (`core.io.is_dataset`) is written partition by partition on `engine`
    (`ingest_dataset`)."""
    paths = expand_inputs(inputs, cfg)
    key = vendor_key_from_env() if pseudonymise else None
    if is_dataset(out):
        summary = ingest_dataset(paths, cfg, out, key, engine)
        write_metrics(summary, metrics)
        return summary
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
    write_metrics(summary, metrics)
    return summary


def write_metrics(summary: dict[str, Any], path: Path | None) -> None:
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(summary, indent=2) + "\n")


# --- a dataset OUT: market=M/scraped_at=D partitions ---------------------------------------
PARTITION_KEYS = ["market", "scraped_at"]
STAGING = "_staging"


def ingest_dataset(paths: list[Path], cfg: dict[str, Any], out: Path, key: str | None,
                   engine: dict[str, Any] | None) -> dict[str, Any]:
    """Ingest into a hive dataset in two passes, each one task per item, so memory depends
    on the largest input file or partition, not the market: (1) each file is ingested
    alone and its listings staged by partition (`OUT/_staging/<market>/`, one part per
    file), its quarantined rows and companion tables written; (2) each staged partition
    drops the ids an earlier file staged (`repeated_ids`: the first file's row wins, as
    when ingesting all files at once), sorts by `listing_id` and becomes
    `OUT/<partition>/part-0.parquet`. Only this market's
    partitions (`market=<name>`) are replaced."""
    market = partition_value(normalised_market(cfg["name"]))
    staging = out / STAGING / market
    for target in (staging, *(dataset_targets(out, f"market={market}"))):
        clear_dataset(target)
    staged = map_partitions(partial(ingest_file, cfg, key, str(out), str(staging)),
                            list(enumerate(paths)), engine, desc=f"ingest {cfg['name']}")
    partitions = sorted({p for result in staged for p in result["partitions"]})
    merged = map_partitions(partial(merge_staged, str(staging), str(out), repeated_ids(staging)),
                            partitions, engine, desc=f"merge {cfg['name']}")
    clear_dataset(out / STAGING)
    rows_in = sum(r["rows_in"] for r in staged)
    kept = sum(r["rows_out"] for r in merged)
    reasons = sum((Counter(r["reasons"]) for r in [*staged, *merged]), Counter())
    quarantined = sum(reasons.values())
    check_accounting(rows_in, kept, quarantined)
    filled = sum((Counter(r["filled"]) for r in merged), Counter())
    console.print(f"{cfg['name']} listings: {rows_in} in, {kept} out, {quarantined} "
                  f"quarantined, {len(partitions)} partitions -> {out}")
    return {
        "market": cfg["name"], "files": len(paths), "rows_in": rows_in, "rows_out": kept,
        "rows_quarantined": quarantined, "partitions": len(partitions),
        "fill_rate": {c: round(filled[c] / kept, 4) if kept else 0.0
                      for c in CANONICAL_COLUMNS},
        "quarantine_reasons": dict(sorted(reasons.items())),
        **{f"{name}_rows": sum(r["side_rows"][name] for r in staged) for name in SIDE_TABLES},
    }


def normalised_market(name: str) -> str:
    """A market name as `normalise_listings` writes it in the `market` column."""
    return re.sub(r"[^a-z0-9_]+", "_", name.lower())


def dataset_targets(out: Path, prefix: str) -> list[Path]:
    """This market's part of OUT, of its quarantine and of each companion dataset."""
    return [root / prefix for root in (out, quarantine_path(out),
                                       *(side_output_path(out, n) for n in SIDE_TABLES))]


def ingest_file(cfg: dict[str, Any], key: str | None, out: str, staging: str,
                item: tuple[int, Path]) -> dict[str, Any]:
    """Pass 1 for one input file (task `number` names its part files)."""
    number, path = item
    result = ingest_files([path], cfg, vendor_key=key)
    part = f"part-{number:05d}.parquet"
    parts = split_by_partition(result.listings, PARTITION_KEYS)
    for partition, rows in parts.items():
        write_partition(rows, staging, partition, name=part)
    for partition, rows in split_by_partition(result.quarantined, PARTITION_KEYS).items():
        write_partition(rows, quarantine_path(Path(out)), partition, name=part)
    market = f"market={partition_value(normalised_market(cfg['name']))}"
    for name, table in result.side_tables.items():
        write_partition(table, side_output_path(Path(out), name), market, name=part)
    return {"rows_in": result.rows_in, "partitions": list(parts),
            "reasons": quarantine_reason_counts(result.quarantined),
            "side_rows": {name: len(t) for name, t in result.side_tables.items()}}


def repeated_ids(staging: Path) -> dict[str, int]:
    """Listing ids staged by more than one file, each with the first file's number: DuckDB
    reads only the id column of the staged parts, out of core. Ids need not share a
    partition (markets' own ids do not hash the scrape date)."""
    import duckdb

    if not any(staging.rglob("*.parquet")):
        return {}
    rows = duckdb.sql(
        "SELECT listing_id, min(part) FROM (SELECT listing_id, CAST(regexp_extract(filename, "
        "'part-([0-9]+)', 1) AS INTEGER) AS part FROM read_parquet(?, filename = true, "
        "hive_partitioning = false)) GROUP BY listing_id HAVING count(*) > 1",
        params=[str(staging / "**" / "*.parquet")]).fetchall()
    return dict(rows)


def merge_staged(staging: str, out: str, repeated: dict[str, int],
                 partition: str) -> dict[str, Any]:
    """Pass 2 for one partition: rows whose id a earlier file staged are quarantined as
    repeats, the rest sorted by id and written."""
    frames = [pd.read_parquet(f).assign(_file=int(f.stem.removeprefix("part-")))
              for f in partition_files(staging, partition)]
    rows = pd.concat(frames, ignore_index=True)
    first = rows["listing_id"].map(repeated)
    repeat = first.notna() & (first != rows["_file"])
    rows = rows.drop(columns="_file")
    duplicates = rows[repeat].assign(reason="duplicate of listing " + rows["listing_id"][repeat])
    kept = rows[~repeat]
    write_partition(kept, out, partition, sort_key=["listing_id"])
    if len(duplicates):
        write_partition(duplicates, quarantine_path(Path(out)), partition,
                        name="part-duplicates.parquet", sort_key=["listing_id"])
    return {"rows_out": len(kept), "reasons": quarantine_reason_counts(duplicates),
            "filled": filled_counts(kept)}


def fill_rates(listings: pd.DataFrame) -> dict[str, float]:
    """Share of listings with a non-empty value, per canonical column."""
    filled = filled_counts(listings)
    return {c: round(filled[c] / len(listings), 4) if len(listings) else 0.0
            for c in CANONICAL_COLUMNS}


def filled_counts(listings: pd.DataFrame) -> dict[str, int]:
    """Listings with a non-empty value, per canonical column (summed over partitions)."""
    return {c: int(listings[c].fillna("").astype(str).str.len().gt(0).sum())
            for c in CANONICAL_COLUMNS}


def quarantine_reason_counts(quarantined: pd.DataFrame) -> dict[str, int]:
    """Reasons grouped by their kind (the text before any specific id or number)."""
    if quarantined.empty:
        return {}
    kinds = quarantined["reason"].str.replace(r"\b(listing|of) \S+.*$", r"\1 …", regex=True)
    return {k: int(v) for k, v in kinds.value_counts().sort_index().items()}

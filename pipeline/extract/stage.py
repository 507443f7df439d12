"""IO layer of the extraction stages: `cryptodrug extract` and `cryptodrug evaluate-extraction`."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd
from joblib import Parallel, delayed
from rich.table import Table
from tqdm import tqdm

from pipeline.core.engine import once, run_partitioned
from pipeline.core.io import (
    console,
    is_dataset,
    read_table,
    require_datasets,
    write_with_quarantine,
)
from pipeline.core.schema import require_listing_columns
from pipeline.extract.checks import DEFAULT_MAX_PRICE_EUR, price_problems, split_extractable
from pipeline.extract.core import EXTRACTORS, extract_listings
from pipeline.extract.evaluate import BASELINES, REPORT_FIELDS, blind_scores, evaluate
from pipeline.extract.gold import LABEL_FIELDS, join_listings, load_blind, load_gold

# a table this long is extracted in `extraction.n_jobs` processes, in chunks of CHUNK_ROWS
PARALLEL_MIN_ROWS = 20_000
CHUNK_ROWS = 5_000


def run_extract(inp: Path, out: Path, cfg: dict[str, Any],
                engine: dict[str, Any] | None = None) -> dict[str, int]:
    """`cfg` is the `extraction` params section. Rows extraction cannot read, and prices
    above `max_price_eur`, go to the quarantine file with a reason. A dataset OUT
    (`core.io.is_dataset`) runs partition by partition on `engine`."""
    if is_dataset(out):
        require_datasets(inp, out)
        return run_partitioned(inp, out, partial(extract_partition, cfg, str(inp)), engine,
                               "extract")
    listings = read_table(inp)
    extracted, quarantined = extract_in_processes(listings, cfg, str(inp),
                                                  int(cfg.get("n_jobs", 1)))
    return write_with_quarantine(extracted, quarantined, out, len(listings), label="extract")


def extract_in_processes(listings: pd.DataFrame, cfg: dict[str, Any], source: str,
                         n_jobs: int, min_rows: int = PARALLEL_MIN_ROWS,
                         chunk_rows: int = CHUNK_ROWS) -> tuple[pd.DataFrame, pd.DataFrame]:
    """`extract_frame` over consecutive chunks in `n_jobs` worker processes (each fits the
    extractor once), the results concatenated in input order: extraction reads each row
    alone, so the output does not depend on the chunking. Small tables stay in-process."""
    if n_jobs <= 1 or len(listings) < min_rows:
        return extract_frame(listings, cfg, source, progress=True)
    require_listing_columns(listings, source)
    tasks = (delayed(extract_frame)(listings.iloc[i : i + chunk_rows], cfg, source)
             for i in range(0, len(listings), chunk_rows))
    parts = []
    with tqdm(total=len(listings), desc="extract", unit="listing") as bar:
        for part in Parallel(n_jobs=n_jobs, return_as="generator")(tasks):
            parts.append(part)
            bar.update(len(part[0]) + len(part[1]))
    return (pd.concat([p[0] for p in parts], ignore_index=True),
            pd.concat([p[1] for p in parts], ignore_index=True))


def extract_frame(listings: pd.DataFrame, cfg: dict[str, Any], source: str,
                  progress: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(extracted, quarantined) for one table of classified listings; the extractor is
    fitted (vocabularies, spaCy pipelines: about a second) once per process and config."""
    listings = listings.reset_index(drop=True)
    require_listing_columns(listings, source)
    readable, unreadable = split_extractable(listings)
    extractor = once(("extractor", json.dumps(cfg, sort_keys=True, default=str)),
                     lambda: EXTRACTORS.get(cfg.get("name", "default"))(cfg).fit())
    extractor.progress = progress
    extracted = extractor.transform(readable)
    reasons = price_problems(extracted, float(cfg.get("max_price_eur", DEFAULT_MAX_PRICE_EUR)))
    priced = reasons.isna()
    # in input order, so that chunks of a table concatenate to the table's own result
    quarantined = pd.concat(
        [unreadable, readable.loc[extracted.index[~priced]].assign(reason=reasons[~priced])]
    ).sort_index(kind="stable").reset_index(drop=True)
    return extracted[priced], quarantined


def extract_partition(cfg: dict[str, Any], source: str, listings: pd.DataFrame
                      ) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, pd.DataFrame]]:
    """One partition of a dataset, for `core.engine.run_partitioned`."""
    return (*extract_frame(listings, cfg, source), {})


def _gold_sets(cfg: dict[str, Any], listings_dir: Path | None
               ) -> tuple[dict[str, tuple[pd.DataFrame, pd.DataFrame]], list[str]]:
    """(listings, labels) for the held-out and dev real gold and the authored sample."""
    real, sample = load_gold(cfg.get("gold", "data/gold/extraction"))
    sets = {"authored": (sample, sample[LABEL_FIELDS])}
    if listings_dir is None:
        return sets, ["no --listings folder: real gold not evaluated"]
    joined, problems = join_listings(real, listings_dir)
    for split in ("test", "dev"):
        part = joined[joined["split"] == split].reset_index(drop=True)
        sets[f"real_{split}"] = (part, part[LABEL_FIELDS])
    return sets, problems


def run_evaluate(out: Path, cfg: dict[str, Any], listings_dir: Path | None,
                 blind_dir: Path | None = None) -> dict[str, Any]:
    """Scores on the gold; `listings_dir` holds the ingested public listings
    (`<market config>.parquet`) the real gold is looked up in; `blind_dir` a blind set
    (`gold.load_blind`), scored per language beside the annotators' agreement."""
    blind = load_blind(blind_dir) if blind_dir is not None else None
    sets, notes = _gold_sets(cfg, listings_dir)
    metrics: dict[str, Any] = {"notes": notes,
                               "quantulum3": "unit classifier disabled (USE_CLF=False)"}
    for name, (listings, labels) in sets.items():
        text_cols = [c for c in listings.columns if c not in LABEL_FIELDS]
        inputs = listings[text_cols].reset_index(drop=True)
        labels = labels.reset_index(drop=True)
        ours = extract_listings(inputs, cfg)
        block = {"n": len(inputs), "extractor": evaluate(ours, labels, REPORT_FIELDS)}
        for peer in BASELINES.names():
            pred, fields = BASELINES.get(peer)(inputs)
            block[peer] = evaluate(pred, labels, fields)
        metrics[name] = block
        print_table(name, block)
    if blind is not None:
        metrics["blind"] = _blind_block(*blind, cfg)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(metrics, indent=2) + "\n")
    return metrics


def _blind_block(listings: pd.DataFrame, labels: pd.DataFrame,
                 cfg: dict[str, Any]) -> dict[str, Any]:
    """The blind set's scores; only figures are printed, never a listing or a label."""
    pred = extract_listings(listings.drop(columns=["lang"]), cfg).set_index("listing_id")
    block = blind_scores(pred, labels, listings.set_index("listing_id")["lang"].astype(str))
    table = Table(title="extraction on the blind set: mean field F1")
    for column in ("language", "n", "extractor vs gold", "n agreed", "A2 vs A1"):
        table.add_column(column, justify="left" if column == "language" else "right")
    for lang, scores in block.items():
        ours, ceiling = scores["extractor_vs_gold"], scores["a2_vs_a1"]
        table.add_row(lang, str(ours["n"]), f"{ours['mean_f1']:.3f}", str(ceiling["n"]),
                      f"{ceiling['mean_f1']:.3f}")
    console.print(table)
    return block


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

"""Extraction on the real public data: the gold joins back to its ingested rows unchanged,
and the held-out F1 stays at the issue's targets."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.core.config import load_market_config, load_params
from pipeline.core.io import write_table
from pipeline.extract import ListingExtractor
from pipeline.extract.evaluate import evaluate
from pipeline.extract.gold import LABEL_FIELDS, join_listings, load_gold
from pipeline.ingest import expand_inputs, ingest_files


@pytest.mark.public_data
@pytest.mark.slow
def test_heldout_gold_targets(public_data: Path, tmp_path: Path) -> None:
    real, _ = load_gold(load_params()["extraction"]["gold"])
    test = real[real["split"] == "test"]
    for (market, folder), _rows in test.groupby(["market_config", "folder"]):
        cfg = load_market_config(market)
        listings = ingest_files(expand_inputs([public_data / folder], cfg), cfg).listings
        write_table(listings, tmp_path / f"{market}.parquet")
    joined, problems = join_listings(test, tmp_path)
    assert not problems and len(joined) == len(test)
    labels = joined[LABEL_FIELDS]
    pred = ListingExtractor().fit().transform(joined.drop(columns=LABEL_FIELDS))
    got = evaluate(pred.reset_index(drop=True), labels.reset_index(drop=True),
                   ["mass_g", "dose_mg", "price", "ships_from", "ships_to"])
    assert all(s["f1"] >= 0.9 for s in got.values()), got

"""Extraction on the real public data: the gold joins back to its rows unchanged, and the
held-out F1 stays at the issue's targets."""

from __future__ import annotations

import pytest

from pipeline.core.config import load_params
from pipeline.extract import ListingExtractor
from pipeline.extract.evaluate import evaluate
from pipeline.extract.gold import LABEL_FIELDS, join_public, load_gold


@pytest.mark.public_data
@pytest.mark.slow
def test_heldout_gold_targets(public_data) -> None:
    real, _ = load_gold(load_params()["extraction"]["gold"])
    test = real[real["split"] == "test"]
    joined, problems = join_public(test, public_data)
    assert not problems and len(joined) == len(test)
    labels = joined[LABEL_FIELDS]
    pred = ListingExtractor().fit().transform(joined.drop(columns=LABEL_FIELDS))
    got = evaluate(pred.reset_index(drop=True), labels.reset_index(drop=True),
                   ["mass_g", "dose_mg", "price", "ships_from", "ships_to"])
    assert all(s["f1"] >= 0.9 for s in got.values()), got

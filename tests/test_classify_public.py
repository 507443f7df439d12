"""The classifier on the real public data (read from $CRYPTODRUG_PUBLIC_DATA, never copied):
market category maps cover the real paths, and a model trained on some markets labels
another market it never saw (leave-one-market-out, on a subset to stay fast)."""

from __future__ import annotations

import pandas as pd
import pytest

from pipeline.classify.audit import label_audit, out_of_fold_predictions
from pipeline.classify.evaluate import evaluate
from pipeline.classify.labels import label_listings, labelled_data, load_category_maps
from pipeline.classify.predict import classify_listings
from pipeline.classify.training import fit_model
from pipeline.core.config import load_market_config
from pipeline.ingest import expand_inputs, ingest_files

pytestmark = [pytest.mark.public_data, pytest.mark.slow]
FOLDERS = {
    "darkmatter": "markets/darkmatter-2024",
    "drughub": "markets/drughub-2024",
    "dwdata_digital": "markets/dwdata-digital",
}
MODEL = {
    "name": "linear",
    "params": {"word_features": 30000, "char_hash_bits": 16, "n_jobs": 1},
    "evaluation": {"test_size": 0.2, "min_labelled": 50, "lomo_min_rows": 100,
                   "lomo_min_class_rows": 10},
}


@pytest.fixture(scope="module")
def listings(public_data):
    frames = []
    for market, folder in FOLDERS.items():
        cfg = load_market_config(market)
        result = ingest_files(expand_inputs([public_data / folder], cfg), cfg)
        frames.append(result.listings.assign(market_config=market))
    return pd.concat(frames, ignore_index=True)


def test_category_maps_label_most_real_listings(listings):
    labels = label_listings(listings, load_category_maps())
    share = labels.notna().groupby(listings["market_config"]).mean()
    assert (share > 0.9).all(), share.to_dict()
    drugs = listings["market_config"].isin(["darkmatter", "drughub"])
    assert labels[drugs].nunique() == 14  # every taxonomy id occurs in these two markets


def test_leave_one_market_out_on_real_listings(listings):
    data, counts = labelled_data(listings, load_category_maps())
    assert counts["duplicates"] > 0  # reposted listings exist and are counted once
    subset = pd.concat(
        g.sample(min(len(g), 1200), random_state=0) for _, g in data.groupby("market")
    )
    result = evaluate(MODEL, subset, MODEL["evaluation"], seed=42)
    markets = result["lomo"]["markets"]
    assert set(markets) == set(FOLDERS)
    assert markets["darkmatter"]["macro_f1"] > 0.75 and markets["drughub"]["macro_f1"] > 0.75
    assert result["in_market"]["macro_f1"] > 0.8


def test_unseen_script_gets_low_confidence_on_a_real_model(listings):
    data, _ = labelled_data(listings, load_category_maps())
    model = fit_model(MODEL, data.sample(3000, random_state=1), seed=42)
    frame = pd.DataFrame({"title": ["ᏣᎳᎩ ᎦᏬᏂᎯᏍᏗ ᎠᏂᏴᏫ", "ⴰⵎⴰⵣⵉⵖ ⵜⴰⵎⵓⵔⵜ"], "description": ""})
    kept, _ = classify_listings(frame, model)
    assert (kept["category_confidence"] < 0.6).all(), kept


def test_label_audit_on_real_listings(listings):
    """Out-of-fold predictions agree with nearly every market label (the label-noise
    estimate in the README rests on this), and the audit table covers the mapped paths."""
    data, _ = labelled_data(listings, load_category_maps())
    subset = data.sample(3000, random_state=2)
    predicted = out_of_fold_predictions(MODEL, subset, folds=3, seed=42)
    assert (predicted == subset["label"]).mean() > 0.9
    audit = label_audit(subset, predicted, min_rows=20)
    assert set(audit["market"]) == set(FOLDERS)
    assert audit["agreement"].is_monotonic_increasing

"""Listing classifier on project-written listings: labels from market maps, the linear model
round trip, determinism, commands, bad input, a new market by configuration alone."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from pipeline.classify.audit import label_audit, out_of_fold_predictions
from pipeline.classify.evaluate import confidence_figures, evaluate
from pipeline.classify.labels import (
    CategoryMap,
    labelled_data,
    listing_text,
    load_category_maps,
    load_taxonomy,
    per_market_sample,
)
from pipeline.classify.models import build_model, load_model
from pipeline.classify.predict import classify_listings, review_queue
from pipeline.cli import app
from pipeline.core.io import InputError, quarantine_path, read_table, side_output_path
from pipeline.core.ml import read_card, write_card
from pipeline.core.schema import CANONICAL_COLUMNS

SPEC_IDS = {
    "cannabis", "cocaine", "ecstasy", "amphetamine", "methamphetamine", "dissociatives",
    "opioids", "psychedelics", "benzodiazepines", "prescription", "steroids", "nps",
    "other_drug", "non_drug",
}
# Project-written vocabulary: a few words per category, combined into listing titles.
WORDS = {
    "cannabis": ["weed", "kush", "hash", "cannabis buds", "haze"],
    "cocaine": ["cocaine", "coke", "crack rocks", "peruvian flake", "cocaïne"],
    "ecstasy": ["mdma crystal", "xtc pills", "ecstasy tablets", "molly", "mda"],
    "non_drug": ["paypal account", "netflix login", "fraud guide", "fake passport", "cvv dump"],
}
UNITS = ["1g", "5 gr", "10 stuks", "28g", "100 pcs", "half oz", "3.5g", "50x"]
ADJ = ["premium", "top quality", "uncut", "cheap", "fast shipping", "EU stock", "best"]
SMALL_MODEL = {
    "name": "linear",
    "params": {"word_features": 5000, "char_hash_bits": 14, "min_df": 1, "n_jobs": 1},
    "evaluation": {"test_size": 0.25, "min_labelled": 20, "lomo_min_rows": 30},
}
MAPS = {
    "alpha": {"Drugs > Weed": "cannabis", "Drugs > Coke": "cocaine", "Drugs > XTC": "ecstasy",
              "Drugs > Other": None, "Digital": "non_drug"},
    "beta": {"Cannabis": "cannabis", "Stimulants » Cocaine": "cocaine",
             "Ecstasy": "ecstasy", "Fraud": "non_drug"},
}
PATHS = {
    "alpha": {"cannabis": "Drugs > Weed", "cocaine": "Drugs > Coke", "ecstasy": "Drugs > XTC",
              "non_drug": "Digital > Accounts"},
    "beta": {"cannabis": "Cannabis » Hash", "cocaine": "Stimulants » Cocaine",
             "ecstasy": "Ecstasy » Pills", "non_drug": "Fraud » Guides"},
}


def make_listings(market: str, n_per_class: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for label, words in WORDS.items():
        for i in range(n_per_class):
            title = f"{rng.choice(UNITS)} {rng.choice(words)} {rng.choice(ADJ)} #{i}"
            rows.append({
                "listing_id": f"{market}-{label}-{i}", "market": market,
                "scraped_at": "2024-01-01", "vendor": f"v{rng.integers(20)}", "title": title,
                "description": "", "price_raw": "10", "currency_raw": "EUR",
                "ships_from_raw": "", "ships_to_raw": "",
                "category_raw": PATHS[market][label],
            })
    return pd.DataFrame(rows)[CANONICAL_COLUMNS]


@pytest.fixture(scope="module")
def maps():
    taxonomy = load_taxonomy()
    return {m: CategoryMap(v, taxonomy, m) for m, v in MAPS.items()}


@pytest.fixture(scope="module")
def listings():
    return pd.concat([make_listings("alpha", 60, 1), make_listings("beta", 60, 2)],
                     ignore_index=True)


@pytest.fixture(scope="module")
def trained(listings, maps):
    data, _ = labelled_data(listings, maps)
    return build_model(SMALL_MODEL, seed=42).fit(data["text"].tolist(), data["label"].tolist())


def test_taxonomy_config_has_exactly_the_spec_ids():
    assert set(load_taxonomy().ids) == SPEC_IDS


def test_every_market_config_maps_onto_the_taxonomy():
    maps = load_category_maps()
    for market in ("agora", "alphabay", "darkmatter", "drughub", "dwdata_digital",
                   "cryptomarketstudy"):
        assert market in maps
    assert maps["darkmatter"]("Stimulants > Cocaine") == "cocaine"
    assert maps["drughub"]("Drugs » Benzos - Pills") == "benzodiazepines"
    # mixed shelves (SPEC 3 audit): z-drugs and tapentadol beside Xanax; kratom among opioids
    assert maps["drughub"]("Drugs » Benzos - Other") is None
    assert maps["darkmatter"]("Opioids > Other") is None
    assert maps["agora"]("Drugs > Ecstasy > Other") == "nps"  # cathinones
    # the study coded THC vape carts as synthetic: unlabelled (audit-labels, read by hand)
    assert maps["cryptomarketstudy"]("concentrate > synthetic cannabinoids") is None
    assert maps["alphabay"]("Drugs & Chemicals > Cannabis & Hashish > Hash") == "cannabis"
    assert maps["agora"]("Drugs > Other") is None


def test_category_map_longest_prefix_at_a_segment_boundary(maps):
    alpha = maps["alpha"]
    assert alpha("Drugs > Weed") == "cannabis"
    assert alpha("drugs >  weed > indica") == "cannabis"  # case and spacing do not matter
    assert alpha("Drugs > Weedkiller") is None  # a prefix must end at a boundary
    assert alpha("Drugs > Other > Stuff") is None  # null: ambiguous, unlabelled
    assert alpha("Drugs") is None and alpha("") is None
    assert maps["beta"]("Cannabis » Hash") == "cannabis"


def test_unknown_taxonomy_id_in_a_market_map_is_a_clear_error():
    with pytest.raises(InputError, match="unknown taxonomy ids weed"):
        CategoryMap({"Drugs > Weed": "weed"}, load_taxonomy(), "bad.yaml")


def test_labelled_data_drops_conflicts_and_repeats(listings, maps):
    extra = listings.iloc[[0, 0, 0]].copy()
    extra["listing_id"] = ["x1", "x2", "x3"]
    extra.loc[extra.index[2], "category_raw"] = "Drugs > Coke"  # same text, other label
    data, counts = labelled_data(pd.concat([listings, extra], ignore_index=True), maps)
    assert counts["conflicting_labels"] == 4  # the original and its three copies
    assert counts["duplicates"] == 0
    assert len(data) == len(listings) - 1
    assert counts["unlabelled"] == 0


def test_listing_text_strips_html_and_caps_length():
    frame = pd.DataFrame({
        "title": ["<b>MDMA</b> &amp; more", "", "x"],
        "description": ["<p>very<br/>pure</p>", "   ", "y" * 1_000_000],
    })
    text = listing_text(frame, max_chars=500)
    assert text.iloc[0] == "MDMA & more very pure"
    assert text.iloc[1] == ""
    assert len(text.iloc[2]) == 500


def test_round_trip_save_and_load(tmp_path, trained, listings):
    trained.save(tmp_path)
    write_card(tmp_path, {"model": "linear"})
    loaded, _ = load_model(tmp_path)
    texts = listing_text(listings).tolist()
    np.testing.assert_allclose(loaded.predict_proba(texts), trained.predict_proba(texts))
    assert (loaded.predict(texts) == trained.predict(texts)).all()


def test_model_learns_the_categories(trained):
    texts = ["10g kush premium", "5 gr coke uncut", "100 pcs xtc pills", "netflix login cheap"]
    assert trained.predict(texts).tolist() == ["cannabis", "cocaine", "ecstasy", "non_drug"]
    assert (trained.predict_proba(texts).sum(axis=1) == pytest.approx(1.0))


def test_retraining_is_deterministic_in_one_process_or_two(listings, maps):
    data, _ = labelled_data(listings, maps)
    first = evaluate(SMALL_MODEL, data, SMALL_MODEL["evaluation"], seed=7)
    in_workers = evaluate(SMALL_MODEL, data, {**SMALL_MODEL["evaluation"], "n_jobs": 2}, seed=7)
    assert first == in_workers
    assert set(first["lomo"]["markets"]) == {"alpha", "beta"}
    assert first["in_market"]["macro_f1"] > 0.9
    assert set(first["in_market"]["confidence"]) == set(first["lomo"]["pooled"]["confidence"])


def test_confidence_figures_at_the_review_threshold():
    rows = pd.DataFrame({"label": ["a", "a", "b", "b"], "predicted": ["a", "b", "b", "b"],
                         "confidence": [0.9, 0.55, 0.7, 0.95]})
    # bins 0.5 (wrong), 0.7 (right), 0.9 (0.9 and 0.95, both right): (0.55 + 0.3 + 0.15) / 4
    assert confidence_figures(rows, 0.6) == {"ece": 0.25, "review_threshold": 0.6,
                                             "review_share": 0.25, "accuracy_not_reviewed": 1.0}


def test_per_market_sample_is_capped_and_repeatable(listings, maps):
    data, _ = labelled_data(listings, maps)
    first, second = per_market_sample(data, 50, seed=3), per_market_sample(data, 50, seed=3)
    assert first["market"].value_counts().to_dict() == {"alpha": 50, "beta": 50}
    pd.testing.assert_frame_equal(first, second)


def test_label_audit_finds_a_mis_mapped_path(listings):
    """A path whose listings read as cannabis but map to cocaine is flagged first."""
    mapping = {**MAPS["alpha"], "Drugs > Mixed": "cocaine"}
    audit_maps = {"alpha": CategoryMap(mapping, load_taxonomy(), "alpha")}
    alpha = listings[listings["market"] == "alpha"]
    more_alpha = make_listings("alpha", 25, seed=99)
    mixed = more_alpha[more_alpha["category_raw"] == "Drugs > Weed"].assign(
        category_raw="Drugs > Mixed", listing_id=lambda d: d["listing_id"] + "-mixed")
    data, _ = labelled_data(pd.concat([alpha, mixed], ignore_index=True), audit_maps)
    predicted = out_of_fold_predictions(SMALL_MODEL, data, folds=3, seed=0)
    assert predicted.ne("").all() and predicted.index.equals(data.index)
    in_workers = out_of_fold_predictions(SMALL_MODEL, data, folds=3, seed=0, n_jobs=2)
    pd.testing.assert_series_equal(predicted, in_workers)
    audit = label_audit(data, predicted, min_rows=20)
    worst = audit.iloc[0]
    assert (worst["path"], worst["label"], worst["read_as"]) == ("Drugs > Mixed", "cocaine",
                                                                 "cannabis")
    assert worst["agreement"] < 0.3 and worst["read_as_share"] > 0.7
    # the mis-mapped rows also blur the path they read like; the other paths are clean
    clean = set(audit.loc[audit["agreement"] > 0.9, "path"])
    assert clean == {"Drugs > Coke", "Drugs > XTC", "Digital > Accounts"}
    assert worst["rows"] >= 20 and set(audit.iloc[1:]["rows"]) == {60}


def test_evaluation_degrades_gracefully_on_tiny_data(listings, maps):
    data, _ = labelled_data(listings[listings["market"] == "alpha"].head(15), maps)
    result = evaluate(SMALL_MODEL, data, SMALL_MODEL["evaluation"], seed=1)
    assert "in_market" not in result and not result["lomo"]["markets"]
    assert any("in-market split skipped" in n for n in result["notes"])
    assert any("LOMO skipped" in n for n in result["notes"])


def test_bad_input_behaviour(trained):
    frame = pd.DataFrame({
        "title": ["", "", "10g kush premium", "ქართული ტექსტი ფასი", "<div>5 gr <i>coke</i></div>"],
        "description": ["", "<br>", "x " * 500_000, "", "<script>uncut</script>"],
    })
    start = time.perf_counter()
    kept, quarantined = classify_listings(frame, trained)
    assert time.perf_counter() - start < 5  # a 1 MB description costs no more than a title
    # no text at all (empty title, description empty or only markup): quarantined
    assert len(quarantined) == 2 and quarantined["reason"].str.contains("no title").all()
    assert kept.loc[2, "category"] == "cannabis"  # the 1 MB description is cut, not refused
    assert kept.loc[4, "category"] == "cocaine"  # HTML tags do not reach the model
    # a script the model never saw: a low-confidence guess, routed to human review
    unseen = kept.loc[3, "category_confidence"]
    assert unseen < kept.loc[[2, 4], "category_confidence"].min()
    assert 3 in review_queue(kept, threshold=unseen + 0.01).index


def test_missing_title_column_is_an_error(trained):
    with pytest.raises(InputError, match="no `title` column"):
        classify_listings(pd.DataFrame({"name": ["x"]}), trained)


def write_market_tables(folder: Path, listings: pd.DataFrame) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for market, frame in listings.groupby("market"):
        frame.to_parquet(folder / f"{market}.parquet")
    return folder


def write_market_configs(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for market, mapping in MAPS.items():
        cfg = {"adapter": "tabular", "columns": {"title": "title"}, "category_map": mapping}
        (folder / f"{market}.yaml").write_text(yaml.safe_dump(cfg, allow_unicode=True))
    return folder


def params_file(tmp_path: Path) -> Path:
    path = tmp_path / "params.yaml"
    model = {**SMALL_MODEL, "text_max_chars": 1000, "review_threshold": 0.9}
    path.write_text(yaml.safe_dump({"seed": 42, "model": model}))
    return path


def test_commands_train_evaluate_classify(tmp_path, listings):
    tables = write_market_tables(tmp_path / "listings", listings)
    confs = write_market_configs(tmp_path / "markets")
    params = params_file(tmp_path)
    runner = CliRunner()
    metrics, figure = tmp_path / "metrics.json", tmp_path / "cm.png"
    result = runner.invoke(app, ["evaluate-classifier", str(tables), "-o", str(metrics),
                                 "--figure", str(figure), "--params", str(params),
                                 "--market-config", str(confs)])
    assert result.exit_code == 0, result.output
    assert "leave-one-market-out" in result.output and figure.stat().st_size > 0
    model_dir = tmp_path / "model"
    result = runner.invoke(app, ["train-classifier", str(tables), "-o", str(model_dir),
                                 "--params", str(params), "--market-config", str(confs),
                                 "--metrics", str(metrics)])
    assert result.exit_code == 0, result.output
    card = read_card(model_dir)
    assert set(card["files"]) == {"model.skops", "MODEL_CARD.md"}
    assert card["training_markets"] == {"alpha": 240, "beta": 240}
    assert card["taxonomy_version"] == load_taxonomy().version
    assert card["metrics"]["lomo_mean_macro_f1"] is not None
    assert "## Label counts" in (model_dir / "MODEL_CARD.md").read_text()

    new = make_listings("beta", 5, 9).assign(title=lambda d: d["title"].str.upper())
    new.loc[0, ["title", "description"]] = ""
    inp, out = tmp_path / "new.csv", tmp_path / "out" / "new.csv"
    new.to_csv(inp, index=False)
    result = runner.invoke(app, ["classify", str(inp), "-o", str(out), "--model", str(model_dir),
                                 "--params", str(params)])
    assert result.exit_code == 0, result.output
    classified = read_table(out)
    assert len(classified) == 19 and len(read_table(quarantine_path(out))) == 1
    assert classified["category_confidence"].astype(float).between(0, 1).all()  # CSV: text
    assert (classified["category"] == classified["listing_id"].str.split("-").str[1]).mean() > 0.9
    review = read_table(side_output_path(out, "review"))
    assert (review["category_confidence"].astype(float) < 0.9).all()


def test_audit_labels_command(tmp_path, listings):
    tables = write_market_tables(tmp_path / "listings", listings)
    out = tmp_path / "audit.csv"
    result = CliRunner().invoke(app, [
        "audit-labels", str(tables), "-o", str(out), "--params", str(params_file(tmp_path)),
        "--market-config", str(write_market_configs(tmp_path / "markets")), "--min-rows", "30",
        "--metrics", str(tmp_path / "audit.json")])
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "audit.json").read_text())
    assert summary["labelled"] == 480 and 0.5 < summary["agreement"] <= 1
    audit = read_table(out)
    assert len(audit) == 8 and set(audit["market"]) == {"alpha", "beta"}
    disagreements = read_table(side_output_path(out, "disagreements"))
    assert (disagreements["label"] != disagreements["predicted"]).all()
    assert "out-of-fold agreement" in result.output


def test_command_errors_are_one_line(tmp_path, listings):
    tables = write_market_tables(tmp_path / "listings", listings)
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"name": "alpha", "adapter": "tabular",
                                   "category_map": {"Drugs > Weed": "marijuana"}}))
    runner = CliRunner()
    result = runner.invoke(app, ["train-classifier", str(tables), "-o", str(tmp_path / "m"),
                                 "--params", str(params_file(tmp_path)),
                                 "--market-config", str(bad)])
    assert result.exit_code == 2 and "unknown taxonomy ids marijuana" in result.output
    result = runner.invoke(app, ["classify", str(tables / "alpha.parquet"), "-o",
                                 str(tmp_path / "o.csv"), "--model", str(tmp_path)])
    assert result.exit_code == 2 and "not a model directory" in result.output


def test_new_market_by_configuration_alone(tmp_path, listings):
    """A researcher's new scrape: a YAML and a CSV, ingested and labelled without code."""
    raw = tmp_path / "raw"
    raw.mkdir()
    gamma = make_listings("alpha", 30, 5)
    gamma["Section"] = gamma["category_raw"].str.replace("Drugs > ", "Shop / ")
    gamma.rename(columns={"title": "Item", "vendor": "Seller", "price_raw": "Cost"})[
        ["Item", "Seller", "Cost", "Section"]
    ].to_csv(raw / "gamma_export.csv", index=False)
    config = tmp_path / "gamma.yaml"
    config.write_text(yaml.safe_dump({
        "adapter": "tabular", "files": ["*.csv"],
        "columns": {"title": "Item", "vendor": "Seller", "price_raw": "Cost",
                    "category_raw": "Section", "scraped_at": {"value": "2025-01-01"}},
        "category_map": {"Shop / Weed": "cannabis", "Shop / Coke": "cocaine",
                         "Shop / XTC": "ecstasy", "Digital": "non_drug"},
    }))
    tables = write_market_tables(tmp_path / "listings", listings)
    runner = CliRunner()
    result = runner.invoke(app, ["ingest", "--market", str(config), str(raw), "-o",
                                 str(tables / "gamma.parquet")])
    assert result.exit_code == 0, result.output
    maps = load_category_maps([write_market_configs(tmp_path / "markets"), config])
    from pipeline.classify.stage import read_listings

    data, counts = labelled_data(read_listings(tables), maps)
    assert data["market"].value_counts()["gamma"] == 120 and counts["unlabelled"] == 0
    result = evaluate(SMALL_MODEL, data, SMALL_MODEL["evaluation"], seed=3)
    assert result["lomo"]["markets"]["gamma"]["macro_f1"] > 0.9

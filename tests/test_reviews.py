"""Review sentiment (issue 6): rating mapping, bad input, CLI, and real-data figures."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from pipeline.reviews import stage as R
from pipeline.cli import app
from pipeline.core.config import compose_params

CFG = compose_params()["reviews"]
PM5 = CFG["rating_scales"]["pm5"]
NGRAM_ONLY = {**CFG, "encoder": {**CFG["encoder"], "enabled": False}}


@pytest.fixture(scope="module")
def model(sample_data: Path) -> R.SentimentModel:
    sample = pd.read_csv(sample_data / "reviews.csv")
    labelled = R._labelled(sample, CFG)
    seeds = R.load_seed_examples(Path(CFG["seed_examples"]))
    return R.SentimentModel(cfg=CFG, seed=42).fit(*R._xy(R.training_frame(labelled, seeds)))


@pytest.mark.parametrize(
    ("rating", "label"),
    [(-5, "negative"), (2, "negative"), (3, "neutral"), (4, "neutral"), (5, "positive")],
)
def test_rating_thresholds(rating: float, label: str) -> None:
    assert R.rating_to_label(rating, PM5) == label


def test_rating_outside_scale_raises() -> None:
    with pytest.raises(ValueError, match="outside scale"):
        R.rating_to_label(7, PM5)


def test_converted_rating_off_integer_grid_raises() -> None:
    with pytest.raises(ValueError, match="integer grid"):
        R.rating_to_label(4.17, PM5)
    assert R.rating_to_label(7.5, CFG["rating_scales"]["ten"]) == "positive"


def test_tune_offsets_finds_prior_shift() -> None:
    """A rare class the argmax never picks gets a positive offset that recovers it."""
    rng = np.random.default_rng(0)
    y = np.array([0] * 50 + [1] * 50 + [2] * 900)
    proba = np.full((1000, 3), 0.1)
    proba[:, 2] = 0.8
    proba[:50, 0] = 0.5 + rng.uniform(0, 0.2, 50)  # class 0 separable by argmax
    proba[50:100, 1] = 0.4  # class 1 below class 2 (0.8) but above the others' 0.1
    proba /= proba.sum(axis=1, keepdims=True)
    assert R.macro_f1_index(y, proba.argmax(axis=1), 3) < 0.7
    offsets = R.tune_offsets(proba, y, np.arange(-2, 2.01, 0.25))
    tuned = (np.log(proba) + offsets).argmax(axis=1)
    assert offsets[2] == 0 and offsets[1] > 0
    assert R.macro_f1_index(y, tuned, 3) == 1.0


def test_tuned_model_saves_and_loads_offsets(sample_data: Path, tmp_path: Path) -> None:
    sample = R._labelled(pd.read_csv(sample_data / "reviews.csv"), CFG)
    cfg = {**NGRAM_ONLY, "decision": {**CFG["decision"], "folds": 2}}
    frame = R.training_frame(sample, None)
    model = R.fit_model(frame, cfg, 42)
    assert model.offsets_.shape == (3,)
    model.save(tmp_path / "m", {})
    loaded = R.SentimentModel.load(tmp_path / "m")
    assert loaded.decision_offsets() == model.decision_offsets()
    texts = sample["text"].tolist()
    assert list(loaded.predict(texts)) == list(model.predict(texts))


def test_system_figures_both_readings() -> None:
    gold = ["negative", "neutral", "positive", "positive"]
    figures = R.system_figures(
        gold, ["negative", "positive", "neutral", "positive"], [-0.5, 0.2, 0.1, 0.9]
    )
    assert figures["three_class"]["n"] == 4
    assert figures["three_class"]["per_class"]["neutral"]["f1"] == 0.0
    binary = figures["negative_vs_positive"]
    assert binary["n"] == 3 and binary["macro_f1"] == 1.0  # neutral gold left out, sign decides


def test_agora_feedback_parsing() -> None:
    cell = (
        "\n    Feedbacks:\n        \n                    4/5\n                    great stuff\n"
        "          \n\n                    3 days ago\n                    anon [1 deals]\n"
    )
    assert R.parse_agora_feedback(cell) == [(4, "great stuff")]
    assert R.parse_agora_feedback("\n    Feedbacks:\n    No feedbacks found.\n") == []


def test_bad_input_defined(model: R.SentimentModel) -> None:
    reviews = pd.DataFrame(
        {
            "review_id": [
                "empty",
                "emoji",
                "unknown_emoji",
                "long",
                "mixed",
                "badrating",
                "norating",
            ],
            "text": [
                "   ",
                "🔥🔥👍",
                "🤷🤷",
                "never received, scam. " + "x" * 50_000,
                "Snelle levering, top quality, merci!",
                "ok",
                "nooit ontvangen",
            ],
            "rating": [5, 5, None, -5, 5, 9, None],
        }
    )
    kept, quarantined = R.score_reviews(reviews, model, CFG, "pm5")
    assert set(quarantined["review_id"]) == {"empty", "badrating"}
    assert quarantined.set_index("review_id")["reason"]["badrating"].startswith("bad rating")
    out = kept.set_index("review_id")
    assert out.loc["unknown_emoji", "sentiment"] == "neutral"
    assert out.loc["unknown_emoji", "sentiment_score"] == 0.0
    assert out.loc["emoji", "sentiment"] == "positive"
    assert out.loc["long", "sentiment"] == "negative"
    assert {"non_delivery", "scam"} <= set(out.loc["long", "aspects"])
    assert out.loc["mixed", "sentiment"] == "positive"
    assert out.loc["norating", "sentiment"] == "negative"
    assert out["sentiment_score"].between(-1, 1).all()


def test_unknown_scale_is_input_error(model: R.SentimentModel) -> None:
    frame = pd.DataFrame({"review_id": ["a"], "text": ["good"]})
    with pytest.raises(R.InputError, match="unknown rating scale"):
        R.score_reviews(frame, model, CFG, "stars")


def test_summaries(model: R.SentimentModel, sample_data: Path) -> None:
    kept, _ = R.score_reviews(pd.read_csv(sample_data / "reviews.csv"), model, CFG, "pm5")
    tables = R.summarise(kept)
    assert {"sentiment_by_vendor", "sentiment_by_country", "negative_review_risks"} <= set(tables)
    risks = tables["negative_review_risks"].set_index("market")
    assert 0 < risks.loc["all", "share_non_delivery_or_scam"] <= 1


def test_cli_train_and_score(tmp_path: Path, sample_data: Path) -> None:
    runner = CliRunner()
    model_dir = tmp_path / "model"
    result = runner.invoke(
        app, ["train-sentiment", str(sample_data / "reviews.csv"), "-o", str(model_dir)]
    )
    assert result.exit_code == 0, result.output
    assert (model_dir / "model.skops").exists()
    bad = tmp_path / "in.csv"
    pd.DataFrame({"review_id": ["a", "b"], "text": ["colis jamais reçu", ""]}).to_csv(
        bad, index=False
    )
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["sentiment", str(bad), "-o", str(out), "--model", str(model_dir)])
    assert result.exit_code == 0, result.output
    scored = pd.read_json(out, lines=True)
    assert scored["sentiment"].tolist() == ["negative"]
    assert len(pd.read_json(tmp_path / "out.quarantine.jsonl", lines=True)) == 1


def test_cli_missing_column_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "in.csv"
    pd.DataFrame({"id": ["a"]}).to_csv(bad, index=False)
    result = CliRunner().invoke(
        app, ["sentiment", str(bad), "-o", str(tmp_path / "o.csv"), "--model", str(tmp_path)]
    )
    assert result.exit_code == 2


@pytest.mark.public_data
@pytest.mark.slow
def test_real_reviews_beat_vader(public_data: Path) -> None:
    """Trust reviews only (fast): held-out sellers, model ahead of VADER."""
    corpus, _ = R.build_corpus(
        public_data,
        {"trust": "reviews/trust-in-illicit-markets/darknet_sales_reviews_shared.csv"},
        CFG["rating_scales"],
    )
    metrics = R.evaluate(corpus, CFG, 42, R.load_seed_examples(Path(CFG["seed_examples"])))
    held = metrics["heldout_sellers"]
    for reading in ("three_class", "negative_vs_positive"):
        assert held["model"][reading]["macro_f1"] > held["vader"][reading]["macro_f1"]
    assert held["model"]["negative_vs_positive"]["macro_f1"] >= 0.75
    json.dumps(metrics)


def test_minilm_model_optional(sample_data: Path, tmp_path: Path) -> None:
    """The optional embedding model: offline MiniLM, normalised vectors, saves via skops
    without the encoder weights, and reloads to the same predictions."""
    vectors = R.SentenceEmbedder().fit([]).transform(["fast delivery", "nooit ontvangen"] * 2)
    assert vectors.shape == (4, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-4)
    assert np.allclose(vectors[0], vectors[2])
    sample = R._labelled(pd.read_csv(sample_data / "reviews.csv"), CFG)
    model = R.SentimentModel(cfg={**NGRAM_ONLY, "model": "tfidf_minilm_logreg"}, seed=42)
    model.fit(*R._xy(sample))
    model.save(tmp_path / "m", {})
    assert (tmp_path / "m" / "model.skops").stat().st_size < 5_000_000
    texts = sample["text"].tolist()
    assert list(R.SentimentModel.load(tmp_path / "m").predict(texts)) == list(model.predict(texts))


def _frame(labels: list[str], human: list[bool], group: str = "v|m") -> pd.DataFrame:
    n = len(labels)
    return pd.DataFrame(
        {"text": [f"review {i}" for i in range(n)], "label": labels, "group": group,
         "weight": [1.0 if h else 0.1 for h in human], "human": human}
    )


def test_encoder_trains_on_people_seeds_low_ratings_and_a_sample_of_top_ratings() -> None:
    frame = pd.concat(
        [
            _frame(["positive"] * 10 + ["negative"] * 3 + ["neutral"] * 2, [False] * 15),
            _frame(["neutral", "positive"], [True, True]),
            _frame(["negative"], [False], group=""),  # a seed example
        ],
        ignore_index=True,
    )
    encoder = {"positive_sample": 4, "rating_weight": 0.3}
    rows = R.encoder_training_rows(frame, encoder, seed=1)
    rated = rows[~rows["human"] & rows["group"].ne("")]
    assert (rated["label"] == "positive").sum() == 4
    assert (rated["label"] != "positive").sum() == 5
    assert rows["group"].eq("").sum() == 1 and rows["human"].sum() == 2
    # a rated text weighs rating_weight against a person's 1, before class balancing
    assert np.isclose(rated["weight"].iloc[0] / rows.loc[rows["human"], "weight"].iloc[1], 0.3)
    # balanced: each class carries the same total weight
    assert np.allclose(rows.groupby("label")["weight"].sum(), rows["weight"].sum() / 3)
    assert rows.index.equals(R.encoder_training_rows(frame, encoder, seed=1).index)


class _ConstantEncoder:
    """Stands in for the fine-tuned encoder: always 'negative', and records what it read."""

    classes_ = np.array(["negative", "neutral", "positive"])

    def __init__(self) -> None:
        self.seen: list[str] = []

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        self.seen += texts
        return np.tile([1.0, 0.0, 0.0], (len(texts), 1))


@pytest.mark.parametrize("threshold", ["zero", "median", "one"])
def test_cascade_sends_only_unsure_texts_to_the_encoder(sample_data: Path, threshold: str) -> None:
    """The n-gram model keeps the texts it is sure of; the rest are blended with the encoder.
    0 never asks the encoder, 1 always does."""
    sample = R._labelled(pd.read_csv(sample_data / "reviews.csv"), NGRAM_ONLY)
    model = R.SentimentModel(cfg=NGRAM_ONLY).fit(*R._xy(sample))
    texts = sample["text"].tolist()
    ngram = model.predict_proba(texts)
    top = ngram.max(axis=1)
    defer_below = {"zero": 0.0, "median": float(np.median(top)), "one": 1.0}[threshold]
    model.cfg = {**NGRAM_ONLY, "encoder": {**CFG["encoder"], "defer_below": defer_below}}
    model.encoder_ = _ConstantEncoder()
    proba = model.predict_proba(texts)
    unsure = top < defer_below
    assert unsure.sum() == {"zero": 0, "median": len(texts) // 2, "one": len(texts)}[threshold]
    assert len(model.encoder_.seen) == unsure.sum()
    assert model.deferred_share(texts) == pytest.approx(unsure.mean())
    np.testing.assert_allclose(proba[~unsure], ngram[~unsure])
    blend = CFG["encoder"]["blend"]
    np.testing.assert_allclose(proba[unsure, 0], (1 - blend) * ngram[unsure, 0] + blend)


@pytest.mark.slow
def test_encoder_blend_on_the_sample(sample_data: Path, tmp_path: Path) -> None:
    """The packaged MiniLM fine-tuned beside the n-gram model (one short epoch): the blend
    is the configured mix of the two, the encoder is saved as safetensors, and the model
    reloads to the same predictions."""
    sample = R._labelled(pd.read_csv(sample_data / "reviews.csv"), CFG)
    cfg = {**CFG, "encoder": {**CFG["encoder"], "epochs": 1, "positive_sample": 20}}
    frame = R.training_frame(sample, R.load_seed_examples(Path(CFG["seed_examples"])))
    model = R.fit_model(frame, cfg, 42)
    texts = sample["text"].tolist()
    parts = model.component_probas(texts)
    blend = cfg["encoder"]["blend"]
    deferred = parts["ngram"].max(axis=1) < cfg["encoder"]["defer_below"]
    expected = np.where(
        deferred[:, None], (1 - blend) * parts["ngram"] + blend * parts["encoder"], parts["ngram"]
    )
    assert np.allclose(model.predict_proba(texts), expected)
    model.save(tmp_path / "m", {})
    assert (tmp_path / "m" / R.ENCODER_DIR / "model.safetensors").exists()
    loaded = R.SentimentModel.load(tmp_path / "m")
    assert list(loaded.predict(texts)) == list(model.predict(texts))
    np.testing.assert_allclose(loaded.predict_proba(texts), model.predict_proba(texts), atol=1e-5)


def test_human_gold_figures_of_a_cascade_print(
    sample_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With an encoder, the gold figures add each half alone and the share sent to the
    encoder, and the console table prints them all."""
    sample = R._labelled(pd.read_csv(sample_data / "reviews.csv"), NGRAM_ONLY)
    model = R.SentimentModel(cfg=NGRAM_ONLY).fit(*R._xy(sample))
    model.cfg = {**NGRAM_ONLY, "encoder": {**CFG["encoder"], "defer_below": 1.0}}
    model.encoder_ = _ConstantEncoder()
    gold = sample.assign(gold_split="test", human_label=sample["label"], source="sample")
    figures = R.human_gold_figures(model, gold, CFG)
    assert {"model", "ngram_alone", "encoder_alone"} <= set(figures["test"])
    assert figures["test"]["encoder_alone"]["per_class"]["negative"]["recall"] == 1.0
    assert figures["test_deferred_to_encoder"] == 1.0
    R.print_human_gold(figures)
    printed = capsys.readouterr().err  # the console writes to stderr
    assert "encoder_alone" in printed and "sent 100.0% of them to the encoder" in printed

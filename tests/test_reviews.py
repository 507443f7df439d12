"""Review sentiment (issue 6): rating mapping, bad input, CLI, and real-data figures."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tiny_models import build_tiny_bert
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.core.config import compose_params, write_params
from pipeline.core.io import InputError
from pipeline.reviews.encoder import ENCODER_DIR, encoder_training_rows
from pipeline.reviews.evaluate import evaluate, human_gold_figures, system_figures
from pipeline.reviews.labels import labelled, load_seed_examples, rating_to_label
from pipeline.reviews.model import (
    SentimentModel,
    fit_model,
    macro_f1_index,
    training_frame,
    tune_offsets,
)
from pipeline.reviews.ngram import SentenceEmbedder
from pipeline.reviews.score import score_reviews, summarise
from pipeline.reviews.sources import build_corpus, parse_agora_feedback
from pipeline.reviews.stage import print_human_gold

CFG = compose_params()["reviews"]
PM5 = CFG["rating_scales"]["pm5"]
NGRAM_ONLY = {**CFG, "encoder": {**CFG["encoder"], "enabled": False}}
SEEDS = load_seed_examples(Path(CFG["seed_examples"]))


@pytest.fixture(scope="module")
def tiny_encoder(tmp_path_factory: pytest.TempPathFactory, sample_data: Path) -> dict:
    """The `reviews` params with the encoder swapped for a tiny BERT built here (vocabulary
    from the sample and seed texts, one layer of width 32): the cascade's whole path,
    fine-tuning, safetensors and reloading, in seconds instead of MiniLM's minutes."""
    texts = [*pd.read_csv(sample_data / "reviews.csv")["text"], *SEEDS["text"]]
    folder = build_tiny_bert(tmp_path_factory.mktemp("tiny-bert"), texts, vocab_size=400)
    encoder = {**CFG["encoder"], "checkpoint": str(folder), "epochs": 1, "positive_sample": 200,
               "learning_rate": 5e-3, "max_length": 32, "languages": []}
    return {**CFG, "encoder": encoder}


def _fit(cfg: dict, frame: pd.DataFrame) -> SentimentModel:
    """A model as `cfg` describes, fitted on texts and labels alone (no tuning groups)."""
    return SentimentModel.from_config(cfg).fit(frame["text"].tolist(), frame["label"].tolist())


@pytest.fixture(scope="module")
def model(sample_data: Path, tiny_encoder: dict) -> SentimentModel:
    """The configured cascade (tiny encoder) trained on the sample and seed examples."""
    sample = labelled(pd.read_csv(sample_data / "reviews.csv"), CFG)
    return fit_model(training_frame(sample, SEEDS), tiny_encoder, 42)


@pytest.mark.parametrize(
    ("rating", "label"),
    [(-5, "negative"), (2, "negative"), (3, "neutral"), (4, "neutral"), (5, "positive")],
)
def test_rating_thresholds(rating: float, label: str) -> None:
    assert rating_to_label(rating, PM5) == label


def test_rating_outside_scale_raises() -> None:
    with pytest.raises(ValueError, match="outside scale"):
        rating_to_label(7, PM5)


def test_converted_rating_off_integer_grid_raises() -> None:
    with pytest.raises(ValueError, match="integer grid"):
        rating_to_label(4.17, PM5)
    assert rating_to_label(7.5, CFG["rating_scales"]["ten"]) == "positive"


def test_tune_offsets_finds_prior_shift() -> None:
    """A rare class the argmax never picks gets a positive offset that recovers it."""
    rng = np.random.default_rng(0)
    y = np.array([0] * 50 + [1] * 50 + [2] * 900)
    proba = np.full((1000, 3), 0.1)
    proba[:, 2] = 0.8
    proba[:50, 0] = 0.5 + rng.uniform(0, 0.2, 50)  # class 0 separable by argmax
    proba[50:100, 1] = 0.4  # class 1 below class 2 (0.8) but above the others' 0.1
    proba /= proba.sum(axis=1, keepdims=True)
    assert macro_f1_index(y, proba.argmax(axis=1), 3) < 0.7
    offsets = tune_offsets(proba, y, np.arange(-2, 2.01, 0.25))
    tuned = (np.log(proba) + offsets).argmax(axis=1)
    assert offsets[2] == 0 and offsets[1] > 0
    assert macro_f1_index(y, tuned, 3) == 1.0


def test_tuned_model_saves_and_loads_offsets(sample_data: Path, tmp_path: Path) -> None:
    sample = labelled(pd.read_csv(sample_data / "reviews.csv"), CFG)
    cfg = {**NGRAM_ONLY, "decision": {**CFG["decision"], "folds": 2}}
    frame = training_frame(sample, None)
    model = fit_model(frame, cfg, 42)
    assert model.offsets_.shape == (3,)
    model.save(tmp_path / "m")
    loaded = SentimentModel.load(tmp_path / "m")
    assert loaded.decision_offsets() == model.decision_offsets()
    texts = sample["text"].tolist()
    assert list(loaded.predict(texts)) == list(model.predict(texts))
    with open(tmp_path / "m" / "model.skops", "ab") as handle:  # the card vouches no more
        handle.write(b"\0")
    with pytest.raises(InputError, match="sha256 differs"):
        SentimentModel.load(tmp_path / "m")


def test_system_figures_both_readings() -> None:
    gold = ["negative", "neutral", "positive", "positive"]
    figures = system_figures(
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
    assert parse_agora_feedback(cell) == [(4, "great stuff")]
    assert parse_agora_feedback("\n    Feedbacks:\n    No feedbacks found.\n") == []


def test_bad_input_defined(model: SentimentModel) -> None:
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
    kept, quarantined = score_reviews(reviews, model, CFG, "pm5")
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


def test_unknown_scale_is_input_error(model: SentimentModel) -> None:
    frame = pd.DataFrame({"review_id": ["a"], "text": ["good"]})
    with pytest.raises(InputError, match="unknown rating scale"):
        score_reviews(frame, model, CFG, "stars")


def test_summaries(model: SentimentModel, sample_data: Path) -> None:
    kept, _ = score_reviews(pd.read_csv(sample_data / "reviews.csv"), model, CFG, "pm5")
    tables = summarise(kept)
    assert {"sentiment_by_vendor", "sentiment_by_country", "negative_review_risks"} <= set(tables)
    risks = tables["negative_review_risks"].set_index("market")
    assert 0 < risks.loc["all", "share_non_delivery_or_scam"] <= 1


def test_cli_train_and_score(tmp_path: Path, sample_data: Path, tiny_encoder: dict) -> None:
    """The commands with the configured cascade (its encoder the tiny BERT): the model
    folder holds both halves and a card vouching for them, and scores what it is given."""
    runner = CliRunner()
    model_dir = tmp_path / "model"
    params = tmp_path / "params.yaml"
    write_params({**compose_params(), "reviews": tiny_encoder}, params)
    result = runner.invoke(
        app,
        ["train-sentiment", str(sample_data / "reviews.csv"), "-o", str(model_dir),
         "--params", str(params)],
    )
    assert result.exit_code == 0, result.output
    card = json.loads((model_dir / "model_card.json").read_text())
    assert {"model.skops", f"{ENCODER_DIR}/model.safetensors"} <= set(card["files"])
    assert card["params"]["encoder"]["checkpoint"] == tiny_encoder["encoder"]["checkpoint"]
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
def test_real_reviews_beat_vader(public_data: Path, tiny_encoder: dict) -> None:
    """Trust reviews only, the cascade's encoder the tiny BERT (the full-size figures are
    the `evaluate_sentiment` DVC stage's): held-out sellers, model ahead of VADER."""
    corpus, _ = build_corpus(
        public_data,
        {"trust": "reviews/trust-in-illicit-markets/darknet_sales_reviews_shared.csv"},
        CFG["rating_scales"],
    )
    metrics = evaluate(corpus, tiny_encoder, 42, SEEDS)
    held = metrics["heldout_sellers"]
    for reading in ("three_class", "negative_vs_positive"):
        assert held["model"][reading]["macro_f1"] > held["vader"][reading]["macro_f1"]
    assert held["model"]["negative_vs_positive"]["macro_f1"] >= 0.75
    json.dumps(metrics)


def test_minilm_model_optional(sample_data: Path, tmp_path: Path) -> None:
    """The optional embedding model: offline MiniLM, normalised vectors, saves via skops
    without the encoder weights, and reloads to the same predictions."""
    vectors = SentenceEmbedder().fit([]).transform(["fast delivery", "nooit ontvangen"] * 2)
    assert vectors.shape == (4, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-4)
    assert np.allclose(vectors[0], vectors[2])
    sample = labelled(pd.read_csv(sample_data / "reviews.csv"), CFG)
    model = _fit({**NGRAM_ONLY, "model": "tfidf_minilm_logreg"}, sample)
    model.save(tmp_path / "m")
    assert (tmp_path / "m" / "model.skops").stat().st_size < 5_000_000
    texts = sample["text"].tolist()
    assert list(SentimentModel.load(tmp_path / "m").predict(texts)) == list(model.predict(texts))


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
    rows = encoder_training_rows(frame, encoder, seed=1)
    rated = rows[~rows["human"] & rows["group"].ne("")]
    assert (rated["label"] == "positive").sum() == 4
    assert (rated["label"] != "positive").sum() == 5
    assert rows["group"].eq("").sum() == 1 and rows["human"].sum() == 2
    # a rated text weighs rating_weight against a person's 1, before class balancing
    assert np.isclose(rated["weight"].iloc[0] / rows.loc[rows["human"], "weight"].iloc[1], 0.3)
    # balanced: each class carries the same total weight
    assert np.allclose(rows.groupby("label")["weight"].sum(), rows["weight"].sum() / 3)
    assert rows.index.equals(encoder_training_rows(frame, encoder, seed=1).index)


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
    sample = labelled(pd.read_csv(sample_data / "reviews.csv"), NGRAM_ONLY)
    model = _fit(NGRAM_ONLY, sample)
    texts = sample["text"].tolist()
    ngram = model.predict_proba(texts)
    top = ngram.max(axis=1)
    defer_below = {"zero": 0.0, "median": float(np.median(top)), "one": 1.0}[threshold]
    model.set_params(encoder={**CFG["encoder"], "defer_below": defer_below, "languages": []})
    model.encoder_ = _ConstantEncoder()
    proba = model.predict_proba(texts)
    unsure = top < defer_below
    assert unsure.sum() == {"zero": 0, "median": len(texts) // 2, "one": len(texts)}[threshold]
    assert len(model.encoder_.seen) == unsure.sum()
    assert model.deferred_share(texts) == pytest.approx(unsure.mean())
    np.testing.assert_allclose(proba[~unsure], ngram[~unsure])
    blend = CFG["encoder"]["blend"]
    np.testing.assert_allclose(proba[unsure, 0], (1 - blend) * ngram[unsure, 0] + blend)


def test_cascade_defers_only_texts_of_the_encoder_languages(sample_data: Path) -> None:
    """With `encoder.languages: [en]` the Dutch and French texts keep the n-gram decision
    however unsure it is."""
    sample = labelled(pd.read_csv(sample_data / "reviews.csv"), NGRAM_ONLY)
    model = _fit(NGRAM_ONLY, sample)
    model.set_params(encoder={**CFG["encoder"], "defer_below": 1.0, "languages": ["en"]})
    model.encoder_ = _ConstantEncoder()
    texts = ["Never received my order, vendor stopped answering",
             "Nooit ontvangen en de vendor reageert niet meer",
             "Colis jamais reçu, le vendeur ne répond plus"]
    model.predict_proba(texts)
    assert model.encoder_.seen == texts[:1]


def test_encoder_blend_on_the_sample(
    model: SentimentModel, sample_data: Path, tmp_path: Path
) -> None:
    """An encoder fine-tuned beside the n-gram model (the tiny BERT, one epoch): the blend
    is the configured mix of the two, the encoder is saved as safetensors, and the model
    reloads to the same predictions."""
    texts = pd.read_csv(sample_data / "reviews.csv")["text"].tolist()
    parts = model.component_probas(texts)
    blend = model.encoder["blend"]
    deferred = parts["ngram"].max(axis=1) < model.encoder["defer_below"]
    expected = np.where(
        deferred[:, None], (1 - blend) * parts["ngram"] + blend * parts["encoder"], parts["ngram"]
    )
    assert np.allclose(model.predict_proba(texts), expected, atol=1e-3)  # batch padding
    model.save(tmp_path / "m")
    assert (tmp_path / "m" / ENCODER_DIR / "model.safetensors").exists()
    loaded = SentimentModel.load(tmp_path / "m")
    assert list(loaded.predict(texts)) == list(model.predict(texts))
    np.testing.assert_allclose(loaded.predict_proba(texts), model.predict_proba(texts), atol=1e-5)


def test_human_gold_figures_of_a_cascade_print(
    sample_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With an encoder, the gold figures add each half alone and the share sent to the
    encoder, and the console table prints them all."""
    sample = labelled(pd.read_csv(sample_data / "reviews.csv"), NGRAM_ONLY)
    model = _fit(NGRAM_ONLY, sample)
    model.set_params(encoder={**CFG["encoder"], "defer_below": 1.0, "languages": []})
    model.encoder_ = _ConstantEncoder()
    gold = sample.assign(gold_split="test", human_label=sample["label"], source="sample")
    figures = human_gold_figures(model, gold, CFG)
    assert {"model", "ngram_alone", "encoder_alone"} <= set(figures["test"])
    assert figures["test"]["encoder_alone"]["per_class"]["negative"]["recall"] == 1.0
    assert figures["test_deferred_to_encoder"] == 1.0
    print_human_gold(figures)
    printed = capsys.readouterr().err  # the console writes to stderr
    assert "encoder_alone" in printed and "sent 100.0% of them to the encoder" in printed

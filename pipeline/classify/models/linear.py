"""The default listing classifier: TF-IDF word and character n-grams, calibrated linear SVM.

Character n-grams (within word boundaries) make it multilingual by construction and robust
to market spelling (`xtc`, `mdma`, `2cb`, `4-mmc`); they are hashed, which predicts about
twice as fast as a vocabulary and keeps the model a fixed size. Sigmoid calibration over
internal folds turns SVM margins into probabilities fit for a review threshold. A text
written mostly in letters the model never saw in training (an unseen script), or with no
letters at all, carries no evidence: it gets the uniform distribution, hence a low
confidence and human review, rather than the class prior dressed up as a confident
answer. Deterministic for a seed.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer, TfidfVectorizer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

from pipeline.classify.models import CLASSIFIERS
from pipeline.core.io import InputError
from pipeline.core.ml.safe_load import load_skops, save_skops

MODEL_FILE = "model.skops"
_LETTER = re.compile(r"[^\W\d_]")
# a letter is part of the model's alphabet when training texts use it this often
MIN_LETTER_COUNT = 5


@CLASSIFIERS.register("linear")
class LinearTextClassifier(ClassifierMixin, BaseEstimator):
    """TF-IDF (word 1-2 grams + char_wb n-grams) -> LinearSVC -> sigmoid calibration."""

    def __init__(
        self,
        word_ngrams: tuple[int, int] = (1, 2),
        char_ngrams: tuple[int, int] = (2, 5),
        word_features: int = 100_000,
        char_hash_bits: int = 18,
        min_df: int = 2,
        C: float = 0.5,
        class_weight: str | None = "balanced",
        calibration_folds: int = 3,
        min_known_share: float = 0.3,
        n_jobs: int = 2,
        seed: int = 42,
    ) -> None:
        self.word_ngrams = word_ngrams
        self.char_ngrams = char_ngrams
        self.word_features = word_features
        self.char_hash_bits = char_hash_bits
        self.min_df = min_df
        self.C = C
        self.class_weight = class_weight
        self.calibration_folds = calibration_folds
        self.min_known_share = min_known_share
        self.n_jobs = n_jobs
        self.seed = seed

    def _pipeline(self) -> Pipeline:
        features = FeatureUnion(
            [
                ("word", TfidfVectorizer(
                    ngram_range=tuple(self.word_ngrams), min_df=self.min_df, sublinear_tf=True,
                    max_features=self.word_features, dtype=np.float32,
                )),
                ("char", Pipeline([
                    ("hash", HashingVectorizer(
                        analyzer="char_wb", ngram_range=tuple(self.char_ngrams),
                        n_features=2**self.char_hash_bits, alternate_sign=False, norm=None,
                        dtype=np.float32,
                    )),
                    ("tfidf", TfidfTransformer(sublinear_tf=True)),
                ])),
            ]
        )
        svm = LinearSVC(C=self.C, class_weight=self.class_weight, random_state=self.seed)
        calibrated = CalibratedClassifierCV(
            svm, method="sigmoid", cv=self.calibration_folds, ensemble=False
        )
        return Pipeline([("features", features), ("clf", calibrated)])

    def fit(self, texts: list[str], labels: list[str]) -> LinearTextClassifier:
        self.pipeline_ = self._pipeline().fit(list(texts), np.asarray(labels))
        self.classes_ = self.pipeline_.classes_
        counts = Counter(_LETTER.findall("".join(texts).casefold()))
        self.alphabet_ = "".join(sorted(c for c, n in counts.items() if n >= MIN_LETTER_COUNT))
        return self

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        """Featurisation (pure-Python n-gram analysis, the slow part) runs in `n_jobs`
        processes on large inputs; the linear algebra stays here."""
        texts = list(texts)
        features, clf = self.pipeline_.named_steps["features"], self.pipeline_.named_steps["clf"]
        if self.n_jobs > 1 and len(texts) >= 5_000:
            size = -(-len(texts) // self.n_jobs)
            parts = Parallel(n_jobs=self.n_jobs)(
                delayed(features.transform)(texts[i : i + size])
                for i in range(0, len(texts), size)
            )
            matrix = sp.vstack(parts).tocsr()
        else:
            matrix = features.transform(texts)
        proba = clf.predict_proba(matrix)
        proba[self.known_share(texts) < self.min_known_share] = 1 / len(self.classes_)
        return proba

    def known_share(self, texts: list[str]) -> np.ndarray:
        """Per text, the share of its letters that belong to the training alphabet
        (0 for a text without letters)."""
        alphabet = set(self.alphabet_)
        shares = np.zeros(len(texts))
        for i, text in enumerate(texts):
            letters = _LETTER.findall(text.casefold())
            if letters:
                shares[i] = sum(c in alphabet for c in letters) / len(letters)
        return shares

    def predict(self, texts: list[str]) -> np.ndarray:
        return self.classes_[self.predict_proba(texts).argmax(axis=1)]

    def save(self, model_dir: Path) -> None:
        # hashed features leave many weights at zero: deflate keeps the file small
        state = {"pipeline": self.pipeline_, "alphabet": self.alphabet_,
                 "min_known_share": self.min_known_share}
        save_skops(state, Path(model_dir) / MODEL_FILE)

    @classmethod
    def load(cls, model_dir: Path) -> LinearTextClassifier:
        """Load without unpickling: only allowlisted types are built."""
        path = Path(model_dir) / MODEL_FILE
        if not path.exists():
            raise InputError(f"{model_dir}: no {MODEL_FILE}")
        state = load_skops(path)
        model = cls(min_known_share=state["min_known_share"])
        model.pipeline_, model.alphabet_ = state["pipeline"], state["alphabet"]
        model.classes_ = model.pipeline_.classes_
        return model

"""The deductive multi-label coder.

Feature blocks chosen by name from config (`patterns`, `tfidf`, `embeddings`) are stacked
and one logistic regression per code (scikit-learn fit/predict) decides presence. Per code,
rows with an unknown label (a browser correction only speaks about one code) are left out
of that code's training set. Word n-grams read negation and hedge scopes ("geen neg_pgp").
An inner cross-validation over the training rows gives out-of-fold probabilities, from
which each code gets a Platt calibration (so a confidence of 0.8 is right about 80% of the
time) and its own threshold (the one with the best kappa); codes of one exclusive group
are never given together. Each assigned code gets a confidence (the calibrated
probability) and an evidence span: the codebook phrase that fired, else the clause that
weighs most for the code.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import cohen_kappa_score
from sklearn.model_selection import KFold

from pipeline.core.codebook import Codebook, load_codebook
from pipeline.core.io import InputError
from pipeline.core.ml import read_card, write_card
from pipeline.core.ml.embeddings import embedding_cache, resolve_encoder
from pipeline.core.ml.safe_load import load_skops, save_skops
from pipeline.core.registry import Registry
from pipeline.themes.patterns import (
    TextMemo,
    affirmed_text,
    mark_scopes,
    pipeline_for,
    shared_matcher,
)

CLAUSE = re.compile(r"[^.!?;,\n]+")
MODEL_NAME = "theme_coder.v1"  # what `model_card.json` says this folder holds
MODEL_FILE, CODEBOOK_FILE = "coder.skops", "codebook.yaml"
THRESHOLD_GRID = np.round(np.arange(0.15, 0.86, 0.05), 2)
MIN_POSITIVES_TO_TUNE = 5  # fewer out-of-fold positives: keep the default threshold
EPS = 1e-6


class TfidfBlock:
    """Word 1-2 grams (over scope-marked tokens) and character 2-5 grams (over the affirmed
    words only): robust to typos, slang and inflection, and to "no PGP"."""

    def __init__(self) -> None:
        self.word = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1)
        self.char = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2
        )

    def fit(self, texts: Sequence[str], langs: Sequence[str]) -> TfidfBlock:
        self.word.fit([mark_scopes(t) for t in texts])
        self.char.fit([affirmed_text(t) for t in texts])
        return self

    def transform(self, texts: Sequence[str], langs: Sequence[str]) -> tuple[sp.csr_matrix, None]:
        words = self.word.transform([mark_scopes(t) for t in texts])
        chars = self.char.transform([affirmed_text(t) for t in texts])
        return sp.hstack([words, chars]).tocsr(), None


class LemmaBlock:
    """Word 1-2 grams over lemmas where a trained spaCy pipeline has them (French:
    "je revends" and "revendre" meet), lower-cased tokens elsewhere."""

    def __init__(self) -> None:
        self.vectorizer = TfidfVectorizer(
            ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"\S+", lowercase=False
        )

    @staticmethod
    def lemmas(texts: Sequence[str], langs: Sequence[str]) -> list[str]:
        return LEMMA_MEMO.get(texts, langs, _lemmas)

    def fit(self, texts: Sequence[str], langs: Sequence[str]) -> LemmaBlock:
        self.vectorizer.fit(self.lemmas(texts, langs))
        return self

    def transform(self, texts: Sequence[str], langs: Sequence[str]) -> tuple[sp.csr_matrix, None]:
        return self.vectorizer.transform(self.lemmas(texts, langs)), None


def _lemmas(texts: Sequence[str], langs: Sequence[str]) -> list[str]:
    out = [""] * len(texts)
    for lang in set(langs):
        nlp = pipeline_for(lang)
        idx = [i for i, lg in enumerate(langs) if lg == lang]
        use_lemma = "lemmatizer" in nlp.pipe_names
        for i, doc in zip(idx, nlp.pipe([texts[i] for i in idx], batch_size=256), strict=True):
            out[i] = " ".join(
                (t.lemma_ if use_lemma else t.text).lower() for t in doc if not t.is_punct
            )
    return out


LEMMA_MEMO = TextMemo()


class PatternBlock:
    """Codebook phrases (plain and negated) per code; its matches give evidence spans."""

    def __init__(self, codebook: Codebook, languages: Sequence[str]) -> None:
        self.matcher = shared_matcher(codebook, languages)

    def fit(self, texts: Sequence[str], langs: Sequence[str]) -> PatternBlock:
        return self

    def transform(self, texts: Sequence[str], langs: Sequence[str]) -> tuple[sp.csr_matrix, list]:
        matches = self.matcher.matches(texts, langs)
        return sp.csr_matrix(self.matcher.features(matches)), matches


class EmbeddingBlock:
    """Sentence embeddings from the offline MiniLM (English-trained; the evaluation reports
    how far it carries Dutch and French), through the kernel's process-wide cache, so
    cross-validation folds and ablations encode each text once."""

    def fit(self, texts: Sequence[str], langs: Sequence[str]) -> EmbeddingBlock:
        return self

    def transform(self, texts: Sequence[str], langs: Sequence[str]) -> tuple[sp.csr_matrix, None]:
        return sp.csr_matrix(embedding_cache(resolve_encoder("")).encode(list(texts))), None


@dataclass
class Features:
    matrix: sp.csr_matrix
    matches: list[list[tuple[str, int, int, bool]]] = field(default_factory=list)


components: Registry = Registry("coder component")
components.register("tfidf")(lambda codebook, languages: TfidfBlock())
components.register("patterns")(PatternBlock)
components.register("lemmas")(lambda codebook, languages: LemmaBlock())
components.register("embeddings")(lambda codebook, languages: EmbeddingBlock())


class ThemeCoder(BaseEstimator):
    """Multi-label coder: `fit(texts, langs, Y)` with Y in {1, 0, -1 unknown}, then
    `predict_proba(texts, langs)` -> calibrated probabilities (n_segments x n_codes) and
    `predict` -> 0/1 codes at each code's threshold. `threshold` is the default threshold,
    `tune_folds` the inner folds that calibrate and tune it per code (0: neither). `training`
    (counts of gold and corrected segments) is recorded in the model card."""

    def __init__(
        self,
        codebook: Codebook | None = None,
        components: tuple[str, ...] = ("patterns", "tfidf"),
        languages: tuple[str, ...] = ("nl", "fr", "en"),
        C: float = 4.0,
        seed: int = 42,
        examples_as_data: bool = True,
        training: dict | None = None,
        threshold: float = 0.5,
        tune_folds: int = 3,
    ) -> None:
        self.codebook = codebook
        self.components = components
        self.languages = languages
        self.C = C
        self.seed = seed
        self.examples_as_data = examples_as_data
        self.training = training
        self.threshold = threshold
        self.tune_folds = tune_folds

    # --- features -------------------------------------------------------------------------
    def _setup(self) -> None:
        self.codebook_ = self.codebook or load_codebook()
        self.codes_ = self.codebook_.ids
        self.exclusive_ = [
            [self.codes_.index(c) for c in group] for group in self.codebook_.exclusive
        ]
        self.calibration_ = np.tile([1.0, 0.0], (len(self.codes_), 1))
        self.thresholds_ = np.full(len(self.codes_), float(self.threshold))
        self.blocks_ = {
            name: components.get(name)(self.codebook_, self.languages) for name in self.components
        }

    def features(self, texts: Sequence[str], langs: Sequence[str]) -> Features:
        texts, langs = list(texts), list(langs)
        blocks, matches = [], []
        self._widths_ = {}
        for name, block in self.blocks_.items():
            matrix, found = block.transform(texts, langs)
            self._widths_[name] = matrix.shape[1]
            blocks.append(matrix)
            matches = found if found is not None else matches
        return Features(sp.hstack(blocks).tocsr(), matches)

    # --- estimator ------------------------------------------------------------------------
    def fit(self, texts: Sequence[str], langs: Sequence[str], labels: np.ndarray) -> ThemeCoder:
        self._setup()
        labels = np.asarray(labels)
        if labels.shape != (len(texts), len(self.codes_)):
            raise ValueError(f"labels must be {len(texts)} x {len(self.codes_)}")
        texts, langs, labels_in = list(texts), list(langs), labels
        if self.examples_as_data:
            ex_texts, ex_langs, ex_labels = self._example_rows()
            texts, langs = texts + ex_texts, langs + ex_langs
            labels = np.vstack([labels, ex_labels])
        for block in self.blocks_.values():
            block.fit(texts, langs)
        X = self.features(texts, langs).matrix
        self.classifiers_: dict[str, LogisticRegression | float] = {}
        for j, code in enumerate(self.codes_):
            known = labels[:, j] >= 0
            y = labels[known, j]
            if len(np.unique(y)) < 2:  # no positive (or no negative) example: a constant
                self.classifiers_[code] = float(y.mean()) if len(y) else 0.0
                continue
            clf = LogisticRegression(
                C=self.C,
                class_weight="balanced",
                max_iter=2000,
                solver="liblinear",
                dual=True,
                random_state=self.seed,
            )
            self.classifiers_[code] = clf.fit(X[known], y)
        if self.tune_folds >= 2:
            self._tune(list(texts[: len(labels_in)]), list(langs[: len(labels_in)]), labels_in)
        return self

    def _tune(self, texts: list[str], langs: list[str], labels: np.ndarray) -> None:
        """Per code, a Platt calibration and a threshold from out-of-fold probabilities of
        an inner cross-validation over the training rows (never the rows they score)."""
        raw = np.zeros(labels.shape)
        folds = KFold(min(self.tune_folds, len(texts)), shuffle=True, random_state=self.seed)
        inner = ThemeCoder(**{**self.get_params(), "tune_folds": 0})
        for train, test in folds.split(texts):
            inner.fit([texts[i] for i in train], [langs[i] for i in train], labels[train])
            raw[test] = inner.predict_proba([texts[i] for i in test], [langs[i] for i in test])
        for j in range(len(self.codes_)):
            known = labels[:, j] >= 0
            y, x = labels[known, j], _logit(raw[known, j])
            if y.sum() < MIN_POSITIVES_TO_TUNE or y.sum() == len(y):
                continue
            platt = LogisticRegression().fit(x.reshape(-1, 1), y)
            self.calibration_[j] = [platt.coef_[0, 0], platt.intercept_[0]]
            calibrated = _sigmoid(self.calibration_[j, 0] * x + self.calibration_[j, 1])
            kappas = np.array([
                cohen_kappa_score(y, (calibrated >= t).astype(int)) for t in THRESHOLD_GRID
            ])
            smooth = np.convolve(np.nan_to_num(kappas), np.ones(3) / 3, mode="same")
            self.thresholds_[j] = float(THRESHOLD_GRID[int(np.argmax(smooth))])

    def _example_rows(self) -> tuple[list[str], list[str], np.ndarray]:
        """The codebook's example phrases as short positive segments of their code: they
        carry the researcher's vocabulary into every language the codebook covers."""
        texts, langs, rows = [], [], []
        for j, code in enumerate(self.codebook_.codes):
            for lang, phrases in code.examples.items():
                for phrase in phrases:
                    texts.append(phrase)
                    langs.append(lang)
                    row = np.zeros(len(self.codes_), dtype=int)
                    row[j] = 1
                    rows.append(row)
        return texts, langs, np.array(rows).reshape(len(rows), len(self.codes_))

    def _proba(self, X: sp.csr_matrix) -> np.ndarray:
        out = np.zeros((X.shape[0], len(self.codes_)))
        for j, code in enumerate(self.codes_):
            clf = self.classifiers_[code]
            out[:, j] = clf if isinstance(clf, float) else clf.predict_proba(X)[:, 1]
        calibrated = _sigmoid(self.calibration_[:, 0] * _logit(out) + self.calibration_[:, 1])
        constant = [isinstance(self.classifiers_[code], float) for code in self.codes_]
        return np.where(constant, out, calibrated)

    def predict_proba(self, texts: Sequence[str], langs: Sequence[str]) -> np.ndarray:
        return self._proba(self.features(texts, langs).matrix)

    def decide(
        self, proba: np.ndarray, threshold: float | None = None, top_threshold: float = 1.0
    ) -> np.ndarray:
        """0/1 codes: each code's tuned threshold (or one `threshold` for all), at most one
        code per exclusive group."""
        limits = self.thresholds_ if threshold is None else threshold
        return decide(proba, limits, top_threshold, self.exclusive_)

    def predict(
        self,
        texts: Sequence[str],
        langs: Sequence[str],
        threshold: float | None = None,
        top_threshold: float = 1.0,
    ) -> np.ndarray:
        return self.decide(self.predict_proba(texts, langs), threshold, top_threshold)

    # --- coding with evidence ---------------------------------------------------------------
    def _clause_evidence(self, text: str, code_index: int) -> tuple[int, int]:
        """The clause whose word/char n-grams weigh most for the code (whole text if one)."""
        clauses = [(m.start(), m.end()) for m in CLAUSE.finditer(text) if m.group().strip()]
        clf = self.classifiers_[self.codes_[code_index]]
        tfidf = self.blocks_.get("tfidf")
        if len(clauses) <= 1 or tfidf is None or isinstance(clf, float):
            stripped = text.strip()
            start = text.find(stripped) if stripped else 0
            return start, start + len(stripped)
        Xc, _ = tfidf.transform([text[a:b] for a, b in clauses], [])
        offset = 0  # the tfidf block's columns start after the blocks before it
        for name in self.blocks_:
            if name == "tfidf":
                break
            offset += self._widths_[name]
        weights = clf.coef_[0, offset : offset + Xc.shape[1]]
        best = int(np.argmax(Xc @ weights))
        a, b = clauses[best]
        while a < b and text[a].isspace():
            a += 1
        return a, b

    def code(
        self,
        texts: Sequence[str],
        langs: Sequence[str],
        threshold: float | None = None,
        top_threshold: float = 1.0,
    ) -> tuple[list[dict], np.ndarray]:
        """Assigned codes (one dict per segment x code, with confidence and evidence span)
        and the full probability matrix (for the review queue). No segments: no codes
        (scikit-learn's transformers refuse a 0-row input)."""
        if not len(texts):
            return [], np.zeros((0, len(self.codes_)))
        feats = self.features(texts, langs)
        proba = self._proba(feats.matrix)
        rows = []
        for i, j in zip(*np.nonzero(self.decide(proba, threshold, top_threshold)), strict=True):
            code = self.codes_[j]
            hits = [
                (a, b)
                for c, a, b, neg in (feats.matches[i] if feats.matches else [])
                if c == code and not neg
            ]
            start, end = hits[0] if hits else self._clause_evidence(texts[i], j)
            rows.append(
                {
                    "row": int(i),
                    "code": code,
                    "confidence": float(proba[i, j]),
                    "start": start,
                    "end": end,
                }
            )
        return rows, proba

    # --- persistence ------------------------------------------------------------------------
    def save(self, model_dir: str | Path) -> Path:
        """Fitted parts as skops (no pickle), the codebook as text, and the model card with
        every file's sha256 (settings, codes, training counts)."""
        import yaml

        model_dir = Path(model_dir)
        state = {
            "classifiers": self.classifiers_,
            "calibration": self.calibration_,
            "thresholds": self.thresholds_,
        }
        if "tfidf" in self.blocks_:
            state["word"], state["char"] = self.blocks_["tfidf"].word, self.blocks_["tfidf"].char
        if "lemmas" in self.blocks_:
            state["lemmas"] = self.blocks_["lemmas"].vectorizer
        save_skops(state, model_dir / MODEL_FILE)
        codebook = {
            "name": self.codebook_.name,
            "codes": [
                {
                    "id": c.id,
                    "definition": c.definition,
                    "include": c.include,
                    "exclude": c.exclude,
                    "examples": c.examples,
                }
                for c in self.codebook_.codes
            ],
            "exclusive": [list(group) for group in self.codebook_.exclusive],
        }
        (model_dir / CODEBOOK_FILE).write_text(
            yaml.safe_dump(codebook, allow_unicode=True, sort_keys=False)
        )
        card = {
            "model": MODEL_NAME,
            "components": list(self.components),
            "languages": list(self.languages),
            "C": self.C,
            "seed": self.seed,
            "threshold": self.threshold,
            "tune_folds": self.tune_folds,
            "codes": self.codes_,
            "thresholds": dict(zip(self.codes_, self.thresholds_.tolist(), strict=True)),
            "widths": self._widths_,
            "training": self.training or {},
        }
        write_card(model_dir, card, markdown=model_card(card))
        return model_dir

    @classmethod
    def load(cls, model_dir: str | Path) -> ThemeCoder:
        """A saved coder, after its card's hashes check out; skops loads only allowlisted
        types, so a tampered or foreign folder is refused rather than trusted."""
        import yaml

        from pipeline.core.codebook import parse_codebook

        model_dir = Path(model_dir)
        if not (model_dir / MODEL_FILE).exists():
            raise InputError(f"{model_dir}: no trained theme coder (run `cryptodrug train-themes`)")
        card = read_card(model_dir)
        if card.get("model") != MODEL_NAME:
            raise InputError(f"{model_dir}: holds {card.get('model')!r}, not a {MODEL_NAME}")
        state = load_skops(model_dir / MODEL_FILE)
        raw = yaml.safe_load((model_dir / CODEBOOK_FILE).read_text())
        coder = cls(
            parse_codebook(raw, str(model_dir)),
            tuple(card["components"]),
            tuple(card["languages"]),
            card["C"],
            card["seed"],
            training=card["training"],
            threshold=card["threshold"],
            tune_folds=card["tune_folds"],
        )
        coder._setup()
        coder.classifiers_ = state["classifiers"]
        coder.calibration_, coder.thresholds_ = state["calibration"], state["thresholds"]
        if "tfidf" in coder.blocks_:
            coder.blocks_["tfidf"].word, coder.blocks_["tfidf"].char = state["word"], state["char"]
        if "lemmas" in coder.blocks_:
            coder.blocks_["lemmas"].vectorizer = state["lemmas"]
        coder._widths_ = card["widths"]
        return coder


def decide(
    proba: np.ndarray,
    threshold: float | np.ndarray = 0.5,
    top_threshold: float = 1.0,
    exclusive: Sequence[Sequence[int]] = (),
) -> np.ndarray:
    """Codes at or above `threshold` (one for all codes, or one per code); the single most
    likely code already from `top_threshold` on, since most answers carry at least one
    code; of each `exclusive` group of code columns only the most likely chosen one."""
    chosen = (proba >= threshold).astype(int)
    if proba.size:
        best = proba.argmax(axis=1)
        sure = proba.max(axis=1) >= top_threshold
        chosen[np.flatnonzero(sure), best[sure]] = 1
    for group in exclusive:
        cols = list(group)
        masked = np.where(chosen[:, cols] == 1, proba[:, cols], -1.0)
        keep = masked.argmax(axis=1)
        chosen[:, cols] = 0
        rows = np.flatnonzero(masked.max(axis=1) >= 0)
        chosen[rows, np.asarray(cols)[keep[rows]]] = 1
    return chosen


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, EPS, 1 - EPS)
    return np.log(p / (1 - p))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def model_card(meta: dict) -> str:
    """The card for people (MODEL_CARD.md): what the coder is, trained on what."""
    counts = meta.get("training", {})
    return (
        "# Theme coder (cryptodrug)\n\n"
        "Multi-label deductive coder for survey and interview answers (SPEC section 6).\n\n"
        f"- components: {', '.join(meta['components'])}\n"
        f"- languages: {', '.join(meta['languages'])}\n"
        f"- one logistic regression per code (C={meta['C']}, class_weight=balanced,"
        f" seed={meta['seed']}), Platt-calibrated with a threshold per code from"
        f" {meta['tune_folds']}-fold inner cross-validation\n"
        f"- trained on: {json.dumps(counts)}\n"
        "- training data: project-written coded segments (data/gold/themes) plus researcher\n"
        "  corrections from `cryptodrug inspect`; no real respondents.\n"
        "- agreement with human codes: reports/metrics/themes.json\n"
    )

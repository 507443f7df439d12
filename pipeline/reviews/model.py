"""The review sentiment model: a registered n-gram pipeline with tuned decision offsets,
optionally cascaded into a fine-tuned transformer encoder; saved as one folder (skops
pipeline, safetensors encoder, model card with every file's sha256)."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from pipeline.core.corpus import has_words
from pipeline.core.io import InputError
from pipeline.core.ml import read_card, write_card
from pipeline.core.ml.safe_load import load_skops, save_skops
from pipeline.reviews.encoder import (
    ENCODER_DIR,
    encoder_training_rows,
    fit_encoder,
    load_encoder,
)
from pipeline.reviews.labels import LANGUAGES, normalise_text
from pipeline.reviews.lexicon import SentimentLexicon
from pipeline.reviews.ngram import SENTIMENT_MODELS

PIPELINE_FILE = "model.skops"
# the keys of the `reviews` params group that are SentimentModel parameters
MODEL_PARAMS = (
    "model", "tfidf", "embedding", "decision", "encoder", "emoji", "max_chars", "lexicon"
)


def macro_f1_index(y: np.ndarray, pred: np.ndarray, k: int) -> float:
    """Macro-F1 over the classes present in `y`, on class indices (fast, for tuning)."""
    cm = np.bincount(y * k + pred, minlength=k * k).reshape(k, k)
    support, predicted = cm.sum(axis=1), cm.sum(axis=0)
    f1 = 2 * np.diag(cm) / np.maximum(support + predicted, 1)
    return float(f1[support > 0].mean())


def tune_offsets(proba: np.ndarray, y: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Per-class offsets on log-probabilities that maximise macro-F1 on `y` (class indices).
    The last class is the reference (offset 0); the grid is searched exhaustively, smallest
    shifts first, so ties keep the offsets closest to the plain argmax."""
    logp = np.log(np.clip(proba, 1e-12, None))
    k = logp.shape[1]
    best, best_f1 = np.zeros(k), macro_f1_index(y, logp.argmax(axis=1), k)
    combos = sorted(itertools.product(grid, repeat=k - 1), key=lambda c: sum(map(abs, c)))
    for combo in combos:
        offsets = np.array([*combo, 0.0])
        f1 = macro_f1_index(y, (logp + offsets).argmax(axis=1), k)
        if f1 > best_f1 + 1e-9:
            best, best_f1 = offsets, f1
    return best


class SentimentModel(ClassifierMixin, BaseEstimator):
    """Text normalisation + a registered n-gram pipeline + per-class decision offsets.

    Parameters
    ----------
    model : name in `SENTIMENT_MODELS`.
    tfidf, embedding : options of that builder (`reviews.tfidf`, `reviews.embedding`).
    decision : offset tuning (`tune`, `tune_on`, `folds`, `grid`); None = plain argmax.
    encoder : with `enabled`, a fine-tuned transformer encoder whose probabilities are
        blended with the n-gram model's (`blend`) for the texts the n-gram model is unsure
        of (top probability below `defer_below`) that are written in one of its
        `languages` (all where absent); it is fine-tuned on texts of those languages only.
    emoji : symbol -> word rewrites; max_chars : characters of a text that are read.
    lexicon : `reviews.lexicon` (`SentimentLexicon`): its cue tokens are appended to the
        text the n-gram model reads; None or `enabled: false` = none.
    seed : random state of every fitted part.

    `sentiment_score` is P(positive) - P(negative), in [-1, 1].
    """

    def __init__(
        self,
        model: str = "tfidf_logreg",
        tfidf: dict[str, Any] | None = None,
        embedding: dict[str, Any] | None = None,
        decision: dict[str, Any] | None = None,
        encoder: dict[str, Any] | None = None,
        emoji: dict[str, str] | None = None,
        max_chars: int = 4000,
        lexicon: dict[str, Any] | None = None,
        seed: int = 42,
    ) -> None:
        self.model = model
        self.tfidf = tfidf
        self.embedding = embedding
        self.decision = decision
        self.encoder = encoder
        self.emoji = emoji
        self.max_chars = max_chars
        self.lexicon = lexicon
        self.seed = seed

    @classmethod
    def from_config(cls, cfg: dict[str, Any], seed: int = 42) -> SentimentModel:
        """The model the `reviews` params group describes."""
        return cls(**{key: cfg[key] for key in MODEL_PARAMS if key in cfg}, seed=seed)

    def _new_pipeline(self) -> Any:
        return SENTIMENT_MODELS.get(self.model)(self.tfidf or {}, self.embedding or {}, self.seed)

    def fit(
        self,
        texts: list[str],
        y: list[str],
        groups: list[str] | None = None,
        sample_weight: list[float] | None = None,
        human: list[bool] | None = None,
        langs: list[str] | None = None,
    ) -> SentimentModel:
        """`groups` (vendor|market per text, "" for texts that always stay in training)
        enable the tuned decision offsets of `decision`; without them: plain argmax.
        `sample_weight` upweights texts; `human` marks human-labelled texts, on which the
        offsets are tuned when `decision.tune_on` is `human`; `langs` (ISO 639-1, "" =
        unknown, then detected) picks the encoder's training texts by language."""
        prepared, labels = self._prepare(texts), np.asarray(y)
        weight = np.ones(len(labels)) if sample_weight is None else np.asarray(sample_weight)
        self.lexicon_ = SentimentLexicon.from_config(self.lexicon)
        cued = self._cued(prepared)
        self.pipeline_ = self._new_pipeline()
        self.pipeline_.fit(cued, labels, clf__sample_weight=weight)
        self.classes_ = np.array(self.pipeline_.classes_)
        self.offsets_ = np.zeros(len(self.classes_))
        self.encoder_ = None
        marked = np.zeros(len(labels), bool) if human is None else np.asarray(human, bool)
        encoder = self.encoder or {}
        if encoder.get("enabled"):
            frame = pd.DataFrame({"text": prepared, "label": labels, "weight": weight,
                                  "human": marked,
                                  "group": groups if groups is not None else "x",
                                  "lang": langs if langs is not None else ""})
            rows = encoder_training_rows(self._in_encoder_languages(frame), encoder, self.seed)
            self.encoder_ = fit_encoder(rows, encoder, self.seed)
            return self  # the blend decides by argmax: the offsets fit the n-gram model alone
        decision = self.decision or {}
        if decision.get("tune") and groups is not None:
            self.offsets_ = self._tuned_offsets(
                cued, labels, np.asarray(groups), decision, weight, marked
            )
        return self

    def _tuned_offsets(
        self,
        prepared: list[str],
        y: np.ndarray,
        groups: np.ndarray,
        decision: dict[str, Any],
        weight: np.ndarray,
        human: np.ndarray,
    ) -> np.ndarray:
        """Out-of-fold probabilities over grouped folds of the grouped texts (sellers never
        straddle a fold), then the offsets that maximise their macro-F1: on the human-labelled
        texts among them with `tune_on: human` (rating labels disagree with what texts say,
        most of all on neutral), else on all of them."""
        from sklearn.model_selection import GroupKFold

        dev, always = np.flatnonzero(groups != ""), np.flatnonzero(groups == "")
        if len(set(groups[dev])) < decision["folds"]:
            return np.zeros(len(self.classes_))
        proba = np.zeros((len(dev), len(self.classes_)))
        for train, held in GroupKFold(n_splits=decision["folds"]).split(dev, groups=groups[dev]):
            rows = np.concatenate([dev[train], always])
            part = self._new_pipeline()
            part.fit([prepared[i] for i in rows], y[rows], clf__sample_weight=weight[rows])
            columns = [list(self.classes_).index(c) for c in part.classes_]
            proba[np.ix_(held, columns)] = part.predict_proba([prepared[i] for i in dev[held]])
        grid = np.arange(
            decision["grid"]["low"], decision["grid"]["high"] + 1e-9, decision["grid"]["step"]
        )
        rows = np.ones(len(dev), bool)
        if decision.get("tune_on") == "human" and human[dev].any():
            rows = human[dev]
        return tune_offsets(proba[rows], np.searchsorted(self.classes_, y[dev][rows]), grid)

    def decision_offsets(self) -> dict[str, float]:
        check_is_fitted(self, "offsets_")
        return {
            str(c): round(float(o), 3) for c, o in zip(self.classes_, self.offsets_, strict=True)
        }

    def _decide(self, proba: np.ndarray) -> np.ndarray:
        return self.classes_[(np.log(np.clip(proba, 1e-12, None)) + self.offsets_).argmax(axis=1)]

    def _prepare(self, texts: list[str]) -> list[str]:
        return [normalise_text(t, self.emoji or {}, self.max_chars) for t in texts]

    def _cued(self, prepared: list[str]) -> list[str]:
        """What the n-gram model reads: the text and its lexicon cues."""
        lexicon = getattr(self, "lexicon_", None)
        return prepared if lexicon is None else lexicon.annotate(prepared)

    def _languages(self, prepared: list[str]) -> np.ndarray:
        from pipeline.core.language import detect_languages

        return np.array(detect_languages(prepared, LANGUAGES) if prepared else [], dtype=object)

    def _in_encoder_languages(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The training texts written in `encoder.languages` (all where it is absent);
        texts of unknown language are detected."""
        wanted = self.encoder.get("languages")
        if not wanted:
            return frame
        lang = frame["lang"].fillna("").astype(str).to_numpy(dtype=object)
        unknown = np.flatnonzero(lang == "")
        lang[unknown] = self._languages([frame["text"].iloc[i] for i in unknown])
        return frame[np.isin(lang, list(wanted))]

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        check_is_fitted(self, "pipeline_")
        return self._proba(self._prepare(texts))

    def _proba(self, prepared: list[str]) -> np.ndarray:
        """The n-gram model's probabilities; with an encoder, the blend for the texts the
        n-gram model is unsure of (top probability below `encoder.defer_below`), a cascade
        that spends encoder time only where it changes decisions."""
        proba = self.pipeline_.predict_proba(self._cued(prepared))
        if self.encoder_ is None:
            return proba
        deferred = np.flatnonzero(self._deferred(proba, prepared))
        if len(deferred):
            blend = float(self.encoder["blend"])
            encoder = self._encoder_proba([prepared[i] for i in deferred])
            proba[deferred] = (1 - blend) * proba[deferred] + blend * encoder
        return proba

    def _deferred(self, ngram_proba: np.ndarray, prepared: list[str]) -> np.ndarray:
        """Which texts go to the encoder: n-gram top probability below `defer_below`
        (1: all), written in one of `encoder.languages` (all where absent)."""
        unsure = ngram_proba.max(axis=1) < float(self.encoder.get("defer_below", 1.0))
        wanted = self.encoder.get("languages")
        if wanted and unsure.any():
            which = np.flatnonzero(unsure)
            unsure[which] = np.isin(self._languages([prepared[i] for i in which]), list(wanted))
        return unsure

    def deferred_share(self, texts: list[str]) -> float:
        """The share of `texts` the cascade sends to the encoder."""
        prepared = self._prepare(texts)
        return float(self._deferred(self.pipeline_.predict_proba(self._cued(prepared)),
                                    prepared).mean())

    def ngram_labels(self, texts: list[str]) -> list[str]:
        """The n-gram half's decisions alone (with the tuned offsets)."""
        check_is_fitted(self, "pipeline_")
        return self._decide(self.pipeline_.predict_proba(self._cued(self._prepare(texts)))).tolist()

    def _encoder_proba(self, prepared: list[str]) -> np.ndarray:
        """The encoder's probabilities in `classes_` order."""
        proba = self.encoder_.predict_proba(prepared)
        return proba[:, [list(self.encoder_.classes_).index(c) for c in self.classes_]]

    def component_probas(self, texts: list[str]) -> dict[str, np.ndarray]:
        """The n-gram model's and the encoder's probabilities, each on its own."""
        prepared = self._prepare(texts)
        return {"ngram": self.pipeline_.predict_proba(self._cued(prepared)),
                "encoder": self._encoder_proba(prepared)}

    def predict(self, texts: list[str]) -> np.ndarray:
        return self._decide(self.predict_proba(texts))

    def score_texts(self, texts: list[str]) -> tuple[list[str], list[float]]:
        """Labels and scores; texts without any word (emoji we do not know, punctuation)
        are neutral with score 0 rather than a guess."""
        check_is_fitted(self, "pipeline_")
        prepared = self._prepare(texts)
        labels = ["neutral"] * len(texts)
        scores = [0.0] * len(texts)
        idx = [i for i, t in enumerate(prepared) if has_words(t)]
        if idx:
            proba = self._proba([prepared[i] for i in idx])
            decided = self._decide(proba)
            cls = list(self.classes_)
            pos = proba[:, cls.index("positive")] if "positive" in cls else np.zeros(len(idx))
            neg = proba[:, cls.index("negative")] if "negative" in cls else np.zeros(len(idx))
            for j, i in enumerate(idx):
                labels[i] = str(decided[j])
                scores[i] = round(float(np.clip(pos[j] - neg[j], -1, 1)), 4)
        return labels, scores

    def save(self, model_dir: Path, about: dict[str, Any] | None = None) -> None:
        """The whole model in `model_dir`: the n-gram pipeline (skops, never pickle), the
        encoder (safetensors) and the model card holding the parameters, the decision
        offsets, `about` (what it was trained on) and every file's sha256."""
        check_is_fitted(self, "pipeline_")
        model_dir = Path(model_dir)
        save_skops(self.pipeline_, model_dir / PIPELINE_FILE)
        if self.encoder_ is not None:
            self.encoder_.save(model_dir / ENCODER_DIR)
        card = {
            **(about or {}),
            "model": self.model,
            "params": self.get_params(),
            "decision_offsets": dict(zip(map(str, self.classes_), self.offsets_.tolist(),
                                         strict=True)),
            "encoder": self.encoder if self.encoder_ is not None else None,
        }
        write_card(model_dir, card)

    @classmethod
    def load(cls, model_dir: Path) -> SentimentModel:
        """A saved model, after its card vouches for every file in the folder."""
        model_dir = Path(model_dir)
        if not (model_dir / PIPELINE_FILE).exists():
            raise InputError(f"{model_dir}: no sentiment model (run `cryptodrug train-sentiment`)")
        card = read_card(model_dir)
        model = cls(**card["params"])
        model.pipeline_ = load_skops(model_dir / PIPELINE_FILE)
        model.classes_ = np.array(model.pipeline_.classes_)
        offsets = card["decision_offsets"]
        model.offsets_ = np.array([offsets[str(c)] for c in model.classes_])
        model.lexicon_ = SentimentLexicon.from_config(model.lexicon)
        model.encoder_ = None
        if card["encoder"] is not None:
            model.encoder_ = load_encoder(model_dir / ENCODER_DIR, model.encoder)
        return model


def _column(frame: pd.DataFrame, name: str, default: object) -> pd.Series:
    return frame.get(name, pd.Series(default, index=frame.index)).fillna(default)


def training_frame(corpus: pd.DataFrame, *extra: pd.DataFrame | None) -> pd.DataFrame:
    """Texts, labels, weights, languages ("" = unknown) and tuning groups (vendor|market;
    "" = the `extra` tables: the seed examples and written reviews, always trained on,
    weighing their `weight` column or 1)."""
    frame = corpus[["text", "label"]].assign(
        group=_column(corpus, "vendor", "").astype(str) + "|"
        + _column(corpus, "market", "").astype(str),
        weight=_column(corpus, "weight", 1.0).astype(float),
        human=_column(corpus, "human", False).astype(bool),
        lang=_column(corpus, "lang", "").astype(str),
    )
    parts = [
        table[["text", "label"]].assign(group="", weight=_column(table, "weight", 1.0)
                                        .astype(float), human=False,
                                        lang=_column(table, "lang", "").astype(str))
        for table in extra if table is not None
    ]
    return pd.concat([frame, *parts], ignore_index=True)


def fit_model(frame: pd.DataFrame, cfg: dict[str, Any], seed: int) -> SentimentModel:
    """A model as `cfg` (the `reviews` group) describes, fitted on a `training_frame`."""
    return SentimentModel.from_config(cfg, seed).fit(
        frame["text"].tolist(),
        frame["label"].tolist(),
        groups=frame["group"].tolist(),
        sample_weight=frame["weight"].tolist(),
        human=frame["human"].tolist(),
        langs=frame["lang"].tolist(),
    )

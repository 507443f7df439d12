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
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from pipeline.io import InputError, quarantine_frame
from pipeline.registry import Registry

LABELS = ("negative", "neutral", "positive")
REVIEW_COLUMNS = ("review_id", "text", "rating", "rating_scale", "vendor", "market", "ships_from")
_WORD = re.compile(r"\w", re.UNICODE)


# --- labels from ratings ---------------------------------------------------------------


def rating_to_label(rating: float, scale: dict[str, float]) -> str:
    """Map a rating on a configured scale to a label; ValueError when outside the scale."""
    if not scale["min"] <= rating <= scale["max"]:
        raise ValueError(f"rating {rating:g} outside scale [{scale['min']:g}, {scale['max']:g}]")
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


# --- sources of labelled reviews -------------------------------------------------------

SOURCES: Registry[Callable[[Path], pd.DataFrame]] = Registry("review source")

_AGORA_ENTRY = re.compile(r"^\s*(\d+)/5\s*\n[ \t]*(.*?)\s*\n\s*\n\s*\n\s*[^\n]*\bago\b", re.M)


def parse_agora_feedback(raw: str) -> list[tuple[int, str]]:
    """Agora's feedback cell -> [(score 0..5, text)]; the page layout is fixed."""
    return [(int(m.group(1)), m.group(2).strip()) for m in _AGORA_ENTRY.finditer(str(raw))]


@SOURCES.register("canonical")
def load_canonical(path: Path) -> pd.DataFrame:
    """A table already in the review schema (review_id, text, optional rating ...)."""
    from pipeline.io import read_table

    frame = read_table(path)
    missing = {"review_id", "text"} - set(frame.columns)
    if missing:
        raise InputError(f"{path}: review table lacks column(s) {', '.join(sorted(missing))}")
    frame = frame.copy()
    frame["source"] = Path(path).stem
    return frame


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


@dataclass
class SentimentModel(BaseEstimator, ClassifierMixin):
    """Text normalisation + a registered sklearn pipeline; `sentiment_score` is
    P(positive) - P(negative), in [-1, 1]."""

    cfg: dict[str, Any] = field(default_factory=dict)
    seed: int = 42

    def fit(self, texts: list[str], y: list[str]) -> SentimentModel:
        self.pipeline_ = MODELS.get(self.cfg["model"])(self.cfg, self.seed)
        self.pipeline_.fit(self._prepare(texts), list(y))
        self.classes_ = np.array(self.pipeline_.classes_)
        return self

    def _prepare(self, texts: list[str]) -> list[str]:
        return [normalise_text(t, self.cfg["emoji"], self.cfg["max_chars"]) for t in texts]

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        return self.pipeline_.predict_proba(self._prepare(texts))

    def predict(self, texts: list[str]) -> np.ndarray:
        return self.classes_[self.predict_proba(texts).argmax(axis=1)]

    def score_texts(self, texts: list[str]) -> tuple[list[str], list[float]]:
        """Labels and scores; texts without any word (emoji we do not know, punctuation)
        are neutral with score 0 rather than a guess."""
        prepared = self._prepare(texts)
        labels = ["neutral"] * len(texts)
        scores = [0.0] * len(texts)
        idx = [i for i, t in enumerate(prepared) if has_words(t)]
        if idx:
            proba = self.pipeline_.predict_proba([prepared[i] for i in idx])
            cls = list(self.classes_)
            pos = proba[:, cls.index("positive")] if "positive" in cls else 0.0
            neg = proba[:, cls.index("negative")] if "negative" in cls else 0.0
            for j, i in enumerate(idx):
                labels[i] = str(self.classes_[proba[j].argmax()])
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
        (model_dir / "config.json").write_text(
            json.dumps({"cfg": self.cfg, "seed": self.seed}, indent=2, ensure_ascii=False)
        )
        (model_dir / "model_card.json").write_text(json.dumps(card, indent=2, ensure_ascii=False))

    @classmethod
    def load(cls, model_dir: Path) -> SentimentModel:
        import skops.io as sio

        model_dir = Path(model_dir)
        if not (model_dir / "model.skops").exists():
            raise InputError(f"{model_dir}: no sentiment model (run `cryptodrug train-sentiment`)")
        meta = json.loads((model_dir / "config.json").read_text())
        model = cls(cfg=meta["cfg"], seed=meta["seed"])
        path = model_dir / "model.skops"
        model.pipeline_ = sio.load(path, trusted=sio.get_untrusted_types(file=path))
        model.classes_ = np.array(model.pipeline_.classes_)
        return model


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
    missing = {"review_id", "text"} - set(reviews.columns)
    if missing:
        raise InputError(f"reviews lack column(s) {', '.join(sorted(missing))}")
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


def vader_labels(texts: list[str], thresholds: dict[str, float]) -> list[str]:
    """VADER compound score with the usual +-0.05 cut-offs."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyser = SentimentIntensityAnalyzer()
    out = []
    for text in texts:
        compound = analyser.polarity_scores(text)["compound"]
        out.append(
            "positive"
            if compound >= thresholds["pos"]
            else "negative"
            if compound <= thresholds["neg"]
            else "neutral"
        )
    return out


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
        # negative vs positive only (a neutral prediction counts as a miss): the polarity a
        # rating-derived neutral class, rare and noisy, cannot blur
        "polarity_macro_f1": round(
            float(
                f1_score(
                    y_true,
                    y_pred,
                    labels=["negative", "positive"],
                    average="macro",
                    zero_division=0,
                )
            ),
            4,
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


def training_frame(corpus: pd.DataFrame, seeds: pd.DataFrame | None) -> pd.DataFrame:
    frame = corpus[["text", "label"]]
    return (
        pd.concat([frame, seeds[["text", "label"]]], ignore_index=True)
        if seeds is not None
        else frame
    )


def evaluate(
    corpus: pd.DataFrame,
    cfg: dict[str, Any],
    seed: int,
    seeds: pd.DataFrame | None,
    multilingual: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """Held-out sellers (grouped split), crossed markets, VADER on the same English
    test reviews, and the project's invented multilingual reviews per language."""
    from sklearn.model_selection import GroupShuffleSplit

    metrics: dict[str, Any] = {"label_counts": corpus["label"].value_counts().to_dict()}
    split = GroupShuffleSplit(n_splits=1, test_size=cfg["eval"]["test_size"], random_state=seed)
    train_idx, test_idx = next(
        split.split(corpus, groups=corpus["vendor"] + "|" + corpus["market"])
    )
    train, test = corpus.iloc[train_idx], corpus.iloc[test_idx]
    model = SentimentModel(cfg=cfg, seed=seed).fit(*_xy(training_frame(train, seeds)))
    predicted, _ = model.score_texts(test["text"].tolist())
    vader = vader_labels(test["text"].tolist(), cfg["vader_thresholds"])
    metrics["heldout_sellers"] = {
        "train_reviews": len(train),
        "sellers_held_out": int(test["vendor"].nunique()),
        "model": classification_figures(test["label"].tolist(), predicted),
        "vader": classification_figures(test["label"].tolist(), vader),
        "by_market": {
            market: {
                "model": classification_figures(
                    part["label"].tolist(), [predicted[test.index.get_loc(i)] for i in part.index]
                ),
                "vader": classification_figures(
                    part["label"].tolist(), [vader[test.index.get_loc(i)] for i in part.index]
                ),
            }
            for market, part in test.groupby("market")
        },
    }
    markets = sorted(corpus["market"].unique())
    if len(markets) > 1:
        metrics["heldout_markets"] = {}
        for held in markets:
            tr, te = corpus[corpus["market"] != held], corpus[corpus["market"] == held]
            cross = SentimentModel(cfg=cfg, seed=seed).fit(*_xy(training_frame(tr, seeds)))
            metrics["heldout_markets"][held] = {
                "model": classification_figures(
                    te["label"].tolist(), cross.score_texts(te["text"].tolist())[0]
                ),
                "vader": classification_figures(
                    te["label"].tolist(), vader_labels(te["text"].tolist(), cfg["vader_thresholds"])
                ),
            }
    if multilingual is not None and len(multilingual):
        metrics["multilingual_sample"] = _by_language(model, multilingual, cfg)
    return metrics


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
    from pipeline.io import write_with_quarantine

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
    from pipeline.io import console, read_table

    cfg = review_config(params)
    corpus = _labelled(read_table(corpus_path), cfg)
    seeds = load_seed_examples(Path(cfg["seed_examples"]))
    train = training_frame(corpus, seeds)
    model = SentimentModel(cfg=cfg, seed=params.get("seed", 42)).fit(*_xy(train))
    card = {
        "task": "review sentiment (negative/neutral/positive)",
        "model": cfg["model"],
        "trained_on": str(corpus_path),
        "reviews": len(corpus),
        "seed_examples": len(seeds),
        "label_counts": train["label"].value_counts().to_dict(),
        "rating_scales": cfg["rating_scales"],
        "evaluation": "reports/metrics/sentiment.json (`cryptodrug evaluate-sentiment`)",
    }
    model.save(model_dir, card)
    console.print(f"sentiment model: {len(train)} texts -> {model_dir}")


def run_evaluate(
    corpus_path: Path, out: Path, params: dict[str, Any], multilingual: Path | None
) -> dict[str, Any]:
    from pipeline.io import console, read_table

    cfg = review_config(params)
    corpus = _labelled(read_table(corpus_path), cfg)
    seeds = load_seed_examples(Path(cfg["seed_examples"]))
    extra = _labelled(read_table(multilingual), cfg) if multilingual else None
    metrics = evaluate(corpus, cfg, params.get("seed", 42), seeds, extra)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(metrics, indent=2))
    held = metrics["heldout_sellers"]
    console.print("held-out sellers         macro-F1  polarity-F1  kappa   n")
    for name in ("model", "vader"):
        m = held[name]
        console.print(
            f"  {name:<22} {m['macro_f1']:.3f}     {m['polarity_macro_f1']:.3f}        "
            f"{m['kappa']:.3f}  {m['n']}"
        )
    for market, figures in metrics.get("heldout_markets", {}).items():
        console.print(
            f"held-out market {market:<9} model {figures['model']['macro_f1']:.3f} / "
            f"VADER {figures['vader']['macro_f1']:.3f} macro-F1"
        )
    for lang, m in metrics.get("multilingual_sample", {}).items():
        console.print(f"multilingual sample {lang:<4} macro-F1 {m['macro_f1']:.3f} (n={m['n']})")
    return metrics


def run_sentiment(
    inp: Path,
    out: Path,
    params: dict[str, Any],
    model_dir: Path,
    scale: str | None,
    summary_dir: Path | None,
) -> dict[str, int]:
    from pipeline.io import read_table, write_table, write_with_quarantine

    cfg = review_config(params)
    reviews = read_table(inp)
    model = SentimentModel.load(model_dir)
    kept, quarantined = score_reviews(reviews, model, cfg, scale or cfg["default_scale"])
    counts = write_with_quarantine(kept, quarantined, out, len(reviews), "reviews")
    if summary_dir is not None:
        for name, table in summarise(kept).items():
            write_table(table, Path(summary_dir) / f"{name}.parquet")
    return counts

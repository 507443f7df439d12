"""Evaluation of review sentiment: held-out sellers and markets against VADER (the lexicon
a researcher would otherwise reach for), the multilingual seed-style sample per language,
and the human-labelled gold with its second annotator."""

from __future__ import annotations

from typing import Any

import pandas as pd
from joblib import Parallel, delayed

from pipeline.core.io import InputError
from pipeline.core.language import detect_languages
from pipeline.core.metrics import kappa, per_class_figures, rounded
from pipeline.reviews.gold import gold_weights, with_human_labels
from pipeline.reviews.labels import LABELS, LANGUAGES
from pipeline.reviews.model import SentimentModel, fit_model, training_frame


def vader_compound(texts: list[str]) -> list[float]:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyser = SentimentIntensityAnalyzer()
    return [analyser.polarity_scores(text)["compound"] for text in texts]


def vader_from_compound(compounds: list[float], thresholds: dict[str, float]) -> list[str]:
    """VADER labels from compound scores with the configured (usually +-0.05) cut-offs."""
    return [
        "positive"
        if c >= thresholds["pos"]
        else ("negative" if c <= thresholds["neg"] else "neutral")
        for c in compounds
    ]


def classification_figures(y_true: list[str], y_pred: list[str]) -> dict[str, Any]:
    """Macro-F1, accuracy, per-class precision/recall/F1, Cohen's kappa, n."""
    from sklearn.metrics import accuracy_score, f1_score

    labels = [lab for lab in LABELS if lab in set(y_true) | set(y_pred)]
    present = [lab for lab in LABELS if lab in set(y_true)]
    return {
        "n": len(y_true),
        "macro_f1": rounded(
            f1_score(y_true, y_pred, labels=present, average="macro", zero_division=0)
        ),
        "accuracy": rounded(accuracy_score(y_true, y_pred)) if y_true else 0.0,
        "kappa": kappa(y_true, y_pred),
        "per_class": per_class_figures(labels, y_true, y_pred, labels=labels),
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


def _model_and_vader(
    model: SentimentModel, part: pd.DataFrame, cfg: dict[str, Any], per_market: bool = False
) -> dict[str, dict[str, Any]]:
    """`system_figures` of the model and of VADER on the same reviews, overall and, with
    `per_market`, per market (`by_market`)."""
    texts = part["text"].tolist()
    predicted, scores = model.score_texts(texts)
    compound = vader_compound(texts)
    vader = vader_from_compound(compound, cfg["vader_thresholds"])
    scored = part.assign(model=predicted, model_score=scores, vader=vader, vader_score=compound)

    def figures(rows: pd.DataFrame) -> dict[str, dict[str, Any]]:
        gold = rows["label"].tolist()
        return {
            name: system_figures(gold, rows[name].tolist(), rows[f"{name}_score"].tolist())
            for name in ("model", "vader")
        }

    out = figures(scored)
    if per_market:
        out["by_market"] = {market: figures(rows) for market, rows in scored.groupby("market")}
    return out


def heldout_seller_split(
    corpus: pd.DataFrame, seed: int, test_size: float
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train, test) rows of the held-out-seller split, grouped by vendor|market so no
    seller straddles it; the annotation draws human labels from the same train side."""
    from sklearn.model_selection import GroupShuffleSplit

    split = GroupShuffleSplit(n_splits=1, test_size=test_size, random_state=seed)
    train_idx, test_idx = next(
        split.split(corpus, groups=corpus["vendor"] + "|" + corpus["market"])
    )
    return corpus.iloc[train_idx], corpus.iloc[test_idx]


def evaluate(
    corpus: pd.DataFrame,
    cfg: dict[str, Any],
    seed: int,
    seeds: pd.DataFrame | None,
    multilingual: pd.DataFrame | None = None,
    human: pd.DataFrame | None = None,
    blind: tuple[pd.DataFrame, int] | None = None,
    written: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """Held-out sellers (grouped split), crossed markets, VADER on the same English
    test reviews, the project's invented multilingual reviews per language, the
    human-labelled gold `human` (`load_human_gold`, indexed like `corpus`): its train part is
    trained on, its test part (the held-out sellers' reviews) only scored, and a blind set
    (`read_blind_reviews`), scored by the held-out-seller model. The seed examples and
    the `written` reviews (`load_written`) are always trained on.

    The encoder is fine-tuned once per run, for the held-out-seller model; the crossed
    markets refit the n-gram model alone (`n_gram_only`): each fine-tuning costs minutes."""
    weight, rating_weight = gold_weights(cfg)

    def fit_on(train: pd.DataFrame, settings: dict[str, Any] = cfg) -> SentimentModel:
        return fit_model(
            training_frame(with_human_labels(train, human, weight, rating_weight), seeds,
                           written),
            settings, seed,
        )

    metrics: dict[str, Any] = {"label_counts": corpus["label"].value_counts().to_dict()}
    train, test = heldout_seller_split(corpus, seed, cfg["eval"]["test_size"])
    if human is not None:
        moved = human["gold_split"].eq("test") != human.index.isin(test.index)
        if moved.any():
            raise InputError(
                f"human gold: {int(moved.sum())} labelled reviews changed sides of the "
                f"held-out-seller split (e.g. {human.loc[moved, 'review_id'].iloc[0]}): the "
                "corpus, `reviews.eval` or `seed` differ from when the gold was drawn"
            )
    model = fit_on(train)
    metrics["heldout_sellers"] = {
        "train_reviews": len(train),
        "sellers_held_out": int(test["vendor"].nunique()),
        "decision_offsets": model.decision_offsets(),
        **_model_and_vader(model, test, cfg, per_market=True),
    }
    markets = sorted(corpus["market"].unique())
    if len(markets) > 1:
        def held_out(held: str) -> dict[str, Any]:
            return _model_and_vader(fit_on(corpus[corpus["market"] != held], n_gram_only(cfg)),
                                    corpus[corpus["market"] == held], cfg)

        # one worker process per market (`eval.n_jobs`): the refits are independent
        figures = Parallel(n_jobs=cfg["eval"].get("n_jobs", 1))(
            delayed(held_out)(held) for held in markets)
        metrics["heldout_markets"] = dict(zip(markets, figures, strict=True))
        metrics["heldout_markets_model"] = "n-gram model alone (the encoder is fine-tuned once)"
    if multilingual is not None and len(multilingual):
        metrics["multilingual_sample"] = by_language(model, multilingual)
    metrics["human_gold"] = (
        human_gold_figures(model, human, cfg)
        if human is not None
        else {"skipped": "no human-labelled review in this corpus (public data absent)"}
    )
    if blind is not None:
        metrics["blind"] = blind_figures(model, blind[0], cfg, blind[1])
    return metrics


def n_gram_only(cfg: dict[str, Any]) -> dict[str, Any]:
    """`cfg` with the encoder switched off."""
    return {**cfg, "encoder": {**cfg.get("encoder", {}), "enabled": False}}


def human_gold_figures(
    model: SentimentModel, gold: pd.DataFrame, cfg: dict[str, Any]
) -> dict[str, Any]:
    """The model and VADER against human labels on the gold test part, and how far the
    rating-derived labels agree with the human ones (their kappa measures label noise)."""
    test = gold[gold["gold_split"].eq("test")]
    human = test["human_label"].tolist()
    texts = test["text"].tolist()
    predicted = model.score_texts(texts)[0]
    vader = vader_from_compound(vader_compound(texts), cfg["vader_thresholds"])
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


def second_pass_figures(
    first: list[str], second: list[str], model: list[str], vader: list[str]
) -> dict[str, Any]:
    """Inter-annotator agreement (A2 scored against A1: kappa, macro-F1, per class), the
    model and VADER against A2, and the model on the reviews both annotators label alike:
    the human ceiling against which the model's figure is read."""
    agreed = [i for i, (a, b) in enumerate(zip(first, second, strict=True)) if a == b]
    return {
        "n": len(second),
        "observed_agreement": rounded(len(agreed) / len(second)) if second else 0.0,
        "a2_vs_a1": classification_figures(first, second),
        "model_vs_a1": classification_figures(first, model),
        "model_vs_a2": classification_figures(second, model),
        "vader_vs_a2": classification_figures(second, vader),
        "model_on_agreed": classification_figures(
            [first[i] for i in agreed], [model[i] for i in agreed]
        ),
    }


def by_language(model: SentimentModel, frame: pd.DataFrame) -> dict[str, Any]:
    """Figures on every labelled review and per detected language (en/nl/fr/de)."""
    texts = frame["text"].tolist()
    frame = frame.assign(
        lang=detect_languages(texts, LANGUAGES), predicted=model.score_texts(texts)[0]
    )
    out = {"all": classification_figures(frame["label"].tolist(), frame["predicted"].tolist())}
    for lang, part in frame.groupby("lang"):
        out[lang] = classification_figures(part["label"].tolist(), part["predicted"].tolist())
    return out


def blind_figures(
    model: SentimentModel, blind: pd.DataFrame, cfg: dict[str, Any], unlabelled: int
) -> dict[str, Any]:
    """The model and VADER against the resolved label of a blind set (`read_blind_reviews`)
    on all of it and per language, beside A2 against A1 on the reviews both labelled; with
    an encoder, the n-gram half alone too (which language the encoder helps)."""
    texts = blind["text"].tolist()
    scored = blind.assign(
        model=model.score_texts(texts)[0],
        vader=vader_from_compound(vader_compound(texts), cfg["vader_thresholds"]),
    )
    if getattr(model, "encoder_", None) is not None:
        scored["ngram_alone"] = model.ngram_labels(texts)
    systems = [name for name in ("model", "vader", "ngram_alone") if name in scored]
    out: dict[str, Any] = {"unlabelled_reviews": unlabelled}
    for lang, part in [("all", scored), *scored.groupby("lang")]:
        both = part[part["A1"].ne("") & part["A2"].ne("")]
        out[str(lang)] = {
            "n": len(part),
            **{name: classification_figures(part["gold"].tolist(), part[name].tolist())
               for name in systems},
            "a2_vs_a1": (classification_figures(both["A1"].tolist(), both["A2"].tolist())
                         if len(both) else {"n": 0}),
        }
    return out

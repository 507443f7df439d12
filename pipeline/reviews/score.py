"""Scoring reviews with a sentiment model, the aspects they mention, and the summaries
the report shows (per vendor, per shipping country, the risks in negative reviews)."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from pipeline.core.corpus import split_by_reason
from pipeline.core.io import InputError, require_columns
from pipeline.reviews.labels import rating_to_label
from pipeline.reviews.model import SentimentModel


def _rating_labels(
    frame: pd.DataFrame, scales: dict[str, dict], scale_name: str, reasons: pd.Series
) -> list[str]:
    """Label of each row's rating on its scale ("" where it has none); a rating that no
    scale accepts puts its reason into `reasons`. A `rating_scale` column (mixed corpora)
    overrides the scale given for the file."""
    row_scales = frame.get("rating_scale", pd.Series("", index=frame.index))
    labels: list[str] = []
    for i, rating in frame["rating"].items():
        if rating is None or (isinstance(rating, float) and np.isnan(rating)) or rating == "":
            labels.append("")
            continue
        name = row_scales[i] if isinstance(row_scales[i], str) and row_scales[i] else scale_name
        try:
            labels.append(rating_to_label(float(rating), scales[name]))
        except (TypeError, ValueError, KeyError) as err:
            labels.append("")
            reasons[i] = reasons[i] or f"bad rating: {err}"
    return labels


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
        frame["rating_label"] = _rating_labels(frame, scales, scale_name, reasons)
    kept, quarantined = split_by_reason(frame, reasons)
    labels, scores = model.score_texts(kept["text"].tolist())
    kept["sentiment"] = labels
    kept["sentiment_score"] = scores
    kept["aspects"] = find_aspects(kept["text"].tolist(), cfg["aspects"], cfg["max_chars"])
    return kept, quarantined


def find_aspects(
    texts: list[str], aspects: dict[str, list[str]], max_chars: int
) -> list[list[str]]:
    """Which configured aspects (non_delivery, scam, stealth ...) each text mentions."""
    compiled = {
        name: re.compile("|".join(f"(?:{p})" for p in pats), re.I) for name, pats in aspects.items()
    }
    return [[name for name, rx in compiled.items() if rx.search(t[:max_chars])] for t in texts]


def _share(flags: pd.Series) -> float:
    return round(float(flags.mean()), 4) if len(flags) else 0.0


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
                "share_non_delivery": _share(g["non_delivery"]),
                "share_scam": _share(g["scam"]),
                "share_non_delivery_or_scam": _share(g["non_delivery"] | g["scam"]),
            }
            for name, g in groups
        ]
    )
    return out

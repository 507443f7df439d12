"""Sentiment labels of reviews: ratings mapped to labels by configured scales, the text
normalisation every model reads through, and the project's own seed examples."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from pipeline.core.io import InputError

LABELS = ("negative", "neutral", "positive")


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


def labelled(corpus: pd.DataFrame, cfg: dict[str, Any]) -> pd.DataFrame:
    """A corpus with `label` (derived from ratings on `cfg.rating_scales` when absent),
    `vendor` and `market` (blank where unknown)."""
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
    for column in ("vendor", "market"):
        out[column] = out.get(column, pd.Series("", index=out.index)).fillna("").astype(str)
    return out


def load_seed_examples(path: Path) -> pd.DataFrame:
    """The project's own labelled multilingual examples (conf/reviews/seed_reviews.csv)."""
    seeds = pd.read_csv(path, dtype=str, keep_default_na=False)
    return seeds.assign(review_id=[f"seed:{i}" for i in seeds.index], vendor="", market="seed")

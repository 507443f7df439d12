"""Sentiment labels of reviews: ratings mapped to labels by configured scales, the text
normalisation every model reads through, and the project's own seed examples."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from pipeline.core.io import InputError

LABELS = ("negative", "neutral", "positive")
LANGUAGES = ("en", "nl", "fr", "de")  # lingua restricted to them: 30/30 in STACK.md


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


WRITTEN_COLUMNS = ("review_id", "lang", "text", "sentiment")


def load_written(folder: Path | None, weight: float = 1.0) -> pd.DataFrame | None:
    """Labelled reviews written for the project by independent writers
    (data/gold/sentiment/written/<writer>.csv: review_id, lang, text, sentiment), always
    trained on at `weight`; None where no folder is configured. A file with a missing
    column, an unknown label or language, an empty text or a repeated id is an InputError."""
    if not folder:
        return None
    files = sorted(Path(folder).glob("*.csv"))
    if not files:
        raise InputError(f"{folder}: no written reviews (`reviews.written.folder`)")
    frames = []
    for path in files:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
        missing = [c for c in WRITTEN_COLUMNS if c not in table]
        if missing:
            raise InputError(f"{path}: written reviews lack column(s) {', '.join(missing)}")
        bad = (~table["sentiment"].isin(LABELS) | ~table["lang"].isin(LANGUAGES)
               | table["text"].str.strip().eq("") | table["review_id"].duplicated())
        if bad.any():
            raise InputError(f"{path}: review {table.loc[bad, 'review_id'].iloc[0]}: needs a "
                             f"unique id, a text, a language of {', '.join(LANGUAGES)} and a "
                             f"sentiment of {', '.join(LABELS)}")
        frames.append(table.assign(writer=path.stem))
    written = pd.concat(frames, ignore_index=True)
    return written.assign(label=written["sentiment"], weight=float(weight), vendor="",
                          market="written")

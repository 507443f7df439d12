"""Prediction: each listing's most probable category, its calibrated confidence, and the
low-confidence rows a person should review."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pandas as pd

from pipeline.classify.labels import listing_text
from pipeline.core.io import InputError

NO_TEXT_REASON = "no title or description to classify"


def predict_categories(model: Any, texts: pd.Series, batch_size: int = 20_000,
                       progress: Callable[[Iterable], Iterable] = iter) -> pd.DataFrame:
    """`category` (the most probable id) and `category_confidence` (its calibrated
    probability) for each text, in batches."""
    categories, confidences = [], []
    starts = range(0, len(texts), batch_size)
    for start in progress(starts):
        proba = model.predict_proba(texts.iloc[start : start + batch_size].tolist())
        best = proba.argmax(axis=1)
        categories.append(np.asarray(model.classes_)[best])
        confidences.append(proba[np.arange(len(best)), best])
    if not categories:
        return pd.DataFrame({"category": pd.Series(dtype=str),
                             "category_confidence": pd.Series(dtype=float)}, index=texts.index)
    return pd.DataFrame(
        {"category": np.concatenate(categories).astype(str),
         "category_confidence": np.concatenate(confidences).astype(float).round(4)},
        index=texts.index,
    )


def classify_listings(
    listings: pd.DataFrame, model: Any, max_chars: int = 1000,
    progress: Callable[[Iterable], Iterable] = iter,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Listings + category + category_confidence, and the rows set aside (no text at all)."""
    if "title" not in listings:
        raise InputError("input has no `title` column: not canonical listings")
    texts = listing_text(listings, max_chars)
    empty = texts.eq("")
    quarantined = listings[empty].assign(reason=NO_TEXT_REASON)
    kept = listings[~empty].copy()
    predicted = predict_categories(model, texts[~empty], progress=progress)
    kept["category"] = predicted["category"]
    kept["category_confidence"] = predicted["category_confidence"]
    return kept, quarantined


def review_threshold(model_cfg: dict[str, Any]) -> float:
    """The calibrated confidence below which `classify` sends a listing to human review
    (`model.review_threshold`); the evaluation reports its figures at the same one."""
    return float(model_cfg.get("review_threshold", 0.5))


def review_queue(classified: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """Listings whose confidence is below `threshold`: exported for human review."""
    return classified[classified["category_confidence"] < threshold].sort_values(
        "category_confidence"
    )

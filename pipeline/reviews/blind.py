"""Blind evaluation of review sentiment (issue 15): reviews written and labelled by
annotators who never saw the training data, the rules or the models. The model and VADER
are scored against the resolved label (`gold`) per language, beside the annotators' own
agreement (A2 against A1: the ceiling a model can be expected to reach)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipeline.core.blind import BLIND_CODERS, labels_by_coder
from pipeline.core.io import InputError, require_columns
from pipeline.reviews.labels import LABELS

REVIEWS_FILE, LABELS_FILE = "reviews.csv", "labels.csv"


def read_blind_reviews(folder: Path) -> tuple[pd.DataFrame, int]:
    """(`review_id, lang, text, A1, A2, gold` per review with a gold label, the number of
    reviews without one). A missing file or column, an unknown coder or label, a review
    labelled twice by one coder or a label on a review not in `reviews.csv` is an
    InputError: a blind figure is only worth reading when every label is accounted for."""
    folder = Path(folder)
    for name in (REVIEWS_FILE, LABELS_FILE):
        if not (folder / name).is_file():
            raise InputError(f"{folder / name}: blind sentiment set file not found")
    reviews = pd.read_csv(folder / REVIEWS_FILE, dtype=str, keep_default_na=False)
    labels = pd.read_csv(folder / LABELS_FILE, dtype=str, keep_default_na=False)
    require_columns(reviews, ("review_id", "lang", "text"), folder / REVIEWS_FILE, what="review")
    require_columns(labels, ("review_id", "coder", "sentiment"), folder / LABELS_FILE,
                    what="label")
    if reviews["review_id"].duplicated().any():
        raise InputError(f"{folder / REVIEWS_FILE}: review_id "
                         f"{reviews.loc[reviews['review_id'].duplicated(), 'review_id'].iloc[0]}"
                         " appears twice")
    labels = labels.assign(sentiment=labels["sentiment"].str.strip().str.lower(),
                           coder=labels["coder"].str.strip())
    wide = labels_by_coder(labels, "review_id", "sentiment", folder / LABELS_FILE, "review",
                           lambda label: label in LABELS,
                           f"sentiment must be one of {', '.join(LABELS)}",
                           known=reviews["review_id"], known_in=REVIEWS_FILE)
    frame = reviews.join(wide, on="review_id")
    frame[list(BLIND_CODERS)] = frame[list(BLIND_CODERS)].fillna("")
    labelled = frame[frame["gold"].ne("")].reset_index(drop=True)
    return labelled, len(frame) - len(labelled)

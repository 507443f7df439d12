"""Blind evaluation of review sentiment (issue 15): reviews written and labelled by
annotators who never saw the training data, the rules or the models. The model and VADER
are scored against the resolved label (`gold`) per language, beside the annotators' own
agreement (A2 against A1: the ceiling a model can be expected to reach)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipeline.core.io import InputError, require_columns
from pipeline.reviews.labels import LABELS

CODERS = ("A1", "A2", "gold")
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
    problems = [
        (~labels["coder"].isin(CODERS), f"coder must be one of {', '.join(CODERS)}"),
        (~labels["sentiment"].isin(LABELS), f"sentiment must be one of {', '.join(LABELS)}"),
        (~labels["review_id"].isin(reviews["review_id"]), f"review not in {REVIEWS_FILE}"),
        (labels.duplicated(["review_id", "coder"]), "labelled twice by one coder"),
    ]
    for bad, why in problems:
        if bad.any():
            raise InputError(f"{folder / LABELS_FILE}: review "
                             f"{labels.loc[bad, 'review_id'].iloc[0]}: {why}")
    wide = labels.pivot(index="review_id", columns="coder", values="sentiment")
    frame = reviews.join(wide.reindex(columns=list(CODERS)), on="review_id")
    frame[list(CODERS)] = frame[list(CODERS)].fillna("")
    labelled = frame[frame["gold"].ne("")].reset_index(drop=True)
    return labelled, len(frame) - len(labelled)

"""Human-labelled sentiment gold (data/gold/sentiment: keys + text hash, never the text):
joined to the corpus rows it labels, and used in training in place of rating labels."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipeline.core.corpus import check_stored_labels
from pipeline.core.io import InputError, require_columns
from pipeline.reviews.labels import LABELS

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


def load_human_gold(path: Path, corpus: pd.DataFrame) -> pd.DataFrame | None:
    """Human labels joined to the corpus rows they label: the corpus columns plus
    `human_label` and `gold_split`, indexed like `corpus`. None when no labelled review is
    in this corpus (the bundled sample). A labelled review missing from a corpus that holds
    others, a changed text (hash mismatch) or an unknown label or split is an InputError."""
    gold = _read_label_file(path, GOLD_COLUMNS, "sentiment gold")
    position = pd.Series(np.arange(len(corpus)), index=corpus["review_id"].astype(str))
    position = position[~position.index.duplicated()]
    if not gold["review_id"].isin(position.index).any():
        return None
    text = corpus["text"].set_axis(corpus["review_id"].astype(str))
    check_stored_labels(gold, text[~text.index.duplicated()], path, "review_id",
                        noun="labelled reviews", hint=": rebuild it with `review-corpus`")
    rows = corpus.iloc[position[gold["review_id"]].to_numpy()]
    return rows.assign(human_label=gold["label"].to_numpy(), gold_split=gold["split"].to_numpy())


def load_second_pass(path: Path, gold: pd.DataFrame) -> pd.DataFrame:
    """A second annotator's blind labels (keys + text hash) joined to the human gold rows
    (`load_human_gold`): `gold` plus `second_label` ("" where none was given). A label on a
    review outside the gold or on a changed text is an InputError: agreement is only
    measured on the very texts both annotators read."""
    second = _read_label_file(path, SECOND_COLUMNS, "sentiment second pass")
    check_stored_labels(second, gold.set_index("review_id")["text"], path, "review_id",
                        noun="reviews", outside="not in the human gold",
                        since="the second pass")
    label = second.set_index("review_id")["label"]
    return gold.assign(second_label=gold["review_id"].map(label).fillna("").to_numpy())


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

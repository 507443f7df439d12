"""Blind evaluation sets (data/blind/README.md): texts labelled by annotator A1 (the
writer), annotator A2 (blind to A1) and the resolved `gold`. One reader of their label
tables serves every stage that scores a model on them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from pipeline.core.io import InputError

BLIND_CODERS = ("A1", "A2", "gold")


def labels_by_coder(labels: pd.DataFrame, key: str, value: str, path: Path, noun: str,
                    valid: Callable[[str], bool], rule: str,
                    known: pd.Series | None = None, known_in: str = "") -> pd.DataFrame:
    """Long labels (`key, coder, value`, coder and value already normalised) -> one row
    per `key` with a column per coder of `BLIND_CODERS` (NaN where a coder gave none).
    An unknown coder, a value `valid` refuses (`rule` says what is allowed), a `key`
    outside `known` (the ids of the texts file `known_in`) or a text labelled twice by
    one coder is an InputError naming the `noun` ("review", "post") it concerns."""
    problems = [
        (~labels["coder"].isin(BLIND_CODERS), f"coder must be one of {', '.join(BLIND_CODERS)}"),
        (~labels[value].map(valid), rule),
        *([(~labels[key].isin(known), f"{noun} not in {known_in}")]
          if known is not None else []),
        (labels.duplicated([key, "coder"]), "labelled twice by one coder"),
    ]
    for bad, why in problems:
        if bad.any():
            raise InputError(f"{path}: {noun} {labels.loc[bad, key].iloc[0]}: {why}")
    return labels.pivot(index=key, columns="coder", values=value).reindex(
        columns=list(BLIND_CODERS))

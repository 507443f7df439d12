"""Label audit: which market category paths does the text disagree with? Out-of-fold
predictions (a model that never saw the row) against the label each path maps to."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pandas as pd
from sklearn.model_selection import StratifiedGroupKFold

from pipeline.classify.training import fold_predictions


def out_of_fold_predictions(model_cfg: dict[str, Any], data: pd.DataFrame, folds: int,
                            seed: int, n_jobs: int = 1,
                            progress: Callable[[Iterable], Iterable] = iter) -> pd.Series:
    """Each labelled row predicted by a model that never saw it (identical texts kept in
    one fold): the evidence for auditing labels without trusting a model fitted on them.
    The folds are fitted in `n_jobs` processes."""
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    splits = list(splitter.split(data["text"], data["label"], data["group"]))
    predicted = pd.Series("", index=data.index, dtype=object)
    for (_, test), (labels, _) in zip(splits, fold_predictions(model_cfg, data, splits, seed,
                                                               n_jobs, progress), strict=True):
        predicted.iloc[test] = labels
    return predicted


def label_audit(data: pd.DataFrame, predicted: pd.Series, min_rows: int = 20) -> pd.DataFrame:
    """Per market category path: how often out-of-fold predictions agree with the label
    the path maps to, and what the text says instead. A path whose rows mostly read as
    another category is mixed or mis-mapped: read a sample of it and fix its
    `category_map` entry (or map it to null). Lowest agreement first."""
    rows = data.assign(predicted=predicted.to_numpy(), agrees=predicted.to_numpy() == data["label"])
    audit = []
    for (market, path, label), group in rows.groupby(["market", "path", "label"], sort=True):
        if len(group) < min_rows:
            continue
        others = group.loc[~group["agrees"], "predicted"].value_counts()
        audit.append({
            "market": market, "path": path, "label": label, "rows": len(group),
            "agreement": round(float(group["agrees"].mean()), 4),
            "read_as": others.index[0] if len(others) else "",
            "read_as_share": round(float(others.iloc[0] / len(group)), 4) if len(others) else 0.0,
        })
    columns = ["market", "path", "label", "rows", "agreement", "read_as", "read_as_share"]
    return pd.DataFrame(audit, columns=columns).sort_values(
        ["agreement", "rows"], ascending=[True, False], ignore_index=True)

"""Evaluation of harm-reduction detection: per-label and any-label figures on the held-out
labelled posts (never tuned on), for every combination rule."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from pipeline.core.metrics import kappa, per_class_figures, rounded
from pipeline.forums.gold import label_matrix
from pipeline.forums.model import COMBINERS, HarmReductionModel


def per_label_figures(y_true: np.ndarray, y_pred: np.ndarray, names: list[str]) -> dict[str, Any]:
    """Per-label precision/recall/F1, micro/macro F1, and the any-label flag."""
    from sklearn.metrics import f1_score, precision_recall_fscore_support

    flag_true, flag_pred = y_true.any(axis=1), y_pred.any(axis=1)
    fp, fr, ff, _ = precision_recall_fscore_support(
        flag_true, flag_pred, average="binary", zero_division=0
    )
    return {
        "n": int(len(y_true)),
        "harm_reduction_flag": {
            "precision": rounded(fp),
            "recall": rounded(fr),
            "f1": rounded(ff),
            "micro_f1": rounded(f1_score(flag_true, flag_pred, average="micro")),
            "kappa": kappa(flag_true, flag_pred),
            "support": int(flag_true.sum()),
        },
        "labels_micro_f1": rounded(f1_score(y_true, y_pred, average="micro", zero_division=0)),
        "labels_macro_f1": rounded(f1_score(y_true, y_pred, average="macro", zero_division=0)),
        "per_label": per_class_figures(names, y_true, y_pred),
    }


def evaluate(gold: pd.DataFrame, cfg: dict[str, Any], seed: int) -> dict[str, Any]:
    """Train on the `train` part, score the held-out part (never tuned on) with each
    combination rule; figures for the real posts and the own NL/FR/DE examples."""
    names = list(cfg["labels"])
    train, held = gold[gold["split"] == "train"], gold[gold["split"] == "heldout"]
    model = HarmReductionModel.from_config(cfg, seed).fit(
        train["text"].tolist(), label_matrix(train["labels"], names)
    )
    y_true = label_matrix(held["labels"], names)
    real = (held["source"] != "own").to_numpy()
    metrics: dict[str, Any] = {
        "train_posts": len(train),
        "heldout_posts": len(held),
        "combine": cfg["combine"],
    }
    for rule in COMBINERS.names():
        y_pred = model.predict(held["text"].tolist(), combine=rule)
        metrics[rule] = {
            "all": per_label_figures(y_true, y_pred, names),
            "real_posts": per_label_figures(y_true[real], y_pred[real], names),
            "own_nl_fr_de": per_label_figures(y_true[~real], y_pred[~real], names),
        }
    return metrics

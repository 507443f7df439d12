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


def writer_groups(gold: pd.DataFrame) -> np.ndarray:
    """One group per source of labelled posts: each real forum, the own examples, and each
    writer's posts per language, so that out-of-group predictions meet a style the model
    did not train on, as blind posts do."""
    lang = gold["lang"].fillna("en").astype(str) if "lang" in gold else "en"
    writer = gold["writer"].fillna("").astype(str) if "writer" in gold else ""
    source = gold["source"].fillna("unknown").astype(str) if "source" in gold else "unknown"
    return np.where(source == "written", "written:" + writer + ":" + lang, source)


def threshold_choice(gold: pd.DataFrame, cfg: dict[str, Any], seed: int,
                     grid: list[float]) -> dict[str, Any]:
    """Flag F1 of every classifier threshold in `grid` on leave-one-group-out predictions
    of the training posts (`writer_groups`, the lexicon unioned in), and the best one:
    how `forums.threshold` is chosen without the held-out or blind posts."""
    from sklearn.metrics import f1_score
    from sklearn.model_selection import LeaveOneGroupOut

    names = list(cfg["labels"])
    train = gold[gold["split"] == "train"].reset_index(drop=True)
    y = label_matrix(train["labels"], names)
    groups = writer_groups(train)
    texts = train["text"].tolist()
    proba = np.zeros(y.shape)
    for fit_rows, out_rows in LeaveOneGroupOut().split(texts, y, groups):
        model = HarmReductionModel.from_config(cfg, seed).fit(
            [texts[i] for i in fit_rows], y[fit_rows])
        proba[out_rows] = model.union_scores([texts[i] for i in out_rows])
    by_threshold = {str(t): rounded(f1_score(y.any(axis=1), (proba >= t).any(axis=1)))
                    for t in grid}
    best = max(grid, key=lambda t: (by_threshold[str(t)], -abs(t - 0.5)))
    return {"groups": sorted(set(groups.tolist())), "flag_f1_by_threshold": by_threshold,
            "best": best}

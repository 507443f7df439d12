"""Evaluation: an in-market split and leave-one-market-out, each model fitted on training
rows only, with macro-F1 over the classes a held-out market holds, and the confusion figure."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import confusion_matrix, f1_score
from sklearn.model_selection import StratifiedGroupKFold

from pipeline.classify.predict import review_threshold
from pipeline.classify.training import fold_predictions
from pipeline.core.metrics import expected_calibration_error, per_class_figures, rounded


def scores(y_true: Iterable[str], y_pred: Iterable[str], min_support: int = 1) -> dict[str, Any]:
    """Macro-F1 over the classes with at least `min_support` rows in `y_true` (a held-out
    market without, say, steroids is not scored on steroids, nor on the two opioid
    listings it happens to hold), accuracy over all rows, and per-class P/R/F1."""
    y_true, y_pred = np.asarray(list(y_true)), np.asarray(list(y_pred))
    support = pd.Series(y_true).value_counts()
    labels = sorted(support[support >= min_support].index) or sorted(support.index)
    return {
        "n": len(y_true),
        "macro_f1": rounded(f1_score(y_true, y_pred, labels=labels, average="macro",
                                     zero_division=0)),
        "accuracy": rounded((y_true == y_pred).mean()) if len(y_true) else 0.0,
        "per_class": per_class_figures(labels, y_true, y_pred, labels=labels),
    }


def in_market_split(
    data: pd.DataFrame, test_size: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Train/test row positions, stratified by label, identical texts kept together."""
    folds = max(2, round(1 / test_size))
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    return next(splitter.split(data["text"], data["label"], data["group"]))


def evaluate(model_cfg: dict[str, Any], data: pd.DataFrame, eval_cfg: dict[str, Any],
             seed: int, progress: Callable[[Iterable], Iterable] = iter) -> dict[str, Any]:
    """In-market split and leave-one-market-out, each model fitted on training rows only
    (all fits in one pool of `eval_cfg.n_jobs` processes). Parts that the data cannot
    support (too few rows, one market) are skipped with a note."""
    result: dict[str, Any] = {"model": model_cfg["name"], "labelled": len(data), "notes": []}
    in_market, in_market_notes = _in_market_fold(data, eval_cfg, seed)
    held_out, lomo_notes = _lomo_folds(data, eval_cfg)
    folds = ([in_market] if in_market else []) + [fold for _, fold in held_out]
    predictions = fold_predictions(model_cfg, data, folds, seed,
                                   eval_cfg.get("n_jobs", 1), progress)
    threshold = review_threshold(model_cfg)
    if in_market:
        predicted, confidence = predictions.pop(0)
        held = data.iloc[in_market[1]].assign(predicted=predicted, confidence=confidence)
        result["in_market"] = scores(held["label"], held["predicted"])
        result["in_market"]["markets"] = {
            m: scores(g["label"], g["predicted"])["macro_f1"] for m, g in held.groupby("market")
        }
        result["in_market"]["confidence"] = confidence_figures(held, threshold)
    result["lomo"] = lomo_scores(
        {market: data.iloc[test].assign(predicted=predicted, confidence=confidence)
         for (market, (_, test)), (predicted, confidence)
         in zip(held_out, predictions, strict=True)},
        eval_cfg, threshold,
    )
    result["notes"] += in_market_notes + lomo_notes + result["lomo"].pop("notes")
    return result


Fold = tuple[np.ndarray, np.ndarray]


def _in_market_fold(data: pd.DataFrame, eval_cfg: dict[str, Any], seed: int
                    ) -> tuple[Fold | None, list[str]]:
    """The in-market split over the classes with enough rows for it, or None and why."""
    notes = []
    min_rows, min_classes = eval_cfg.get("min_labelled", 50), 2
    folds = max(2, round(1 / eval_cfg.get("test_size", 0.2)))
    sizes = data["label"].value_counts()
    splittable = np.flatnonzero(data["label"].isin(sizes[sizes >= folds].index))
    if len(splittable) < len(data):
        notes.append(
            "in-market split leaves out classes with fewer than "
            f"{folds} rows: {', '.join(sorted(sizes[sizes < folds].index))}"
        )
    classes = data["label"].iloc[splittable].nunique()
    if len(splittable) < min_rows or classes < min_classes:
        notes.append(
            f"in-market split skipped: {len(splittable)} labelled rows, {classes} classes "
            f"(needs {min_rows} rows, {min_classes} classes)"
        )
        return None, notes
    train, test = in_market_split(data.iloc[splittable], eval_cfg.get("test_size", 0.2), seed)
    return (splittable[train], splittable[test]), notes


def _lomo_folds(data: pd.DataFrame, eval_cfg: dict[str, Any]
                ) -> tuple[list[tuple[str, Fold]], list[str]]:
    """Leave-one-market-out: for each market with enough labelled rows, train on all other
    markets and test on it; the honest test of applying the model to a new market."""
    min_rows = eval_cfg.get("lomo_min_rows", 200)
    sizes = data["market"].value_counts()
    notes = [f"LOMO leaves out {m}: {n} labelled rows < {min_rows}"
             for m, n in sizes.items() if n < min_rows]
    folds = []
    for market in sorted(m for m, n in sizes.items() if n >= min_rows):
        held = data["market"].eq(market).to_numpy()
        if data["label"][~held].nunique() < 2:
            notes.append(f"LOMO skips {market}: the other markets hold < 2 classes")
            continue
        folds.append((market, (np.flatnonzero(~held), np.flatnonzero(held))))
    return folds, notes


def confidence_figures(rows: pd.DataFrame, review_threshold: float) -> dict[str, Any]:
    """Whether the calibrated confidences (`confidence`, the top probability) mean what they
    say: the expected calibration error, and at the review threshold the share of listings
    sent to review and the accuracy of those that are not."""
    correct = (rows["label"] == rows["predicted"]).to_numpy()
    kept = (rows["confidence"] >= review_threshold).to_numpy()
    return {
        "ece": expected_calibration_error(rows["confidence"].to_numpy(), correct),
        "review_threshold": review_threshold,
        "review_share": rounded(1 - kept.mean()) if len(rows) else None,
        "accuracy_not_reviewed": rounded(correct[kept].mean()) if kept.any() else None,
    }


def lomo_scores(held_out: dict[str, pd.DataFrame], eval_cfg: dict[str, Any],
                threshold: float) -> dict[str, Any]:
    """Per held-out market (its rows with `label`, `predicted` and `confidence`), pooled
    (with `confidence_figures` at the review `threshold`), and the pooled confusion matrix."""
    min_class_rows = eval_cfg.get("lomo_min_class_rows", 10)
    out: dict[str, Any] = {"markets": {}, "notes": []}
    if not held_out:
        out["notes"].append("LOMO skipped: no market with enough labelled rows")
        return out
    for market, rows in held_out.items():
        out["markets"][market] = scores(rows["label"], rows["predicted"], min_class_rows)
    per_market = [r["macro_f1"] for r in out["markets"].values()]
    out["mean_macro_f1"] = round(float(np.mean(per_market)), 4)
    pooled = pd.concat(held_out.values())
    out["pooled"] = scores(pooled["label"], pooled["predicted"])
    out["pooled"]["confidence"] = confidence_figures(pooled, threshold)
    labels = sorted(set(pooled["label"]) | set(pooled["predicted"]))
    out["confusion"] = {
        "labels": labels,
        "matrix": confusion_matrix(pooled["label"], pooled["predicted"], labels=labels).tolist(),
    }
    return out


def confusion_figure(confusion: dict[str, Any], path: str | Path, title: str) -> Path:
    """Row-normalised confusion matrix as a PNG (rows: market label, columns: predicted)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels, matrix = confusion["labels"], np.asarray(confusion["matrix"], dtype=float)
    share = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(9, 8))
    if not labels:
        ax.axis("off")
        ax.text(0.5, 0.5, title, ha="center", va="center", wrap=True)
        return _save(fig, path)
    ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(labels)), labels, rotation=60, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    for i, j in zip(*np.nonzero(matrix), strict=True):
        ax.text(j, i, int(matrix[i, j]), ha="center", va="center", fontsize=7,
                color="white" if share[i, j] > 0.5 else "black")
    ax.set_xlabel("predicted")
    ax.set_ylabel("market label")
    ax.set_title(title)
    fig.tight_layout()
    return _save(fig, path)


def _save(fig: Any, path: str | Path) -> Path:
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path

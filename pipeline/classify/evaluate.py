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

from pipeline.classify.training import fit_model
from pipeline.core.metrics import per_class_figures, rounded


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
    """In-market split and leave-one-market-out, each model fitted on training rows only.
    Parts that the data cannot support (too few rows, one market) are skipped with a note."""
    result: dict[str, Any] = {"model": model_cfg["name"], "labelled": len(data), "notes": []}
    min_rows, min_classes = eval_cfg.get("min_labelled", 50), 2
    folds = max(2, round(1 / eval_cfg.get("test_size", 0.2)))
    sizes = data["label"].value_counts()
    splittable = data[data["label"].isin(sizes[sizes >= folds].index)]
    if len(splittable) < len(data):
        result["notes"].append(
            "in-market split leaves out classes with fewer than "
            f"{folds} rows: {', '.join(sorted(sizes[sizes < folds].index))}"
        )
    if len(splittable) < min_rows or splittable["label"].nunique() < min_classes:
        result["notes"].append(
            f"in-market split skipped: {len(splittable)} labelled rows, "
            f"{splittable['label'].nunique()} classes "
            f"(needs {min_rows} rows, {min_classes} classes)"
        )
    else:
        train, test = in_market_split(splittable, eval_cfg.get("test_size", 0.2), seed)
        model = fit_model(model_cfg, splittable.iloc[train], seed)
        predicted = model.predict(splittable["text"].iloc[test].tolist())
        held = splittable.iloc[test].assign(predicted=predicted)
        result["in_market"] = scores(held["label"], held["predicted"])
        result["in_market"]["markets"] = {
            m: scores(g["label"], g["predicted"])["macro_f1"] for m, g in held.groupby("market")
        }
    result["lomo"] = lomo(model_cfg, data, eval_cfg, seed, progress)
    result["notes"] += result["lomo"].pop("notes")
    return result


def lomo(model_cfg: dict[str, Any], data: pd.DataFrame, eval_cfg: dict[str, Any], seed: int,
         progress: Callable[[Iterable], Iterable] = iter) -> dict[str, Any]:
    """Leave-one-market-out: for each market with enough labelled rows, train on all other
    markets and test on it; the honest test of applying the model to a new market."""
    min_rows = eval_cfg.get("lomo_min_rows", 200)
    min_class_rows = eval_cfg.get("lomo_min_class_rows", 10)
    sizes = data["market"].value_counts()
    held_out = sorted(m for m, n in sizes.items() if n >= min_rows)
    notes = [f"LOMO leaves out {m}: {n} labelled rows < {min_rows}"
             for m, n in sizes.items() if n < min_rows]
    out: dict[str, Any] = {"markets": {}, "notes": notes}
    predictions = []
    for market in progress(held_out):
        train, test = data[data["market"] != market], data[data["market"] == market]
        if train["label"].nunique() < 2:
            out["notes"].append(f"LOMO skips {market}: the other markets hold < 2 classes")
            continue
        predicted = fit_model(model_cfg, train, seed).predict(test["text"].tolist())
        out["markets"][market] = scores(test["label"], predicted, min_class_rows)
        predictions.append(test.assign(predicted=predicted)[["label", "predicted"]])
    if not out["markets"]:
        out["notes"].append("LOMO skipped: no market with enough labelled rows")
        return out
    per_market = [r["macro_f1"] for r in out["markets"].values()]
    out["mean_macro_f1"] = round(float(np.mean(per_market)), 4)
    pooled = pd.concat(predictions)
    out["pooled"] = scores(pooled["label"], pooled["predicted"])
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

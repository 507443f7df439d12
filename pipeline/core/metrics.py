"""Evaluation figures in one shape for every stage's metrics JSON: rounded to 4 places,
per class (or label) precision / recall / F1 / support."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

DIGITS = 4


def rounded(value: float) -> float:
    """A figure as stored in a metrics file."""
    return round(float(value), DIGITS)


def per_class_figures(
    names: Sequence[str], y_true: Any, y_pred: Any, labels: Sequence[str] | None = None
) -> dict[str, dict[str, float | int]]:
    """Precision, recall, F1 and support per name: `labels` picks the classes of
    single-label string predictions; without it, `y_true`/`y_pred` are indicator matrices
    with one column per name."""
    from sklearn.metrics import precision_recall_fscore_support

    p, r, f, s = precision_recall_fscore_support(
        y_true, y_pred, labels=None if labels is None else list(labels), zero_division=0
    )
    return {
        name: {
            "precision": rounded(p[i]),
            "recall": rounded(r[i]),
            "f1": rounded(f[i]),
            "support": int(s[i]),
        }
        for i, name in enumerate(names)
    }


def kappa(y_true: Any, y_pred: Any) -> float:
    """Cohen's kappa, 0 where only one class occurs at all (kappa is undefined there)."""
    from sklearn.metrics import cohen_kappa_score

    if len(set(np.asarray(y_true).tolist()) | set(np.asarray(y_pred).tolist())) < 2:
        return 0.0
    return rounded(cohen_kappa_score(y_true, y_pred))


def write_metrics(metrics: dict[str, Any], out: Path) -> None:
    """The metrics JSON DVC tracks."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(metrics, indent=2))


ECE_BINS = 10


def expected_calibration_error(
    confidence: np.ndarray, correct: np.ndarray, bins: int = ECE_BINS
) -> float | None:
    """ECE: over equal-width confidence bins, the gap between mean confidence and the share
    correct, weighted by the bin's size (0 = confidences mean what they say)."""
    confidence, correct = np.ravel(confidence), np.ravel(correct).astype(float)
    if not confidence.size:
        return None
    index = np.minimum((confidence * bins).astype(int), bins - 1)
    gap = sum(
        abs(confidence[index == b].mean() - correct[index == b].mean()) * (index == b).sum()
        for b in range(bins)
        if (index == b).any()
    )
    return round(float(gap / confidence.size), DIGITS)

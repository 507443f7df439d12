"""Span scores: exact (start, end) matches between gold and predicted spans, pooled over
texts (the CoNLL convention spaCy's `ents_f` also uses)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def span_scores(gold: Iterable[Sequence[tuple[int, int]]],
                predicted: Iterable[Sequence[tuple[int, int]]]) -> dict[str, float | int]:
    """Precision, recall and F1 of predicted spans against gold spans, text by text."""
    tp = n_gold = n_pred = 0
    for g, p in zip(gold, predicted, strict=True):
        g_set, p_set = set(map(tuple, g)), set(map(tuple, p))
        tp += len(g_set & p_set)
        n_gold += len(g_set)
        n_pred += len(p_set)
    precision = tp / n_pred if n_pred else 0.0
    recall = tp / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
            "gold_spans": n_gold, "predicted_spans": n_pred, "true_positives": tp}

"""Span scores: exact (start, end) matches between gold and predicted spans, pooled over
texts (the CoNLL convention spaCy's `ents_f` also uses)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any


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


def mention_spans(text: str, mentions: Iterable[str]) -> list[tuple[int, int]]:
    """Character spans of mentions given as exact substrings in order of appearance (the
    blind sets' annotation format): each is found after the previous match of the same
    string, so a word listed twice gets its two occurrences; a mention not in the text
    is skipped."""
    spans, after = [], {}
    for mention in mentions:
        start = text.find(mention, after.get(mention, 0)) if mention else -1
        if start >= 0:
            after[mention] = start + len(mention)
            spans.append((start, start + len(mention)))
    return spans


def annotated_spans(text: str, mentions: Any, field: str) -> list[tuple[int, int]]:
    """One annotator's spans in one field of a listing (`mentions`: `{field, text, ...}`)."""
    listed = [m.get("text", "") for m in (mentions if isinstance(mentions, list) else [])
              if isinstance(m, dict) and m.get("field") == field]
    return mention_spans(text, listed)

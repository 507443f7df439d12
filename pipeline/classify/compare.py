"""Classifiers compared on identical splits: the same labelled rows (the same per-market
subsample), the same in-market split and the same leave-one-market-out folds, so that
differences are the models' and not the data's."""

from __future__ import annotations

import time
from typing import Any

import pandas as pd

from pipeline.classify.evaluate import evaluate
from pipeline.core.ml.embeddings import encoding_stats

DEFAULT_MODELS = ("linear", "sentence_embedding")


def compare(configs: dict[str, dict], data: pd.DataFrame, eval_cfg: dict[str, Any],
            seed: int) -> tuple[dict[str, Any], dict[str, str]]:
    """`evaluate` of every model on the same data, evaluation settings and seed (each with
    its own number of worker processes), and how long each took (printed, not a metric:
    timings differ run to run)."""
    results, timings = {}, {}
    for name, cfg in configs.items():
        before, start = encoding_stats(), time.perf_counter()
        n_jobs = cfg.get("evaluation", {}).get("n_jobs", 1)
        results[name] = evaluate(cfg, data, {**eval_cfg, "n_jobs": n_jobs}, seed)
        timings[name] = f"{time.perf_counter() - start:.1f} s (fit + predict, all folds)"
        after = encoding_stats()
        encoded = after["texts_encoded"] - before["texts_encoded"]
        if encoded:
            seconds = after["encode_seconds"] - before["encode_seconds"]
            timings[name] += (f"; encoded {encoded} texts in {seconds:.1f} s "
                              f"({encoded / max(seconds, 1e-9):.1f} texts/s)")
    return results, timings


def summary(results: dict[str, dict]) -> dict[str, dict[str, float | None]]:
    """One row per figure (in-market macro-F1, LOMO per market and mean, calibration
    errors, per-class F1), one column per model; None where a model has no such figure."""
    rows: dict[str, dict[str, float | None]] = {}

    def put(row: str, model: str, value: float | None) -> None:
        rows.setdefault(row, {m: None for m in results})[model] = value

    for model, r in results.items():
        put("in-market macro-F1", model, r.get("in_market", {}).get("macro_f1"))
        for market, m in r["lomo"].get("markets", {}).items():
            put(f"LOMO {market}", model, m["macro_f1"])
        put("LOMO mean macro-F1", model, r["lomo"].get("mean_macro_f1"))
    for model, r in results.items():
        put("in-market calibration error", model,
            r.get("in_market", {}).get("confidence", {}).get("ece"))
        put("LOMO pooled calibration error", model,
            r["lomo"].get("pooled", {}).get("confidence", {}).get("ece"))
    for model, r in results.items():
        for c, m in r.get("in_market", {}).get("per_class", {}).items():
            put(f"in-market F1 {c}", model, m["f1"])
    for model, r in results.items():
        for c, m in r["lomo"].get("pooled", {}).get("per_class", {}).items():
            put(f"LOMO pooled F1 {c}", model, m["f1"])
    return rows

"""Training: fitting the configured model on labelled listings, and the model card that
says what it was trained on."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

from pipeline.classify.labels import Taxonomy
from pipeline.classify.models import build_model
from pipeline.classify.substances import with_substance_rule
from pipeline.core.io import InputError, console
from pipeline.core.ml import TextModel


def fit_model(model_cfg: dict[str, Any], data: pd.DataFrame, seed: int) -> TextModel:
    """Fit the configured model (wrapped in the substance rule when `substance_rule` is
    configured). Categories with fewer than `min_class_rows` labelled listings cannot be
    learnt (nor calibrated): they are left out, and said so."""
    sizes = data["label"].value_counts()
    rare = sizes[sizes < model_cfg.get("min_class_rows", 5)]
    if len(rare):
        console.print("too few rows to learn, left out of training: "
                      + ", ".join(f"{c} ({n})" for c, n in rare.items()))
        data = data[~data["label"].isin(rare.index)]
    if data["label"].nunique() < 2:
        raise InputError(
            f"need labelled listings of at least 2 categories to train, got "
            f"{data['label'].nunique()} ({len(data)} labelled rows): map the markets' "
            "categories in conf/markets/*.yaml (category_map)"
        )
    model = build_model(model_cfg, seed).fit(data["text"].tolist(), data["label"].tolist())
    return with_substance_rule(model, model_cfg.get("substance_rule"))


def fold_predictions(model_cfg: dict[str, Any], data: pd.DataFrame,
                     folds: Sequence[tuple[np.ndarray, np.ndarray]], seed: int, n_jobs: int = 1,
                     progress: Callable[[Iterable], Iterable] = iter
                     ) -> list[tuple[np.ndarray, np.ndarray]]:
    """For each (train, test) pair of row positions, the test rows' predicted classes and
    their confidences (the top probability) by a model fitted on the train rows. Folds run
    in `n_jobs` worker processes, not threads:
    liblinear draws from one process-wide random generator, so two fits sharing a process
    would not be reproducible. Each worker holds one fold's model and feature matrices
    (about 1.2 GB on the 75,000 labelled public listings)."""
    tasks = (
        delayed(_fit_and_predict)(model_cfg, data[["text", "label"]].iloc[train],
                                  data["text"].iloc[test].tolist(), seed)
        for train, test in folds
    )
    return list(progress(Parallel(n_jobs=n_jobs, return_as="generator")(tasks)))


def _fit_and_predict(model_cfg: dict[str, Any], train: pd.DataFrame, test_texts: list[str],
                     seed: int) -> tuple[np.ndarray, np.ndarray]:
    model = fit_model(model_cfg, train, seed)
    proba = np.asarray(model.predict_proba(test_texts))
    return np.asarray(model.classes_)[proba.argmax(axis=1)], proba.max(axis=1)


def _date_range(data: pd.DataFrame) -> list[str]:
    dates = data["scraped_at"].dropna().astype(str) if "scraped_at" in data else pd.Series([])
    dates = dates[dates.ne("")]
    return [dates.min()[:10], dates.max()[:10]] if len(dates) else ["unknown", "unknown"]


def model_card(model_cfg: dict[str, Any], taxonomy: Taxonomy, data: pd.DataFrame,
               counts: dict[str, int], metrics: dict[str, Any] | None) -> dict:
    """What a model directory says about itself (read by people and by `load_model`). It
    names the scrape dates it was trained on, not the day of training, so retraining on the
    same data gives the same bytes."""
    return {
        "model": model_cfg["name"],
        "params": model_cfg.get("params") or {},
        "taxonomy_version": taxonomy.version,
        "classes": sorted(data["label"].unique().tolist()),
        "scraped_between": _date_range(data),
        "training_markets": _counts(data["market"]),
        "label_counts": _counts(data["label"]),
        "rows": counts,
        "text_max_chars": model_cfg.get("text_max_chars", 1000),
        "substance_rule": model_cfg.get("substance_rule"),
        "metrics": _metrics_summary(metrics) if metrics else None,
    }


def _counts(values: pd.Series) -> dict[str, int]:
    return {k: int(v) for k, v in values.value_counts().sort_index().items()}


def _metrics_summary(metrics: dict[str, Any]) -> dict[str, Any]:
    lomo = metrics.get("lomo", {})
    return {
        "in_market_macro_f1": metrics.get("in_market", {}).get("macro_f1"),
        "lomo_mean_macro_f1": lomo.get("mean_macro_f1"),
        "lomo_per_market": {m: r["macro_f1"] for m, r in lomo.get("markets", {}).items()},
    }


def model_card_markdown(card: dict[str, Any]) -> str:
    lines = [
        f"# Listing classifier: `{card['model']}`", "",
        f"Trained on listings scraped {' to '.join(card['scraped_between'])}, "
        f"{sum(card['training_markets'].values())} labelled "
        f"listings; taxonomy version {card['taxonomy_version']}.", "",
        "## Training markets", "", "| market | listings |", "|---|---|",
        *[f"| {m} | {n} |" for m, n in card["training_markets"].items()], "",
        "## Label counts", "", "| category | listings |", "|---|---|",
        *[f"| {c} | {n} |" for c, n in card["label_counts"].items()], "",
        "## Metrics", "",
    ]
    metrics = card.get("metrics")
    if not metrics:
        lines.append("No evaluation was given (`--metrics reports/metrics/classifier.json`).")
    else:
        lines += [f"- in-market macro-F1: {metrics['in_market_macro_f1']}",
                  f"- leave-one-market-out macro-F1 (mean): {metrics['lomo_mean_macro_f1']}"]
        lines += [f"  - {m}: {f}" for m, f in metrics["lomo_per_market"].items()]
    return "\n".join(lines) + "\n"

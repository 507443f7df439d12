"""Held-out evaluation of the coder against human codes: k-fold cross-validation over the
gold segments (every segment predicted by a model that never saw it), per language, for
the configured component set and each ablation; the calibration of its confidences
(expected calibration error); plus language-detector accuracy."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from joblib import Parallel, delayed, effective_n_jobs
from sklearn.model_selection import StratifiedKFold
from tqdm import tqdm

from pipeline.core.codebook import Codebook
from pipeline.core.language import detect_languages
from pipeline.core.metrics import ECE_BINS, expected_calibration_error
from pipeline.themes.agreement import agreement_by_language
from pipeline.themes.coder import ThemeCoder


def cross_validated_proba(
    table: pd.DataFrame,
    codebook: Codebook,
    components: Sequence[str],
    languages: Sequence[str],
    folds: int = 5,
    C: float = 4.0,
    seed: int = 42,
    extra: pd.DataFrame | None = None,
    coder_cfg: dict | None = None,
    n_jobs: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-fold probabilities and codes (each fold's coder deciding with its own tuned
    thresholds) for the gold `table` (segment x code). `extra` rows (corrections) join
    every training fold but are never scored. Folds run in `n_jobs` processes."""
    splits = list(StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
                  .split(table["text"], table["lang"]))
    parts = Parallel(n_jobs=n_jobs)(
        delayed(_fold)(table, codebook, components, languages, train, test, C, seed, extra,
                       coder_cfg or {})
        for train, test in splits)
    proba = np.zeros((len(table), len(codebook.ids)))
    pred = np.zeros(proba.shape, dtype=int)
    for (_, test), (fold_proba, fold_pred) in zip(splits, parts, strict=True):
        proba[test], pred[test] = fold_proba, fold_pred
    return proba, pred


def _fold(table: pd.DataFrame, codebook: Codebook, components: Sequence[str],
          languages: Sequence[str], train: np.ndarray, test: np.ndarray, C: float, seed: int,
          extra: pd.DataFrame | None, c: dict) -> tuple[np.ndarray, np.ndarray]:
    """(probabilities, codes) of the `test` rows by a coder fitted on the `train` rows."""
    codes = codebook.ids
    texts, langs = table["text"].tolist(), table["lang"].tolist()
    labels = table[codes].to_numpy(dtype=int)
    tr_texts, tr_langs, tr_labels = ([texts[i] for i in train], [langs[i] for i in train],
                                     labels[train])
    if extra is not None and len(extra):
        tr_texts += extra["text"].tolist()
        tr_langs += extra["lang"].tolist()
        tr_labels = np.vstack([tr_labels, extra[codes].to_numpy(dtype=int)])
    coder = ThemeCoder(
        codebook, tuple(components), tuple(languages), C, seed,
        threshold=float(c.get("threshold", 0.5)), tune_folds=int(c.get("tune_folds", 0)),
    )
    coder.fit(tr_texts, tr_langs, tr_labels)
    proba = coder.predict_proba([texts[i] for i in test], [langs[i] for i in test])
    return proba, coder.decide(proba, None, float(c.get("top_threshold", 1.0)))


def calibration(proba: np.ndarray, truth: np.ndarray, pred: np.ndarray) -> dict:
    """ECE of every segment x code probability (as the chance the code applies) and of the
    assigned codes' confidences (as the chance the assignment is right)."""
    assigned = pred == 1
    return {
        "bins": ECE_BINS,
        "ece_all_decisions": expected_calibration_error(proba, truth),
        "ece_assigned_codes": expected_calibration_error(proba[assigned], truth[assigned]),
        "assigned_codes": int(assigned.sum()),
    }


def evaluate_coder(
    table: pd.DataFrame,
    codebook: Codebook,
    cfg: dict,
    seed: int = 42,
    extra: pd.DataFrame | None = None,
) -> dict:
    """Agreement of the configured coder and of each ablation with the human codes."""
    codes = codebook.ids
    truth = table[codes].to_numpy(dtype=int)
    c, ev = cfg["coder"], cfg["evaluation"]
    results, ablations, calibrated = {}, {}, {}
    sets = [tuple(c["components"])] + [
        tuple(a) for a in ev["ablations"] if tuple(a) != tuple(c["components"])
    ]
    # the folds of each component set run in `n_jobs` processes
    n_jobs = min(effective_n_jobs(int(ev.get("n_jobs", 1))), int(ev["folds"]))
    for components in tqdm(sets, desc="cross-validating component sets", disable=None):
        proba, pred = cross_validated_proba(table, codebook, components, cfg["languages"],
                                            int(ev["folds"]), float(c["C"]), seed, extra, c,
                                            n_jobs)
        scores = agreement_by_language(truth, pred, table["lang"].tolist(), codes)
        ablations["+".join(components)] = {
            lang: {k: s[k] for k in ("kappa_macro", "krippendorff_alpha", "micro_f1")}
            for lang, s in scores.items()
        }
        if components == tuple(c["components"]):
            results, calibrated = scores, calibration(proba, truth, pred)
    return {"model_vs_human": results, "ablations": ablations, "calibration": calibrated}


def detector_accuracy(texts: Sequence[str], langs: Sequence[str], cfg: dict) -> dict:
    """Share of labelled segments each language detector gets right, per language."""
    out = {}
    truth = np.asarray(langs)
    for method in cfg["compare_detectors"]:
        found = np.asarray(
            detect_languages(list(texts), cfg["languages"], cfg["flag_languages"], method)
        )
        out[method] = {"all": round(float((found == truth).mean()), 4)} | {
            lang: round(float((found[truth == lang] == lang).mean()), 4)
            for lang in sorted(set(langs))
        }
    return out

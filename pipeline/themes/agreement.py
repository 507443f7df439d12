"""Agreement as a qualitative researcher reports it: Cohen's kappa per code (presence or
absence per segment) and its macro average, Krippendorff's alpha over all segment x code
decisions, and micro-F1 -- model vs human per language, and human vs human."""

from __future__ import annotations

from collections.abc import Sequence

import krippendorff
import numpy as np
import pandas as pd
from sklearn.metrics import cohen_kappa_score, f1_score


def _kappa(a: np.ndarray, b: np.ndarray) -> float | None:
    """Cohen's kappa; None when neither coder used the code (kappa is undefined there)."""
    if not a.any() and not b.any():
        return None
    if (a == b).all():
        return 1.0
    value = cohen_kappa_score(a, b)
    return None if np.isnan(value) else round(float(value), 4)


def agreement(truth: np.ndarray, pred: np.ndarray, codes: Sequence[str]) -> dict:
    """Both coders' 0/1 matrices (segments x codes) -> kappa per code, macro kappa, alpha, F1."""
    truth, pred = np.asarray(truth, dtype=int), np.asarray(pred, dtype=int)
    per_code = {code: _kappa(truth[:, j], pred[:, j]) for j, code in enumerate(codes)}
    used = [v for v in per_code.values() if v is not None]
    alpha = None
    if truth.size and len(np.unique(np.concatenate([truth.ravel(), pred.ravel()]))) > 1:
        reliability = np.vstack([truth.ravel(), pred.ravel()]).astype(float)
        alpha = round(float(krippendorff.alpha(reliability, level_of_measurement="nominal")), 4)
    return {
        "segments": int(truth.shape[0]),
        "kappa_macro": round(float(np.mean(used)), 4) if used else None,
        "krippendorff_alpha": alpha,
        "micro_f1": round(float(f1_score(truth, pred, average="micro", zero_division=0)), 4),
        "kappa_per_code": per_code,
        "support": {code: int(truth[:, j].sum()) for j, code in enumerate(codes)},
    }


def agreement_by_language(
    truth: np.ndarray, pred: np.ndarray, langs: Sequence[str], codes: Sequence[str]
) -> dict[str, dict]:
    """`agreement` for all segments and for each language separately."""
    langs = np.asarray(langs)
    out = {"all": agreement(truth, pred, codes)}
    for lang in sorted(set(langs)):
        mask = langs == lang
        out[lang] = agreement(truth[mask], pred[mask], codes)
    return out


def human_vs_human(gold: pd.DataFrame, codes: Sequence[str]) -> dict:
    """Agreement between the first two coders on the segments both coded (gold rows with a
    `coder` column); reports zero segments when only one coder's work exists."""
    coders = list(dict.fromkeys(gold["coder"]))
    if len(coders) < 2:
        return {"coders": coders, "segments": 0}
    first, second = (gold[gold["coder"] == c].drop_duplicates("segment_id") for c in coders[:2])
    both = first.merge(second, on="segment_id", suffixes=("_a", "_b"))
    if both.empty:
        return {"coders": coders[:2], "segments": 0}
    a = np.array([[int(c in row) for c in codes] for row in both["codes_a"]])
    b = np.array([[int(c in row) for c in codes] for row in both["codes_b"]])
    return {"coders": coders[:2], **agreement(a, b, codes)}


def coded_matrix(
    segment_ids: Sequence[str], coded: pd.DataFrame, codes: Sequence[str]
) -> np.ndarray:
    """0/1 matrix (segments x codes) of a code-themes output (one row per assigned code)."""
    found = coded.groupby("segment_id")["code"].apply(set).to_dict() if len(coded) else {}
    return np.array([[int(c in found.get(s, set())) for c in codes] for s in segment_ids],
                    dtype=int).reshape(len(segment_ids), len(codes))


def blind_agreement(blind: pd.DataFrame, coded: pd.DataFrame, codes: Sequence[str]) -> dict:
    """The coder on a blind set: model vs the resolved gold per language, and the two
    independent annotators against each other per language (the ceiling).

    `blind` is long: one row per segment and coder (`A1`, `A2`, `gold`), with `lang` and
    `codes` as lists; `coded` is what `cryptodrug code-themes` made of the same segments."""
    gold = blind[blind["coder"] == "gold"].drop_duplicates("segment_id")
    truth = np.array([[int(c in row) for c in codes] for row in gold["codes"]], dtype=int)
    pred = coded_matrix(gold["segment_id"].tolist(), coded, codes)
    annotators = {}
    for lang in sorted(set(gold["lang"])):
        in_lang = blind[blind["segment_id"].isin(gold.loc[gold["lang"] == lang, "segment_id"])]
        annotators[lang] = human_vs_human(in_lang[in_lang["coder"].isin(["A1", "A2"])], codes)
    return {
        "model_vs_gold": agreement_by_language(truth, pred, gold["lang"].tolist(), codes),
        "annotators": annotators,
    }

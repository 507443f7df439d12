"""Agreement as a qualitative researcher reports it: Cohen's kappa per code (presence or
absence per segment) and its macro average, Krippendorff's alpha over all segment x code
decisions, and micro-F1 -- model vs human per language, and human vs human; and the
expected calibration error of the coder's confidences."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from pipeline.core.agreement import agreement, human_vs_human
from pipeline.core.metrics import expected_calibration_error

__all__ = ["agreement", "agreement_by_language", "blind_agreement", "coded_matrix",
           "human_vs_human"]


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
    confidence = {
        (s, c): v for s, c, v in zip(coded["segment_id"], coded["code"], coded["confidence"],
                                     strict=True)
    } if len(coded) else {}
    index = {s: i for i, s in enumerate(gold["segment_id"])}
    column = {c: j for j, c in enumerate(codes)}
    assigned = [(index[s], column[c], v) for (s, c), v in confidence.items() if s in index]
    return {
        "model_vs_gold": agreement_by_language(truth, pred, gold["lang"].tolist(), codes),
        "annotators": annotators,
        "ece_assigned_codes": expected_calibration_error(
            np.array([v for _, _, v in assigned]),
            np.array([truth[i, j] for i, j, _ in assigned]),
        ),
    }

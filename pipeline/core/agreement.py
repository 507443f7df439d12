"""Agreement as a qualitative researcher reports it: Cohen's kappa per code (presence or
absence per segment) and its macro average, Krippendorff's alpha over all segment x code
decisions, and micro-F1. In the core because both the theme coder's evaluation and the
browser's agreement page (computed from researchers' corrections) report it."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

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


def _codes_of(coded: pd.DataFrame, segment_ids: pd.Series) -> dict[str, set[str]]:
    """segment_id -> the set of codes a coder output gives it, for the segments asked about."""
    wanted = coded[coded["segment_id"].isin(set(segment_ids))]
    codes: dict[str, set[str]] = {}
    for segment_id, code in zip(wanted["segment_id"], wanted["code"], strict=True):
        codes.setdefault(segment_id, set()).add(code)
    return codes


def coder_codings(corrections: pd.DataFrame, machine: pd.DataFrame) -> pd.DataFrame:
    """Each coder's codes on the segments they corrected (`segment_id`, `coder`, `codes`):
    the machine's codes there with that coder's verdicts laid over (latest wins), so a
    machine code a coder left standing counts as theirs."""
    machine_codes = _codes_of(machine, corrections["segment_id"])
    found: dict[tuple[str, str], set[str]] = {}
    columns = ("segment_id", "coder", "action", "code", "new_code")
    for segment_id, coder, action, code, new_code in zip(
        *(corrections[c] for c in columns), strict=True
    ):
        codes = found.setdefault((segment_id, coder), set(machine_codes.get(segment_id, ())))
        if action == "accept":
            codes.add(code)
        else:
            codes.discard(code)
            if action == "change":
                codes.add(new_code)
    out = [{"segment_id": s, "coder": c, "codes": sorted(v)} for (s, c), v in sorted(
        found.items())]
    return pd.DataFrame(out, columns=["segment_id", "coder", "codes"])


def _matrix(codings: Sequence[Sequence[str]], codes: Sequence[str]) -> np.ndarray:
    return np.array([[int(c in row) for c in codes] for row in codings], dtype=int).reshape(
        len(codings), len(codes)
    )


def corrections_agreement(
    corrections: pd.DataFrame, machine: pd.DataFrame, codes: Sequence[str]
) -> dict:
    """From the browser's corrections: every pair of coders on the segments both corrected,
    and the machine against each coder on the segments that coder corrected."""
    codings = coder_codings(corrections, machine)
    coders = sorted(set(codings["coder"]))
    machine_codes = _codes_of(machine, codings["segment_id"])
    pairs = []
    for a, b in combinations(coders, 2):
        both = codings[codings["coder"] == a].merge(
            codings[codings["coder"] == b], on="segment_id", suffixes=("_a", "_b")
        )
        result = {"coders": [a, b], "segments": 0}
        if len(both):
            result.update(
                agreement(_matrix(both["codes_a"], codes), _matrix(both["codes_b"], codes), codes)
            )
        pairs.append(result)
    versus_machine = {}
    for coder in coders:
        mine = codings[codings["coder"] == coder]
        model = [sorted(machine_codes.get(s, set())) for s in mine["segment_id"]]
        versus_machine[coder] = agreement(
            _matrix(mine["codes"].tolist(), codes), _matrix(model, codes), codes
        )
    return {"coders": coders, "pairs": pairs, "machine": versus_machine}

"""Evaluation of extraction on the gold: per-field precision, recall and F1 (numbers
within 1 %), side by side with the peer libraries a researcher would otherwise use:
quantulum3 for quantities and price-parser for prices.

quantulum3 runs with its unit classifier disabled (`classifier.USE_CLF = False`): the
bundled model does not load with scikit-learn 1.9; the dictionary disambiguation is used."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from pipeline.core.registry import Registry
from pipeline.extract.gold import LIST_FIELDS, parse_list

SCALAR_FIELDS = ["mass_g", "units", "dose_mg", "volume_ml", "purity_pct", "ships_from"]
REPORT_FIELDS = [*SCALAR_FIELDS, "price", *LIST_FIELDS]
REL_TOL = 0.01
BASELINES: Registry = Registry("extraction baseline")


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA \
        or value == ""


def _same(pred: Any, gold: Any) -> bool:
    if isinstance(gold, str) or isinstance(pred, str):
        return str(pred) == str(gold)
    return math.isclose(float(pred), float(gold), rel_tol=REL_TOL, abs_tol=1e-9)


def field_counts(pred: pd.DataFrame, gold: pd.DataFrame, name: str) -> dict[str, int]:
    """True positives, false positives and false negatives of one field."""
    tp = fp = fn = 0
    for (_, p), (_, g) in zip(pred.iterrows(), gold.iterrows(), strict=True):
        if name in LIST_FIELDS:
            ps, gs = set(parse_list(p.get(name))), set(parse_list(g.get(name)))
            tp, fp, fn = tp + len(ps & gs), fp + len(ps - gs), fn + len(gs - ps)
            continue
        if name == "price":
            pv = None if _missing(p.get("price_amount")) or _missing(p.get("price_currency")) \
                else (p["price_amount"], p["price_currency"])
            gv = (None if _missing(g.get("price_amount"))
                  else (g["price_amount"], g["price_currency"]))
            hit = pv is not None and gv is not None and _same(pv[0], gv[0]) and pv[1] == gv[1]
        else:
            pv = None if _missing(p.get(name)) else p[name]
            gv = None if _missing(g.get(name)) else g[name]
            hit = pv is not None and gv is not None and _same(pv, gv)
        tp += hit
        fp += pv is not None and not hit
        fn += gv is not None and not hit
    return {"tp": tp, "fp": fp, "fn": fn}


def scores(counts: dict[str, int]) -> dict[str, float | int]:
    tp, fp, fn = counts["tp"], counts["fp"], counts["fn"]
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f1, 4),
            "support": tp + fn}


def evaluate(pred: pd.DataFrame, gold: pd.DataFrame, fields: list[str]) -> dict[str, Any]:
    return {f: scores(field_counts(pred, gold, f)) for f in fields}


def mean_f1(block: dict[str, dict[str, float | int]]) -> float:
    """The mean F1 over the fields that occur (support, or predictions where the labels
    have none): a field absent from a set neither helps nor hurts."""
    used = [s["f1"] for s in block.values() if s["support"] or s["fp"]]
    return round(sum(used) / len(used), 4) if used else 0.0


def _scored(pred: pd.DataFrame, ref: pd.DataFrame) -> dict[str, Any]:
    block = {}
    for name in REPORT_FIELDS:
        counts = field_counts(pred, ref, name)
        block[name] = {**scores(counts), "fp": counts["fp"]}
    return {"n": len(ref), "fields": block, "mean_f1": mean_f1(block)}


def blind_scores(pred: pd.DataFrame, labels: pd.DataFrame, langs: pd.Series
                 ) -> dict[str, Any]:
    """Per language and `all`: the extractor against the `gold` coder, and the second
    annotator against the first (`A2` vs `A1`, the agreement that bounds any extractor).
    `pred` and `langs` are indexed by listing_id; `labels` has one row per listing and
    coder."""
    by_coder = {c: labels[labels["coder"] == c].set_index("listing_id") for c in ("A1", "A2",
                                                                            "gold")}
    out: dict[str, Any] = {}
    for lang in ["all", *sorted(langs.unique())]:
        ids = langs.index if lang == "all" else langs.index[langs == lang]
        gold = by_coder["gold"].loc[by_coder["gold"].index.intersection(ids)]
        both = by_coder["A1"].index.intersection(by_coder["A2"].index).intersection(ids)
        out[lang] = {
            "extractor_vs_gold": _scored(pred.loc[gold.index].reset_index(drop=True),
                                         gold.reset_index(drop=True)),
            "a2_vs_a1": _scored(by_coder["A2"].loc[both].reset_index(drop=True),
                                by_coder["A1"].loc[both].reset_index(drop=True)),
        }
    return out


# --- peer libraries ------------------------------------------------------------------------
_MASS_G = {"gram": 1.0, "kilogram": 1000.0, "ounce": 28.3495, "pound": 453.592,
           "pound-mass": 453.592, "tonne": 1e6}
_DOSE_MG = {"milligram": 1.0, "microgram": 0.001}
_VOLUME_ML = {"millilitre": 1.0, "cubic centimetre": 1.0, "litre": 1000.0, "centilitre": 10.0}


def _text(row: pd.Series) -> str:
    return f"{row.get('title', '') or ''}. {row.get('description', '') or ''}"


@BASELINES.register("quantulum3")
def quantulum_fields(listings: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """A researcher's straightforward use of quantulum3: the first quantity of each kind."""
    from quantulum3 import classifier, parser

    classifier.USE_CLF = False
    rows = []
    for _, row in listings.iterrows():
        out: dict[str, Any] = {}
        try:
            quantities = parser.parse(_text(row)[:5000])
        except Exception:  # noqa: BLE001 - a peer failing on a text counts as no answer
            quantities = []
        for q in quantities:
            name, value = q.unit.name, q.value
            if name in _MASS_G:
                out.setdefault("mass_g", value * _MASS_G[name])
            elif name in _DOSE_MG:
                out.setdefault("dose_mg", value * _DOSE_MG[name])
            elif name in _VOLUME_ML:
                out.setdefault("volume_ml", value * _VOLUME_ML[name])
            elif name == "percentage":
                out.setdefault("purity_pct", value)
            elif name == "dimensionless" and value >= 1 and float(value).is_integer():
                out.setdefault("units", value)
        rows.append(out)
    return pd.DataFrame(rows, index=listings.index), ["mass_g", "units", "dose_mg", "volume_ml",
                                                      "purity_pct"]


@BASELINES.register("price_parser")
def price_parser_fields(listings: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """price-parser on `price_raw` (with `currency_raw` as hint), else on the title; its
    currency strings are mapped to ISO codes with the project's currency vocabulary."""
    from price_parser import Price

    from pipeline.extract.vocab import Vocabulary

    table = Vocabulary.load("conf/extraction/vocabulary").currency_of

    def currency_of(text: str) -> str | None:
        return table.get(text.strip().lower(), text.strip().upper() or None)

    rows = []
    for _, row in listings.iterrows():
        raw = str(row.get("price_raw", "") or "")
        hint = str(row.get("currency_raw", "") or "") or None
        price = Price.fromstring(raw or str(row.get("title", "")), currency_hint=hint)
        currency = price.currency
        code = currency_of(currency) if currency else None
        amount = float(price.amount) if price.amount is not None else None
        rows.append({"price_amount": amount, "price_currency": code})
    return pd.DataFrame(rows, index=listings.index), ["price"]

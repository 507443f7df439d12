"""Scoring forum posts for harm-reduction content, and the shares the report shows."""

from __future__ import annotations

import json

import pandas as pd

from pipeline.core.corpus import split_by_reason
from pipeline.core.io import require_columns
from pipeline.forums.model import HarmReductionModel


def score_posts(
    posts: pd.DataFrame, model: HarmReductionModel
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Posts -> (scored with harm_reduction, hr_labels, hr_evidence; quarantined empty)."""
    require_columns(posts, ("post_id", "text"), "input", what="post")
    frame = posts.reset_index(drop=True).copy()
    frame["text"] = frame["text"].fillna("").astype(str)
    reasons = frame["text"].str.strip().eq("").map({True: "empty text", False: ""})
    kept, quarantined = split_by_reason(frame, reasons)
    predicted = model.predict(kept["text"].tolist())
    kept["hr_labels"] = [
        [n for n, on in zip(model.labels_, row, strict=True) if on] for row in predicted
    ]
    kept["harm_reduction"] = predicted.any(axis=1)
    kept["hr_evidence"] = [
        json.dumps(model.lexicon_.evidence(t), ensure_ascii=False) for t in kept["text"]
    ]
    return kept, quarantined


def summarise(scored: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """Share of posts with harm-reduction content, overall and by label."""
    n = len(scored)
    rows = [
        {
            "label": "any",
            "posts": int(scored["harm_reduction"].sum()),
            "share": round(float(scored["harm_reduction"].mean()), 4) if n else 0.0,
        }
    ]
    for name in names:
        has = scored["hr_labels"].map(lambda labels, name=name: name in list(labels))
        rows.append(
            {
                "label": name,
                "posts": int(has.sum()),
                "share": round(float(has.mean()), 4) if n else 0.0,
            }
        )
    return pd.DataFrame(rows).assign(total_posts=n)

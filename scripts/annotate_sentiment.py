"""Annotation helper for the review-sentiment gold (data/gold/sentiment/labels.csv).

`draw` samples real reviews of TRAINING sellers only (the held-out sellers of
`cryptodrug evaluate-sentiment` are never drawn, nor are reviews already labelled) and
writes two work files outside the project (never commit them): a blind file with only a
running number and the text, shuffled, and a key file the annotator does not open. The
annotator writes `number,label` lines by reading the blind file (guideline:
data/gold/sentiment/README.md); `merge` joins the labels to the keys and appends them to
the gold as keys + text hash, never the text.

    python scripts/annotate_sentiment.py draw /tmp/S/round2 --round 2
    python scripts/annotate_sentiment.py merge /tmp/S/round2 /tmp/S/round2_labels.csv
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd
import typer

from pipeline import reviews as R
from pipeline.config import compose_params, public_data_root

app = typer.Typer(add_completion=False)
GOLD = Path("data/gold/sentiment/labels.csv")
# round 2 strata: (name, source, ratings, n or None for all). Mid and low ratings are taken
# whole; `ambiguous` = top-rated reviews VADER does not read as positive (rating and text
# likely disagree), a cheap signal independent of the model being trained.
STRATA_2 = [
    ("agora:1-4", "agora", (1, 2, 3, 4), None),
    ("trust:-4..4", "trust", (-4, -3, -2, -1, 0, 1, 2, 3, 4), None),
    ("agora:0", "agora", (0,), 60),
    ("trust:-5", "trust", (-5,), 50),
    ("agora:5", "agora", (5,), 70),
    ("trust:5", "trust", (5,), 50),
    ("ambiguous:5", "any", (5,), 40),
]


def training_side(corpus: pd.DataFrame, seed: int, test_size: float) -> pd.DataFrame:
    """The reviews of the sellers the evaluation trains on (the same grouped split)."""
    from sklearn.model_selection import GroupShuffleSplit

    split = GroupShuffleSplit(n_splits=1, test_size=test_size, random_state=seed)
    train_idx, _ = next(split.split(corpus, groups=corpus["vendor"] + "|" + corpus["market"]))
    return corpus.iloc[train_idx]


def draw_sample(pool: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Stratified sample of distinct texts; each review is drawn at most once."""
    rng = np.random.default_rng(seed)
    pool = pool.drop_duplicates("text")
    picked: list[pd.DataFrame] = []
    for name, source, ratings, n in STRATA_2:
        taken = pd.concat(picked)["review_id"] if picked else pd.Series(dtype=str)
        part = pool[pool["rating"].isin(ratings) & ~pool["review_id"].isin(taken)]
        if source != "any":
            part = part[part["source"].eq(source)]
        else:
            compound = np.array(R.vader_compound(part["text"].tolist()))
            part = part[compound < 0.05]
        if n is not None and len(part) > n:
            part = part.iloc[np.sort(rng.choice(len(part), n, replace=False))]
        picked.append(part.assign(rating_bucket=name))
    sample = pd.concat(picked, ignore_index=True)
    return sample.iloc[rng.permutation(len(sample))].reset_index(drop=True)


@app.command()
def draw(work: Path, seed: int = 7, round_: Annotated[int, typer.Option("--round")] = 2) -> None:
    root = public_data_root()
    if root is None:
        raise typer.BadParameter("public data absent ($CRYPTODRUG_PUBLIC_DATA)")
    params = compose_params(["data=public"])
    cfg = params["reviews"]
    corpus, _ = R.build_corpus(root, params["data"]["reviews"]["sources"], cfg["rating_scales"])
    gold = pd.read_csv(GOLD, dtype=str, keep_default_na=False)
    pool = training_side(corpus, params["seed"], cfg["eval"]["test_size"])
    pool = pool[~pool["review_id"].isin(gold["review_id"]) & ~pool["text"].isin(
        corpus.loc[corpus["review_id"].isin(gold["review_id"]), "text"])]
    sample = draw_sample(pool, seed + round_)
    sample["number"] = np.arange(1, len(sample) + 1)
    work.mkdir(parents=True, exist_ok=True)
    sample[["number", "text"]].to_csv(work / "blind.csv", index=False)
    sample.assign(text_sha=sample["text"].map(R.text_hash))[
        ["number", "source", "review_id", "text_sha", "rating_bucket"]
    ].to_csv(work / "keys.csv", index=False)
    typer.echo(f"{len(sample)} reviews -> {work}/blind.csv (read) and keys.csv (do not open)")


@app.command()
def merge(work: Path, labels: Path, annotator: str = "A1") -> None:
    keys = pd.read_csv(work / "keys.csv", dtype=str, keep_default_na=False)
    given = pd.read_csv(labels, dtype=str, keep_default_na=False)
    bad = given[~given["label"].isin(R.LABELS)]
    if len(bad) or set(given["number"]) != set(keys["number"]):
        raise typer.BadParameter(f"labels must cover every number once with one of {R.LABELS}")
    rows = keys.merge(given, on="number").assign(split="train", annotator=annotator)
    gold = pd.read_csv(GOLD, dtype=str, keep_default_na=False)
    if rows["review_id"].isin(gold["review_id"]).any():
        raise typer.BadParameter("some reviews are already in the gold")
    out = pd.concat([gold, rows[gold.columns]], ignore_index=True)
    out.to_csv(GOLD, index=False)
    typer.echo(f"{len(rows)} labels appended -> {GOLD} ({len(out)} in all)")


if __name__ == "__main__":
    app()

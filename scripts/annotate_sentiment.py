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
    python scripts/annotate_sentiment.py draw /tmp/S2/round3 --round 3

`second-pass` writes the same blind work files for every `split=test` review (a second,
independent annotator labels them without the first one's label, the rating or any model
reading); `merge --second-pass` writes data/gold/sentiment/second_pass.csv (keys + hash).

    python scripts/annotate_sentiment.py second-pass /tmp/A2/second
    python scripts/annotate_sentiment.py merge /tmp/A2/second /tmp/A2/labels.csv \
        --second-pass --annotator A2
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd
import typer

from pipeline.core.config import compose_params, public_data_root
from pipeline.core.text import content_key
from pipeline.reviews.annotation import (
    STRATA,
    blind_test_part,
    cross_fitted_labels,
    draw_sample,
    training_side,
)
from pipeline.reviews.gold import load_human_gold, with_human_labels
from pipeline.reviews.labels import LABELS
from pipeline.reviews.sources import build_corpus

app = typer.Typer(add_completion=False)
GOLD = Path("data/gold/sentiment/labels.csv")
SECOND = Path("data/gold/sentiment/second_pass.csv")


@app.command()
def draw(work: Path, seed: int = 7, round_: Annotated[int, typer.Option("--round")] = 2) -> None:
    root = public_data_root()
    if root is None:
        raise typer.BadParameter("public data absent ($CRYPTODRUG_PUBLIC_DATA)")
    params = compose_params(["data=public"])
    cfg = params["reviews"]
    corpus, _ = build_corpus(root, params["data"]["reviews"]["sources"], cfg["rating_scales"])
    gold = pd.read_csv(GOLD, dtype=str, keep_default_na=False)
    side = training_side(corpus, params["seed"], cfg["eval"]["test_size"])
    strata = STRATA[round_]
    if any(rule.startswith("pred_") for *_, rule in strata):
        human = load_human_gold(GOLD, corpus)
        trained = with_human_labels(side, human, 1.0)
        side = side.assign(predicted=cross_fitted_labels(trained, cfg, params["seed"]))
    pool = side[~side["review_id"].isin(gold["review_id"]) & ~side["text"].isin(
        corpus.loc[corpus["review_id"].isin(gold["review_id"]), "text"])]
    sample = draw_sample(pool, seed + round_, strata)
    sample["number"] = np.arange(1, len(sample) + 1)
    sample["text_sha"] = sample["text"].map(content_key)
    _write_work(sample, work, ["source", "review_id", "text_sha", "rating_bucket"])


def _write_work(sample: pd.DataFrame, work: Path, keys: list[str]) -> None:
    work.mkdir(parents=True, exist_ok=True)
    sample[["number", "text"]].to_csv(work / "blind.csv", index=False)
    sample[["number", *keys]].to_csv(work / "keys.csv", index=False)
    typer.echo(f"{len(sample)} reviews -> {work}/blind.csv (read) and keys.csv (do not open)")


@app.command("second-pass")
def second_pass(work: Path, corpus: Path | None = None, seed: int = 7) -> None:
    """Blind work files for a second annotator over the gold test part (`--corpus`: a
    `review-corpus` table; default: built from the public data)."""
    if corpus is None:
        root = public_data_root()
        if root is None:
            raise typer.BadParameter("public data absent ($CRYPTODRUG_PUBLIC_DATA)")
        params = compose_params(["data=public"])
        reviews, _ = build_corpus(
            root, params["data"]["reviews"]["sources"], params["reviews"]["rating_scales"]
        )
    else:
        reviews = pd.read_parquet(corpus)
    gold = pd.read_csv(GOLD, dtype=str, keep_default_na=False)
    _write_work(blind_test_part(gold, reviews, seed), work, ["source", "review_id", "text_sha"])


def _given_labels(keys: pd.DataFrame, labels: Path) -> pd.DataFrame:
    given = pd.read_csv(labels, dtype=str, keep_default_na=False)
    bad = given[~given["label"].isin(LABELS)]
    if len(bad) or given["number"].duplicated().any() or set(given["number"]) != set(
        keys["number"]
    ):
        raise typer.BadParameter(f"labels must cover every number once with one of {LABELS}")
    return keys.merge(given, on="number")


@app.command()
def merge(
    work: Path,
    labels: Path,
    annotator: str = "A1",
    second: Annotated[bool, typer.Option("--second-pass")] = False,
) -> None:
    keys = pd.read_csv(work / "keys.csv", dtype=str, keep_default_na=False)
    rows = _given_labels(keys, labels).assign(annotator=annotator)
    if second:
        out = rows[["source", "review_id", "text_sha", "label", "annotator"]]
        out.sort_values("review_id").to_csv(SECOND, index=False)
        typer.echo(f"{len(out)} second-pass labels -> {SECOND}")
        return
    rows = rows.assign(split="train")
    gold = pd.read_csv(GOLD, dtype=str, keep_default_na=False)
    if rows["review_id"].isin(gold["review_id"]).any():
        raise typer.BadParameter("some reviews are already in the gold")
    out = pd.concat([gold, rows[gold.columns]], ignore_index=True)
    out.to_csv(GOLD, index=False)
    typer.echo(f"{len(rows)} labels appended -> {GOLD} ({len(out)} in all)")


if __name__ == "__main__":
    app()

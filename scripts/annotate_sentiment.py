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
from pipeline.reviews.evaluate import vader_compound
from pipeline.reviews.gold import load_human_gold, with_human_labels
from pipeline.reviews.labels import LABELS, normalise_text
from pipeline.reviews.ngram import SENTIMENT_MODELS
from pipeline.reviews.sources import build_corpus

app = typer.Typer(add_completion=False)
GOLD = Path("data/gold/sentiment/labels.csv")
SECOND = Path("data/gold/sentiment/second_pass.csv")
# strata: (name, source or "any", ratings or None for all, n or None for all, rule). Rules:
# `all`; `vader_nonpos` = VADER compound below 0.05 (a cheap signal independent of the
# model); `pred_nonpos` / `pred_pos` = a dev-fold model (cross-fitted over the training
# sellers, `cross_fitted_labels`) reads the text as not positive / positive; `cue:REGEX` =
# the text matches (case-insensitive); `short` = at most 3 words.
Stratum = tuple[str, str, tuple[int, ...] | None, int | None, str]
STRATA: dict[int, list[Stratum]] = {
    # round 2: mid and low ratings taken whole, top ratings sampled
    2: [
        ("agora:1-4", "agora", (1, 2, 3, 4), None, "all"),
        ("trust:-4..4", "trust", (-4, -3, -2, -1, 0, 1, 2, 3, 4), None, "all"),
        ("agora:0", "agora", (0,), 60, "all"),
        ("trust:-5", "trust", (-5,), 50, "all"),
        ("agora:5", "agora", (5,), 70, "all"),
        ("trust:5", "trust", (5,), 50, "all"),
        ("ambiguous:5", "any", (5,), 40, "vader_nonpos"),
    ],
    # round 3: what the round-2 model lacks: neutral and mixed texts, rating/text
    # disagreement as a dev-fold model sees it, short slang; mid ratings left over
    3: [
        ("agora:1-4", "agora", (1, 2, 3, 4), None, "all"),
        ("trust:-4..4", "trust", (-4, -3, -2, -1, 0, 1, 2, 3, 4), None, "all"),
        ("disagree:top", "any", (5,), 150, "pred_nonpos"),
        ("disagree:low", "any", (-5, -4, -3, 0, 1, 2), 60, "pred_pos"),
        ("cue:pending", "any", None, 80, r"cue:will update|update (?:later|soon|after|when)|"
         r"\b(?:not|n'?t|yet to|didn'?t|did not) (?:yet )?(?:tried|tested|test|try|sampled)|"
         r"\bwaiting\b|\bfe\b|finali[sz]ed? early|early finali|\bso far\b"),
        ("cue:factual", "any", None, 60, r"cue:^\W*(?:received|recieved|recived|arrived|got "
         r"(?:it|them|my|the)|came|order(?:ed)?\b|package)[^!]{0,30}$"),
        ("cue:mixed", "any", None, 120, r"cue:\b(?:but|however|although|though|except|only "
         r"(?:issue|problem|complaint)|a (?:bit|little) (?:slow|late|weak|light))\b"),
        ("short", "any", None, 50, "short"),
    ],
}
STRATA_2 = STRATA[2]


def training_side(corpus: pd.DataFrame, seed: int, test_size: float) -> pd.DataFrame:
    """The reviews of the sellers the evaluation trains on (the same grouped split)."""
    from sklearn.model_selection import GroupShuffleSplit

    split = GroupShuffleSplit(n_splits=1, test_size=test_size, random_state=seed)
    train_idx, _ = next(split.split(corpus, groups=corpus["vendor"] + "|" + corpus["market"]))
    return corpus.iloc[train_idx]


def cross_fitted_labels(side: pd.DataFrame, cfg: dict, seed: int, folds: int = 5) -> pd.Series:
    """What a dev-fold model reads in each training-side text: the configured text model
    trained on the other folds (grouped by seller; rating labels, human labels in place
    where given), plain argmax, so no review is scored by a model that saw it."""
    from sklearn.model_selection import GroupKFold

    texts = [normalise_text(t, cfg["emoji"], cfg["max_chars"]) for t in side["text"]]
    labels = side["label"].to_numpy()
    out = np.empty(len(side), dtype=object)
    split = GroupKFold(folds).split(side, groups=side["vendor"] + "|" + side["market"])
    for trained, held in split:
        model = SENTIMENT_MODELS.get(cfg["model"])(cfg["tfidf"], cfg["embedding"], seed)
        model.fit([texts[i] for i in trained], labels[trained])
        out[held] = model.predict([texts[i] for i in held])
    return pd.Series(out, index=side.index)


def _select(part: pd.DataFrame, rule: str) -> pd.DataFrame:
    if rule == "all":
        return part
    if rule == "vader_nonpos":
        return part[np.array(vader_compound(part["text"].tolist())) < 0.05]
    if rule in ("pred_nonpos", "pred_pos"):
        return part[part["predicted"].eq("positive") == (rule == "pred_pos")]
    if rule == "short":
        return part[part["text"].str.split().str.len().le(3)]
    if rule.startswith("cue:"):
        return part[part["text"].str.contains(rule[4:], case=False, regex=True)]
    raise ValueError(f"unknown stratum rule {rule}")


def draw_sample(pool: pd.DataFrame, seed: int, strata: list[Stratum] = STRATA_2) -> pd.DataFrame:
    """Stratified sample of distinct texts; each review is drawn at most once."""
    rng = np.random.default_rng(seed)
    pool = pool.drop_duplicates("text")
    picked: list[pd.DataFrame] = []
    for name, source, ratings, n, rule in strata:
        taken = pd.concat(picked)["review_id"] if picked else pd.Series(dtype=str)
        part = pool[~pool["review_id"].isin(taken)]
        if ratings is not None:
            part = part[part["rating"].isin(ratings)]
        if source != "any":
            part = part[part["source"].eq(source)]
        part = _select(part, rule)
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


def blind_test_part(gold: pd.DataFrame, corpus: pd.DataFrame, seed: int) -> pd.DataFrame:
    """The gold's `test` reviews for a second, blind pass: running number, text and keys
    only (no label, rating or stratum), shuffled with `seed`; a changed text is an error."""
    test = gold.loc[gold["split"].eq("test"), ["source", "review_id", "text_sha"]]
    text = corpus.drop_duplicates("review_id").set_index("review_id")["text"]
    missing = test[~test["review_id"].isin(text.index)]
    if len(missing):
        raise typer.BadParameter(f"{len(missing)} test reviews not in the corpus")
    test = test.assign(text=text[test["review_id"]].to_numpy())
    if (test["text"].map(content_key) != test["text_sha"]).any():
        raise typer.BadParameter("test review texts changed since labelling (hash mismatch)")
    rng = np.random.default_rng(seed)
    out = test.iloc[rng.permutation(len(test))].reset_index(drop=True)
    return out.assign(number=np.arange(1, len(out) + 1))


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

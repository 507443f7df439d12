"""Drawing reviews for human sentiment labels: which reviews a labelling round samples
(training-side sellers only, stratified, distinct texts). `scripts/annotate_sentiment.py`
writes the work files around these functions."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.core.corpus import check_stored_labels
from pipeline.reviews.evaluate import heldout_seller_split, vader_compound
from pipeline.reviews.labels import normalise_text
from pipeline.reviews.ngram import SENTIMENT_MODELS

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
    return heldout_seller_split(corpus, seed, test_size)[0]


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


def blind_test_part(gold: pd.DataFrame, corpus: pd.DataFrame, seed: int) -> pd.DataFrame:
    """The gold's `test` reviews for a second, blind pass: running number, text and keys
    only (no label, rating or stratum), shuffled with `seed`; a changed text is an error."""
    test = gold.loc[gold["split"].eq("test"), ["source", "review_id", "text_sha"]]
    text = corpus.drop_duplicates("review_id").set_index("review_id")["text"]
    check_stored_labels(test, text, "sentiment gold", "review_id", noun="test reviews")
    test = test.assign(text=text[test["review_id"]].to_numpy())
    rng = np.random.default_rng(seed)
    out = test.iloc[rng.permutation(len(test))].reset_index(drop=True)
    return out.assign(number=np.arange(1, len(out) + 1))

"""Leave-one-writer-out development figures for review sentiment (issue 15).

Each writer's file of written reviews (`reviews.written.folder`) is scored by the n-gram
model trained on everything else (the public corpus's rating and human labels, the seed
examples and the other writers' files): how well the model reads a writer it never saw,
per language, which is what the blind sets test. The blind sets are never read here. The
encoder is left out (it reads English only) and so are the decision offsets.

    python scripts/dev_sentiment_writers.py data/interim/reviews.parquet \
        --params params.yaml --weight 1 --weight 10
"""

from __future__ import annotations

import argparse
import copy
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from sklearn.metrics import f1_score

from pipeline.core.corpus import config_section
from pipeline.reviews.labels import load_seed_examples
from pipeline.reviews.model import SentimentModel
from pipeline.reviews.stage import read_corpus, whole_training_frame, written_reviews


def writer_figures(corpus: pd.DataFrame, cfg: dict, seed: int) -> dict[str, float]:
    """Macro-F1 per language of the leave-one-writer-out predictions."""
    cfg = {**cfg, "encoder": {**cfg["encoder"], "enabled": False},
           "decision": {**cfg["decision"], "tune": False}}
    written = written_reviews(cfg)
    train = whole_training_frame(corpus, cfg, load_seed_examples(Path(cfg["seed_examples"])),
                                 written)
    scored = []
    for _, own in written.groupby("writer"):
        rest = train[~train["text"].isin(set(own["text"]))]
        model = SentimentModel.from_config(cfg, seed).fit(
            rest["text"].tolist(), rest["label"].tolist(), sample_weight=rest["weight"].tolist())
        scored.append(own.assign(predicted=model.predict(own["text"].tolist())))
    rows = pd.concat(scored)
    return {lang: round(float(f1_score(g["sentiment"], g["predicted"], average="macro")), 4)
            for lang, g in rows.groupby("lang")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path, help="the review corpus (`review-corpus` output)")
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    parser.add_argument("--weight", type=float, action="append",
                        help="written-review weights to compare (default: the configured one)")
    args = parser.parse_args()
    params = yaml.safe_load(args.params.read_text(encoding="utf-8"))
    cfg = config_section(params, "reviews")
    corpus = read_corpus(args.corpus, cfg)
    for weight in args.weight or [cfg["written"]["weight"]]:
        trial = copy.deepcopy(cfg)
        trial["written"]["weight"] = weight
        figures = writer_figures(corpus, trial, params.get("seed", 42))
        print(f"written weight {weight:g}: macro-F1 "
              + ", ".join(f"{lang} {f1:.3f}" for lang, f1 in sorted(figures.items()))
              + f" (mean {np.mean(list(figures.values())):.3f})")


if __name__ == "__main__":
    main()

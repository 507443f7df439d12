"""Throughput of the default review-sentiment and harm-reduction models (target: >= 1,000
texts/s on 2 cores), each on the texts it is for: buyer reviews, forum posts. Uses
models/sentiment and models/harm_reduction (`dvc repro`), or trains both on the bundled
sample when they are absent.

    python scripts/bench_reviews.py [--n 5000] [--sentiment-model DIR] [--hr-model DIR]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd

from pipeline.core.config import PROJECT_ROOT, load_params, public_data_root
from pipeline.forums.gold import label_matrix, load_gold
from pipeline.forums.model import HarmReductionModel
from pipeline.forums.sources import load_reddit_drugs_ner
from pipeline.reviews.labels import labelled
from pipeline.reviews.model import SentimentModel


def texts(n: int) -> dict[str, list[str]]:
    """Real texts of each task when the public data is there (buyer reviews for sentiment,
    forum posts for harm reduction), else the bundled sample; repeated up to `n`."""
    root = public_data_root()
    if root is not None:
        reviews = pd.read_csv(
            root / "reviews/trust-in-illicit-markets/darknet_sales_reviews_shared.csv"
        )["review_text"].fillna("").astype(str).tolist()
        posts = load_reddit_drugs_ner(root / "forums/reddit-drugs-ner/drugs_training.jsonl")[
            "text"
        ].tolist()
    else:
        reviews = pd.read_csv(PROJECT_ROOT / "data/sample/reviews.csv")["text"].tolist()
        posts = pd.read_csv(PROJECT_ROOT / "data/sample/forum_posts.csv")["text"].tolist()
    return {
        task: (pool * (n // len(pool) + 1))[:n]
        for task, pool in (("sentiment", reviews), ("harm-reduction", posts))
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--sentiment-model", type=Path, default=PROJECT_ROOT / "models/sentiment")
    parser.add_argument("--hr-model", type=Path, default=PROJECT_ROOT / "models/harm_reduction")
    args = parser.parse_args()
    params = load_params()
    sample = PROJECT_ROOT / "data/sample"
    if (args.sentiment_model / "model_card.json").exists():
        sentiment = SentimentModel.load(args.sentiment_model)
    else:
        rated = labelled(pd.read_csv(sample / "reviews.csv"), params["reviews"])
        sentiment = SentimentModel.from_config(params["reviews"]).fit(
            rated["text"].tolist(), rated["label"].tolist()
        )
    if (args.hr_model / "model_card.json").exists():
        harm = HarmReductionModel.load(args.hr_model)
    else:
        gold = load_gold(
            pd.read_csv(sample / "forum_posts.csv", dtype=str, keep_default_na=False),
            params["forums"],
        )
        harm = HarmReductionModel.from_config(params["forums"]).fit(
            gold["text"].tolist(), label_matrix(gold["labels"], params["forums"]["labels"])
        )
    batches = texts(args.n)
    for name, run in (
        ("sentiment", sentiment.score_texts),
        ("harm-reduction", harm.predict),
    ):
        batch = batches[name]
        start = time.perf_counter()
        run(batch)
        elapsed = time.perf_counter() - start
        print(
            f"{name:<15} {len(batch)} texts in {elapsed:.2f}s = {len(batch) / elapsed:,.0f} texts/s"
        )


if __name__ == "__main__":
    main()

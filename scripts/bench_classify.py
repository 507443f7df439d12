"""Benchmark the listing classifier: training time on all labelled listings and prediction
throughput (listings/s), the figures of issue 3's targets (< 3 min; >= 10,000/s on 2 cores).

    python scripts/bench_classify.py data/interim/listings   # after `dvc exp run -S data=public`
    python scripts/bench_classify.py DIR --model-dir models/classifier   # time a saved model
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import pandas as pd

from pipeline.classify.labels import labelled_data, listing_text, load_category_maps
from pipeline.classify.models import load_model
from pipeline.classify.predict import predict_categories
from pipeline.classify.stage import read_listings
from pipeline.classify.training import fit_model
from pipeline.core.config import load_params


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("listings", type=Path, help="folder of ingested listing tables")
    parser.add_argument("--model-dir", type=Path, help="time this saved model, do not train")
    parser.add_argument("--repeat", type=int, default=3, help="prediction runs (best is kept)")
    args = parser.parse_args()

    params = load_params()
    model_cfg = params["model"]
    listings = read_listings(args.listings)
    print(f"{len(listings)} listings, {os.cpu_count()} CPUs, model {model_cfg['name']}")
    if args.model_dir:
        model, _ = load_model(args.model_dir)
    else:
        data, _ = labelled_data(listings, load_category_maps(),
                                model_cfg.get("text_max_chars", 1000))
        start = time.perf_counter()
        model = fit_model(model_cfg, data, params.get("seed", 42))
        print(f"training on {len(data)} labelled listings: {time.perf_counter() - start:.1f} s")

    texts = listing_text(listings, model_cfg.get("text_max_chars", 1000))
    texts = texts[texts.ne("")]
    best = float("inf")
    for _ in range(args.repeat):
        start = time.perf_counter()
        predicted = predict_categories(model, texts, batch_size=len(texts))
        best = min(best, time.perf_counter() - start)
    rate = len(texts) / best
    print(f"prediction: {len(texts)} listings in {best:.2f} s = {rate:,.0f} listings/s")
    print(pd.Series(predicted["category"]).value_counts().to_string())


if __name__ == "__main__":
    main()

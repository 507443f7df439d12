"""Throughput of `cryptodrug extract` (listings per second) on real listings from the public
data, with nlp.pipe batching, every field included (`substances` too). Prints the figure; the
target is >= 2,000 listings/s on 2 cores.

    python scripts/bench_extract.py [--n 20000]
"""

from __future__ import annotations

import time

import pandas as pd
import typer

from pipeline.core.config import load_market_config, public_data_root
from pipeline.extract import ListingExtractor
from pipeline.ingest import expand_inputs, ingest_files

MARKETS = [("darkmatter", "markets/darkmatter-2024"), ("drughub", "markets/drughub-2024"),
           ("agora", "markets/agora-2014"), ("alphabay", "markets/alphabay-2017"),
           ("cryptomarketstudy", "markets/cryptomarketstudy-2019")]


def main(n: int = 20000, seed: int = 42) -> None:
    root = public_data_root()
    if root is None:
        raise SystemExit("public data absent: set CRYPTODRUG_PUBLIC_DATA")
    frames = []
    for market, folder in MARKETS:
        cfg = load_market_config(market)
        frames.append(ingest_files(expand_inputs([root / folder], cfg), cfg).listings)
    listings = pd.concat(frames, ignore_index=True)
    sample = listings.sample(n=min(n, len(listings)), random_state=seed).reset_index(drop=True)
    extractor = ListingExtractor().fit()
    extractor.transform(sample.head(200))  # warm the caches and lazy tables
    start = time.perf_counter()
    extractor.transform(sample)
    seconds = time.perf_counter() - start
    chars = int((sample["title"].str.len() + sample["description"].str.len()).mean())
    print(f"{len(sample)} listings (mean {chars} chars of text) in {seconds:.1f} s: "
          f"{len(sample) / seconds:,.0f} listings/s")


if __name__ == "__main__":
    typer.run(main)

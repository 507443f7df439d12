"""Benchmark: code 10,000 answer segments (target: under a minute on 2 cores).

Trains the configured coder on the gold segments, builds N segments from the project's own
gold and sample texts (one or two sentences each), and times `code-themes` end to end:
language detection, flags, coding with evidence, review queue and inductive themes.

    python scripts/bench_themes.py [--n 10000] [--components patterns,tfidf]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from pipeline.core.config import PARAMS_FILE, PROJECT_ROOT
from pipeline.themes.stage import run_code, run_train


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--components", default=None, help="e.g. patterns,tfidf,embeddings")
    args = parser.parse_args()
    params = yaml.safe_load(PARAMS_FILE.read_text())
    if args.components:
        params["themes"]["coder"]["components"] = args.components.split(",")
    gold = pd.read_csv(PROJECT_ROOT / params["themes"]["gold"], dtype=str, keep_default_na=False)
    rng = np.random.default_rng(int(params["seed"]))
    texts = gold["text"].to_numpy()
    pick = rng.integers(0, len(texts), size=(args.n, 2))
    two = rng.random(args.n) < 0.5
    segments = pd.DataFrame(
        {
            "segment_id": [f"bench-{i:05d}" for i in range(args.n)],
            "respondent_id": [f"r{i // 6}" for i in range(args.n)],
            "source": "survey",
            "text": [
                f"{texts[a]} {texts[b]}" if t else texts[a]
                for (a, b), t in zip(pick, two, strict=True)
            ],
        }
    )
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        cfg = {**params["themes"], "corrections": str(tmp / "none.jsonl")}
        segments.to_parquet(tmp / "segments.parquet")
        run_train(None, tmp / "model", None, None, cfg, int(params["seed"]))
        start = time.perf_counter()
        counts = run_code(tmp / "segments.parquet", tmp / "out.parquet", tmp / "model", None, cfg)
        seconds = time.perf_counter() - start
    print(
        f"coded {args.n} segments ({counts['codes']} codes) with "
        f"{'+'.join(params['themes']['coder']['components'])} in {seconds:.1f} s "
        f"({args.n / seconds:.0f} segments/s); target < 60 s"
    )


if __name__ == "__main__":
    main()

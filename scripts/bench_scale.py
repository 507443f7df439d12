"""Benchmark of the partitioned pipeline (issue 19): ingest -> classify -> extract -> analyse
over a corpus of `--scale` times the ingested listings, with the local engine and with Dask
at 1 and 2 workers. Prints wall time, listings per second per stage and peak memory (RSS of
the command and its worker processes, summed).

The corpus is generated at benchmark time under --work (never committed): listings resampled
with replacement, each title and description given a random extra word and each scrape date
shifted by up to 60 days, written as one CSV per scrape day of a market `bench`.

    python scripts/bench_scale.py --scale 10                 # the issue's 10x (about 1.25M)
    python scripts/bench_scale.py --scale 0.05 --engines local   # a quick check
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import yaml

from pipeline.core.io import read_table
from pipeline.core.schema import CANONICAL_COLUMNS

WORDS = np.array(["fast", "stealth", "premium", "sale", "new", "batch", "lab", "tested"])
ENGINES = {"local": {"name": "local"},
           "dask-1": {"name": "dask", "scheduler": None, "n_workers": 1, "threads_per_worker": 1},
           "dask-2": {"name": "dask", "scheduler": None, "n_workers": 2, "threads_per_worker": 1}}


def generate(listings: Path, scale: float, folder: Path, seed: int = 0) -> tuple[Path, int]:
    """The resampled corpus as CSV files (one per scrape day) and its market config."""
    rng = np.random.default_rng(seed)
    source = read_table(listings)
    n = int(len(source) * scale)
    rows = source.iloc[rng.integers(0, len(source), n)].reset_index(drop=True)
    extra = WORDS[rng.integers(0, len(WORDS), n)]
    rows["title"] = rows["title"].astype(str) + " " + extra
    rows["description"] = rows["description"].fillna("").astype(str) + " " + extra
    days = pd.to_datetime(rows["scraped_at"].astype(str).str[:10], errors="coerce")
    shifted = days + pd.to_timedelta(rng.integers(0, 60, n), unit="D")
    rows["scraped_at"] = shifted.dt.strftime("%Y-%m-%d").fillna("2020-01-01")
    rows["category_raw"] = rows["market"].astype(str) + " > " + rows["category_raw"].astype(str)
    raw = folder / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    columns = [c for c in CANONICAL_COLUMNS if c not in ("listing_id", "market")]
    for day, part in rows.groupby("scraped_at"):
        part[columns].to_csv(raw / f"bench_{day}.csv", index=False)
    config = {"adapter": "tabular", "name": "bench", "files": ["bench_*.csv"],
              "columns": {c: c for c in columns}, "category_map": {}}
    (folder / "bench.yaml").write_text(yaml.safe_dump(config))
    return folder / "bench.yaml", n


def timed(cmd: list[str]) -> tuple[float, float]:
    """(seconds, peak GB of the command's process tree, sampled every 0.2 s)."""
    start, peak = time.perf_counter(), 0
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    parent = psutil.Process(proc.pid)
    while proc.poll() is None:
        try:
            tree = [parent, *parent.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
        except psutil.Error:
            pass
        time.sleep(0.2)
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr.read()[-2000:]}")
    return time.perf_counter() - start, peak / 1e9


def run(engine: str, config: Path, work: Path, model: Path, params: Path, n: int) -> None:
    loaded = yaml.safe_load(params.read_text()) | {"engine": ENGINES[engine]}
    own = work / f"params-{engine}.yaml"
    own.write_text(yaml.safe_dump(loaded))
    out = work / engine
    stages = {
        "ingest": ["ingest", "--market", str(config), str(work / "raw"), "-o",
                   str(out / "listings")],
        "classify": ["classify", str(out / "listings"), "-o", str(out / "classified"),
                     "--model", str(model)],
        "extract": ["extract", str(out / "classified"), "-o", str(out / "extracted")],
        "analyse": ["analyse", str(out / "extracted"), "-o", str(out / "analytics")],
    }
    total = 0.0
    for stage, args in stages.items():
        seconds, peak = timed(["cryptodrug", *args, "--params", str(own)])
        total += seconds
        print(f"{engine:7} {stage:9} {seconds:8.1f} s {n / seconds:9.0f} listings/s "
              f"peak {peak:5.2f} GB", flush=True)
    print(f"{engine:7} {'total':9} {total:8.1f} s {n / total:9.0f} listings/s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=10.0)
    parser.add_argument("--listings", type=Path, default=Path("data/interim/listings"),
                        help="ingested listings to resample (after `dvc exp run -S data=public`)")
    parser.add_argument("--model", type=Path, default=Path("models/classifier"))
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--work", type=Path, default=None, help="scratch folder (default: tmp)")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="bench_scale_"))
    config, n = generate(args.listings, args.scale, work)
    print(f"{n} generated listings under {work}", flush=True)
    for engine in args.engines.split(","):
        run(engine, config, work, args.model.resolve(), args.params.resolve(), n)


if __name__ == "__main__":
    main()

"""Benchmark of the analyse and report stages: wall time and peak memory.

    python scripts/bench_analyse.py [LISTINGS] [--feedback DIR]

LISTINGS defaults to data/processed/listings.parquet (classified and extracted; run
`dvc exp run -S data=public` first for the ~150k public listings). Target: analyse + report
under 5 minutes and 4 GB on 2 cores.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from pipeline.analyse.stage import run_analyse
from pipeline.core.config import load_params
from pipeline.report.stage import run_report

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("listings", nargs="?", default="data/processed/listings.parquet")
    parser.add_argument("--feedback", default="data/interim/listings")
    args = parser.parse_args()
    out = Path(tempfile.mkdtemp(prefix="bench_analyse_"))
    start = time.perf_counter()
    params = load_params()
    metrics = run_analyse(Path(args.listings), out / "analytics", Path(args.feedback),
                          params["analyse"], int(params.get("seed", 0)), out / "linker.json")
    analysed = time.perf_counter()
    run_report(out / "analytics", out / "index.html", Path("reports/metrics"), params)
    done = time.perf_counter()
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(f"listings: {metrics['listings']}  vendor accounts: {metrics['vendor_accounts']}")
    print(f"analyse: {analysed - start:.1f} s  report: {done - analysed:.1f} s  "
          f"total: {done - start:.1f} s  peak memory: {peak_gb:.2f} GB  -> {out}")

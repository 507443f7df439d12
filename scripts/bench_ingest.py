"""Ingest throughput on the full public data: rows/s for tabular markets, pages/s for HTML.

    CRYPTODRUG_PUBLIC_DATA=../shared/data python scripts/bench_ingest.py
"""

from __future__ import annotations

import time

from rich.console import Console
from rich.table import Table

from pipeline.core.config import compose_params, load_market_config, public_data_root
from pipeline.ingest import expand_inputs, ingest_files


def main() -> None:
    root = public_data_root()
    if root is None:
        raise SystemExit("public data absent: set CRYPTODRUG_PUBLIC_DATA")
    markets = compose_params(["data=public"])["data"]["markets"]
    table = Table(title=f"ingest throughput on {root}")
    for column in ("market", "adapter", "files", "rows in", "rows out", "seconds", "throughput"):
        table.add_column(column, justify="right")
    for market, folder in markets.items():
        cfg = load_market_config(market)
        paths = expand_inputs([root / folder], cfg)
        start = time.perf_counter()
        result = ingest_files(paths, cfg)
        seconds = time.perf_counter() - start
        if cfg["adapter"] == "html":
            rate = f"{len(paths) / seconds:,.0f} pages/s"
        else:
            rate = f"{result.rows_in / seconds:,.0f} rows/s"
        table.add_row(market, cfg["adapter"], str(len(paths)), str(result.rows_in),
                      str(len(result.listings)), f"{seconds:.2f}", rate)
    Console(width=120).print(table)


if __name__ == "__main__":
    main()

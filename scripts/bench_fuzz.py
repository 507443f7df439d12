"""The fuzz suite at scale, and how each command's time grows with hostile input size.

1. Runs tests/test_fuzz.py under the `bench` Hypothesis profile (many more examples than
   the `ci` default), unless `--no-suite`.
2. Times every command on hostile inputs of growing size (rows of the nastiest cells of
   tests/fuzz_strategies.py; for HTML, one Dream page padded with 10 nested divs and 10
   script tags a row) and prints the time ratio per doubling: about 2 means linear, 4
   quadratic. Wall-clock is only printed, never asserted, so that a loaded machine cannot
   fail a test.

    python scripts/bench_fuzz.py [--sizes 250 500 1000 2000] [--no-suite]
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from fuzz_strategies import (  # noqa: E402
    NASTY_CELLS,
    SAMPLE,
    train_tiny_models,
    write_fuzz_params,
)
from typer.testing import CliRunner  # noqa: E402

from pipeline.cli import app  # noqa: E402
from pipeline.core.schema import CANONICAL_COLUMNS  # noqa: E402

TABLES = {
    "classify": CANONICAL_COLUMNS,
    "extract": CANONICAL_COLUMNS,
    "sentiment": ["review_id", "text", "rating"],
    "harm-reduction": ["post_id", "text"],
    "code-themes": ["segment_id", "respondent_id", "source", "text"],
    "ingest": ["title", "vendor", "price", "description"],
}
ID_COLUMNS = ("listing_id", "review_id", "post_id", "segment_id")
# Real-looking text between the nasty cells, so that models and extractors do real work.
# Columns a row needs sane to reach the stage's real work rather than its quarantine.
SANE = {"scraped_at": lambda i: "2024-01-01", "market": lambda i: "fuzz",
        "rating": lambda i: str(i % 11 - 5), "source": lambda i: "survey"}
# The counts line the commands print ("N in, M out, Q quarantined"), last seen per command.
COUNTS = re.compile(r"\d+ in, \d+ (?:out|coded)[^>]*quarantined")
LAST_COUNTS: dict[str, str] = {}
WORDS = ("10x MDMA pills 120mg uncut, ships from NL, no ship to USA, 45 EUR / 1,5g "
         "stealth on point, nooit ontvangen, je vends de la cocaïne 90% ")


def hostile_rows(columns: list[str], n: int) -> pd.DataFrame:
    """`n` distinct rows cycling through the nasty cells (no cache can answer them), with a
    unique id column."""
    rows = []
    for i in range(n):
        nasty = NASTY_CELLS[i % len(NASTY_CELLS)]
        row = {c: f"{WORDS[: 20 + i % 100]} {nasty} #{i}" for c in columns}
        row.update({c: f"id{i}" for c in columns if c in ID_COLUMNS})
        row.update({c: v(i) for c, v in SANE.items() if c in columns})
        rows.append(row)
    return pd.DataFrame(rows, columns=columns)


def commands(folder: Path, models: dict[str, Path], params: Path) -> dict[str, list[object]]:
    market = folder / "own.yaml"
    market.write_text("adapter: tabular\ncolumns: {title: title, vendor: vendor, "
                      "price_raw: price, description: description, "
                      "scraped_at: {value: '2024-01-01'}}\n")
    return {
        "ingest": ["ingest", "--market", market],
        "classify": ["classify", "--model", models["classifier"], "--params", params],
        "extract": ["extract", "--params", params],
        "sentiment": ["sentiment", "--model", models["sentiment"], "--params", params,
                      "--rating-scale", "pm5"],
        "harm-reduction": ["harm-reduction", "--model", models["harm_reduction"]],
        "code-themes": ["code-themes", "--model", models["themes"], "--params", params],
    }


def time_command(args: list[object], inp: Path, out: Path) -> float:
    command, *options = args
    start = time.perf_counter()
    result = CliRunner().invoke(app, [str(a) for a in [command, inp, "-o", out, *options]])
    elapsed = time.perf_counter() - start
    if result.exit_code != 0:
        raise SystemExit(f"{command} failed at {inp}: {result.exception!r}\n"
                         f"{result.output[-1000:]}")
    counts = COUNTS.findall(result.output)
    LAST_COUNTS[command] = counts[-1] if counts else "?"
    return elapsed


def html_page(size: int) -> bytes:
    """A Dream listing page with `size` nested divs and as many script tags."""
    page = (SAMPLE / "markets" / "dream" / "listing_0.html").read_text(encoding="utf-8")
    padding = "<div>" * size + "<script>var x='</div>';</script>" * size
    return page.replace("<body>", "<body>" + padding, 1).encode("utf-8")


def scaling(sizes: list[int]) -> None:
    with tempfile.TemporaryDirectory(prefix="bench_fuzz") as tmp:
        folder = Path(tmp)
        params = write_fuzz_params(folder)
        models = train_tiny_models(folder / "models", params)
        runs = commands(folder, models, params)
        print(f"{'command':16} " + " ".join(f"{n:>9}" for n in sizes) + "   ratio per doubling")
        for name, args in runs.items():
            times = []
            for n in [sizes[0], *sizes]:  # the first run loads models and vocabularies
                inp = folder / f"{name}-{n}.csv"
                # every cell quoted: pandas leaves a lone carriage return bare otherwise
                hostile_rows(TABLES[name], n).to_csv(inp, index=False, quoting=csv.QUOTE_ALL)
                times.append(time_command(args, inp, folder / f"{name}-{n}.out.parquet"))
            report(name, sizes, times[1:])
        times = []
        for n in sizes:
            page = folder / f"html-{n}" / "listing_0.html"
            page.parent.mkdir()
            page.write_bytes(html_page(n * 10))
            times.append(time_command(["ingest", "--market", "dream"], page,
                                      folder / f"html-{n}.parquet"))
        report("ingest html x10", sizes, times)


def report(name: str, sizes: list[int], times: list[float]) -> None:
    """Times per size, and the growth per doubling of the input between neighbouring sizes."""
    ratios = [
        (b / a) ** (1 / math.log2(m / n))
        for a, b, n, m in zip(times, times[1:], sizes, sizes[1:], strict=False)
    ]
    cells = " ".join(f"{t:8.2f}s" for t in times)
    counts = LAST_COUNTS.get(name.split()[0], "?")
    print(f"{name:16} {cells}   " + " ".join(f"{r:.2f}" for r in ratios)
          + f"   (largest: {counts})", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[250, 500, 1000, 2000])
    parser.add_argument("--no-suite", action="store_true", help="only the scaling benchmark")
    args = parser.parse_args()
    if not args.no_suite:
        env = {**os.environ, "HYPOTHESIS_PROFILE": "bench"}
        subprocess.run([sys.executable, "-m", "pytest", "-q", "tests/test_fuzz.py"],
                       cwd=ROOT, env=env, check=False)
    scaling(sorted(set(args.sizes)))


if __name__ == "__main__":
    main()

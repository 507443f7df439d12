"""Benchmark of the crawl stage against the fixture market (tests/fixture_market) on
127.0.0.1: pages per second at the default politeness and at full speed, peak memory of a
large crawl, the cost of a kill -9 and resume, and ingest from the WARC against the same
pages as files. A measurement, not a test:

    python scripts/bench_crawl.py --listings 8000 --polite-pages 12
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fixture_market import FixtureMarket, harness, serve  # noqa: E402

from pipeline.core.config import load_market_config  # noqa: E402
from pipeline.core.warc import read_records  # noqa: E402
from pipeline.ingest import ingest_files  # noqa: E402


def stored(out: Path) -> int:
    return sum(r.rec_type in ("response", "revisit")
               for warc in out.glob("*.warc.gz") for r in read_records(warc))


def timed_crawl(market: Path, out: Path, url: str, *args: str) -> tuple[float, int]:
    """(seconds, pages stored) of one crawl run to its end."""
    start = time.perf_counter()
    code, output = harness.finish(harness.crawl(market, out, "--no-proxy", "--base-url", url,
                                                *args), timeout=3600)
    if code not in (0, 3):
        raise SystemExit(output)
    return time.perf_counter() - start, stored(out)


def peak_child_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listings", type=int, default=8000,
                        help="fixture listings of the large crawl (about 2.3 pages each)")
    parser.add_argument("--polite-pages", type=int, default=12,
                        help="pages of the crawl at the default politeness (2 s apart)")
    parser.add_argument("--resume-listings", type=int, default=400)
    args = parser.parse_args()
    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "polite").mkdir()
        crawl = load_market_config("fixture")["crawl"]  # the shipped, polite settings
        polite = harness.fast_market(root / "polite", delay=crawl["delay"],
                                     concurrency=crawl["concurrency"], autothrottle=True)
        fast = harness.fast_market(root)

        server, url = serve(FixtureMarket(n_listings=args.listings, faults=False))
        seconds, pages = timed_crawl(polite, root / "polite-out", url, "--max-pages",
                                     str(args.polite_pages))
        results["polite_pages_per_s"] = round(pages / seconds, 2)
        seconds, pages = timed_crawl(fast, root / "large", url)
        server.shutdown()
        results.update(large_pages=pages, large_seconds=round(seconds, 1),
                       full_speed_pages_per_s=round(pages / seconds, 1),
                       peak_rss_mb=round(peak_child_mb(), 1))

        server, url = serve(FixtureMarket(n_listings=args.resume_listings, faults=False))
        whole, pages = timed_crawl(fast, root / "whole", url)
        process = harness.crawl(fast, root / "killed", "--no-proxy", "--base-url", url)
        start = time.perf_counter()
        while stored(root / "killed") < pages // 2:
            time.sleep(0.05)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        first = time.perf_counter() - start
        second, resumed_pages = timed_crawl(fast, root / "killed", url)
        server.shutdown()
        results.update(resume_pages=pages, uninterrupted_s=round(whole, 2),
                       killed_plus_resumed_s=round(first + second, 2),
                       resume_cost_s=round(first + second - whole, 2),
                       resume_complete=resumed_pages == pages)

        cfg = load_market_config(str(fast))
        warc = next((root / "large").glob("*.warc.gz"))
        pages_dir = root / "pages"
        pages_dir.mkdir()
        count = 0
        for record in read_records(warc, bodies=True):
            if record.rec_type == "response":
                (pages_dir / f"page_{count:06d}.html").write_bytes(record.body)
                count += 1
        for name, inputs in (("warc", [warc]), ("files", sorted(pages_dir.iterdir()))):
            start = time.perf_counter()
            rows = len(ingest_files(inputs, cfg).listings)
            seconds = time.perf_counter() - start
            results[f"ingest_{name}_pages_per_s"] = round(count / seconds, 1)
            results[f"ingest_{name}_listings"] = rows
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

"""Regenerate the bundled monitoring snapshots (data/sample/snapshots/fixture/): two crawls
of the fixture market (tests/fixture_market), day 0 and day 1, with `cryptodrug crawl`.

    python scripts/make_snapshots.py                  # 2018-11-18 and 2018-11-21
    python scripts/make_snapshots.py --listings 12 --dates 2018-11-18 2018-11-21

Each crawl runs against the fixture served on 127.0.0.1 (no faults, so the snapshot holds
every page once), then its capture dates are moved to the given day (the time of day kept)
and the file named after it: a crawl made today becomes the sample's dated snapshot, so
`dvc repro` shows a series with two dates three days apart, as a crawl on a schedule gives.
The `warcinfo` record keeps the real run time. The CDXJ index is written again for the
moved file; the crawl's frontier is not kept.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.warcwriter import WARCWriter

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fixture_market import FixtureMarket, harness, serve  # noqa: E402

from pipeline.core.config import PROJECT_ROOT  # noqa: E402
from pipeline.crawl.warc import index_path, write_index  # noqa: E402

OUT = PROJECT_ROOT / "data" / "sample" / "snapshots" / "fixture"
PORT = 8765  # a fixed port, so the URLs in the snapshots stay the same from run to run


def redate(source: Path, target: Path, day: str) -> int:
    """Copy a WARC with every record's `WARC-Date` moved to `day`; returns the records."""
    count = 0
    with source.open("rb") as fh, target.open("wb") as out:
        writer = WARCWriter(out, gzip=True)
        for record in ArchiveIterator(fh):
            moment = record.rec_headers.get_header("WARC-Date")
            record.rec_headers.replace_header("WARC-Date", day + moment[10:])
            writer.write_record(record)
            count += 1
    return count


def crawl_day(day: int, listings: int, work: Path) -> Path:
    """One finished crawl of the fixture on `day`; returns its WARC."""
    market = harness.fast_market(work)
    server, url = serve(FixtureMarket(n_listings=listings, day=day, faults=False), PORT)
    try:
        code, output = harness.finish(harness.crawl(market, work / f"crawl{day}",
                                                    "--no-proxy", "--base-url", url), 300)
    finally:
        server.shutdown()
        server.server_close()
    if code != 0:
        raise SystemExit(f"crawl of day {day} failed:\n{output}")
    return next((work / f"crawl{day}").glob("*.warc.gz"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--listings", type=int, default=12)
    parser.add_argument("--dates", nargs=2, default=["2018-11-18", "2018-11-21"])
    parser.add_argument("-o", "--out", type=Path, default=OUT)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for day, date in enumerate(args.dates):
            warc = args.out / f"fixture-{date}.warc.gz"
            records = redate(crawl_day(day, args.listings, Path(tmp)), warc, date)
            pages = write_index(warc, index_path(warc))
            print(f"{warc.relative_to(PROJECT_ROOT)}: {records} records, {pages} pages, "
                  f"{warc.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()

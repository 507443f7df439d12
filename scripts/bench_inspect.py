"""How fast the researchers' browser answers on a large project: a code with 10,000 segments
(the goal: its page opens in under a second), a segment page, search, the co-occurrence
matrix and the agreement page, with corrections by two coders in the file.

Times the server side (request to full HTML, through the same middleware as
`cryptodrug inspect`), a correction (post, re-reading the corrections, redirect) and, with
`--browser`, the code page loaded in headless Chromium from a live server; prints the median
and worst of several runs; nothing asserted.

    python scripts/bench_inspect.py [--segments 10000] [--runs 7] [--browser]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from pipeline.core.codebook import load_codebook  # noqa: E402
from pipeline.core.corrections import append_records, make_correction  # noqa: E402
from pipeline.inspect.app import create_app  # noqa: E402

PORT = 8765


def tables(n: int, codes: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """n survey answers, every one coded MOTIVE_PRICE and one other code."""
    ids = [f"s{i:05d}" for i in range(n)]
    text = [f"Answer {i}: cheaper than the street and the quality is better." for i in range(n)]
    segments = pd.DataFrame({"segment_id": ids, "respondent_id": [f"r{i // 5}" for i in range(n)],
                             "source": "survey", "question_id": "Q1", "question": "Why?",
                             "text": text})
    other = [codes[i % len(codes)] for i in range(n)]
    rows = pd.DataFrame({
        "segment_id": ids * 2,
        "code": ["MOTIVE_PRICE"] * n + other,
        "confidence": [0.5 + (i % 50) / 100 for i in range(2 * n)],
        "lang": "en", "start": 0, "end": 7, "evidence": "Answer ",
        "needs_review": False, "origin": "model",
        "respondent_id": list(segments["respondent_id"]) * 2, "source": "survey",
        "question_id": "Q1",
    }).drop_duplicates(["segment_id", "code"])
    return segments, rows


def report(name: str, times: list[float], size: int | None = None) -> None:
    extra = f", {size // 1024} KiB" if size is not None else ""
    print(f"{name:42s} median {statistics.median(times) * 1000:7.1f} ms, "
          f"worst {max(times) * 1000:7.1f} ms{extra}")


def in_browser(make_app, runs: int) -> None:
    """The code page opened in headless Chromium, until its load event."""
    from playwright.sync_api import sync_playwright
    from test_themes_browser import CHROMIUM, _Server

    with _Server(make_app) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                    args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page()
        page.goto(f"{url}/")
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            page.goto(f"{url}/code/MOTIVE_PRICE", wait_until="load")
            times.append(time.perf_counter() - t0)
        report("code page in Chromium (load event)", times)
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--segments", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--browser", action="store_true", help="also time it in Chromium")
    args = parser.parse_args()
    codebook = load_codebook()
    segments, codes = tables(args.segments, codebook.ids)
    with tempfile.TemporaryDirectory() as tmp:
        corrections = Path(tmp) / "corrections.jsonl"
        append_records(corrections, [
            make_correction(s, "MOTIVE_PRICE", "reject" if i % 3 else "accept", codebook.ids,
                            coder=coder)
            for coder in ("ann", "bob") for i, s in enumerate(segments["segment_id"][:500])
        ])
        started = time.perf_counter()
        client = TestClient(create_app(segments, codes, codebook, corrections, PORT),
                            base_url=f"http://127.0.0.1:{PORT}")
        print(f"app over {args.segments} segments, {len(codes)} codes, 1000 corrections: "
              f"built in {time.perf_counter() - started:.2f} s")
        pages = {
            "code page (10,000 segments, first 100)": "/code/MOTIVE_PRICE",
            "code page, last page": "/code/MOTIVE_PRICE?page_no=1000",
            "code page, filtered": "/code/MOTIVE_PRICE?lang=en&min_conf=0.9",
            "segment page": f"/segment/{segments['segment_id'].iloc[-1]}",
            "search": "/search?q=street+quality",
            "co-occurrence matrix": "/cooccurrence",
            "agreement": "/agreement",
        }
        for name, url in pages.items():
            times = []
            for _ in range(args.runs):
                t0 = time.perf_counter()
                answer = client.get(url)
                times.append(time.perf_counter() - t0)
                assert answer.status_code == 200, (url, answer.status_code)
            report(name, times, len(answer.content))
        csrf = client.get("/coder").text.split('name="csrf" value="')[1].split('"')[0]
        client.post("/coder", data={"name": "bench", "csrf": csrf})
        times = []
        for i in range(args.runs):
            form = {"segment_id": segments["segment_id"].iloc[1000 + i], "code": "MOTIVE_PRICE",
                    "action": "reject", "csrf": csrf, "back": "/code/MOTIVE_PRICE"}
            t0 = time.perf_counter()
            answer = client.post("/correct", data=form)
            times.append(time.perf_counter() - t0)
            assert answer.status_code == 200, answer.text
        report("correction + code page again", times)
        if args.browser:
            in_browser(lambda port: create_app(segments, codes, codebook, corrections, port),
                       args.runs)

if __name__ == "__main__":
    main()

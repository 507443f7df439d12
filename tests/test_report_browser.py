"""The report rendered in headless Chromium on the bundled (invented) sample and on a small
slice of the real public data: every figure names its n, no figure or share lacks its unit,
and the page says when its data are invented. Screenshots go to $TMPDIR for a human look."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from pipeline.analyse import analyse
from pipeline.classify.labels import label_listings, load_category_maps
from pipeline.core.config import load_market_config, load_params
from pipeline.core.io import write_table
from pipeline.extract.core import extract_listings
from pipeline.ingest import expand_inputs, ingest_files
from pipeline.report.stage import run_report

CHROMIUM = "/usr/bin/chromium"
pytestmark = [pytest.mark.browser, pytest.mark.slow]


def analytics_of(folders: dict[str, Path], out: Path, first_files: int | None) -> Path:
    """Ingest, label (category maps), extract and analyse the given market folders."""
    params = load_params()
    frames = []
    for market, folder in folders.items():
        cfg = load_market_config(market)
        frames.append(ingest_files(expand_inputs([folder], cfg)[:first_files], cfg).listings)
    listings = pd.concat(frames, ignore_index=True)
    listings["category"] = label_listings(listings, load_category_maps()).fillna("")
    listings = extract_listings(listings, params["extraction"])
    cfg = {**params["analyse"], "bootstrap_reps": 200}
    tables, summary = analyse(listings, pd.DataFrame(), cfg, seed=params["seed"])
    for name, table in tables.items():
        write_table(table, out / f"{name}.parquet")
    (out / "summary.json").write_text(json.dumps(summary, default=str))
    return out


def render_and_check(analytics: Path, tmp_path: Path, data: str, shot: str) -> str:
    if not shutil.which(CHROMIUM):
        pytest.skip(f"{CHROMIUM} absent: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    params = {**load_params()["report"], "data": data, "invented_data": ["sample"]}
    page_path = run_report(analytics, tmp_path / "index.html", tmp_path / "metrics", params)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        page.goto(page_path.as_uri())
        captions = page.eval_on_selector_all("figure figcaption",
                                             "els => els.map(e => e.innerText)")
        widths = page.eval_on_selector_all("figure img", "els => els.map(e => e.naturalWidth)")
        text = page.inner_text("body")
        out = Path(os.environ.get("TMPDIR", "/tmp")) / shot
        page.screenshot(path=str(out), full_page=True)
        browser.close()
    assert captions and all(w > 200 for w in widths)
    for caption in captions:   # every figure says what its n is
        assert re.search(r"\bn\b", caption), caption
    # no bare number where a unit belongs: shares carry %, money €, intervals both ends
    assert not re.search(r"\b\d+\.\d+ of (listings|vendors)", text)
    assert not re.search(r"median \d", text)
    assert "€200" in text or "€200" in page_path.read_text()
    return text


def test_report_on_the_sample_in_chromium(tmp_path, sample_data):
    markets = {m: sample_data / "markets" / m for m in ("darkmatter", "drughub", "agora")}
    text = render_and_check(analytics_of(markets, tmp_path / "analytics", None), tmp_path,
                            "sample", "report_sample.png")
    assert "Invented data" in text


@pytest.mark.public_data
def test_report_on_a_public_slice_in_chromium(tmp_path, public_data):
    markets = {"darkmatter": public_data / "markets" / "darkmatter-2024",
               "agora": public_data / "markets" / "agora-2014"}
    text = render_and_check(analytics_of(markets, tmp_path / "analytics", 1), tmp_path,
                            "public", "report_public.png")
    assert "Invented data" not in text

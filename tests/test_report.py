"""The offline HTML report: built from hand-made analytics, checked as text and, when
Chromium is installed, rendered headless with every network request blocked."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from pipeline.analyse import analyse
from pipeline.config import load_params
from pipeline.io import write_table
from pipeline.report import headline_leaves, run_report

FIGURES = ["fig-shares", "fig-time", "fig-mix", "fig-transactions", "fig-multi",
           "fig-migration"]
CHROMIUM = "/usr/bin/chromium"


def hand_made_listings() -> pd.DataFrame:
    """Two markets, a Belgian multi-country vendor who moves after a shock (written here)."""
    rows = []
    plan = [("old", "2019-01-10", "FlandersFinest", ["BE", "BE", "NL"], "ecstasy", 25.0),
            ("old", "2019-02-10", "Amsterdammer", ["NL", "NL"], "cannabis", 60.0),
            ("old", "2019-02-10", "Berliner", ["DE"], "amphetamine", 1500.0),
            ("new", "2020-05-01", "flanders_finest", ["BE", "BE"], "ecstasy", 30.0),
            ("new", "2020-06-01", "Parisien", ["FR", "FR"], "cocaine", 80.0)]
    for market, day, vendor, origins, category, price in plan:
        for k, origin in enumerate(origins):
            rows.append({
                "listing_id": f"{market}-{vendor}-{k}", "market": market, "scraped_at": day,
                "vendor": vendor, "title": f"{category} {k} from {origin}", "description": "",
                "category": category, "ships_from": origin, "price_eur": price * (k + 1),
                "ships_to": ["worldwide"], "ships_to_excluded": ["US"] if origin == "BE" else [],
                "units_sold": "4" if market == "new" else "",
            })
    return pd.DataFrame(rows)


@pytest.fixture
def report_html(tmp_path: Path) -> Path:
    params = load_params()
    cfg = {**params["analyse"],
           "shocks": [{"name": "old_closure", "market": "old", "date": "2019-06-01"}]}
    feedback = pd.DataFrame({"listing_id": ["old-FlandersFinest-0"] * 3 + ["old-Berliner-0"],
                             "date": ["2019-01-05"] * 4})
    tables, summary = analyse(hand_made_listings(), feedback, cfg, seed=0)
    analytics = tmp_path / "analytics"
    for name, table in tables.items():
        write_table(table, analytics / f"{name}.parquet")
    (analytics / "summary.json").write_text(json.dumps(summary, default=str))
    metrics = tmp_path / "metrics"
    metrics.mkdir()
    (metrics / "classifier.json").write_text(json.dumps(
        {"test": {"macro_f1": 0.81, "kappa": 0.77, "per_class": {"cannabis": {"f1": 0.9}}}}))
    return run_report(analytics, tmp_path / "index.html", metrics, params)


def test_report_reads_off_the_focus_country(report_html: Path):
    html = report_html.read_text()
    text = re.sub(r"<[^>]+>", " ", html)
    for fig in FIGURES:
        assert f'id="{fig}"' in html
    assert html.count('src="data:image/png;base64,') == len(FIGURES)
    assert "old 33.3% of listings, 33.3% of vendors" in text       # 2 of 6 listings
    assert "new 50.0% of listings" in text
    assert "ecstasy" in text and "Multi-country vendors: 1 accounts ship from BE" in text
    assert "BE+NL" in text
    assert "excluded: US 100%" in text
    assert "Migration: 1 BE vendor accounts linked" in text
    # stage metrics: present ones shown (per-class left out), absent ones "not run"
    assert "test.macro_f1" in text and "per_class" not in text
    assert text.count("not run") == len(load_params()["report"]["stage_metrics"]) - 1


def test_report_has_no_external_resources(report_html: Path):
    html = report_html.read_text()
    assert not re.search(r"""(src|href)=["'](https?:)?//""", html)
    assert "<script" not in html


def test_headline_leaves_flatten_nested_metrics():
    leaves = headline_leaves({"a": {"macro_f1": 0.5, "loss": 2}, "kappa": 1, "x": "s"},
                             ["macro_f1", "kappa"])
    assert leaves == [("a.macro_f1", 0.5), ("kappa", 1)]


@pytest.mark.browser
def test_report_renders_offline_in_chromium(report_html: Path, tmp_path: Path):
    if not shutil.which(CHROMIUM):
        pytest.skip(f"{CHROMIUM} absent: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    requested: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        page = browser.new_page(viewport={"width": 1100, "height": 900})

        def block(route):
            if not route.request.url.startswith(("file:", "data:")):
                requested.append(route.request.url)
                return route.abort()
            return route.continue_()

        page.route("**/*", block)
        page.goto(report_html.as_uri())
        widths = {fig: page.eval_on_selector(f"#{fig} img", "img => img.naturalWidth")
                  for fig in FIGURES}
        shot = tmp_path / "report.png"
        page.screenshot(path=str(shot), full_page=True)
        browser.close()
    assert requested == []
    assert all(w > 200 for w in widths.values()), widths
    assert shot.stat().st_size > 50_000

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
from pipeline.core.config import load_params
from pipeline.core.io import InputError, write_table
from pipeline.monitor.stage import run_monitor
from pipeline.report.sections import (
    agreement_table,
    code_counts,
    evaluation_table,
    method_from_card,
    sentiment_rows,
    with_interval,
)
from pipeline.report.stage import optional_table, run_report

MARKET_FIGURES = ["fig-shares", "fig-time", "fig-mix", "fig-destinations", "fig-transactions",
                  "fig-multi", "fig-migration", "fig-substances"]
MONITOR_FIGURES = ["fig-monitor-series", "fig-monitor-entries", "fig-monitor-prices"]
STAGE_FIGURES = ["fig-sentiment-vendors", "fig-sentiment-countries", "fig-review-risks",
                 "fig-forum-labels", "fig-theme-codes", *MONITOR_FIGURES]
FIGURES = MARKET_FIGURES + STAGE_FIGURES
CHROMIUM = "/usr/bin/chromium"


SUBSTANCES = {"ecstasy": ["mdma"], "cannabis": ["cannabis"], "amphetamine": ["amphetamine"],
              "cocaine": ["cocaine", "3-mmc"]}


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
                "substances": SUBSTANCES[category] if k == 0 or category != "cocaine"
                else ["cocaine"],
            })
    return pd.DataFrame(rows)


def write_stage_outputs(root: Path, metrics: Path) -> dict[str, Path]:
    """Hand-made summaries of the reviews, forums and themes stages (written here)."""
    reviews = root / "reviews_summary"
    write_table(pd.DataFrame({
        "vendor": ["v1", "v2", "v3"], "reviews": [10, 4, 1], "share_negative": [0.2, 0.5, 1.0],
        "share_positive": [0.7, 0.25, 0.0], "mean_score": [0.5, -0.2, -0.9]}),
        reviews / "sentiment_by_vendor.parquet")
    write_table(pd.DataFrame({
        "ships_from": ["NL", "BE", "DE"], "reviews": [8, 5, 2], "share_negative": [0.25, 0.4, 0.5],
        "share_positive": [0.75, 0.4, 0.5], "mean_score": [0.5, 0.0, 0.0]}),
        reviews / "sentiment_by_country.parquet")
    write_table(pd.DataFrame({
        "market": ["all", "m1", "m2"], "negative_reviews": [5, 4, 1],
        "share_non_delivery": [0.6, 0.5, 1.0], "share_scam": [0.2, 0.25, 0.0],
        "share_non_delivery_or_scam": [0.8, 0.75, 1.0]}),
        reviews / "negative_review_risks.parquet")
    forum = root / "forum_posts_summary.parquet"
    write_table(pd.DataFrame({"label": ["any", "dosing", "drug_checking"], "posts": [3, 2, 1],
                              "share": [0.3, 0.2, 0.1], "total_posts": [10, 10, 10]}), forum)
    segments = root / "segments.parquet"
    write_table(pd.DataFrame({
        "segment_id": ["s1", "s2", "s3"], "source": ["survey", "survey", "interview"],
        "text": ["cheaper and more choice", "a friend told me", "parcels in the letterbox"]}),
        segments)
    themes = root / "themes.parquet"
    write_table(pd.DataFrame({
        "segment_id": ["s1", "s1", "s2"], "code": ["MOTIVE_PRICE", "MOTIVE_RANGE", "MOTIVE_PRICE"],
        "lang": ["en", "en", "nl"], "source": ["survey", "survey", "survey"],
        "needs_review": [False, True, False]}), themes)
    (root / "themes.inductive.json").write_text(json.dumps({"uncoded_segments": 1, "themes": [
        {"theme": "candidate_1", "size": 1, "top_terms": ["parcels", "letterbox"],
         "examples": ["s3"]}]}))
    (metrics / "themes.json").write_text(json.dumps({"components": ["tfidf"], "folds": 5,
        "model_vs_human": {
            "all": {"segments": 20, "kappa_macro": 0.71, "krippendorff_alpha": 0.7,
                    "micro_f1": 0.8, "kappa_per_code": {"MOTIVE_RANGE": 0.64, "MOTIVE_PRICE": 0.78},
                    "support": {"MOTIVE_RANGE": 6, "MOTIVE_PRICE": 9}},
            "nl": {"segments": 10, "kappa_macro": 0.66, "krippendorff_alpha": 0.65,
                   "micro_f1": 0.7, "kappa_per_code": {"MOTIVE_RANGE": None, "MOTIVE_PRICE": 0.66},
                   "support": {"MOTIVE_RANGE": 0, "MOTIVE_PRICE": 4}}}}))
    return {"reviews_summary": reviews, "forum_summary": forum, "themes": themes,
            "segments": segments}


def write_monitoring(root: Path) -> Path:
    """Two hand-made snapshots of one market (written here) through `run_monitor`: a
    listing gone, one new from a new Belgian vendor, one price changed."""
    snapshots = []
    for day, rows in (("2019-03-01", [("a", "Kaaskop", "€10", "NL"), ("b", "Kaaskop", "€20",
                                                                       "NL")]),
                      ("2019-03-04", [("a", "Kaaskop", "€12", "NL"), ("c", "Waffle", "€5",
                                                                       "BE")])):
        snapshots.append(root / "snapshots" / f"{day}.parquet")
        write_table(pd.DataFrame([
            {"market": "old", "listing_id": lid, "vendor": vendor, "title": lid,
             "price_raw": price, "ships_from": origin, "scraped_at": day,
             "category": "cannabis", "price_per_g_eur": 9.0}
            for lid, vendor, price, origin in rows]), snapshots[-1])
    run_monitor(snapshots, root / "monitoring")
    return root / "monitoring"


def write_inputs(tmp_path: Path) -> tuple[Path, Path]:
    params = load_params()
    cfg = {**params["analyse"],
           "shocks": [{"name": "old_closure", "market": "old", "date": "2019-06-01",
                       "days_after": 400}], "bootstrap_reps": 100}
    feedback = pd.DataFrame({"listing_id": ["old-FlandersFinest-0"] * 3 + ["old-Berliner-0"],
                             "date": ["2019-01-05"] * 4})
    tables, summary = analyse(hand_made_listings(), feedback, cfg, seed=0, categories={
        "mdma": "ecstasy", "cannabis": "cannabis", "amphetamine": "amphetamine",
        "cocaine": "cocaine", "3-mmc": "nps"})
    analytics = tmp_path / "analytics"
    for name, table in tables.items():
        write_table(table, analytics / f"{name}.parquet")
    (analytics / "summary.json").write_text(json.dumps(summary, default=str))
    metrics = tmp_path / "metrics"
    metrics.mkdir()
    (metrics / "classifier.json").write_text(json.dumps(
        {"test": {"macro_f1": 0.81, "kappa": 0.77, "per_class": {"cannabis": {"f1": 0.9}}}}))
    return analytics, metrics


@pytest.fixture
def report_html(tmp_path: Path) -> Path:
    analytics, metrics = write_inputs(tmp_path)
    stage = write_stage_outputs(tmp_path, metrics)
    return run_report(analytics, tmp_path / "index.html", metrics, load_params()["report"],
                      **stage, monitoring=write_monitoring(tmp_path))


def test_report_reads_off_the_focus_country(report_html: Path):
    html = report_html.read_text()
    text = re.sub(r"<[^>]+>", " ", html)
    for fig in FIGURES:
        assert f'id="{fig}"' in html
    assert html.count('src="data:image/png;base64,') == len(FIGURES)
    assert "old 33.3% (n=6, 95% CI 9.7%–70.0%) of listings" in text       # 2 of 6 listings
    assert "new 50.0% (n=4," in text
    assert "ecstasy" in text and "Multi-country vendors: 1 accounts ship from BE" in text
    assert "BE+NL" in text
    assert "excluded: US 100%" in text
    assert "Migration: 1 BE vendor accounts linked" in text
    # 4 distinct BE listings, all MDMA; the one NPS first listed on `new`
    assert "Substances: most listed from BE: mdma 100.0% (n=4," in text
    assert "1 new psychoactive substances listed on all markets, the newest 3-mmc (first " \
           "seen 2020-06-01 on new)" in text
    # stage metrics: a table per stage with what it was measured on (per-class left out)
    assert "test split" in text and "per_class" not in text
    # classifier.json and themes.json present, the other stages' metrics "not run"
    assert text.count("not run") == len(load_params()["report"]["stage_metrics"]) - 2


def test_report_shows_reviews_forums_and_themes(report_html: Path):
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", report_html.read_text()))
    # reviews: the buyers' main perceived risk, and the focus country against all countries
    assert "80% of 5 negative reviews mention non-delivery or a scam" in text
    assert "(non-delivery 60%, scam 20%)" in text
    assert "shipping from BE: 5 reviews, 40% negative (all countries: 33% negative)" in text
    assert "v3 1 100.0% 0.0% 0.0%" in text            # neutral share derived: 1 - neg - pos
    assert "v1 10 20.0% 10.0% 70.0%" in text
    # forums: share of posts by label
    assert "3 of 10 posts (30.0%) carry harm-reduction content" in text
    assert "drug_checking 1 10.0% 10" in text
    # themes: counts per code and language, κ per code and language, inductive candidates
    assert "2 of 3 segments carry at least one of 2 codes; 1 code assignments" in text
    assert "MOTIVE_RANGE 0.64 6" in text                # κ all, κ nl absent (None), support
    assert "MOTIVE_PRICE 0.78 0.66 9" in text
    assert "nl 10 0.66 0.65 0.70" in text
    assert "MOTIVE_PRICE 1 1 2" in text                 # en, nl, total
    assert "parcels, letterbox" in text and "“parcels in the letterbox”" in text
    assert "not run" not in text.split("Review sentiment")[1].split("Model evaluations")[0]


def test_report_shows_the_monitoring_series_entries_and_changes(report_html: Path):
    html = report_html.read_text()
    section = html.split('<h2 id="monitoring">')[1].split("<h2")[0]
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", section))
    assert all(f'id="{fig}"' in section for fig in MONITOR_FIGURES)
    assert ("old: 2 snapshots from 2019-03-01 to 2019-03-04; the last holds 2 listings of 2 "
            "vendors, 1 of them shipping from Belgium") in text
    assert "1 listings new, 1 gone, 1 with a new price (of 2)" in text
    assert "n = 4 listing sightings in 2 snapshots" in text      # the series' n
    assert "n = 4 listing sightings with a per-gram price" in text
    assert section.count('<tr class="low-n">') == 4              # 2 series + 2 price rows
    assert "vendor_new old Waffle BE" in text


def test_same_inputs_give_the_same_bytes(report_html: Path, tmp_path: Path):
    analytics, metrics = tmp_path / "analytics", tmp_path / "metrics"
    stage = {"reviews_summary": tmp_path / "reviews_summary",
             "forum_summary": tmp_path / "forum_posts_summary.parquet",
             "themes": tmp_path / "themes.parquet", "segments": tmp_path / "segments.parquet",
             "monitoring": tmp_path / "monitoring"}
    again = run_report(analytics, tmp_path / "again.html", metrics, load_params()["report"],
                       **stage)
    assert again.read_bytes() == report_html.read_bytes()
    assert "Scrape months 2019-01 to 2020-06." in report_html.read_text()


def test_analytics_without_a_column_the_report_reads_is_a_clear_error(tmp_path: Path):
    analytics, metrics = write_inputs(tmp_path)
    table = pd.read_parquet(analytics / "product_mix.parquet").drop(
        columns="over_representation")
    write_table(table, analytics / "product_mix.parquet")
    with pytest.raises(InputError, match="product_mix.parquet.*over_representation"):
        run_report(analytics, tmp_path / "index.html", metrics, load_params()["report"])


def test_report_says_not_run_for_absent_stages(tmp_path: Path):
    analytics, metrics = write_inputs(tmp_path)
    html = run_report(analytics, tmp_path / "index.html", metrics, load_params()["report"],
                      tmp_path / "absent", tmp_path / "absent.parquet",
                      tmp_path / "absent.parquet", tmp_path / "absent.parquet").read_text()
    for section in ("monitoring", "reviews", "forums", "themes"):
        body = html.split(f'<h2 id="{section}">')[1].split("<h2")[0]
        assert '<p class="notrun">not run' in body
    assert html.count('src="data:image/png;base64,') == len(MARKET_FIGURES)
    assert not any(f'id="{fig}"' in html for fig in STAGE_FIGURES)


def test_sentiment_rows_keep_the_focus_country_and_derive_neutral():
    table = pd.DataFrame({"ships_from": ["NL", "DE", "BE"], "reviews": [9, 5, 1],
                          "share_negative": [0.1, 0.2, 0.5], "share_positive": [0.6, 0.8, 0.5]})
    rows = sentiment_rows(table, "ships_from", top=1, keep="BE")
    assert list(rows["ships_from"]) == ["NL", "BE"]
    assert rows["share_neutral"].tolist() == pytest.approx([0.3, 0.0])


def test_code_counts_and_agreement_table():
    themes = pd.DataFrame({"segment_id": ["a", "a", "b", "b"], "code": ["X", "X", "Y", "X"],
                           "lang": ["en", "en", "fr", "fr"]})
    counts = code_counts(themes, "lang", order=["Y", "X"])
    assert list(counts.index) == ["Y", "X"]                 # codebook order kept
    assert counts.loc["X"].tolist() == [1, 1]                # duplicate (a, X) counted once
    per_code, overall = agreement_table({"model_vs_human": {
        "fr": {"segments": 3, "kappa_per_code": {"X": None}},
        "all": {"segments": 5, "kappa_macro": 0.5, "kappa_per_code": {"X": 0.5},
                "support": {"X": 2}}}})
    assert list(per_code.columns) == ["code", "κ all", "κ fr", "human-coded segments"]
    assert pd.isna(per_code.loc[0, "κ fr"]) and per_code.loc[0, "κ all"] == 0.5
    assert overall["language"].tolist() == ["all", "fr"]


def test_optional_table_absent_or_malformed(tmp_path: Path):
    assert optional_table(tmp_path / "none.parquet", {"label"}) is None
    write_table(pd.DataFrame({"label": ["any"]}), tmp_path / "f.parquet")
    with pytest.raises(InputError, match="lacks columns"):
        optional_table(tmp_path / "f.parquet", {"label", "posts"})


def test_report_has_no_external_resources(report_html: Path):
    html = report_html.read_text()
    assert not re.search(r"""(src|href)=["'](https?:)?//""", html)
    assert "<script" not in html


def test_evaluation_table_names_the_data_and_its_n():
    table = evaluation_table({"lomo": {"markets": {"darkmatter": {"macro_f1": 0.87, "n": 40,
                                                                  "per_class": {"f1": 1.0}}}},
                              "test": {"kappa": 0.5, "segments": 9}}, ["macro_f1", "kappa"])
    rows = table.to_dict("records")
    assert rows[0] == {"measured on": "leave one market out › darkmatter", "n": 40,
                       "macro_f1": 0.87, "kappa": pytest.approx(float("nan"), nan_ok=True)}
    assert rows[1]["measured on"] == "test split" and rows[1]["n"] == 9


def test_method_text_follows_the_model_card():
    card = {"model": "tfidf_logreg", "encoder": "distilbert-multilingual",
            "label_counts": {"negative": 3, "positive": 5}}
    text = method_from_card("sentiment", card)
    assert "`tfidf_logreg`" in text and "cascaded into the fine-tuned encoder" in text
    assert "8 labelled examples in 2 classes" in text
    assert "cascaded" not in method_from_card("sentiment", {**card, "encoder": None})


def test_figures_say_no_data_where_n_is_zero():
    assert with_interval(float("nan"), float("nan"), float("nan"), 0) == "no data (n=0)"
    assert with_interval(0.5, 0.2, 0.8, 10) == "50.0% (n=10, 95% CI 20.0%–80.0%)"
    assert with_interval(120.0, 80.0, 150.0, 7, percent=False) == "€120 (n=7, 95% CI €80–€150)"


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


def test_coverage_tables_take_fill_rates_that_include_the_market_column() -> None:
    """Ingest metrics list a fill rate for every canonical column, `market` included; the
    coverage table's row labels are markets too, and the two must not clash."""
    from pipeline.report.sections import coverage_tables

    ingest = {"dream": {"rows_in": 3, "rows_out": 2, "rows_quarantined": 1,
                        "fill_rate": {"market": 1.0, "title": 1.0, "ships_from_raw": 0.5}}}
    table, fill = coverage_tables(ingest, {})
    assert table.loc[0, "rows in"] == 3
    assert fill.to_dict("records") == [{"market": "dream", "title": 1.0, "ships_from_raw": 0.5}]

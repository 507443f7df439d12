"""Script injection into the report: every text that reaches the page from data or config
(markets, vendors, countries, categories, destinations, shocks, review and forum labels,
codes, segment texts, candidate themes, metric names and keys, the title) carries payloads
that would run or add attributes if left live. The page is parsed as a browser would: no
injected element, no event-handler attribute, and each payload shows up as text."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from test_report import hand_made_listings

from pipeline.analyse import analyse
from pipeline.core.config import load_params
from pipeline.core.io import write_table
from pipeline.report.stage import run_report


def payload(field: str) -> str:
    """A script element, a double-quote and a single-quote attribute break, named by field."""
    return (f'<script>alert("{field}")</script>"><img src=x onerror=alert("{field}")>'
            f"' onmouseover='alert(\"{field}\")")


def attribute_payload(field: str) -> str:
    """For names that become file names (no slash): quotes and brackets only."""
    return f'x" onmouseover="alert(\'{field}\')" <b onclick=alert("{field}")>'


class Page(HTMLParser):
    """Elements, attributes and text of a page, as a browser's tokenizer sees them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def write_hostile_inputs(tmp: Path) -> dict:
    """Analytics, stage summaries and metrics whose every text carries a payload."""
    listings = hand_made_listings()
    listings["vendor"] = payload("vendor") + listings["vendor"]
    listings["market"] = payload("market") + listings["market"]
    # the analytics keep the top-level category (before a "/"): no slash in this payload
    listings["category"] = attribute_payload("category") + listings["category"]
    listings["ships_from"] = listings["ships_from"].replace({"BE": payload("focus")})
    listings["ships_to"] = [[payload("ships_to")]] * len(listings)
    listings["ships_to_excluded"] = listings["ships_to_excluded"].map(
        lambda excluded: [payload("excluded")] if excluded else [])
    params = load_params()
    shock = {"name": payload("shock"), "market": payload("market") + "old", "date": "2019-06-01",
             "days_after": 400}
    feedback = pd.DataFrame({"listing_id": [f"{payload('market')}old-x-0"], "date": ["2019-01-05"]})
    tables, summary = analyse(listings, feedback, {**params["analyse"], "shocks": [shock]}, seed=0)
    summary["linker_evaluation"] = {
        "markets": [payload("linker_market")], "verifiable_pairs": payload("pairs"),
        "precision": payload("precision"), "recall": 0.5,
        "steps": [{"evidence": payload("linker_step"), "links": 1, "links_added": 1,
                   "true_links": 1, "precision": 1.0, "recall": 0.5}]}
    analytics, metrics = tmp / "analytics", tmp / "metrics"
    for name, table in tables.items():
        write_table(table, analytics / f"{name}.parquet")
    (analytics / "summary.json").write_text(json.dumps(summary, default=str))
    metrics.mkdir()
    stage_name = attribute_payload("stage_name")
    (metrics / f"{stage_name}.json").write_text(json.dumps(
        {payload("metric_key"): {"macro_f1": 0.5}}))
    (metrics / "themes.json").write_text(json.dumps({
        "components": [payload("component")], "folds": payload("folds"),
        "model_vs_human": {
            "all": {"segments": 2, "kappa_macro": 0.5, "krippendorff_alpha": 0.5, "micro_f1": 0.5,
                    "kappa_per_code": {payload("kappa_code"): 0.5},
                    "support": {payload("kappa_code"): 1}},
            payload("lang_key"): {"segments": 1, "kappa_per_code": {payload("kappa_code"): 0.4}},
        }}))
    reviews = tmp / "reviews_summary"
    write_table(pd.DataFrame({"vendor": [payload("review_vendor")], "reviews": [3],
                              "share_negative": [0.3], "share_positive": [0.3]}),
                reviews / "sentiment_by_vendor.parquet")
    write_table(pd.DataFrame({"ships_from": [payload("review_country")], "reviews": [3],
                              "share_negative": [0.3], "share_positive": [0.3]}),
                reviews / "sentiment_by_country.parquet")
    write_table(pd.DataFrame({"market": ["all", payload("risk_market")], "negative_reviews": [2, 1],
                              "share_non_delivery": [0.5, 1.0], "share_scam": [0.0, 0.0],
                              "share_non_delivery_or_scam": [0.5, 1.0]}),
                reviews / "negative_review_risks.parquet")
    forum = tmp / "forum.parquet"
    write_table(pd.DataFrame({"label": ["any", payload("forum_label")], "posts": [1, 1],
                              "share": [0.5, 0.5], "total_posts": [2, 2]}), forum)
    segments, themes = tmp / "segments.parquet", tmp / "themes.parquet"
    write_table(pd.DataFrame({"segment_id": [payload("segment_id"), "s2"],
                              "source": [payload("source"), "survey"],
                              "text": [payload("segment_text"), payload("example_text")]}),
                segments)
    write_table(pd.DataFrame({"segment_id": [payload("segment_id")], "code": [payload("code")],
                              "lang": [payload("lang")], "source": [payload("source")],
                              "needs_review": [False]}), themes)
    (tmp / "themes.inductive.json").write_text(json.dumps({
        "uncoded_segments": payload("uncoded"),
        "themes": [{"theme": payload("theme"), "size": payload("size"),
                    "top_terms": [payload("top_term")], "examples": ["s2"]}]}))
    report_cfg = {**params["report"], "title": payload("title"),
                  "focus_country": payload("focus"), "neighbours": [payload("neighbour")],
                  "stage_metrics": [stage_name, "themes"]}
    return {"analytics": analytics, "metrics_dir": metrics, "params": report_cfg,
            "reviews_summary": reviews, "forum_summary": forum, "themes": themes,
            "segments": segments}


FIELDS_SHOWN = [
    "title", "focus", "neighbour", "market", "excluded", "ships_to", "shock",
    "vendor", "linker_market", "pairs", "precision", "linker_step", "metric_key",
    "component", "folds", "kappa_code", "lang_key", "review_vendor", "review_country",
    "risk_market", "forum_label", "code", "lang", "uncoded", "theme", "size", "top_term",
    "example_text",
]


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Page]:
    tmp = tmp_path_factory.mktemp("hostile")
    inputs = write_hostile_inputs(tmp)
    html = run_report(inputs.pop("analytics"), tmp / "index.html", inputs.pop("metrics_dir"),
                      inputs.pop("params"), **inputs).read_text()
    parsed = Page()
    parsed.feed(html)
    return html, parsed


def test_no_injected_element_or_attribute_is_live(page):
    _, parsed = page
    tags = {tag for tag, _ in parsed.tags}
    assert "script" not in tags
    assert "b" not in tags  # the template uses <strong>; <b> only comes from a payload
    for tag, attrs in parsed.tags:
        names = {name for name, _ in attrs}
        assert not any(name.startswith("on") for name in names), (tag, attrs)
        if tag == "img":
            assert dict(attrs)["src"].startswith("data:image/png;base64,"), attrs


def test_every_payload_reaches_the_page_as_text(page):
    _, parsed = page
    text = "".join(parsed.text)
    missing = [f for f in FIELDS_SHOWN if f'<script>alert("{f}")</script>' not in text]
    assert missing == []
    for field in ("category", "stage_name"):
        assert f'<b onclick=alert("{field}")>' in text, field


def test_no_payload_is_left_unescaped_in_the_source(page):
    html, _ = page
    assert "<img src=x" not in html and "<script" not in html and "<b " not in html

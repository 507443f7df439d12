"""The page: figures, tables and sentences gathered into one context, rendered with Jinja.

Autoescaping is on for every template, whatever its file name, so every string from the
data (a vendor, a code, a metric key) is text on the page, never markup; tables built here
are escaped cell by cell and marked safe once, in `html_table`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, FileSystemLoader
from markupsafe import Markup

from pipeline.report.figures import (
    fig_forum_labels,
    fig_migration,
    fig_mix,
    fig_multi,
    fig_review_risks,
    fig_sentiment,
    fig_shares,
    fig_theme_codes,
    fig_time,
    fig_transactions,
)
from pipeline.report.sections import (
    ALL,
    agreement_table,
    code_counts,
    focus_destinations,
    focus_links,
    focus_mix,
    focus_pairs,
    focus_vendors,
    headline_leaves,
    inductive_rows,
    key_figures,
    multi_country_trend,
    review_key_figures,
    sentiment_rows,
    shares_over_time,
    supply_shares,
)

TEMPLATES = Path(__file__).parent / "templates"


def stage_results_context(results: dict[str, Any], focus: str, top: int, dpi: int
                          ) -> dict[str, Any]:
    """Figures, tables and sentences of the reviews, forums and themes sections; a section is
    None when none of its inputs exist (the template then says "not run")."""
    pct = ("share_negative", "share_neutral", "share_positive", "share_non_delivery",
           "share_scam", "share_non_delivery_or_scam", "share")
    vendors, countries = results.get("sentiment_by_vendor"), results.get("sentiment_by_country")
    risks = results.get("negative_review_risks")
    reviews = None
    if any(t is not None for t in (vendors, countries, risks)):
        vendor_rows = sentiment_rows(vendors, "vendor", top) if vendors is not None else None
        country_rows = (sentiment_rows(countries, "ships_from", 2 * top, keep=focus)
                        if countries is not None else None)
        reviews = {
            "key": review_key_figures(countries, risks, focus),
            "fig_vendors": fig_sentiment(vendor_rows, "vendor", None, dpi)
            if vendor_rows is not None else None,
            "fig_countries": fig_sentiment(country_rows, "ships_from", focus, dpi)
            if country_rows is not None else None,
            "fig_risks": fig_review_risks(risks, dpi) if risks is not None else None,
            "vendors": html_table(vendor_rows, pct) if vendor_rows is not None else None,
            "countries": html_table(country_rows, pct) if country_rows is not None else None,
            "risks": html_table(risks, pct) if risks is not None else None,
            "vendor_count": len(vendors) if vendors is not None else 0,
            "vendors_shown": len(vendor_rows) if vendor_rows is not None else 0,
        }
    forum = results.get("forum_summary")
    forums = None
    if forum is not None:
        any_row = forum[forum["label"] == "any"]
        forums = {
            "fig": fig_forum_labels(forum, dpi), "table": html_table(forum, pct),
            "total": int(forum["total_posts"].iloc[0]) if len(forum) else 0,
            "any": any_row.iloc[0].to_dict() if len(any_row) else None,
        }
    coded, metrics = results.get("themes"), results.get("themes_metrics")
    inductive = results.get("inductive")
    themes = None
    if coded is not None or metrics is not None:
        per_code, overall = agreement_table(metrics) if metrics else (None, None)
        order = list(per_code["code"]) if per_code is not None else None
        segments = results.get("segments")
        themes = {
            "fig": fig_theme_codes(coded, order, dpi) if coded is not None else None,
            "codes": coded["code"].nunique() if coded is not None else 0,
            "coded_segments": coded["segment_id"].nunique() if coded is not None else 0,
            "segments": len(segments) if segments is not None else None,
            "needs_review": int(coded["needs_review"].sum())
            if coded is not None and "needs_review" in coded else None,
            "per_lang": html_table(code_counts(coded, "lang", order)
                              .assign(total=lambda t: t.sum(axis=1)).reset_index())
            if coded is not None else None,
            "agreement": html_table(per_code) if per_code is not None else None,
            "overall": html_table(overall) if overall is not None else None,
            "components": ", ".join(metrics.get("components", [])) if metrics else "",
            "folds": metrics.get("folds") if metrics else None,
            "inductive": inductive,
            "candidates": inductive_rows(inductive, segments) if inductive is not None else [],
        }
    return {"reviews": reviews, "forums": forums, "themes": themes}


def html_table(df: pd.DataFrame, percent: tuple[str, ...] = (), money: tuple[str, ...] = ()
               ) -> Markup:
    """A DataFrame as a plain HTML table, shares as percentages, money rounded; every
    header and cell escaped by pandas, so the result is safe to print unescaped."""
    if df.empty:
        return Markup('<p class="empty">no rows</p>')
    shown = df.copy()
    for column in shown.columns:
        if column in percent:
            shown[column] = shown[column].map(lambda v: "" if pd.isna(v) else f"{v * 100:.1f}%")
        elif column in money:
            shown[column] = shown[column].map(lambda v: "" if pd.isna(v) else f"€{v:,.0f}")
        elif pd.api.types.is_float_dtype(shown[column]):
            shown[column] = shown[column].map(lambda v: "" if pd.isna(v) else f"{v:,.2f}")
    return Markup(shown.to_html(index=False, border=0, classes="t", escape=True))


def data_period(shares: pd.DataFrame) -> str:
    """The scrape months the data covers: the page states its data, not when it was built,
    so the same inputs give the same bytes."""
    months = sorted(m for m in shares["month"].astype(str).unique() if m != ALL)
    if not months:
        return "no dated listings"
    return months[0] if len(months) == 1 else f"{months[0]} to {months[-1]}"


def build_context(tables: dict[str, pd.DataFrame], summary: dict[str, Any],
                  stage_metrics: dict[str, dict | None], cfg: dict[str, Any],
                  results: dict[str, Any] | None = None) -> dict[str, Any]:
    """Everything the template shows: figures, tables and key sentences; `results` are the
    review, forum and theme summaries (see `load_stage_results`), absent ones "not run"."""
    focus, neighbours = cfg["focus_country"], list(cfg["neighbours"])
    countries, top, dpi = [focus, *neighbours], int(cfg["top_rows"]), int(cfg["figure_dpi"])
    shares = supply_shares(tables["country_shares"], countries)
    mix = focus_mix(tables["product_mix"], focus)
    pairs = focus_pairs(tables["multi_country"], focus)
    trend = multi_country_trend(tables["multi_country"])
    tsum = tables["transaction_summary"]
    tx_rows = tsum[tsum["origin"].isin([ALL, focus])].sort_values(["market", "origin"])
    links = tables["migration_links"]
    ships_to = focus_destinations(tables["destinations"], focus, "ships_to", top)
    excluded = focus_destinations(tables["destinations"], focus, "excluded", top)
    wholesale = float(summary.get("wholesale_threshold_eur", 1000))
    pct = ("vendors_share_known", "listings_share_known", "revenue_eur_share_known",
           "listings_share", "share", "market_share", "share_sales_under_small",
           "share_revenue_wholesale")
    money = ("revenue_eur", "mean_eur", "median_eur", "max_eur")
    return {
        "title": cfg["title"], "focus": focus, "neighbours": neighbours,
        "period": data_period(tables["country_shares"]),
        "summary": summary, "wholesale": wholesale,
        "small": float(summary.get("small_transaction_eur", 200)),
        "key": key_figures(shares, mix, ships_to, excluded, tables["vendors"], tsum, links,
                           focus),
        "figures": {
            "shares": fig_shares(shares, countries, dpi),
            "time": fig_time(shares_over_time(tables["country_shares"], countries), countries,
                             dpi),
            "mix": fig_mix(mix, focus, dpi),
            "transactions": fig_transactions(tables["transactions"], focus, wholesale, dpi),
            "multi": fig_multi(trend, pairs, dpi),
            "migration": fig_migration(tables["migration_summary"], dpi),
        },
        "tables": {
            "shares": html_table(shares, pct, money),
            "mix": html_table(mix, pct),
            "ships_to": html_table(ships_to, pct),
            "excluded": html_table(excluded, pct),
            "pairs": html_table(pairs[pairs["month"] == ALL].head(top)),
            "pairs_time": html_table(pairs[pairs["month"] != ALL].head(top * 2)),
            "trend": html_table(trend, ("share",)),
            "focus_vendors": html_table(focus_vendors(tables["vendors"], focus, top), (), money),
            "transactions": html_table(tx_rows, pct, money),
            "migration": html_table(tables["migration_summary"]),
            "focus_links": html_table(focus_links(links, focus, top)),
        },
        "linker": summary.get("linker_evaluation", {}),
        **stage_results_context(results or {}, focus, top, dpi),
        "stage_metrics": {
            name: (headline_leaves(m, list(cfg["headline_metrics"])) if m is not None else None)
            for name, m in stage_metrics.items()
        },
    }



def render_report(context: dict[str, Any]) -> str:
    """The HTML page; the environment escapes every value the template prints."""
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True)
    return env.get_template("report.html.j2").render(**context)

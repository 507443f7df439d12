"""The page: figures, tables and sentences gathered into one context, rendered with Jinja.

Autoescaping is on for every template, whatever its file name, so every string from the
data (a vendor, a code, a metric key) is text on the page, never markup; tables built here
are escaped cell by cell and marked safe once, in `html_table`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from jinja2 import Environment, FileSystemLoader
from markupsafe import Markup, escape

from pipeline.report.figures import (
    fig_destinations,
    fig_forum_labels,
    fig_migration,
    fig_mix,
    fig_monitor_entries,
    fig_monitor_prices,
    fig_monitor_series,
    fig_multi,
    fig_review_risks,
    fig_sentiment,
    fig_shares,
    fig_substances,
    fig_theme_codes,
    fig_time,
    fig_transactions,
)
from pipeline.report.sections import (
    ALL,
    agreement_table,
    change_counts,
    code_counts,
    coverage_tables,
    entries_exits,
    evaluation_table,
    first_seen_substances,
    focus_destinations,
    focus_links,
    focus_mix,
    focus_pairs,
    focus_vendors,
    inductive_rows,
    key_figures,
    method_from_card,
    monitoring_key_figures,
    monthly_top_substances,
    multi_country_trend,
    review_key_figures,
    sentiment_rows,
    shares_over_time,
    substance_key_figure,
    supply_shares,
    top_substances,
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


def monitoring_context(tables: dict[str, pd.DataFrame], top: int, min_n: int, dpi: int
                       ) -> dict[str, Any]:
    """Figures, tables and sentences of the monitoring section, from the tables of
    `cryptodrug monitor`: market series, entries and exits, prices per gram, the change
    list between the last two snapshots."""
    series, changes = tables["series"], tables["changes"]
    entries = entries_exits(series, tables["lifecycles"], tables["vendors"])
    moved = tables["vendors"][tables["vendors"]["moved"].astype(bool)]
    return {
        "key": monitoring_key_figures(series, changes),
        "snapshots": len(series), "sightings": int(series["listings"].sum()),
        "markets": sorted(series["market"].unique()),
        "priced": int(tables["category_prices"]["listings_per_g"].sum()),
        "changes_total": len(changes), "changes_shown": min(len(changes), 2 * top),
        "figures": {
            "series": fig_monitor_series(series, min_n, dpi),
            "entries": fig_monitor_entries(entries, dpi),
            "prices": fig_monitor_prices(tables["category_prices"], min_n, dpi),
        },
        "tables": {
            "series": html_table(series, (), ("median_price_per_g_eur",), "listings", min_n),
            "entries": html_table(entries),
            "prices": html_table(tables["category_prices"], (), ("median_price_per_g_eur",),
                                 "listings_per_g", min_n),
            "change_counts": html_table(change_counts(changes)),
            "changes": html_table(changes.head(2 * top)),
            "moved": html_table(moved[["market", "vendor", "first_seen", "last_seen",
                                       "origin_first", "origin_last"]]),
        },
    }


def _cell(value: Any, kind: str) -> str:
    if value is None or (not isinstance(value, list | tuple | np.ndarray) and pd.isna(value)):
        return "no data" if kind in ("percent", "money") else ""
    if kind == "percent":
        return f"{value * 100:.1f}%"
    if kind == "money":
        return f"€{value:,.0f}"
    if isinstance(value, bool | np.bool_):
        return str(value)
    if isinstance(value, int | np.integer):
        return f"{value:,}"
    if isinstance(value, float | np.floating):
        return f"{value:,.2f}"
    return str(value)


def html_table(df: pd.DataFrame, percent: tuple[str, ...] = (), money: tuple[str, ...] = (),
               n_column: str | None = None, min_n: int = 0) -> Markup:
    """A DataFrame as a plain HTML table: shares as percentages, money rounded, counts as
    integers, "no data" for a missing share or amount, a `X_low`/`X_high` pair shown as the
    95% interval beside `X`; rows whose `n_column` is below `min_n` greyed with a note.
    Every header and cell is escaped here, so the result is safe to print unescaped."""
    if df.empty:
        return Markup('<p class="empty">no rows</p>')
    bounds = {c for c in df.columns if c.endswith(("_low", "_high"))
              and c.rsplit("_", 1)[0] in df.columns}
    columns = [c for c in df.columns if c not in bounds]
    kinds = {c: "percent" if c in percent else "money" if c in money else "" for c in columns}
    low = (pd.to_numeric(df[n_column], errors="coerce").fillna(0) < min_n
           if n_column in df.columns else pd.Series(False, index=df.index))
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = []
    for (_, row), grey in zip(df.iterrows(), low, strict=True):
        cells = []
        for c in columns:
            text = _cell(row[c], kinds[c])
            if f"{c}_low" in bounds and not pd.isna(row[f"{c}_low"]):
                text += (f" [{_cell(row[f'{c}_low'], kinds[c])}–"
                         f"{_cell(row[f'{c}_high'], kinds[c])}]")
            cells.append(f"<td>{escape(text)}</td>")
        body.append(('<tr class="low-n">' if grey else "<tr>") + "".join(cells) + "</tr>")
    note = (f'<p class="note">Grey rows rest on fewer than {min_n} observations '
            f"({escape(n_column)}); read them with caution.</p>" if low.any() else "")
    return Markup(f'<table class="t"><thead><tr>{head}</tr></thead><tbody>'
                  + "\n".join(body) + f"</tbody></table>{note}")


def data_period(shares: pd.DataFrame) -> str:
    """The scrape months the data covers: the page states its data, not when it was built,
    so the same inputs give the same bytes."""
    months = sorted(shares["month"].dropna().astype(str).unique())
    if not months:
        return "no dated listings"
    return months[0] if len(months) == 1 else f"{months[0]} to {months[-1]}"


def build_context(tables: dict[str, pd.DataFrame], summary: dict[str, Any],
                  stage_metrics: dict[str, dict | None], cfg: dict[str, Any],
                  results: dict[str, Any] | None = None, ingest: dict[str, dict] | None = None,
                  cards: dict[str, dict] | None = None,
                  monitoring: dict[str, pd.DataFrame] | None = None) -> dict[str, Any]:
    """Everything the template shows: figures, tables and key sentences; `results` are the
    review, forum and theme summaries (see `load_stage_results`), absent ones "not run";
    `ingest` the per-market ingest metrics, `cards` the model cards by model folder,
    `monitoring` the tables of `cryptodrug monitor` (None: "not run")."""
    focus, neighbours = cfg["focus_country"], list(cfg["neighbours"])
    countries, top, dpi = [focus, *neighbours], int(cfg["top_rows"]), int(cfg["figure_dpi"])
    min_n = int(cfg.get("min_n", 30))
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
    small = float(summary.get("small_transaction_eur", 200))
    pct = ("vendors_share_known", "listings_share_known", "revenue_eur_share_known",
           "listings_share", "share", "market_share", "share_sales_under_small",
           "share_revenue_wholesale", "multi_country_share")
    money = ("revenue_eur", "mean_eur", "median_eur", "max_eur")
    coverage, fill = coverage_tables(ingest or {}, summary.get("coverage", {}))
    substances = tables["substances"]
    overall_substances = top_substances(substances, ALL, top)
    focus_substances = top_substances(substances, focus, top)
    migration = tables["migration_summary"].astype({c: str for c in (
        "shock_date", "window_start", "window_end") if c in tables["migration_summary"]})
    return {
        "title": cfg["title"], "focus": focus, "neighbours": neighbours,
        "period": data_period(tables["country_shares"]),
        "summary": summary, "wholesale": wholesale, "small": small, "min_n": min_n,
        "invented": str(cfg.get("data", "")) in set(map(str, cfg.get("invented_data") or [])),
        "data_name": cfg.get("data", ""),
        "key": key_figures(shares, mix, ships_to, excluded, tables["vendors"], tsum, links,
                           focus) + [substance_key_figure(substances, focus)],
        "figures": {
            "shares": fig_shares(shares, countries, min_n, dpi),
            "time": fig_time(shares_over_time(tables["country_shares"], countries), countries,
                             dpi),
            "mix": fig_mix(mix, focus, min_n, dpi),
            "destinations": fig_destinations(ships_to, excluded, focus, dpi),
            "transactions": fig_transactions(tables["transactions"], focus, small, wholesale,
                                             dpi),
            "multi": fig_multi(trend, pairs, dpi),
            "migration": fig_migration(tables["migration_summary"], dpi),
            "substances": fig_substances(overall_substances, focus_substances, focus, min_n,
                                         dpi),
        },
        "tables": {
            "shares": html_table(shares, pct, money, "listings_known_total", min_n),
            "mix": html_table(mix, pct, (), "origin_listings", min_n),
            "ships_to": html_table(ships_to, pct, (), "origin_listings", min_n),
            "excluded": html_table(excluded, pct, (), "origin_listings", min_n),
            "pairs": html_table(pairs[pairs["period"] == ALL].drop(columns=["period", "month"])
                                .head(top)),
            "pairs_time": html_table(pairs[pairs["period"] != ALL].drop(columns="period")
                                     .head(top * 2)),
            "trend": html_table(trend, pct, (), "vendors_with_country", min_n),
            "focus_vendors": html_table(focus_vendors(tables["vendors"], focus, top), (), money),
            "transactions": html_table(tx_rows, pct, money, "sales", min_n),
            "migration": html_table(migration),
            "focus_links": html_table(focus_links(links, focus, top)),
            "coverage": html_table(coverage),
            "fill": html_table(fill, tuple(c for c in fill.columns if c != "market")),
            "substances": html_table(pd.concat([overall_substances, focus_substances]), pct,
                                     (), "origin_listings", min_n),
            "substances_monthly": html_table(
                monthly_top_substances(substances, countries), pct, (), "origin_listings",
                min_n),
            "substances_first_seen": html_table(first_seen_substances(substances).head(2 * top)),
        },
        "linker": summary.get("linker_evaluation", {}),
        **stage_results_context(results or {}, focus, top, dpi),
        "monitoring": monitoring_context(monitoring, top, min_n, dpi)
        if monitoring is not None else None,
        "stage_metrics": {
            name: (html_table(evaluation_table(m, list(cfg["headline_metrics"])))
                   if m is not None else None)
            for name, m in stage_metrics.items()
        },
        "methods": [method_from_card(name, card) for name, card in sorted((cards or {}).items())],
    }


def render_report(context: dict[str, Any]) -> str:
    """The HTML page; the environment escapes every value the template prints."""
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True)
    return env.get_template("report.html.j2").render(**context)

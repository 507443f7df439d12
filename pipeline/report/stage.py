"""Stage `report`: the analytics tables and every stage's metrics as one offline HTML page.

Figures are drawn with matplotlib and embedded as base64 PNG, tables are plain HTML, there
is no script and no external resource, so the page renders without network. The focus
country (and its neighbours) come from the report config, so a researcher can read off what
the CRYPTODRUG summary states for Belgium: share of supply, product mix, destinations and
exclusions, multi-country vendors, transaction sizes and migration.
"""

from __future__ import annotations

import base64
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from jinja2 import Environment, FileSystemLoader, select_autoescape  # noqa: E402

from pipeline.core.io import InputError, read_table, require_columns  # noqa: E402

TEMPLATES = Path(__file__).parent / "templates"
TABLES = ("vendors", "country_shares", "product_mix", "destinations", "transactions",
          "transaction_summary", "multi_country", "migration_links", "migration_summary")
ALL = "all"


def load_analytics(folder: Path) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """The tables `cryptodrug analyse` wrote, and its summary."""
    missing = [t for t in TABLES if not (folder / f"{t}.parquet").exists()]
    if missing or not (folder / "summary.json").exists():
        raise InputError(f"{folder}: not an analytics folder (run `cryptodrug analyse` first)")
    tables = {t: read_table(folder / f"{t}.parquet") for t in TABLES}
    return tables, json.loads((folder / "summary.json").read_text())


def load_stage_metrics(folder: Path, names: list[str]) -> dict[str, dict | None]:
    """Each stage's metrics JSON, or None where the stage has not run."""
    out: dict[str, dict | None] = {}
    for name in names:
        path = folder / f"{name}.json"
        out[name] = json.loads(path.read_text()) if path.exists() else None
    return out


def headline_leaves(metrics: dict, names: list[str], limit: int = 16) -> list[tuple[str, Any]]:
    """Flattened `a.b.c -> value` leaves whose last key is a headline figure."""
    found: list[tuple[str, Any]] = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, f"{path}.{key}" if path else str(key))
        elif (isinstance(node, int | float) and path.rsplit(".", 1)[-1] in names
              and "per_" not in path):  # per-class figures stay in the file
            found.append((path, round(node, 4) if isinstance(node, float) else node))

    walk(metrics, "")
    return found[:limit]


# --- what the report reads off for the focus country -------------------------------------


def supply_shares(shares: pd.DataFrame, countries: list[str]) -> pd.DataFrame:
    """Whole-period shares of vendors, listings and revenue per market for the countries."""
    rows = shares[(shares["month"] == ALL) & shares["origin"].isin(countries)]
    cols = ["market", "origin", "vendors", "listings", "revenue_eur", "vendors_share_known",
            "listings_share_known", "revenue_eur_share_known", "listings_share"]
    return rows[cols].sort_values(["market", "origin"]).reset_index(drop=True)


def shares_over_time(shares: pd.DataFrame, countries: list[str]) -> pd.DataFrame:
    rows = shares[(shares["month"] != ALL) & shares["origin"].isin(countries)]
    return rows[["market", "month", "origin", "listings_share_known"]].sort_values(
        ["month", "market", "origin"]).reset_index(drop=True)


def focus_mix(mix: pd.DataFrame, focus: str) -> pd.DataFrame:
    rows = mix[(mix["market"] == ALL) & (mix["origin"] == focus)]
    return rows[["category", "listings", "share", "market_share", "index"]].reset_index(drop=True)


def focus_destinations(dest: pd.DataFrame, focus: str, kind: str, top: int) -> pd.DataFrame:
    rows = dest[(dest["market"] == ALL) & (dest["origin"] == focus) & (dest["kind"] == kind)]
    return rows[["destination", "listings", "share"]].head(top).reset_index(drop=True)


def focus_pairs(multi: pd.DataFrame, focus: str) -> pd.DataFrame:
    """Country pairs including the focus country, per market and month."""
    rows = multi[multi["pair"].str.split("+").map(lambda p: focus in p)]
    return rows[["market", "month", "pair", "vendors", "vendors_with_country"]].reset_index(
        drop=True)


def multi_country_trend(multi: pd.DataFrame) -> pd.DataFrame:
    base = multi.drop_duplicates(["market", "month"])
    out = base[["market", "month", "vendors_with_country", "multi_country_vendors"]].copy()
    out["share"] = out["multi_country_vendors"] / out["vendors_with_country"].replace(0, np.nan)
    return out.sort_values(["market", "month"]).reset_index(drop=True)


def focus_vendors(vendors: pd.DataFrame, focus: str, top: int) -> pd.DataFrame:
    rows = vendors[vendors["countries"].map(lambda c: focus in list(c))]
    rows = rows.sort_values(["listings", "vendor"], ascending=[False, True]).head(top)
    out = rows[["market", "vendor", "countries", "listings", "top_category", "first_seen",
                "last_seen", "sales", "revenue_eur"]].copy()
    out["countries"] = out["countries"].map(lambda c: ", ".join(c))
    return out.reset_index(drop=True)


def focus_links(links: pd.DataFrame, focus: str, top: int) -> pd.DataFrame:
    rows = links[links["origins"].map(lambda o: focus in list(o) if o is not None else False)]
    out = rows[["shock", "market", "vendor", "market_to", "vendor_to", "score", "evidence"]].copy()
    out["evidence"] = out["evidence"].map(lambda e: ", ".join(e))
    return out.sort_values("score", ascending=False).head(top).reset_index(drop=True)


def key_figures(shares: pd.DataFrame, mix: pd.DataFrame, ships_to: pd.DataFrame,
                excluded: pd.DataFrame, vendors: pd.DataFrame, tsum: pd.DataFrame,
                links: pd.DataFrame, focus: str) -> list[str]:
    """One sentence per CRYPTODRUG summary item, with the measured figures."""
    mine = shares[shares["origin"] == focus]
    share = "; ".join(f"{r.market} {r.listings_share_known:.1%} of listings, "
                      f"{r.vendors_share_known:.1%} of vendors" for r in mine.itertuples())
    over = mix[mix["index"] > 1.2]
    tx = tsum[(tsum["market"] == ALL) & (tsum["origin"] == focus)]
    multi = vendors[vendors["countries"].map(lambda c: focus in list(c)) & vendors["multi_country"]]
    moved = links[links["origins"].map(lambda o: focus in list(o) if o is not None else False)]
    return [
        f"Share of supply: {share or 'no listings from ' + focus}.",
        "Product mix: over-represented against all markets in "
        + (", ".join(f"{r.category} ({r.share:.0%} vs {r.market_share:.0%})"
                     for r in over.itertuples()) or "no category") + ".",
        "Ships to: " + (", ".join(f"{r.destination} {r.share:.0%}" for r in ships_to.head(5)
                                  .itertuples()) or "none stated")
        + "; excluded: " + (", ".join(f"{r.destination} {r.share:.0%}"
                                      for r in excluded.head(5).itertuples()) or "none stated")
        + ".",
        f"Multi-country vendors: {len(multi)} accounts ship from {focus} and another country.",
        "Transactions: " + (
            f"{tx.iloc[0].sales:,.0f} sales, median €{tx.iloc[0].median_eur:,.0f}, "
            f"{tx.iloc[0].share_sales_under_small:.0%} under the small threshold, "
            f"{tx.iloc[0].share_revenue_wholesale:.0%} of revenue wholesale"
            if len(tx) else "none estimated") + ".",
        f"Migration: {len(moved)} {focus} vendor accounts linked to another market after a shock.",
    ]


# --- figures -----------------------------------------------------------------------------


def _png(fig: plt.Figure, dpi: int) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _empty(ax: plt.Axes, what: str) -> None:
    ax.text(0.5, 0.5, f"no {what} in the data", ha="center", va="center")
    ax.set_axis_off()


def fig_shares(table: pd.DataFrame, countries: list[str], dpi: int) -> str:
    fig, ax = plt.subplots(figsize=(8, 3.6))
    if table.empty:
        _empty(ax, "listings from these countries")
    else:
        wide = table.pivot_table(index="market", columns="origin", values="listings_share_known",
                                 aggfunc="sum").reindex(columns=countries).fillna(0.0) * 100
        # many markets side by side: slanted names stay readable
        wide.plot.bar(ax=ax, rot=30 if len(wide) > 6 else 0, width=0.8)
        ax.set_ylabel("% of listings with declared origin")
        ax.set_xlabel("")
    return _png(fig, dpi)


def fig_time(table: pd.DataFrame, countries: list[str], dpi: int) -> str:
    fig, ax = plt.subplots(figsize=(8, 3.4))
    if table.empty:
        _empty(ax, "monthly shares")
    else:
        months = sorted(table["month"].unique())
        for country in countries:
            rows = table[table["origin"] == country]
            ax.plot([months.index(m) for m in rows["month"]], rows["listings_share_known"] * 100,
                    "o", label=country)
        ax.set_xticks(range(len(months)), months, rotation=45, ha="right", fontsize=8)
        ax.set_ylabel("% of listings")
        ax.legend(ncol=len(countries), fontsize=8)
    return _png(fig, dpi)


def fig_mix(table: pd.DataFrame, focus: str, dpi: int) -> str:
    fig, ax = plt.subplots(figsize=(8, 3.8))
    if table.empty:
        _empty(ax, f"listings from {focus}")
    else:
        rows = table.sort_values("share")
        y = np.arange(len(rows))
        ax.barh(y - 0.2, rows["share"] * 100, height=0.4, label=focus)
        ax.barh(y + 0.2, rows["market_share"] * 100, height=0.4, label="all markets")
        ax.set_yticks(y, rows["category"])
        ax.set_xlabel("% of listings")
        ax.legend()
    return _png(fig, dpi)


def fig_transactions(tx: pd.DataFrame, focus: str, wholesale: float, dpi: int) -> str:
    fig, ax = plt.subplots(figsize=(8, 3.4))
    if tx.empty:
        _empty(ax, "transactions")
    else:
        bins = np.logspace(0, max(np.log10(tx["value_eur"].max()) + 0.1, 1), 40)
        for label, rows in (("all origins", tx), (focus, tx[tx["origin"] == focus])):
            if len(rows):
                ax.hist(rows["value_eur"], bins=bins, weights=rows["n"] / rows["n"].sum(),
                        histtype="step", linewidth=1.6, label=label)
        ax.axvline(wholesale, color="grey", linestyle="--", label=f"wholesale €{wholesale:,.0f}")
        ax.set_xscale("log")
        ax.set_xlabel("transaction value (EUR, log scale)")
        ax.set_ylabel("share of sales")
        ax.legend(fontsize=8)
    return _png(fig, dpi)


def fig_multi(trend: pd.DataFrame, pairs: pd.DataFrame, dpi: int) -> str:
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.4))
    rows = trend[trend["month"] != ALL]
    if rows.empty:
        _empty(left, "vendors with a declared country")
    else:
        for market, g in rows.groupby("market"):
            left.plot(g["month"], g["share"] * 100, "o-", label=market)
        left.set_ylabel("% multi-country vendors")
        left.tick_params(axis="x", rotation=45, labelsize=7)
        left.legend(fontsize=7)
    top = pairs[pairs["month"] == ALL].groupby("pair")["vendors"].sum().nlargest(10)
    if top.empty:
        _empty(right, "country pairs with the focus country")
    else:
        top.sort_values().plot.barh(ax=right)
        right.set_xlabel("vendors (all markets)")
        right.set_ylabel("")
    return _png(fig, dpi)


def fig_migration(summary: pd.DataFrame, dpi: int) -> str:
    fig, ax = plt.subplots(figsize=(8, 3.2))
    rows = summary[summary["accounts_before"] > 0]
    if rows.empty:
        _empty(ax, "accounts on a shocked market")
    else:
        wide = rows.pivot_table(index="shock", columns="market_to", values="linked",
                                aggfunc="sum").fillna(0)
        wide.plot.bar(ax=ax, rot=0)
        ax.set_ylabel("linked vendor accounts")
        ax.set_xlabel("")
    return _png(fig, dpi)


# --- results of the review, forum and theme stages (each optional: "not run" when absent) -


REVIEW_TABLES = {
    "sentiment_by_vendor": {"vendor", "reviews", "share_negative", "share_positive"},
    "sentiment_by_country": {"ships_from", "reviews", "share_negative", "share_positive"},
    "negative_review_risks": {"market", "negative_reviews", "share_non_delivery", "share_scam",
                              "share_non_delivery_or_scam"},
}
FORUM_COLUMNS = {"label", "posts", "share", "total_posts"}
THEME_COLUMNS = {"segment_id", "code", "lang", "source"}
SEGMENT_COLUMNS = {"segment_id", "source", "text"}
NEGATIVE, NEUTRAL, POSITIVE, HIGHLIGHT = "#c0392b", "#c8c8c8", "#2e8b57", "#e0a800"


def optional_table(path: Path | None, columns: set[str]) -> pd.DataFrame | None:
    """The table at `path`, or None when its stage has not run; a one-line error when it
    lacks the columns the report reads."""
    if path is None or not path.exists():
        return None
    table = read_table(path)
    require_columns(table, columns, path)
    return table


def load_stage_results(reviews_summary: Path | None, forum_summary: Path | None,
                       themes: Path | None, segments: Path | None,
                       metrics_dir: Path) -> dict[str, Any]:
    """The summaries the reviews, forums and themes stages wrote; None for each one absent."""
    results: dict[str, Any] = {
        name: optional_table(reviews_summary / f"{name}.parquet" if reviews_summary else None,
                             cols) for name, cols in REVIEW_TABLES.items()}
    results["forum_summary"] = optional_table(forum_summary, FORUM_COLUMNS)
    results["themes"] = optional_table(themes, THEME_COLUMNS)
    results["segments"] = optional_table(segments, SEGMENT_COLUMNS)
    inductive = themes.with_name(f"{themes.stem}.inductive.json") if themes else None
    results["inductive"] = (json.loads(inductive.read_text())
                            if inductive is not None and inductive.exists() else None)
    agreement = metrics_dir / "themes.json"
    results["themes_metrics"] = json.loads(agreement.read_text()) if agreement.exists() else None
    return results


def sentiment_rows(table: pd.DataFrame, key: str, top: int, keep: str | None = None
                   ) -> pd.DataFrame:
    """The `top` rows with most reviews (plus `keep`, e.g. the focus country, if further down),
    with the neutral share the summary leaves implicit."""
    ranked = table.sort_values(["reviews", key], ascending=[False, True])
    rows = ranked.head(top)
    if keep is not None and keep not in set(rows[key]):
        rows = pd.concat([rows, ranked[ranked[key] == keep]])
    rows = rows.assign(share_neutral=(1 - rows["share_negative"] - rows["share_positive"])
                       .clip(lower=0).round(4))
    cols = [key, "reviews", "share_negative", "share_neutral", "share_positive"]
    return rows[cols + (["mean_score"] if "mean_score" in rows else [])].reset_index(drop=True)


def review_key_figures(by_country: pd.DataFrame | None, risks: pd.DataFrame | None,
                       focus: str) -> list[str]:
    """The buyers' main perceived risk, and how reviews of focus-country vendors compare."""
    lines = []
    overall = risks[risks["market"] == ALL] if risks is not None else None
    if overall is not None and len(overall):
        r = overall.iloc[0]
        lines.append(f"{r.share_non_delivery_or_scam:.0%} of {r.negative_reviews:,} negative "
                     f"reviews mention non-delivery or a scam (non-delivery "
                     f"{r.share_non_delivery:.0%}, scam {r.share_scam:.0%}).")
    if by_country is not None and len(by_country):
        mine = by_country[by_country["ships_from"] == focus]
        overall_neg = float(np.average(by_country["share_negative"],
                                       weights=by_country["reviews"]))
        lines.append(
            f"Reviews of listings shipping from {focus}: " + (
                f"{mine.iloc[0].reviews:,} reviews, {mine.iloc[0].share_negative:.0%} negative"
                if len(mine) else "none")
            + f" (all countries: {overall_neg:.0%} negative).")
    return lines


def fig_sentiment(rows: pd.DataFrame, key: str, highlight: str | None, dpi: int) -> str:
    """100% stacked bars negative / neutral / positive, one per vendor or country."""
    rows = rows.iloc[::-1].reset_index(drop=True)  # most reviewed on top
    fig, ax = plt.subplots(figsize=(8, 0.8 + 0.32 * max(len(rows), 3)))
    if rows.empty:
        _empty(ax, "reviews")
        return _png(fig, dpi)
    y = np.arange(len(rows))
    left = np.zeros(len(rows))
    for column, colour, label in (("share_negative", NEGATIVE, "negative"),
                                  ("share_neutral", NEUTRAL, "neutral"),
                                  ("share_positive", POSITIVE, "positive")):
        values = rows[column].to_numpy() * 100
        ax.barh(y, values, left=left, color=colour, label=label, height=0.7)
        left += values
    labels = [f"{name} (n={n:,})" for name, n in zip(rows[key], rows["reviews"], strict=True)]
    ax.set_yticks(y, labels, fontsize=8)
    for tick, name in zip(ax.get_yticklabels(), rows[key], strict=True):
        if name == highlight:
            tick.set_fontweight("bold")
            tick.set_backgroundcolor("#fff3b0")
    if highlight in set(rows[key]):
        at = int(np.flatnonzero(rows[key].to_numpy() == highlight)[0])
        ax.barh(at, 100, fill=False, edgecolor="black", linewidth=1.6, height=0.8,
                label=f"focus ({highlight})")
    ax.set_xlim(0, 100)
    ax.set_xlabel("% of reviews")
    ax.legend(ncol=4, fontsize=8, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    return _png(fig, dpi)


def fig_review_risks(risks: pd.DataFrame, dpi: int) -> str:
    """Share of negative reviews naming non-delivery, a scam, or either, per market."""
    rows = pd.concat([risks[risks["market"] == ALL], risks[risks["market"] != ALL]])
    fig, ax = plt.subplots(figsize=(8, 0.9 + 0.45 * max(len(rows), 2)))
    if rows.empty or rows["negative_reviews"].sum() == 0:
        _empty(ax, "negative reviews")
        return _png(fig, dpi)
    rows = rows.iloc[::-1].reset_index(drop=True)
    y = np.arange(len(rows))
    for k, (column, label, colour) in enumerate((
            ("share_non_delivery", "non-delivery", "#4a7ab0"),
            ("share_scam", "scam", "#d98c3a"),
            ("share_non_delivery_or_scam", "either", NEGATIVE))):
        ax.barh(y + (1 - k) * 0.27, rows[column] * 100, height=0.27, color=colour, label=label)
    ax.set_yticks(y, [f"{m} (n={n:,})" for m, n in
                      zip(rows["market"], rows["negative_reviews"], strict=True)], fontsize=8)
    ax.set_xlim(0, 100)
    ax.set_xlabel("% of negative reviews mentioning")
    ax.legend(ncol=3, fontsize=8, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    return _png(fig, dpi)


def fig_forum_labels(summary: pd.DataFrame, dpi: int) -> str:
    """Share of forum posts per harm-reduction label; `any` (at least one label) on top."""
    rows = pd.concat([summary[summary["label"] != "any"].sort_values("share"),
                      summary[summary["label"] == "any"]]).reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(8, 0.8 + 0.38 * max(len(rows), 3)))
    if rows.empty:
        _empty(ax, "forum posts")
        return _png(fig, dpi)
    colours = [HIGHLIGHT if label == "any" else "#4a7ab0" for label in rows["label"]]
    bars = ax.barh(rows["label"].replace({"any": "any harm-reduction content"}),
                   rows["share"] * 100, color=colours)
    ax.bar_label(bars, [f"{p:,} posts" for p in rows["posts"]], padding=3, fontsize=8)
    ax.set_xlim(0, 110)
    ax.set_xlabel(f"% of {int(rows['total_posts'].iloc[0]):,} posts")
    return _png(fig, dpi)


def code_counts(themes: pd.DataFrame, by: str, order: list[str] | None = None) -> pd.DataFrame:
    """Segments coded with each code, one column per value of `by` (language or source),
    codes in `order` (the codebook's, as the agreement figures list them) then by name."""
    counts = (themes.drop_duplicates(["segment_id", "code"])
              .pivot_table(index="code", columns=by, values="segment_id", aggfunc="count")
              .fillna(0).astype(int).rename_axis(columns=None))
    known = [c for c in order or [] if c in counts.index]
    return counts.reindex(known + sorted(set(counts.index) - set(known)))


def fig_theme_codes(themes: pd.DataFrame, order: list[str] | None, dpi: int) -> str:
    """Counts per code stacked by language (left) and by source (right)."""
    codes = list(code_counts(themes, "lang", order).index)
    fig, axes = plt.subplots(1, 2, figsize=(9, 1.0 + 0.28 * max(len(codes), 4)), sharey=True)
    if not codes:
        for ax in axes:
            _empty(ax, "coded segments")
        return _png(fig, dpi)
    for ax, by, title in ((axes[0], "lang", "by language"), (axes[1], "source", "by source")):
        counts = code_counts(themes, by).reindex(codes).fillna(0).iloc[::-1]
        counts.plot.barh(ax=ax, stacked=True, width=0.75, colormap="tab10" if by == "lang"
                         else "Set2")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("coded segments")
        ax.set_ylabel("")
        ax.tick_params(axis="y", labelsize=8)
        ax.legend(fontsize=8, title=None, loc="best")
    return _png(fig, dpi)


def agreement_table(metrics: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """κ per code and language (model vs human codes, held out), and the overall figures."""
    by_lang = metrics.get("model_vs_human", {})
    langs = [ALL, *sorted(k for k in by_lang if k != ALL)] if ALL in by_lang else sorted(by_lang)
    per_code = pd.DataFrame({f"κ {lang}": by_lang[lang].get("kappa_per_code", {})
                             for lang in langs})
    per_code = per_code.apply(pd.to_numeric, errors="coerce")
    if ALL in by_lang and by_lang[ALL].get("support"):
        per_code["human-coded segments"] = pd.Series(by_lang[ALL]["support"])
    per_code = per_code.rename_axis("code").reset_index()
    overall = pd.DataFrame([
        {"language": lang, "segments": by_lang[lang].get("segments"),
         "κ macro": by_lang[lang].get("kappa_macro"),
         "Krippendorff α": by_lang[lang].get("krippendorff_alpha"),
         "micro-F1": by_lang[lang].get("micro_f1")} for lang in langs])
    return per_code, overall


def inductive_rows(inductive: dict, segments: pd.DataFrame | None, chars: int = 160
                   ) -> list[dict[str, Any]]:
    """Candidate themes with their top terms and the text of their example segments."""
    text = (dict(zip(segments["segment_id"], segments["text"], strict=True))
            if segments is not None else {})
    out = []
    for theme in inductive.get("themes", []):
        examples = [str(text.get(sid, sid)) for sid in theme.get("examples", [])]
        out.append({"theme": theme.get("theme"), "size": theme.get("size"),
                    "top_terms": ", ".join(theme.get("top_terms", [])),
                    "examples": [e if len(e) <= chars else e[:chars - 1] + "…"
                                 for e in examples]})
    return out


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
            "vendors": _html(vendor_rows, pct) if vendor_rows is not None else None,
            "countries": _html(country_rows, pct) if country_rows is not None else None,
            "risks": _html(risks, pct) if risks is not None else None,
            "vendor_count": len(vendors) if vendors is not None else 0,
            "vendors_shown": len(vendor_rows) if vendor_rows is not None else 0,
        }
    forum = results.get("forum_summary")
    forums = None
    if forum is not None:
        any_row = forum[forum["label"] == "any"]
        forums = {
            "fig": fig_forum_labels(forum, dpi), "table": _html(forum, pct),
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
            "per_lang": _html(code_counts(coded, "lang", order)
                              .assign(total=lambda t: t.sum(axis=1)).reset_index())
            if coded is not None else None,
            "agreement": _html(per_code) if per_code is not None else None,
            "overall": _html(overall) if overall is not None else None,
            "components": ", ".join(metrics.get("components", [])) if metrics else "",
            "folds": metrics.get("folds") if metrics else None,
            "inductive": inductive,
            "candidates": inductive_rows(inductive, segments) if inductive is not None else [],
        }
    return {"reviews": reviews, "forums": forums, "themes": themes}


# --- the page ----------------------------------------------------------------------------


def _html(df: pd.DataFrame, percent: tuple[str, ...] = (), money: tuple[str, ...] = ()) -> str:
    """A DataFrame as a plain HTML table, shares as percentages, money rounded."""
    if df.empty:
        return '<p class="empty">no rows</p>'
    shown = df.copy()
    for column in shown.columns:
        if column in percent:
            shown[column] = shown[column].map(lambda v: "" if pd.isna(v) else f"{v * 100:.1f}%")
        elif column in money:
            shown[column] = shown[column].map(lambda v: "" if pd.isna(v) else f"€{v:,.0f}")
        elif pd.api.types.is_float_dtype(shown[column]):
            shown[column] = shown[column].map(lambda v: "" if pd.isna(v) else f"{v:,.2f}")
    return shown.to_html(index=False, border=0, classes="t", escape=True)


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
    wholesale = float(summary.get("wholesale_threshold_eur", 1000))
    pct = ("vendors_share_known", "listings_share_known", "revenue_eur_share_known",
           "listings_share", "share", "market_share", "share_sales_under_small",
           "share_revenue_wholesale")
    money = ("revenue_eur", "mean_eur", "median_eur", "max_eur")
    return {
        "title": cfg["title"], "focus": focus, "neighbours": neighbours,
        "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "summary": summary, "wholesale": wholesale,
        "small": float(summary.get("small_transaction_eur", 200)),
        "key": key_figures(shares, mix,
                           focus_destinations(tables["destinations"], focus, "ships_to", top),
                           focus_destinations(tables["destinations"], focus, "excluded", top),
                           tables["vendors"], tsum, links, focus),
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
            "shares": _html(shares, pct, money),
            "mix": _html(mix, pct),
            "ships_to": _html(focus_destinations(tables["destinations"], focus, "ships_to", top),
                              pct),
            "excluded": _html(focus_destinations(tables["destinations"], focus, "excluded", top),
                              pct),
            "pairs": _html(pairs[pairs["month"] == ALL].head(top)),
            "pairs_time": _html(pairs[pairs["month"] != ALL].head(top * 2)),
            "trend": _html(trend, ("share",)),
            "focus_vendors": _html(focus_vendors(tables["vendors"], focus, top), (), money),
            "transactions": _html(tx_rows, pct, money),
            "migration": _html(tables["migration_summary"]),
            "focus_links": _html(focus_links(links, focus, top)),
        },
        "linker": summary.get("linker_evaluation", {}),
        **stage_results_context(results or {}, focus, top, dpi),
        "stage_metrics": {
            name: (headline_leaves(m, list(cfg["headline_metrics"])) if m is not None else None)
            for name, m in stage_metrics.items()
        },
    }


def render_report(context: dict[str, Any]) -> str:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape())
    return env.get_template("report.html.j2").render(**context)


def run_report(analytics: Path, out: Path, metrics_dir: Path, params: dict[str, Any],
               reviews_summary: Path | None = None, forum_summary: Path | None = None,
               themes: Path | None = None, segments: Path | None = None) -> Path:
    """IO layer: read the analytics, metrics and stage summaries, write the HTML page."""
    tables, summary = load_analytics(analytics)
    cfg = params["report"]
    stage_metrics = load_stage_metrics(metrics_dir, list(cfg["stage_metrics"]))
    results = load_stage_results(reviews_summary, forum_summary, themes, segments, metrics_dir)
    html = render_report(build_context(tables, summary, stage_metrics, cfg, results))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    return out

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

from pipeline.io import InputError, read_table  # noqa: E402

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
        wide.plot.bar(ax=ax, rot=0, width=0.8)
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
                  stage_metrics: dict[str, dict | None], cfg: dict[str, Any]) -> dict[str, Any]:
    """Everything the template shows: figures, tables and key sentences."""
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
        "stage_metrics": {
            name: (headline_leaves(m, list(cfg["headline_metrics"])) if m is not None else None)
            for name, m in stage_metrics.items()
        },
    }


def render_report(context: dict[str, Any]) -> str:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape())
    return env.get_template("report.html.j2").render(**context)


def run_report(analytics: Path, out: Path, metrics_dir: Path, params: dict[str, Any]) -> Path:
    """IO layer: read the analytics and metrics, write the HTML page."""
    tables, summary = load_analytics(analytics)
    cfg = params["report"]
    stage_metrics = load_stage_metrics(metrics_dir, list(cfg["stage_metrics"]))
    html = render_report(build_context(tables, summary, stage_metrics, cfg))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    return out

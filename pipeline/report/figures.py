"""The report's figures: matplotlib drawn off-screen, each returned as an embedded PNG data
URI, so the page needs no network and no script. Labels are drawn as plain text (no
mathtext), so a `$` in a vendor's name cannot break a figure.
"""

from __future__ import annotations

import base64
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from pipeline.report.sections import ALL, code_counts  # noqa: E402

NEGATIVE, NEUTRAL, POSITIVE, HIGHLIGHT = "#c0392b", "#c8c8c8", "#2e8b57", "#e0a800"


def _png(fig: plt.Figure, dpi: int) -> str:
    """The figure as a PNG data URI; no metadata, so the same data gives the same bytes."""
    buf = io.BytesIO()
    with plt.rc_context({"text.parse_math": False}):
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
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


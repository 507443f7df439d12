"""The report's figures: matplotlib drawn off-screen, each returned as an embedded PNG data
URI, so the page needs no network and no script. Labels are drawn as plain text (no
mathtext), so a `$` in a vendor's name cannot break a figure.
"""

from __future__ import annotations

import base64
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates  # noqa: E402
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


LOW = "#b0b0b0"
MARKERS = "osD^vP*Xh<>p"


def _months(rows: pd.DataFrame, value: str) -> tuple[list[pd.Timestamp], list[float]]:
    """Months on a date axis, in order, with a gap (NaN) wherever a month is missing, so a
    line never joins two months that have nothing observed between them."""
    rows = rows.assign(at=pd.to_datetime(rows["month"] + "-01")).sort_values("at")
    xs: list[pd.Timestamp] = []
    ys: list[float] = []
    previous = None
    for at, y in zip(rows["at"], rows[value], strict=True):
        if previous is not None and (at.year * 12 + at.month) - (
                previous.year * 12 + previous.month) > 1:
            xs.append(previous + (at - previous) / 2)
            ys.append(np.nan)
        xs.append(at)
        ys.append(y)
        previous = at
    return xs, ys


def _low_note(ax: plt.Axes, min_n: int, shown: bool) -> None:
    if shown:
        ax.text(1.0, -0.28, f"grey: fewer than {min_n} observations, read with caution",
                transform=ax.transAxes, ha="right", fontsize=7, color="#666")


def fig_shares(table: pd.DataFrame, countries: list[str], min_n: int, dpi: int) -> str:
    """Whole-period share of listings per market and country, with 95% intervals; markets
    whose listings with a declared origin are fewer than `min_n` greyed."""
    fig, ax = plt.subplots(figsize=(8, 3.8))
    if table.empty:
        _empty(ax, "listings from these countries")
        return _png(fig, dpi)
    markets = sorted(table["market"].unique())
    n = table.groupby("market")["listings_known_total"].max().reindex(markets)
    width = 0.8 / len(countries)
    x = np.arange(len(markets))
    for k, country in enumerate(countries):
        rows = table[table["origin"] == country].set_index("market").reindex(markets)
        value = rows["listings_share_known"].fillna(0) * 100
        err = np.vstack([value - rows["listings_share_known_low"].fillna(0) * 100,
                         rows["listings_share_known_high"].fillna(0) * 100 - value]).clip(0)
        colours = [LOW if v < min_n else f"C{k}" for v in n]
        ax.bar(x + (k - (len(countries) - 1) / 2) * width, value, width, yerr=err,
               color=colours, edgecolor=f"C{k}", label=country, capsize=2,
               error_kw={"elinewidth": 0.8})
    ax.set_xticks(x, [f"{m}\n(n={int(v):,})" for m, v in zip(markets, n, strict=True)],
                  rotation=30 if len(markets) > 6 else 0, fontsize=8)
    ax.set_ylabel("% of listings with declared origin")
    ax.legend(fontsize=8)
    _low_note(ax, min_n, bool((n < min_n).any()))
    return _png(fig, dpi)


def fig_time(table: pd.DataFrame, countries: list[str], dpi: int) -> str:
    """Monthly share of listings: colour = country, marker = market, months on a date axis,
    lines only between consecutive months."""
    fig, ax = plt.subplots(figsize=(8, 3.6))
    if table.empty:
        _empty(ax, "monthly shares")
        return _png(fig, dpi)
    markets = sorted(table["market"].unique())
    for k, country in enumerate(countries):
        for j, market in enumerate(markets):
            rows = table[(table["origin"] == country) & (table["market"] == market)]
            if len(rows):
                xs, ys = _months(rows, "listings_share_known")
                ax.plot(xs, np.array(ys) * 100, marker=MARKERS[j % len(MARKERS)], color=f"C{k}",
                        linewidth=1, markersize=5)
    handles = [plt.Line2D([], [], color=f"C{k}", linewidth=2, label=c)
               for k, c in enumerate(countries)]
    handles += [plt.Line2D([], [], color="#444", marker=MARKERS[j % len(MARKERS)], linestyle="",
                           label=m) for j, m in enumerate(markets)]
    ax.legend(handles=handles, fontsize=7, ncol=2, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set_ylabel("% of listings with declared origin")
    ax.tick_params(axis="x", rotation=30, labelsize=8)
    return _png(fig, dpi)


def fig_mix(table: pd.DataFrame, focus: str, min_n: int, dpi: int) -> str:
    fig, ax = plt.subplots(figsize=(8, 3.8))
    if table.empty:
        _empty(ax, f"listings from {focus}")
        return _png(fig, dpi)
    rows = table.sort_values("share")
    y = np.arange(len(rows))
    low = int(rows["origin_listings"].max()) < min_n
    share = rows["share"] * 100
    err = np.vstack([share - rows["share_low"] * 100, rows["share_high"] * 100 - share]).clip(0)
    ax.barh(y - 0.2, share, height=0.4, xerr=err, capsize=2, color=LOW if low else "C0",
            label=f"{focus} (n={int(rows['origin_listings'].max()):,} listings)")
    ax.barh(y + 0.2, rows["market_share"] * 100, height=0.4, color="C1", label="all markets")
    ax.set_yticks(y, rows["category"])
    ax.set_xlabel("% of listings")
    ax.legend(fontsize=8)
    _low_note(ax, min_n, low)
    return _png(fig, dpi)


def fig_substances(overall: pd.DataFrame, focus_rows: pd.DataFrame, focus: str, min_n: int,
                   dpi: int) -> str:
    """The most listed substances over all origins (left) and from the focus country
    (right): % of listings naming each, with 95% Wilson intervals; NPS highlighted."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 1.2 + 0.3 * max(len(overall), len(focus_rows),
                                                                  4)))
    for ax, rows, who in ((axes[0], overall, "all origins"), (axes[1], focus_rows, focus)):
        if rows.empty:
            _empty(ax, f"substances named in listings from {who}")
            continue
        rows = rows.iloc[::-1]
        n = int(rows["origin_listings"].max())
        share = rows["share"] * 100
        err = np.vstack([share - rows["share_low"] * 100,
                         rows["share_high"] * 100 - share]).clip(0)
        colours = [HIGHLIGHT if nps else (LOW if n < min_n else "C0") for nps in rows["nps"]]
        ax.barh(np.arange(len(rows)), share, xerr=err, capsize=2, color=colours)
        ax.set_yticks(np.arange(len(rows)), rows["substance"])
        ax.set_xlabel("% of listings naming it")
        ax.set_title(f"{who} (n={n:,} listings)", fontsize=9)
        _low_note(ax, min_n, n < min_n)
    fig.text(0.99, 0.0, "yellow: new psychoactive substance (nps)", ha="right", fontsize=7,
             color="#666")
    return _png(fig, dpi)


def fig_destinations(ships_to: pd.DataFrame, excluded: pd.DataFrame, focus: str, dpi: int
                     ) -> str:
    """Destinations named by the focus country's listings: shipped to (left), ruled out
    (right), as % of its listings with 95% intervals."""
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    for ax, rows, what, colour in ((axes[0], ships_to, "ships to", "C2"),
                                   (axes[1], excluded, "excluded", NEGATIVE)):
        if rows.empty:
            _empty(ax, f"'{what}' destinations")
            continue
        rows = rows.iloc[::-1]
        share = rows["share"] * 100
        err = np.vstack([share - rows["share_low"] * 100,
                         rows["share_high"] * 100 - share]).clip(0)
        bars = ax.barh(rows["destination"], share, xerr=err, capsize=2, color=colour)
        ax.bar_label(bars, [f"{k:,}" for k in rows["listings"]], padding=3, fontsize=7)
        ax.set_title(f"{what} (n={int(rows['origin_listings'].max()):,} {focus} listings)",
                     fontsize=9)
        ax.set_xlabel("% of listings")
        ax.set_xlim(0, 110)
    return _png(fig, dpi)


def fig_transactions(tx: pd.DataFrame, focus: str, small: float, wholesale: float, dpi: int
                     ) -> str:
    fig, ax = plt.subplots(figsize=(8, 3.4))
    if tx.empty:
        _empty(ax, "transactions")
        return _png(fig, dpi)
    bins = np.logspace(0, max(np.log10(tx["value_eur"].max()) + 0.1, 1), 40)
    for label, rows in (("all origins", tx), (focus, tx[tx["origin"] == focus])):
        if len(rows):
            ax.hist(rows["value_eur"], bins=bins, weights=rows["sales"] / rows["sales"].sum(),
                    histtype="step", linewidth=1.6,
                    label=f"{label} (n={int(rows['sales'].sum()):,} sales)")
    ax.axvline(small, color="#2e6da4", linestyle=":", label=f"small sale < €{small:,.0f}")
    ax.axvline(wholesale, color="grey", linestyle="--", label=f"wholesale ≥ €{wholesale:,.0f}")
    ax.set_xscale("log")
    ax.set_xlabel("transaction value (EUR, log scale)")
    ax.set_ylabel("share of sales")
    ax.legend(fontsize=8)
    return _png(fig, dpi)


def fig_multi(trend: pd.DataFrame, pairs: pd.DataFrame, dpi: int) -> str:
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.6))
    if trend.empty:
        _empty(left, "vendors with a declared country")
    else:
        for j, (market, g) in enumerate(trend.groupby("market")):
            xs, ys = _months(g, "multi_country_share")
            left.plot(xs, np.array(ys) * 100, marker=MARKERS[j % len(MARKERS)], linewidth=1,
                      label=f"{market} (n={int(g['vendors_with_country'].sum()):,})")
        left.set_ylabel("% multi-country vendors")
        left.tick_params(axis="x", rotation=30, labelsize=7)
        left.legend(fontsize=7)
    top = pairs[pairs["period"] == ALL].groupby("pair")["vendors"].sum().nlargest(10)
    if top.empty:
        _empty(right, "country pairs with the focus country")
    else:
        bars = right.barh(top.index[::-1], top.to_numpy()[::-1])
        right.bar_label(bars, [f"{int(v):,}" for v in top.to_numpy()[::-1]], padding=3,
                        fontsize=7)
        right.set_xlabel("vendors (all markets)")
    return _png(fig, dpi)


def fig_migration(summary: pd.DataFrame, dpi: int) -> str:
    fig, ax = plt.subplots(figsize=(8, 3.2))
    rows = summary[summary["accounts_before"] > 0]
    if rows.empty:
        _empty(ax, "accounts on a shocked market")
    else:
        wide = rows.pivot_table(index="shock", columns="market_to", values="linked",
                                aggfunc="sum").fillna(0).astype(int)
        n = rows.groupby("shock")["accounts_before"].max().reindex(wide.index)
        wide.index = [f"{s}\n(n={int(k):,} accounts in window)" for s, k in n.items()]
        wide.plot.bar(ax=ax, rot=0)
        ax.set_ylabel("linked vendor accounts")
        ax.yaxis.get_major_locator().set_params(integer=True)
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



def _dates(rows: pd.DataFrame) -> pd.Series:
    return pd.to_datetime(rows["snapshot_date"], errors="coerce")


def _date_axis(ax: plt.Axes, rows: pd.DataFrame) -> None:
    """Snapshot days as the ticks (a dozen at most), written as ISO dates."""
    days = sorted(_dates(rows).dropna().unique())
    if len(days) <= 12:
        ax.set_xticks(days)
    ax.xaxis.set_major_formatter(matplotlib.dates.DateFormatter("%Y-%m-%d"))
    ax.tick_params(axis="x", rotation=30, labelsize=8)


def _low_points(ax: plt.Axes, xs: pd.Series, ys: pd.Series, low: pd.Series) -> None:
    """Grey markers over the points resting on fewer than the report's `min_n`."""
    if low.any():
        ax.plot(xs[low], ys[low], linestyle="", marker="o", color=LOW, markersize=7, zorder=3)


def fig_monitor_series(series: pd.DataFrame, min_n: int, dpi: int) -> str:
    """Listings, vendors and Belgian vendors per snapshot: colour = measure, marker =
    market; points of snapshots with fewer than `min_n` listings greyed."""
    fig, ax = plt.subplots(figsize=(8, 3.6))
    if series.empty:
        _empty(ax, "snapshots")
        return _png(fig, dpi)
    handles = []
    for j, (market, rows) in enumerate(series.groupby("market", sort=True)):
        xs, low = _dates(rows), rows["listings"] < min_n
        for k, column in enumerate(("listings", "vendors", "belgian_vendors")):
            ax.plot(xs, rows[column], marker=MARKERS[j % len(MARKERS)], color=f"C{k}",
                    linewidth=1, markersize=5)
            _low_points(ax, xs, rows[column], low)
        handles.append(plt.Line2D([], [], color="#444", marker=MARKERS[j % len(MARKERS)],
                                  linestyle="", label=f"{market} (n={int(rows['listings'].sum()):,}"
                                  f" listing sightings, {len(rows)} snapshots)"))
    handles = [plt.Line2D([], [], color=f"C{k}", linewidth=2, label=label) for k, label in
               enumerate(("listings", "vendors", "Belgian vendors"))] + handles
    ax.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set_ylabel("count per snapshot")
    ax.set_ylim(bottom=0)
    _date_axis(ax, series)
    _low_note(ax, min_n, bool((series["listings"] < min_n).any()))
    return _png(fig, dpi)


def fig_monitor_entries(entries: pd.DataFrame, dpi: int) -> str:
    """New (up) and gone (down) listings and vendors at each snapshot after a market's
    first; n under each snapshot = listings and vendors in the snapshot before."""
    rows = entries.assign(listings_before=entries.groupby("market")["listings"].shift(),
                          vendors_before=entries.groupby("market")["vendors"].shift())
    rows = rows.dropna(subset=["listings_new"]).reset_index(drop=True)
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    for ax, what in zip(axes, ("listings", "vendors"), strict=True):
        if rows.empty:
            _empty(ax, "second snapshot")
            continue
        x = np.arange(len(rows))
        new, gone = rows[f"{what}_new"].astype(int), rows[f"{what}_gone"].astype(int)
        up = ax.bar(x, new, width=0.5, color=POSITIVE, label="new")
        down = ax.bar(x, -gone, width=0.5, color=NEGATIVE, label="gone")
        ax.bar_label(up, [f"{v:,}" for v in new], fontsize=7)
        ax.bar_label(down, [f"{v:,}" for v in gone], fontsize=7)
        ax.axhline(0, color="#444", linewidth=0.8)
        ax.set_xticks(x, [f"{m} {d}\n(n={int(n):,})" for m, d, n in zip(
            rows["market"], rows["snapshot_date"], rows[f"{what}_before"], strict=True)],
            fontsize=7, rotation=30 if len(rows) > 4 else 0)
        ax.set_title(what, fontsize=9)
        ax.yaxis.get_major_locator().set_params(integer=True)
        ax.yaxis.set_major_formatter(lambda v, _: f"{abs(v):g}")
        ax.set_xlim(-0.75, len(rows) - 0.25)
        ax.legend(fontsize=7)
    return _png(fig, dpi)


def fig_monitor_prices(prices: pd.DataFrame, min_n: int, dpi: int) -> str:
    """Median price per gram per drug category and snapshot (one line per market and
    category, n in the legend); points resting on fewer than `min_n` listings greyed."""
    fig, ax = plt.subplots(figsize=(8, 3.6))
    if prices.empty:
        _empty(ax, "per-gram prices (classify and extract the snapshots)")
        return _png(fig, dpi)
    for k, ((market, category), rows) in enumerate(
            prices.groupby(["market", "category"], sort=True)):
        xs = _dates(rows)
        ax.plot(xs, rows["median_price_per_g_eur"], marker=MARKERS[k % len(MARKERS)],
                linewidth=1, color=f"C{k % 10}",
                label=f"{market} {category} (n={int(rows['listings_per_g'].sum()):,})")
        _low_points(ax, xs, rows["median_price_per_g_eur"], rows["listings_per_g"] < min_n)
    ax.set_yscale("log")
    ax.set_ylabel("median EUR per gram (log scale)")
    _date_axis(ax, prices)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    _low_note(ax, min_n, bool((prices["listings_per_g"] < min_n).any()))
    return _png(fig, dpi)

"""Transactions from feedback, the sales proxy of Christin (2013) and Soska & Christin (2015):
each buyer feedback counts as one sale at the listing's price in EUR; where a market shows
units sold instead, each unit sold counts as one sale. Both undercount (not every buyer
leaves feedback) and assume the listing's smallest offer was bought."""

from __future__ import annotations

import re
from datetime import date, timedelta

import numpy as np
import pandas as pd

from pipeline.analyse.common import as_day, weighted_median
from pipeline.analyse.uncertainty import (
    bootstrap_all,
    median_statistic,
    share_statistic,
    wilson,
)

_SCORE = re.compile(r"^([0-5])/5$")
_AGE = re.compile(r"^(\d+)\s+(minute|hour|day|week|month|year)s?\s+ago$", re.IGNORECASE)
_DAYS = {"minute": 0, "hour": 0, "day": 1, "week": 7, "month": 30, "year": 365}
FEEDBACK_COLUMNS = ["market", "listing_id", "vendor", "date", "rating", "text", "buyer"]


def parse_agora_feedback(raw: str, scraped_at: str) -> list[dict]:
    """Agora's `Feedbacks:` block -> one dict per feedback: rating (0-5), text, buyer and
    date (the scrape date minus the shown age; ages in months are approximate)."""
    if not raw or "/5" not in raw:
        return []
    lines = [line.strip() for line in str(raw).splitlines() if line.strip()]
    scraped = date.fromisoformat(scraped_at)
    out: list[dict] = []
    current: dict | None = None
    for line in lines:
        if current is None:
            match = _SCORE.match(line)
            if match:
                current = {"rating": int(match.group(1)), "text": [], "date": None}
            continue
        if current["date"] is None:
            age = _AGE.match(line)
            if age:
                days = int(age.group(1)) * _DAYS[age.group(2).lower()]
                current["date"] = (scraped - timedelta(days=days)).isoformat()
            else:
                current["text"].append(line)
            continue
        out.append({**current, "text": " ".join(current["text"]), "buyer": line})
        current = None
    if current is not None and current["date"] is not None:  # last block without buyer line
        out.append({**current, "text": " ".join(current["text"]), "buyer": ""})
    return out


def feedback_from_listings(listings: pd.DataFrame) -> pd.DataFrame:
    """Feedback rows from a `feedback_raw` column (Agora). A listing scraped on several days
    shows the same feedback again: repeats (same listing text, rating, buyer, text, and a date
    within a day, since ages are rounded) are counted once, at the first listing showing them."""
    if "feedback_raw" not in listings.columns:
        return pd.DataFrame(columns=FEEDBACK_COLUMNS)
    has = listings[listings["feedback_raw"].fillna("").str.contains("/5", regex=False)]
    rows = [
        {"market": r.market, "listing_id": r.listing_id, "vendor": r.vendor, "title": r.title, **fb}
        for r in has.itertuples(index=False)
        for fb in parse_agora_feedback(r.feedback_raw, r.scraped_at)
    ]
    if not rows:
        return pd.DataFrame(columns=FEEDBACK_COLUMNS)
    fb = pd.DataFrame(rows).sort_values(["date", "listing_id"], kind="stable")
    key = ["market", "vendor", "title", "rating", "text", "buyer"]
    days = pd.to_datetime(fb["date"])
    gap = days.groupby([fb[k] for k in key], sort=False).diff().dt.days
    fb = fb[gap.isna() | (gap > 1)]
    return fb[FEEDBACK_COLUMNS].reset_index(drop=True)


def build_transactions(
    listings: pd.DataFrame, feedback: pd.DataFrame, max_price_eur: float
) -> tuple[pd.DataFrame, dict[str, int]]:
    """One row per sale source: feedback rows (n=1 at the feedback date) and listings with
    units sold (n=units at the scrape date); value = the listing's EUR price. Feedback whose
    listing is unknown or unpriced, and placeholder prices above `max_price_eur`, are counted
    in the returned tallies instead of being used."""
    cols = ["listing_id", "market", "vendor", "origin", "category", "price_eur", "scraped_at"]
    priced = listings[cols]
    fb = feedback[["listing_id", "date"]].merge(priced, on="listing_id", how="left")
    unknown = int(fb["market"].isna().sum())
    fb = fb[fb["market"].notna()].assign(n=1.0, source="feedback")
    fb["date"] = fb["date"].fillna(fb["scraped_at"])
    parts = [fb]
    if "units_sold" in listings.columns:
        units = pd.to_numeric(listings["units_sold"], errors="coerce")
        sold = listings.loc[units > 0, cols].assign(
            n=units[units > 0].astype(float), source="units_sold"
        )
        # a listing with both feedback and units sold is counted by its units only
        parts = [fb[~fb["listing_id"].isin(sold["listing_id"])],
                 sold.assign(date=sold["scraped_at"])]
    tx = pd.concat(parts, ignore_index=True)
    unpriced = tx["price_eur"].isna()
    placeholder = tx["price_eur"] > max_price_eur
    tallies = {
        "feedback_unknown_listing": unknown,
        "sales_unpriced": int(tx.loc[unpriced, "n"].sum()),
        "sales_placeholder_price": int(tx.loc[placeholder, "n"].sum()),
    }
    tx = tx[~unpriced & ~placeholder & (tx["price_eur"] > 0)].copy()
    tx["month"] = tx["date"].astype(str).str[:7]
    tx = tx.rename(columns={"price_eur": "value_eur"})
    tx["revenue_eur"] = tx["value_eur"] * tx["n"]
    keep = ["market", "listing_id", "vendor", "origin", "category", "date", "month",
            "value_eur", "n", "revenue_eur", "source"]
    return tx[keep].reset_index(drop=True), tallies


def listing_sales(tx: pd.DataFrame) -> pd.DataFrame:
    """The transactions table researchers get: one row per listing and sale source with the
    number of `sales` (an integer), their EUR value, the revenue and the first and last
    sale date, instead of one identical row per sale."""
    keys = ["market", "listing_id", "vendor", "origin", "category", "source", "value_eur"]
    if tx.empty:
        return pd.DataFrame(columns=[*keys, "sales", "revenue_eur", "first_date", "last_date"])
    out = tx.assign(day=as_day(tx["date"])).groupby(keys, sort=True, dropna=False).agg(
        sales=("n", "sum"), revenue_eur=("revenue_eur", "sum"),
        first_date=("day", "min"), last_date=("day", "max")).reset_index()
    out["sales"] = out["sales"].round().astype("int64")
    for column in ("first_date", "last_date"):
        out[column] = out[column].dt.date
    return out


SUMMARY_COLUMNS = ["sales", "revenue_eur", "mean_eur", "median_eur", "median_eur_low",
                   "median_eur_high", "max_eur", "share_sales_under_small",
                   "share_sales_under_small_low", "share_sales_under_small_high",
                   "share_revenue_wholesale", "share_revenue_wholesale_low",
                   "share_revenue_wholesale_high"]


def summarise_transactions(
    tx: pd.DataFrame, by: list[str], small_eur: float, wholesale_eur: float, reps: int,
    seed: int,
) -> pd.DataFrame:
    """Distribution of transaction values per group: sales (the n of every figure), revenue,
    mean, median, max, share of sales under `small_eur`, share of revenue from sales at or
    above `wholesale_eur`; 95% intervals: Wilson for the share of sales, a bootstrap over
    sales (`reps` resamples, fixed `seed`) for the median and the wholesale revenue share."""

    def one(group: pd.DataFrame) -> pd.Series:
        v, n = group["value_eur"].to_numpy(float), group["n"].to_numpy(float)
        revenue, sales = float((v * n).sum()), float(n.sum())
        under = float(n[v < small_eur].sum())
        under_low, under_high = wilson(under, sales)
        median_ci, wholesale_ci = bootstrap_all(n, [
            median_statistic(v),
            share_statistic(v, (v >= wholesale_eur)[:, None], np.ones(len(v), bool)),
        ], reps, seed)
        return pd.Series({
            "sales": sales,
            "revenue_eur": revenue,
            "mean_eur": revenue / sales if sales else np.nan,
            "median_eur": weighted_median(v, n),
            "median_eur_low": median_ci[0], "median_eur_high": median_ci[1],
            "max_eur": float(v.max()) if len(v) else np.nan,
            "share_sales_under_small": under / sales if sales else np.nan,
            "share_sales_under_small_low": float(under_low),
            "share_sales_under_small_high": float(under_high),
            "share_revenue_wholesale": float((v * n)[v >= wholesale_eur].sum() / revenue)
            if revenue else np.nan,
            "share_revenue_wholesale_low": wholesale_ci[0][0],
            "share_revenue_wholesale_high": wholesale_ci[1][0],
        })

    if tx.empty:
        return pd.DataFrame(columns=[*by, *SUMMARY_COLUMNS])
    out = tx.groupby(by, sort=True).apply(one, include_groups=False).reset_index()
    out["sales"] = out["sales"].round().astype("int64")
    return out

"""Vendor profiles and multi-country vendors (vendors shipping from several countries)."""

from __future__ import annotations

from itertools import combinations

import pandas as pd

from pipeline.analyse.common import as_date, is_country
from pipeline.analyse.shares import primary_origin, with_period
from pipeline.analyse.uncertainty import wilson


def vendor_profiles(listings: pd.DataFrame, tx: pd.DataFrame) -> pd.DataFrame:
    """One row per (market, vendor): origins (set and primary), multi-country flag, listing
    count, product mix (share of listings per category, a dict), top category, first and
    last seen (dates), median EUR price and price per gram, estimated sales and revenue
    (missing where the market shows no feedback or units sold)."""
    lst = listings[listings["vendor"] != ""]
    keys = ["market", "vendor"]
    grouped = lst.groupby(keys)
    out = pd.DataFrame({
        "listings": grouped.size(),
        "first_seen": grouped["scraped_at"].min(),
        "last_seen": grouped["scraped_at"].max(),
        "median_price_eur": grouped["price_eur"].median(),
    })
    if "price_per_g_eur" in lst.columns:
        out["median_price_per_g_eur"] = grouped["price_per_g_eur"].median()
    out["origins"] = grouped["origin"].agg(lambda s: sorted(set(s)))
    out["countries"] = out["origins"].map(lambda os: [o for o in os if is_country(o)])
    out["multi_country"] = out["countries"].map(len) > 1
    out["primary_origin"] = primary_origin(lst)
    mix = lst.groupby([*keys, "category"]).size().rename("k").reset_index()
    mix["share"] = mix["k"] / mix.groupby(keys)["k"].transform("sum")
    mix = mix.sort_values([*keys, "k", "category"], ascending=[True, True, False, True])
    out["product_mix"] = mix.groupby(keys)[["category", "share"]].apply(
        lambda g: {c: round(float(s), 4) for c, s in zip(g["category"], g["share"], strict=True)}
    )
    out["top_category"] = mix.drop_duplicates(keys).set_index(keys)["category"]
    sales = tx.groupby(keys).agg(sales=("n", "sum"), revenue_eur=("revenue_eur", "sum"))
    out = out.join(sales).reset_index()
    # 0 sales where the market has sales data; missing (no data) where it has none
    measured = out["market"].isin(set(tx["market"]))
    out["sales"] = out["sales"].where(~measured, out["sales"].fillna(0)).round().astype("Int64")
    out["revenue_eur"] = out["revenue_eur"].where(~measured, out["revenue_eur"].fillna(0.0))
    for column in ("first_seen", "last_seen"):
        out[column] = as_date(out[column])
    return out


def multi_country_pairs(listings: pd.DataFrame) -> pd.DataFrame:
    """Per market and month (and the whole period, `period` all): country pairs of
    multi-country vendors (`BE+NL`, letters sorted) with how many vendors ship from both,
    next to the number of vendors with a declared country and the multi-country share with
    its Wilson 95% interval, so pairs can be compared over time."""
    lst = listings[(listings["vendor"] != "") & listings["origin"].map(is_country)]
    lst = pd.concat([lst, lst.assign(month="all")], ignore_index=True)
    sets = lst.groupby(["market", "month", "vendor"])["origin"].agg(lambda s: sorted(set(s)))
    base = sets.groupby(level=["market", "month"]).agg(
        vendors_with_country="size", multi_country_vendors=lambda s: int((s.map(len) > 1).sum())
    )
    rows = [
        {"market": m, "month": mo, "vendor": v, "pair": f"{a}+{b}"}
        for (m, mo, v), countries in sets.items()
        if len(countries) > 1
        for a, b in combinations(countries, 2)
    ]
    cols = ["market", "month", "pair", "vendors"]
    pairs = (pd.DataFrame(rows).groupby(["market", "month", "pair"]).size().rename("vendors")
             .reset_index() if rows else pd.DataFrame(columns=cols))
    out = pairs.merge(base.reset_index(), on=["market", "month"], how="outer")
    out["pair"] = out["pair"].fillna("")
    out["vendors"] = out["vendors"].fillna(0).astype("int64")
    out["multi_country_share"] = out["multi_country_vendors"] / out["vendors_with_country"]
    out["multi_country_share_low"], out["multi_country_share_high"] = wilson(
        out["multi_country_vendors"], out["vendors_with_country"])
    out = out.sort_values(["market", "month", "vendors"], ascending=[True, True, False])
    return with_period(out.reset_index(drop=True))

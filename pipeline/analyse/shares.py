"""Where supply comes from: country shares of vendors, listings and estimated revenue per
market and month, product mix per country against its market, and shipping destinations."""

from __future__ import annotations

import pandas as pd

from pipeline.analyse.common import UNKNOWN, as_list

ALL = "all"


def primary_origin(listings: pd.DataFrame, by: tuple[str, ...] = ("market",)) -> pd.Series:
    """Each vendor's main ships-from per market (or per `by` keys): the origin of most of its
    listings (a declared origin beats 'unknown'; ties go to the alphabetically first)."""
    keys = [*by, "vendor"]
    counts = listings.groupby([*keys, "origin"]).size().rename("k").reset_index()
    counts["known"] = counts["origin"] != UNKNOWN
    counts = counts.sort_values([*keys, "known", "k", "origin"],
                                ascending=[True] * len(keys) + [False, False, True])
    return counts.drop_duplicates(keys).set_index(keys)["origin"]


def _with_all_months(df: pd.DataFrame) -> pd.DataFrame:
    return pd.concat([df, df.assign(month=ALL)], ignore_index=True)


def country_shares(listings: pd.DataFrame, tx: pd.DataFrame) -> pd.DataFrame:
    """Per market, month (and `all`) and origin: vendors (by primary origin in that period),
    listings, revenue, each with its share of the market total and its share among listings
    with a declared origin (`*_share_known`). Listings repeated across scrapes count once in
    `all` (same vendor, title and origin)."""
    monthly = listings.drop_duplicates(["market", "month", "vendor", "title", "origin"])
    whole = listings.drop_duplicates(["market", "vendor", "title", "origin"]).assign(month=ALL)
    lst = pd.concat([monthly, whole], ignore_index=True)
    keys = ["market", "month", "origin"]
    n_listings = lst.groupby(keys).size().rename("listings")
    vendor_origin = primary_origin(lst, by=("market", "month")).reset_index()
    n_vendors = vendor_origin.groupby(keys).size().rename("vendors")
    revenue = _with_all_months(tx).groupby(keys)["revenue_eur"].sum().rename("revenue_eur")
    out = pd.concat([n_vendors, n_listings, revenue], axis=1).fillna(0.0).reset_index()
    for measure in ("vendors", "listings", "revenue_eur"):
        total = out.groupby(["market", "month"])[measure].transform("sum")
        known = out[measure].where(out["origin"] != UNKNOWN, 0.0)
        total_known = known.groupby([out["market"], out["month"]]).transform("sum")
        out[f"{measure}_share"] = (out[measure] / total).where(total > 0)
        out[f"{measure}_share_known"] = (known / total_known).where(
            (total_known > 0) & (out["origin"] != UNKNOWN)
        )
    return out.sort_values(keys).reset_index(drop=True)


def product_mix(listings: pd.DataFrame) -> pd.DataFrame:
    """Share of each category among a country's listings next to its share in the whole
    market (and across all markets, market='all'); `index` > 1 means over-represented,
    e.g. the study's Belgian surplus in MDMA and amphetamine."""
    lst = listings.drop_duplicates(["market", "vendor", "title", "origin"])
    lst = pd.concat([lst, lst.assign(market=ALL)], ignore_index=True)
    by_country = (lst.groupby(["market", "origin", "category"]).size().rename("listings")
                  .reset_index())
    by_country["share"] = by_country["listings"] / by_country.groupby(["market", "origin"])[
        "listings"].transform("sum")
    market = lst.groupby(["market", "category"]).size().rename("market_listings").reset_index()
    market["market_share"] = market["market_listings"] / market.groupby("market")[
        "market_listings"].transform("sum")
    out = by_country.merge(market, on=["market", "category"], how="left")
    out["index"] = out["share"] / out["market_share"]
    return out.sort_values(["market", "origin", "listings"], ascending=[True, True, False]
                           ).reset_index(drop=True)


def destinations(listings: pd.DataFrame) -> pd.DataFrame:
    """Per market and origin, how many listings ship to, or rule out, each destination:
    one row per (market, origin, kind, destination) with kind `ships_to` or `excluded`,
    and the share of that origin's listings."""
    lst = listings.drop_duplicates(["market", "vendor", "title", "origin"])
    lst = pd.concat([lst, lst.assign(market=ALL)], ignore_index=True)
    base = lst.groupby(["market", "origin"]).size().rename("origin_listings")
    parts = []
    for column, kind in (("ships_to", "ships_to"), ("ships_to_excluded", "excluded")):
        if column not in lst.columns:
            continue
        exploded = lst[["market", "origin"]].assign(
            destination=lst[column].map(lambda v: sorted(set(as_list(v)) - {""}))
        ).explode("destination")
        exploded = exploded[exploded["destination"].fillna("") != ""]
        parts.append(exploded.groupby(["market", "origin", "destination"]).size()
                     .rename("listings").reset_index().assign(kind=kind))
    if not parts:
        return pd.DataFrame(columns=["market", "origin", "kind", "destination", "listings",
                                     "origin_listings", "share"])
    out = pd.concat(parts, ignore_index=True).merge(base.reset_index(), on=["market", "origin"])
    out["share"] = out["listings"] / out["origin_listings"]
    cols = ["market", "origin", "kind", "destination", "listings", "origin_listings", "share"]
    return out[cols].sort_values(["market", "origin", "kind", "listings"],
                                 ascending=[True, True, True, False]).reset_index(drop=True)

"""Where supply comes from: country shares of vendors, listings and estimated revenue per
market and month, product mix per country against its market, and shipping destinations."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.analyse.common import UNKNOWN, as_list
from pipeline.analyse.uncertainty import bootstrap, share_statistic, wilson

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


def _revenue_share_ci(tx: pd.DataFrame, reps: int, seed: int) -> pd.DataFrame:
    """Bootstrap 95% interval of each declared origin's share of revenue per market and
    period, resampling the period's sales."""
    rows = []
    for (market, month), group in _with_all_months(tx).groupby(["market", "month"], sort=True):
        origins = sorted(set(group["origin"]) - {UNKNOWN})
        if not origins:
            continue
        origin = group["origin"].to_numpy()
        members = np.column_stack([origin == o for o in origins])
        ci = bootstrap(group["n"].to_numpy(float), share_statistic(
            group["value_eur"].to_numpy(float), members, origin != UNKNOWN), reps, seed)
        rows += [{"market": market, "month": month, "origin": o,
                  "revenue_eur_share_known_low": ci[0][k],
                  "revenue_eur_share_known_high": ci[1][k]} for k, o in enumerate(origins)]
    return pd.DataFrame(rows, columns=["market", "month", "origin", "revenue_eur_share_known_low",
                                       "revenue_eur_share_known_high"])


def country_shares(listings: pd.DataFrame, tx: pd.DataFrame, reps: int, seed: int
                   ) -> pd.DataFrame:
    """Per market, month (and the whole period) and origin: vendors (by primary origin in
    that period), listings, sales and revenue, each with its share of the market total and
    its share among those with a declared origin (`*_share_known`), the n each share rests
    on (`*_known_total`) and its 95% interval (Wilson for vendors and listings, a bootstrap
    over sales for revenue). Revenue is missing (no data), not 0, where the market and
    period have no sale. Listings repeated across scrapes count once over the whole period
    (same vendor, title and origin)."""
    monthly = listings.drop_duplicates(["market", "month", "vendor", "title", "origin"])
    whole = listings.drop_duplicates(["market", "vendor", "title", "origin"]).assign(month=ALL)
    lst = pd.concat([monthly, whole], ignore_index=True)
    keys = ["market", "month", "origin"]
    n_listings = lst.groupby(keys).size().rename("listings")
    vendor_origin = primary_origin(lst, by=("market", "month")).reset_index()
    n_vendors = vendor_origin.groupby(keys).size().rename("vendors")
    sold = _with_all_months(tx).groupby(keys).agg(sales=("n", "sum"),
                                                  revenue_eur=("revenue_eur", "sum"))
    out = pd.concat([n_vendors, n_listings, sold], axis=1).fillna(0.0).reset_index()
    for measure in ("vendors", "listings", "sales"):
        out[measure] = out[measure].round().astype("int64")
    period_sales = out.groupby(["market", "month"])["sales"].transform("sum")
    out["revenue_eur"] = out["revenue_eur"].where(period_sales > 0)
    declared = out["origin"] != UNKNOWN
    for measure in ("vendors", "listings", "revenue_eur"):
        total = out.groupby(["market", "month"])[measure].transform("sum", min_count=1)
        known = out[measure].where(declared, 0.0)
        total_known = known.groupby([out["market"], out["month"]]).transform("sum")
        out[f"{measure}_share"] = (out[measure] / total).where(total > 0)
        out[f"{measure}_share_known"] = (known / total_known).where((total_known > 0) & declared)
        if measure != "revenue_eur":
            out[f"{measure}_known_total"] = total_known.astype("int64")
            low, high = wilson(known, total_known)
            out[f"{measure}_share_known_low"] = np.where(declared, low, np.nan)
            out[f"{measure}_share_known_high"] = np.where(declared, high, np.nan)
    known_sales = out["sales"].where(declared, 0)
    out["sales_known_total"] = known_sales.groupby([out["market"], out["month"]]).transform(
        "sum").astype("int64")
    out = out.merge(_revenue_share_ci(tx, reps, seed), on=keys, how="left")
    return with_period(out.sort_values(keys).reset_index(drop=True))


def with_period(table: pd.DataFrame) -> pd.DataFrame:
    """`period` ("month" or "all") beside a `month` that is only ever YYYY-MM (missing on
    whole-period rows), so the column holds one kind of value."""
    whole = table["month"] == ALL
    out = table.assign(month=table["month"].where(~whole, None))
    out.insert(list(out.columns).index("month"), "period", np.where(whole, ALL, "month"))
    return out


def product_mix(listings: pd.DataFrame) -> pd.DataFrame:
    """Share of each category among a country's listings next to its share in the whole
    market (and across all markets, market='all'), with the n of the share (`origin_listings`)
    and its Wilson 95% interval; `over_representation` > 1 means over-represented,
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
    out["origin_listings"] = out.groupby(["market", "origin"])["listings"].transform("sum")
    out["share_low"], out["share_high"] = wilson(out["listings"], out["origin_listings"])
    out["over_representation"] = out["share"] / out["market_share"]
    return out.sort_values(["market", "origin", "listings"], ascending=[True, True, False]
                           ).reset_index(drop=True)


def destinations(listings: pd.DataFrame) -> pd.DataFrame:
    """Per market and origin, how many listings ship to, or rule out, each destination:
    one row per (market, origin, kind, destination) with kind `ships_to` or `excluded`,
    and the share of that origin's listings (n = `origin_listings`) with its Wilson 95%
    interval."""
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
                                     "origin_listings", "share", "share_low", "share_high"])
    out = pd.concat(parts, ignore_index=True).merge(base.reset_index(), on=["market", "origin"])
    out["share"] = out["listings"] / out["origin_listings"]
    out["share_low"], out["share_high"] = wilson(out["listings"], out["origin_listings"])
    cols = ["market", "origin", "kind", "destination", "listings", "origin_listings", "share",
            "share_low", "share_high"]
    return out[cols].sort_values(["market", "origin", "kind", "listings"],
                                 ascending=[True, True, True, False]).reset_index(drop=True)

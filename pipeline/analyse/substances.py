"""Which substances are on offer: listings and vendors per substance, origin, market and
month, with the share of listings naming it and the day it was first seen, so new
psychoactive substances can be followed as they appear (an early-warning view)."""

from __future__ import annotations

import pandas as pd

from pipeline.analyse.common import as_day, as_list
from pipeline.analyse.shares import ALL, with_period
from pipeline.analyse.uncertainty import wilson

NPS = "nps"
COLUMNS = ["market", "period", "month", "origin", "substance", "category", "nps", "listings",
           "vendors", "origin_listings", "share", "share_low", "share_high", "first_seen"]


def _cells(listings: pd.DataFrame) -> pd.DataFrame:
    """Listings counted once per cell: per month (same market, month, vendor, title,
    origin) and over the whole period (month = `all`, same market, vendor, title, origin),
    then copied under market `all` and origin `all`."""
    monthly = listings.drop_duplicates(["market", "month", "vendor", "title", "origin"])
    whole = listings.drop_duplicates(["market", "vendor", "title", "origin"]).assign(month=ALL)
    cells = pd.concat([monthly, whole], ignore_index=True)
    cells = pd.concat([cells, cells.assign(market=ALL)], ignore_index=True)
    return pd.concat([cells, cells.assign(origin=ALL)], ignore_index=True)


def first_seen(listings: pd.DataFrame) -> pd.Series:
    """The first scrape day each substance was listed, per market and over all markets."""
    named = listings[["market", "scraped_at", "substances"]].assign(
        substance=listings["substances"].map(lambda v: sorted(set(as_list(v)))),
        day=as_day(listings["scraped_at"])).explode("substance").dropna(subset=["substance"])
    named = pd.concat([named, named.assign(market=ALL)], ignore_index=True)
    return named.groupby(["market", "substance"])["day"].min().dt.date.rename("first_seen")


def substance_shares(listings: pd.DataFrame, categories: dict[str, str]) -> pd.DataFrame:
    """Per market (and `all`), month (and the whole period) and origin (and `all`): for each
    substance the listings naming it (`substances` from extract), their vendors, their share
    of all the cell's listings (n = `origin_listings`) with its Wilson 95% interval, the
    substance's taxonomy category (`categories`: canonical name -> category), whether it is
    an NPS, and the day it was first seen on the market."""
    if "substances" not in listings.columns or listings.empty:
        return pd.DataFrame(columns=COLUMNS)
    cells = _cells(listings)
    keys = ["market", "month", "origin"]
    totals = cells.groupby(keys).size().rename("origin_listings")
    named = cells[[*keys, "vendor"]].assign(
        substance=cells["substances"].map(lambda v: sorted(set(as_list(v))))
    ).explode("substance").dropna(subset=["substance"])
    if named.empty:
        return pd.DataFrame(columns=COLUMNS)
    out = named.groupby([*keys, "substance"]).agg(
        listings=("vendor", "size"),
        vendors=("vendor", lambda v: v[v != ""].nunique())).reset_index()
    out = out.merge(totals.reset_index(), on=keys)
    out["share"] = out["listings"] / out["origin_listings"]
    out["share_low"], out["share_high"] = wilson(out["listings"], out["origin_listings"])
    out["category"] = out["substance"].map(lambda name: categories.get(name, ""))
    out["nps"] = out["category"] == NPS
    out = out.merge(first_seen(listings).reset_index(), on=["market", "substance"], how="left")
    out = out.sort_values([*keys, "listings", "substance"],
                          ascending=[True, True, True, False, True]).reset_index(drop=True)
    return with_period(out)[COLUMNS]

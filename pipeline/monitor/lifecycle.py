"""Market monitoring from snapshots: what each listing and vendor did between crawls.

Input: one table of listings per snapshot (ingest output, extract output when available:
then `price_eur`, `price_per_g_eur`, `ships_from` and `category` are used), stacked with a
`snapshot` label and its `snapshot_date`. A listing is (market, listing_id); a vendor is
(market, vendor). Pure pandas: frames in, frames out.

Listings are matched across snapshots by ingest's `listing_id` (a market's own listing id
when its pages show one), or with `match="vendor_title"` by vendor and title: scrapes whose
ids carry the scrape date (Agora's file names) or are content hashes (DarkMatter's exports)
give each snapshot new ids, and a lifecycle needs the same key on every date.
"""

from __future__ import annotations

import pandas as pd

from pipeline.core.io import InputError
from pipeline.core.text import fields_key

KEY = ["market", "listing_id"]
VENDOR = ["market", "vendor"]
BELGIUM = {"BE", "Belgium", "België", "Belgique"}
MATCHES = ("listing_id", "vendor_title")
SNAPSHOT = ["market", "snapshot", "snapshot_date"]


def origin(snapshots: pd.DataFrame) -> pd.Series:
    """Where a listing ships from: the ISO code extract gives, else the text as shown."""
    if "ships_from" in snapshots:
        return snapshots["ships_from"].fillna("").astype(str)
    return snapshots["ships_from_raw"].fillna("").astype(str)


def stack(tables: list[tuple[str, str, pd.DataFrame]], match: str = "listing_id"
          ) -> pd.DataFrame:
    """(label, date, listings) per snapshot -> one frame, ordered by date then input.
    With `match="vendor_title"`, `listing_id` becomes a key of vendor and title (case and
    spacing ignored), the snapshot's own id kept as `snapshot_listing_id`."""
    if len(tables) < 1:
        raise InputError("monitor needs at least one snapshot table")
    if match not in MATCHES:
        raise InputError(f"monitor: unknown match {match!r} (use one of {', '.join(MATCHES)})")
    frames = []
    for order, (label, day, table) in enumerate(tables):
        missing = [c for c in (*KEY, "vendor", "title", "price_raw") if c not in table]
        if missing:
            raise InputError(f"snapshot {label}: missing columns {missing}")
        frames.append(table.assign(snapshot=label, snapshot_date=day, snapshot_order=order))
    stacked = pd.concat(frames, ignore_index=True)
    stacked["origin"] = origin(stacked)
    if match == "vendor_title":
        stacked["snapshot_listing_id"] = stacked["listing_id"]
        stacked["listing_id"] = stacked["market"].astype(str) + "-" + [
            fields_key(" ".join(str(v).casefold().split()) for v in pair)
            for pair in zip(stacked["vendor"], stacked["title"], strict=True)]
    return stacked.sort_values(["snapshot_date", "snapshot_order"], kind="stable")


def snapshot_order(stacked: pd.DataFrame) -> list[str]:
    return list(dict.fromkeys(stacked["snapshot"]))


def lifecycles(stacked: pd.DataFrame) -> pd.DataFrame:
    """One row per listing: first and last seen, how often, first and last price, whether
    it is gone from the last snapshot."""
    last = snapshot_order(stacked)[-1]
    grouped = stacked.groupby(KEY, sort=True)
    out = grouped.agg(
        vendor=("vendor", "last"), title=("title", "last"),
        first_seen=("snapshot_date", "min"), last_seen=("snapshot_date", "max"),
        snapshots=("snapshot", "nunique"), first_price=("price_raw", "first"),
        last_price=("price_raw", "last"), price_changes=("price_raw", _changes),
        in_last=("snapshot", lambda s: last in set(s)),
    ).reset_index()
    out["disappeared"] = ~out.pop("in_last")
    return out


def _changes(values: pd.Series) -> int:
    return int((values != values.shift()).iloc[1:].sum())


def price_history(stacked: pd.DataFrame) -> pd.DataFrame:
    """Listing x snapshot prices (with EUR and per-gram prices where extract gave them)."""
    columns = [c for c in ("price_raw", "price_eur", "price_per_g_eur", "category")
               if c in stacked]
    return stacked[[*KEY, "snapshot", "snapshot_date", *columns]].reset_index(drop=True)


def vendor_activity(stacked: pd.DataFrame) -> pd.DataFrame:
    """One row per vendor: active span, listings at most, new entrant (absent from the first
    snapshot), exit (absent from the last), and a move of origin (first -> last)."""
    order = snapshot_order(stacked)
    per = (stacked.groupby([*VENDOR, "snapshot"], sort=False)
           .agg(listings=("listing_id", "nunique"),
                origin=("origin", lambda s: "/".join(sorted(set(s) - {""}))),
                date=("snapshot_date", "first"))
           .reset_index())
    rows = []
    for (market, vendor), group in per.groupby(VENDOR, sort=True):
        seen = set(group["snapshot"])
        first_origin, last_origin = group["origin"].iloc[0], group["origin"].iloc[-1]
        rows.append({
            "market": market, "vendor": vendor, "first_seen": group["date"].min(),
            "last_seen": group["date"].max(), "snapshots": len(seen),
            "listings_max": int(group["listings"].max()),
            "new_entrant": len(order) > 1 and order[0] not in seen,
            "exited": len(order) > 1 and order[-1] not in seen,
            "origin_first": first_origin, "origin_last": last_origin,
            "moved": first_origin != last_origin,
        })
    return pd.DataFrame(rows)


def market_series(stacked: pd.DataFrame) -> pd.DataFrame:
    """Per snapshot (and market): listings, vendors, Belgian vendors, and the median price
    per gram with its n (listings with a per-gram price: none before `extract` ran)."""
    stacked = stacked.assign(belgian=stacked["origin"].isin(BELGIUM),
                             per_g=_per_gram(stacked))
    series = stacked.groupby(SNAPSHOT, sort=False).agg(
        listings=("listing_id", "nunique"), vendors=("vendor", "nunique"),
        belgian_vendors=("vendor", lambda v: v[stacked.loc[v.index, "belgian"]].nunique()),
        listings_per_g=("per_g", "count"), median_price_per_g_eur=("per_g", "median"),
    ).reset_index()
    return series.astype({"listings_per_g": "int64", "median_price_per_g_eur": "float64"})


def category_prices(stacked: pd.DataFrame) -> pd.DataFrame:
    """Per snapshot and drug category: the median price per gram and its n; empty unless
    the snapshots went through `classify` and `extract` (a category and a per-gram price)."""
    columns = [*SNAPSHOT, "category", "listings_per_g", "median_price_per_g_eur"]
    if "category" not in stacked:
        return pd.DataFrame(columns=columns)
    priced = stacked.assign(per_g=_per_gram(stacked)).dropna(subset=["per_g", "category"])
    out = priced.groupby([*SNAPSHOT, "category"], sort=False).agg(
        listings_per_g=("per_g", "count"), median_price_per_g_eur=("per_g", "median"),
    ).reset_index()
    return out[columns]


def _per_gram(stacked: pd.DataFrame) -> pd.Series:
    if "price_per_g_eur" not in stacked:
        return pd.Series(float("nan"), index=stacked.index)
    return pd.to_numeric(stacked["price_per_g_eur"], errors="coerce")


def changes(stacked: pd.DataFrame) -> pd.DataFrame:
    """What changed between the last two snapshots: listings new and gone, prices changed,
    vendors new and gone, vendors whose origin moved."""
    order = snapshot_order(stacked)
    if len(order) < 2:
        return pd.DataFrame(columns=["change", "market", "key", "before", "after"])
    before = stacked[stacked["snapshot"] == order[-2]]
    after = stacked[stacked["snapshot"] == order[-1]]
    rows = []
    old = before.drop_duplicates(KEY).set_index(KEY)
    new = after.drop_duplicates(KEY).set_index(KEY)
    for key in new.index.difference(old.index):
        rows.append(("listing_new", *key, "", new.at[key, "price_raw"]))
    for key in old.index.difference(new.index):
        rows.append(("listing_gone", *key, old.at[key, "price_raw"], ""))
    for key in new.index.intersection(old.index):
        if old.at[key, "price_raw"] != new.at[key, "price_raw"]:
            rows.append(("price_changed", *key, old.at[key, "price_raw"], new.at[key, "price_raw"]))
    origins_before, origins_after = _vendor_origins(before), _vendor_origins(after)
    for key in origins_after.index.difference(origins_before.index):
        rows.append(("vendor_new", *key, "", origins_after[key]))
    for key in origins_before.index.difference(origins_after.index):
        rows.append(("vendor_gone", *key, origins_before[key], ""))
    for key in origins_after.index.intersection(origins_before.index):
        if origins_before[key] != origins_after[key]:
            rows.append(("vendor_moved", *key, origins_before[key], origins_after[key]))
    return pd.DataFrame(rows, columns=["change", "market", "key", "before", "after"])


def _vendor_origins(rows: pd.DataFrame) -> pd.Series:
    """Each vendor's origins in one snapshot, sorted and `/`-joined."""
    return rows.groupby(VENDOR)["origin"].agg(lambda s: "/".join(sorted(set(s))))


OUTPUTS = {"lifecycles": lifecycles, "prices": price_history, "vendors": vendor_activity,
           "series": market_series, "category_prices": category_prices, "changes": changes}


def monitoring_tables(stacked: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Every monitoring table, built market by market (each market's own first and last
    snapshot decide entries, exits and disappearances) and stacked."""
    per_market = [{name: build(group) for name, build in OUTPUTS.items()}
                  for _, group in stacked.groupby("market", sort=True)]
    return {name: pd.concat([tables[name] for tables in per_market], ignore_index=True)
            for name in OUTPUTS}

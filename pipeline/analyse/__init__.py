"""Stage `analyse`: vendor and market analytics on classified, extracted listings.

Pure functions per analysis live in the submodules (shares, transactions, vendors, linker,
migration); `analyse` runs them all and returns named tables, written as Parquet (one file
per table, queryable with DuckDB) by `pipeline.analyse.stage`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from pipeline.analyse.common import prepare
from pipeline.analyse.linker import VendorLinker, vendor_accounts
from pipeline.analyse.migration import evaluate_linker, migration_links
from pipeline.analyse.shares import ALL, country_shares, destinations, product_mix
from pipeline.analyse.substances import substance_shares
from pipeline.analyse.transactions import (
    FEEDBACK_COLUMNS,
    build_transactions,
    feedback_from_listings,
    listing_sales,
    summarise_transactions,
)
from pipeline.analyse.vendors import multi_country_pairs, vendor_profiles
from pipeline.core.text import check_key, pseudonymise_handle

VENDOR_COLUMNS = {"vendors": ["vendor"], "transactions": ["vendor"],
                  "migration_links": ["vendor", "vendor_to"]}


def make_linker(cfg: dict[str, Any]) -> VendorLinker:
    """The linker as configured under `analyse.linker`."""
    return VendorLinker(candidates=int(cfg["candidates"]), threshold=float(cfg["threshold"]),
                        weights=dict(cfg["weights"]), evidence_min=dict(cfg["evidence_min"]))


def transaction_summaries(tx: pd.DataFrame, small: float, wholesale: float, reps: int,
                          seed: int) -> pd.DataFrame:
    """The transaction distribution per market, per market and origin, and over all markets."""
    both = pd.concat([tx, tx.assign(market=ALL)], ignore_index=True)
    per_origin = summarise_transactions(both, ["market", "origin"], small, wholesale, reps, seed)
    per_market = summarise_transactions(both, ["market"], small, wholesale, reps, seed).assign(
        origin=ALL)
    return pd.concat([per_market, per_origin], ignore_index=True)[per_origin.columns]


def coverage(listings: pd.DataFrame, tx: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Per market, what the analytics rest on: listings, first and last scrape date,
    vendors, and sales (None where the market shows no feedback or units sold)."""
    sales = tx.groupby("market")["n"].sum()
    return {
        market: {"listings": len(g), "first_scrape": str(g["scraped_at"].min())[:10],
                 "last_scrape": str(g["scraped_at"].max())[:10],
                 "vendors": int(g.loc[g["vendor"] != "", "vendor"].nunique()),
                 "sales": int(round(sales[market])) if market in sales.index else None}
        for market, g in listings.groupby("market", sort=True)
    }


def analyse(listings: pd.DataFrame, feedback: pd.DataFrame, cfg: dict[str, Any], seed: int,
            vendor_key: str | None = None, categories: dict[str, str] | None = None
            ) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """All analytics for classified, extracted listings plus feedback rows
    (`FEEDBACK_COLUMNS`; Agora's `feedback_raw` is parsed here). `categories` maps each
    canonical substance to its taxonomy category (the substance vocabulary). Returns
    (tables, metrics)."""
    lst = prepare(listings)
    fb = pd.concat([feedback.reindex(columns=FEEDBACK_COLUMNS), feedback_from_listings(lst)],
                   ignore_index=True)
    tx, tallies = build_transactions(lst, fb, float(cfg["max_price_eur"]))
    small, wholesale = float(cfg["small_transaction_eur"]), float(cfg["wholesale_threshold_eur"])
    reps = int(cfg.get("bootstrap_reps", 1000))
    accounts = vendor_accounts(lst)
    linker = make_linker(cfg["linker"]).fit(accounts)
    links, moved = migration_links(accounts, list(cfg.get("shocks") or []), linker,
                                   dict(cfg.get("migration_window") or {}))
    tables = {
        "vendors": vendor_profiles(lst, tx),
        "country_shares": country_shares(lst, tx, reps, seed),
        "product_mix": product_mix(lst),
        "destinations": destinations(lst),
        "transactions": listing_sales(tx),
        "transaction_summary": transaction_summaries(tx, small, wholesale, reps, seed),
        "multi_country": multi_country_pairs(lst),
        "migration_links": links,
        "migration_summary": moved,
        "substances": substance_shares(lst, categories or {}),
    }
    evaluation = cfg["linker"].get("evaluation") or {}
    markets = list(evaluation.get("markets") or [])
    linker_eval = (
        evaluate_linker(accounts, markets[0], markets[1], make_linker(cfg["linker"]),
                        float(evaluation.get("perturb_share", 1.0)), seed)
        if len(markets) == 2 and set(markets) <= set(accounts["market"]) else
        {"markets": markets, "note": "evaluation markets not both in the data"}
    )
    if vendor_key:
        check_key(vendor_key, "the vendor key")
        for name, columns in VENDOR_COLUMNS.items():
            for column in columns:
                tables[name][column] = tables[name][column].map(
                    lambda h: pseudonymise_handle(h, vendor_key))
    metrics = {
        "listings": len(lst), "markets": sorted(lst["market"].unique().tolist()),
        "vendor_accounts": len(accounts), "feedback_rows": len(fb),
        "sales": int(round(tx["n"].sum())), **tallies, "coverage": coverage(lst, tx),
        "multi_country_vendors": int(tables["vendors"]["multi_country"].sum()),
        "migration_links": len(links), "linker_evaluation": linker_eval,
        "wholesale_threshold_eur": wholesale, "small_transaction_eur": small,
        "bootstrap_reps": reps, "migration_window": dict(cfg.get("migration_window") or {}),
    }
    return tables, metrics

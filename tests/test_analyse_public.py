"""Analyse on the real public data (read from $CRYPTODRUG_PUBLIC_DATA, never copied):
DarkMatter and DrugHub 2024 through the real ingest, category maps and extraction, and
Agora's feedback text. Asserts sane ranges only."""

from __future__ import annotations

import pandas as pd
import pytest

from pipeline.analyse import analyse
from pipeline.analyse.transactions import feedback_from_listings
from pipeline.classify.labels import label_listings, load_category_maps
from pipeline.core.config import load_market_config, load_params
from pipeline.extract.stage import extract_in_processes
from pipeline.ingest import expand_inputs, ingest_files

pytestmark = [pytest.mark.public_data, pytest.mark.slow]


def ingest(root, market: str, folder: str, first_files: int | None = None) -> pd.DataFrame:
    cfg = load_market_config(market)
    paths = expand_inputs([root / "markets" / folder], cfg)[:first_files]
    return ingest_files(paths, cfg).listings


@pytest.fixture(scope="module")
def analysed(public_data):
    params = load_params()
    listings = pd.concat([ingest(public_data, "darkmatter", "darkmatter-2024"),
                          ingest(public_data, "drughub", "drughub-2024")], ignore_index=True)
    listings["category"] = label_listings(listings, load_category_maps()).fillna("")
    # two processes, as the extract stage runs it on a table this size
    listings, quarantined = extract_in_processes(listings, params["extraction"], "public", 2,
                                                 min_rows=0)
    assert len(quarantined) < 0.01 * len(listings)
    return analyse(listings, pd.DataFrame(), params["analyse"], seed=params["seed"])


def test_shares_are_proportions(analysed):
    shares = analysed[0]["country_shares"]
    sums = shares.groupby(["market", "period", "month"], dropna=False)["listings_share"].sum()
    assert sums.between(0.999, 1.001).all()
    dm = shares[(shares["market"] == "darkmatter") & (shares["period"] == "all")]
    assert dm["listings_share_known"].max() < 0.6      # no single origin dominates
    assert (dm["origin"] != "unknown").sum() >= 10      # many origins declared


def test_transactions_from_units_sold(analysed):
    summary = analysed[0]["transaction_summary"].set_index(["market", "origin"])
    dm = summary.loc[("darkmatter", "all")]
    assert dm["sales"] > 100
    assert 1 < dm["median_eur"] < 1000 and dm["mean_eur"] < dm["max_eur"]
    assert 0 <= dm["share_revenue_wholesale"] <= 1


def test_linker_finds_verifiable_pairs_again(analysed):
    result = analysed[1]["linker_evaluation"]
    assert result["verifiable_pairs"] >= 50
    assert result["precision"] >= 0.6 and result["recall"] >= 0.6
    assert result["steps"][0]["precision"] == 1.0      # exact handles after perturbation


def test_agora_feedback_parses_to_sane_rows(public_data):
    listings = ingest(public_data, "agora", "agora-2014", first_files=3)
    fb = feedback_from_listings(listings)
    assert len(fb) > 100
    assert fb["rating"].between(0, 5).all() and (fb["rating"] == 5).mean() > 0.5
    assert fb["date"].between("2013-01-01", "2014-12-31").all()
    assert fb["listing_id"].isin(listings["listing_id"]).all()

"""Every tabular market of the public data ingests; counts and fill rates are pinned to
what was measured on ../shared/data (a change in either means the adapter changed)."""

from __future__ import annotations

import pytest

from pipeline.core.config import load_market_config
from pipeline.ingest import expand_inputs, ingest_files
from pipeline.ingest.stage import fill_rates

pytestmark = [pytest.mark.public_data, pytest.mark.slow]

# market config -> (folder, rows in, rows out, minimum fill rate per field)
EXPECTED = {
    "darkmatter": ("markets/darkmatter-2024", 15389, 15389,
                   {"vendor": 1.0, "category_raw": 1.0, "price_raw": 0.99, "ships_from_raw": 0.66}),
    "drughub": ("markets/drughub-2024", 11797, 11771,
                {"vendor": 1.0, "category_raw": 1.0, "price_raw": 1.0, "currency_raw": 1.0}),
    "dwdata_digital": ("markets/dwdata-digital", 33828, 18009,
                       {"vendor": 1.0, "category_raw": 1.0, "price_raw": 0.99}),
    "agora": ("markets/agora-2014", 45141, 43570,
              {"vendor": 1.0, "price_raw": 1.0, "currency_raw": 1.0, "ships_from_raw": 0.86,
               "ships_to_raw": 0.44, "category_raw": 0.80, "description": 0.19}),
    "alphabay": ("markets/alphabay-2017", 35485, 34913,
                 {"vendor": 1.0, "price_raw": 1.0, "category_raw": 1.0}),
    "cryptomarketstudy": ("markets/cryptomarketstudy-2019", 1929, 990,
                          {"vendor": 1.0, "description": 1.0, "ships_from_raw": 1.0,
                           "ships_to_raw": 1.0, "category_raw": 1.0}),
}


@pytest.mark.parametrize("market", sorted(EXPECTED))
def test_tabular_market_ingests_with_pinned_counts_and_fill_rates(public_data, market):
    folder, rows_in, rows_out, min_fill = EXPECTED[market]
    cfg = load_market_config(market)
    result = ingest_files(expand_inputs([public_data / folder], cfg), cfg)
    assert result.rows_in == rows_in
    assert len(result.listings) == rows_out
    assert result.rows_in == len(result.listings) + len(result.quarantined)
    assert result.quarantined["reason"].str.len().gt(0).all()
    rates = fill_rates(result.listings)
    assert rates["title"] == 1.0 and rates["scraped_at"] == 1.0
    for field, minimum in min_fill.items():
        assert rates[field] >= minimum, (field, rates[field])


def test_dwdata_folder_yields_its_three_markets(public_data):
    cfg = load_market_config("dwdata_digital")
    result = ingest_files(expand_inputs([public_data / "markets/dwdata-digital"], cfg), cfg)
    assert set(result.listings["market"]) == {"asap", "abacus", "vicecity"}


def test_alphabay_units_sold_come_from_the_vendor_line(public_data):
    cfg = load_market_config("alphabay")
    files = expand_inputs([public_data / "markets/alphabay-2017"], cfg)[:5]
    sold = ingest_files(files, cfg).listings["units_sold"]
    assert str(sold.dtype) == "Int64" and (sold.dropna() >= 0).all()
    assert sold.notna().mean() > 0.9

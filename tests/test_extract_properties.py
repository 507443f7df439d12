"""Property-based tests: no exception escapes on any text, and the outputs keep their
invariants (non-negative quantities, valid codes, offers consistent with the primary fields)."""

from __future__ import annotations

import math

import pandas as pd
import pycountry
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.extract import ListingExtractor
from pipeline.extract.shipping import REGIONS

CODES = {c.alpha_2 for c in pycountry.countries} | set(REGIONS)
CURRENCIES = {"EUR", "USD", "GBP", "CAD", "AUD", "CHF", "SEK", "PLN", "CZK", "BTC", "XMR", "LTC"}
ADVERSARIAL = st.sampled_from([
    "1e308", "9" * 400 + "g", "0g", "1/0 oz", "\u200b10\u200bg\u200d", "\u202e05 mg pills",
    "🍄 3.5g 🍄", "x" * 50 + "10x" * 30, "1,000,000,000,000,000,000 KG", "-5g", "٣ g",
    "No shipping to", "except", "From: To:", "99999999999999999999999 EUR", "€", "%%%", "100%",
    "10-", "-10-20-30 g", "3 x x x 10 pills", "½ oz", "1,5,5 g", "0.000000001 ug",
])
TEXT = st.one_of(st.text(max_size=300), ADVERSARIAL,
                 st.lists(ADVERSARIAL, max_size=6).map(" ".join))


@pytest.fixture(scope="module")
def extractor() -> ListingExtractor:
    return ListingExtractor().fit()


def _check(row: pd.Series) -> None:
    for name in ("mass_g", "dose_mg", "volume_ml", "purity_pct", "price_amount", "price_eur",
                 "price_per_g_eur"):
        value = row[name]
        assert pd.isna(value) or (math.isfinite(value) and value >= 0), (name, value)
    assert pd.isna(row["purity_pct"]) or row["purity_pct"] <= 100
    assert pd.isna(row["units"]) or row["units"] >= 0
    assert row["ships_from"] is None or row["ships_from"] in CODES
    assert set(row["ships_to"]) <= CODES and set(row["ships_to_excluded"]) <= CODES
    assert row["price_currency"] is None or row["price_currency"] in CURRENCIES
    for offer in row["offers"]:
        assert offer["unit"] in ("g", "ml", "units")
        assert offer["quantity"] >= 0 and offer["price"] >= 0 and offer["currency"] in CURRENCIES
    if len(row["offers"]):
        first = row["offers"][0]
        primary = {"g": "mass_g", "ml": "volume_ml", "units": "units"}[first["unit"]]
        assert not pd.isna(row[primary]) and not pd.isna(row["price_amount"])


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(title=TEXT, description=TEXT, price=TEXT, src=TEXT, dst=TEXT)
def test_no_exception_and_invariants(extractor, title, description, price, src, dst) -> None:
    df = pd.DataFrame([{"listing_id": "1", "market": "m", "scraped_at": "2019-01-01",
                        "vendor": "v", "title": title, "description": description,
                        "price_raw": price, "currency_raw": "", "ships_from_raw": src,
                        "ships_to_raw": dst, "category_raw": ""}])
    _check(extractor.transform(df).iloc[0])


def test_huge_description(extractor) -> None:
    text = ("Ships from NL. 10g - 70 EUR / 25g - 160 EUR. " * 2500)[:100_000]
    df = pd.DataFrame([{"listing_id": "1", "market": "m", "scraped_at": "not a date",
                        "vendor": "v", "title": "x", "description": text, "price_raw": "",
                        "currency_raw": "", "ships_from_raw": "", "ships_to_raw": "",
                        "category_raw": ""}])
    row = extractor.transform(df).iloc[0]
    _check(row)
    assert pd.isna(row["price_eur"])  # no usable date, no conversion

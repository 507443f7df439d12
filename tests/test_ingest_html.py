"""The HTML adapter on the saved pages of five markets (real data, read from
$CRYPTODRUG_PUBLIC_DATA) and on small hand-written pages. Titles, handles, descriptions and
category paths are compared through a short sha1, so no text of the data lives here."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest

from pipeline.core.config import load_market_config
from pipeline.ingest import Document, expand_inputs, ingest_files
from pipeline.ingest.html import read_html_page

HTML_MARKETS = ["dream", "empire", "cryptonia", "apollon", "hansa"]


def short_hash(value: str) -> str:
    return hashlib.sha1(value.encode()).hexdigest()[:10]


@pytest.fixture(scope="module")
def ingested(public_data: Path) -> dict[str, object]:
    results = {}
    for market in HTML_MARKETS:
        cfg = load_market_config(market)
        paths = expand_inputs([public_data / "html" / market], cfg)
        results[market] = (len(paths), ingest_files(paths, cfg))
    return results


# Expected values read off the pages by hand (the raw markup, not the parser's output) on
# 2026-11-28: title, vendor, price and currency, ships from, ships to, category path and
# whether a description is shown (and how it starts), for every Dream (6) and Empire (15)
# listing page, and for the search-result rows in SEARCH_ROWS below.
# file, title, vendor, price, currency, ships from, ships to, category path, description's
# first 20 characters (whitespace collapsed)
DREAM_LISTINGS = [
    ("listing_0.html", "e601576bdf", "6cb0db6dd3", "$50.96", "USD", "United States", "United States, Worldwide", "2b073d5fae", "64f91df5ce"),  # noqa: E501
    ("listing_1.html", "cd03065dcb", "534e992dd7", "฿0.000787 (€7.28)", "BTC", "Worldwide", "Worldwide, Worldwide", "dde3d85872", "c3ece7237b"),  # noqa: E501
    ("listing_2.html", "74e32d1371", "ed9496842b", "฿0.000272 ($3.1096000000000004)", "BTC", "Worldwide", "Worldwide, Worldwide", "0b5f6ad234", "c31d4b605e"),  # noqa: E501
    ("listing_3.html", "40ddcf2aec", "acb9b3ac50", "฿0.00271", "BTC", "China", "Worldwide", "60a414d106", "606ba19bd0"),  # noqa: E501
    ("listing_4.html", "e86488b7d5", "00f57e704e", "฿0.00387 ($41.6)", "BTC", "CHINA", "Worldwide, Worldwide", "8b488a91d2", "12dba318b5"),  # noqa: E501
    ("listing_5.html", "b74d9eec74", "f1a391609e", "฿0.01408 (€124.80000000000001)", "BTC", "Germany", "Europe", "f62c101402", "01628715d7"),  # noqa: E501
]
EMPIRE_LISTINGS = [
    ("saved_empire_listing_0", "19530e77e2", "d2ac611c1b", "USD 2.00", "USD", "World Wide", "World Wide", "c14f751d81", "ef056cb310"),  # noqa: E501
    ("saved_empire_listing_1", "c723e20239", "b1a6faa818", "USD 54.00", "USD", "Latvia", "World Wide", "f447f74d65", "9d068a9ded"),  # noqa: E501
    ("saved_empire_listing_10", "04206e1348", "6de638a5ff", "USD 8.26", "USD", "Netherlands", "World Wide, United States, Asia, Africa, Antarctica(c)", "e6cb8d5e9b", "daeb2072d7"),  # noqa: E501
    ("saved_empire_listing_11", "4c5266ce24", "679a7cbef5", "USD 15.36", "USD", "United Kingdom", "World Wide, United States, Asia, Africa, Antarctica(c)", "800958315d", "a2289293d9"),  # noqa: E501
    ("saved_empire_listing_12", "dcf394bb22", "5d1a21f9ba", "EUR 108.00", "EUR", "Germany", "Europe, Germany, Netherlands", "488df07a0f", "c96bb9c1af"),  # noqa: E501
    ("saved_empire_listing_13", "707481e223", "a7615cbb7b", "USD 200.00", "USD", "United States", "United States", "800958315d", "3aef0b556f"),  # noqa: E501
    ("saved_empire_listing_14", "59430ac0a2", "2341eee1a6", "USD 1,106.71", "USD", "World Wide", "World Wide", "5459fc4816", "d0333cb215"),  # noqa: E501
    ("saved_empire_listing_2", "9673a4c180", "d00d2f2be8", "USD 9,478.97", "USD", "United Kingdom", "World Wide", "9e837dc267", "4c83bbe996"),  # noqa: E501
    ("saved_empire_listing_3", "f16d259c3a", "1db32c688a", "USD 1.50", "USD", "United States", "United States", "5398e90353", "0dda192742"),  # noqa: E501
    ("saved_empire_listing_4", "2b7a5a9f45", "1db32c688a", "USD 3,750.00", "USD", "United States", "United States", "5398e90353", "0dda192742"),  # noqa: E501
    ("saved_empire_listing_5", "8b67a7bf0b", "820cca698a", "USD 150.00", "USD", "United States", "United States", "5398e90353", "27bacb6bca"),  # noqa: E501
    ("saved_empire_listing_6", "1fafc2fb8f", "83e4390e80", "USD 4.00", "USD", "World Wide", "World Wide", "b79eda057c", "c4f12f3b5f"),  # noqa: E501
    ("saved_empire_listing_7", "572dcc4f90", "31ff50f962", "USD 3.00", "USD", "World Wide", "World Wide", "5459fc4816", "4671d5bda7"),  # noqa: E501
    ("saved_empire_listing_8", "2abcce499e", "31ff50f962", "USD 8.00", "USD", "World Wide", "World Wide", "5459fc4816", "0cbc1e279e"),  # noqa: E501
    ("saved_empire_listing_9", "840eeb2cf9", "1d092ce51a", "USD 1,399.18", "USD", "Germany", "Austria, Belgium, Finland, France, Germany", "800958315d", "ea6f8d8c1f"),  # noqa: E501
]


@pytest.mark.public_data
@pytest.mark.parametrize(
    ("market", "expected"), [("dream", DREAM_LISTINGS), ("empire", EMPIRE_LISTINGS)]
)
def test_every_listing_page_yields_its_fields(ingested, market, expected):
    listings = ingested[market][1].listings
    pages = listings[listings["page_type"] == "listing"]
    pages = pages.set_index(pages["source_file"].str.split("/").str[-1])
    assert sorted(pages.index) == sorted(row[0] for row in expected)
    for name, title, vendor, price, currency, ships_from, ships_to, category, start in expected:
        row = pages.loc[name]
        assert short_hash(row["title"]) == title, name
        assert short_hash(row["vendor"]) == vendor, name
        assert (row["price_raw"], row["currency_raw"]) == (price, currency), name
        assert (row["ships_from_raw"], row["ships_to_raw"]) == (ships_from, ships_to), name
        assert short_hash(row["category_raw"]) == category, name
        assert short_hash(" ".join(row["description"].split())[:20]) == start, name
        assert row["native_id"], name


# search-result rows, read off the pages by hand (see above): market, file, row on the page,
# title, vendor, price, currency, ships from, ships to (Empire rows show neither), category
# path (Empire rows show "Stimulants / Cocaine"; the row's link carries the category id,
# whose full path the page's sidebar menu gives, as on the listing pages)
SEARCH_ROWS = [
    ("dream", "search_result_0.html", 0, "819d0de091", "4531145311", "฿0.000523", "BTC", "WW", "WW", "c98e6329e5"),  # noqa: E501
    ("dream", "search_result_0.html", 2, "53c28a0302", "3ad74f05d4", "฿0.00076", "BTC", "DE", "WW", "c98e6329e5"),  # noqa: E501
    ("dream", "search_result_0.html", 11, "6405924750", "31ff50f962", "฿0.000131", "BTC", "CN", "WW", "c98e6329e5"),  # noqa: E501
    ("dream", "search_result_0.html", 14, "22f6f7cbd5", "6dd0fe8001", "฿0.001573", "BTC", "GB", "WW, EU", "c98e6329e5"),  # noqa: E501
    ("dream", "search_result_0.html", 17, "78b24d15d9", "2377bb1e28", "฿0.000457", "BTC", "BE", "WW", "c98e6329e5"),  # noqa: E501
    ("dream", "search_result_0.html", 31, "52ffd94b48", "d35c6dc284", "฿0.01048", "BTC", "WW", "WW", "c98e6329e5"),  # noqa: E501
    ("empire", "saved_empire_search_result_0", 0, "5b8a728572", "27575ebdfd", "USD 75.00", "USD", "", "", "9e837dc267"),  # noqa: E501
    ("empire", "saved_empire_search_result_0", 1, "ff12b59f04", "389fdf07d9", "USD 47.50", "USD", "", "", "d966d7f57f"),  # noqa: E501
    ("empire", "saved_empire_search_result_0", 4, "fee27ce80d", "d492719f06", "USD 100.00", "USD", "", "", "9e837dc267"),  # noqa: E501
    ("empire", "saved_empire_search_result_0", 9, "12f2fe5506", "128125febd", "USD 100.00", "USD", "", "", "4281946742"),  # noqa: E501
    ("empire", "saved_empire_search_result_0", 14, "e2727464a7", "92ac2223a6", "USD 33.47", "USD", "", "", "e6cb8d5e9b"),  # noqa: E501
    ("empire", "saved_empire_search_result_1", 0, "88f55bba61", "4059bba350", "EUR 6.36", "EUR", "", "", "e24fe4f615"),  # noqa: E501
    ("empire", "saved_empire_search_result_1", 1, "d531053e69", "fc15ec41ad", "EUR 0.90", "EUR", "", "", "f1a413963e"),  # noqa: E501
    ("empire", "saved_empire_search_result_1", 4, "d3b11136e8", "dec4799392", "EUR 4,498.75", "EUR", "", "", "e24fe4f615"),  # noqa: E501
    ("empire", "saved_empire_search_result_1", 7, "bd3e929070", "ee53046508", "EUR 45.44", "EUR", "", "", "e24fe4f615"),  # noqa: E501
    ("empire", "saved_empire_search_result_1", 9, "4fb665852b", "8015903d17", "EUR 235.39", "EUR", "", "", "e24fe4f615"),  # noqa: E501
    ("empire", "saved_empire_search_result_2", 0, "9afa2f7582", "d96bf240cb", "USD 5.41", "USD", "", "", "dc8960c105"),  # noqa: E501
    ("empire", "saved_empire_search_result_2", 2, "bfcd39673c", "bcfd1c1669", "USD 0.01", "USD", "", "", "f5ed5f414e"),  # noqa: E501
    ("empire", "saved_empire_search_result_2", 6, "4bc2934ffe", "80c0630ac6", "USD 32.48", "USD", "", "", "9593ed9c42"),  # noqa: E501
    ("empire", "saved_empire_search_result_2", 8, "8f051530f1", "0b8ca1ca38", "USD 100.00", "USD", "", "", "68f389986c"),  # noqa: E501
    ("empire", "saved_empire_search_result_2", 14, "1ad6510c7e", "59a4780d86", "USD 0.01", "USD", "", "", "9e837dc267"),  # noqa: E501
]


@pytest.mark.public_data
def test_search_rows_yield_their_fields(ingested):
    for market, name, row_no, title, vendor, price, currency, ships_from, ships_to, category in (
        SEARCH_ROWS
    ):
        listings = ingested[market][1].listings
        rows = listings[listings["source_file"].str.endswith("/" + name)
                        & (listings["source_row"] == row_no)]
        assert len(rows) == 1, (name, row_no)
        row = rows.fillna("").iloc[0]
        where = (name, row_no)
        assert (short_hash(row["title"]), short_hash(row["vendor"])) == (title, vendor), where
        assert (row["price_raw"], row["currency_raw"]) == (price, currency), where
        assert (row["ships_from_raw"], row["ships_to_raw"]) == (ships_from, ships_to), where
        assert short_hash(row["category_raw"]) == category, where


# market: files, listings out, quarantined, feedback rows, vendor rows
COUNTS = {
    "dream": (23, 198, 52, 718, 11),
    "empire": (36, 55, 10, 60, 8),
    "cryptonia": (51, 139, 8, 570, 23),
    "apollon": (26, 107, 7, 41, 10),
    "hansa": (35, 164, 20, 82, 5),
}
# minimum fill rates per canonical field (measured, rounded down)
FILL = {
    "dream": {"vendor": 1.0, "title": 1.0, "price_raw": 1.0, "currency_raw": 1.0,
              "ships_from_raw": 0.19, "ships_to_raw": 0.19, "category_raw": 0.19},
    "empire": {"vendor": 1.0, "title": 1.0, "price_raw": 1.0, "currency_raw": 1.0,
               "ships_from_raw": 0.27, "category_raw": 1.0, "description": 0.27},
    "cryptonia": {"vendor": 0.99, "title": 1.0, "price_raw": 0.99, "ships_from_raw": 0.96,
                  "ships_to_raw": 0.96, "category_raw": 0.81},
    "apollon": {"vendor": 1.0, "title": 1.0, "price_raw": 0.99, "category_raw": 0.93},
    "hansa": {"vendor": 1.0, "title": 1.0, "price_raw": 1.0, "ships_from_raw": 0.41,
              "category_raw": 1.0},
}


@pytest.mark.public_data
@pytest.mark.parametrize("market", HTML_MARKETS)
def test_row_counts_and_fill_rates(ingested, market):
    files, result = ingested[market]
    n_files, n_out, n_quarantined, n_feedback, n_vendors = COUNTS[market]
    assert files == n_files
    assert (len(result.listings), len(result.quarantined)) == (n_out, n_quarantined)
    assert result.rows_in == len(result.listings) + len(result.quarantined)
    assert len(result.side_tables["feedback"]) == n_feedback
    assert len(result.side_tables["vendors"]) == n_vendors
    for column, minimum in FILL[market].items():
        rate = result.listings[column].astype(str).str.len().gt(0).mean()
        assert rate >= minimum - 0.005, (column, rate)
    # every file is accounted for: it gave rows, or exactly one quarantined row names it
    page_rows = result.quarantined[~result.quarantined["reason"].str.startswith("duplicate")]
    assert page_rows["source_file"].is_unique


@pytest.mark.public_data
@pytest.mark.parametrize(
    ("market", "file_part", "reason"),
    [
        ("dream", "login_0.html", "login page"),
        ("dream", "anti_ddos_0.html", "anti-DDoS"),
        ("dream", "not_found_0.html", "404"),
        ("empire", "saved_empire_login_page_1", "login page"),
        ("empire", "apollon_404_0", "404"),
        ("empire", "saved_empire_meta_refresh_0", "meta-refresh"),
        ("empire", "saved_empire_pgp_0", "PGP"),
        ("cryptonia", "anti_ddos_page", "anti-DDoS"),
        ("hansa", "vendor_Zloy3_pgp.htm", "PGP"),
        ("hansa", "listing_80539_terms.htm", "terms"),
    ],
)
def test_non_listing_pages_are_quarantined_with_reason(ingested, market, file_part, reason):
    quarantined = ingested[market][1].quarantined
    rows = quarantined[quarantined["source_file"].str.endswith(file_part)]
    assert len(rows) == 1
    assert reason in rows["reason"].iloc[0]


@pytest.mark.public_data
def test_side_tables_carry_dates_and_ratings(ingested):
    dream_feedback = ingested["dream"][1].side_tables["feedback"]
    assert dream_feedback["rating"].astype(int).between(0, 5).all()
    assert dream_feedback["date"].str.match(r"^\d{4}-\d{2}-\d{2}$").mean() > 0.95
    empire_feedback = ingested["empire"][1].side_tables["feedback"]
    assert set(empire_feedback["polarity"]) == {"positive"}  # both pages: "Positive" tab
    assert empire_feedback["date"].str.match(r"^\d{4}-\d{2}-\d{2}$").all()
    empire_vendors = ingested["empire"][1].side_tables["vendors"]
    assert empire_vendors["join_date"].str.match(r"^\d{4}-\d{2}-\d{2}$").all()


# --- hand-written pages -------------------------------------------------------------------

PAGE_HEAD = "<html><head><title>Shop</title></head><body>"
LISTING_BODY = (
    '<div class="viewProduct"><div class="title">Test offer 5 g</div>'
    '<div class="tabularDetails"><div><label>Vendor</label><span><a>tester</a></span></div>'
    "<div><label>Price</label><span>€12.50</span></div>"
    "<div><label>Ships from</label><span>Belgium</span></div></div>"
)


def write_page(tmp_path: Path, name: str, html: str) -> Path:
    path = tmp_path / name
    path.write_text(html, encoding="utf-8")
    return path


def test_truncated_listing_page_is_quarantined(tmp_path):
    cut = PAGE_HEAD + '<div class="viewProduct"><div class="tabularDetails"><div><lab'
    page = write_page(tmp_path, "cut.html", cut)
    result = read_html_page(Document(page), load_market_config("dream"))
    assert result.records.empty
    assert result.quarantined["reason"].iloc[0].startswith("truncated")


def test_page_without_its_footer_is_quarantined_as_truncated(tmp_path):
    """Dream's `complete_when`: a page cut before its footer may have lost fields (a price
    read as 0), so it is set aside rather than kept with what it shows."""
    page = write_page(tmp_path, "partial.html", PAGE_HEAD + LISTING_BODY)
    result = read_html_page(Document(page), load_market_config("dream"))
    assert result.records.empty
    assert result.quarantined["reason"].iloc[0] == (
        "truncated: listing page lacks div.footer (complete_when)")
    whole = write_page(tmp_path, "whole.html",
                       PAGE_HEAD + LISTING_BODY + '<div class="footer"></div></body></html>')
    record = read_html_page(Document(whole), load_market_config("dream")).records.iloc[0]
    assert (record["price_raw"], record["currency_raw"]) == ("€12.50", "EUR")


def test_unknown_page_type_is_quarantined(tmp_path):
    page = write_page(tmp_path, "odd.html", PAGE_HEAD + "<p>nothing known</p></body></html>")
    result = read_html_page(Document(page), load_market_config("empire"))
    assert "unknown page type" in result.quarantined["reason"].iloc[0]


def test_empty_file_is_quarantined(tmp_path):
    page = write_page(tmp_path, "empty", "  \n")
    result = read_html_page(Document(page), load_market_config("dream"))
    assert result.quarantined["reason"].iloc[0] == "empty file"


def test_labelled_values_across_layouts(tmp_path):
    html = (
        PAGE_HEAD + '<div class="listDes"><h2>Offer</h2><table class="productTbl"><tr>'
        "<td><b>Origin Country</b></td><td>Netherlands</td><td><b>Ships to</b></td>"
        "<td>Europe</td></tr></table></div></body></html>"
    )
    result = read_html_page(Document(write_page(tmp_path, "l", html)), load_market_config("empire"))
    record = result.records.iloc[0]
    assert (record["ships_from_raw"], record["ships_to_raw"]) == ("Netherlands", "Europe")


def test_row_category_id_resolves_through_the_menu(tmp_path):
    menu = (
        '<nav class="Category"><ul class="mainmenu"><li><a href="/categories/2/0"> Drugs'
        '<span>9</span></a><ul class="submenu"><li><a href="/categories/19/0"> Benzos</a>'
        '<ul><li><a href="/categories/69/0"> Pills</a></li></ul></li></ul></li></ul></nav>'
    )
    row = ('<div class="col-1search"><div class="head"><a href="/product/5/{cat}/9">Offer</a>'
           '<p class="padp">Item # 5 - Benzos / Pills - <a href="/u/x">x</a> (3)</p></div>'
           '<div class="col-1right"><p class="bold padp">USD <a>4.00</a></p></div></div>')
    html = PAGE_HEAD + menu + row.format(cat=69) + row.format(cat=70) + "</body></html>"
    result = read_html_page(Document(write_page(tmp_path, "s", html)), load_market_config("empire"))
    # id 69 is in the menu: its full path; id 70 is not: the row's own text
    assert list(result.records["category_raw"]) == ["Drugs > Benzos > Pills", "Benzos / Pills"]


def test_wallstreet_template_is_valid_config():
    cfg = load_market_config("wallstreet")
    assert cfg["adapter"] == "html"
    assert isinstance(cfg["page_types"], list)


def test_sample_pages_ingest(sample_data: Path):
    for market in ("dream", "empire"):
        cfg = load_market_config(market)
        result = ingest_files(expand_inputs([sample_data / "markets" / market], cfg), cfg)
        assert len(result.listings) >= 12
        assert result.rows_in == len(result.listings) + len(result.quarantined)
        assert set(result.listings["ships_from_raw"]) & {"Belgium", "Netherlands", "BE", "NL"}
        assert len(result.side_tables["feedback"]) > 0
        assert pd.Series(result.listings["price_raw"]).str.len().gt(0).all()

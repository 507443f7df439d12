"""Every table the pipeline writes, declared once: its file, the command and path that write
it, and each column's type, unit and meaning. A stage that reads another's output checks the
`required` columns on load (one clear error instead of a KeyError deep inside);
docs/data-dictionary.md is generated from these declarations (`cryptodrug data-dictionary`)
and tests/test_data_dictionary.py fails when a written table has a column not declared here.

Types are the kinds a reader sees: string, integer, float, boolean, date, datetime,
list[string], list[struct], struct. Raw values copied from a page stay strings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

import pyarrow as pa


@dataclass(frozen=True)
class Column:
    """One column: its kind, unit (empty when none), meaning, and whether readers need it."""

    name: str
    type: str
    meaning: str
    unit: str = ""
    required: bool = False


@dataclass(frozen=True)
class TableSpec:
    """One table: `file` inside its folder, `path` as dvc.yaml writes it (`<market>` stands
    for each market), the command that writes it, what one row is, and its columns."""

    name: str
    file: str
    fields: tuple[Column, ...]
    path: str = ""
    command: str = ""
    row: str = ""
    open_columns: str = ""  # when set: which further columns the table may carry

    @property
    def columns(self) -> frozenset[str]:
        """The columns a reader relies on (checked on load)."""
        return frozenset(c.name for c in self.fields if c.required)

    def field(self, name: str) -> Column | None:
        """The declaration of column `name`, if any."""
        return next((c for c in self.fields if c.name == name), None)


def _col(name: str, type_: str, meaning: str, unit: str = "") -> Column:
    return Column(name, type_, meaning, unit)


def _need(name: str, type_: str, meaning: str, unit: str = "") -> Column:
    return Column(name, type_, meaning, unit, required=True)


def _table(name: str, path: str, command: str, row: str, *fields: Column,
           file: str | None = None, open_columns: str = "") -> TableSpec:
    return TableSpec(name, file or path.rsplit("/", 1)[-1], tuple(fields), path, command, row,
                     open_columns)


def arrow_kind(dtype: pa.DataType) -> str:
    """The dictionary's kind of an Arrow type ("null" for an all-empty column)."""
    if pa.types.is_null(dtype):
        return "null"
    for check, kind in ((pa.types.is_boolean, "boolean"), (pa.types.is_integer, "integer"),
                        (pa.types.is_floating, "float"), (pa.types.is_date, "date"),
                        (pa.types.is_timestamp, "datetime"), (pa.types.is_struct, "struct"),
                        (pa.types.is_string, "string"), (pa.types.is_large_string, "string"),
                        (pa.types.is_dictionary, "string")):
        if check(dtype):
            return kind
    if pa.types.is_list(dtype) or pa.types.is_large_list(dtype):
        return f"list[{arrow_kind(dtype.value_type)}]"
    return str(dtype)


_ARROW_TYPES = {"string": pa.string(), "integer": pa.int64(), "float": pa.float64(),
                "boolean": pa.bool_(), "date": pa.date32(), "datetime": pa.timestamp("s")}


def empty_table_schema(spec: TableSpec, columns: list[str]) -> pa.Schema:
    """The Arrow schema of `columns` as the dictionary declares them, for writing an empty
    table whose columns pandas cannot type (an empty list or date column would otherwise be
    written as float or null, and R or Stata users would read a number)."""
    def arrow_type(kind: str) -> pa.DataType:
        if kind.startswith("list[") and kind.endswith("]"):
            return pa.list_(arrow_type(kind[5:-1]))
        return _ARROW_TYPES.get(kind, pa.string())

    declared = {c.name: c.type for c in spec.fields}
    return pa.schema([(name, arrow_type(declared.get(name, "string"))) for name in columns])


# --- shared column groups ------------------------------------------------------------------

MARKET = _need("market", "string", "market slug, lowercase (`agora`, `dream`, ...)")
VENDOR = _need("vendor", "string", "vendor handle as shown, or its keyed pseudonym when "
               "pseudonymisation is on")
REASON = _col("reason", "string", "why the row was set aside (one line)")

CANONICAL = (
    _need("listing_id", "string", "listing id, unique within a market and scrape date"),
    MARKET,
    _need("scraped_at", "string", "day the page was captured (ISO `YYYY-MM-DD`)", "date"),
    VENDOR,
    _need("title", "string", "listing title as shown"),
    _col("description", "string", "listing body text, may be empty"),
    _col("price_raw", "string", "price exactly as shown (`45-19250 EUR`, `$50.96`)"),
    _col("currency_raw", "string", "currency as shown when separate from the price"),
    _col("ships_from_raw", "string", "ships-from as shown"),
    _col("ships_to_raw", "string", "ships-to as shown"),
    _col("category_raw", "string", "the market's own category path (`Stimulants > Cocaine`)"),
)
# columns a market config adds, carried through every later listing table untouched
MARKET_EXTRA = (
    _col("native_id", "string", "the market's own listing id (from its URL or form)"),
    _col("source_file", "string", "raw file the row was read from (relative to the input)"),
    _col("source_row", "integer", "row or item number inside `source_file` (from 0)"),
    _col("page_type", "string", "kind of saved page (`listing`, `search`, `vendor`)"),
    _col("feedback_raw", "string", "the listing page's feedback block as shown (Agora)"),
    _col("units_sold", "integer", "units sold as the market shows it (thousands separators "
         "dropped; empty when not a whole number)", "units"),
    _col("price_per_unit_raw", "string", "price per unit as shown"),
    _col("feedback_count", "integer", "vendor feedback count as the market shows it "
         "(empty when not a whole number)", "feedbacks"),
    _col("vendor_rating", "string", "vendor rating as shown"),
    _col("escrow", "string", "escrow terms as shown"),
    _col("product_class", "string", "the market's product class (physical, digital)"),
    _col("quantity_raw", "string", "quantity left as shown"),
)
LISTING_EXTRA_NOTE = ("further raw string columns a market config adds are carried through "
                      "untouched (those of the shipped configs are listed)")
CLASSIFIED = (
    _need("category", "string", "drug category id of the taxonomy "
          "(docs/contracts.md#drug-categories)"),
    _need("category_confidence", "float", "the classifier's probability of `category`", "0-1"),
)
EXTRACTED = (
    _col("units", "integer", "total count of items in the smallest offer", "items"),
    _col("dose_mg", "float", "strength per counted unit (per ml for liquids)", "mg"),
    _col("mass_g", "float", "total weight of the smallest offer", "g"),
    _col("volume_ml", "float", "total volume of the smallest offer", "ml"),
    _col("purity_pct", "float", "stated purity", "%"),
    _col("price_amount", "float", "the smallest offer's price in `price_currency`",
         "price_currency"),
    _col("price_currency", "string", "ISO 4217 code, or BTC, XMR, LTC"),
    _need("price_eur", "float", "price converted at the dated rate of `scraped_at`", "EUR"),
    _col("price_per_g_eur", "float", "`price_eur` / `mass_g` when the mass is known", "EUR/g"),
    _need("ships_from", "string", "origin: ISO 3166-1 alpha-2 or a region "
          "(`europe`, `worldwide`, ...); empty when unknown"),
    _col("ships_to", "list[string]", "destinations, same vocabulary as `ships_from`"),
    _col("ships_to_excluded", "list[string]", "destinations the text rules out"),
    _col("offers", "list[struct]", "every stated option: {quantity, unit, price, currency}"),
    _col("substances", "list[string]", "canonical names of the substances the title and "
         "description name (vocabulary in conf/substances)"),
)

# where a companion row was read: market, capture day, file, row, kind of page
PAGE_COLUMNS = (
    MARKET,
    _col("scraped_at", "string", "day the page was captured (ISO)", "date"),
    _col("source_file", "string", "raw file the row was read from"),
    _col("source_row", "integer", "row or item number inside `source_file`"),
    _col("page_type", "string", "kind of saved page"),
)

# --- stage 1: ingest -----------------------------------------------------------------------

INGEST: dict[str, TableSpec] = {spec.name: spec for spec in (
    _table("listings", "data/interim/listings/<market>.parquet", "ingest",
           "one listing as captured on one day", *CANONICAL, *MARKET_EXTRA,
           open_columns=LISTING_EXTRA_NOTE),
    _table("listings_quarantine", "data/interim/listings/<market>.quarantine.parquet",
           "ingest", "one raw row or page set aside", *CANONICAL, *MARKET_EXTRA, REASON,
           open_columns="the raw fields the market config read from the row or page"),
    _table("feedback", "data/interim/listings/<market>.feedback.parquet", "ingest",
           "one buyer feedback shown on a listing or vendor page",
           *PAGE_COLUMNS,
           _col("listing_ref", "string", "the market's id of the listing reviewed"),
           _col("listing_title", "string", "title of the listing reviewed, as shown"),
           _col("vendor", "string", "vendor reviewed"),
           _col("date", "string", "day of the feedback (ISO; counted back from ages such as "
                "`4d`)", "date"),
           _col("date_raw", "string", "date or age as shown"),
           _col("rating", "string", "rating as shown (e.g. stars out of 5)"),
           _col("polarity", "string", "positive/neutral/negative as the market marks it"),
           _col("text", "string", "feedback text"),
           _col("price_raw", "string", "price paid as shown"),
           open_columns="further raw fields a market's feedback config names"),
    _table("vendor_profiles", "data/interim/listings/<market>.vendors.parquet", "ingest",
           "one vendor profile page",
           *PAGE_COLUMNS,
           _col("vendor", "string", "vendor handle"),
           _col("feedback_count", "integer", "feedback count as the market shows it",
                "feedbacks"),
           _col("rating", "string", "vendor rating as shown"),
           _col("levels", "string", "trust and vendor levels as shown, `; `-joined"),
           _col("positive_pct", "string", "share of positive feedback as shown", "%"),
           _col("join_date", "string", "day the vendor joined (ISO)", "date"),
           _col("fe_enabled", "string", "whether finalize-early is allowed, as shown"),
           _col("about", "string", "the profile's about text"),
           open_columns="further raw fields a market's vendor config names"),
)}

# --- stage 2-3: classify, extract ----------------------------------------------------------

LISTINGS: dict[str, TableSpec] = {spec.name: spec for spec in (
    _table("listings_classified", "data/processed/listings_classified.parquet", "classify",
           "one ingested listing", *CANONICAL, *MARKET_EXTRA, *CLASSIFIED,
           open_columns=LISTING_EXTRA_NOTE),
    _table("listings_classified_quarantine",
           "data/processed/listings_classified.quarantine.parquet", "classify",
           "one listing the classifier could not score", *CANONICAL, *MARKET_EXTRA, REASON,
           open_columns=LISTING_EXTRA_NOTE),
    _table("listings_classified_review", "data/processed/listings_classified.review.parquet",
           "classify", "one listing whose `category_confidence` is below "
           "`model.review_threshold`, for a human to check", *CANONICAL, *MARKET_EXTRA,
           *CLASSIFIED, open_columns=LISTING_EXTRA_NOTE),
    _table("listings_extracted", "data/processed/listings.parquet", "extract",
           "one classified listing with its quantities, price and shipping",
           *CANONICAL, *MARKET_EXTRA, *CLASSIFIED, *EXTRACTED,
           open_columns=LISTING_EXTRA_NOTE),
    _table("listings_extracted_quarantine", "data/processed/listings.quarantine.parquet",
           "extract", "one listing set aside (bad date, id, absurd price)",
           *CANONICAL, *MARKET_EXTRA, *CLASSIFIED, REASON, open_columns=LISTING_EXTRA_NOTE),
)}

# --- stage 4: analyse -> data/processed/analytics/ (+ summary.json) ------------------------

A = "data/processed/analytics/"
ORIGIN = _need("origin", "string", "ships-from country or region; `unknown` when undeclared")
PERIOD = _need("period", "string", "`month` (a row for one calendar month) or `all` (the "
               "whole period)")
MONTH = _need("month", "string", "calendar month `YYYY-MM`; empty on `period` = `all` rows")
WILSON = "Wilson 95% interval of `{}`: {} bound"
BOOT = ("bootstrap 95% interval of `{}` (resampled sales, `analyse.bootstrap_reps`, "
        "seeded): {} bound")


def _bounds(of: str, how: str = WILSON, unit: str = "0-1") -> tuple[Column, Column]:
    return (_need(f"{of}_low", "float", how.format(of, "lower"), unit),
            _need(f"{of}_high", "float", how.format(of, "upper"), unit))


ANALYTICS_SUMMARY = "summary.json"
ANALYTICS: dict[str, TableSpec] = {spec.name: spec for spec in (
    _table("vendors", A + "vendors.parquet", "analyse", "one vendor account on one market",
           MARKET, VENDOR,
           _need("listings", "integer", "distinct listings of the account", "listings"),
           _need("first_seen", "date", "first scrape day with a listing", "date"),
           _need("last_seen", "date", "last scrape day with a listing", "date"),
           _col("median_price_eur", "float", "median listing price", "EUR"),
           _col("median_price_per_g_eur", "float", "median price per gram", "EUR/g"),
           _col("origins", "list[string]", "every declared ships-from"),
           _need("countries", "list[string]", "the origins that are countries"),
           _need("multi_country", "boolean", "ships from two or more countries"),
           _col("primary_origin", "string", "origin of most of its listings"),
           _col("product_mix", "struct", "share of its listings per category", "0-1"),
           _need("top_category", "string", "its most listed category"),
           _need("sales", "integer", "estimated sales (feedbacks or units sold); empty (no "
                 "data) where the market shows neither", "sales"),
           _need("revenue_eur", "float", "estimated revenue: sales x listing price; empty "
                 "(no data) where the market shows no sales", "EUR")),
    _table("country_shares", A + "country_shares.parquet", "analyse",
           "one origin on one market in one month, or over the whole period", MARKET, PERIOD,
           MONTH, ORIGIN,
           _need("vendors", "integer", "vendor accounts whose primary origin this is",
                 "vendors"),
           _need("listings", "integer", "distinct listings", "listings"),
           _need("sales", "integer", "estimated sales of the origin's listings", "sales"),
           _need("revenue_eur", "float", "estimated revenue; empty (no data) where the "
                 "market-period has no sale", "EUR"),
           _col("vendors_share", "float", "`vendors` / all vendors of the market-period",
                "0-1"),
           _need("vendors_share_known", "float", "`vendors` / vendors with a declared origin",
                 "0-1"),
           _need("vendors_known_total", "integer", "vendors with a declared origin in the "
                 "market-period: the n of `vendors_share_known`", "vendors"),
           *_bounds("vendors_share_known"),
           _need("listings_share", "float", "`listings` / all listings of the market-period",
                 "0-1"),
           _need("listings_share_known", "float", "`listings` / listings with a declared "
                 "origin (leaves `unknown` out of the denominator)", "0-1"),
           _need("listings_known_total", "integer", "listings with a declared origin in the "
                 "market-period: the n of `listings_share_known`", "listings"),
           *_bounds("listings_share_known"),
           _col("revenue_eur_share", "float", "`revenue_eur` / all revenue", "0-1"),
           _need("revenue_eur_share_known", "float", "`revenue_eur` / revenue of listings "
                 "with a declared origin", "0-1"),
           _need("sales_known_total", "integer", "sales of listings with a declared origin "
                 "in the market-period: the n of `revenue_eur_share_known`", "sales"),
           *_bounds("revenue_eur_share_known", BOOT)),
    _table("product_mix", A + "product_mix.parquet", "analyse",
           "one category of one origin on one market", MARKET, ORIGIN,
           _need("category", "string", "drug category id"),
           _need("listings", "integer", "listings of the origin in the category", "listings"),
           _need("origin_listings", "integer", "all listings of the origin: the n of `share`",
                 "listings"),
           _need("share", "float", "`listings` / `origin_listings`", "0-1"),
           *_bounds("share"),
           _col("market_listings", "integer", "listings of the market in the category",
                "listings"),
           _need("market_share", "float", "category share of the whole market", "0-1"),
           _need("over_representation", "float", "`share` / `market_share`: above 1 the "
                 "origin over-represents the category", "ratio")),
    _table("destinations", A + "destinations.parquet", "analyse",
           "one destination an origin ships to, or rules out, on one market", MARKET, ORIGIN,
           _need("kind", "string", "`ships_to` (offered) or `excluded` (ruled out)"),
           _need("destination", "string", "country or region"),
           _need("listings", "integer", "listings of the origin with this destination",
                 "listings"),
           _need("origin_listings", "integer", "all listings of the origin: the n of `share`",
                 "listings"),
           _need("share", "float", "`listings` / `origin_listings`", "0-1"),
           *_bounds("share")),
    _table("transactions", A + "transactions.parquet", "analyse",
           "one listing's estimated sales from one source (buyer feedbacks, or the units "
           "sold the listing shows)",
           _col("market", "string", MARKET.meaning), _col("listing_id", "string", "listing sold"),
           _col("vendor", "string", VENDOR.meaning), ORIGIN,
           _col("category", "string", "drug category id of the listing"),
           _col("source", "string", "`feedback` or `units_sold`"),
           _need("value_eur", "float", "the listing's price (smallest offer): the value of "
                 "one sale", "EUR"),
           _need("sales", "integer", "sales counted (feedbacks, or units sold)", "sales"),
           _col("revenue_eur", "float", "`value_eur` x `sales`", "EUR"),
           _col("first_date", "date", "first sale day (feedback day, or the scrape day for "
                "units sold)", "date"),
           _col("last_date", "date", "last sale day", "date")),
    _table("transaction_summary", A + "transaction_summary.parquet", "analyse",
           "one origin on one market (and `all`)", MARKET, ORIGIN,
           _need("sales", "integer", "estimated sales: the n of every figure of the row",
                 "sales"),
           _col("revenue_eur", "float", "estimated revenue", "EUR"),
           _col("mean_eur", "float", "mean value of a sale", "EUR"),
           _need("median_eur", "float", "median value of a sale", "EUR"),
           *_bounds("median_eur", BOOT, "EUR"),
           _col("max_eur", "float", "largest sale", "EUR"),
           _need("share_sales_under_small", "float", "share of sales below "
                 "`analyse.small_transaction_eur` (default 200 EUR): retail", "0-1"),
           *_bounds("share_sales_under_small"),
           _need("share_revenue_wholesale", "float", "share of revenue from sales at or above "
                 "`analyse.wholesale_threshold_eur` (default 1000 EUR)", "0-1"),
           *_bounds("share_revenue_wholesale", BOOT)),
    _table("multi_country", A + "multi_country.parquet", "analyse",
           "one pair of origins on one market in one month, or over the whole period",
           MARKET, PERIOD, MONTH,
           _need("pair", "string", "two origins joined by `+` (`BE+NL`); empty when the "
                 "market-period has no multi-country vendor"),
           _need("vendors", "integer", "accounts shipping from both origins of the pair",
                 "vendors"),
           _need("vendors_with_country", "integer", "accounts with a declared country in the "
                 "market-period: the n of `multi_country_share`", "vendors"),
           _need("multi_country_vendors", "integer", "accounts shipping from two or more "
                 "countries in the market-period", "vendors"),
           _need("multi_country_share", "float", "`multi_country_vendors` / "
                 "`vendors_with_country`", "0-1"),
           *_bounds("multi_country_share")),
    _table("migration_links", A + "migration_links.parquet", "analyse",
           "one account of a closed market linked to an account on another market within "
           "the shock's window",
           _need("shock", "string", "market event (closure, takedown) from `analyse.shocks`"),
           _need("shock_date", "date", "day of the shock", "date"),
           _need("window_start", "date", "first day of the shock's window "
                 "(`days_before` the shock)", "date"),
           _need("window_end", "date", "last day of the window (`days_after` the shock)",
                 "date"),
           MARKET, VENDOR,
           _need("origins", "list[string]", "origins of the account before the shock"),
           _need("last_seen", "date", "last day the account was seen on the closed market "
                 "(inside the window)", "date"),
           _need("market_to", "string", "market the vendor appeared on"),
           _need("vendor_to", "string", "account on `market_to`"),
           _col("origins_to", "list[string]", "origins of that account"),
           _need("first_seen_to", "date", "first day seen on `market_to` (inside the window)",
                 "date"),
           _need("gap_days", "integer", "`first_seen_to` - `last_seen` (negative when the "
                 "vendor was on both markets at once)", "days"),
           _need("days_after_shock", "integer", "`first_seen_to` - `shock_date`", "days"),
           _need("score", "float", "linker score (weighted evidence)", "0-1"),
           _col("handle_exact", "boolean", "same handle after normalisation"),
           _col("handle_similarity", "float", "handle similarity", "0-1"),
           _col("product_mix", "float", "similarity of product mixes", "0-1"),
           _col("ships_from", "float", "overlap of origins", "0-1"),
           _col("style", "float", "similarity of writing style", "0-1"),
           _need("evidence", "list[string]", "the evidence kinds above their minimum")),
    _table("migration_summary", A + "migration_summary.parquet", "analyse",
           "one shock and destination market",
           _need("shock", "string", "market event"),
           _need("shock_date", "date", "day of the shock", "date"),
           _need("window_start", "date", "first day of the shock's window", "date"),
           _need("window_end", "date", "last day of the shock's window", "date"),
           _need("market", "string", "market that closed"),
           _need("accounts_before", "integer", "accounts whose last activity on the closed "
                 "market falls in the window", "vendors"),
           _need("market_to", "string", "destination market"),
           _need("accounts_after", "integer", "accounts whose first activity on `market_to` "
                 "falls in the window", "vendors"),
           _need("linked", "integer", "accounts linked to one on `market_to`", "vendors"),
           _col("linked_exact_handle", "integer", "of those, with the same handle",
                "vendors"),
           _need("median_gap_days", "float", "median days between leaving the closed market "
                 "and appearing on `market_to`; empty when none linked", "days")),
    _table("substances", A + "substances.parquet", "analyse",
           "one substance from one origin (or `all`) on one market (or `all`) in one month, "
           "or over the whole period", MARKET, PERIOD, MONTH, ORIGIN,
           _need("substance", "string", "canonical substance name (conf/substances) that "
                 "`extract` found in the listing"),
           _need("category", "string", "the substance's taxonomy category"),
           _need("nps", "boolean", "the substance is a new psychoactive substance (`nps`)"),
           _need("listings", "integer", "distinct listings naming the substance", "listings"),
           _need("vendors", "integer", "vendor accounts of those listings", "vendors"),
           _need("origin_listings", "integer", "all distinct listings of the origin, market "
                 "and period: the n of `share`", "listings"),
           _need("share", "float", "`listings` / `origin_listings`", "0-1"),
           *_bounds("share"),
           _need("first_seen", "date", "first scrape day the substance was listed on the "
                 "market (on any market where `market` is `all`)", "date")),
    _table("analytics_quarantine", A + "listings.quarantine.parquet", "analyse",
           "one listing analyse cannot use", *CANONICAL, *MARKET_EXTRA, *CLASSIFIED,
           *EXTRACTED, REASON, open_columns=LISTING_EXTRA_NOTE),
)}

# --- stage 5: reviews and forum posts ------------------------------------------------------

RATING_LABEL = "negative, neutral or positive"
REVIEW_COLUMNS = (
    _col("review_id", "string", "review id, unique in the corpus"),
    _col("text", "string", "review text"),
    _col("rating", "string", "rating as given, on `rating_scale`"),
    _col("vendor", "string", "vendor reviewed"),
    _col("market", "string", "market slug"),
    _col("ships_from", "string", "vendor's origin"),
    _col("source", "string", "source name in `data.reviews.sources`"),
    _col("rating_scale", "string", "scale of `rating` (`reviews.rating_scales`: pm5, five, "
         "ten)"),
    _col("label", "string", f"training label from the rating ({RATING_LABEL}); weak"),
)
POST_COLUMNS = (
    _col("post_id", "string", "post id, unique in the corpus"),
    _col("text", "string", "post text"),
    _col("labels", "string", "human harm-reduction labels, `;`-joined (labelled posts only)"),
    _col("split", "string", "`train` or `test` for labelled posts"),
    _col("source", "string", "source name in `data.forums.sources`"),
    _col("text_sha", "string", "hash of the text: stored labels match only unchanged texts"),
)
SCORED_REVIEWS = (
    _col("rating_label", "string", f"the rating mapped on its scale ({RATING_LABEL})"),
    _col("sentiment", "string", f"the model's reading of the text ({RATING_LABEL})"),
    _col("sentiment_score", "float", "P(positive) - P(negative)", "-1..1"),
    _col("aspects", "list[string]", "topics the text mentions (non_delivery, scam, stealth, "
         "quality, ...)"),
)
SENTIMENT_SHARES = (
    _need("reviews", "integer", "reviews", "reviews"),
    _need("share_negative", "float", "share with `sentiment` negative", "0-1"),
    _need("share_positive", "float", "share with `sentiment` positive", "0-1"),
    _col("mean_score", "float", "mean `sentiment_score`", "-1..1"),
)
R = "data/processed/reviews_summary/"

CORPORA: dict[str, TableSpec] = {spec.name: spec for spec in (
    _table("reviews", "data/interim/reviews.parquet", "review-corpus",
           "one review", *REVIEW_COLUMNS),
    _table("reviews_quarantine", "data/interim/reviews.quarantine.parquet", "review-corpus",
           "one review set aside (duplicate, rating off its scale)", *REVIEW_COLUMNS, REASON),
    _table("reviews_scored", "data/processed/reviews_scored.parquet", "sentiment",
           "one review with its sentiment", *REVIEW_COLUMNS, *SCORED_REVIEWS),
    _table("reviews_scored_quarantine", "data/processed/reviews_scored.quarantine.parquet",
           "sentiment", "one review that could not be scored", *REVIEW_COLUMNS,
           SCORED_REVIEWS[0], REASON),
    _table("forum_posts", "data/interim/forum_posts.parquet", "forum-corpus", "one post",
           *POST_COLUMNS),
    _table("forum_posts_quarantine", "data/interim/forum_posts.quarantine.parquet",
           "forum-corpus", "one post set aside", *POST_COLUMNS, REASON),
    _table("forum_posts_scored", "data/processed/forum_posts_scored.parquet", "harm-reduction",
           "one post with its harm-reduction labels", *POST_COLUMNS,
           _col("hr_labels", "list[string]", "harm-reduction labels found (dosing, "
                "drug_checking, combinations, overdose_response, safer_use, "
                "addiction_support)"),
           _col("harm_reduction", "boolean", "any `hr_labels`"),
           _col("hr_evidence", "string", "lexicon matches per label (JSON)")),
    _table("forum_posts_scored_quarantine",
           "data/processed/forum_posts_scored.quarantine.parquet", "harm-reduction",
           "one post that could not be scored", *POST_COLUMNS, REASON),
)}

# `cryptodrug sentiment --summary-dir` -> data/processed/reviews_summary/
REVIEW_SUMMARIES: dict[str, TableSpec] = {spec.name: spec for spec in (
    _table("sentiment_by_vendor", R + "sentiment_by_vendor.parquet", "sentiment",
           "one vendor", _need("vendor", "string", "vendor handle"), *SENTIMENT_SHARES),
    _table("sentiment_by_country", R + "sentiment_by_country.parquet", "sentiment",
           "one origin", _need("ships_from", "string", "vendor's origin"), *SENTIMENT_SHARES),
    _table("negative_review_risks", R + "negative_review_risks.parquet", "sentiment",
           "one market", MARKET,
           _need("negative_reviews", "integer", "reviews read as negative", "reviews"),
           _need("share_non_delivery", "float", "of those, share about non-delivery", "0-1"),
           _need("share_scam", "float", "of those, share about scams", "0-1"),
           _need("share_non_delivery_or_scam", "float", "of those, share about either",
                 "0-1")),
)}

# `cryptodrug harm-reduction --summary`
FORUM_SUMMARY = _table(
    "forum_posts_summary", "data/processed/forum_posts_summary.parquet", "harm-reduction",
    "one harm-reduction label (and `any`)",
    _need("label", "string", "harm-reduction label"),
    _need("posts", "integer", "posts with the label", "posts"),
    _need("share", "float", "`posts` / `total_posts`", "0-1"),
    _need("total_posts", "integer", "posts scored", "posts"))

# --- stage 6: theme coding -----------------------------------------------------------------

SEGMENT_COLUMNS = (
    _need("segment_id", "string", "answer segment id, unique"),
    _col("respondent_id", "string", "respondent or interviewee id"),
    _need("source", "string", "`survey` or `interview`"),
    _col("question_id", "string", "question code (survey column or interviewer turn)"),
    _col("question", "string", "question text"),
    _need("text", "string", "the answer (Dutch, French or English)"),
    _col("document", "string", "document the segment belongs to"),
    _col("doc_start", "integer", "segment start in the document text", "characters"),
    _col("doc_end", "integer", "segment end in the document text", "characters"),
)
SEGMENTS = _table("segments", "data/interim/segments.parquet", "import-answers",
                  "one answer segment", *SEGMENT_COLUMNS)
THEMES = _table(
    "themes", "data/processed/themes.parquet", "code-themes",
    "one code assigned to one segment",
    _need("segment_id", "string", "answer segment coded"),
    _need("code", "string", "codebook code id (docs/contracts.md#codebook)"),
    _col("confidence", "float", "the coder's probability of the code", "0-1"),
    _need("lang", "string", "detected language of the segment (ISO 639-1)"),
    _col("start", "integer", "evidence span start in the segment text", "characters"),
    _col("end", "integer", "evidence span end in the segment text", "characters"),
    _col("evidence", "string", "the evidence span's text"),
    _col("needs_review", "boolean", "confidence near the threshold: check by hand"),
    _col("origin", "string", "`model`, `correction` (a coder's fix) or `inductive`"),
    _col("respondent_id", "string", "respondent or interviewee id"),
    _need("source", "string", "`survey` or `interview`"),
    _col("question_id", "string", "question code"),
    _col("text", "string", "the segment's text (the same as in the segments table)"),
)
INDUCTIVE_SUFFIX = ".inductive.json"  # next to the codes: candidate themes of `code-themes`
THEMES_QUARANTINE = _table(
    "themes_quarantine", "data/processed/themes.quarantine.parquet", "code-themes",
    "one segment not coded (empty, non-answer, other language)", *SEGMENT_COLUMNS,
    REASON, _col("lang", "string", "detected language"))
THEMES_REVIEW = _table(
    "themes_review", "data/processed/themes.review.parquet", "code-themes",
    "one segment and code near the decision threshold",
    _col("segment_id", "string", "answer segment"),
    _col("code", "string", "codebook code id"),
    _col("confidence", "float", "the coder's probability", "0-1"),
    _col("assigned", "boolean", "whether the code was assigned"))
THEMING: dict[str, TableSpec] = {spec.name: spec for spec in (
    SEGMENTS,
    _table("segment_documents", "data/interim/segments.documents.parquet", "import-answers",
           "one survey response or transcript as a whole",
           _col("document", "string", "document id"),
           _col("text", "string", "full text; segments point into it")),
    THEMES,
    THEMES_QUARANTINE,
    THEMES_REVIEW,
    replace(THEMES, name="themes_blind", file="themes_blind.parquet",
            path="data/processed/themes_blind.parquet",
            row="one code assigned to one segment of the blind evaluation set "
                "(data/blind/themes), scored by `evaluate-themes --blind-coded`"),
    replace(THEMES_QUARANTINE, name="themes_blind_quarantine",
            file="themes_blind.quarantine.parquet",
            path="data/processed/themes_blind.quarantine.parquet"),
    replace(THEMES_REVIEW, name="themes_blind_review", file="themes_blind.review.parquet",
            path="data/processed/themes_blind.review.parquet"),
)}


# --- monitoring: snapshots of a market over time (issue 18) --------------------------------

SNAP = "data/interim/snapshots/<market>/<date>"
# `cryptodrug ingest` of one dated snapshot: the ingest tables, one set per snapshot
SNAPSHOTS: dict[str, TableSpec] = {f"snapshot_{spec.name}": replace(
    spec, name=f"snapshot_{spec.name}", path=SNAP + spec.path.split("<market>", 1)[1],
    file="<date>" + spec.file.split("<market>", 1)[1],
    row=f"{spec.row}, in one dated snapshot (`<date>` = the snapshot's day)")
    for spec in INGEST.values()}
M = "data/processed/monitoring/"
SNAPSHOT_KEY = (
    MARKET,
    _need("snapshot", "string", "snapshot label: the stem of its ingested table (its date)"),
    _need("snapshot_date", "string", "the snapshot's day: the most common `scraped_at` of "
          "its rows", "date"),
)
PER_GRAM = (
    _need("listings_per_g", "integer", "listings with a price per gram: the n of "
          "`median_price_per_g_eur` (0 before `extract` ran on the snapshots)", "listings"),
    _need("median_price_per_g_eur", "float", "median price per gram; empty (no data) where "
          "`listings_per_g` is 0", "EUR/g"),
)
LISTING_KEY = _need("listing_id", "string", "listing id as matched across snapshots: ingest's "
                    "id, or a key of vendor and title with `--match vendor_title`")
# by file stem, as `cryptodrug monitor` names its outputs
MONITORING: dict[str, TableSpec] = {spec.file.removesuffix(".parquet"): spec for spec in (
    _table("lifecycles", M + "lifecycles.parquet", "monitor", "one listing of one market",
           MARKET, LISTING_KEY, VENDOR, _need("title", "string", "title in its last snapshot"),
           _need("first_seen", "string", "day of the first snapshot showing it", "date"),
           _need("last_seen", "string", "day of the last snapshot showing it", "date"),
           _need("snapshots", "integer", "snapshots showing it", "snapshots"),
           _need("first_price", "string", "price as shown in its first snapshot"),
           _need("last_price", "string", "price as shown in its last snapshot"),
           _need("price_changes", "integer", "times the shown price changed between "
                 "consecutive sightings", "changes"),
           _need("disappeared", "boolean", "absent from the market's last snapshot")),
    _table("prices", M + "prices.parquet", "monitor", "one listing in one snapshot",
           MARKET, LISTING_KEY, *SNAPSHOT_KEY[1:],
           _need("price_raw", "string", "price as shown"),
           _col("price_eur", "float", "price in EUR (snapshots that went through `extract`)",
                "EUR"),
           _col("price_per_g_eur", "float", "price per gram (after `extract`)", "EUR/g"),
           _col("category", "string", "drug category id (after `classify`)")),
    _table("monitor_vendors", M + "vendors.parquet", "monitor", "one vendor of one market",
           MARKET, VENDOR,
           _need("first_seen", "string", "day of the first snapshot with a listing", "date"),
           _need("last_seen", "string", "day of the last snapshot with a listing", "date"),
           _need("snapshots", "integer", "snapshots with a listing of the vendor",
                 "snapshots"),
           _need("listings_max", "integer", "most listings in one snapshot", "listings"),
           _need("new_entrant", "boolean", "absent from the market's first snapshot"),
           _need("exited", "boolean", "absent from the market's last snapshot"),
           _need("origin_first", "string", "ships-from in its first snapshot (`/`-joined "
                 "when several)"),
           _need("origin_last", "string", "ships-from in its last snapshot"),
           _need("moved", "boolean", "`origin_first` differs from `origin_last` (NL -> BE)"),
           file="vendors.parquet"),
    _table("series", M + "series.parquet", "monitor", "one snapshot of one market",
           *SNAPSHOT_KEY,
           _need("listings", "integer", "distinct listings", "listings"),
           _need("vendors", "integer", "distinct vendors", "vendors"),
           _need("belgian_vendors", "integer", "vendors with a listing shipping from Belgium",
                 "vendors"),
           *PER_GRAM),
    _table("category_prices", M + "category_prices.parquet", "monitor",
           "one drug category in one snapshot of one market (empty before `classify` and "
           "`extract` ran on the snapshots)", *SNAPSHOT_KEY,
           _need("category", "string", "drug category id"), *PER_GRAM),
    _table("changes", M + "changes.parquet", "monitor",
           "one change between the market's last two snapshots",
           _need("change", "string", "`listing_new`, `listing_gone`, `price_changed`, "
                 "`vendor_new`, `vendor_gone` or `vendor_moved`"),
           MARKET,
           _need("key", "string", "the listing id (listing changes) or vendor (vendor "
                 "changes)"),
           _need("before", "string", "price or ships-from in the earlier snapshot; empty "
                 "for a new one"),
           _need("after", "string", "price or ships-from in the later snapshot; empty for "
                 "a gone one")),
)}


def all_tables() -> dict[str, dict[str, TableSpec]]:
    """Every declared table, grouped by the part of the pipeline that writes it."""
    return {
        "Ingest": INGEST,
        "Classify and extract": LISTINGS,
        "Analyse": ANALYTICS,
        "Reviews and forum posts": {**CORPORA, **REVIEW_SUMMARIES,
                                    FORUM_SUMMARY.name: FORUM_SUMMARY},
        "Theme coding": THEMING,
        "Monitoring": {**SNAPSHOTS, **{s.name: s for s in MONITORING.values()}},
    }


def _path_pattern(spec: TableSpec) -> re.Pattern[str]:
    literal = re.sub(r"<(market|date)>", r"[^/.]+", re.escape(spec.path))
    return re.compile(rf"(^|/){literal}$")


def find_spec(path: str | Path) -> TableSpec | None:
    """The declaration of the table at `path`: by its dvc.yaml path, else by a file name
    only one table has; None for a table the dictionary does not know."""
    specs = [s for group in all_tables().values() for s in group.values()]
    posix = Path(path).resolve().as_posix() if Path(path).exists() else Path(path).as_posix()
    by_path = [s for s in specs if _path_pattern(s).search(posix)]
    if len(by_path) == 1:
        return by_path[0]
    by_name = [s for s in specs if s.file == Path(path).name]
    return by_name[0] if len(by_name) == 1 else None

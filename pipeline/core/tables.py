"""The tables stages hand to each other through files: name, file name, and the columns a
reader relies on. A stage that reads another's output checks these columns on load (one
clear error instead of a KeyError deep inside), and the writer can import the same names.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TableSpec:
    """One table: `file` inside its folder (or the default file name), required columns."""

    name: str
    file: str
    columns: frozenset[str]


def _spec(name: str, *columns: str, file: str | None = None) -> TableSpec:
    return TableSpec(name, file or f"{name}.parquet", frozenset(columns))


# `cryptodrug analyse` -> data/processed/analytics/ (+ summary.json)
ANALYTICS_SUMMARY = "summary.json"
ANALYTICS: dict[str, TableSpec] = {
    spec.name: spec
    for spec in (
        _spec("vendors", "market", "vendor", "countries", "multi_country", "listings",
              "top_category", "first_seen", "last_seen", "sales", "revenue_eur"),
        _spec("country_shares", "market", "month", "origin", "vendors", "listings",
              "revenue_eur", "listings_share", "vendors_share_known", "listings_share_known",
              "revenue_eur_share_known"),
        _spec("product_mix", "market", "origin", "category", "listings", "share",
              "market_share", "index"),
        _spec("destinations", "market", "origin", "kind", "destination", "listings", "share"),
        _spec("transactions", "origin", "value_eur", "n"),
        _spec("transaction_summary", "market", "origin", "sales", "median_eur",
              "share_sales_under_small", "share_revenue_wholesale"),
        _spec("multi_country", "market", "month", "pair", "vendors", "vendors_with_country",
              "multi_country_vendors"),
        _spec("migration_links", "shock", "market", "vendor", "origins", "market_to",
              "vendor_to", "score", "evidence"),
        _spec("migration_summary", "shock", "market_to", "linked", "accounts_before"),
    )
}

# `cryptodrug sentiment` summaries -> data/processed/reviews_summary/
REVIEW_SUMMARIES: dict[str, TableSpec] = {
    spec.name: spec
    for spec in (
        _spec("sentiment_by_vendor", "vendor", "reviews", "share_negative", "share_positive"),
        _spec("sentiment_by_country", "ships_from", "reviews", "share_negative",
              "share_positive"),
        _spec("negative_review_risks", "market", "negative_reviews", "share_non_delivery",
              "share_scam", "share_non_delivery_or_scam"),
    )
}

# `cryptodrug harm-reduction` summary, `code-themes` codes, `import-answers` segments
FORUM_SUMMARY = _spec("forum_posts_summary", "label", "posts", "share", "total_posts")
THEMES = _spec("themes", "segment_id", "code", "lang", "source")
INDUCTIVE_SUFFIX = ".inductive.json"  # next to the codes: candidate themes of `code-themes`
SEGMENTS = _spec("segments", "segment_id", "source", "text")

"""The canonical listing record (docs/contracts.md), validated at every stage boundary."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa

CANONICAL_COLUMNS = [
    "listing_id",
    "market",
    "scraped_at",
    "vendor",
    "title",
    "description",
    "price_raw",
    "currency_raw",
    "ships_from_raw",
    "ships_to_raw",
    "category_raw",
]
ISO_DATE = r"^\d{4}-\d{2}-\d{2}$"

LISTING_SCHEMA = pa.DataFrameSchema(
    {
        "listing_id": pa.Column(str, unique=True, nullable=False),
        "market": pa.Column(str, pa.Check.str_matches(r"^[a-z0-9_]+$"), nullable=False),
        "scraped_at": pa.Column(str, pa.Check.str_matches(ISO_DATE), nullable=False),
        "vendor": pa.Column(str, nullable=False),
        "title": pa.Column(str, pa.Check.str_length(min_value=1), nullable=False),
        "description": pa.Column(str, nullable=False),
        "price_raw": pa.Column(str, nullable=False),
        "currency_raw": pa.Column(str, nullable=False),
        "ships_from_raw": pa.Column(str, nullable=False),
        "ships_to_raw": pa.Column(str, nullable=False),
        "category_raw": pa.Column(str, nullable=False),
    },
    strict=False,  # extra columns are carried through untouched
    coerce=False,
)


def validate_listings(df: pd.DataFrame) -> pd.DataFrame:
    """Raise `pandera.errors.SchemaError` if `df` breaks the canonical contract."""
    return LISTING_SCHEMA.validate(df)


def require_listing_columns(df: pd.DataFrame, source: str) -> None:
    """A clear one-line error when a stage is handed something that is not listings."""
    from pipeline.core.io import require_columns

    require_columns(df, CANONICAL_COLUMNS, source, what="canonical listings")

"""Which listings extraction can read, and which results it cannot trust.

Rows are set aside with a reason instead of turning silently into empty fields: an id or
a text that is missing or not text, a scrape date that is not an ISO date (the price's
EUR value depends on it, and `03/04/2020` could be either month), and prices above a
ceiling (a misread number such as `1e23 EUR` would dominate every mean downstream)."""

from __future__ import annotations

import math
import re
from datetime import date

import pandas as pd

from pipeline.core.text import quarantinable

TEXT_COLUMNS = ("title", "description", "price_raw", "currency_raw", "ships_from_raw",
                "ships_to_raw", "category_raw")
DEFAULT_MAX_PRICE_EUR = 1e9
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _iso_day(value: object) -> str | None:
    """The ISO date of a scrape date cell (a string, or a date a JSON reader made of it)."""
    if isinstance(value, date):
        return value.isoformat()[:10]
    if isinstance(value, str) and _ISO_DATE.match(value.strip()):
        try:
            return date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            return None
    return None


def as_text(value: object) -> str | None:
    """A text cell as a string: missing is '', a number in `price_raw` is its digits
    (`45.0` -> '45', the amount in `currency_raw`); None for anything else (a list)."""
    if _missing(value):
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return f"{value:g}" if float(value).is_integer() else repr(float(value))
    return None


def split_extractable(listings: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(rows with text columns as strings and `scraped_at` as an ISO date, rows set aside
    with a `reason`). Numbers in a text column (a JSON `price_raw` of 45) become text."""
    df = listings.copy()
    reasons = pd.Series(None, index=df.index, dtype=object)

    def flag(failed: pd.Series, reason: str | pd.Series) -> None:
        # astype: a `map` over an empty column keeps the column's dtype (str, not bool)
        new = failed.astype(bool) & reasons.isna()
        reasons[new] = reason[new] if isinstance(reason, pd.Series) else reason

    ids = df["listing_id"]
    flag(~ids.map(lambda v: isinstance(v, str) and v.strip() != ""),
         "listing_id missing or not text")
    for column in (c for c in TEXT_COLUMNS if c in df.columns):
        texts = df[column].map(as_text)
        flag(texts.isna(), f"{column} is not text")
        df[column] = texts.fillna("")
    days = df["scraped_at"].map(_iso_day)
    flag(days.isna(), "scraped_at " + df["scraped_at"].astype(str).str[:40]
         + " is not an ISO date (YYYY-MM-DD)")
    df["scraped_at"] = days.fillna("")
    flag(df["title"].eq("") & df["price_raw"].eq(""), "no title and no price to read")
    bad = reasons.notna()
    aside = quarantinable(listings[bad], ["listing_id", *TEXT_COLUMNS, "scraped_at"])
    return df[~bad], aside.assign(reason=reasons[bad])


def price_problems(extracted: pd.DataFrame, max_price_eur: float) -> pd.Series:
    """Why each extracted price cannot be trusted (None where it can): not a finite
    number, or above `max_price_eur`."""
    reasons = pd.Series(None, index=extracted.index, dtype=object)
    amount = extracted["price_amount"].astype("float64")
    eur = extracted["price_eur"].astype("float64")
    infinite = amount.notna() & ~amount.map(math.isfinite)
    reasons[infinite] = "price amount is not a finite number"
    too_high = eur.notna() & (eur > max_price_eur) & reasons.isna()
    reasons[too_high] = [f"price of {v:.3g} EUR above the ceiling of {max_price_eur:g} EUR "
                         "(max_price_eur)" for v in eur[too_high]]
    return reasons

"""Helpers shared by the analytics: the columns analyse needs, origins, months."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from pipeline.core.io import require_columns
from pipeline.core.text import quarantinable

# what `classify` and `extract` add to canonical listings, and analyse relies on
REQUIRED_COLUMNS = ["listing_id", "market", "scraped_at", "vendor", "title",
                    "category", "ships_from", "price_eur"]
UNKNOWN = "unknown"
_ISO2 = re.compile(r"^[A-Z]{2}$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def require_analysable(listings: pd.DataFrame, source: str) -> None:
    """Analyse runs on classified and extracted listings: say so in one line if not."""
    require_columns(
        listings, REQUIRED_COLUMNS, source, what="listings",
        hint=" (run `cryptodrug classify` and `cryptodrug extract` first)",
    )


def _not_text(values: pd.Series) -> pd.Series:
    """True where a cell is missing, empty or not a string (a number, a list, a NaN)."""
    return ~values.map(lambda v: isinstance(v, str) and v.strip() != "")


def split_analysable(listings: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(rows the analytics can use, rows set aside with a `reason`): an id, market, title
    or scrape date that is missing or not text would otherwise drop out of a group-by
    silently or stop a sort with a traceback."""
    checks = [
        (_not_text(listings["listing_id"]), "listing_id missing or not text"),
        (_not_text(listings["market"]), "market missing or not text"),
        (_not_text(listings["title"]), "title missing or not text"),
        (~listings["scraped_at"].map(lambda v: bool(_ISO_DATE.match(str(v)))),
         "scraped_at is not an ISO date"),
        (~listings["vendor"].map(lambda v: v is None or isinstance(v, str)
                                 or (isinstance(v, float) and np.isnan(v))),
         "vendor is not text"),
    ]
    reasons = pd.Series(None, index=listings.index, dtype=object)
    for failed, reason in checks:
        reasons[failed & reasons.isna()] = reason
    bad = reasons.notna()
    aside = quarantinable(listings[bad], ["listing_id", "market", "title", "scraped_at", "vendor"])
    return listings[~bad], aside.assign(reason=reasons[bad])


def is_country(code: object) -> bool:
    """ISO 3166-1 alpha-2 codes are countries; lowercase names (`europe`) are regions."""
    return isinstance(code, str) and bool(_ISO2.match(code))


def prepare(listings: pd.DataFrame) -> pd.DataFrame:
    """The columns every analysis uses, in one normalised form: `origin` (ships-from or
    'unknown'), `month` (YYYY-MM of the scrape), top-level `category`, numeric prices."""
    df = listings.copy()
    df["origin"] = df["ships_from"].fillna("").astype(str).str.strip().replace("", UNKNOWN)
    df["month"] = df["scraped_at"].astype(str).str[:7]
    df["category"] = (
        df["category"].fillna("").astype(str).str.split("/").str[0].replace("", UNKNOWN)
    )
    df["price_eur"] = pd.to_numeric(df["price_eur"], errors="coerce")
    if "price_per_g_eur" in df.columns:
        df["price_per_g_eur"] = pd.to_numeric(df["price_per_g_eur"], errors="coerce")
    df["vendor"] = df["vendor"].fillna("").astype(str)
    return df


def as_day(values: pd.Series) -> pd.Series:
    """ISO dates or timestamps as midnight timestamps (their day); NaT where not a date."""
    return pd.to_datetime(values.astype("string").str[:10], errors="coerce")


def as_date(values: pd.Series) -> pd.Series:
    """ISO dates or timestamps as calendar dates (Parquet `date32`); missing stays missing."""
    parsed = as_day(values)
    return parsed.dt.date.where(parsed.notna(), None)


def as_list(value: object) -> list[str]:
    """List cells as Python lists: Parquet gives arrays, CSV gives JSON text, missing gives []."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            import json

            try:
                return [str(v) for v in json.loads(text)]
            except ValueError:
                return []
        return [text] if text else []
    return [str(v) for v in value]


def weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    """The median of values each counted `weights` times."""
    if len(values) == 0 or weights.sum() == 0:
        return float("nan")
    order = np.argsort(values, kind="stable")
    ordered, cum = values[order], np.cumsum(weights[order])
    half = cum[-1] / 2.0
    i = int(np.searchsorted(cum, half))
    if cum[i] == half and i + 1 < len(ordered):  # even total: mean of the two middle values
        return float((ordered[i] + ordered[i + 1]) / 2.0)
    return float(ordered[i])

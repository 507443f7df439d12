"""Prices: amount and currency from `price_raw` (or the text), offers tables, and the
conversion to EUR at the listing date.

Fiat goes through the ECB reference rates bundled with `CurrencyConverter`; BTC through
the dated table in data/rates (derived from ../shared/data/rates, see its README)."""

from __future__ import annotations

import bisect
import csv
import datetime as dt
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from spacy.tokens import Doc

from pipeline.core.config import PROJECT_ROOT
from pipeline.extract.vocab import NUMBER_RE, Vocabulary, parse_number

_NUM = re.compile(NUMBER_RE)
MAX_RATE_AGE_DAYS = 31


@dataclass
class Price:
    """One stated price; `values` holds both ends of a range."""

    values: list[float]
    currency: str | None
    start: int = 0
    end: int = 0


def read_prices(doc: Doc, matches: list[tuple[str, int, int]], vocab: Vocabulary) -> list[Price]:
    """Every PRICE match of a doc, in text order, overlapping matches resolved longest-first."""
    found: list[Price] = []
    taken: set[int] = set()
    spans = sorted((m for m in matches if m[0] == "PRICE"), key=lambda m: (m[1], m[1] - m[2]))
    for _, start, end in spans:
        if taken.intersection(range(start, end)):
            continue
        nums, currency = [], None
        for tok in doc[start:end]:
            if _NUM.match(tok.text):
                nums.append(parse_number(tok.text))
            elif tok.lower_ in vocab.currency_of:
                currency = vocab.currency_of[tok.lower_]
        if not nums or any(n is None or n < 0 for n in nums):
            continue
        found.append(Price(sorted(nums), currency, start, end))  # type: ignore[arg-type]
        taken.update(range(start, end))
    return found


def currency_code(raw: str, vocab: Vocabulary) -> str | None:
    """`currency_raw` as shown (`EUR`, `$`, `bitcoin`) -> ISO 4217 or a coin ticker."""
    raw = raw.strip().rstrip(".")  # "Fr.", "EUR."
    if not raw:
        return None
    return vocab.currency_of.get(raw.lower(), raw.upper() if re.fullmatch(r"[A-Za-z]{3}", raw)
                                 else None)


def price_from_raw(doc: Doc, matches: list[tuple[str, int, int]], currency_raw: str,
                   vocab: Vocabulary) -> Price | None:
    """The listing's own price field: the first stated price (a range keeps both ends),
    or a bare number in the separate currency."""
    prices = read_prices(doc, matches, vocab)
    default = currency_code(currency_raw, vocab)
    if prices:
        first = prices[0]
        if first.currency is None:
            first.currency = default
        return first
    for tok in doc:
        if _NUM.match(tok.text):
            value = parse_number(tok.text)
            if value is not None:
                return Price([value], default, tok.i, tok.i + 1)
    return None


class RateTable:
    """Converts an amount on a date to EUR. Missing rates give None, never an error."""

    def __init__(self, btc_table: str | Path) -> None:
        path = Path(btc_table)
        self.path = path if path.is_absolute() else PROJECT_ROOT / path

    @cached_property
    def _btc(self) -> tuple[list[dt.date], list[float]]:
        with self.path.open(encoding="utf-8") as fh:
            rows = [(dt.date.fromisoformat(r["date"]), float(r["btc_usd"]))
                    for r in csv.DictReader(fh)]
        rows.sort()
        return [d for d, _ in rows], [v for _, v in rows]

    @cached_property
    def _ecb(self):  # noqa: ANN202 - CurrencyConverter has no public type
        from currency_converter import CurrencyConverter

        return CurrencyConverter(fallback_on_missing_rate=True, fallback_on_wrong_date=True)

    def btc_usd(self, day: dt.date) -> float | None:
        dates, values = self._btc
        i = bisect.bisect_right(dates, day) - 1
        if i < 0 or (day - dates[i]).days > MAX_RATE_AGE_DAYS:
            return None
        return values[i]

    def to_eur(self, amount: float | None, currency: str | None, day: str) -> float | None:
        if amount is None or currency is None:
            return None
        try:
            date = dt.date.fromisoformat(str(day)[:10])
        except ValueError:
            return None
        if currency == "EUR":
            return amount
        if currency == "BTC":
            rate = self.btc_usd(date)
            if rate is None:
                return None
            amount, currency = amount * rate, "USD"
        ecb = self._ecb
        if currency not in ecb.currencies:
            return None
        value = ecb.convert(amount, currency, "EUR", date=date)
        return float(value) if value == value and abs(value) != float("inf") else None

"""Text helpers shared by every stage: accent stripping, unkeyed content hashes and keyed
pseudonyms.

Two kinds of digest, never to be confused:

- `content_key` / `content_keys` are *unkeyed*: anyone holding the same text computes the
  same key. They key stored labels to public texts and keep duplicates on one side of a
  split. Never feed them a vendor handle or a survey answer that is not already public.
- `keyed_digest` and `pseudonymise_handle` are *keyed* (HMAC-SHA256): without the key
  nobody can link a token back to a handle by trying candidates.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import unicodedata
from collections.abc import Iterable

import pandas as pd

from pipeline.core.io import InputError

VENDOR_KEY_ENV = "CRYPTODRUG_VENDOR_KEY"
MIN_KEY_LENGTH = 16
FIELD_SEPARATOR = "\x1f"


def strip_accents(text: str) -> str:
    """`text` without its combining marks ("cocaïne" -> "cocaine", "Überweisung" ->
    "Uberweisung"): how terms and texts are compared across spellings."""
    return "".join(c for c in unicodedata.normalize("NFKD", text)
                   if not unicodedata.combining(c))


def content_key(text: str, length: int = 16) -> str:
    """First `length` hex digits of the SHA-256 of `text`: the key a label is stored
    under instead of the text itself."""
    return hashlib.sha256(str(text).encode("utf-8")).hexdigest()[:length]


def content_keys(texts: pd.Series) -> pd.Series:
    """`content_key` of each case-folded text, so copies that differ only in case share a
    key (duplicates stay on one side of a train/test split)."""
    return texts.astype(str).str.casefold().map(content_key)


def fields_key(values: Iterable[object], length: int = 16) -> str:
    """`content_key` of several fields joined by an ASCII unit separator."""
    return content_key(FIELD_SEPARATOR.join("" if v is None else str(v) for v in values), length)


def quarantinable(rows: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """`rows` with every non-text value of `columns` (a number, a list) turned into its
    text, missing ones left missing, so a quarantine file of hostile rows still writes
    as Parquet (one type per column)."""
    def as_text(value: object) -> object:
        if value is None or isinstance(value, str) or (isinstance(value, float) and value != value):
            return value
        return str(value)

    present = [c for c in columns if c in rows.columns]
    return rows.assign(**{c: rows[c].map(as_text).astype(object) for c in present})


def keyed_digest(value: str, key: str, length: int = 16) -> str:
    """HMAC-SHA256 of `value` under `key`: stable for one key, unlinkable without it."""
    return hmac.new(key.encode("utf-8"), str(value).encode("utf-8"), hashlib.sha256).hexdigest()[
        :length
    ]


def normalise_handle(handle: str) -> str:
    """The form under which handles are compared across markets."""
    return re.sub(r"\s+", "", str(handle)).lower()


def pseudonymise_handle(handle: str, key: str) -> str:
    """Keyed, stable token: the same handle gives the same token on every market."""
    if not handle:
        return ""
    return f"v_{keyed_digest(normalise_handle(handle), key)}"


def check_key(key: str, source: str = f"${VENDOR_KEY_ENV}") -> str:
    """A pseudonymisation key, refused when it is too short to resist guessing."""
    if len(key.strip()) < MIN_KEY_LENGTH:
        raise InputError(
            f"{source} must hold at least {MIN_KEY_LENGTH} non-blank characters "
            f"(got {len(key.strip())})"
        )
    return key


def vendor_key_from_env() -> str:
    """The pseudonymisation key from `$CRYPTODRUG_VENDOR_KEY`, checked."""
    key = os.environ.get(VENDOR_KEY_ENV, "")
    if not key:
        raise InputError(f"pseudonymisation asked for but ${VENDOR_KEY_ENV} is not set")
    return check_key(key)

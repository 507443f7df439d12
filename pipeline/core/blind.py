"""Blind evaluation sets (data/blind/README.md): texts labelled by annotator A1 (the
writer), annotator A2 (blind to A1) and the resolved `gold`. One reader of their label
tables serves every stage that scores a model on them."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline.core.io import InputError

BLIND_CODERS = ("A1", "A2", "gold")


def labels_by_coder(labels: pd.DataFrame, key: str, value: str, path: Path, noun: str,
                    valid: Callable[[str], bool], rule: str,
                    known: pd.Series | None = None, known_in: str = "") -> pd.DataFrame:
    """Long labels (`key, coder, value`, coder and value already normalised) -> one row
    per `key` with a column per coder of `BLIND_CODERS` (NaN where a coder gave none).
    An unknown coder, a value `valid` refuses (`rule` says what is allowed), a `key`
    outside `known` (the ids of the texts file `known_in`) or a text labelled twice by
    one coder is an InputError naming the `noun` ("review", "post") it concerns."""
    problems = [
        (~labels["coder"].isin(BLIND_CODERS), f"coder must be one of {', '.join(BLIND_CODERS)}"),
        (~labels[value].map(valid), rule),
        *([(~labels[key].isin(known), f"{noun} not in {known_in}")]
          if known is not None else []),
        (labels.duplicated([key, "coder"]), "labelled twice by one coder"),
    ]
    for bad, why in problems:
        if bad.any():
            raise InputError(f"{path}: {noun} {labels.loc[bad, key].iloc[0]}: {why}")
    return labels.pivot(index=key, columns="coder", values=value).reindex(
        columns=list(BLIND_CODERS))


BLIND_LISTING_FIELDS = ("listing_id", "lang", "scraped_at", "title", "description", "price_raw",
                        "currency_raw", "ships_from_raw", "ships_to_raw", "category_raw")


def jsonl_rows(path: Path, required: tuple[str, ...]) -> list[dict[str, Any]]:
    """The objects of a JSONL file; a missing file, a line that is not a JSON object or an
    object without a required key is an InputError naming the line."""
    if not path.is_file():
        raise InputError(f"{path}: blind set file missing")
    rows = []
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as err:
                raise InputError(f"{path}:{number}: not JSON ({err.msg})") from None
            if not isinstance(row, dict):
                raise InputError(f"{path}:{number}: not a JSON object")
            missing = [k for k in required if k not in row]
            if missing:
                raise InputError(f"{path}:{number}: missing {', '.join(missing)}")
            rows.append(row)
    return rows


def load_blind_listings(folder: str | Path, fields: tuple[str, ...],
                        problem: Callable[[dict[str, Any]], str | None],
                        ) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """(listings, label rows) of a blind listing set: `listings.jsonl` (the public fields
    and `lang`) and `labels.jsonl` (one object per listing and coder with the label
    `fields` a stage scores). An unknown coder or listing, a listing labelled twice by one
    coder, or a row `problem` describes (wrong types) is an InputError naming the row.
    Nobody tuning a model reads these files: only the scores leave the caller."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: blind set folder missing")
    listings = pd.DataFrame(jsonl_rows(folder / "listings.jsonl", BLIND_LISTING_FIELDS))
    if listings.empty:
        raise InputError(f"{folder / 'listings.jsonl'}: no listings")
    listings["listing_id"] = listings["listing_id"].astype(str)
    twice = listings["listing_id"][listings["listing_id"].duplicated()]
    if len(twice):
        raise InputError(f"{folder / 'listings.jsonl'}: listing {twice.iloc[0]} appears twice")
    path = folder / "labels.jsonl"
    rows = jsonl_rows(path, ("listing_id", "coder", *fields))
    known, seen = set(listings["listing_id"]), set()
    for number, row in enumerate(rows, start=1):
        row["listing_id"] = str(row["listing_id"])
        key = (row["listing_id"], row["coder"])
        if row["coder"] not in BLIND_CODERS:
            why = f"coder {row['coder']!r} is not one of {', '.join(BLIND_CODERS)}"
        elif row["listing_id"] not in known:
            why = "listing not in listings.jsonl"
        else:
            why = "labelled twice by this coder" if key in seen else problem(row)
        if why:
            raise InputError(f"{path}: label {number} ({row['listing_id']}): {why}")
        seen.add(key)
    return listings, [{k: row[k] for k in ("listing_id", "coder", *fields)} for row in rows]

"""Output tables made flat for R and Stata (pure: frames in, frames and labels out).

The flattening rule, the same for CSV and Stata: a list of strings or numbers becomes its
values joined by `; ` (an empty list becomes empty text); a record or a list of records
becomes JSON text; booleans become 0/1 in Stata. Missing values stay missing (an empty cell
in CSV, `.` or empty text in Stata). Dates become Stata dates (`%td`).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import numpy as np
import pandas as pd

from pipeline.core.tables import TableSpec

LIST_SEPARATOR = "; "
STATA_LABEL_CHARS = 80  # Stata's limit for variable and data labels
STATA_STR_CHARS = 2045  # longer text goes into a strL
STATA_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,31}$")
# words Stata keeps for itself (its manual, [U] 11.3 Naming conventions)
STATA_RESERVED = frozenset(
    "aggregate array boolean break byte case catch class colvector complex const continue "  # noqa: SIM905
    "default delegate delete do double else eltypedef end enum explicit export external float "
    "for friend function global goto if inline int local long NULL pragma protected quad "
    "rowvector short typedef typename virtual _all _N _skip _b _pi str# in _pred strL _coef "
    "_rc using _cons _se with _n".split()
)


def _flat_value(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    if isinstance(value, list | tuple):
        if any(isinstance(v, dict | list | tuple | np.ndarray) for v in value):
            return json.dumps([_jsonable(v) for v in value], ensure_ascii=False, default=str)
        return LIST_SEPARATOR.join(str(v) for v in value)
    return value


def _jsonable(value: Any) -> Any:
    return value.tolist() if isinstance(value, np.ndarray) else value


def flatten(frame: pd.DataFrame) -> pd.DataFrame:
    """Lists and records as text (the module's rule); other columns unchanged."""
    flat = frame.copy()
    for column in flat.columns:
        values = flat[column]
        if (
            values.dtype == object
            and values.map(lambda v: isinstance(v, list | tuple | dict | np.ndarray)).any()
        ):
            flat[column] = values.map(_flat_value)
    return flat


def label(spec: TableSpec | None, column: str) -> str:
    """A column's label from the dictionary: its meaning, shortened to fit Stata's 80
    characters, and its unit."""
    field = spec.field(column) if spec else None
    if field is None:
        return ""
    unit = f" [{field.unit}]" if field.unit else ""
    text, room = field.meaning.replace("`", ""), STATA_LABEL_CHARS - len(unit)
    if len(text) > room:  # asides in brackets go first, so that "lower/upper bound" stays
        text = re.sub(r"\s*\([^)]*\)", "", text)
    return (text if len(text) <= room else text[: room - 3] + "...") + unit


def stata_name(column: str) -> str:
    """A valid Stata variable name: reserved words and odd names get a `_` prefix and their
    other characters replaced, cut to 32 characters."""
    if STATA_NAME.match(column) and column not in STATA_RESERVED:
        return column
    return ("_" + re.sub(r"[^A-Za-z0-9_]", "_", column))[:32]


def stata_frame(frame: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str], list[str]]:
    """The flat frame in types Stata stores: (frame, `convert_dates`, strL columns).
    Booleans become 0/1, nullable integers floats where missing, dates `%td`, text
    without missing values (Stata's missing text is empty)."""
    data = flatten(frame)
    dates: dict[str, str] = {}
    strl: list[str] = []
    for column in data.columns:
        values = data[column]
        if pd.api.types.is_bool_dtype(values):
            data[column] = values.astype("int8")
        elif pd.api.types.is_datetime64_any_dtype(values):
            data[column] = values.dt.tz_localize(None) if values.dt.tz else values
            dates[column] = "td"
        elif values.dtype == object and values.map(lambda v: isinstance(v, dt.date)).any():
            data[column] = pd.to_datetime(values)
            dates[column] = "td"
        elif pd.api.types.is_extension_array_dtype(values) and pd.api.types.is_numeric_dtype(
            values
        ):
            data[column] = values.astype("float64")
        elif not pd.api.types.is_numeric_dtype(values):
            text = values.map(
                lambda v: (
                    ""
                    if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v))
                    else str(v)
                )
            )
            data[column] = text
            if text.str.len().max() > STATA_STR_CHARS:
                strl.append(column)
    return data, dates, strl

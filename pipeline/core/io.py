"""Reading and writing tables by extension, and the quarantine convention of SPEC section 1.

Every command reads `.csv`, `.jsonl` or `.parquet` and writes the same. Rows a stage
cannot use are never dropped: they go to `<OUT stem>.quarantine.<ext>` with a `reason`
column, and the counts in = out + quarantined are printed and checked.

JSON Lines has no header, so a table without rows is an empty `.jsonl` file and reads
back as a frame without columns: a command that needs columns refuses it with a one-line
error. Write `.parquet` (or `.csv`) where an empty table must keep its columns.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from rich.console import Console

SUPPORTED_EXTENSIONS = (".csv", ".jsonl", ".parquet")
QUARANTINE_INFIX = ".quarantine"

console = Console(stderr=True, soft_wrap=True)


class InputError(Exception):
    """Unusable input: the CLI prints the message as one line and exits non-zero."""


def _extension(path: Path) -> str:
    ext = path.suffix.lower()
    if ext not in SUPPORTED_EXTENSIONS:
        raise InputError(f"{path}: unsupported file type {ext!r} (use .csv, .jsonl or .parquet)")
    return ext


def table_files(path: Path) -> list[Path]:
    """The data files a path stands for: the file itself, or a folder's main tables,
    sorted so that concatenation is deterministic. Companion tables (`x.quarantine.parquet`,
    `x.feedback.parquet`: a dot in the stem) are not main tables and are left out."""
    path = Path(path)
    if path.is_dir():
        files = sorted(
            p
            for p in path.iterdir()
            if p.suffix.lower() in SUPPORTED_EXTENSIONS and "." not in p.stem
        )
        if not files:
            raise InputError(f"{path}: folder holds no .csv, .jsonl or .parquet table")
        return files
    if not path.exists():
        raise InputError(f"{path}: no such file")
    return [path]


def read_table(path: str | Path) -> pd.DataFrame:
    """Read one table, or every table in a folder concatenated."""
    frames = [_read_one(p) for p in table_files(Path(path))]
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def require_columns(
    frame: pd.DataFrame, required: Iterable[str], source: object, what: str = "", hint: str = ""
) -> None:
    """A one-line error naming the input and every column a stage needs but did not get."""
    missing = sorted(set(required) - set(frame.columns))
    if missing:
        table = f"{what} table " if what else ""
        raise InputError(f"{source}: {table}lacks columns {', '.join(missing)}{hint}")


def read_table_with_columns(path: str | Path, required: Iterable[str], what: str) -> pd.DataFrame:
    """`read_table`, with a one-line error when the table lacks a column the stage needs."""
    frame = read_table(path)
    require_columns(frame, required, path, what)
    return frame


def _read_one(path: Path) -> pd.DataFrame:
    ext = _extension(path)
    try:
        if ext == ".parquet":
            return pd.read_parquet(path)
        if ext == ".jsonl":
            text = path.read_text(encoding="utf-8-sig")
            check_json_lines(path, text)
            return pd.read_json(io.StringIO(text), lines=True, dtype=False)
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError as err:
        raise InputError(f"{path}: empty file") from err
    except (ValueError, OSError, UnicodeDecodeError) as err:
        raise InputError(f"{path}: cannot read: {first_line(err)}") from err


def first_line(err: Exception) -> str:
    """An exception's first message line (its type name when it has none), so a wrapped
    library error still fits the one-line InputError."""
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def check_json_lines(path: object, text: str) -> None:
    """Every non-blank line of a JSON Lines table holds an object (a row): pandas crashes on
    `null` or `1.5` after an object, and reads a file of `[1, 2]` lines as numbered columns.
    The first character decides in one linear pass; pandas still parses each object."""
    for number, line in enumerate(text.split("\n"), start=1):
        stripped = line.strip()
        if stripped and not stripped.startswith("{"):
            raise InputError(f"{path}: line {number} is not a JSON object: {stripped[:40]!r}")


def _jsonable(value: object) -> object:
    if hasattr(value, "tolist"):
        return value.tolist()
    return value


def write_table(df: pd.DataFrame, path: str | Path, schema: pa.Schema | None = None) -> Path:
    """Write a table by extension; list and dict cells become JSON text in CSV. A Parquet
    `schema`, when given, fixes the column types (see `core.tables.empty_table_schema`).
    CSV rows end in CRLF (RFC 4180), so that a cell holding a lone carriage return is
    quoted rather than read back as a line break; a table without rows is an empty
    `.jsonl` file (see the module docstring)."""
    path = Path(path)
    ext = _extension(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if ext == ".parquet" and schema is not None:
        table = schema.empty_table() if df.empty else pa.Table.from_pandas(
            df, schema=schema, preserve_index=False)
        pq.write_table(table, path)
    elif ext == ".parquet":
        df.to_parquet(path, index=False)
    elif ext == ".jsonl" and not len(df):
        path.write_bytes(b"")
    elif ext == ".jsonl":
        df.to_json(path, orient="records", lines=True, force_ascii=False, date_format="iso")
    else:
        flat = df.copy()
        for column in flat.columns:
            if flat[column].map(lambda v: isinstance(v, list | dict) or hasattr(v, "tolist")).any():
                flat[column] = flat[column].map(lambda v: json.dumps(_jsonable(v), default=str))
        flat.to_csv(path, index=False, lineterminator="\r\n")
    return path


def quarantine_path(out: str | Path) -> Path:
    """`OUT` stem + `.quarantine.<ext>`, next to `OUT` (docs/contracts.md#command-line)."""
    out = Path(out)
    return out.with_name(f"{out.stem}{QUARANTINE_INFIX}{out.suffix}")


def side_output_path(out: str | Path, name: str) -> Path:
    """A companion table next to `OUT`, e.g. `listings.feedback.parquet`."""
    out = Path(out)
    return out.with_name(f"{out.stem}.{name}{out.suffix}")


def quarantine_frame(
    rows: Iterable[dict] | pd.DataFrame, reason: str | None = None
) -> pd.DataFrame:
    """Rows set aside, each with a non-empty `reason`."""
    frame = pd.DataFrame(rows).copy() if not isinstance(rows, pd.DataFrame) else rows.copy()
    if reason is not None:
        frame["reason"] = reason
    if "reason" not in frame.columns:
        frame["reason"] = pd.Series(dtype=str)
    return frame


def write_with_quarantine(
    kept: pd.DataFrame,
    quarantined: pd.DataFrame,
    out: str | Path,
    rows_in: int,
    label: str = "rows",
) -> dict[str, int]:
    """Write `OUT` and its quarantine file, print the counts and check in = out + quarantined."""
    if len(kept) + len(quarantined) != rows_in:
        raise AssertionError(
            f"row accounting broken: {rows_in} in != "
            f"{len(kept)} out + {len(quarantined)} quarantined"
        )
    if len(quarantined) and quarantined["reason"].fillna("").eq("").any():
        raise AssertionError("every quarantined row needs a reason")
    write_table(kept, out)
    write_table(quarantined, quarantine_path(out))
    counts = {"rows_in": rows_in, "rows_out": len(kept), "rows_quarantined": len(quarantined)}
    console.print(
        f"{label}: {rows_in} in, {len(kept)} out, {len(quarantined)} quarantined -> {out}"
    )
    return counts

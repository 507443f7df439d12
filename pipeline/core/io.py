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
from uuid import uuid4

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
    """Read one table, every table in a folder concatenated, or a partitioned dataset."""
    if Path(path).is_dir() and is_dataset(path):
        return read_dataset(path)
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
    check_accounting(rows_in, kept, quarantined)
    write_table(kept, out)
    write_table(quarantined, quarantine_path(out))
    counts = {"rows_in": rows_in, "rows_out": len(kept), "rows_quarantined": len(quarantined)}
    console.print(
        f"{label}: {rows_in} in, {len(kept)} out, {len(quarantined)} quarantined -> {out}"
    )
    return counts


def check_accounting(rows_in: int, kept: pd.DataFrame | int,
                     quarantined: pd.DataFrame | int) -> None:
    """in = out + quarantined, and every quarantined row has a reason."""
    n_kept = kept if isinstance(kept, int) else len(kept)
    n_quarantined = quarantined if isinstance(quarantined, int) else len(quarantined)
    if n_kept + n_quarantined != rows_in:
        raise AssertionError(f"row accounting broken: {rows_in} in != {n_kept} out + "
                             f"{n_quarantined} quarantined")
    if isinstance(quarantined, pd.DataFrame) and len(quarantined) and (
            "reason" not in quarantined or quarantined["reason"].fillna("").eq("").any()):
        raise AssertionError("every quarantined row needs a reason")


# --- partitioned datasets ------------------------------------------------------------------
# An `OUT` without a file extension, or an `IN` folder of `key=value` subfolders, is a Parquet
# dataset in hive layout (`market=agora/scraped_at=2014-01-16/part-0.parquet`): per-row stages
# read and write it one partition at a time, so memory depends on the partition, not the
# corpus. Partition columns stay inside the files too, so a partition reads back whole.

PARTITION_FILE = "part-0.parquet"
UNKNOWN_PARTITION = "unknown"


def is_dataset(path: str | Path) -> bool:
    """Whether `path` names a partitioned dataset: an output path without an extension, or
    an existing folder holding `key=value` partition folders (a folder of plain tables, as
    ingest writes per market, is not one)."""
    path = Path(path)
    if path.is_dir():
        entries = list(path.iterdir())
        return not entries or any(p.is_dir() and "=" in p.name for p in entries)
    return path.suffix == "" and not path.exists()


def partition_value(value: object) -> str:
    """A cell as a folder-safe partition value: a day for dates, `unknown` when empty;
    characters other than letters, digits, `-`, `_` and `.` are percent-encoded."""
    from urllib.parse import quote

    text = "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)
    return quote(text[:10] if text[:4].isdigit() and text[4:5] == "-" else text, safe="-_.") \
        or UNKNOWN_PARTITION


def dataset_partitions(root: str | Path) -> list[str]:
    """The partitions of a dataset, as paths relative to its root (`market=a/scraped_at=d`),
    sorted: the leaf folders that hold Parquet files."""
    root = Path(root)
    if not root.is_dir():
        raise InputError(f"{root}: no such dataset folder")
    leaves = sorted({p.parent.relative_to(root).as_posix() for p in root.rglob("*.parquet")
                     if not any(part.startswith((".", "_")) for part in p.relative_to(root).parts)})
    if not leaves:
        raise InputError(f"{root}: dataset holds no Parquet partition")
    return leaves


def partition_files(root: str | Path, partition: str) -> list[Path]:
    """A partition's Parquet files in name order (ingest writes one per input file)."""
    return sorted(p for p in (Path(root) / partition).glob("*.parquet")
                  if not p.name.startswith((".", "_")))


def read_partition(root: str | Path, partition: str,
                   columns: list[str] | None = None) -> pd.DataFrame:
    """One partition as a frame, its files concatenated in name order."""
    frames = []
    for file in partition_files(root, partition):
        try:
            frames.append(pd.read_parquet(file, columns=columns))
        except (ValueError, OSError) as err:
            raise InputError(f"{file}: cannot read: {first_line(err)}") from err
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def read_dataset(root: str | Path, columns: list[str] | None = None) -> pd.DataFrame:
    """A whole dataset in partition order, for the commands that need every row at once."""
    frames = [read_partition(root, p, columns) for p in dataset_partitions(root)]
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def write_partition(df: pd.DataFrame, root: str | Path, partition: str,
                    name: str = PARTITION_FILE, sort_key: Iterable[str] = ()) -> Path:
    """Write one partition file atomically (a temporary name, then a rename), rows in
    `sort_key` order (stable), so that a task re-run after a lost worker, or another
    engine, leaves the same bytes."""
    keys = [k for k in sort_key if k in df.columns]
    if keys and len(df):
        df = df.sort_values(keys, kind="stable").reset_index(drop=True)
    path = Path(root) / partition / name
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid4().hex}.tmp")
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), tmp)
    tmp.replace(path)
    return path


def partition_of(keys: dict[str, object]) -> str:
    """The relative folder of one partition, from its key values in order."""
    return "/".join(f"{k}={partition_value(v)}" for k, v in keys.items())


def split_by_partition(df: pd.DataFrame, keys: list[str]) -> dict[str, pd.DataFrame]:
    """Rows grouped by the partition their `keys` values give (`unknown` for missing
    columns or empty values), keeping row order inside each group."""
    folders = pd.Series("", index=df.index, dtype=object)
    for number, key in enumerate(keys):
        column = df[key] if key in df.columns else pd.Series("", index=df.index)
        values = column.astype(object).where(column.notna(), "")
        encoded = {v: partition_value(v) for v in pd.unique(values)}
        folders = folders + ("/" if number else "") + f"{key}=" + values.map(encoded)
    return {folder: df[folders == folder] for folder in sorted(pd.unique(folders))}


def clear_dataset(root: str | Path, partition_prefix: str = "") -> None:
    """Remove a dataset's partitions (or those under `partition_prefix`) before a run writes
    it, so no partition of an earlier run survives."""
    import shutil

    target = Path(root) / partition_prefix
    if target.exists():
        shutil.rmtree(target)


def require_datasets(inp: str | Path, out: str | Path) -> None:
    """A per-row stage writing a dataset OUT reads a dataset IN: a one-line error otherwise
    (a dataset IN with a file OUT is read whole, as a folder of tables is)."""
    if not (Path(inp).is_dir() and is_dataset(inp)):
        raise InputError(f"{inp}: not a partitioned dataset (OUT {out} is a dataset folder; "
                         "give a dataset IN, e.g. `cryptodrug ingest ... -o FOLDER`)")

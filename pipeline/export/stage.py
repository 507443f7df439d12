"""IO layer of the export stage: tables to CSV (for R) or Stata files with their labels, and
the generated data dictionary."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipeline.core.io import InputError, console, read_table, table_files
from pipeline.core.tables import all_tables, find_spec
from pipeline.export.dictionary import dictionary_markdown
from pipeline.export.tables import flatten, label, stata_frame, stata_name

FORMATS = ("csv", "dta")
CODEBOOK = "codebook.csv"


def run_data_dictionary(out: Path, check: bool) -> bool:
    """Write the dictionary to `out`; with `check`, only report whether `out` is current.
    Returns whether the file was (already) current."""
    text = dictionary_markdown(all_tables())
    current = out.exists() and out.read_text(encoding="utf-8") == text
    if check:
        console.print(f"{out}: {'current' if current else 'stale: run cryptodrug data-dictionary'}")
        return current
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    console.print(f"data dictionary -> {out}")
    return True


def _write_dta(frame: pd.DataFrame, path: Path, names: dict[str, str],
               labels: dict[str, str], data_label: str) -> None:
    data, dates, strl = stata_frame(frame.rename(columns=names))
    data.to_stata(path, write_index=False, version=118, convert_dates=dates,
                  convert_strl=strl, data_label=data_label[:80],
                  variable_labels={names.get(c, c): t for c, t in labels.items() if t})


def run_export(inputs: list[Path], out_dir: Path, fmt: str) -> list[Path]:
    """Each input table (a file, or a folder's main tables) to `out_dir/<stem>.<fmt>`, plus
    `codebook.csv`: table, column, exported name, type, unit and label of every column."""
    if fmt not in FORMATS:
        raise InputError(f"unknown export format {fmt!r} (use {' or '.join(FORMATS)})")
    files = [f for path in inputs for f in table_files(path)]
    stems = [f.stem.replace(".", "_") for f in files]
    clash = sorted({s for s in stems if stems.count(s) > 1})
    if clash:
        raise InputError(f"two inputs export as {clash[0]!r}: export them into separate folders")
    out_dir.mkdir(parents=True, exist_ok=True)
    written, book = [], []
    for path, stem in zip(files, stems, strict=True):
        frame = read_table(path)
        spec = find_spec(path)
        names = {c: stata_name(c) for c in frame.columns} if fmt == "dta" else {}
        labels = {c: label(spec, c) for c in frame.columns}
        target = out_dir / f"{stem}.{fmt}"
        if fmt == "dta":
            _write_dta(frame, target, names, labels, spec.row if spec else stem)
        else:
            flatten(frame).to_csv(target, index=False, date_format="%Y-%m-%d")
        for column in frame.columns:
            field = spec.field(column) if spec else None
            book.append({"table": stem, "column": column, "exported_as": names.get(column, column),
                         "type": field.type if field else "", "unit": field.unit if field else "",
                         "label": labels[column]})
        console.print(f"export: {path} ({len(frame)} rows) -> {target}")
        written.append(target)
    pd.DataFrame(book, columns=["table", "column", "exported_as", "type", "unit", "label"]
                 ).to_csv(out_dir / CODEBOOK, index=False)
    return [*written, out_dir / CODEBOOK]

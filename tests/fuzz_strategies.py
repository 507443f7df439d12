"""Hypothesis strategies for hostile inputs to every `cryptodrug` command (tests/test_fuzz.py,
scripts/bench_fuzz.py).

A hostile input is built in two layers: a table of hostile cells (control characters, NUL,
markup, number look-alikes, huge lines, mixed scripts), written as CSV, JSONL or Parquet
with the table's shape possibly broken (a missing or duplicated column), and then the file's
bytes possibly broken (truncated, NUL bytes, another encoding, ragged rows, an empty file).
HTML pages start from the invented sample pages and are broken the same way, or nested
deeply, or given script tags.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from hypothesis import strategies as st

from pipeline.core.config import PROJECT_ROOT
from pipeline.core.schema import CANONICAL_COLUMNS

SAMPLE = PROJECT_ROOT / "data" / "sample"

# Cells that broke parsers somewhere once: number and null look-alikes, spreadsheet
# formulas, markup, separators, invisible and right-to-left characters, market notation.
NASTY_CELLS = [
    "", " ", "nan", "NaN", "None", "null", "NULL", "N/A", "NA", "-", "0", "-0", "1e309", "inf",
    "\x00", "\ufeff", "\u202e", "\u200b", "=cmd|' /C calc'!A0", "<script>alert(1)</script>",
    "</div><div class='oTitle'>", "a\nb", "a\r\nb", "\r", '"', "'", ",", ";", "\t", "\\",
    "💊💊💊", "ｃｏｃａｉｎｅ １ｇ", "1,5g", "1.000 stuks", "€", "฿0.02577", "$50.96",
    "45-19250 EUR / from 3 EUR for 1gr", "2018-11-18", "1900-01-01", "9999-99-99",
    "Stimulants > Cocaine", " > > ", "{\"a\": [1, 2]}", "[]",
]

SEPARATOR = "\x1f"  # marks where a byte mutation may cut or insert


def huge_text(max_chars: int) -> st.SearchStrategy[str]:
    """One long line of repeated words: the size that exposes quadratic passes."""
    return st.integers(1_000, max_chars).map(lambda n: ("cocaine 1g €50 " * (n // 15 + 1))[:n])


def cells(max_chars: int = 20_000) -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(NASTY_CELLS),
        st.text(max_size=30),
        st.text(st.characters(max_codepoint=0x7F), max_size=30),
        huge_text(max_chars),
    )


def json_values(max_chars: int = 20_000) -> st.SearchStrategy[Any]:
    """What a JSONL cell may hold besides text: numbers, nulls, lists and objects."""
    scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                        cells(max_chars))
    return st.one_of(
        cells(max_chars), scalars,
        st.lists(scalars, max_size=3), st.dictionaries(st.text(max_size=5), scalars, max_size=2),
    )


@st.composite
def hostile_table(
    draw: st.DrawFn,
    columns: list[str],
    id_column: str | None = None,
    max_rows: int = 8,
    max_chars: int = 20_000,
) -> dict[str, Any]:
    """A table of hostile cells, as header + rows (header may repeat or lack a column).

    With `id_column`, ids are mostly distinct but may repeat or be empty."""
    header = list(columns)
    shape = draw(st.sampled_from(["ok", "ok", "ok", "drop", "duplicate", "extra"]))
    if shape == "drop" and header:
        header.pop(draw(st.integers(0, len(header) - 1)))
    elif shape == "duplicate" and header:
        header.append(draw(st.sampled_from(header)))
    elif shape == "extra":
        header.append(draw(st.sampled_from(["reason", "category", "Unnamed: 0", "", "ÿ"])))
    n = draw(st.integers(0, max_rows))
    rows = []
    for i in range(n):
        row = [draw(cells(max_chars)) for _ in header]
        if id_column in header:
            row[header.index(id_column)] = draw(
                st.sampled_from([f"id{i}", f"id{i}", f"id{i}", "id0", "", "nan"]))
        rows.append(row)
    return {"header": header, "rows": rows}


def csv_bytes(table: dict[str, Any]) -> bytes:
    """RFC 4180 text: a lone carriage return ends a line unless quoted, which the csv module
    only does by itself for the characters of its line terminator."""
    lone_cr = any("\r" in cell for row in table["rows"] for cell in row)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n",
                        quoting=csv.QUOTE_ALL if lone_cr else csv.QUOTE_MINIMAL)
    writer.writerow(table["header"])
    writer.writerows(table["rows"])
    return buffer.getvalue().encode("utf-8")


def jsonl_bytes(table: dict[str, Any], values: list[Any] | None = None) -> bytes:
    """One object a line (a duplicated key keeps its last value, as JSON parsers do)."""
    lines = [json.dumps(dict(zip(table["header"], row, strict=True)), ensure_ascii=False)
             for row in table["rows"]]
    if values:
        lines += [json.dumps(v, ensure_ascii=False) for v in values]
    return ("\n".join(lines) + ("\n" if lines else "")).encode("utf-8")


def parquet_bytes(table: dict[str, Any]) -> bytes:
    header = list(dict.fromkeys(table["header"]))
    rows = [dict(zip(table["header"], row, strict=True)) for row in table["rows"]]
    buffer = io.BytesIO()
    pd.DataFrame(rows, columns=header).astype(str).to_parquet(buffer, index=False)
    return buffer.getvalue()


# --- byte-level breakage --------------------------------------------------------------------


MUTATIONS = ["none", "none", "none", "truncate", "nul", "utf16", "latin1", "bom", "ragged",
             "duplicate_header", "header_only", "empty", "crlf", "huge_line"]


@st.composite
def mutated(draw: st.DrawFn, content: bytes, allowed: list[str] | None = None) -> tuple[str, bytes]:
    """`content` broken in one of the ways real exports and saved pages are broken."""
    kind = draw(st.sampled_from(allowed or MUTATIONS))
    lines = content.split(b"\n")
    at = draw(st.integers(0, max(len(content) - 1, 0)))
    if kind == "truncate":
        return kind, content[:at]
    if kind == "nul":
        return kind, content[:at] + b"\x00" * draw(st.integers(1, 5)) + content[at:]
    if kind == "utf16":
        return kind, content.decode("utf-8", "replace").encode("utf-16")
    if kind == "latin1":
        return kind, content.decode("utf-8", "replace").encode("latin-1", "replace")
    if kind == "bom":
        return kind, b"\xef\xbb\xbf" + content
    if kind == "ragged" and len(lines) > 1:
        i = draw(st.integers(1, len(lines) - 1))
        longer = draw(st.booleans())
        lines[i] = lines[i] + b',"extra",,' if longer else lines[i][: len(lines[i]) // 2]
        return kind, b"\n".join(lines)
    if kind == "duplicate_header":
        return kind, b"\n".join([lines[0], *lines])
    if kind == "header_only":
        return kind, lines[0] + b"\n"
    if kind == "empty":
        return kind, draw(st.sampled_from([b"", b"\n", b"   \n\n", b"\xef\xbb\xbf"]))
    if kind == "crlf":
        return kind, content.replace(b"\n", b"\r\n")
    if kind == "huge_line":
        return kind, content + b"x" * draw(st.integers(10_000, 200_000)) + b"\n"
    return "none", content


@st.composite
def hostile_file(
    draw: st.DrawFn, columns: list[str], id_column: str | None = None,
    formats: tuple[str, ...] = ("csv", "jsonl", "parquet"), max_rows: int = 8,
    max_chars: int = 20_000,
) -> dict[str, Any]:
    """A table file for a command: `suffix`, `data` (bytes), `rows` (the row count where the
    file is intact, else None) and a `label` saying what broke."""
    table = draw(hostile_table(columns, id_column, max_rows, max_chars))
    fmt = draw(st.sampled_from(formats))
    extra = []
    if fmt == "csv":
        content = csv_bytes(table)
    elif fmt == "jsonl":
        extra = draw(st.lists(json_values(max_chars), max_size=2)) if draw(st.booleans()) else []
        content = jsonl_bytes(table, extra)
    else:
        content = parquet_bytes(table)
    allowed = ["none", "none", "truncate", "empty"] if fmt == "parquet" else None
    kind, data = draw(mutated(content, allowed))
    intact = kind in ("none", "crlf") and not extra
    return {"suffix": f".{fmt}", "data": data, "rows": len(table["rows"]) if intact else None,
            "label": f"{fmt}/{kind}/{len(table['rows'])} rows/header={table['header']}"}


# --- HTML pages -----------------------------------------------------------------------------


def sample_pages(market: str) -> list[Path]:
    return sorted(p for p in (SAMPLE / "markets" / market).iterdir() if p.is_file())


HTML_BREAKAGE = ["none", "deep_nesting", "script", "unclosed", "random_tags", "swap_text"]


@st.composite
def hostile_page(draw: st.DrawFn, market: str, max_chars: int = 20_000) -> dict[str, Any]:
    """A saved page of `market`: a sample page broken in its markup, then in its bytes."""
    page = draw(st.sampled_from(sample_pages(market)))
    html = page.read_text(encoding="utf-8")
    kind = draw(st.sampled_from(HTML_BREAKAGE))
    if kind == "deep_nesting":
        depth = draw(st.integers(100, 5_000))
        html = html.replace("<body>", "<body>" + "<div>" * depth, 1) if "<body>" in html \
            else "<div>" * depth + html
    elif kind == "script":
        html = html.replace("</head>", "<script>document.write('<div class=\"oTitle\">')"
                            "</script><style>*{}</style></head>", 1)
        html = html.replace("<a ", "<a onclick=\"alert('</a>')\" ", 1)
    elif kind == "unclosed":
        html = html.replace("</div>", "", draw(st.integers(1, 20)))
    elif kind == "random_tags":
        tag = draw(st.sampled_from([
            "<td>", "<table>", "</tr>", "<label>", "<!--", "<![CDATA[", "&#0;", "&#xD800;",
            "<div class='oTitle'><a href='?offer=1'>",
        ]))
        at = draw(st.integers(0, len(html)))
        html = html[:at] + tag * draw(st.integers(1, 50)) + html[at:]
    elif kind == "swap_text":
        text = draw(cells(max_chars))
        html = html.replace(">", ">" + text, draw(st.integers(1, 5)))
    mutation, data = draw(mutated(html.encode("utf-8"),
                                  ["none", "none", "truncate", "nul", "utf16", "latin1", "bom",
                                   "empty", "huge_line"]))
    return {"name": page.name, "data": data, "label": f"{page.name}/{kind}/{mutation}"}


# --- survey exports and transcripts ---------------------------------------------------------


@st.composite
def hostile_answers(draw: st.DrawFn, max_chars: int = 20_000) -> dict[str, Any]:
    """A survey CSV (from a sample export) or a transcript, broken in content and bytes."""
    if draw(st.booleans()):
        source = draw(st.sampled_from(sorted((SAMPLE / "survey").glob("*.csv"))))
        text = source.read_text(encoding="utf-8")
        suffix = ".csv"
    else:
        source = SAMPLE / "interviews" / "interview_01.txt"
        text = source.read_text(encoding="utf-8")
        suffix = ".txt"
    lines = text.split("\n")
    lines = lines[: draw(st.integers(1, len(lines)))]  # shrinks towards a short file
    for _ in range(draw(st.integers(0, 3))):
        i = draw(st.integers(0, len(lines) - 1))
        lines[i] = draw(st.sampled_from([
            lines[i] + draw(cells(max_chars)), draw(cells(max_chars)), "R:", "I:", ":::",
            "R: " + draw(cells(max_chars)), lines[i] * 3, ",,,,,,", '"unclosed, quote',
        ]))
    kind, data = draw(mutated("\n".join(lines).encode("utf-8")))
    return {"suffix": suffix, "data": data, "label": f"{source.name}/{kind}"}


# --- tiny models for the commands that need one ---------------------------------------------

# A few words a category, as in tests/test_classify.py, and a linear model small enough to
# train in a second.
WORDS = {
    "cannabis": ["weed", "kush", "hash", "haze"],
    "cocaine": ["cocaine", "coke", "crack rocks", "flake"],
    "non_drug": ["paypal account", "netflix login", "fraud guide", "cvv dump"],
}
SMALL_MODEL = {
    "name": "linear",
    "params": {"word_features": 2000, "char_hash_bits": 12, "min_df": 1, "n_jobs": 1},
    "text_max_chars": 1000, "review_threshold": 0.6,
    "evaluation": {"test_size": 0.25, "min_labelled": 20, "lomo_min_rows": 30},
}


def write_fuzz_params(folder: Path) -> Path:
    """params.yaml with quick models: n-gram sentiment without tuned offsets, untuned tf-idf
    theme coder, small linear classifier."""
    params = yaml.safe_load((PROJECT_ROOT / "params.yaml").read_text())
    params["reviews"]["encoder"]["enabled"] = False
    params["reviews"]["decision"]["tune"] = False
    params["themes"]["coder"].update(components=["tfidf"], tune_folds=0)
    params["themes"]["extra_gold"] = []  # the project gold alone: a tiny coder
    params["themes"]["corrections"] = str(folder / "no_corrections.jsonl")
    params["model"] = SMALL_MODEL
    path = folder / "params.yaml"
    path.write_text(yaml.safe_dump(params, allow_unicode=True))
    return path


def classifier_training_set(folder: Path) -> tuple[Path, Path]:
    """Labelled listings of one invented market and the market config that labels them."""
    rows = [
        {**{c: "" for c in CANONICAL_COLUMNS}, "listing_id": f"{label}-{i}", "market": "fuzz",
         "scraped_at": "2024-01-01", "vendor": f"v{i % 5}", "title": f"{i}g {word} #{i}",
         "price_raw": "10", "category_raw": label}
        for label, words in WORDS.items() for i, word in enumerate(words * 8)
    ]
    tables = folder / "listings"
    tables.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_parquet(tables / "fuzz.parquet")
    config = folder / "fuzz.yaml"
    config.write_text(yaml.safe_dump({"adapter": "tabular", "columns": {"title": "title"},
                                      "category_map": {w: w for w in WORDS}}))
    return tables, config


def train_tiny_models(folder: Path, params: Path) -> dict[str, Path]:
    """Classifier, sentiment, harm-reduction and theme models trained through their commands
    on the invented sample, into `folder/<name>`."""
    from typer.testing import CliRunner

    from pipeline.cli import app

    tables, config = classifier_training_set(folder)
    commands = {
        "classifier": ["train-classifier", tables, "--market-config", config],
        "sentiment": ["train-sentiment", SAMPLE / "reviews.csv"],
        "harm_reduction": ["train-harm-reduction", SAMPLE / "forum_posts.csv"],
        "themes": ["train-themes"],
    }
    runner = CliRunner()
    for name, args in commands.items():
        result = runner.invoke(
            app, [str(a) for a in [*args, "-o", folder / name, "--params", params]]
        )
        if result.exit_code != 0:
            raise RuntimeError(f"{name} training failed: {result.exception!r}\n{result.output}")
    return {name: folder / name for name in commands}

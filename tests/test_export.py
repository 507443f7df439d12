"""`cryptodrug export`: tables for R (CSV) and Stata (.dta) keep their values, and the Stata
file carries the data dictionary's labels."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.core.tables import ANALYTICS, THEMES
from pipeline.export.tables import flatten, label, stata_name


@pytest.fixture
def tables(tmp_path: Path) -> Path:
    """Two output tables where the pipeline writes them: lists, records, booleans, dates,
    missing values, and a column named after a Stata reserved word (`end`)."""
    analytics = tmp_path / "data" / "processed" / "analytics"
    analytics.mkdir(parents=True)
    pd.DataFrame({
        "market": ["agora", "dream"],
        "vendor": ["Vendor_1", "Käse"],
        "listings": [3, 1],
        "first_seen": [dt.date(2014, 2, 1), dt.date(2018, 11, 18)],
        "countries": [["BE", "NL"], []],
        "multi_country": [True, False],
        "product_mix": [{"cocaine": 0.5, "ecstasy": 0.5}, {"cannabis": 1.0}],
        "revenue_eur": [120.5, None],
    }).to_parquet(analytics / "vendors.parquet")
    pd.DataFrame({
        "segment_id": ["s1"], "code": ["MOTIVE_PRICE"], "start": [0], "end": [12],
        "source": ["survey"], "lang": ["nl"],
    }).to_parquet(tmp_path / "data" / "processed" / "themes.parquet")
    return tmp_path / "data" / "processed"


def _export(args: list[str]) -> str:
    result = CliRunner().invoke(app, ["export", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_stata_file_reads_back_with_values_and_labels(tables: Path, tmp_path: Path):
    out = tmp_path / "stata"
    _export([str(tables / "analytics"), str(tables / "themes.parquet"), "-o", str(out),
             "--format", "dta"])
    with pd.io.stata.StataReader(out / "vendors.dta") as reader:
        vendors = reader.read()
        labels = reader.variable_labels()
        data_label = reader.data_label
    assert vendors["vendor"].tolist() == ["Vendor_1", "Käse"]
    assert vendors["listings"].tolist() == [3, 1]
    assert vendors["countries"].tolist() == ["BE; NL", ""]
    assert vendors["multi_country"].tolist() == [1, 0]
    assert vendors["first_seen"].dt.date.tolist() == [dt.date(2014, 2, 1), dt.date(2018, 11, 18)]
    assert json.loads(vendors["product_mix"][0]) == {"cannabis": None, "cocaine": 0.5,
                                                     "ecstasy": 0.5}
    assert vendors["revenue_eur"][0] == 120.5 and pd.isna(vendors["revenue_eur"][1])
    assert labels["revenue_eur"] == label(ANALYTICS["vendors"], "revenue_eur")
    assert labels["revenue_eur"].endswith("[EUR]")
    assert data_label == ANALYTICS["vendors"].row
    themes = pd.read_stata(out / "themes.dta")
    assert "_end" in themes.columns and themes["_end"].tolist() == [12]


def test_csv_loads_and_the_codebook_names_every_column(tables: Path, tmp_path: Path):
    out = tmp_path / "csv"
    _export([str(tables / "analytics"), str(tables / "themes.parquet"), "-o", str(out)])
    vendors = pd.read_csv(out / "vendors.csv", keep_default_na=False)
    assert vendors["countries"].tolist() == ["BE; NL", ""]
    assert vendors["first_seen"].tolist() == ["2014-02-01", "2018-11-18"]
    assert vendors["multi_country"].tolist() == [True, False]
    book = pd.read_csv(out / "codebook.csv", keep_default_na=False)
    assert len(book) == 8 + 6
    row = book[(book["table"] == "themes") & (book["column"] == "code")].iloc[0]
    assert row["type"] == THEMES.field("code").type and row["label"]


def test_flatten_rule():
    frame = pd.DataFrame({"a": [["x", "y"], []], "b": [[{"q": 1}], None], "c": [1, 2]})
    flat = flatten(frame)
    assert flat["a"].tolist() == ["x; y", ""]
    assert flat["b"][0] == '[{"q": 1}]' and pd.isna(flat["b"][1])
    assert flat["c"].tolist() == [1, 2]


def test_stata_names():
    assert stata_name("share_low") == "share_low"
    assert stata_name("end") == "_end"
    assert stata_name("1st seen") == "_1st_seen"


def test_two_tables_with_one_name_are_refused(tables: Path, tmp_path: Path):
    other = tmp_path / "other"
    other.mkdir()
    (tables / "themes.parquet").rename(other / "vendors.parquet")
    result = CliRunner().invoke(app, ["export", str(tables / "analytics"),
                                      str(other / "vendors.parquet"), "-o", str(tmp_path / "x")])
    assert result.exit_code == 2
    assert "export them into separate folders" in result.output


def test_missing_input_and_unknown_format_are_one_line_errors(tmp_path: Path):
    result = CliRunner().invoke(app, ["export", str(tmp_path / "none.parquet"), "-o",
                                      str(tmp_path / "x")])
    assert result.exit_code == 2 and "no such file" in result.output
    result = CliRunner().invoke(app, ["export", str(tmp_path), "-o", str(tmp_path / "x"),
                                      "--format", "sav"])
    assert result.exit_code == 2

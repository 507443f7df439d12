"""Tabular ingestion on small project-written files: mapping, cleaning, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.core.io import InputError, quarantine_path, read_table
from pipeline.core.text import pseudonymise_handle
from pipeline.ingest import expand_inputs, ingest_files

MARKET = {
    "name": "testmarket",
    "adapter": "tabular",
    "files": ["*.csv", "*.jsonl"],
    "encoding": "utf-8",
    "columns": {
        "title": ["Name", "Product"],
        "vendor": "Vendor",
        "price_raw": "Price",
        "ships_from_raw": {"from": "Ship From", "optional": True},
        "category_raw": {"join": ["cat", "subcat"], "sep": " > ", "optional": True},
        "scraped_at": {"filename": r"_(?P<year>\d{4})(?P<month>\d{2})(?P<day>\d{2})"},
    },
}
KEY = "a-test-key-of-sufficient-length"
HEADER = "Name,Vendor,Price,Ship From,cat,subcat\n"
ROWS = [
    "Speed paste 10g,belgvendor,40 EUR,Belgium,Drugs,Stimulants\n",
    "XTC pillen 100 stuks,dutchie,150 EUR,Nederland,Drugs,Ecstasy\n",
]


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def run(paths: list[Path], cfg: dict = MARKET, key: str | None = None):
    return ingest_files(expand_inputs(paths, cfg), cfg, vendor_key=key)


def test_columns_are_mapped_and_dated_from_the_file_name(tmp_path):
    result = run([write(tmp_path / "m_20240707.csv", HEADER + "".join(ROWS))])
    listings = result.listings
    assert len(listings) == 2 and result.quarantined.empty
    first = listings.iloc[0]
    assert first["title"] == "Speed paste 10g"
    assert first["category_raw"] == "Drugs > Stimulants"
    assert first["scraped_at"] == "2024-07-07"
    assert first["market"] == "testmarket"
    assert first["listing_id"].startswith("testmarket-")


def test_renamed_column_is_found_through_its_alternative(tmp_path):
    text = HEADER.replace("Name", "Product") + ROWS[0]
    assert run([write(tmp_path / "m_20240707.csv", text)]).listings["title"].tolist() == [
        "Speed paste 10g"
    ]


def test_missing_required_column_is_a_one_line_error_naming_file_and_column(tmp_path):
    path = write(tmp_path / "m_20240707.csv", "Vendor,Price\nx,1\n")
    with pytest.raises(InputError, match=r"m_20240707\.csv: no column 'Name' or 'Product'"):
        run([path])


def test_empty_file_is_an_error(tmp_path):
    with pytest.raises(InputError, match="empty file"):
        run([write(tmp_path / "m_20240707.csv", "")])


def test_latin1_file_declared_utf8_is_decoded_not_rejected(tmp_path):
    path = write(tmp_path / "m_20240707.csv", HEADER + "Café crème 5g,frvendor,10 EUR,France,,\n",
                 encoding="latin-1")
    assert run([path]).listings["title"].tolist() == ["Café crème 5g"]


def test_mojibake_is_repaired(tmp_path):
    broken = "CafÃ© crÃ¨me 5g"  # UTF-8 read as latin-1 upstream
    path = write(tmp_path / "m_20240707.csv", HEADER + f"{broken},frvendor,10 EUR,France,,\n")
    assert run([path]).listings["title"].tolist() == ["Café crème 5g"]


def test_bad_rows_are_quarantined_with_reasons_and_counts_add_up(tmp_path):
    text = HEADER + ROWS[0] + ROWS[0] + ",novendor,5 EUR,Belgium,,\n" + ROWS[1]
    result = run([write(tmp_path / "m_20240707.csv", text)])
    reasons = result.quarantined["reason"].tolist()
    assert len(result.listings) == 2
    assert "empty title" in reasons
    assert any(r.startswith("duplicate of listing testmarket-") for r in reasons)
    assert result.rows_in == len(result.listings) + len(result.quarantined) == 4


def test_absurd_scrape_date_is_quarantined(tmp_path):
    result = run([write(tmp_path / "m_19990101.csv", HEADER + ROWS[0])])
    assert result.listings.empty
    assert result.quarantined["reason"].iloc[0].startswith("scrape date 1999-01-01 outside")


def test_listing_ids_do_not_depend_on_file_order(tmp_path):
    a = write(tmp_path / "a_20240707.csv", HEADER + ROWS[0])
    b = write(tmp_path / "b_20240708.csv", HEADER + ROWS[1])
    forward = set(run([a, b]).listings["listing_id"])
    backward = set(run([b, a]).listings["listing_id"])
    assert forward == backward and len(forward) == 2


def test_jsonl_input_uses_the_same_mapping(tmp_path):
    rows = [{"Name": "Ketamine 5g", "Vendor": "k", "Price": "90 EUR", "Ship From": "Germany"}]
    path = tmp_path / "m_20240707.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    assert run([path]).listings["ships_from_raw"].tolist() == ["Germany"]


def test_pseudonymised_handles_match_across_markets_and_hide_the_handle(tmp_path):
    path = write(tmp_path / "m_20240707.csv", HEADER + ROWS[0])
    other = dict(MARKET, name="othermarket")
    one = run([path], key=KEY).listings["vendor"].iloc[0]
    two = run([path], cfg=other, key=KEY).listings["vendor"].iloc[0]
    assert one == two == pseudonymise_handle("BelgVendor ", KEY)
    assert "belgvendor" not in one
    assert pseudonymise_handle("belgvendor", "another key") != one


def test_folder_without_matching_files_is_an_error(tmp_path):
    write(tmp_path / "notes.txt", "x")
    with pytest.raises(InputError, match="no file matches"):
        expand_inputs([tmp_path], MARKET)


# --- the command line -------------------------------------------------------------------


def market_file(tmp_path: Path) -> Path:
    cfg_path = tmp_path / "testmarket.yaml"
    cfg_path.write_text(yaml.safe_dump({k: v for k, v in MARKET.items() if k != "name"}))
    return cfg_path


def test_cli_writes_listings_quarantine_and_prints_counts(tmp_path):
    raw = write(tmp_path / "m_20240707.csv", HEADER + ROWS[0] + ROWS[0])
    out = tmp_path / "out" / "listings.parquet"
    metrics = tmp_path / "metrics.json"
    result = CliRunner().invoke(
        app,
        ["ingest", "--market", str(market_file(tmp_path)), str(raw), "-o", str(out),
         "--metrics", str(metrics)],
    )
    assert result.exit_code == 0, result.output
    assert "2 in, 1 out, 1 quarantined" in result.output
    assert len(read_table(out)) == 1
    assert read_table(quarantine_path(out))["reason"].str.startswith("duplicate").all()
    summary = json.loads(metrics.read_text())
    assert summary["fill_rate"]["title"] == 1.0 and summary["fill_rate"]["description"] == 0.0


def test_cli_unusable_input_exits_2_with_one_line(tmp_path):
    raw = write(tmp_path / "m_20240707.csv", "")
    result = CliRunner().invoke(
        app, ["ingest", "--market", str(market_file(tmp_path)), str(raw), "-o",
              str(tmp_path / "o.parquet")],
    )
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0 and "empty file" in result.output


def test_cli_unknown_market_names_the_known_ones(tmp_path):
    result = CliRunner().invoke(app, ["ingest", "--market", "nosuch", str(tmp_path), "-o", "x.csv"])
    assert result.exit_code == 2 and "unknown market 'nosuch'" in result.output


def test_pseudonymise_without_key_is_an_error(tmp_path, monkeypatch):
    monkeypatch.delenv("CRYPTODRUG_VENDOR_KEY", raising=False)
    raw = write(tmp_path / "m_20240707.csv", HEADER + ROWS[0])
    result = CliRunner().invoke(
        app, ["ingest", "--market", str(market_file(tmp_path)), str(raw), "-o",
              str(tmp_path / "o.csv"), "--pseudonymise"],
    )
    assert result.exit_code == 2 and "CRYPTODRUG_VENDOR_KEY" in result.output


def test_csv_output_round_trips(tmp_path):
    raw = write(tmp_path / "m_20240707.csv", HEADER + "".join(ROWS))
    out = tmp_path / "listings.csv"
    CliRunner().invoke(app, ["ingest", "--market", str(market_file(tmp_path)), str(raw), "-o",
                             str(out)])
    frame = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert frame["vendor"].tolist() == ["belgvendor", "dutchie"]


def test_pseudonymisation_covers_quarantined_rows_too(tmp_path):
    path = write(tmp_path / "m_20240707.csv", HEADER + ROWS[0] + ROWS[0])
    result = run([path], key=KEY)
    assert result.quarantined["vendor"].str.startswith("v_").all()


def test_binary_garbage_is_a_one_line_error_naming_the_file(tmp_path):
    path = tmp_path / "m_20240707.csv"
    path.write_bytes(b"\x00\x01\x02PK\x03\x04" + bytes(range(256)) * 4)
    with pytest.raises(InputError, match=r"m_20240707\.csv: "):
        run([path])


def test_unreadable_file_is_a_one_line_error(tmp_path):
    path = tmp_path / "m_20240707.csv"
    path.mkdir()  # a folder where a file is expected cannot be read as one
    with pytest.raises(InputError, match="m_20240707"):
        ingest_files([path], MARKET)


"""Hostile and broken input for ingest, extract and analyse: each test pins a fix.

The attacker tests play someone who holds the pseudonymised outputs and a list of real
handles, but not the key; the pathological-file tests check that limits trigger before
parsing, so no input can make ingest quadratic."""

from __future__ import annotations

import hashlib
import re
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.core.config import load_market_config
from pipeline.core.io import InputError, quarantine_path, read_table, side_output_path
from pipeline.core.text import content_key, fields_key, normalise_handle
from pipeline.ingest import ID_FIELDS, expand_inputs, ingest_files

KEY = "a-long-enough-test-key-0123456789"
DARKMATTER = "markets/darkmatter-2024/darkmatter_physical_products_7_7.csv"


def _cut_csv(source: Path, target: Path, rows: int) -> Path:
    """The header and the first `rows` lines of a real export (a test copy in tmp)."""
    lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
    target.write_text("".join(lines[: rows + 1]), encoding="utf-8")
    return target


def _candidate_digests(handle: str, row: dict) -> set[str]:
    """What an attacker with the handle computes: unkeyed hashes of the handle in its
    forms, and the old content id (sha1 of the id fields with the real handle)."""
    forms = {handle, handle.strip(), normalise_handle(handle)}
    digests = {content_key(f) for f in forms} | {fields_key([f]) for f in forms}
    digests |= {hashlib.sha256(f.encode()).hexdigest() for f in forms}
    values = [handle if c == "vendor" else str(row.get(c, "")) for c in ID_FIELDS]
    digests.add(hashlib.sha1("\x1f".join(values).encode()).hexdigest()[:16])
    digests.add(fields_key(values))
    return digests


@pytest.mark.public_data
def test_pseudonymised_outputs_cannot_be_linked_to_real_handles(
    public_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = _cut_csv(public_data / DARKMATTER, tmp_path / "darkmatter_physical_products_7_7.csv",
                   600)
    source = pd.read_csv(raw, dtype=str, keep_default_na=False)
    handles = sorted(set(source["Vendor"]) - {""})
    monkeypatch.setenv("CRYPTODRUG_VENDOR_KEY", KEY)
    out = tmp_path / "out" / "darkmatter.csv"
    result = CliRunner().invoke(app, ["ingest", "--market", "darkmatter", str(raw), "-o",
                                      str(out), "--pseudonymise"])
    assert result.exit_code == 0, result.output
    tables = {p.name: read_table(p) for p in out.parent.iterdir()}
    assert set(tables) >= {out.name, quarantine_path(out).name,
                           side_output_path(out, "feedback").name}
    # the attacker's view: the real rows with their handles, in file order
    truth = pd.read_csv(raw, dtype=str, keep_default_na=False)
    listings = tables[out.name]
    assert len(listings) > 500
    words = {h: re.compile(rf"(?<![^\W_]){re.escape(h)}(?![^\W_])", re.IGNORECASE)
             for h in handles}
    for name, table in tables.items():
        assert name.count(".") <= 2 and not any(h.lower() in name.lower() for h in handles)
        for row in table.astype(str).to_dict("records"):
            handle = truth.iloc[int(row["source_row"])]["Vendor"] if "source_row" in row \
                else None
            cells = list(row.values())
            if handle:
                row_for_id = {**row, "vendor": handle}
                guesses = _candidate_digests(handle, row_for_id)
                assert not any(g in cell for g in guesses for cell in cells), (name, row)
                assert not any(words[handle].search(cell) for cell in cells), (name, row)
            assert not any(cell in handles for cell in cells), (name, row)


@pytest.mark.parametrize("key", ["short-key", " ", " " * 40, "x" * 15 + " "])
def test_weak_vendor_keys_are_refused(key: str, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "m_20240707.csv"
    path.write_text("Name,Vendor,Price\nSpeed 10g,belgvendor,40 EUR\n")
    with pytest.raises(InputError, match="at least 16"):
        ingest_files([path], _market(), vendor_key=key)
    monkeypatch.setenv("CRYPTODRUG_VENDOR_KEY", key)
    result = CliRunner().invoke(app, ["ingest", "--market", str(_market_file(tmp_path)),
                                      str(path), "-o", str(tmp_path / "o.csv"), "--pseudonymise"])
    assert result.exit_code == 2 and "at least 16" in result.output


def _market(**extra: object) -> dict:
    return {"name": "testmarket", "adapter": "tabular", "files": ["*.csv"],
            "columns": {"title": "Name", "vendor": "Vendor", "price_raw": "Price",
                        "scraped_at": {"value": "2024-07-07"}}, **extra}


def _market_file(folder: Path, **extra: object) -> Path:
    import yaml

    path = folder / "testmarket.yaml"
    path.write_text(yaml.safe_dump(_market(**extra)))
    return path


# --- (5) truncated pages --------------------------------------------------------------------


@pytest.mark.public_data
@pytest.mark.parametrize("cut_at", ["<label>Price</label>", "div.viewProduct", "half"])
def test_cut_dream_listing_pages_are_quarantined_as_truncated(
    public_data: Path, tmp_path: Path, cut_at: str
) -> None:
    cfg = load_market_config("dream")
    page = (public_data / "html/dream/listings/listing_0.html").read_text(encoding="utf-8")
    offset = {"<label>Price</label>": page.index("<label>Price</label>") + 30,
              "div.viewProduct": page.index('class="viewProduct"') - 10,
              "half": len(page) // 2}[cut_at]
    folder = tmp_path / "listings"
    folder.mkdir()
    (folder / "listing_0.html").write_text(page[:offset], encoding="utf-8")
    (folder / "listing_1.html").write_text(page, encoding="utf-8")
    result = ingest_files(expand_inputs([folder], cfg), cfg)
    assert len(result.listings) == 1  # the whole page still reads
    assert result.listings["price_raw"].iloc[0] != ""
    reasons = result.quarantined["reason"].tolist()
    assert len(reasons) == 1 and reasons[0].startswith("truncated"), reasons


# --- (6) pathological files -----------------------------------------------------------------


def _run(path: Path, **extra: object):
    return ingest_files([path], _market(**extra))


@pytest.mark.parametrize("size", [1 << 20, 4 << 20])
def test_a_huge_single_line_header_fails_fast_with_a_short_message(
    tmp_path: Path, size: int
) -> None:
    path = tmp_path / "m.csv"
    path.write_text("Name" + "," * size + "\n")
    with pytest.raises(InputError) as err:
        _run(path)
    message = str(err.value)
    assert "max_line_chars" in message and "\n" not in message
    assert len(message) < 200 + len(str(path))


def test_too_many_columns_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text("Name,Vendor,Price" + ",x" * 5000 + "\nSpeed,v,1\n")
    with pytest.raises(InputError, match="max_columns"):
        _run(path)
    with pytest.raises(InputError, match="max_columns"):
        _run(path, limits={"max_columns": 2})


def test_file_size_limit_is_configurable(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text("Name,Vendor,Price\n" + "Speed 10g,v,40 EUR\n" * 100)
    assert len(_run(path).listings) == 1  # the same row 100 times: one listing
    with pytest.raises(InputError, match="max_file_bytes"):
        _run(path, limits={"max_file_bytes": 1000})


def test_many_duplicate_header_names_parse_in_linear_time(tmp_path: Path) -> None:
    """20,000 duplicate names: quadratic renaming took minutes; within the limits the
    names are made unique in one pass."""
    path = tmp_path / "m.csv"
    path.write_text("Name,Vendor,Price" + ",x" * 20_000 + "\n"
                    + "Speed 10g,v,40 EUR" + "," * 20_000 + "\n")
    result = _run(path, limits={"max_columns": 50_000})
    assert len(result.listings) == 1


@pytest.mark.parametrize("content", [b"\xef\xbb\xbf", b"\xef\xbb\xbf \n\n"])
def test_a_file_of_only_a_byte_order_mark_is_empty(tmp_path: Path, content: bytes) -> None:
    """Found by the fuzz suite: the mark is no whitespace, so the CSV reader met no header."""
    path = tmp_path / "m.csv"
    path.write_bytes(content)
    with pytest.raises(InputError, match=r"m\.csv: empty file$"):
        _run(path)


def _html_market(**extra: object) -> dict:
    return {"name": "t", "adapter": "html", "scraped_at": "2020-01-01",
            "page_types": [{"name": "listing", "match": {"css": "h1"},
                            "listing": {"title": "h1", "price_raw": "p"}}], **extra}


@pytest.mark.parametrize("nesting", ["<div>", "<div title='</div>'>", "<div><!--</div>-->"])
def test_deeply_nested_pages_are_quarantined_before_parsing(tmp_path: Path,
                                                            nesting: str) -> None:
    """80,000 unclosed `<div>`s took the HTML parser 29 s (quadratic in the depth): the
    opening tags are counted first, closing tags that close nothing cannot hide them, and
    such a page is set aside alone."""
    deep = tmp_path / "deep.html"
    deep.write_text("<html><body>" + nesting * 80_000 + "<h1>LSD</h1></body></html>")
    fine = tmp_path / "fine.html"
    fine.write_text("<html><body>" + "<div><p>x<br>" * 50 + "<h1>LSD</h1><p>10 EUR</p>"
                    + "</div>" * 50 + "</body></html>")
    started = time.perf_counter()
    result = ingest_files([deep, fine], _html_market())
    assert time.perf_counter() - started < 5
    assert result.listings["title"].tolist() == ["LSD"]
    assert result.quarantined["reason"].tolist() == [
        "80001 opening tags that may nest, over 20000 (limits.max_nesting_tags): "
        "not a market page"]
    strict = ingest_files([fine], _html_market(limits={"max_nesting_tags": 40}))
    assert strict.listings.empty and len(strict.quarantined) == 1


# --- (7) code, control characters, ragged rows ------------------------------------------


def test_script_and_style_code_and_control_characters_are_dropped(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text('Name,Vendor,Price\n"Speed<script>alert(1)</script> 10g\x00\x07'
                    '<style>b{}</style>",v\x00,40 EUR\n"<SCRIPT>never closed",v,1\n')
    listings = _run(path).listings
    assert listings["title"].tolist() == ["Speed 10g"]
    assert listings["vendor"].tolist() == ["v"]


def test_script_in_an_html_listing_title_is_dropped(tmp_path: Path) -> None:
    cfg = {"name": "t", "adapter": "html", "scraped_at": "2020-01-01",
           "page_types": [{"name": "listing", "match": {"css": "h1"},
                           "listing": {"title": "h1", "price_raw": "p"}}]}
    page = tmp_path / "p.html"
    page.write_text("<html><h1>LSD<script>steal()</script> 10 tabs<style>h1{}</style></h1>"
                    "<p>10 EUR</p></html>")
    assert ingest_files([page], cfg).listings["title"].tolist() == ["LSD 10 tabs"]


def test_a_ragged_row_is_quarantined_alone(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text("Name,Vendor,Price\nSpeed 10g,a,40 EUR\nbroken,row,with,extra\n"
                    "\nXTC 100,b,150 EUR\n")
    result = _run(path)
    assert result.listings["title"].tolist() == ["Speed 10g", "XTC 100"]
    assert result.listings["source_row"].tolist() == [0, 2]
    assert result.rows_in == 3 and len(result.quarantined) == 1
    assert result.quarantined["reason"].iloc[0].startswith("ragged row: 4 fields")

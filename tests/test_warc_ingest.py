"""Ingest reads WARC snapshots with the same market adapters as files: the pages a WARC
stores give exactly the rows the same pages give as files (the page's target URI in
`source_file` in place of its file name); revisit, request, warcinfo and metadata records
are passed over. Then monitoring end to end: two crawls of the fixture market (day 0 and
day 1), each ingested from its WARC, joined by `cryptodrug monitor`."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest
from fixture_market import FixtureMarket, harness, serve
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from pipeline.core.config import load_market_config
from pipeline.core.io import InputError
from pipeline.core.warc import read_records
from pipeline.ingest import IngestResult, expand_inputs, ingest_files

DREAM_HOST = "http://dreammarket.onion/"
DREAM_SAVED = "2018-11-18"  # dream.yaml's scraped_at: the date the pages were saved


def same_rows(from_files: IngestResult, from_warc: IngestResult, uri_of: dict[str, str]
              ) -> None:
    """Every table equal, but for `source_file`: a file's name there, its URI here."""
    tables = [("listings", from_files.listings, from_warc.listings),
              ("quarantined", from_files.quarantined, from_warc.quarantined)]
    tables += [(n, t, from_warc.side_tables[n]) for n, t in from_files.side_tables.items()]
    assert from_files.rows_in == from_warc.rows_in
    for name, files, warc in tables:
        assert len(files) == len(warc), name
        if "source_file" in files:
            assert warc["source_file"].tolist() == files["source_file"].map(uri_of).tolist()
        pd.testing.assert_frame_equal(files.drop(columns="source_file", errors="ignore"),
                                      warc.drop(columns="source_file", errors="ignore"),
                                      obj=name)


def write_warc(path: Path, pages: list[tuple[str, bytes]], date: str) -> None:
    """A snapshot as another tool would write it: warcinfo, then per page a request and a
    response, the first page once more as a revisit under another URI, a metadata record."""
    stamp = {"WARC-Date": f"{date}T12:00:00Z"}
    with path.open("wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "test"}))
        for uri, body in pages:
            writer.write_record(writer.create_warc_record(
                uri, "request", payload=io.BytesIO(b""), warc_headers_dict=stamp,
                http_headers=StatusAndHeaders("GET / HTTP/1.1", [], is_http_request=True)))
            writer.write_record(writer.create_warc_record(
                uri, "response", payload=io.BytesIO(body), warc_headers_dict=stamp,
                http_headers=StatusAndHeaders("200 OK", [("Content-Type", "text/html")],
                                              protocol="HTTP/1.1")))
        first = next(r for r in read_records(path) if r.rec_type == "response")
        writer.write_record(writer.create_revisit_record(
            pages[0][0] + "?copy=1", first.digest, pages[0][0], stamp["WARC-Date"],
            warc_headers_dict=stamp))
        writer.write_record(writer.create_warc_record(
            "urn:test:end", "metadata", payload=io.BytesIO(b"{}"), warc_headers_dict=stamp,
            warc_content_type="application/json"))


@pytest.mark.public_data
def test_saved_dream_pages_give_the_same_rows_from_a_warc(public_data: Path,
                                                          tmp_path: Path) -> None:
    cfg = load_market_config("dream")
    root = public_data / "html" / "dream"
    files = expand_inputs([root], cfg)
    uris = {f"{p.parent.name}/{p.name}": DREAM_HOST + p.relative_to(root).as_posix()
            for p in files}
    warc = tmp_path / "dream-2018-11-18.warc.gz"
    write_warc(warc, [(uris[f"{p.parent.name}/{p.name}"], p.read_bytes()) for p in files],
               DREAM_SAVED)
    from_files, from_warc = ingest_files(files, cfg), ingest_files([warc], cfg)
    assert len(from_files.listings) > 0 and len(from_files.side_tables["feedback"]) > 0
    same_rows(from_files, from_warc, uris)


def test_a_fixture_crawl_gives_the_same_rows_from_its_warc_as_from_its_pages(
        tmp_path: Path) -> None:
    """The crawler's own WARC (revisits for the same listing under two URLs, 404 pages,
    a request per response); its pages saved as files in record order, read with the
    WARC's capture date as the market's scrape date."""
    server, url = serve(FixtureMarket(n_listings=8, faults=False))
    market = harness.fast_market(tmp_path)
    code, output = harness.finish(harness.crawl(market, tmp_path / "crawl", "--no-proxy",
                                                "--base-url", url))
    server.shutdown()
    assert code == 0, output
    warc = next((tmp_path / "crawl").glob("*.warc.gz"))
    stored = [r for r in read_records(warc, bodies=True) if r.rec_type == "response"]
    assert any(r.rec_type == "revisit" for r in read_records(warc)), "the fixture's duplicates"
    pages = tmp_path / "pages"
    pages.mkdir()
    uri_of = {}
    for number, record in enumerate(stored):
        name = f"page_{number:04d}.html"
        (pages / name).write_bytes(record.body)
        uri_of[f"pages/{name}"] = record.url
    cfg = load_market_config(str(market))
    from_warc = ingest_files([warc], cfg)
    cfg["scraped_at"] = stored[0].date[:10]
    from_files = ingest_files(sorted(pages.iterdir()), cfg)
    assert sorted(from_warc.listings["native_id"]) == [str(100000 + i) for i in range(8)]
    same_rows(from_files, from_warc, uri_of)


def test_a_file_named_like_a_warc_that_is_not_one_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "fake.warc.gz"
    fake.write_text("<html></html>")
    with pytest.raises(InputError, match="not a WARC file"):
        ingest_files([fake], load_market_config("fixture"))


def test_two_crawls_ingested_from_their_warcs_give_lifecycles_series_and_changes(
        tmp_path: Path) -> None:
    """Day 1 of the fixture: listing 100009 is gone, every third listing has a new price,
    listings 100012 and 100013 are new, and so is their vendor."""
    market = harness.fast_market(tmp_path)
    tables = []
    for day in (0, 1):
        server, url = serve(FixtureMarket(n_listings=12, day=day, faults=False))
        code, output = harness.finish(harness.crawl(market, tmp_path / f"crawl{day}",
                                                    "--no-proxy", "--base-url", url))
        server.shutdown()
        assert code == 0, output
        tables.append(tmp_path / f"day{day}.parquet")
        done = harness.run_cli("ingest", "--market", str(market), str(tmp_path / f"crawl{day}"),
                               "-o", str(tables[-1]))
        assert done.returncode == 0, done.stderr
    out = tmp_path / "monitoring"
    done = harness.run_cli("monitor", *map(str, tables), "-o", str(out))
    assert done.returncode == 0, done.stderr
    life = pd.read_parquet(out / "lifecycles.parquet").set_index("listing_id")
    assert len(life) == 14 and life["disappeared"].sum() == 1
    assert bool(life.loc["fixture-100009", "disappeared"])
    assert life.loc["fixture-100003", "price_changes"] == 1
    assert life.loc["fixture-100001", "price_changes"] == 0
    assert life.loc["fixture-100012", "snapshots"] == 1
    assert not bool(life.loc["fixture-100012", "disappeared"])
    vendors = pd.read_parquet(out / "vendors.parquet").set_index("vendor")
    assert vendors["new_entrant"].sum() == 1 and bool(vendors.loc["EifelExpress", "new_entrant"])
    series = pd.read_parquet(out / "series.parquet")
    assert series["snapshot"].tolist() == ["day0", "day1"]
    assert series["listings"].tolist() == [12, 13]
    changes = pd.read_parquet(out / "changes.parquet")
    by_kind = changes.groupby("change")["key"].apply(sorted).to_dict()
    assert by_kind["listing_gone"] == ["fixture-100009"]
    assert by_kind["listing_new"] == ["fixture-100012", "fixture-100013"]
    assert by_kind["price_changed"] == ["fixture-100000", "fixture-100003", "fixture-100006"]
    assert by_kind["vendor_new"] == ["EifelExpress"]

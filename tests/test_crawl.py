"""The crawl stage against the fixture market (tests/fixture_market) on 127.0.0.1: a full
crawl into a WARC snapshot with its index, kill -9 and resume, the captcha pause and the
cookie refresh, traffic through a SOCKS5 proxy only, and the refusals."""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
from fixture_market import FixtureMarket, cookies_txt, harness, serve
from fixture_market.harness import crawl, finish, run_cli
from fixture_market.socks import RecordingSocks5

from pipeline.core.config import load_market_config
from pipeline.core.io import InputError
from pipeline.core.warc import read_records
from pipeline.crawl.config import crawl_config
from pipeline.crawl.links import canonical_url, judge_page
from pipeline.crawl.stage import run_crawl

N_LISTINGS = 20


@pytest.fixture(scope="module")
def fast_market(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return harness.fast_market(tmp_path_factory.mktemp("conf"))


def stored_urls(out: Path) -> list[str]:
    return [r.url for warc in sorted(out.glob("*.warc.gz")) for r in read_records(warc)
            if r.rec_type in ("response", "revisit")]


@pytest.fixture(scope="module")
def full_crawl(fast_market: Path, tmp_path_factory: pytest.TempPathFactory):
    market = FixtureMarket(n_listings=N_LISTINGS)
    server, url = serve(market)
    out = tmp_path_factory.mktemp("full")
    code, output = finish(crawl(fast_market, out, "--no-proxy", "--base-url", url))
    server.shutdown()
    return code, output, out, url, market


def test_full_crawl_writes_a_dated_snapshot_with_index(full_crawl) -> None:
    code, output, out, url, market = full_crawl
    assert code == 0, output
    warcs = list(out.glob("fixture-*.warc.gz"))
    assert len(warcs) == 1 and not (out / ".crawl-state").exists()
    urls = stored_urls(out)
    assert len(urls) == len(set(urls)), "a page stored twice"
    offers = {f"{url}viewProduct?offer={100000 + i}" for i in range(N_LISTINGS)}
    assert offers <= set(urls), "503s and truncated bodies were retried, none lost"
    assert not any("sid=" in u or "sort=" in u for u in urls), "session params dropped"
    assert sum("/calendar" in u for u in urls) == 4, "the calendar trap is bounded"
    records = list(read_records(warcs[0]))
    kinds = Counter(r.rec_type for r in records)
    assert kinds["warcinfo"] == 1 and kinds["metadata"] == 1
    assert kinds["revisit"] >= N_LISTINGS, "a listing under /offer/ID is a revisit record"
    index = warcs[0].with_suffix("").with_suffix(".cdxj").read_text().splitlines()
    assert len(index) == len(urls) and sorted(index) == index
    requests = [r for r in read_records(warcs[0], bodies=True) if r.rec_type == "request"]
    assert len(requests) == len(urls)


def test_crawled_pages_ingest_with_the_same_market_yaml(full_crawl, tmp_path: Path) -> None:
    """Crawl then ingest the crawl's folder (its WARC, not its index or frontier): the
    snapshot's pages, read by the fixture's page types, give every listing once (the same
    listing on search and vendor pages is quarantined as a duplicate)."""
    table = tmp_path / "listings.parquet"
    done = run_cli("ingest", "--market", "fixture", str(full_crawl[2]), "-o", str(table))
    assert done.returncode == 0, done.stderr
    listings = pd.read_parquet(table)
    assert sorted(listings["native_id"]) == [str(100000 + i) for i in range(N_LISTINGS)]
    assert listings["price_raw"].str.startswith("€").all()
    assert listings["source_file"].str.startswith(full_crawl[3]).all(), "named by target URI"
    quarantined = pd.read_parquet(tmp_path / "listings.quarantine.parquet")
    assert not quarantined["source_file"].str.contains("cdxj|sqlite").any()


def test_kill_minus_9_and_resume_loses_and_repeats_nothing(full_crawl, fast_market: Path,
                                                           tmp_path: Path) -> None:
    reference = set(stored_urls(full_crawl[2]))
    server, url = serve(FixtureMarket(n_listings=N_LISTINGS, slow_s=0.3))
    process = crawl(fast_market, tmp_path, "--no-proxy", "--base-url", url)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(stored_urls(tmp_path)) < 15:
        time.sleep(0.2)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    before = len(stored_urls(tmp_path))
    code, output = finish(crawl(fast_market, tmp_path, "--no-proxy", "--base-url", url))
    server.shutdown()
    assert code == 0, output
    assert "resuming" in output and 15 <= before < len(reference)
    urls = stored_urls(tmp_path)
    assert len(urls) == len(set(urls)), "a page stored twice"
    assert {u.replace(url, "") for u in urls} == {u.replace(full_crawl[3], "")
                                                  for u in reference}


def test_captcha_pauses_the_host_until_cookies_are_refreshed(fast_market: Path,
                                                             tmp_path: Path) -> None:
    market = FixtureMarket(n_listings=N_LISTINGS, captcha_after=12, faults=False)
    server, url = serve(market)
    out = tmp_path / "out"
    code, output = finish(crawl(fast_market, out, "--no-proxy", "--base-url", url))
    assert code == 3 and "paused 127.0.0.1: anti_ddos page" in output, output
    assert output.count("paused 127.0.0.1") == 1
    cookies = tmp_path / "cookies.txt"
    cookies.write_text(cookies_txt("127.0.0.1"))
    code, output = finish(crawl(fast_market, out, "--no-proxy", "--base-url", url,
                                "--cookies", str(cookies)))
    server.shutdown()
    assert code == 0, output
    urls = stored_urls(out)
    assert len(urls) == len(set(urls))
    assert {f"{url}viewProduct?offer={100000 + i}" for i in range(N_LISTINGS)} <= set(urls)
    bodies = [r.body for w in out.glob("*.warc.gz") for r in read_records(w, bodies=True)]
    assert not any(b"verifyHuman" in b for b in bodies), "no captcha page in the snapshot"
    assert not any(b"fixture-human-ok" in b for b in bodies), "cookies redacted"


def test_a_waiting_crawl_resumes_when_the_cookies_file_changes(fast_market: Path,
                                                                 tmp_path: Path) -> None:
    server, url = serve(FixtureMarket(n_listings=5, captcha_after=6, faults=False))
    cookies = tmp_path / "cookies.txt"
    cookies.write_text("# Netscape HTTP Cookie File\n")
    process = crawl(fast_market, tmp_path / "out", "--no-proxy", "--base-url", url,
                    "--cookies", str(cookies), "--wait", "30")
    assert "paused 127.0.0.1" in process.stdout.readline()
    cookies.write_text(cookies_txt("127.0.0.1"))
    code, output = finish(process)
    server.shutdown()
    assert code == 0 and "cookies refreshed" in output, output


def test_every_request_and_name_lookup_goes_through_the_socks_proxy(fast_market: Path,
                                                                    tmp_path: Path) -> None:
    market = FixtureMarket(n_listings=5)
    server, _ = serve(market)
    socks = RecordingSocks5(target=server.server_address[:2]).start()
    code, output = finish(crawl(fast_market, tmp_path, "--proxy",
                                f"socks5h://127.0.0.1:{socks.port}", "--max-pages", "15"))
    server.shutdown()
    assert code == 0, output
    assert socks.connections and all(c == (3, "dreamfixture.onion", 80)
                                      for c in socks.connections), socks.connections
    assert len(market.log) >= 15 and {host for host, _, _ in market.log} == {
        "dreamfixture.onion"}


def test_refuses_to_crawl_without_a_proxy(tmp_path: Path) -> None:
    cfg = load_market_config("fixture")
    with pytest.raises(InputError, match="refusing to crawl without a proxy"):
        run_crawl(cfg, tmp_path, None, False, None)
    with pytest.raises(InputError, match="local test site only"):
        run_crawl(cfg, tmp_path, None, True, None)
    with pytest.raises(InputError, match="either --proxy or --no-proxy"):
        run_crawl(cfg, tmp_path, "socks5h://127.0.0.1:9050", True, None)
    with pytest.raises(InputError, match="no 'crawl:' section"):
        run_crawl(load_market_config("dream"), tmp_path, None, True, None)
    assert not list(tmp_path.iterdir()), "nothing written before the checks pass"


def test_canonical_urls_and_page_decisions() -> None:
    cfg = crawl_config(load_market_config("fixture"))
    assert canonical_url("HTTP://DreamFixture.onion:80/?sort=p&category=2&sid=x#top", cfg) == \
        "http://dreamfixture.onion/?category=2"
    market = FixtureMarket(n_listings=3)
    listing = market.listing(next(iter(market.listings.values())))
    verdict = judge_page("http://dreamfixture.onion/viewProduct?offer=100000", 200, listing, cfg)
    assert verdict.page_type == "listing" and verdict.links == [
        "http://dreamfixture.onion/contactMember?member=AntwerpXpress"]
    cut = listing[: listing.index('<div class="footer"')]
    assert judge_page("http://dreamfixture.onion/x", 200, cut, cfg).retry
    login = judge_page("http://dreamfixture.onion/x", 200, market.answer("/login", "")[2], cfg)
    assert login.pause == "login page" and not login.links
    assert judge_page("http://dreamfixture.onion/x", 429, "", cfg).pause == "HTTP 429"

"""Analytics pinned on small hand-made tables (no real data: written for these tests)."""

from __future__ import annotations

import datetime
import json
import random

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from pipeline.analyse import analyse, make_linker, transaction_summaries
from pipeline.analyse.common import prepare, weighted_median
from pipeline.analyse.linker import VendorLinker, link_handle, vendor_accounts
from pipeline.analyse.migration import evaluate_linker, migration_links, perturb_handle
from pipeline.analyse.shares import country_shares, destinations, product_mix
from pipeline.analyse.substances import substance_shares
from pipeline.analyse.transactions import (
    build_transactions,
    feedback_from_listings,
    parse_agora_feedback,
    summarise_transactions,
)
from pipeline.analyse.uncertainty import (
    bootstrap,
    bootstrap_all,
    median_statistic,
    share_statistic,
    wilson,
)
from pipeline.analyse.vendors import multi_country_pairs, vendor_profiles
from pipeline.cli import app
from pipeline.core.config import load_params
from pipeline.core.io import InputError


def listing(i, vendor, origin, category, price, market="m1", day="2020-01-05", **extra):
    return {"listing_id": f"{market}-{i}", "market": market, "scraped_at": day, "vendor": vendor,
            "title": f"{category} offer {i} by {vendor}", "description": "", "category": category,
            "ships_from": origin, "price_eur": price, "ships_to": extra.pop("to", []),
            "ships_to_excluded": extra.pop("excl", []), **extra}


@pytest.fixture
def small() -> pd.DataFrame:
    rows = [
        listing(1, "alpha", "BE", "ecstasy", 10.0),
        listing(2, "alpha", "BE", "amphetamine", 20.0, to=["worldwide"], excl=["US", "AU"]),
        listing(3, "alpha", "NL", "ecstasy", 30.0),       # alpha: BE + NL
        listing(4, "bravo", "NL", "cannabis", 50.0),
        listing(5, "bravo", "NL", "cannabis", 1500.0),
        listing(6, "charlie", "", "cannabis", 40.0),      # undeclared origin
        listing(7, "delta", "europe", "cocaine", 60.0),   # a region, not a country
        listing(8, "delta", "DE", "cocaine", 70.0, day="2020-02-03"),
    ]
    return prepare(pd.DataFrame(rows))


def test_country_shares_count_vendors_listings_and_revenue(small):
    tx = pd.DataFrame({"market": ["m1", "m1"], "month": ["2020-01", "2020-01"],
                       "origin": ["BE", "NL"], "value_eur": [30.0, 45.0], "n": [1.0, 2.0],
                       "revenue_eur": [30.0, 90.0]})
    table = country_shares(small, tx, reps=200, seed=0)
    assert set(table["period"]) == {"month", "all"}
    assert table.loc[table["period"] == "all", "month"].isna().all()   # no "all" in `month`
    assert table["listings"].dtype == "int64" and table["sales"].dtype == "int64"
    shares = table.assign(month=table["month"].fillna("all")).set_index(["month", "origin"])
    jan = shares.loc["2020-01"]
    assert jan.loc["BE", "listings"] == 2 and jan.loc["NL", "listings"] == 3
    assert jan.loc["BE", "listings_share"] == pytest.approx(2 / 7)
    assert jan.loc["BE", "listings_share_known"] == pytest.approx(2 / 6)   # 'unknown' left out
    assert np.isnan(jan.loc["unknown", "listings_share_known"])
    # vendors count once, under their main origin: alpha BE (2 of 3), bravo NL, charlie, delta
    assert jan.loc["BE", "vendors"] == 1 and jan.loc["NL", "vendors"] == 1
    assert jan.loc["BE", "revenue_eur_share"] == pytest.approx(0.25)
    # n and a 95% interval beside each share; revenue is "no data" in a month without sales
    assert jan.loc["BE", "listings_known_total"] == 6 and jan.loc["BE", "sales_known_total"] == 3
    assert jan.loc["BE", "listings_share_known_low"] < 2 / 6 < jan.loc["BE",
                                                                       "listings_share_known_high"]
    assert 0 <= jan.loc["BE", "revenue_eur_share_known_low"] <= 0.25
    assert shares.loc["2020-02"]["revenue_eur"].isna().all()
    whole = shares.loc["all"]
    assert whole["listings"].sum() == 8
    assert whole.loc["DE", "vendors"] == 1   # delta: europe and DE tie, the first in order
    assert whole.loc["europe", "vendors"] == 0


def test_product_mix_index_against_the_market(small):
    mix = product_mix(small).set_index(["market", "origin", "category"])
    be_xtc = mix.loc[("m1", "BE", "ecstasy")]
    assert be_xtc["share"] == pytest.approx(0.5)
    assert be_xtc["market_share"] == pytest.approx(2 / 8)
    assert be_xtc["over_representation"] == pytest.approx(2.0)
    assert "index" not in mix.reset_index().columns
    assert be_xtc["origin_listings"] == 2 and be_xtc["share_low"] < 0.5 < be_xtc["share_high"]
    assert ("all", "BE", "ecstasy") in mix.index


def test_destinations_and_exclusions(small):
    dest = destinations(small).set_index(["market", "origin", "kind", "destination"])
    assert dest.loc[("m1", "BE", "excluded", "US"), "listings"] == 1
    assert dest.loc[("m1", "BE", "excluded", "AU"), "share"] == pytest.approx(0.5)
    assert dest.loc[("m1", "BE", "ships_to", "worldwide"), "origin_listings"] == 2


def test_multi_country_vendors_and_pairs(small):
    pairs = multi_country_pairs(small)
    whole = pairs[pairs["period"] == "all"]
    assert whole["pair"].tolist() == ["BE+NL"]          # delta's region does not count
    assert whole.iloc[0]["vendors"] == 1 and whole.iloc[0]["multi_country_vendors"] == 1
    assert whole.iloc[0]["vendors_with_country"] == 3   # alpha, bravo, delta
    assert whole.iloc[0]["multi_country_share"] == pytest.approx(1 / 3)
    profiles = vendor_profiles(small, pd.DataFrame(columns=["market", "vendor", "n",
                                                            "revenue_eur"]))
    # a market without feedback or units sold: sales and revenue are no data, not 0
    assert profiles["sales"].isna().all() and profiles["revenue_eur"].isna().all()
    assert isinstance(profiles["first_seen"].iloc[0], datetime.date)
    alpha = profiles.set_index("vendor").loc["alpha"]
    assert alpha["multi_country"] and list(alpha["countries"]) == ["BE", "NL"]
    assert alpha["primary_origin"] == "BE" and alpha["listings"] == 3
    assert alpha["product_mix"] == {"ecstasy": 0.6667, "amphetamine": 0.3333}  # 4 decimals
    assert not profiles.set_index("vendor").loc["delta", "multi_country"]


AGORA_BLOCK = """
    Feedbacks:
        5/5
        arrived fast, good
        2 days ago
        anon [0 deals]
        4/5
        ok but slow
        5/5 would buy again
        3 weeks ago
        anon ~5/5, 1~2 deals
"""


def test_parse_agora_feedback_block():
    rows = parse_agora_feedback(AGORA_BLOCK, "2014-02-10")
    assert [r["rating"] for r in rows] == [5, 4]
    assert rows[0]["date"] == "2014-02-08" and rows[1]["date"] == "2014-01-20"
    assert rows[1]["text"] == "ok but slow 5/5 would buy again"
    assert parse_agora_feedback("Feedbacks: No feedbacks found.", "2014-02-10") == []


def test_feedback_seen_on_two_scrapes_counts_once():
    base = {"market": "agora", "vendor": "v", "title": "t"}
    lst = pd.DataFrame([
        {**base, "listing_id": "a1", "scraped_at": "2014-02-10", "feedback_raw": AGORA_BLOCK},
        # a week later the same two feedbacks show 9 days / 4 weeks ago (dates within a day)
        {**base, "listing_id": "a2", "scraped_at": "2014-02-17",
         "feedback_raw": AGORA_BLOCK.replace("2 days", "9 days").replace("3 weeks", "4 weeks")},
    ])
    fb = feedback_from_listings(lst)
    assert len(fb) == 2 and set(fb["listing_id"]) == {"a1"}


def test_transactions_distribution():
    lst = prepare(pd.DataFrame([
        listing(1, "a", "BE", "ecstasy", 50.0),
        listing(2, "a", "BE", "ecstasy", 1000.0),
        listing(3, "b", "NL", "cannabis", 100.0, units_sold="3"),
        listing(4, "b", "NL", "cannabis", None),            # unpriced
        listing(5, "b", "NL", "cannabis", 999_999.0),       # placeholder price
    ]))
    fb = pd.DataFrame({"listing_id": ["m1-1", "m1-1", "m1-2", "m1-4", "m1-5", "gone"],
                       "date": ["2020-01-01"] * 6})
    tx, tallies = build_transactions(lst, fb, max_price_eur=100_000)
    assert tallies == {"feedback_unknown_listing": 1, "sales_unpriced": 1,
                       "sales_placeholder_price": 1}
    assert tx["n"].sum() == 6  # 2 + 1 feedback, 3 units sold
    summary = summarise_transactions(tx, ["market"], 200, 1000, reps=300, seed=0).iloc[0]
    values = np.array([50, 50, 1000, 100, 100, 100], dtype=float)
    assert summary["mean_eur"] == pytest.approx(values.mean())
    assert summary["median_eur"] == pytest.approx(np.median(values))
    assert summary["max_eur"] == 1000
    assert summary["share_sales_under_small"] == pytest.approx(5 / 6)
    assert summary["share_revenue_wholesale"] == pytest.approx(1000 / values.sum())
    assert summary["median_eur_low"] <= summary["median_eur"] <= summary["median_eur_high"]
    low, high = wilson(5, 6)
    assert (summary["share_sales_under_small_low"], summary["share_sales_under_small_high"]) \
        == pytest.approx((float(low), float(high)))
    again = summarise_transactions(tx, ["market"], 200, 1000, reps=300, seed=0).iloc[0]
    assert again["share_revenue_wholesale_low"] == summary["share_revenue_wholesale_low"]
    by = transaction_summaries(tx, 200, 1000, 100, 0).set_index(["market", "origin"])
    assert by.loc[("all", "BE"), "sales"] == 3 and by.loc[("m1", "all"), "sales"] == 6


def test_weighted_median_matches_numpy():
    rng = np.random.default_rng(0)
    for _ in range(20):
        v = rng.integers(1, 50, size=rng.integers(1, 9)).astype(float)
        n = rng.integers(1, 4, size=len(v))
        assert weighted_median(v, n.astype(float)) == pytest.approx(np.median(np.repeat(v, n)))


def two_markets() -> pd.DataFrame:
    """Six vendors on market `old` (2019), five of them again on `new` (2020): two under
    the same handle, three under changed handles, with their products and origins; one
    unrelated vendor only on `new`."""
    plan = [("GreenDragon", "GreenDragon", "cannabis", "NL"),
            ("Coke_King", "coke king", "cocaine", "BE"),
            ("PillPalace", "PillPalace2", "ecstasy", "BE"),
            ("speedyGonzales", "SpeedyGonzalez", "amphetamine", "DE"),
            ("LSDlab", "TheLSDlab", "psychedelics", "NL"),
            ("Benzoboss", None, "benzodiazepines", "FR")]
    rows, i = [], 0
    for old, new, category, origin in plan:
        for market, handle, day in (("old", old, "2019-03-01"), ("new", new, "2020-03-01")):
            if handle is None:
                continue
            for k in range(3):
                i += 1
                rows.append(listing(i, handle, origin, category, 20.0 + k, market=market,
                                    day=day, title=f"{category.upper()} premium {k} {origin} !!"))
    for k in range(3):
        i += 1
        rows.append(listing(i, "Unrelated", "US", "non_drug", 5.0, market="new",
                            day="2020-03-01", title=f"gift card {k}"))
    frame = pd.DataFrame(rows)
    return prepare(frame)


def linker_cfg() -> dict:
    return load_params()["analyse"]["linker"]


def test_linker_links_exact_and_changed_handles():
    accounts = vendor_accounts(two_markets())
    linker = make_linker(linker_cfg()).fit(accounts)
    links = linker.predict(accounts[accounts["market"] == "old"],
                           accounts[accounts["market"] == "new"])
    found = dict(zip(links["vendor"], links["vendor_to"], strict=True))
    assert found == {"GreenDragon": "GreenDragon", "Coke_King": "coke king",
                     "PillPalace": "PillPalace2", "speedyGonzales": "SpeedyGonzalez",
                     "LSDlab": "TheLSDlab"}
    exact = links.set_index("vendor")["handle_exact"]
    assert exact["GreenDragon"] and exact["Coke_King"] and not exact["PillPalace"]
    assert "handle_similarity" in links.set_index("vendor").loc["PillPalace", "evidence"]
    assert links["score"].between(0, 1).all()


def test_linker_without_similarity_evidence_keeps_exact_handles_only():
    accounts = vendor_accounts(two_markets())
    linker = VendorLinker(evidence=()).fit(accounts)
    links = linker.predict(accounts[accounts["market"] == "old"],
                           accounts[accounts["market"] == "new"])
    assert set(links["vendor"]) == {"GreenDragon", "Coke_King"}


def test_link_handle_and_perturbation():
    assert link_handle(" Coke_King ") == link_handle("coke king") == "cokeking"
    rng = random.Random(1)
    changed = [perturb_handle("GreenDragon", rng) for _ in range(30)]
    assert all(c != "GreenDragon" for c in changed)
    assert len(set(changed)) > 5


def test_linker_evaluation_on_perturbed_handles():
    accounts = vendor_accounts(two_markets())
    result = evaluate_linker(accounts, "old", "new", make_linker(linker_cfg()), 1.0, seed=3)
    assert result["verifiable_pairs"] == 2   # only identical handles are verifiable
    assert [s["evidence"] for s in result["steps"]][0] == "handle_exact"
    assert sum(s["links_added"] for s in result["steps"]) == result["steps"][-1]["links"]
    assert result["recall"] == 1.0


def test_migration_after_shock_respects_dates():
    accounts = vendor_accounts(two_markets())
    linker = make_linker(linker_cfg()).fit(accounts)
    shocks = [{"name": "old_closure", "market": "old", "date": "2019-06-01"},
              {"name": "too_early", "market": "old", "date": "2019-01-01"}]
    links, summary = migration_links(accounts, shocks, linker,
                                     {"days_before": 180, "days_after": 365})
    assert (links["shock"] == "old_closure").sum() == 5
    assert (links["shock"] == "too_early").sum() == 0  # `new` opens after its window
    assert set(links["gap_days"]) == {366} and set(links["days_after_shock"]) == {274}
    row = summary.set_index("shock").loc["old_closure"]
    assert row["accounts_before"] == 6 and row["linked"] == 5


def test_analyse_pseudonymises_vendor_columns():
    cfg = load_params()["analyse"]
    cfg = {**cfg, "shocks": [{"name": "s", "market": "old", "date": "2019-06-01",
                              "days_after": 365}],
           "linker": {**cfg["linker"], "evaluation": {"markets": ["old", "new"]}}}
    raw = two_markets().drop(columns=["origin", "month"])
    tables, metrics = analyse(raw, pd.DataFrame(), cfg, seed=0, vendor_key="k" * 16)
    assert tables["vendors"]["vendor"].str.startswith("v_").all()
    assert len(tables["migration_links"]) == 5
    assert tables["migration_links"]["vendor_to"].str.startswith("v_").all()
    assert metrics["linker_evaluation"]["verifiable_pairs"] == 2
    plain, _ = analyse(raw, pd.DataFrame(), cfg, seed=0)
    assert "GreenDragon" in set(plain["vendors"]["vendor"])


def test_cli_rejects_listings_without_extraction(tmp_path):
    path = tmp_path / "l.csv"
    pd.DataFrame([{"listing_id": "x", "market": "m", "vendor": "v"}]).to_csv(path, index=False)
    result = CliRunner().invoke(app, ["analyse", str(path), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "run `cryptodrug classify`" in result.output


def test_cli_analyse_quarantines_rows_without_ids_or_text(tmp_path):
    frame = two_markets().drop(columns=["origin", "month"])
    frame.loc[0, "listing_id"] = None
    frame.loc[1, "title"] = None
    frame.loc[2, "scraped_at"] = "15/03/2020"
    path = tmp_path / "l.parquet"
    frame.to_parquet(path)
    result = CliRunner().invoke(app, ["analyse", str(path), "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    quarantined = pd.read_parquet(tmp_path / "out" / "listings.quarantine.parquet")
    assert sorted(quarantined["reason"].str.split(" ").str[0]) == ["listing_id", "scraped_at",
                                                                    "title"]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["listings"] == len(frame) - 3 and summary["rows_quarantined"] == 3


def test_migration_window_leaves_out_a_vendor_seen_years_apart():
    """A vendor on agora in 2014 seen again on darkmatter in 2024 did not migrate after the
    agora closure of 2015; one last seen on agora in 2015 and first seen elsewhere two months
    after the closure did (cases written for this test)."""
    rows = [listing(1, "OldTimer", "NL", "cannabis", 20.0, market="agora", day="2014-03-01"),
            listing(2, "OldTimer", "NL", "cannabis", 20.0, market="darkmatter",
                    day="2024-07-01"),
            listing(3, "Mover", "BE", "ecstasy", 10.0, market="agora", day="2015-07-20"),
            listing(4, "Mover", "BE", "ecstasy", 10.0, market="dream", day="2015-10-25")]
    accounts = vendor_accounts(prepare(pd.DataFrame(rows)))
    linker = make_linker(linker_cfg()).fit(accounts)
    shock = [{"name": "agora_closure", "market": "agora", "date": "2015-08-26"}]
    links, summary = migration_links(accounts, shock, linker,
                                     {"days_before": 180, "days_after": 180})
    assert links["vendor"].tolist() == ["Mover"] and links["market_to"].tolist() == ["dream"]
    link = links.iloc[0]
    assert link["gap_days"] == 97 and link["days_after_shock"] == 60
    assert link["window_start"] == datetime.date(2015, 2, 27)
    assert link["window_end"] == datetime.date(2016, 2, 22)
    assert summary.set_index("market_to").loc["dream", "accounts_before"] == 1
    assert "darkmatter" not in set(summary["market_to"])   # first seen after the window
    wide, _ = migration_links(accounts, shock, linker, {"days_before": 4000, "days_after": 4000})
    assert set(wide["vendor"]) == {"OldTimer", "Mover"}   # the window, not the linker, decides


def test_bad_shock_window_is_one_line():
    accounts = vendor_accounts(two_markets())
    linker = make_linker(linker_cfg()).fit(accounts)
    with pytest.raises(InputError, match="days_before"):
        migration_links(accounts, [{"name": "s", "market": "old", "date": "June"}], linker)


def test_wilson_interval():
    low, high = wilson(np.array([5, 0, 0]), np.array([10, 10, 0]))
    assert low[0] == pytest.approx(0.2366, abs=1e-4) and high[0] == pytest.approx(0.7634, abs=1e-4)
    assert low[1] == 0 and high[1] == pytest.approx(0.2775, abs=1e-4)
    assert np.isnan(low[2]) and np.isnan(high[2])   # n = 0: no data


def test_tidy_tables_one_row_per_listing_with_integer_sales():
    lst = prepare(pd.DataFrame([listing(1, "a", "BE", "ecstasy", 50.0),
                                listing(2, "b", "NL", "cannabis", 100.0, units_sold="3")]))
    fb = pd.DataFrame({"listing_id": ["m1-1"] * 4, "date": ["2020-01-01", "2020-01-02",
                                                           "2020-02-01", "2020-02-03"]})
    cfg = {**load_params()["analyse"], "shocks": [], "bootstrap_reps": 50}
    tables, metrics = analyse(lst.drop(columns=["origin", "month"]), fb, cfg, seed=0)
    tx = tables["transactions"].set_index("listing_id")
    assert len(tx) == 2 and tx["sales"].dtype == "int64"
    assert tx.loc["m1-1", "sales"] == 4 and tx.loc["m1-1", "revenue_eur"] == 200.0
    assert tx.loc["m1-1", "first_date"] == datetime.date(2020, 1, 1)
    assert tx.loc["m1-1", "last_date"] == datetime.date(2020, 2, 3)
    assert metrics["sales"] == 7 and metrics["coverage"]["m1"]["sales"] == 7
    assert tables["transaction_summary"]["sales"].dtype == "int64"
    for table in tables.values():
        assert "index" not in table.columns
        if "month" in table.columns:
            assert "all" not in set(table["month"].dropna())


def test_substance_shares_count_each_listing_once_and_date_first_sightings():
    rows = pd.DataFrame([
        listing(1, "v1", "BE", "nps", 20, day="2020-01-05", substances=["3-mmc"]),
        listing(1, "v1", "BE", "nps", 20, day="2020-01-20", substances=["3-mmc"]),  # same
        listing(2, "v2", "NL", "ecstasy", 30, day="2020-02-03", substances=["mdma", "3-mmc"]),
        listing(3, "v3", "BE", "cannabis", 10, market="m2", day="2020-03-01",
                substances=["cannabis"]),
        listing(4, "v3", "BE", "non_drug", 5, market="m2", day="2019-12-01", substances=[]),
    ])
    table = substance_shares(prepare(rows), {"3-mmc": "nps", "mdma": "ecstasy",
                                             "cannabis": "cannabis"})
    whole = table[(table["market"] == "all") & (table["period"] == "all")
                  & (table["origin"] == "all")].set_index("substance")
    # 4 distinct listings over both markets; 3-MMC in two of them, by two vendors
    assert whole.loc["3-mmc", ["listings", "vendors", "origin_listings"]].tolist() == [2, 2, 4]
    assert whole.loc["3-mmc", "share"] == 0.5 and whole.loc["3-mmc", "nps"]
    assert 0 < whole.loc["3-mmc", "share_low"] < 0.5 < whole.loc["3-mmc", "share_high"] < 1
    assert str(whole.loc["3-mmc", "first_seen"]) == "2020-01-05"
    assert not whole.loc["mdma", "nps"] and whole.loc["mdma", "category"] == "ecstasy"
    january = table[(table["market"] == "m1") & (table["month"] == "2020-01")
                    & (table["origin"] == "BE")]
    assert january[["substance", "listings", "origin_listings"]].values.tolist() == [
        ["3-mmc", 1, 1]]
    # the listing naming nothing counts in the n of its origin, not as a substance
    be_m2 = table[(table["market"] == "m2") & (table["period"] == "all")
                  & (table["origin"] == "BE")]
    assert be_m2[["substance", "listings", "origin_listings"]].values.tolist() == [
        ["cannabis", 1, 2]]


def test_bootstraps_on_shared_resamples_equal_each_alone() -> None:
    """Drawing the resamples once for two statistics changes neither interval."""
    values = np.array([5.0, 20.0, 80.0, 300.0, 1500.0])
    sales = np.array([40.0, 25.0, 10.0, 4.0, 1.0])
    median = median_statistic(values)
    wholesale = share_statistic(values, (values >= 1000)[:, None], np.ones(5, bool))
    together = bootstrap_all(sales, [median, wholesale], reps=250, seed=7)
    for interval, statistic in zip(together, [median, wholesale], strict=True):
        np.testing.assert_array_equal(interval, bootstrap(sales, statistic, 250, 7))
    assert together[0][0] <= 20.0 <= together[0][1]

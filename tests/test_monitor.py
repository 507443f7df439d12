"""The monitor stage on two tiny snapshots: lifecycles, vendor moves, series, changes."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from pipeline.core.config import load_market_config
from pipeline.core.io import InputError
from pipeline.ingest import ingest_files
from pipeline.monitor.stage import run_monitor, snapshot_files


def snapshot(day: str, rows: list[tuple[str, str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame([{"market": "m", "listing_id": lid, "vendor": vendor, "title": lid,
                          "price_raw": price, "ships_from_raw": origin, "scraped_at": day}
                         for lid, vendor, price, origin in rows])


def test_two_snapshots_give_lifecycles_moves_series_and_changes(tmp_path: Path) -> None:
    first = snapshot("2024-07-06", [("a", "Kaaskop", "€10", "Netherlands"),
                                    ("b", "Kaaskop", "€20", "Netherlands"),
                                    ("c", "Waffle", "€30", "Belgium")])
    second = snapshot("2024-07-07", [("a", "Kaaskop", "€12", "Belgium"),
                                     ("d", "Newbie", "€5", "Germany")])
    paths = [tmp_path / "s2.csv", tmp_path / "s1.csv"]  # given out of order on purpose
    second.to_csv(paths[0], index=False)
    first.to_csv(paths[1], index=False)
    counts = run_monitor(paths, tmp_path / "out")
    assert counts["lifecycles"] == 4
    life = pd.read_parquet(tmp_path / "out" / "lifecycles.parquet").set_index("listing_id")
    assert life.loc["a", "first_seen"] == "2024-07-06" and life.loc["a", "price_changes"] == 1
    assert bool(life.loc["b", "disappeared"]) and not bool(life.loc["d", "disappeared"])
    vendors = pd.read_parquet(tmp_path / "out" / "vendors.parquet").set_index("vendor")
    assert vendors.loc["Kaaskop", "origin_first"] == "Netherlands"
    assert bool(vendors.loc["Kaaskop", "moved"]) and bool(vendors.loc["Newbie", "new_entrant"])
    assert bool(vendors.loc["Waffle", "exited"])
    series = pd.read_parquet(tmp_path / "out" / "series.parquet")
    assert series["belgian_vendors"].tolist() == [1, 1] and series["listings"].tolist() == [3, 2]
    changed = pd.read_parquet(tmp_path / "out" / "changes.parquet")
    assert sorted(changed["change"]) == ["listing_gone", "listing_gone", "listing_new",
                                         "price_changed", "vendor_gone", "vendor_moved",
                                         "vendor_new"]


def test_a_snapshot_without_listing_ids_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    pd.DataFrame({"title": ["x"]}).to_csv(path, index=False)
    with pytest.raises(InputError, match="missing columns"):
        run_monitor([path], tmp_path / "out")


def consistent(out: Path, n_snapshots: int) -> pd.DataFrame:
    """The monitoring tables agree with each other; returns the lifecycles."""
    life = pd.read_parquet(out / "lifecycles.parquet")
    series = pd.read_parquet(out / "series.parquet")
    vendors = pd.read_parquet(out / "vendors.parquet")
    prices = pd.read_parquet(out / "prices.parquet")
    changes = pd.read_parquet(out / "changes.parquet")
    assert len(series) == n_snapshots and life["listing_id"].is_unique
    assert life["snapshots"].sum() == series["listings"].sum(), "listing x snapshot pairs"
    assert vendors["snapshots"].sum() == series["vendors"].sum(), "vendor x snapshot pairs"
    assert prices.drop_duplicates(["listing_id", "snapshot"]).shape[0] == series["listings"].sum()
    assert (series["belgian_vendors"] <= series["vendors"]).all()
    last = series["snapshot"].iloc[-1]
    in_last = prices.loc[prices["snapshot"] == last, "listing_id"].nunique()
    assert len(life) - life["disappeared"].sum() == in_last
    kinds = changes["change"].value_counts()
    before = series["listings"].iloc[-2]
    assert before - kinds.get("listing_gone", 0) + kinds.get("listing_new", 0) == in_last
    return life


@pytest.mark.public_data
def test_darkmatter_daily_files_as_snapshots(public_data: Path, tmp_path: Path) -> None:
    """DarkMatter's physical-products exports of 6 and 7 July 2024, one snapshot per day,
    listings matched by vendor and title (the exports carry no listing id)."""
    cfg = load_market_config("darkmatter")
    paths = []
    for day in (6, 7):
        source = (public_data / "markets" / "darkmatter-2024"
                  / f"darkmatter_physical_products_7_{day}.csv")
        paths.append(tmp_path / f"darkmatter-2024-07-0{day}.parquet")
        ingest_files([source], cfg).listings.to_parquet(paths[-1])
    counts = run_monitor(paths, tmp_path / "out", match="vendor_title")
    life = consistent(tmp_path / "out", 2)
    assert counts["lifecycles"] == len(life)
    both = int((life["snapshots"] == 2).sum())
    assert 0.7 * len(life) < both < len(life), "most listings seen on both days, not all"
    assert set(life["first_seen"]) == {"2024-07-06", "2024-07-07"}


@pytest.mark.public_data
def test_agora_monthly_files_as_dated_snapshots(public_data: Path, tmp_path: Path) -> None:
    """Agora's files of January to March 2014 (a slice of each), one snapshot per scrape
    date inside them: series per date, lifecycles across months."""
    cfg = load_market_config("agora")
    listings = pd.concat([
        ingest_files([public_data / "markets" / "agora-2014" / f"products-2014-0{m}-01.csv"],
                     cfg).listings.head(1500) for m in (1, 2, 3)])
    paths = []
    for day, table in listings.groupby("scraped_at"):
        paths.append(tmp_path / f"agora-{day}.parquet")
        table.to_parquet(paths[-1])
    run_monitor(paths, tmp_path / "out", match="vendor_title")
    life = consistent(tmp_path / "out", len(paths))
    assert len(paths) >= 3 and (life["snapshots"] > 1).any()
    assert life["first_seen"].min() < life["last_seen"].max()


def test_a_market_folder_with_only_dvc_gitignore_holds_no_snapshot(tmp_path: Path) -> None:
    """A fresh clone carries `snapshots/<market>/.gitignore` of the other data configuration."""
    (tmp_path / "fixture").mkdir()
    (tmp_path / "fixture" / ".gitignore").write_text("/2018-11-18.parquet\n")
    (tmp_path / "darkmatter").mkdir()
    pd.DataFrame({"listing_id": ["a"]}).to_parquet(tmp_path / "darkmatter" / "2024-07-06.parquet")
    assert snapshot_files([tmp_path]) == [tmp_path / "darkmatter" / "2024-07-06.parquet"]

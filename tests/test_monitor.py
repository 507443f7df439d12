"""The monitor stage on two tiny snapshots: lifecycles, vendor moves, series, changes."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from pipeline.core.io import InputError
from pipeline.monitor.stage import run_monitor


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
    life = pd.read_csv(tmp_path / "out" / "lifecycles.csv").set_index("listing_id")
    assert life.loc["a", "first_seen"] == "2024-07-06" and life.loc["a", "price_changes"] == 1
    assert bool(life.loc["b", "disappeared"]) and not bool(life.loc["d", "disappeared"])
    vendors = pd.read_csv(tmp_path / "out" / "vendors.csv").set_index("vendor")
    assert vendors.loc["Kaaskop", "origin_first"] == "Netherlands"
    assert bool(vendors.loc["Kaaskop", "moved"]) and bool(vendors.loc["Newbie", "new_entrant"])
    assert bool(vendors.loc["Waffle", "exited"])
    series = pd.read_csv(tmp_path / "out" / "series.csv")
    assert series["belgian_vendors"].tolist() == [1, 1] and series["listings"].tolist() == [3, 2]
    changed = pd.read_csv(tmp_path / "out" / "changes.csv")
    assert sorted(changed["change"]) == ["listing_gone", "listing_gone", "listing_new",
                                         "price_changed", "vendor_gone", "vendor_moved",
                                         "vendor_new"]


def test_a_snapshot_without_listing_ids_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    pd.DataFrame({"title": ["x"]}).to_csv(path, index=False)
    with pytest.raises(InputError, match="missing columns"):
        run_monitor([path], tmp_path / "out")

"""Monitoring in `dvc repro`, on a fresh copy of the project: the bundled snapshots of the
fixture market (two crawls, data/sample/snapshots/fixture) are ingested one stage each and
joined by the `monitor` stage, without the rest of the pipeline; then `cryptodrug report
--monitoring` shows them as figures with their n."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from test_report import write_inputs

from pipeline.core.config import PROJECT_ROOT

pytestmark = pytest.mark.slow


def fresh_clone(dest: Path) -> Path:
    """The working tree as a clone would give it once committed: tracked and new files
    that git does not ignore, nothing built (no data/interim, no models, no DVC cache)."""
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"],
                           cwd=PROJECT_ROOT, capture_output=True, text=True, check=True)
    for name in filter(None, files.stdout.split("\0")):
        source = PROJECT_ROOT / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    subprocess.run(["git", "init", "-q"], cwd=dest, check=True)
    return dest


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def test_dvc_repro_monitor_on_a_fresh_clone_then_the_report_section(tmp_path: Path) -> None:
    clone = fresh_clone(tmp_path / "clone")
    done = run([sys.executable, "-m", "dvc", "repro", "monitor"], clone)
    ran = re.findall(r"Running stage '([^']+)'", done.stdout)
    assert sorted(ran) == ["ingest_snapshot@fixture-2018-11-18",
                           "ingest_snapshot@fixture-2018-11-21", "monitor"], done.stdout
    out = clone / "data" / "processed" / "monitoring"
    series = pd.read_parquet(out / "series.parquet")
    assert series["snapshot_date"].tolist() == ["2018-11-18", "2018-11-21"]
    assert series["listings"].tolist() == [12, 13]
    life = pd.read_parquet(out / "lifecycles.parquet").set_index("listing_id")
    assert len(life) == 14 and life["disappeared"].sum() == 1
    assert bool(life.loc["fixture-100009", "disappeared"])
    changes = pd.read_parquet(out / "changes.parquet")
    assert changes["change"].value_counts().to_dict() == {
        "price_changed": 3, "listing_new": 2, "listing_gone": 1, "vendor_new": 1,
        "vendor_moved": 1}
    vendors = pd.read_parquet(out / "vendors.parquet").set_index("vendor")
    assert bool(vendors.loc["EifelExpress", "new_entrant"])

    analytics, metrics = write_inputs(tmp_path)
    page = tmp_path / "index.html"
    run([sys.executable, "-m", "pipeline.cli", "report", str(analytics), "-o", str(page),
         "--metrics-dir", str(metrics), "--monitoring", str(out)], clone)
    section = page.read_text().split('<h2 id="monitoring">')[1].split("<h2")[0]
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", section))
    for figure in ("fig-monitor-series", "fig-monitor-entries", "fig-monitor-prices"):
        assert re.search(rf'id="{figure}"><img [^>]*src="data:image/png;base64,', section)
    assert "n = 25 listing sightings in 2 snapshots" in text
    assert "2 listings new, 1 gone, 3 with a new price (of 12)" in text
    assert "n = 0 listing sightings with a per-gram price" in text   # ingest only: no extract
    assert section.count('<tr class="low-n">') == 2                   # 12 and 13 < min_n 30

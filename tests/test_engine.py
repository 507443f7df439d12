"""Partitioned datasets and the engines: the local engine and Dask (a LocalCluster, and a
real scheduler with worker processes, one killed mid-run) write byte-identical outputs."""

from __future__ import annotations

import filecmp
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from test_classify import make_listings, params_file, write_market_configs, write_market_tables
from typer.testing import CliRunner

from pipeline.classify.stage import run_classify
from pipeline.cli import app
from pipeline.core.io import (
    dataset_partitions,
    is_dataset,
    partition_of,
    read_dataset,
    read_table,
    write_partition,
)

pytest.importorskip("distributed")
DASK = {"name": "dask", "scheduler": None, "n_workers": 2, "threads_per_worker": 1}


def same_tree(a: Path, b: Path) -> None:
    files_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files_a == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    _, mismatch, errors = filecmp.cmpfiles(a, b, [str(f) for f in files_a], shallow=False)
    assert not mismatch and not errors


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A trained classifier and a dataset of 24 partitions (2 markets x 12 scrape days)."""
    root = tmp_path_factory.mktemp("engine")
    listings = pd.concat([make_listings("alpha", 30, 1), make_listings("beta", 30, 2)],
                         ignore_index=True)
    tables = write_market_tables(root / "tables", listings)
    params = params_file(root)
    result = CliRunner().invoke(app, [
        "train-classifier", str(tables), "-o", str(root / "model"), "--params", str(params),
        "--market-config", str(write_market_configs(root / "markets"))])
    assert result.exit_code == 0, result.output
    listings["scraped_at"] = [f"2024-01-{1 + i % 12:02d}" for i in range(len(listings))]
    listings.loc[3, "title"] = ""  # one row for the quarantine
    dataset = root / "listings"
    for (market, day), rows in listings.groupby(["market", "scraped_at"]):
        write_partition(rows, dataset, partition_of({"market": market, "scraped_at": day}))
    return {"root": root, "model": root / "model", "dataset": dataset, "params": params}


def classify(workspace: dict[str, Path], out: Path, engine: dict | None) -> dict[str, int]:
    import yaml

    params = yaml.safe_load(workspace["params"].read_text()) | {"engine": engine}
    return run_classify(workspace["dataset"], out, workspace["model"], params)


def test_dataset_paths_and_accounting(workspace):
    assert is_dataset(workspace["dataset"]) and is_dataset(workspace["root"] / "new")
    assert not is_dataset(workspace["root"] / "tables")  # a folder of plain tables
    out = workspace["root"] / "local"
    counts = classify(workspace, out, None)
    assert counts["partitions"] == 24 == len(dataset_partitions(out))
    assert counts["rows_in"] == counts["rows_out"] + counts["rows_quarantined"] == 240
    assert counts["rows_quarantined"] == 1
    assert read_table(out)["listing_id"].is_unique  # read_table reads a dataset whole
    part = read_dataset(out)["listing_id"]
    first = dataset_partitions(out)[0]
    assert first == "market=alpha/scraped_at=2024-01-01"
    assert part.iloc[:10].is_monotonic_increasing  # rows in sort-key order


def test_local_and_dask_localcluster_are_byte_identical(workspace):
    local, dask = workspace["root"] / "local2", workspace["root"] / "dask"
    assert classify(workspace, local, None) == classify(workspace, dask, DASK)
    for suffix in ("", ".quarantine", ".review"):
        same_tree(local.with_name(local.name + suffix), dask.with_name(dask.name + suffix))


def _start(args: list[str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "distributed.cli." + args[0], *args[1:]],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


@pytest.mark.slow
def test_a_worker_killed_mid_run_changes_nothing(workspace, tmp_path):
    """A real `dask scheduler` and two `dask worker` processes on 127.0.0.1; one worker is
    killed once the first partitions are written; Dask reschedules its tasks."""
    file = tmp_path / "scheduler.json"
    procs = [_start(["dask_scheduler", "--host", "127.0.0.1", "--port", "0",
                     "--no-dashboard", "--scheduler-file", str(file)])]
    try:
        for _ in range(120):
            if file.exists() and file.stat().st_size:
                break
            time.sleep(0.25)
        address = json.loads(file.read_text())["address"]
        procs += [_start(["dask_worker", address, "--nthreads", "1", "--no-dashboard",
                          "--name", f"w{i}"]) for i in range(2)]
        out, done = tmp_path / "cluster", {}
        engine = {"name": "dask", "scheduler": address}
        from distributed import Client

        with Client(address) as client:
            client.wait_for_workers(2, timeout=60)
        run = threading.Thread(target=lambda: done.update(classify(workspace, out, engine)))
        run.start()
        killed_at = None
        while run.is_alive() and killed_at is None:
            written = list(out.rglob("part-0.parquet")) if out.exists() else []
            if written:
                killed_at = len(written)
                os.killpg(procs[1].pid, signal.SIGKILL)
            time.sleep(0.01)
        run.join(timeout=120)
        assert killed_at is not None and killed_at < 24, "the run ended before the kill"
        assert done["rows_in"] == 240
        reference = workspace["root"] / "reference"
        classify(workspace, reference, None)
        same_tree(reference, out)
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=30)


MEMORY_RUN = r"""
import re, sys, yaml
from pathlib import Path
from pipeline.classify.stage import run_classify
from pipeline.ingest.stage import run_ingest
model, params, suffix, step = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4]
for raw, out in zip(map(Path, sys.argv[5::2]), map(Path, sys.argv[6::2])):
    if step == "ingest":
        run_ingest([raw], yaml.safe_load((raw / "m.yaml").read_text()),
                   out.with_suffix(suffix), False, None)
    else:
        run_classify(out.with_suffix(suffix), Path(str(out) + "_c" + suffix), model,
                     yaml.safe_load(params.read_text()))
    # VmHWM is this process's own peak so far; ru_maxrss would carry the forking parent's
    status = Path("/proc/self/status").read_text()
    print("peak", int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) // 1024)
"""


def _corpus(folder: Path, days: int) -> Path:
    """`days` CSV files of 300 listings with 4 KB descriptions (one partition each)."""
    import numpy as np
    import yaml

    rng = np.random.default_rng(0)
    words = np.array(["weed", "kush", "coke", "mdma", "pills", "hash", "fast", "stealth",
                      "premium", "batch"])
    folder.mkdir(parents=True)
    for day in range(days):
        pd.DataFrame({
            "title": [" ".join(rng.choice(words, 5)) + f" {day}-{i}" for i in range(300)],
            "description": [" ".join(rng.choice(words, 600)) for _ in range(300)],
            "vendor": [f"v{i % 40}" for i in range(300)], "price_raw": "10",
            "scraped_at": f"2024-03-{day + 1:02d}"}).to_csv(folder / f"m_{day:02d}.csv",
                                                        index=False)
    columns = ["title", "description", "vendor", "price_raw", "scraped_at"]
    (folder / "m.yaml").write_text(yaml.safe_dump({
        "adapter": "tabular", "name": "gen", "files": ["m_*.csv"],
        "columns": {c: c for c in columns}}))
    return folder


def _peak_growth_mb(workspace: dict[str, Path], runs: list[tuple[Path, Path]], suffix: str,
                    steps: tuple[str, ...] = ("ingest", "classify")) -> dict[str, int]:
    """Per step, one fresh process (a model's load peak would otherwise hide what the data
    costs) runs the small corpus, then the large one: how far the large one raises the
    process's peak resident memory, in MB."""
    growth = {}
    for step in steps:
        done = subprocess.run(
            [sys.executable, "-c", MEMORY_RUN, str(workspace["model"]),
             str(workspace["params"]), suffix, step, *[str(p) for run in runs for p in run]],
            capture_output=True, text=True, check=True)
        peaks = [int(line.split()[1]) for line in done.stdout.splitlines()
                 if line.startswith("peak ")]
        growth[step] = peaks[-1] - peaks[0]
    return growth


@pytest.mark.slow
def test_partitioned_memory_is_bounded_by_the_partition(workspace, tmp_path):
    """Ingest + classify of a corpus 20 partitions large after one of 2: the partitioned
    peaks stay where the small corpus put them; the whole-table ingest's grows."""
    corpora = [_corpus(tmp_path / "small", 2), _corpus(tmp_path / "large", 20)]
    partitioned = _peak_growth_mb(workspace, list(zip(corpora, [tmp_path / "s", tmp_path / "l"],
                                                      strict=True)), "")
    whole = _peak_growth_mb(workspace, list(zip(corpora, [tmp_path / "ws", tmp_path / "wl"],
                                                strict=True)), ".parquet", ("ingest",))
    assert partitioned["ingest"] < 50 and partitioned["classify"] < 50, partitioned
    assert whole["ingest"] > 80, whole


@pytest.mark.public_data
def test_public_slice_ingest_local_and_dask_are_byte_identical(public_data, tmp_path):
    """DarkMatter's four public exports ingested into a dataset by both engines."""
    from pipeline.core.config import load_market_config
    from pipeline.ingest.stage import run_ingest

    cfg, raw = load_market_config("darkmatter"), [public_data / "markets" / "darkmatter-2024"]
    local = run_ingest(raw, cfg, tmp_path / "local", False, None, None)
    dask = run_ingest(raw, cfg, tmp_path / "dask", False, None, DASK)
    assert local == dask and local["rows_out"] > 1000 and local["partitions"] >= 3
    for suffix in ("", ".quarantine", ".feedback", ".vendors"):
        same_tree(tmp_path / f"local{suffix}", tmp_path / f"dask{suffix}")

"""Byte reproducibility: the same commands on the same input write the same bytes.

`dvc repro` records the hash of every output in dvc.lock and keeps the metrics in git, so an
output that changes from run to run (a timestamp, a zip entry's time, set order under a new
hash seed, an object's memory address, the working folder's path) leaves `git status` dirty
and invalidates the cache downstream. Each run is a fresh process with its own
PYTHONHASHSEED and its own working folder, as two `dvc repro` runs on two machines would be.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.core.config import PROJECT_ROOT, load_params, write_params

# Runs a list of `cryptodrug` argument lists in one process (one interpreter start, not one
# per command) and stops at the first failure with the command's message or traceback.
DRIVER = """
import json, sys
from typer.testing import CliRunner
from pipeline.cli import app
for argv in json.loads(sys.argv[1]):
    result = CliRunner().invoke(app, argv, catch_exceptions=False)
    if result.exit_code != 0:
        sys.exit(f"cryptodrug {' '.join(argv)} -> exit {result.exit_code}: {result.output}")
"""

# A smaller linear model keeps training short; reproducibility does not depend on size.
SMALL_MODEL = {"word_features": 5000, "char_hash_bits": 14, "n_jobs": 1}


def start_commands(commands: list[list[str]], run: Path, hash_seed: str) -> subprocess.Popen:
    """The commands in a fresh process working in `run`, as DVC works in the project root."""
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    return subprocess.Popen([sys.executable, "-c", DRIVER, json.dumps(commands)], env=env,
                            cwd=run, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def tree_bytes(path: Path) -> dict[str, bytes]:
    """Every file under `path` (or `path` itself) by its relative name."""
    if path.is_file():
        return {path.name: path.read_bytes()}
    return {p.relative_to(path).as_posix(): p.read_bytes()
            for p in sorted(path.rglob("*")) if p.is_file()}


def assert_same_bytes(first: Path, second: Path) -> None:
    a, b = tree_bytes(first), tree_bytes(second)
    assert sorted(a) == sorted(b), "the two runs wrote different files"
    differing = [name for name in a if a[name] != b[name]]
    assert not differing, f"run-dependent bytes in: {differing}"


def write_small_params(path: Path) -> None:
    """The project's params with a smaller classifier (same code paths)."""
    params = load_params()
    params["model"]["params"] = {**params["model"]["params"], **SMALL_MODEL}
    write_params(params, path)


PARAMS = ["--params", "params.yaml"]


def ingest_and_train_commands() -> list[list[str]]:
    """The first stages of dvc.yaml on the bundled sample, with relative paths as in DVC:
    ingest every sample market, then train the classifier on them."""
    data = load_params()["data"]
    return [
        ["ingest", "--market", market, f"{data['root']}/{folder}",
         "-o", f"listings/{market}.parquet", "--metrics", f"metrics/ingest/{market}.json"]
        for market, folder in data["markets"].items()
    ] + [["train-classifier", "listings", "-o", "models/classifier", *PARAMS]]


def report_commands() -> list[list[str]]:
    """The rest of the listings side of dvc.yaml: classify, extract, analyse, report. The
    review, forum and theme summaries are absent, so the report shows them "not run"."""
    return [
        ["classify", "listings", "-o", "processed/listings_classified.parquet",
         "--model", "models/classifier", *PARAMS],
        ["extract", "processed/listings_classified.parquet", "-o", "processed/listings.parquet",
         *PARAMS],
        ["analyse", "processed/listings.parquet", "-o", "processed/analytics",
         "--feedback", "listings", "--metrics", "metrics/linker.json", *PARAMS],
        ["report", "processed/analytics", "-o", "index.html", "--metrics-dir", "metrics",
         "--reviews-summary", "absent/reviews_summary",
         "--forum-summary", "absent/forum_posts_summary.parquet",
         "--themes", "absent/themes.parquet", "--segments", "absent/segments.parquet",
         *PARAMS],
    ]


def run_twice(commands: list[list[str]], runs: tuple[Path, Path]) -> None:
    """Both runs at once (two processes, as on two machines)."""
    procs = [start_commands(commands, run, seed) for run, seed in zip(runs, ("1", "2"),
                                                                       strict=True)]
    for proc in procs:
        _, stderr = proc.communicate(timeout=300)
        assert proc.returncode == 0, stderr[-3000:]


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Ingest and training twice, in two project folders (sharing `conf/` and `data/`) and
    two processes with different hash seeds."""
    root = tmp_path_factory.mktemp("reproducible")
    runs = (root / "first", root / "second")
    for run in runs:
        run.mkdir()
        for shared in ("conf", "data"):  # the project's configuration and sample, read-only
            (run / shared).symlink_to(PROJECT_ROOT / shared)
        write_small_params(run / "params.yaml")
    run_twice(ingest_and_train_commands(), runs)
    return runs


@pytest.fixture(scope="module")
def two_reports(two_runs: tuple[Path, Path]) -> tuple[Path, Path]:
    """The stages down to the report, twice, on the outputs of `two_runs`."""
    run_twice(report_commands(), two_runs)
    return two_runs


def assert_output_reproduced(runs: tuple[Path, Path], output: str) -> None:
    first, second = (run / output for run in runs)
    assert first.exists(), f"{output} was not written"
    assert_same_bytes(first, second)


@pytest.mark.parametrize("output", [
    "listings",  # listings, quarantine, feedback and vendor tables
    "metrics/ingest",  # kept in git (dvc.yaml: cache false)
    "models/classifier",  # skops archive and model card
])
def test_ingest_and_training_write_the_same_bytes_twice(two_runs: tuple[Path, Path],
                                                        output: str):
    assert_output_reproduced(two_runs, output)


@pytest.mark.slow
@pytest.mark.parametrize("output", [
    "processed/listings_classified.parquet",
    "processed/listings.parquet",
    "processed/analytics",
    "metrics/linker.json",  # kept in git
    "index.html",
])
def test_classify_extract_analyse_report_write_the_same_bytes_twice(
        two_reports: tuple[Path, Path], output: str):
    assert_output_reproduced(two_reports, output)

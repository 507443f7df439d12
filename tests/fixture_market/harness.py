"""Running `cryptodrug crawl` against the fixture market from a test or a benchmark: the
market's YAML without the polite delay, and the crawl as a child process (Scrapy's reactor
runs once per process, and a child can be killed with -9)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from pipeline.core.config import PROJECT_ROOT, load_market_config


def fast_market(folder: Path, **crawl: Any) -> Path:
    """The fixture market's YAML in `folder`, with no delay and 4 requests at a time (or
    the given `crawl:` settings), so a test crawl takes seconds."""
    cfg = load_market_config("fixture")
    cfg["crawl"].update({"delay": 0.0, "concurrency": 4, "autothrottle": False, **crawl})
    path = folder / "fixture.yaml"
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True))
    return path


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "pipeline.cli", *args]


def crawl(market: Path, out: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(cli("crawl", "--market", str(market), "-o", str(out), *args),
                            cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)


def finish(process: subprocess.Popen[str], timeout: float = 60) -> tuple[int, str]:
    output, _ = process.communicate(timeout=timeout)
    return process.returncode, output


def run_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """A `cryptodrug` command to its end, output captured."""
    return subprocess.run(cli(*args), cwd=PROJECT_ROOT, capture_output=True, text=True,
                          timeout=timeout)

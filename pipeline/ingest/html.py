"""The HTML adapter for saved market pages (being built)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline.ingest import ADAPTERS, AdapterResult
from pipeline.io import InputError


@ADAPTERS.register("html")
def read_html_page(path: Path, cfg: dict[str, Any]) -> AdapterResult:
    raise InputError(f"{path}: the HTML adapter is not built yet")

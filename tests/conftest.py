"""Shared fixtures. Tests that read the real public data take the `public_data` fixture,
which skips them with a reason when `$CRYPTODRUG_PUBLIC_DATA` (or ../shared/data) is absent."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.core.config import PROJECT_ROOT, public_data_root


@pytest.fixture(scope="session")
def public_data() -> Path:
    root = public_data_root()
    if root is None:
        pytest.skip("public data absent: set CRYPTODRUG_PUBLIC_DATA to ../shared/data")
    return root


@pytest.fixture(scope="session")
def project_root() -> Path:
    return PROJECT_ROOT


@pytest.fixture(scope="session")
def sample_data(project_root: Path) -> Path:
    return project_root / "data" / "sample"

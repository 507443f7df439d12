"""Shared fixtures. Tests that read the real public data take the `public_data` fixture,
which skips them with a reason when `$CRYPTODRUG_PUBLIC_DATA` (or ../shared/data) is absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from pipeline.core.config import PROJECT_ROOT, public_data_root

# Hypothesis profiles, chosen by $HYPOTHESIS_PROFILE: `ci` (default) is deterministic and
# small enough for tests/test_fuzz.py to run in under a minute on two cores; `bench`
# (scripts/bench_fuzz.py) tries many more inputs. Tests that set their own `max_examples`
# keep it.
_FUZZ_HEALTH = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]
settings.register_profile("ci", max_examples=6, derandomize=True, deadline=None, database=None,
                          suppress_health_check=_FUZZ_HEALTH)
settings.register_profile("bench", max_examples=200, deadline=None,
                          suppress_health_check=_FUZZ_HEALTH)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


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


"""Configuration: the Hydra tree under `conf/`, the composed `params.yaml`, market configs.

DVC composes `conf/` into `params.yaml` only on `dvc exp run`; `dvc repro` reads the
committed `params.yaml`. Stages therefore read `params.yaml`, and a test checks that it
equals the composition of `conf/` (`compose_params`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from omegaconf import OmegaConf

from pipeline.core.io import InputError


def find_project_root(start: Path | None = None) -> Path:
    """The nearest folder at or above the working directory that holds `conf/config.yaml`
    (where DVC runs every stage), so a command reads the configuration of the project it
    runs in, whatever the install; the source checkout of the package otherwise."""
    start = (start or Path.cwd()).resolve()
    for folder in (start, *start.parents):
        if (folder / "conf" / "config.yaml").is_file():
            return folder
    return Path(__file__).resolve().parents[2]


PROJECT_ROOT = find_project_root()
CONF_DIR = PROJECT_ROOT / "conf"
PARAMS_FILE = PROJECT_ROOT / "params.yaml"
PUBLIC_DATA_ENV = "CRYPTODRUG_PUBLIC_DATA"


def compose_params(overrides: list[str] | None = None) -> dict[str, Any]:
    """Compose `conf/config.yaml` with Hydra, as `dvc exp run` does, into a plain dict."""
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(config_name="config", overrides=overrides or [])
    return OmegaConf.to_container(cfg, resolve=True)  # type: ignore[return-value]


def write_params(params: dict[str, Any], path: Path = PARAMS_FILE) -> None:
    path.write_text(yaml.safe_dump(params, sort_keys=False, allow_unicode=True))


def load_params(path: str | Path | None = None) -> dict[str, Any]:
    """The parameters a stage runs with: `params.yaml` at the project root by default."""
    path = Path(path) if path else PARAMS_FILE
    if not path.exists():
        raise InputError(f"{path}: no params file (run `python scripts/compose_params.py`)")
    return yaml.safe_load(path.read_text()) or {}


def public_data_root() -> Path | None:
    """Where the real public data lives (`$CRYPTODRUG_PUBLIC_DATA`), or None if absent."""
    root = os.environ.get(PUBLIC_DATA_ENV)
    candidate = Path(root) if root else PROJECT_ROOT.parent / "shared" / "data"
    return candidate if candidate.is_dir() else None


def load_market_config(name_or_path: str) -> dict[str, Any]:
    """A market adapter's configuration: `conf/markets/NAME.yaml`, or a YAML file path
    (so a researcher can try a new market without touching the project)."""
    path = Path(name_or_path)
    if path.suffix not in (".yaml", ".yml"):
        path = CONF_DIR / "markets" / f"{name_or_path}.yaml"
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in (CONF_DIR / "markets").glob("*.yaml")))
        raise InputError(f"unknown market {name_or_path!r} (known: {known})")
    cfg = OmegaConf.to_container(OmegaConf.load(path), resolve=True)
    if not isinstance(cfg, dict) or "adapter" not in cfg:
        raise InputError(f"{path}: market config needs an 'adapter' key")
    cfg.setdefault("name", path.stem)
    return cfg

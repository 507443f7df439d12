"""The import rules that give the package its shape (README "Layout"):

- `pipeline.core` (text, language, IO, schemas, registries, the ML kernel) imports no stage;
- a stage (`pipeline.<stage>`) imports the core and itself, never another stage;
- `pipeline.cli` imports stages, and nothing in the package imports it.

Stages meet only through the files they write, as DVC sees them.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "pipeline"
CORE = "core"
CLI = "cli"


def stage_names() -> list[str]:
    return sorted(
        p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists() and p.name != CORE
    )


def imported_modules(path: Path) -> set[str]:
    """Every `pipeline.*` module a file imports, at any depth (lazy imports count)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package_parts = path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(package_parts[: len(package_parts) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return {m for m in found if m == "pipeline" or m.startswith("pipeline.")}


def owner(module: str) -> str | None:
    """The part of the package a module belongs to: core, cli, a stage name, or None for
    the package root."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def violations(stages: list[str]) -> list[str]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        here = owner(".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts))
        for module in sorted(imported_modules(path)):
            target = owner(module)
            if target is None or target == here:
                continue
            if target == CLI:
                found.append(f"{path.relative_to(PACKAGE)} imports the CLI ({module})")
            elif here == CORE and target in stages:
                found.append(f"{path.relative_to(PACKAGE)}: the core imports stage {module}")
            elif here in stages and target in stages:
                found.append(f"{path.relative_to(PACKAGE)}: stage {here} imports {module}")
    return found


def test_the_package_has_a_core_and_stages() -> None:
    assert (PACKAGE / CORE / "__init__.py").exists()
    assert {"ingest", "classify", "extract", "analyse", "report", "reviews", "forums",
            "themes", "inspect"} <= set(stage_names())


def test_no_stage_imports_another_and_the_core_imports_no_stage() -> None:
    assert violations(stage_names()) == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from pipeline.ingest import ingest_files\n", "stage analyse imports"),
        ("from pipeline.cli import app\n", "imports the CLI"),
        ("def f():\n    from ..ingest.stage import run_ingest\n", "stage analyse imports"),
    ],
)
def test_the_rule_catches_a_stage_importing_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str, expected: str
) -> None:
    """The checker itself can fail: a planted import in a copy of a stage is reported."""
    fake = tmp_path / "pipeline"
    for part in ("core", "analyse", "ingest"):
        (fake / part).mkdir(parents=True)
        (fake / part / "__init__.py").write_text("")
    (fake / "analyse" / "leak.py").write_text(source)
    monkeypatch.setattr(__import__(__name__), "PACKAGE", fake)
    found = violations(["analyse", "ingest"])
    assert any(expected in line for line in found), found

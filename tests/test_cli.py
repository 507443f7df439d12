"""The command line's own surface: --version, -h, and the commands in pipeline order."""

from __future__ import annotations

from importlib.metadata import version

import pytest
from typer.testing import CliRunner

from pipeline.cli import PANELS, app, command_name

SECTIONS = ["1. Collect and ingest", "2. Classify listings",
            "3. Extract quantities, prices, shipping", "4. Reviews and forum posts",
            "5. Survey and interview answers", "6. Analyse and report", "7. Share"]


def _help(*args: str) -> str:
    result = CliRunner().invoke(app, [*args], env={"COLUMNS": "200"}, prog_name="cryptodrug")
    assert result.exit_code == 0, result.output
    return result.output


def test_version():
    assert _help("--version").strip() == f"cryptodrug {version('cryptodrug')}"


@pytest.mark.parametrize("flag", ["-h", "--help"])
def test_help_flags_on_the_app_and_a_command(flag: str):
    assert "Usage: cryptodrug [OPTIONS] COMMAND" in _help(flag)
    assert "Usage: cryptodrug export" in _help("export", flag)


def test_sections_in_pipeline_order():
    text = _help("-h")
    assert list(PANELS) == SECTIONS
    positions = [text.index(section) for section in SECTIONS]
    assert positions == sorted(positions)
    assert "Other commands" not in text, "give the new command a place in cli.PANELS"


def test_every_command_has_a_section_and_commands_follow_it():
    names = [command_name(info) for info in app.registered_commands]
    order = [name for section in PANELS.values() for name in section]
    assert sorted(names) == sorted(order)
    assert names == order


def test_choices_and_defaults_are_shown():
    text = _help("export", "-h")
    assert "csv|dta" in text and "default: csv" in text

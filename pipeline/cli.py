"""The `cryptodrug` command line: a thin layer over the stage modules.

Each command parses its arguments, calls pure functions of one stage module and writes
the result; DVC stages call these same commands. Heavy libraries are imported inside the
commands so that `cryptodrug --help` stays fast.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from pipeline.io import InputError, console

app = typer.Typer(
    help="cryptodrug: reproducible research pipeline for darknet drug markets.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

InPath = Annotated[Path, typer.Argument(help="input table (.csv, .jsonl, .parquet) or folder")]
OutPath = Annotated[Path, typer.Option("-o", "--out", help="output file")]
ParamsOpt = Annotated[
    Path | None, typer.Option("--params", help="params file (default: params.yaml)")
]


def one_line_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Unusable input ends the command with a one-line reason and exit code 2."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except InputError as err:
            console.print(f"[red]error:[/red] {err}", highlight=False, soft_wrap=True)
            raise typer.Exit(code=2) from None

    return wrapper


# --- stage 1: ingest ---------------------------------------------------------------------


@app.command()
@one_line_errors
def ingest(
    inputs: Annotated[list[Path], typer.Argument(help="raw files or folders of one market")],
    market: Annotated[str, typer.Option(help="market config name (conf/markets/NAME.yaml) or path")],
    out: OutPath,
    pseudonymise: Annotated[
        bool, typer.Option(help="replace vendor handles by keyed tokens ($CRYPTODRUG_VENDOR_KEY)")
    ] = False,
    metrics: Annotated[Path | None, typer.Option(help="write counts and fill rates as JSON")] = None,
) -> None:
    """Raw scrapes of one market -> canonical listings (SPEC section 2)."""
    from pipeline.ingest.cli import run_ingest

    run_ingest(inputs, market, out, pseudonymise, metrics)


# --- commands that later stages fill -------------------------------------------------------


def _not_built(name: str) -> None:
    console.print(f"error: `cryptodrug {name}` is not built yet")
    raise typer.Exit(code=1)


@app.command("train-classifier")
def train_classifier(inp: InPath, out: OutPath) -> None:
    """Labelled canonical listings -> a model directory with a model card."""
    _not_built("train-classifier")


@app.command()
def classify(inp: InPath, out: OutPath) -> None:
    """Canonical listings -> + category, category_confidence."""
    _not_built("classify")


@app.command()
def extract(inp: InPath, out: OutPath) -> None:
    """Canonical listings -> + quantities, doses, purity, prices in EUR, shipping."""
    _not_built("extract")


@app.command()
def sentiment(inp: InPath, out: OutPath) -> None:
    """Reviews -> + sentiment, sentiment_score."""
    _not_built("sentiment")


@app.command("harm-reduction")
def harm_reduction(inp: InPath, out: OutPath) -> None:
    """Forum posts -> + harm_reduction, hr_labels."""
    _not_built("harm-reduction")


@app.command("code-themes")
def code_themes(inp: InPath, out: OutPath) -> None:
    """Answer segments -> one row per assigned code."""
    _not_built("code-themes")


if __name__ == "__main__":
    app()

"""Hostile input for every command that reads outside data: the command exits 0 or 2, never
with a traceback, and when it succeeds the rows it read are all in its output or its
quarantine file (SPEC section 1). Strategies: tests/fuzz_strategies.py; example counts:
the Hypothesis profile (`ci` by default, `bench` in scripts/bench_fuzz.py)."""

from __future__ import annotations

import re
import tempfile
import traceback
from pathlib import Path

import pytest
import yaml
from click.testing import Result
from fuzz_strategies import (
    hostile_answers,
    hostile_file,
    hostile_page,
    train_tiny_models,
    write_fuzz_params,
)
from hypothesis import example, given, note
from hypothesis import strategies as st
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.core.io import InputError, quarantine_path, read_table
from pipeline.core.schema import CANONICAL_COLUMNS

COUNTS = re.compile(r"(\d+) in, (\d+) out, (\d+) quarantined -> (\S+)")
SEGMENT_COUNTS = re.compile(
    r"segments: (\d+) in, (\d+) coded .*?, (\d+) without code, (\d+) quarantined -> (\S+)"
)
OUT_SUFFIXES = st.sampled_from([".parquet", ".jsonl", ".csv"])
RAW_COLUMNS = ["title", "vendor", "price", "date", "category", "from", "to", "description"]
DARKMATTER_COLUMNS = ["Product", "Vendor", "Category", "Ship From", "Ship To", "Price Range"]
REVIEW_COLUMNS = ["review_id", "text", "rating", "vendor", "market"]
POST_COLUMNS = ["post_id", "text"]
SEGMENT_COLUMNS = ["segment_id", "respondent_id", "source", "question_id", "text"]
# A researcher's own market: every column optional but the title, dates defaulted.
RAW_MARKET = {
    "adapter": "tabular",
    "columns": {
        "title": "title",
        "vendor": {"from": "vendor", "optional": True},
        "price_raw": {"from": "price", "optional": True},
        "scraped_at": {"from": "date", "default": "2024-01-01", "optional": True},
        "category_raw": {"from": "category", "optional": True},
        "ships_from_raw": {"from": "from", "optional": True},
        "ships_to_raw": {"from": "to", "optional": True},
        "description": {"from": "description", "optional": True},
    },
}
runner = CliRunner()


def invoke(args: list[object]) -> Result:
    """Run one command; fail on anything but exit 0 or a one-line error with exit 2."""
    result = runner.invoke(app, [str(a) for a in args])
    crash = result.exception
    if crash is not None and not isinstance(crash, SystemExit):
        last = traceback.format_exception(crash)[-1].strip()
        ours = [f for f in traceback.extract_tb(crash.__traceback__) if "/pipeline/" in f.filename]
        where = f" at {ours[-1].filename}:{ours[-1].lineno}" if ours else ""
        pytest.fail(f"traceback: {last}{where}\n{result.output[-2000:]}")
    assert result.exit_code in (0, 2), result.output[-2000:]
    assert "Traceback" not in result.output
    if result.exit_code == 2:
        reason = result.output[result.output.rfind("error:"):]
        assert "error:" in result.output, result.output[-2000:]
        assert "\n" not in reason.strip(), f"error is not one line: {reason[:500]!r}"
    return result


def rows_readable(path: Path) -> int | None:
    """How many rows the project's reader sees in `path`, or None when it refuses it."""
    try:
        return len(read_table(path))
    except InputError:
        return None


def check_accounting(result: Result, out: Path, rows_in: int | None) -> None:
    """The printed counts add up, match the written tables, and cover every input row."""
    matches = [m for m in COUNTS.finditer(result.output) if m.group(4) == str(out)]
    assert matches, f"no counts line for {out}: {result.output[-1000:]}"
    n_in, n_out, n_quarantined = (int(g) for g in matches[-1].groups()[:3])
    assert n_in == n_out + n_quarantined
    assert len(read_table(out)) == n_out, "output table holds another number of rows"
    assert len(read_table(quarantine_path(out))) == n_quarantined, (
        "quarantine table holds another number of rows")
    if rows_in is not None:
        assert n_in == rows_in, f"{rows_in} rows in the file, {n_in} counted"


def write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def fresh_dir() -> tempfile.TemporaryDirectory:
    """Not `tmp_path`: one fresh folder per Hypothesis example, not one per test."""
    return tempfile.TemporaryDirectory(prefix="fuzz")


# --- tiny models, trained once a session ---------------------------------------------------


@pytest.fixture(scope="session")
def fuzz_params(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_fuzz_params(tmp_path_factory.mktemp("params"))


@pytest.fixture(scope="session")
def models(tmp_path_factory: pytest.TempPathFactory, fuzz_params: Path) -> dict[str, Path]:
    return train_tiny_models(tmp_path_factory.mktemp("models"), fuzz_params)


# --- ingest ---------------------------------------------------------------------------------


@given(
    raw=st.one_of(
        hostile_file(RAW_COLUMNS, formats=("csv", "jsonl")).map(lambda f: ("own", f)),
        hostile_file(DARKMATTER_COLUMNS, formats=("csv",)).map(lambda f: ("darkmatter", f)),
    ),
    suffix=OUT_SUFFIXES,
)
@example(raw=("darkmatter", {"suffix": ".csv", "data": b"\xef\xbb\xbf", "rows": None,
                             "label": "only a byte-order mark"}), suffix=".parquet")
def test_ingest_tabular_survives_hostile_exports(raw: tuple[str, dict], suffix: str) -> None:
    market, file = raw
    note(file["label"])
    with fresh_dir() as folder:
        folder = Path(folder)
        config = folder / "own.yaml"
        config.write_text(yaml.safe_dump(RAW_MARKET))
        inp = write(folder, f"darkmatter_fuzz_7_7{file['suffix']}", file["data"])
        out = folder / f"listings{suffix}"
        result = invoke(["ingest", "--market", config if market == "own" else market, inp,
                         "-o", out])
        if result.exit_code == 0:
            check_accounting(result, out, file["rows"])


@given(market=st.sampled_from(["dream", "empire"]), data=st.data(), suffix=OUT_SUFFIXES)
def test_ingest_html_survives_hostile_pages(market: str, data: st.DataObject, suffix: str) -> None:
    pages = data.draw(st.lists(hostile_page(market), min_size=1, max_size=3))
    note([p["label"] for p in pages])
    with fresh_dir() as folder:
        folder = Path(folder)
        paths = []
        for i, page in enumerate(pages):
            (folder / str(i)).mkdir()
            paths.append(write(folder / str(i), page["name"], page["data"]))
        out = folder / f"listings{suffix}"
        result = invoke(["ingest", "--market", market, *paths, "-o", out])
        if result.exit_code == 0:
            check_accounting(result, out, None)


# --- table-in, table-out commands -----------------------------------------------------------


def run_table_command(file: dict, suffix: str, command: list[object]) -> None:
    """Write the hostile table, run `command IN -o OUT ...`, check exit and accounting."""
    note(file["label"])
    with fresh_dir() as folder:
        folder = Path(folder)
        inp = write(folder, f"in{file['suffix']}", file["data"])
        out = folder / f"out{suffix}"
        result = invoke([command[0], inp, "-o", out, *command[1:]])
        if result.exit_code == 0:
            rows_in = rows_readable(inp)
            assert rows_in is not None, "succeeded on a table the reader refuses"
            assert file["rows"] in (None, rows_in), f"{file['rows']} rows written, {rows_in} read"
            check_accounting(result, out, rows_in)


@given(file=hostile_file(CANONICAL_COLUMNS, "listing_id"), suffix=OUT_SUFFIXES)
def test_classify_survives_hostile_listings(
    file: dict, suffix: str, models: dict[str, Path], fuzz_params: Path
) -> None:
    run_table_command(file, suffix, ["classify", "--model", models["classifier"],
                                     "--params", fuzz_params])


@given(file=hostile_file(CANONICAL_COLUMNS, "listing_id"), suffix=OUT_SUFFIXES)
def test_extract_survives_hostile_listings(file: dict, suffix: str, fuzz_params: Path) -> None:
    run_table_command(file, suffix, ["extract", "--params", fuzz_params])


@given(file=hostile_file(REVIEW_COLUMNS, "review_id"), suffix=OUT_SUFFIXES,
       scale=st.sampled_from([None, "pm5", "five"]))
def test_sentiment_survives_hostile_reviews(
    file: dict, suffix: str, scale: str | None, models: dict[str, Path], fuzz_params: Path
) -> None:
    scale_args = ["--rating-scale", scale] if scale else []
    run_table_command(file, suffix, ["sentiment", "--model", models["sentiment"],
                                     "--params", fuzz_params, *scale_args])


# Found by this suite: a lone carriage return in a quarantined cell (CSV output), and a
# JSONL line that is not an object.
@example(file={"suffix": ".csv", "rows": 2, "label": "lone CR",
               "data": b'post_id,text,note\np1,"","a\rb"\np2,never mix GHB with alcohol,x\n'},
         suffix=".csv")
@example(file={"suffix": ".jsonl", "rows": None, "label": "non-object line",
               "data": b'{"post_id": "a", "text": "x"}\n[1, 2]\nnull\n'}, suffix=".parquet")
@given(file=hostile_file(POST_COLUMNS, "post_id"), suffix=OUT_SUFFIXES)
def test_harm_reduction_survives_hostile_posts(
    file: dict, suffix: str, models: dict[str, Path]
) -> None:
    run_table_command(file, suffix, ["harm-reduction", "--model", models["harm_reduction"]])


# --- theme coding ---------------------------------------------------------------------------


@given(file=hostile_file(SEGMENT_COLUMNS, "segment_id"), suffix=OUT_SUFFIXES)
def test_code_themes_survives_hostile_segments(
    file: dict, suffix: str, models: dict[str, Path], fuzz_params: Path
) -> None:
    note(file["label"])
    with fresh_dir() as folder:
        folder = Path(folder)
        inp = write(folder, f"in{file['suffix']}", file["data"])
        out = folder / f"codes{suffix}"
        result = invoke(["code-themes", inp, "-o", out, "--model", models["themes"],
                         "--params", fuzz_params])
        if result.exit_code == 0:
            match = SEGMENT_COUNTS.search(result.output)
            assert match, result.output[-1000:]
            n_in, coded, uncoded, quarantined = (int(g) for g in match.groups()[:4])
            assert n_in == coded + uncoded + quarantined == rows_readable(inp)
            assert file["rows"] in (None, n_in)
            codes = read_table(out)
            assert (codes["segment_id"].nunique() if len(codes) else 0) == coded
            assert len(read_table(quarantine_path(out))) == quarantined, (
                "quarantine table holds another number of rows")


@given(files=st.lists(hostile_answers(), min_size=1, max_size=2), suffix=OUT_SUFFIXES)
def test_import_answers_survives_hostile_exports(files: list[dict], suffix: str,
                                                 fuzz_params: Path) -> None:
    note([f["label"] for f in files])
    with fresh_dir() as folder:
        folder = Path(folder)
        paths = [write(folder, f"answers{i}{f['suffix']}", f["data"]) for i, f in enumerate(files)]
        out = folder / f"segments{suffix}"
        result = invoke(["import-answers", *paths, "-o", out, "--params", fuzz_params])
        if result.exit_code == 0:
            segments = read_table(out)
            assert segments["segment_id"].is_unique

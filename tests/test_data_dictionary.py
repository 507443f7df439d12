"""The data dictionary (docs/data-dictionary.md) against what the pipeline really writes: the
stage commands run once on the bundled sample, laid out as dvc.yaml lays them out, and every
Parquet they write must be declared in pipeline/core/tables.py with every column and type."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.core.config import PROJECT_ROOT, load_params, write_params
from pipeline.core.tables import all_tables, arrow_kind, find_spec
from pipeline.export.dictionary import dictionary_markdown

SPECS = [spec for group in all_tables().values() for spec in group.values()]
# a smaller classifier, no encoder and a tf-idf theme coder: the same tables in seconds
FAST = {"word_features": 5000, "char_hash_bits": 14, "n_jobs": 1}


def sample_commands(markets: dict[str, str], snapshots: dict[str, dict[str, str]]
                    ) -> list[list[str]]:
    """The stage commands of dvc.yaml that write tables, with dvc.yaml's paths."""
    p = ["--params", "params.yaml"]
    listings = "data/interim/listings"
    return [
        *[["ingest", "--market", m, f"data/sample/{folder}", "-o", f"{listings}/{m}.parquet"]
          for m, folder in markets.items()],
        *[["ingest", "--market", s["market"], f"data/sample/{s['path']}", "-o",
           f"data/interim/snapshots/{s['market']}/{s['date']}.parquet"]
          for s in snapshots.values()],
        ["monitor", "data/interim/snapshots", "-o", "data/processed/monitoring"],
        ["train-classifier", listings, "-o", "models/classifier", *p],
        ["classify", listings, "-o", "data/processed/listings_classified.parquet",
         "--model", "models/classifier", *p],
        ["extract", "data/processed/listings_classified.parquet",
         "-o", "data/processed/listings.parquet", *p],
        ["analyse", "data/processed/listings.parquet", "-o", "data/processed/analytics",
         "--feedback", listings, *p],
        ["review-corpus", "-o", "data/interim/reviews.parquet", *p],
        ["train-sentiment", "data/interim/reviews.parquet", "-o", "models/sentiment", *p],
        ["sentiment", "data/interim/reviews.parquet", "-o", "data/processed/reviews_scored.parquet",
         "--model", "models/sentiment", "--summary", "data/processed/reviews_summary", *p],
        ["forum-corpus", "-o", "data/interim/forum_posts.parquet", *p],
        ["train-harm-reduction", "data/interim/forum_posts.parquet", "-o",
         "models/harm_reduction", *p],
        ["harm-reduction", "data/interim/forum_posts.parquet", "-o",
         "data/processed/forum_posts_scored.parquet", "--model", "models/harm_reduction",
         "--summary", "data/processed/forum_posts_summary.parquet"],
        ["import-answers", "data/sample/survey", "data/sample/interviews", "-o",
         "data/interim/segments.parquet", *p],
        ["train-themes", "-o", "models/themes", *p],
        ["code-themes", "data/interim/segments.parquet", "-o", "data/processed/themes.parquet",
         "--model", "models/themes", *p],
        ["code-themes", "data/blind/themes/segments.csv", "-o",
         "data/processed/themes_blind.parquet", "--model", "models/themes", *p],
    ]


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project folder (the repository's conf/ and data/ inputs linked in) after every
    table-writing command ran on the bundled sample."""
    run = tmp_path_factory.mktemp("dictionary_run")
    (run / "conf").symlink_to(PROJECT_ROOT / "conf")
    (run / "data").mkdir()
    for child in (PROJECT_ROOT / "data").iterdir():
        if child.name not in ("interim", "processed"):
            (run / "data" / child.name).symlink_to(child)
    params = load_params()
    params["model"]["params"] = {**params["model"]["params"], **FAST}
    params["reviews"]["encoder"]["enabled"] = False
    params["reviews"]["decision"]["tune"] = False
    params["themes"]["coder"]["components"] = ["tfidf"]
    params["themes"]["extra_gold"] = []  # table shapes, not coder quality, are under test
    params["themes"]["corrections"] = "no_corrections.jsonl"
    write_params(params, run / "params.yaml")
    with pytest.MonkeyPatch.context() as patch:  # relative paths, as DVC runs them
        patch.chdir(run)
        for argv in sample_commands(params["data"]["markets"], params["data"]["snapshots"]):
            result = CliRunner().invoke(app, argv)
            assert result.exit_code == 0, f"{' '.join(argv)}: {result.output}"
    return run


@pytest.fixture(scope="session")
def written(sample_run: Path) -> dict[str, Path]:
    """Every Parquet the run wrote, by its path relative to the project folder."""
    return {p.relative_to(sample_run).as_posix(): p
            for p in sorted((sample_run / "data").rglob("*.parquet"))}


def test_dictionary_file_is_current(project_root: Path):
    text = (project_root / "docs" / "data-dictionary.md").read_text(encoding="utf-8")
    assert text == dictionary_markdown(all_tables()), "run `cryptodrug data-dictionary`"


def test_declarations_are_unique_and_complete():
    names = [spec.name for spec in SPECS]
    assert len(names) == len(set(names))
    for spec in SPECS:
        assert spec.path and spec.command and spec.row, spec.name
        columns = [c.name for c in spec.fields]
        assert len(columns) == len(set(columns)), spec.name
        for column in spec.fields:
            assert column.meaning and column.type, (spec.name, column.name)


def test_every_parquet_in_dvc_yaml_is_declared(project_root: Path):
    stages = yaml.safe_load((project_root / "dvc.yaml").read_text())["stages"]
    outs = []
    for stage in stages.values():
        body = stage.get("do", stage)
        outs += [next(iter(o)) if isinstance(o, dict) else o for o in body.get("outs", [])]
    declared = {spec.path for spec in SPECS}
    folders = {spec.path.rsplit("/", 1)[0] for spec in SPECS}
    for out in outs:
        path = re.sub(r"\$\{(key|item\.market)\}", "<market>", out).replace("${item.date}",
                                                                          "<date>")
        if path.endswith(".parquet"):
            assert path in declared, f"{path} (dvc.yaml) is not in pipeline/core/tables.py"
        elif path.startswith("data/") and "." not in path.rsplit("/", 1)[-1]:
            assert path in folders, f"folder {path} (dvc.yaml) holds no declared table"


def test_every_written_table_is_declared_with_each_column(written: dict[str, Path]):
    problems = []
    for name, path in written.items():
        spec = find_spec(name)
        if spec is None:
            problems.append(f"{name}: not declared")
            continue
        schema = pq.read_schema(path)
        typed = ".quarantine." not in name  # quarantine tables keep their input's types
        for column, dtype in zip(schema.names, schema.types, strict=True):
            field = spec.field(column)
            if field is None:
                problems.append(f"{name}: column {column} not described")
            elif typed and arrow_kind(dtype) not in (field.type, "null"):
                problems.append(f"{name}: {column} is {arrow_kind(dtype)}, "
                                f"the dictionary says {field.type}")
    assert not problems, "\n".join(problems)


def test_the_sample_run_writes_every_declared_table(written: dict[str, Path]):
    found = {find_spec(name).name for name in written if find_spec(name)}
    assert sorted(spec.name for spec in SPECS if spec.name not in found) == []


def test_data_dictionary_command_writes_and_checks(tmp_path: Path):
    out = tmp_path / "dictionary.md"
    assert CliRunner().invoke(app, ["data-dictionary", "-o", str(out), "--check"]).exit_code == 1
    assert CliRunner().invoke(app, ["data-dictionary", "-o", str(out)]).exit_code == 0
    assert CliRunner().invoke(app, ["data-dictionary", "-o", str(out), "--check"]).exit_code == 0
    assert out.read_text(encoding="utf-8") == dictionary_markdown(all_tables())

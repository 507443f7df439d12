"""Stage `report`: the analytics tables and every stage's metrics as one offline HTML page.

Figures are drawn with matplotlib and embedded as base64 PNG, tables are plain HTML, there
is no script and no external resource, so the page renders without network. The focus
country (and its neighbours) come from the report config, so a researcher can read off what
the CRYPTODRUG summary states for Belgium: share of supply, product mix, destinations and
exclusions, multi-country vendors, transaction sizes and migration. This module only reads
and writes; the page is built by `render`, `sections` and `figures`. The same inputs give
the same bytes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline.core.io import InputError, read_table, require_columns
from pipeline.core.ml import CARD_FILE, read_card
from pipeline.core.tables import (
    ANALYTICS,
    ANALYTICS_SUMMARY,
    FORUM_SUMMARY,
    INDUCTIVE_SUFFIX,
    MONITORING,
    REVIEW_SUMMARIES,
    SEGMENTS,
    THEMES,
    TableSpec,
)
from pipeline.report.render import build_context, render_report

# the analytics tables the page shows (the quarantine is counted in the summary instead)
REPORTED = ("vendors", "country_shares", "product_mix", "destinations", "transactions",
            "transaction_summary", "multi_country", "migration_links", "migration_summary",
            "substances")


def load_analytics(folder: Path) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """The tables `cryptodrug analyse` wrote, checked for the columns the report reads,
    and its summary."""
    specs = {name: ANALYTICS[name] for name in REPORTED}
    missing = [s.file for s in specs.values() if not (folder / s.file).exists()]
    if missing or not (folder / ANALYTICS_SUMMARY).exists():
        raise InputError(f"{folder}: not an analytics folder (run `cryptodrug analyse` first)")
    return read_checked(folder, specs), json.loads((folder / ANALYTICS_SUMMARY).read_text())


def read_checked(folder: Path, specs: dict[str, TableSpec]) -> dict[str, pd.DataFrame]:
    """Each declared table in `folder`, checked for the columns the report reads."""
    tables = {}
    for name, spec in specs.items():
        tables[name] = read_table(folder / spec.file)
        require_columns(tables[name], spec.columns, folder / spec.file)
    return tables


def optional_json(path: Path | None) -> Any:
    """The JSON at `path`, or None when its stage has not run."""
    return json.loads(path.read_text()) if path is not None and path.exists() else None


def load_stage_metrics(folder: Path, names: list[str]) -> dict[str, dict | None]:
    """Each stage's metrics JSON, or None where the stage has not run."""
    return {name: optional_json(folder / f"{name}.json") for name in names}


def optional_table(path: Path | None, columns: set[str] | frozenset[str]) -> pd.DataFrame | None:
    """The table at `path`, or None when its stage has not run; a one-line error when it
    lacks the columns the report reads."""
    if path is None or not path.exists():
        return None
    table = read_table(path)
    require_columns(table, columns, path)
    return table


def load_stage_results(reviews_summary: Path | None, forum_summary: Path | None,
                       themes: Path | None, segments: Path | None,
                       metrics_dir: Path) -> dict[str, Any]:
    """The summaries the reviews, forums and themes stages wrote; None for each one absent."""
    results: dict[str, Any] = {
        name: optional_table(reviews_summary / spec.file if reviews_summary else None,
                             spec.columns)
        for name, spec in REVIEW_SUMMARIES.items()}
    results["forum_summary"] = optional_table(forum_summary, FORUM_SUMMARY.columns)
    results["themes"] = optional_table(themes, THEMES.columns)
    results["segments"] = optional_table(segments, SEGMENTS.columns)
    results["inductive"] = optional_json(
        themes.with_name(f"{themes.stem}{INDUCTIVE_SUFFIX}") if themes else None)
    results["themes_metrics"] = optional_json(metrics_dir / "themes.json")
    return results


def load_monitoring(folder: Path | None) -> dict[str, pd.DataFrame] | None:
    """The tables `cryptodrug monitor` wrote (checked for the columns the report reads), or
    None when no monitoring folder is given or it does not exist."""
    if folder is None or not folder.is_dir():
        return None
    return read_checked(folder, MONITORING)


def load_ingest_metrics(metrics_dir: Path) -> dict[str, dict]:
    """What ingest measured per market (`METRICS/ingest/<market>.json`): rows in and out,
    quarantined, fill rates."""
    folder = metrics_dir / "ingest"
    return {path.stem: json.loads(path.read_text())
            for path in sorted(folder.glob("*.json"))} if folder.is_dir() else {}


def load_model_cards(models_dir: Path | None) -> dict[str, dict]:
    """The card of every trained model (`MODELS/<name>/model_card.json`), checked against
    the files it lists, so the method texts describe the models that are actually there."""
    if models_dir is None or not models_dir.is_dir():
        return {}
    return {path.parent.name: read_card(path.parent)
            for path in sorted(models_dir.glob(f"*/{CARD_FILE}"))}


def run_report(analytics: Path, out: Path, metrics_dir: Path, params: dict[str, Any],
               reviews_summary: Path | None = None, forum_summary: Path | None = None,
               themes: Path | None = None, segments: Path | None = None,
               models_dir: Path | None = None, monitoring: Path | None = None) -> Path:
    """IO layer: read the analytics, metrics, stage summaries, model cards and monitoring
    tables, write the HTML page. `params` is the `report` params section."""
    tables, summary = load_analytics(analytics)
    stage_metrics = load_stage_metrics(metrics_dir, list(params["stage_metrics"]))
    results = load_stage_results(reviews_summary, forum_summary, themes, segments, metrics_dir)
    html = render_report(build_context(tables, summary, stage_metrics, params, results,
                                       load_ingest_metrics(metrics_dir),
                                       load_model_cards(models_dir),
                                       load_monitoring(monitoring)))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    return out

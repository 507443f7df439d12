"""Stage 2, classify: the IO layer of the commands (SPEC section 3).

Each `run_*` reads its inputs, calls the pure modules of this package (`labels`, `training`,
`predict`, `evaluate`, `audit`, `compare`) and writes its outputs; the CLI passes the loaded
params (the `model` section and `seed`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline.classify.audit import label_audit, out_of_fold_predictions
from pipeline.classify.compare import DEFAULT_MODELS, compare, summary
from pipeline.classify.evaluate import confusion_figure, evaluate
from pipeline.classify.labels import (
    CONFIG_COLUMN,
    labelled_data,
    load_category_maps,
    load_taxonomy,
    per_market_sample,
)
from pipeline.classify.models import load_model
from pipeline.classify.predict import classify_listings, review_queue, review_threshold
from pipeline.classify.substances import with_substance_rule
from pipeline.classify.training import fit_model, model_card, model_card_markdown
from pipeline.core.config import compose_params
from pipeline.core.engine import load_once, run_partitioned
from pipeline.core.io import (
    InputError,
    console,
    is_dataset,
    read_table,
    require_columns,
    require_datasets,
    side_output_path,
    table_files,
    write_table,
    write_with_quarantine,
)
from pipeline.core.ml import read_card, write_card


def read_listings(path: str | Path) -> pd.DataFrame:
    """Listings from a file or a folder of tables; each row remembers the table it came
    from (`market_config`: ingest writes `<market config>.parquet`), whose category_map
    labels it."""
    frames = [read_table(f).assign(**{CONFIG_COLUMN: f.stem}) for f in table_files(Path(path))]
    listings = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    require_columns(listings, ("title", "market", "category_raw"), path, "canonical listings")
    return listings


def read_labelled(inp: Path, market_configs: list[Path], params: dict[str, Any],
                  max_per_market: int | None = None) -> tuple[pd.DataFrame, dict[str, int]]:
    """The labelled table of a listings file or folder (`labelled_data` with every market's
    category map) and its counts; with `max_per_market`, the same per-market subsample for
    every model (`per_market_sample`), counted as `evaluated`."""
    data, counts = labelled_data(read_listings(inp), load_category_maps(market_configs),
                                 params["model"].get("text_max_chars", 1000))
    if max_per_market:
        data = per_market_sample(data, max_per_market, params.get("seed", 42))
        counts["evaluated"] = len(data)
    return data, counts


def _tqdm(desc: str) -> Callable[[Iterable], Iterable]:
    from tqdm import tqdm

    return lambda items: tqdm(items, desc=desc, leave=False)


def run_train(inp: Path, out_dir: Path, params: dict[str, Any], market_configs: list[Path],
              metrics_file: Path | None) -> dict[str, Any]:
    """Fit the configured model on every labelled listing; save it with its model card
    (which records the sha256 of every file saved)."""
    model_cfg, taxonomy = params["model"], load_taxonomy()
    data, counts = read_labelled(inp, market_configs, params)
    console.print(f"training {model_cfg['name']} on {len(data)} labelled listings "
                  f"({counts['unlabelled']} unlabelled, {counts['conflicting_labels']} with "
                  f"conflicting labels, {counts['duplicates']} repeats left out)")
    model = fit_model(model_cfg, data, params.get("seed", 42))
    metrics = None
    if metrics_file:
        if not Path(metrics_file).exists():
            raise InputError(f"{metrics_file}: no such metrics file")
        metrics = json.loads(Path(metrics_file).read_text())
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save(out_dir)
    card = model_card(model_cfg, taxonomy, data, counts, metrics)
    write_card(out_dir, card, model_card_markdown(card))
    console.print(f"model -> {out_dir}")
    return card


def loaded_classifier(model_dir: Path) -> tuple[Any, dict[str, Any]]:
    """The model with the substance rule it was trained with, and its card."""
    model, card = load_model(model_dir)
    return with_substance_rule(model, card.get("substance_rule")), card


def classify_partition(model_dir: str, threshold: float, listings: pd.DataFrame
                       ) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, pd.DataFrame]]:
    """One partition of a dataset: (classified, quarantined, {"review": low confidence});
    the model is loaded once per process (`load_once`)."""
    model, card = load_once(loaded_classifier, model_dir)
    kept, quarantined = classify_listings(listings, model, card.get("text_max_chars", 1000))
    return kept, quarantined, {"review": review_queue(kept, threshold)}


def run_classify(inp: Path, out: Path, model_dir: Path, params: dict[str, Any]) -> dict[str, int]:
    """Classify listings; write OUT, its quarantine file and the low-confidence review file.
    A dataset OUT (`core.io.is_dataset`) runs partition by partition on `params.engine`."""
    threshold = review_threshold(params["model"])
    if is_dataset(out):
        require_datasets(inp, out)
        read_card(model_dir)  # a bad model folder: one error here, not one per task
        return run_partitioned(
            inp, out, partial(classify_partition, str(model_dir), threshold),
            params.get("engine"), "classify", companions=("review",))
    model, card = loaded_classifier(model_dir)
    listings = read_table(inp)
    kept, quarantined = classify_listings(
        listings, model, card.get("text_max_chars", 1000), progress=_tqdm("classify")
    )
    counts = write_with_quarantine(kept, quarantined, out, len(listings), label="listings")
    review = review_queue(kept, threshold)
    review_path = side_output_path(out, "review")
    write_table(review, review_path)
    console.print(f"{len(review)} listings below confidence {threshold} -> {review_path}")
    return {**counts, "review": len(review)}


def run_evaluate(inp: Path, metrics_out: Path, figure: Path | None, params: dict[str, Any],
                 market_configs: list[Path], max_per_market: int | None = None) -> dict[str, Any]:
    """In-market and leave-one-market-out evaluation: printed tables, metrics JSON, figure."""
    model_cfg = params["model"]
    data, counts = read_labelled(inp, market_configs, params, max_per_market)
    result = evaluate(model_cfg, data, model_cfg.get("evaluation", {}), params.get("seed", 42),
                      progress=_tqdm("leave-one-market-out"))
    result["rows"] = counts
    if figure:
        confusion = result["lomo"].get("confusion")
        if confusion:
            confusion_figure(confusion, figure, f"{model_cfg['name']}: leave-one-market-out")
        else:
            # keep the declared output: an empty figure that says why
            confusion_figure({"labels": [], "matrix": []}, figure,
                             "no leave-one-market-out evaluation (too few labelled markets)")
    _write_json(result, metrics_out)
    _print_evaluation(result)
    return result


def run_audit(inp: Path, out: Path, params: dict[str, Any], market_configs: list[Path],
              folds: int, min_rows: int, max_per_market: int | None = None,
              metrics_out: Path | None = None) -> pd.DataFrame:
    """Out-of-fold label audit of every mapped category path: writes the per-path table
    and the disagreeing rows (to read), prints the paths that agree least."""
    from rich.table import Table

    model_cfg, seed = params["model"], params.get("seed", 42)
    data, _ = read_labelled(inp, market_configs, params, max_per_market)
    predicted = out_of_fold_predictions(model_cfg, data, folds, seed,
                                        model_cfg.get("evaluation", {}).get("n_jobs", 1),
                                        _tqdm("audit folds"))
    audit = label_audit(data, predicted, min_rows)
    write_table(audit, out)
    disagreements = data.assign(predicted=predicted)[predicted != data["label"]]
    rows_out = side_output_path(out, "disagreements")
    write_table(disagreements.drop(columns="group"), rows_out)
    console.print(f"{len(data)} labelled rows; out-of-fold agreement with their labels "
                  f"{1 - len(disagreements) / len(data):.3f}; {len(audit)} paths -> {out}; "
                  f"the {len(disagreements)} disagreeing rows, to read -> {rows_out}")
    if metrics_out:
        _write_json({
            "labelled": len(data), "folds": folds,
            "agreement": round(1 - len(disagreements) / len(data), 4),
            "paths_audited": len(audit),
            "paths_below_0.8": int((audit["agreement"] < 0.8).sum()),
        }, metrics_out)
    table = Table(title="least agreeing category paths")
    for column in audit.columns:
        table.add_column(column)
    for row in audit.head(15).itertuples(index=False):
        table.add_row(*map(str, row))
    console.print(table)
    return audit


def model_configs(names: list[str], transformer_checkpoint: str | None) -> dict[str, dict]:
    """Each named model group composed from conf/model (as `-S model=<name>` would); the
    transformer only with a checkpoint."""
    if transformer_checkpoint and "transformer" not in names:
        names = [*names, "transformer"]
    configs = {}
    for name in names:
        overrides = [f"model={name}"]
        if name == "transformer":
            if not transformer_checkpoint:
                raise InputError("model transformer needs --transformer-checkpoint PATH")
            overrides.append(f"model.params.checkpoint={transformer_checkpoint}")
        try:
            configs[name] = compose_params(overrides)["model"]
        except Exception as error:  # Hydra's "could not find model/<name>"
            raise InputError(f"unknown model {name!r}: {str(error).splitlines()[0]}") from None
    return configs


def run_compare(inp: Path, out: Path, params: dict[str, Any], models: list[str],
                transformer_checkpoint: str | None = None, max_per_market: int | None = 2000,
                market_configs: list[Path] | None = None) -> dict[str, Any]:
    """Every named model evaluated on the same rows, splits and seed (the evaluation
    settings of `params`); the comparison JSON, a table, and timings (printed only:
    they differ run to run)."""
    seed, eval_cfg = params.get("seed", 42), params["model"].get("evaluation", {})
    configs = model_configs(models or list(DEFAULT_MODELS), transformer_checkpoint)
    data, counts = read_labelled(inp, market_configs or [], params, max_per_market)
    counts["evaluated"] = len(data)
    results, timings = compare(configs, data, eval_cfg, seed)
    rows = summary(results)
    result = {"seed": seed, "max_per_market": max_per_market or None, "rows": counts,
              "evaluation": eval_cfg, "summary": rows, "models": results}
    _write_json(result, out)
    _print_summary(rows, f"classifiers on identical splits ({len(data)} labelled listings, "
                         f"seed {seed})")
    for name, timing in timings.items():
        console.print(f"{name}: {timing}")
    console.print(f"-> {out}")
    return result


def _write_json(data: dict[str, Any], path: Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")


def _print_summary(rows: dict[str, dict[str, float | None]], title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    models = list(next(iter(rows.values()))) if rows else []
    table = Table(title=title)
    table.add_column("figure")
    for model in models:
        table.add_column(model, justify="right")
    for row, values in rows.items():
        best = max((v for v in values.values() if v is not None), default=None)
        cells = ["" if v is None
                 else f"[bold]{v:.3f}[/bold]" if v == best and len(models) > 1 else f"{v:.3f}"
                 for v in values.values()]
        table.add_row(row, *cells)
    Console().print(table)


def _confidence_line(figures: dict[str, Any]) -> str:
    return (f"calibration error {figures['ece']}, {figures['review_share']:.1%} below the "
            f"review threshold {figures['review_threshold']}, accuracy of the rest "
            f"{figures['accuracy_not_reviewed']}")


def _print_evaluation(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    out = Console()  # stdout: the evaluation's result, not a log line
    if "in_market" in result:
        im = result["in_market"]
        out.print(f"in-market split: macro-F1 {im['macro_f1']}, accuracy {im['accuracy']}, "
                  f"n={im['n']}; {_confidence_line(im['confidence'])}")
    lomo_result = result["lomo"]
    if lomo_result["markets"]:
        table = Table(title=f"leave-one-market-out ({result['model']})")
        for col in ("held-out market", "n", "macro-F1", "accuracy"):
            table.add_column(col)
        for market, r in lomo_result["markets"].items():
            table.add_row(market, str(r["n"]), f"{r['macro_f1']:.3f}", f"{r['accuracy']:.3f}")
        table.add_row("mean", "", f"{lomo_result['mean_macro_f1']:.3f}", "")
        out.print(table)
        classes = Table(title="leave-one-market-out, per class (all held-out markets pooled)")
        for col in ("class", "precision", "recall", "F1", "support"):
            classes.add_column(col)
        for c, r in lomo_result["pooled"]["per_class"].items():
            classes.add_row(c, f"{r['precision']:.3f}", f"{r['recall']:.3f}", f"{r['f1']:.3f}",
                            str(r["support"]))
        out.print(classes)
        pooled = lomo_result["pooled"]["confidence"]
        out.print(f"leave-one-market-out, pooled: {_confidence_line(pooled)}")
    for note in result["notes"]:
        out.print(f"note: {note}")

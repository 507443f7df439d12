"""Compare listing classifiers on identical splits: the same labelled rows (the same
per-market subsample), the same in-market split and the same leave-one-market-out folds,
so that differences are the models' and not the data's.

    python scripts/compare_classifiers.py data/interim/listings \
        -o reports/metrics/classifier_comparison.json
    python scripts/compare_classifiers.py DIR -o OUT.json --models linear,sentence_embedding \
        --max-per-market 2000 --transformer-checkpoint /models/xlm-roberta-base

Models are `conf/model/<name>.yaml` (composed with Hydra, as `-S model=<name>` would);
the evaluation settings and seed are those of params.yaml for every model.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline.classify.stage import evaluate, read_labelled
from pipeline.core.config import compose_params, load_params
from pipeline.core.io import InputError

DEFAULT_MODELS = ("linear", "sentence_embedding")


def model_configs(names: list[str], transformer_checkpoint: str | None) -> dict[str, dict]:
    """Each named model group composed from conf/ (the transformer only with a checkpoint)."""
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


def compare(configs: dict[str, dict], data: pd.DataFrame, eval_cfg: dict[str, Any],
            seed: int) -> tuple[dict[str, Any], dict[str, str]]:
    """`evaluate` of every model on the same data, evaluation settings and seed, and how
    long each took (printed, not a metric: timings differ run to run)."""
    from pipeline.classify.models.sentence_embedding import encoding_stats

    results, timings = {}, {}
    for name, cfg in configs.items():
        before, start = encoding_stats(), time.perf_counter()
        results[name] = evaluate(cfg, data, eval_cfg, seed)
        timings[name] = f"{time.perf_counter() - start:.1f} s (fit + predict, all folds)"
        after = encoding_stats()
        encoded = after["texts_encoded"] - before["texts_encoded"]
        if encoded:
            seconds = after["encode_seconds"] - before["encode_seconds"]
            timings[name] += (f"; encoded {encoded} texts in {seconds:.1f} s "
                              f"({encoded / max(seconds, 1e-9):.1f} texts/s)")
    return results, timings


def summary(results: dict[str, dict]) -> dict[str, dict[str, float | None]]:
    """One row per figure (in-market macro-F1, LOMO per market and mean, per-class F1),
    one column per model; None where a model has no such figure."""
    rows: dict[str, dict[str, float | None]] = {}

    def put(row: str, model: str, value: float | None) -> None:
        rows.setdefault(row, {m: None for m in results})[model] = value

    for model, r in results.items():
        put("in-market macro-F1", model, r.get("in_market", {}).get("macro_f1"))
        for market, m in r["lomo"].get("markets", {}).items():
            put(f"LOMO {market}", model, m["macro_f1"])
        put("LOMO mean macro-F1", model, r["lomo"].get("mean_macro_f1"))
    for model, r in results.items():
        for c, m in r.get("in_market", {}).get("per_class", {}).items():
            put(f"in-market F1 {c}", model, m["f1"])
    for model, r in results.items():
        for c, m in r["lomo"].get("pooled", {}).get("per_class", {}).items():
            put(f"LOMO pooled F1 {c}", model, m["f1"])
    return rows


def print_summary(rows: dict[str, dict[str, float | None]], title: str) -> None:
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


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("listings", type=Path, help="folder (or file) of ingested listings")
    parser.add_argument("-o", "--out", type=Path, required=True, help="comparison metrics JSON")
    parser.add_argument("--models", default=",".join(DEFAULT_MODELS),
                        help="comma-separated conf/model names")
    parser.add_argument("--transformer-checkpoint", help="also fine-tune this local checkpoint")
    parser.add_argument("--max-per-market", type=int, default=2000,
                        help="at most N labelled rows a market (0: all)")
    parser.add_argument("--market-config", type=Path, action="append", default=[],
                        help="extra market config YAML file or folder (category_map)")
    parser.add_argument("--params", type=Path, help="params file (default params.yaml)")
    args = parser.parse_args(argv)

    try:
        params = load_params(args.params)
        seed, eval_cfg = params.get("seed", 42), params["model"].get("evaluation", {})
        configs = model_configs([m for m in args.models.split(",") if m],
                                args.transformer_checkpoint)
        data, counts = read_labelled(args.listings, args.market_config, params,
                                     args.max_per_market)
    except InputError as error:
        raise SystemExit(f"error: {error}") from None
    counts["evaluated"] = len(data)
    results, timings = compare(configs, data, eval_cfg, seed)
    rows = summary(results)
    out = {"seed": seed, "max_per_market": args.max_per_market or None, "rows": counts,
           "evaluation": eval_cfg, "summary": rows, "models": results}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2) + "\n")
    print_summary(rows, f"classifiers on identical splits ({len(data)} labelled listings, "
                        f"seed {seed})")
    for name, timing in timings.items():
        print(f"{name}: {timing}")
    print(f"-> {args.out}")
    return out


if __name__ == "__main__":
    main()

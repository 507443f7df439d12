"""Review sentiment (issue 6), the IO entry of the stage: buyer feedback -> negative /
neutral / positive. Each `run_*` function reads its inputs, calls the pure modules of
`pipeline.reviews` and writes its outputs; the CLI passes the loaded params.

The model is trained on real market ratings (trust-in-illicit-markets -5..5, Agora `n/5`
feedback) mapped to labels by configured thresholds, plus human labels where configured,
and compared with VADER.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from pipeline.core.corpus import config_section, configured_sources
from pipeline.core.io import (
    InputError,
    console,
    read_table,
    write_table,
    write_with_quarantine,
)
from pipeline.core.metrics import write_metrics
from pipeline.reviews.blind import read_blind_reviews
from pipeline.reviews.evaluate import evaluate
from pipeline.reviews.gold import (
    gold_weights,
    load_human_gold,
    load_second_pass,
    with_human_labels,
)
from pipeline.reviews.labels import labelled, load_seed_examples, load_written
from pipeline.reviews.model import SentimentModel, fit_model, training_frame
from pipeline.reviews.score import score_reviews, summarise
from pipeline.reviews.sources import build_corpus

SECTION = "reviews"


def run_review_corpus(params: dict[str, Any], out: Path) -> dict[str, int]:
    """Build the labelled review corpus from `data.root` + `data.reviews.sources`."""
    cfg = config_section(params, SECTION)
    root, sources = configured_sources(params, SECTION)
    kept, quarantined = build_corpus(root, sources, cfg["rating_scales"])
    return write_with_quarantine(kept, quarantined, out, len(kept) + len(quarantined), "reviews")


def read_corpus(path: Path, cfg: dict[str, Any]) -> pd.DataFrame:
    """A review corpus (`review-corpus` output) with its rating labels."""
    return labelled(read_table(path), cfg).reset_index(drop=True)


def whole_training_frame(corpus: pd.DataFrame, cfg: dict[str, Any], seeds: pd.DataFrame,
                         written: pd.DataFrame | None) -> pd.DataFrame:
    """What the trained model fits: the corpus with its human train labels (at their
    weights), the seed examples and the written reviews."""
    weight, rating_weight = gold_weights(cfg)
    return training_frame(with_human_labels(corpus, human_gold(corpus, cfg), weight,
                                            rating_weight), seeds, written)


def run_train(corpus_path: Path, model_dir: Path, params: dict[str, Any]) -> None:
    """Fit on the whole corpus (+ human train labels, seed examples and written reviews)
    and save."""
    cfg = config_section(params, SECTION)
    corpus = read_corpus(corpus_path, cfg)
    seeds = load_seed_examples(Path(cfg["seed_examples"]))
    written = written_reviews(cfg)
    train = whole_training_frame(corpus, cfg, seeds, written)
    model = fit_model(train, cfg, params.get("seed", 42))
    model.save(
        model_dir,
        {
            "task": "review sentiment (negative/neutral/positive)",
            "trained_on": str(corpus_path),
            "reviews": len(corpus),
            "seed_examples": len(seeds),
            "written_reviews": 0 if written is None else written["lang"].value_counts().to_dict(),
            "human_labelled_train_reviews": int(train["human"].sum()),
            "label_counts": train["label"].value_counts().to_dict(),
            "rating_scales": cfg["rating_scales"],
            "evaluation": "reports/metrics/sentiment.json (`cryptodrug evaluate-sentiment`)",
        },
    )
    console.print(f"sentiment model: {len(train)} texts -> {model_dir}")


def written_reviews(cfg: dict[str, Any]) -> pd.DataFrame | None:
    """The configured written reviews (`reviews.written`), or None."""
    written = cfg.get("written") or {}
    return load_written(written.get("folder"), float(written.get("weight", 1.0)))


def run_evaluate(
    corpus_path: Path,
    out: Path,
    params: dict[str, Any],
    multilingual: Path | None,
    blind: Path | None = None,
) -> dict[str, Any]:
    """Metrics JSON of `evaluate` (with a blind set's figures where `blind` is given), and
    its main figures on the console."""
    cfg = config_section(params, SECTION)
    corpus = read_corpus(corpus_path, cfg)
    seeds = load_seed_examples(Path(cfg["seed_examples"]))
    extra = labelled(read_table(multilingual), cfg) if multilingual else None
    gold = human_gold(corpus, cfg)
    blind_set = read_blind_reviews(blind) if blind else None
    metrics = evaluate(corpus, cfg, params.get("seed", 42), seeds, extra, gold, blind_set,
                       written_reviews(cfg))
    write_metrics(metrics, out)
    print_metrics(metrics)
    return metrics


def print_metrics(metrics: dict[str, Any]) -> None:
    """The held-out figures of the metrics as tables on the console."""
    held = metrics["heldout_sellers"]
    console.print(
        f"held-out sellers ({held['sellers_held_out']}), decision offsets "
        f"{held['decision_offsets']}"
    )
    console.print("  system  reading               macro-F1  kappa   n     per-class F1")
    for name in ("model", "vader"):
        for reading, m in held[name].items():
            console.print(
                f"  {name:<7} {reading:<21} {m['macro_f1']:.3f}     {m['kappa']:.3f}  "
                f"{m['n']:<5} {_per_class_f1(m)}"
            )
    for market, figures in metrics.get("heldout_markets", {}).items():
        console.print(
            f"held-out market {market:<9} model {figures['model']['three_class']['macro_f1']:.3f}"
            f" / VADER {figures['vader']['three_class']['macro_f1']:.3f} 3-class macro-F1; "
            f"neg-vs-pos {figures['model']['negative_vs_positive']['macro_f1']:.3f} / "
            f"{figures['vader']['negative_vs_positive']['macro_f1']:.3f}"
        )
    for lang, m in metrics.get("multilingual_sample", {}).items():
        console.print(f"multilingual sample {lang:<4} macro-F1 {m['macro_f1']:.3f} (n={m['n']})")
    print_human_gold(metrics["human_gold"])
    if "blind" in metrics:
        print_blind(metrics["blind"])


def _per_class_f1(figures: dict[str, Any]) -> str:
    return "  ".join(f"{k} {v['f1']:.3f}" for k, v in figures["per_class"].items())


def print_human_gold(gold_figures: dict[str, Any]) -> None:
    """The human-gold section of the metrics as a table on the console."""
    if "skipped" in gold_figures:
        console.print(f"human gold skipped: {gold_figures['skipped']}")
        return
    console.print("human gold test part (labels by a person from the text):")
    for name, m in gold_figures["test"].items():
        console.print(
            f"  {name:<13} macro-F1 {m['macro_f1']:.3f}  kappa {m['kappa']:.3f}  "
            f"n {m['n']:<4} {_per_class_f1(m)}"
        )
    if "test_deferred_to_encoder" in gold_figures:
        share = gold_figures["test_deferred_to_encoder"]
        console.print(f"  the cascade sent {share:.1%} of them to the encoder")
    noise = gold_figures["rating_vs_human_all"]
    console.print(
        f"rating-derived vs human labels, all {noise['n']} gold reviews: "
        f"kappa {noise['kappa']:.3f}, macro-F1 {noise['macro_f1']:.3f}"
    )
    second = gold_figures.get("second_pass")
    if second:
        agreed = second["model_on_agreed"]
        console.print(
            f"second annotator on {second['n']} test reviews: A2 vs A1 kappa "
            f"{second['a2_vs_a1']['kappa']:.3f}, macro-F1 {second['a2_vs_a1']['macro_f1']:.3f}"
            f"; model vs A2 {second['model_vs_a2']['macro_f1']:.3f}, VADER vs A2 "
            f"{second['vader_vs_a2']['macro_f1']:.3f}; model on the "
            f"{agreed['n']} agreed {agreed['macro_f1']:.3f}"
        )


def print_blind(blind: dict[str, Any]) -> None:
    """The blind set's figures per language, the annotators' agreement beside them."""
    console.print(f"blind set ({blind['unlabelled_reviews']} reviews without a gold label):")
    console.print("  lang  n     model F1  acc    kappa   VADER F1  A2 vs A1 F1  kappa")
    for lang, m in blind.items():
        if lang == "unlabelled_reviews":
            continue
        model, vader, ceiling = m["model"], m["vader"], m["a2_vs_a1"]
        console.print(
            f"  {lang:<5} {m['n']:<5} {model['macro_f1']:.3f}     {model['accuracy']:.3f}  "
            f"{model['kappa']:.3f}   {vader['macro_f1']:.3f}     "
            f"{ceiling.get('macro_f1', float('nan')):.3f}        "
            f"{ceiling.get('kappa', float('nan')):.3f}"
        )


def human_gold(corpus: pd.DataFrame, cfg: dict[str, Any]) -> pd.DataFrame | None:
    """The configured human gold (and second pass) joined to `corpus`, or None where none
    is configured or none of its reviews is in `corpus`."""
    path = cfg.get("human_gold", {}).get("labels")
    if not path:
        return None
    if not Path(path).exists():
        raise InputError(f"{path}: human gold labels not found (`reviews.human_gold.labels`)")
    gold = load_human_gold(Path(path), corpus)
    second = cfg["human_gold"].get("second_pass")
    if gold is None or not second:
        return gold
    if not Path(second).exists():
        raise InputError(f"{second}: second pass not found (`reviews.human_gold.second_pass`)")
    return load_second_pass(Path(second), gold)


def run_sentiment(
    inp: Path,
    out: Path,
    params: dict[str, Any],
    model_dir: Path,
    scale: str | None,
    summary_dir: Path | None,
) -> dict[str, int]:
    """Score reviews (quarantining what cannot be scored); summaries where asked."""
    cfg = config_section(params, SECTION)
    reviews = read_table(inp)
    model = SentimentModel.load(model_dir)
    kept, quarantined = score_reviews(reviews, model, cfg, scale or cfg["default_scale"])
    counts = write_with_quarantine(kept, quarantined, out, len(reviews), "reviews")
    if summary_dir is not None:
        for name, table in summarise(kept).items():
            write_table(table, Path(summary_dir) / f"{name}.parquet")
    return counts

"""Harm-reduction content in forum posts (issue 6), the IO entry of the stage: multi-label
over SPEC section 5. Each `run_*` function reads its inputs, calls the pure modules of
`pipeline.forums` and writes its outputs; the CLI passes the loaded params.

Two layers, combined by a configured rule: a transparent multilingual lexicon of regular
expressions (conf/forums), and a TF-IDF one-vs-rest logistic regression trained on the
project's own annotation of real Reddit posts plus its own Dutch/French/German examples.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline.core.corpus import config_section, configured_sources
from pipeline.core.io import console, read_table, write_table, write_with_quarantine
from pipeline.core.metrics import write_metrics
from pipeline.forums.blind import blind_figures, read_blind_posts
from pipeline.forums.evaluate import evaluate, threshold_choice
from pipeline.forums.gold import label_matrix, load_gold
from pipeline.forums.model import COMBINERS, HarmReductionModel
from pipeline.forums.score import score_posts, summarise
from pipeline.forums.sources import build_corpus

SECTION = "forums"


def run_forum_corpus(params: dict[str, Any], out: Path) -> dict[str, int]:
    """Posts from `data.root` + `data.forums.sources` (with text hashes)."""
    kept, quarantined = build_corpus(*configured_sources(params, SECTION))
    return write_with_quarantine(kept, quarantined, out, len(kept) + len(quarantined), "posts")


def run_train(corpus_path: Path, model_dir: Path, params: dict[str, Any]) -> None:
    """Fit on every labelled post (train and held-out): the deployed model."""
    cfg = config_section(params, SECTION)
    gold = load_gold(read_table(corpus_path), cfg)
    names = list(cfg["labels"])
    y = label_matrix(gold["labels"], names)
    model = HarmReductionModel.from_config(cfg, params.get("seed", 42))
    model.fit(gold["text"].tolist(), y)
    model.save(
        model_dir,
        {
            "task": "harm-reduction content, multi-label (SPEC section 5)",
            "labelled_posts": len(gold),
            "label_counts": dict(zip(names, y.sum(axis=0).tolist(), strict=True)),
            "evaluation": "reports/metrics/harm_reduction.json "
            "(`cryptodrug evaluate-harm-reduction`)",
        },
    )
    console.print(f"harm-reduction model: {len(gold)} labelled posts -> {model_dir}")


def run_evaluate(
    corpus_path: Path, out: Path, params: dict[str, Any], blind: Path | None = None
) -> dict[str, Any]:
    """Metrics JSON of `evaluate` (with a blind set's figures where `blind` is given: a
    model fitted on every labelled post but the blind real ones), and its main figures."""
    cfg = config_section(params, SECTION)
    corpus = read_table(corpus_path)
    gold = load_gold(corpus, cfg)
    metrics = evaluate(gold, cfg, params.get("seed", 42))
    grid = [round(0.05 * k, 2) for k in range(2, 19)]
    metrics["threshold_choice"] = threshold_choice(gold, cfg, params.get("seed", 42), grid)
    console.print(f"threshold with the best leave-one-group-out flag F1: "
                  f"{metrics['threshold_choice']['best']} (configured: {cfg['threshold']})")
    if blind is not None:
        posts, notes = read_blind_posts(blind, corpus, list(cfg["labels"]))
        held = set(posts.loc[posts["real"], "post_id"])
        train = gold[~gold["post_id"].isin(held)]
        notes["trained_on_posts"] = len(train)
        model = HarmReductionModel.from_config(cfg, params.get("seed", 42)).fit(
            train["text"].tolist(), label_matrix(train["labels"], list(cfg["labels"]))
        )
        metrics["blind"] = blind_figures(model, posts, notes)
        print_blind(metrics["blind"])
    write_metrics(metrics, out)
    for rule in COMBINERS.names():
        m = metrics[rule]["all"]
        flag = m["harm_reduction_flag"]
        console.print(
            f"{rule:<10} flag P {flag['precision']:.3f} R {flag['recall']:.3f} F1 {flag['f1']:.3f}"
            f"  labels micro-F1 {m['labels_micro_f1']:.3f} (held-out n={m['n']})"
        )
    for name, fig in metrics[cfg["combine"]]["all"]["per_label"].items():
        console.print(
            f"  {name:<18} P {fig['precision']:.3f} R {fig['recall']:.3f} F1 {fig['f1']:.3f}"
            f" support {fig['support']}"
        )
    return metrics


def print_blind(blind: dict[str, Any]) -> None:
    """The blind set's flag figures per language, the annotators' agreement beside them."""
    for note in ("real_en_skipped", "unlabelled_posts", "trained_on_posts"):
        if note in blind:
            console.print(f"blind {note}: {blind[note]}")
    for lang, m in blind.items():
        if isinstance(m, dict):
            flag = m["model"]["harm_reduction_flag"]
            ceiling = m["a2_vs_a1"].get("harm_reduction_flag", {"f1": float("nan")})
            console.print(
                f"blind {lang:<8} n {m['model']['n']:<4} flag P {flag['precision']:.3f} "
                f"R {flag['recall']:.3f} F1 {flag['f1']:.3f}  labels macro-F1 "
                f"{m['model']['labels_macro_f1']:.3f}  A2 vs A1 flag F1 {ceiling['f1']:.3f}"
            )


def run_harm_reduction(
    inp: Path, out: Path, model_dir: Path, summary: Path | None
) -> dict[str, int]:
    """Score posts (quarantining empty ones); the per-label shares where asked."""
    posts = read_table(inp)
    model = HarmReductionModel.load(model_dir)
    kept, quarantined = score_posts(posts, model)
    counts = write_with_quarantine(kept, quarantined, out, len(posts), "posts")
    if summary is not None:
        write_table(summarise(kept, model.labels_), summary)
    return counts

"""Harm-reduction detection (issue 6): lexicon, bad input, CLI, and the labelled set."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.core.config import PROJECT_ROOT, compose_params
from pipeline.forums.evaluate import evaluate
from pipeline.forums.gold import label_matrix, load_gold
from pipeline.forums.lexicon import Lexicon
from pipeline.forums.model import HarmReductionModel
from pipeline.forums.score import score_posts, summarise
from pipeline.forums.sources import build_corpus

CFG = compose_params()["forums"]
NAMES = CFG["labels"]


@pytest.fixture(scope="module")
def model(sample_data: Path) -> HarmReductionModel:
    gold = load_gold(
        pd.read_csv(sample_data / "forum_posts.csv", dtype=str, keep_default_na=False), CFG
    )
    return HarmReductionModel.from_config(CFG, seed=42).fit(
        gold["text"].tolist(), label_matrix(gold["labels"], NAMES)
    )


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("Start low, redose only after two hours", "dosing"),
        ("Laat je pillen testen bij de testservice", "drug_checking"),
        ("Ne mélangez jamais alcool et GHB", "combinations"),
        ("Carry narcan, it reverses an opioid overdose", "overdose_response"),
        ("Use clean needles and never use alone", "safer_use"),
        ("Ich mache einen Entzug mit der Suchtberatung", "addiction_support"),
    ],
)
def test_lexicon_fires_per_label_and_language(text: str, label: str) -> None:
    lexicon = Lexicon(CFG["lexicon"])
    hits = lexicon.hits([text], NAMES)[0]
    assert hits[NAMES.index(label)]
    assert label in lexicon.evidence(text)


def test_label_matrix_roundtrip() -> None:
    matrix = label_matrix(pd.Series(["dosing;safer_use", "", "addiction_support"]), NAMES)
    assert matrix.sum() == 3 and not matrix[1].any()


def test_bad_input_defined(model: HarmReductionModel) -> None:
    posts = pd.DataFrame(
        {
            "post_id": ["empty", "emoji", "huge", "mixed", "plain"],
            "text": [
                "",
                "💊💊🔥",
                "nothing here. " * 4000 + " use clean needles",
                "Laat je pillen testen first, and never mix with alcohol",
                "What a nice day at the beach",
            ],
        }
    )
    kept, quarantined = score_posts(posts, model)
    assert quarantined["post_id"].tolist() == ["empty"]
    assert (quarantined["reason"] == "empty text").all()
    out = kept.set_index("post_id")
    assert out.loc["emoji", "hr_labels"] == [] and not out.loc["emoji", "harm_reduction"]
    # 50 kB posts: only the first max_chars are read, so a term after them is not seen
    assert "safer_use" not in out.loc["huge", "hr_labels"]
    assert {"drug_checking", "combinations"} <= set(out.loc["mixed", "hr_labels"])
    assert not out.loc["plain", "harm_reduction"]


def test_summary_shares(model: HarmReductionModel, sample_data: Path) -> None:
    kept, _ = score_posts(
        pd.read_csv(sample_data / "forum_posts.csv", dtype=str, keep_default_na=False), model
    )
    summary = summarise(kept, NAMES).set_index("label")
    assert set(summary.index) == {"any", *NAMES}
    assert summary.loc["any", "share"] >= summary["share"].drop("any").max()


def test_gold_never_stores_text() -> None:
    gold = pd.read_csv(PROJECT_ROOT / CFG["gold"]["labels"], dtype=str, keep_default_na=False)
    assert list(gold.columns) == ["post_id", "text_sha", "source", "labels", "labels_guideline",
                                  "labels_spec", "split", "annotator"]
    assert len(gold) >= 600
    assert set(gold["split"]) == {"train", "heldout"}
    for column in ("labels", "labels_guideline"):
        used = {label for cell in gold[column] for label in cell.split(";") if label}
        assert used <= set(NAMES)


def test_cli_train_score_evaluate(tmp_path: Path, sample_data: Path) -> None:
    runner = CliRunner()
    model_dir = tmp_path / "model"
    posts = str(sample_data / "forum_posts.csv")
    result = runner.invoke(app, ["train-harm-reduction", posts, "-o", str(model_dir)])
    assert result.exit_code == 0, result.output
    out = tmp_path / "scored.parquet"
    summary = tmp_path / "summary.parquet"
    result = runner.invoke(
        app,
        [
            "harm-reduction",
            posts,
            "-o",
            str(out),
            "--model",
            str(model_dir),
            "--summary",
            str(summary),
        ],
    )
    assert result.exit_code == 0, result.output
    scored = pd.read_parquet(out)
    assert scored["harm_reduction"].dtype == bool
    assert isinstance(scored["hr_labels"].iloc[0], np.ndarray | list)
    assert pd.read_parquet(summary)["total_posts"].iloc[0] == len(scored)
    result = runner.invoke(
        app, ["harm-reduction", posts, "-o", str(out), "--model", str(tmp_path / "none")]
    )
    assert result.exit_code == 2
    metrics = tmp_path / "metrics.json"
    result = runner.invoke(app, ["evaluate-harm-reduction", posts, "-o", str(metrics)])
    assert result.exit_code == 0, result.output
    figures = json.loads(metrics.read_text())
    assert figures[CFG["combine"]]["all"]["n"] == figures["heldout_posts"] > 0


@pytest.mark.public_data
@pytest.mark.slow
def test_real_heldout_flag_f1(public_data: Path) -> None:
    """The stored labels join the real posts by id and hash; held-out flag F1 >= 0.80."""
    corpus, _ = build_corpus(
        public_data,
        {
            "reddit_drugs_ner": "forums/reddit-drugs-ner/drugs_training.jsonl",
            "reddit_impacts": "forums/reddit-impacts/new_train_data.csv",
        },
    )
    gold = load_gold(
        corpus, {**CFG, "gold": {k: str(PROJECT_ROOT / v) for k, v in CFG["gold"].items()}}
    )
    assert (gold["source"] != "own").sum() >= 600
    metrics = evaluate(gold, CFG, 42)
    assert metrics[CFG["combine"]]["real_posts"]["harm_reduction_flag"]["f1"] >= 0.80

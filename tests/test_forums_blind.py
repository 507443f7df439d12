"""Blind harm-reduction sets (issue 15): written posts, real posts joined by key and
hash, per-language flag figures and the annotators' agreement, on tiny sets written here."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.core.config import compose_params
from pipeline.core.io import InputError
from pipeline.core.text import content_key
from pipeline.forums.blind import read_blind_posts
from pipeline.forums.gold import written_posts

NAMES = compose_params()["forums"]["labels"]
POSTS = [
    ("w1", "nl", "Begin met een halve pil en wacht twee uur.", "dosing"),
    ("w2", "fr", "Fais tester ton produit avec des réactifs.", "drug_checking"),
    ("w3", "de", "Wer hat gute Vendoren in Berlin?", ""),
]
CORPUS = pd.DataFrame({"post_id": ["r1", "r2"],
                       "text": ["Never mix GHB with alcohol.", "Anyone shipping to the UK?"]})


def _write_set(folder: Path, real: bool = True, extra: list[tuple] = ()) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame([p[:3] for p in POSTS], columns=["post_id", "lang", "text"]).to_csv(
        folder / "posts.csv", index=False)
    rows = [(pid, coder, labels) for pid, *_, labels in POSTS for coder in ("A1", "A2", "gold")]
    pd.DataFrame([*rows, *extra], columns=["post_id", "coder", "hr_labels"]).to_csv(
        folder / "labels.csv", index=False)
    if real:
        pd.DataFrame(
            [(pid, content_key(text), coder, labels)
             for pid, text, labels in [("r1", CORPUS.text[0], "combinations"),
                                       ("r2", CORPUS.text[1], "")]
             for coder in ("A1", "gold")],
            columns=["post_id", "text_sha", "coder", "hr_labels"],
        ).to_csv(folder / "real_en.csv", index=False)
    return folder


def test_real_posts_join_by_key_and_hash(tmp_path: Path) -> None:
    frame, notes = read_blind_posts(_write_set(tmp_path), CORPUS, NAMES)
    assert notes["real_en_posts"] == 2 and notes["unlabelled_posts"] == 0
    assert frame.loc[frame["real"], "text"].tolist() == CORPUS["text"].tolist()
    assert frame.set_index("post_id").loc["w1", "gold"] == "dosing"


def test_real_part_skipped_with_a_note_without_the_corpus(tmp_path: Path) -> None:
    other = pd.DataFrame({"post_id": ["p9"], "text": ["x"]})
    frame, notes = read_blind_posts(_write_set(tmp_path), other, NAMES)
    assert "real_en_skipped" in notes and not frame["real"].any()


def test_changed_real_text_or_unknown_label_is_input_error(tmp_path: Path) -> None:
    changed = CORPUS.assign(text=["Never mix GHB with booze.", CORPUS.text[1]])
    with pytest.raises(InputError, match="hash mismatch"):
        read_blind_posts(_write_set(tmp_path), changed, NAMES)
    with pytest.raises(InputError, match="labels must be among"):
        read_blind_posts(_write_set(tmp_path, extra=[("w3", "A1", "vibes")]), CORPUS, NAMES)


def test_cli_evaluate_with_blind(tmp_path: Path, sample_data: Path) -> None:
    out = tmp_path / "metrics.json"
    result = CliRunner().invoke(app, [
        "evaluate-harm-reduction", str(sample_data / "forum_posts.csv"), "-o", str(out),
        "--blind", str(_write_set(tmp_path / "blind", real=False))])
    assert result.exit_code == 0, result.output
    blind = json.loads(out.read_text())["blind"]
    assert {"all", "nl", "fr", "de"} <= set(blind)
    assert blind["all"]["model"]["n"] == 3
    assert blind["nl"]["a2_vs_a1"]["harm_reduction_flag"]["f1"] == 1.0
    assert set(blind["all"]["model"]["per_label"]) == set(NAMES)


def test_per_label_thresholds_and_their_choice() -> None:
    import numpy as np

    from pipeline.forums.model import HarmReductionModel, choose_thresholds

    model = HarmReductionModel(labels=NAMES, threshold={"dosing": 0.9})
    model.labels_ = NAMES
    assert model.thresholds().tolist() == [0.9] + [0.5] * (len(NAMES) - 1)
    y = np.array([[1, 0], [1, 0], [0, 1], [0, 0]], bool)
    proba = np.array([[0.35, 0.1], [0.4, 0.2], [0.3, 0.8], [0.1, 0.6]])
    assert choose_thresholds(proba, y, ["a", "b"], [0.3, 0.35, 0.5, 0.7]) == {
        "a": 0.35, "b": 0.7}


def test_written_training_post_with_an_unknown_label_is_input_error(tmp_path: Path) -> None:
    header = "post_id,lang,text,hr_labels\n"
    (tmp_path / "w1.csv").write_text(header + "x1,nl,Test je pillen,drug_checking\n")
    assert written_posts(str(tmp_path), NAMES)[0]["labels"].tolist() == ["drug_checking"]
    (tmp_path / "w2.csv").write_text(header + "x2,nl,Altijd testen,drugchecking\n")
    with pytest.raises(InputError, match="labels must be among"):
        written_posts(str(tmp_path), NAMES)

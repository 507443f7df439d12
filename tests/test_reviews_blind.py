"""Blind sentiment sets (issue 15): reading, checking and per-language figures, the
lexicon cues, and the CLI's `--blind`, on tiny sets written here."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.core.config import compose_params, write_params
from pipeline.core.io import InputError
from pipeline.reviews.blind import read_blind_reviews
from pipeline.reviews.labels import load_written
from pipeline.reviews.lexicon import SentimentLexicon

CFG = compose_params()["reviews"]
REVIEWS = [
    ("b1", "nl", "Nooit ontvangen, oplichter", "negative"),
    ("b2", "nl", "Top vendor, snel en discreet", "positive"),
    ("b3", "fr", "Colis jamais reçu, arnaque", "negative"),
    ("b4", "fr", "Reçu hier, pas encore testé", "neutral"),
    ("b5", "de", "Alles super, gerne wieder", "positive"),
    ("b6", "en", "Arrived, will update after testing", "neutral"),
]


def _write_set(folder: Path, extra_labels: list[tuple[str, str, str]] = ()) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame([r[:3] for r in REVIEWS], columns=["review_id", "lang", "text"]).to_csv(
        folder / "reviews.csv", index=False)
    rows = [(rid, coder, label) for rid, *_, label in REVIEWS[:-1] for coder in ("A1", "gold")]
    rows += [("b1", "A2", "negative"), ("b2", "A2", "neutral"), *extra_labels]
    pd.DataFrame(rows, columns=["review_id", "coder", "sentiment"]).to_csv(
        folder / "labels.csv", index=False)
    return folder


def test_blind_set_is_read_per_coder(tmp_path: Path) -> None:
    frame, unlabelled = read_blind_reviews(_write_set(tmp_path))
    assert unlabelled == 1  # b6 has no gold label: counted, not scored
    assert list(frame["review_id"]) == ["b1", "b2", "b3", "b4", "b5"]
    assert frame.set_index("review_id").loc["b2", ["A1", "A2", "gold"]].tolist() == [
        "positive", "neutral", "positive"]
    assert frame.set_index("review_id").loc["b3", "A2"] == ""


@pytest.mark.parametrize(
    ("label", "message"),
    [(("b1", "A3", "negative"), "coder must be"), (("b1", "A2", "bad"), "sentiment must be"),
     (("zz", "A1", "neutral"), "not in reviews.csv"), (("b1", "A1", "neutral"), "twice")],
)
def test_bad_blind_labels_are_input_errors(tmp_path: Path, label: tuple, message: str) -> None:
    with pytest.raises(InputError, match=message):
        read_blind_reviews(_write_set(tmp_path, [label]))


def test_missing_blind_file_is_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        read_blind_reviews(tmp_path)


@pytest.mark.parametrize(
    ("text", "cue"),
    [("Nooit ontvangen", "lx_idiom_neg"), ("colis jamais recu", "lx_idiom_neg"),
     ("Reine Abzocke!", "lx_neg"), ("not bad at all", "lx_negated"),
     ("top vendor", "lx_idiom_pos"), ("pas encore testé", "lx_pending"),
     ("snel maar zwak", "lx_mixed"), ("vraiment excellent", "lx_strong_pos")],
)
def test_lexicon_cues_per_language(text: str, cue: str) -> None:
    assert cue in SentimentLexicon.from_config(CFG["lexicon"]).cues(text)


def test_written_reviews_are_checked(tmp_path: Path) -> None:
    (tmp_path / "w1.csv").write_text("review_id,lang,text,sentiment\nx1,nl,Top,positive\n")
    written = load_written(tmp_path, 2.0)
    assert written[["label", "weight", "writer"]].iloc[0].tolist() == ["positive", 2.0, "w1"]
    (tmp_path / "w2.csv").write_text("review_id,lang,text,sentiment\nx2,it,Bene,positive\n")
    with pytest.raises(InputError, match="language"):
        load_written(tmp_path)


def test_cli_evaluate_with_blind(tmp_path: Path, sample_data: Path) -> None:
    """The n-gram model (no encoder, no tuned offsets: seconds) scored on a blind set, per
    language, beside VADER and A2 against A1."""
    params = compose_params()
    params["reviews"]["encoder"]["enabled"] = False
    params["reviews"]["decision"]["tune"] = False
    write_params(params, tmp_path / "params.yaml")
    out = tmp_path / "metrics.json"
    result = CliRunner().invoke(app, [
        "evaluate-sentiment", str(sample_data / "reviews.csv"), "-o", str(out),
        "--blind", str(_write_set(tmp_path / "blind")), "--params", str(tmp_path / "params.yaml")])
    assert result.exit_code == 0, result.output
    blind = json.loads(out.read_text())["blind"]
    assert blind["unlabelled_reviews"] == 1
    assert {"all", "nl", "fr", "de"} <= set(blind)
    assert blind["all"]["n"] == 5 and blind["nl"]["n"] == 2
    assert set(blind["all"]["model"]) >= {"macro_f1", "accuracy", "kappa", "per_class"}
    assert blind["nl"]["a2_vs_a1"]["n"] == 2 and blind["nl"]["a2_vs_a1"]["accuracy"] == 0.5
    assert "vader" in blind["fr"]
    result = CliRunner().invoke(app, [
        "evaluate-sentiment", str(sample_data / "reviews.csv"), "-o", str(out),
        "--blind", str(tmp_path / "none"), "--params", str(tmp_path / "params.yaml")])
    assert result.exit_code == 2

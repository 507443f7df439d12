"""Human-labelled sentiment gold (issue 6): loader (keys + text hash), training use, and the
real labels against the real corpus."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from pipeline.core.config import compose_params
from pipeline.core.io import InputError
from pipeline.core.text import content_key
from pipeline.reviews.evaluate import evaluate, human_gold_figures, second_pass_figures
from pipeline.reviews.gold import gold_weights, load_human_gold, load_second_pass, with_human_labels
from pipeline.reviews.labels import labelled, load_seed_examples
from pipeline.reviews.model import training_frame
from pipeline.reviews.sources import build_corpus
from pipeline.reviews.stage import human_gold

CFG = compose_params()["reviews"]
GOLD = Path(CFG["human_gold"]["labels"])
# the n-gram model with the plain argmax: seconds on the sample
QUICK = {**CFG, "decision": {**CFG["decision"], "tune": False},
         "encoder": {**CFG["encoder"], "enabled": False}}


def _corpus() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "review_id": ["t:0", "t:1", "t:2", "t:3"],
            "text": ["never came", "fire, thanks", "FE will update", "ok"],
            "label": ["negative", "negative", "neutral", "positive"],
            "vendor": ["a", "b", "c", "d"],
            "market": "m",
        }
    )


def _labels(tmp_path: Path, corpus: pd.DataFrame, rows: dict[str, tuple[str, str]]) -> Path:
    text = corpus.set_index("review_id")["text"]
    frame = pd.DataFrame(
        [
            {
                "source": "t",
                "review_id": rid,
                "text_sha": content_key(text.get(rid, "")),
                "label": label,
                "split": split,
            }
            for rid, (label, split) in rows.items()
        ]
    )
    path = tmp_path / "labels.csv"
    frame.to_csv(path, index=False)
    return path


def test_text_hash_is_stable_and_short() -> None:
    assert content_key("fire") == content_key("fire") != content_key("fire ")
    assert len(content_key("fire")) == 16


def test_gold_joins_by_key_and_hash(tmp_path: Path) -> None:
    corpus = _corpus()
    path = _labels(tmp_path, corpus, {"t:1": ("positive", "train"), "t:3": ("neutral", "test")})
    gold = load_human_gold(path, corpus)
    assert gold.index.tolist() == [1, 3]
    assert gold["human_label"].tolist() == ["positive", "neutral"]
    assert gold["gold_split"].tolist() == ["train", "test"]
    assert gold["label"].tolist() == ["negative", "positive"]  # rating labels kept beside


def test_gold_hash_mismatch_is_clear_error(tmp_path: Path) -> None:
    corpus = _corpus()
    path = _labels(tmp_path, corpus, {"t:1": ("positive", "train")})
    changed = corpus.assign(text=corpus["text"].str.upper())
    with pytest.raises(InputError, match=r"changed text since labelling \(hash mismatch.*t:1"):
        load_human_gold(path, changed)


def test_gold_absent_corpus_gives_none_partial_gives_error(tmp_path: Path) -> None:
    corpus = _corpus()
    path = _labels(tmp_path, corpus, {"t:1": ("positive", "train"), "x:9": ("neutral", "test")})
    with pytest.raises(InputError, match="1 labelled reviews not in the corpus"):
        load_human_gold(path, corpus)
    other = corpus.assign(review_id=["s:0", "s:1", "s:2", "s:3"])
    assert (
        load_human_gold(_labels(tmp_path, corpus, {"t:1": ("positive", "train")}), other) is None
    )


@pytest.mark.parametrize(("label", "split"), [("mixed", "train"), ("positive", "dev")])
def test_gold_bad_label_or_split(tmp_path: Path, label: str, split: str) -> None:
    corpus = _corpus()
    with pytest.raises(InputError, match="label must be one of"):
        load_human_gold(_labels(tmp_path, corpus, {"t:1": (label, split)}), corpus)


def test_human_labels_replace_train_rows_only(tmp_path: Path) -> None:
    corpus = _corpus()
    path = _labels(tmp_path, corpus, {"t:1": ("positive", "train"), "t:3": ("neutral", "test")})
    gold = load_human_gold(path, corpus)
    out = with_human_labels(corpus, gold, 10)
    assert out["label"].tolist() == ["negative", "positive", "neutral", "positive"]
    assert out["weight"].tolist() == [1.0, 10.0, 1.0, 1.0]
    assert out["human"].tolist() == [False, True, False, False]
    assert with_human_labels(corpus, gold, 0)["label"].tolist() == corpus["label"].tolist()
    frame = training_frame(out, load_seed_examples(Path(CFG["seed_examples"])))
    assert frame["human"].sum() == 1 and frame["weight"].max() == 10.0


def test_rating_labelled_rows_weigh_rating_weight_only_with_gold(tmp_path: Path) -> None:
    """`rating_weight` down-weighs the rating-labelled rows beside human labels; without
    gold (the bundled sample) or with the gold switched off every row still weighs 1."""
    corpus = _corpus()
    gold = load_human_gold(_labels(tmp_path, corpus, {"t:1": ("positive", "train")}), corpus)
    assert with_human_labels(corpus, gold, 3, 0.1)["weight"].tolist() == [0.1, 3.0, 0.1, 0.1]
    assert with_human_labels(corpus, None, 3, 0.1)["weight"].tolist() == [1.0] * 4
    assert with_human_labels(corpus, gold, 0, 0.1)["weight"].tolist() == [1.0] * 4
    assert gold_weights({"human_gold": {"train_weight": 2}}) == (2.0, 1.0)
    assert gold_weights(CFG) == (
        CFG["human_gold"]["train_weight"], CFG["human_gold"]["rating_weight"]
    )


def test_round3_strata_select_by_rule() -> None:
    """Round-3 rules: the dev-fold prediction, text cues and shortness pick the rows."""
    from pipeline.reviews import annotation as script
    pool = pd.DataFrame(
        {
            "review_id": [f"r:{i}" for i in range(6)],
            "text": ["FE, will update", "great but slow", "fire", "never came, scam",
                     "received the order today", "superb vendor all round thanks"],
            "rating": [5, 5, 5, -5, 5, 5],
            "source": "trust",
            "predicted": ["neutral", "positive", "positive", "positive", "neutral", "positive"],
        }
    )
    sample = script.draw_sample(pool, 10, script.STRATA[3])
    bucket = dict(zip(sample["review_id"], sample["rating_bucket"], strict=True))
    assert bucket == {"r:0": "disagree:top", "r:4": "disagree:top", "r:3": "disagree:low",
                      "r:1": "cue:mixed", "r:2": "short"}


def test_sample_evaluation_skips_human_gold(sample_data: Path) -> None:
    """The bundled sample holds none of the labelled real reviews: a note, not an error."""
    corpus = labelled(pd.read_csv(sample_data / "reviews.csv"), CFG).reset_index(drop=True)
    assert human_gold(corpus, CFG) is None
    metrics = evaluate(corpus, QUICK, 42, None)
    assert "public data absent" in metrics["human_gold"]["skipped"]


def test_heldout_market_figures_do_not_depend_on_worker_processes(sample_data: Path) -> None:
    corpus = labelled(pd.read_csv(sample_data / "reviews.csv"), CFG).reset_index(drop=True)
    one, two = (evaluate(corpus, {**QUICK, "eval": {**QUICK["eval"], "n_jobs": n}}, 42, None)
                for n in (1, 2))
    assert len(one["heldout_markets"]) > 1
    assert one["heldout_markets"] == two["heldout_markets"]


@pytest.mark.public_data
def test_real_gold_matches_real_corpus(public_data: Path) -> None:
    """Every stored label finds its review with the same text, the split is the one the
    evaluation draws, and the gold is large and balanced enough to measure 3 classes."""
    from sklearn.model_selection import GroupShuffleSplit

    params = compose_params(["data=public"])
    corpus, _ = build_corpus(
        public_data, params["data"]["reviews"]["sources"], CFG["rating_scales"]
    )
    gold = load_human_gold(GOLD, corpus)
    assert gold is not None and len(gold) >= 400
    split = GroupShuffleSplit(
        n_splits=1, test_size=CFG["eval"]["test_size"], random_state=params["seed"]
    )
    _, test_idx = next(split.split(corpus, groups=corpus["vendor"] + "|" + corpus["market"]))
    assert (gold["gold_split"].eq("test") == gold.index.isin(test_idx)).all()
    counts = gold.groupby(["gold_split", "source"])["human_label"].value_counts()
    assert counts.min() >= 10 and len(counts) == 12  # every class, source and part
    second = load_second_pass(Path(CFG["human_gold"]["second_pass"]), gold)
    assert (second["second_label"].ne("") == second["gold_split"].eq("test")).all()


def test_annotation_draw_keeps_to_training_sellers_and_strata() -> None:
    """Round-2 draws: only training-side sellers, distinct texts, each review once, strata
    capped at their size, mid ratings taken whole."""
    from pipeline.reviews import annotation as script
    n = 400
    corpus = pd.DataFrame(
        {
            "review_id": [f"r:{i}" for i in range(n)],
            "text": [f"text {i % 350}" for i in range(n)],
            "rating": [(-5, 0, 3, 5, 5)[i % 5] for i in range(n)],
            "source": "trust",
            "vendor": [f"v{i % 40}" for i in range(n)],
            "market": "m",
        }
    )
    side = script.training_side(corpus, 42, 0.25)
    assert 0 < side["vendor"].nunique() < 40
    sample = script.draw_sample(side, 9)
    assert sample["review_id"].is_unique and sample["text"].is_unique
    assert set(sample["vendor"]) <= set(side["vendor"])
    counts = sample["rating_bucket"].value_counts()
    assert counts["trust:-5"] <= 50 and counts["trust:5"] <= 50
    mid = side.drop_duplicates("text")
    assert counts["trust:-4..4"] == mid["rating"].isin([0, 3]).sum()


def _second(tmp_path: Path, rows: list[tuple[str, str, str]]) -> Path:
    path = tmp_path / "second_pass.csv"
    pd.DataFrame(
        [
            {"source": "t", "review_id": rid, "text_sha": sha, "label": lab, "annotator": "A2"}
            for rid, sha, lab in rows
        ]
    ).to_csv(path, index=False)
    return path


def test_second_pass_joins_by_key_and_hash(tmp_path: Path) -> None:
    corpus = _corpus()
    gold = load_human_gold(
        _labels(tmp_path, corpus, {"t:1": ("positive", "train"), "t:3": ("neutral", "test")}),
        corpus,
    )
    out = load_second_pass(_second(tmp_path, [("t:3", content_key("ok"), "positive")]), gold)
    assert out["second_label"].tolist() == ["", "positive"]
    assert out["human_label"].tolist() == ["positive", "neutral"]
    with pytest.raises(InputError, match=r"1 reviews changed text since the second pass"):
        load_second_pass(_second(tmp_path, [("t:3", content_key("OK"), "neutral")]), gold)
    with pytest.raises(InputError, match=r"1 reviews not in the human gold \(e\.g\. t:0"):
        load_second_pass(_second(tmp_path, [("t:0", content_key("never came"), "neutral")]), gold)
    with pytest.raises(InputError, match="label must be one of"):
        load_second_pass(_second(tmp_path, [("t:3", content_key("ok"), "mixed")]), gold)


def test_second_pass_figures_agreement_and_agreed_rows() -> None:
    """Hand-counted: 4 of 6 alike, chance agreement 12/36, so kappa (2/3-1/3)/(2/3) = 0.5;
    on the 4 agreed rows the model gets negative F1 1, neutral 0, positive 0.5."""
    first = ["negative", "negative", "neutral", "positive", "positive", "positive"]
    second = ["negative", "neutral", "neutral", "positive", "positive", "negative"]
    model = ["negative", "negative", "positive", "positive", "neutral", "positive"]
    figures = second_pass_figures(first, second, model, second)
    assert figures["n"] == 6 and figures["observed_agreement"] == pytest.approx(0.6667)
    assert figures["a2_vs_a1"]["kappa"] == pytest.approx(0.5)
    assert figures["vader_vs_a2"]["macro_f1"] == 1.0
    agreed = figures["model_on_agreed"]
    assert agreed["n"] == 4 and agreed["macro_f1"] == pytest.approx(0.5)
    assert figures["model_vs_a1"]["n"] == figures["model_vs_a2"]["n"] == 6


class _FixedModel:
    """Reads every text as positive (the figures' plumbing is tested, not a model)."""

    def score_texts(self, texts: list[str]) -> tuple[list[str], list[float]]:
        return ["positive"] * len(texts), [1.0] * len(texts)


def test_human_gold_figures_add_second_pass_only_where_given(tmp_path: Path) -> None:
    corpus = _corpus().assign(source="t")
    gold = load_human_gold(
        _labels(tmp_path, corpus, {"t:1": ("positive", "test"), "t:2": ("neutral", "test"),
                                   "t:3": ("positive", "test")}),
        corpus,
    )
    assert "second_pass" not in human_gold_figures(_FixedModel(), gold, CFG)
    second = load_second_pass(
        _second(tmp_path, [("t:1", content_key("fire, thanks"), "positive"),
                           ("t:2", content_key("FE will update"), "positive")]),
        gold,
    )
    figures = human_gold_figures(_FixedModel(), second, CFG)["second_pass"]
    assert figures["n"] == 2 and figures["observed_agreement"] == 0.5
    assert figures["model_vs_a2"]["macro_f1"] == 1.0
    assert figures["model_on_agreed"]["n"] == 1


def test_second_pass_work_file_is_blind_and_covers_test_part() -> None:
    """Only the test part, only number + text in the file the annotator reads, a fixed
    shuffle, and a changed text refused."""
    from pipeline.reviews import annotation as script
    corpus = _corpus()
    gold = pd.DataFrame(
        {
            "source": "t",
            "review_id": ["t:0", "t:1", "t:2", "t:3"],
            "text_sha": [content_key(t) for t in corpus["text"]],
            "label": ["negative", "positive", "neutral", "positive"],
            "split": ["test", "train", "test", "test"],
        }
    )
    blind = script.blind_test_part(gold, corpus, 7)
    assert sorted(blind["review_id"]) == ["t:0", "t:2", "t:3"]
    assert "label" not in blind and "rating" not in blind
    assert blind["number"].tolist() == [1, 2, 3]
    assert blind.equals(script.blind_test_part(gold, corpus, 7))
    with pytest.raises(InputError, match="hash mismatch"):
        script.blind_test_part(gold, corpus.assign(text=corpus["text"] + "!"), 7)

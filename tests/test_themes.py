"""Theme coding (issue 7): importers, codebook, language, coder, agreement, inductive
themes, REFI-QDA round trip, corrections and the CLI's bad-input behaviour."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.core.codebook import load_codebook, parse_codebook
from pipeline.core.corrections import (
    append_correction,
    apply_corrections,
    correction_training_rows,
    label_matrix,
    load_corrections,
    read_gold,
)
from pipeline.core.io import InputError
from pipeline.core.language import detect_languages
from pipeline.themes.agreement import agreement, agreement_by_language, human_vs_human
from pipeline.themes.coder import ThemeCoder, decide
from pipeline.themes.importers import import_answers, read_survey_csv, read_transcript
from pipeline.themes.inductive import propose_themes
from pipeline.themes.qdpx import build_project, read_qdpx, write_qdpx
from pipeline.themes.stage import flag_reasons, run_code

SPEC_CODES = [
    "MOTIVE_RANGE",
    "MOTIVE_QUALITY",
    "MOTIVE_PRICE",
    "MOTIVE_CONVENIENCE",
    "MOTIVE_SAFETY",
    "DISCOVERY_CLEARWEB_FORUM",
    "DISCOVERY_MASS_MEDIA",
    "DISCOVERY_DARKWEB_FORUM",
    "DISCOVERY_SOCIAL_MEDIA",
    "DISCOVERY_FRIENDS",
    "VENDOR_TRANSACTIONS",
    "VENDOR_REPUTATION",
    "VENDOR_REVIEWS",
    "VENDOR_PROXIMITY",
    "VENDOR_PRESENTATION",
    "RISK_VENDOR",
    "RISK_ADMIN",
    "RISK_POLICE",
    "OPSEC_MINIMAL",
    "OPSEC_MEASURES",
    "SUPPLY_OWN_USE",
    "SUPPLY_FRIENDS",
    "SUPPLY_RESALE",
    "USE_NEW_SUBSTANCES",
    "USE_FREQUENCY",
    "HARM_REDUCTION_INFO",
    "MARKET_SHOCKS",
    "OFFLINE_COMPARISON",
]


@pytest.fixture(scope="module")
def codebook():
    return load_codebook()


@pytest.fixture(scope="module")
def gold(project_root, codebook):
    return read_gold(project_root / "data/gold/themes/coded_segments.csv", codebook.ids)


@pytest.fixture(scope="module")
def split(gold):
    """A fixed held-out fifth of the gold segments, stratified by language."""
    held = gold.groupby("lang").sample(frac=0.2, random_state=0)
    return gold.drop(held.index), held


@pytest.fixture(scope="module")
def coder(split, codebook):
    train, _ = split
    labels = label_matrix(train, codebook.ids).to_numpy()
    return ThemeCoder(codebook, ("patterns", "tfidf", "lemmas")).fit(
        train["text"], train["lang"], labels
    )


@pytest.fixture(scope="module")
def sample_segments(sample_data):
    return import_answers([sample_data / "survey", sample_data / "interviews"])


# --- codebook -----------------------------------------------------------------------------


def test_default_codebook_has_the_spec_codes_with_examples_in_three_languages(codebook):
    assert codebook.ids == SPEC_CODES
    for code in codebook.codes:
        assert code.definition and code.include and code.exclude
        assert {"nl", "fr", "en"} <= set(code.examples), code.id


def test_codebook_with_duplicate_or_missing_id_is_a_clear_error():
    with pytest.raises(InputError, match="duplicate code id 'A'"):
        parse_codebook({"codes": [{"id": "A", "definition": "x"}, {"id": "A", "definition": "y"}]})
    with pytest.raises(InputError, match="code #2 has no id"):
        parse_codebook({"codes": [{"id": "A", "definition": "x"}, {"definition": "y"}]})
    with pytest.raises(InputError, match="no definition"):
        parse_codebook({"codes": [{"id": "A"}]})


def test_gold_codes_outside_the_codebook_are_an_error(tmp_path):
    path = tmp_path / "gold.csv"
    path.write_text("segment_id,lang,codes,text\ns1,en,MOTIVE_PRICEE,cheaper\n")
    with pytest.raises(InputError, match="MOTIVE_PRICEE"):
        read_gold(path, SPEC_CODES)


# --- importers ----------------------------------------------------------------------------


def test_limesurvey_export_skips_metadata_closed_and_skipped_questions(sample_data):
    segments, docs = read_survey_csv(sample_data / "survey" / "limesurvey_results.csv")
    assert "AGE" not in set(segments["question_id"])  # closed question
    assert "limesurvey_results-4-Q4" not in set(segments["segment_id"])  # skipped question
    assert set(segments["question_id"]) == {"Q1", "Q2", "Q3", "Q4", "Q5", "Q6"}
    assert segments["segment_id"].is_unique
    for row in segments.itertuples():
        assert docs[row.document][row.doc_start : row.doc_end] == row.text


def test_qualtrics_export_reads_question_texts_from_its_header_rows(sample_data):
    segments, _ = read_survey_csv(sample_data / "survey" / "qualtrics_export.csv")
    assert not segments["question"].str.startswith("{").any()
    assert segments["question"].str.contains("cryptomarkets").any()
    assert segments["respondent_id"].str.contains("R_").all()
    assert "Q0_age" not in set(segments["question_id"])


@pytest.mark.parametrize(
    "content, message",
    [
        (
            "id,submitdate,Q1\n1,2020-01-01,answer one here\n2,2020-01-01\n",
            "different column count",
        ),
        ("name,answer\nx,some words here\n", "not a LimeSurvey"),
        ("id,submitdate,Q1\n", "no responses"),
    ],
)
def test_malformed_survey_export_is_a_clear_error(tmp_path, content, message):
    path = tmp_path / "export.csv"
    path.write_text(content)
    with pytest.raises(InputError, match=message):
        read_survey_csv(path)


def test_transcripts_txt_and_docx_become_respondent_turns(sample_data):
    for name in ("interview_01.txt", "interview_02.docx"):
        segments, docs = read_transcript(sample_data / "interviews" / name)
        assert len(segments) >= 5
        assert segments["source"].eq("interview").all()
        assert segments["question"].str.len().gt(0).all()
        for row in segments.itertuples():
            assert docs[row.document][row.doc_start : row.doc_end] == row.text
    segments, _ = read_transcript(sample_data / "interviews" / "interview_01.txt")
    assert "Reddit" in segments.iloc[0]["text"]  # a continuation line stays in its turn


def test_transcript_without_speaker_labels_is_a_clear_error(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("We talked about markets.\nShe said she buys online.\n")
    with pytest.raises(InputError, match="no speaker labels"):
        read_transcript(path)


def test_segment_ids_are_stable_across_imports(sample_data, sample_segments):
    again, _ = import_answers([sample_data / "survey", sample_data / "interviews"])
    assert again["segment_id"].tolist() == sample_segments[0]["segment_id"].tolist()


# --- language and flags ------------------------------------------------------------------


def test_lingua_restricted_to_configured_languages_reads_the_gold_segments(gold):
    found = detect_languages(gold["text"].tolist(), ["nl", "fr", "en"], ["de", "es", "it", "pt"])
    assert (np.array(found) == gold["lang"].to_numpy()).mean() >= 0.9


def test_empty_and_other_language_answers_are_flagged():
    cfg = {"languages": ["nl", "fr", "en"], "non_answers": ["n/a", "geen idee"]}
    texts = [
        "   ",
        "n/a",
        "Geen idee.",
        "Die Auswahl ist viel größer und die Qualität besser.",
        "Cheaper.",
    ]
    langs = detect_languages(texts, cfg["languages"], ["de"])
    reasons = flag_reasons(texts, langs, cfg)
    assert reasons[:3] == ["empty answer"] * 3
    assert "'de'" in reasons[3]
    assert reasons[4] == ""


# --- coder --------------------------------------------------------------------------------


def test_coder_agrees_with_human_codes_on_held_out_segments(coder, split, codebook):
    _, held = split
    pred = coder.predict(held["text"], held["lang"], 0.5, 0.2)
    scores = agreement_by_language(
        label_matrix(held, codebook.ids).to_numpy(), pred, held["lang"], codebook.ids
    )
    for lang in ("nl", "fr", "en"):
        assert scores[lang]["kappa_macro"] >= 0.5, (lang, scores[lang]["kappa_macro"])


@pytest.fixture(scope="module")
def default_coder(split, codebook, project_root):
    """The configured coder (params.yaml), trained without the held-out fifth."""
    cfg = yaml.safe_load((project_root / "params.yaml").read_text())["themes"]
    train, _ = split
    labels = label_matrix(train, codebook.ids).to_numpy()
    components = tuple(cfg["coder"]["components"])
    return ThemeCoder(codebook, components).fit(train["text"], train["lang"], labels), cfg


def test_configured_coder_reaches_kappa_on_held_out_segments(default_coder, split, codebook):
    coder, cfg = default_coder
    _, held = split
    c = cfg["coder"]
    pred = coder.predict(held["text"], held["lang"], c["threshold"], c["top_threshold"])
    truth = label_matrix(held, codebook.ids).to_numpy()
    scores = agreement_by_language(truth, pred, held["lang"], codebook.ids)
    for lang in ("nl", "fr", "en"):
        assert scores[lang]["kappa_macro"] >= 0.65, (lang, scores[lang]["kappa_macro"])


def test_configured_coder_reads_a_dutch_negation(default_coder, codebook):
    coder, _ = default_coder
    proba = coder.predict_proba(["Ik gebruik geen PGP."], ["nl"])[0]
    assert (
        proba[codebook.ids.index("OPSEC_MINIMAL")]
        > 0.5
        > proba[codebook.ids.index("OPSEC_MEASURES")]
    )


def test_negated_security_measures_are_not_coded_as_measures(coder, codebook):
    texts = ["Eerlijk, ik gebruik geen PGP en ook geen VPN.", "Honestly I never use PGP or a VPN."]
    proba = coder.predict_proba(texts, ["nl", "en"])
    minimal, measures = codebook.ids.index("OPSEC_MINIMAL"), codebook.ids.index("OPSEC_MEASURES")
    assert (proba[:, minimal] > proba[:, measures]).all()


def test_assigned_codes_carry_confidence_and_an_evidence_span_inside_the_text(coder):
    texts = ["Het is veel goedkoper. En de kwaliteit is beter dan bij mijn dealer."]
    rows, _ = coder.code(texts, ["nl"], 0.5, 0.2)
    assert {"MOTIVE_PRICE", "MOTIVE_QUALITY"} <= {r["code"] for r in rows}
    for r in rows:
        assert 0 <= r["start"] < r["end"] <= len(texts[0]) and 0 < r["confidence"] <= 1


def test_no_segments_give_no_codes(coder, codebook):
    """Found by the fuzz suite: a file whose every segment is quarantined left 0 rows,
    and scikit-learn's tf-idf refuses a 0-row input."""
    rows, proba = coder.code([], [])
    assert rows == [] and proba.shape == (0, len(codebook.ids))


def test_decide_assigns_the_top_code_from_the_lower_threshold():
    proba = np.array([[0.3, 0.1], [0.1, 0.05], [0.7, 0.6]])
    assert decide(proba, 0.5, 0.2).tolist() == [[1, 0], [0, 0], [1, 1]]


def test_saved_coder_loads_with_skops_and_predicts_the_same(coder, tmp_path):
    texts, langs = ["Goedkoper en thuis geleverd.", "Je lis les avis."], ["nl", "fr"]
    coder.save(tmp_path / "m")
    loaded = ThemeCoder.load(tmp_path / "m")
    assert np.allclose(loaded.predict_proba(texts, langs), coder.predict_proba(texts, langs))
    card = json.loads((tmp_path / "m" / "model_card.json").read_text())
    assert card["model"] == "theme_coder.v1" and set(card["files"]) == {
        "coder.skops", "codebook.yaml", "MODEL_CARD.md"}
    coder.save(tmp_path / "again")  # the same coder gives the same bytes
    for name in card["files"]:
        assert (tmp_path / "m" / name).read_bytes() == (tmp_path / "again" / name).read_bytes()


def test_tampered_coder_folder_is_refused(coder, tmp_path):
    coder.save(tmp_path / "m")
    with (tmp_path / "m" / "codebook.yaml").open("a") as handle:
        handle.write("# edited\n")
    with pytest.raises(InputError, match="sha256"):
        ThemeCoder.load(tmp_path / "m")
    with pytest.raises(InputError, match="no trained theme coder"):
        ThemeCoder.load(tmp_path / "absent")


def test_unknown_labels_are_left_out_of_a_codes_training_set(codebook):
    texts = ["cheaper online", "more choice online", "scammed once", "police letter"] * 3
    labels = -np.ones((12, len(codebook.ids)), dtype=int)
    price = codebook.ids.index("MOTIVE_PRICE")
    labels[:, price] = [1, 0, 0, 0] * 3
    fitted = ThemeCoder(codebook, ("tfidf",), examples_as_data=False).fit(
        texts, ["en"] * 12, labels
    )
    assert fitted.predict_proba(["cheaper online"], ["en"])[0, price] > 0.5
    assert fitted.classifiers_["RISK_POLICE"] == 0.0  # no known label: a constant


# --- agreement ----------------------------------------------------------------------------


def test_agreement_figures_match_their_definitions():
    from sklearn.metrics import cohen_kappa_score

    truth = np.array([[1, 0], [0, 1], [1, 0], [0, 0], [1, 1]])
    pred = np.array([[1, 0], [0, 1], [0, 0], [0, 0], [1, 0]])
    result = agreement(truth, pred, ["A", "B"])
    assert result["kappa_per_code"]["A"] == round(cohen_kappa_score(truth[:, 0], pred[:, 0]), 4)
    assert result["kappa_macro"] < 1 and 0 < result["micro_f1"] < 1
    assert agreement(truth, truth, ["A", "B"])["krippendorff_alpha"] == 1.0
    assert agreement(np.zeros((3, 1)), np.zeros((3, 1)), ["A"])["kappa_per_code"]["A"] is None


def test_human_vs_human_uses_segments_both_coders_coded():
    gold = pd.DataFrame(
        {
            "segment_id": ["s1", "s2", "s1", "s2", "s3"],
            "codes": [["A"], ["B"], ["A"], ["A"], ["B"]],
            "coder": ["ann", "ann", "bob", "bob", "bob"],
        }
    )
    result = human_vs_human(gold, ["A", "B"])
    assert result["coders"] == ["ann", "bob"] and result["segments"] == 2
    assert human_vs_human(gold[gold["coder"] == "ann"], ["A", "B"])["segments"] == 0


# --- inductive themes ---------------------------------------------------------------------


@pytest.mark.parametrize("n", [0, 1, 2, 3, 5])
def test_inductive_themes_do_not_crash_on_tiny_corpora(n):
    texts = ["bitcoin wallet kwijt", "wallet empty", "lost my wallet", "geen idee", "de de de"][:n]
    themes = propose_themes(texts, [f"s{i}" for i in range(n)], min_segments=4)
    assert isinstance(themes, list)
    assert sum(t["size"] for t in themes) in (0, n)


def test_inductive_themes_separate_distinct_topics():
    texts = ["the bitcoin fees are too high"] * 5 + ["delivery took weeks by post"] * 5
    texts = [f"{t} {i}" for i, t in enumerate(texts)]
    themes = propose_themes(texts, [f"s{i}" for i in range(10)], max_clusters=2)
    assert sorted(t["size"] for t in themes) == [5, 5]
    assert any("bitcoin" in " ".join(t["top_terms"]) for t in themes)


# --- REFI-QDA -----------------------------------------------------------------------------


def test_qdpx_round_trip_keeps_codes_positions_and_text(sample_segments, codebook, tmp_path):
    segments, documents = sample_segments
    chosen = segments.head(6)
    codes = pd.DataFrame(
        {
            "segment_id": list(chosen["segment_id"]) + [chosen.iloc[0]["segment_id"]],
            "code": [
                "MOTIVE_PRICE",
                "DISCOVERY_FRIENDS",
                "VENDOR_REVIEWS",
                "RISK_POLICE",
                "OPSEC_MINIMAL",
                "SUPPLY_OWN_USE",
                "MOTIVE_QUALITY",
            ],
            "confidence": 0.9,
            "start": 0,
            "end": 5,
        }
    )
    xml, files = build_project(codebook, documents, segments, codes)
    path = write_qdpx(tmp_path / "p.qdpx", xml, files)
    back = read_qdpx(path)
    assert sorted(back["codes"].values()) == sorted(codebook.ids)
    by_name = {s["name"]: s for s in back["selections"]}
    assert set(by_name) == set(chosen["segment_id"])
    for row in chosen.itertuples():
        sel = by_name[row.segment_id]
        assert (sel["start"], sel["end"], sel["text"]) == (row.doc_start, row.doc_end, row.text)
    first = chosen.iloc[0]["segment_id"]
    assert by_name[first]["codes"] == ["MOTIVE_PRICE", "MOTIVE_QUALITY"]
    assert write_qdpx(tmp_path / "q.qdpx", xml, files).read_bytes() == path.read_bytes()


def test_qdpx_refuses_codes_outside_the_codebook(sample_segments, codebook):
    segments, documents = sample_segments
    codes = pd.DataFrame(
        {
            "segment_id": [segments.iloc[0]["segment_id"]],
            "code": ["NOPE"],
            "confidence": [1.0],
            "start": [0],
            "end": [1],
        }
    )
    with pytest.raises(InputError, match="NOPE"):
        build_project(codebook, documents, segments, codes)


# --- corrections --------------------------------------------------------------------------


def test_corrections_become_partial_labels_and_override_machine_codes(tmp_path, codebook):
    path = tmp_path / "corr.jsonl"
    append_correction(path, "s1", "MOTIVE_PRICE", "reject", codebook.ids, "text one", "en")
    append_correction(
        path, "s2", "MOTIVE_PRICE", "change", codebook.ids, "text two", "en", "MOTIVE_QUALITY"
    )
    with pytest.raises(InputError):
        append_correction(path, "s1", "NOPE", "accept", codebook.ids)
    corrections = load_corrections(path)
    rows = correction_training_rows(corrections, codebook.ids).set_index("segment_id")
    assert rows.at["s1", "MOTIVE_PRICE"] == 0 and rows.at["s1", "RISK_POLICE"] == -1
    assert rows.at["s2", "MOTIVE_QUALITY"] == 1 and rows.at["s2", "MOTIVE_PRICE"] == 0
    segments = pd.DataFrame(
        {
            "segment_id": ["s1", "s2"],
            "text": ["text one", "text two"],
            "respondent_id": "r",
            "source": "survey",
            "question_id": "Q1",
        }
    )
    machine = pd.DataFrame(
        {
            "segment_id": ["s1", "s2"],
            "code": ["MOTIVE_PRICE"] * 2,
            "confidence": [0.6, 0.7],
            "lang": "en",
            "start": 0,
            "end": 4,
            "evidence": "text",
            "needs_review": True,
            "origin": "model",
            "respondent_id": "r",
            "source": "survey",
            "question_id": "Q1",
        }
    )
    out = apply_corrections(machine, segments, corrections)
    assert list(zip(out["segment_id"], out["code"], out["origin"], strict=True)) == [
        ("s2", "MOTIVE_QUALITY", "human")
    ]


def test_malformed_corrections_file_is_a_clear_error(tmp_path):
    path = tmp_path / "corr.jsonl"
    path.write_text('{"segment_id": "s1", "action": "delete"}\n')
    with pytest.raises(InputError, match="action"):
        load_corrections(path)


def test_null_ids_and_non_string_answers_are_quarantined_and_numbers_are_answers(
    tmp_path, coder, project_root
):
    """Issue: a null segment_id ended `code-themes` in an AssertionError after writing its
    outputs, and the answer "42" was called empty."""
    cfg = yaml.safe_load((project_root / "params.yaml").read_text())["themes"]
    cfg = {**cfg, "corrections": str(tmp_path / "none.jsonl")}
    model = tmp_path / "model"
    coder.save(model)
    rows = [
        {"segment_id": "a", "text": "Het is goedkoper en thuis geleverd."},
        {"segment_id": None, "text": "Cheaper and better quality than the street."},
        {"segment_id": "", "text": "Moins cher."},
        {"segment_id": "n", "text": 42},
        {"segment_id": "f", "text": 2.5},
        {"segment_id": "l", "text": ["a", "list"]},
        {"segment_id": "d", "text": {"a": "dict"}},
        {"segment_id": "b", "text": True},
    ]
    inp = tmp_path / "segments.jsonl"
    inp.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "codes.parquet"
    counts = run_code(inp, out, model, None, cfg)
    assert counts["segments_in"] == len(rows)
    assert counts["coded"] + counts["uncoded"] + counts["quarantined"] == len(rows)
    quarantine = pd.read_parquet(tmp_path / "codes.quarantine.parquet")
    reasons = sorted(quarantine["reason"])
    assert reasons == sorted(["missing segment_id"] * 2 + [
        "text is not a string (list)", "text is not a string (dict)",
        "text is not a string (bool)"])
    assert {"n", "f"}.isdisjoint(set(quarantine["segment_id"].dropna()))  # numbers are text
    assert counts["quarantined"] == 5


def test_numeric_answers_are_not_empty():
    cfg = {"languages": ["nl", "fr", "en"], "non_answers": ["n/a"]}
    assert flag_reasons(["42", "5", "-", "a"], ["und"] * 4, cfg) == [
        "", "", "empty answer", "empty answer"]


def test_bad_segments_file_writes_nothing(tmp_path, coder, project_root):
    cfg = yaml.safe_load((project_root / "params.yaml").read_text())["themes"]
    coder.save(tmp_path / "model")
    inp = tmp_path / "segments.csv"
    pd.DataFrame({"segment_id": ["x", "x"], "text": ["Cheaper.", "Faster."]}).to_csv(inp)
    out = tmp_path / "out" / "codes.parquet"
    with pytest.raises(InputError, match="duplicate segment_id"):
        run_code(inp, out, tmp_path / "model", None, cfg)
    assert not out.parent.exists()


# --- command line -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fast_params(tmp_path_factory, project_root):
    """params.yaml with a quick coder (tfidf only, one threshold) for CLI tests."""
    params = yaml.safe_load((project_root / "params.yaml").read_text())
    params["themes"]["coder"]["components"] = ["tfidf"]
    params["themes"]["coder"]["tune_folds"] = 0
    params["themes"]["extra_gold"] = []  # the project's own gold is enough to test the CLI
    params["themes"]["corrections"] = str(tmp_path_factory.mktemp("c") / "none.jsonl")
    path = tmp_path_factory.mktemp("params") / "params.yaml"
    path.write_text(yaml.safe_dump(params))
    return path


@pytest.mark.slow
def test_cli_codes_segments_and_quarantines_bad_answers(tmp_path, fast_params, project_root):
    runner = CliRunner()
    model = tmp_path / "model"
    result = runner.invoke(app, ["train-themes", "-o", str(model), "--params", str(fast_params)])
    assert result.exit_code == 0, result.output
    segments = tmp_path / "seg.csv"
    pd.DataFrame(
        {
            "segment_id": ["a", "b", "c", "d"],
            "respondent_id": ["r1", "r1", "r2", "r2"],
            "source": "survey",
            "text": [
                "Het is goedkoper en thuis geleverd.",
                "",
                "n/a",
                "Die Auswahl ist viel größer und die Qualität ist besser als auf der Straße.",
            ],
        }
    ).to_csv(segments, index=False)
    out = tmp_path / "codes.csv"
    result = runner.invoke(
        app,
        [
            "code-themes",
            str(segments),
            "-o",
            str(out),
            "--model",
            str(model),
            "--params",
            str(fast_params),
        ],
    )
    assert result.exit_code == 0, result.output
    codes = pd.read_csv(out)
    assert set(codes["segment_id"]) == {"a"} and "MOTIVE_PRICE" in set(codes["code"])
    quarantine = pd.read_csv(tmp_path / "codes.quarantine.csv").set_index("segment_id")
    assert quarantine.loc["b", "reason"] == "empty answer" == quarantine.loc["c", "reason"]
    assert "'de'" in quarantine.loc["d", "reason"]
    assert "4 in" in result.output and "3 quarantined" in result.output
    assert json.loads((tmp_path / "codes.inductive.json").read_text())["uncoded_segments"] == 0


def test_cli_bad_input_exits_with_one_line(tmp_path, fast_params):
    bad = tmp_path / "seg.csv"
    bad.write_text("id,answer\n1,hello\n")
    result = CliRunner().invoke(
        app,
        [
            "code-themes",
            str(bad),
            "-o",
            str(tmp_path / "o.csv"),
            "--model",
            str(tmp_path),
            "--params",
            str(fast_params),
        ],
    )
    assert result.exit_code == 2 and "segment_id" in result.output
    transcript = tmp_path / "t.txt"
    transcript.write_text("no labels here\n")
    result = CliRunner().invoke(
        app, ["import-answers", str(transcript), "-o", str(tmp_path / "s.parquet")]
    )
    assert result.exit_code == 2 and "speaker labels" in result.output


# --- negation, exclusive groups, thresholds, calibration, language fallback (issue 16) -----


def test_negation_and_hedge_scopes_mark_the_words_they_cover():
    from pipeline.themes.patterns import affirmed_text, mark_scopes

    assert mark_scopes("Ik gebruik geen PGP.") == "ik gebruik geen neg_pgp ."
    assert "neg_vpn" in mark_scopes("Je n'utilise pas de VPN, mais Tails oui")
    assert "tails" in mark_scopes("pas de VPN, mais Tails").split()  # a contrast ends the scope
    assert "hyp_vpn" in mark_scopes("I should get a VPN")
    assert "pgp" not in affirmed_text("I never use PGP") and "pgp" in affirmed_text("PGP always")


def test_negated_pgp_gives_no_measures_code_or_evidence(coder, codebook):
    rows, _ = coder.code(["Ik gebruik geen PGP."], ["nl"], None, 0.2)
    assert "OPSEC_MEASURES" not in {r["code"] for r in rows}


def test_codebook_declares_exclusive_groups_and_refuses_unknown_ids():
    raw = {"codes": [{"id": "A", "definition": "a"}, {"id": "B", "definition": "b"}],
           "exclusive": [["A", "B"]]}
    assert parse_codebook(raw).exclusive == (("A", "B"),)
    with pytest.raises(InputError, match="unknown C"):
        parse_codebook({**raw, "exclusive": [["A", "C"]]})
    with pytest.raises(InputError, match="two or more"):
        parse_codebook({**raw, "exclusive": [["A"]]})
    assert ("OPSEC_MINIMAL", "OPSEC_MEASURES") in load_codebook().exclusive


def test_decide_never_gives_two_codes_of_one_exclusive_group():
    proba = np.array([[0.9, 0.8, 0.7], [0.6, 0.95, 0.1], [0.1, 0.2, 0.9]])
    assert decide(proba, 0.5, 1.0, [[0, 1]]).tolist() == [[1, 0, 1], [0, 1, 0], [0, 0, 1]]
    assert decide(proba, np.array([0.95, 0.5, 0.95])).tolist() == [[0, 1, 0], [0, 1, 0],
                                                                  [0, 0, 0]]


def test_coder_tunes_a_threshold_and_a_calibration_per_code(coder, codebook):
    assert coder.thresholds_.shape == (len(codebook.ids),)
    assert len(set(coder.thresholds_.round(2))) > 1  # not one threshold for all codes
    assert (coder.calibration_ != [1.0, 0.0]).any()
    untuned = ThemeCoder(codebook, ("tfidf",), tune_folds=0, threshold=0.4)
    texts = ["cheaper online", "more choice", "got scammed", "the police"] * 3
    untuned.fit(texts, ["en"] * 12, np.zeros((12, len(codebook.ids)), dtype=int))
    assert (untuned.thresholds_ == 0.4).all()


def test_expected_calibration_error_matches_its_definition():
    from pipeline.core.metrics import expected_calibration_error

    assert expected_calibration_error(np.array([0.9, 0.9]), np.array([1, 1])) == pytest.approx(0.1)
    assert expected_calibration_error(np.array([0.25, 0.75]), np.array([0, 1])) == 0.25
    assert expected_calibration_error(np.array([]), np.array([])) is None


def test_cross_validation_reports_expected_calibration_error(gold, codebook):
    from pipeline.themes.evaluation import calibration, cross_validated_proba

    table = gold.groupby("lang").head(60).reset_index(drop=True)
    table = pd.concat([table[["text", "lang"]], label_matrix(table, codebook.ids)], axis=1)
    proba, pred = cross_validated_proba(table, codebook, ("tfidf",), ("nl", "fr", "en"), 3,
                                        coder_cfg={"tune_folds": 2, "top_threshold": 0.2})
    ece = calibration(proba, table[codebook.ids].to_numpy(), pred)
    assert 0 <= ece["ece_all_decisions"] < 0.2 and ece["assigned_codes"] == pred.sum()
    # the folds in two worker processes give the same matrices
    in_two = cross_validated_proba(table, codebook, ("tfidf",), ("nl", "fr", "en"), 3,
                                   coder_cfg={"tune_folds": 2, "top_threshold": 0.2}, n_jobs=2)
    np.testing.assert_array_equal(in_two[0], proba)
    np.testing.assert_array_equal(in_two[1], pred)


def test_short_answers_take_their_respondents_language():
    texts = ["Ja, zeker.", "Ik bestel meestal op de markt omdat het goedkoper is.",
             "Via vrienden van op kot, die bestelden al langer.", "Ja, zeker."]
    groups = ["r1", "r1", "r1", ""]
    found = detect_languages(texts, ["nl", "fr", "en"], ["de"], groups=groups)
    assert found[0] == "nl" and found[1] == "nl"
    alone = detect_languages(["Oui."], ["nl", "fr", "en"], ["de"], groups=["r9"])
    assert alone[0] in ("nl", "fr", "en")  # no other answers: still a study language


def test_a_survey_export_not_in_utf8_is_a_one_line_error(tmp_path) -> None:
    """Found by the fuzz suite: a UTF-16 export crashed the importer with a traceback."""
    from pipeline.core.io import InputError
    from pipeline.themes.importers import read_survey_csv

    path = tmp_path / "survey.csv"
    path.write_bytes("id,Q1\n1,Goedkoper\n".encode("utf-16"))
    with pytest.raises(InputError, match="not UTF-8 text"):
        read_survey_csv(path)

"""The themes stage as commands: import answers, train, code, evaluate, export.

Thin IO around the pure parts (importers, coder, agreement, inductive, qdpx): read tables,
print counts and the agreement table, write outputs and companions. Each `run_*` takes the
`themes` params section as a dict (the CLI loads it) and, where it trains, the seed.
"""

from __future__ import annotations

import json
import math
import numbers
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from rich.table import Table

from pipeline.core.codebook import Codebook, load_codebook
from pipeline.core.corrections import (
    apply_corrections,
    correction_training_rows,
    label_matrix,
    load_corrections,
    read_gold,
)
from pipeline.core.io import (
    InputError,
    console,
    quarantine_path,
    read_table,
    require_columns,
    side_output_path,
    write_table,
)
from pipeline.core.language import detect_languages

OUTPUT_COLUMNS = [
    "segment_id",
    "code",
    "confidence",
    "lang",
    "start",
    "end",
    "evidence",
    "needs_review",
    "origin",
    "respondent_id",
    "source",
    "question_id",
    "text",
]
LETTER = re.compile(r"[^\W\d_]", re.UNICODE)


# --- import ---------------------------------------------------------------------------------


def run_import(inputs: Sequence[Path], out: Path, cfg: dict) -> dict[str, int]:
    """Survey exports and transcripts -> segments table + `OUT.documents` companion."""
    from pipeline.themes.importers import import_answers

    segments, documents = import_answers(
        inputs, cfg["interviewer_labels"], float(cfg["min_answer_words"])
    )
    write_table(segments, out)
    write_table(documents, side_output_path(out, "documents"))
    counts = {
        "segments": len(segments),
        "documents": len(documents),
        "respondents": int(segments["respondent_id"].nunique()),
    }
    console.print(
        f"answers: {counts['segments']} segments from {counts['respondents']} "
        f"respondents in {counts['documents']} documents -> {out}"
    )
    return counts


# --- flagging -------------------------------------------------------------------------------


def missing_id(value: object) -> bool:
    """A segment id that is null, NaN or blank: such a row cannot be coded or traced."""
    if value is None or value is pd.NA:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    return isinstance(value, str) and not value.strip()


def answer_text(value: object) -> tuple[str, str]:
    """An answer cell as text and why it cannot be coded ('' when it can): numbers are
    answers ("42" times), null is an empty answer, lists, dicts and booleans are not text."""
    if isinstance(value, str):
        return value, ""
    if value is None or value is pd.NA:
        return "", ""
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        return str(value), f"text is not a string ({type(value).__name__})"
    number = float(value)
    if math.isnan(number):
        return "", ""
    return (str(int(number)) if number.is_integer() else str(number)), ""


def screen_segments(segments: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Segments with their text as str and a `reason` for rows that cannot be coded at all
    (no id, text that is not text); a duplicate id is an error for the whole file."""
    screened = segments.copy()
    for column in ("respondent_id", "source", "question_id"):
        if column not in screened.columns:
            screened[column] = ""
    texts = [answer_text(v) for v in screened["text"]]
    screened["text"] = [text for text, _ in texts]
    screened["reason"] = [
        "missing segment_id" if missing_id(sid) else reason
        for sid, (_, reason) in zip(screened["segment_id"], texts, strict=True)
    ]
    ids = screened["segment_id"][screened["reason"] != "missing segment_id"]
    if ids.duplicated().any():
        raise InputError(f"{path}: duplicate segment_id {ids[ids.duplicated()].iloc[0]!r}")
    return screened


def flag_reasons(texts: Sequence[str], langs: Sequence[str], cfg: dict) -> list[str]:
    """Why a segment cannot be coded ('' when it can): empty or non-answers, other languages.
    A number ("42") is an answer; it has no language to check."""
    non_answers = {a.lower() for a in cfg["non_answers"]}
    reasons = []
    for text, lang in zip(texts, langs, strict=True):
        clean = str(text).strip()
        letters = len(LETTER.findall(clean))
        number = any(ch.isdigit() for ch in clean)
        if (letters < 2 and not number) or clean.lower().rstrip(".!") in non_answers:
            reasons.append("empty answer")
        elif lang not in cfg["languages"] and letters >= 2:
            reasons.append(f"language {lang!r} is not one of {', '.join(cfg['languages'])}")
        else:
            reasons.append("")
    return reasons


# --- training -------------------------------------------------------------------------------


def read_all_gold(cfg: dict, codes: list[str], gold_path: Path | None) -> pd.DataFrame:
    """The gold file (`gold`, or the one given) plus the `extra_gold` files (other writers'
    coded segments), one table: more hands than one make a coder that generalises."""
    paths = [gold_path or Path(cfg["gold"]), *map(Path, cfg.get("extra_gold") or [])]
    return pd.concat([read_gold(path, codes) for path in paths], ignore_index=True)


def gold_and_corrections(
    gold: pd.DataFrame, codes: list[str], corrections: Path | None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(each gold segment once with its label columns, the corrected segments that are not
    gold): a segment in the gold set keeps its gold labels."""
    first = gold.drop_duplicates("segment_id")
    base = pd.concat([first[["segment_id", "text", "lang"]], label_matrix(first, codes)], axis=1)
    extra = correction_training_rows(load_corrections(corrections), codes)
    return base, extra[~extra["segment_id"].isin(base["segment_id"])]


def training_data(cfg: dict, codebook: Codebook, gold_path: Path | None, corrections: Path | None):
    """Gold segments plus corrections as (texts, langs, labels) and their counts."""
    base, extra = gold_and_corrections(
        read_all_gold(cfg, codebook.ids, gold_path), codebook.ids, corrections
    )
    table = pd.concat([base, extra], ignore_index=True) if len(extra) else base
    counts = {"gold_segments": len(base), "correction_segments": len(extra)}
    return table, counts


def run_train(
    gold: Path | None,
    out: Path,
    corrections: Path | None,
    codebook_path: Path | None,
    cfg: dict,
    seed: int,
) -> dict:
    """Gold segments plus corrections -> a fitted coder saved in `out`."""
    from pipeline.themes.coder import ThemeCoder

    codebook = load_codebook(codebook_path or cfg["codebook"])
    corrections = corrections or Path(cfg["corrections"])
    table, counts = training_data(cfg, codebook, gold, corrections)
    coder = ThemeCoder(
        codebook,
        tuple(cfg["coder"]["components"]),
        tuple(cfg["languages"]),
        float(cfg["coder"]["C"]),
        seed,
        training=counts,
        threshold=float(cfg["coder"]["threshold"]),
        tune_folds=int(cfg["coder"]["tune_folds"]),
    )
    labels = table[codebook.ids].to_numpy(dtype=int)
    coder.fit(table["text"].tolist(), table["lang"].tolist(), labels)
    coder.save(out)
    console.print(
        f"theme coder: trained on {counts['gold_segments']} gold + "
        f"{counts['correction_segments']} corrected segments -> {out}"
    )
    return counts


# --- coding ---------------------------------------------------------------------------------


def run_code(
    inp: Path,
    out: Path,
    model: Path,
    corrections: Path | None,
    cfg: dict,
    codebook_path: Path | None = None,
) -> dict[str, int]:
    """Segments -> one row per assigned code, plus quarantine, review queue and inductive themes."""
    from pipeline.themes.coder import ThemeCoder
    from pipeline.themes.inductive import propose_themes

    segments = read_table(inp)
    require_columns(segments, ("segment_id", "text"), inp, what="segments")
    segments = screen_segments(segments, inp)
    coder = ThemeCoder.load(model)
    if codebook_path is not None:
        wanted = load_codebook(codebook_path).ids
        if set(wanted) != set(coder.codes_):
            raise InputError(f"{codebook_path}: codes differ from the model's codebook; retrain")
    screened, usable = segments[segments["reason"] != ""], segments[segments["reason"] == ""]
    usable = usable.assign(lang=detect_languages(
        usable["text"].tolist(), cfg["languages"], cfg["flag_languages"], cfg["language_detector"],
        groups=usable["respondent_id"].astype(str).tolist(),
    ))
    usable["reason"] = flag_reasons(usable["text"].tolist(), usable["lang"].tolist(), cfg)
    flagged = pd.concat([screened.assign(lang=""), usable[usable["reason"] != ""]])
    usable = usable[usable["reason"] == ""].reset_index(drop=True)
    c = cfg["coder"]
    found, proba = coder.code(
        usable["text"].tolist(), usable["lang"].tolist(), None, float(c["top_threshold"])
    )
    rows = pd.DataFrame(found, columns=["row", "code", "confidence", "start", "end"])
    meta = usable.iloc[rows["row"]].reset_index(drop=True)
    rows = pd.concat(
        [
            rows.drop(columns="row"),
            meta[["segment_id", "lang", "respondent_id", "source", "question_id", "text"]],
        ],
        axis=1,
    )
    rows["evidence"] = [
        t[a:b] for t, a, b in zip(rows["text"], rows["start"], rows["end"], strict=True)
    ]
    rows["needs_review"] = rows["confidence"] < float(c["review_below"])
    rows["origin"] = "model"
    rows = rows.drop(columns="text")
    rows = apply_corrections(rows, usable, load_corrections(corrections or cfg["corrections"]))
    # the segment's text beside its codes, so the table reads without a join
    rows["text"] = rows["segment_id"].map(dict(zip(usable["segment_id"], usable["text"],
                                                   strict=True)))
    rows = rows[OUTPUT_COLUMNS].sort_values(["segment_id", "code"]).reset_index(drop=True)
    review = review_queue(
        usable, proba, coder.codes_, rows, float(c["review_from"]), coder.thresholds_
    )
    uncoded = usable[~usable["segment_id"].isin(rows["segment_id"])]
    ind = cfg["inductive"]
    themes = propose_themes(
        uncoded["text"].tolist(),
        uncoded["segment_id"].tolist(),
        int(ind["max_clusters"]),
        int(ind["top_terms"]),
        int(ind["examples"]),
        int(ind["min_segments"]),
    )
    counts = {
        "segments_in": len(segments),
        "coded": int(rows["segment_id"].nunique()),
        "uncoded": len(uncoded),
        "quarantined": len(flagged),
        "codes": len(rows),
        "needs_review": int(rows["needs_review"].sum()),
    }
    if counts["coded"] + counts["uncoded"] + counts["quarantined"] != counts["segments_in"]:
        raise AssertionError(f"segment accounting broken: {counts}")
    write_table(rows, out)
    write_table(flagged, quarantine_path(out))
    write_table(review, side_output_path(out, "review"))
    out.with_name(f"{out.stem}.inductive.json").write_text(
        json.dumps(
            {"uncoded_segments": len(uncoded), "themes": themes}, indent=2, ensure_ascii=False
        )
    )
    console.print(
        f"segments: {counts['segments_in']} in, {counts['coded']} coded ({counts['codes']} codes, "
        f"{counts['needs_review']} to review), {counts['uncoded']} without code, "
        f"{counts['quarantined']} quarantined -> {out}"
    )
    return counts


def review_queue(
    usable: pd.DataFrame,
    proba: np.ndarray,
    codes: list[str],
    rows: pd.DataFrame,
    review_from: float,
    threshold: float | np.ndarray,
) -> pd.DataFrame:
    """Low-confidence assigned codes and near misses (below their code's threshold), most
    uncertain first."""
    near = [
        {
            "segment_id": usable.at[i, "segment_id"],
            "code": codes[j],
            "confidence": float(proba[i, j]),
            "assigned": False,
        }
        for i, j in zip(*np.nonzero((proba >= review_from) & (proba < threshold)), strict=True)
    ]
    low = rows[rows["needs_review"]][["segment_id", "code", "confidence"]].assign(assigned=True)
    queue = pd.concat([low, pd.DataFrame(near, columns=low.columns)], ignore_index=True)
    queue = queue.drop_duplicates(["segment_id", "code"])
    queue["uncertainty"] = (queue["confidence"] - 0.5).abs()
    return (
        queue.sort_values(["uncertainty", "segment_id"])
        .drop(columns="uncertainty")
        .reset_index(drop=True)
    )


# --- evaluation -----------------------------------------------------------------------------


def print_agreement(metrics: dict) -> None:
    """The agreement tables a qualitative researcher reports, per language: the blind set
    first (with the annotators' own agreement beside it), cross-validation second."""
    if "blind" in metrics:
        blind = Table(title="theme coder on the blind set (resolved gold) | annotator A1 vs A2")
        for column in ("language", "segments", "macro kappa", "alpha", "micro-F1",
                       "A1 vs A2 macro kappa"):
            blind.add_column(column)
        for lang, s in metrics["blind"]["model_vs_gold"].items():
            ceiling = metrics["blind"]["annotators"].get(lang, {}).get("kappa_macro", "")
            blind.add_row(lang, str(s["segments"]), str(s["kappa_macro"]),
                          str(s["krippendorff_alpha"]), str(s["micro_f1"]), str(ceiling))
        console.print(blind)
    table = Table(title="theme coder vs human codes (held-out, cross-validated)")
    for column in ("language", "segments", "macro kappa", "Krippendorff alpha", "micro-F1"):
        table.add_column(column)
    for lang, s in metrics["model_vs_human"].items():
        table.add_row(
            lang,
            str(s["segments"]),
            str(s["kappa_macro"]),
            str(s["krippendorff_alpha"]),
            str(s["micro_f1"]),
        )
    console.print(table)
    codes = Table(title="Cohen's kappa per code")
    langs = [lang for lang in metrics["model_vs_human"] if lang != "all"]
    codes.add_column("code")
    for lang in langs:
        codes.add_column(lang)
    for code in metrics["model_vs_human"]["all"]["kappa_per_code"]:
        codes.add_row(
            code, *[str(metrics["model_vs_human"][lang]["kappa_per_code"][code]) for lang in langs]
        )
    console.print(codes)
    ece = metrics.get("calibration", {})
    console.print(
        f"expected calibration error (cross-validated): all decisions "
        f"{ece.get('ece_all_decisions')}, assigned codes {ece.get('ece_assigned_codes')}"
        + (f"; blind set, assigned codes {metrics['blind']['ece_assigned_codes']}"
           if "blind" in metrics else "")
    )


def run_evaluate(
    gold: Path | None,
    out: Path,
    corrections: Path | None,
    cfg: dict,
    seed: int,
    coded: Path | None = None,
    sample_gold: Path | None = None,
    blind_gold: Path | None = None,
    blind_coded: Path | None = None,
) -> dict:
    """Cross-validated agreement on the gold set (+ ablations, detectors, human vs human),
    model vs human on the coded sample segments when both are given, and the headline: the
    shipped coder on a blind set nobody who built it has read; writes the metrics JSON."""
    from pipeline.themes.agreement import (
        agreement_by_language,
        blind_agreement,
        coded_matrix,
        human_vs_human,
    )
    from pipeline.themes.evaluation import detector_accuracy, evaluate_coder

    codebook = load_codebook(cfg["codebook"])
    codes = codebook.ids
    gold_path = gold or Path(cfg["gold"])
    gold_all = read_all_gold(cfg, codes, gold_path)
    table, extra = gold_and_corrections(gold_all, codes, corrections or cfg["corrections"])
    metrics = {
        "gold_segments": len(table),
        "gold_segments_per_language": table["lang"].value_counts().sort_index().to_dict(),
        "correction_segments": len(extra),
        "components": list(cfg["coder"]["components"]),
        "folds": int(cfg["evaluation"]["folds"]),
        **evaluate_coder(table.reset_index(drop=True), codebook, cfg, seed, extra),
        "language_detection": detector_accuracy(
            table["text"].tolist(), table["lang"].tolist(), cfg
        ),
        "human_vs_human": human_vs_human(gold_all, codes),
    }
    if coded is not None and (sample_gold or cfg.get("sample_gold")):
        human = read_gold(sample_gold or Path(cfg["sample_gold"]), codes)
        machine = read_table(coded)
        human = human[
            human["segment_id"].isin(set(machine["segment_id"]) | set(human["segment_id"]))
        ]
        pred = coded_matrix(human["segment_id"].tolist(), machine, codes)
        langs = human["lang"].tolist() if "lang" in human.columns else ["all"] * len(human)
        metrics["sample_model_vs_human"] = agreement_by_language(
            label_matrix(human, codes).to_numpy(), pred, langs, codes
        )
    if (blind_gold is None) != (blind_coded is None):
        raise InputError("--blind-gold and --blind-coded go together")
    if blind_gold is not None:
        metrics["blind"] = blind_agreement(
            read_gold(blind_gold, codes), read_table(blind_coded), codes
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(metrics, indent=2, ensure_ascii=False))
    print_agreement(metrics)
    console.print(
        "ablations (macro kappa per language): "
        + json.dumps(
            {
                k: {lang: v[lang]["kappa_macro"] for lang in v}
                for k, v in metrics["ablations"].items()
            }
        )
    )
    console.print(f"metrics -> {out}")
    return metrics


# --- export ---------------------------------------------------------------------------------


def run_export(
    segments_path: Path,
    codes_path: Path,
    out: Path,
    codebook_path: Path | None,
    cfg: dict,
    corrections: Path | None = None,
) -> Path:
    """Coded segments -> REFI-QDA .qdpx (sources from the importer's documents companion),
    with the researchers' corrections, memos and coder names from the corrections file."""
    from pipeline.core.corrections import load_memos
    from pipeline.themes.qdpx import build_project, write_qdpx

    documents_path = _documents_of(segments_path)
    segments = read_table(segments_path)
    codes = read_table(codes_path)
    corrections = Path(corrections or cfg["corrections"])
    verdicts, memos = load_corrections(corrections), load_memos(corrections)
    xml, files = build_project(
        load_codebook(codebook_path or cfg["codebook"]), read_table(documents_path), segments,
        codes, corrections=verdicts, memos=memos,
    )
    write_qdpx(out, xml, files)
    coders = sorted(set(verdicts["coder"]) | set(memos["coder"]))
    console.print(
        f"REFI-QDA: {len(files)} sources, {codes['segment_id'].nunique()} coded "
        f"segments, {len(codes)} codings, {len(verdicts)} corrections and {len(memos)} memos "
        f"of {len(coders)} coders -> {out}"
    )
    return out


def _documents_of(segments_path: Path) -> Path:
    documents_path = side_output_path(segments_path, "documents")
    if not documents_path.exists():
        raise InputError(
            f"{documents_path}: missing (segments come from `cryptodrug import-answers`)"
        )
    return documents_path


def run_import_qdpx(
    project_path: Path,
    segments_path: Path,
    codebook_path: Path | None,
    cfg: dict,
    corrections: Path | None = None,
) -> dict[str, int]:
    """A .qdpx coded in QualCoder, NVivo, ATLAS.ti or MAXQDA -> corrections (with their
    coder) appended to the corrections file, where training and the agreement page read
    them; codings with codes outside the codebook go to `CORRECTIONS.quarantine.csv`."""
    from pipeline.core.corrections import append_records
    from pipeline.themes.qdpx import MACHINE_USER, project_corrections, read_qdpx

    segments = read_table(segments_path)
    require_columns(segments, ("segment_id", "text", "document", "doc_start", "doc_end"),
                    segments_path, what="segments")
    project = read_qdpx(project_path)
    records, memos, quarantined = project_corrections(
        project, segments, load_codebook(codebook_path or cfg["codebook"]).ids
    )
    corrections = Path(corrections or cfg["corrections"])
    append_records(corrections, records + memos)
    rejected = quarantine_path(corrections).with_suffix(".csv")
    write_table(pd.DataFrame(quarantined, columns=["source", "start", "end", "code", "coder",
                                                   "reason"]), rejected)
    human = [u for s in project["selections"] for _, u in s["codings"] if u != MACHINE_USER]
    counts = {"codings_in": len(human), "codings_used": len(human) - len(quarantined),
              "quarantined": len(quarantined), "corrections": len(records),
              "memos": len(memos), "coders": len({r["coder"] for r in records + memos})}
    console.print(
        f"REFI-QDA import: {len(human)} codings by researchers = {counts['codings_used']} "
        f"used + {len(quarantined)} quarantined ({rejected}) -> {len(records)} corrections "
        f"of {counts['coders']} coders and {len(memos)} memos -> {corrections}"
    )
    return counts

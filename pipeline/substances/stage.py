"""IO layer of the substance stage: `cryptodrug substances`, `train-substances` and
`evaluate-substances`. `cfg` is always the `substances` params section."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import spacy

from pipeline.core.blind import BLIND_CODERS, load_blind_listings
from pipeline.core.config import public_data_root
from pipeline.core.io import InputError, console, read_table, write_with_quarantine
from pipeline.core.metrics import write_metrics
from pipeline.core.ml import CARD_FILE, write_card
from pipeline.core.substances import SubstanceVocabulary, load_recogniser, rule_pipeline
from pipeline.substances.corpus import read_prodigy, split_by_hash
from pipeline.substances.evaluate import annotated_spans, span_scores
from pipeline.substances.recognise import spans_table, split_readable
from pipeline.substances.training import train_ner, with_ruler

DEFAULTS: dict[str, Any] = {"lang": "xx", "epochs": 10, "dropout": 0.2, "test_share": 0.2,
                            "ruler": "before", "batch_size": 256}
KIND = "substance_recogniser"
REDDIT_NER = "forums/reddit-drugs-ner/drugs_training.jsonl"


def _settings(cfg: dict[str, Any]) -> dict[str, Any]:
    return {**DEFAULTS, **(cfg or {})}


def _annotations(inp: Path | None) -> Path:
    """`inp`, or the DRUG-annotated Reddit comments of the public data."""
    if inp is not None:
        return inp
    root = public_data_root()
    if root is None:
        raise InputError("no annotations: pass --annotations or set $CRYPTODRUG_PUBLIC_DATA")
    return root / REDDIT_NER


def run_substances(inp: Path, out: Path, model_dir: Path | None, id_column: str,
                   text_column: str, cfg: dict[str, Any]) -> dict[str, int]:
    """Any table with an id and a text -> one row per readable row with `spans`."""
    rows = read_table(inp).reset_index(drop=True)
    readable, quarantined = split_readable(rows, id_column, text_column)
    trained = model_dir is not None and (model_dir / CARD_FILE).is_file()
    if not trained:
        console.print(f"substances: no trained recogniser at {model_dir}; vocabulary rules only")
    nlp = load_recogniser(str(model_dir) if trained else None)
    found = spans_table(readable, nlp, SubstanceVocabulary.load(), text_column,
                        int(_settings(cfg)["batch_size"]))
    return write_with_quarantine(found, quarantined, out, len(rows), label="substances")


def run_train(inp: Path | None, out: Path, cfg: dict[str, Any], seed: int) -> dict[str, Any]:
    """Prodigy JSONL -> a recogniser folder (`pipeline/` in spaCy's own format, no pickle)
    with a model card; trained on the training side of the hash split only."""
    s, inp = _settings(cfg), _annotations(inp)
    train, test = split_by_hash(read_prodigy(inp), float(s["test_share"]))
    nlp, log = train_ner(train, s["lang"], int(s["epochs"]), float(s["dropout"]), seed)
    with_ruler(nlp, SubstanceVocabulary.load(), s["ruler"])
    out.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(out / "pipeline")
    card = {"kind": KIND, "name": "spacy_ner_ruler.v1", "label": "DRUG",
            "trained_on": str(inp), "train_texts": len(train), "held_out_texts": len(test),
            "settings": s, "seed": seed, "spacy": spacy.__version__, "training": log,
            "held_out": _scores(nlp, test)}
    write_card(out, card)
    console.print(f"substances: trained on {len(train)} texts, held-out span F1 "
                  f"{card['held_out']['f1']:.3f} -> {out}")
    return card


def run_evaluate(inp: Path | None, out: Path, model_dir: Path,
                 cfg: dict[str, Any], blind: Path | None = None) -> dict[str, Any]:
    """Span P/R/F1 of the trained recogniser and of the vocabulary ruler alone on the
    held-out side of the hash split (and on a blind listing set) -> metrics JSON."""
    s, inp = _settings(cfg), _annotations(inp)
    _, test = split_by_hash(read_prodigy(inp), float(s["test_share"]))
    recogniser, vocabulary = load_recogniser(str(model_dir)), SubstanceVocabulary.load()
    # forum annotators mark class words ("opiates"), listing writers do not
    forum_rules = rule_pipeline(vocabulary, s["lang"], class_words=True)
    metrics = {"held_out_texts": len(test), "recogniser": _scores(recogniser, test),
               "ruler_only": _scores(forum_rules, test)}
    if blind is not None:
        metrics["blind"] = blind_scores(blind, {"recogniser": recogniser,
                                                "ruler_only": rule_pipeline(vocabulary, s["lang"])})
    write_metrics(metrics, out)
    console.print(f"substances: span F1 {metrics['recogniser']['f1']:.3f} "
                  f"(ruler alone {metrics['ruler_only']['f1']:.3f}) on {len(test)} texts -> {out}")
    return metrics


def blind_scores(folder: Path, models: dict[str, Any]) -> dict[str, Any]:
    """Span scores per language on a blind listing set (`listings.jsonl` + `labels.jsonl`
    with `substances` per coder, see data/blind/README.md): each model against the `gold`
    mentions, and annotator A2 against A1 (the ceiling). Titles and descriptions are
    scored as separate texts."""
    listings, rows = load_blind_listings(folder, ("substances",), _mentions_problem)
    listings = listings.set_index("listing_id")
    by_coder = {coder: {r["listing_id"]: r["substances"] for r in rows if r["coder"] == coder}
                for coder in BLIND_CODERS}
    missing = [coder for coder in BLIND_CODERS if not by_coder[coder]]
    if missing:
        raise InputError(f"{folder / 'labels.jsonl'}: no labels of coder {missing[0]}")
    ids = [i for i in listings.index if i in by_coder["gold"]]
    texts = [(i, field, str(listings.at[i, field] or "")) for i in ids
             for field in ("title", "description")]
    spans = {coder: [annotated_spans(text, by_coder[coder].get(i), field)
                     for i, field, text in texts] for coder in BLIND_CODERS}
    predicted = {name: [[(e.start_char, e.end_char) for e in doc.ents]
                        for doc in nlp.pipe([text for _, _, text in texts])]
                 for name, nlp in models.items()}
    langs = [str(listings.at[i, "lang"]) for i, _, _ in texts]
    result = {}
    for lang in ["all", *sorted(set(langs))]:
        keep = [k for k, text_lang in enumerate(langs) if lang in ("all", text_lang)]
        gold, a1, a2 = ([rows[k] for k in keep] for rows in (spans["gold"], spans["A1"],
                                                               spans["A2"]))
        result[lang] = {"listings": len(keep) // 2,
                        **{name: span_scores(gold, [found[k] for k in keep])
                           for name, found in predicted.items()},
                        "a2_vs_a1": span_scores(a1, a2)}
    return result


def _mentions_problem(row: dict[str, Any]) -> str | None:
    """Why one blind label row's `substances` cannot be scored, or None."""
    mentions = row["substances"]
    if mentions is None:
        return None
    if not isinstance(mentions, list) or not all(
            isinstance(m, dict) and isinstance(m.get("field"), str)
            and isinstance(m.get("text"), str) for m in mentions):
        return "substances is not a list of {field, text, ...} mentions"
    return None


def _scores(nlp: Any, records: list[dict[str, Any]]) -> dict[str, Any]:
    docs = nlp.pipe([r["text"] for r in records])
    predicted = [[(e.start_char, e.end_char) for e in doc.ents] for doc in docs]
    return span_scores([r["spans"] for r in records], predicted)

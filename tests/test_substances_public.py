"""The substance vocabulary on real public text: the DRUG-annotated Reddit comments
(held-out side of the hash split) and real listings whose market shelf names the substance."""

from __future__ import annotations

import pytest

from pipeline.core.config import load_market_config
from pipeline.core.substances import SubstanceVocabulary, find_substances, rule_pipeline
from pipeline.ingest import expand_inputs, ingest_files
from pipeline.substances.corpus import read_prodigy, split_by_hash
from pipeline.substances.evaluate import span_scores

pytestmark = pytest.mark.public_data
REDDIT = "forums/reddit-drugs-ner/drugs_training.jsonl"


@pytest.fixture(scope="module")
def vocab() -> SubstanceVocabulary:
    return SubstanceVocabulary.load()


def test_rules_alone_are_precise_on_held_out_reddit(public_data, vocab):
    _, test = split_by_hash(read_prodigy(public_data / REDDIT), 0.2)
    # forum annotators mark class words ("opiates", "benzos"): the rules with them
    spans = find_substances(rule_pipeline(vocab, class_words=True), [r["text"] for r in test],
                            vocab)
    got = span_scores([r["spans"] for r in test], [[(s["start"], s["end"]) for s in x]
                                                   for x in spans])
    assert got["precision"] > 0.85 and got["recall"] > 0.6, got


def test_shelved_substances_are_recognised_in_real_listings(public_data, vocab):
    cfg = load_market_config("alphabay")
    files = [public_data / "markets/alphabay-2017" / f"D&C_-_{name}.csv" for name in
             ("benzos_-_pills_-_20170422", "stims_-_2fa_-_20170429",
              "opiods_-_fentanyl_-_20170428")]
    listings = ingest_files(expand_inputs(files, cfg), cfg).listings
    spans = find_substances(rule_pipeline(vocab), listings["title"].fillna("").tolist(), vocab)
    categories = [{s["category"] for s in x} for x in spans]
    shelves = listings["category_raw"].str.extract(r"(Benzos|2-FA|Fentanyl)", expand=False)
    expected = {"Benzos": "benzodiazepines", "2-FA": "nps", "Fentanyl": "opioids"}
    for shelf, category in expected.items():
        named = [category in c for c, s in zip(categories, shelves, strict=True) if s == shelf]
        assert sum(named) / len(named) > 0.6, (shelf, sum(named), len(named))

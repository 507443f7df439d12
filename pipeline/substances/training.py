"""Training the recogniser: a blank spaCy pipeline with a NER component trained on
annotated spans, and the vocabulary's entity ruler placed where the evaluation says.

`ruler` chooses how the two meet: "before" (ruler entities are fixed, NER fills gaps),
"after" (NER first, the ruler adds what does not overlap) or "none" (NER alone)."""

from __future__ import annotations

import random
from typing import Any

import spacy
from spacy.language import Language
from spacy.training import Example
from spacy.util import compounding, minibatch

from pipeline.core.substances import LABEL, SubstanceVocabulary, add_ruler
from pipeline.substances.corpus import Record

RULER_PLACES = ("before", "after", "none")


def examples(nlp: Language, records: list[Record]) -> tuple[list[Example], int]:
    """Training examples, each gold span widened to whole tokens; and how many spans had
    to be widened (annotation and tokenizer disagree on a boundary)."""
    out, widened = [], 0
    for record in records:
        doc = nlp.make_doc(record["text"])
        ents: list[tuple[int, int, str]] = []
        for start, end in record["spans"]:
            span = doc.char_span(start, end, alignment_mode="expand")
            if span is None:
                continue
            widened += (span.start_char, span.end_char) != (start, end)
            if all(span.end_char <= s or span.start_char >= e for s, e, _ in ents):
                ents.append((span.start_char, span.end_char, LABEL))
        out.append(Example.from_dict(doc, {"entities": ents}))
    return out, widened


def train_ner(records: list[Record], lang: str = "xx", epochs: int = 30, dropout: float = 0.2,
              seed: int = 0) -> tuple[Language, dict[str, Any]]:
    """A blank `lang` pipeline with a NER component trained on `records`; and a log of the
    losses and widened spans."""
    spacy.util.fix_random_seed(seed)
    rng = random.Random(seed)
    nlp = spacy.blank(lang)
    nlp.add_pipe("ner").add_label(LABEL)  # type: ignore[attr-defined]
    train, widened = examples(nlp, records)
    optimizer = nlp.initialize(lambda: train)
    losses_per_epoch = []
    for _ in range(epochs):
        rng.shuffle(train)
        losses: dict[str, float] = {}
        for batch in minibatch(train, size=compounding(4.0, 32.0, 1.001)):
            nlp.update(batch, drop=dropout, sgd=optimizer, losses=losses)
        losses_per_epoch.append(round(float(losses.get("ner", 0.0)), 2))
    return nlp, {"losses": losses_per_epoch, "widened_spans": widened,
                 "examples": len(train)}


def with_ruler(nlp: Language, vocabulary: SubstanceVocabulary, place: str) -> Language:
    """`nlp` with the vocabulary's entity ruler before or after its NER (or none)."""
    if place not in RULER_PLACES:
        raise ValueError(f"ruler place {place!r} not one of {RULER_PLACES}")
    if place == "before":
        add_ruler(nlp, vocabulary, class_words=True, before="ner")
    elif place == "after":
        add_ruler(nlp, vocabulary, class_words=True, after="ner")
    return nlp

"""The substance vocabulary (`conf/substances/*.yaml`) and the recogniser built from it.

Every stage that names substances (classify, extract, substances) reads the same data:
canonical substances with their taxonomy category and the words used for them. The
recogniser is a spaCy pipeline: an entity ruler from the vocabulary, plus a trained NER
component when a trained model folder (with its model card) is given. Spans carry the
canonical `name` and `category` when their text is a vocabulary term, None otherwise (a
mention the trained NER found that the vocabulary does not hold yet)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import spacy
import yaml
from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.util import filter_spans

from pipeline.core.config import CONF_DIR
from pipeline.core.io import InputError
from pipeline.core.ml import read_card

SUBSTANCES_DIR = CONF_DIR / "substances"
TAXONOMY_FILE = CONF_DIR / "taxonomy.yaml"
LABEL = "DRUG"
TERM_KINDS = ("synonyms", "brands", "street", "misspellings", "nl", "fr", "de")
CONTEXT_KIND = "context_only"
_SPACE = re.compile(r"\s+")
_PLURAL = re.compile(r"(?<=[a-z])(?:'?s|es)$")


def normalise_term(text: str) -> str:
    """Case-folded, NFKC, single-spaced: the form terms are compared in."""
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", str(text)).casefold()).strip()


@dataclass(frozen=True)
class Substance:
    """One canonical substance: its taxonomy category and the words used for it."""

    name: str
    category: str
    terms: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def rule_terms(self) -> list[str]:
        """The name and every term a rule may match on its own (not `context_only`)."""
        return [self.name] + [t for k in TERM_KINDS for t in self.terms.get(k, ())]

    def all_terms(self) -> list[str]:
        return self.rule_terms() + list(self.terms.get(CONTEXT_KIND, ()))


class SubstanceVocabulary:
    """All substances, with a lookup from any normalised term to its one substance."""

    def __init__(self, substances: Iterable[Substance]) -> None:
        self.substances = {s.name: s for s in substances}
        self.index: dict[str, Substance] = {}
        for sub in self.substances.values():
            for term in sub.all_terms():
                key = normalise_term(term)
                other = self.index.setdefault(key, sub)
                if other.name != sub.name:
                    raise InputError(f"substance term {term!r} points to both "
                                     f"{other.name!r} and {sub.name!r}")

    @classmethod
    def load(cls, folder: str | Path = SUBSTANCES_DIR,
             taxonomy: str | Path = TAXONOMY_FILE) -> SubstanceVocabulary:
        """Read every `*.yaml` in `folder`; categories must be taxonomy ids."""
        categories = set(_yaml(Path(taxonomy)).get("categories", {}))
        files = sorted(Path(folder).glob("*.yaml"))
        if not files:
            raise InputError(f"{folder}: no substance vocabulary (*.yaml)")
        return cls(sub for path in files for sub in _substances(path, categories))

    @property
    def categories(self) -> set[str]:
        return {s.category for s in self.substances.values()}

    def lookup(self, text: str) -> Substance | None:
        """The substance a mention names, trying a plural-stripped form second."""
        key = normalise_term(text)
        return self.index.get(key) or self.index.get(_PLURAL.sub("", key))

    def ruler_patterns(self) -> list[dict[str, Any]]:
        """Entity-ruler phrase patterns (label DRUG, id = canonical name), rule terms only."""
        seen: set[str] = set()
        patterns = []
        for sub in self.substances.values():
            for term in sub.rule_terms():
                key = normalise_term(term)
                if key not in seen:
                    seen.add(key)
                    patterns.append({"label": LABEL, "pattern": key, "id": sub.name})
        return patterns


def _yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise InputError(f"{path}: not readable YAML ({err})") from err
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a mapping")
    return data


def _substances(path: Path, categories: set[str]) -> list[Substance]:
    data = _yaml(path)
    category = data.get("category")
    if category not in categories:
        raise InputError(f"{path}: category {category!r} is not a taxonomy id")
    out = []
    for entry in data.get("substances") or []:
        if not isinstance(entry, dict) or not entry.get("name"):
            raise InputError(f"{path}: every substance needs a `name`")
        unknown = set(entry) - {"name", CONTEXT_KIND, *TERM_KINDS}
        if unknown:
            raise InputError(f"{path}: {entry['name']}: unknown keys {sorted(unknown)}")
        terms = {k: tuple(str(t) for t in entry[k]) for k in (*TERM_KINDS, CONTEXT_KIND)
                 if entry.get(k)}
        out.append(Substance(normalise_term(entry["name"]), category, terms))
    return out


# --- the recogniser ----------------------------------------------------------------------

def add_ruler(nlp: Language, vocabulary: SubstanceVocabulary, overwrite_ents: bool = False,
              **where: str) -> None:
    """Add the vocabulary's entity ruler (case-insensitive phrase patterns) to `nlp`;
    `where` is `before=` or `after=` a component name."""
    config = {"phrase_matcher_attr": "LOWER", "overwrite_ents": overwrite_ents}
    ruler = nlp.add_pipe("entity_ruler", config=config, **where)  # type: ignore[arg-type]
    ruler.add_patterns(vocabulary.ruler_patterns())  # type: ignore[attr-defined]


def phrase_matcher(nlp: Language, vocabulary: SubstanceVocabulary) -> PhraseMatcher:
    """The rule terms as a case-insensitive PhraseMatcher on `nlp`'s tokenizer, one match id
    per canonical name: the entity ruler's matching without its pipeline step, for callers
    that tokenise themselves (extract)."""
    matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
    terms: dict[str, list[str]] = {}
    for pattern in vocabulary.ruler_patterns():
        terms.setdefault(pattern["id"], []).append(pattern["pattern"])
    for name, phrases in terms.items():
        matcher.add(name, list(nlp.tokenizer.pipe(phrases)))
    return matcher


def matched_names(matcher: PhraseMatcher, *docs: Any) -> list[str]:
    """Canonical names of the longest non-overlapping matches in `docs`, first seen first."""
    names: dict[str, None] = {}
    for doc in docs:
        for span in filter_spans(matcher(doc, as_spans=True)):
            names[span.label_] = None
    return list(names)


def rule_pipeline(vocabulary: SubstanceVocabulary, lang: str = "xx") -> Language:
    """A blank tokenizer of `lang` plus the vocabulary's entity ruler: the recogniser when
    no trained model is available, and the fast one `extract` uses on every listing."""
    nlp = spacy.blank(lang)
    add_ruler(nlp, vocabulary)
    return nlp


@lru_cache(maxsize=4)
def load_recogniser(model_dir: str | None = None) -> Language:
    """The trained recogniser in `model_dir` (its model card checked first), or the rule
    pipeline on the vocabulary when `model_dir` is None or holds no model."""
    if model_dir is None or not (Path(model_dir) / "model_card.json").is_file():
        return rule_pipeline(SubstanceVocabulary.load())
    card = read_card(model_dir)
    if card.get("kind") != "substance_recogniser":
        raise InputError(f"{model_dir}: not a substance recogniser (kind {card.get('kind')!r})")
    return spacy.load(Path(model_dir) / "pipeline")


def doc_spans(doc: Any, vocabulary: SubstanceVocabulary) -> list[dict[str, Any]]:
    """The DRUG entities of a spaCy doc as `{start, end, text, name, category}` objects."""
    spans = []
    for ent in doc.ents:
        if ent.label_ != LABEL:
            continue
        sub = vocabulary.substances.get(ent.ent_id_) or vocabulary.lookup(ent.text)
        spans.append({"start": ent.start_char, "end": ent.end_char, "text": ent.text,
                      "name": sub.name if sub else None,
                      "category": sub.category if sub else None})
    return spans


def find_substances(nlp: Language, texts: Iterable[str], vocabulary: SubstanceVocabulary,
                    batch_size: int = 256) -> list[list[dict[str, Any]]]:
    """Substance spans of each text, in `nlp.pipe` batches."""
    return [doc_spans(doc, vocabulary) for doc in nlp.pipe(texts, batch_size=batch_size)]

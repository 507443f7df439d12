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
from spacy.tokens import Doc
from spacy.util import compile_infix_regex, compile_prefix_regex, compile_suffix_regex, filter_spans

from pipeline.core.config import CONF_DIR
from pipeline.core.io import InputError
from pipeline.core.ml import read_card
from pipeline.core.text import strip_accents

SUBSTANCES_DIR = CONF_DIR / "substances"
TAXONOMY_FILE = CONF_DIR / "taxonomy.yaml"
LABEL = "DRUG"
TERM_KINDS = ("synonyms", "brands", "street", "misspellings", "nl", "fr", "de")
CONTEXT_KIND = "context_only"
# words for a whole class ("benzos", "opiates", "research chemicals"): forum annotators mark
# them and they tell a listing's category, but listing writers do not mark them as mentions
CLASS_KIND = "class_words"
_SPACE = re.compile(r"\s+")
_PLURAL = re.compile(r"(?<=[a-z])(?:'?s|es)$")
# French and Italian elided articles ("d'acide", "l'alcool"): split off so the noun matches
_ELISION = r"(?:[cdjlmnstCDJLMNST]|[qQ][uU])['’](?=[^\W\d_])"
# decoration around a name ("--MDPV--"), brackets and slashes inside a word
# ("MMBC(MMB-chminaca)", "MEPHEDRONE/4MMC")
_DASH_RUN = r"-+"
_INNER_MARK = r"(?<=[^\W_])[()\[\]/](?=[^\W_])"
# a full stop after a name ending in a capital letter behind a digit or hyphen ("2C-B.",
# "N2O."), which spaCy's suffix rules keep on the word
_CAPITAL_STOP = r"(?<=[0-9-][A-Z])\."
# a salt joined on with a middle dot ("MDMA·HCl", as chemists write it)
_MIDDLE_DOT = r"(?<=[^\W_])[·•](?=[^\W_])"
# Form words written together with a substance in Dutch and German compounds
# ("speedpasta", "Codeïnefosfaat", "Morphinsulfat"), and a salt glued on with a dot
# ("MDMA.HCl"): split off the substance before matching
FORM_SUFFIXES = ("olie", "öl", "oel", "pasta", "paste", "sulfaat", "sulfat", "fosfaat",
                 "phosphat", "zakje", "zakjes", "pillen", "poeder", "pulver", "kristallen",
                 "kristalle", "tabletten", "blüten", "saft", "hustensaft", "siroop", "sirup",
                 "base", "tropfen", "pflaster", "kapseln", "capsules", ".hcl", "kristall",
                 "pille", "tablette", "kapsel", "brocken", "kekse", "hydrochlorid",
                 "hydrochloride")


def normalise_term(text: str) -> str:
    """Case-folded, NFKC, single-spaced: the form terms are compared in."""
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", str(text)).casefold()).strip()


@dataclass(frozen=True)
class Substance:
    """One canonical substance: its taxonomy category and the words used for it."""

    name: str
    category: str
    terms: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def rule_terms(self, class_words: bool = False) -> list[str]:
        """The name and every term a rule may match on its own: never `context_only` words,
        `class_words` only when asked. The name follows the kind it is listed under
        ("opioid", a class word)."""
        held_back = {normalise_term(t) for t in self.terms.get(CONTEXT_KIND, ())}
        kinds = (*TERM_KINDS, CLASS_KIND) if class_words else TERM_KINDS
        if not class_words:
            held_back |= {normalise_term(t) for t in self.terms.get(CLASS_KIND, ())}
        name = [] if self.name in held_back else [self.name]
        return name + [t for k in kinds for t in self.terms.get(k, ())]

    def all_terms(self) -> list[str]:
        return self.rule_terms(class_words=True) + list(self.terms.get(CONTEXT_KIND, ()))


class SubstanceVocabulary:
    """All substances, with a lookup from any normalised term to its one substance."""

    def __init__(self, substances: Iterable[Substance]) -> None:
        self.substances = {s.name: s for s in substances}
        self.index: dict[str, Substance] = {}
        self.context_words = {normalise_term(t) for sub in self.substances.values()
                              for t in sub.terms.get(CONTEXT_KIND, ())}
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

    def single_words(self, class_words: bool = False) -> set[str]:
        """The rule terms that are one alphabetic word ("speed", "codeïne")."""
        return {key for sub in self.substances.values()
                for term in sub.rule_terms(class_words)
                if (key := normalise_term(term)).isalpha()}

    def ruler_patterns(self, class_words: bool = False) -> list[dict[str, Any]]:
        """Entity-ruler phrase patterns (label DRUG, id = canonical name), rule terms only,
        each with its spelling variants (`spelling_variants`) that no other term claims and
        that are not `context_only` words (a variant never brings back an ordinary word:
        "test-e" written together is the French "teste"); `class_words` as well when asked."""
        seen: set[str] = set()
        patterns = []
        for sub in self.substances.values():
            for term in sub.rule_terms(class_words):
                key = normalise_term(term)
                for form in (key, *spelling_variants(key)):
                    if form != key and form in self.context_words:
                        continue
                    owner = self.index.get(form)
                    if form not in seen and (owner is None or owner.name == sub.name):
                        seen.add(form)
                        patterns.append({"label": LABEL, "pattern": form, "id": sub.name})
        return patterns


_INN_E = re.compile(r"(?<=[a-z]{4})(?:in|on|id|ol|(?<!a)at)e?$")
_TRAILING_WORD = re.compile(r"[^\W\d_]+$")
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue"})
FOLD_MIN = 5  # shorter words keep their accents: "héro" is not the English "hero"
_ELONGATED = re.compile(r"([^\W\d_])\1{2,}")  # "speeeed": a letter written three times or more


def fold_accents(word: str) -> str:
    """A lower-case word without its accents when five letters or more remain
    ("prométhazine" -> "promethazine", "bupré" -> "bupre", "héro" stays), and with a
    letter drawn out for emphasis written twice ("speeeed" -> "speed"): what the rule
    pipeline matches texts and terms on, so a term listed with or without accents finds
    both spellings."""
    plain = strip_accents(word)
    return _ELONGATED.sub(r"\1\1", plain if len(plain) >= FOLD_MIN else word)


def _inn_e(word: str) -> str:
    """`word` with its INN's final -e dropped or added, or unchanged."""
    if len(word) >= 7 and _INN_E.search(word):
        return word[:-1] if word.endswith("e") else word + "e"
    return word


def spelling_variants(key: str) -> list[str]:
    """Forms of a normalised term a listing writes for the same word: without accents
    ("cocaïne" -> "cocaine"); umlauts written out ("zaubertrüffel" -> "zaubertrueffel");
    with and without the final -e of an INN as Dutch, German and French spell them
    ("oxandrolone" <-> "oxandrolon", "somatropin" <-> "somatropine", "methylphenidate" <->
    "methylphenidat"); and plurals of a word of four letters or more ("etizolam" ->
    "etizolams", and the Dutch "paddo" -> "paddo's"); hyphens written as spaces or left
    out ("fub-amb" -> "fub amb", "fubamb")."""
    variants = []
    plain = strip_accents(key)
    if plain != key and len(plain) >= 6:  # not "héro" -> "hero"
        variants.append(plain)
    spelled = key.translate(_UMLAUTS)
    if spelled != key:
        variants.append(spelled)
    if _inn_e(key) != key:
        variants.append(_inn_e(key))
    words = key.split(" ")
    if len(words) > 1:  # each word of an ester: "nandrolone decanoate" -> "nandrolon decanoat"
        each = " ".join(_inn_e(w) for w in words)
        if each != key and each not in variants:
            variants.append(each)
    if "-" in key:  # "fub-amb" as "fub amb" and "fubamb", "4-fmc" as "4fmc" (not "o-dt" -> "odt")
        variants.append(key.replace("-", " "))
        # (not when a tripled letter would fold away: "a-ppp" -> "appp" reads as "app")
        if len(joined := key.replace("-", "")) >= 4 and not _ELONGATED.search(joined):
            variants.append(joined)
    word = _TRAILING_WORD.search(key)
    if word and len(word.group()) >= 4 and not key.endswith("s"):
        variants.append(key + "s")
        if key[-1] in "aou":  # Dutch plural of a word ending in a vowel: "paddo's"
            variants.append(key + "'s")
    return variants


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
        unknown = set(entry) - {"name", CONTEXT_KIND, CLASS_KIND, *TERM_KINDS}
        if unknown:
            raise InputError(f"{path}: {entry['name']}: unknown keys {sorted(unknown)}")
        terms = {k: tuple(str(t) for t in entry[k])
                 for k in (*TERM_KINDS, CLASS_KIND, CONTEXT_KIND)
                 if entry.get(k)}
        out.append(Substance(normalise_term(entry["name"]), category, terms))
    return out


# --- the recogniser ----------------------------------------------------------------------

def add_ruler(nlp: Language, vocabulary: SubstanceVocabulary, overwrite_ents: bool = False,
              attr: str = "LOWER", class_words: bool = False, **where: str) -> None:
    """Add the vocabulary's entity ruler (case-insensitive phrase patterns) to `nlp`;
    `where` is `before=` or `after=` a component name. `attr="NORM"` matches on the
    accent-free forms the rule pipeline's first component sets (`fold_accents`)."""
    config = {"phrase_matcher_attr": attr, "overwrite_ents": overwrite_ents}
    ruler = nlp.add_pipe("entity_ruler", config=config, **where)  # type: ignore[arg-type]
    ruler.add_patterns(vocabulary.ruler_patterns(class_words))  # type: ignore[attr-defined]


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


def rule_pipeline(vocabulary: SubstanceVocabulary, lang: str = "xx",
                  class_words: bool = False) -> Language:
    """A blank tokenizer of `lang` plus the vocabulary's entity ruler: the recogniser when
    no trained model is available, and the fast one `extract` uses on every listing.
    The tokenizer splits elided articles ("l'alcool") and form words written onto a
    substance ("speedpasta") so that the substance alone is matched, and terms match with
    or without their accents on either side ("prométhazine" finds "promethazine").
    `class_words` adds the vocabulary's class words ("benzos"), which name a category."""
    nlp = spacy.blank(lang)
    prefixes = [*(nlp.Defaults.prefixes or []), _ELISION, _DASH_RUN]
    nlp.tokenizer.prefix_search = compile_prefix_regex(prefixes).search
    suffixes = [*(nlp.Defaults.suffixes or []), _DASH_RUN, _CAPITAL_STOP]
    nlp.tokenizer.suffix_search = compile_suffix_regex(suffixes).search
    infixes = [*(nlp.Defaults.infixes or []), _INNER_MARK, _MIDDLE_DOT]
    nlp.tokenizer.infix_finditer = compile_infix_regex(infixes).finditer
    nlp.add_pipe(COMPOUNDS, config={"terms": sorted(vocabulary.single_words(class_words))})
    add_ruler(nlp, vocabulary, attr="NORM", class_words=class_words)
    return nlp


COMPOUNDS = "substance_compounds"


@Language.factory(COMPOUNDS, default_config={"terms": []})
def _make_compound_splitter(nlp: Language, name: str, terms: list[str]) -> CompoundSplitter:
    return CompoundSplitter(terms)


class CompoundSplitter:
    """Splits a token made of a one-word vocabulary term and a form word or salt
    (`FORM_SUFFIXES`: "Amfetaminesulfaat" -> "Amfetamine" + "sulfaat", "MDMA.HCl" ->
    "MDMA" + ".HCl") into the two, then sets every token's NORM to its `fold_accents`
    form, which the rule pipeline's ruler matches on (texts and patterns alike)."""

    def __init__(self, terms: Iterable[str]) -> None:
        self.terms = frozenset(terms)

    def split_at(self, text: str) -> int:
        """Length of the term `text` starts with when the rest is a form word, else 0."""
        lower = text.lower()
        if len(lower) != len(text):
            return 0
        for suffix in FORM_SUFFIXES:
            cut = len(lower) - len(suffix)
            if cut >= 3 and lower.endswith(suffix) and lower[:cut] in self.terms:
                return cut
        return 0

    def __call__(self, doc: Doc) -> Doc:
        cuts = [(token, self.split_at(token.text)) for token in doc if len(token) > 5]
        with doc.retokenize() as retokenizer:
            for token, cut in cuts:
                if cut:
                    retokenizer.split(token, [token.text[:cut], token.text[cut:]],
                                      heads=[(token, 0), (token, 1)])
        for token in doc:
            token.norm_ = fold_accents(token.lower_)
        return doc


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

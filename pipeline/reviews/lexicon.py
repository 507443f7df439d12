"""Sentiment lexicons per language as configuration (`reviews.lexicon`): polar words,
negations, intensifiers, contrast and pending cues, and market idiom ("top vendor",
"nooit ontvangen", "arnaque", "Abzocke"). Their hits become cue tokens appended to the text
the n-gram model reads (`lx_pos`, `lx_negated`, `lx_mixed` ...): one cue learnt from any
language ("never received" -> `lx_idiom_neg`) carries to the others ("nooit ontvangen",
"jamais reçu", "nie angekommen"), and the saved model stays data, no code.

Terms are matched on lower-cased, accent-folded words ("recu" finds "reçu"); a term ending
in `*` matches any word it begins; a term of several words is a phrase and wins over its
words. A negation flips the polar words in the next `window` words of its sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pipeline.core.text import strip_accents

CATEGORIES = ("positive", "negative", "negation", "intensifier", "contrast", "pending",
              "idiom_positive", "idiom_negative")
POLARITY = {"positive": 1, "negative": -1, "idiom_positive": 1, "idiom_negative": -1}
_TOKEN = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]*)*|[.!?;]")
_SENTENCE_END = frozenset(".!?;")


def fold(text: str) -> str:
    """Lower case without accents: what a term and a text are compared as."""
    return strip_accents(str(text).lower().replace("’", "'"))


@dataclass
class SentimentLexicon:
    """The compiled terms of every configured language together (reviews mix languages)."""

    languages: dict[str, dict[str, list[str]]]
    window: int = 3
    exact_: dict[str, str] = field(init=False, repr=False)
    prefixes_: list[tuple[str, str]] = field(init=False, repr=False)
    phrases_: dict[str, list[tuple[tuple[str, ...], str]]] = field(init=False, repr=False)

    @classmethod
    def from_config(cls, cfg: dict[str, Any] | None) -> SentimentLexicon | None:
        """The lexicon `reviews.lexicon` describes; None where it is absent or disabled."""
        if not cfg or not cfg.get("enabled", True):
            return None
        return cls(cfg.get("languages", {}), int(cfg.get("window", 3)))

    def __post_init__(self) -> None:
        self.exact_, self.prefixes_, self.phrases_ = {}, [], {}
        for lang, categories in self.languages.items():
            unknown = set(categories) - set(CATEGORIES)
            if unknown:
                raise ValueError(f"lexicon {lang}: unknown categories {sorted(unknown)}")
            for category, terms in categories.items():
                for term in terms or []:
                    words = tuple(_TOKEN.findall(fold(term.rstrip("*"))))
                    if len(words) > 1:
                        self.phrases_.setdefault(words[0], []).append((words, category))
                    elif words and term.endswith("*"):
                        self.prefixes_.append((words[0], category))
                    elif words:
                        self.exact_.setdefault(words[0], category)
        for options in self.phrases_.values():
            options.sort(key=lambda option: -len(option[0]))
        self.prefixes_.sort(key=lambda option: -len(option[0]))

    def _hits(self, tokens: list[str]) -> list[tuple[int, str]]:
        """(word position, category) of each term found, phrases first."""
        hits, i = [], 0
        while i < len(tokens):
            token = tokens[i]
            phrase = next((p for p in self.phrases_.get(token, [])
                           if tuple(tokens[i:i + len(p[0])]) == p[0]), None)
            if phrase is not None:
                hits.append((i, phrase[1]))
                i += len(phrase[0])
                continue
            category = self.exact_.get(token) or next(
                (c for prefix, c in self.prefixes_ if token.startswith(prefix)), None
            )
            if token in _SENTENCE_END:
                category = "end"
            if category:
                hits.append((i, category))
            i += 1
        return hits

    def cues(self, text: str) -> list[str]:
        """The cue tokens of one text: one per polar hit (`lx_pos`/`lx_neg`, and
        `lx_idiom_*`, `lx_strong_*` after an intensifier, `lx_negated` where a negation
        flipped it), one per pending or contrast cue, and the verdict of the whole text
        (`lx_net_pos`, `lx_net_neg`, `lx_mixed` or `lx_none`)."""
        negated_until, boosted_until = -1, -1
        cues, counts = [], {1: 0, -1: 0}
        for i, category in self._hits(_TOKEN.findall(fold(text))):
            if category == "end":
                negated_until = boosted_until = -1
            elif category == "negation":
                negated_until = i + self.window
            elif category == "intensifier":
                boosted_until = i + 2
            elif category in ("pending", "contrast"):
                cues.append(f"lx_{category}")
            else:
                sign = POLARITY[category]
                if category.startswith("idiom_"):
                    cues.append("lx_idiom_" + ("pos" if sign > 0 else "neg"))
                elif i <= negated_until:
                    sign = -sign
                    cues.append("lx_negated")
                name = "pos" if sign > 0 else "neg"
                cues.append(f"lx_{name}")
                if i <= boosted_until:
                    cues.append(f"lx_strong_{name}")
                counts[sign] += 1
        if counts[1] and counts[-1]:
            cues.append("lx_mixed")
        elif counts[1] or counts[-1]:
            cues.append("lx_net_pos" if counts[1] else "lx_net_neg")
        else:
            cues.append("lx_none")
        return cues

    def annotate(self, texts: list[str]) -> list[str]:
        """Each text followed by its cue tokens: what the n-gram model reads."""
        return [f"{text} {' '.join(self.cues(text))}" for text in texts]

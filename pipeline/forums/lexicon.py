"""The transparent multilingual lexicon of harm-reduction content: configured regular
expressions per label and language (conf/forums) that a researcher can read and extend."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Lexicon:
    """Compiled per-label patterns, all languages together (posts mix languages)."""

    patterns: dict[str, dict[str, list[str]]]
    max_chars: int = 6000
    compiled_: dict[str, re.Pattern] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.compiled_ = {
            label: re.compile("|".join(f"(?:{p})" for pats in langs.values() for p in pats), re.I)
            for label, langs in self.patterns.items()
        }

    def hits(self, texts: list[str], labels: list[str]) -> np.ndarray:
        """Boolean matrix texts x labels: does any pattern of the label fire."""
        out = np.zeros((len(texts), len(labels)), dtype=bool)
        for j, label in enumerate(labels):
            rx = self.compiled_.get(label)
            if rx is None:
                continue
            for i, text in enumerate(texts):
                out[i, j] = rx.search(text[: self.max_chars]) is not None
        return out

    def evidence(self, text: str) -> dict[str, str]:
        """The first matching span per label: why the lexicon said so."""
        found = {}
        for label, rx in self.compiled_.items():
            match = rx.search(text[: self.max_chars])
            if match:
                found[label] = match.group(0)
        return found

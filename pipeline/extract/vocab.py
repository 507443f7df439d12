"""The extraction vocabularies (conf/extraction/vocabulary/*.yaml) and the spaCy pieces
built from them: per-language blank tokenizers and Matcher/PhraseMatcher rules.

Keeping units, slang, currencies and place spellings as data lets a researcher add a
unit or a phrase without touching code."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import spacy
import yaml
from spacy.matcher import Matcher, PhraseMatcher

from pipeline.core.config import PROJECT_ROOT
from pipeline.core.io import InputError

# one token that is a number: 10, 1,5, 1.000, .5, 1/2
NUMBER_RE = r"^(?:\d{1,3}(?:[.,]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?|[.,]\d+|\d+/\d+)$"
# digits then letters (10g), and a multiplier x before digits (x10); pill imprints such as
# M30 keep their letters and digits together
_DIGIT_LETTER = re.compile(r"(?<=\d)(?=[^\W\d_])|(?<=[\W\d_][xX×])(?=\d)|(?<=^[xX×])(?=\d)")
# brackets and hyphens next to numbers: "(7)Gram", "1G-10KG", "-10 ml"
_BRACKETS = re.compile(r"[()\[\]{}~]")  # and "~" (about): "~90%"
_HYPHEN = re.compile(r"(?<=[^\W\d_])-(?=\d)|(?<=\s)-(?=\d)")
# ...but a code name (one to three capitals, a hyphen, digits: U-47700, MT-45, LSD-25) is
# one token, not a number with a quantity after it
_CODE_NAME = re.compile(r"(?<![\w-])[A-Z]{1,3}-(?=\d)")
# a number glued after non-ASCII letters (mis-decoded emoji: "äÖƒ10x") is split from them
_GARBLE_DIGIT = re.compile(r"(?<=[^\W\d_a-zA-Z])(?=\d)")
# a full stop after a word ("EUR.", "mg.") becomes its own token in every language
_WORD_STOP = re.compile(r"(?<=[^\W\d_])\.(?=\s|$)")
# "at least" plus signs glued to a number: "200+mg", "80+%", "85%+" read as "200 mg", "80 %"
_PLUS = re.compile(r"(?<=\d)\++(?=[^\W\d_]|%)|(?<=\d%)\++")
# a per cent sign after digits is its own token in every language (nl keeps "83%")
_PERCENT = re.compile(r"(?<=\d)%")
# a slash between a unit and a number ("mg/10ml") is its own token
_UNIT_SLASH = re.compile(r"(?<=[^\W\d_])/(?=\d)")
# a whole amount closed by a dash or equals sign: "€ 25,-", "CHF 90.-", "35,--", "25:-"
_DASH_AMOUNT = re.compile(r"(?<=\d)[.,:][-–—=]{1,2}(?![\w-])")
# options chained by slashes ("10/20/50/100", "1/2/5 g") are parted into their numbers;
# one slash ("10/325", "1/2") stays a combination or a fraction
_SLASH_CHAIN = re.compile(r"(?<![\d/.,])\d+(?:[.,]\d+)?(?:/\d+(?:[.,]\d+)?){2,}(?![\d/])")
_INVISIBLE = dict.fromkeys(
    i for i in range(0x110000) if unicodedata.category(chr(i)) in ("Cf", "Cc") and chr(i) != "\n"
)


def normalise(text: str, max_chars: int) -> str:
    """Unicode-normalised text with invisible characters removed, digits split from
    letters and word-final full stops split off, so that `10g`, `x10`, `3x10` and `EUR.`
    tokenise the same in every language; whole amounts written the Dutch, Belgian and
    Swiss way (`25,-`, `90.-`, `25,=`) lose their dash."""
    text = unicodedata.normalize("NFKC", text[:max_chars]).translate(_INVISIBLE)
    text = _DASH_AMOUNT.sub("", text)
    text = _SLASH_CHAIN.sub(lambda m: m.group().replace("/", " / "), text)
    text = _GARBLE_DIGIT.sub(" ", _BRACKETS.sub(lambda m: f" {m.group()} ", text))
    names = {m.end() - 1 for m in _CODE_NAME.finditer(text)}
    text = _HYPHEN.sub(lambda m: "-" if m.start() in names else " - ", text)
    text = _UNIT_SLASH.sub(" / ", _PERCENT.sub(" %", _PLUS.sub(" ", text)))
    return _WORD_STOP.sub(" .", _DIGIT_LETTER.sub(" ", text))


def parse_number(token: str) -> float | None:
    """A number token as float: `1,5` 1.5, `1.000` 1000, `0.125` 0.125, `1/2` 0.5.
    A group of exactly three digits after one separator is a thousands group unless the
    integer part is 0."""
    if "/" in token:
        num, den = token.split("/", 1)
        value = float(num) / float(den) if float(den) else None
    elif re.fullmatch(r"\d{1,3}(?:[.,]\d{3})+[.,]\d+", token):  # 1,036.00 / 1.036,00
        value = float(re.sub(r"[.,]", "", token[:-len(re.split(r"[.,]", token)[-1]) - 1])
                      + "." + re.split(r"[.,]", token)[-1])
    elif re.fullmatch(r"\d{1,3}(?:[.,]\d{3})+", token) and not token.startswith("0"):
        value = float(re.sub(r"[.,]", "", token))
    else:
        value = float(token.replace(",", "."))
    if value is None or value != value or value in (float("inf"), float("-inf")):
        return None
    return value


def _join_thousands(m: re.Match[str]) -> str:
    if m["pre"] is None and m["post"] is None:
        return m.group()
    return f"{m['pre'] or ''}{m['num'].replace(' ', '')}{m['post'] or ''}"


# currency words read only in their own patterns (prices.yaml explains each list)
_RESTRICTED_CURRENCIES = ("currencies_after_number", "currencies_dotted")


@dataclass
class Vocabulary:
    """Everything read from the vocabulary folder, plus lookups derived from it."""

    quantities: dict[str, Any]
    prices: dict[str, Any]
    shipping: dict[str, Any]
    languages: list[str] = field(default_factory=lambda: ["en", "nl", "fr", "de"])
    max_chars: int = 20000

    @classmethod
    def load(cls, folder: str | Path, languages: list[str] | None = None) -> Vocabulary:
        folder = Path(folder)
        if not folder.is_absolute():
            folder = PROJECT_ROOT / folder
        parts = {}
        for name in ("quantities", "prices", "shipping"):
            path = folder / f"{name}.yaml"
            if not path.exists():
                raise InputError(f"{path}: extraction vocabulary missing")
            parts[name] = yaml.safe_load(path.read_text(encoding="utf-8"))
        return cls(**parts, languages=languages or ["en", "nl", "fr", "de"])

    # --- quantities -------------------------------------------------------------------
    @cached_property
    def unit_of(self) -> dict[str, tuple[str, str, float]]:
        """token -> (unit name, kind, factor to g / ml / count)."""
        table = {}
        for name, spec in self.quantities["units"].items():
            for word in spec["words"]:
                table[str(word).lower()] = (name, spec["kind"], float(spec["factor"]))
        return table

    @cached_property
    def currency_of(self) -> dict[str, str]:
        """Every currency word, including those read only after a number or with their
        full stop, -> its code."""
        return {str(w).lower(): code for key in ("currencies", *_RESTRICTED_CURRENCIES)
                for code, words in self.prices.get(key, {}).items() for w in words}

    def currency_words(self, key: str = "currencies") -> list[str]:
        """The lower-cased words of one currency list of prices.yaml."""
        return sorted({str(w).lower() for words in self.prices.get(key, {}).values()
                       for w in words})

    @cached_property
    def _glued(self) -> re.Pattern[str]:
        """A currency code glued to its amount ("EUR25") and a container glued to its count
        ("10-pack", "10er-Pack", "10er Pack"), split before tokenising."""
        codes = "|".join(re.escape(w) for w in self.currency_words()
                         if (w.isalpha() and len(w) >= 3)  # "EUR25"
                         or (len(w) >= 2 and not w.isalnum()
                             and any(c.isalpha() for c in w)))  # "CA$220"
        packs = "|".join(re.escape(str(w)) for w in self.quantities["pack_words"])
        return re.compile(rf"(?i)\b(?P<cur>{codes})(?=\d)"
                          rf"|(?<=\d)(?: ?(?:er)?-| er ) ?(?=(?:{packs})\b)")

    @cached_property
    def _spaced_thousands(self) -> re.Pattern[str]:
        """An amount whose thousands are parted by spaces, beside a currency ("1 000 €",
        "€ 2 500,00"); without a currency "3 100mg" stays two numbers."""
        cur = "|".join(re.escape(w) for w in self.currency_words())
        return re.compile(rf"(?i)(?P<pre>(?<![\w.,])(?:{cur}) ?)?(?<![\d.,])"
                          rf"(?P<num>\d{{1,3}}(?: \d{{3}})+(?:[.,]\d{{1,2}})?)(?![\d.,]?\d)"
                          rf"(?P<post> ?(?:{cur})(?!\w))?")

    @cached_property
    def _joined_units(self) -> tuple[re.Pattern[str], dict[str, str]]:
        """Unit phrases written as several words ("fl oz", "fluid ounces") -> one word."""
        table = {re.sub(r"\W+", " ", str(p).lower()).strip(): str(unit)
                 for unit, phrases in self.quantities.get("joined_units", {}).items()
                 for p in phrases}
        alts = "|".join(sorted((re.escape(str(p)).replace(r"\ ", r"\s*")
                                for phrases in self.quantities.get("joined_units", {}).values()
                                for p in phrases), key=len, reverse=True))
        return re.compile(rf"(?i)(?<![^\W\d_])(?:{alts or '(?!)'})(?![^\W\d_])"), table

    def normalise(self, text: str) -> str:
        """`normalise` plus the vocabulary's own splits and joins (see `_glued`,
        `_joined_units` and `_spaced_thousands`)."""
        pattern, table = self._joined_units
        text = pattern.sub(lambda m: table.get(re.sub(r"\W+", " ", m.group().lower()).strip(),
                                               m.group()), text)
        text = self._spaced_thousands.sub(_join_thousands, normalise(text, self.max_chars))
        return self._glued.sub(lambda m: f"{m['cur']} " if m["cur"] else " ", text)

    def words(self, key: str) -> frozenset[str]:
        """A word list of quantities.yaml as a lower-cased set, built once."""
        cache = self.__dict__.setdefault("_word_sets", {})
        if key not in cache:
            cache[key] = frozenset(str(w).lower() for w in self.quantities[key])
        return cache[key]

    @cached_property
    def dose_context(self) -> frozenset[str]:
        return frozenset(str(w).lower() for w in self.quantities["dose_context"])

    def token_classes(self) -> dict[str, dict[str, Any]]:
        """What `{"@": NAME}` stands for in the Matcher patterns of the vocabulary."""
        q = self.quantities
        return {
            "NUM": {"TEXT": {"REGEX": NUMBER_RE}},
            "UNIT": {"LOWER": {"IN": sorted(self.unit_of)}},
            "TIMES": {"LOWER": {"IN": [str(w) for w in q["times"]]}},
            "RANGE": {"LOWER": {"IN": [str(w) for w in q["range_words"]]}},
            "OR": {"ORTH": {"IN": ["/", "|"]}},
            "MAG": {"ORTH": {"IN": [str(k) for k in q["magnitudes"]]}, "OP": "?"},
            "CUR": {"LOWER": {"IN": self.currency_words()}},
            "CUR_AFTER": {"LOWER": {"IN": self.currency_words("currencies_after_number")}},
            "CUR_DOT": {"LOWER": {"IN": self.currency_words("currencies_dotted")}},
            "PACK": {"LOWER": {"IN": [str(w).lower() for w in q["pack_words"]]}},
            "PACK_OF": {"LOWER": {"IN": [str(w).lower() for w in q["pack_of"]]}},
            "PACK_PER": {"LOWER": {"IN": [str(w).lower() for w in q["pack_per"]]}},
            "COUNT_FOR": {"LOWER": {"IN": [str(w) for w in q.get("count_price_links", [])]}},
            "PCT": {"LOWER": {"IN": [str(w) for w in q["percent_words"]]}},
            "POTENCY": {"LOWER": {"IN": [str(w) for w in q["potency_words"]]}},
            "COUNT": {"LOWER": {"IN": sorted(w for w, u in self.unit_of.items()
                                             if u[1] == "count")}},
            # a word between a count and its unit ("3 feminized seeds"): no unit, no "x"
            "WORD": {"IS_ALPHA": True, "LOWER": {"NOT_IN": sorted(
                {*self.unit_of, *(str(w) for w in q["times"])})}},
        }

    def expand(self, pattern: list[dict[str, Any]]) -> list[dict[str, Any]]:
        classes = self.token_classes()
        # keys beside "@" (an operator such as "OP": "{1,3}") are kept
        return [{**classes[tok["@"]], **{k: v for k, v in tok.items() if k != "@"}}
                if "@" in tok else tok for tok in pattern]

    @cached_property
    def pipelines(self) -> dict[str, Pipeline]:
        return {lang: Pipeline(lang, self) for lang in self.languages}


class Pipeline:
    """One language: a blank spaCy tokenizer with the vocabulary's matchers."""

    def __init__(self, lang: str, vocab: Vocabulary) -> None:
        self.lang = lang
        self.nlp = spacy.blank(lang)
        self.stop_words = frozenset(self.nlp.Defaults.stop_words)
        self.matcher = Matcher(self.nlp.vocab)
        for section in (vocab.quantities["patterns"], vocab.prices["patterns"]):
            for label, patterns in section.items():
                self.matcher.add(label, [vocab.expand(p) for p in patterns])
        self.phrases = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        make = self.nlp.make_doc
        self.phrases.add("SLANG", [make(str(p)) for p in vocab.quantities["slang_mass_g"]])
        ship = vocab.shipping
        for label, key in (("EXCLUDE", "exclusion_cues"), ("ORIGIN", "origin_cues"),
                           ("DEST", "destination_cues")):
            self.phrases.add(label, [make(str(p)) for p in ship[key]])

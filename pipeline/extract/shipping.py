"""Shipping origin, destinations and exclusions, normalised to ISO 3166-1 alpha-2 or a
SPEC region.

Country names in English, Dutch, French and German come from pycountry and its gettext
translations; conf/extraction/vocabulary/shipping.yaml adds market spellings, adjectives,
regions, groups (Scandinavia) and the cue phrases of exclusion sentences."""

from __future__ import annotations

import difflib
import gettext
import re
from functools import cached_property

import pycountry

from pipeline.extract.vocab import Vocabulary

WORD_RE = re.compile(r"\w+(?:[.'’-]\w+)*\.?")
REGIONS = ("europe", "worldwide", "north_america", "south_america", "asia", "oceania", "africa")
ALPHA2 = frozenset(c.alpha_2 for c in pycountry.countries)
_FROM_TO = re.compile(r"(?is)^\s*from:\s*(?P<src>.*?)\s*(?:\bto:\s*(?P<dst>.*))?$")
_SENTENCE_END = re.compile(r"[.!?;\n|]|\s-\s")


def words(text: str) -> list[str]:
    """Place-matching tokens: words with inner dots, hyphens and apostrophes kept."""
    return WORD_RE.findall(text)


class Places:
    """Lower-cased place phrases -> codes, and the scanner that finds them in tokens."""

    def __init__(self, vocab: Vocabulary) -> None:
        self.vocab = vocab
        ship = vocab.shipping
        table: dict[str, tuple[str, ...]] = {}
        translations = [
            gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang]).gettext
            for lang in vocab.languages
            if lang != "en"
        ]
        for country in pycountry.countries:
            code = (country.alpha_2,)
            names = {country.name, getattr(country, "official_name", None),
                     getattr(country, "common_name", None)}
            for name in [n for n in names if n]:
                for variant in {name, *(t(name) for t in translations)}:
                    table[self._key(variant)] = code
                    if "," in variant:  # "Korea, Republic of" -> also "Korea"
                        table.setdefault(self._key(variant.split(",")[0]), code)
        for alias, code in ship["aliases"].items():
            table[self._key(str(alias))] = (str(code),)
        for region, phrases in ship["regions"].items():
            for phrase in phrases:
                table[self._key(str(phrase))] = (region,)
        for group, codes in ship["groups"].items():
            table[self._key(str(group))] = tuple(codes)
        self.table = table
        self.codes2 = {c.alpha_2.lower(): c.alpha_2 for c in pycountry.countries}
        self.codes3 = {c.alpha_3.lower(): c.alpha_2 for c in pycountry.countries}
        self.ambiguous = frozenset(str(c) for c in ship["ambiguous_codes"])
        self.field_words = frozenset(str(c) for c in ship["field_words"])
        self.unknown = frozenset(self._key(str(u)) for u in ship["unknown"])
        self.stop = frozenset(str(w) for w in ship["stopwords"])
        self.max_len = max(len(k.split()) for k in table)
        self.fuzzy_names = sorted({self._key(c.name) for c in pycountry.countries})
        self.fuzzy_cutoff = float(ship.get("fuzzy_cutoff", 1.0))
        self.fuzzy_min = int(ship.get("fuzzy_min_chars", 6))
        self._fuzzy_cache: dict[str, tuple[str, ...] | None] = {}

    def _fuzzy(self, phrase: str) -> tuple[str, ...] | None:
        """The codes of the pycountry name a misspelt phrase is closest to, if close enough."""
        if phrase not in self._fuzzy_cache:
            parts = phrase.split()
            hit = None
            if len(phrase) >= self.fuzzy_min and all(w.isalpha() and w not in self.stop
                                                     for w in parts):
                close = difflib.get_close_matches(phrase, self.fuzzy_names, 1, self.fuzzy_cutoff)
                hit = self.table.get(close[0]) if close else None
            if len(self._fuzzy_cache) > 10_000:
                self._fuzzy_cache.clear()
            self._fuzzy_cache[phrase] = hit
        return self._fuzzy_cache[phrase]

    @staticmethod
    def _key(phrase: str) -> str:
        return " ".join(words(phrase.lower()))

    def is_code_list(self, tokens: list[str]) -> bool:
        """Whether a country field is a list of alpha-2 codes ("de, nl, be", "SE NO DK"):
        then every token is a code, whatever word it also spells. One token ("my", "pm")
        is no list."""
        return len(tokens) > 1 and all(t.rstrip(".").lower() in self.codes2 for t in tokens)

    def _code(self, token: str, free_text: bool, listed: bool = False) -> tuple[str, ...] | None:
        """A two- or three-letter code. In a country field a code in capitals ("DE", "IN")
        is a code whatever word it also spells (but `field_words` such as "TO" stay words),
        and in a list of codes any case is; in free text only capitals that are not
        `ambiguous_codes`."""
        bare = token.rstrip(".")
        if not free_text and bare.lower() in self.codes2 and (listed or (
                bare.isupper() and len(bare) == 2 and bare not in self.field_words)):
            return (self.codes2[bare.lower()],)
        if bare.lower() in self.stop and not (free_text and bare.isupper() and len(bare) == 2):
            return None  # "au" is a French word, "AU" in capitals Australia
        if bare.upper() in self.ambiguous and (
                free_text or not bare.isupper()):
            return None
        if free_text and not bare.isupper():
            return None
        low = bare.lower()
        if low in self.codes2:
            return (self.codes2[low],)
        if low in self.codes3:
            return (self.codes3[low],)
        return None

    def find(self, tokens: list[str], free_text: bool = False,
             fuzzy: bool = False) -> list[tuple[int, int, tuple[str, ...]]]:
        """(token index, length, codes) of every place, longest phrase first; `fuzzy` also
        reads misspelt country names."""
        found = []
        lows = [t.lower() for t in tokens]
        listed = not free_text and self.is_code_list(tokens)
        i = 0
        while i < len(tokens):
            hit = None
            for size in range(min(self.max_len, len(tokens) - i), 0, -1):
                phrase = " ".join(lows[i : i + size])
                if phrase in self.table:
                    hit = (size, self.table[phrase])
                    break
            if hit is None and len(tokens[i].rstrip(".")) in (2, 3):
                codes = self._code(tokens[i], free_text, listed)
                hit = (1, codes) if codes else None
            for size in (2, 1) if fuzzy and hit is None else ():
                codes = self._fuzzy(" ".join(lows[i : i + size]))
                if codes and i + size <= len(tokens):
                    hit = (size, codes)
                    break
            if hit:
                found.append((i, hit[0], hit[1]))
                i += hit[0]
            else:
                i += 1
        return found

    def codes_in(self, text: str, free_text: bool = False) -> list[str]:
        out: list[str] = []
        for _, _, codes in self.find(words(text), free_text):
            out.extend(c for c in codes if c not in out)
        return out

    def capital_code(self, token: str) -> tuple[str, ...] | None:
        """A code in capitals where the context says a place is meant (right after "Versand
        aus", one side of a route "DE > EU"), even if it also spells a word."""
        bare = token.rstrip(".")
        if len(bare) == 2 and bare.isupper() and bare not in self.field_words:
            code = self.codes2.get(bare.lower())
            return (code,) if code else None
        return None

    def is_unknown(self, text: str) -> bool:
        return self._key(text) in self.unknown


class Shipping:
    """Reads ships_from / ships_to / ships_to_excluded from the raw fields and the text."""

    def __init__(self, vocab: Vocabulary) -> None:
        self.vocab = vocab
        self.places = Places(vocab)
        ship = vocab.shipping
        self.exclusion_cues = sorted((words(c.lower()) for c in ship["exclusion_cues"]),
                                     key=len, reverse=True)
        self.origin_cues = sorted((words(c.lower()) for c in ship["origin_cues"]),
                                  key=len, reverse=True)
        self.dest_cues = sorted((words(c.lower()) for c in ship["destination_cues"]),
                                key=len, reverse=True)
        self.origin_suffixes = frozenset(str(w) for w in ship["origin_suffixes"])
        self.origin_prefixes = frozenset(str(w) for w in ship["origin_prefixes"])
        self.negations = frozenset(str(w) for w in ship["negations"])
        links = "|".join(re.escape(str(w)) for w in ship["route_links"])
        self.route = re.compile(rf"(?<![\w-])([^\W\d_][\w.]*)\s*(?:{links})\s*([^\W\d_][\w.]*)"
                                rf"(?![\w-])", re.IGNORECASE)
        self.title_not_after = frozenset(str(w) for w in ship["title_origin_not_after"])
        self.never_excluded = frozenset(str(w) for w in ship["never_excluded"])
        self._cue_index: dict[int, dict[str, list[list[str]]]] = {}

    @cached_property
    def _cache(self) -> dict[tuple[str, str], tuple[str | None, list[str], list[str]]]:
        return {}

    def raw_fields(self, ships_from_raw: str,
                   ships_to_raw: str) -> tuple[str | None, list[str], list[str]]:
        """(origin, destinations, exclusions) from the structured fields, cached: markets
        repeat a few hundred distinct values."""
        key = (ships_from_raw, ships_to_raw)
        if key not in self._cache:
            if len(self._cache) > 100_000:
                self._cache.clear()
            self._cache[key] = self._raw_fields(ships_from_raw, ships_to_raw)
        return self._cache[key]

    def _raw_fields(self, src: str, dst: str) -> tuple[str | None, list[str], list[str]]:
        split = _FROM_TO.match(src or "")
        if split:
            src = split.group("src") or ""
            dst = dst if dst.strip() else (split.group("dst") or "")
        origin = None
        if not self.places.is_unknown(src):
            found = self.places.codes_in(src)
            origin = found[0] if found else None
        included, excluded = self._split_exclusions(dst, free_text=False)
        return origin, included, excluded

    def _by_first(self, cues: list[list[str]]) -> dict[str, list[list[str]]]:
        """Cue phrases indexed by their first word (longest first), built once per list."""
        key = id(cues)
        if key not in self._cue_index:
            index: dict[str, list[list[str]]] = {}
            for cue in cues:
                if cue:
                    index.setdefault(cue[0], []).append(cue)
            self._cue_index[key] = index
        return self._cue_index[key]

    def _split_exclusions(self, text: str, free_text: bool) -> tuple[list[str], list[str]]:
        """Places before an exclusion cue are destinations; after it, exclusions."""
        toks = words(text)
        lows = [t.lower() for t in toks]
        cut = after = len(toks)
        index = self._by_first(self.exclusion_cues)
        listed = not free_text and self.places.is_code_list(toks)  # "SE, NO, DK": Norway
        for i in range(len(toks) if listed else 0, len(toks)):
            cue = next((c for c in index.get(lows[i], ()) if lows[i : i + len(c)] == c), None)
            if cue:  # the cue itself is no place ("Worldwide NO US")
                cut, after = i, i + len(cue)
                break
        inc = self._codes(toks[:cut], free_text)
        exc = self._codes(toks[after:], free_text, fuzzy=True)
        return inc, exc

    def _codes(self, toks: list[str], free_text: bool, fuzzy: bool = False) -> list[str]:
        out: list[str] = []
        for _, _, codes in self.places.find(toks, free_text, fuzzy):
            out.extend(c for c in codes if c not in out)
        return out

    def _clauses(self, text: str, cues: list[list[str]], bare_next: bool = False,
                 negations: frozenset[str] = frozenset()) -> list[list[str]]:
        """For each cue in each sentence, the tokens after the cue up to the sentence end."""
        clauses = []
        for sentence in _SENTENCE_END.split(text):
            toks = words(sentence)
            lows = [t.lower() for t in toks]
            i = 0
            while i < len(toks):
                cue = next((c for c in self._by_first(cues).get(lows[i], ())
                            if lows[i : i + len(c)] == c), None)
                if cue is None:
                    i += 1
                    continue
                rest = toks[i + len(cue) :]
                if bare_next and len(cue) == 1 and cue[0] == "no":
                    # a bare "no" excludes only a place right after it ("No USA")
                    rest = rest[: self._place_run(rest)]
                if negations and i > 0 and lows[i - 1] in negations:
                    i += len(cue)
                    continue
                clauses.append(rest)
                i += len(cue)
        return clauses

    def _place_run(self, toks: list[str]) -> int:
        """How many leading tokens are a list of places ("USA/AUS", "US and Canada")."""
        end = 0
        for i, size, _ in self.places.find(toks, free_text=True):
            if i > end and not all(t.lower() in self.places.stop for t in toks[end:i]):
                break
            end = i + size
        return end

    def text_exclusions(self, text: str) -> list[str]:
        out: list[str] = []
        for clause in self._clauses(text, self.exclusion_cues, bare_next=True):
            for code in self._codes(clause, free_text=True, fuzzy=True):
                if code not in out:
                    out.append(code)
        return out

    def text_origin(self, text: str) -> str | None:
        """An origin named in text: "ships from NL", "UK vendor", "USA domestic"."""
        for clause in self._clauses(text, self.origin_cues):
            hits = self.places.find(clause[:4], free_text=True)
            if hits and hits[0][0] <= 1 and len(hits[0][2]) == 1:
                return hits[0][2][0]
            code = self.places.capital_code(clause[0]) if clause else None
            if code:  # "Versand aus DE"
                return code[0]
        prefixes = self.origin_prefixes
        toks = words(text)
        for i, size, codes in self.places.find(toks, free_text=True):
            nxt = i + size
            if len(codes) == 1 and (nxt < len(toks) and toks[nxt].lower() in self.origin_suffixes
                                    or i > 0 and toks[i - 1].lower() in prefixes):
                return codes[0]  # "UK vendor", "Duitse verkoper", "vendeur belge"
        return None

    def title_route(self, title: str) -> tuple[str | None, list[str]]:
        """(origin, destinations) of a route in a title: "UK-UK", "USA to USA", "[CA-WW]"."""
        for m in self.route.finditer(title):
            src = [c[2] for c in self.places.find([m.group(1)], free_text=True)]
            dst = [c[2] for c in self.places.find([m.group(2)], free_text=True)]
            if bool(src) != bool(dst):  # "DE > EU": one side a place, the other in capitals
                src = src or [c for c in [self.places.capital_code(m.group(1))] if c]
                dst = dst or [c for c in [self.places.capital_code(m.group(2))] if c]
            if src and dst and len(src[0]) == 1:
                return src[0][0], list(dst[0])
        return None, []

    def title_origin(self, title: str) -> str | None:
        """An origin stated as a route or as the country closing the title ("... Ketamine
        UK")."""
        origin = self.title_route(title)[0]
        if origin:
            return origin
        toks = words(title)
        hits = self.places.find(toks, free_text=True)
        if hits:
            i, size, codes = hits[-1]
            before = toks[i - 1].lower() if i > 0 else ""
            if (i + size == len(toks) and len(codes) == 1 and codes[0] not in REGIONS
                    and before not in self.title_not_after):
                return codes[0]
        return None

    def excluded(self, codes: list[str]) -> list[str]:
        """Exclusions without places that cannot be excluded (worldwide)."""
        return [c for c in codes if c not in self.never_excluded]

    def text_destinations(self, text: str) -> list[str]:
        out: list[str] = []
        for clause in self._clauses(text, self.dest_cues, negations=self.negations):
            inc, _ = self._split_exclusions(" ".join(clause), free_text=True)
            out.extend(c for c in inc if c not in out)
        return out

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
# French elided articles and particles are words of their own: "l'Allemagne", "d'envoi"
_ELISION = re.compile(r"(?i)\b(?:[ldnjs]|qu)['’](?=\w)")
REGIONS = ("europe", "worldwide", "north_america", "south_america", "asia", "oceania", "africa")
ALPHA2 = frozenset(c.alpha_2 for c in pycountry.countries)
_FROM_TO = re.compile(r"(?is)^\s*from:\s*(?P<src>.*?)\s*(?:\bto:\s*(?P<dst>.*))?$")
# a full stop ends a sentence only before a space or the end ("U.S.A.", "É.-U." stay whole)
_SENTENCE_END = re.compile(r"[.!?;](?=\s|$)|[\n|]|\s-\s")
# clauses of a sentence, for places named before a cue ("Frankrijk: nee", "UK = no")
_CLAUSE_END = re.compile(r"[,:()=]")


def _has_lower(text: str) -> bool:
    """Whether a sentence is not written all in capitals: only then are codes in capitals
    written as codes ("kein Versand nach AT", not "THIS WILL NOT BE RESHIPPED")."""
    return any(ch.islower() for ch in text)


def words(text: str) -> list[str]:
    """Place-matching tokens: words with inner dots, hyphens and apostrophes kept, French
    elisions split off ("l'Allemagne" -> "l", "Allemagne")."""
    return WORD_RE.findall(_ELISION.sub(lambda m: m.group()[:-1] + " ", text))


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
        self.never_codes = frozenset(str(c) for c in ship["exclusions"]["never_codes"])
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

    def _code(self, token: str, free_text: bool, listed: bool = False,
              capitals: bool = False) -> tuple[str, ...] | None:
        """A two- or three-letter code. In a country field a code in capitals ("DE", "IN")
        is a code whatever word it also spells (but `field_words` such as "TO" stay words),
        and in a list of codes any case is; in free text only capitals that are not
        `ambiguous_codes`, unless `capitals` says the context names places (an exclusion
        clause: "kein Versand nach AT/CH", "geen BE")."""
        bare = token.rstrip(".")
        if capitals and bare.isupper() and bare not in self.field_words \
                and bare not in self.never_codes:
            code = self.codes2.get(bare.lower()) or self.codes3.get(bare.lower())
            if code:
                return (code,)
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

    def find(self, tokens: list[str], free_text: bool = False, fuzzy: bool = False,
             capitals: bool = False) -> list[tuple[int, int, tuple[str, ...]]]:
        """(token index, length, codes) of every place, longest phrase first; `fuzzy` also
        reads misspelt country names, `capitals` every code in capitals (see `_code`)."""
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
                codes = self._code(tokens[i], free_text, listed, capitals)
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
        excl = ship["exclusions"]
        self.place_next = frozenset(str(w) for w in excl["place_next"])
        self.after_cues = sorted((words(c.lower()) for c in excl["after_cues"]), key=len,
                                 reverse=True)
        self.fillers = frozenset(str(w) for w in excl["fillers"])
        self.reasons = frozenset(str(w) for w in excl["reasons"])
        self.clause_ends = frozenset(str(w) for w in excl["clause_ends"])
        self.outside = frozenset(str(w) for w in excl["outside"])
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

    def _clauses(self, text: str, cues: list[list[str]], exclusion: bool = False,
                 negations: frozenset[str] = frozenset(),
                 ) -> list[tuple[list[str], list[str], bool]]:
        """For each cue in each sentence, (the cue, the tokens after it up to the sentence
        end, whether codes in capitals are places there). An `exclusion` cue of
        `place_next` ("no", "geen", "pas") reaches only the places right after it, and any
        exclusion clause ends at a `clause_ends` word ("buiten EU douane", "rest of EU
        ok")."""
        clauses = []
        for sentence in _SENTENCE_END.split(text):
            toks = words(sentence)
            capitals = _has_lower(sentence)
            lows = [t.lower() for t in toks]
            i = 0
            while i < len(toks):
                cue = next((c for c in self._by_first(cues).get(lows[i], ())
                            if lows[i : i + len(c)] == c), None)
                if cue is None:
                    i += 1
                    continue
                rest = toks[i + len(cue) :]
                if exclusion:
                    rest = rest[: next((k for k, t in enumerate(rest)
                                        if t.lower() in self.clause_ends), len(rest))]
                    if len(cue) == 1 and cue[0] in self.place_next:
                        rest = rest[: self._place_run(rest, capitals)]
                if negations and i > 0 and lows[i - 1] in negations:
                    i += len(cue)
                    continue
                clauses.append((cue, rest, capitals))
                i += len(cue)
        return clauses

    def _place_run(self, toks: list[str], capitals: bool = False) -> int:
        """How many leading tokens are a list of places ("USA/AUS", "US and Canada"); a
        region ends the list ("no international, UK customers only")."""
        end = 0
        for i, size, codes in self.places.find(toks, free_text=True, capitals=capitals):
            if i > end and not all(t.lower() in self.places.stop for t in toks[end:i]):
                break
            end = i + size
            if codes[0] in REGIONS:
                break
        return end

    def text_exclusions(self, text: str) -> tuple[list[str], list[str]]:
        """Places the text rules out, named after a cue ("no ship to", "pas d'envoi vers",
        "geen BE") or before one ("Frankrijk: nee", "Schweiz leider nicht"), as (firm,
        outside): `outside` are the places after an `outside` cue ("rien hors de France"),
        which a listing that ships there does not exclude."""
        firm: list[str] = []
        outside: list[str] = []
        for cue, clause, capitals in self._clauses(text, self.exclusion_cues, exclusion=True):
            into = outside if cue[-1] in self.outside else firm
            for code in self._exclusion_codes(clause, cue[-1] in self.outside, capitals):
                if code not in into:
                    into.append(code)
        for code in self._named_before_cue(text):
            if code not in firm:
                firm.append(code)
        return firm, [c for c in outside if c not in firm]

    def _exclusion_codes(self, clause: list[str], outside: bool, capitals: bool) -> list[str]:
        """The places of an exclusion clause, codes in `capitals` included ("AT/CH"); a
        region right after an `outside` cue is none ("hors UE": outside the EU), and a
        closing "NO" after a place is Norway ("no shipping to UK, CH, NO")."""
        hits = self.places.find(clause, free_text=True, fuzzy=True, capitals=capitals)
        if outside and hits and hits[0][0] == 0 and hits[0][2][0] in REGIONS:
            hits = hits[1:]
        out: list[str] = []
        for _, _, codes in hits:
            out.extend(c for c in codes if c not in out)
        if capitals and len(clause) > 1 and clause[-1] == "NO" and hits and sum(
                hits[-1][:2]) == len(clause) - 1:
            out.append("NO")
        return out

    def _named_before_cue(self, text: str) -> list[str]:
        """Places listed before a closing cue ("Frankrijk en Nederland niet", "Les
        États-Unis, l'Australie : non", "Schweiz leider nicht", "Duitse adressen doen we
        niet meer sinds ..."): the cue ends its clause (or only fillers and a reason follow
        it), everything before it in the clause is places, and earlier clauses that are
        nothing but places join them."""
        out: list[str] = []
        for sentence in _SENTENCE_END.split(text):
            capitals = _has_lower(sentence)
            clauses = [words(part) for part in _CLAUSE_END.split(sentence)]
            for k, toks in enumerate(clauses):
                lows = [t.lower() for t in toks]
                for j in range(len(toks)):
                    cue = next((c for c in self._by_first(self.after_cues).get(lows[j], ())
                                if lows[j : j + len(c)] == c), None)
                    if cue is None or not self._closes(lows[j + len(cue) :]):
                        continue
                    codes = self._only_places(toks[:j], capitals)
                    back = k - 1
                    while codes is not None and back >= 0 and (
                            earlier := self._only_places(clauses[back], capitals)):
                        codes, back = earlier + codes, back - 1
                    out.extend(c for c in codes or [] if c not in out)
                    break
        return out

    def _closes(self, after: list[str]) -> bool:
        """Whether the words after a closing cue end the clause: fillers, then nothing or
        a reason ("niet meer wegens ...", "doen we niet sinds ...")."""
        rest = [w for w in after if w not in self.fillers]
        return not rest or rest[0] in self.reasons

    def _only_places(self, toks: list[str], capitals: bool) -> list[str] | None:
        """The codes of a clause made only of places (with stop words and fillers between
        them), else None."""
        hits = self.places.find(toks, free_text=True, fuzzy=True, capitals=capitals)
        covered = {i for start, size, _ in hits for i in range(start, start + size)}
        if any(i not in covered and t.lower() not in self.places.stop
               and t.lower() not in self.fillers for i, t in enumerate(toks)):
            return None
        out: list[str] = []
        for _, _, codes in hits:
            out.extend(c for c in codes if c not in out)
        return out

    def text_origin(self, text: str) -> str | None:
        """An origin named in text: "ships from NL", "UK vendor", "USA domestic"."""
        for _, clause, _ in self._clauses(text, self.origin_cues):
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
        for _, clause, _ in self._clauses(text, self.dest_cues, negations=self.negations):
            inc, _ = self._split_exclusions(" ".join(clause), free_text=True)
            out.extend(c for c in inc if c not in out)
        return out

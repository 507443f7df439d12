"""Quantities in listing text: total mass, unit count, dose per unit, volume, purity.

Matcher spans (patterns in conf/extraction/vocabulary/quantities.yaml) are read into
`Mention`s; `resolve` then applies the SPEC section 4 conventions: multipacks multiply,
ranges give the smallest offer, mg/µg are a dose per unit where items are counted."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from spacy.tokens import Doc, Span

from pipeline.extract.vocab import NUMBER_RE, Vocabulary, parse_number

_NUM = re.compile(NUMBER_RE)


@dataclass
class Mention:
    """One quantity stated in the text: base-unit values (g, ml, count; several for a range)."""

    kind: str  # mass | count | volume | dose_ml
    unit: str  # the unit as named in the vocabulary (g, mg, ug, oz, count, ml, ...)
    values: list[float]
    start: int
    end: int
    per_item: float | None = None  # a mass or volume per counted item (3 x 10ml)
    count: float | None = None  # items in a multipack (3 x 10ml -> 3)
    dose_mg: float | None = None  # a strength stated beside a volume ("10ml x 100mg")
    tags: list[str] = field(default_factory=list)


def _classify(tok: str, vocab: Vocabulary) -> str:
    low = tok.lower()
    if _NUM.match(tok):
        return "N"
    if low in vocab.unit_of:
        return "U"
    if tok in vocab.quantities["magnitudes"]:
        return "M"
    if low in vocab.quantities["times"]:
        return "T"
    if low in vocab.quantities["range_words"]:
        return "R"
    return "?"


def _numbers(tokens: list[str], shape: str, vocab: Vocabulary) -> list[float | None]:
    """The numbers of a span in order, each scaled by a magnitude token after it (1k)."""
    values: list[float | None] = []
    for tok, cls in zip(tokens, shape, strict=True):
        if cls == "N":
            values.append(parse_number(tok))
        elif cls == "M" and values and values[-1] is not None:
            values[-1] = values[-1] * float(vocab.quantities["magnitudes"][tok])
    return values


def read_mention(span: Span, vocab: Vocabulary) -> Mention | None:
    """A QTY match as a Mention; None when a number is unreadable (huge, 1/0)."""
    tokens = [t.text for t in span]
    shape = "".join(_classify(t, vocab) for t in tokens)
    nums = _numbers(tokens, shape, vocab)
    if any(n is None or n < 0 for n in nums):
        return None
    units = [vocab.unit_of[t.lower()] for t, c in zip(tokens, shape, strict=True) if c == "U"]
    core = shape.replace("M", "")
    start, end = span.start, span.end
    name, kind, factor = units[-1]
    if _is_ordinal(tokens, shape, vocab):
        return None
    if core == "NU":
        return Mention(kind, name, [nums[0] * factor], start, end)
    if core == "NRNU":
        low, high = sorted((nums[0], nums[1]))
        return Mention(kind, name, [low * factor, high * factor], start, end, tags=["range"])
    if core == "NTNU":
        count, each = nums[0], nums[1] * factor
        if kind == "count":
            return Mention("count", name, [count * each], start, end, tags=["multipack"])
        return Mention(kind, name, [count * each], start, end, per_item=each, count=count,
                       tags=["multipack"])
    if core == "NUTNU":
        (n1, k1, f1), (n2, k2, f2) = units
        a, b = nums[0] * f1, nums[1] * f2
        if k1 == k2:  # "4gr x 4G name": the second is part of the product name
            return Mention(k1, n1, [a], start, start + shape.index("U") + 1)
        if k1 == "count":
            return Mention(k2, n2, [a * b], start, end, per_item=b, count=a, tags=["multipack"])
        if k2 == "count":
            return Mention(k1, n1, [a * b], start, end, per_item=a, count=b, tags=["multipack"])
        if {k1, k2} == {"volume", "mass"} and {n1, n2} & {"mg", "ug"}:  # a vial's strength
            vol, mg = (a, b * 1000) if k1 == "volume" else (b, a * 1000)
            return Mention("volume", "ml", [vol], start, end, dose_mg=mg)
        return Mention(k1, n1, [a], start, end)
    return None


def _is_ordinal(tokens: list[str], shape: str, vocab: Vocabulary) -> bool:
    """A number and a unit word that is also its ordinal suffix: "1st", "21st" are dates."""
    suffixes = vocab.quantities.get("ordinal_suffixes", {})
    for i, cls in enumerate(shape[1:], start=1):
        digit = suffixes.get(tokens[i].lower()) if cls == "U" and shape[i - 1] == "N" else None
        if digit is not None and tokens[i - 1].isdigit():
            n = int(tokens[i - 1])
            if n % 10 == int(digit) and n % 100 not in (11, 12, 13):
                return True
    return False


def _has_word(doc: Doc, extra: str, words: frozenset[str]) -> bool:
    return any(t.lower_ in words for t in doc) or any(
        w in words for w in re.findall(r"[^\W\d_]+", extra.lower()))


def dose_context(doc: Doc, extra: str, vocab: Vocabulary) -> bool:
    """Whether items are counted here (pills, tabs, blotters, tablet brands, edibles),
    and not a powder or crystal sold by weight."""
    if _has_word(doc, "", frozenset(str(w) for w in vocab.quantities["mass_context"])):
        return False
    return _has_word(doc, extra, vocab.dose_context)


@dataclass
class Quantities:
    """The quantity fields of one text (title or description)."""

    mass_g: float | None = None
    units: float | None = None
    dose_mg: float | None = None
    volume_ml: float | None = None
    purity_pct: float | None = None
    mass_options: list[tuple[float, int]] = field(default_factory=list)  # (grams, token end)
    unit_options: list[tuple[float, int]] = field(default_factory=list)
    volume_options: list[tuple[float, int]] = field(default_factory=list)


def _purity(doc: Doc, start: int, end: int, vocab: Vocabulary) -> float | None:
    q = vocab.quantities
    value = parse_number(doc[start].text)  # a range states its low end first
    if value is None or not 0 < value <= float(q["purity_max"]):
        return None
    after = doc[end].lower_ if end < len(doc) else ""
    before = doc[start - 1].lower_ if start > 0 else ""
    if after in q["purity_not_before"] or before in q["purity_not_after"]:
        return None
    if value >= float(q["purity_claim_from"]) and end < len(doc) and doc[end].is_alpha:
        return None
    return value


def _multiplier_ok(doc: Doc, start: int, end: int, vocab: Vocabulary) -> bool:
    """Not "25x extract" (a strength) nor "#7 x" (part of a name)."""
    q = vocab.quantities
    after = {t.lower_ for t in doc[end : end + 2]}
    before = doc[start - 1].lower_ if start > 0 else ""
    return not after.intersection(q["multiplier_not_before"]) and before not in q[
        "multiplier_not_after"]


def bare_count(doc: Doc, matches: list[tuple[str, int, int]], vocab: Vocabulary) -> float | None:
    """A count without a unit word: a whole number opening a title ("(50) Norco", "100 dank
    vape") or in brackets closing it ("Vapes (10)")."""
    q = vocab.quantities
    words = [t.i for t in doc if not t.is_space]
    if not words:
        return None
    first, last = words[0], words[-1]
    for label, start, end in matches:
        if label != "BARE_COUNT":
            continue
        bracketed = end - start == 3
        if not (start == first or (bracketed and end - 1 == last)):
            continue
        after = next((t.lower_ for t in doc[end:] if not t.is_space), "")
        if not bracketed and (after in q["bare_count_not_before"] or after in vocab.unit_of
                              or not after):
            continue
        value = parse_number(doc[start + bracketed].text)
        if value is not None and value.is_integer() and 2 <= value <= float(q["bare_count_max"]):
            return value
    return None


def gap_count(doc: Doc, matches: list[tuple[str, int, int]], vocab: Vocabulary) -> float | None:
    """A count parted from its unit word by a few words, opening a title ("3 feminized
    seeds", "250 high quality bars")."""
    first = next((t.i for t in doc if not t.is_space), None)
    for label, start, _ in matches:
        if label == "GAP_COUNT" and start == first:
            value = parse_number(doc[start].text)
            if value is not None and value.is_integer() \
                    and 1 <= value <= float(vocab.quantities["bare_count_max"]):
                return value
    return None


def read_quantities(
    doc: Doc, matches: list[tuple[str, int, int]], counted: bool, vocab: Vocabulary
) -> Quantities:
    """Apply the SPEC conventions to the matches of one doc. `counted`: dose context."""
    out = Quantities()
    mentions: list[Mention] = []
    taken: set[int] = set()
    qty = sorted((m for m in matches if m[0] in ("QTY", "DOSE_PER_ML")),
                 key=lambda m: (m[1], -(m[2] - m[1])))
    for label, start, end in qty:
        if taken.intersection(range(start, end)):
            continue
        if label == "DOSE_PER_ML":
            value = parse_number(doc[start].text)
            per = parse_number(doc[end - 2].text) if end - start == 5 else 1.0
            if value is not None and per:
                mentions.append(Mention("dose_ml", "mg/ml", [value / per], start, end))
                if end - start == 5:  # the bottle's volume
                    mentions.append(Mention("volume", "ml", [per], end - 2, end))
                taken.update(range(start, end))
            continue
        mention = read_mention(doc[start:end], vocab)
        if mention is not None:
            mentions.append(mention)
            taken.update(range(start, end))
    multipliers = []
    for label, start, end in matches:
        if label == "MULTIPLIER" and not taken.intersection(range(start, end)) \
                and _multiplier_ok(doc, start, end, vocab):
            num = doc[start] if _NUM.match(doc[start].text) else doc[end - 1]
            value = parse_number(num.text)
            if value is not None and value >= 1:
                multipliers.append((value, start))
    mentions.sort(key=lambda m: m.start)
    counted = counted or bool(multipliers) or any(m.kind == "count" for m in mentions)
    multiplier = multipliers[0][0] if multipliers else None
    if multiplier is None:  # "1g (25 carts)": each cart holds the gram
        containers = frozenset(str(w) for w in vocab.quantities["per_item_counts"])
        multiplier = next((m.values[0] for m in mentions if m.kind == "count" and not m.tags
                           and doc[m.end - 1].lower_ in containers), None)

    for m in mentions:
        if m.kind == "mass" and (m.unit == "ug" or (m.unit == "mg" and counted)):
            if out.dose_mg is None:
                out.dose_mg = (m.per_item if m.per_item is not None else m.values[0]) * 1000
            if m.count is not None and out.units is None:
                out.units = m.count
            continue
        if m.kind == "dose_ml":
            out.dose_mg = out.dose_mg if out.dose_mg is not None else m.values[0]
            continue
        if m.kind == "count":
            out.unit_options.extend((v, m.end) for v in m.values)
            continue
        if m.dose_mg is not None and out.dose_mg is None:
            out.dose_mg = m.dose_mg
        scale = multiplier if (multiplier and m.count is None) else 1.0
        options = out.mass_options if m.kind == "mass" else out.volume_options
        options.extend((v * scale, m.end) for v in m.values)
        if m.count is not None and out.units is None:
            out.units = m.count
    if out.unit_options:
        out.units = out.unit_options[0][0] if "range" not in _tags_at(mentions, "count") else min(
            v for v, _ in out.unit_options[:2])
    elif out.units is None and multiplier is not None:
        out.units = multiplier
    if out.mass_options:
        out.mass_g = _primary(out.mass_options, mentions, "mass")
    if out.volume_options:
        out.volume_ml = _primary(out.volume_options, mentions, "volume")
    purity = sorted((m for m in matches if m[0] == "PURITY"), key=lambda m: (m[1], m[1] - m[2]))
    for _, start, end in purity:
        if out.purity_pct is None:
            out.purity_pct = _purity(doc, start, end, vocab)
    return out


def _tags_at(mentions: list[Mention], kind: str) -> list[str]:
    first = next((m for m in mentions if m.kind == kind), None)
    return first.tags if first else []


def _primary(options: list[tuple[float, int]], mentions: list[Mention], kind: str) -> float:
    """The first stated quantity; for a range, its smallest end."""
    if "range" in _tags_at(mentions, kind):
        return min(options[0][0], options[1][0])
    return options[0][0]


def slang_mass(doc: Doc, matches: list[tuple[str, int, int]], vocab: Vocabulary) -> float | None:
    """A mass named by slang alone (QP, half oz, eighth), the longest phrase first."""
    table = {str(k).lower(): float(v) for k, v in vocab.quantities["slang_mass_g"].items()}
    spans = sorted((m for m in matches if m[0] == "SLANG"), key=lambda m: (m[1], m[1] - m[2]))
    for _, start, end in spans:
        if start > 0 and _NUM.match(doc[start - 1].text):
            continue  # "1 oz" is a numeric quantity, read elsewhere
        value = table.get(doc[start:end].text.lower())
        if value is not None:
            return value
    return None

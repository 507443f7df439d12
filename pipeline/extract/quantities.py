"""Quantities in listing text: total mass, unit count, dose per unit, volume, purity.

Matcher spans (patterns in conf/extraction/vocabulary/quantities.yaml) are read into
`Mention`s; `resolve` then applies the SPEC section 4 conventions: multipacks multiply,
ranges give the smallest offer, mg/µg are a dose per unit where items are counted."""

from __future__ import annotations

import math
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
        if cls == "N" and "/" in tok and tok.split("/")[1] not in vocab.words(
                "fraction_denominators"):
            values.append(parse_number(tok.split("/")[0]))  # "10/325 mg": a combination
        elif cls == "N":
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
    if core in ("NU", "NRU"):  # "10g", "7-g"
        return Mention(kind, name, [nums[0] * factor], start, end)
    if core == "NRNU":
        low, high = sorted((nums[0], nums[1]))
        if low == 0:  # "Gr. 0 – 1.000 Stk.": a size or a name, then the quantity
            return Mention(kind, name, [nums[1] * factor], start, end)
        if nums[0] > nums[1] or "/" in tokens[0]:  # "Sustanon 250 - 10 amps", "Percocet
            return None  # 10/325 - 20 pills": a name's or a strength's number, no range
        return Mention(kind, name, [low * factor, high * factor], start, end, tags=["range"])
    if re.fullmatch(r"N(?:\?N)+U", core):  # options "100 / 500 / 1000 pcs": the smallest
        return Mention(kind, name, sorted(n * factor for n in nums), start, end, tags=["range"])
    if core == "NTNU":
        count, each = nums[0], nums[1] * factor
        if kind == "count" and not each.is_integer():  # "10 x 0.2 bags": ten bags
            return Mention("count", name, [count], start, end)
        if kind == "count":
            return Mention("count", name, [count * each], start, end, tags=["multipack"])
        return Mention(kind, name, [count * each], start, end, per_item=each, count=count,
                       tags=["multipack"])
    if core == "NUTNU":
        (n1, k1, f1), (n2, k2, f2) = units
        a, b = nums[0] * f1, nums[1] * f2
        if k1 == k2 == "count" and tokens[shape.index("U")].lower() in vocab.words(
                "pack_words"):  # "10 strips x 10 tabs": containers times what each holds
            return Mention("count", n2, [a * b], start, end, tags=["multipack"])
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


def read_pack(doc: Doc, start: int, end: int, vocab: Vocabulary) -> Mention | None:
    """A PACK match ("3 boîtes de 28", "potje van 60", "2 Flaschen à 100ml", "10 pack",
    "30 per pot") as a Mention: the count of containers times what each holds; None for a
    price ("€5 per pack", "pot van 25 euro")."""
    span = doc[start:end]
    tokens = [t.text for t in span]
    shape = "".join(_classify(t, vocab) for t in tokens)
    packs = vocab.words("pack_words")
    at = next(i for i, t in enumerate(tokens) if t.lower() in packs and (
        i > 0 or shape[i] != "N"))
    nums = _numbers(tokens, shape, vocab)
    currency = vocab.currency_of
    if any(n is None or n <= 0 for n in nums) or (start > 0 and doc[start - 1].lower_ in currency) \
            or (end < len(doc) and doc[end].lower_ in currency):
        return None
    firsts = [i for i, c in enumerate(shape) if c == "N"]
    per_pack = tokens[at - 1].lower() in vocab.words("pack_per") if at else False
    count = nums[0] if firsts[0] < at and not per_pack else None  # containers
    held = nums[-1] if firsts[-1] > at or per_pack else None  # what each one holds
    if count is not None and not count.is_integer():  # "10 x 0.2 bags": a weight per bag
        return None
    unit = vocab.unit_of.get(tokens[-1].lower()) if shape[-1] == "U" and end - 1 > start + at \
        else None
    if unit is None and held is not None and end < len(doc) and doc[end].lower_ in vocab.words(
            "strength_units"):  # "10 flacons de 10 UI": the number each holds is a strength
        return Mention("count", "count", [count], start, end, tags=["pack"]) if count else None
    if unit is None or unit[1] == "count":
        total = (count or 1) * (held or 1)
        tags = ["pack", "multipack"] if count and held else ["pack", "bare"] if count else ["pack"]
        return Mention("count", "count", [total], start, end, tags=tags)
    name, kind, factor = unit
    each = (held or 1) * factor
    if count is None:
        return Mention(kind, name, [each], start, end, tags=["pack"])
    return Mention(kind, name, [count * each], start, end, per_item=each, count=count,
                   tags=["pack", "multipack"])


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


def liquid_context(doc: Doc, extra: str, vocab: Vocabulary) -> bool:
    """Whether a liquid is sold ("lean", "syrup"): its ounces are fluid ounces."""
    return _has_word(doc, extra, vocab.words("liquid_context"))


def _fluid(m: Mention, vocab: Vocabulary) -> Mention:
    """An ounce of a liquid as a volume in fluid ounces (`liquid_ounce_units`)."""
    units = vocab.quantities["units"]
    if m.kind != "mass" or m.unit not in vocab.words("liquid_ounce_units"):
        return m
    ml = float(units["floz"]["factor"]) / float(units[m.unit]["factor"])
    return Mention("volume", "floz", [v * ml for v in m.values], m.start, m.end,
                   per_item=None if m.per_item is None else m.per_item * ml, count=m.count,
                   tags=m.tags)


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
    mass_each: bool = False  # the first mass is stated per counted item ("1g per cart")


def _purity(doc: Doc, start: int, end: int, vocab: Vocabulary) -> float | None:
    q = vocab.quantities
    first = next(t for t in doc[start:end] if _NUM.match(t.text))  # a range: its low end
    value = parse_number(first.text)
    if value is None or not 0 < value <= float(q["purity_max"]):
        return None
    if first.i == end - 1 and end < len(doc) and (  # "THC 25": not "THC 25mg", "THC 2:1"
            doc[end].lower_ in vocab.unit_of or not doc[end].is_space and doc[end].is_punct
            and doc[end].text not in "%.,;!)"):
        return None
    start = first.i
    after = _plain(doc[end].lower_) if end < len(doc) else ""
    words = [_plain(t.lower_) for t in doc[max(start - 3, 0) : start] if not t.is_space]
    if words and words[-1] == ":":  # "Korting: 10%"
        words.pop()
    before = words[-1] if words else ""
    if after in q["purity_not_before"] or before in q["purity_not_after"]:
        return None
    window = " ".join(t.lower_ for t in doc[max(start - 5, 0) : start] if not t.is_space)
    if any(phrase in window for phrase in q["purity_cut_phrases"]):
        return None  # "cut with benzocaine at 20%": the cutting agent's share
    if value >= float(q["purity_claim_from"]) and end < len(doc) and any(
            c.isalpha() for c in doc[end].text):  # "100% pure", "100% O.G. Kush"
        return None
    return None if _strain_share(doc, start, end, vocab) else value


def _plain(word: str) -> str:
    """A word without the mis-decoded decoration glued to it ("offäöƒ" -> "off"), so that
    the not-purity word lists still match; words of other scripts are kept whole."""
    head = re.match(r"[a-z0-9+]+", word)
    return head.group() if head and re.fullmatch(r"[a-z0-9+]+[äöüƒâ€™œ˜]+", word) else word


def _strain_share(doc: Doc, start: int, end: int, vocab: Vocabulary) -> bool:
    """A percent just after a strain type is the strain's share ("Sativa dominant (about
    75%)"), unless a potency word follows it ("Indica 22% THC")."""
    window = int(vocab.quantities["purity_strain_window"])
    tokens = [t.lower_ for t in doc[max(start - 2 * window, 0) : start] if not t.is_space]
    before = {w for t in (tokens[-window:] if window else []) for w in re.findall(
        r"[^\W\d_]+", t)}  # "-Sativa" is the word sativa
    after = doc[end].lower_ if end < len(doc) else ""
    return bool(before & vocab.words("purity_strain_words")) and after not in vocab.words(
        "purity_words")


def _multiplier_ok(doc: Doc, start: int, end: int, vocab: Vocabulary) -> bool:
    """Not "25x extract" (a strength), "#7 x" or "x 2-MMC" (part of a name), nor "2 times
    a week" (a word, not a multiplication sign)."""
    q = vocab.quantities
    after = {t.lower_ for t in doc[end : end + 2]}
    before = doc[start - 1].lower_ if start > 0 else ""
    num = start if _NUM.match(doc[start].text) else end - 1
    sign = doc[end - 1 if num == start else start].lower_
    percent = num + 1 < len(doc) and doc[num + 1].text == "%"  # "1-14gr x 86%"
    return not after.intersection(q["multiplier_not_before"]) and before not in q[
        "multiplier_not_after"] and sign in vocab.words("multiplier_symbols") and not _in_name(
        doc, num, vocab) and not percent


def _in_name(doc: Doc, i: int, vocab: Vocabulary) -> bool:
    """A number glued to a hyphen and a word: "2-MMC", "4-FA" name a substance."""
    return (i + 2 < len(doc) and not doc[i].whitespace_ and doc[i + 1].text == "-"
            and not doc[i + 1].whitespace_ and doc[i + 2].is_alpha
            and doc[i + 2].lower_ not in vocab.unit_of)


def _is_limit(doc: Doc, start: int, end: int, vocab: Vocabulary) -> bool:
    """A quantity that limits orders ("20 bars minimum", "up to 28 grams per order")."""
    words = vocab.words("limit_words")
    before = [t.lower_ for t in doc[max(start - 2, 0) : start]]
    after = doc[end].lower_ if end < len(doc) else ""
    return bool(before) and (before[-1] in words or " ".join(before) in words) \
        or after in words


def _new_item(doc: Doc, start: int, vocab: Vocabulary) -> bool:
    """A quantity opened by "&" or "and" names another item ("2x pills & 0.5g crystal")."""
    breaks = vocab.words("multiplier_breaks")
    return start > 0 and doc[start - 1].lower_ in breaks


def _each(doc: Doc, m: Mention, vocab: Vocabulary) -> bool:
    """A mass stated per counted item: "$20/cart/1gram", "0.5g each", "per pen 1g"."""
    words = vocab.words("per_item_counts") | vocab.words("each_words")
    return any(t.lower_ in words for t in doc[max(m.start - 2, 0) : m.end + 1])


def _whole_count(value: float | None, vocab: Vocabulary, least: int = 1) -> bool:
    """Whether a number read without a unit word can be a count of items: whole, at least
    `least`, at most the vocabulary's `bare_count_max`."""
    return value is not None and value.is_integer() and least <= value <= float(
        vocab.quantities["bare_count_max"])


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
        if _whole_count(value, vocab, least=2):
            return value
    return None


def _unit_free(tok_text: str, vocab: Vocabulary) -> bool:
    """Whether a token beside a bare count leaves it bare (no unit, strength, percent or
    currency)."""
    low = tok_text.lower()
    return low not in vocab.unit_of and low not in vocab.currency_of and low not in vocab.words(
        "percent_words") and low not in vocab.words("strength_units")


def option_count(doc: Doc, matches: list[tuple[str, int, int]], vocab: Vocabulary
                 ) -> float | None:
    """The smallest of count options stated without a unit word ("MDMA 220mg ★ 10 / 25 /
    50", "100ug tabs - 1 / 10 / 100"): whole numbers, rising, with no unit, percent or
    currency before or after the list."""
    for label, start, _ in matches:
        if label != "COUNT_OPTIONS":
            continue
        words = [t.lower_ for t in doc[max(start - 2, 0) : start] if not t.is_space]
        if words and words[-1] in ("/", "|"):  # "bars | 100 | 250": a list opened by a bar
            words.pop()
        if words and (_NUM.match(words[-1]) or words[-1] in vocab.currency_of):
            continue  # not the list's first number, or a price list ("£10 / 20 / 30")
        values, i = [], start
        while i < len(doc) and _NUM.match(doc[i].text):
            values.append(parse_number(doc[i].text))
            if i + 2 < len(doc) and doc[i + 1].text in "/|" and _NUM.match(doc[i + 2].text):
                i += 2
                continue
            i += 1
            break
        after = next((t for t in doc[i:] if not t.is_space), None)
        if after is not None and not _unit_free(after.text, vocab):
            continue
        if all(_whole_count(v, vocab) for v in values) and values == sorted(set(values)):
            return values[0]
    return None


def priced_count(doc: Doc, matches: list[tuple[str, int, int]], vocab: Vocabulary
                 ) -> float | None:
    """A count stated against its price without a unit word ("25 for £50")."""
    for label, start, _ in matches:
        if label != "COUNT_PRICE":
            continue
        before = doc[start - 1].lower_ if start else ""
        value = parse_number(doc[start].text)
        if before not in vocab.currency_of and _whole_count(value, vocab):
            return value
    return None


def single_container(doc: Doc, vocab: Vocabulary) -> bool:
    """Whether a title offers one container with no count stated ("10ml Vial", "Codein
    Saft 200ml Flasche", "Ozempic Pen"): SPEC counts it as one item."""
    singles = vocab.words("single_containers")
    return any(t.lower_ in singles and not (t.i > 0 and _NUM.match(doc[t.i - 1].text))
               for t in doc)


def gap_count(doc: Doc, matches: list[tuple[str, int, int]], vocab: Vocabulary,
              anywhere: bool = False) -> float | None:
    """A count parted from its unit word by a few words, opening a title ("3 feminized
    seeds", "250 high quality bars"); `anywhere`: after a "1 x" ("1 x sample pack, 38
    disposable pens"), at least two items anywhere in the title."""
    first = next((t.i for t in doc if not t.is_space), None)
    for label, start, _ in matches:
        if label == "GAP_COUNT" and (start == first or anywhere):
            value = parse_number(doc[start].text)
            if _whole_count(value, vocab, least=1 + anywhere):
                return value
    return None


def read_quantities(
    doc: Doc, matches: list[tuple[str, int, int]], counted: bool, vocab: Vocabulary,
    title: bool = True, liquid: bool = False,
) -> Quantities:
    """Apply the SPEC conventions to the matches of one doc. `counted`: dose context;
    `title`: whether the doc is a title (some count words only count there); `liquid`:
    a liquid is sold (its ounces are fluid ounces)."""
    out = Quantities()
    title_only = vocab.words("title_only_counts")
    mentions: list[Mention] = []
    # a slang phrase with a number ("9 bar") is a mass read by `slang_mass`, not a count
    taken: set[int] = {i for label, start, end in matches if label == "SLANG"
                       and _NUM.match(doc[start].text) for i in range(start, end)}
    qty = sorted((m for m in matches if m[0] in ("QTY", "DOSE_PER_ML", "PACK")),
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
        mention = read_pack(doc, start, end, vocab) if label == "PACK" else read_mention(
            doc[start:end], vocab)
        if mention is not None and liquid:
            mention = _fluid(mention, vocab)
        if mention is not None:
            skip = _is_limit(doc, start, end, vocab) or (not title and (
                mention.kind == "count" and doc[end - 1].lower_ in title_only
                or "bare" in mention.tags))  # "less than 40 packs": a title's "10 pack" only
            if not skip:
                mentions.append(mention)
            taken.update(range(start, end))
    multipliers = []
    for label, start, end in matches:
        if label == "MULTIPLIER" and not taken.intersection(range(start, end)) \
                and _multiplier_ok(doc, start, end, vocab):
            tokens = [t.text for t in doc[start:end]]  # "2.5k x": the magnitude scales
            shape = "".join(_classify(t, vocab) for t in tokens)
            value = next(iter(_numbers(tokens, shape, vocab)), None)
            if any("/" in t for t in tokens):  # "Percs 10/325 x 20": a strength, not a count
                continue
            if value is not None and value >= 1:
                multipliers.append((value, start, end))
    if any(m.kind == "count" and "bare" not in m.tags for m in mentions):
        # "3 pack (21 sachets)": the items counted, not the packs
        mentions = [m for m in mentions if "bare" not in m.tags]
    mentions.sort(key=lambda m: m.start)
    # a multiplier alone does not make "1x 600mg resin" a dose: a material sold by weight
    # is named and no counted item is
    powder = bool(multipliers) and _has_word(doc, "", vocab.words("mass_context")) \
        and not _has_word(doc, "", vocab.dose_context)
    counted = counted or (not powder and bool(multipliers)) or any(
        m.kind == "count" or "pack" in m.tags and m.count for m in mentions)
    multiplier = multipliers[0][0] if multipliers else None
    if multiplier is None:  # "1g (25 carts)": each cart holds the gram
        containers = frozenset(str(w) for w in vocab.quantities["per_item_counts"])
        multiplier = next((m.values[0] for m in mentions if m.kind == "count" and not m.tags
                           and doc[m.end - 1].lower_ in containers), None)
    # "10ml vial x 10", "5g bag x 2": the volume or mass each container counted holds
    # (SPEC: "5 x 10ml vials" is 50 ml); "1L (2 bottles)" may be the total, and stays
    filled = None if multiplier else next((
        m.values[0] for m in mentions if m.kind == "count" and "pack" in m.tags
        and "multipack" not in m.tags and m.values[0] >= 2 and any(
            _classify(t.text, vocab) == "T" for t in doc[m.start : m.end])), None)

    for m in mentions:
        if m.kind == "mass" and (m.unit == "ug" or (m.unit == "mg" and counted)):
            if out.dose_mg is None or (m.per_item is not None and m.count and math.isclose(
                    out.dose_mg, m.values[0] * 1000, rel_tol=0.01)):
                # "500mg per pack (10 x 50mg)": the pack's total, then the dose of each
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
        scale = multiplier or filled
        scale = scale if (scale and m.count is None and not _new_item(doc, m.start, vocab)) \
            else 1.0
        if m.kind == "mass" and not out.mass_options:
            out.mass_each = scale == 1.0 and _each(doc, m, vocab)
        options = out.mass_options if m.kind == "mass" else out.volume_options
        options.extend((v * scale, m.end) for v in m.values)
        if m.count is not None and out.units is None:
            out.units = m.count
    if out.unit_options:
        out.units = out.unit_options[0][0] if "range" not in _tags_at(mentions, "count") else min(
            v for v, _ in out.unit_options[:2])
        if _containers(doc, mentions, vocab):  # "x100 (10 strips)", "1 strip (10 tabs)"
            first = next(m.start for m in mentions if m.kind == "count")
            items = [v for v, *_ in multipliers] + [
                m.values[0] for m in mentions if m.kind == "count" and m.start > first
                and doc[m.end - 1].lower_ not in vocab.words("pack_words")]
            out.units = next((v for v in items if v > out.units and (v / out.units).is_integer()),
                             out.units)
    elif out.units is None and multiplier is not None:
        out.units = multiplier
        if counted and multipliers:  # "Zopiclone 7.5mg 2 x 14": two strips of fourteen
            out.units *= _bare_product(doc, *multipliers[0][1:], vocab) or 1
    if out.mass_options:
        out.mass_g = _primary(out.mass_options, mentions, "mass")
    if out.volume_options:
        out.volume_ml = _primary(out.volume_options, mentions, "volume")
    purity = sorted((m for m in matches if m[0] == "PURITY"), key=lambda m: (m[1], m[1] - m[2]))
    for _, start, end in purity:
        if out.purity_pct is None:
            out.purity_pct = _purity(doc, start, end, vocab)
    return out


def _bare_product(doc: Doc, start: int, end: int, vocab: Vocabulary) -> float | None:
    """The number a multiplier "N x" multiplies when no unit follows ("2 x 14" -> 14)."""
    if _classify(doc[start].text, vocab) != "N" or end >= len(doc) or not _NUM.match(
            doc[end].text):
        return None
    after = doc[end + 1].text if end + 1 < len(doc) else ""
    value = parse_number(doc[end].text)
    # a single letter after it makes the number part of a name ("20 x 25i NBOMe",
    # "250 x 2C-B": the normaliser has split "25i" and "2C")
    if value is None or not value.is_integer() or value < 1 or not _unit_free(after, vocab) \
            or _classify(after, vocab) in ("T", "M", "N") or after in ("/", "-", ".", ",") \
            or (len(after) == 1 and after.isalpha()):
        return None
    return value


def _containers(doc: Doc, mentions: list[Mention], vocab: Vocabulary) -> bool:
    """Whether the first count counts containers without saying what each holds ("10
    strips", "2 boxes")."""
    first = next((m for m in mentions if m.kind == "count"), None)
    return first is not None and "multipack" not in first.tags and doc[
        first.end - 1].lower_ in vocab.words("pack_words")


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

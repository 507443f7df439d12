"""The listing extractor: every SPEC section 4 field for a table of canonical listings.

Texts are tokenised with the blank spaCy tokenizer of their language (guessed from
spaCy's own stop-word lists) in `nlp.pipe` batches; the Matcher rules come from the
vocabulary. `ListingExtractor` follows scikit-learn's fit/transform conventions."""

from __future__ import annotations

import math
import re
from typing import Any

import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from spacy.tokens import Doc
from tqdm import tqdm

from pipeline.core.registry import Registry
from pipeline.core.substances import (
    SUBSTANCES_DIR,
    SubstanceVocabulary,
    matched_names,
    phrase_matcher,
)
from pipeline.extract.prices import Price, RateTable, currency_code, price_from_raw, read_prices
from pipeline.extract.quantities import (
    Quantities,
    bare_count,
    dose_context,
    gap_count,
    liquid_context,
    option_count,
    priced_count,
    read_quantities,
    single_container,
    slang_mass,
)
from pipeline.extract.shipping import Shipping
from pipeline.extract.vocab import Vocabulary, parse_number

FIELDS = [
    "units", "dose_mg", "mass_g", "volume_ml", "purity_pct", "price_amount", "price_currency",
    "price_eur", "price_per_g_eur", "ships_from", "ships_to", "ships_to_excluded", "offers",
    "substances",
]
_WORD = re.compile(r"[^\W\d_]+")
_BARE_NUMBER = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*$")
EXTRACTORS: Registry = Registry("extractor")


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


class ListingExtractor(BaseEstimator, TransformerMixin):
    """Rule-based extractor over spaCy tokens; `fit` only loads the vocabularies.

    `substances` (canonical names) come from the substance vocabulary's rules, the core
    recogniser's phrase matcher, on the same tokenised title and description. The trained
    NER is left to free text (`cryptodrug substances`): it would cut throughput below
    2,000 listings/s, and listings name substances by their vocabulary names."""

    def __init__(self, vocabulary: str = "conf/extraction/vocabulary",
                 languages: tuple[str, ...] = ("en", "nl", "fr", "de"), batch_size: int = 256,
                 btc_rates: str = "data/rates/btc_usd_daily.csv", max_chars: int = 20000,
                 progress: bool = False, substances: str = str(SUBSTANCES_DIR)) -> None:
        self.vocabulary = vocabulary
        self.languages = languages
        self.batch_size = batch_size
        self.btc_rates = btc_rates
        self.max_chars = max_chars
        self.progress = progress
        self.substances = substances

    def fit(self, X: pd.DataFrame | None = None, y: Any = None) -> ListingExtractor:  # noqa: N803
        self.vocab_ = Vocabulary.load(self.vocabulary, list(self.languages))
        self.vocab_.max_chars = self.max_chars
        self.pipes_ = self.vocab_.pipelines
        substances = SubstanceVocabulary.load(self.substances)
        self.substance_matchers_ = {lang: phrase_matcher(pipe.nlp, substances)
                                    for lang, pipe in self.pipes_.items()}
        self.shipping_ = Shipping(self.vocab_)
        self.rates_ = RateTable(self.btc_rates)
        self._price_cache: dict[tuple[str, str], Price | None] = {}
        return self

    # --- language -------------------------------------------------------------------------
    def language(self, text: str) -> str:
        """The configured language whose spaCy stop words cover most words; English on ties."""
        tokens = _WORD.findall(text.lower()[:2000])
        best, best_score = self.languages[0], 0
        for lang, pipe in self.pipes_.items():
            score = sum(1 for t in tokens if t in pipe.stop_words)
            if score > best_score:
                best, best_score = lang, score
        return best

    def _docs(self, texts: list[str], langs: list[str]) -> list[Doc]:
        """Tokenise each text with its language's tokenizer, batched per language."""
        docs: list[Doc | None] = [None] * len(texts)
        for lang, pipe in self.pipes_.items():
            idx = [i for i, lg in enumerate(langs) if lg == lang]
            stream = pipe.nlp.pipe((texts[i] for i in idx), batch_size=self.batch_size)
            for i, doc in zip(idx, stream, strict=True):
                docs[i] = doc
        return docs  # type: ignore[return-value]

    # --- one listing ----------------------------------------------------------------------
    def _matches(self, doc: Doc, lang: str) -> list[tuple[str, int, int]]:
        if not len(doc):
            return []
        pipe = self.pipes_[lang]
        strings = pipe.nlp.vocab.strings
        found = [(strings[m], s, e) for m, s, e in pipe.matcher(doc)]
        found += [(strings[m], s, e) for m, s, e in pipe.phrases(doc)]
        return sorted(found, key=lambda m: (m[1], m[2]))

    def _raw_price(self, price_raw: str, currency_raw: str) -> Price | None:
        key = (price_raw, currency_raw)
        bare = _BARE_NUMBER.match(price_raw)
        if bare:  # most exports give a plain number: no tokenizer needed
            value = parse_number(bare.group(1))
            if value is not None:
                return Price([value], currency_code(currency_raw, self.vocab_))
        if key not in self._price_cache:
            if len(self._price_cache) > 200_000:
                self._price_cache.clear()
            doc = self.pipes_["en"].nlp.make_doc(self.vocab_.normalise(price_raw))
            self._price_cache[key] = price_from_raw(doc, self._matches(doc, "en"), currency_raw,
                                                    self.vocab_)
        return self._price_cache[key]

    def extract_one(self, row: dict[str, Any], title: Doc, desc: Doc, lang: str) -> dict[str, Any]:
        """All fields of one listing from its tokenised title and description."""
        v = self.vocab_
        t_matches, d_matches = self._matches(title, lang), self._matches(desc, lang)
        extra = f"{_text(row.get('category_raw'))} {_text(row.get('price_raw'))}"
        counted = dose_context(title, extra, v) or dose_context(desc, "", v)
        liquid = liquid_context(title, extra, v) or liquid_context(desc, "", v)
        tq = read_quantities(title, t_matches, counted, v, liquid=liquid)
        dq = read_quantities(desc, d_matches, counted, v, title=False, liquid=liquid)
        out: dict[str, Any] = {}
        for name in ("mass_g", "units", "dose_mg", "volume_ml", "purity_pct"):
            value = getattr(tq, name)
            out[name] = value if value is not None else getattr(dq, name)
        if out["mass_g"] is None and out["units"] is None and out["volume_ml"] is None:
            out["mass_g"] = slang_mass(title, t_matches, v) or slang_mass(desc, d_matches, v)
        if counted and all(getattr(tq, f) is None for f in ("mass_g", "units", "volume_ml")):
            # count options in a title ("Xanax 2mg - 100 / 200 / 500", "25 for £50") win
            # over a description's packaging ("strips of 10")
            out["units"] = (option_count(title, t_matches, v)
                            or priced_count(title, t_matches, v) or out["units"])
        if counted and all(out[f] is None for f in ("mass_g", "units", "volume_ml")):
            out["units"] = bare_count(title, t_matches, v) or priced_count(desc, d_matches, v)
        if out["units"] is None:
            out["units"] = gap_count(title, t_matches, v)
        elif out["units"] == 1:  # "1 x sample pack, 38 pens": the pack holds the count
            out["units"] = gap_count(title, t_matches, v, anywhere=True) or 1
        if out["units"] is None and single_container(title, v):
            out["units"] = 1
        if out["units"] is not None:  # a count is a whole number of at least one item
            out["units"] = int(out["units"]) if 1 <= out["units"] < 2**62 else None
        title_units = tq.units is not None or dq.units is None
        if tq.mass_g is None and dq.mass_each and out["units"] and title_units \
                and out["mass_g"] == dq.mass_g and dose_context(title, "", v):
            out["mass_g"] = out["units"] * dq.mass_g  # "20 vapes" + "1 gram per cart"

        price = self._raw_price(_text(row.get("price_raw")), _text(row.get("currency_raw")))
        desc_prices = read_prices(desc, d_matches, v)
        table = _price_table(desc, dq, desc_prices, v)
        offers = _title_offers(tq, price) or table
        if price is None or price.currency is None:  # a bare number: read the text
            text_prices = read_prices(title, t_matches, v) or desc_prices
            price = text_prices[0] if text_prices else None
            if table:
                price = Price([table[0]["price"]], table[0]["currency"])
                _set_quantity(out, table[0])
        out["offers"] = offers
        out["price_amount"] = price.values[0] if price else None
        has_amount = price is not None and out["price_amount"] is not None
        out["price_currency"] = price.currency if has_amount else None
        if out["price_currency"] is None:
            out["price_amount"] = None
        out["price_eur"] = self.rates_.to_eur(out["price_amount"], out["price_currency"],
                                              _text(row.get("scraped_at")))
        mass = out["mass_g"]
        out["price_per_g_eur"] = (out["price_eur"] / mass if out["price_eur"] is not None
                                  and mass else None)

        origin, dests, excl = self.shipping_.raw_fields(_text(row.get("ships_from_raw")),
                                                        _text(row.get("ships_to_raw")))
        text = f"{title.text}\n{desc.text}"
        out["ships_from"] = (origin or self.shipping_.text_origin(text)
                             or self.shipping_.title_origin(title.text))
        out["ships_to"] = (dests or self.shipping_.text_destinations(text)
                           or self.shipping_.title_route(title.text)[1])
        excl = list(excl)  # the raw-field result is cached: never mutate it
        firm, outside = self.shipping_.text_exclusions(text)
        excl += [c for c in firm if c not in excl]
        # a place named as excluded is no destination ("Benelux; Luxemburg niet"), but a
        # destination is not excluded by an "outside" rule ("France uniquement, rien hors
        # de France")
        out["ships_to"] = [c for c in out["ships_to"] if c not in firm]
        excl += [c for c in outside if c not in excl and c not in out["ships_to"]]
        out["ships_to_excluded"] = self.shipping_.excluded(excl)
        out["substances"] = matched_names(self.substance_matchers_[lang], title, desc)
        return out

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:  # noqa: N803
        """`X` plus the extraction fields (docs/contracts.md); other columns untouched."""
        rows = X.to_dict("records")
        titles = [self.vocab_.normalise(_text(r.get("title"))) for r in rows]
        descs = [self.vocab_.normalise(_text(r.get("description"))) for r in rows]
        langs = [self.language(f"{t} {d}") for t, d in zip(titles, descs, strict=True)]
        title_docs, desc_docs = self._docs(titles, langs), self._docs(descs, langs)
        records = [
            self.extract_one(r, t, d, lg)
            for r, t, d, lg in tqdm(zip(rows, title_docs, desc_docs, langs, strict=True),
                                    total=len(rows), desc="extract", disable=not self.progress,
                                    unit="listing")
        ]
        fields = pd.DataFrame.from_records(records, columns=FIELDS, index=X.index)
        for name in ("dose_mg", "mass_g", "volume_ml", "purity_pct", "price_amount", "price_eur",
                     "price_per_g_eur"):
            fields[name] = pd.to_numeric(fields[name], errors="coerce").astype("float64")
        fields["units"] = pd.array(fields["units"], dtype="Int64")
        return pd.concat([X.drop(columns=[c for c in FIELDS if c in X.columns]), fields], axis=1)


def _unit_of_offer(kind: str) -> str:
    return {"mass": "g", "volume": "ml", "count": "units"}[kind]


def _title_offers(q: Quantities, price: Price | None) -> list[dict[str, Any]]:
    """(quantity, price) pairs stated by a title range and a price range, or one pair."""
    if price is None or price.currency is None:
        return []
    for kind, options in (("count", q.unit_options), ("mass", q.mass_options),
                          ("volume", q.volume_options)):
        if not options:
            continue
        quantities = sorted({v for v, _ in options})
        if len(quantities) >= 2 and len(price.values) >= 2:
            pairs = [(quantities[0], price.values[0]), (quantities[-1], price.values[-1])]
        else:
            primary = {"count": q.units, "mass": q.mass_g, "volume": q.volume_ml}[kind]
            if primary is None:
                return []
            pairs = [(primary, price.values[0])]
        return [{"quantity": float(a), "unit": _unit_of_offer(kind), "price": float(p),
                 "currency": price.currency} for a, p in pairs]
    return []


def _price_table(doc: Doc, q: Quantities, prices: list[Price],
                 v: Vocabulary) -> list[dict[str, Any]]:
    """Description tables such as `10g - 70 EUR / 25g - 160 EUR`: each quantity followed,
    within a few link words, by a price."""
    links = {str(w).lower() for w in v.prices["offer_links"]}
    offers = []
    for kind, options in (("mass", q.mass_options), ("count", q.unit_options),
                          ("volume", q.volume_options)):
        for value, end in options:
            nxt = next((p for p in prices if p.start >= end), None)
            if nxt is None or nxt.currency is None or nxt.start - end > 3:
                continue
            if all(t.lower_ in links for t in doc[end : nxt.start]):
                offers.append({"quantity": float(value), "unit": _unit_of_offer(kind),
                               "price": float(nxt.values[0]), "currency": nxt.currency})
    offers.sort(key=lambda o: (o["unit"], o["quantity"]))
    return offers if len(offers) >= 2 else []


def _set_quantity(out: dict[str, Any], offer: dict[str, Any]) -> None:
    """A table's smallest offer becomes the primary quantity when the text gives it."""
    field = {"g": "mass_g", "ml": "volume_ml", "units": "units"}[offer["unit"]]
    out[field] = int(offer["quantity"]) if field == "units" else offer["quantity"]


@EXTRACTORS.register("default")
def make_default(cfg: dict[str, Any]) -> ListingExtractor:
    """The spaCy rule extractor configured by the `extraction` params section."""
    return ListingExtractor(
        vocabulary=cfg.get("vocabulary", "conf/extraction/vocabulary"),
        languages=tuple(cfg.get("languages", ["en", "nl", "fr", "de"])),
        batch_size=int(cfg.get("batch_size", 256)),
        btc_rates=cfg.get("btc_rates", "data/rates/btc_usd_daily.csv"),
        max_chars=int(cfg.get("max_chars", 20000)),
        substances=cfg.get("substances", str(SUBSTANCES_DIR)),
    )


def extract_listings(df: pd.DataFrame, cfg: dict[str, Any],
                     progress: bool = False) -> pd.DataFrame:
    """Canonical listings (with or without category columns) -> + SPEC section 4 fields;
    `cfg` is the `extraction` params section."""
    extractor = EXTRACTORS.get(cfg.get("name", "default"))(cfg)
    extractor.progress = progress
    return extractor.fit().transform(df)

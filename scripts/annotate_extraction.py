"""Annotation helper for the extraction gold (data/gold/extraction/real.csv).

`prefill` draws a seeded sample of real listings from the public data and writes them,
WITH text, to a work file outside the project (never commit it), with the extractor's
output as candidate labels. `show` prints a batch for review. The annotator reads every
listing and corrects the labels in a corrections file (JSON: {"<file>:<row>": {field:
value}}); `finish` applies the corrections and writes the gold WITHOUT text: keys, text
hash, split and labels. The gold is the annotator's judgement; the prefill only saves typing.

    python scripts/annotate_extraction.py prefill -o /tmp/gold_work.jsonl
    python scripts/annotate_extraction.py show /tmp/gold_work.jsonl --start 0 --count 50
    python scripts/annotate_extraction.py finish /tmp/gold_work.jsonl corrections.json
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from pipeline.core.config import load_market_config, load_params, public_data_root
from pipeline.extract import extract_listings
from pipeline.extract.gold import LABEL_FIELDS, LIST_FIELDS, split_of, text_hash
from pipeline.ingest import expand_inputs, ingest_files

app = typer.Typer(add_completion=False)
QUANTITY_FIELDS = ("mass_g", "units", "dose_mg", "volume_ml", "purity_pct")

# (market config, folder under the public root, category filter regex, description only, n)
DRAWS = [
    ("darkmatter", "markets/darkmatter-2024", r"^(?!Digital|Guides|Services|Fraud|Other)",
     False, 90),
    ("drughub", "markets/drughub-2024", r"^Drugs", False, 80),
    ("agora", "markets/agora-2014", r"^Drugs", False, 45),
    ("agora", "markets/agora-2014", r"", True, 45),
    ("alphabay", "markets/alphabay-2017", r"^Drugs", False, 80),
    ("cryptomarketstudy", "markets/cryptomarketstudy-2019", r"", True, 60),
]
# Round 2 (targets shipping exclusions and descriptions): (market config, folder, column,
# regex the column must match, n). Listings already in the gold are never drawn again.
EXCLUSION_RE = (r"(?i)\b(?:except|excluding|no ship|not ship|do(?:n'?t| not) ship|no usa|"
                r"not to|no shipping|au(?:ss|ß)er|sauf|behalve|niet naar)")
DRAWS_2 = [
    ("agora", "markets/agora-2014", "ships_to_raw", EXCLUSION_RE, 20),
    ("agora", "markets/agora-2014", "description", EXCLUSION_RE, 15),
    ("agora", "markets/agora-2014", "description", r".", 10),
    ("cryptomarketstudy", "markets/cryptomarketstudy-2019", "description", EXCLUSION_RE, 12),
    ("dream", "html/dream/listings", "description", r".", 6),
    ("empire", "html/empire/listings", "description", r".", 12),
]
# Round 3 (targets units, purity and exclusions): counts, units and purity wording.
COUNT_RE = r"(?i)\b\d+\s*(?:x\b|pcs|pills|tabs|bars|blotters|vials|carts|caps)|\d\s*%"
DRAWS_3 = [
    ("agora", "markets/agora-2014", "description", COUNT_RE + "|" + EXCLUSION_RE[4:], 18),
    ("agora", "markets/agora-2014", "ships_to_raw", EXCLUSION_RE, 10),
    ("cryptomarketstudy", "markets/cryptomarketstudy-2019", "description",
     COUNT_RE + "|" + EXCLUSION_RE[4:], 12),
    ("darkmatter", "markets/darkmatter-2024", "title", COUNT_RE, 20),
]


# Round 4 (targets units and purity): counts with pill/tab/blotter/cart/piece words or
# multipliers in four languages, and percent claims (purity or not), drug listings only.
UNITS_RE = (r"(?i)\b\d+\s*(?:x\b|pcs|pills?|tabs?|tablets?|bars|blotters?|carts?|"
            r"cartridges|caps|capsules|stuks?|comprim[ée]s?|st[üu]ck|vials?|hits)\b|\bx\s*\d+\b")
PCT_RE = r"\d\s*%"
NON_DRUG_RE = (r"(?i)guide|digital|fraud|erotica|login|business|service|software|hacking|"
               r"tutorial|information|jewel|carded|counterfeit|security")
DRAWS_4 = [
    ("agora", "markets/agora-2014", "description", UNITS_RE, 25),
    ("agora", "markets/agora-2014", "description", PCT_RE, 25),
    ("cryptomarketstudy", "markets/cryptomarketstudy-2019", "description",
     UNITS_RE + "|" + PCT_RE, 15),
    ("alphabay", "markets/alphabay-2017", "title", UNITS_RE, 12),
    ("alphabay", "markets/alphabay-2017", "title", PCT_RE, 8),
    ("darkmatter", "markets/darkmatter-2024", "title", UNITS_RE, 8),
    ("darkmatter", "markets/darkmatter-2024", "title", PCT_RE, 8),
    ("drughub", "markets/drughub-2024", "title", UNITS_RE, 12),
    ("drughub", "markets/drughub-2024", "title", PCT_RE, 8),
    ("empire", "html/empire/listings", "description", r".", 3),
]


# Round 5 (targets purity_pct): percent signs and purity words in four languages (pure,
# puur, pureté, Reinheit, lab-tested, THC/CBD), including percents that are not purity
# (discounts, guarantees, reships), which are drawn on their own as well.
PURITY_RE = (r"(?i)\d\s*%|\bpur(?:e|ity|eté|ete|eza)?\b|\bpuur(?:heid)?\b|\bzuiver|"
             r"\breinheit|\blab[- ]?test|\btested\b|\bthc\b|\bcbd\b")
NOT_PURITY_RE = (r"(?i)\d\s*%\s*(?:off|discount|korting|rabatt|remise|refund|reship|"
                 r"satisf|money|guarant|escrow|fe\b|bonus|extra|more|less|cheaper)")
DRAWS_5 = [
    ("agora", "markets/agora-2014", "description", PURITY_RE, 15),
    ("agora", "markets/agora-2014", "description", NOT_PURITY_RE, 6),
    ("agora", "markets/agora-2014", "title", PURITY_RE, 10),
    ("cryptomarketstudy", "markets/cryptomarketstudy-2019", "description", PURITY_RE, 14),
    ("alphabay", "markets/alphabay-2017", "title", PURITY_RE, 20),
    ("darkmatter", "markets/darkmatter-2024", "title", PURITY_RE, 15),
    ("drughub", "markets/drughub-2024", "title", PURITY_RE, 20),
]

# Round 6 (targets purity_pct again): most draws need a digit before a percent sign, ranges
# ("85-90%") and bracketed percents included; percents that are not purity (discounts,
# guarantees, overweight, THC of edibles) are drawn on their own.
PCT_WORD_RE = r"(?i)\d\s*%|\d\s*percent|\bpur(?:e|ity|eté|ete)\b|\bpuur|\breinheit"
NOT_PURITY_6_RE = (NOT_PURITY_RE + r"|over\s?weigh|\d\s*%\s*(?:of|on|back|free|sale|"
                   r"satisf)|(?:edible|gumm(?:y|ies)|brownie|cookie|chocolate)[\s\S]*\d\s*%")
DRAWS_6 = [
    ("agora", "markets/agora-2014", "description", PCT_RE, 14),
    ("agora", "markets/agora-2014", "description", NOT_PURITY_6_RE, 8),
    ("agora", "markets/agora-2014", "title", PCT_WORD_RE, 10),
    ("cryptomarketstudy", "markets/cryptomarketstudy-2019", "description", PCT_RE, 14),
    ("alphabay", "markets/alphabay-2017", "title", PCT_RE, 14),
    ("alphabay", "markets/alphabay-2017", "title", PCT_WORD_RE, 6),
    ("darkmatter", "markets/darkmatter-2024", "title", PCT_WORD_RE, 17),
    ("drughub", "markets/drughub-2024", "title", PCT_WORD_RE, 17),
]


def _draws(round_: int) -> list[tuple[str, str, str, str, int]]:
    if round_ in (2, 3, 4, 5, 6):
        return {2: DRAWS_2, 3: DRAWS_3, 4: DRAWS_4, 5: DRAWS_5, 6: DRAWS_6}[round_]
    return [(m, f, "description" if d else "category_raw", r"." if d else pattern, n)
            for m, f, pattern, d, n in DRAWS]


@app.command()
def prefill(out: Annotated[Path, typer.Option("-o")], seed: int = 7, round_: Annotated[
        int, typer.Option("--round")] = 1,
        gold: Path = Path("data/gold/extraction/real.csv")) -> None:
    root = public_data_root()
    if root is None:
        raise typer.BadParameter("public data absent")
    done = set()
    if round_ > 1 and gold.exists():
        old = pd.read_csv(gold)
        done = set(zip(old["source_file"], old["source_row"], strict=True))
    frames, seen = [], set()
    for market, folder, column, pattern, n in _draws(round_):
        cfg = load_market_config(market)
        listings = ingest_files(expand_inputs([root / folder], cfg), cfg).listings
        keys = list(zip(listings["source_file"], listings["source_row"].astype(int),
                        strict=True))
        texts = listings["title"].fillna("") + "\x1f" + listings["description"].fillna("")
        if round_ >= 5:  # a text already read (a re-scrape of a gold listing) is not redrawn
            seen |= {t for t, k in zip(texts, keys, strict=True) if k in done}
        listings = listings[[k not in done and t not in seen
                             for k, t in zip(keys, texts, strict=True)]]
        pool = listings[listings[column].fillna("").str.contains(pattern, regex=True)]
        if round_ >= 4:
            pool = pool[~pool["category_raw"].fillna("").str.contains(NON_DRUG_RE)]
        if round_ >= 5:
            pool = pool.loc[texts[pool.index].drop_duplicates().index]
        pick = pool.sample(n=min(n, len(pool)), random_state=seed)
        # the gold folder is the one the source_file is relative to (html: "listings/x")
        base = [str(Path(folder).parents[len(Path(f).parts) - 2]) if "/" in f else folder
                for f in pick["source_file"]]
        frames.append(pick.assign(market_config=market, folder=base))
        done |= set(zip(pick["source_file"], pick["source_row"].astype(int), strict=True))
        seen |= set(texts[pick.index])
    sample = pd.concat(frames, ignore_index=True)
    labelled = extract_listings(sample, load_params()["extraction"])
    labelled["text_hash"] = sample.apply(text_hash, axis=1)
    labelled.to_json(out, orient="records", lines=True, force_ascii=False)
    typer.echo(f"{len(labelled)} listings -> {out}")


@app.command()
def show(work: Path, start: int = 0, count: int = 50, desc_chars: int = 1500,
         blind_test: bool = False, heldout_fraction: float = 0.5) -> None:
    """`--blind-test` hides the quantity candidates of held-out listings, so that the
    annotator labels them from the text alone and never sees the extractor's errors there."""
    rows = pd.read_json(work, lines=True, dtype=False).iloc[start : start + count]
    for _, r in rows.iterrows():
        key = f"{r.source_file}:{r.source_row}"
        split = split_of(r.text_hash, heldout_fraction)
        typer.echo(f"## {key} [{r.market_config}] [{split}] T: {r.title}")
        if r.description:
            typer.echo(f"   D: {str(r.description)[:desc_chars]}")
        typer.echo(f"   P: {r.price_raw} {r.currency_raw} | F: {r.ships_from_raw} | "
                   f"TO: {r.ships_to_raw} | C: {r.category_raw}")
        hidden = QUANTITY_FIELDS if blind_test and split == "test" else ()
        labels = {f: r[f] for f in LABEL_FIELDS
                  if r[f] not in (None, []) and r[f] == r[f] and f not in hidden}
        typer.echo(f"   => {json.dumps(labels, ensure_ascii=False)}")


@app.command()
def finish(work: Path, corrections: Path, out: Path = Path("data/gold/extraction/real.csv"),
           heldout_fraction: float = 0.5, append: bool = False, blind_test: bool = False) -> None:
    """Write the gold; `--append` adds a later round's listings to the existing file.
    `--blind-test`: held-out quantity labels come from the corrections alone (as shown)."""
    rows = pd.read_json(work, lines=True, dtype=False)
    fixes = json.loads(corrections.read_text())
    records = []
    for _, r in rows.iterrows():
        key = f"{r.source_file}:{r.source_row}"
        split = split_of(r.text_hash, heldout_fraction)
        hidden = QUANTITY_FIELDS if blind_test and split == "test" else ()
        labels = {f: None if f in hidden else r[f] for f in LABEL_FIELDS}
        labels.update(fixes.get(key, {}))
        for f in LIST_FIELDS:
            labels[f] = json.dumps(list(labels[f] or []))
        records.append({"market_config": r.market_config, "folder": r.folder,
                        "source_file": r.source_file, "source_row": int(r.source_row),
                        "text_hash": r.text_hash, "split": split,
                        **labels})
    gold = pd.DataFrame(records)
    if append and out.exists():
        old = pd.read_csv(out, dtype=str, keep_default_na=False)
        gold = pd.concat([old, gold.astype(str).replace({"nan": "", "None": ""})],
                         ignore_index=True).drop_duplicates(["source_file", "source_row"],
                                                            keep="last")
    gold.to_csv(out, index=False)
    typer.echo(f"{len(gold)} gold rows ({(gold.split == 'test').sum()} held out) -> {out}")


if __name__ == "__main__":
    app()

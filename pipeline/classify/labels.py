"""Labels and model text for the listing classifier (SPEC section 3).

Labels come from the markets themselves: each market config's `category_map` maps its own
category paths (or path prefixes) to taxonomy ids; ambiguous paths map to null and stay
unlabelled. Label noise is handled here too: texts two markets label differently are left
out, and reposts count once.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from pipeline.core.config import CONF_DIR
from pipeline.core.io import InputError
from pipeline.core.text import content_keys

TAXONOMY_FILE = CONF_DIR / "taxonomy.yaml"
MARKETS_DIR = CONF_DIR / "markets"
# column naming the market config whose category_map labels a row (else `market` is used)
CONFIG_COLUMN = "market_config"
_TAG = re.compile(r"<[^>]{0,500}>")
_SPACE = re.compile(r"\s+")
_BOUNDARY = re.compile(r"\s*[>»/|:-]")


@dataclass(frozen=True)
class Taxonomy:
    version: str
    ids: tuple[str, ...]


def load_taxonomy(path: str | Path = TAXONOMY_FILE) -> Taxonomy:
    data = yaml.safe_load(Path(path).read_text())
    return Taxonomy(version=str(data["version"]), ids=tuple(data["categories"]))


def _norm_path(path: str) -> str:
    return _SPACE.sub(" ", str(path)).strip().casefold()


class CategoryMap:
    """One market's category paths -> taxonomy ids. A key matches a path exactly or as a
    prefix ending at a segment boundary (` > `, ` » `, ` - `, `/`); the longest key wins,
    so `Drugs > Cannabis: cannabis` covers `Drugs > Cannabis > Hash` unless a longer key
    says otherwise. A null value marks an ambiguous path: unlabelled."""

    def __init__(self, mapping: dict[str, str | None], taxonomy: Taxonomy, source: str) -> None:
        unknown = sorted({v for v in mapping.values() if v is not None and v not in taxonomy.ids})
        if unknown:
            raise InputError(
                f"{source}: category_map uses unknown taxonomy ids {', '.join(unknown)} "
                f"(known: {', '.join(taxonomy.ids)})"
            )
        self.entries = sorted(
            ((_norm_path(k), v) for k, v in mapping.items()), key=lambda kv: -len(kv[0])
        )
        self._cache: dict[str, str | None] = {}

    def __call__(self, path: str) -> str | None:
        if path not in self._cache:
            self._cache[path] = self._lookup(_norm_path(path))
        return self._cache[path]

    def _lookup(self, path: str) -> str | None:
        for key, value in self.entries:
            if path == key or (path.startswith(key) and _BOUNDARY.match(path, len(key))):
                return value
        return None


def load_category_maps(
    extra: Iterable[str | Path] = (), taxonomy: Taxonomy | None = None
) -> dict[str, CategoryMap]:
    """Every market config's `category_map` (conf/markets plus extra YAML files or
    folders, e.g. a new market a researcher is trying), keyed by config name."""
    taxonomy = taxonomy or load_taxonomy()
    files = sorted(MARKETS_DIR.glob("*.yaml"))
    for item in extra:
        item = Path(item)
        if not item.exists():
            raise InputError(f"{item}: no such market config")
        files.extend(sorted(item.glob("*.yaml")) if item.is_dir() else [item])
    maps = {}
    for path in files:
        cfg = yaml.safe_load(path.read_text()) or {}
        if cfg.get("category_map"):
            maps[cfg.get("name", path.stem)] = CategoryMap(cfg["category_map"], taxonomy, str(path))
    return maps


def _map_keys(listings: pd.DataFrame, maps: dict[str, CategoryMap]) -> pd.Series:
    """The category map each row is labelled by: its `market_config` (the ingested table's
    config) where that has a map, else its market."""
    keys = listings[CONFIG_COLUMN] if CONFIG_COLUMN in listings else listings["market"]
    return keys.where(keys.isin(list(maps)), listings["market"])


def label_listings(listings: pd.DataFrame, maps: dict[str, CategoryMap]) -> pd.Series:
    """The taxonomy id each listing's market category maps to; None where unmapped. A row's
    map is that of its `market_config` (the ingested table's config) or else its market."""
    keys = _map_keys(listings, maps)
    labels = [
        maps[key](path) if key in maps else None
        for key, path in zip(keys, listings["category_raw"].fillna(""), strict=True)
    ]
    return pd.Series(labels, index=listings.index, dtype=object)


def listing_text(listings: pd.DataFrame, max_chars: int = 1000) -> pd.Series:
    """Title + description as one string: HTML tags and entities removed, whitespace
    collapsed, cut to `max_chars` (a 1 MB description costs no more than a short one)."""
    title = listings["title"].fillna("").astype(str).str.slice(0, max_chars)
    if "description" in listings:
        description = listings["description"].fillna("").astype(str).str.slice(0, 4 * max_chars)
    else:
        description = pd.Series("", index=listings.index)
    text = (title + " \n " + description).str.replace(_TAG, " ", regex=True).map(html.unescape)
    return text.str.replace(_SPACE, " ", regex=True).str.strip().str.slice(0, max_chars)


def labelled_data(listings: pd.DataFrame, maps: dict[str, CategoryMap],
                  max_chars: int = 1000) -> tuple[pd.DataFrame, dict[str, int]]:
    """The training table (`text`, `label`, `market`, `path`, `scraped_at`, `group`) and
    what was set aside.

    Label noise is handled deliberately here: a text that its markets label with two
    different ids is dropped (the labels contradict each other), and repeats of one text
    within a market (vendor spam) count once, so no listing weighs more for being reposted.
    `group` (a text hash) keeps identical texts on one side of every split."""
    keys = _map_keys(listings, maps)
    data = pd.DataFrame({
        "text": listing_text(listings, max_chars),
        "label": label_listings(listings, maps),
        "market": keys,
        "path": listings["category_raw"].fillna("").astype(str),
        "scraped_at": listings.get("scraped_at", pd.Series("", index=listings.index))
        .fillna("").astype(str),
    })
    counts = {"rows": len(data), "unlabelled": int(data["label"].isna().sum())}
    data = data[data["label"].notna()]
    counts["no_text"] = int(data["text"].eq("").sum())
    data = data[data["text"].ne("")].assign(group=lambda d: content_keys(d["text"]))
    conflicting = data.groupby("group")["label"].transform("nunique").gt(1)
    counts["conflicting_labels"] = int(conflicting.sum())
    data = data[~conflicting]
    deduped = data.drop_duplicates(["market", "group"])
    counts["duplicates"] = len(data) - len(deduped)
    counts["labelled"] = len(deduped)
    return deduped.reset_index(drop=True), counts


def per_market_sample(data: pd.DataFrame, max_rows: int, seed: int) -> pd.DataFrame:
    """At most `max_rows` labelled rows of each market, the same rows for every model
    (so that models too slow for the full data are compared on identical splits)."""
    return pd.concat(
        group.sample(min(len(group), max_rows), random_state=seed)
        for _, group in data.groupby("market", sort=True)
    ).reset_index(drop=True)

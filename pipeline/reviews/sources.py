"""Sources of rated reviews, chosen by name in `data.reviews.sources`, and the labelled
review corpus built from them."""

from __future__ import annotations

import glob
import re
from pathlib import Path

import pandas as pd

from pipeline.core.corpus import Source, has_words, read_canonical, read_sources, split_by_reason
from pipeline.core.registry import Registry
from pipeline.reviews.labels import rating_to_label

REVIEW_COLUMNS = ("review_id", "text", "rating", "rating_scale", "vendor", "market", "ships_from")
REVIEW_SOURCES: Registry[Source] = Registry("review source")

_AGORA_ENTRY = re.compile(r"^\s*(\d+)/5\s*\n[ \t]*(.*?)\s*\n\s*\n\s*\n\s*[^\n]*\bago\b", re.M)


def parse_agora_feedback(raw: str) -> list[tuple[int, str]]:
    """Agora's feedback cell -> [(score 0..5, text)]; the page layout is fixed."""
    return [(int(m.group(1)), m.group(2).strip()) for m in _AGORA_ENTRY.finditer(str(raw))]


@REVIEW_SOURCES.register("canonical")
def load_canonical(path: Path) -> pd.DataFrame:
    """A table already in the review schema (review_id, text, optional rating ...)."""
    return read_canonical(path, "review_id", "review")


@REVIEW_SOURCES.register("trust")
def load_trust(path: Path) -> pd.DataFrame:
    """trust-in-illicit-markets: Buyer, Seller, Date, rating (-5..5), review_text."""
    raw = pd.read_csv(path)
    return pd.DataFrame(
        {
            "review_id": [f"trust:{i}" for i in raw.index],
            "text": raw["review_text"].fillna("").astype(str),
            "rating": raw["rating"].astype(float),
            "rating_scale": "pm5",
            "vendor": raw["Seller"].astype(str),
            "market": "trust2017",
            "ships_from": "",
            "source": "trust",
        }
    )


@REVIEW_SOURCES.register("agora_feedback")
def load_agora_feedback(folder: Path) -> pd.DataFrame:
    """Agora 2014 listing pages: every `n/5` feedback entry becomes one review."""
    rows = []
    for file in sorted(glob.glob(str(Path(folder) / "products-*.csv"))):
        raw = pd.read_csv(file, dtype=str, keep_default_na=False)
        for listing, vendor, feedback, origin in zip(
            raw["list"], raw["vendor"], raw["feedback"], raw["from"], strict=True
        ):
            for k, (score, text) in enumerate(parse_agora_feedback(feedback)):
                rows.append(
                    {
                        "review_id": f"agora:{listing}:{k}",
                        "text": text,
                        "rating": float(score),
                        "rating_scale": "five",
                        "vendor": vendor,
                        "market": "agora",
                        "ships_from": " ".join(origin.split()),
                        "source": "agora",
                    }
                )
    return pd.DataFrame(rows, columns=[*REVIEW_COLUMNS, "source"])


def build_corpus(
    root: Path, sources: dict[str, str], scales: dict[str, dict]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Labelled review corpus from configured sources -> (kept, quarantined).

    Agora repeats the same feedback on every snapshot of a listing: repeats of
    (vendor, text, rating) are set aside as duplicates, as are empty texts and ratings
    outside their scale."""
    corpus = read_sources(root, sources, REVIEW_SOURCES)
    corpus["rating_scale"] = corpus.get("rating_scale", "pm5")
    corpus["rating_scale"] = corpus["rating_scale"].fillna("pm5").replace("", "pm5")
    for column in ("vendor", "market", "ships_from"):
        if column not in corpus:
            corpus[column] = ""
        corpus[column] = corpus[column].fillna("").astype(str)
    corpus["text"] = corpus["text"].fillna("").astype(str)
    reasons = pd.Series("", index=corpus.index)
    reasons[~corpus["text"].map(has_words)] = "empty text"
    labels = []
    for rating, scale, row in zip(
        corpus["rating"], corpus["rating_scale"], corpus.index, strict=True
    ):
        try:
            labels.append(rating_to_label(float(rating), scales[scale]))
        except (ValueError, TypeError) as err:
            labels.append("")
            if not reasons[row]:
                reasons[row] = f"no usable rating: {err}"
    corpus["label"] = labels
    duplicate = corpus.duplicated(["vendor", "text", "rating"]) & reasons.eq("")
    reasons[duplicate] = "duplicate of an earlier review (same vendor, text, rating)"
    return split_by_reason(corpus, reasons)

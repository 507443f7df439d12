"""Sources of forum posts, chosen by name in `data.forums.sources`, and the post corpus
built from them (with text hashes, the keys stored labels are checked against)."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pandas as pd

from pipeline.core.corpus import Source, has_words, read_canonical, read_sources, split_by_reason
from pipeline.core.registry import Registry
from pipeline.core.text import content_key

FORUM_SOURCES: Registry[Source] = Registry("forum source")

_SPACE_BEFORE = re.compile(r"\s+([.,!?;:)'’])")


@FORUM_SOURCES.register("canonical")
def load_canonical(path: Path) -> pd.DataFrame:
    """A table already in the post schema (post_id, text)."""
    return read_canonical(path, "post_id", "post")


@FORUM_SOURCES.register("reddit_drugs_ner")
def load_reddit_drugs_ner(path: Path) -> pd.DataFrame:
    """explosion/projects ner_drugs: Prodigy JSONL of drug-subreddit comments."""
    rows = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            rows.append(
                {
                    "post_id": f"drugsner:{record['_input_hash']}",
                    "text": record["text"],
                    "forum": record.get("meta", {}).get("section", ""),
                    "source": "reddit_drugs_ner",
                }
            )
    return pd.DataFrame(rows).drop_duplicates("post_id").reset_index(drop=True)


@FORUM_SOURCES.register("reddit_impacts")
def load_reddit_impacts(path: Path) -> pd.DataFrame:
    """SMM4H 2026 task 7 (Reddit opioid posts): the token lists joined back to text."""
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    texts = []
    for cell in raw["tokens"]:
        tokens = [t for t in ast.literal_eval(cell) if t not in ('""', "submission_subreddit")]
        texts.append(_SPACE_BEFORE.sub(r"\1", " ".join(tokens)))
    return pd.DataFrame(
        {"post_id": "impacts:" + raw["ID"], "text": texts, "forum": "", "source": "reddit_impacts"}
    )


def build_corpus(root: Path, sources: dict[str, str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Posts from the configured sources -> (kept, quarantined: empty texts, repeats)."""
    corpus = read_sources(root, sources, FORUM_SOURCES)
    corpus["text"] = corpus["text"].fillna("").astype(str)
    corpus["text_sha"] = corpus["text"].map(content_key)
    reasons = pd.Series("", index=corpus.index)
    reasons[~corpus["text"].map(has_words)] = "empty text"
    reasons[corpus.duplicated("post_id") & reasons.eq("")] = "duplicate post_id"
    return split_by_reason(corpus, reasons)

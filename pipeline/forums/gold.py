"""The labelled set of harm-reduction content: the project's annotation of real posts
(labels keyed by post id + text hash, never the text) and its own NL/FR/DE examples."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipeline.core.corpus import check_stored_labels
from pipeline.core.io import InputError, require_columns


def label_matrix(labels: pd.Series, names: list[str]) -> np.ndarray:
    """';'-joined label strings -> bool matrix."""
    sets = [set(filter(None, str(v).split(";"))) for v in labels.fillna("")]
    return np.array([[name in s for name in names] for s in sets], dtype=bool).reshape(
        len(sets), len(names)
    )


def join_gold(corpus: pd.DataFrame, gold: pd.DataFrame, where: object = "labels") -> pd.DataFrame:
    """Attach stored labels to the posts' text by post id; a missing post or a changed
    text (hash mismatch) is an error, not a silent relabel."""
    text = corpus.drop_duplicates("post_id").set_index("post_id")["text"]
    check_stored_labels(gold, text, where, "post_id", noun="labelled posts")
    return gold.assign(text=text[gold["post_id"]].to_numpy())


def load_gold(corpus: pd.DataFrame, cfg: dict[str, Any]) -> pd.DataFrame:
    """Annotated real posts (labels by id + hash) and the project's own examples."""
    if "labels" in corpus.columns:  # a corpus that carries its own labels (the sample)
        real = corpus.assign(labels=corpus["labels"].fillna(""))
        real["split"] = real.get("split", pd.Series("train", index=real.index)).fillna("train")
    else:
        path = cfg["gold"]["labels"]
        stored = pd.read_csv(path, dtype=str, keep_default_na=False)
        column = cfg.get("label_column", "labels")
        require_columns(stored, ("post_id", "text_sha", column, "split"), path, what="label")
        real = join_gold(corpus, stored.assign(labels=stored[column]), path)
    own = pd.read_csv(cfg["gold"]["own_examples"], dtype=str, keep_default_na=False).assign(
        source="own"
    )
    return pd.concat([real, own, *written_posts(cfg["gold"].get("written"), list(cfg["labels"]))],
                     ignore_index=True)


def written_posts(folder: str | None, names: list[str]) -> list[pd.DataFrame]:
    """Labelled posts written for the project by independent writers
    (`<writer>.csv`: post_id, lang, text, hr_labels), always trained on. A label outside
    `names` is an InputError: `label_matrix` would drop it silently."""
    tables = []
    for path in sorted(Path(folder).glob("*.csv")) if folder else []:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
        require_columns(table, ("post_id", "lang", "text", "hr_labels"), path, what="post")
        unknown = table["hr_labels"].map(lambda cell: bool(
            {x.strip() for x in cell.split(";") if x.strip()} - set(names)))
        if unknown.any():
            raise InputError(f"{path}: post {table.loc[unknown, 'post_id'].iloc[0]}: labels "
                             f"must be among {', '.join(names)}")
        tables.append(table.rename(columns={"hr_labels": "labels"})
                      .assign(source="written", split="train", writer=path.stem))
    return tables

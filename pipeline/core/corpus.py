"""Labelled text corpora shared by the reviews and forums stages: configured sources read
into one table, unusable rows set aside with a reason, and stored labels (keys + text hash,
never the text) checked against the texts they label.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline.core.io import InputError, quarantine_frame, read_table_with_columns
from pipeline.core.registry import Registry
from pipeline.core.text import content_key

_WORD = re.compile(r"\w", re.UNICODE)

Source = Callable[[Path], pd.DataFrame]


def has_words(text: str) -> bool:
    """Whether a text holds any word character (emoji-only and blank texts do not)."""
    return bool(_WORD.search(str(text)))


def config_section(params: dict[str, Any], name: str) -> dict[str, Any]:
    """One stage's group of the loaded params, or a one-line error naming it."""
    if name not in params:
        raise InputError(f"params lack a `{name}` group (run `python scripts/compose_params.py`)")
    return params[name]


def configured_sources(params: dict[str, Any], name: str) -> tuple[Path, dict[str, str]]:
    """`data.root` and `data.<name>.sources` (source name -> path under the root)."""
    sources = params.get("data", {}).get(name, {}).get("sources", {})
    if not sources:
        raise InputError(f"params lack `data.{name}.sources`")
    return Path(params["data"]["root"]), sources


def read_sources(root: Path, sources: dict[str, str], registry: Registry[Source]) -> pd.DataFrame:
    """Every configured source read by its registered reader, concatenated in order."""
    frames = []
    for name, rel in sources.items():
        path = Path(root) / rel
        if not path.exists():
            raise InputError(f"{path}: {registry.kind} {name!r} not found")
        frames.append(registry.get(name)(path))
    return pd.concat(frames, ignore_index=True)


def read_canonical(path: Path, key: str, what: str) -> pd.DataFrame:
    """A table already in a stage's schema (`key`, text ...), its file stem as `source`."""
    frame = read_table_with_columns(path, {key, "text"}, what)
    return frame.assign(source=Path(path).stem)


def split_by_reason(corpus: pd.DataFrame, reasons: pd.Series) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(rows without a reason, the others quarantined with theirs), both re-indexed."""
    keep = reasons.eq("")
    kept = corpus[keep].reset_index(drop=True)
    quarantined = quarantine_frame(corpus[~keep].assign(reason=reasons[~keep]))
    return kept, quarantined.reset_index(drop=True)


def check_stored_labels(
    labels: pd.DataFrame,
    texts: pd.Series,
    where: object,
    key: str,
    noun: str = "labelled texts",
    outside: str = "not in the corpus",
    since: str = "labelling",
    hint: str = "",
) -> None:
    """Stored labels (`key` + `text_sha` columns) against `texts` indexed by key: a label
    whose text is absent, or whose text changed (hash mismatch), is an InputError, so a
    label is never re-attached to a text it was not given for. `noun`, `outside`, `since`
    and `hint` word the message."""
    absent = ~labels[key].isin(texts.index)
    if absent.any():
        raise InputError(
            f"{where}: {int(absent.sum())} {noun} {outside} "
            f"(e.g. {labels.loc[absent, key].iloc[0]}){hint}"
        )
    now = texts[labels[key]].map(content_key).to_numpy()
    changed = labels["text_sha"].to_numpy() != now
    if changed.any():
        raise InputError(
            f"{where}: {int(changed.sum())} {noun} changed text since {since} "
            f"(hash mismatch, e.g. {labels.loc[changed, key].iloc[0]})"
        )

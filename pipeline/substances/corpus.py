"""Annotated text for the recogniser: Prodigy JSONL (`text` + character `spans`) read into
plain records, and a train/test split by content hash so a text and its copies stay on one
side whatever the file order."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pipeline.core.io import InputError
from pipeline.core.substances import LABEL
from pipeline.core.text import content_key

Record = dict[str, Any]


def read_prodigy(path: str | Path, label: str = LABEL) -> list[Record]:
    """Accepted Prodigy tasks as `{text, spans: [(start, end)]}`; spans of other labels and
    rejected tasks are left out (counted in the error only when nothing is usable)."""
    records: list[Record] = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as err:
        raise InputError(f"{path}: not readable ({err})") from err
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            task = json.loads(line)
        except ValueError as err:
            raise InputError(f"{path}:{number}: not JSON ({err})") from err
        if not isinstance(task, dict) or not isinstance(task.get("text"), str):
            raise InputError(f"{path}:{number}: a task needs a `text` string")
        if task.get("answer", "accept") != "accept":
            continue
        spans = sorted((int(s["start"]), int(s["end"])) for s in task.get("spans") or []
                       if s.get("label", label) == label)
        records.append({"text": task["text"], "spans": spans})
    if not records:
        raise InputError(f"{path}: no accepted annotated texts")
    return records


def split_by_hash(records: list[Record], test_share: float) -> tuple[list[Record], list[Record]]:
    """(train, test): a record is held out when its case-folded text's content key falls in
    the first `test_share` of the key space."""
    cut = int(test_share * 16**8)
    held = [int(content_key(r["text"].casefold(), 8), 16) < cut for r in records]
    return ([r for r, h in zip(records, held, strict=True) if not h],
            [r for r, h in zip(records, held, strict=True) if h])

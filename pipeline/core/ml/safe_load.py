"""Saving and loading fitted models as skops files: deterministic bytes out, and an exact
allowlist of types in.

skops reconstructs objects by importing the types its `schema.json` names, so whoever writes
the file chooses what runs on load. Trusting type *prefixes* (`builtins.`, `numpy.`, ...)
lets a crafted file call `builtins.exec` or `builtins.eval` through a node skops builds
from a name; only the exact types this project's models are made of are trusted here,
and anything else is refused before a single object is built.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pipeline.core.io import InputError, first_line

# A fixed timestamp for every archive entry (the earliest a zip can hold), so two saves of
# the same model give the same bytes.
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)

# Attributes that only cache a run-dependent value and are recomputed when absent:
# scikit-learn's vectorizers store `id(self.stop_words)` (a memory address).
_RUN_DEPENDENT_ATTRIBUTES = ("_stop_words_id",)

# The exact types, beyond those skops trusts by default (plain containers and scalars, numpy
# arrays and dtypes, scikit-learn's public estimators), that the project's saved models
# contain: collected by saving every model kind it trains (linear and sentence-embedding
# listing classifiers, the sentiment n-gram and MiniLM models, the harm-reduction model,
# the theme coder) and recording `skops.io.get_untrusted_types` of each file their save
# tests wrote. The review model's embedder is code in this package, not in the file.
# Nothing callable from builtins, os, importlib, operator or functools belongs here.
ALLOWED_TYPES: frozenset[str] = frozenset({
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "pipeline.reviews.ngram.SentenceEmbedder",
})


def save_skops(obj: object, path: str | Path, compressed: bool = True) -> Path:
    """Write `obj` as a skops file whose bytes depend only on the object: archive entries
    sorted, with a fixed timestamp, and skops's object-id names renumbered in order."""
    import skops.io as sio

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _plain_vocabularies(obj, set())
    raw = sio.dumps(obj, compression=zipfile.ZIP_STORED)
    path.write_bytes(_canonical_archive(raw, compressed))
    return path


def _plain_vocabularies(node: Any, seen: set[int]) -> None:
    """Turn the numpy-integer values of every fitted vectorizer's `vocabulary_` inside
    `node` (what `min_df`/`max_features` pruning leaves) into Python ints, in place: skops
    writes each numpy scalar as an archive file of its own, tens of thousands for a real
    vocabulary; the vectorizers read both alike."""
    if id(node) in seen or isinstance(node, (str, bytes, int, float)) or node is None:
        return
    seen.add(id(node))
    vocabulary = getattr(node, "vocabulary_", None)
    if isinstance(vocabulary, dict):
        node.vocabulary_ = {term: int(index) for term, index in vocabulary.items()}
    if isinstance(node, dict):
        children = list(node.values())
    elif isinstance(node, (list, tuple)):
        children = list(node)
    else:
        children = list(getattr(node, "__dict__", {}).values())
    for child in children:
        _plain_vocabularies(child, seen)


def _canonical_archive(raw: bytes, compressed: bool) -> bytes:
    with zipfile.ZipFile(io.BytesIO(raw)) as source:
        members = {name: source.read(name) for name in source.namelist()}
    schema = json.loads(members.pop("schema.json"))
    ids: dict[int, int] = {}
    names: dict[str, str] = {}
    _renumber(schema, ids, names, set(members))
    # compact: an indented dump runs json's pure-Python encoder, seconds per large vocabulary
    entries = {"schema.json": json.dumps(schema, separators=(",", ":")).encode()}
    entries.update({names[old]: _canonical_member(data) for old, data in members.items()})
    return _zip(entries, zipfile.ZIP_DEFLATED if compressed else zipfile.ZIP_STORED)


def _renumber(node: Any, ids: dict[int, int], names: dict[str, str], files: set[str]) -> None:
    """Replace memo ids and member file names by their order of first appearance (ids
    start at 1: skops skips memoising an id of 0), and drop run-dependent caches."""
    if isinstance(node, list):
        for item in node:
            _renumber(item, ids, names, files)
        return
    if not isinstance(node, dict):
        return
    for attribute in _RUN_DEPENDENT_ATTRIBUTES:
        node.pop(attribute, None)
    if isinstance(node.get("__id__"), int):
        node["__id__"] = ids.setdefault(node["__id__"], len(ids) + 1)
    member = node.get("file")
    if isinstance(member, str) and member in files:
        suffix = Path(member).suffix
        node["file"] = names.setdefault(member, f"{len(names) + 1}{suffix}")
    for value in node.values():
        _renumber(value, ids, names, files)


def _canonical_member(data: bytes) -> bytes:
    """A member that is itself a zip (scipy's `.npz`) gets fixed timestamps too."""
    if not data.startswith(b"PK\x03\x04"):
        return data
    with zipfile.ZipFile(io.BytesIO(data)) as inner:
        return _zip({n: inner.read(n) for n in inner.namelist()}, zipfile.ZIP_STORED)


def _zip(entries: dict[str, bytes], compression: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=_ZIP_EPOCH)
            info.compress_type = compression
            info.external_attr = 0o644 << 16
            archive.writestr(info, entries[name])
    return buffer.getvalue()


def load_skops(path: str | Path, allowed: Iterable[str] = ALLOWED_TYPES) -> Any:
    """Load a skops file, refusing (one line, nothing built) any type outside `allowed`."""
    import skops.io as sio

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such model file")
    allowed = frozenset(allowed)
    try:
        untrusted = sio.get_untrusted_types(file=path)
    except Exception as err:  # a crafted or broken archive: say so, never a traceback
        raise InputError(f"{path}: not a readable skops model ({first_line(err)})") from err
    refused = sorted(set(untrusted) - allowed)
    if refused:
        raise InputError(f"{path}: refuses to load types outside the allowlist: "
                         f"{', '.join(refused)}")
    try:
        return sio.load(path, trusted=sorted(untrusted))
    except Exception as err:
        raise InputError(f"{path}: cannot load skops model ({first_line(err)})") from err

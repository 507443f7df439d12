"""The codebook as configuration: what a qualitative researcher writes anyway (definition,
inclusion and exclusion notes, example phrases per language), validated on load so that a
broken codebook stops the run with one clear line instead of silently coding nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from pipeline.core.config import PROJECT_ROOT
from pipeline.core.io import InputError

DEFAULT_CODEBOOK = PROJECT_ROOT / "conf" / "codebook" / "cryptodrug.yaml"


@dataclass(frozen=True)
class Code:
    id: str
    definition: str
    include: str = ""
    exclude: str = ""
    examples: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Codebook:
    """Codes plus `exclusive` groups: codes a segment can carry at most one of (saying "no
    PGP" and describing PGP use cannot both be true of one answer)."""

    name: str
    codes: tuple[Code, ...]
    exclusive: tuple[tuple[str, ...], ...] = ()

    @property
    def ids(self) -> list[str]:
        return [code.id for code in self.codes]

    def get(self, code_id: str) -> Code:
        for code in self.codes:
            if code.id == code_id:
                return code
        raise KeyError(code_id)


def parse_codebook(raw: object, origin: str = "codebook") -> Codebook:
    """A validated codebook from parsed YAML: every code needs a unique id and a definition."""
    if not isinstance(raw, dict) or not isinstance(raw.get("codes"), list) or not raw["codes"]:
        raise InputError(f"{origin}: needs a non-empty 'codes' list")
    codes: list[Code] = []
    seen: set[str] = set()
    for number, entry in enumerate(raw["codes"], start=1):
        if not isinstance(entry, dict):
            raise InputError(f"{origin}: code #{number} is not a mapping")
        code_id = str(entry.get("id") or "").strip()
        if not code_id:
            raise InputError(f"{origin}: code #{number} has no id")
        if code_id in seen:
            raise InputError(f"{origin}: duplicate code id {code_id!r}")
        seen.add(code_id)
        if not str(entry.get("definition") or "").strip():
            raise InputError(f"{origin}: code {code_id!r} has no definition")
        examples = entry.get("examples") or {}
        if not isinstance(examples, dict):
            raise InputError(f"{origin}: code {code_id!r}: examples must map language -> phrases")
        codes.append(
            Code(
                id=code_id,
                definition=str(entry["definition"]).strip(),
                include=str(entry.get("include") or "").strip(),
                exclude=str(entry.get("exclude") or "").strip(),
                examples={str(k): [str(p) for p in v or []] for k, v in examples.items()},
            )
        )
    return Codebook(
        name=str(raw.get("name") or origin),
        codes=tuple(codes),
        exclusive=parse_exclusive(raw.get("exclusive"), seen, origin),
    )


def parse_exclusive(raw: object, ids: set[str], origin: str) -> tuple[tuple[str, ...], ...]:
    """The `exclusive` groups: lists of two or more known code ids."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise InputError(f"{origin}: 'exclusive' must be a list of code-id lists")
    groups = []
    for number, group in enumerate(raw, start=1):
        if not isinstance(group, list) or len(set(map(str, group))) < 2:
            raise InputError(f"{origin}: exclusive group #{number} needs two or more code ids")
        unknown = sorted(set(map(str, group)) - ids)
        if unknown:
            raise InputError(f"{origin}: exclusive group #{number}: unknown {', '.join(unknown)}")
        groups.append(tuple(dict.fromkeys(map(str, group))))
    return tuple(groups)


def load_codebook(path: str | Path | None = None) -> Codebook:
    """Read and validate a codebook YAML file (default: conf/codebook/cryptodrug.yaml)."""
    path = Path(path) if path else DEFAULT_CODEBOOK
    if not path.exists():
        raise InputError(f"{path}: no such codebook")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise InputError(f"{path}: not valid YAML: {str(err).splitlines()[0]}") from err
    return parse_codebook(raw, origin=str(path))

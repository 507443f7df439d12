"""What the browser's pages show, computed from the tables (no web framework here, so the
tests and the benchmark can call it directly)."""

from __future__ import annotations

from itertools import combinations

import pandas as pd
from markupsafe import Markup, escape

from pipeline.core.codebook import Codebook

CONTEXT_TURNS = 2  # turns of an interview shown before and after a segment


def highlight(text: str, start: int, end: int) -> Markup:
    """The segment text with its evidence span marked (everything escaped)."""
    start, end = max(0, int(start)), min(len(text), int(end))
    return Markup(
        f"{escape(text[:start])}<mark>{escape(text[start:end])}</mark>{escape(text[end:])}"
    )


def code_counts(codes: pd.DataFrame) -> dict[tuple, int]:
    """Assigned codes per code, per (code, language) and per (code, source)."""
    counts: dict[tuple, int] = {}
    for code, n in codes.groupby("code").size().items():
        counts[(code, "total")] = int(n)
    for (code, lang), n in codes.groupby(["code", "lang"]).size().items():
        counts[(code, "lang", lang)] = int(n)
    for (code, source), n in codes.groupby(["code", "source"]).size().items():
        counts[(code, "source", source)] = int(n)
    return counts


def codes_by_segment(codes: pd.DataFrame) -> dict[str, list[str]]:
    """segment_id -> its codes, sorted."""
    return {s: sorted(g) for s, g in codes.groupby("segment_id")["code"]}


def cooccurrence_matrix(codes_of: dict[str, list[str]]) -> dict[tuple[str, str], int]:
    """(code, code) -> segments coded with both, both orders filled so the matrix is symmetric."""
    matrix: dict[tuple[str, str], int] = {}
    for assigned in codes_of.values():
        for a, b in combinations(assigned, 2):
            matrix[(a, b)] = matrix.get((a, b), 0) + 1
            matrix[(b, a)] = matrix.get((b, a), 0) + 1
    return matrix


def code_groups(codebook: Codebook) -> list[tuple[str, list[str]]]:
    """The codebook grouped for a code menu: by a code's `group` where the codebook declares
    one, else by the id's first word (MOTIVE_PRICE -> MOTIVE), in codebook order."""
    groups: dict[str, list[str]] = {}
    for code in codebook.codes:
        group = getattr(code, "group", "") or code.id.split("_", 1)[0]
        groups.setdefault(group, []).append(code.id)
    return list(groups.items())


def segment_context(segment: pd.Series, segments: pd.DataFrame, documents: dict[str, str]) -> (
    Markup | None
):
    """An interview segment in its document: from the end of the turn `CONTEXT_TURNS` before
    it to the start of the one as many after (the interviewer's questions in between), the
    segment marked. None for survey answers and segments without a document."""
    document = str(segment.get("document", ""))
    if segment.get("source") == "survey" or document not in documents:
        return None
    text = documents[document]
    turns = segments[segments["document"] == document].sort_values("doc_start")
    position = turns["segment_id"].tolist().index(segment["segment_id"])
    before = turns.iloc[max(0, position - CONTEXT_TURNS - 1) : position]
    after = turns.iloc[position + CONTEXT_TURNS + 1 :]
    lo = int(before["doc_end"].iloc[0]) if len(before) > CONTEXT_TURNS else 0
    hi = int(after["doc_start"].iloc[0]) if len(after) else len(text)
    return highlight(text[lo:hi], int(segment["doc_start"]) - lo, int(segment["doc_end"]) - lo)


def search(segments: pd.DataFrame, query: str) -> pd.DataFrame:
    """Segments whose text contains every word of `query` (case-insensitive)."""
    words = query.lower().split()
    if not words:
        return segments.iloc[:0]
    lowered = segments["text"].astype(str).str.lower()
    hit = pd.Series(True, index=segments.index)
    for word in words:
        hit &= lowered.str.contains(word, regex=False)
    return segments[hit]


def listing(rows: pd.DataFrame, codes_of: dict[str, list[str]], langs: dict[str, str],
            limit: int) -> list[dict]:
    """Rows of a segment list page (the first `limit`)."""
    return [
        {
            "segment_id": r.segment_id,
            "respondent_id": r.respondent_id,
            "lang": langs.get(r.segment_id, ""),
            "codes": ", ".join(codes_of.get(r.segment_id, [])),
            "text": r.text,
        }
        for r in rows.head(limit).itertuples(index=False)
    ]

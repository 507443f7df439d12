"""Human codes: the gold coded segments and the corrections researchers make in the browser.

Both become one label matrix (segment x code: 1 present, 0 absent, -1 unknown), so a
correction that only says "this code is wrong here" still teaches the coder something.
`apply_corrections` lays the verdicts over a coder's output; `code-themes` and the browser
(`cryptodrug inspect`) share it, so both show the same codes.

The corrections file is an append-only log (JSON lines). Besides verdicts (`accept` adds or
confirms a code, optionally on a `start`/`end` span of the segment; `reject` removes one;
`change` swaps one for another) it holds researchers' `memo`s on a segment or a code, and
`undo` records, each cancelling its coder's latest remaining record. Every record names its
`coder`, so agreement between researchers can be computed from the same file.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from pipeline.core.io import InputError, read_table, require_columns

ACTIONS = ("accept", "reject", "change")
UNKNOWN = -1


def split_codes(value: object) -> list[str]:
    """`A;B` (CSV cells) or a list -> code ids."""
    if isinstance(value, list | tuple):
        return [str(v) for v in value if str(v)]
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return []
    return [part.strip() for part in str(value).split(";") if part.strip()]


def read_gold(path: str | Path, codes: list[str]) -> pd.DataFrame:
    """Gold coded segments (`segment_id`, `lang`, `codes`, `coder`, `text`) with their codes
    checked against the codebook, so a typo in a code id is an error, not a lost label."""
    frame = read_table(path)
    require_columns(frame, ("segment_id", "codes"), path, what="gold codes")
    frame = frame.copy()
    frame["codes"] = frame["codes"].map(split_codes)
    if "coder" not in frame.columns:
        frame["coder"] = "A"
    unknown = sorted({c for row in frame["codes"] for c in row} - set(codes))
    if unknown:
        raise InputError(f"{path}: codes not in the codebook: {', '.join(unknown)}")
    return frame


def label_matrix(frame: pd.DataFrame, codes: list[str]) -> pd.DataFrame:
    """Fully coded segments -> one 0/1 column per code."""
    rows = [[int(code in assigned) for code in codes] for assigned in frame["codes"]]
    return pd.DataFrame(rows, columns=codes, index=frame.index)


VERDICT_COLUMNS = [
    "segment_id", "code", "action", "new_code", "text", "lang", "at", "coder", "start", "end"
]
MEMO_COLUMNS = ["segment_id", "code", "memo", "coder", "at"]
MEMO, UNDO = "memo", "undo"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def read_log(path: str | Path | None) -> list[dict]:
    """Every record of the corrections file still in force: each `undo` removes its coder's
    latest remaining record (and is itself dropped). Absent or empty file: no records."""
    if path is None or not Path(path).exists() or Path(path).stat().st_size == 0:
        return []
    records: list[dict] = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise InputError(f"{path}:{number}: not JSON ({err.msg})") from err
        action = record.get("action") if isinstance(record, dict) else None
        if action == UNDO:
            mine = [i for i, r in enumerate(records) if r.get("coder", "") == record.get("coder")]
            if mine:
                records.pop(mine[-1])
        elif action == MEMO:
            if not (record.get("segment_id") or record.get("code")):
                raise InputError(f"{path}:{number}: a memo needs a segment_id or a code")
            records.append(record)
        elif action in ACTIONS and record.get("segment_id"):
            records.append(record)
        else:
            raise InputError(f"{path}:{number}: needs segment_id and action in {ACTIONS}")
    return records


def load_corrections(path: str | Path | None) -> pd.DataFrame:
    """The verdicts in the corrections file (memos and undone records left out); `start` and
    `end` are the coded span (-1: the whole segment)."""
    rows = [r for r in read_log(path) if r["action"] in ACTIONS]
    frame = pd.DataFrame(rows, columns=VERDICT_COLUMNS)
    frame[["start", "end"]] = frame[["start", "end"]].fillna(-1).astype(int)
    text = [c for c in VERDICT_COLUMNS if c not in ("start", "end")]
    frame[text] = frame[text].astype(object).fillna("").astype(str)
    return frame


def load_memos(path: str | Path | None) -> pd.DataFrame:
    """Memos on segments (`segment_id`) and on codes (`code`, no segment): the latest memo of
    each coder on each target, so editing a memo replaces it."""
    rows = [r for r in read_log(path) if r["action"] == MEMO]
    frame = pd.DataFrame(rows, columns=MEMO_COLUMNS).fillna("").astype(str)
    return frame.drop_duplicates(["segment_id", "code", "coder"], keep="last").reset_index(
        drop=True
    )


def make_correction(
    segment_id: str,
    code: str,
    action: str,
    codes: list[str],
    text: str = "",
    lang: str = "",
    new_code: str = "",
    coder: str = "",
    span: tuple[int, int] | None = None,
) -> dict:
    """One validated verdict record (a `span` must lie inside `text`)."""
    if action not in ACTIONS:
        raise InputError(f"unknown action {action!r} (use {', '.join(ACTIONS)})")
    if code not in codes or (action == "change" and new_code not in codes):
        raise InputError(f"unknown code {code!r}/{new_code!r}")
    start, end = span if span is not None else (-1, -1)
    if span is not None and not 0 <= start < end <= len(text):
        raise InputError(f"span {start}-{end} is not inside the segment (0-{len(text)})")
    return {
        "segment_id": segment_id,
        "code": code,
        "action": action,
        "new_code": new_code if action == "change" else "",
        "text": text,
        "lang": lang,
        "at": _now(),
        "coder": coder,
        "start": start,
        "end": end,
    }


def append_records(path: str | Path, records: list[dict]) -> list[dict]:
    """Append records (built by `make_correction` / `make_memo`) to the corrections file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    return records


def append_correction(path: str | Path, *args, **kwargs) -> dict:
    """Validate one verdict (`make_correction`'s arguments) and append it to the file."""
    return append_records(path, [make_correction(*args, **kwargs)])[0]


def make_memo(
    memo: str, coder: str, codes: list[str], segment_id: str = "", code: str = "",
    at: str = "",
) -> dict:
    """A memo on a segment or (without a segment) on a code; an empty memo clears it."""
    if not (segment_id or code) or (code and code not in codes):
        raise InputError(f"a memo needs a segment or a known code (got {code!r})")
    return {"segment_id": segment_id, "code": code, "action": MEMO, "memo": memo,
            "coder": coder, "at": at or _now()}


def append_memo(path: str | Path, *args, **kwargs) -> dict:
    """Validate one memo (`make_memo`'s arguments) and append it to the file."""
    return append_records(path, [make_memo(*args, **kwargs)])[0]


def append_undo(path: str | Path, coder: str) -> dict:
    """Cancel `coder`'s latest record still in force; an error when there is none."""
    mine = [r for r in read_log(path) if r.get("coder", "") == coder]
    if not mine:
        raise InputError(f"nothing of coder {coder!r} to undo")
    append_records(path, [{"action": UNDO, "coder": coder, "at": _now()}])
    return mine[-1]


def correction_verdicts(corrections: pd.DataFrame) -> dict[tuple[str, str], int]:
    """(segment_id, code) -> 1 present / 0 absent; the latest correction wins."""
    verdicts: dict[tuple[str, str], int] = {}
    for row in corrections.itertuples(index=False):
        if row.action == "accept":
            verdicts[(row.segment_id, row.code)] = 1
        else:
            verdicts[(row.segment_id, row.code)] = 0
            if row.action == "change":
                verdicts[(row.segment_id, row.new_code)] = 1
    return verdicts


def correction_training_rows(corrections: pd.DataFrame, codes: list[str]) -> pd.DataFrame:
    """Corrections as partial label rows (`text`, `lang`, one column per code, -1 unknown)."""
    if corrections.empty:
        return pd.DataFrame(columns=["segment_id", "text", "lang", *codes])
    verdicts = correction_verdicts(corrections)
    latest = corrections.drop_duplicates("segment_id", keep="last").set_index("segment_id")
    rows = []
    for segment_id in latest.index:
        labels = {c: verdicts.get((segment_id, c), UNKNOWN) for c in codes}
        text = latest.at[segment_id, "text"]
        if str(text).strip():
            rows.append(
                {
                    "segment_id": segment_id,
                    "text": text,
                    "lang": latest.at[segment_id, "lang"],
                    **labels,
                }
            )
    return pd.DataFrame(rows, columns=["segment_id", "text", "lang", *codes])


def correction_spans(corrections: pd.DataFrame) -> dict[tuple[str, str], tuple[int, int]]:
    """(segment_id, code) -> the span a researcher coded, from the latest verdict with one."""
    spans: dict[tuple[str, str], tuple[int, int]] = {}
    for row in corrections.itertuples(index=False):
        if row.action != "reject" and int(row.start) >= 0:
            code = row.new_code if row.action == "change" else row.code
            spans[(row.segment_id, code)] = (int(row.start), int(row.end))
    return spans


def apply_corrections(
    rows: pd.DataFrame, segments: pd.DataFrame, corrections: pd.DataFrame
) -> pd.DataFrame:
    """Researchers' verdicts override the model: rejected codes go, accepted or changed-to
    codes stay (confidence 1, origin human, on the span the researcher coded if any)."""
    verdicts = correction_verdicts(corrections)
    if not verdicts:
        return rows
    spans = correction_spans(corrections)
    known = set(segments["segment_id"])
    pairs = list(zip(rows["segment_id"], rows["code"], strict=True))
    lang_of = dict(zip(corrections["segment_id"], corrections["lang"], strict=True))
    lang_of.update(zip(rows["segment_id"], rows["lang"], strict=True))
    rows = rows[[verdicts.get(pair, 1) == 1 for pair in pairs]].copy()
    pairs = list(zip(rows["segment_id"], rows["code"], strict=True))
    present = set(pairs)
    text_of = dict(zip(segments["segment_id"], segments["text"].astype(str), strict=False))
    added = []
    for (segment_id, code), verdict in verdicts.items():
        if segment_id in known and verdict == 1 and (segment_id, code) not in present:
            text = text_of[segment_id]
            start, end = spans.get((segment_id, code), (0, len(text)))
            added.append(
                {
                    "segment_id": segment_id,
                    "code": code,
                    "confidence": 1.0,
                    "lang": lang_of.get(segment_id, ""),
                    "start": start,
                    "end": end,
                    "evidence": text[start:end],
                }
            )
    confirmed = [verdicts.get(pair) == 1 for pair in pairs]
    rows.loc[confirmed, ["confidence", "origin", "needs_review"]] = [1.0, "human", False]
    recoded = [pair in spans for pair in pairs]
    if any(recoded):
        chosen = [spans[pair] for pair in pairs if pair in spans]
        rows.loc[recoded, "start"] = [a for a, _ in chosen]
        rows.loc[recoded, "end"] = [b for _, b in chosen]
        if "evidence" in rows.columns:
            rows.loc[recoded, "evidence"] = [
                text_of.get(pair[0], "")[a:b]
                for pair, (a, b) in zip([p for p in pairs if p in spans], chosen, strict=True)
            ]
    if added:
        extra = pd.DataFrame(added).assign(origin="human", needs_review=False)
        context = [
            c
            for c in ("segment_id", "respondent_id", "source", "question_id")
            if c in segments.columns
        ]
        extra = extra.merge(segments[context], on="segment_id", how="left")
        # text columns get "", numeric ones (a model's confidence) stay missing
        extra = extra.reindex(columns=rows.columns)
        text = [c for c in rows.columns if not pd.api.types.is_numeric_dtype(rows[c])]
        extra[text] = extra[text].astype(object).fillna("")
        rows = pd.concat([rows, extra], ignore_index=True)
    return rows

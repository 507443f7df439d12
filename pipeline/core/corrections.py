"""Human codes: the gold coded segments and the corrections researchers make in the browser.

Both become one label matrix (segment x code: 1 present, 0 absent, -1 unknown), so a
correction that only says "this code is wrong here" still teaches the coder something.
`apply_corrections` lays the verdicts over a coder's output; `code-themes` and the browser
(`cryptodrug inspect`) share it, so both show the same codes.
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


def load_corrections(path: str | Path | None) -> pd.DataFrame:
    """Corrections saved by the browser (JSON lines); an absent or empty file is no corrections."""
    columns = ["segment_id", "code", "action", "new_code", "text", "lang", "at"]
    if path is None or not Path(path).exists() or Path(path).stat().st_size == 0:
        return pd.DataFrame(columns=columns)
    records = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise InputError(f"{path}:{number}: not JSON ({err.msg})") from err
        if record.get("action") not in ACTIONS or not record.get("segment_id"):
            raise InputError(f"{path}:{number}: needs segment_id and action in {ACTIONS}")
        records.append(record)
    return pd.DataFrame(records, columns=columns).fillna("")


def append_correction(
    path: str | Path,
    segment_id: str,
    code: str,
    action: str,
    codes: list[str],
    text: str = "",
    lang: str = "",
    new_code: str = "",
) -> dict:
    """Validate one correction and append it to the corrections file."""
    if action not in ACTIONS:
        raise InputError(f"unknown action {action!r} (use {', '.join(ACTIONS)})")
    if code not in codes or (action == "change" and new_code not in codes):
        raise InputError(f"unknown code {code!r}/{new_code!r}")
    record = {
        "segment_id": segment_id,
        "code": code,
        "action": action,
        "new_code": new_code if action == "change" else "",
        "text": text,
        "lang": lang,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return record


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


def apply_corrections(
    rows: pd.DataFrame, segments: pd.DataFrame, corrections: pd.DataFrame
) -> pd.DataFrame:
    """Researchers' verdicts override the model: rejected codes go, accepted or changed-to
    codes stay (confidence 1, origin human)."""
    verdicts = correction_verdicts(corrections)
    if not verdicts:
        return rows
    known = set(segments["segment_id"])
    keep = [
        verdicts.get((s, c), 1) == 1 for s, c in zip(rows["segment_id"], rows["code"], strict=True)
    ]
    lang_of = dict(zip(corrections["segment_id"], corrections["lang"], strict=True))
    lang_of.update(zip(rows["segment_id"], rows["lang"], strict=True))
    rows = rows[keep].copy()
    present = set(zip(rows["segment_id"], rows["code"], strict=True))
    by_id = segments.set_index("segment_id")
    added = []
    for (segment_id, code), verdict in verdicts.items():
        if segment_id not in known:
            continue
        if verdict == 1 and (segment_id, code) not in present:
            text = str(by_id.at[segment_id, "text"])
            added.append(
                {
                    "segment_id": segment_id,
                    "code": code,
                    "confidence": 1.0,
                    "lang": lang_of.get(segment_id, ""),
                    "start": 0,
                    "end": len(text),
                    "evidence": text,
                }
            )
    for (segment_id, code), verdict in verdicts.items():
        hit = (rows["segment_id"] == segment_id) & (rows["code"] == code)
        if verdict == 1 and hit.any():
            rows.loc[hit, ["confidence", "origin", "needs_review"]] = [1.0, "human", False]
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

"""Survey exports and interview transcripts -> answer segments with stable ids.

Researchers get LimeSurvey and Qualtrics CSV exports (one column per question, header rows,
respondent ids, skipped questions) and transcripts (.txt, .docx) with speaker turns. Each
answer becomes a segment (SPEC section 6) that also remembers its place in a source document
(one per respondent or transcript), so the REFI-QDA export can give character positions.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd

from pipeline.core.io import InputError

SEGMENT_COLUMNS = [
    "segment_id",
    "respondent_id",
    "source",
    "question_id",
    "question",
    "text",
    "document",
    "doc_start",
    "doc_end",
]
LIMESURVEY_META = {
    "id",
    "submitdate",
    "lastpage",
    "startlanguage",
    "seed",
    "startdate",
    "datestamp",
    "ipaddr",
    "refurl",
    "token",
}
QUALTRICS_META = {
    "StartDate",
    "EndDate",
    "Status",
    "IPAddress",
    "Progress",
    "Duration (in seconds)",
    "Finished",
    "RecordedDate",
    "ResponseId",
    "RecipientLastName",
    "RecipientFirstName",
    "RecipientEmail",
    "ExternalReference",
    "LocationLatitude",
    "LocationLongitude",
    "DistributionChannel",
    "UserLanguage",
}
DEFAULT_INTERVIEWER_LABELS = (
    "i",
    "int",
    "interviewer",
    "q",
    "onderzoeker",
    "interviewster",
    "enquêteur",
    "enquêtrice",
    "intervieweur",
    "chercheur",
)
# "R:", "Respondent 3 :", "[00:01:02] I:" -- a short label at the start of a line
SPEAKER = re.compile(r"^\s*(?:\[[\d:.]+\]\s*)?([A-Za-zÀ-ÿ][\wÀ-ÿ .'-]{0,29}?)\s*:\s?(.*)$")


def _documents_frame(docs: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({"document": list(docs), "text": list(docs.values())})


def _is_open_question(values: pd.Series, min_words: float) -> bool:
    """Free-text questions have answers of several words; ages and choice codes do not."""
    answered = values[values.str.strip() != ""]
    if answered.empty:
        return True
    return answered.str.split().str.len().median() >= min_words


def read_utf8(path: Path) -> str:
    """An export's text (a BOM allowed); any other encoding is a one-line error, since
    survey tools export UTF-8 and a guess could garble answers silently."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputError(f"{path}: not UTF-8 text") from err


def read_survey_csv(path: Path, min_words: float = 2.0) -> tuple[pd.DataFrame, dict[str, str]]:
    """A LimeSurvey or Qualtrics CSV export -> (segments, documents). Skipped questions give
    no segment; a file of neither shape is an error that says what was expected."""
    text = read_utf8(path)
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error as err:
        raise InputError(f"{path}: malformed CSV ({err})") from err
    if len(rows) < 2:
        raise InputError(f"{path}: survey export has no responses")
    header = [h.strip() for h in rows[0]]
    if "ResponseId" in header:
        kind, id_col, meta = "qualtrics", "ResponseId", QUALTRICS_META
        # Qualtrics: row 2 holds question texts, row 3 the ImportId JSON
        questions = dict(zip(header, rows[1], strict=False))
        body = rows[3:] if len(rows) > 2 and rows[2] and rows[2][0].startswith("{") else rows[2:]
    elif {"id", "submitdate"} <= set(header) or {"id", "lastpage"} <= set(header):
        kind, id_col, meta = "limesurvey", "id", LIMESURVEY_META
        questions = {h: h for h in header}
        body = rows[1:]
    else:
        raise InputError(
            f"{path}: not a LimeSurvey (id, submitdate) or Qualtrics (ResponseId) export"
        )
    ragged = [n for n, row in enumerate(body, start=2) if row and len(row) != len(header)]
    if ragged:
        raise InputError(f"{path}: malformed export: row {ragged[0]} has a different column count")
    frame = pd.DataFrame([r for r in body if any(c.strip() for c in r)], columns=header).fillna("")
    answer_cols = [
        c for c in header if c not in meta and _is_open_question(frame[c].astype(str), min_words)
    ]
    if not answer_cols:
        raise InputError(f"{path}: no open-question columns found")
    segments, documents = [], {}
    for row in frame.itertuples(index=False):
        record = dict(zip(header, row, strict=True))
        respondent = str(record[id_col]).strip()
        if not respondent:
            raise InputError(f"{path}: a response has no {id_col}")
        doc_name = f"{kind}:{path.stem}:{respondent}"
        doc, spans = "", []
        for column in answer_cols:
            answer = str(record[column])
            if not answer:
                continue  # skipped question: no answer, no segment
            doc += f"{column}: {questions.get(column, column)}\n"
            spans.append((column, len(doc), len(doc) + len(answer), answer))
            doc += answer + "\n\n"
        documents[doc_name] = doc
        for column, start, end, answer in spans:
            segments.append(
                {
                    "segment_id": f"{path.stem}-{respondent}-{column}",
                    "respondent_id": f"{path.stem}-{respondent}",
                    "source": "survey",
                    "question_id": column,
                    "question": questions.get(column, column),
                    "text": answer,
                    "document": doc_name,
                    "doc_start": start,
                    "doc_end": end,
                }
            )
    return pd.DataFrame(segments, columns=SEGMENT_COLUMNS), documents


def transcript_lines(path: Path) -> list[str]:
    """The paragraphs of a .txt or .docx transcript."""
    if path.suffix.lower() == ".docx":
        import docx

        try:
            return [p.text for p in docx.Document(str(path)).paragraphs]
        except Exception as err:  # python-docx raises several types for a broken zip
            raise InputError(f"{path}: cannot read .docx ({type(err).__name__})") from err
    return read_utf8(path).replace("\r\n", "\n").split("\n")


def read_transcript(
    path: Path, interviewer_labels: Sequence[str] = DEFAULT_INTERVIEWER_LABELS
) -> tuple[pd.DataFrame, dict[str, str]]:
    """An interview transcript -> one segment per respondent turn; the interviewer's
    preceding turn is its question. Without speaker labels turns cannot be told apart,
    which is an error rather than one giant segment."""
    lines = transcript_lines(path)
    interviewer = {label.lower() for label in interviewer_labels}
    doc = "\n".join(lines)
    turns: list[dict] = []
    offset = 0
    for line in lines:
        match = SPEAKER.match(line)
        if match and match.group(2).strip():
            speaker = match.group(1).strip()
            start = offset + match.start(2)
            turns.append({"speaker": speaker, "start": start, "end": offset + len(line.rstrip())})
        elif turns and line.strip():
            turns[-1]["end"] = offset + len(line.rstrip())  # continuation of the open turn
        offset += len(line) + 1
    speakers = {t["speaker"].lower() for t in turns}
    if not turns or not speakers - interviewer or not speakers & interviewer:
        raise InputError(
            f"{path}: no speaker labels for interviewer and respondent "
            f"(expected lines like 'I: ...' and 'R: ...'; interviewer labels: "
            f"{', '.join(sorted(interviewer))})"
        )
    segments, question, question_id = [], "", ""
    doc_name = f"interview:{path.stem}"
    for number, turn in enumerate(turns, start=1):
        text = doc[turn["start"] : turn["end"]]
        if turn["speaker"].lower() in interviewer:
            question, question_id = text, f"T{number:03d}"
            continue
        segments.append(
            {
                "segment_id": f"{path.stem}-T{number:03d}",
                "respondent_id": path.stem,
                "source": "interview",
                "question_id": question_id,
                "question": question,
                "text": text,
                "document": doc_name,
                "doc_start": turn["start"],
                "doc_end": turn["end"],
            }
        )
    return pd.DataFrame(segments, columns=SEGMENT_COLUMNS), {doc_name: doc}


def answer_files(paths: Iterable[Path]) -> list[Path]:
    """The survey (.csv) and transcript (.txt, .docx) files the given files or folders hold."""
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            files += sorted(
                p for p in path.rglob("*") if p.suffix.lower() in (".csv", ".txt", ".docx")
            )
        elif path.exists():
            files.append(path)
        else:
            raise InputError(f"{path}: no such file or folder")
    if not files:
        raise InputError("no survey exports (.csv) or transcripts (.txt, .docx) found")
    return files


def import_answers(
    paths: Iterable[Path],
    interviewer_labels: Sequence[str] = DEFAULT_INTERVIEWER_LABELS,
    min_words: float = 2.0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Files or folders -> (segments, documents), segment ids unique across all files."""
    frames, documents = [], {}
    for path in answer_files(paths):
        if path.suffix.lower() == ".csv":
            segments, docs = read_survey_csv(path, min_words)
        else:
            segments, docs = read_transcript(path, interviewer_labels)
        frames.append(segments)
        documents.update(docs)
    segments = pd.concat(frames, ignore_index=True)
    duplicated = segments["segment_id"][segments["segment_id"].duplicated()]
    if len(duplicated):
        raise InputError(f"duplicate segment id {duplicated.iloc[0]!r}: two files share a name")
    return segments, _documents_frame(documents)

"""REFI-QDA both ways (`.qdpx`): a zip with `project.qde` (QDA-XML project 1.0) and one plain
text file per source, so the coded project opens in QualCoder, NVivo, ATLAS.ti or MAXQDA,
and a project coded there comes back as researchers' corrections.

Export: sources are the documents the importers built (a respondent's survey answers, a
transcript); each coded segment is a `PlainTextSelection` at its character positions in
that document, carrying one `Coding` per machine code (user "cryptodrug coder");
respondents are `Cases`. Each researcher is a `User`; their coding of a segment they
corrected is a selection of their own over the segment (holding the codes they gave it,
possibly none) plus one selection per code they put on a narrower span; their memos are
`Notes`, referenced from the code or from the segment's selection. GUIDs are uuid5 of stable
names, so re-exporting the same project gives the same file contents.

Import: every coding by a human user becomes corrections of that coder on the segments its
selection overlaps (on the overlap as span): their codes accepted, every other code of the
codebook rejected, since a coder who coded a passage decided on it. A selection outside all
known segments becomes a segment of its own (its text still trains the coder); codes
outside the codebook are quarantined with the reason.
"""

from __future__ import annotations

import uuid
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import pandas as pd

from pipeline.core.agreement import coder_codings
from pipeline.core.codebook import Codebook
from pipeline.core.corrections import correction_spans, make_correction, make_memo
from pipeline.core.io import InputError

NS = "urn:QDA-XML:project:1.0"
NAMESPACE = uuid.UUID("6f1c7f0e-7a51-4c39-9d0a-2c1b6b3e4f10")


MACHINE = "cryptodrug coder"


def guid(*parts: object) -> str:
    """A stable GUID for a named thing of the project."""
    return str(uuid.uuid5(NAMESPACE, "/".join(map(str, parts))))


MACHINE_USER = guid("user", "cryptodrug")  # the coder model's user: its codings are no human's


def _el(parent: ET.Element, tag: str, **attrs: object) -> ET.Element:
    return ET.SubElement(parent, f"{{{NS}}}{tag}", {k: str(v) for k, v in attrs.items()})


def _note_guid(memo) -> str:
    return guid("note", memo.segment_id, memo.code, memo.coder)


def _notes(root: ET.Element, memos: pd.DataFrame, users: dict[str, str]) -> None:
    """`Notes`: one per memo, by its coder."""
    if memos.empty:
        return
    notes = _el(root, "Notes")
    for m in memos.itertuples(index=False):
        attrs = {"guid": _note_guid(m), "name": f"memo {m.segment_id or m.code}",
                 "creatingUser": users[m.coder]}
        if m.at:
            attrs["creationDateTime"] = m.at
        _el(_el(notes, "Note", **attrs), "PlainTextContent").text = m.memo


def build_project(
    codebook: Codebook,
    documents: pd.DataFrame,
    segments: pd.DataFrame,
    codes: pd.DataFrame,
    name: str = "cryptodrug themes",
    corrections: pd.DataFrame | None = None,
    memos: pd.DataFrame | None = None,
) -> tuple[bytes, dict[str, str]]:
    """(project.qde XML, {zip path: source text}) for coded segments (one row per code),
    with the researchers' `corrections` (verdicts with coder) and `memos` when given."""
    ET.register_namespace("", NS)
    corrections = corrections if corrections is not None else pd.DataFrame(
        columns=["segment_id", "code", "action", "new_code", "coder", "start", "end"]
    )
    memos = memos if memos is not None else pd.DataFrame(
        columns=["segment_id", "code", "memo", "coder", "at"]
    )
    memos = memos[memos["memo"] != ""].sort_values(["segment_id", "code", "coder"])
    machine = MACHINE_USER
    people = sorted(set(corrections["coder"]) | set(memos["coder"]))
    users = {MACHINE: machine, **{p: guid("user", "coder", p) for p in people}}
    root = ET.Element(
        f"{{{NS}}}Project", {"name": name, "origin": "cryptodrug", "creatingUserGUID": machine}
    )
    user_list = _el(root, "Users")
    for person, user_guid in users.items():
        _el(user_list, "User", guid=user_guid, name=person)
    note_refs: dict[tuple[str, str], list[str]] = {}
    for m in memos.itertuples(index=False):
        note_refs.setdefault((m.segment_id, m.code), []).append(_note_guid(m))
    code_guids = {c.id: guid("code", c.id) for c in codebook.codes}
    code_list = _el(_el(root, "CodeBook"), "Codes")
    for c in codebook.codes:
        node = _el(code_list, "Code", guid=code_guids[c.id], name=c.id, isCodable="true")
        _el(node, "Description").text = f"{c.definition} Include: {c.include} Exclude: {c.exclude}"
        for note in note_refs.get(("", c.id), []):
            _el(node, "NoteRef", targetGUID=note)
    unknown = sorted(set(codes["code"]) - set(code_guids))
    if unknown:
        raise InputError(f"coded segments use codes not in the codebook: {', '.join(unknown)}")
    docs = dict(zip(documents["document"], documents["text"], strict=True))
    missing = sorted(set(segments["document"]) - set(docs))
    if missing:
        raise InputError(f"segments refer to documents not given: {missing[0]}")

    cases = _el(root, "Cases")
    for respondent, group in segments.groupby("respondent_id", sort=True):
        case = _el(cases, "Case", guid=guid("case", respondent), name=respondent)
        for document in sorted(set(group["document"])):
            _el(case, "SourceRef", targetGUID=guid("source", document))

    by_segment = codes.groupby("segment_id")
    # a coder's codes: the machine's (not the ones researchers' verdicts added) with their
    # own verdicts laid over
    base = codes[codes["origin"] != "human"] if "origin" in codes.columns else codes
    human = coder_codings(corrections, base)
    human_by_segment = human.groupby("segment_id")
    spans = {(c, s, code): span for c, group in corrections.groupby("coder")
             for (s, code), span in correction_spans(group).items()}
    memo_segments = {s for s, _ in note_refs if s}
    files: dict[str, str] = {}
    sources = _el(root, "Sources")
    for document in sorted(docs):
        source_guid = guid("source", document)
        files[f"sources/{source_guid}.txt"] = docs[document]
        source = _el(
            sources,
            "TextSource",
            guid=source_guid,
            name=document,
            plainTextPath=f"internal://{source_guid}.txt",
            creatingUser=machine,
        )
        in_doc = segments[segments["document"] == document].sort_values("doc_start")
        for seg in in_doc.itertuples(index=False):
            coded = seg.segment_id in by_segment.groups
            if coded or seg.segment_id in memo_segments:
                _machine_selection(source, seg, by_segment.get_group(seg.segment_id)
                                   if coded else None, code_guids, machine,
                                   note_refs.get((seg.segment_id, ""), []))
            if seg.segment_id in human_by_segment.groups:
                for row in human_by_segment.get_group(seg.segment_id).itertuples(index=False):
                    _coder_selections(source, seg, row.coder, row.codes, spans, code_guids,
                                      users[row.coder])
    _notes(root, memos, users)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True), files


def _machine_selection(source: ET.Element, seg, rows: pd.DataFrame | None,
                       code_guids: dict[str, str], machine: str, notes: list[str]) -> None:
    """A segment's selection with the machine's codings and the notes on the segment."""
    selection = _el(
        source,
        "PlainTextSelection",
        guid=guid("segment", seg.segment_id),
        name=seg.segment_id,
        startPosition=int(seg.doc_start),
        endPosition=int(seg.doc_end),
        creatingUser=machine,
    )
    rows = rows.sort_values("code") if rows is not None else pd.DataFrame(columns=["code"])
    if len(rows):
        _el(selection, "Description").text = "; ".join(
            f"{r.code} ({r.confidence:.2f}): {seg.text[int(r.start) : int(r.end)]}"
            for r in rows.itertuples(index=False)
        )
    for r in rows.itertuples(index=False):
        coding = _el(selection, "Coding", guid=guid("coding", seg.segment_id, r.code),
                     creatingUser=machine)
        _el(coding, "CodeRef", targetGUID=code_guids[r.code])
    for note in notes:
        _el(selection, "NoteRef", targetGUID=note)


def _coder_selections(source: ET.Element, seg, coder: str, codes: list[str], spans: dict,
                      code_guids: dict[str, str], user: str) -> None:
    """A coder's coding of a segment: a selection over it with the codes given to the whole
    segment (none when they removed them all), one more per code on a narrower span."""
    whole = [c for c in codes if (coder, seg.segment_id, c) not in spans]
    selection = _el(source, "PlainTextSelection", guid=guid("segment", seg.segment_id, coder),
                    name=f"{seg.segment_id} ({coder})", startPosition=int(seg.doc_start),
                    endPosition=int(seg.doc_end), creatingUser=user)
    for code in whole:
        _coding(selection, seg.segment_id, coder, code, code_guids, user)
    for code in codes:
        if (coder, seg.segment_id, code) in spans:
            start, end = spans[(coder, seg.segment_id, code)]
            span = _el(source, "PlainTextSelection",
                       guid=guid("span", seg.segment_id, coder, code),
                       name=f"{seg.segment_id} ({coder})",
                       startPosition=int(seg.doc_start) + start,
                       endPosition=int(seg.doc_start) + end, creatingUser=user)
            _coding(span, seg.segment_id, coder, code, code_guids, user)


def _coding(selection: ET.Element, segment_id: str, coder: str, code: str,
            code_guids: dict[str, str], user: str) -> None:
    coding = _el(selection, "Coding", guid=guid("coding", segment_id, code, coder),
                 creatingUser=user)
    _el(coding, "CodeRef", targetGUID=code_guids[code])


def write_qdpx(path: str | Path, xml: bytes, files: dict[str, str]) -> Path:
    """Zip the project; fixed timestamps keep the archive reproducible for DVC."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in [("project.qde", xml), *sorted(files.items())]:
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


def read_qdpx(path: str | Path) -> dict:
    """Parse a .qdpx: users {guid: name}, codes {guid: name}, notes {guid: (text, user)},
    code notes [(code, note guid)], and text selections with their source, positions,
    text, codes (with the user of each coding) and notes. A file that is no REFI-QDA
    project is an InputError."""
    try:
        with zipfile.ZipFile(path) as archive:
            root = ET.fromstring(archive.read("project.qde"))
            texts = {
                n: archive.read(n).decode("utf-8")
                for n in archive.namelist()
                if n.startswith("sources/") and n.endswith(".txt")
            }
    except (zipfile.BadZipFile, KeyError, ET.ParseError, UnicodeDecodeError, OSError) as err:
        raise InputError(f"{path}: not a REFI-QDA project ({err})") from err
    q = f"{{{NS}}}"
    if root.tag != f"{q}Project":
        raise InputError(f"{path}: project.qde is not a QDA-XML 1.0 project")
    users = {u.get("guid"): u.get("name") or u.get("guid") for u in root.iter(f"{q}User")}
    codes = {c.get("guid"): c.get("name") for c in root.iter(f"{q}Code")}
    code_notes = [
        (c.get("name"), ref.get("targetGUID"))
        for c in root.iter(f"{q}Code")
        for ref in c.findall(f"{q}NoteRef")
    ]
    notes = {}
    for note in root.iter(f"{q}Note"):
        content = note.find(f"{q}PlainTextContent")
        notes[note.get("guid")] = (
            content.text or "" if content is not None else "",
            note.get("creatingUser", ""),
            note.get("creationDateTime", ""),
        )
    default_user = root.get("creatingUserGUID", "")
    selections = []
    for source in root.iter(f"{q}TextSource"):
        text = _source_text(source, texts, q)
        for sel in source.iter(f"{q}PlainTextSelection"):
            start, end = int(sel.get("startPosition")), int(sel.get("endPosition"))
            owner = sel.get("creatingUser") or default_user
            codings = [
                (codes.get(c.find(f"{q}CodeRef").get("targetGUID")),
                 c.get("creatingUser") or owner)
                for c in sel.findall(f"{q}Coding")
                if c.find(f"{q}CodeRef") is not None
            ]
            selections.append(
                {
                    "source": source.get("name"),
                    "name": sel.get("name"),
                    "start": start,
                    "end": end,
                    "text": text[start:end],
                    "user": owner,
                    "codes": sorted(str(c) for c, _ in codings),
                    "codings": codings,
                    "notes": [r.get("targetGUID") for r in sel.findall(f"{q}NoteRef")],
                }
            )
    cases = [c.get("name") for c in root.iter(f"{q}Case")]
    return {"users": users, "codes": codes, "notes": notes, "code_notes": code_notes,
            "selections": selections, "cases": cases}


def _source_text(source: ET.Element, texts: dict[str, str], q: str) -> str:
    """A text source's plain text: inline, or the zip's sources/ file it names."""
    inline = source.find(f"{q}PlainTextContent")
    if inline is not None:
        return inline.text or ""
    name = (source.get("plainTextPath") or "").replace("internal://", "sources/")
    return texts.get(name, "")


def project_corrections(
    project: dict, segments: pd.DataFrame, codes: list[str]
) -> tuple[list[dict], list[dict], list[dict]]:
    """A read project -> (correction records, memo records, quarantined codings) for the
    segments (with `document`, `doc_start`, `doc_end`). Codings by the cryptodrug coder
    (the machine) are not a human's and are skipped; every other coding is quarantined
    (code outside the codebook, empty selection outside the segments) or becomes
    corrections."""
    users, machine = project["users"], MACHINE_USER
    by_doc = {d: g.sort_values("doc_start") for d, g in segments.groupby("document")}
    coded: dict[tuple[str, str], dict] = {}  # (segment, coder) -> text, codes, spans
    quarantined, memos = [], []
    for sel in project["selections"]:
        targets = _overlapped(sel, by_doc.get(sel["source"]))
        for code, user in sel["codings"]:
            if user == machine:
                continue
            coder = users.get(user, user) or "unknown"
            reason = ("code not in the codebook" if code not in codes
                      else "" if targets else "an empty selection outside every segment")
            if reason:
                quarantined.append({"source": sel["source"], "start": sel["start"],
                                    "end": sel["end"], "code": code, "coder": coder,
                                    "reason": reason})
                continue
            for segment_id, text, span in targets:
                entry = coded.setdefault((segment_id, coder), {"text": text, "codes": {}})
                entry["codes"][code] = span
        if sel["user"] != machine and not sel["codings"] and sel["user"] in users:
            for segment_id, text, _ in targets:  # looked at, left without codes
                coded.setdefault((segment_id, users[sel["user"]]), {"text": text, "codes": {}})
        for note in sel["notes"]:
            for segment_id, _, _ in targets:
                memos.append(_memo(project, note, codes, segment_id=segment_id))
    for code, note in project["code_notes"]:
        if code in codes:
            memos.append(_memo(project, note, codes, code=code))
    records = []
    for (segment_id, coder), entry in sorted(coded.items()):
        for code in codes:
            span = entry["codes"].get(code, "absent")
            records.append(make_correction(
                segment_id, code, "reject" if span == "absent" else "accept", codes,
                entry["text"], coder=coder, span=None if span == "absent" else span,
            ))
    return records, [m for m in memos if m is not None], quarantined


def _overlapped(sel: dict, segments: pd.DataFrame | None) -> list[tuple[str, str, tuple | None]]:
    """(segment_id, text, span in it or None for all of it) of the segments a selection
    overlaps; a selection outside every segment is a segment of its own."""
    hits = []
    if segments is not None:
        for seg in segments.itertuples(index=False):
            start, end = max(sel["start"], int(seg.doc_start)), min(sel["end"], int(seg.doc_end))
            if start < end:
                whole = start == int(seg.doc_start) and end == int(seg.doc_end)
                span = None if whole else (start - int(seg.doc_start), end - int(seg.doc_start))
                hits.append((seg.segment_id, seg.text, span))
    if hits or not sel["text"].strip():
        return hits
    return [(f"qdpx:{sel['source']}:{sel['start']}-{sel['end']}", sel["text"], None)]


def _memo(project: dict, note: str, codes: list[str], **target: str) -> dict | None:
    if note not in project["notes"]:
        return None
    text, user, at = project["notes"][note]
    return make_memo(text, project["users"].get(user, user) or "unknown", codes, at=at,
                     **target)

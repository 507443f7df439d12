"""REFI-QDA export (`.qdpx`): a zip with `project.qde` (QDA-XML project 1.0) and one plain
text file per source, so the coded project opens in QualCoder, NVivo, ATLAS.ti or MAXQDA.

Sources are the documents the importers built (a respondent's survey answers, a
transcript); each coded segment is a `PlainTextSelection` at its character positions in
that document, carrying one `Coding` per assigned code; respondents are `Cases`. GUIDs are
uuid5 of stable names, so re-exporting the same project gives the same file contents.
"""

from __future__ import annotations

import uuid
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import pandas as pd

from pipeline.core.codebook import Codebook
from pipeline.core.io import InputError

NS = "urn:QDA-XML:project:1.0"
NAMESPACE = uuid.UUID("6f1c7f0e-7a51-4c39-9d0a-2c1b6b3e4f10")


def guid(*parts: object) -> str:
    return str(uuid.uuid5(NAMESPACE, "/".join(map(str, parts))))


def _el(parent: ET.Element, tag: str, **attrs: object) -> ET.Element:
    return ET.SubElement(parent, f"{{{NS}}}{tag}", {k: str(v) for k, v in attrs.items()})


def build_project(
    codebook: Codebook,
    documents: pd.DataFrame,
    segments: pd.DataFrame,
    codes: pd.DataFrame,
    name: str = "cryptodrug themes",
) -> tuple[bytes, dict[str, str]]:
    """(project.qde XML, {zip path: source text}) for coded segments (one row per code)."""
    ET.register_namespace("", NS)
    user = guid("user", "cryptodrug")
    root = ET.Element(
        f"{{{NS}}}Project", {"name": name, "origin": "cryptodrug", "creatingUserGUID": user}
    )
    users = _el(root, "Users")
    _el(users, "User", guid=user, name="cryptodrug coder")
    code_guids = {c.id: guid("code", c.id) for c in codebook.codes}
    code_list = _el(_el(root, "CodeBook"), "Codes")
    for c in codebook.codes:
        node = _el(code_list, "Code", guid=code_guids[c.id], name=c.id, isCodable="true")
        _el(node, "Description").text = f"{c.definition} Include: {c.include} Exclude: {c.exclude}"
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
            creatingUser=user,
        )
        in_doc = segments[segments["document"] == document].sort_values("doc_start")
        for seg in in_doc.itertuples(index=False):
            if seg.segment_id not in by_segment.groups:
                continue
            selection = _el(
                source,
                "PlainTextSelection",
                guid=guid("segment", seg.segment_id),
                name=seg.segment_id,
                startPosition=int(seg.doc_start),
                endPosition=int(seg.doc_end),
                creatingUser=user,
            )
            rows = by_segment.get_group(seg.segment_id).sort_values("code")
            _el(selection, "Description").text = "; ".join(
                f"{r.code} ({r.confidence:.2f}): {seg.text[int(r.start) : int(r.end)]}"
                for r in rows.itertuples(index=False)
            )
            for r in rows.itertuples(index=False):
                coding = _el(
                    selection,
                    "Coding",
                    guid=guid("coding", seg.segment_id, r.code),
                    creatingUser=user,
                )
                _el(coding, "CodeRef", targetGUID=code_guids[r.code])
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True), files


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
    """Parse a .qdpx back: codes {guid: name} and selections with their codes and text."""
    with zipfile.ZipFile(path) as archive:
        root = ET.fromstring(archive.read("project.qde"))
        texts = {
            n: archive.read(n).decode("utf-8") for n in archive.namelist() if n != "project.qde"
        }
    q = f"{{{NS}}}"
    codes = {c.get("guid"): c.get("name") for c in root.iter(f"{q}Code")}
    selections = []
    for source in root.iter(f"{q}TextSource"):
        text = texts[source.get("plainTextPath").replace("internal://", "sources/")]
        for sel in source.iter(f"{q}PlainTextSelection"):
            start, end = int(sel.get("startPosition")), int(sel.get("endPosition"))
            selections.append(
                {
                    "source": source.get("name"),
                    "name": sel.get("name"),
                    "start": start,
                    "end": end,
                    "text": text[start:end],
                    "codes": sorted(
                        codes[ref.get("targetGUID")] for ref in sel.iter(f"{q}CodeRef")
                    ),
                }
            )
    cases = [c.get("name") for c in root.iter(f"{q}Case")]
    return {"codes": codes, "selections": selections, "cases": cases}

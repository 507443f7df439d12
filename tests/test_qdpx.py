"""REFI-QDA both ways: every export validates against the official QDA-XML 1.0 schema, an
export-import round trip keeps every coding, span, memo and coder, and a project coded in
another QDA program (QualCoder-style: inline text, its own users) becomes corrections."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pandas as pd
import pytest
from lxml import etree
from test_inspect_browser import coding_tables
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.core.agreement import coder_codings
from pipeline.core.codebook import load_codebook
from pipeline.core.corrections import (
    append_correction,
    append_memo,
    append_records,
    append_undo,
    correction_spans,
    load_corrections,
    load_memos,
)
from pipeline.core.io import InputError, write_table
from pipeline.themes.qdpx import build_project, project_corrections, read_qdpx, write_qdpx

XSD = Path(__file__).resolve().parents[2] / "shared" / "schemas" / "refi-qda" / "Project.xsd"


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    if not XSD.exists():
        pytest.skip(f"{XSD} not found (the REFI-QDA schema lives in ../shared/schemas)")
    return etree.XMLSchema(etree.parse(str(XSD)))


def assert_valid(schema: etree.XMLSchema, path: Path) -> None:
    with zipfile.ZipFile(path) as archive:
        doc = etree.fromstring(archive.read("project.qde"))
    assert schema.validate(doc), schema.error_log.last_error


def _coded(tmp_path: Path) -> Path:
    """Two coders' corrections on the tables: spans, a removal of every code, a change,
    memos on segments and codes, and an undone action."""
    t, ids = coding_tables(), load_codebook().ids
    path, text = tmp_path / "corr.jsonl", dict(zip(t["segments"]["segment_id"],
                                                   t["segments"]["text"], strict=True))
    append_correction(path, "i-2", "USE_FREQUENCY", "accept", ids, text["i-2"], "en",
                      coder="ann", span=(2, 15))
    append_correction(path, "i-2", "MOTIVE_PRICE", "reject", ids, text["i-2"], coder="ann")
    append_correction(path, "s-Q2", "DISCOVERY_CLEARWEB_FORUM", "change", ids, text["s-Q2"],
                      new_code="DISCOVERY_SOCIAL_MEDIA", coder="ann")
    append_correction(path, "i-3", "RISK_POLICE", "reject", ids, text["i-3"], coder="bob")
    append_correction(path, "s-Q2", "DISCOVERY_SOCIAL_MEDIA", "accept", ids, text["s-Q2"],
                      coder="bob")
    append_correction(path, "s-Q1", "MOTIVE_RANGE", "accept", ids, text["s-Q1"], coder="bob")
    append_undo(path, "bob")  # takes back MOTIVE_RANGE
    append_memo(path, "habit, not price", "ann", ids, segment_id="i-2")
    append_memo(path, "includes fear of arrest", "bob", ids, code="RISK_POLICE")
    append_memo(path, "ask about sellers", "bob", ids, segment_id="s-Q3")  # an uncoded one
    return path


def _export(tmp_path: Path, corrections: Path | None) -> Path:
    t = coding_tables()
    xml, files = build_project(
        load_codebook(), t["documents"], t["segments"], t["codes"],
        corrections=load_corrections(corrections) if corrections else None,
        memos=load_memos(corrections) if corrections else None,
    )
    return write_qdpx(tmp_path / "p.qdpx", xml, files)


def test_exports_validate_against_the_refi_qda_schema(tmp_path, schema):
    assert_valid(schema, _export(tmp_path, None))
    assert_valid(schema, _export(tmp_path, _coded(tmp_path)))


def test_round_trip_keeps_every_coding_span_memo_and_coder(tmp_path, schema):
    corrections = _coded(tmp_path)
    path = _export(tmp_path, corrections)
    t, ids = coding_tables(), load_codebook().ids
    records, memos, quarantined = project_corrections(read_qdpx(path), t["segments"], ids)
    assert quarantined == []
    back = pd.DataFrame(records)
    before = load_corrections(corrections)
    assert set(back["coder"]) == {"ann", "bob"}

    def codings(frame: pd.DataFrame) -> dict:
        found = coder_codings(frame, t["codes"])
        return {(r.segment_id, r.coder): r.codes for r in found.itertuples()}

    assert codings(back) == codings(before)
    assert codings(before)[("i-3", "bob")] == []  # removed everything: kept as "no codes"
    assert ("s-Q1", "bob") not in codings(back)  # the undone action stays undone
    spans = {c: correction_spans(g) for c, g in back.groupby("coder")}
    assert spans["ann"][("i-2", "USE_FREQUENCY")] == (2, 15)
    key = ["segment_id", "code", "memo", "coder"]
    memo_rows = pd.DataFrame(memos)[key].sort_values(key).reset_index(drop=True)
    assert memo_rows.equals(load_memos(corrections)[key].sort_values(key).reset_index(drop=True))
    # re-exporting the imported corrections gives the same project
    again = tmp_path / "again.jsonl"
    append_records(again, records + memos)
    (tmp_path / "second").mkdir()
    assert _export(tmp_path / "second", again).read_bytes() == path.read_bytes()


QUALCODER = """<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="interviews" origin="QualCoder 3.5">
<Users><User guid="{u1}" name="Marie"/><User guid="{u2}" name="Joost"/></Users>
<CodeBook><Codes>
<Code guid="{c1}" name="RISK_POLICE" isCodable="true"><NoteRef targetGUID="{n1}"/></Code>
<Code guid="{c2}" name="fear" isCodable="true"/>
<Code guid="{c3}" name="MOTIVE_PRICE" isCodable="true"/></Codes></CodeBook>
<Sources>
<TextSource guid="{s1}" name="interview:r2" plainTextPath="internal://{s1}.txt">
<PlainTextSelection guid="{p1}" startPosition="{a}" endPosition="{b}" creatingUser="{u1}">
<Coding guid="{k1}" creatingUser="{u1}"><CodeRef targetGUID="{c1}"/></Coding>
<Coding guid="{k2}" creatingUser="{u1}"><CodeRef targetGUID="{c2}"/></Coding>
<NoteRef targetGUID="{n2}"/></PlainTextSelection>
<PlainTextSelection guid="{p2}" startPosition="0" endPosition="{end}" creatingUser="{u2}">
<Coding guid="{k3}" creatingUser="{u2}"><CodeRef targetGUID="{c3}"/></Coding>
</PlainTextSelection></TextSource>
<TextSource guid="{s2}" name="extra notes">
<PlainTextContent>Cash by post, police never came.</PlainTextContent>
<PlainTextSelection guid="{p3}" startPosition="0" endPosition="13" creatingUser="{u2}">
<Coding guid="{k4}" creatingUser="{u2}"><CodeRef targetGUID="{c3}"/></Coding>
</PlainTextSelection></TextSource></Sources>
<Notes><Note guid="{n1}" name="def" creatingUser="{u2}"><PlainTextContent>arrests too
</PlainTextContent></Note><Note guid="{n2}" name="m" creatingUser="{u1}">
<PlainTextContent>fear of police</PlainTextContent></Note></Notes></Project>"""


def _qualcoder(tmp_path: Path) -> tuple[Path, dict]:
    t = coding_tables()
    doc = t["documents"].set_index("document").at["interview:r2", "text"]
    seg = t["segments"].set_index("segment_id").loc["i-3"]
    names = {k: f"00000000-0000-4000-8000-{i:012d}" for i, k in enumerate(
        ["u1", "u2", "c1", "c2", "c3", "s1", "s2", "p1", "p2", "p3", "k1", "k2", "k3", "k4",
         "n1", "n2"])}
    xml = QUALCODER.format(**names, a=int(seg.doc_start), b=int(seg.doc_start) + 10,
                           end=len(doc))
    path = tmp_path / "qualcoder.qdpx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("project.qde", xml)
        archive.writestr(f"sources/{names['s1']}.txt", doc)
    return path, t


def test_a_project_coded_elsewhere_becomes_corrections(tmp_path, schema):
    path, t = _qualcoder(tmp_path)
    with zipfile.ZipFile(path) as archive:
        assert schema.validate(etree.fromstring(archive.read("project.qde")))
    ids = load_codebook().ids
    records, memos, quarantined = project_corrections(read_qdpx(path), t["segments"], ids)
    assert [(q["code"], q["coder"], q["reason"]) for q in quarantined] == [
        ("fear", "Marie", "code not in the codebook")
    ]
    codings = coder_codings(pd.DataFrame(records), t["codes"])
    got = {(r.segment_id, r.coder): r.codes for r in codings.itertuples()}
    # Marie coded part of i-3; Joost the whole transcript (every turn) and a passage of a
    # source that is no segment here, which becomes a segment of its own for training
    assert got[("i-3", "Marie")] == ["RISK_POLICE"]
    assert {s for s, c in got if c == "Joost"} == {"i-1", "i-2", "i-3",
                                                  "qdpx:extra notes:0-13"}
    assert all(v == ["MOTIVE_PRICE"] for (s, c), v in got.items() if c == "Joost")
    span = next(r for r in records if r["coder"] == "Marie" and r["action"] == "accept")
    assert (span["start"], span["end"]) == (0, 10)
    assert {(m["coder"], m["segment_id"], m["code"], m["memo"].strip()) for m in memos} == {
        ("Marie", "i-3", "", "fear of police"), ("Joost", "", "RISK_POLICE", "arrests too")}
    # counts: 4 codings by researchers = 3 used + 1 quarantined
    segments_path = tmp_path / "segments.parquet"
    write_table(t["segments"], segments_path)
    corrections = tmp_path / "c" / "themes.jsonl"
    result = CliRunner().invoke(app, ["import-qdpx", str(path), str(segments_path),
                                      "--corrections", str(corrections)])
    assert result.exit_code == 0, result.output
    assert "4 codings by researchers = 3 used + 1 quarantined" in " ".join(result.output.split())
    assert len(load_corrections(corrections)) == len(records)
    assert (tmp_path / "c" / "themes.quarantine.csv").exists()


def test_cli_export_carries_corrections_and_validates(tmp_path, schema):
    t = coding_tables()
    segments_path, codes_path = tmp_path / "seg.parquet", tmp_path / "codes.parquet"
    write_table(t["segments"], segments_path)
    write_table(t["documents"], tmp_path / "seg.documents.parquet")
    write_table(t["codes"], codes_path)
    out = tmp_path / "out.qdpx"
    result = CliRunner().invoke(app, ["export-qdpx", str(segments_path), str(codes_path),
                                      "-o", str(out), "--corrections", str(_coded(tmp_path))])
    assert result.exit_code == 0, result.output
    assert_valid(schema, out)
    assert set(read_qdpx(out)["users"].values()) == {"cryptodrug coder", "ann", "bob"}


def test_not_a_project_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.qdpx"
    bad.write_text("no zip")
    with pytest.raises(InputError, match="not a REFI-QDA project"):
        read_qdpx(bad)
    result = CliRunner().invoke(app, ["import-qdpx", str(bad), str(bad)])
    assert result.exit_code == 2

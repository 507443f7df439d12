"""The corrections log behind the browser: coder names, spans, memos and undo."""

from __future__ import annotations

import pytest

from pipeline.core.codebook import load_codebook
from pipeline.core.corrections import (
    append_correction,
    append_memo,
    append_undo,
    load_corrections,
    load_memos,
    read_log,
)
from pipeline.core.io import InputError

IDS = load_codebook().ids


def test_undo_takes_back_the_coders_own_latest_record(tmp_path):
    path = tmp_path / "c.jsonl"
    append_correction(path, "s1", "MOTIVE_PRICE", "reject", IDS, "abc", coder="ann")
    append_correction(path, "s1", "MOTIVE_QUALITY", "accept", IDS, "abc", coder="bob")
    append_memo(path, "first", "ann", IDS, segment_id="s1")
    append_memo(path, "second", "ann", IDS, segment_id="s1")
    assert load_memos(path)["memo"].tolist() == ["second"]  # an edited memo replaces
    assert append_undo(path, "ann")["memo"] == "second"
    assert load_memos(path)["memo"].tolist() == ["first"]
    append_undo(path, "ann")
    append_undo(path, "ann")  # bob's record is not ann's to undo
    assert load_corrections(path)["coder"].tolist() == ["bob"]
    with pytest.raises(InputError, match="nothing of coder 'ann'"):
        append_undo(path, "ann")
    assert len(path.read_text().splitlines()) == 7  # the log only grows


def test_spans_must_lie_in_the_segment_and_records_must_be_whole(tmp_path):
    path = tmp_path / "c.jsonl"
    saved = append_correction(path, "s1", "MOTIVE_PRICE", "accept", IDS, "cheap stuff",
                              coder="ann", span=(0, 5))
    assert (saved["start"], saved["end"]) == (0, 5)
    for span in ((3, 3), (-1, 2), (0, 12)):
        with pytest.raises(InputError, match="span"):
            append_correction(path, "s1", "MOTIVE_PRICE", "accept", IDS, "cheap stuff", span=span)
    with pytest.raises(InputError, match="memo"):
        append_memo(path, "x", "ann", IDS)
    path.write_text('{"action": "memo", "memo": "on nothing"}\n')
    with pytest.raises(InputError, match="memo needs"):
        read_log(path)
    old = tmp_path / "old.jsonl"  # a file written before coders and spans existed
    old.write_text('{"segment_id": "s1", "code": "MOTIVE_PRICE", "action": "reject"}\n')
    frame = load_corrections(old)
    assert (frame.at[0, "coder"], frame.at[0, "start"]) == ("", -1)

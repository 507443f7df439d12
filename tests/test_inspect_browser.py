"""Coding in the researchers' browser, driven in headless Chromium: a coder name per session,
a segment in its context, codes added on a selected span and removed, memos, undo, search,
uncoded and quarantined views, the co-occurrence matrix, keyboard shortcuts and the
agreement page between two coders."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from test_themes_browser import CHROMIUM, _Server

from pipeline.core.codebook import load_codebook
from pipeline.inspect.app import create_app

TURNS = [
    ("I", "How did you start?"),
    ("R", "A friend showed me the market."),
    ("I", "And then?"),
    ("R", "I kept ordering because it was cheap."),
    ("I", "Any worries?"),
    ("R", "The police, a little."),
]


def coding_tables() -> dict[str, pd.DataFrame]:
    """Two survey answers of one respondent, an interview of three turns with the
    interviewer's questions between them, an uncoded answer and a quarantined one."""
    rows, docs = [], {}
    survey = {"Q1": ("Why buy online?", "Cheaper and better quality."),
              "Q2": ("How did you find it?", "Via Reddit."),
              "Q3": ("Anything else?", "Geen idee eigenlijk.")}
    doc = ""
    for qid, (question, answer) in survey.items():
        doc += f"{qid}: {question}\n"
        rows.append({"segment_id": f"s-{qid}", "respondent_id": "r1", "source": "survey",
                     "question_id": qid, "question": question, "text": answer,
                     "document": "survey:r1", "doc_start": len(doc),
                     "doc_end": len(doc) + len(answer)})
        doc += answer + "\n\n"
    docs["survey:r1"] = doc
    doc, n = "", 0
    for speaker, turn in TURNS:
        doc += f"{speaker}: "
        if speaker == "R":
            n += 1
            rows.append({"segment_id": f"i-{n}", "respondent_id": "r2", "source": "interview",
                         "question_id": "", "question": "", "text": turn,
                         "document": "interview:r2", "doc_start": len(doc),
                         "doc_end": len(doc) + len(turn)})
        doc += turn + "\n"
    docs["interview:r2"] = doc
    rows.append({"segment_id": "x-1", "respondent_id": "r3", "source": "survey",
                 "question_id": "Q1", "question": "Why buy online?", "text": "???",
                 "document": "survey:r3", "doc_start": 0, "doc_end": 3})
    docs["survey:r3"] = "???"
    segments = pd.DataFrame(rows)
    machine = [("s-Q1", "MOTIVE_PRICE", 0, 7), ("s-Q1", "MOTIVE_QUALITY", 19, 26),
               ("s-Q2", "DISCOVERY_CLEARWEB_FORUM", 4, 10), ("i-1", "DISCOVERY_FRIENDS", 2, 8),
               ("i-2", "MOTIVE_PRICE", 31, 36), ("i-3", "RISK_POLICE", 4, 10)]
    meta = segments.set_index("segment_id")
    codes = pd.DataFrame(
        [{"segment_id": s, "code": c, "confidence": 0.8, "lang": "en", "start": a, "end": b,
          "evidence": meta.at[s, "text"][a:b], "needs_review": False, "origin": "model",
          "respondent_id": meta.at[s, "respondent_id"], "source": meta.at[s, "source"],
          "question_id": meta.at[s, "question_id"]} for s, c, a, b in machine]
    )
    quarantine = segments[segments["segment_id"] == "x-1"].assign(reason="too_short", lang="")
    return {"segments": segments[segments["segment_id"] != "x-1"], "codes": codes,
            "documents": pd.DataFrame({"document": list(docs), "text": list(docs.values())}),
            "quarantine": quarantine}


def make_app(corrections: Path):
    t = coding_tables()

    def build(port: int):
        return create_app(t["segments"], t["codes"], load_codebook(), corrections, port, "tok",
                          documents=t["documents"], quarantine=t["quarantine"])
    return build


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture
def chromium():
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                    args=["--no-sandbox", "--disable-gpu", "--no-first-run",
                                          "--disable-background-networking"])
        yield browser
        browser.close()


def _login(browser, url: str, name: str):
    """A fresh browser session that opens the app and gives its coder name once."""
    page = browser.new_context().new_page()
    page.goto(f"{url}/?token=tok")
    page.click("#set-coder")
    page.fill("#coder-name", name)
    page.click("button[type=submit]")
    assert page.locator("#coder").inner_text() == name
    return page


@pytest.mark.browser
def test_coding_a_segment_in_context(tmp_path, chromium):
    corrections = tmp_path / "corr.jsonl"
    with _Server(make_app(corrections)) as url:
        page = _login(chromium, url, "ann")
        # the survey answer with its question
        page.goto(f"{url}/segment/s-Q1")
        assert page.locator("#question").inner_text() == "Q1: Why buy online?"
        # the interview turn with the turns and the interviewer's questions around it
        page.goto(f"{url}/segment/i-2")
        context = page.locator("#context").inner_text()
        assert "A friend showed me" in context and "I: Any worries?" in context
        assert page.locator("#context mark").inner_text() == TURNS[3][1]
        # the add-code menu: the codebook grouped, nothing chosen
        menu = page.locator("#add-code select[name=code]")
        assert menu.locator("optgroup").count() >= 5 and menu.input_value() == ""
        # select "kept ordering" in the answer: the span fields follow the selection
        text = TURNS[3][1]
        start, end = text.index("kept ordering"), text.index("kept ordering") + 13
        page.evaluate(
            """([a, b]) => { const n = document.getElementById('answer').firstChild;
            const r = document.createRange(); r.setStart(n, a); r.setEnd(n, b);
            const s = document.getSelection(); s.removeAllRanges(); s.addRange(r); }""",
            [start, end],
        )
        page.wait_for_function(f"document.getElementById('end').value === '{end}'")
        assert page.locator("#start").input_value() == str(start)
        menu.select_option("USE_FREQUENCY")
        page.click("#add-code button[value=accept]")
        assert page.locator("li.code[data-code=USE_FREQUENCY]").count() == 1
        assert '"kept ordering"' in page.locator("li.code[data-code=USE_FREQUENCY]").inner_text()
        # remove a machine code, then a memo on the segment
        page.click("li.code[data-code=MOTIVE_PRICE] button.remove")
        assert page.locator("li.code[data-code=MOTIVE_PRICE]").count() == 0
        page.fill("#segment-memo textarea", "habit, not price")
        page.click("#segment-memo button")
        assert "habit, not price" in page.locator(".memo").inner_text()
        # undo (keyboard: u) takes back the memo, then the removal
        with page.expect_navigation():
            page.keyboard.press("u")
        assert page.locator(".memo").count() == 0
        page.click("#undo button")
        assert page.locator("li.code[data-code=MOTIVE_PRICE]").count() == 1
        # a memo on a code
        page.goto(f"{url}/code/RISK_POLICE")
        page.fill("#code-memo textarea", "includes fear of arrest")
        page.click("#code-memo button")
        assert "includes fear of arrest" in page.locator(".code-memo").inner_text()
    records = _records(corrections)
    assert {r["coder"] for r in records} == {"ann"}
    added = next(r for r in records if r.get("code") == "USE_FREQUENCY")
    assert (added["action"], added["start"], added["end"]) == ("accept", start, end)


@pytest.mark.browser
def test_views_search_shortcuts_and_agreement(tmp_path, chromium):
    corrections = tmp_path / "corr.jsonl"
    with _Server(make_app(corrections)) as url:
        page = _login(chromium, url, "ann")
        # full-text search from the nav (keyboard: /)
        page.keyboard.press("/")
        page.keyboard.type("reddit")
        page.keyboard.press("Enter")
        assert page.locator("#count").inner_text().startswith("1 segments")
        assert page.locator("tr.seg").get_attribute("id") == "seg-s-Q2"
        page.goto(f"{url}/uncoded")
        assert page.locator("tr.seg").get_attribute("id") == "seg-s-Q3"
        page.goto(f"{url}/quarantined")
        assert "too_short" in page.locator("#quarantine").inner_text()
        # the co-occurrence matrix: a cell opens the segments with both codes
        page.goto(f"{url}/cooccurrence")
        page.click("a[href='/cooccurrence/MOTIVE_PRICE/MOTIVE_QUALITY']")
        assert page.locator("tr.seg").get_attribute("id") == "seg-s-Q1"
        # keyboard on a code page: j picks the first segment, r rejects its code
        page.goto(f"{url}/code/MOTIVE_PRICE")
        first = page.locator(".seg").first.get_attribute("id")
        page.keyboard.press("j")
        assert "current" in page.locator(".seg").first.get_attribute("class")
        with page.expect_navigation():
            page.keyboard.press("r")
        assert page.locator(f"[id='{first}']").count() == 0
        # the change menu: grouped, nothing chosen
        assert page.locator("form.change select").first.input_value() == ""
        # a second coder disagrees on i-3 and agrees on s-Q2
        bob = _login(chromium, url, "bob")
        bob.goto(f"{url}/segment/i-3")
        bob.click("li.code[data-code=RISK_POLICE] button.remove")
        bob.goto(f"{url}/segment/s-Q2")
        bob.locator("#add-code select[name=code]").select_option("DISCOVERY_SOCIAL_MEDIA")
        bob.click("#add-code button[value=accept]")
        page.goto(f"{url}/segment/s-Q2")
        page.locator("#add-code select[name=code]").select_option("DISCOVERY_SOCIAL_MEDIA")
        page.click("#add-code button[value=accept]")
        page.goto(f"{url}/segment/i-3")
        page.locator("#add-code select[name=code]").select_option("RISK_VENDOR")
        page.click("#add-code button[value=accept]")
        page.goto(f"{url}/agreement")
        table = page.locator("#agreement").inner_text()
        assert "ann vs bob" in table and "machine vs ann" in table and "machine vs bob" in table
        row = page.locator("#agreement tr", has_text="ann vs bob").inner_text().split("\t")
        assert row[1] == "2"  # segments both coders corrected
        assert page.locator("#kappa").inner_text().count("RISK_POLICE") == 1
    assert {r["coder"] for r in _records(corrections)} == {"ann", "bob"}

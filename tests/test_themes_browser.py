"""The researchers' browser (`cryptodrug inspect`): pages, token, corrections, and an
end-to-end run in headless Chromium where a correction survives re-training and re-coding."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from fastapi.testclient import TestClient

from pipeline.core.codebook import load_codebook
from pipeline.core.io import read_table
from pipeline.inspect.app import create_app
from pipeline.themes.stage import run_code, run_import, run_train

CHROMIUM = Path("/usr/bin/chromium")
PORT = 8765
BASE = f"http://127.0.0.1:{PORT}"


def _tables():
    segments = pd.DataFrame(
        {
            "segment_id": ["s1", "s2", "s3"],
            "respondent_id": ["r1", "r1", "r2"],
            "source": ["survey", "survey", "interview"],
            "text": ["Cheaper <b>and</b> better quality.", "Via Reddit.", "Moins cher."],
        }
    )
    codes = pd.DataFrame(
        {
            "segment_id": ["s1", "s1", "s2", "s3"],
            "code": ["MOTIVE_PRICE", "MOTIVE_QUALITY", "DISCOVERY_CLEARWEB_FORUM", "MOTIVE_PRICE"],
            "confidence": [0.9, 0.55, 0.97, 0.8],
            "lang": ["en", "en", "en", "fr"],
            "start": [0, 22, 4, 0],
            "end": [7, 29, 10, 11],
            "evidence": ["Cheaper", "quality", "Reddit", "Moins cher."],
            "needs_review": [False, True, False, False],
            "origin": "model",
            "respondent_id": ["r1", "r1", "r1", "r2"],
            "source": ["survey", "survey", "survey", "interview"],
            "question_id": "Q1",
        }
    )
    return segments, codes


def csrf_of(page: str) -> str:
    """The CSRF token the server put in a page's correction forms."""
    return re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)


def set_coder(client: TestClient, name: str = "ann") -> str:
    """Give the session a coder name, as the browser asks once; returns the CSRF token."""
    csrf = csrf_of(client.get("/coder").text)
    answer = client.post("/coder", data={"name": name, "csrf": csrf, "back": "/"},
                         follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return csrf


def test_pages_token_and_corrections(tmp_path):
    segments, codes = _tables()
    corrections = tmp_path / "corrections.jsonl"
    client = TestClient(
        create_app(segments, codes, load_codebook(), corrections, PORT, token="s3cret"),
        base_url=BASE,
    )
    assert client.get("/").status_code == 403
    index = client.get("/?token=s3cret")
    assert index.status_code == 200 and "MOTIVE_PRICE" in index.text
    # counts per code, language and source: MOTIVE_PRICE twice, once en and once fr
    row = index.text.split('href="/code/MOTIVE_PRICE"')[1].split("</tr>")[0]
    assert [c.strip() for c in row.split("<td>")[2:]][:1] == ["2</td>"]
    page = client.get("/code/MOTIVE_PRICE")  # the cookie now carries the token
    assert (
        "<mark>Cheaper</mark> &lt;b&gt;and&lt;/b&gt;" in page.text
    )  # evidence marked, text escaped
    assert "2 segments" in page.text
    assert "1 segments" in client.get("/code/MOTIVE_PRICE?lang=fr").text
    assert "1 segments" in client.get("/code/MOTIVE_PRICE?respondent=r1").text
    assert "0 segments" in client.get("/code/MOTIVE_PRICE?min_conf=0.95").text
    assert client.get("/code/MOTIVE_PRICE?min_conf=high").status_code == 400
    assert 'href="/cooccurrence/MOTIVE_PRICE/MOTIVE_QUALITY">1<' in client.get("/cooccurrence").text
    set_coder(client)
    answer = client.post(
        "/correct",
        data={
            "segment_id": "s1",
            "code": "MOTIVE_QUALITY",
            "action": "change",
            "new_code": "VENDOR_REVIEWS",
            "back": "/code/MOTIVE_QUALITY",
            "csrf": csrf_of(page.text),
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303
    saved = [json.loads(line) for line in corrections.read_text().splitlines()]
    assert saved[0]["new_code"] == "VENDOR_REVIEWS" and saved[0]["text"].startswith("Cheaper")
    assert saved[0]["coder"] == "ann"
    assert "0 segments" in client.get("/code/MOTIVE_QUALITY").text
    assert "(researcher)" in client.get("/code/VENDOR_REVIEWS").text
    bad = client.post(
        "/correct",
        data={"segment_id": "s1", "code": "NOPE", "action": "accept", "csrf": csrf_of(page.text)},
    )
    assert bad.status_code == 400


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Server:
    """uvicorn in a thread, bound to 127.0.0.1 like `cryptodrug inspect`; `make_app(port)`
    builds the app for the free port it gets."""

    def __init__(self, make_app) -> None:
        import uvicorn

        self.port = _free_port()
        self.server = uvicorn.Server(
            uvicorn.Config(
                make_app(self.port), host="127.0.0.1", port=self.port, log_level="warning"
            )
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.time() + 20
        while not self.server.started and time.time() < deadline:
            time.sleep(0.05)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.mark.browser
@pytest.mark.slow
def test_browser_correction_survives_a_rerun(tmp_path, project_root, sample_data):
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    params = yaml.safe_load((project_root / "params.yaml").read_text())
    params["themes"]["coder"]["components"] = ["tfidf"]  # quick coder: the loop is under test
    params["themes"]["extra_gold"] = []  # the project's own gold is enough for the loop
    corrections = tmp_path / "data" / "corrections" / "themes.jsonl"
    params["themes"]["corrections"] = str(corrections)
    cfg = params["themes"]
    segments = tmp_path / "segments.parquet"
    run_import([sample_data / "survey", sample_data / "interviews"], segments, cfg)

    def rerun(tag: str) -> Path:
        model, out = tmp_path / f"model-{tag}", tmp_path / f"themes-{tag}.parquet"
        run_train(None, model, None, None, cfg, int(params["seed"]))
        run_code(segments, out, model, None, cfg)
        return out

    first = pd.read_parquet(rerun("1"))
    target = first[first["code"] == "MOTIVE_PRICE"].iloc[0]
    with (
        _Server(
            lambda port: create_app(
                read_table(segments),
                read_table(tmp_path / "themes-1.parquet"),
                load_codebook(cfg["codebook"]),
                corrections,
                port,
                "tok",
            )
        ) as url,
        sync_playwright() as p,
    ):
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        page = browser.new_page()
        page.goto(f"{url}/")
        assert "access token required" in page.content()
        page.goto(f"{url}/?token=tok")
        page.click("#set-coder")  # asked once per session
        page.fill("#coder-name", "ann")
        page.click("button[type=submit]")
        page.click("a[href='/code/MOTIVE_PRICE']")
        page.select_option("select[name=lang]", str(target["lang"]))
        page.click("#filters button")
        assert f"lang={target['lang']}" in page.url
        assert page.locator("mark").count() >= 1
        segment = page.locator(f"[id='seg-{target['segment_id']}']")
        segment.locator("button[value=reject]").click()
        page.wait_for_load_state()
        assert page.locator(f"[id='seg-{target['segment_id']}']").count() == 0
        page.goto(f"{url}/cooccurrence")
        assert page.locator("#cooccurrence").count() == 1
        browser.close()

    saved = [json.loads(line) for line in corrections.read_text().splitlines()]
    assert (saved[0]["segment_id"], saved[0]["code"], saved[0]["action"], saved[0]["coder"]) == (
        target["segment_id"],
        "MOTIVE_PRICE",
        "reject",
        "ann",
    )
    model_meta = tmp_path / "model-2" / "model_card.json"
    second = pd.read_parquet(rerun("2"))
    assert json.loads(model_meta.read_text())["training"]["correction_segments"] == 1
    kept = second[
        (second["segment_id"] == target["segment_id"]) & (second["code"] == "MOTIVE_PRICE")
    ]
    assert kept.empty  # the researcher's verdict holds after re-training and re-coding

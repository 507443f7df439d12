"""`cryptodrug inspect` against a hostile web page: cross-site form posts (CSRF), forged or
missing CSRF tokens and DNS rebinding (a foreign Host header) are refused with real HTTP
requests, while the researcher's own form post still saves a correction."""

from __future__ import annotations

import http.client
import re

import pytest
from fastapi.testclient import TestClient
from test_themes_browser import _Server, _tables, set_coder

from pipeline.core.codebook import load_codebook
from pipeline.inspect.app import create_app, same_origin
from pipeline.inspect.stage import HOST

PORT = 8765
BASE = f"http://127.0.0.1:{PORT}"
EVIL = "http://evil.example"


def _client(tmp_path, token: str | None = None) -> TestClient:
    segments, codes = _tables()
    app = create_app(segments, codes, load_codebook(), tmp_path / "c.jsonl", PORT, token)
    return TestClient(app, base_url=BASE)


def _csrf(client: TestClient, query: str = "") -> str:
    """The session's CSRF token, with a coder name set (actions need one)."""
    page = client.get(f"/code/MOTIVE_PRICE{query}")
    assert page.status_code == 200, page.text
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text).group(1)
    assert set_coder(client) == csrf
    return csrf


def _form(csrf: str | None) -> dict[str, str]:
    data = {"segment_id": "s1", "code": "MOTIVE_PRICE", "action": "reject", "back": "/"}
    return data if csrf is None else {**data, "csrf": csrf}


@pytest.mark.parametrize("token", [None, "s3cret"])
def test_cross_origin_form_post_is_refused(tmp_path, token):
    client = _client(tmp_path, token)
    csrf = _csrf(client, f"?token={token}" if token else "")
    for headers in ({"Origin": EVIL}, {"Origin": "null"}, {"Referer": f"{EVIL}/page"},
                    {"Origin": "http://localhost:8765"}):  # another origin than the Host
        answer = client.post("/correct", data=_form(csrf), headers=headers,
                             follow_redirects=False)
        assert answer.status_code == 403, headers
    assert not (tmp_path / "c.jsonl").exists()


@pytest.mark.parametrize("token", [None, "s3cret"])
def test_missing_wrong_or_foreign_csrf_token_is_refused(tmp_path, token):
    client = _client(tmp_path, token)
    mine = _csrf(client, f"?token={token}" if token else "")
    other = _client(tmp_path, token)
    theirs = _csrf(other, f"?token={token}" if token else "")  # another browser's session
    same = {"Origin": BASE}
    for csrf in (None, "", "0" * 64, theirs, mine.upper()):
        answer = client.post("/correct", data=_form(csrf), headers=same, follow_redirects=False)
        assert answer.status_code == 403, csrf
        assert "CSRF" in answer.text
    assert not (tmp_path / "c.jsonl").exists()
    ok = client.post("/correct", data=_form(mine), headers=same, follow_redirects=False)
    assert ok.status_code == 303 and (tmp_path / "c.jsonl").read_text().count("\n") == 1


@pytest.mark.parametrize("back", ["//evil.example/", "/\\evil.example/", "http://evil.example/"])
def test_the_redirect_after_a_correction_stays_on_this_server(tmp_path, back):
    client = _client(tmp_path)
    answer = client.post("/correct", data={**_form(_csrf(client)), "back": back},
                         follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/"


def test_a_fresh_browser_without_the_session_cookie_cannot_post(tmp_path):
    client = _client(tmp_path)
    csrf = _csrf(client)
    client.cookies.clear()  # a cross-site request carries no SameSite=Strict cookie
    answer = client.post("/correct", data=_form(csrf), follow_redirects=False)
    assert answer.status_code == 403


def test_session_cookie_and_headers_keep_pages_to_this_origin(tmp_path):
    page = _client(tmp_path).get("/")
    cookie = page.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    csp = page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "form-action 'self'" in csp
    assert "default-src 'none'" in csp


@pytest.mark.parametrize(
    "host", ["evil.example", f"evil.example:{PORT}", "127.0.0.1:9999", "127.0.0.1", ""]
)
def test_unknown_host_header_is_refused(tmp_path, host):
    client = _client(tmp_path)
    csrf = _csrf(client)
    assert client.get("/", headers={"Host": host}).status_code == 400
    posted = client.post("/correct", data=_form(csrf), headers={"Host": host},
                         follow_redirects=False)
    assert posted.status_code == 400
    assert not (tmp_path / "c.jsonl").exists()


def test_localhost_is_a_known_host(tmp_path):
    client = TestClient(_client(tmp_path).app, base_url=f"http://localhost:{PORT}")
    csrf = _csrf(client)
    answer = client.post("/correct", data=_form(csrf),
                         headers={"Origin": f"http://localhost:{PORT}"}, follow_redirects=False)
    assert answer.status_code == 303


def test_same_origin_rule():
    host = f"127.0.0.1:{PORT}"
    assert same_origin({"origin": BASE}, host)
    assert same_origin({"referer": f"{BASE}/code/X?lang=en"}, host)
    assert same_origin({}, host)  # no browser form: the CSRF token decides
    assert not same_origin({"referer": f"{BASE}.evil.example/"}, host)
    assert not same_origin({"origin": f"https://{host}"}, host)


def test_live_server_on_loopback_refuses_rebinding_and_cross_site_posts(tmp_path):
    """Real sockets: uvicorn on 127.0.0.1 as `cryptodrug inspect` runs it."""
    assert HOST == "127.0.0.1"
    segments, codes = _tables()

    def make(port: int):
        return create_app(segments, codes, load_codebook(), tmp_path / "c.jsonl", port)

    with _Server(make) as url:
        port = int(url.rsplit(":", 1)[1])

        def request(method: str, headers: dict[str, str], body: str = "") -> int:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request(method, "/correct" if body else "/", body=body or None, headers=headers)
            status = conn.getresponse().status
            conn.close()
            return status

        form = {"Content-Type": "application/x-www-form-urlencoded"}
        body = "segment_id=s1&code=MOTIVE_PRICE&action=reject&back=/"
        assert request("GET", {"Host": f"127.0.0.1:{port}"}) == 200
        assert request("GET", {"Host": f"rebound.example:{port}"}) == 400
        assert request("POST", {**form, "Host": f"127.0.0.1:{port}", "Origin": EVIL}, body) == 403
        assert request("POST", {**form, "Host": f"127.0.0.1:{port}"}, body) == 403  # no token
    assert not (tmp_path / "c.jsonl").exists()


@pytest.mark.parametrize(
    ("path", "form"),
    [
        ("/coder", {"name": "mallory"}),
        ("/memo", {"segment_id": "s1", "memo": "planted"}),
        ("/undo", {}),
    ],
)
def test_every_posting_form_checks_origin_and_csrf(tmp_path, path, form):
    client = _client(tmp_path)
    csrf = _csrf(client)
    for headers, data in (({"Origin": EVIL}, {**form, "csrf": csrf}),
                          ({}, form), ({}, {**form, "csrf": "0" * 64})):
        answer = client.post(path, data=data, headers=headers, follow_redirects=False)
        assert answer.status_code == 403, (headers, data)
    assert not (tmp_path / "c.jsonl").exists()
    assert "mallory" not in client.get("/").text


def test_actions_need_a_coder_name_and_names_are_checked(tmp_path):
    client = _client(tmp_path)
    page = client.get("/code/MOTIVE_PRICE")
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text).group(1)
    answer = client.post("/correct", data=_form(csrf), follow_redirects=False)
    assert answer.status_code == 403 and "coder name" in answer.text
    assert not (tmp_path / "c.jsonl").exists()
    for bad in ("", "   ", "x" * 41, "a\x00b"):
        posted = client.post("/coder", data={"name": bad, "csrf": csrf}, follow_redirects=False)
        assert posted.status_code == 400, bad
    form = {"name": "  Ann  Smit ", "csrf": csrf, "back": "//evil.example"}
    ok = client.post("/coder", data=form, follow_redirects=False)
    assert ok.status_code == 303 and ok.headers["location"] == "/"
    assert '<b id="coder">Ann Smit</b>' in client.get("/").text
    assert client.post("/correct", data=_form(csrf), follow_redirects=False).status_code == 303


def test_the_script_is_served_here_and_no_inline_script_runs(tmp_path):
    client = _client(tmp_path)
    page = client.get("/code/MOTIVE_PRICE")
    csp = page.headers["content-security-policy"]
    policy = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert policy["script-src"] == "'self'"
    assert re.findall(r"<script[^>]*>", page.text) == ['<script src="/static/inspect.js" defer>']
    script = client.get("/static/inspect.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]

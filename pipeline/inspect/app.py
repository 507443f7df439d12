"""`cryptodrug inspect`: a local web app for researchers to read and correct coded answers.

Server-rendered pages (FastAPI + Jinja2, no JavaScript, nothing loaded from the internet):
the codebook with counts per code, language and source; the segments of one code with the
evidence highlighted, filtered by respondent, language and confidence; code co-occurrence;
and accept / reject / change buttons. Corrections are appended to a JSON-lines file under
data/ that the next `dvc repro` trains on and applies (`pipeline.inspect.stage` serves it).

A page on any other site can make the researcher's browser post to 127.0.0.1, so every
request must name this server in its Host header (no DNS rebinding), a state-changing one
must come from this origin (Origin/Referer) and carry the session's CSRF token from the
form, with or without the optional access token (query `?token=` once, then a cookie).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from itertools import combinations
from pathlib import Path

import pandas as pd
from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import DictLoader, Environment, select_autoescape
from markupsafe import Markup, escape

from pipeline.core.codebook import Codebook
from pipeline.core.corrections import (
    ACTIONS,
    append_correction,
    apply_corrections,
    load_corrections,
)
from pipeline.core.io import InputError

COOKIE = "cryptodrug_token"
SESSION_COOKIE = "cryptodrug_session"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# no script, nothing from elsewhere, forms only to this server, never inside a frame
CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"

PAGES = {
    "base.html": """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{{ title }} - cryptodrug themes</title>
<style>
body{font-family:system-ui,sans-serif;margin:1.5rem;max-width:75rem}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}
mark{background:#ffe066}.seg{border:1px solid #ddd;padding:.6rem;margin:.6rem 0}
.meta{color:#555;font-size:.85rem}.human{color:#0a7d32}.review{color:#b35c00}
form.inline{display:inline}
</style></head><body>
<nav><a href="/">Codebook</a> | <a href="/cooccurrence">Co-occurrence</a></nav>
<h1>{{ title }}</h1>{% block body %}{% endblock %}</body></html>""",
    "index.html": """{% extends "base.html" %}{% block body %}
<p>{{ n_segments }} segments, {{ n_coded }} coded, {{ n_rows }} codes assigned,
{{ n_review }} to review. Corrections are saved to <code>{{ corrections }}</code>.</p>
<table id="codebook"><tr><th>code</th><th>definition</th><th>total</th>
{% for l in langs %}<th>{{ l }}</th>{% endfor %}
{% for s in sources %}<th>{{ s }}</th>{% endfor %}</tr>
{% for c in codes %}<tr><td><a href="/code/{{ c.id }}">{{ c.id }}</a></td>
<td>{{ c.definition }}</td>
<td>{{ counts.get((c.id, 'total'), 0) }}</td>
{% for l in langs %}<td>{{ counts.get((c.id, 'lang', l), 0) }}</td>{% endfor %}
{% for s in sources %}<td>{{ counts.get((c.id, 'source', s), 0) }}</td>{% endfor %}</tr>{% endfor %}
</table>{% endblock %}""",
    "code.html": """{% extends "base.html" %}{% block body %}
<p><b>Definition:</b> {{ code.definition }}<br><b>Include:</b> {{ code.include }}<br>
<b>Exclude:</b> {{ code.exclude }}</p>
<form method="get" id="filters">
respondent <select name="respondent"><option value="">all</option>
{% for r in respondents %}
<option{% if r == f.respondent %} selected{% endif %}>{{ r }}</option>
{% endfor %}</select>
language <select name="lang"><option value="">all</option>
{% for l in langs %}
<option{% if l == f.lang %} selected{% endif %}>{{ l }}</option>
{% endfor %}</select>
confidence from <input name="min_conf" size="4" value="{{ f.min_conf }}"> to
<input name="max_conf" size="4" value="{{ f.max_conf }}">
<button type="submit">filter</button></form>
<p id="count">{{ rows|length }} segments</p>
{% for r in rows %}<div class="seg" id="seg-{{ r.segment_id }}">
<div class="meta">{{ r.segment_id }} | respondent {{ r.respondent_id }}
| {{ r.lang }} | {{ r.source }}
| confidence {{ '%.2f'|format(r.confidence) }}
{% if r.origin == 'human' %}<span class="human">(researcher)</span>
{% elif r.needs_review %}<span class="review">(to review)</span>{% endif %}
| other codes: {{ r.others }}</div>
<p class="text">{{ r.html }}</p>
<form class="inline" method="post" action="/correct">
<input type="hidden" name="segment_id" value="{{ r.segment_id }}">
<input type="hidden" name="code" value="{{ code.id }}">
<input type="hidden" name="back" value="{{ back }}">
<input type="hidden" name="csrf" value="{{ csrf }}">
<button name="action" value="accept">Accept</button>
<button name="action" value="reject">Reject</button>
change to <select name="new_code">
{% for c in all_codes %}<option>{{ c }}</option>{% endfor %}</select>
<button name="action" value="change">Change</button></form></div>{% endfor %}
{% endblock %}""",
    "cooc.html": """{% extends "base.html" %}{% block body %}
<p>Segments coded with both codes (pairs that occur at least once).</p>
<table id="cooccurrence"><tr><th>code</th><th>code</th><th>segments</th></tr>
{% for (a, b), n in pairs %}<tr><td>{{ a }}</td><td>{{ b }}</td><td>{{ n }}</td></tr>{% endfor %}
</table>{% endblock %}""",
}
env = Environment(loader=DictLoader(PAGES), autoescape=select_autoescape(default=True))


def highlight(text: str, start: int, end: int) -> Markup:
    """The segment text with its evidence span marked (everything escaped)."""
    start, end = max(0, int(start)), min(len(text), int(end))
    return Markup(
        f"{escape(text[:start])}<mark>{escape(text[start:end])}</mark>{escape(text[end:])}"
    )


def code_counts(codes: pd.DataFrame) -> dict[tuple, int]:
    """Assigned codes per code, per (code, language) and per (code, source)."""
    counts: dict[tuple, int] = {}
    for code, n in codes.groupby("code").size().items():
        counts[(code, "total")] = int(n)
    for (code, lang), n in codes.groupby(["code", "lang"]).size().items():
        counts[(code, "lang", lang)] = int(n)
    for (code, source), n in codes.groupby(["code", "source"]).size().items():
        counts[(code, "source", source)] = int(n)
    return counts


def cooccurrence(codes: pd.DataFrame) -> list[tuple[tuple[str, str], int]]:
    """Pairs of codes on the same segment, most frequent first."""
    pairs: dict[tuple[str, str], int] = {}
    for _, group in codes.groupby("segment_id"):
        for pair in combinations(sorted(set(group["code"])), 2):
            pairs[pair] = pairs.get(pair, 0) + 1
    return sorted(pairs.items(), key=lambda item: (-item[1], item[0]))


class State:
    """Segments, the model's codes and the researchers' corrections applied on top."""

    def __init__(
        self, segments: pd.DataFrame, machine: pd.DataFrame, codebook: Codebook, corrections: Path
    ) -> None:
        self.segments = segments
        self.machine = machine
        self.codebook = codebook
        self.corrections = corrections
        self.refresh()

    def refresh(self) -> None:
        self.codes = apply_corrections(
            self.machine, self.segments, load_corrections(self.corrections)
        )


def allowed_hosts(port: int) -> frozenset[str]:
    """The Host headers a browser sends to this server; any other name is DNS rebinding."""
    return frozenset({f"127.0.0.1:{port}", f"localhost:{port}"})


def same_origin(headers: Mapping[str, str], host: str) -> bool:
    """Whether a request comes from a page of this server: its Origin (or, without one,
    its Referer) is `http://HOST`. A request with neither is no browser's cross-site form;
    the CSRF token still guards it."""
    here = f"http://{host}"
    origin = headers.get("origin")
    if origin is not None:
        return origin == here
    referer = headers.get("referer")
    return referer is None or referer == here or referer.startswith(here + "/")


def csrf_token(secret: bytes, session: str) -> str:
    """The session's CSRF token: only this server (which holds `secret`) can compute it."""
    return hmac.new(secret, session.encode(), hashlib.sha256).hexdigest()


def create_app(
    segments: pd.DataFrame,
    codes: pd.DataFrame,
    codebook: Codebook,
    corrections: Path,
    port: int,
    token: str | None = None,
) -> FastAPI:
    """The browser app over in-memory tables, answering only as 127.0.0.1:`port` or
    localhost:`port`; corrections go to `corrections`."""
    for column in ("respondent_id", "source"):
        if column not in segments.columns:
            segments[column] = ""
    state = State(segments, codes, codebook, corrections)
    texts = dict(zip(segments["segment_id"], segments["text"].astype(str), strict=True))
    langs_of = dict(zip(codes["segment_id"], codes["lang"], strict=False))
    app = FastAPI(title="cryptodrug themes", docs_url=None, redoc_url=None, openapi_url=None)

    hosts, secret = allowed_hosts(port), secrets.token_bytes(32)

    @app.middleware("http")
    async def guard(request: Request, call_next):
        host = request.headers.get("host", "")
        if host not in hosts:
            return Response(f"unknown host: open http://127.0.0.1:{port}/", 400)
        if request.method not in SAFE_METHODS and not same_origin(request.headers, host):
            return Response("cross-origin request refused", 403)
        given = request.query_params.get("token") or request.cookies.get(COOKIE) or ""
        if token is not None and not secrets.compare_digest(given, token):
            return Response("access token required: open the address with ?token=...", 403)
        session = request.cookies.get(SESSION_COOKIE) or ""
        fresh = not session
        session = session or secrets.token_urlsafe(32)
        request.state.csrf = csrf_token(secret, session)
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = CSP
        if fresh:
            response.set_cookie(SESSION_COOKIE, session, httponly=True, samesite="strict")
        if token is not None:
            response.set_cookie(COOKIE, token, httponly=True, samesite="strict")
        return response

    def page(request: Request, name: str, **context) -> HTMLResponse:
        html = env.get_template(name).render(csrf=request.state.csrf, **context)
        return HTMLResponse(html)

    @app.get("/", response_class=HTMLResponse)
    def index(request: Request) -> HTMLResponse:
        c = state.codes
        return page(
            request,
            "index.html",
            title="Codebook",
            codes=codebook.codes,
            counts=code_counts(c),
            langs=sorted(set(c["lang"])),
            sources=sorted(set(c["source"])),
            n_segments=len(segments),
            n_coded=c["segment_id"].nunique(),
            n_rows=len(c),
            n_review=int(c["needs_review"].sum()),
            corrections=str(corrections),
        )

    @app.get("/code/{code_id}", response_class=HTMLResponse)
    def code_page(
        request: Request,
        code_id: str,
        respondent: str = "",
        lang: str = "",
        min_conf: str = "",
        max_conf: str = "",
    ) -> HTMLResponse:
        try:
            code = codebook.get(code_id)
        except KeyError:
            return HTMLResponse(f"unknown code {escape(code_id)}", status_code=404)
        c = state.codes
        rows = c[c["code"] == code_id]
        if respondent:
            rows = rows[rows["respondent_id"] == respondent]
        if lang:
            rows = rows[rows["lang"] == lang]
        try:
            if min_conf:
                rows = rows[rows["confidence"] >= float(min_conf)]
            if max_conf:
                rows = rows[rows["confidence"] <= float(max_conf)]
        except ValueError:
            return HTMLResponse("confidence filters must be numbers", status_code=400)
        others = c.groupby("segment_id")["code"].apply(lambda s: ", ".join(sorted(s)))
        shown = []
        for r in rows.sort_values(["confidence", "segment_id"]).itertuples(index=False):
            shown.append(
                {
                    **r._asdict(),
                    "html": highlight(texts.get(r.segment_id, ""), r.start, r.end),
                    "others": others.get(r.segment_id, "").replace(code_id, "").strip(", "),
                }
            )
        back = str(request.url.path) + (f"?{request.url.query}" if request.url.query else "")
        return page(
            request,
            "code.html",
            title=code_id,
            code=code,
            rows=shown,
            respondents=sorted(set(c["respondent_id"])),
            langs=sorted(set(c["lang"])),
            f={"respondent": respondent, "lang": lang, "min_conf": min_conf, "max_conf": max_conf},
            all_codes=codebook.ids,
            back=back,
        )

    @app.get("/cooccurrence", response_class=HTMLResponse)
    def cooc(request: Request) -> HTMLResponse:
        return page(
            request, "cooc.html", title="Code co-occurrence", pairs=cooccurrence(state.codes)
        )

    @app.post("/correct")
    def correct(
        request: Request,
        segment_id: str = Form(...),
        code: str = Form(...),
        action: str = Form(...),
        new_code: str = Form(""),
        back: str = Form("/"),
        csrf: str = Form(""),
    ) -> Response:
        if not hmac.compare_digest(csrf, request.state.csrf):
            return HTMLResponse("missing or wrong CSRF token: reload the page", status_code=403)
        if segment_id not in texts or action not in ACTIONS:
            return HTMLResponse("unknown segment or action", status_code=400)
        try:
            append_correction(
                corrections,
                segment_id,
                code,
                action,
                codebook.ids,
                texts[segment_id],
                langs_of.get(segment_id, ""),
                new_code,
            )
        except InputError as err:
            return HTMLResponse(escape(str(err)), status_code=400)
        state.refresh()
        # a path on this server only: "//host" and "/\\host" are other sites to a browser
        target = back if back.startswith("/") and back[1:2] not in ("/", "\\") else "/"
        return RedirectResponse(target, status_code=303)

    return app

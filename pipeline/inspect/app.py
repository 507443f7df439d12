"""`cryptodrug inspect`: a local web app for researchers to read, code and correct answers.

Server-rendered pages (FastAPI + Jinja2, nothing loaded from the internet, one small script
served by this server): the codebook with counts; the segments of one code, paged, with the
evidence highlighted and accept / reject / change; a segment in its context (its survey
question, the interview turns around it) where codes are added on a selected span or
removed and memos written; memos on codes; undo; full-text search; uncoded and quarantined
segments; a co-occurrence matrix whose cells open the segments; agreement between coders and
with the machine. Every action carries the coder name given once per browser session and is
appended to the corrections file that the next `dvc repro` trains on and applies.

A page on any other site can make the researcher's browser post to 127.0.0.1, so every
request must name this server in its Host header (no DNS rebinding), a state-changing one
must come from this origin (Origin/Referer) and carry the session's CSRF token from the
form, with or without the optional access token (query `?token=` once, then a cookie).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from collections.abc import Callable, Mapping
from pathlib import Path
from urllib.parse import urlencode

import pandas as pd
from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import escape

from pipeline.core.agreement import corrections_agreement
from pipeline.core.codebook import Codebook
from pipeline.core.corrections import (
    append_correction,
    append_memo,
    append_undo,
    apply_corrections,
    load_corrections,
    load_memos,
)
from pipeline.core.io import InputError
from pipeline.inspect.pages import SCRIPT, env
from pipeline.inspect.views import (
    code_counts,
    code_groups,
    codes_by_segment,
    cooccurrence_matrix,
    highlight,
    listing,
    search,
    segment_context,
)

COOKIE = "cryptodrug_token"
SESSION_COOKIE = "cryptodrug_session"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# scripts only from this server (no inline ones), nothing from elsewhere, forms only to this
# server, never inside a frame
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; form-action 'self'; "
    "frame-ancestors 'none'"
)
PAGE_SIZE = 100  # segments per code page: a code with 10,000 segments still opens at once
LIST_LIMIT = 500  # segments shown by search, uncoded and co-occurrence lists
MAX_CODER = 40


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
        """Re-read the corrections file (after every action, so pages show it at once)."""
        self.verdicts = load_corrections(self.corrections)
        self.memos = load_memos(self.corrections)
        self.codes = apply_corrections(self.machine, self.segments, self.verdicts)
        self.codes_of = codes_by_segment(self.codes)


def coder_name(raw: str) -> str:
    """A coder name as typed, trimmed; an error when empty, too long or with control
    characters (it is written into every record and into exports)."""
    name = " ".join(raw.split())
    if not name or len(name) > MAX_CODER or not name.isprintable():
        raise InputError(f"a coder name is 1 to {MAX_CODER} printable characters")
    return name


def local_path(back: str) -> str:
    """`back` when it is a path on this server, else `/`: "//host" and "/\\host" are other
    sites to a browser."""
    return back if back.startswith("/") and back[1:2] not in ("/", "\\") else "/"


def span_of(start: str, end: str) -> tuple[int, int] | None:
    """Form fields -> a character span, None when both are empty (the whole answer)."""
    if not start.strip() and not end.strip():
        return None
    try:
        return int(start), int(end)
    except ValueError as err:
        raise InputError("span start and end must be whole numbers") from err


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
    *,
    documents: pd.DataFrame | None = None,
    quarantine: pd.DataFrame | None = None,
) -> FastAPI:
    """The browser app over in-memory tables, answering only as 127.0.0.1:`port` or
    localhost:`port`; corrections go to `corrections`. `documents` (the importer's
    companion) gives interview segments their context; `quarantine` (code-themes'
    quarantine table) the segments the coder set aside."""
    for column in ("respondent_id", "source"):
        if column not in segments.columns:
            segments[column] = ""
    state = State(segments, codes, codebook, corrections)
    by_id = segments.drop_duplicates("segment_id").set_index("segment_id", drop=False)
    texts = dict(zip(segments["segment_id"], segments["text"].astype(str), strict=True))
    langs_of = dict(zip(codes["segment_id"], codes["lang"], strict=False))
    if quarantine is not None and "lang" in quarantine.columns:
        langs_of.update(zip(quarantine["segment_id"], quarantine["lang"], strict=False))
    docs = {} if documents is None else dict(zip(documents["document"], documents["text"],
                                                 strict=True))
    quarantined = pd.DataFrame(columns=["segment_id", "reason", "text"]) if quarantine is None \
        else quarantine
    groups = code_groups(codebook)
    app = FastAPI(title="cryptodrug themes", docs_url=None, redoc_url=None, openapi_url=None)

    hosts, secret = allowed_hosts(port), secrets.token_bytes(32)
    coders: dict[str, str] = {}  # session -> the coder name given in it

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
        request.state.session = session
        request.state.csrf = csrf_token(secret, session)
        request.state.coder = coders.get(session, "")
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = CSP
        if fresh:
            response.set_cookie(SESSION_COOKIE, session, httponly=True, samesite="strict")
        if token is not None:
            response.set_cookie(COOKIE, token, httponly=True, samesite="strict")
        return response

    def here(request: Request) -> str:
        return str(request.url.path) + (f"?{request.url.query}" if request.url.query else "")

    def page(request: Request, name: str, status: int = 200, **context) -> HTMLResponse:
        html = env.get_template(name).render(
            csrf=request.state.csrf,
            coder=request.state.coder,
            here=here(request),
            groups=groups,
            **context,
        )
        return HTMLResponse(html, status_code=status)

    def bad_csrf(request: Request, csrf: str) -> Response | None:
        """The refusal of a posted form whose CSRF token is not this session's, or None."""
        if hmac.compare_digest(csrf, request.state.csrf):
            return None
        return HTMLResponse("missing or wrong CSRF token: reload the page", status_code=403)

    def refused(request: Request, csrf: str) -> Response | None:
        """Why a posted action may not be saved (bad CSRF token, no coder name), or None."""
        if (answer := bad_csrf(request, csrf)) is not None:
            return answer
        if not request.state.coder:
            return page(request, "coder.html", 403, title="Who is coding?",
                        message="set your coder name first", back="/")
        return None

    def save(request: Request, csrf: str, back: str, write: Callable[[str], object]) -> Response:
        """Run `write(coder)` (one append to the corrections file) for a posted action that
        passes the checks, then show the changed state at `back`."""
        if (answer := refused(request, csrf)) is not None:
            return answer
        try:
            write(request.state.coder)
        except InputError as err:
            return HTMLResponse(escape(str(err)), status_code=400)
        state.refresh()
        return RedirectResponse(local_path(back), status_code=303)

    @app.get("/static/inspect.js")
    def script() -> Response:
        return Response(SCRIPT, media_type="text/javascript")

    @app.get("/coder", response_class=HTMLResponse)
    def coder_form(request: Request, back: str = "/") -> HTMLResponse:
        return page(request, "coder.html", title="Who is coding?", back=local_path(back))

    @app.post("/coder")
    def set_coder(
        request: Request, name: str = Form(""), back: str = Form("/"), csrf: str = Form("")
    ) -> Response:
        if (answer := bad_csrf(request, csrf)) is not None:
            return answer
        try:
            coders[request.state.session] = coder_name(name)
        except InputError as err:
            return HTMLResponse(escape(str(err)), status_code=400)
        return RedirectResponse(local_path(back), status_code=303)

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
        page_no: int = 1,
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
        pages = max(1, math.ceil(len(rows) / PAGE_SIZE))
        page_no = min(max(1, page_no), pages)
        shown = []
        ordered = rows.sort_values(["confidence", "segment_id"])
        for r in ordered.iloc[(page_no - 1) * PAGE_SIZE : page_no * PAGE_SIZE].itertuples(
            index=False
        ):
            others = [x for x in state.codes_of.get(r.segment_id, []) if x != code_id]
            shown.append(
                {
                    **r._asdict(),
                    "html": highlight(texts.get(r.segment_id, ""), r.start, r.end),
                    "others": ", ".join(others),
                }
            )
        query = {k: v for k, v in request.query_params.items() if k not in ("page_no", "token")}

        def page_url(n: int) -> str:
            return f"/code/{code_id}?{urlencode({**query, 'page_no': n})}"

        memos = state.memos
        return page(
            request,
            "code.html",
            title=code_id,
            code=code,
            rows=shown,
            total=len(rows),
            page=page_no,
            pages=pages,
            page_url=page_url,
            memos=memos[(memos["code"] == code_id) & (memos["segment_id"] == "")]
            .query("memo != ''")
            .to_dict("records"),
            respondents=sorted(set(c["respondent_id"])),
            langs=sorted(set(c["lang"])),
            f={"respondent": respondent, "lang": lang, "min_conf": min_conf, "max_conf": max_conf},
            back=here(request),
        )

    @app.get("/segment/{segment_id}", response_class=HTMLResponse)
    def segment_page(request: Request, segment_id: str) -> HTMLResponse:
        if segment_id not in by_id.index:
            return HTMLResponse(f"unknown segment {escape(segment_id)}", status_code=404)
        seg = by_id.loc[segment_id]
        c = state.codes
        memos = state.memos
        return page(
            request,
            "segment.html",
            title=segment_id,
            seg=seg,
            lang=langs_of.get(segment_id, ""),
            question=seg.get("question", "") if seg.get("source") == "survey" else "",
            context=segment_context(seg, segments, docs),
            codes=c[c["segment_id"] == segment_id].sort_values("code").to_dict("records"),
            memos=memos[(memos["segment_id"] == segment_id) & (memos["memo"] != "")]
            .to_dict("records"),
            back=here(request),
        )

    def segment_list(request: Request, title: str, rows: pd.DataFrame, **extra) -> HTMLResponse:
        return page(
            request,
            "list.html",
            title=title,
            total=len(rows),
            rows=listing(rows, state.codes_of, langs_of, LIST_LIMIT),
            **extra,
        )

    @app.get("/search", response_class=HTMLResponse)
    def search_page(request: Request, q: str = "") -> HTMLResponse:
        return segment_list(request, f"Search: {q}", search(segments, q), q=q)

    @app.get("/uncoded", response_class=HTMLResponse)
    def uncoded(request: Request) -> HTMLResponse:
        left_out = set(state.codes_of) | set(quarantined["segment_id"])
        rows = segments[~segments["segment_id"].isin(left_out)]
        return segment_list(request, "Uncoded segments", rows)

    @app.get("/quarantined", response_class=HTMLResponse)
    def quarantined_page(request: Request) -> HTMLResponse:
        return page(request, "quarantined.html", title="Quarantined segments",
                    rows=quarantined.to_dict("records"))

    @app.get("/cooccurrence", response_class=HTMLResponse)
    def cooc(request: Request) -> HTMLResponse:
        return page(request, "cooc.html", title="Code co-occurrence", ids=codebook.ids,
                    matrix=cooccurrence_matrix(state.codes_of))

    @app.get("/cooccurrence/{a}/{b}", response_class=HTMLResponse)
    def cooc_cell(request: Request, a: str, b: str) -> HTMLResponse:
        both = {s for s, assigned in state.codes_of.items() if a in assigned and b in assigned}
        return segment_list(request, f"{a} with {b}", segments[segments["segment_id"].isin(both)])

    @app.get("/agreement", response_class=HTMLResponse)
    def agreement_page(request: Request) -> HTMLResponse:
        result = corrections_agreement(state.verdicts, state.machine, codebook.ids)
        rows = [(" vs ".join(r["coders"]), r) for r in result["pairs"]]
        rows += [(f"machine vs {coder}", r) for coder, r in result["machine"].items()]
        return page(request, "agreement.html", title="Agreement", rows=rows, ids=codebook.ids)

    @app.post("/correct")
    def correct(
        request: Request,
        segment_id: str = Form(...),
        code: str = Form(""),
        action: str = Form(...),
        new_code: str = Form(""),
        start: str = Form(""),
        end: str = Form(""),
        back: str = Form("/"),
        csrf: str = Form(""),
    ) -> Response:
        def write(coder: str) -> None:
            if segment_id not in texts:
                raise InputError(f"unknown segment {segment_id!r}")
            append_correction(corrections, segment_id, code, action, codebook.ids,
                              texts[segment_id], langs_of.get(segment_id, ""), new_code,
                              coder=coder, span=span_of(start, end))

        return save(request, csrf, back, write)

    @app.post("/memo")
    def memo(
        request: Request,
        memo: str = Form(""),
        segment_id: str = Form(""),
        code: str = Form(""),
        back: str = Form("/"),
        csrf: str = Form(""),
    ) -> Response:
        def write(coder: str) -> None:
            if segment_id and segment_id not in texts:
                raise InputError(f"unknown segment {segment_id!r}")
            append_memo(corrections, memo.strip(), coder, codebook.ids, segment_id, code)

        return save(request, csrf, back, write)

    @app.post("/undo")
    def undo(request: Request, back: str = Form("/"), csrf: str = Form("")) -> Response:
        return save(request, csrf, back, lambda coder: append_undo(corrections, coder))

    return app

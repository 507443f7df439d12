"""The browser's HTML templates and its one script (served from this server itself, so the
Content-Security-Policy can forbid every inline or foreign script)."""

from __future__ import annotations

from jinja2 import DictLoader, Environment, select_autoescape

PAGES = {
    "macros.html": """{% macro hidden(csrf, back) %}
<input type="hidden" name="csrf" value="{{ csrf }}">
<input type="hidden" name="back" value="{{ back }}">{% endmacro %}
{% macro code_select(name, groups) %}<select name="{{ name }}" required>
<option value="" selected disabled>choose a code</option>
{% for group, ids in groups %}<optgroup label="{{ group }}">
{% for c in ids %}<option>{{ c }}</option>{% endfor %}</optgroup>{% endfor %}
</select>{% endmacro %}
{% macro segment_list(rows) %}<table class="segments"><tr><th>segment</th><th>respondent</th>
<th>lang</th><th>codes</th><th>text</th></tr>
{% for r in rows %}<tr class="seg" id="seg-{{ r.segment_id }}">
<td><a class="open" href="/segment/{{ r.segment_id }}">{{ r.segment_id }}</a></td>
<td>{{ r.respondent_id }}</td><td>{{ r.lang }}</td><td>{{ r.codes }}</td>
<td>{{ r.text }}</td></tr>{% endfor %}</table>{% endmacro %}""",
    "base.html": """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{{ title }} - cryptodrug themes</title>
<style>
body{font-family:system-ui,sans-serif;margin:1.5rem;max-width:75rem}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}
mark{background:#ffe066}.seg{border:1px solid #ddd;padding:.6rem;margin:.6rem 0}
.seg.current{outline:3px solid #3b82f6}.context{white-space:pre-wrap;background:#f6f6f6;
padding:.6rem}.meta{color:#555;font-size:.85rem}.human{color:#0a7d32}.review{color:#b35c00}
form.inline{display:inline}.memo{background:#fff8d6;padding:.3rem;margin:.3rem 0}
</style><script src="/static/inspect.js" defer></script></head><body>
<nav><a href="/" accesskey="h">Codebook</a> | <a href="/cooccurrence">Co-occurrence</a>
| <a href="/uncoded">Uncoded</a> | <a href="/quarantined">Quarantined</a>
| <a href="/agreement">Agreement</a>
| <form class="inline" method="get" action="/search"><input id="search" name="q"
 placeholder="search (/)" value="{{ q or '' }}"></form>
| {% if coder %}coder <b id="coder">{{ coder }}</b> (<a href="/coder">change</a>)
<form class="inline" id="undo" method="post" action="/undo">
<input type="hidden" name="csrf" value="{{ csrf }}">
<input type="hidden" name="back" value="{{ here }}">
<button title="undo your last action (u)">Undo</button></form>
{% else %}<a id="set-coder" href="/coder?back={{ here|urlencode }}">set your coder name</a>
{% endif %}</nav>
{% if message %}<p class="review" id="message">{{ message }}</p>{% endif %}
<h1>{{ title }}</h1>{% block body %}{% endblock %}
<p class="meta">Keys: j/k next/previous segment, a accept, r reject, o open, / search,
u undo.</p></body></html>""",
    "coder.html": """{% extends "base.html" %}{% block body %}
<p>Your name is saved with every code, memo and undo you make in this browser session, so
agreement between coders can be computed.</p>
<form method="post" action="/coder"><input type="hidden" name="csrf" value="{{ csrf }}">
<input type="hidden" name="back" value="{{ back }}">
<input name="name" id="coder-name" required maxlength="40" value="{{ coder or '' }}">
<button type="submit">Save</button></form>{% endblock %}""",
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
    "code.html": """{% extends "base.html" %}
{% from "macros.html" import hidden, code_select %}{% block body %}
<p><b>Definition:</b> {{ code.definition }}<br><b>Include:</b> {{ code.include }}<br>
<b>Exclude:</b> {{ code.exclude }}</p>
{% for m in memos %}<div class="memo code-memo"><b>{{ m.coder }}</b>: {{ m.memo }}</div>
{% endfor %}
<form method="post" action="/memo" id="code-memo">{{ hidden(csrf, back) }}
<input type="hidden" name="code" value="{{ code.id }}">
<textarea name="memo" rows="2" cols="60" placeholder="memo on this code"></textarea>
<button type="submit">Save memo</button></form>
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
<p id="count">{{ total }} segments{% if pages > 1 %} (page {{ page }} of {{ pages }}:
{% if page > 1 %}<a id="prev" href="{{ page_url(page - 1) }}">previous</a>{% endif %}
{% if page < pages %}<a id="next" href="{{ page_url(page + 1) }}">next</a>{% endif %})
{% endif %}</p>
{% for r in rows %}<div class="seg" id="seg-{{ r.segment_id }}">
<div class="meta"><a class="open" href="/segment/{{ r.segment_id }}">{{ r.segment_id }}</a>
| respondent {{ r.respondent_id }} | {{ r.lang }} | {{ r.source }}
| confidence {{ '%.2f'|format(r.confidence) }}
{% if r.origin == 'human' %}<span class="human">(researcher)</span>
{% elif r.needs_review %}<span class="review">(to review)</span>{% endif %}
| other codes: {{ r.others }}</div>
<p class="text">{{ r.html }}</p>
<form class="inline" method="post" action="/correct">{{ hidden(csrf, back) }}
<input type="hidden" name="segment_id" value="{{ r.segment_id }}">
<input type="hidden" name="code" value="{{ code.id }}">
<button name="action" value="accept" class="accept">Accept</button>
<button name="action" value="reject" class="reject">Reject</button></form>
<form class="inline change" method="post" action="/correct">{{ hidden(csrf, back) }}
<input type="hidden" name="segment_id" value="{{ r.segment_id }}">
<input type="hidden" name="code" value="{{ code.id }}">
change to {{ code_select("new_code", groups) }}
<button name="action" value="change">Change</button></form></div>{% endfor %}
{% endblock %}""",
    "segment.html": """{% extends "base.html" %}
{% from "macros.html" import hidden, code_select %}{% block body %}
<p class="meta">respondent {{ seg.respondent_id }} | {{ seg.source }} | {{ lang }}</p>
{% if question %}<p id="question"><b>{{ seg.question_id }}</b>: {{ question }}</p>{% endif %}
<p><b>Answer</b> (select words to code just them):</p>
<p id="answer" class="text">{{ seg.text }}</p>
{% if context %}<p><b>In context</b> ({{ seg.document }}):</p>
<div id="context" class="context">{{ context }}</div>{% endif %}
<h2>Codes</h2><ul id="codes">
{% for r in codes %}<li class="code" data-code="{{ r.code }}"><a href="/code/{{ r.code }}">
{{ r.code }}</a> <span class="meta">{{ r.origin }}, {{ '%.2f'|format(r.confidence) }}:
"{{ r.evidence }}"</span>
<form class="inline" method="post" action="/correct">{{ hidden(csrf, back) }}
<input type="hidden" name="segment_id" value="{{ seg.segment_id }}">
<input type="hidden" name="code" value="{{ r.code }}">
<button name="action" value="reject" class="remove">Remove</button></form></li>
{% else %}<li>no codes</li>{% endfor %}</ul>
<form method="post" action="/correct" id="add-code">{{ hidden(csrf, back) }}
<input type="hidden" name="segment_id" value="{{ seg.segment_id }}">
add {{ code_select("code", groups) }}
on characters <input name="start" id="start" size="5" inputmode="numeric"> to
<input name="end" id="end" size="5" inputmode="numeric"> (empty: the whole answer)
<span id="selection" class="meta"></span>
<button name="action" value="accept">Code</button></form>
<h2>Memos</h2>
{% for m in memos %}<div class="memo"><b>{{ m.coder }}</b>: {{ m.memo }}</div>{% endfor %}
<form method="post" action="/memo" id="segment-memo">{{ hidden(csrf, back) }}
<input type="hidden" name="segment_id" value="{{ seg.segment_id }}">
<textarea name="memo" rows="3" cols="60" placeholder="memo on this segment"></textarea>
<button type="submit">Save memo</button></form>{% endblock %}""",
    "list.html": """{% extends "base.html" %}
{% from "macros.html" import segment_list %}{% block body %}
<p id="count">{{ total }} segments{% if total > rows|length %}, first {{ rows|length }}
shown{% endif %}</p>{{ segment_list(rows) }}{% endblock %}""",
    "quarantined.html": """{% extends "base.html" %}{% block body %}
<p id="count">{{ rows|length }} segments set aside by the coder, with the reason.</p>
<table id="quarantine"><tr><th>segment</th><th>reason</th><th>text</th></tr>
{% for r in rows %}<tr><td>{{ r.segment_id }}</td><td>{{ r.reason }}</td>
<td>{{ r.text }}</td></tr>{% endfor %}</table>{% endblock %}""",
    "cooc.html": """{% extends "base.html" %}{% block body %}
<p>Segments coded with both codes; a cell opens them.</p>
<table id="cooccurrence"><tr><th></th>{% for c in ids %}<th>{{ c }}</th>{% endfor %}</tr>
{% for a in ids %}<tr><th>{{ a }}</th>{% for b in ids %}<td>
{% set n = matrix.get((a, b), 0) %}{% if n %}<a href="/cooccurrence/{{ a }}/{{ b }}">{{ n }}</a>
{% endif %}</td>{% endfor %}</tr>{% endfor %}</table>{% endblock %}""",
    "agreement.html": """{% extends "base.html" %}{% block body %}
<p>From the corrections: coders compared on the segments both corrected; the machine
compared with each coder on the segments that coder corrected (a machine code a coder left
standing counts as theirs).</p>
<table id="agreement"><tr><th>comparison</th><th>segments</th><th>macro kappa</th>
<th>Krippendorff alpha</th><th>micro F1</th></tr>
{% for name, r in rows %}<tr><td>{{ name }}</td><td>{{ r.segments }}</td>
<td>{{ r.kappa_macro }}</td><td>{{ r.krippendorff_alpha }}</td><td>{{ r.micro_f1 }}</td>
</tr>{% else %}<tr><td colspan="5">no corrections yet</td></tr>{% endfor %}</table>
<h2>Kappa per code</h2><table id="kappa"><tr><th>code</th>
{% for name, r in rows %}<th>{{ name }}</th>{% endfor %}</tr>
{% for c in ids %}<tr><td>{{ c }}</td>{% for name, r in rows %}
<td>{{ (r.kappa_per_code or {}).get(c) }}</td>{% endfor %}</tr>{% endfor %}</table>
{% endblock %}""",
}
env = Environment(loader=DictLoader(PAGES), autoescape=select_autoescape(default=True))

# j/k move between segments, a/r accept/reject the current one, o opens it, / searches,
# u undoes; a text selection in the answer fills the span fields of the add-code form
SCRIPT = """"use strict";
document.addEventListener("keydown", (e) => {
  const t = e.target.tagName;
  if (e.ctrlKey || e.metaKey || e.altKey || ["INPUT", "TEXTAREA", "SELECT"].includes(t)) return;
  const segs = [...document.querySelectorAll(".seg")];
  let i = segs.findIndex((s) => s.classList.contains("current"));
  const click = (sel) => { const b = i >= 0 && segs[i].querySelector(sel); if (b) b.click(); };
  if (e.key === "j" || e.key === "k") {
    if (!segs.length) return;
    if (i >= 0) segs[i].classList.remove("current");
    i = e.key === "j" ? Math.min(i + 1, segs.length - 1) : Math.max(i - 1, 0);
    segs[i].classList.add("current");
    segs[i].scrollIntoView({block: "nearest"});
  } else if (e.key === "a") click("button.accept");
  else if (e.key === "r") click("button.reject");
  else if (e.key === "o") click("a.open");
  else if (e.key === "u") { const u = document.querySelector("#undo button"); if (u) u.click(); }
  else if (e.key === "/") document.getElementById("search").focus();
  else return;
  e.preventDefault();
});
document.addEventListener("selectionchange", () => {
  const answer = document.getElementById("answer");
  const sel = document.getSelection();
  if (!answer || !sel.rangeCount || sel.isCollapsed) return;
  const range = sel.getRangeAt(0);
  if (!answer.contains(range.startContainer) || !answer.contains(range.endContainer)) return;
  const before = document.createRange();
  before.setStart(answer, 0);
  before.setEnd(range.startContainer, range.startOffset);
  const start = before.toString().length;
  const end = start + range.toString().length;
  document.getElementById("start").value = start;
  document.getElementById("end").value = end;
  document.getElementById("selection").textContent = '"' + range.toString() + '"';
});
"""

"""The review web app: named analysts read cases and record outcomes (``fraudmatch review``).

Server-rendered HTML (Jinja2, autoescaped), inline CSS, no scripts and no external assets,
served on 127.0.0.1. Every page but ``/login`` needs a session: a cookie signed with HMAC
under the workspace's random secret (:func:`fraudmatch.review.analysts.session_secret`). Every
form that changes something carries a CSRF token derived from the session. Saving an
outcome sends the version the analyst saw; if another analyst saved first, nothing is
overwritten: the page shows their change beside the analyst's typed values, to review and
save again.

The app only shows what :class:`fraudmatch.review.review.Review` reads: partner, dataset and
record_id of each side, evidence labels and weights, outcomes. Never a token or a key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import DictLoader, Environment, select_autoescape

from fraudmatch.review import outcomes as oc
from fraudmatch.review.analysts import (
    _b64,
    _unb64,
    session_secret,
    users_from,
    verify_password,
)
from fraudmatch.review.review import (
    LABELS,
    STATUSES,
    Filters,
    Review,
    ReviewError,
    format_time,
)

log = logging.getLogger(__name__)

COOKIE = "fraudmatch_session"
SESSION_SECONDS = 8 * 3600
MAX_FORM_BYTES = 64 * 1024
MAX_LIST = 500
_DUMMY_HASH = "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

# --------------------------------------------------------------------------- templates

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2733;
background:#f5f6f8;font-size:15px}
header{background:#1f3a5f;color:#fff;padding:.6rem 1.2rem;display:flex;gap:1.2rem;
align-items:center}
header a{color:#fff;text-decoration:none;font-weight:600}
header .who{margin-left:auto;display:flex;gap:.8rem;align-items:center}
header form{margin:0}
main{padding:1rem 1.4rem;max-width:1200px}
h1{font-size:1.35rem;margin:.3rem 0 .8rem}
h2{font-size:1.1rem;margin:1.2rem 0 .5rem}
table{border-collapse:collapse;background:#fff;width:100%;margin:.4rem 0 1rem}
th,td{border-bottom:1px solid #dde1e6;padding:.35rem .55rem;text-align:left;vertical-align:top}
th{background:#eef1f5;font-weight:600}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.filters{display:flex;flex-wrap:wrap;gap:.6rem;align-items:end;background:#fff;padding:.7rem;
border:1px solid #dde1e6}
.filters label{display:flex;flex-direction:column;font-size:.85rem;gap:.15rem}
select,input,textarea,button{font:inherit}
button{background:#1f3a5f;color:#fff;border:0;padding:.4rem .9rem;border-radius:3px;
cursor:pointer}
button.link{background:none;color:#fff;padding:0;text-decoration:underline}
.counts{display:flex;gap:.5rem;flex-wrap:wrap;margin:.7rem 0}
.counts a{background:#fff;border:1px solid #ccd3db;padding:.2rem .6rem;border-radius:12px;
text-decoration:none;color:inherit}
.counts a.on{background:#1f3a5f;color:#fff}
.badge{display:inline-block;padding:.05rem .45rem;border-radius:9px;font-size:.8rem;
background:#e4e7eb}
.risk-high{background:#f8d7da}.risk-medium{background:#fff3cd}.risk-low{background:#e2e3e5}
.st-fraud{background:#f5c2c7}.st-error{background:#ffe5b4}.st-no_issue{background:#d1e7dd}
.st-under_investigation{background:#cfe2ff}.st-open{background:#e9ecef}
.sides{display:grid;grid-template-columns:1fr 1fr;gap:1rem}
.side{background:#fff;border:1px solid #dde1e6;padding:.6rem .8rem}
.side dl{display:grid;grid-template-columns:auto 1fr;gap:.2rem .8rem;margin:0}
.side dt{color:#5a6573}
.match{border:1px solid #c5ccd5;background:#fbfcfd;padding:.8rem 1rem;margin:1rem 0}
.bar{display:inline-block;height:.7rem;background:#2e7d32;vertical-align:middle}
.bar.neg{background:#c62828}
.notice{padding:.6rem .8rem;border:1px solid;margin:.6rem 0}
.notice.ok{background:#d1e7dd;border-color:#a3cfbb}
.notice.warn{background:#fff3cd;border-color:#ffe69c}
.notice.err{background:#f8d7da;border-color:#f1aeb5}
form.outcome{display:grid;grid-template-columns:10rem 1fr;gap:.5rem .8rem;max-width:42rem;
background:#fff;border:1px solid #dde1e6;padding:.8rem}
form.outcome textarea{min-height:4rem}
.muted{color:#5a6573;font-size:.85rem}
.lead{background:#fff;border-left:4px solid #1f3a5f;padding:.4rem .8rem;margin:.5rem 0}
"""

_TEMPLATES = {
    "base.html": """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{% block title %}fraudmatch review{% endblock %}</title>
<style>{{ css }}</style></head>
<body>
<header><a href="/cases">fraudmatch review</a>
{% if user %}<a href="/cases">Cases</a><a href="/audit">Audit trail</a>
<span class="who">signed in as <strong id="analyst">{{ user }}</strong>
<form method="post" action="/logout"><input type="hidden" name="csrf" value="{{ csrf }}">
<button class="link" type="submit">Sign out</button></form></span>{% endif %}
</header>
<main>{% block main %}{% endblock %}</main>
</body></html>""",
    "login.html": """{% extends "base.html" %}
{% block title %}Sign in · fraudmatch review{% endblock %}
{% block main %}
<h1>Sign in</h1>
{% if error %}<p class="notice err" role="alert">{{ error }}</p>{% endif %}
<form method="post" action="/login" class="outcome">
<input type="hidden" name="next" value="{{ next }}">
<label for="name">Analyst</label><input id="name" name="name" autocomplete="username" required>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<span></span><button type="submit">Sign in</button>
</form>
<p class="muted">A match is a lead, not a finding: record what you found.</p>
{% endblock %}""",
    "cases.html": """{% extends "base.html" %}
{% block title %}Cases · fraudmatch review{% endblock %}
{% block main %}
<h1>Cases{% if filters.run %} in {{ filters.run }}{% endif %}</h1>
<p class="lead">A match is a lead, not a finding. Open a case to see why its records matched
and record what you found.</p>
<form method="get" action="/cases" class="filters" id="filters">
{% for name, label in [("run","Run"),("rule","Rule"),("partner","Partner"),("risk","Risk"),
("status","Status")] %}
<label>{{ label }}<select name="{{ name }}" id="f-{{ name }}">
{% if name != "run" %}<option value="">any</option>{% endif %}
{% for v in choices[name] %}<option value="{{ v }}"
{% if filters[name] == v %}selected{% endif %}>{{ labels.get(v, v) if name == "status" else v
}}</option>{% endfor %}
</select></label>{% endfor %}
<button type="submit" id="apply">Filter</button>
</form>
<div class="counts">{% for s in ["all"] + statuses|list %}
<a href="/cases?{{ query(status=None if s == 'all' else s) }}"
class="{% if (filters.status or 'all') == s %}on{% endif %}">{{ labels.get(s, s) }}:
<span id="count-{{ s }}">{{ counts.get(s, 0) }}</span></a>{% endfor %}</div>
<p><span id="shown">{{ cases|length }}</span> case{{ "" if cases|length == 1 else "s" }}
{% if truncated %}(first {{ cases|length }} of {{ total }}){% endif %}
{% if filters.run %}· download this list as
<a href="/export.csv?{{ query() }}" id="export-csv">CSV</a> or
<a href="/export.xlsx?{{ query() }}" id="export-xlsx">XLSX</a>{% endif %}</p>
<table id="cases"><thead><tr><th>Case</th><th>Rule</th><th>Risk</th><th>Partners</th>
<th>Matches</th><th>Best weight</th><th>Tier</th><th>Status</th></tr></thead><tbody>
{% for c in cases %}<tr>
<td><a class="case-link" href="/cases/{{ c.run_id }}/{{ c.case_id }}">{{ c.case_id }}</a></td>
<td>{{ c.rule }}</td><td><span class="badge risk-{{ c.risk }}">{{ c.risk or "" }}</span></td>
<td>{{ c.partners|join(", ") }}</td><td class="num">{{ c.matches }}</td>
<td class="num">{{ "%.1f"|format(c.max_weight) if c.max_weight is not none else "" }}</td>
<td>{{ c.tier or "" }}</td>
<td class="status">{% for s in c.statuses %}<span class="badge st-{{ s }}">{{ labels.get(s, s)
}}</span> {% endfor %}{% if c.evidence_changed %}<span class="badge">evidence changed</span>
{% endif %}</td></tr>
{% else %}<tr><td colspan="8">No cases match these filters.</td></tr>{% endfor %}
</tbody></table>
{% endblock %}""",
    "case.html": """{% extends "base.html" %}
{% block title %}Case {{ case.case_id }} · fraudmatch review{% endblock %}
{% block main %}
<p><a href="/cases?{{ back }}">&larr; back to cases</a></p>
<h1>Case <span id="case-id">{{ case.case_id }}</span> · {{ case.rule }}
<span class="badge risk-{{ case.risk }}">{{ case.risk or "" }} risk</span></h1>
<p class="muted">Run {{ case.run_id }} · partners {{ case.partners|join(", ") }} ·
{{ case.matches|length }} match{{ "" if case.matches|length == 1 else "es" }}</p>
{% if case.description %}<p class="lead">{{ case.description }}</p>{% endif %}
{% if saved %}<p class="notice ok" id="saved" role="status">Saved: {{ saved }}</p>{% endif %}
{% for m in case.matches %}
<section class="match" id="match-{{ m.key }}">
<h2>Match {{ loop.index }}: {{ m.left.dataset }} &harr; {{ m.right.dataset }}</h2>
{% if m.note %}<p class="notice warn">{{ m.note }}</p>{% endif %}
<div class="sides">
{% for title, s in [("Left record", m.left), ("Right record (counterpart)", m.right)] %}
<div class="side"><h3>{{ title }}</h3><dl>
<dt>partner</dt><dd>{{ s.partner }}</dd><dt>dataset</dt><dd>{{ s.dataset }}</dd>
<dt>record_id</dt><dd>{{ s.record_id }}</dd></dl></div>{% endfor %}
</div>
<table class="evidence"><thead><tr><th>Comparison</th><th>Level reached</th>
<th class="num">Weight</th><th>Contribution</th></tr></thead><tbody>
{% for e in m.evidence %}<tr><td>{{ e.comparison }}</td><td>{{ e.level or "" }}</td>
<td class="num">{{ "%.2f"|format(e.weight) if e.weight is not none else "" }}</td>
<td>{% if e.weight is not none %}<span class="bar{{ ' neg' if e.weight < 0 else '' }}"
style="width:{{ [((e.weight|abs) * 8)|round|int, 240]|min }}px"></span>{% endif %}</td></tr>
{% endfor %}
<tr><th>total</th><td>tier {{ m.tier or "" }} · blocking {{ m.blocking_rule or "" }}</td>
<th class="num">{{ "%.2f"|format(m.match_weight) if m.match_weight is not none else "" }}</th>
<td>probability {{ "%.4f"|format(m.match_probability) if m.match_probability is not none
else "" }}</td></tr></tbody></table>
<h3>Outcome</h3>
<p class="current">{% if m.outcome %}Current outcome:
<span class="badge st-{{ m.outcome.outcome }}" id="current-{{ m.key }}">{{
labels[m.outcome.outcome] }}</span> by {{ m.outcome.analyst }} at {{ fmt(m.outcome.recorded_at)
}} (version <span class="version">{{ m.outcome.version }}</span>){% if m.outcome.amount is not
none %} · amount £{{ "%.2f"|format(m.outcome.amount) }}{% endif %}{% if m.outcome.comment %}
· &ldquo;{{ m.outcome.comment }}&rdquo;{% endif %}{% if m.evidence_changed %}
<span class="badge">evidence changed since</span>{% endif %}
{% else %}No outcome recorded yet (version 0).{% endif %}</p>
{% set f = forms.get(m.key, {}) %}
{% if f.conflict %}<p class="notice warn conflict" role="alert">{{ f.conflict }}</p>{% endif %}
{% if f.error %}<p class="notice err" role="alert">{{ f.error }}</p>{% endif %}
<form method="post" class="outcome"
action="/cases/{{ case.run_id }}/{{ case.case_id }}/matches/{{ m.key }}/outcome">
<input type="hidden" name="csrf" value="{{ csrf }}">
<input type="hidden" name="expected_version" value="{{ m.version }}">
<label for="outcome-{{ m.key }}">Outcome</label>
<select name="outcome" id="outcome-{{ m.key }}" required>
{% set chosen = f.outcome if f else (m.outcome.outcome if m.outcome else "") %}
<option value="">choose…</option>
{% for o in outcomes %}<option value="{{ o }}" {% if chosen == o %}selected{% endif %}>{{
labels[o] }}</option>{% endfor %}</select>
<label for="amount-{{ m.key }}">Amount (£, if money is involved)</label>
<input name="amount" id="amount-{{ m.key }}" inputmode="decimal"
value="{{ f.amount if f else ('%.2f'|format(m.outcome.amount) if m.outcome and
m.outcome.amount is not none else '') }}">
<label for="comment-{{ m.key }}">Comment</label>
<textarea name="comment" id="comment-{{ m.key }}">{{ f.comment if f else
(m.outcome.comment if m.outcome else "") }}</textarea>
<span></span><button type="submit">Save outcome</button>
</form>
</section>
{% endfor %}
<h2>Audit trail of this case</h2>
{% include "audit_table.html" %}
{% endblock %}""",
    "audit_table.html": """<table class="audit" id="audit"><thead><tr><th>When (UTC)</th>
<th>Analyst</th><th>Action</th><th>Case</th><th>What</th></tr></thead><tbody>
{% for a in audit %}<tr><td>{{ fmt(a.at) }}</td><td>{{ a.analyst }}</td><td>{{ a.action }}</td>
<td>{% if a.run_id and a.case_id %}<a href="/cases/{{ a.run_id }}/{{ a.case_id }}">{{ a.case_id
}}</a>{% else %}{{ a.case_id or "" }}{% endif %}{% if a.rule %}
<span class="muted">{{ a.rule }}</span>{% endif %}</td>
<td>{% for k, v in a.detail.items() %}{% if v is not none and v != "" %}{{ k }}:
{{ labels.get(v, v) if k == "outcome" else v }}{% if not loop.last %}; {% endif %}{% endif %}
{% endfor %}</td></tr>
{% else %}<tr><td colspan="5">Nothing recorded yet.</td></tr>{% endfor %}
</tbody></table>""",
    "audit.html": """{% extends "base.html" %}
{% block title %}Audit trail · fraudmatch review{% endblock %}
{% block main %}
<h1>Audit trail</h1>
<p class="muted">Every outcome recorded or changed, every sign-in and export: who, when,
what. Newest first{% if audit|length >= limit %}, latest {{ limit }}{% endif %}.</p>
{% include "audit_table.html" %}
{% endblock %}""",
    "error.html": """{% extends "base.html" %}
{% block main %}<h1>{{ title }}</h1><p class="notice err">{{ message }}</p>
<p><a href="/cases">Back to cases</a></p>{% endblock %}""",
}


# --------------------------------------------------------------------------- sessions


class Sessions:
    """Signed, expiring session cookies and per-session CSRF tokens (HMAC-SHA256)."""

    def __init__(self, secret: bytes, lifetime: int = SESSION_SECONDS) -> None:
        self._key = hashlib.sha256(b"fraudmatch-review-session\x00" + secret).digest()
        self.lifetime = lifetime

    def _sign(self, payload: bytes) -> str:
        return _b64(hmac.new(self._key, payload, hashlib.sha256).digest())

    def issue(self, user: str) -> str:
        body = json.dumps(
            {"u": user, "exp": int(time.time()) + self.lifetime, "n": secrets.token_hex(16)},
            separators=(",", ":"),
        ).encode()
        return f"{_b64(body)}.{self._sign(body)}"

    def read(self, cookie: str | None) -> dict[str, Any] | None:
        if not cookie or "." not in cookie:
            return None
        body_text, signature = cookie.rsplit(".", 1)
        try:
            body = _unb64(body_text)
        except ValueError:
            return None
        if not hmac.compare_digest(self._sign(body), signature):
            return None
        try:
            session = json.loads(body)
        except ValueError:
            return None
        if not isinstance(session, dict) or session.get("exp", 0) < time.time():
            return None
        return session

    def csrf(self, session: Mapping[str, Any]) -> str:
        return self._sign(f"csrf\x00{session['n']}".encode())

    def check_csrf(self, session: Mapping[str, Any], token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(self.csrf(session), str(token))


def _parse_amount(text: str) -> float | None:
    cleaned = text.strip().replace("£", "").replace(",", "").strip()
    if not cleaned:
        return None
    try:
        value = float(cleaned)
    except ValueError:
        raise oc.OutcomeError(f"amount {text!r} is not a number of pounds, e.g. 1250.00") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise oc.OutcomeError(f"amount {text!r} is not a number of pounds")
    return round(value, 2)


def _safe_next(target: str | None) -> str:
    """Only local paths after login (never another site)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/cases"


# --------------------------------------------------------------------------- the app


def create_app(
    workspace_root: Path | str,
    rules_dir: Path | str | Sequence[Path | str],
    *,
    users: Mapping[str, str] | None = None,
    outcomes_url: str | None = None,
    secret: bytes | None = None,
) -> FastAPI:
    """The review app over one workspace.

    ``users`` maps analyst names to password hashes
    (:func:`fraudmatch.review.analysts.hash_password`);
    ``None`` reads ``analysts.yaml`` at each sign-in, so analysts added while the app runs
    can sign in. ``secret`` defaults to the workspace's session secret.
    """
    root = Path(workspace_root)
    review = Review(root, rules_dir, outcomes_url=outcomes_url)
    sessions = Sessions(secret if secret is not None else session_secret(root))
    env = Environment(loader=DictLoader(_TEMPLATES), autoescape=select_autoescape(default=True))
    env.globals.update(
        css=_CSS, labels=LABELS, statuses=STATUSES, outcomes=oc.OUTCOMES, fmt=format_time
    )
    app = FastAPI(title="fraudmatch review", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.review = review

    def render(name: str, status: int = 200, **context: Any) -> HTMLResponse:
        return HTMLResponse(env.get_template(name).render(**context), status_code=status)

    def session_of(request: Request) -> dict[str, Any] | None:
        return sessions.read(request.cookies.get(COOKIE))

    async def form_of(request: Request) -> dict[str, str]:
        body = await request.body()
        if len(body) > MAX_FORM_BYTES:
            return {}
        parsed = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        return {k: v[0] for k, v in parsed.items()}

    def login_redirect(request: Request) -> RedirectResponse:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?{urlencode({'next': target})}", status_code=303)

    @app.middleware("http")
    async def guard(request: Request, call_next: Any) -> Response:
        if request.url.path not in ("/login",):
            session = session_of(request)
            if session is None:
                response: Response = login_redirect(request)
                for k, v in SECURITY_HEADERS.items():
                    response.headers[k] = v
                return response
            request.state.session = session
        response = await call_next(request)
        for k, v in SECURITY_HEADERS.items():
            response.headers.setdefault(k, v)
        return response

    def page(request: Request) -> dict[str, Any]:
        session = request.state.session
        return {"user": session["u"], "csrf": sessions.csrf(session)}

    @app.get("/login", response_class=HTMLResponse)
    async def login_form(request: Request, next: str = "/cases") -> HTMLResponse:
        return render("login.html", user=None, next=_safe_next(next), error=None)

    @app.post("/login")
    async def login(request: Request) -> Response:
        form = await form_of(request)
        name, password = form.get("name", "").strip(), form.get("password", "")
        known = users_from(users, root)
        stored = known.get(name)
        ok = verify_password(password, stored or _DUMMY_HASH) and stored is not None
        if not ok:
            # never the typed name: people sometimes type their password into it
            log.warning(
                "failed sign-in to the review app (%s; the name typed was %d characters)",
                "known analyst, wrong password" if stored is not None else "unknown analyst",
                len(name),
            )
            return render(
                "login.html",
                status=401,
                user=None,
                next=_safe_next(form.get("next")),
                error="Unknown analyst or wrong password.",
            )
        review.log(name, "login", {})
        log.info("analyst %s signed in to the review app", name)
        response = RedirectResponse(_safe_next(form.get("next")), status_code=303)
        response.set_cookie(
            COOKIE,
            sessions.issue(name),
            max_age=sessions.lifetime,
            httponly=True,
            samesite="strict",
            path="/",
        )
        return response

    @app.post("/logout")
    async def logout(request: Request) -> Response:
        form = await form_of(request)
        if not sessions.check_csrf(request.state.session, form.get("csrf")):
            return render("error.html", 403, **page(request), title="Refused",
                          message="The form expired; reload the page and try again.")  # fmt: skip
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response

    @app.get("/")
    async def home() -> Response:
        return RedirectResponse("/cases", status_code=303)

    def filters_of(request: Request) -> Filters:
        filters = Filters.from_mapping(request.query_params)
        if filters.run is None:
            filters = Filters(review.latest_run(), filters.rule, filters.partner, filters.risk,
                              filters.status)  # fmt: skip
        return filters

    def query_of(filters: Filters, **changes: str | None) -> str:
        values = {
            "run": filters.run,
            "rule": filters.rule,
            "partner": filters.partner,
            "risk": filters.risk,
            "status": filters.status,
        }
        values.update(changes)
        return urlencode({k: v for k, v in values.items() if v})

    @app.get("/cases", response_class=HTMLResponse)
    def case_list(request: Request) -> HTMLResponse:
        filters = filters_of(request)
        try:
            cases = review.cases(filters)
            counts = review.status_counts(filters)
            choices = review.choices(filters.run)
        except ReviewError as exc:
            return render("error.html", 404, **page(request), title="Not found", message=str(exc))
        rows = cases.head(MAX_LIST).to_dicts()
        return render(
            "cases.html",
            **page(request),
            filters=filters.__dict__,
            cases=rows,
            total=cases.height,
            truncated=cases.height > MAX_LIST,
            counts=counts,
            choices=choices,
            query=lambda **kw: query_of(filters, **kw),
        )

    def case_page(
        request: Request,
        run_id: str,
        case_id: str,
        *,
        status: int = 200,
        forms: Mapping[str, Mapping[str, Any]] | None = None,
        saved: str | None = None,
    ) -> HTMLResponse:
        try:
            case = review.case(run_id, case_id)
        except ReviewError as exc:
            return render("error.html", 404, **page(request), title="Not found", message=str(exc))
        keys = [m.key for m in case.matches] + [
            m.outcome.match_key for m in case.matches if m.outcome
        ]
        return render(
            "case.html",
            status,
            **page(request),
            case=case,
            forms=forms or {},
            saved=saved,
            audit=review.audit(keys),
            back=urlencode({"run": run_id}),
        )

    @app.get("/cases/{run_id}/{case_id}", response_class=HTMLResponse)
    def show_case(request: Request, run_id: str, case_id: str, saved: str = "") -> HTMLResponse:
        return case_page(request, run_id, case_id, saved=LABELS.get(saved) if saved else None)

    @app.post("/cases/{run_id}/{case_id}/matches/{key}/outcome")
    async def save_outcome(request: Request, run_id: str, case_id: str, key: str) -> Response:
        form = await form_of(request)
        session = request.state.session
        if not sessions.check_csrf(session, form.get("csrf")):
            return render("error.html", 403, **page(request), title="Refused",
                          message="The form expired; reload the page and try again.")  # fmt: skip
        typed = {
            "outcome": form.get("outcome", ""),
            "amount": form.get("amount", ""),
            "comment": form.get("comment", ""),
        }
        try:
            expected = int(form.get("expected_version", "0"))
            amount = _parse_amount(typed["amount"])
            review.record(
                run_id,
                case_id,
                key,
                outcome=typed["outcome"],
                analyst=session["u"],
                expected_version=expected,
                amount=amount,
                comment=typed["comment"].strip(),
            )
        except oc.OutcomeConflict as exc:
            cur = exc.current
            message = (
                f"{cur.analyst} recorded '{LABELS.get(cur.outcome, cur.outcome)}' at "
                f"{format_time(cur.recorded_at)} (version {cur.version}) after you opened "
                "this case. Your values are kept below: review their change and save again."
            )
            return case_page(
                request, run_id, case_id, status=409, forms={key: {**typed, "conflict": message}}
            )
        except ReviewError as exc:
            return render("error.html", 404, **page(request), title="Not found", message=str(exc))
        except (oc.OutcomeError, ValueError) as exc:
            return case_page(request, run_id, case_id, status=400,
                             forms={key: {**typed, "error": str(exc)}})  # fmt: skip
        return RedirectResponse(
            f"/cases/{run_id}/{case_id}?{urlencode({'saved': typed['outcome']})}#match-{key}",
            status_code=303,
        )

    @app.get("/audit", response_class=HTMLResponse)
    def audit_page(request: Request, limit: int = MAX_LIST) -> HTMLResponse:
        limit = max(1, min(limit, 5000))
        return render("audit.html", **page(request), audit=review.audit(limit=limit), limit=limit)

    def export(request: Request, kind: str) -> Response:
        from fraudmatch.review.exports import (
            case_list,
            file_stem,
            to_csv_bytes,
            to_xlsx_bytes,
        )

        filters = filters_of(request)
        if not filters.run:
            return render("error.html", 404, **page(request), title="Not found",
                          message="no run to export")  # fmt: skip
        try:
            frame = case_list(review, filters)
        except ReviewError as exc:
            return render("error.html", 404, **page(request), title="Not found", message=str(exc))
        user = request.state.session["u"]
        review.log(user, "export", {**{k: v for k, v in filters.__dict__.items() if v},
                                    "format": kind, "rows": frame.height})  # fmt: skip
        name = f"{file_stem(filters)}.{kind}"
        if kind == "csv":
            data, media = to_csv_bytes(frame), "text/csv; charset=utf-8"
        else:
            data = to_xlsx_bytes(frame, sheet=filters.rule or filters.partner or "cases")
            media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        return Response(
            data,
            media_type=media,
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    @app.get("/export.csv")
    def export_csv(request: Request) -> Response:
        return export(request, "csv")

    @app.get("/export.xlsx")
    def export_xlsx(request: Request) -> Response:
        return export(request, "xlsx")

    return app

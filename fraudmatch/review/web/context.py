"""What every route of the review app shares: the case work, sessions, templates, forms.

One :class:`WebContext` per app lives on ``app.state.web``; routers reach it through
:func:`web`. Templates are files in ``fraudmatch/review/templates`` (package data).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from fraudmatch.review import outcomes as oc
from fraudmatch.review import words
from fraudmatch.review.analysts import load_roles, users_from
from fraudmatch.review.caseindex import STAGE_LABELS, STAGES
from fraudmatch.review.caselist import ListView
from fraudmatch.review.casework import LABELS, STATUSES, Filters, Review, format_time
from fraudmatch.review.signin import Throttle
from fraudmatch.review.views import FILTER_NAMES, rule_title, run_label
from fraudmatch.review.web.sessions import Sessions

MAX_FORM_BYTES = 64 * 1024
MAX_LIST = 500

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


def templates() -> Environment:
    """The app's Jinja2 templates, autoescaped, with the labels every page uses."""
    env = Environment(
        loader=PackageLoader("fraudmatch.review", "templates"),
        autoescape=select_autoescape(default=True),
    )
    env.globals.update(
        labels=LABELS,
        statuses=STATUSES,
        outcomes=oc.OUTCOMES,
        fmt=format_time,
        stages=STAGES,
        stage_labels=STAGE_LABELS,
        run_label=run_label,
        rule_title=rule_title,
        in_words=words.in_words,
        matched_on=words.matched_on,
        probability_words=words.probability_words,
        weights_explained=words.WEIGHTS_EXPLAINED,
    )
    return env


@dataclass
class WebContext:
    """One app's state: the workspace's case work, its sessions and templates."""

    root: Path
    review: Review
    sessions: Sessions
    throttle: Throttle
    env: Environment
    users: Mapping[str, str] | None

    def render(self, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        return HTMLResponse(self.env.get_template(name).render(**context), status_code=status)

    def page(self, request: Request) -> dict[str, Any]:
        """What every signed-in page shows: the analyst, their role and the form token."""
        session = request.state.session
        return {
            "user": session["u"],
            "csrf": self.sessions.csrf(session),
            "is_lead": self.is_lead(session["u"]),
        }

    def is_lead(self, name: str) -> bool:
        return load_roles(self.root).get(name) == "lead"

    def analysts(self) -> list[str]:
        return sorted(users_from(self.users, self.root))

    def error(self, request: Request, status: int, title: str, message: str) -> HTMLResponse:
        return self.render("error.html", status, **self.page(request), title=title,
                           message=message)  # fmt: skip

    def refused(self, request: Request) -> HTMLResponse:
        return self.error(
            request, 403, "Refused", "The form expired; reload the page and try again."
        )

    def filters_of(self, request: Request) -> Filters:
        """The case-list filters of a request, on the latest run when none is named."""
        filters = Filters.from_mapping(request.query_params)
        if filters.run is None:
            filters = replace(filters, run=self.review.latest_run())
        return filters


def web(request: Request) -> WebContext:
    return request.app.state.web


async def form_of(request: Request) -> dict[str, str]:
    """A posted form's fields (first value each); empty when the body is too large."""
    return {k: v[0] for k, v in (await form_lists(request)).items()}


async def form_lists(request: Request) -> dict[str, list[str]]:
    """A posted form's fields with every value (checkboxes); empty when too large."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return {}
    return parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)


def login_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?{urlencode({'next': target})}", status_code=303)


def query_of(filters: Filters, view: ListView | None = None, **changes: Any) -> str:
    """The query string of a case list under ``filters`` (and ``view``) with some of them
    changed; a changed filter starts again at page 1."""
    values: dict[str, Any] = {name: getattr(filters, name) for name in FILTER_NAMES}
    if view is not None:
        default = ListView()
        values.update(
            sort=view.sort if view.sort != default.sort else None,
            dir="rev" if view.reverse else None,
            per=view.per_page if view.per_page != default.per_page else None,
            page=view.page if view.page > 1 else None,
        )
        if set(changes) & set(FILTER_NAMES):
            values["page"] = None
    values.update(changes)
    return urlencode({k: v for k, v in values.items() if v})

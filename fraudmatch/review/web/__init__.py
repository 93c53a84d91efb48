"""The review web app: named analysts read cases and record outcomes (``fraudmatch review``).

Server-rendered HTML (Jinja2 templates in ``fraudmatch/review/templates``, autoescaped),
inline CSS, no scripts and no external assets, served on 127.0.0.1. Every page but
``/login`` needs a session (:mod:`.sessions`). Every form that changes something carries a
CSRF token derived from the session. Saving an outcome sends the version the analyst saw;
if another analyst saved first, nothing is overwritten: the page shows their change beside
the analyst's typed values, to review and save again.

Routes are split by concern: :mod:`.auth` (sign-in, sign-out), :mod:`.cases` (list, one
case), :mod:`.outcomes` (recording), :mod:`.audit`, :mod:`.exports`. The app only shows what
:class:`fraudmatch.review.casework.Review` reads: never a token or a key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from fraudmatch.review import outcomes as oc
from fraudmatch.review.analysts import session_secret, users_from
from fraudmatch.review.casework import Review
from fraudmatch.review.signin import IDLE_SECONDS, SessionStore, Throttle
from fraudmatch.review.web import audit, auth, cases, exports, outcomes, workflow
from fraudmatch.review.web.context import SECURITY_HEADERS, WebContext, login_redirect, templates
from fraudmatch.review.web.sessions import COOKIE, Sessions

__all__ = ["COOKIE", "create_app"]

PUBLIC_PATHS = ("/login",)


def create_app(
    workspace_root: Path | str,
    rules_dir: Path | str | Sequence[Path | str],
    *,
    users: Mapping[str, str] | None = None,
    outcomes_url: str | None = None,
    secret: bytes | None = None,
    idle_seconds: int = IDLE_SECONDS,
) -> FastAPI:
    """The review app over one workspace.

    ``users`` maps analyst names to password hashes
    (:func:`fraudmatch.review.analysts.hash_password`); ``None`` reads ``analysts.yaml`` at
    each sign-in, so analysts added while the app runs can sign in. ``secret`` defaults to
    the workspace's session secret; a session ends after ``idle_seconds`` without a request.
    Raises :class:`~fraudmatch.review.outcomes.OutcomeError` when the outcomes database
    cannot be opened (driver missing, server refusing).
    """
    root = Path(workspace_root)
    review = Review(root, rules_dir, outcomes_url=outcomes_url)
    oc.engine(review.url)  # a database that cannot open stops the start, in one line
    secret = secret if secret is not None else session_secret(root)
    sessions = Sessions(secret, SessionStore(review.url, idle=idle_seconds))
    app = FastAPI(title="fraudmatch review", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.review = review
    app.state.web = WebContext(
        root, review, sessions, Throttle(review.url, secret), templates(), users
    )

    def signed_in(cookie: str | None) -> dict[str, Any] | None:
        session = sessions.read(cookie)
        if session is None or session["u"] not in users_from(users, root):
            return None  # also an analyst removed from analysts.yaml by hand
        return session

    @app.middleware("http")
    async def guard(request: Request, call_next: Any) -> Response:
        if request.url.path not in PUBLIC_PATHS:
            session = await run_in_threadpool(signed_in, request.cookies.get(COOKIE))
            if session is None:
                response: Response = login_redirect(request)
                response.headers.update(SECURITY_HEADERS)
                return response
            request.state.session = session
        response = await call_next(request)
        for k, v in SECURITY_HEADERS.items():
            response.headers.setdefault(k, v)
        return response

    for module in (auth, cases, outcomes, audit, exports, workflow):
        app.include_router(module.router)
    return app

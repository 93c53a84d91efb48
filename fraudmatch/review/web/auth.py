"""Sign-in and sign-out of the review app."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fraudmatch.review.analysts import users_from, verify_password
from fraudmatch.review.web.context import form_of, web
from fraudmatch.review.web.sessions import COOKIE

log = logging.getLogger(__name__)
router = APIRouter()

_DUMMY_HASH = "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
"""Checked against when the analyst is unknown, so both answers take as long."""


def safe_next(target: str | None) -> str:
    """Only local paths after login (never another site)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/cases"


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request, next: str = "/cases") -> HTMLResponse:
    return web(request).render("login.html", user=None, next=safe_next(next), error=None)


@router.post("/login")
async def login(request: Request) -> Response:
    ctx = web(request)
    form = await form_of(request)
    name, password = form.get("name", "").strip(), form.get("password", "")
    stored = users_from(ctx.users, ctx.root).get(name)
    ok = verify_password(password, stored or _DUMMY_HASH) and stored is not None
    if not ok:
        # never the typed name: people sometimes type their password into it
        log.warning(
            "failed sign-in to the review app (%s; the name typed was %d characters)",
            "known analyst, wrong password" if stored is not None else "unknown analyst",
            len(name),
        )
        return ctx.render(
            "login.html",
            status=401,
            user=None,
            next=safe_next(form.get("next")),
            error="Unknown analyst or wrong password.",
        )
    ctx.review.log(name, "login", {})
    log.info("analyst %s signed in to the review app", name)
    response = RedirectResponse(safe_next(form.get("next")), status_code=303)
    response.set_cookie(
        COOKIE,
        ctx.sessions.issue(name),
        max_age=ctx.sessions.lifetime,
        httponly=True,
        samesite="strict",
        path="/",
    )
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    ctx = web(request)
    form = await form_of(request)
    if not ctx.sessions.check_csrf(request.state.session, form.get("csrf")):
        return ctx.refused(request)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response

"""Sign-in and sign-out of the review app: throttled, audited, sessions on the server."""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fraudmatch.review.analysts import users_from, verify_password
from fraudmatch.review.web.context import WebContext, form_of, web
from fraudmatch.review.web.sessions import COOKIE

log = logging.getLogger(__name__)
router = APIRouter()

_DUMMY_HASH = "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
"""Checked against when the analyst is unknown, so both answers take as long."""
UNKNOWN = "(unknown name)"
"""Who a refused sign-in is audited as when the name typed is no analyst's: never the
name itself, which may be a password typed in the wrong field."""


def safe_next(target: str | None) -> str:
    """Only local paths after login (never another site)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/cases"


def address_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


WRONG = "Unknown analyst or wrong password."


def refusal_text(failed: str, wait: str) -> str | None:
    """The message of a refused sign-in, from the codes its redirect carried."""
    if failed == "wait":
        seconds = wait if wait.isdigit() else "a few"
        return f"Too many failed sign-ins: try again in {seconds} seconds."
    return WRONG if failed == "wrong" else None


@router.get("/login", response_class=HTMLResponse)
async def login_form(
    request: Request, next: str = "/cases", failed: str = "", wait: str = ""
) -> HTMLResponse:
    error = refusal_text(failed, wait)
    return web(request).render("login.html", user=None, next=safe_next(next), error=error)


def _refuse(form: dict[str, str], wait: int | None) -> RedirectResponse:
    """Back to the sign-in form (a GET: reloading it never posts the password again),
    saying why by code; a throttled attempt (``wait`` seconds) also says so in
    ``Retry-After``."""
    params = {"next": safe_next(form.get("next")), "failed": "wrong" if wait is None else "wait"}
    if wait is not None:
        params["wait"] = str(wait)
    response = RedirectResponse(f"/login?{urlencode(params)}", status_code=303)
    if wait is not None:
        response.headers["Retry-After"] = str(wait)
    return response


def _sign_in(ctx: WebContext, name: str, password: str, address: str) -> tuple[bool, int | None]:
    """Check one attempt: (True, None) when it may sign in; (False, None) when refused;
    (False, seconds) when throttled."""
    known = users_from(ctx.users, ctx.root)
    stored = known.get(name)
    who = name if stored is not None else UNKNOWN
    wait = ctx.throttle.wait(name, address)
    if wait:
        detail = {"reason": "too many failed sign-ins", "wait_seconds": wait, "address": address}
        ctx.review.log(who, "sign-in refused", detail)
        return False, wait
    ok = verify_password(password, stored or _DUMMY_HASH) and stored is not None
    ctx.throttle.record(name, address, ok)
    if not ok:
        reason = "wrong password" if stored is not None else "unknown analyst"
        ctx.review.log(who, "sign-in refused", {"reason": reason, "address": address})
        # never the typed name: people sometimes type their password into it
        log.warning("failed sign-in to the review app (%s; the name typed was %d characters)",
                    reason, len(name))  # fmt: skip
        return False, None
    ctx.review.log(name, "sign-in", {"address": address})
    log.info("analyst %s signed in to the review app", name)
    return True, None


@router.post("/login")
async def login(request: Request) -> Response:
    ctx = web(request)
    form = await form_of(request)
    name, password = form.get("name", "").strip(), form.get("password", "")
    address = address_of(request)
    ok, wait = await run_in_threadpool(_sign_in, ctx, name, password, address)
    if not ok:
        return _refuse(form, wait)
    token = await run_in_threadpool(ctx.sessions.issue, name, address)
    response = RedirectResponse(safe_next(form.get("next")), status_code=303)
    response.set_cookie(
        COOKIE, token, max_age=ctx.sessions.lifetime, httponly=True, samesite="strict", path="/"
    )
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    ctx = web(request)
    form = await form_of(request)
    session = request.state.session
    if not ctx.sessions.check_csrf(session, form.get("csrf")):
        return ctx.refused(request)
    await run_in_threadpool(ctx.sessions.end, request.cookies.get(COOKIE), "signed out")
    await run_in_threadpool(ctx.review.log, session["u"], "sign-out", {})
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response

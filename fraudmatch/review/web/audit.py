"""The audit trail page: who did what, when."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from fraudmatch.review.web.context import MAX_LIST, web

router = APIRouter()


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, limit: int = MAX_LIST) -> HTMLResponse:
    ctx = web(request)
    limit = max(1, min(limit, 5000))
    return ctx.render(
        "audit.html", **ctx.page(request), audit=ctx.review.audit(limit=limit), limit=limit
    )

"""The case list and one case's page."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from fraudmatch.review.caseindex import STAGES
from fraudmatch.review.caselist import PER_PAGE_CHOICES, SORT_LABELS, ListView
from fraudmatch.review.casework import LABELS, ReviewError
from fraudmatch.review.views import FILTER_NAMES
from fraudmatch.review.web.context import query_of, web
from fraudmatch.review.web.workflow import done_message, problem_message

DONE = {"allocation": "allocation changed", "started": "investigation started"}

router = APIRouter()


@router.get("/cases", response_class=HTMLResponse)
def case_list(request: Request) -> HTMLResponse:
    ctx = web(request)
    filters = ctx.filters_of(request)
    view = ListView.from_mapping(request.query_params)
    try:
        page = ctx.review.case_page(filters, view)
        choices = ctx.review.choices(filters.run)
        runs = ctx.review.run_choices()
    except ReviewError as exc:
        return ctx.error(request, 404, "Not found", str(exc))
    shown = ListView(view.sort, view.reverse, page.page, view.per_page)
    return ctx.render(
        "cases.html",
        **ctx.page(request),
        filters=filters.__dict__,
        page=page,
        view=shown,
        cases=page.rows,
        counts=page.counts,
        choices={**choices, "stage": list(STAGES), "assignee": ctx.analysts()},
        runs=runs,
        analysts=ctx.analysts(),
        filter_names=FILTER_NAMES,
        notice=done_message(dict(request.query_params)),
        problem=problem_message(dict(request.query_params)),
        sort_labels=SORT_LABELS,
        per_choices=PER_PAGE_CHOICES,
        query=lambda **kw: query_of(filters, shown, **kw),
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
    """One case: both records of every match, its evidence, outcome forms and audit."""
    ctx = web(request)
    try:
        case = ctx.review.case(run_id, case_id)
    except ReviewError as exc:
        return ctx.error(request, 404, "Not found", str(exc))
    keys = [m.key for m in case.matches] + [m.outcome.match_key for m in case.matches if m.outcome]
    return ctx.render(
        "case.html",
        status,
        **ctx.page(request),
        case=case,
        forms=forms or {},
        saved=saved,
        audit=ctx.review.audit(keys, case_id=case_id),
        state=ctx.review.case_state(run_id, case_id),
        analysts=ctx.analysts(),
        back=urlencode({"run": run_id}),
    )


@router.get("/cases/{run_id}/{case_id}", response_class=HTMLResponse)
def show_case(request: Request, run_id: str, case_id: str, saved: str = "") -> HTMLResponse:
    done = LABELS.get(saved) or DONE.get(saved) if saved else None
    return case_page(request, run_id, case_id, saved=done)

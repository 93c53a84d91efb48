"""Team work: the front page's progress, allocation by a lead, bulk outcomes, starting work.

Every POST answers with a redirect (303) to a page that says what was done, so a reload
never sends the form again; what was done travels as codes and numbers, never as text. So
does what an analyst got wrong (nothing selected, too many at once): the list comes back
saying so. Only a form no page of the app makes (an unknown analyst, a stale token) gets an
error page.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fraudmatch.review import allocation as al
from fraudmatch.review import outcomes as oc
from fraudmatch.review import workflow as wf
from fraudmatch.review.casework import LABELS, Filters, ReviewError
from fraudmatch.review.views import FILTER_NAMES
from fraudmatch.review.web.context import form_lists, query_of, web

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    ctx = web(request)
    filters = ctx.filters_of(request)
    user = request.state.session["u"]
    board = wf.dashboard(ctx.review, filters.run, user)
    return ctx.render(
        "home.html",
        **ctx.page(request),
        run=filters.run,
        runs=ctx.review.run_choices(),
        board=board,
        query=lambda **kw: query_of(Filters(run=filters.run), **kw),
    )


def _filters(form: dict[str, list[str]]) -> Filters:
    return Filters.from_mapping({k: form.get(k, [""])[0] for k in FILTER_NAMES})


def _back(filters: Filters, **done: object) -> RedirectResponse:
    query = query_of(filters)
    extra = urlencode({k: v for k, v in done.items() if v is not None})
    return RedirectResponse(f"/cases?{query}&{extra}", status_code=303)


@router.post("/allocate")
async def allocate(request: Request) -> Response:
    ctx = web(request)
    form = await form_lists(request)
    session = request.state.session
    if not ctx.sessions.check_csrf(session, (form.get("csrf") or [""])[0]):
        return ctx.refused(request)
    if not ctx.is_lead(session["u"]):
        return ctx.error(request, 403, "Refused", "Only a lead allocates cases.")
    filters = _filters(form)
    to = (form.get("to") or [""])[0] or None
    due_text = (form.get("due") or [""])[0]
    back_case = (form.get("back_case") or [""])[0]
    try:
        due = date.fromisoformat(due_text) if due_text else None
        if not filters.run:
            raise ReviewError("no run to allocate in")
        if (form.get("scope") or [""])[0] == "filter":
            cases = await run_in_threadpool(wf.under_filters, ctx.review, filters)
        else:
            cases = await run_in_threadpool(
                wf.selected, ctx.review, filters.run, form.get("case", [])
            )
        if not cases:
            return _back(filters, problem="none-selected")
        moved = await run_in_threadpool(
            wf.allocate, ctx.review, filters.run, cases, None if to == "-" else to,
            by=session["u"], analysts=ctx.analysts(), due=due,
        )  # fmt: skip
    except (ReviewError, al.AllocationError, ValueError) as exc:
        return ctx.error(request, 400, "Not allocated", str(exc))
    if back_case:
        return RedirectResponse(
            f"/cases/{filters.run}/{back_case}?{urlencode({'saved': 'allocation'})}",
            status_code=303,
        )
    return _back(filters, done="allocated", n=moved, to=to)


@router.post("/bulk-outcome")
async def bulk_outcome(request: Request) -> Response:
    ctx = web(request)
    form = await form_lists(request)
    session = request.state.session
    if not ctx.sessions.check_csrf(session, (form.get("csrf") or [""])[0]):
        return ctx.refused(request)
    filters = _filters(form)
    outcome = (form.get("outcome") or [""])[0]
    comment = (form.get("comment") or [""])[0].strip()
    picked = form.get("case", [])
    if not picked or len(picked) > wf.MAX_BULK:
        return _back(filters, problem="none-selected" if not picked else "too-many",
                     n=len(picked))  # fmt: skip
    try:
        if not filters.run:
            raise ReviewError("no run")
        result = await run_in_threadpool(
            lambda: wf.bulk_outcome(ctx.review, filters.run or "", form.get("case", []),
                                    outcome=outcome, analyst=session["u"], comment=comment)
        )  # fmt: skip
    except (ReviewError, oc.OutcomeError) as exc:
        return ctx.error(request, 400, "Not saved", str(exc))
    return _back(
        filters, done="bulk", n=result.saved, outcome=outcome,
        conflicts=",".join(result.conflicts[:20]) or None,
    )  # fmt: skip


@router.post("/cases/{run_id}/{case_id}/start")
async def start(request: Request, run_id: str, case_id: str) -> Response:
    ctx = web(request)
    form = await form_lists(request)
    session = request.state.session
    if not ctx.sessions.check_csrf(session, (form.get("csrf") or [""])[0]):
        return ctx.refused(request)
    try:
        await run_in_threadpool(wf.start, ctx.review, run_id, case_id, session["u"])
    except ReviewError as exc:
        return ctx.error(request, 404, "Not found", str(exc))
    return RedirectResponse(
        f"/cases/{run_id}/{case_id}?{urlencode({'saved': 'started'})}", status_code=303
    )


def done_message(params: dict[str, str]) -> str | None:
    """What the last POST did, from the codes its redirect carried."""
    done, n = params.get("done"), params.get("n", "0")
    count = int(n) if n.isdigit() else 0
    cases = f"{count} case{'' if count == 1 else 's'}"
    if done == "allocated":
        to = params.get("to")
        if not to or to == "-":
            return f"Allocation taken back from {cases}."
        return f"{cases[0].upper()}{cases[1:]} allocated to {to}."
    if done == "bulk":
        label = LABELS.get(params.get("outcome", ""), "the outcome")
        text = f"Recorded '{label}' on {count} match{'' if count == 1 else 'es'}."
        if params.get("conflicts"):
            text += (
                " Someone else saved on case(s) "
                + params["conflicts"].replace(",", ", ")
                + " meanwhile: those were left as they saved them."
            )
        return text
    return None


def problem_message(params: dict[str, str]) -> str | None:
    """What an analyst got wrong in the last POST, from the code its redirect carried."""
    problem, n = params.get("problem"), params.get("n", "0")
    if problem == "none-selected":
        return "Nothing was changed: tick at least one case first."
    if problem == "too-many":
        count = int(n) if n.isdigit() else 0
        return (f"Nothing was changed: at most {wf.MAX_BULK} cases at once ({count} selected); "
                "narrow the filter.")  # fmt: skip
    return None

"""Recording an outcome on one match, refusing a lost update."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from fraudmatch.review import outcomes as oc
from fraudmatch.review.casework import LABELS, ReviewError, format_time
from fraudmatch.review.web.cases import case_page
from fraudmatch.review.web.context import form_of, web

router = APIRouter()


def parse_amount(text: str) -> float | None:
    """Pounds as typed (``£1,250.00``), rounded to pence; empty is no amount."""
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


def conflict_message(current: oc.Outcome) -> str:
    return (
        f"{current.analyst} recorded '{LABELS.get(current.outcome, current.outcome)}' at "
        f"{format_time(current.recorded_at)} (version {current.version}) after you opened "
        "this case. Your values are kept below: review their change and save again."
    )


@router.post("/cases/{run_id}/{case_id}/matches/{key}/outcome")
async def save_outcome(request: Request, run_id: str, case_id: str, key: str) -> Response:
    ctx = web(request)
    form = await form_of(request)
    session = request.state.session
    if not ctx.sessions.check_csrf(session, form.get("csrf")):
        return ctx.refused(request)
    typed = {
        "outcome": form.get("outcome", ""),
        "amount": form.get("amount", ""),
        "comment": form.get("comment", ""),
    }
    try:
        expected = int(form.get("expected_version", "0"))
        amount = parse_amount(typed["amount"])
        ctx.review.record(
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
        message = conflict_message(exc.current)
        return case_page(
            request, run_id, case_id, status=409, forms={key: {**typed, "conflict": message}}
        )
    except ReviewError as exc:
        return ctx.error(request, 404, "Not found", str(exc))
    except (oc.OutcomeError, ValueError) as exc:
        return case_page(
            request, run_id, case_id, status=400, forms={key: {**typed, "error": str(exc)}}
        )
    return RedirectResponse(
        f"/cases/{run_id}/{case_id}?{urlencode({'saved': typed['outcome']})}#match-{key}",
        status_code=303,
    )

"""Case work by a team: allocation by a lead, bulk outcomes, progress per rule and partner.

Everything here goes through :class:`~fraudmatch.review.casework.Review` and the stores it
uses (:mod:`.allocation`, :mod:`.outcomes`), so every change is audited like a single one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import polars as pl

from fraudmatch.review import allocation as al
from fraudmatch.review import outcomes as oc
from fraudmatch.review.caseindex import STAGES, progress
from fraudmatch.review.casework import Filters, Review, ReviewError

MAX_BULK = 500
"""Cases one bulk outcome may close: more is a filter mistake, not a decision."""


@dataclass
class BulkResult:
    """What a bulk outcome did: matches saved, already so, and changed by someone else."""

    saved: int = 0
    unchanged: int = 0
    conflicts: list[str] = field(default_factory=list)
    """Case ids where another analyst saved first (nothing of theirs overwritten)."""


def selected(review: Review, run_id: str, case_ids: Sequence[str]) -> list[tuple[str, str]]:
    """``(rule, case_id)`` of the named cases of a run; an unknown id is refused."""
    wanted = list(dict.fromkeys(case_ids))
    frame = review.case_frame(run_id).filter(pl.col("case_id").is_in(wanted))
    found = dict(zip(frame["case_id"].to_list(), frame["rule"].to_list(), strict=True))
    missing = [c for c in wanted if c not in found]
    if missing:
        raise ReviewError(f"no case {missing[0]!r} in run {run_id!r}")
    return [(found[c], c) for c in wanted]


def under_filters(review: Review, filters: Filters) -> list[tuple[str, str]]:
    """``(rule, case_id)`` of every case under the filters (all pages)."""
    frame = review.cases(filters)
    return list(zip(frame["rule"].to_list(), frame["case_id"].to_list(), strict=True))


def allocate(
    review: Review,
    run_id: str,
    cases: Sequence[tuple[str, str]],
    to: str | None,
    *,
    by: str,
    analysts: Sequence[str],
    due: date | None = None,
) -> int:
    """Allocate cases to a named analyst (None takes them back); returns how many moved."""
    if to is not None and to not in analysts:
        raise al.AllocationError(
            f"no analyst {to!r} to allocate to (analysts: {', '.join(sorted(analysts))})"
        )
    return al.allocate(review.url, run_id, cases, to, by=by, due=due)


def start(review: Review, run_id: str, case_id: str, analyst: str) -> None:
    [(rule, _)] = selected(review, run_id, [case_id])
    al.start(review.url, run_id, rule, case_id, analyst)


def bulk_outcome(
    review: Review,
    run_id: str,
    case_ids: Sequence[str],
    *,
    outcome: str,
    analyst: str,
    comment: str,
) -> BulkResult:
    """Record one outcome, with one comment, on every match of the selected cases that
    does not have it yet; a match someone else saved meanwhile is left as they saved it."""
    if outcome not in oc.OUTCOMES:
        raise oc.OutcomeError(f"outcome must be one of {', '.join(oc.OUTCOMES)}")
    if not case_ids:
        raise oc.OutcomeError("select at least one case")
    if len(case_ids) > MAX_BULK:
        raise oc.OutcomeError(f"at most {MAX_BULK} cases at once ({len(case_ids)} selected)")
    result = BulkResult()
    for _, case_id in selected(review, run_id, case_ids):
        for match in review.case(run_id, case_id).matches:
            if match.status == outcome:
                result.unchanged += 1
                continue
            try:
                oc.record_outcome(
                    review.url,
                    match.record(),
                    outcome=outcome,
                    analyst=analyst,
                    expected_version=match.version,
                    comment=comment,
                    run_id=run_id,
                )
                result.saved += 1
            except oc.OutcomeConflict:
                result.conflicts.append(case_id)
    review.log(
        analyst,
        "bulk outcome",
        {"run": run_id, "outcome": outcome, "cases": len(case_ids), "matches saved":
         result.saved, "comment": comment},
    )  # fmt: skip
    return result


def dashboard(review: Review, run_id: str | None, analyst: str) -> dict[str, Any]:
    """The front page: progress per rule and per partner, and the analyst's own cases."""
    if run_id is None:
        return {"by_rule": [], "by_partner": [], "mine": dict.fromkeys(STAGES, 0), "total": 0}
    cases = review.case_frame(run_id)
    mine = review.status_counts(replace(Filters(run=run_id), assignee=analyst))
    return {
        "by_rule": progress(cases, "rule"),
        "by_partner": progress(cases, "partner"),
        "mine": {s: mine.get(f"stage:{s}", 0) for s in STAGES},
        "total": cases.height,
        "closed": int((cases["stage"] == "closed").sum()) if cases.height else 0,
    }

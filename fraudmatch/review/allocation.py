"""Cases allocated to named analysts, and the start of work on them; every change audited.

A lead allocates cases of a run (one, a selection, or every case under a filter) to an
analyst, or takes an allocation back; the analyst a case is allocated to says when they
start investigating it. Each change writes one audit entry per case in the same
transaction, so the audit trail and the allocations never disagree (and the case list,
which is rebuilt when the audit trail grows, sees the change at once).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime

import polars as pl
import sqlalchemy as sa

from fraudmatch.review import outcomes as oc
from fraudmatch.review.schema import allocations_table, audit_table

ALLOCATION_SCHEMA = {
    "run_id": pl.String,
    "case_id": pl.String,
    "rule": pl.String,
    "analyst": pl.String,
    "assigned_by": pl.String,
    "assigned_at": pl.Datetime("us", "UTC"),
    "started_at": pl.Datetime("us", "UTC"),
    "due": pl.Date,
}


CHUNK = 500
"""Cases per statement (SQLite limits the parameters of one statement)."""


class AllocationError(ValueError):
    """An allocation cannot be made as asked; the message says why."""


def allocate(
    url: str,
    run_id: str,
    cases: Sequence[tuple[str, str]],
    analyst: str | None,
    *,
    by: str,
    due: date | None = None,
) -> int:
    """Allocate ``cases`` (``(rule, case_id)`` pairs) of a run to ``analyst``, or take them
    back when ``analyst`` is None; returns how many cases changed hands."""
    if not cases:
        return 0
    now = datetime.now(UTC)
    t = allocations_table
    action = "allocated" if analyst else "allocation taken back"
    done = 0
    with oc.engine(url).begin() as con:
        for at in range(0, len(cases), CHUNK):
            chunk = cases[at : at + CHUNK]
            ids = [c for _, c in chunk]
            before = {
                r.case_id: r.analyst
                for r in con.execute(
                    sa.select(t.c.case_id, t.c.analyst).where(
                        t.c.run_id == run_id, t.c.case_id.in_(ids)
                    )
                )
            }
            changed = [(rule, c) for rule, c in chunk if before.get(c) != analyst]
            if not changed:
                continue
            gone = [c for _, c in changed]
            con.execute(sa.delete(t).where(t.c.run_id == run_id, t.c.case_id.in_(gone)))
            con.execute(
                sa.insert(t),
                [
                    {"run_id": run_id, "case_id": c, "rule": rule, "analyst": analyst,
                     "assigned_by": by, "assigned_at": now, "started_at": None, "due": due}
                    for rule, c in changed
                ],
            )  # fmt: skip
            con.execute(
                sa.insert(audit_table),
                [
                    {"at": now, "analyst": by, "action": action, "match_key": None,
                     "case_id": c, "detail": json.dumps({"run": run_id, "rule": rule,
                     "to": analyst, "from": before.get(c), "due": due}, default=str)}
                    for rule, c in changed
                ],
            )  # fmt: skip
            done += len(changed)
    return done


def start(url: str, run_id: str, rule: str, case_id: str, analyst: str) -> None:
    """The analyst a case is allocated to starts investigating it (a lead may too)."""
    now = datetime.now(UTC)
    t = allocations_table
    with oc.engine(url).begin() as con:
        row = con.execute(sa.select(t).where(t.c.run_id == run_id, t.c.case_id == case_id)).first()
        if row is None:
            con.execute(
                sa.insert(t).values(run_id=run_id, case_id=case_id, rule=rule, analyst=analyst,
                                    assigned_by=analyst, assigned_at=now, started_at=now)
            )  # fmt: skip
        elif row.started_at is None:
            con.execute(
                sa.update(t)
                .where(t.c.run_id == run_id, t.c.case_id == case_id)
                .values(started_at=now, analyst=row.analyst or analyst)
            )
        else:
            return
        con.execute(
            sa.insert(audit_table).values(
                at=now, analyst=analyst, action="investigation started", case_id=case_id,
                detail=json.dumps({"run": run_id, "rule": rule}),
            )
        )  # fmt: skip


def allocations(url: str, run_id: str) -> pl.DataFrame:
    """The run's allocations, one row per case that has one."""
    t = allocations_table
    with oc.engine(url).connect() as con:
        rows = con.execute(sa.select(*t.columns).where(t.c.run_id == run_id)).all()
    columns = list(ALLOCATION_SCHEMA)
    data = {c: [r[i] for r in rows] for i, c in enumerate(columns)}
    for c in ("assigned_at", "started_at"):
        data[c] = [v.replace(tzinfo=UTC) if v and v.tzinfo is None else v for v in data[c]]
    return pl.DataFrame(data, schema=ALLOCATION_SCHEMA)


def generation(url: str) -> int:
    """The newest audit entry's id: it grows with every outcome and allocation saved."""
    with oc.engine(url).connect() as con:
        return int(con.execute(sa.select(sa.func.max(audit_table.c.id))).scalar() or 0)

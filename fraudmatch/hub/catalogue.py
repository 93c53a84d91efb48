"""The hub's catalogue: what was received, stored, refused and run, in one DuckDB file.

Every function opens its own connection and, where it writes, one short transaction, so a
cycle killed at any point leaves the catalogue consistent. Outside a :func:`session` nothing
holds the file between operations (another process can get in between two steps); opening
and closing the database costs tens of milliseconds, though, so a step that makes many
calls (collection) wraps them in a session that keeps the database open and gives each
operation a cheap cursor of its own. Writes are idempotent (insert-or-ignore, upserts keyed
by what they describe): re-running a cycle after a crash never duplicates a row.

Paths are stored relative to the workspace root (``store/northmoor/payroll/...``) and
given back joined to the root of the workspace they are read through, so a workspace
works from any current directory and can be moved or restored elsewhere. Catalogues
written before that (paths relative to the directory of the first cycle, or absolute)
are rewritten the next time the workspace is opened (:func:`relativise_paths`).

Times are naive ``TIMESTAMP`` values in UTC. Periods are compared as strings, which orders
the ``YYYY-MM`` (or ``YYYY-MM-DD``) periods partners use.

The schema is versioned (``schema_version``); a later release adds tables by appending to
:data:`MIGRATIONS`, applied in order the next time the catalogue is opened.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import polars as pl

from fraudmatch.hub.catalogue_db import (
    _PATH_COLUMNS,
    MIGRATIONS,
    SCHEMA_VERSION,
    CatalogueError,
    Workspace,
    _connect,
    _frame,
    _now,
    _resolve_columns,
    _to_stored,
    _transaction,
    _utc,
    ensure_schema,
    relativise_paths,
    schema_version,
    session,
)

__all__ = [
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "Accepted",
    "CatalogueError",
    "current_submissions",
    "deletions",
    "ensure_schema",
    "finish_run",
    "known_sha",
    "latest_accepted",
    "latest_period",
    "mark_step",
    "quarantined",
    "record_deletions",
    "record_quarantine",
    "record_rule",
    "record_submission",
    "relativise_paths",
    "run_info",
    "run_rules",
    "run_steps",
    "runs",
    "schema_version",
    "session",
    "set_sealed_path",
    "start_run",
    "step_done",
    "submission",
    "submissions",
]

# --------------------------------------------------------------------------- submissions

_SUBMISSION_SCHEMA: dict[str, pl.DataType] = {
    "sha256": pl.String(),
    "partner": pl.String(),
    "dataset": pl.String(),
    "period": pl.String(),
    "created": pl.Datetime("us"),
    "received_at": pl.Datetime("us"),
    "inbox_name": pl.String(),
    "stored_path": pl.String(),
    "sealed_path": pl.String(),
    "rows": pl.Int64(),
    "payload_size": pl.Int64(),
    "sender_fingerprint": pl.String(),
    "status": pl.String(),
}
_SUBMISSION_COLUMNS = ", ".join(_SUBMISSION_SCHEMA)


@dataclass(frozen=True)
class Accepted:
    """The newest submission accepted for a (partner, dataset): replay checks compare to it."""

    period: str
    created: datetime
    sha256: str


def record_submission(
    workspace: Workspace,
    *,
    sha256: str,
    partner: str,
    dataset: str,
    period: str,
    created: str | datetime,
    inbox_name: str,
    stored_path: str,
    sealed_path: str,
    rows: int,
    payload_size: int | None = None,
    sender_fingerprint: str | None = None,
    received_at: datetime | None = None,
) -> bool:
    """Record a stored submission; False (and no change) if this partner's payload is
    already recorded for this dataset."""
    values = [
        sha256,
        partner,
        dataset,
        period,
        _utc(created),
        _utc(received_at or _now()),
        inbox_name,
        _to_stored(workspace, stored_path),
        _to_stored(workspace, sealed_path),
        rows,
        payload_size,
        sender_fingerprint,
        "stored",
    ]
    with _transaction(workspace) as con:
        inserted = con.execute(
            f"INSERT INTO submissions ({_SUBMISSION_COLUMNS}) "
            f"VALUES ({', '.join('?' * len(values))}) "
            "ON CONFLICT (partner, dataset, sha256) DO NOTHING RETURNING sha256",
            values,
        ).fetchall()
    return bool(inserted)


def set_sealed_path(
    workspace: Workspace, partner: str, dataset: str, sha256: str, sealed_path: str
) -> None:
    """Where the sealed original ended up, when archiving had to pick another name."""
    with _transaction(workspace) as con:
        con.execute(
            "UPDATE submissions SET sealed_path = ? "
            "WHERE partner = ? AND dataset = ? AND sha256 = ?",
            [_to_stored(workspace, sealed_path), partner, dataset, sha256],
        )


def known_sha(
    workspace: Workspace, sha256: str, partner: str | None = None, dataset: str | None = None
) -> bool:
    """Whether this payload is recorded (for this partner and dataset, when given)."""
    with _connect(workspace) as con:
        row = con.execute(
            "SELECT 1 FROM submissions WHERE sha256 = ? "
            "AND partner = coalesce(?, partner) AND dataset = coalesce(?, dataset) LIMIT 1",
            [sha256, partner, dataset],
        ).fetchone()
    return row is not None


def submission(
    workspace: Workspace, sha256: str, *, partner: str, dataset: str
) -> dict[str, Any] | None:
    """The catalogue row of one partner's payload for one dataset, or None."""
    with _connect(workspace) as con:
        frame = _frame(
            con,
            f"SELECT {_SUBMISSION_COLUMNS} FROM submissions "
            "WHERE sha256 = ? AND partner = ? AND dataset = ?",
            [sha256, partner, dataset],
            _SUBMISSION_SCHEMA,
        )
    frame = _resolve_columns(workspace, frame, _PATH_COLUMNS["submissions"])
    return frame.row(0, named=True) if frame.height else None


def latest_accepted(workspace: Workspace, partner: str, dataset: str) -> Accepted | None:
    """Newest period (then newest sealing time) ever accepted, whatever its status now:
    a submission deleted under retention still makes older periods replays."""
    with _connect(workspace) as con:
        row = con.execute(
            "SELECT period, created, sha256 FROM submissions WHERE partner = ? AND dataset = ? "
            "ORDER BY period DESC, created DESC LIMIT 1",
            [partner, dataset],
        ).fetchone()
    return Accepted(period=row[0], created=row[1], sha256=row[2]) if row else None


def latest_period(workspace: Workspace, partner: str, dataset: str) -> str | None:
    accepted = latest_accepted(workspace, partner, dataset)
    return accepted.period if accepted else None


def submissions(workspace: Workspace) -> pl.DataFrame:
    """Every recorded submission, oldest first."""
    with _connect(workspace) as con:
        frame = _frame(
            con,
            f"SELECT {_SUBMISSION_COLUMNS} FROM submissions ORDER BY received_at, sha256",
            [],
            _SUBMISSION_SCHEMA,
        )
    return _resolve_columns(workspace, frame, _PATH_COLUMNS["submissions"])


def current_submissions(workspace: Workspace, month: str | None = None) -> pl.DataFrame:
    """The submission each (partner, dataset) is matched on: latest period, then latest
    received (then latest sealed), among those still stored; with ``month`` (YYYY-MM), among
    those prepared for that month's period only (its tokens meet no other month's)."""
    sql = (
        f"SELECT {_SUBMISSION_COLUMNS} FROM submissions WHERE status = 'stored' "
        "AND (CAST(? AS VARCHAR) IS NULL OR left(period, 7) = ?) "
        "QUALIFY row_number() OVER (PARTITION BY partner, dataset "
        "ORDER BY period DESC, received_at DESC, created DESC) = 1 "
        "ORDER BY partner, dataset"
    )
    with _connect(workspace) as con:
        frame = _frame(con, sql, [month, month], _SUBMISSION_SCHEMA)
    return _resolve_columns(workspace, frame, _PATH_COLUMNS["submissions"])


# --------------------------------------------------------------------------- quarantine

_QUARANTINE_SCHEMA: dict[str, pl.DataType] = {
    "path": pl.String(),
    "inbox_name": pl.String(),
    "partner": pl.String(),
    "reason": pl.String(),
    "at": pl.Datetime("us"),
    "sender": pl.String(),
    "dataset": pl.String(),
    "period": pl.String(),
}


def record_quarantine(
    workspace: Workspace,
    *,
    inbox_name: str,
    partner: str,
    reason: str,
    path: str,
    sender: str | None = None,
    dataset: str | None = None,
    period: str | None = None,
    at: datetime | None = None,
) -> None:
    """Record a refused file; keyed by its quarantine path, so a retry updates, not adds."""
    with _transaction(workspace) as con:
        con.execute(
            'INSERT INTO quarantined (path, inbox_name, partner, reason, "at", sender, dataset, '
            "period) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (path) DO UPDATE SET "
            'reason = excluded.reason, "at" = excluded."at", sender = excluded.sender, '
            "dataset = excluded.dataset, period = excluded.period",
            [
                _to_stored(workspace, path),
                inbox_name,
                partner,
                reason,
                _utc(at or _now()),
                sender,
                dataset,
                period,
            ],
        )


def quarantined(workspace: Workspace) -> pl.DataFrame:
    with _connect(workspace) as con:
        frame = _frame(
            con,
            'SELECT path, inbox_name, partner, reason, "at", sender, dataset, period '
            'FROM quarantined ORDER BY "at", path',
            [],
            _QUARANTINE_SCHEMA,
        )
    return _resolve_columns(workspace, frame, ["path"])


# --------------------------------------------------------------------------- runs

_RUN_SCHEMA: dict[str, pl.DataType] = {
    "run_id": pl.String(),
    "cycle_date": pl.Date(),
    "started_at": pl.Datetime("us"),
    "finished_at": pl.Datetime("us"),
    "status": pl.String(),
    "attempts": pl.Int32(),
    "summary": pl.String(),
}
_STEP_SCHEMA: dict[str, pl.DataType] = {
    "run_id": pl.String(),
    "step": pl.String(),
    "key": pl.String(),
    "status": pl.String(),
    "path": pl.String(),
    "at": pl.Datetime("us"),
}
_RULE_SCHEMA: dict[str, pl.DataType] = {
    "run_id": pl.String(),
    "rule": pl.String(),
    "matches": pl.Int64(),
    "cases": pl.Int64(),
    "path": pl.String(),
}


def start_run(workspace: Workspace, run_id: str, cycle_date: date) -> int:
    """Open a run, or resume it (same run id) after a failure; returns the attempt number.

    A run id belongs to one cycle date: resuming it with another date would mix two
    cycles' matches, so that is refused.
    """
    with _transaction(workspace) as con:
        row = con.execute(
            "SELECT cycle_date, attempts FROM runs WHERE run_id = ?", [run_id]
        ).fetchone()
        if row is None:
            con.execute(
                "INSERT INTO runs (run_id, cycle_date, started_at, status, attempts) "
                "VALUES (?, ?, ?, 'running', 1)",
                [run_id, cycle_date, _now()],
            )
            return 1
        if row[0] != cycle_date:
            raise CatalogueError(
                f"run {run_id} is for cycle date {row[0]}, not {cycle_date}; "
                "use another run id for another cycle date"
            )
        con.execute(
            "UPDATE runs SET status = 'running', finished_at = NULL, attempts = attempts + 1 "
            "WHERE run_id = ?",
            [run_id],
        )
        return int(row[1]) + 1


def finish_run(
    workspace: Workspace, run_id: str, summary: Mapping[str, Any], status: str = "finished"
) -> None:
    """Close a run with its summary (``status='failed'`` for a run that gave up)."""
    document = json.dumps(summary, default=str, sort_keys=True)
    with _transaction(workspace) as con:
        con.execute(
            "UPDATE runs SET status = ?, finished_at = ?, summary = ? WHERE run_id = ?",
            [status, _now(), document, run_id],
        )


def run_info(workspace: Workspace, run_id: str) -> dict[str, Any] | None:
    """A run's row, with its summary parsed back into a dict."""
    with _connect(workspace) as con:
        frame = _frame(
            con,
            f"SELECT {', '.join(_RUN_SCHEMA)} FROM runs WHERE run_id = ?",
            [run_id],
            _RUN_SCHEMA,
        )
    if not frame.height:
        return None
    row = frame.row(0, named=True)
    row["summary"] = json.loads(row["summary"]) if row["summary"] else None
    return row


def runs(workspace: Workspace) -> pl.DataFrame:
    with _connect(workspace) as con:
        return _frame(
            con,
            f"SELECT {', '.join(_RUN_SCHEMA)} FROM runs ORDER BY started_at, run_id",
            [],
            _RUN_SCHEMA,
        )


def step_done(workspace: Workspace, run_id: str, step: str, key: str) -> bool:
    """Whether a re-run may skip this step: it finished and was recorded."""
    with _connect(workspace) as con:
        row = con.execute(
            'SELECT status FROM run_steps WHERE run_id = ? AND step = ? AND "key" = ?',
            [run_id, step, key],
        ).fetchone()
    return row is not None and row[0] == "done"


def mark_step(
    workspace: Workspace,
    run_id: str,
    step: str,
    key: str,
    status: str = "done",
    path: str | None = None,
) -> None:
    """Record a step's state; call it only after the step's output is safely written."""
    with _transaction(workspace) as con:
        con.execute(
            'INSERT INTO run_steps (run_id, step, "key", status, path, "at") '
            'VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (run_id, step, "key") DO UPDATE SET '
            'status = excluded.status, path = excluded.path, "at" = excluded."at"',
            [run_id, step, key, status, _to_stored(workspace, path), _now()],
        )


def run_steps(workspace: Workspace, run_id: str) -> pl.DataFrame:
    with _connect(workspace) as con:
        frame = _frame(
            con,
            'SELECT run_id, step, "key", status, path, "at" FROM run_steps WHERE run_id = ? '
            'ORDER BY "at", step, "key"',
            [run_id],
            _STEP_SCHEMA,
        )
    return _resolve_columns(workspace, frame, ["path"])


def record_rule(
    workspace: Workspace, run_id: str, rule: str, matches: int, cases: int, path: str | None
) -> None:
    """Matches and cases one rule produced in a run (replaced if the rule is re-run)."""
    with _transaction(workspace) as con:
        con.execute(
            "INSERT INTO run_rules (run_id, rule, matches, cases, path) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (run_id, rule) DO UPDATE SET matches = excluded.matches, "
            "cases = excluded.cases, path = excluded.path",
            [run_id, rule, matches, cases, _to_stored(workspace, path)],
        )


def run_rules(workspace: Workspace, run_id: str) -> pl.DataFrame:
    with _connect(workspace) as con:
        frame = _frame(
            con,
            "SELECT run_id, rule, matches, cases, path FROM run_rules WHERE run_id = ? "
            "ORDER BY rule",
            [run_id],
            _RULE_SCHEMA,
        )
    return _resolve_columns(workspace, frame, ["path"])


# --------------------------------------------------------------------------- deletions

_DELETION_SCHEMA: dict[str, pl.DataType] = {
    "kind": pl.String(),
    "item": pl.String(),
    "paths": pl.String(),
    "stored_at": pl.Datetime("us"),
    "deleted_at": pl.Datetime("us"),
    "reason": pl.String(),
    "rule": pl.String(),
}
_MARK_DELETED = {
    "submission": "UPDATE submissions SET status = 'deleted' "
    "WHERE partner || '/' || dataset || '/' || period || '/' || sha256 = ?",
    "run": "UPDATE runs SET status = 'deleted' WHERE run_id = ?",
}


def record_deletions(workspace: Workspace, rows: Sequence[Mapping[str, Any]]) -> int:
    """Log deletions (keys of :data:`_DELETION_SCHEMA`) *before* the files go, in one
    transaction with the status change, so a crash in between leaves a logged item whose
    files the next run deletes; returns how many were new."""
    added = 0
    with _transaction(workspace) as con:
        for row in rows:
            values = [row[c] for c in _DELETION_SCHEMA]
            values[2] = json.dumps(list(row["paths"]))
            new = con.execute(
                f"INSERT INTO deletions ({', '.join(_DELETION_SCHEMA)}) VALUES "
                f"({', '.join('?' * len(values))}) ON CONFLICT (kind, item) DO NOTHING "
                "RETURNING kind",
                values,
            ).fetchall()
            added += len(new)
            if row["kind"] in _MARK_DELETED:
                con.execute(_MARK_DELETED[row["kind"]], [row["item"]])
    return added


def deletions(workspace: Workspace) -> pl.DataFrame:
    """The deletion log, oldest first; ``paths`` is a JSON list."""
    with _connect(workspace) as con:
        return _frame(
            con,
            f"SELECT {', '.join(_DELETION_SCHEMA)} FROM deletions ORDER BY deleted_at, kind, item",
            [],
            _DELETION_SCHEMA,
        )

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

Runs (their steps, the submissions each rule used, bundle versions) are in
:mod:`fraudmatch.hub.catalogue_runs`, the database itself (schema, connections, paths) in
:mod:`fraudmatch.hub.catalogue_db`; this module re-exports both, so callers use
``catalogue.<name>`` only.

The schema is versioned (``schema_version``); a later release adds tables by appending to
:data:`MIGRATIONS`, applied in order the next time the catalogue is opened.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
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
from fraudmatch.hub.catalogue_runs import (
    BundleRecord,
    Input,
    RuleRun,
    bundle_versions,
    finish_run,
    latest_bundle,
    mark_step,
    record_bundle,
    record_rule,
    rule_done,
    rule_run,
    run_info,
    run_rules,
    run_steps,
    runs,
    start_run,
    step_done,
)

__all__ = [
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "Accepted",
    "BundleRecord",
    "CatalogueError",
    "Input",
    "RuleRun",
    "bundle_versions",
    "current_submissions",
    "deletions",
    "ensure_schema",
    "finish_run",
    "known_sha",
    "latest_accepted",
    "latest_bundle",
    "latest_period",
    "mark_step",
    "quarantined",
    "record_bundle",
    "record_deletions",
    "record_quarantine",
    "record_rule",
    "record_submission",
    "relativise_paths",
    "rule_done",
    "rule_run",
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

"""Runs in the catalogue: their attempts and steps, what each rule found and the
submissions it used, and the versions of the bundles sent to each partner.

A run is one cycle date (``run-20261101``); running the cycle again for that date resumes
the run. A rule is reused only when it ran on the very submissions (and rule definition)
current now; when late data changed a rule's inputs it is matched again, and a partner
whose cases changed is sent the next version of its bundle. See
:mod:`fraudmatch.hub.catalogue_db` for connections, transactions and stored paths.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import polars as pl

from fraudmatch.hub.catalogue_db import (
    CatalogueError,
    Workspace,
    _connect,
    _frame,
    _now,
    _resolve_columns,
    _to_path,
    _to_stored,
    _transaction,
)

__all__ = [
    "BundleRecord",
    "Input",
    "RuleRun",
    "bundle_versions",
    "finish_run",
    "latest_bundle",
    "mark_step",
    "record_bundle",
    "record_rule",
    "rule_done",
    "rule_run",
    "run_info",
    "run_rules",
    "run_steps",
    "runs",
    "start_run",
    "step_done",
]

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


# --------------------------------------------------------------------------- rule inputs

Input = tuple[str, str, str]
"""(partner, dataset, sha256) of one submission a rule matched on."""


@dataclass(frozen=True)
class RuleRun:
    """What a rule ran on in a run: the submissions, and the digest of its definition
    (None for runs recorded before the catalogue kept them)."""

    inputs: frozenset[Input]
    definition: str | None


def rule_done(
    workspace: Workspace,
    run_id: str,
    rule: str,
    *,
    matches: int,
    cases: int,
    path: str,
    inputs: Iterable[Input],
    definition: str,
) -> None:
    """A rule finished: its step, counts, inputs and definition, in one transaction.

    Call it only after the rule's files are written; a crash before it leaves the
    previous record (other inputs, or none), so the rule is matched again on resume.
    """
    rows = sorted(set(inputs))
    with _transaction(workspace) as con:
        con.execute(
            'INSERT INTO run_steps (run_id, step, "key", status, path, "at") '
            "VALUES (?, 'match', ?, 'done', ?, ?) ON CONFLICT (run_id, step, \"key\") DO UPDATE "
            'SET status = excluded.status, path = excluded.path, "at" = excluded."at"',
            [run_id, rule, _to_stored(workspace, path), _now()],
        )
        con.execute(
            "INSERT INTO run_rules (run_id, rule, matches, cases, path, definition) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (run_id, rule) DO UPDATE SET "
            "matches = excluded.matches, cases = excluded.cases, path = excluded.path, "
            "definition = excluded.definition",
            [run_id, rule, matches, cases, _to_stored(workspace, path), definition],
        )
        con.execute("DELETE FROM rule_inputs WHERE run_id = ? AND rule = ?", [run_id, rule])
        if rows:
            con.executemany(
                "INSERT INTO rule_inputs (run_id, rule, partner, dataset, sha256) "
                "VALUES (?, ?, ?, ?, ?)",
                [[run_id, rule, *row] for row in rows],
            )


def rule_run(workspace: Workspace, run_id: str, rule: str) -> RuleRun | None:
    """The inputs and definition a rule last ran on in this run; None if it never ran."""
    with _connect(workspace) as con:
        row = con.execute(
            "SELECT definition FROM run_rules WHERE run_id = ? AND rule = ?", [run_id, rule]
        ).fetchone()
        if row is None:
            return None
        inputs = con.execute(
            "SELECT partner, dataset, sha256 FROM rule_inputs WHERE run_id = ? AND rule = ?",
            [run_id, rule],
        ).fetchall()
    return RuleRun(frozenset((p, d, s) for p, d, s in inputs), row[0])


# --------------------------------------------------------------------------- bundles

_BUNDLE_SCHEMA: dict[str, pl.DataType] = {
    "run_id": pl.String(),
    "partner": pl.String(),
    "version": pl.Int32(),
    "content": pl.String(),
    "rows": pl.Int64(),
    "cases": pl.Int64(),
    "path": pl.String(),
    "at": pl.Datetime("us"),
}


@dataclass(frozen=True)
class BundleRecord:
    """One version of a partner's bundle for a run."""

    version: int
    content: str | None
    rows: int
    cases: int
    path: str


def record_bundle(
    workspace: Workspace,
    run_id: str,
    partner: str,
    *,
    version: int,
    content: str | None,
    rows: int,
    cases: int,
    path: str,
) -> None:
    """A bundle version is written: recorded with its distribute step, in one transaction
    (call it only after the sealed file is in place)."""
    stored = _to_stored(workspace, path)
    with _transaction(workspace) as con:
        con.execute(
            'INSERT INTO bundles (run_id, partner, version, content, rows, cases, path, "at") '
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_id, partner, version) DO UPDATE "
            "SET content = excluded.content, rows = excluded.rows, cases = excluded.cases, "
            'path = excluded.path, "at" = excluded."at"',
            [run_id, partner, version, content, rows, cases, stored, _now()],
        )
        con.execute(
            'INSERT INTO run_steps (run_id, step, "key", status, path, "at") '
            "VALUES (?, 'distribute', ?, 'done', ?, ?) ON CONFLICT (run_id, step, \"key\") "
            'DO UPDATE SET status = excluded.status, path = excluded.path, "at" = excluded."at"',
            [run_id, partner, stored, _now()],
        )


def latest_bundle(workspace: Workspace, run_id: str, partner: str) -> BundleRecord | None:
    """The newest bundle version recorded for a partner in a run, or None."""
    with _connect(workspace) as con:
        row = con.execute(
            "SELECT version, content, rows, cases, path FROM bundles "
            "WHERE run_id = ? AND partner = ? ORDER BY version DESC LIMIT 1",
            [run_id, partner],
        ).fetchone()
    if row is None:
        return None
    path = str(_to_path(workspace, row[4]))
    return BundleRecord(int(row[0]), row[1], int(row[2]), int(row[3]), path)


def bundle_versions(workspace: Workspace, run_id: str) -> pl.DataFrame:
    """Every bundle version of a run, per partner oldest first."""
    with _connect(workspace) as con:
        frame = _frame(
            con,
            'SELECT run_id, partner, version, content, rows, cases, path, "at" FROM bundles '
            "WHERE run_id = ? ORDER BY partner, version",
            [run_id],
            _BUNDLE_SCHEMA,
        )
    return _resolve_columns(workspace, frame, ["path"])

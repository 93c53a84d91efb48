"""Retention: the hub keeps personal data only as long as the partnership agreed.

Everything older than ``retention_days`` (counted from when the hub stored it, or from
the run's cycle date) is deleted: stored submissions and their sealed originals, runs with
their matches, reports and bundles, quarantined files, outbox files. What stays is what
the savings report and the audit need: the catalogue's rows (so a replay of a deleted
period is still refused), the outcomes without their evidence labels, the audit trail,
and a deletion log saying what went, when, why and under which clause.

Crash-safe and idempotent: each item is logged (and marked deleted) in the catalogue
*before* its files are removed, and every run first finishes the logged deletions whose
files are still there. A deletion killed half-way is completed by the next run; a second
run with the same clock deletes nothing new.

The clock is a parameter (``today``), so tests and the demo move it forward for real.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from fraudmatch.common.fsutil import crash_point, fsync_dir, remove_temporaries
from fraudmatch.hub import catalogue
from fraudmatch.hub.workspace import Workspace
from fraudmatch.review.outcomes import forget_evidence
from fraudmatch.spec.partnership import Partnership

__all__ = ["STALE_INBOX_SECONDS", "RetentionResult", "enforce", "for_run", "remove_debris"]

log = logging.getLogger(__name__)

_KINDS = ("submission", "run", "quarantined", "outbox")

STALE_INBOX_SECONDS = 24 * 3600
"""A temp file in an inbox is a delivery still being copied in, unless it is this old."""


@dataclass
class RetentionResult:
    """What one retention pass deleted (or, in a dry run, would delete)."""

    today: date
    cutoff: date
    retention_days: int
    dry_run: bool
    deleted: list[dict[str, Any]] = field(default_factory=list)
    completed: list[str] = field(default_factory=list)  # logged earlier, files removed now
    temporaries: list[str] = field(default_factory=list)
    outcomes_reduced: int = 0

    def summary(self) -> dict[str, Any]:
        """JSON-ready, for the run summary, the report and the CLI."""
        return {
            "today": self.today.isoformat(),
            "cutoff": self.cutoff.isoformat(),
            "retention_days": self.retention_days,
            "dry_run": self.dry_run,
            "deleted": [
                {**row, "stored_at": str(row["stored_at"]), "deleted_at": str(row["deleted_at"])}
                for row in self.deleted
            ],
            "completed": list(self.completed),
            "temporaries": list(self.temporaries),
            "outcomes_reduced": self.outcomes_reduced,
        }


def remove_debris(workspace: Workspace) -> list[Path]:
    """Temp files left by a killed process, anywhere in the workspace; call under the
    cycle lock. In an inbox only stale ones go (partners may be copying files in)."""
    removed = remove_temporaries(workspace.root, skip=[workspace.inbox_root])
    removed += remove_temporaries(workspace.inbox_root, older_than=STALE_INBOX_SECONDS)
    for path in removed:
        log.info("removed a temporary file left by an interrupted run: %s", path)
    return removed


def enforce(
    workspace: Workspace,
    partnership: Partnership,
    *,
    today: date,
    dry_run: bool = False,
    outcomes_url: str | None = None,
) -> RetentionResult:
    """Delete what is older than ``partnership.retention_days`` at ``today``.

    Call it with no cycle running on the workspace (the cycle calls it at its end;
    ``fraudmatch retention`` takes the cycle lock). ``outcomes_url`` is the outcomes
    database whose evidence labels of deleted runs are dropped (None: leave outcomes).
    """
    days = partnership.retention_days
    cutoff = today - timedelta(days=days)
    result = RetentionResult(today=today, cutoff=cutoff, retention_days=days, dry_run=dry_run)
    rule = f"retention_days: {days} ({partnership.source})"
    now = datetime.combine(today, time(), tzinfo=UTC).replace(tzinfo=None)
    with catalogue.session(workspace):
        planned = sorted(_due(workspace, cutoff, rule, now), key=_order)
        result.deleted = planned
        if dry_run:
            return result
        result.temporaries = [str(p) for p in remove_debris(workspace)]
        catalogue.record_deletions(workspace, planned)
        crash_point("retention")
        result.completed = _finish_logged(workspace, {row["item"] for row in planned})
        # a run whose deletion was killed half-way loses its evidence labels now
        runs = [row["item"] for row in planned if row["kind"] == "run"]
        runs += sorted(_logged(workspace, "run").intersection(result.completed))
        if outcomes_url and runs:
            result.outcomes_reduced = forget_evidence(outcomes_url, runs)
    for row in planned:
        log.info("retention: deleted %s %s (%s)", row["kind"], row["item"], row["reason"])
    return result


def for_run(workspace: Workspace, result: RetentionResult) -> RetentionResult:
    """The retention of a cycle resumed after it was killed during its own retention, as
    the uninterrupted run would have reported it: the items an earlier attempt logged at
    the same date (the cycle date) and whose files this pass removed are this run's
    deletions, not an earlier run's completed ones. Anything else is left as it is."""
    now = datetime.combine(result.today, time())
    logged = catalogue.deletions(workspace).filter(
        (pl.col("deleted_at") == now) & pl.col("item").is_in(result.completed)
    )
    if not logged.height:
        return result
    ours = [{**row, "paths": json.loads(row["paths"])} for row in logged.iter_rows(named=True)]
    items = {row["item"] for row in ours}
    return dataclasses.replace(
        result,
        deleted=sorted([*result.deleted, *ours], key=_order),
        completed=[item for item in result.completed if item not in items],
    )


def _order(row: Mapping[str, Any]) -> tuple[int, str]:
    """Deletions in a stable order: submissions, runs, quarantined files, outbox files."""
    return (_KINDS.index(row["kind"]), row["item"])


def _logged(workspace: Workspace, kind: str) -> set[str]:
    """The items of ``kind`` in the deletion log."""
    logged = catalogue.deletions(workspace).filter(pl.col("kind") == kind)
    return set(logged["item"].to_list())


# --------------------------------------------------------------------------- what is due


def _due(workspace: Workspace, cutoff: date, rule: str, now: datetime) -> Iterator[dict]:
    """Every item past retention and not yet in the deletion log."""
    limit = datetime.combine(cutoff, time())
    done = set(catalogue.deletions(workspace).select("kind", "item").iter_rows())
    yield from (r for r in _due_submissions(workspace, limit, rule, now) if _new(r, done))
    yield from (r for r in _due_runs(workspace, cutoff, rule, now) if _new(r, done))
    yield from (r for r in _due_quarantine(workspace, limit, rule, now) if _new(r, done))
    yield from (r for r in _due_outbox(workspace, limit, rule, now) if _new(r, done))


def _new(row: Mapping[str, Any], done: set[tuple[str, str]]) -> bool:
    return (row["kind"], row["item"]) not in done


def _entry(
    kind: str, item: str, paths: list[str], stored: datetime, rule: str, now: datetime
) -> dict[str, Any]:
    return {
        "kind": kind,
        "item": item,
        "paths": paths,
        "stored_at": stored,
        "deleted_at": now,
        "reason": f"older than the retention period: stored {stored:%Y-%m-%d}",
        "rule": rule,
    }


def _due_submissions(workspace: Workspace, limit: datetime, rule: str, now: datetime):
    frame = catalogue.submissions(workspace).filter(
        (pl.col("status") == "stored") & (pl.col("received_at") < limit)
    )
    for row in frame.iter_rows(named=True):
        item = f"{row['partner']}/{row['dataset']}/{row['period']}/{row['sha256']}"
        paths = [row["stored_path"], row["sealed_path"]]
        yield _entry("submission", item, paths, row["received_at"], rule, now)


def _run_bundles(workspace: Workspace, run_id: str) -> list[str]:
    steps = catalogue.run_steps(workspace, run_id)
    return steps.filter(pl.col("step") == "distribute")["path"].drop_nulls().to_list()


def _due_runs(workspace: Workspace, cutoff: date, rule: str, now: datetime):
    frame = catalogue.runs(workspace).filter(
        (pl.col("cycle_date") < cutoff) & (pl.col("status") != "running")
    )
    for row in frame.iter_rows(named=True):
        run_id = row["run_id"]
        paths = [str(workspace.runs / run_id), *_run_bundles(workspace, run_id)]
        stored = datetime.combine(row["cycle_date"], time())
        yield _entry("run", run_id, paths, stored, rule, now)


def _due_quarantine(workspace: Workspace, limit: datetime, rule: str, now: datetime):
    for row in catalogue.quarantined(workspace).filter(pl.col("at") < limit).iter_rows(named=True):
        path = Path(row["path"])
        reason_file = path.with_name(f"{path.name}.reason.txt")
        yield _entry(
            "quarantined", row["path"], [row["path"], str(reason_file)], row["at"], rule, now
        )


def _due_outbox(workspace: Workspace, limit: datetime, rule: str, now: datetime):
    """Outbox files of no run in the catalogue (a run's bundles go with its run, by the
    run's date), by the time they were written."""
    outbox = workspace.root / "outbox"
    if not outbox.is_dir():
        return
    of_runs = {
        str(Path(p)) for run_id in catalogue.runs(workspace)["run_id"]
        for p in _run_bundles(workspace, run_id)
    }  # fmt: skip
    for path in sorted(p for p in outbox.glob("*/*") if p.is_file() and str(p) not in of_runs):
        written = datetime.fromtimestamp(path.stat().st_mtime, UTC).replace(tzinfo=None)
        if written < limit and not path.name.startswith("."):
            yield _entry("outbox", str(path), [str(path)], written, rule, now)


# --------------------------------------------------------------------------- deleting


def _finish_logged(workspace: Workspace, planned: set[str]) -> list[str]:
    """Remove every logged item's files still present: this run's, and those of a run
    killed between logging and deleting. Returns the earlier items completed now."""
    completed = []
    for row in catalogue.deletions(workspace).iter_rows(named=True):
        present = [Path(p) for p in json.loads(row["paths"]) if Path(p).exists()]
        for path in present:
            _remove(path)
        if present and row["item"] not in planned:
            completed.append(row["item"])
    return completed


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)
    fsync_dir(path.parent)

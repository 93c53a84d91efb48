"""A run's matches as the review sees them: whitelisted columns only, keyed per match.

Reads ``runs/<run_id>/matches/<rule>.parquet``. Only whitelisted columns are ever read
(rule, case, both sides' partner, dataset and record_id, tier, blocking rule, weight,
probability and the ``level_*``/``weight_*`` evidence): a token or key column can never
reach a page or an export through here. Frames are cached per run until a file changes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from fraudmatch.matching.rules import Rule
from fraudmatch.review import outcomes as oc
from fraudmatch.review.views import ReviewError, RunInfo

BASE_COLUMNS = (
    "rule",
    "case_id",
    "left_partner",
    "left_dataset",
    "left_record_id",
    "right_partner",
    "right_dataset",
    "right_record_id",
    "blocking_rule",
    "tier",
    "match_weight",
    "match_probability",
)
OPTIONAL_COLUMNS = ("note",)
"""Clear text a cycle may add to a match (suppression's note on a lead raised again)."""
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")
_EVIDENCE = re.compile(r"^(level|weight)_[a-z0-9_]+$")


def evidence_columns(columns: Sequence[str]) -> list[str]:
    """The ``level_*``/``weight_*`` columns of a matches frame, in their order."""
    return [c for c in columns if _EVIDENCE.match(c)]


def comparisons(columns: Sequence[str]) -> list[str]:
    """The comparison names of a matches frame (from its ``level_*`` columns)."""
    return [c.removeprefix("level_") for c in columns if c.startswith("level_")]


def _run_periods(con: Any) -> dict[str, list[str]]:
    """Each run's submission periods, by month, from what its rules matched on (catalogue
    ``rule_inputs``; empty for a catalogue from before it kept them)."""
    try:
        rows = con.execute(
            "SELECT DISTINCT i.run_id, left(s.period, 7) FROM rule_inputs i JOIN submissions s "
            "ON s.partner = i.partner AND s.dataset = i.dataset AND s.sha256 = i.sha256"
        ).fetchall()
    except Exception:  # no rule_inputs table: an older catalogue
        return {}
    found: dict[str, list[str]] = {}
    for run_id, month in rows:
        found.setdefault(run_id, []).append(month)
    return found


def _period_of(run_id: str, cycle_date: Any, periods: Mapping[str, list[str]]) -> str | None:
    """A run's period in words: the months its submissions were prepared for, else the
    month of its cycle date (a run matches only its own month's submissions)."""
    if periods.get(run_id):
        return ", ".join(sorted(periods[run_id]))
    return f"{cycle_date:%Y-%m}" if hasattr(cycle_date, "strftime") else None


class RunMatches:
    """The runs of one workspace and their matches (cached per run)."""

    def __init__(self, workspace_root: Path, rules: Mapping[str, Rule]) -> None:
        self.root = Path(workspace_root)
        self.rules = rules
        self._cache: dict[str, tuple[tuple, pl.DataFrame]] = {}
        self._catalogue: tuple[int, dict[str, dict]] | None = None
        """The catalogue's runs as last read, with the file's modification time."""

    def runs(self) -> list[RunInfo]:
        """Runs that have matches, newest first (from the run folders; the catalogue is
        consulted briefly for dates and status, and skipped while a cycle holds it)."""
        folder = self.root / "runs"
        found = (
            sorted(
                p.name
                for p in folder.iterdir()
                if p.is_dir() and (p / "matches").is_dir() and _SAFE_NAME.match(p.name)
            )
            if folder.is_dir()
            else []
        )
        details = self._catalogue_runs()
        infos = []
        for run_id in found:
            info = details.get(run_id, {})
            cycle = info.get("cycle_date")
            infos.append(RunInfo(run_id, str(cycle) if cycle else None, info.get("status"),
                                 info.get("period")))  # fmt: skip
        return sorted(infos, key=lambda r: r.run_id, reverse=True)

    def _catalogue_runs(self) -> dict[str, dict]:
        path = self.root / "catalogue.duckdb"
        try:
            stamp = path.stat().st_mtime_ns
        except OSError:
            return {}
        if self._catalogue is not None and self._catalogue[0] == stamp:
            return self._catalogue[1]
        try:
            import duckdb

            con = duckdb.connect(str(path), read_only=True)
        except Exception:  # a cycle holds the catalogue: folders are enough
            return {}
        try:
            rows = con.execute("SELECT run_id, cycle_date, status FROM runs").fetchall()
            periods = _run_periods(con)
        except Exception:
            rows, periods = [], {}
        finally:
            con.close()
        found = {
            r[0]: {"cycle_date": r[1], "status": r[2], "period": _period_of(r[0], r[1], periods)}
            for r in rows
        }
        self._catalogue = (stamp, found)
        return found

    def _run_folder(self, run_id: str) -> Path:
        if not run_id or not _SAFE_NAME.match(run_id):
            raise ReviewError(f"no run {run_id!r}")
        folder = self.root / "runs" / run_id / "matches"
        if not folder.is_dir():
            raise ReviewError(f"no run {run_id!r} with matches in {self.root}")
        return folder

    def files(self, run_id: str) -> list[Path]:
        """The run's matches files of reportable (not internal) rules."""
        internal = {n for n, r in self.rules.items() if r.internal}
        return [f for f in sorted(self._run_folder(run_id).glob("*.parquet"))
                if f.stem not in internal]  # fmt: skip

    def matches(self, run_id: str) -> pl.DataFrame:
        """Every reportable match of a run, whitelisted columns only, with ``match_key``,
        ``evidence_hash`` (over the rule's own comparisons), ``risk`` and ``run_id``."""
        files = self.files(run_id)
        signature = tuple((f.name, f.stat().st_mtime_ns, f.stat().st_size) for f in files)
        cached = self._cache.get(run_id)
        if cached and cached[0] == signature:
            return cached[1]
        frames = []
        for f in files:
            frame = pl.read_parquet(f)
            if not frame.height:
                continue
            keep = [c for c in (*BASE_COLUMNS, *OPTIONAL_COLUMNS) if c in frame.columns]
            keep += evidence_columns(frame.columns)
            frame = frame.select(keep)
            for c in BASE_COLUMNS:
                if c not in frame.columns:
                    frame = frame.with_columns(pl.lit(None, pl.String).alias(c))
            rule = self.rules.get(f.stem)
            risk = rule.risk if rule else None
            frame = frame.with_columns(
                *[pl.col(c).cast(pl.String) for c in BASE_COLUMNS if "record_id" in c]
            )
            frames.append(
                frame.with_columns(
                    oc.match_key_expr().alias("match_key"),
                    oc.mirror_key_expr().alias("mirror_key"),
                    pl.lit(bool(rule and rule.one_dataset)).alias("one_dataset"),
                    oc.evidence_hash_expr(frame.columns).alias("evidence_hash"),
                    pl.lit(risk, pl.String).alias("risk"),
                    pl.lit(run_id).alias("run_id"),
                )
            )
        result = pl.concat(frames, how="diagonal_relaxed") if frames else empty_matches()
        self._cache[run_id] = (signature, result)
        return result

    def latest_run(self) -> str | None:
        runs = self.runs()
        return runs[0].run_id if runs else None


def empty_matches() -> pl.DataFrame:
    schema: dict[str, Any] = dict.fromkeys(BASE_COLUMNS, pl.String)
    schema.update(match_weight=pl.Float64, match_probability=pl.Float64)
    schema.update(
        match_key=pl.String,
        mirror_key=pl.String,
        one_dataset=pl.Boolean,
        evidence_hash=pl.String,
        risk=pl.String,
        run_id=pl.String,
    )
    return pl.DataFrame(schema=schema)

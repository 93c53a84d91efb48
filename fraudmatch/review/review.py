"""What an analyst reviews: a run's matches grouped into cases, with outcomes and audit.

The review app, the exports and tests all go through :class:`Review`, which reads

- ``runs/<run_id>/matches/<rule>.parquet`` (the evidence of every match), and
- the outcomes store (:mod:`fraudmatch.review.outcomes`) for what analysts recorded.

Only whitelisted columns are ever read from the matches (rule, case, both sides'
partner, dataset and record_id, tier, blocking rule, weight, probability and the
``level_*``/``weight_*`` evidence): a token or key column can never reach a page or an
export through here. A match is a lead, not a finding: the status of a case is what an
analyst recorded, or ``open`` while nobody has.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from fraudmatch.matching.rules import Rule, load_rules
from fraudmatch.review import outcomes as oc

log = logging.getLogger(__name__)

OPEN = "open"
STATUSES = (OPEN, *oc.OUTCOMES)
LABELS = {
    OPEN: "no outcome yet",
    "fraud": "fraud",
    "error": "error",
    "no_issue": "no issue",
    "under_investigation": "under investigation",
}
RISK_ORDER = {"high": 0, "medium": 1, "low": 2}
SIDES = ("left", "right")
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

__all__ = [
    "LABELS",
    "OPEN",
    "STATUSES",
    "CaseView",
    "Evidence",
    "Filters",
    "MatchView",
    "Review",
    "ReviewError",
    "RunInfo",
    "Side",
    "evidence_columns",
]


class ReviewError(ValueError):
    """A review request names something that does not exist; the message says what."""


@dataclass(frozen=True)
class Filters:
    """Case-list filters; ``None`` or empty means any."""

    run: str | None = None
    rule: str | None = None
    partner: str | None = None
    risk: str | None = None
    status: str | None = None

    @classmethod
    def from_mapping(cls, params: Mapping[str, Any]) -> Filters:
        def get(name: str) -> str | None:
            value = params.get(name)
            return str(value).strip() or None if value is not None else None

        return cls(**{name: get(name) for name in ("run", "rule", "partner", "risk", "status")})


@dataclass(frozen=True)
class RunInfo:
    run_id: str
    cycle_date: str | None = None
    status: str | None = None


@dataclass(frozen=True)
class Side:
    partner: str
    dataset: str
    record_id: str


@dataclass(frozen=True)
class Evidence:
    comparison: str
    level: str | None
    weight: float | None


@dataclass
class MatchView:
    """One match of a case, with its evidence and current outcome."""

    key: str
    run_id: str
    case_id: str
    rule: str
    risk: str | None
    tier: str | None
    blocking_rule: str | None
    match_weight: float | None
    match_probability: float | None
    left: Side
    right: Side
    evidence: list[Evidence]
    evidence_hash: str
    outcome: oc.Outcome | None = None
    note: str | None = None
    levels: dict[str, str] = field(default_factory=dict)
    mirrored: bool = False
    """The outcome was recorded on the same pair written the other way round (a rule
    comparing one dataset with itself); saving updates that outcome."""

    @property
    def version(self) -> int:
        return self.outcome.version if self.outcome else 0

    @property
    def status(self) -> str:
        return self.outcome.outcome if self.outcome else OPEN

    @property
    def evidence_changed(self) -> bool:
        """The outcome was recorded on different evidence (a comparison's level moved)."""
        return self.outcome is not None and self.outcome.evidence_hash != self.evidence_hash

    def record(self) -> dict[str, Any]:
        """What :func:`fraudmatch.review.outcomes.record_outcome` needs to identify this match."""
        left, right = (self.right, self.left) if self.mirrored else (self.left, self.right)
        return {
            "rule": self.rule,
            "case_id": self.case_id,
            "left_partner": left.partner,
            "left_dataset": left.dataset,
            "left_record_id": left.record_id,
            "right_partner": right.partner,
            "right_dataset": right.dataset,
            "right_record_id": right.record_id,
            "evidence_hash": self.evidence_hash,
            **{f"level_{c}": v for c, v in self.levels.items()},
        }


@dataclass
class CaseView:
    run_id: str
    case_id: str
    rule: str
    risk: str | None
    description: str
    matches: list[MatchView] = field(default_factory=list)

    @property
    def partners(self) -> list[str]:
        return sorted({s.partner for m in self.matches for s in (m.left, m.right)})


def evidence_columns(columns: Sequence[str]) -> list[str]:
    """The ``level_*``/``weight_*`` columns of a matches frame, in their order."""
    return [c for c in columns if _EVIDENCE.match(c)]


def _comparisons(columns: Sequence[str]) -> list[str]:
    return [c.removeprefix("level_") for c in columns if c.startswith("level_")]


class Review:
    """Queries over one workspace's runs, matches and outcomes."""

    def __init__(
        self,
        workspace_root: Path | str,
        rules_dir: Path | str | Sequence[Path | str] | None = None,
        *,
        outcomes_url: str | None = None,
        rules: Sequence[Rule] | None = None,
    ) -> None:
        self.root = Path(workspace_root)
        if rules is None:
            rules = load_rules(rules_dir) if rules_dir is not None else []
        self.rules = {r.name: r for r in rules}
        self.url = outcomes_url or oc.default_url(self.root)
        self._cache: dict[str, tuple[tuple, pl.DataFrame]] = {}

    # ------------------------------------------------------------------ runs and matches

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
            infos.append(RunInfo(run_id, str(cycle) if cycle else None, info.get("status")))
        return sorted(infos, key=lambda r: r.run_id, reverse=True)

    def _catalogue_runs(self) -> dict[str, dict]:
        path = self.root / "catalogue.duckdb"
        if not path.exists():
            return {}
        try:
            import duckdb

            con = duckdb.connect(str(path), read_only=True)
        except Exception:  # a cycle holds the catalogue: folders are enough
            return {}
        try:
            rows = con.execute("SELECT run_id, cycle_date, status FROM runs").fetchall()
        except Exception:
            rows = []
        finally:
            con.close()
        return {r[0]: {"cycle_date": r[1], "status": r[2]} for r in rows}

    def _run_folder(self, run_id: str) -> Path:
        if not run_id or not _SAFE_NAME.match(run_id):
            raise ReviewError(f"no run {run_id!r}")
        folder = self.root / "runs" / run_id / "matches"
        if not folder.is_dir():
            raise ReviewError(f"no run {run_id!r} with matches in {self.root}")
        return folder

    def matches(self, run_id: str) -> pl.DataFrame:
        """Every reportable match of a run, whitelisted columns only, with ``match_key``,
        ``evidence_hash`` (over the rule's own comparisons), ``risk`` and ``run_id``."""
        folder = self._run_folder(run_id)
        files = sorted(folder.glob("*.parquet"))
        internal = {n for n, r in self.rules.items() if r.internal}
        files = [f for f in files if f.stem not in internal]
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
        result = pl.concat(frames, how="diagonal_relaxed") if frames else _empty_matches()
        self._cache[run_id] = (signature, result)
        return result

    def _with_status(self, matches: pl.DataFrame) -> pl.DataFrame:
        current = oc.current_outcomes(self.url)
        known = current["match_key"].to_list()
        matches = matches.with_columns(
            pl.when(
                ~pl.col("match_key").is_in(known)
                & pl.col("one_dataset")
                & pl.col("mirror_key").is_in(known)
            )
            .then(pl.col("mirror_key"))
            .otherwise(pl.col("match_key"))
            .alias("outcome_key")
        )
        current = current.select(
            pl.col("match_key").alias("outcome_key"),
            pl.col("outcome"),
            pl.col("evidence_hash").alias("outcome_evidence_hash"),
            pl.col("version").alias("outcome_version"),
            pl.col("amount"),
            pl.col("comment"),
            pl.col("analyst"),
            pl.col("recorded_at"),
        )
        return matches.join(current, on="outcome_key", how="left").with_columns(
            pl.col("outcome").fill_null(OPEN).alias("status"),
            (
                pl.col("outcome").is_not_null()
                & (pl.col("outcome_evidence_hash") != pl.col("evidence_hash"))
            ).alias("evidence_changed"),
        )

    def matches_with_outcomes(self, filters: Filters) -> pl.DataFrame:
        """The run's matches under the filters (status per match), with outcome columns."""
        run = filters.run or self.latest_run()
        if run is None:
            return self._with_status(_empty_matches())
        frame = self._with_status(self.matches(run))
        if filters.rule:
            frame = frame.filter(pl.col("rule") == filters.rule)
        if filters.partner:
            frame = frame.filter(
                (pl.col("left_partner") == filters.partner)
                | (pl.col("right_partner") == filters.partner)
            )
        if filters.risk:
            frame = frame.filter(pl.col("risk") == filters.risk)
        return frame

    def latest_run(self) -> str | None:
        runs = self.runs()
        return runs[0].run_id if runs else None

    # ------------------------------------------------------------------ case list

    def cases(self, filters: Filters) -> pl.DataFrame:
        """One row per case: rule, risk, partners, matches, best weight and tier, and the
        statuses of its matches; ``status`` keeps cases with a match in that status."""
        frame = self.matches_with_outcomes(filters)
        schema_cols = ["run_id", "case_id", "rule", "risk"]
        if not frame.height:
            return pl.DataFrame(
                schema={
                    **dict.fromkeys(schema_cols, pl.String),
                    "partners": pl.List(pl.String),
                    "matches": pl.UInt32,
                    "max_weight": pl.Float64,
                    "tier": pl.String,
                    "statuses": pl.List(pl.String),
                    "evidence_changed": pl.Boolean,
                }
            )
        grouped = (
            frame.group_by(schema_cols)
            .agg(
                pl.col("left_partner")
                .append(pl.col("right_partner"))
                .unique()
                .sort()
                .alias("partners"),
                pl.len().cast(pl.UInt32).alias("matches"),
                pl.col("match_weight").cast(pl.Float64).max().alias("max_weight"),
                pl.col("tier").sort_by("match_weight", descending=True).first().alias("tier"),
                pl.col("status").unique().sort().alias("statuses"),
                pl.col("evidence_changed").any().alias("evidence_changed"),
            )
            .with_columns(
                pl.col("risk")
                .replace_strict(RISK_ORDER, default=9, return_dtype=pl.Int8)
                .alias("_risk_order")
            )
            .sort(
                ["_risk_order", "max_weight", "rule", "case_id"],
                descending=[False, True, False, False],
                nulls_last=True,
            )
            .drop("_risk_order")
        )
        if filters.status:
            grouped = grouped.filter(pl.col("statuses").list.contains(filters.status))
        return grouped

    def status_counts(self, filters: Filters) -> dict[str, int]:
        """Cases per status under the other filters (a case counts once per status)."""
        cases = self.cases(Filters(filters.run, filters.rule, filters.partner, filters.risk))
        counts = dict.fromkeys(STATUSES, 0)
        for statuses in cases["statuses"].to_list():
            for s in statuses:
                counts[s] = counts.get(s, 0) + 1
        counts["all"] = cases.height
        return counts

    def choices(self, run: str | None) -> dict[str, list[str]]:
        """Values the filters can take in a run."""
        frame = self.matches(run) if run else _empty_matches()
        partners = sorted(
            set(frame["left_partner"].drop_nulls().to_list())
            | set(frame["right_partner"].drop_nulls().to_list())
        )
        rules = sorted(set(frame["rule"].drop_nulls().to_list()) | set(self._public_rules()))
        return {
            "run": [r.run_id for r in self.runs()],
            "rule": rules,
            "partner": partners,
            "risk": list(RISK_ORDER),
            "status": list(STATUSES),
        }

    def _public_rules(self) -> list[str]:
        return [n for n, r in self.rules.items() if not r.internal]

    # ------------------------------------------------------------------ one case

    def case(self, run_id: str, case_id: str) -> CaseView:
        frame = self.matches(run_id).filter(pl.col("case_id") == case_id)
        if not frame.height:
            raise ReviewError(f"no case {case_id!r} in run {run_id!r}")
        frame = frame.sort("match_weight", descending=True, nulls_last=True)
        comparisons = _comparisons(frame.columns)
        matches = []
        for row in frame.iter_rows(named=True):
            outcome, mirrored = oc.get_outcome(self.url, row["match_key"]), False
            if outcome is None and row["one_dataset"]:
                outcome = oc.get_outcome(self.url, row["mirror_key"])
                mirrored = outcome is not None
            evidence = [
                Evidence(c, row.get(f"level_{c}"), row.get(f"weight_{c}"))
                for c in comparisons
                if row.get(f"level_{c}") is not None or row.get(f"weight_{c}") is not None
            ]
            matches.append(
                MatchView(
                    key=row["match_key"],
                    run_id=run_id,
                    case_id=case_id,
                    rule=row["rule"],
                    risk=row["risk"],
                    tier=row["tier"],
                    blocking_rule=row["blocking_rule"],
                    match_weight=row["match_weight"],
                    match_probability=row["match_probability"],
                    left=Side(row["left_partner"], row["left_dataset"], row["left_record_id"]),
                    right=Side(row["right_partner"], row["right_dataset"], row["right_record_id"]),
                    evidence=evidence,
                    evidence_hash=row["evidence_hash"],
                    outcome=outcome,
                    note=row.get("note"),
                    levels={c: row[f"level_{c}"] for c in comparisons if row[f"level_{c}"]},
                    mirrored=mirrored,
                )
            )
        first = matches[0]
        rule = self.rules.get(first.rule)
        return CaseView(
            run_id=run_id,
            case_id=case_id,
            rule=first.rule,
            risk=first.risk,
            description=rule.description if rule else "",
            matches=matches,
        )

    def match(self, run_id: str, case_id: str, key: str) -> MatchView:
        for m in self.case(run_id, case_id).matches:
            if key in (m.key, m.outcome.match_key if m.outcome else None):
                return m
        raise ReviewError(f"no match {key!r} in case {case_id!r} of run {run_id!r}")

    def record(
        self,
        run_id: str,
        case_id: str,
        key: str,
        *,
        outcome: str,
        analyst: str,
        expected_version: int,
        amount: float | None = None,
        comment: str = "",
    ) -> oc.Outcome:
        """Record an outcome on one match of a case; raises
        :class:`~fraudmatch.review.outcomes.OutcomeConflict` if someone saved in between."""
        match = self.match(run_id, case_id, key)
        saved = oc.record_outcome(
            self.url,
            match.record(),
            outcome=outcome,
            analyst=analyst,
            expected_version=expected_version,
            amount=amount,
            comment=comment,
            run_id=run_id,
        )
        log.info(
            "analyst %s recorded %s on a match of case %s (%s), version %s",
            analyst,
            outcome,
            case_id,
            match.rule,
            saved.version,
        )
        return saved

    # ------------------------------------------------------------------ audit

    def audit(self, keys: Sequence[str] | None = None, limit: int = 500) -> list[dict[str, Any]]:
        """Audit entries, newest first, with their detail parsed; ``keys`` limits them to
        those matches. Each entry links to the run and case its outcome was last saved in."""
        trail = oc.audit_trail(self.url)
        if keys is not None:
            trail = trail.filter(pl.col("match_key").is_in(list(keys)))
        trail = trail.head(limit)
        where = {
            r["match_key"]: (r["run_id"], r["case_id"], r["rule"])
            for r in oc.current_outcomes(self.url)
            .select("match_key", "run_id", "case_id", "rule")
            .iter_rows(named=True)
        }
        entries = []
        for row in trail.iter_rows(named=True):
            try:
                detail = json.loads(row["detail"]) if row["detail"] else {}
            except ValueError:
                detail = {"detail": row["detail"]}
            run_id, case_id, rule = where.get(row["match_key"], (None, row["case_id"], None))
            entries.append(
                {
                    "at": row["at"],
                    "analyst": row["analyst"],
                    "action": row["action"],
                    "match_key": row["match_key"],
                    "case_id": row["case_id"] or case_id,
                    "run_id": run_id,
                    "rule": rule,
                    "detail": detail if isinstance(detail, dict) else {"detail": detail},
                }
            )
        return entries

    def log(self, analyst: str, action: str, detail: Mapping[str, Any]) -> None:
        oc.log_action(self.url, analyst, action, detail)


def _empty_matches() -> pl.DataFrame:
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


def format_time(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M:%S} UTC" if value else ""

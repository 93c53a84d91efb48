"""Case work over one workspace: a run's matches grouped into cases, outcomes and audit.

The review app, the exports and tests all go through :class:`Review`, which reads a run's
matches through :class:`~fraudmatch.review.runmatches.RunMatches` (whitelisted columns
only: never a token or key) and the outcomes store (:mod:`fraudmatch.review.outcomes`)
for what analysts recorded.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl

from fraudmatch.matching.rules import Rule, load_rules
from fraudmatch.review import allocation as al
from fraudmatch.review import outcomes as oc
from fraudmatch.review.caseindex import CaseIndex, cases_frame, search_cases
from fraudmatch.review.caselist import (
    CASE_COLUMNS,
    STATIC_SORTS,
    CasePage,
    ListView,
    page_of,
    rank_name,
    rank_of,
    sort_cases,
    status_counts,
)
from fraudmatch.review.runmatches import (
    RunMatches,
    empty_matches,
    evidence_columns,
)
from fraudmatch.review.runmatches import (
    comparisons as comparisons_of,
)
from fraudmatch.review.views import (
    LABELS,
    OPEN,
    RISK_ORDER,
    STATUSES,
    CaseView,
    Evidence,
    Filters,
    MatchView,
    ReviewError,
    RunInfo,
    Side,
    describe,
    format_time,
)

log = logging.getLogger(__name__)

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
    "format_time",
]


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
        self.store = RunMatches(self.root, self.rules)
        self._indexes: dict[str, tuple[int, CaseIndex]] = {}
        self._cases: dict[str, tuple[tuple[int, date], pl.DataFrame]] = {}
        self._outcomes: tuple[int, pl.DataFrame] | None = None
        self._run_cases: dict[str, int | None] = {}

    # ------------------------------------------------------------------ runs and matches

    def runs(self) -> list[RunInfo]:
        """Runs that have matches, newest first."""
        return self.store.runs()

    def matches(self, run_id: str) -> pl.DataFrame:
        """Every reportable match of a run (:meth:`RunMatches.matches`)."""
        return self.store.matches(run_id)

    def latest_run(self) -> str | None:
        return self.store.latest_run()

    def current_outcomes(self) -> pl.DataFrame:
        """Every recorded outcome (:func:`~fraudmatch.review.outcomes.current_outcomes`),
        read again only when the audit trail has grown."""
        generation = al.generation(self.url)
        cached = self._outcomes
        if cached is not None and cached[0] == generation:
            return cached[1]
        changed = (
            oc.keys_audited_between(self.url, cached[0], generation)
            if cached is not None and cached[0] < generation
            else None
        )
        if cached is None or changed is None or len(changed) > 2000:
            frame = oc.current_outcomes(self.url)
        else:  # only what was saved since: a save does not read every outcome again
            fresh = oc.current_outcomes(self.url, changed)
            frame = pl.concat(
                [
                    cached[1].filter(
                        ~pl.col("match_key").is_in(pl.Series(changed, dtype=pl.String).implode())
                    ),
                    fresh,
                ]
            )
        self._outcomes = (generation, frame)
        return frame

    def _with_status(self, matches: pl.DataFrame) -> pl.DataFrame:
        current = self.current_outcomes()
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
            return self._with_status(empty_matches())
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
        if filters.q or filters.stage or filters.assignee:
            found = self.cases(replace(filters, status=None)).select("rule", "case_id")
            frame = frame.join(found, on=["rule", "case_id"], how="semi")
        return frame

    # ------------------------------------------------------------------ case list

    def cases(self, filters: Filters) -> pl.DataFrame:
        """One row per case (:data:`~fraudmatch.review.caselist.CASE_COLUMNS`), highest
        risk first; ``status`` keeps cases with a match in that status."""
        cases = self._filtered(filters)
        if filters.status:
            cases = cases.filter(pl.col("statuses").list.contains(filters.status))
        if filters.stage:
            cases = cases.filter(pl.col("stage") == filters.stage)
        return sort_cases(cases).select(CASE_COLUMNS)

    def case_page(self, filters: Filters, view: ListView | None = None) -> CasePage:
        """One page of the case list, sorted as ``view`` asks, with the list's counts."""
        view = view or ListView()
        frame = self._filtered(filters, (view.sort, view.reverse))
        return page_of(frame, filters.status, view, filters.stage)

    def status_counts(self, filters: Filters) -> dict[str, int]:
        """Cases per status under the other filters (a case counts once per status)."""
        return status_counts(self._filtered(filters))

    def case_frame(self, run_id: str) -> pl.DataFrame:
        """Every case of a run with what analysts recorded on it (cached per change)."""
        index = self._index(run_id)
        today = datetime.now(UTC).date()
        key = (al.generation(self.url), today)
        cached = self._cases.get(run_id)
        if cached is None or cached[0] != key:
            frame = cases_frame(
                index, self.current_outcomes(), al.allocations(self.url, run_id), today
            )
            cached = (key, frame)
            self._cases[run_id] = cached
        return cached[1]

    def case_state(self, run_id: str, case_id: str) -> dict[str, Any] | None:
        """A case's row of the list (stage, assignee, statuses), or None."""
        rows = self.case_frame(run_id).filter(pl.col("case_id") == case_id)
        return rows.select(CASE_COLUMNS).row(0, named=True) if rows.height else None

    def _index(self, run_id: str) -> CaseIndex:
        matches = self.matches(run_id)
        cached = self._indexes.get(run_id)
        if cached is None or cached[0] != id(matches):
            values = {name: rule.value_per_case for name, rule in self.rules.items()}
            info = {r.run_id: r for r in self.runs()}.get(run_id)
            made = _date(info.cycle_date if info else None) or self._made_on(run_id)
            cached = (id(matches), CaseIndex(matches, values, made))
            self._indexes[run_id] = cached
        return cached[1]

    def _ranked(self, run_id: str, sort: str, reverse: bool) -> pl.DataFrame:
        """The run's case frame with the rank of each case in ``sort`` order, worked out
        once per run (risk, rule, partner) or once per change (value, age)."""
        frame = self.case_frame(run_id)
        name = rank_name(sort, reverse)
        if name in frame.columns:
            return frame
        rank = rank_of(frame, sort, reverse)
        if sort in STATIC_SORTS:  # the next change's frame is built from the base: keep it
            index = self._index(run_id)
            index.base = index.base.with_columns(rank)
        frame = frame.with_columns(rank)
        key = self._cases[run_id][0]
        self._cases[run_id] = (key, frame)
        return frame

    def _filtered(self, filters: Filters, sort: tuple[str, bool] | None = None) -> pl.DataFrame:
        """The run's cases under every filter but status and stage (with the rank of the
        ``(sort, reverse)`` order when given)."""
        run = filters.run or self.latest_run()
        if run is None:
            return cases_frame(CaseIndex(empty_matches(), {}, None), self.current_outcomes(),
                               al.allocations(self.url, ""))  # fmt: skip
        frame = self._ranked(run, *sort) if sort else self.case_frame(run)
        if filters.rule:
            frame = frame.filter(pl.col("rule") == filters.rule)
        if filters.partner:
            frame = frame.filter(pl.col("partners").list.contains(filters.partner))
        if filters.risk:
            frame = frame.filter(pl.col("risk") == filters.risk)
        if filters.assignee == "-":
            frame = frame.filter(pl.col("assignee").is_null())
        elif filters.assignee:
            frame = frame.filter(pl.col("assignee") == filters.assignee)
        return search_cases(self._index(run), frame, filters.q)

    def _made_on(self, run_id: str) -> date | None:
        """When a run without a catalogue entry was written (its matches folder)."""
        try:
            stamp = (self.root / "runs" / run_id / "matches").stat().st_mtime
        except OSError:
            return None
        return datetime.fromtimestamp(stamp, UTC).date()

    def choices(self, run: str | None) -> dict[str, list[str]]:
        """Values the filters can take in a run."""
        if run:
            index = self._index(run)
            partners, in_run = index.partners, index.rules
        else:
            partners, in_run = [], []
        rules = sorted(set(in_run) | set(self._public_rules()))
        return {
            "run": [r.run_id for r in self.runs()],
            "rule": rules,
            "partner": partners,
            "risk": list(RISK_ORDER),
            "status": list(STATUSES),
        }

    def run_choices(self) -> list[dict[str, Any]]:
        """The runs for a picker, newest first: id, cycle date, period, state and case
        count."""
        out = []
        for info in self.runs():
            if info.run_id not in self._run_cases:
                try:
                    # a case id is a digest of its rule and members: unique across files
                    count = sum(
                        pl.scan_parquet(f)
                        .select(pl.col("case_id").drop_nulls().n_unique())
                        .collect()
                        .item()
                        for f in self.store.files(info.run_id)
                    )
                except (ReviewError, pl.exceptions.PolarsError, OSError):
                    count = None
                self._run_cases[info.run_id] = count
            day = _date(info.cycle_date) or self._made_on(info.run_id)
            out.append({"run_id": info.run_id, "date": day, "period": info.period,
                        "status": info.status, "cases": self._run_cases[info.run_id]})  # fmt: skip
        return out

    def _public_rules(self) -> list[str]:
        return [n for n, r in self.rules.items() if not r.internal]

    # ------------------------------------------------------------------ one case

    def case(self, run_id: str, case_id: str) -> CaseView:
        frame = self.matches(run_id).filter(pl.col("case_id") == case_id)
        if not frame.height:
            raise ReviewError(f"no case {case_id!r} in run {run_id!r}")
        frame = frame.sort("match_weight", descending=True, nulls_last=True)
        comparisons = comparisons_of(frame.columns)
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

    def audit(
        self, keys: Sequence[str] | None = None, limit: int = 500, case_id: str | None = None
    ) -> list[dict[str, Any]]:
        """Audit entries, newest first, with their detail parsed and in words (``what``);
        ``keys`` and ``case_id`` limit them to those matches and that case. Each entry links
        to the run and case its outcome was last saved in."""
        if keys is not None and not keys and not case_id:
            return []
        trail = oc.audit_trail(
            self.url, keys=list(keys) if keys else None, case_id=case_id, limit=limit
        )
        where = {
            r["match_key"]: (r["run_id"], r["case_id"], r["rule"])
            for r in self.current_outcomes()
            .select("match_key", "run_id", "case_id", "rule")
            .iter_rows(named=True)
        }
        entries = []
        for row in trail.iter_rows(named=True):
            try:
                detail = json.loads(row["detail"]) if row["detail"] else {}
            except ValueError:
                detail = {"detail": row["detail"]}
            run_id, case, rule = where.get(row["match_key"], (None, row["case_id"], None))
            detail = detail if isinstance(detail, dict) else {"detail": detail}
            run_id = run_id or detail.get("run")
            rule = rule or detail.get("rule")
            entries.append(
                {
                    "at": row["at"],
                    "analyst": row["analyst"],
                    "action": row["action"],
                    "match_key": row["match_key"],
                    "case_id": row["case_id"] or case,
                    "run_id": run_id,
                    "rule": rule,
                    "detail": detail,
                    "what": describe(row["action"], detail),
                }
            )
        return entries

    def log(self, analyst: str, action: str, detail: Mapping[str, Any]) -> None:
        oc.log_action(self.url, analyst, action, detail)


def _date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(str(text)[:10]) if text else None
    except ValueError:
        return None

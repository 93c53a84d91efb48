"""Hub side of a cycle after collection: match every rule, then distribute bundles.

Each step writes its output atomically and records it in the catalogue as done, so a
cycle that died half-way, run again under the same run id, skips what is finished and
produces the same matches and bundles — never a second copy.

Late data: the catalogue records the submissions each rule matched on (and a digest of
the rule). Run again for the same cycle date after a partner's late submission arrived,
a rule whose inputs changed is matched again ("rematched", the reason says what
changed) while the others are reused; a partner whose case rows changed is sent the next
version of its bundle (``...__v2.bundle``, ``bundle_version`` in the signed header), and
one whose rows did not is not sent anything new.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from fraudmatch.common.fsutil import atomic_path, crash_point
from fraudmatch.hub import catalogue, transport
from fraudmatch.hub.operator import OperatorConfig
from fraudmatch.hub.workspace import Workspace
from fraudmatch.matching.distributed import Executor
from fraudmatch.matching.engine import run_rule
from fraudmatch.matching.rules import Rule, order_rules
from fraudmatch.review.outcomes import default_url
from fraudmatch.review.suppress import (
    SUPPRESSED_DIR,
    load_outcomes,
    read_suppressed,
    suppress,
)
from fraudmatch.sealing.bundles import (
    bundle_name,
    case_rows,
    content_digest,
    partner_cases,
    write_bundle,
)
from fraudmatch.sealing.keyring import Keyring, as_keyring
from fraudmatch.sealing.keys import PartyKeys, PublicIdentity
from fraudmatch.spec.partnership import Partnership

log = logging.getLogger(__name__)

MATCHES_DIR = "matches"
MODELS_DIR = "models"
CASE_ROWS = "case_rows.parquet"
COLLECTED = "collected.json"  # the run's collection over its attempts (run_collection)


@dataclass
class RuleOutcome:
    rule: str
    status: str  # matched | rematched (its inputs changed since) | skipped | reused
    matches: int = 0
    cases: int = 0
    path: Path | None = None
    reason: str = ""
    stats: dict = field(default_factory=dict)
    suppressed: int = 0  # reviewed before, evidence unchanged: not raised again
    suppressed_by: dict[str, int] = field(default_factory=dict)  # per recorded outcome
    evidence_changed: int = 0  # reviewed before, raised again with a note
    still_open: int = 0  # under investigation: raised again with a note
    warnings: list[str] = field(default_factory=list)  # what to distrust in the fitted model


@dataclass
class BundleOutcome:
    partner: str
    status: str  # written | reused
    rows: int
    cases: int
    path: Path
    delivery: str = ""  # to a remote drop: "delivered", "already there" or "failed: <reason>"
    version: int = 1  # of this run's bundle to the partner; > 1 supersedes the earlier


def run_id_for(cycle_date: date) -> str:
    """One run per cycle date: re-running the cycle resumes it instead of starting anew."""
    return f"run-{cycle_date:%Y%m%d}"


def rule_datasets(
    rule: Rule, rules_by_name: Mapping[str, Rule], *, looked_up: bool = False
) -> list[str]:
    """Every dataset a rule needs, including those of the rules it excludes by; with
    ``looked_up``, also the datasets a ``spread`` comparison reads when they are there."""
    found = [rule.left, rule.right]
    if looked_up:
        found += [d for c in rule.comparisons for d in c.across]
    for ex in rule.exclude:
        if ex.rule in rules_by_name:
            found += rule_datasets(rules_by_name[ex.rule], rules_by_name, looked_up=looked_up)
    return list(dict.fromkeys(d for d in found if d))


def rule_digest(rule: Rule, rules_by_name: Mapping[str, Rule]) -> str:
    """SHA-256 of what a rule does (and of the rules it excludes by): a changed definition
    is a changed input. The file it was loaded from is not part of it."""
    parts = [repr(dataclasses.replace(rule, source=""))]
    parts += [
        rule_digest(rules_by_name[ex.rule], rules_by_name)
        for ex in rule.exclude
        if ex.rule in rules_by_name and ex.rule != rule.name
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def rule_inputs(
    workspace: Workspace, rule: Rule, rules_by_name: Mapping[str, Rule]
) -> frozenset[catalogue.Input]:
    """(partner, dataset, sha256) of every current submission the rule reads."""
    datasets = rule_datasets(rule, rules_by_name, looked_up=True)
    current = catalogue.current_submissions(workspace).filter(pl.col("dataset").is_in(datasets))
    return frozenset(current.select("partner", "dataset", "sha256").iter_rows())


def _what_changed(
    before: catalogue.RuleRun | None, inputs: frozenset[catalogue.Input], definition: str
) -> str:
    """Why a rule that already ran in this run is matched again, in words."""
    if before is None or before.definition is None:
        return "matched again: its inputs were not recorded (an earlier release)"
    had = {(p, d): s for p, d, s in before.inputs}
    now = {(p, d): s for p, d, s in inputs}
    words = []
    for label, keys in (
        ("new", sorted(now.keys() - had.keys())),
        ("resubmitted", sorted(k for k in now.keys() & had.keys() if now[k] != had[k])),
        ("gone", sorted(had.keys() - now.keys())),
    ):
        if keys:
            words.append(f"{label} {', '.join(f'{p}/{d}' for p, d in keys)}")
    if before.definition != definition:
        words.append("rule changed")
    return "matched again: " + "; ".join(words)


def reportable(rules: Sequence[Rule]) -> list[Rule]:
    """Rules whose matches are reported, in run order; internal helpers run inside them."""
    return [r for r in order_rules(rules) if not r.internal]


def match_rule(
    workspace: Workspace,
    run_id: str,
    rule: Rule,
    frames: Mapping[str, pl.LazyFrame | pl.DataFrame],
    *,
    cycle_date: date,
    rules_by_name: Mapping[str, Rule],
    progress: Callable[[str], None] | None = None,
    outcomes_url: str | None = None,
    executor: Executor | None = None,
) -> RuleOutcome:
    """Run one rule unless it already ran in this run on the same inputs (the current
    submissions of its datasets, and its definition); write its matches atomically.

    Matches whose outcome an analyst already recorded (evidence unchanged) are suppressed:
    written to ``suppressed/<rule>.parquet`` with the reason instead of the matches.
    ``outcomes_url`` defaults to the workspace's outcomes database.
    """
    run_dir = workspace.run_dir(run_id)
    out = run_dir / MATCHES_DIR / f"{rule.name}.parquet"
    inputs = rule_inputs(workspace, rule, rules_by_name)
    definition = rule_digest(rule, rules_by_name)
    ran = catalogue.step_done(workspace, run_id, "match", rule.name) and out.exists()
    before = catalogue.rule_run(workspace, run_id, rule.name) if ran else None
    if ran and before is not None and (before.inputs, before.definition) == (inputs, definition):
        matches = pl.read_parquet(out)
        return _reused(run_dir, rule.name, matches, out)
    again = _what_changed(before, inputs, definition) if ran else ""
    if again:
        log.info("%s: %s", rule.name, again)
    missing = [d for d in rule_datasets(rule, rules_by_name) if d not in frames]
    if missing:
        return RuleOutcome(rule.name, "skipped", reason=f"no submissions of {', '.join(missing)}")
    result = run_rule(
        rule,
        frames,
        cycle_date=cycle_date,
        rules_by_name=rules_by_name,
        progress=progress,
        executor=executor,
    )
    known = load_outcomes(outcomes_url or default_url(workspace.root))
    known = known.filter(pl.col("rule") == rule.name)
    split = suppress(result.matches, known, one_dataset=rule.one_dataset)
    stats = (
        result.stats if isinstance(result.stats, dict) else getattr(result.stats, "__dict__", {})
    )
    # suppressed and the fitted model first, the matches last: the matches file marks
    # the rule as matched when a killed run is resumed
    _write(run_dir / SUPPRESSED_DIR / f"{rule.name}.parquet", split.suppressed)
    _write(run_dir / MODELS_DIR / f"{rule.name}.json", stats)
    _write(out, split.raised)
    raised = split.raised
    cases = raised["case_id"].n_unique() if raised.height else 0
    catalogue.rule_done(
        workspace,
        run_id,
        rule.name,
        matches=raised.height,
        cases=cases,
        path=str(out),
        inputs=inputs,
        definition=definition,
    )
    if split.count or split.evidence_changed:
        log.info(
            "%s: %s reviewed matches suppressed %s, %s raised again (evidence changed)",
            rule.name,
            split.count,
            split.by_outcome,
            split.evidence_changed,
        )
    return RuleOutcome(
        rule.name,
        "rematched" if again else "matched",
        raised.height,
        cases,
        out,
        reason=again,
        stats=stats,
        suppressed=split.count,
        suppressed_by=split.by_outcome,
        evidence_changed=split.evidence_changed,
        still_open=split.still_open,
        warnings=list((stats.get("model") or {}).get("warnings") or []),
    )


def _write(path: Path, content: pl.DataFrame | dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        if isinstance(content, pl.DataFrame):
            content.write_parquet(tmp)
            crash_point("match")
        else:
            tmp.write_text(json.dumps(content, indent=1, default=str))


def _reused(run_dir: Path, rule: str, matches: pl.DataFrame, out: Path) -> RuleOutcome:
    """A rule finished in an earlier attempt of this run: its counts from its files."""
    gone = read_suppressed(run_dir, rule)
    by_outcome = (
        {str(k): int(v) for k, v in gone.group_by("outcome").len().sort("outcome").iter_rows()}
        if gone.height
        else {}
    )
    notes = matches["note"] if "note" in matches.columns else pl.Series([], dtype=pl.String)
    return RuleOutcome(
        rule,
        "reused",
        matches.height,
        matches["case_id"].n_unique() if matches.height else 0,
        out,
        suppressed=gone.height,
        suppressed_by=by_outcome,
        evidence_changed=int(notes.str.starts_with("evidence changed").sum() or 0),
        still_open=int(notes.str.ends_with("still open").sum() or 0),
        warnings=_stored_warnings(run_dir / MODELS_DIR / f"{rule}.json"),
    )


def _stored_warnings(path: Path) -> list[str]:
    if not path.exists():
        return []
    model = (json.loads(path.read_text()) or {}).get("model") or {}
    return list(model.get("warnings") or [])


def load_matches(workspace: Workspace, run_id: str, rules: Sequence[Rule]) -> pl.DataFrame:
    """All reportable matches of a run (internal helper rules are never reported)."""
    names = {r.name for r in reportable(rules)}
    folder = workspace.run_dir(run_id) / MATCHES_DIR
    frames = [pl.read_parquet(p) for p in sorted(folder.glob("*.parquet")) if p.stem in names]
    frames = [f for f in frames if f.height]
    return pl.concat(frames, how="diagonal_relaxed") if frames else pl.DataFrame()


def build_case_rows(workspace: Workspace, run_id: str, rules: Sequence[Rule]) -> pl.DataFrame:
    """Every match as two case rows (one per side), saved beside the run's matches."""
    matches = load_matches(workspace, run_id, rules)
    rows = case_rows(matches, run_id=run_id, risk={r.name: r.risk for r in rules})
    with atomic_path(workspace.run_dir(run_id) / CASE_ROWS) as tmp:
        rows.write_parquet(tmp)
    return rows


def distribute(
    workspace: Workspace,
    partnership: Partnership,
    hub: PartyKeys | Keyring,
    run_id: str,
    rules: Sequence[Rule],
    *,
    period: str,
    operator: OperatorConfig | None = None,
) -> list[BundleOutcome]:
    """One sealed bundle per partner with only its own case rows, written to its outbox.

    A partner with no cases still gets an (empty) bundle: silence would be ambiguous.
    Run again for the same run id, a partner whose case rows are as in its newest bundle
    gets nothing new; one whose rows changed (late data) gets the next bundle version.
    When the partnership names a remote outbox (``transport.outbox``), each partner's
    bundles are then copied to its drop (a bundle already there is not copied again), with
    the drop options of ``operator``; a failed delivery is that partner's ``delivery``,
    and the others still get theirs.
    """
    signer = as_keyring(hub).for_period(partnership.hub.keys, period)  # the run's hub key
    rows = build_case_rows(workspace, run_id, rules)
    outcomes = [
        _bundle_for(
            workspace, signer, run_id, partner.name, partner.keys.current(period), rows, period
        )
        for partner in partnership.partners.values()
    ]
    remote = partnership.transport.get("outbox")
    if remote:
        for outcome in outcomes:
            outcome.delivery = _deliver(workspace, remote, outcome.partner, operator)
    return outcomes


def _deliver(
    workspace: Workspace, remote: str, partner: str, operator: OperatorConfig | None
) -> str:
    options = (operator or OperatorConfig()).transport_options(partner)
    pushed = transport.push(workspace.outbox(partner), remote, partner, options)
    if pushed.failed:
        return "failed: " + "; ".join(f"{name}: {reason}" for name, reason in pushed.failed)
    return "delivered" if pushed.copied else "already there"


def _bundle_for(
    workspace: Workspace,
    hub: PartyKeys,
    run_id: str,
    partner: str,
    public: PublicIdentity,
    rows: pl.DataFrame,
    period: str,
) -> BundleOutcome:
    """Write (or reuse) one partner's bundle: a new version only when its rows changed."""
    mine = partner_cases(rows, partner)
    cases = mine["case_id"].n_unique() if mine.height else 0
    digest = content_digest(mine)
    latest = catalogue.latest_bundle(workspace, run_id, partner)
    if latest is None and catalogue.step_done(workspace, run_id, "distribute", partner):
        # distributed before bundle versions were recorded: what it holds is unknown
        latest = catalogue.BundleRecord(1, None, 0, 0, "")
    if latest is not None and latest.content == digest and Path(latest.path).exists():
        path = Path(latest.path)
        return BundleOutcome(partner, "reused", mine.height, cases, path, version=latest.version)
    # same rows but the file is gone: written again under its version; else the next one
    version = 1 if latest is None else latest.version + (latest.content != digest)
    target = workspace.outbox(partner) / bundle_name(partner, period, run_id, version)
    write_bundle(mine, target, hub=hub, recipient=public, period=period, version=version)
    catalogue.record_bundle(
        workspace,
        run_id,
        partner,
        version=version,
        content=digest,
        rows=mine.height,
        cases=cases,
        path=str(target),
    )
    log.info("bundle v%s for %s: %s case rows -> %s", version, partner, mine.height, target)
    return BundleOutcome(partner, "written", mine.height, cases, target, version=version)


def summary_document(
    run_id: str,
    cycle_date: date,
    collected: object,
    rule_outcomes: Sequence[RuleOutcome],
    bundles: Sequence[BundleOutcome],
) -> dict:
    """The run summary kept in the catalogue and shown at the end of a cycle."""
    return {
        "run_id": run_id,
        "cycle_date": cycle_date.isoformat(),
        "collected": collected,
        "rules": [
            {
                "rule": r.rule,
                "status": r.status,
                "matches": r.matches,
                "cases": r.cases,
                "reason": r.reason,
                "suppressed": r.suppressed,
                "suppressed_by": r.suppressed_by,
                "evidence_changed": r.evidence_changed,
                "still_open": r.still_open,
                "model_warnings": r.warnings,
            }
            for r in rule_outcomes
        ],
        "bundles": [
            {
                "partner": b.partner,
                "status": b.status,
                "version": b.version,
                "rows": b.rows,
                "cases": b.cases,
                "path": str(b.path),
                "delivery": b.delivery,
            }
            for b in bundles
        ],
    }


def run_collection(workspace: Workspace, run_id: str, attempt: Mapping[str, Any]) -> dict:
    """What the run collected over all its attempts: the files an earlier, interrupted
    attempt took from the inbox (``runs/<run_id>/collected.json``) and those of this one
    (:meth:`CollectResult.summary`), so a resumed run reports every submission it used, as an
    uninterrupted one does. What is missing, failed or waiting is as this attempt found it.
    """
    path = workspace.run_dir(run_id) / COLLECTED
    earlier = json.loads(path.read_text()) if path.exists() else {}
    files = list(earlier.get("files", []))
    files += [f for f in attempt.get("files", []) if f not in files]
    fetched = list(earlier.get("fetched", []))
    fetched += [name for name in attempt.get("fetched", []) if name not in fetched]
    counts = {outcome: sum(f["outcome"] == outcome for f in files) for outcome in attempt["counts"]}
    merged = {**attempt, "counts": counts, "files": files, "fetched": fetched}
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(merged, indent=2, default=str))
    return merged


def write_summary(workspace: Workspace, run_id: str, summary: dict) -> Path:
    path = workspace.run_dir(run_id) / "summary.json"
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(summary, indent=2, default=str))
    return path


def fitted_model(workspace: Workspace, run_id: str, rule: str) -> dict:
    """The model a rule fitted in a run (``runs/<run_id>/models/<rule>.json``, its
    ``model``); empty if it fitted none. Reads only: creates no run folder."""
    path = workspace.runs / run_id / MODELS_DIR / f"{rule}.json"
    if not path.exists():
        return {}
    return (json.loads(path.read_text()) or {}).get("model") or {}


def prior_weight(workspace: Workspace, run_id: str, rule: str) -> float | None:
    """log2 of the prior odds of the model a rule fitted in a run (None: no model)."""
    model = fitted_model(workspace, run_id, rule)
    prior = model.get("prior")
    if prior is None or not 0 < float(prior) < 1:
        return None
    return math.log2(float(prior) / (1 - float(prior)))


def write_run_report(
    workspace: Workspace,
    run_id: str,
    rules: Sequence[Rule],
    summary: Mapping,
    *,
    outcomes_url: str | None = None,
) -> Path:
    """Render ``runs/<run_id>/report.html`` from the run's matches, summary and outcomes."""
    from fraudmatch.hub.labels import curves_for_report
    from fraudmatch.review.report import render_report, write_report

    matches = load_matches(workspace, run_id, rules)
    rows_path = workspace.run_dir(run_id) / CASE_ROWS
    rows = pl.read_parquet(rows_path) if rows_path.exists() else pl.DataFrame()
    thresholds = {
        r.name: r.scoring.threshold
        for r in rules
        if r.scoring.threshold is not None and r.scoring.threshold_kind == "match_weight"
    }
    known = load_outcomes(outcomes_url or default_url(workspace.root))
    values = {r.name: r.value_per_case for r in rules if r.value_per_case is not None}
    tuning = curves_for_report(workspace, run_id, list(rules), known)
    priors = {
        r.name: w for r in rules if (w := prior_weight(workspace, run_id, r.name)) is not None
    }
    document = render_report(
        summary,
        matches,
        rows,
        thresholds=thresholds,
        priors=priors,
        outcomes=known,
        values=values,
        tuning=tuning,
    )
    return write_report(workspace.run_dir(run_id) / "report.html", document)

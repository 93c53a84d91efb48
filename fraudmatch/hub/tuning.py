"""``fraudmatch rules tune RULE`` at the hub: labels from a run's outcomes, a chart, a proposal.

Reads the run's matches, the recorded outcomes and the fitted model from the workspace,
hands them to the estimation in ``fraudmatch.matching.tune``, and writes the chart and the
proposed rule file. The rule itself is never changed.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import polars as pl

from fraudmatch.hub.labels import labelled, latest_run, run_matches
from fraudmatch.hub.runs import fitted_model
from fraudmatch.hub.workspace import Workspace
from fraudmatch.matching.rules import Rule, load_rule, load_rules
from fraudmatch.matching.tune import (
    MIN_LABELS,
    PROPOSED_DIR,
    TuneError,
    TuneResult,
    estimate_m,
    precision_recall,
    proposed_text,
    score_column,
    table_rows,
    u_per_comparison,
)
from fraudmatch.review.outcomes import default_url
from fraudmatch.review.suppress import load_outcomes
from fraudmatch.shipped import shipped_rules_dir

__all__ = ["MIN_LABELS", "TuneError", "TuneResult", "fitted_u", "table_rows", "tune"]


def fitted_u(workspace: Workspace, run_id: str, rule: Rule) -> dict[str, dict[str, float]]:
    """u per comparison and level: the rule's fixed u, else the model fitted in the run."""
    return u_per_comparison(rule, fitted_model(workspace, run_id, rule.name))


def chart_page(result: TuneResult, current: float | None) -> str:
    from fraudmatch.review.report import html_table, page, pr_curve_svg

    svg = pr_curve_svg(
        result.curve,
        score=result.score,
        threshold=current,
        title=f"{result.rule}: precision/recall",
    )
    rows = table_rows(result.curve, current)
    body = (
        f"<h1>Tuning {result.rule}</h1><p class='muted'>run {result.run_id}; "
        f"{result.n_true} labelled same, {result.n_false} labelled different; recall is among "
        "labelled matches</p>"
        + svg
        + "<h2>Precision and recall by threshold</h2>"
        + html_table(list(rows.columns), rows.rows())
    )
    return page(f"tune {result.rule}", body)


def proposal_dir(workspace: Workspace, rule_path: Path) -> Path:
    """``proposed/`` beside the rule, or in the workspace for a shipped rule: the shipped
    rules are package data (perhaps read-only in site-packages) and are not edited."""
    if rule_path.parent.resolve() == shipped_rules_dir().resolve():
        return workspace.root / PROPOSED_DIR
    return rule_path.parent / PROPOSED_DIR


def tune(
    workspace: Workspace,
    rule_name: str,
    rules_dir: Path | Sequence[Path],
    *,
    run_id: str | None = None,
    outcomes_url: str | None = None,
    min_labels: int = MIN_LABELS,
    today: date | None = None,
) -> TuneResult:
    """Precision/recall and a proposed m for one rule from the recorded outcomes."""
    from fraudmatch.review.report import write_report

    rules = {r.name: r for r in load_rules(rules_dir)}
    if rule_name not in rules:
        raise TuneError(f"no rule {rule_name!r} in {rules_dir} (rules: {', '.join(rules)})")
    rule = rules[rule_name]
    if rule.scoring.model != "fellegi_sunter":
        raise TuneError(
            f"{rule_name} is a deterministic rule: it has no match weights or m probabilities "
            "to tune; change its match_when combinations instead"
        )
    run_id = run_id or latest_run(workspace, rule_name)
    if not (workspace.runs / run_id).is_dir():
        raise TuneError(f"no run {run_id} in {workspace.root}")
    matches = run_matches(workspace, run_id, rule_name)
    if matches.height == 0:
        raise TuneError(f"run {run_id} has no matches of {rule_name} to tune on")
    known = load_outcomes(outcomes_url or default_url(workspace.root))
    labels = labelled(matches, known, rule)
    n_true = int(labels["label"].sum()) if labels.height else 0
    n_false = labels.height - n_true
    if labels.height < min_labels or n_true == 0 or n_false == 0:
        raise TuneError(
            f"{rule_name}: {labels.height} labelled matches in run {run_id} "
            f"({n_true} same entity, {n_false} different); tuning needs at least {min_labels} "
            "with both kinds. Record outcomes (fraud or error say same entity; mark no_issue "
            "with same entity yes or no) and try again"
        )
    score = score_column(rule)
    curve = precision_recall(labels, score)
    m = estimate_m(labels.filter(pl.col("label")), rule)
    result = TuneResult(rule_name, run_id, score, n_true, n_false, curve, m)
    current = rule.scoring.threshold
    result.chart = write_report(
        workspace.run_dir(run_id) / f"tune_{rule_name}.html", chart_page(result, current)
    )
    u = fitted_u(workspace, run_id, rule)
    skipped = sorted(set(m) - set(u))
    if skipped:
        result.notes.append(
            f"no fitted u for {', '.join(skipped)} in run {run_id}: m not proposed for them"
        )
    fixed = [c.name for c in rule.comparisons if c.fixed_m is not None]
    if fixed:
        result.notes.append(f"m and u fixed in the rule, kept: {', '.join(fixed)}")
    if not set(m) & set(u):
        return result
    rule_path = Path(rule.source)
    when = today or date.today()
    header = (
        f"# PROPOSED by `fraudmatch rules tune {rule_name}` on {when.isoformat()}:\n"
        f"# m from {n_true} labelled true pairs of run {run_id} (Laplace-smoothed counts), u as\n"
        f"# fitted in that run. Review, then move this file over {rule_path.name} to adopt it\n"
        "# (and delete these four lines).\n"
    )
    text = proposed_text(rule_path, m, u, header)
    target = proposal_dir(workspace, rule_path) / rule_path.name
    target.parent.mkdir(parents=True, exist_ok=True)
    write_report(target, text)
    load_rule(target)  # the proposal must load like any rule
    result.proposed = target
    result.diff = "".join(
        difflib.unified_diff(
            rule_path.read_text(encoding="utf-8").splitlines(keepends=True),
            text.splitlines(keepends=True),
            fromfile=str(rule_path),
            tofile=str(target),
        )
    )
    return result

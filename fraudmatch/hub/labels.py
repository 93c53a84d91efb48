"""Labelled matches of a run: the matches a run raised or suppressed, joined to outcomes.

The workspace side of tuning and of the report's precision/recall curves (the estimation
itself is ``fraudmatch.matching.tune``).
"""

from __future__ import annotations

import math
from typing import Any

import polars as pl

from fraudmatch.hub import catalogue
from fraudmatch.hub.workspace import Workspace
from fraudmatch.matching.rules import Rule
from fraudmatch.matching.tune import TuneError, precision_recall, score_column
from fraudmatch.review.suppress import attach_outcomes, read_suppressed

_DROP_SUPPRESSED = ("outcome", "analyst", "recorded_at", "same_entity", "amount", "reason")


def run_matches(workspace: Workspace, run_id: str, rule: str) -> pl.DataFrame:
    """Every match of a rule in a run: those raised and those suppressed as reviewed."""
    run_dir = workspace.runs / run_id  # read only: a mistyped run id creates no folder
    path = run_dir / "matches" / f"{rule}.parquet"
    frames = [pl.read_parquet(path)] if path.exists() else []
    gone = read_suppressed(run_dir, rule)
    if gone.height:
        frames.append(gone.drop([c for c in _DROP_SUPPRESSED if c in gone.columns]))
    frames = [f for f in frames if f.height]
    return pl.concat(frames, how="diagonal_relaxed") if frames else pl.DataFrame()


def labelled(matches: pl.DataFrame, outcomes: pl.DataFrame, rule: Rule) -> pl.DataFrame:
    """The matches an analyst said are (``label`` true) or are not the same entity."""
    if matches.height == 0:
        return pl.DataFrame(schema={"label": pl.Boolean})
    known = outcomes.filter((pl.col("rule") == rule.name) & pl.col("same_entity").is_not_null())
    joined = attach_outcomes(matches, known, one_dataset=rule.one_dataset)
    return joined.filter(pl.col("prev_same_entity").is_not_null()).with_columns(
        pl.col("prev_same_entity").alias("label")
    )


def latest_run(workspace: Workspace, rule: str) -> str:
    """The newest run that matched ``rule``."""
    runs = catalogue.runs(workspace)
    for run_id in reversed(runs["run_id"].to_list()):
        run_dir = workspace.runs / run_id
        if (run_dir / "matches" / f"{rule}.parquet").exists():
            return run_id
    raise TuneError(f"no run in {workspace.root} has matches of {rule}: run a cycle first")


def curves_for_report(
    workspace: Workspace, run_id: str, rules: list[Rule], outcomes: pl.DataFrame
) -> dict[str, tuple[pl.DataFrame, str, Any]]:
    """Per rule with labels in this run: (precision/recall curve, score column, threshold)."""
    out = {}
    if outcomes.height == 0 or outcomes["same_entity"].is_not_null().sum() == 0:
        return out
    for rule in rules:
        if rule.internal or rule.scoring.model != "fellegi_sunter":
            continue
        matches = run_matches(workspace, run_id, rule.name)
        labels = labelled(matches, outcomes, rule)
        if labels.height == 0:
            continue
        score = score_column(rule)
        curve = precision_recall(labels, score)
        if curve.height and math.isfinite(curve["threshold"].max() or math.nan):
            out[rule.name] = (curve, score, rule.scoring.threshold)
    return out

"""Outcomes teach the model: ``fraudmatch rules tune RULE``.

Analysts' outcomes say whether two records really were the same person or account
(``same_entity``). Joined by match key to a run's matches (raised and suppressed), they
are labels:

- precision and recall at each threshold on the rule's score (match probability or match
  weight), printed as a table and drawn as a chart (``runs/<run_id>/tune_<rule>.html``);
- m (how often true matches reach each level) re-estimated per comparison from the
  labelled true pairs, counts with Laplace smoothing, written as a **proposed** rule file
  ``proposed/<rule>.yaml`` beside the rule (in the workspace for a shipped rule) with a
  unified diff. The rule itself is never changed:
  an analyst reviews the proposal and moves it over the rule.

The labels only cover pairs the rule flagged (a pair below the threshold is never shown
to an analyst), so recall is among labelled matches: how many true pairs a higher
threshold would lose, not how many the rule misses altogether.
"""

from __future__ import annotations

import difflib
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from fraudmatch.hub import catalogue
from fraudmatch.hub.workspace import Workspace
from fraudmatch.matching.rules import Rule, load_rule, load_rules
from fraudmatch.review.outcomes import default_url
from fraudmatch.review.suppress import attach_outcomes, load_outcomes, read_suppressed
from fraudmatch.shipped import shipped_rules_dir

MIN_LABELS = 20
PROPOSED_DIR = "proposed"
_DROP_SUPPRESSED = ("outcome", "analyst", "recorded_at", "same_entity", "amount", "reason")


class TuneError(ValueError):
    """Tuning cannot go ahead (too few labels, one class, no scores); says what to do."""


@dataclass
class TuneResult:
    rule: str
    run_id: str
    score: str  # match_probability | match_weight
    n_true: int
    n_false: int
    curve: pl.DataFrame  # threshold, flagged, true_pos, false_pos, precision, recall
    m: dict[str, dict[str, float]]  # proposed m per comparison and level
    chart: Path | None = None
    proposed: Path | None = None
    diff: str = ""
    notes: list[str] = field(default_factory=list)


def score_column(rule: Rule) -> str:
    return rule.scoring.threshold_kind or "match_probability"


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


def precision_recall(frame: pl.DataFrame, score: str) -> pl.DataFrame:
    """Precision and recall among labelled pairs if the threshold were each score seen."""
    schema = {
        "threshold": pl.Float64, "flagged": pl.Int64, "true_pos": pl.Int64,
        "false_pos": pl.Int64, "precision": pl.Float64, "recall": pl.Float64,
    }  # fmt: skip
    data = frame.filter(pl.col(score).is_not_null() & pl.col("label").is_not_null())
    if data.height == 0:
        return pl.DataFrame(schema=schema)
    total_true = int(data["label"].sum())
    curve = (
        data.select(pl.col(score).cast(pl.Float64).alias("threshold"), pl.col("label"))
        .sort("threshold", descending=True)
        .with_columns(
            pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("flagged"),
            pl.col("label").cast(pl.Int64).cum_sum().alias("true_pos"),
        )
        .group_by("threshold")
        .agg(pl.col("flagged").max(), pl.col("true_pos").max())
        .with_columns((pl.col("flagged") - pl.col("true_pos")).alias("false_pos"))
        .with_columns(
            (pl.col("true_pos") / pl.col("flagged")).alias("precision"),
            (pl.col("true_pos") / max(total_true, 1)).alias("recall"),
        )
        .sort("threshold")
    )
    return curve.select(list(schema)).cast(schema)


def table_rows(curve: pl.DataFrame, current: float | None, limit: int = 25) -> pl.DataFrame:
    """At most ``limit`` rows of the curve, evenly spread, always keeping the current one."""
    if curve.height <= limit:
        return curve
    idx = {round(i * (curve.height - 1) / (limit - 1)) for i in range(limit)}
    if current is not None:
        at = curve.with_row_index().filter(pl.col("threshold") >= current).head(1)
        idx |= set(at["index"].to_list())
    return curve.with_row_index().filter(pl.col("index").is_in(sorted(idx))).drop("index")


def estimate_m(true_pairs: pl.DataFrame, rule: Rule) -> dict[str, dict[str, float]]:
    """m per level from labelled true pairs: (count + 1) / (n + levels); nulls say nothing.

    Comparisons whose m and u the rule fixes on purpose are left out.
    """
    out: dict[str, dict[str, float]] = {}
    for comp in rule.comparisons:
        col = f"level_{comp.name}"
        if comp.fixed_m is not None or col not in true_pairs.columns:
            continue
        seen = true_pairs.filter(pl.col(col).is_not_null() & (pl.col(col) != "null"))
        counts = dict(seen.group_by(col).len().iter_rows())
        n, k = seen.height, comp.n_levels
        out[comp.name] = {label: (counts.get(label, 0) + 1) / (n + k) for label in comp.labels}
    return out


def _rounded(probs: dict[str, float], digits: int = 6) -> dict[str, float]:
    """Probabilities rounded for a YAML file and still summing to exactly 1 (within 1e-9)."""
    out = {k: float(f"{max(v, 1e-9):.{digits}g}") for k, v in probs.items()}
    biggest = max(out, key=lambda k: out[k])
    out[biggest] = round(1.0 - sum(v for k, v in out.items() if k != biggest), 12)
    return out


def fitted_u(workspace: Workspace, run_id: str, rule: Rule) -> dict[str, dict[str, float]]:
    """u per comparison and level: the rule's fixed u, else the model fitted in the run."""
    from fraudmatch.hub.runs import fitted_model

    model = fitted_model(workspace, run_id, rule.name)
    fitted = model.get("comparisons") or {}
    out = {}
    for comp in rule.comparisons:
        if comp.fixed_u is not None:
            out[comp.name] = dict(comp.fixed_u)
        elif comp.name in fitted:
            out[comp.name] = {lb: float(v["u"]) for lb, v in fitted[comp.name].items()}
    return out


def proposed_text(
    rule_path: Path,
    m: dict[str, dict[str, float]],
    u: dict[str, dict[str, float]],
    header: str,
) -> str:
    """The rule file with ``m``/``u`` set on the given comparisons, comments kept."""
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap

    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096  # never fold a line the author wrote
    yaml.indent(mapping=2, sequence=4, offset=2)
    data = yaml.load(rule_path.read_text(encoding="utf-8"))
    for item in data["comparisons"]:
        name = item["name"]
        if name not in m or name not in u:
            continue
        item.fa.set_block_style()  # {name: ni, type: exact, ...} grows two maps: one per line
        trailing = _take_trailing(item)
        for key, probs in (("m", _rounded(m[name])), ("u", _rounded(u[name]))):
            flow = CommentedMap(probs)
            flow.fa.set_flow_style()
            item[key] = flow
        if trailing is not None:
            item.ca.items["u"] = trailing  # the blank line or comment after the comparison
    buffer = io.StringIO()
    yaml.dump(data, buffer)
    return header + buffer.getvalue()


def _take_trailing(node: Any) -> Any:
    """Detach the comment (or blank line) that ruamel keeps on a mapping's last value."""
    from ruamel.yaml.comments import CommentedMap

    while isinstance(node, CommentedMap) and len(node):
        last = list(node)[-1]
        token = node.ca.items.get(last)
        if token is not None and len(token) > 2 and token[2] is not None:
            return node.ca.items.pop(last)
        node = node[last]
    return None


def latest_run(workspace: Workspace, rule: str) -> str:
    """The newest run that matched ``rule``."""
    runs = catalogue.runs(workspace)
    for run_id in reversed(runs["run_id"].to_list()):
        run_dir = workspace.runs / run_id
        if (run_dir / "matches" / f"{rule}.parquet").exists():
            return run_id
    raise TuneError(f"no run in {workspace.root} has matches of {rule}: run a cycle first")


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

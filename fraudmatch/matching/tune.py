"""Outcomes teach the model: the estimation behind ``fraudmatch rules tune RULE``.

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

This module is pure estimation on frames and rule files; reading runs and outcomes from a
workspace is the hub's (``fraudmatch.hub.tuning``).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from fraudmatch.matching.rules import Rule

MIN_LABELS = 20
PROPOSED_DIR = "proposed"


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


def u_per_comparison(rule: Rule, fitted: dict[str, Any]) -> dict[str, dict[str, float]]:
    """u per comparison and level: the rule's fixed u, else the fitted model's (``fitted``)."""
    comparisons = fitted.get("comparisons") or {}
    out = {}
    for comp in rule.comparisons:
        if comp.fixed_u is not None:
            out[comp.name] = dict(comp.fixed_u)
        elif comp.name in comparisons:
            out[comp.name] = {lb: float(v["u"]) for lb, v in comparisons[comp.name].items()}
    return out

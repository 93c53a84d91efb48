"""Run one match rule end to end: block, compare, score, decide, condition, exclude, cases.

Decision tiers, in order, so an analyst can always say why a pair was (not) flagged:

1. ``hard_match``: a named level combination (e.g. same NI number and date of birth) is a
   match whatever the model says;
2. ``veto``: a named combination (e.g. twins: same date of birth and address, different
   forenames) is never a match;
3. the model: ``deterministic`` (any ``match_when`` combination) or ``fellegi_sunter``
   (u from random pairs in the rule's scope, m and the prior by EM over the blocked pairs,
   optional rule-given m/u and term-frequency adjustment; threshold on the match
   probability or the match weight).

Then conditions on clear attributes, exclusions by other rules' matches, and cases. Pairs
are compared in the partitions blocking makes, so only the compact gamma columns of all
pairs are ever held at once. The partitions run here or, as Prefect tasks, on a Dask
cluster (``fraudmatch.matching.distributed``); the rest of the rule always runs here.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import time
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import polars as pl

from fraudmatch.matching.blocking import (
    BlockingStats,
    blocking_columns,
    plan_blocking,
    prepare_pair,
    sample_pairs,
)
from fraudmatch.matching.cases import assign_cases
from fraudmatch.matching.compare import (
    Comparer,
    gamma_name,
    label_expr,
    side_columns,
    spread_table,
)
from fraudmatch.matching.conditions import apply_conditions, apply_exclusions, condition_columns
from fraudmatch.matching.distributed import Executor, default_executor
from fraudmatch.matching.placeholders import placeholder_table
from fraudmatch.matching.rule_loader import order_rules
from fraudmatch.matching.rule_model import LevelSelector, Rule, RuleError
from fraudmatch.matching.training import Training, model_stats, train

__all__ = ["RuleResult", "match_columns", "run_rule", "run_rules"]

log = logging.getLogger(__name__)

Frame = pl.DataFrame | pl.LazyFrame
Progress = Callable[[str], None]
_DEFAULT_WORDS = 16


@dataclass
class RuleResult:
    """The matches of one rule and what it took to find them."""

    rule: Rule
    matches: pl.DataFrame
    stats: dict[str, Any] = field(default_factory=dict)
    blocking: BlockingStats | None = None
    model: Any = None  # score.FSModel for fellegi_sunter rules


def match_columns(rule: Rule) -> dict[str, pl.DataType]:
    """Schema of a rule's matches frame (the evidence columns depend on its comparisons)."""
    schema: dict[str, pl.DataType] = {
        "rule": pl.String(),
        "left_partner": pl.String(),
        "left_dataset": pl.String(),
        "left_record_id": pl.String(),
        "right_partner": pl.String(),
        "right_dataset": pl.String(),
        "right_record_id": pl.String(),
        "blocking_rule": pl.String(),
        "tier": pl.String(),
        "match_weight": pl.Float64(),
        "match_probability": pl.Float64(),
    }
    for c in rule.comparisons:
        schema[f"level_{c.name}"] = pl.String()
        schema[f"weight_{c.name}"] = pl.Float64()
    schema["case_id"] = pl.String()
    schema["case_size"] = pl.UInt32()
    return schema


def _n_words(rule: Rule, frame: Frame) -> int:
    """Bloom words per filter, read off the data (every Bloom column has the same size)."""
    names = frame.lazy().collect_schema().names()
    for comp in rule.comparisons:
        if comp.type == "bloom" and comp.column is not None:
            pat = re.compile(re.escape(comp.column.left) + r"__bf(\d+)$")
            idx = [int(m.group(1)) for n in names if (m := pat.match(n))]
            if idx:
                return max(idx) + 1
    return _DEFAULT_WORDS


def _selector_mask(combos: Sequence[Sequence[LevelSelector]]) -> pl.Expr:
    """True where any combination holds (every selector in it accepts its gamma)."""
    if not combos:
        return pl.lit(False)
    ors = []
    for combo in combos:
        ands = [
            pl.col(gamma_name(s.comparison)).fill_null(-1).is_in(sorted(s.gammas)) for s in combo
        ]
        ors.append(pl.all_horizontal(ands))
    return pl.any_horizontal(ors)


def deferred_comparisons(rule: Rule) -> frozenset[str]:
    """Comparisons compared only for the pairs a decision clause can still change.

    In a Fellegi-Sunter rule, a comparison given with m = u at every level and no term
    frequency weighs nothing: only the hard_match, veto and undecided clauses read it
    (twins, namesakes). A pair that neither the model nor a hard match read without these
    comparisons (a looser test) can flag is flagged by no clause either, so they are
    compared on the other pairs only: the same matches for a fraction of the work.
    """
    if rule.scoring.model != "fellegi_sunter":
        return frozenset()
    return frozenset(
        c.name
        for c in rule.comparisons
        if c.fixed_m is not None and c.fixed_m == c.fixed_u and not c.tf_adjust
    )


def _could_match(rule: Rule, deferred: frozenset[str], model_match: pl.Expr) -> pl.Expr:
    """The model's match, or a hard match read without the deferred comparisons."""
    relaxed = [
        [s for s in combo if s.comparison not in deferred] for combo in rule.scoring.hard_match
    ]
    if any(not combo for combo in relaxed):
        return pl.lit(True)
    return model_match | _selector_mask(relaxed)


def _concat(frames: list[pl.DataFrame], schema_from: pl.DataFrame) -> pl.DataFrame:
    return pl.concat(frames, how="vertical") if frames else schema_from.clear()


class _Laps:
    """Wall time per stage of a rule, for the run summary."""

    def __init__(self, rule: str) -> None:
        self.rule = rule
        self.timings: dict[str, float] = {}
        self._clock = time.perf_counter()

    def __call__(self, stage: str) -> None:
        now = time.perf_counter()
        self.timings[stage] = round(now - self._clock, 4)
        self._clock = now
        log.debug("%s: %s took %.2f s", self.rule, stage, self.timings[stage])


@dataclass
class _Compared:
    """Every candidate pair's gammas, with the plan and comparer that made them."""

    plan: Any
    comparer: Comparer
    gammas: pl.DataFrame
    left_rows: int
    right_rows: int
    condition_cols: tuple[list[str], list[str]]
    deferred: frozenset[str] = frozenset()  # not in ``gammas``: see deferred_comparisons

    @property
    def eager(self) -> Comparer:
        """The comparer of every candidate pair (and of the random pairs for u)."""
        if not self.deferred:
            return self.comparer
        return self.comparer.only(
            [c.name for c in self.comparer.comparisons if c.name not in self.deferred]
        )


@dataclass
class _Decided:
    """The pairs that matched (hard match or model), with their weights, and tier counts."""

    matched: pl.DataFrame
    tier_counts: dict[str, int]
    model: Any
    training: Training | None


_EMPTY_PAIRS = {"li": pl.UInt32, "ri": pl.UInt32, "blocking_rule": pl.UInt8}


def _check_datasets(rule: Rule, frames: Mapping[str, Frame]) -> None:
    for ds in {rule.left, rule.right}:
        if ds not in frames:
            raise RuleError(
                f"{rule.source}: rule {rule.name!r} needs dataset {ds!r}, which is not loaded"
                f" (loaded: {', '.join(sorted(frames)) or 'none'})"
            )
    # A condition reads clear values, and a column no frame has would read as null in every
    # pair: "IS NULL" would then hold for all (every attainer an adult). A column a partner
    # left empty is there, null; one absent altogether means the rule and the extracts were
    # written for different specifications (or versions): refuse rather than guess.
    left_cols, right_cols = condition_columns(rule.conditions)
    for side, ds, cols in (("l", rule.left, left_cols), ("r", rule.right, right_cols)):
        have = set(frames[ds].collect_schema().names()) if cols else set()
        absent = [c for c in cols if c not in have]
        if absent:
            raise RuleError(
                f"{rule.source}: rule {rule.name!r}: its conditions read "
                f"{', '.join(f'{side}.{c}' for c in absent)}, which the {ds} extracts do not "
                "have: were the rule and the extracts made for the same data specification "
                "and fraudmatch version?"
            )


def _compare(
    rule: Rule, frames: Mapping[str, Frame], executor: Executor, lap: _Laps, say: Progress
) -> _Compared:
    """Prepare both sides, plan blocking and compare every candidate pair, by partition."""
    lframe, rframe = frames[rule.left], frames[rule.right]
    n_words = _n_words(rule, lframe)
    bl, br = blocking_columns(rule)
    # Bloom words stay where they are (a lazy scan, usually): the comparer reads them once
    # per distinct value, so millions of rows never hold 16 words each in memory
    cl, cr = side_columns(rule.comparisons, n_words, bloom_words=False)
    kl, kr = condition_columns(rule.conditions)
    left, right = prepare_pair(rule, lframe, rframe, [*bl, *cl, *kl], [*br, *cr, *kr])
    lap("prepare")
    say(f"{rule.name}: blocking {left.height} x {right.height} records")
    plan = plan_blocking(rule, left, right)
    lap("blocking_plan")
    comparer = Comparer(
        rule.comparisons,
        plan.data_left,
        plan.data_right,
        n_words=n_words,
        words=(lframe, rframe),
        spread=_spread_tables(rule, frames, say),
        placeholders=_placeholder_tables(rule, frames, say),
    )
    compared = _Compared(
        plan, comparer, pl.DataFrame(), left.height, right.height, (kl, kr),
        deferred_comparisons(rule),
    )  # fmt: skip
    eager = compared.eager
    # per partition, in partition order wherever they run: the only step spread over machines
    parts = executor.map_partitions(eager, plan.partitions())
    compared.gammas = _concat(parts, eager.gammas(pl.DataFrame(schema=_EMPTY_PAIRS)))
    lap("compare")
    say(f"{rule.name}: {compared.gammas.height} candidate pairs compared ({executor.name})")
    return compared


def _fit(rule: Rule, compared: _Compared, seed: int, lap: _Laps) -> Training:
    """Random pairs for u, then the model (``fraudmatch.matching.training``)."""
    plan, comparer = compared.plan, compared.eager
    rnd = sample_pairs(rule, plan.left, plan.right, rule.scoring.u_sample_pairs, seed)
    step = max(rule.blocking.partition_pairs, 250_000)  # random pairs: few, cheap chunks
    random_gammas = _concat(
        [comparer.gammas(rnd.slice(o, step)) for o in range(0, rnd.height, step)],
        comparer.gammas(pl.DataFrame(schema=_EMPTY_PAIRS)),
    )
    lap("u_sample")
    training = train(rule, compared.gammas, random_gammas, plan)
    lap("em")
    return training


def _tier(rule: Rule, model_match: pl.Expr) -> pl.Expr:
    """hard_match, else vetoed, else the model's (or deterministic) match, else null.

    A pair the evidence cannot decide (``undecided``: a common name and nothing else) is
    null whatever the model says: not a match, and not a veto either.
    """
    model_tier = "model" if rule.scoring.model == "fellegi_sunter" else "deterministic"
    tiers = pl.Enum(["hard_match", "vetoed", model_tier])  # a byte a pair, not a string
    return (
        pl.when(_selector_mask(rule.scoring.hard_match))
        .then(pl.lit("hard_match", tiers))
        .when(_selector_mask(rule.scoring.veto))
        .then(pl.lit("vetoed", tiers))
        .when(_selector_mask(rule.scoring.undecided))
        .then(pl.lit(None, tiers))
        .when(model_match)
        .then(pl.lit(model_tier, tiers))
        .otherwise(pl.lit(None, tiers))
    )


def _decide(rule: Rule, compared: _Compared, seed: int, lap: _Laps) -> _Decided:
    """Score (model or deterministic), assign tiers, keep the matches with their weights."""
    from fraudmatch.matching import score

    gammas = compared.gammas
    training = None
    if rule.scoring.model == "fellegi_sunter" and gammas.height:
        training = _fit(rule, compared, seed, lap)
        # every candidate pair gets its match weight; the per-comparison weights (evidence)
        # are added to the matches only, below: millions of pairs need not carry them
        weighing = training.model
        if compared.deferred:
            kept = tuple(c for c in weighing.comparisons if c.name not in compared.deferred)
            weighing = dataclasses.replace(weighing, comparisons=kept)
        scored = score.score(gammas, weighing, weights=False)
        model_match = pl.col(rule.scoring.threshold_kind or "match_probability") >= (
            rule.scoring.threshold or 0.0
        )
        if compared.deferred:  # the pairs the clauses below can still change
            scored = scored.filter(_could_match(rule, compared.deferred, model_match))
    else:
        scored = gammas  # weights (all null) go to the matches only, below
        model_match = _selector_mask(rule.scoring.match_when)
    if compared.deferred:  # the clauses' inputs (also on no pairs: the columns they read)
        scored = compared.comparer.only(compared.deferred).gammas(scored)
    decided = scored.with_columns(_tier(rule, model_match).alias("tier"))
    tier_counts = dict(decided.group_by("tier").len().drop_nulls("tier").iter_rows())
    matched = decided.filter(pl.col("tier").is_not_null() & (pl.col("tier") != "vetoed"))
    del decided, scored
    matched = matched.with_columns(pl.col("tier").cast(pl.String))
    model = training.model if training is not None else None
    if model is not None:
        matched = matched.with_columns(score.weight_columns(model, matched.columns))
    else:
        matched = matched.with_columns(
            pl.lit(None, pl.Float64).alias("match_weight"),
            pl.lit(None, pl.Float64).alias("match_probability"),
            *[pl.lit(None, pl.Float64).alias(f"weight_{c.name}") for c in rule.comparisons],
        )
    lap("score")
    return _Decided(matched, tier_counts, model, training)


def _exclude_and_group(
    rule: Rule, plan: Any, matches: pl.DataFrame, excluded_by: list
) -> tuple[pl.DataFrame, dict[str, int]]:
    """Drop pairs other rules matched, group the rest into cases, in a stable order."""
    excluded: dict[str, int] = {}
    if excluded_by:
        matches, counts = apply_exclusions(matches, [(s, res.matches) for s, res in excluded_by])
        excluded = {res.rule.name: counts[str(i)] for i, (_, res) in enumerate(excluded_by)}
    offset = 0 if rule.one_dataset else plan.left.height  # right rows are other records
    matches = assign_cases(
        matches,
        rule.name,
        node_ids=(matches["li"].to_numpy(), matches["ri"].to_numpy().astype(np.int64) + offset),
    )
    matches = matches.select(list(match_columns(rule))).sort(
        "left_partner", "left_record_id", "right_partner", "right_record_id"
    )
    return matches, excluded


def _spread_tables(
    rule: Rule, frames: Mapping[str, Frame], say: Progress
) -> dict[str, pl.DataFrame]:
    """Per ``spread`` comparison, where its values are found: the rule's two datasets and
    those of its ``across`` datasets that are loaded (read under the right side's names)."""
    tables = {}
    for comp in rule.comparisons:
        if comp.type != "spread":
            continue
        assert comp.column is not None and comp.by is not None
        sources = [(frames[rule.left], comp.column.left, comp.by.left)]
        sources.append((frames[rule.right], comp.column.right, comp.by.right))
        extra = [d for d in dict.fromkeys(comp.across) if d in frames]
        extra = [d for d in extra if d not in (rule.left, rule.right)]
        sources += [(frames[d], comp.column.right, comp.by.right) for d in extra]
        tables[comp.name] = spread_table(comp, sources)
        read = ", ".join([rule.left, rule.right, *extra])
        say(f"{rule.name}: {comp.name} counts places over {read}")
    return tables


def _placeholder_tables(
    rule: Rule, frames: Mapping[str, Frame], say: Progress
) -> dict[str, pl.DataFrame]:
    """Per ``date_parts`` comparison with a ``placeholder``, each council's placeholder day
    and month, counted over every loaded dataset that sends the date's parts: a council's
    habit shows in all its extracts, and one small extract alone cannot tell it."""
    tables = {}
    for comp in rule.comparisons:
        if comp.type != "date_parts" or comp.placeholder is None:
            continue
        assert comp.column is not None
        sides = {rule.left: comp.column.left + "__dm", rule.right: comp.column.right + "__dm"}
        col = comp.column.right + "__dm"
        for name, frame in frames.items():
            names = frame.collect_schema().names()
            if name not in sides and col in names and "partner" in names:
                sides[name] = col
        tables[comp.name] = placeholder_table(comp, [(frames[d], c) for d, c in sides.items()])
        say(f"{rule.name}: {comp.name} placeholders counted over {', '.join(sides)}")
    return tables


def run_rule(
    rule: Rule,
    frames: Mapping[str, Frame],
    *,
    cycle_date: date,
    rules_by_name: Mapping[str, Rule] | None = None,
    seed: int = 0,
    progress: Progress | None = None,
    results: MutableMapping[str, RuleResult] | None = None,
    executor: Executor | None = None,
) -> RuleResult:
    """Run one rule over the hub's frames (one per dataset, all partners concatenated).

    Rules named in ``exclude`` are run first (or taken from ``results``, which this call
    also fills). Deterministic for a given seed: random pairs for u come from it and the
    matches are sorted. ``executor`` compares the partitions (``fraudmatch.matching.distributed``:
    here, or as Prefect tasks on a Dask cluster; the default honours
    ``$FRAUDMATCH_DASK_ADDRESS``); the matches are the same wherever they ran.
    """
    say = progress or (lambda _msg: None)
    results = {} if results is None else results
    lap = _Laps(rule.name)
    _check_datasets(rule, frames)  # before the exclusion rules: fail fast
    executor = executor or default_executor()
    excluded_by = _run_exclusions(
        rule, frames, cycle_date, rules_by_name, seed, progress, results, executor
    )
    lap("exclusion_rules")
    compared = _compare(rule, frames, executor, lap, say)
    decided = _decide(rule, compared, seed, lap)
    pairs_compared = compared.gammas.height
    compared.gammas = compared.gammas.clear()  # the pairs are decided: free them
    wide = compared.comparer.gather(decided.matched, *compared.condition_cols)
    before_conditions = wide.height
    wide = apply_conditions(wide, rule.conditions, cycle_date)
    lap("conditions")
    matches = _evidence(rule, compared.plan, wide)
    before_exclusions = matches.height
    matches, excluded = _exclude_and_group(rule, compared.plan, matches, excluded_by)
    lap("cases")
    stats = {
        "rule": rule.name,
        "cycle_date": cycle_date.isoformat(),
        "seed": seed,
        "left_rows": compared.left_rows,
        "right_rows": compared.right_rows,
        "blocking": compared.plan.stats.rules,
        "hot_blocks": [h.__dict__ for h in compared.plan.stats.hot],
        "pairs_compared": pairs_compared,
        "tiers": decided.tier_counts,
        "failed_conditions": before_conditions - wide.height,
        "excluded": excluded,
        "before_exclusions": before_exclusions,
        "matches": matches.height,
        "cases": matches.get_column("case_id").n_unique() if matches.height else 0,
        "model": model_stats(rule, decided.training) if decided.training is not None else None,
        "timings": lap.timings,
    }
    say(f"{rule.name}: {matches.height} matches")
    result = RuleResult(
        rule=rule,
        matches=matches,
        stats=stats,
        blocking=compared.plan.stats,
        model=decided.model,
    )
    results[rule.name] = result
    return result


def _run_exclusions(rule, frames, cycle_date, rules_by_name, seed, progress, results, executor):
    out = []
    for ex in rule.exclude:
        if ex.rule not in results:
            other = (rules_by_name or {}).get(ex.rule)
            if other is None:
                raise RuleError(
                    f"{rule.source}: exclude: rule {ex.rule!r} is not among the rules given"
                )
            run_rule(
                other,
                frames,
                cycle_date=cycle_date,
                rules_by_name=rules_by_name,
                seed=seed,
                progress=progress,
                results=results,
                executor=executor,
            )
        out.append((ex.side, results[ex.rule]))
    return out


def _evidence(rule: Rule, plan, wide: pl.DataFrame) -> pl.DataFrame:
    """Matched pairs as records (partner, dataset, record_id) with levels and weights."""
    li, ri = wide.get_column("li"), wide.get_column("ri")
    names = [b.name for b in rule.blocking.rules]
    brule = pl.col("blocking_rule").cast(pl.Int64)
    chain = pl.when(brule == 0).then(pl.lit(names[0]))
    for i, n in enumerate(names[1:], start=1):
        chain = chain.when(brule == i).then(pl.lit(n))
    return wide.with_columns(
        pl.lit(rule.name).alias("rule"),
        plan.data_left.get_column("partner").gather(li).alias("left_partner"),
        pl.lit(rule.left).alias("left_dataset"),
        plan.data_left.get_column("record_id").gather(li).cast(pl.String).alias("left_record_id"),
        plan.data_right.get_column("partner").gather(ri).alias("right_partner"),
        pl.lit(rule.right).alias("right_dataset"),
        plan.data_right.get_column("record_id").gather(ri).cast(pl.String).alias("right_record_id"),
        chain.otherwise(pl.lit(None, pl.String)).alias("blocking_rule"),
        *[label_expr(c) for c in rule.comparisons],
    )


def run_rules(
    rules: Sequence[Rule],
    frames: Mapping[str, Frame],
    *,
    cycle_date: date,
    seed: int = 0,
    progress: Progress | None = None,
    include_internal: bool = False,
    executor: Executor | None = None,
) -> dict[str, RuleResult]:
    """Run every rule (helpers first); internal rules are left out unless asked for."""
    executor = executor or default_executor()
    by_name = {r.name: r for r in rules}
    results: dict[str, RuleResult] = {}
    for rule in order_rules(rules):
        if rule.name not in results:
            run_rule(
                rule,
                frames,
                cycle_date=cycle_date,
                rules_by_name=by_name,
                seed=seed,
                progress=progress,
                results=results,
                executor=executor,
            )
    return {n: r for n, r in results.items() if include_internal or not r.rule.internal}

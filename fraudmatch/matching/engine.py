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

import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping, MutableMapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import polars as pl

from fraudmatch.matching.blocking import (
    PARTNER,
    BlockingStats,
    block_col,
    blocking_columns,
    plan_blocking,
    prepare_pair,
    sample_pairs,
)
from fraudmatch.matching.cases import assign_cases
from fraudmatch.matching.compare import (
    Comparer,
    comparison_columns,
    gamma_name,
    label_expr,
    side_columns,
)
from fraudmatch.matching.conditions import apply_conditions, apply_exclusions, condition_columns
from fraudmatch.matching.distributed import Executor, default_executor
from fraudmatch.matching.rule_loader import order_rules
from fraudmatch.matching.rule_model import Comparison, LevelSelector, Rule, RuleError

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


def _fixed(comp: Comparison) -> tuple[list[float], list[float]] | None:
    if comp.fixed_m is None or comp.fixed_u is None:
        return None
    m = [0.0] * comp.n_levels
    u = [0.0] * comp.n_levels
    for label in comp.labels:
        m[comp.gamma(label)] = comp.fixed_m[label]
        u[comp.gamma(label)] = comp.fixed_u[label]
    return m, u


def _model_stats(rule: Rule, training: _Training) -> dict[str, Any]:
    """The fitted model for the run report: prior, m/u/weight per level, EM sessions."""
    model = training.model
    out: dict[str, Any] = {
        "prior": model.prior,
        "prior_among_candidate_pairs": training.prior_among_candidates,
        "em_sessions": training.sessions,
        "comparisons": {},
    }
    for cm in model.comparisons:
        comp = rule.comparison(cm.name)
        out["comparisons"][cm.name] = {
            label: {"m": cm.m[g], "u": cm.u[g], "weight": cm.weights[g]}
            for label, g in ((lb, comp.gamma(lb)) for lb in comp.labels)
        }
    return out


def _base(col: str) -> str:
    """The field a pseudonymised column derives from: ``surname__metaphone`` -> ``surname``."""
    return col.split("__", 1)[0]


def blocked_comparisons(rule: Rule) -> dict[str, list[int]]:
    """Per comparison, the blocking rules whose keys derive from the same field.

    Every pair satisfying such a rule agrees on that field by construction, so in that
    rule's training session the comparison says nothing about match or non-match and its
    m is not learned there (Splink fixes the blocked columns per session likewise). Fields
    are column prefixes: ``surname__metaphone`` and ``surname__tok`` are both ``surname``.
    """
    out: dict[str, list[int]] = {}
    for comp in rule.comparisons:
        fields = {_base(x) for ref in comparison_columns(comp) for x in (ref.left, ref.right)}
        out[comp.name] = [
            i
            for i, br in enumerate(rule.blocking.rules)
            if fields & {_base(x) for ref in br.on for x in (ref.left, ref.right)}
        ]
    return out


def _level_shares(gamma: pl.Series, n: int) -> tuple[float, ...]:
    """Share of each level 0..n-1 among non-null gammas, smoothed by 0.1 per level."""
    counts = np.bincount(gamma.filter(gamma >= 0).cast(pl.Int64).to_numpy(), minlength=n)[:n]
    smoothed = counts.astype(float) + 0.1
    return tuple(float(x) for x in smoothed / smoothed.sum())


def _scope_pairs(rule: Rule, left: pl.DataFrame, right: pl.DataFrame) -> int:
    """Record pairs in the rule's scope: the population the random-pair u describes."""
    lc = left.group_by(PARTNER).len()
    rc = lc if rule.one_dataset else right.group_by(PARTNER).len()
    nl, nr = left.height, right.height
    both = lc.join(rc, on=PARTNER, suffix="_r")
    same = int((both["len"].cast(pl.Int64) * both["len_r"].cast(pl.Int64)).sum())
    total = nl * nr
    if rule.one_dataset:
        total, same = (total - nl) // 2, (same - nl) // 2
    return {"any": total, "within_partner": same, "across_partners": total - same}[rule.scope]


@contextmanager
def _quiet(logger: logging.Logger) -> Iterator[None]:
    """Silence a logger's warnings for the duration (restoring its level afterwards)."""
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


@dataclass
class _Training:
    model: Any
    prior_among_candidates: float
    sessions: list[dict[str, Any]]


def _train(rule: Rule, gammas: pl.DataFrame, random_gammas: pl.DataFrame, plan) -> _Training:
    """u from random pairs; m by EM, one session per blocking rule; then the prior.

    Session ``k`` holds every candidate pair that satisfies blocking rule ``k`` (whichever
    rule made it first), with the comparisons on rule ``k``'s fields masked. m of each
    comparison is the mean over the sessions that could learn it; a session where EM
    cannot separate matches (e.g. NI blocking: almost all pairs match) teaches nothing.
    With m and u fixed, the prior of a random pair in scope comes from a fixed-point
    iteration over the candidate pairs (:func:`_random_prior`); the share of matches among
    candidate pairs follows from it.
    """
    from fraudmatch.matching import score

    s = rule.scoring
    n_levels = {c.name: c.n_levels for c in rule.comparisons}
    fixed = {c.name: f for c in rule.comparisons if (f := _fixed(c)) is not None}
    free = [n for n in n_levels if n not in fixed]
    u = dict(score.estimate_u(random_gammas, {n: n_levels[n] for n in free})) if free else {}
    m_start: dict[str, Sequence[float]] = {}
    for name, (m_fix, u_fix) in fixed.items():
        u[name], m_start[name] = tuple(u_fix), tuple(m_fix)
    em_kw: dict[str, Any] = {"max_iter": s.em_max_iterations, "tol": s.em_tolerance}
    if s.prior is not None:
        em_kw["prior_init"] = s.prior
    gcols = [gamma_name(n) for n in n_levels]
    learned: dict[str, list[tuple[float, ...]]] = {n: [] for n in free}
    sessions: list[dict[str, Any]] = []
    li, ri = gammas.get_column("li"), gammas.get_column("ri")
    masked_by = blocked_comparisons(rule)
    for k, br in enumerate(rule.blocking.rules):
        key = block_col(k)
        agree = plan.left.get_column(key).gather(li) == plan.right.get_column(key).gather(ri)
        masked = [n for n, ks in masked_by.items() if k in ks]
        sess = gammas.filter(agree.fill_null(False)).select(
            *[
                pl.lit(-1, pl.Int8).alias(gamma_name(n)) if n in masked else gamma_name(n)
                for n in n_levels
            ]
        )
        info: dict[str, Any] = {"blocking_rule": br.name, "pairs": sess.height, "masked": masked}
        sessions.append(info)
        if sess.height == 0 or len(masked) == len(n_levels):
            info["learned"] = []
            continue
        with _quiet(score.log):  # a failed session is expected (all-match NI pairs) and
            m, prior, _, trace = score.estimate_m_em(  # recorded in the stats instead
                sess.select(gcols), n_levels, u, m_init=m_start, fix_m=list(fixed), **em_kw
            )
        info.update(prior=prior, converged=trace.converged, message=trace.message)
        info["learned"] = []
        all_match = trace.fallback and "non-match" in trace.message
        if trace.fallback and not all_match:
            continue
        for n in free:
            col = sess.get_column(gamma_name(n))
            if n in masked or not (col >= 0).any():
                continue
            # pairs (almost) all matches, e.g. agreeing NI numbers: m is simply how often
            # they reach each level (lightly smoothed), where EM has nothing to separate
            learned[n].append(_level_shares(col, n_levels[n]) if all_match else m[n])
            info["learned"].append(n)
        if all_match:
            info["message"] = "candidate pairs are (almost) all matches: m from level shares"
            info["prior"] = None
    m_final: dict[str, tuple[float, ...]] = dict(m_start)
    for n in free:
        if learned[n]:
            m_final[n] = tuple(float(x) for x in np.mean(np.array(learned[n]), axis=0))
        else:
            m_final[n] = score.default_m_init(n_levels[n])
    tf_levels = {c.name: c.n_levels - 1 for c in rule.comparisons if c.tf_column is not None}
    comps = tuple(
        score.ComparisonModel(n, n_levels[n], m_final[n], u[n], tf_levels.get(n)) for n in n_levels
    )
    scope_pairs = max(_scope_pairs(rule, plan.left, plan.right), 1)
    random_prior = _random_prior(gammas.select(gcols), comps, scope_pairs)
    trace = score.EMTrace(
        iterations=len(sessions),
        log_likelihood=(),
        converged=True,
        message=f"{sum(1 for x in sessions if x['learned'])} of {len(sessions)} sessions learned",
    )
    model = score.FSModel(comps, random_prior, trace)
    prior = random_prior * scope_pairs / max(gammas.height, 1)
    return _Training(model, prior, sessions)


def _random_prior(gammas: pl.DataFrame, comps: Sequence[Any], scope_pairs: int) -> float:
    """P(match) for a random record pair in scope, by fixed-point iteration on the pairs.

    u comes from random pairs, so the prior must be a random pair's: (true matches) /
    (pairs in scope). With m and u fixed, expected matches are the sum of the candidate
    pairs' match probabilities under that prior (pairs never blocked together are taken
    as non-matches), so iterate prior <- expected matches / pairs in scope. Unlike EM's
    share of matches among candidates, this does not count agreement on the blocking
    keys twice.
    """
    cols = gammas.columns
    table = gammas.group_by(cols).len().sort(cols)  # fixed order: identical float sums
    llr = np.zeros(table.height)
    for comp, col in zip(comps, cols, strict=True):
        level = table.get_column(col).fill_null(-1).cast(pl.Int64).to_numpy()
        weights = np.asarray(comp.weights)
        llr += np.where(level >= 0, weights[np.clip(level, 0, None)], 0.0)
    counts = table.get_column("len").to_numpy().astype(float)
    lam = min(0.5, max(1e-12, 0.5 * counts.sum() / scope_pairs))
    for _ in range(200):
        logit = np.log2(lam / (1 - lam)) + llr
        expected = float((counts / (1.0 + np.exp2(-np.clip(logit, -1000, 1000)))).sum())
        new = min(0.5, max(1e-12, expected / scope_pairs))
        if abs(new - lam) <= 1e-7 * lam:
            return new
        lam = new
    return lam


def _concat(frames: list[pl.DataFrame], schema_from: pl.DataFrame) -> pl.DataFrame:
    return pl.concat(frames, how="vertical") if frames else schema_from.clear()


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
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[stage] = round(now - clock, 4)
        clock = now
        log.debug("%s: %s took %.2f s", rule.name, stage, timings[stage])

    for ds in {rule.left, rule.right}:  # before the exclusion rules: fail fast
        if ds not in frames:
            raise RuleError(
                f"{rule.source}: rule {rule.name!r} needs dataset {ds!r}, which is not loaded"
                f" (loaded: {', '.join(sorted(frames)) or 'none'})"
            )
    executor = executor or default_executor()
    excluded_by = _run_exclusions(
        rule, frames, cycle_date, rules_by_name, seed, progress, results, executor
    )
    lap("exclusion_rules")
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
    )
    # per partition, in partition order wherever they run: the only step spread over machines
    parts = executor.map_partitions(comparer, plan.partitions())
    empty_pairs = pl.DataFrame(schema={"li": pl.UInt32, "ri": pl.UInt32, "blocking_rule": pl.UInt8})
    gammas = _concat(parts, comparer.gammas(empty_pairs))
    del parts
    pairs_compared = gammas.height
    lap("compare")
    say(f"{rule.name}: {gammas.height} candidate pairs compared ({executor.name})")

    model = None
    training = None
    if rule.scoring.model == "fellegi_sunter" and gammas.height:
        from fraudmatch.matching import score

        rnd = sample_pairs(rule, plan.left, plan.right, rule.scoring.u_sample_pairs, seed)
        step = max(rule.blocking.partition_pairs, 250_000)  # random pairs: few, cheap chunks
        random_gammas = _concat(
            [comparer.gammas(rnd.slice(o, step)) for o in range(0, rnd.height, step)],
            comparer.gammas(empty_pairs),
        )
        lap("u_sample")
        training = _train(rule, gammas, random_gammas, plan)
        model = training.model
        lap("em")
        # every candidate pair gets its match weight; the per-comparison weights (evidence)
        # are added to the matches only, below: millions of pairs need not carry them
        scored = score.score(gammas, model, weights=False)
        th = pl.col(rule.scoring.threshold_kind or "match_probability")
        model_match = th >= (rule.scoring.threshold or 0.0)
    else:
        scored = gammas  # weights (all null) go to the matches only, below
        model_match = _selector_mask(rule.scoring.match_when)
    hard = _selector_mask(rule.scoring.hard_match)
    veto = _selector_mask(rule.scoring.veto)
    model_tier = "model" if rule.scoring.model == "fellegi_sunter" else "deterministic"
    tiers = pl.Enum(["hard_match", "vetoed", model_tier])  # a byte a pair, not a string
    tier = (
        pl.when(hard)
        .then(pl.lit("hard_match", tiers))
        .when(veto)
        .then(pl.lit("vetoed", tiers))
        .when(model_match)
        .then(pl.lit(model_tier, tiers))
        .otherwise(pl.lit(None, tiers))
    )
    decided = scored.with_columns(tier.alias("tier"))
    tier_counts = dict(decided.group_by("tier").len().drop_nulls("tier").iter_rows())
    matched = decided.filter(pl.col("tier").is_not_null() & (pl.col("tier") != "vetoed"))
    del decided, scored, gammas
    matched = matched.with_columns(pl.col("tier").cast(pl.String))
    if model is not None:
        from fraudmatch.matching import score

        matched = matched.with_columns(score.weight_columns(model, matched.columns))
    else:
        matched = matched.with_columns(
            pl.lit(None, pl.Float64).alias("match_weight"),
            pl.lit(None, pl.Float64).alias("match_probability"),
            *[pl.lit(None, pl.Float64).alias(f"weight_{c.name}") for c in rule.comparisons],
        )
    lap("score")

    wide = comparer.gather(matched, kl, kr)
    before_conditions = wide.height
    wide = apply_conditions(wide, rule.conditions, cycle_date)
    lap("conditions")
    matches = _evidence(rule, plan, wide)
    before_exclusions = matches.height
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
    lap("cases")
    stats = {
        "rule": rule.name,
        "cycle_date": cycle_date.isoformat(),
        "seed": seed,
        "left_rows": left.height,
        "right_rows": right.height,
        "blocking": plan.stats.rules,
        "hot_blocks": [h.__dict__ for h in plan.stats.hot],
        "pairs_compared": pairs_compared,
        "tiers": tier_counts,
        "failed_conditions": before_conditions - wide.height,
        "excluded": excluded,
        "before_exclusions": before_exclusions,
        "matches": matches.height,
        "cases": matches.get_column("case_id").n_unique() if matches.height else 0,
        "model": _model_stats(rule, training) if training is not None else None,
        "timings": timings,
    }
    say(f"{rule.name}: {matches.height} matches")
    result = RuleResult(rule=rule, matches=matches, stats=stats, blocking=plan.stats, model=model)
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

"""Fit a Fellegi–Sunter model for a rule: u from random pairs, m by EM per blocking rule.

Kept apart from the engine's pipeline because it is the statistics of the run (what the
model learns, from which pairs, and what the prior of a random pair is), and the run
report shows it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from fraudmatch.matching.blocking import PARTNER, block_col
from fraudmatch.matching.compare import comparison_columns, gamma_name
from fraudmatch.matching.rule_model import Comparison, Rule

__all__ = ["Training", "blocked_comparisons", "model_stats", "train"]


def _fixed(comp: Comparison) -> tuple[list[float], list[float]] | None:
    if comp.fixed_m is None or comp.fixed_u is None:
        return None
    m = [0.0] * comp.n_levels
    u = [0.0] * comp.n_levels
    for label in comp.labels:
        m[comp.gamma(label)] = comp.fixed_m[label]
        u[comp.gamma(label)] = comp.fixed_u[label]
    return m, u


def model_stats(rule: Rule, training: Training) -> dict[str, Any]:
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
class Training:
    model: Any
    prior_among_candidates: float
    sessions: list[dict[str, Any]]


def train(rule: Rule, gammas: pl.DataFrame, random_gammas: pl.DataFrame, plan) -> Training:
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
    return Training(model, prior, sessions)


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

"""Fit a Fellegi–Sunter model for a rule: u from random pairs, m by EM per blocking rule.

Kept apart from the engine's pipeline because it is the statistics of the run (what the
model learns, from which pairs, and what the prior of a random pair is), and the run
report shows it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from fraudmatch.matching.blocking import PARTNER, block_col
from fraudmatch.matching.compare import comparison_columns, gamma_name
from fraudmatch.matching.monotone import is_monotone, monotone_m
from fraudmatch.matching.rule_model import Comparison, Rule
from fraudmatch.matching.rule_principles import comparison_fields, field_of

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
    """The fitted model for the run report: prior, m/u/weight per level, EM sessions, and
    warnings where the model makes a person's own identifiers weak (:func:`model_warnings`)."""
    model = training.model
    out: dict[str, Any] = {
        "prior": model.prior,
        "prior_among_candidate_pairs": training.prior_among_candidates,
        "em_sessions": training.sessions,
        "m_source": training.m_source,
        "comparisons": {},
    }
    for cm in model.comparisons:
        comp = rule.comparison(cm.name)
        out["comparisons"][cm.name] = {
            label: {"m": cm.m[g], "u": cm.u[g], "weight": cm.weights[g]}
            for label, g in ((lb, comp.gamma(lb)) for lb in comp.labels)
        }
    out["warnings"] = model_warnings(rule, out)
    return out


#: Above this share of matches disagreeing entirely on a person's own identifier (its
#: ``else`` level), the latent class EM found is not "the same person" (households,
#: families). Not the exact level: a middle name shown on one record only is "close".
WEAK_PERSON_ELSE = 0.3
#: ... or when matches agree on it this much less often than on what a household shares.
HOUSEHOLD_GAP = 0.25


def model_warnings(rule: Rule, stats: dict[str, Any]) -> list[str]:
    """What an analyst should distrust in a fitted model (``model_stats`` output, or the
    ``model`` of a stored run): a person's own identifier (forename, date of birth) on
    which many matches disagree entirely, or far more than on the surname or address (the
    model learnt households, not people), or whose m no session could learn; and weights
    that fall as the level
    rises (a near miss counting more than exact agreement). Compared by m, not weight: an
    exact postcode is rarer by chance than an exact forename, so it rightly weighs more.
    """
    comps = stats.get("comparisons") or {}
    if not comps:
        return []
    by_name = {c.name: c for c in rule.comparisons}
    agree = {}  # share of matches reaching any level above else
    for name, levels in comps.items():
        comp = by_name.get(name)
        if comp is not None and levels and "else" in levels:
            agree[name] = 1.0 - levels["else"]["m"]
    household = {
        n: a
        for n, a in agree.items()
        if _household(_groups(_comparison_fields(by_name[n]))) and by_name[n].fixed_m is None
    }
    top_household = max(household.items(), key=lambda kv: kv[1], default=None)
    sources = stats.get("m_source") or {}
    out: list[str] = []
    for name, share in agree.items():
        comp = by_name[name]
        if comp.fixed_m is not None or sources.get(name) == NEVER_PRESENT:
            continue
        if not _comparison_fields(comp) & PERSON_FIELDS:
            continue
        if sources.get(name) == NOT_LEARNED:
            out.append(
                f"{name}: no training session could tell a person from a relative by it "
                "(every one blocks on it or on a household): its m is the neutral default"
            )
        elif 1.0 - share > WEAK_PERSON_ELSE:
            out.append(
                f"{name}: {1.0 - share:.0%} of matches disagree on it entirely "
                f"(m of 'else' = {1.0 - share:.2f}): the model may have learnt households or "
                "families, not people"
            )
        elif top_household is not None and share < top_household[1] - HOUSEHOLD_GAP:
            other, hshare = top_household
            out.append(
                f"{name}: matches agree on it less often ({share:.0%}) than on {other} "
                f"({hshare:.0%}): a person's own identifier weighs less than what a household "
                "shares; the model may have learnt households, not people"
            )
    for name, levels in comps.items():
        comp = by_name.get(name)
        if comp is None or comp.fixed_m is not None or sources.get(name) == NEVER_PRESENT:
            continue
        ordered = [levels[lb] for lb in reversed(comp.labels)]  # else first
        if not is_monotone([x["m"] for x in ordered], [x["u"] for x in ordered]):
            out.append(f"{name}: weights do not rise with the level (a weaker level counts more)")
    return out


#: Fields a household shares: a pair agreeing on them is as likely a relative as the person.
SURNAME_FIELDS = frozenset({"surname", "last_name", "lastname", "family_name"})
_ADDRESS_NAMES = frozenset(
    {"address", "postcode", "post_code", "zip", "uprn", "suburb", "town", "city", "locality",
     "state", "county"}
)  # fmt: skip
_ADDRESS_PREFIXES = ("address", "street", "house", "flat", "building", "postcode")
#: A person's own identifiers: what tells a person from a relative at the same address.
PERSON_FIELDS = frozenset(
    {"forenames", "forename", "first_name", "first_names", "given_name", "given_names",
     "date_of_birth", "dob", "birth_date"}
)  # fmt: skip
ADDRESS = "<address>"
NEVER_PRESENT = "default: never present on both sides of a candidate pair"
NOT_LEARNED = "default: no session could learn it"


def field_group(field: str) -> str:
    """A field, or ``<address>`` for every part of an address (postcode, street number ...).

    The parts of an address depend on each other (one postcode, a few street numbers), so
    a blocking rule on any one of them conditions all of them: they are masked together.
    """
    if field in _ADDRESS_NAMES or field.startswith(_ADDRESS_PREFIXES):
        return ADDRESS
    return field


def _groups(fields: set[str]) -> set[str]:
    return {field_group(f) for f in fields}


def _household(groups: set[str]) -> bool:
    return bool(groups) and all(g == ADDRESS or g in SURNAME_FIELDS for g in groups)


def _comparison_fields(comp: Comparison) -> set[str]:
    cols = {field_of(x) for ref in comparison_columns(comp) for x in (ref.left, ref.right)}
    return cols | comparison_fields(comp)


def _blocking_fields(br) -> set[str]:
    return {field_of(x) for ref in br.on for x in (ref.left, ref.right)}


def blocked_comparisons(rule: Rule) -> dict[str, list[int]]:
    """Per comparison, the blocking rules whose sessions must not learn its m.

    1. Rules whose keys derive from the same field (or, for an address part, from any part
       of the address): every pair satisfying such a rule agrees on that field by
       construction, so it says nothing about match or non-match there (Splink fixes the
       blocked columns per session likewise). ``surname__metaphone`` and ``surname__tok``
       are both ``surname``.
    2. Rules on household fields only (surname, address): their pairs are households, where
       agreeing on the surname or the address is what relatives do too. EM on them would
       learn "same household" (m of an exact forename 0.4, of the house number 0.98), so
       there the household comparisons are masked as well and only a person's own
       identifiers (forename, date of birth ...) are left to tell the person from a relative.
    """
    blocks = [_groups(_blocking_fields(br)) for br in rule.blocking.rules]
    out: dict[str, list[int]] = {}
    for comp in rule.comparisons:
        groups = _groups(_comparison_fields(comp))
        out[comp.name] = [
            i
            for i, bg in enumerate(blocks)
            if groups & bg or (_household(bg) and _household(groups))
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
    m_source: dict[str, str] = field(default_factory=dict)  # learned, default or given


def _informative(comp_name: str, fixed: dict) -> bool:
    """A comparison that can tell matches apart: learned, or given with m != u."""
    f = fixed.get(comp_name)
    return f is None or any(abs(a - b) > 1e-9 for a, b in zip(*f, strict=True))


def train(rule: Rule, gammas: pl.DataFrame, random_gammas: pl.DataFrame, plan) -> Training:
    """u from random pairs; m by EM, one session per blocking rule; then the prior.

    Session ``k`` holds every candidate pair that satisfies blocking rule ``k`` (whichever
    rule made it first), with the comparisons that rule conditions masked
    (:func:`blocked_comparisons`: its own fields, and on a household-only rule the
    household's). A session left with fewer than two comparisons that can tell matches
    apart cannot identify m (one level distribution, two unknowns: how many matches and
    how they agree) and teaches nothing, unless its pairs are (almost) all matches
    (e.g. NI blocking: m is then how often they reach each level). Every M-step keeps
    the weights rising with the level (:mod:`fraudmatch.matching.monotone`). m of each
    comparison is the mean over the sessions that learned it, else the neutral default
    (and the stats say so). With m and u fixed, the prior of a random pair in scope comes
    from a fixed-point iteration over the candidate pairs (:func:`_random_prior`); the
    share of matches among candidate pairs follows from it.
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
    # a comparison given with m = u at every level (a veto's or a clause's input) weighs
    # nothing: it cancels out of every posterior, so EM leaves it out (fewer patterns)
    em_levels = {n: k for n, k in n_levels.items() if _informative(n, fixed)}
    gcols = [gamma_name(n) for n in em_levels]
    learned: dict[str, list[tuple[float, ...]]] = {n: [] for n in free}
    sessions: list[dict[str, Any]] = []
    li, ri = gammas.get_column("li"), gammas.get_column("ri")
    masked_by = blocked_comparisons(rule)
    for k, br in enumerate(rule.blocking.rules):
        key = block_col(k)
        agree = plan.left.get_column(key).gather(li) == plan.right.get_column(key).gather(ri)
        masked = [n for n, ks in masked_by.items() if k in ks]
        # a comparison not compared on every candidate pair (the engine's deferred ones,
        # which weigh nothing) is read as null here: it has nothing to teach
        sess = gammas.filter(agree.fill_null(False)).select(
            *[
                pl.lit(-1, pl.Int8).alias(gamma_name(n))
                if n in masked or gamma_name(n) not in gammas.columns
                else gamma_name(n)
                for n in n_levels
            ]
        )
        info: dict[str, Any] = {"blocking_rule": br.name, "pairs": sess.height, "masked": masked}
        sessions.append(info)
        info["learned"] = []
        if sess.height == 0 or len(masked) == len(n_levels) or not em_levels:
            continue
        present = {n for n in n_levels if n not in masked and (sess[gamma_name(n)] >= 0).any()}
        identified = sum(_informative(n, fixed) for n in present) >= 2
        with _quiet(score.log):  # a failed session is expected (all-match NI pairs) and
            m, prior, _, trace = score.estimate_m_em(  # recorded in the stats instead
                sess.select(gcols),
                em_levels,
                {n: u[n] for n in em_levels},
                m_init={n: v for n, v in m_start.items() if n in em_levels},
                fix_m=[n for n in fixed if n in em_levels],
                monotone=True,
                **em_kw,
            )
        info.update(prior=prior, converged=trace.converged, message=trace.message)
        all_match = trace.fallback and "non-match" in trace.message
        if not all_match and not identified:
            info["message"] = (
                "fewer than two comparisons left to tell matches apart: m not identifiable"
            )
            info["prior"] = None
            continue
        if trace.fallback and not all_match:
            continue
        for n in free:
            if n not in present:
                continue
            col = sess.get_column(gamma_name(n))
            # pairs (almost) all matches, e.g. agreeing NI numbers: m is simply how often
            # they reach each level (lightly smoothed), where EM has nothing to separate
            shares = _level_shares(col, n_levels[n]) if all_match else m[n]
            learned[n].append(tuple(float(x) for x in monotone_m(shares, u[n])))
            info["learned"].append(n)
        if all_match:
            info["message"] = "candidate pairs are (almost) all matches: m from level shares"
            info["prior"] = None
    m_final: dict[str, tuple[float, ...]] = dict(m_start)
    m_source: dict[str, str] = {n: "given by the rule" for n in fixed}
    for n in free:
        if learned[n]:
            mean = np.mean(np.array(learned[n]), axis=0)
            m_source[n] = f"learned ({len(learned[n])} sessions)"
        elif not (gammas.get_column(gamma_name(n)) >= 0).any():
            m_source[n] = NEVER_PRESENT  # weight 0 on every pair: m does not matter
            m_final[n] = score.default_m_init(n_levels[n])
            continue
        else:
            mean = np.array(score.default_m_init(n_levels[n]))
            m_source[n] = NOT_LEARNED
        m_final[n] = tuple(float(x) for x in monotone_m(mean, u[n]))
    tf_levels = {c.name: c.n_levels - 1 for c in rule.comparisons if c.tf_column is not None}
    comps = tuple(
        score.ComparisonModel(n, n_levels[n], m_final[n], u[n], tf_levels.get(n)) for n in n_levels
    )
    scope_pairs = max(_scope_pairs(rule, plan.left, plan.right), 1)
    weighing = [c for c in comps if c.name in em_levels]  # gcols' order
    random_prior = _random_prior(gammas.select(gcols), weighing, scope_pairs)
    trace = score.EMTrace(
        iterations=len(sessions),
        log_likelihood=(),
        converged=True,
        message=f"{sum(1 for x in sessions if x['learned'])} of {len(sessions)} sessions learned",
    )
    model = score.FSModel(comps, random_prior, trace)
    prior = random_prior * scope_pairs / max(gammas.height, 1)
    return Training(model, prior, sessions, m_source)


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

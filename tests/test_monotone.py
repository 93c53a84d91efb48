"""The constrained M-step: weights rise with the level, agreement never counts against."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fraudmatch.matching.monotone import is_monotone, isotonic_ratio, monotone_m
from fraudmatch.matching.score import ComparisonModel, FSModel, estimate_m_em, score

positive = st.floats(min_value=1e-4, max_value=1.0, allow_nan=False)


def _dist(xs: list[float]) -> np.ndarray:
    a = np.asarray(xs, dtype=float)
    return a / a.sum()


def _feasible(u: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random m that meets the constraints (ratio non-decreasing, >= 1 on agreement)."""
    r0 = rng.uniform(0, 1)
    target = 1 - u[0] * r0  # what levels 1.. must hold
    steps = np.cumsum(rng.exponential(size=len(u) - 1))
    steps -= steps[0]
    scale = (target - u[1:].sum()) / max(float((u[1:] * steps).sum()), 1e-12)
    r = np.concatenate([[r0], 1 + scale * steps]) if steps.any() else None
    if r is None:  # one agreement level: it takes the rest
        r = np.array([r0, target / u[1]])
    return u * r


@settings(max_examples=200, deadline=None)
@given(
    st.lists(positive, min_size=2, max_size=7).flatmap(
        lambda p: st.tuples(st.just(p), st.lists(positive, min_size=len(p), max_size=len(p)))
    ),
    st.integers(0, 2**32 - 1),
)
def test_monotone_m_is_the_constrained_maximum(pu, seed):
    p, u = _dist(pu[0]), _dist(pu[1])
    m = monotone_m(p, u)
    assert m.sum() == pytest.approx(1.0)
    assert is_monotone(m, u)

    def loglik(x: np.ndarray) -> float:
        return float((p * np.log(np.maximum(x, 1e-300))).sum())

    best = loglik(m)
    rng = np.random.default_rng(seed)
    for _ in range(30):  # the feasible set is convex and the objective concave
        other = _feasible(u, rng)
        assert is_monotone(other, u, rtol=1e-9)
        assert loglik(other) <= best + 1e-9


@given(st.lists(positive, min_size=2, max_size=7).flatmap(
    lambda p: st.tuples(st.just(p), st.lists(positive, min_size=len(p), max_size=len(p)))
))  # fmt: skip
def test_an_m_that_already_meets_the_constraints_is_kept(pu):
    u = _dist(pu[1])
    m = monotone_m(_dist(pu[0]), u)
    assert np.allclose(monotone_m(m, u), m, atol=1e-9)


def test_surname_very_close_no_longer_outweighs_exact():
    # the shape of last session's surname: exact +4.05 < very close +7.92
    u = np.array([0.97, 0.005, 0.0002, 0.0248])  # else, close, very close, exact
    p = np.array([0.02, 0.03, 0.05, 0.90])
    before = np.log2(p / u)
    assert before[2] > before[3]
    w = np.log2(monotone_m(p, u) / u)
    assert list(w) == sorted(w)
    assert w[2] == pytest.approx(w[3])  # pooled: one weight for both levels


def test_agreement_never_counts_against():
    u = np.array([0.5, 0.3, 0.2])
    m = monotone_m([0.6, 0.1, 0.3], u)  # level 1 agrees less among "matches" than by chance
    assert m[1] >= u[1] - 1e-12 and m[2] >= u[2] - 1e-12
    assert is_monotone(m, u)
    assert not is_monotone([0.6, 0.1, 0.3], u)


def test_isotonic_ratio_pools_adjacent_violators():
    out = isotonic_ratio(np.array([1.0, 3.0, 2.0, 4.0]), np.array([1.0, 1.0, 1.0, 1.0]))
    assert out.tolist() == [1.0, 2.5, 2.5, 4.0]


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_monotone_em_climbs_and_stays_monotone(seed):
    rng = np.random.default_rng(seed)
    n, prior = 4000, 0.2
    true_m = {"a": (0.1, 0.1, 0.8), "b": (0.05, 0.15, 0.8), "c": (0.3, 0.7)}
    true_u = {"a": (0.9, 0.08, 0.02), "b": (0.7, 0.2, 0.1), "c": (0.95, 0.05)}
    match = rng.random(n) < prior
    cols = {}
    for name in true_m:
        cm, cu = np.cumsum(true_m[name]), np.cumsum(true_u[name])
        r = rng.random(n)
        lv = np.where(match, np.searchsorted(cm, r), np.searchsorted(cu, r))
        cols[f"gamma_{name}"] = np.minimum(lv, len(cm) - 1).astype(np.int8)
    frame = pl.DataFrame(cols)
    n_levels = {k: len(v) for k, v in true_m.items()}
    m, _, _, trace = estimate_m_em(frame, n_levels, true_u, monotone=True, max_iter=60)
    for name in true_m:
        assert is_monotone(m[name], true_u[name])
    lls = trace.log_likelihood
    assert all(b >= a - 1e-6 * abs(a) for a, b in zip(lls, lls[1:], strict=False))


def test_tf_adjusted_exact_never_weighs_less_than_the_next_level():
    comp = ComparisonModel("surname", 3, (0.02, 0.08, 0.9), (0.97, 0.0001, 0.0299), 2)
    model = FSModel((comp,), 0.01)
    frame = pl.DataFrame(
        {"gamma_surname": [2, 2, 1], "tf_surname": [0.0001, 0.05, None]},
        schema={"gamma_surname": pl.Int8, "tf_surname": pl.Float64},
    )
    w = score(frame, model).get_column("weight_surname").to_list()
    assert w[0] == pytest.approx(math.log2(0.9 / 0.0001))  # a rare name: its own weight
    assert w[1] == pytest.approx(comp.weights[1])  # SMITH: no less than "very close"
    assert w[1] >= w[2]

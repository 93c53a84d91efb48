"""Fellegi–Sunter scoring: EM recovers known parameters, weights are what an analyst expects."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest

from fraudmatch.matching.score import (
    PROB_FLOOR,
    ComparisonModel,
    FSModel,
    ScoreError,
    default_m_init,
    estimate_m_em,
    estimate_u,
    fit,
    score,
    score_lazy,
    tf_adjusted_weight,
    weight_columns,
)

# Known truth for simulation: 4 comparisons of 2–4 levels, the last level is "exact".
TRUE_M = {
    "ni": (0.05, 0.95),
    "surname": (0.04, 0.08, 0.88),
    "dob": (0.03, 0.05, 0.12, 0.80),
    "postcode": (0.15, 0.25, 0.60),
}
TRUE_U = {
    "ni": (0.995, 0.005),
    "surname": (0.80, 0.15, 0.05),
    "dob": (0.70, 0.20, 0.08, 0.02),
    "postcode": (0.60, 0.30, 0.10),
}
N_LEVELS = {name: len(m) for name, m in TRUE_M.items()}
TRUE_PRIOR = 0.05


def simulate(n: int, prior: float, seed: int, null_rate: float = 0.10) -> pl.DataFrame:
    """Pairs drawn from the FS model: class first, then each level independently."""
    rng = np.random.default_rng(seed)
    is_match = rng.random(n) < prior
    cols = {}
    for name in TRUE_M:
        k = N_LEVELS[name]
        levels = np.where(
            is_match,
            rng.choice(k, size=n, p=TRUE_M[name]),
            rng.choice(k, size=n, p=TRUE_U[name]),
        )
        levels[rng.random(n) < null_rate] = -1
        cols[f"gamma_{name}"] = levels.astype(np.int8)
    return pl.DataFrame(cols)


@pytest.fixture(scope="module")
def candidates() -> pl.DataFrame:
    return simulate(200_000, TRUE_PRIOR, seed=1)


@pytest.fixture(scope="module")
def random_pairs() -> pl.DataFrame:
    # Random pairs from two files of ~100k people: a match is vanishingly rare.
    return simulate(200_000, 1e-5, seed=2)


def assert_close(got: dict[str, tuple[float, ...]], want: dict, tol: float) -> None:
    for name, values in want.items():
        diff = np.abs(np.array(got[name]) - np.array(values))
        assert diff.max() <= tol, (name, got[name], values)


# --------------------------------------------------------------------------- EM recovery


@pytest.mark.parametrize("u_source", ["truth", "random_pairs", "em_free_u"])
def test_em_recovers_known_m_and_prior(candidates, random_pairs, u_source):
    if u_source == "random_pairs":
        u = estimate_u(random_pairs, N_LEVELS)
        assert_close(u, TRUE_U, 0.01)
    else:
        u = TRUE_U
    m, prior, u_out, trace = estimate_m_em(candidates, N_LEVELS, u, fix_u=u_source != "em_free_u")
    assert not trace.fallback and trace.converged, trace.message
    assert_close(m, TRUE_M, 0.02)
    assert abs(prior - TRUE_PRIOR) <= 0.01
    if u_source == "em_free_u":
        assert_close(u_out, TRUE_U, 0.02)
    else:
        assert_close(u_out, u, 1e-12)  # u fixed: returned as given
    assert trace.iterations == len(trace.log_likelihood) <= 100
    # EM never decreases the likelihood (up to flooring noise).
    assert all(
        b >= a - 1e-6 * abs(a)
        for a, b in zip(trace.log_likelihood[:-1], trace.log_likelihood[1:], strict=True)
    )


def test_fit_end_to_end_keeps_fixed_comparisons(candidates, random_pairs):
    fixed_ni = ((0.1, 0.9), (0.99, 0.01))
    model = fit(
        candidates,
        random_pairs.drop("gamma_ni"),  # a fixed comparison need not be sampled
        N_LEVELS,
        fixed={"ni": fixed_ni},
        tf_levels={"surname": 2},
    )
    by_name = {c.name: c for c in model.comparisons}
    assert (by_name["ni"].m, by_name["ni"].u) == fixed_ni
    assert by_name["surname"].tf_adjust_level == 2
    assert by_name["dob"].tf_adjust_level is None
    estimated = {n: c.m for n, c in by_name.items() if n != "ni"}
    assert_close(estimated, {n: TRUE_M[n] for n in estimated}, 0.03)
    assert abs(model.prior - TRUE_PRIOR) <= 0.01
    assert model.trace is not None and not model.trace.fallback


def test_em_collapses_patterns_not_pairs():
    """10x the same pairs gives the same answer: EM sees counts, not rows."""
    small = simulate(20_000, 0.1, seed=3)
    big = pl.concat([small] * 10)
    m1, p1, _, _ = estimate_m_em(small, N_LEVELS, TRUE_U)
    m10, p10, _, _ = estimate_m_em(big, N_LEVELS, TRUE_U)
    assert p1 == pytest.approx(p10, rel=1e-9)
    assert_close(m10, m1, 1e-9)


# --------------------------------------------------------------------------- weights


def test_weights_are_log2_m_over_u_with_floor():
    c = ComparisonModel("x", 3, (0.1, 0.2, 0.7), (0.7, 0.2, 0.1))
    assert c.weights == pytest.approx((math.log2(1 / 7), 0.0, math.log2(7)), abs=1e-12)
    zero = ComparisonModel("z", 2, (0.0, 1.0), (1.0, 0.0))
    assert zero.weights == pytest.approx((math.log2(PROB_FLOOR), -math.log2(PROB_FLOOR)))


def hand_model() -> FSModel:
    return FSModel(
        (
            ComparisonModel("a", 2, (0.1, 0.9), (0.8, 0.2)),
            ComparisonModel("b", 3, (0.05, 0.15, 0.8), (0.9, 0.08, 0.02)),
        ),
        prior=0.2,
    )


def test_score_matches_hand_computed_example():
    gammas = pl.DataFrame(
        {"id": [1, 2, 3, 4], "gamma_a": [1, 0, -1, -1], "gamma_b": [2, 1, 0, -1]},
        schema_overrides={"gamma_a": pl.Int8, "gamma_b": pl.Int8},
    )
    out = score(gammas, hand_model())
    prior_w = math.log2(0.2 / 0.8)  # -2
    wa = [math.log2(0.9 / 0.2), math.log2(0.1 / 0.8), 0.0, 0.0]
    wb = [math.log2(0.8 / 0.02), math.log2(0.15 / 0.08), math.log2(0.05 / 0.9), 0.0]
    mw = [prior_w + a + b for a, b in zip(wa, wb, strict=True)]
    assert out["id"].to_list() == [1, 2, 3, 4]  # the input is kept
    assert out["weight_a"].dtype == pl.Float64
    np.testing.assert_allclose(out["weight_a"].to_numpy(), wa, atol=1e-9)
    np.testing.assert_allclose(out["weight_b"].to_numpy(), wb, atol=1e-9)
    np.testing.assert_allclose(out["match_weight"].to_numpy(), mw, atol=1e-9)
    probs = [2**w / (1 + 2**w) for w in mw]
    np.testing.assert_allclose(out["match_probability"].to_numpy(), probs, atol=1e-9)
    # All null: the match weight is the prior weight, the probability the prior.
    assert out["match_probability"][3] == pytest.approx(0.2, abs=1e-12)


def test_match_probability_is_monotone_and_stable(candidates):
    model = FSModel(
        tuple(ComparisonModel(n, N_LEVELS[n], TRUE_M[n], TRUE_U[n]) for n in TRUE_M), 0.05
    )
    out = score(candidates, model).sort("match_weight")
    assert out["match_probability"].is_sorted()
    extreme = FSModel((ComparisonModel("a", 2, (0.0, 1.0), (1.0, 0.0)),), 0.5)
    g = pl.DataFrame({"gamma_a": [0, 1] * 30}, schema={"gamma_a": pl.Int8})
    many = FSModel(
        tuple(ComparisonModel(f"a{i}", 2, (0.0, 1.0), (1.0, 0.0)) for i in range(60)), 0.5
    )
    wide = pl.DataFrame({f"gamma_a{i}": pl.Series([0, 1], dtype=pl.Int8) for i in range(60)})
    for frame, mdl in ((g, extreme), (wide, many)):
        p = score(frame, mdl)["match_probability"]
        assert p.is_finite().all() and p.min() >= 0.0 and p.max() <= 1.0


def test_score_empty_frame_gives_empty_columns():
    empty = pl.DataFrame(schema={"gamma_a": pl.Int8, "gamma_b": pl.Int8})
    out = score(empty, hand_model())
    assert out.height == 0
    assert {"weight_a", "weight_b", "match_weight", "match_probability"} <= set(out.columns)


@pytest.mark.parametrize(
    ("frame", "error"),
    [
        (pl.DataFrame({"gamma_a": [0]}, schema={"gamma_a": pl.Int8}), "missing comparison"),
        (
            pl.DataFrame(
                {"gamma_a": [2], "gamma_b": [0]}, schema={"gamma_a": pl.Int8, "gamma_b": pl.Int8}
            ),
            "gamma_a holds level 2",
        ),
        (
            pl.DataFrame(
                {"gamma_a": [0], "gamma_b": [-2]}, schema={"gamma_a": pl.Int8, "gamma_b": pl.Int8}
            ),
            "gamma_b holds level -2",
        ),
    ],
)
def test_score_rejects_bad_input(frame, error):
    with pytest.raises(ScoreError, match=error):
        score(frame, hand_model())


def test_score_lazy_matches_eager_and_shows_bad_levels_as_nan():
    frame = pl.DataFrame(
        {"gamma_a": [1, 0, 5], "gamma_b": [2, -1, 0]},
        schema={"gamma_a": pl.Int8, "gamma_b": pl.Int8},
    )
    lazy = score_lazy(frame.lazy(), hand_model()).collect()
    assert lazy.head(2).equals(score(frame.head(2), hand_model()))
    assert math.isnan(lazy["weight_a"][2]) and math.isnan(lazy["match_weight"][2])


def test_score_without_weight_columns_gives_the_same_match_weight():
    frame = pl.DataFrame(
        {"gamma_a": [1, 0, -1, 1], "gamma_b": [2, -1, 0, 1]},
        schema={"gamma_a": pl.Int8, "gamma_b": pl.Int8},
    )
    full = score(frame, hand_model())
    lean = score(frame, hand_model(), weights=False)
    assert lean.columns == ["gamma_a", "gamma_b", "match_weight", "match_probability"]
    assert lean.equals(full.select(lean.columns))  # bit for bit, not approximately
    added = lean.with_columns(weight_columns(hand_model(), lean.columns))
    assert added.select(full.columns).equals(full)


# --------------------------------------------------------------------------- TF adjustment


def test_tf_adjusted_weight_hand_values():
    assert tf_adjusted_weight(0.9, 0.0001) == pytest.approx(math.log2(9000), abs=1e-12)
    assert tf_adjusted_weight(0.9, 0.02) == pytest.approx(math.log2(45), abs=1e-12)
    assert tf_adjusted_weight(0.9, 0.0) == pytest.approx(math.log2(0.9 / PROB_FLOOR))


def test_tf_rare_value_outweighs_common_value():
    model = FSModel(
        (ComparisonModel("surname", 3, (0.05, 0.1, 0.85), (0.9, 0.08, 0.02), tf_adjust_level=2),),
        prior=0.01,
    )
    gammas = pl.DataFrame(
        {
            "gamma_surname": pl.Series([2, 2, 2, 1, -1], dtype=pl.Int8),
            "tf_surname": [0.0001, 0.02, None, 0.0001, 0.0001],
        }
    )
    w = score(gammas, model)["weight_surname"].to_list()
    rare, common, no_tf, fuzzy, null = w
    assert rare > common
    assert rare == pytest.approx(tf_adjusted_weight(0.85, 0.0001), abs=1e-9)
    assert common == pytest.approx(math.log2(0.85 / 0.02), abs=1e-9)
    assert no_tf == pytest.approx(model.comparisons[0].weights[2], abs=1e-9)  # tf null: plain
    assert fuzzy == pytest.approx(model.comparisons[0].weights[1], abs=1e-9)  # not tf level
    assert null == 0.0
    # Without a tf column, the model's plain weights are used.
    plain = score(gammas.drop("tf_surname"), model)["weight_surname"].to_list()
    assert plain[0] == plain[1] == pytest.approx(model.comparisons[0].weights[2])


# --------------------------------------------------------------------------- estimate_u


@pytest.mark.parametrize(
    ("levels", "n", "want"),
    [
        ([0, 0, 0, 1], 2, ((3 + 1) / 6, (1 + 1) / 6)),
        ([0, 0, -1, -1, -1], 2, (3 / 4, 1 / 4)),  # nulls ignored, unseen level smoothed
        ([0, 2, 2, None], 3, (2 / 6, 1 / 6, 3 / 6)),  # polars null = null level
        ([-1, -1], 3, (1 / 3, 1 / 3, 1 / 3)),  # never non-null: uniform
    ],
)
def test_estimate_u_laplace_and_nulls(levels, n, want):
    frame = pl.DataFrame({"gamma_x": pl.Series(levels, dtype=pl.Int8)})
    assert estimate_u(frame, {"x": n})["x"] == pytest.approx(want)


# --------------------------------------------------------------------------- degenerate


def test_em_all_pairs_identical_falls_back_and_says_so():
    frame = pl.DataFrame(
        {
            "gamma_a": pl.Series([1] * 1000, dtype=pl.Int8),
            "gamma_b": pl.Series([2] * 1000, dtype=pl.Int8),
        }
    )
    u = {"a": (0.8, 0.2), "b": (0.9, 0.08, 0.02)}
    m_init = {"a": (0.1, 0.9), "b": (0.05, 0.15, 0.8)}
    m, prior, _, trace = estimate_m_em(frame, {"a": 2, "b": 3}, u, m_init=m_init, prior_init=0.3)
    assert trace.fallback and "prior collapsed" in trace.message
    assert_close(m, m_init, 1e-12)
    assert prior == 0.3


@pytest.mark.parametrize("fix_u", [True, False])
def test_em_without_matches_falls_back(fix_u):
    """Candidate pairs holding no true match: EM would fit noise; BIC catches it."""
    no_matches = simulate(50_000, 0.0, seed=4)
    m, prior, _, trace = estimate_m_em(no_matches, N_LEVELS, TRUE_U, fix_u=fix_u)
    assert trace.fallback and "no evidence of matches" in trace.message
    assert_close(m, {n: default_m_init(k) for n, k in N_LEVELS.items()}, 1e-12)
    assert prior == 0.01


@pytest.mark.parametrize("fix_u", [True, False])
def test_em_floors_a_level_never_seen(fix_u):
    """dob never reaches level 1: m (and free u) are floored, so weights stay finite."""
    frame = simulate(50_000, 0.05, seed=6).with_columns(
        pl.col("gamma_dob").replace(1, 0).cast(pl.Int8)
    )
    m, _, u, trace = estimate_m_em(frame, N_LEVELS, TRUE_U, fix_u=fix_u)
    assert not trace.fallback
    assert m["dob"][1] == pytest.approx(PROB_FLOOR, rel=1e-3)
    if not fix_u:
        assert u["dob"][1] == pytest.approx(PROB_FLOOR, rel=1e-3)
    weights = ComparisonModel("dob", 4, m["dob"], u["dob"]).weights
    assert all(math.isfinite(w) for w in weights)


def test_em_comparison_never_non_null_keeps_m_init(candidates):
    frame = candidates.with_columns(pl.lit(-1, dtype=pl.Int8).alias("gamma_extra"))
    n_levels = {**N_LEVELS, "extra": 2}
    u = {**TRUE_U, "extra": (0.5, 0.5)}
    m, _, _, trace = estimate_m_em(frame, n_levels, u)
    assert m["extra"] == pytest.approx(default_m_init(2))
    assert any(note.startswith("extra:") for note in trace.notes)
    assert_close({k: m[k] for k in TRUE_M}, TRUE_M, 0.02)
    model = FSModel(tuple(ComparisonModel(n, k, m[n], u[n]) for n, k in n_levels.items()), 0.05)
    assert score(frame.head(100), model)["weight_extra"].to_list() == [0.0] * 100


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda: estimate_u(pl.DataFrame(schema={"gamma_a": pl.Int8}), {"a": 2}), "empty frame"),
        (
            lambda: estimate_m_em(
                pl.DataFrame(schema={"gamma_a": pl.Int8}), {"a": 2}, {"a": (0.5, 0.5)}
            ),
            "empty frame",
        ),
        (lambda: estimate_u(pl.DataFrame({"gamma_b": [0]}), {"a": 2}), "missing comparison"),
        (lambda: estimate_u(pl.DataFrame({"gamma_a": [5]}), {"a": 2}), "gamma_a holds level 5"),
        (lambda: estimate_m_em(pl.DataFrame({"gamma_a": [0]}), {"a": 2}, {}), "no u given"),
        (lambda: estimate_u(pl.DataFrame({"gamma_a": [0]}), {"a": 1}), "n_levels"),
        (lambda: ComparisonModel("a", 2, (0.5, 0.5, 0.0), (0.5, 0.5)), "m has 3 values"),
        (
            lambda: ComparisonModel("a", 2, (0.5, 0.5), (0.5, 0.5), tf_adjust_level=2),
            "tf_adjust_level",
        ),
        (lambda: FSModel((), prior=1.0), "prior"),
    ],
)
def test_clear_errors(call, error):
    with pytest.raises(ScoreError, match=error):
        call()

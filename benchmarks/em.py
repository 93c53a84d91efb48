"""Fit and score a Fellegi–Sunter model on a large simulated candidate-pair frame.

EM must scale with the number of distinct level patterns, not of pairs: this builds
``--pairs`` comparison vectors (5 comparisons, 2–5 levels, 10% nulls, prior 0.02), then
times each step (collapse to patterns, EM, u from random pairs, scoring) and reports
pairs/s, the pattern count, EM iterations and the worst |m_hat - m|.

    .venv/bin/python benchmarks/em.py                  # 10M pairs
    .venv/bin/python benchmarks/em.py --pairs 1000000  # quick check
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import polars as pl

from fraudmatch.matching.score import _patterns, estimate_m_em, estimate_u, fit, score

TRUE_M = {
    "ni": (0.05, 0.95),
    "surname": (0.04, 0.08, 0.88),
    "forenames": (0.05, 0.10, 0.85),
    "dob": (0.03, 0.05, 0.12, 0.80),
    "postcode": (0.10, 0.10, 0.20, 0.15, 0.45),
}
TRUE_U = {
    "ni": (0.995, 0.005),
    "surname": (0.80, 0.15, 0.05),
    "forenames": (0.70, 0.25, 0.05),
    "dob": (0.70, 0.20, 0.08, 0.02),
    "postcode": (0.50, 0.25, 0.15, 0.07, 0.03),
}
N_LEVELS = {name: len(m) for name, m in TRUE_M.items()}


def simulate(n: int, prior: float, seed: int) -> pl.DataFrame:
    """Draw levels per class by inverse CDF (rng.choice per row is slow at 10M)."""
    rng = np.random.default_rng(seed)
    is_match = rng.random(n) < prior
    cols = {}
    for name in TRUE_M:
        cdf_m, cdf_u = np.cumsum(TRUE_M[name]), np.cumsum(TRUE_U[name])
        r = rng.random(n)
        levels = np.where(is_match, np.searchsorted(cdf_m, r), np.searchsorted(cdf_u, r))
        levels = np.minimum(levels, N_LEVELS[name] - 1)
        levels[rng.random(n) < 0.10] = -1
        cols[f"gamma_{name}"] = levels.astype(np.int8)
    return pl.DataFrame(cols)


def timed(label: str, fn, n: int):  # noqa: ANN001, ANN201 - a tiny timing helper
    start = time.perf_counter()
    out = fn()
    secs = time.perf_counter() - start
    print(f"{label:<32} {secs:8.3f} s  {n / secs / 1e6:8.1f} M pairs/s")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=10_000_000)
    parser.add_argument("--random-pairs", type=int, default=1_000_000)
    args = parser.parse_args()
    n = args.pairs

    gammas = simulate(n, 0.02, seed=1)
    random_gammas = simulate(args.random_pairs, 1e-6, seed=2)
    print(f"{n:,} candidate pairs, {args.random_pairs:,} random pairs, {len(N_LEVELS)} comparisons")
    pl.select(pl.lit(0)).to_series()  # warm the polars thread pool outside the timings

    levels, _ = timed("collapse to patterns", lambda: _patterns(gammas, N_LEVELS, "bench"), n)
    print(f"  distinct patterns: {len(levels)}")
    n_random = args.random_pairs
    u = timed("estimate_u (random pairs)", lambda: estimate_u(random_gammas, N_LEVELS), n_random)
    m, prior, _, trace = timed(
        "estimate_m_em (incl. collapse)", lambda: estimate_m_em(gammas, N_LEVELS, u), n
    )
    err = max(abs(a - b) for k in TRUE_M for a, b in zip(m[k], TRUE_M[k], strict=True))
    print(f"  EM: {trace.iterations} iterations, {trace.message}; prior {prior:.4f}")
    print(f"  max |m_hat - m| = {err:.4f}")
    model = timed("fit (u + EM)", lambda: fit(gammas, random_gammas, N_LEVELS), n)
    scored = timed("score", lambda: score(gammas, model), n)
    mean_p = scored["match_probability"].mean()
    print(f"  scored columns: {scored.width}, mean match_probability {mean_p:.4f}")


if __name__ == "__main__":
    main()

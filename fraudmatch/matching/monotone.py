"""The constrained M-step: m whose weights rise with the level and never count agreement against.

A comparison's levels are ordered (``else`` = 0 ... the best, usually exact, level); its
weight at level k is ``log2(m_k / u_k)``. Left free, EM can give a weaker level more weight
than a stronger one (surname "very close" +7.9, exact +4.1: exact agreement on a common name
is more often chance than a near miss is) or make agreement count against a match (m < u).
Neither is evidence an analyst can defend, and both come from sampling noise or from a
latent class that is not "the same person".

So m is fitted under two constraints, with u fixed (random pairs):

- the likelihood ratio ``r_k = m_k / u_k`` is non-decreasing in k (``else`` lowest);
- on agreement levels (k >= 1) ``r_k >= 1``: agreeing is never evidence against.

The maximum of ``sum_k c_k log m_k`` (c = the M-step's expected counts) under these
constraints and ``sum_k m_k = 1`` is found exactly: with ``m = u * r`` the problem is
``max sum c log r`` s.t. ``sum u r = 1``; without the bound its solution is the weighted
isotonic regression of ``(c_k / C) / u_k`` with weights ``u_k`` (pool adjacent violators:
a pooled block gets ``sum c / (C sum u)``). With the bound, for a Lagrange multiplier
``lam`` the free solution either meets it or the optimum has ``r_1 = 1`` exactly; then level 0
is ``min(c_0 / (C u_0 lam), 1)`` and levels 2.. are their own isotonic fit divided by
``lam`` and clipped at 1 (a constant bound), with ``lam`` the one root of
``sum u_k r_k(lam) = 1``. Used inside EM (every M-step) and on m taken from
level shares, so EM climbs the constrained likelihood rather than being clamped after.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["isotonic_ratio", "monotone_m", "is_monotone"]

_EPS = 1e-300


def isotonic_ratio(y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Non-decreasing weighted least-squares fit of ``y`` (pool adjacent violators)."""
    values: list[float] = []
    weights: list[float] = []
    sizes: list[int] = []
    for yi, wi in zip(y.tolist(), w.tolist(), strict=True):
        values.append(yi)
        weights.append(wi)
        sizes.append(1)
        while len(values) > 1 and values[-2] > values[-1]:
            wsum = weights[-2] + weights[-1]
            pooled = (values[-2] * weights[-2] + values[-1] * weights[-1]) / max(wsum, _EPS)
            size = sizes[-2] + sizes[-1]
            del values[-1], weights[-1], sizes[-1]
            values[-1], weights[-1], sizes[-1] = pooled, wsum, size
    return np.repeat(np.array(values), sizes)


def monotone_m(
    shares: Sequence[float], u: Sequence[float], *, agreement_floor: bool = True
) -> np.ndarray:
    """The m closest (in likelihood) to ``shares`` whose weights rise with the level.

    ``shares``: the unconstrained M-step estimate (expected level counts, normalised);
    ``u``: the fixed non-match probabilities (all > 0). Level 0 is ``else``; with
    ``agreement_floor`` every other level gets ``m >= u``.
    """
    p = np.asarray(shares, dtype=np.float64)
    uu = np.maximum(np.asarray(u, dtype=np.float64), _EPS)
    p = p / p.sum()
    iso = isotonic_ratio(p / uu, uu)
    if not agreement_floor or len(p) < 2 or iso[1] >= 1.0:
        m = uu * iso
        return m / m.sum()
    # The free optimum breaks r_1 >= 1, so the optimum has r_1 = 1 exactly (a concave
    # objective on a convex set). The chain then splits: level 0 below 1, levels 2.. above
    # 1 (a constant bound: clipping their isotonic fit is optimal), coupled only by the
    # normalisation, through the multiplier lam.
    head = p[0] / uu[0]
    tail = isotonic_ratio(p[2:] / uu[2:], uu[2:]) if len(p) > 2 else np.zeros(0)

    def ratios(lam: float) -> np.ndarray:
        return np.concatenate([[min(head / lam, 1.0), 1.0], np.maximum(tail / lam, 1.0)])

    def total(lam: float) -> float:
        return float((uu * ratios(lam)).sum())

    lo, hi = 1.0, 1.0
    while total(lo) < 1.0 and lo > 1e-12:
        lo /= 2.0
    while total(hi) > 1.0:  # total falls to 1 - u_0 < 1 as lam grows: a root exists
        hi *= 2.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if total(mid) > 1.0:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-14 * hi:
            break
    m = uu * ratios(hi)
    return m / m.sum()


def is_monotone(
    m: Sequence[float], u: Sequence[float], *, agreement_floor: bool = True, rtol: float = 1e-6
) -> bool:
    """Whether ``m / u`` rises with the level (and is >= 1 on agreement levels)."""
    r = np.asarray(m, dtype=np.float64) / np.maximum(np.asarray(u, dtype=np.float64), _EPS)
    ok = bool(np.all(r[1:] >= r[:-1] * (1 - rtol)))
    if agreement_floor and len(r) > 1:
        ok = ok and bool(np.all(r[1:] >= 1 - rtol))
    return ok

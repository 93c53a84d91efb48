"""Day numbers, dates, ages and the seeded random streams every stage draws from."""

from __future__ import annotations

import zlib
from datetime import date

import numpy as np
import polars as pl

from fraudmatch.synth.vocabulary import NULL_DAY


def day_number(d: date) -> int:
    return (d - date(1970, 1, 1)).days


def stage_rng(seed: int, *labels: str) -> np.random.Generator:
    """An independent stream per stage, so changing one stage leaves the others' data as is."""
    return np.random.default_rng([seed, *(zlib.crc32(label.encode()) for label in labels)])


def date_series(days: np.ndarray, name: str = "") -> pl.Series:
    """Day numbers (NULL_DAY = missing) as a polars Date series."""
    days = np.asarray(days, dtype=np.int64)
    s = pl.Series(name, days.astype(np.int32)).cast(pl.Date)
    missing = days == NULL_DAY
    if missing.any():
        s = pl.select(pl.when(pl.Series(missing)).then(None).otherwise(s).alias(name)).to_series()
    return s


def _ymd(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    d = np.asarray(days, dtype="datetime64[D]")
    y = d.astype("datetime64[Y]").astype(np.int64) + 1970
    m = d.astype("datetime64[M]").astype(np.int64) % 12 + 1
    dd = (d - d.astype("datetime64[M]")).astype(np.int64) + 1
    return y, m, dd


def age_at(dob: np.ndarray, at: int) -> np.ndarray:
    """Completed years at day `at` (a 29 February birthday falls on 1 March)."""
    y, m, d = _ymd(dob)
    cy, cm, cd = (int(v[0]) for v in _ymd(np.array([at])))
    return cy - y - ((cm * 100 + cd) < (m * 100 + d)).astype(np.int64)


def uniform_days(rng: np.random.Generator, lo: np.ndarray | int, hi: np.ndarray | int, n: int):
    """Integer days uniform in [lo, hi] (inclusive), element-wise."""
    lo = np.broadcast_to(np.asarray(lo, dtype=np.int64), (n,))
    hi = np.maximum(np.broadcast_to(np.asarray(hi, dtype=np.int64), (n,)), lo)
    return lo + np.floor(rng.random(n) * (hi - lo + 1)).astype(np.int64)

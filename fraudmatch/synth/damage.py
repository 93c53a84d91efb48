"""Invalid rows planted on purpose (impossible dates, bad postcodes, duplicate ids)."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from fraudmatch.synth.days import date_series, day_number
from fraudmatch.synth.styles import File
from fraudmatch.synth.vocabulary import DATASETS, PARTNERS

_IMPOSSIBLE_MD = (
    ("02", "30"), ("02", "31"), ("04", "31"), ("06", "31"), ("09", "31"), ("11", "31"),
    ("13", "05"), ("00", "12"), ("05", "00"), ("07", "32"),
)  # fmt: skip


def plant_invalid(f: File, cells: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Break the chosen rows in a required column, each with one stated problem."""
    spec, rng = DATASETS[f.dataset], f.rng
    rows = np.flatnonzero(f.invalid)
    k = len(rows)
    schema = {
        "partner": pl.String,
        "dataset": pl.String,
        "row": pl.Int64,
        "record_id": pl.String,
        "column": pl.String,
        "problem": pl.String,
    }
    if k == 0:
        return cells, pl.DataFrame(schema=schema)
    req_dates = [c for c in spec.date_columns if c in spec.required]
    problems = ["missing_required", "duplicate_record_id"]
    if req_dates:
        problems += ["impossible_date", "invalid_date_format"]
    if "postcode" in spec.required:
        problems.append("invalid_postcode")
    problem = np.array(problems)[rng.integers(0, len(problems), k)]
    others = [c for c in spec.columns if c in spec.required and c != "record_id"]
    column = np.where(
        problem == "missing_required",
        np.array(others)[rng.integers(0, len(others), k)],
        np.where(problem == "invalid_postcode", "postcode", "record_id"),
    )
    is_date = np.isin(problem, ["impossible_date", "invalid_date_format"])
    if req_dates:
        column = np.where(is_date, np.array(req_dates)[rng.integers(0, len(req_dates), k)], column)
    value = _bad_values(f, problem, rng)
    columns = {c: cells[c].clone() for c in cells.columns}
    for c in np.unique(column):
        m = (column == c) & (problem != "duplicate_record_id")
        if m.any():
            columns[str(c)] = columns[str(c)].scatter(rows[m], value.filter(pl.Series(m)))
    dup = problem == "duplicate_record_id"
    pool = np.flatnonzero(f.can_blank & ~f.invalid)
    sources = rng.choice(pool, int(dup.sum()), replace=False) if dup.any() else np.array([], int)
    ids = columns["record_id"]
    if dup.any():
        ids = ids.scatter(rows[dup], ids.gather(sources))
    columns["record_id"] = ids
    out = pl.DataFrame(columns)
    listed_rows = np.concatenate([rows, sources])
    listed_problem = np.concatenate([problem, np.full(len(sources), "duplicate_record_id")])
    listed_col = np.concatenate([column, np.full(len(sources), "record_id")])
    report = pl.DataFrame(
        {
            "partner": PARTNERS[f.partner][0],
            "dataset": f.dataset,
            "row": (listed_rows + 2).astype(np.int64),
            "record_id": ids.gather(listed_rows),
            "column": listed_col,
            "problem": listed_problem,
        },
        schema=schema,
    ).sort("row", "column")
    return out, report


def _bad_values(f: File, problem: np.ndarray, rng: np.random.Generator) -> pl.Series:
    """Impossible dates, dates in formats no one accepts, malformed postcodes; or empty."""
    k = len(problem)
    area = PARTNERS[f.partner][1]
    y = pl.Series(rng.integers(1940, 2026, k)).cast(pl.String)
    md = rng.integers(0, len(_IMPOSSIBLE_MD), k)
    mm = pl.Series([m for m, _ in _IMPOSSIBLE_MD]).gather(md)
    dd = pl.Series([d for _, d in _IMPOSSIBLE_MD]).gather(md)
    iso = rng.random(k) < {"iso": 1.0, "uk": 0.0}.get(f.style.dates, 0.5)
    impossible = pl.select(
        pl.when(pl.Series(iso)).then(y + "-" + mm + "-" + dd).otherwise(dd + "/" + mm + "/" + y)
    ).to_series()
    real = date_series(day_number(date(1950, 1, 1)) + rng.integers(0, 27_000, k))
    fmt = pl.Series(rng.integers(0, 3, k))
    # Month first or run together: no reader of ISO or UK dates (even a lenient one that
    # takes "12 Feb 1984") can read these.
    wrong_format = pl.select(
        pl.when(fmt == 0)
        .then(real.dt.strftime("%B %d %Y"))
        .when(fmt == 1)
        .then(real.dt.strftime("%b %d, %Y"))
        .otherwise(real.dt.strftime("%d%m%Y"))
    ).to_series()
    district = pl.Series(rng.integers(1, 30, k)).cast(pl.String)
    digit = pl.Series(rng.integers(0, 10, k)).cast(pl.String)
    bad = pl.Series(["CI", "KO", "MV", "IC", "OK"]).gather(rng.integers(0, 5, k))
    good = pl.Series(["AB", "DE", "HJ", "LN", "XY"]).gather(rng.integers(0, 5, k))
    shape = pl.Series(rng.integers(0, 4, k))
    postcode = pl.select(
        pl.when(shape == 0)
        .then(area + district)
        .when(shape == 1)
        .then(area + district + " " + digit + bad)
        .when(shape == 2)
        .then("Q" + area[1] + district + " " + digit + good)
        .otherwise(area + district + " " + good + digit)
    ).to_series()
    return pl.select(
        pl.when(pl.Series(problem == "impossible_date"))
        .then(impossible)
        .when(pl.Series(problem == "invalid_date_format"))
        .then(wrong_format)
        .when(pl.Series(problem == "invalid_postcode"))
        .then(postcode)
        .otherwise(pl.lit(""))
    ).to_series()

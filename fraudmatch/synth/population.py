"""People in households, their names and identifiers (NI numbers, bank accounts)."""

from __future__ import annotations

import numpy as np
import polars as pl

from fraudmatch.synth.days import age_at, date_series
from fraudmatch.synth.lexicon import load_lexicon
from fraudmatch.synth.vocabulary import NULL_DAY

_HH_P = np.array([0.30, 0.27, 0.24, 0.11, 0.08])  # single, couple, family, lone parent, sharers


def build_population(
    rng: np.random.Generator, n: int, n_partners: int, cycle: int, min_dead: int
) -> pl.DataFrame:
    """People in households: ages, sexes and names that hang together within a household."""
    est = int(n / 1.9) + 64
    t = rng.choice(len(_HH_P), est, p=_HH_P / _HH_P.sum())
    n_ad = np.where(t == 4, rng.integers(2, 5, est), np.where(np.isin(t, [1, 2]), 2, 1))
    n_kid = np.where(np.isin(t, [2, 3]), rng.integers(1, 4, est), 0)
    size = n_ad + n_kid
    cum = np.cumsum(size)
    h = int(np.searchsorted(cum, n)) + 1
    size = size[:h].copy()
    size[-1] -= int(cum[h - 1] - n)
    t, n_ad = t[:h], np.minimum(n_ad[:h], size)
    hh = np.repeat(np.arange(h), size)
    first = np.cumsum(size) - size
    pos = np.arange(n) - first[hh]
    th = t[hh]

    head_age = np.select(
        [t == 0, t == 1, t == 2, t == 3],
        [
            np.where(rng.random(h) < 0.45, rng.uniform(18, 60, h), rng.uniform(60, 98, h)),
            rng.uniform(20, 93, h),
            rng.uniform(24, 56, h),
            rng.uniform(19, 56, h),
        ],
        default=rng.uniform(18, 40, h),
    )
    is_head = pos == 0
    is_partner = (pos == 1) & np.isin(th, [1, 2])
    is_adult = pos < n_ad[hh]
    ha = head_age[hh]
    age = np.select(
        [is_head, is_partner, is_adult],
        [ha, np.clip(ha + rng.normal(0, 3.5, n), 18, 100), rng.uniform(18, 45, n)],
        default=rng.random(n) * np.clip(ha - 17, 0.5, 24.99),
    )
    dob = cycle - np.floor(age * 365.2425).astype(np.int64)

    head_f = rng.random(h) < 0.5
    female = rng.random(n) < 0.5
    female = np.where(is_head, head_f[hh], female)
    female = np.where(is_partner, np.where(rng.random(n) < 0.95, ~head_f[hh], head_f[hh]), female)

    lex = load_lexicon()
    s1 = rng.choice(len(lex.surname_p), n, p=lex.surname_p)
    s2 = np.where(rng.random(n) < 0.015, rng.choice(len(lex.surname_p), n, p=lex.surname_p), -1)
    shares = (is_partner & (rng.random(n) < 0.7)) | (~is_adult)
    s1 = np.where(shares, s1[first[hh]], s1)
    s2 = np.where(shares, s2[first[hh]], s2)

    mortality = np.clip(2 * np.exp(-10.5 + 0.095 * age), 0, 0.6)
    died = (rng.random(n) < mortality) & (cycle - dob > 1000)
    short = min_dead - int((died & (age >= 40)).sum())
    if short > 0:
        died[rng.choice(np.flatnonzero(~died & (age >= 40)), short, replace=False)] = True
    dod = np.where(died, cycle - rng.integers(1, 731, n), NULL_DAY)

    first_names, middle_names = draw_forenames(rng, female)
    hh_partner = rng.choice(n_partners, h, p=_partner_weights(rng, n_partners))
    surname = pl.Series(lex.surnames.gather(s1))
    second = pl.Series(lex.surnames.gather(np.maximum(s2, 0)))
    return pl.DataFrame(
        {
            "person_id": np.arange(n, dtype=np.int64),
            "household_id": hh.astype(np.int64),
            "partner": hh_partner[hh].astype(np.int32),
            "role": pl.Series(["head", "partner", "adult", "child"]).gather(
                np.select([is_head, is_partner, is_adult], [0, 1, 2], 3)
            ),
            "sex": pl.Series(["M", "F"]).gather(female.astype(np.int64)),
            "dob": date_series(dob),
            "dod": date_series(dod),
        }
    ).with_columns(
        surname=pl.when(pl.Series(s2 >= 0)).then(surname + "-" + second).otherwise(surname),
        first=first_names,
        middle=middle_names,
    )


def _partner_weights(rng: np.random.Generator, n: int) -> np.ndarray:
    w = rng.uniform(0.7, 1.3, n)
    return w / w.sum()


def draw_forenames(rng: np.random.Generator, female: np.ndarray) -> tuple[pl.Series, pl.Series]:
    """First and (40% of people) middle names, drawn by sex and popularity."""
    n = len(female)
    lex = load_lexicon()
    tables = {s: lex.forename_table(s) for s in "MF"}
    names = pl.concat([tables["M"][0], tables["F"][0]])
    offset = np.where(female, len(tables["M"][0]), 0)
    first, mid = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    for s, (_, p) in tables.items():
        m = female if s == "F" else ~female
        first[m] = rng.choice(len(p), int(m.sum()), p=p)
        mid[m] = rng.choice(len(p), int(m.sum()), p=p)
    has_mid = pl.Series(rng.random(n) < 0.4)
    middle = pl.select(pl.when(has_mid).then(names.gather(mid + offset))).to_series()
    return names.gather(first + offset).alias("first"), middle.alias("middle")


def ni_numbers(rng: np.random.Generator, n: int) -> pl.Series:
    """Unique NI numbers valid by the real rules (prefix letters, banned pairs, suffix A-D)."""
    bad1, bad2 = set("DFIQUV"), set("DFIQUVO")
    banned = {"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"}
    letters = [chr(c) for c in range(65, 91)]
    prefixes = [
        a + b
        for a in letters
        for b in letters
        if a not in bad1 and b not in bad2 and a + b not in banned
    ]
    codes = _unique_ints(rng, n, len(prefixes) * 1_000_000)
    pre = pl.Series(prefixes).gather(codes // 1_000_000)
    digits = pl.Series(codes % 1_000_000).cast(pl.String).str.zfill(6)
    suffix = pl.Series(list("ABCD")).gather(rng.integers(0, 4, n))
    return pre + digits + suffix


def _unique_ints(rng: np.random.Generator, n: int, high: int) -> np.ndarray:
    """n distinct integers in [0, high), in random order (no Python loop per value)."""
    out = np.empty(0, dtype=np.int64)
    while len(out) < n:
        draw = rng.integers(0, high, int((n - len(out)) * 1.1) + 16)
        cand = np.concatenate([out, draw])
        _, first = np.unique(cand, return_index=True)
        out = cand[np.sort(first)]
    return out[:n]


def unique_digits(rng: np.random.Generator, n: int, width: int) -> np.ndarray:
    lo = 10 ** (width - 1)
    return (_unique_ints(rng, n, 9 * lo) + lo).astype(np.int64)


def sort_code_pool(rng: np.random.Generator) -> np.ndarray:
    """Branch sort codes; about 8% start with 0 (the ones spreadsheets damage)."""
    codes = rng.integers(100_000, 999_999, 600)
    zero = rng.random(600) < 0.08
    codes = np.where(zero, rng.integers(1_000, 99_999, 600), codes)
    return np.unique(codes)


def with_identifiers(
    base: pl.DataFrame,
    rng: np.random.Generator,
    ni: pl.Series,
    sort_pool: np.ndarray,
    accounts: np.ndarray,
    cycle: int,
) -> pl.DataFrame:
    """NI numbers for people 16 and over, a personal bank account for adults."""
    n = base.height
    age = age_at(base["dob"].cast(pl.Int64).to_numpy(), cycle)
    w = rng.pareto(1.2, len(sort_pool)) + 1
    sort = sort_pool[rng.choice(len(sort_pool), n, p=w / w.sum())]
    return base.with_columns(
        ni=pl.when(pl.Series(age >= 16)).then(ni.slice(0, n)).otherwise(None),
        sort_code=pl.Series(sort).cast(pl.String).str.zfill(6),
        account=pl.Series(accounts).cast(pl.String),
        age=pl.Series(age, dtype=pl.Int32),
    )

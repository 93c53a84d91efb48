"""The state every stage shares (parameters, the world, the records) and record builders."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from fraudmatch.synth.addresses import build_addresses
from fraudmatch.synth.days import date_series, stage_rng
from fraudmatch.synth.population import (
    build_population,
    ni_numbers,
    sort_code_pool,
    unique_digits,
    with_identifiers,
)
from fraudmatch.synth.vocabulary import ID_RULES, NULL_DAY


@dataclass(frozen=True)
class _Plan:
    """How many cases and decoys to plant per rule: at least a few, growing with people."""

    cases: int
    decoys: int

    @classmethod
    def for_size(cls, people: int) -> _Plan:
        return cls(cases=max(3, round(people / 1000)), decoys=max(1, round(people / 4000)))


@dataclass
class Ctx:
    """Everything the stages share: parameters, the world and the records being built."""

    seed: int
    cycle: int
    n_partners: int
    n_people: int
    plan: _Plan
    people: pl.DataFrame
    addresses: pl.DataFrame
    accounts: np.ndarray  # pool of unique 8-digit account numbers not used by people
    sort_pool: np.ndarray  # bank sort codes, 6-digit strings
    ni_pool: pl.Series  # one unique NI number per person, new people included
    records: dict[str, pl.DataFrame] = field(default_factory=dict)
    decoys: list[pl.DataFrame] = field(default_factory=list)  # planted decoy pairs by uid
    next_account: int = 0

    @classmethod
    def build(cls, *, people: int, n_partners: int, seed: int, cycle: int) -> Ctx:
        plan = _Plan.for_size(people)
        n_new = _new_person_count(plan, n_partners)
        # The deceased rules plant on people who died aged 40 or more: make sure there are
        # enough of them (this only bites for tiny populations).
        min_dead = 3 * (plan.cases + 3 * plan.decoys) + 5
        base = build_population(
            stage_rng(seed, "population"), people - n_new, n_partners, cycle, min_dead
        )
        addresses, home = build_addresses(stage_rng(seed, "addresses"), base, n_partners)
        base = base.with_columns(address_id=home)
        rng = stage_rng(seed, "identifiers")
        ni = ni_numbers(rng, people)
        sort_pool = sort_code_pool(rng)
        accounts = unique_digits(rng, people + 8 * people // 10 + 5000, 8)
        base = with_identifiers(base, rng, ni, sort_pool, accounts[: base.height], cycle)
        return cls(
            seed=seed,
            cycle=cycle,
            n_partners=n_partners,
            n_people=people,
            plan=plan,
            people=base,
            addresses=addresses,
            accounts=accounts,
            sort_pool=sort_pool,
            ni_pool=ni,
            next_account=people,
        )

    def rng(self, *labels: str) -> np.random.Generator:
        return stage_rng(self.seed, *labels)

    def take_accounts(self, n: int) -> np.ndarray:
        out = self.accounts[self.next_account : self.next_account + n]
        if len(out) < n:
            raise RuntimeError("account pool exhausted")
        self.next_account += n
        return out

    def add(self, dataset: str, frame: pl.DataFrame) -> pl.DataFrame:
        """Append records to a dataset, giving them fresh uids; returns them with uids."""
        old = self.records.get(dataset)
        start = 0 if old is None else old.height
        frame = frame.with_columns(uid=pl.int_range(start, start + frame.height, dtype=pl.Int64))
        self.records[dataset] = (
            frame if old is None else pl.concat([old, frame], how="diagonal_relaxed")
        )
        return frame


def _new_person_count(plan: _Plan, n_partners: int) -> int:
    """Doubles and twins are new people: count them up front so the total stays `people`."""
    rules = [r for r in ID_RULES if r.scope == "any" or n_partners > 1]
    return len(rules) * 2 * plan.decoys


# Each dataset is one frame: uid (its key until record ids exist), partner, person_id,
# address_id, its own true dates and attributes, and planting flags (protect: no identity
# noise; keep_ni: NI always shown; note: why it was planted).
def record_frame(
    partner: np.ndarray,
    person_id: np.ndarray | None,
    address_id: np.ndarray,
    dates: dict[str, np.ndarray] | None = None,
    **extra: Iterable | pl.Series,
) -> pl.DataFrame:
    n = len(partner)
    cols: dict[str, pl.Series] = {
        "partner": pl.Series("partner", partner, dtype=pl.Int32),
        "person_id": pl.Series(
            "person_id", person_id if person_id is not None else [None] * n, dtype=pl.Int64
        ),
        "address_id": pl.Series("address_id", address_id, dtype=pl.Int64),
    }
    for k, v in (dates or {}).items():
        cols[k] = date_series(v, k)
    for k, v in extra.items():
        cols[k] = v.alias(k) if isinstance(v, pl.Series) else pl.Series(k, v)
    return pl.DataFrame(cols)


def pick_some(rng: np.random.Generator, frame: pl.DataFrame, prob: float) -> pl.DataFrame:
    return frame.filter(pl.Series(rng.random(frame.height) < min(prob, 1.0)))


def as_arrays(frame: pl.DataFrame, *names: str) -> list[np.ndarray]:
    out = []
    for n in names:
        s = frame[n]
        out.append(s.cast(pl.Int64).to_numpy() if s.dtype == pl.Date else s.to_numpy())
    return out


def spell_end(rng: np.random.Generator, start: np.ndarray, frac: float, back: int, cycle: int):
    """An end date for `frac` of spells, within `back` days before the cycle, after the start."""
    n = len(start)
    end = np.maximum(cycle - rng.integers(1, back + 1, n), start + 30)
    ended = (rng.random(n) < frac) & (end <= cycle - 1)
    return np.where(ended, end, NULL_DAY)

"""Each council's streets, house numbers, postcodes and UPRNs, and a home per household."""

from __future__ import annotations

import numpy as np
import polars as pl

from fraudmatch.synth.lexicon import load_lexicon
from fraudmatch.synth.vocabulary import INWARD_LETTERS, PARTNERS, STREET_TYPES


def build_addresses(
    rng: np.random.Generator, people: pl.DataFrame, n_partners: int
) -> tuple[pl.DataFrame, pl.Series]:
    """Streets, numbers, postcodes and UPRNs per council; a home address per household.

    Each council also gets spare (empty) addresses, used for second-address claims and for
    doubles, and business premises for its suppliers.
    """
    hh = people.group_by("household_id", maintain_order=True).agg(pl.col("partner").first())
    frames, home = [], np.zeros(hh.height, dtype=np.int64)
    next_id = 0
    for p in range(n_partners):
        hh_idx = np.flatnonzero(hh["partner"].to_numpy() == p)
        residents = int((people["partner"] == p).sum())
        n_home = len(hh_idx)
        n_spare = max(40, n_home // 20)
        n_bus = supplier_count(residents)
        n_addr = n_home + n_spare + n_bus
        streets = _street_layout(rng, n_addr, p)
        kind = np.repeat([0, 1, 2], [n_home, n_spare, n_bus])[rng.permutation(n_addr)]
        ids = np.arange(next_id, next_id + n_addr, dtype=np.int64)
        home[hh_idx] = ids[kind == 0]
        kinds = pl.Series(["home", "spare", "business"]).gather(kind)
        frames.append(streets.with_columns(address_id=ids, kind=kinds))
        next_id += n_addr
    per_person = home[people["household_id"].to_numpy()]
    return pl.concat(frames), pl.Series("address_id", per_person)


def supplier_count(residents: int) -> int:
    return max(200, residents // 25)


def _street_layout(rng: np.random.Generator, n_addr: int, partner: int) -> pl.DataFrame:
    """Addresses laid along streets: numbers, flats, postcode units of ~14, rising UPRNs."""
    lex = load_lexicon()
    area = PARTNERS[partner][1]
    lengths = rng.integers(6, 61, n_addr // 6 + 8)
    cum = np.cumsum(lengths)
    k = int(np.searchsorted(cum, n_addr)) + 1
    street = np.repeat(np.arange(k), lengths[:k])[:n_addr]
    start = np.concatenate([[0], cum[: k - 1]])
    number = np.arange(n_addr) - start[street] + 1
    n_types = len(STREET_TYPES)
    tp = np.array([t[2] for t in STREET_TYPES])
    combos = rng.permutation(len(lex.streets) * n_types)
    combo = np.resize(combos, k)
    name_idx = combo // n_types
    type_idx = rng.choice(n_types, k, p=tp / tp.sum())
    n_dist = int(np.clip(np.ceil(n_addr / 2500), 1, 99))
    district = street * n_dist // k + 1
    chunk = (number - 1) // 14
    unit_key = street.astype(np.int64) * 1000 + chunk
    change = np.concatenate([[True], unit_key[1:] != unit_key[:-1]])
    unit = np.cumsum(change) - 1
    dist_of_unit = district[street][change]
    first_unit = np.searchsorted(dist_of_unit, dist_of_unit, side="left")
    rank = (np.arange(len(dist_of_unit)) - first_unit)[unit]
    codes = rng.permutation(4000)[rank % 4000]
    sector = codes // 400
    letters = pl.Series([a + b for a in INWARD_LETTERS for b in INWARD_LETTERS]).gather(codes % 400)
    d = district[street]
    postcode = pl.Series([area] * 1).gather(np.zeros(n_addr, dtype=np.int64)) + (
        pl.Series(d).cast(pl.String) + " " + pl.Series(sector).cast(pl.String) + letters
    )
    flat = np.where(rng.random(n_addr) < 0.08, rng.integers(1, 10, n_addr), 0)
    uprn = 100_000_000_000 + partner * 1_000_000_000 + np.cumsum(rng.integers(1, 40, n_addr))
    types = pl.Series([t[0] for t in STREET_TYPES])
    abbr = pl.Series([t[1] for t in STREET_TYPES])
    return pl.DataFrame(
        {
            "partner": np.full(n_addr, partner, dtype=np.int32),
            "street_key": (partner * 10_000_000 + street).astype(np.int64),
            "number": number.astype(np.int32),
            "flat": pl.Series(flat).replace(0, None).cast(pl.Int32),
            "street": lex.streets.gather(name_idx[street]),
            "stype": types.gather(type_idx[street]),
            "stype_abbr": abbr.gather(type_idx[street]),
            "postcode": postcode,
            "uprn": pl.Series(uprn).cast(pl.String),
        }
    )

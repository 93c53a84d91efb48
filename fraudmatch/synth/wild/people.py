"""The second population's people: households at addresses, with the relatives that fool rules.

Why a second population: the shipped rules were tuned on `fraudmatch.synth`, whose people,
names and noise they have learnt. This one is drawn independently: names from Faker's en_GB
lists (not synth's word lists), its own household shapes, and on purpose the relatives a
council's data is full of: a son named after his father at the same address, twins, spouses.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import polars as pl
from faker.providers.person.en_GB import Provider as FakerPerson

#: (council id, postcode area). Area letters follow the postcode rules and differ from synth's.
COUNCILS: tuple[tuple[str, str], ...] = (
    ("harrowdene", "HW"),
    ("caldermouth", "CU"),
    ("fenwick_vale", "FW"),
    ("oakhurst", "OK"),
    ("brackley_down", "BY"),
    ("millbridge", "MG"),
    ("st_awdry", "SY"),
    ("lowther_fells", "LW"),
)

NO_DAY = np.iinfo(np.int64).min  # "no date" in int64 day arrays

STREET_SUFFIXES = (
    ("Road", "Rd"), ("Street", "St"), ("Avenue", "Ave"), ("Lane", "Ln"), ("Close", "Cl"),
    ("Drive", "Dr"), ("Crescent", "Cres"), ("Gardens", "Gdns"), ("Place", "Pl"),
    ("Terrace", "Ter"), ("Grove", "Gro"), ("Court", "Ct"), ("Hill", "Hill"), ("Mews", "Mews"),
)  # fmt: skip


def stream(seed: int, *labels: str) -> np.random.Generator:
    """A random stream per stage and label, so stages do not shift each other's draws."""
    return np.random.default_rng([seed, 7919, *(zlib.crc32(x.encode()) for x in labels)])


def day_of(year: int, month: int, day: int) -> int:
    return int(np.datetime64(f"{year:04d}-{month:02d}-{day:02d}", "D").astype(np.int64))


def years_between(dob: np.ndarray, at: np.ndarray | int) -> np.ndarray:
    """Completed years from `dob` to `at` (element-wise day numbers)."""
    d = np.asarray(dob, dtype="datetime64[D]")
    a = np.broadcast_to(np.asarray(at, dtype="datetime64[D]"), d.shape)
    dy = d.astype("datetime64[Y]").astype(np.int64)
    ay = a.astype("datetime64[Y]").astype(np.int64)
    d_md = (d - d.astype("datetime64[Y]")).astype(np.int64)
    a_md = (a - a.astype("datetime64[Y]")).astype(np.int64)
    return ay - dy - (a_md < d_md)


@dataclass(frozen=True)
class Names:
    """Faker's en_GB forenames (popularity by rank) and surnames (with Faker's weights)."""

    male: np.ndarray
    female: np.ndarray
    surnames: np.ndarray
    surname_p: np.ndarray

    @classmethod
    def load(cls) -> Names:
        sur = list(FakerPerson.last_names.items())
        w = np.array([float(x) for _, x in sur])
        return cls(
            male=np.array(FakerPerson.first_names_male, dtype=object),
            female=np.array(FakerPerson.first_names_female, dtype=object),
            surnames=np.array([s for s, _ in sur], dtype=object),
            surname_p=w / w.sum(),
        )

    def forenames(self, rng: np.random.Generator, female: np.ndarray) -> np.ndarray:
        """Forenames by sex, Zipf-like by rank (a few names very common, as in real lists)."""
        out = np.empty(len(female), dtype=object)
        for names, mask in ((self.female, female), (self.male, ~female)):
            p = 1.0 / (np.arange(len(names)) + 3.0)
            out[mask] = names[rng.choice(len(names), int(mask.sum()), p=p / p.sum())]
        return out

    def surname(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return self.surnames[rng.choice(len(self.surnames), n, p=self.surname_p)]

    def common(self, rng: np.random.Generator, female: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """A forename and a surname among the three most common: the names two unrelated
        people share with a birth date (DAVID SMITH born the same day is someone else; a rare
        name with the same birth date is, in a council's data, nearly always the same person).
        """
        n = len(female)
        pick = rng.integers(0, 3, n)
        first = np.where(female, self.female[pick], self.male[pick])
        top = np.argsort(-self.surname_p, kind="stable")[:3]
        return first.astype(object), self.surnames[top[rng.integers(0, 3, n)]]


def addresses(rng: np.random.Generator, council: int, n: int, names: Names) -> pl.DataFrame:
    """`n` addresses along streets of one council: number, flat, street, postcode, UPRN."""
    area = COUNCILS[council][1]
    per_street = rng.integers(8, 80, n // 8 + 4)
    street = np.repeat(np.arange(len(per_street)), per_street)[:n]
    start = np.concatenate([[0], np.cumsum(per_street)[:-1]])
    number = np.arange(n) - start[street] + 1
    # blocks of flats: a few buildings whose homes share one street number
    flat = np.where(rng.random(n) < 0.12, rng.integers(1, 24, n), 0)
    number = np.where(flat > 0, (number // 6) * 6 + 1, number)
    k = int(street.max()) + 1
    sname = names.surname(rng, k)
    suffix = rng.integers(0, len(STREET_SUFFIXES), k)
    district = 1 + (street * max(1, n // 3000 + 1)) // k
    unit = number // 15
    inward_letters = np.array(list("ABDEFGHJLNPQRSTUWXYZ"))
    code = street * 97 + unit * 13
    inward = (
        (code % 9 + 1).astype(str).astype(object)
        + inward_letters[(code // 9) % 20].astype(object)
        + inward_letters[(code // 180) % 20].astype(object)
    )
    outward = np.char.add(area, district.astype(str)).astype(object)
    frame = pl.DataFrame(
        {
            "council": np.full(n, council, dtype=np.int32),
            "number": number.astype(np.int32),
            "flat": flat.astype(np.int32),
            "street": text(
                sname[street] + " " + np.array([s for s, _ in STREET_SUFFIXES])[suffix][street]
            ),
            "street_abbr": text(
                sname[street] + " " + np.array([a for _, a in STREET_SUFFIXES])[suffix][street]
            ),
            "postcode": text(outward[street] + " " + inward),
            "uprn": (200_000_000_000 + council * 1_000_000_000 + np.arange(n) * 7 + 3).astype(str),
        }
    )
    # two homes may not share number, flat and street; and a number that is a block of flats
    # has no house of its own ("13 Elm Road" next to "Flat 21, 13 Elm Road" is one building)
    frame = frame.filter(
        ~((pl.col("flat") == 0) & (pl.col("flat").max().over("street", "number") > 0))
    )
    return frame.unique(["street", "number", "flat"], keep="first", maintain_order=True)


_HOUSEHOLD_P = {
    "single": 0.30,
    "couple": 0.26,
    "family": 0.24,
    "lone_parent": 0.10,
    "three_gen": 0.10,
}


def population(
    rng: np.random.Generator, n_people: int, n_councils: int, cycle: int, names: Names
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """People in households and their homes; returns (people, addresses).

    Households hang together: a couple shares a surname 75% of the time (the wife's maiden
    name is kept), children take the head's surname, one in ten same-sex children is named
    after the parent, and some families have twins.
    """
    kinds = np.array(list(_HOUSEHOLD_P))
    p = np.array(list(_HOUSEHOLD_P.values()))
    n_hh = int(n_people / 2.2) + 16
    kind = kinds[rng.choice(len(kinds), n_hh, p=p / p.sum())]
    kids = np.where(np.isin(kind, ["family", "lone_parent"]), rng.integers(1, 4, n_hh), 0)
    kids = np.where(kind == "three_gen", rng.integers(0, 3, n_hh), kids)
    partner = np.isin(kind, ["couple", "family", "three_gen"])
    elder = kind == "three_gen"
    size = 1 + partner + kids + elder
    cum = np.cumsum(size)
    n_hh = int(np.searchsorted(cum, n_people)) + 1
    kind, kids, partner, elder, size = (x[:n_hh] for x in (kind, kids, partner, elder, size))
    hh = np.repeat(np.arange(n_hh), size)
    pos = np.arange(len(hh)) - (np.cumsum(size) - size)[hh]
    role = np.select(
        [pos == 0, (pos == 1) & partner[hh], (pos == size[hh] - 1) & elder[hh]],
        ["head", "partner", "elder"],
        "child",
    )
    n = len(hh)

    head_age = np.where(kind == "single", rng.uniform(19, 95, n_hh), rng.uniform(22, 70, n_hh))
    head_age = np.where(kind == "three_gen", rng.uniform(40, 62, n_hh), head_age)
    ha = head_age[hh]
    gap = rng.uniform(21, 38, n)  # a generation
    age = np.select(
        [role == "head", role == "partner", role == "elder"],
        [ha, np.clip(ha + rng.normal(0, 4, n), 18, 99), ha + gap],
        default=np.clip(ha - gap, 0.2, None),
    )
    dob = cycle - np.floor(age * 365.25).astype(np.int64) - rng.integers(0, 365, n) % 7
    female = rng.random(n) < 0.5
    head_female = female[np.cumsum(size)[hh] - size[hh]]
    female = np.where(role == "partner", ~head_female & (rng.random(n) < 0.97), female)

    first = names.forenames(rng, female)
    middle = np.where(rng.random(n) < 0.55, names.forenames(rng, female), None)
    family = names.surname(rng, n_hh)
    double = rng.random(n_hh) < 0.03  # double-barrelled family names
    family = np.where(double, family + "-" + names.surname(rng, n_hh), family)
    own = names.surname(rng, n)
    takes_name = (role == "child") | ((role == "partner") & (rng.random(n) < 0.75))
    surname = np.where((role == "head") | takes_name, family[hh], own)
    surname = np.where(role == "elder", np.where(rng.random(n) < 0.7, family[hh], own), surname)
    maiden = np.where((role == "partner") & takes_name & female, own, None)

    head_idx = (np.cumsum(size) - size)[hh]
    # a son named after his father, a daughter after her mother (and the head after an elder)
    same_sex_child = (role == "child") & (female == female[head_idx]) & (age >= 16)
    named_after = same_sex_child & (rng.random(n) < 0.10)
    first = np.where(named_after, first[head_idx], first)
    middle = np.where(named_after, middle[head_idx], middle)
    # twins: the second child of some families shares the first child's birthday
    first_child = head_idx + 1 + partner[hh]
    twin = (role == "child") & (pos == first_child - head_idx + 1) & (rng.random(n) < 0.05)
    dob = np.where(twin, dob[np.minimum(first_child, n - 1)], dob)
    twin_same_name = twin & (first == first[np.minimum(first_child, n - 1)])
    first = np.where(twin_same_name, names.forenames(rng, female), first)

    mortality = np.clip(np.exp(-10.2 + 0.092 * age), 0, 0.5)
    dead = (rng.random(n) < mortality) & (age > 30)
    dod = np.where(dead, cycle - rng.integers(3, 720, n), NO_DAY)

    council = rng.choice(n_councils, n_hh, p=_weights(rng, n_councils))
    homes = []
    home_of_hh = np.zeros(n_hh, dtype=np.int64)
    offset = 0
    for c in range(n_councils):
        idx = np.flatnonzero(council == c)
        a = addresses(rng, c, int(len(idx) * 1.3) + 400, names)
        a = a.with_columns(address_id=pl.int_range(offset, offset + a.height, dtype=pl.Int64))
        home_of_hh[idx] = offset + rng.permutation(len(idx))
        homes.append(a)
        offset += a.height
    addr = pl.concat(homes)
    occupied = np.zeros(addr.height, bool)
    occupied[home_of_hh] = True
    addr = addr.with_columns(occupied=pl.Series(occupied))  # the rest: homes to move into

    people = pl.DataFrame(
        {
            "person_id": np.arange(n, dtype=np.int64),
            "household_id": hh.astype(np.int64),
            "council": council[hh].astype(np.int32),
            "address_id": home_of_hh[hh],
            "role": text(role),
            "female": female,
            "first": text(first),
            "middle": text(middle),
            "surname": text(surname),
            "maiden": text(maiden),
            "dob": dob,
            "dod": dod,
            "age": years_between(dob, cycle).astype(np.int32),
        }
    )
    return people.head(n_people), addr


def text(values: np.ndarray) -> pl.Series:
    """A numpy object/str array (None = missing) as a polars String series."""
    return pl.Series(values.tolist(), dtype=pl.String)


def _weights(rng: np.random.Generator, n: int) -> np.ndarray:
    w = rng.uniform(0.6, 1.4, n)
    return w / w.sum()


def ni_numbers(rng: np.random.Generator, n: int) -> np.ndarray:
    """`n` distinct NI numbers valid by the UK rules (prefix letters, banned pairs, A-D)."""
    first = [c for c in "ABCEGHJKLMNOPRSTWXYZ"]
    second = [c for c in "ABCEGHJKLMNPRSTWXYZ"]
    banned = {"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"}
    prefixes = np.array([a + b for a in first for b in second if a + b not in banned], dtype=object)
    draws = rng.integers(0, len(prefixes) * 1_000_000, int(n * 1.2) + 32)
    draws = draws[np.sort(np.unique(draws, return_index=True)[1])][:n]
    out = (
        prefixes[draws // 1_000_000]
        + np.char.zfill((draws % 1_000_000).astype(str), 6).astype(object)
        + np.array(list("ABCD"), dtype=object)[rng.integers(0, 4, len(draws))]
    )
    return out

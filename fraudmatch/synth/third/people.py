"""The population: households, their members' names, dates of birth, NI numbers and homes.

Built as whole arrays so that 300,000 people take seconds. Relationships that make hard
negatives come from the households themselves: couples share a surname and a home, sons
are sometimes named exactly after their fathers (daughters after mothers), twins share a
date of birth, surname and home. A few households move home.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fraudmatch.synth.third.names import (
    GROUP_WEIGHTS_ENGLAND,
    GROUP_WEIGHTS_WALES,
    GROUPS,
    MIDDLE_RATE,
    SA_WIFE_SUR,
    TWIN_PAIRS,
    NamePools,
    polish_feminine,
)
from fraudmatch.synth.third.places import Place

YEAR = 365.2425

# Household types: single adult, couple, couple with children, single parent with children,
# elderly parent(s) with an adult child still at home (or back home as a carer).
SINGLE, COUPLE, FAMILY, LONE_PARENT, ELDERLY = range(5)
_HH_P = (0.30, 0.24, 0.26, 0.12, 0.08)

# Valid NI prefixes: first letter not D F I Q U V; second not those nor O; a few pairs barred.
_BAD1 = set("DFIQUV")
_BAD2 = set("DFIQUVO")
_BARRED = {"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"}
NI_PREFIXES = np.array(
    [
        a + b
        for a in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        for b in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        if a not in _BAD1 and b not in _BAD2 and a + b not in _BARRED
    ],
    dtype=object,
)


@dataclass
class People:
    """Parallel arrays, one entry per person (index = person id)."""

    hh: np.ndarray
    hh_type: np.ndarray
    role: np.ndarray  # 0 head, 1 partner, 2 child
    sex: np.ndarray  # 0 male, 1 female
    group: np.ndarray  # index into GROUPS
    dob: np.ndarray  # days since 1970-01-01
    first: np.ndarray
    middle: np.ndarray  # "" or one or two words
    surname: np.ndarray
    maiden: np.ndarray  # "" or the surname before marriage
    married_on: np.ndarray  # day of marriage, -1 if none recorded
    known_by_middle: np.ndarray  # bool: uses the middle name day to day
    ni: np.ndarray  # "AB123456C", "" for children under 16
    dwelling: np.ndarray  # home at the start of the window
    moved_on: np.ndarray  # day the household moved, -1 never
    new_dwelling: np.ndarray  # home after the move, -1 never
    spouse: np.ndarray  # person id or -1
    father: np.ndarray
    mother: np.ndarray
    twin: np.ndarray
    junior: np.ndarray  # bool: named exactly after the same-sex parent
    died_on: np.ndarray  # day of death, -1 alive

    @property
    def n(self) -> int:
        return len(self.sex)

    def home_at(self, pid: int, day: int) -> int:
        """The person's home on a day (before or after their household's move)."""
        if self.moved_on[pid] >= 0 and day >= self.moved_on[pid]:
            return int(self.new_dwelling[pid])
        return int(self.dwelling[pid])

    def age_at(self, pid, day):
        return (day - self.dob[pid]) / YEAR


def _council_of_households(rng, places, h):
    w = rng.uniform(0.75, 1.3, len(places))
    return rng.choice(len(places), size=h, p=w / w.sum())


def _ages(rng, hh_type_p, role, kidx, head_age_h, hh_of_p):
    """Ages at the cycle date, by household type and role; children 18-40 years younger
    than their younger parent."""
    n = len(role)
    age = np.zeros(n)
    t = hh_type_p
    head_age = head_age_h[hh_of_p]
    is_head = role == 0
    age[is_head] = head_age[is_head]
    part = role == 1
    age[part] = np.clip(head_age[part] + rng.normal(-1.5, 3.5, part.sum()), 18.2, 99)
    younger = head_age_h.copy()
    younger[hh_of_p[part]] = np.minimum(younger[hh_of_p[part]], age[part])
    parent = younger[hh_of_p]
    kid = role == 2
    gap = np.where(t == ELDERLY, rng.uniform(22, 40, n), rng.uniform(18, 40, n))
    gap = gap + kidx * rng.uniform(1.5, 4, n)
    age[kid] = parent[kid] - gap[kid]
    too_young_elder = kid & (t == ELDERLY) & (age < 24)
    age[too_young_elder] = 24 + rng.uniform(0, 6, too_young_elder.sum())
    age[kid] = np.clip(age[kid], 0.2, None)
    return age


def build_people(
    rng: np.random.Generator,
    n: int,
    places: tuple[Place, ...],
    pools: NamePools,
    cycle: int,
) -> tuple[People, np.ndarray]:
    """n people in households; returns them and each household's council."""
    h = int(n / 2.2) + 50
    hh_type = rng.choice(5, size=h, p=_HH_P)
    kids = np.zeros(h, dtype=np.int64)
    fam = hh_type == FAMILY
    kids[fam] = rng.choice([1, 2, 3, 4], size=fam.sum(), p=[0.35, 0.4, 0.18, 0.07])
    lone = hh_type == LONE_PARENT
    kids[lone] = rng.choice([1, 2, 3], size=lone.sum(), p=[0.5, 0.35, 0.15])
    eld = hh_type == ELDERLY
    kids[eld] = rng.choice([1, 2], size=eld.sum(), p=[0.8, 0.2])
    adults = np.where((hh_type == SINGLE) | (hh_type == LONE_PARENT), 1, 2)
    adults[eld & (rng.random(h) < 0.3)] = 1
    size = adults + kids
    end = np.cumsum(size)
    h = int(np.searchsorted(end, n) + 1)
    hh_type, kids, adults, size = hh_type[:h], kids[:h], adults[:h], size[:h]
    hh = np.repeat(np.arange(h), size)[:n]
    start = np.concatenate([[0], np.cumsum(size)[:-1]])
    pos = np.arange(n) - start[hh]
    role = np.where(pos == 0, 0, np.where(pos < adults[hh], 1, 2)).astype(np.int8)
    kidx = np.where(role == 2, pos - adults[hh], 0)

    head_age = np.empty(h)
    u = rng.random(h)
    single_age = np.where(
        u < 0.33, rng.uniform(18, 35, h), np.where(u < 0.72, rng.uniform(35, 65, h), 0)
    )
    old = 65 + 30 * rng.beta(1.3, 2.2, h)
    single_age = np.where(single_age == 0, old, single_age)
    head_age[:] = np.select(
        [hh_type == SINGLE, hh_type == COUPLE, hh_type == FAMILY, hh_type == LONE_PARENT],
        [single_age, rng.uniform(22, 92, h), rng.uniform(26, 62, h), rng.uniform(21, 56, h)],
        default=66 + 26 * rng.beta(1.2, 1.8, h),
    )
    t_p = hh_type[hh]
    age = _ages(rng, t_p, role, kidx, head_age, hh)

    # Twins: the second child of some families shares the first's birthday.
    twin = np.full(n, -1, dtype=np.int64)
    second = (role == 2) & (kidx == 1)
    is_twin = second & (rng.random(n) < 0.07)
    tw_b = np.flatnonzero(is_twin)
    tw_a = tw_b - 1
    age[tw_b] = age[tw_a]
    twin[tw_b], twin[tw_a] = tw_a, tw_b

    dob = (cycle - np.floor(age * YEAR)).astype(np.int64)
    dob[tw_b] = dob[tw_a]

    sex = rng.integers(0, 2, n).astype(np.int8)
    head = role == 0
    couple_like = (t_p == COUPLE) | (t_p == FAMILY) | (t_p == ELDERLY)
    sex[head & couple_like] = 0
    lone_head = head & (t_p == LONE_PARENT)
    sex[lone_head] = rng.random(int(lone_head.sum())) < 0.86
    p1 = np.flatnonzero(role == 1)
    sex[p1] = 1 - sex[p1 - 1]
    same_sex = p1[rng.random(len(p1)) < 0.03]
    sex[same_sex] = sex[same_sex - 1]

    council_h = _council_of_households(rng, places, h)
    group_h = np.empty(h, dtype=np.int64)
    for c, place in enumerate(places):
        m = council_h == c
        gw = np.array(GROUP_WEIGHTS_WALES if place.welsh else GROUP_WEIGHTS_ENGLAND)
        group_h[m] = rng.choice(len(GROUPS), size=m.sum(), p=gw / gw.sum())
    group = group_h[hh].copy()
    mixed = (role == 1) & (rng.random(n) < 0.1)
    group[mixed] = 0

    # Forenames by group, sex and birth cohort.
    birth_year = 1970 + dob / YEAR
    cohort = np.where(birth_year < 1952, 0, np.where(birth_year < 1988, 1, 2))
    first = np.empty(n, dtype=object)
    middle = np.full(n, "", dtype=object)
    for g, code in enumerate(GROUPS):
        for s in (0, 1):
            for c in (0, 1, 2):
                m = np.flatnonzero((group == g) & (sex == s) & (cohort == c))
                if len(m):
                    pool = pools.first[code, s, c]
                    first[m] = pool.draw(rng, len(m))
                    has_mid = rng.random(len(m)) < MIDDLE_RATE[code]
                    mids = pool.draw(rng, len(m))
                    mids2 = pool.draw(rng, len(m))
                    two_rate = 0.12 if code in ("GB", "NG") else 0.03
                    two = has_mid & (rng.random(len(m)) < two_rate) & (mids2 != mids)
                    mm = np.where(has_mid, mids, "")
                    mm = np.where(two, mids + " " + mids2, mm)
                    mm = np.array(
                        [_drop_word(w, f) for w, f in zip(mm, first[m], strict=True)],
                        dtype=object,
                    )
                    middle[m] = mm
    known_by_middle = (middle != "") & (rng.random(n) < 0.04)

    # Spouses, parents.
    spouse = np.full(n, -1, dtype=np.int64)
    p1 = np.flatnonzero(role == 1)
    spouse[p1], spouse[p1 - 1] = p1 - 1, p1
    father = np.full(n, -1, dtype=np.int64)
    mother = np.full(n, -1, dtype=np.int64)
    kid = np.flatnonzero(role == 2)
    hd = start[hh[kid]]
    has_partner = adults[hh[kid]] == 2
    for parent_id in (hd, np.where(has_partner, hd + 1, -1)):
        ok = parent_id >= 0
        ps = sex[np.where(ok, parent_id, 0)]
        father[kid[ok & (ps == 0)]] = parent_id[ok & (ps == 0)]
        mother[kid[ok & (ps == 1)]] = parent_id[ok & (ps == 1)]

    # Juniors: the eldest son named after his father, some eldest daughters after mothers.
    junior = np.zeros(n, dtype=bool)
    eldest = (role == 2) & (kidx == 0)
    js = eldest & (sex == 0) & (father >= 0) & (rng.random(n) < 0.14)
    jd = eldest & (sex == 1) & (mother >= 0) & (rng.random(n) < 0.06)
    for m, par in ((js, father), (jd, mother)):
        k = np.flatnonzero(m)
        first[k] = first[par[k]]
        keep_mid = rng.random(len(k)) < 0.6
        middle[k[keep_mid]] = middle[par[k[keep_mid]]]
        junior[k] = True

    # Twins' names: half start with the same letter, a few are a sound-alike pair.
    for b in tw_b:
        a = b - 1
        r = rng.random()
        if r < 0.15 and not junior[a]:
            pa, pb = TWIN_PAIRS[int(rng.integers(len(TWIN_PAIRS)))]
            first[a], first[b] = pa, pb
            sex[a] = sex[b] = 1 if pa in _FEMALE_TWINS else 0
        elif r < 0.6:
            cands = pools.by_initial.get((int(sex[b]), str(first[a])[0]))
            if cands is not None and len(cands) > 1:
                pick = cands[rng.integers(len(cands))]
                if pick != first[a]:
                    first[b] = pick
        if first[a] == first[b]:
            first[b] = pools.first["GB", int(sex[b]), 2].draw(rng, 1)[0]

    # Surnames: one per household; wives usually take it and keep a maiden name.
    hh_sur = np.empty(h, dtype=object)
    for g, code in enumerate(GROUPS):
        m = np.flatnonzero(group_h == g)
        hh_sur[m] = pools.surname[code].draw(rng, len(m))
    surname = hh_sur[hh].copy()
    maiden = np.full(n, "", dtype=object)
    married_on = np.full(n, -1, dtype=np.int64)
    wife = (role == 1) & (sex == 1) & (sex[np.maximum(np.arange(n) - 1, 0)] == 0)
    wi = np.flatnonzero(wife)
    own = np.empty(len(wi), dtype=object)
    for g, code in enumerate(GROUPS):
        m = group[wi] == g
        own[m] = pools.surname[code].draw(rng, int(m.sum()))
    u = rng.random(len(wi))
    kept = u < 0.08
    barrel = (u >= 0.08) & (u < 0.12)
    married = ~kept
    sa = np.array([GROUPS[g] == "SA" for g in group[wi]]) & (rng.random(len(wi)) < 0.45)
    maiden[wi[married]] = own[married]
    surname[wi[kept]] = own[kept]
    surname[wi[barrel]] = own[barrel] + "-" + surname[wi[barrel]]
    surname[wi[sa]] = rng.choice(SA_WIFE_SUR, int(sa.sum()))
    maiden[wi[sa]] = ""
    same = maiden == surname
    maiden[same] = ""
    wed_age = rng.uniform(19, 42, len(wi))
    wed = dob[wi] + (wed_age * YEAR).astype(np.int64)
    wed = np.where(wed >= cycle - 30, cycle - rng.integers(200, 2500, len(wi)), wed)
    has_m = maiden[wi] != ""
    married_on[wi[has_m]] = np.maximum(wed[has_m], dob[wi[has_m]] + int(18 * YEAR))
    # Polish adjectival surnames agree with sex.
    pl = np.flatnonzero((group == GROUPS.index("PL")) & (sex == 1))
    surname[pl] = [polish_feminine(s) for s in surname[pl]]
    maiden[pl] = [polish_feminine(s) if s else s for s in maiden[pl]]
    # Indian Sikh families: women often carry Kaur where the men carry Singh.
    kaur = (surname == "Singh") & (sex == 1) & (rng.random(n) < 0.7)
    surname[kaur] = "Kaur"

    ni = _ni_numbers(rng, n)
    ni[age < 16] = ""

    return People(
        hh=hh,
        hh_type=t_p.astype(np.int8),
        role=role,
        sex=sex,
        group=group,
        dob=dob,
        first=first,
        middle=middle,
        surname=surname,
        maiden=maiden,
        married_on=married_on,
        known_by_middle=known_by_middle,
        ni=ni,
        dwelling=np.full(n, -1, dtype=np.int64),
        moved_on=np.full(n, -1, dtype=np.int64),
        new_dwelling=np.full(n, -1, dtype=np.int64),
        spouse=spouse,
        father=father,
        mother=mother,
        twin=twin,
        junior=junior,
        died_on=np.full(n, -1, dtype=np.int64),
    ), council_h


_FEMALE_TWINS = {"Ella", "Ellie", "Megan", "Morgan", "Mia", "Maya", "Emily", "Emma", "Lily"}
_FEMALE_TWINS |= {"Lucy", "Sophie", "Sarah", "Chloe", "Courtney"}


def _drop_word(middle: str, first: str) -> str:
    """Middle names without the forename itself (nobody is Gordon Richard Gordon)."""
    return " ".join(w for w in middle.split() if w != first)


def _ni_numbers(rng: np.random.Generator, n: int) -> np.ndarray:
    """n distinct valid NI numbers (distinct on prefix and digits, whatever the suffix)."""
    space = len(NI_PREFIXES) * 1_000_000
    draws = rng.choice(space, size=int(n * 1.05) + 100, replace=False)[:n]
    pre = NI_PREFIXES[draws // 1_000_000]
    digits = draws % 1_000_000
    suffix = np.array(list("ABCD"), dtype=object)[rng.integers(0, 4, n)]
    return np.array(
        [f"{p}{d:06d}{s}" for p, d, s in zip(pre, digits, suffix, strict=True)], dtype=object
    )


def place_households(
    rng: np.random.Generator,
    people: People,
    council_h: np.ndarray,
    homes: list[np.ndarray],
    cycle: int,
) -> list[int]:
    """Give each household a home in its council, move a few; returns spare-home cursors."""
    cursors = [0] * len(homes)
    hh_home = np.empty(len(council_h), dtype=np.int64)
    for c in range(len(homes)):
        idx = np.flatnonzero(council_h == c)
        if len(idx) > len(homes[c]):
            raise RuntimeError("not enough homes built")
        hh_home[idx] = homes[c][: len(idx)]
        cursors[c] = len(idx)
    people.dwelling[:] = hh_home[people.hh]

    # Some households move: most within their council, some to another partner's area.
    h = len(council_h)
    movers = np.flatnonzero(rng.random(h) < 0.04)
    moved_on = cycle - rng.integers(120, 1600, len(movers))
    dest = np.where(
        rng.random(len(movers)) < 0.6,
        council_h[movers],
        rng.integers(0, len(homes), len(movers)),
    )
    new_home = np.empty(len(movers), dtype=np.int64)
    for i, c in enumerate(dest):
        new_home[i] = homes[c][cursors[c]]
        cursors[c] += 1
    hh_moved = np.full(h, -1, dtype=np.int64)
    hh_new = np.full(h, -1, dtype=np.int64)
    hh_moved[movers], hh_new[movers] = moved_on, new_home
    people.moved_on[:] = hh_moved[people.hh]
    people.new_dwelling[:] = hh_new[people.hh]
    return cursors

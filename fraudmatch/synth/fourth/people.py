"""Households, homes and the people in them, with every name part a record may show.

Why: the hard cases of matching are households: a father and son of one name (JNR, SNR),
brothers MOHAMMED ALI and MOHAMMED ASIF a year apart, twins, a spouse who outlives the
badge holder, lodgers in a house in multiple occupation, residents of one sheltered block.
People are made in households so those neighbours exist at realistic rates, and each
person keeps the parts a clerk may or may not key: middle names, a second surname, a
generation marker, a preferred name, a former surname after a deed poll.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fraudmatch.synth.fourth.councils import Council
from fraudmatch.synth.fourth.names import (
    BARREL,
    DAY_FEMALE,
    DAY_MALE,
    MUSLIM_SECOND,
    PARTICLE,
    WOMEN_SA,
    C,
    draw_given,
    draw_surname,
)

YEAR = 365.25
NA = -(10**6)  # no date
_STEMS = (
    "ELM|MILL|VICTORIA|CHURCH|STATION|PARK|HIGH|QUEEN|KING|ALBERT|NORTH|SPRINGFIELD|MAIN|"
    "DUMBARTON|CASTLE|BRIDGE|GREEN|MANOR|GROVE|HAWTHORN|BIRCH|MEADOW|WELLINGTON|CLARENCE|"
    "BURNSIDE|GLEBE|HOLLY|RIVERSIDE|STANLEY|UNION|ASH|BEECH|CEDAR|LARCH|ROWAN|WILLOW|OAK|"
    "ALEXANDRA|BALMORAL|BRAEMAR|CLYDE|DEE|FORTH|TAY|LAGAN|FOYLE|SHANKILL|FALLS|DUBLIN|"
    "COMMERCIAL|BURDETT|ROMAN|GROSVENOR|CAVENDISH|ST JOHN'S|ST PAUL'S|CHAPEL|SCHOOL|FARM|"
    "WATER|FOUNTAIN|LIME|POPLAR|ABBEY|PRIORY|MONKS|FRIARS|BANK|MARKET|NEW|OLD|WEST|EAST|"
    "SOUTH|HILL|VALE|MOOR|HEATH|FIELD|BROOK"
).split("|")
_TYPES = "ROAD STREET LANE AVENUE DRIVE CRESCENT TERRACE GARDENS PLACE WAY CLOSE GROVE".split()
STREETS = np.array([f"{s} {t}" for s in _STEMS for t in _TYPES], dtype=object)
NUMBERS = 299
COURTS = np.array(
    "HEATHER COURT|ROWAN HOUSE|ST MARY'S COURT|LINDEN LODGE|ALDER COURT|BEECH HOUSE".split("|"),
    dtype=object,
)
_INWARD = np.array(list("ABDEFGHJLNPQRSTUWXYZ"), dtype=object)
# household kinds
SINGLE, COUPLE, FAMILY, HMO, SHELTERED = range(5)
# unit kinds of a dwelling
HOUSE, FLATNUM, FLATLETTER, GROUND, BASEMENT, APARTMENT, REAR, TENEMENT, ROOMS, COURT = range(10)


@dataclass
class Homes:
    """Dwellings: council, street, number, unit, block name, postcode and the other side's."""

    council: np.ndarray
    street: np.ndarray
    number: np.ndarray
    unit: np.ndarray
    unit_val: np.ndarray
    court: np.ndarray
    postcode: np.ndarray
    other_side: np.ndarray
    town: np.ndarray

    def __len__(self) -> int:
        return len(self.council)

    def extend(self, other: Homes) -> np.ndarray:
        """Append dwellings; returns their indices."""
        start = len(self)
        for f in self.__dataclass_fields__:
            setattr(self, f, np.concatenate([getattr(self, f), getattr(other, f)]))
        return np.arange(start, len(self))


def street_postcode(councils: list[Council], council, street, side) -> np.ndarray:
    """The postcode of one side of a street: a fixed function of council, street and side,
    so every dwelling there, whenever made, has it."""
    h = (np.asarray(council) * 7919 + np.asarray(street) * 104729 + np.asarray(side) * 613) % (
        2**31 - 1
    )
    h = (h * 2654435761) % (2**32)
    outs = np.array([c.outward for c in councils], dtype=object)
    outward = outs[council, h % outs.shape[1]]
    digit = (1 + (h // 7) % 9).astype(str).astype(object)
    return outward + " " + digit + _INWARD[(h // 63) % 20] + _INWARD[(h // 1260) % 20]


def make_homes(
    rng: np.random.Generator,
    councils: list[Council],
    council: np.ndarray,
    kind: np.ndarray,
    distinct: bool = False,
) -> Homes:
    """A dwelling per household of the given council and kind; ``distinct``: no two at one
    street and number (the everyday households; a few made later may share one)."""
    n = len(council)
    slots = len(STREETS) * NUMBERS
    slot = rng.integers(0, slots, n)
    if distinct:
        for c in np.unique(council):
            m = np.flatnonzero(council == c)
            slot[m] = rng.choice(slots, size=len(m), replace=len(m) > slots)
    street, number = slot // NUMBERS, slot % NUMBERS + 1
    odd = number % 2
    postcode = street_postcode(councils, council, street, odd)
    other = street_postcode(councils, council, street, 1 - odd)
    towns = np.array([c.towns for c in councils], dtype=object)
    town = towns[council, rng.integers(0, 3, n)]
    unit = np.full(n, HOUSE)
    u = rng.random(n)
    tenement = np.array([c.tenement for c in councils])[council]
    flat = u < 0.32
    sub = rng.integers(0, 6, n)
    unit[flat] = np.array([FLATNUM, FLATLETTER, GROUND, BASEMENT, APARTMENT, REAR])[sub[flat]]
    unit[flat & tenement & (rng.random(n) < 0.75)] = TENEMENT
    unit[kind == HMO] = ROOMS
    unit[kind == SHELTERED] = COURT
    unit_val = np.full(n, "", dtype=object)
    unit_val[unit == FLATNUM] = rng.integers(1, 13, n)[unit == FLATNUM].astype(str)
    unit_val[unit == APARTMENT] = rng.integers(1, 40, n)[unit == APARTMENT].astype(str)
    unit_val[unit == FLATLETTER] = np.array(list("ABCD"), dtype=object)[rng.integers(0, 4, n)][
        unit == FLATLETTER
    ]
    floor, door = rng.integers(0, 4, n).astype(str), rng.integers(1, 3, n).astype(str)
    unit_val[unit == TENEMENT] = (floor.astype(object) + "/" + door.astype(object))[
        unit == TENEMENT
    ]
    unit_val[unit == COURT] = rng.integers(1, 40, n)[unit == COURT].astype(str)
    court = np.where(unit == COURT, COURTS[rng.integers(0, len(COURTS), n)], "")
    return Homes(
        council, street, number, unit, unit_val, court.astype(object), postcode, other, town
    )


@dataclass
class People:
    """One row per person: where they live, who they are, every name part."""

    home: np.ndarray
    council: np.ndarray
    comm: np.ndarray
    female: np.ndarray
    dob: np.ndarray
    given: np.ndarray
    middle: np.ndarray
    surname: np.ndarray
    surname2: np.ndarray  # a Spanish mother's surname or the other barrel, else ""
    barrel: np.ndarray  # surname2 is the second part of a double-barrelled name
    suffix: np.ndarray  # JNR / SNR / ""
    preferred: np.ndarray  # the name used in place of the legal given name, else ""
    former: np.ndarray  # surname before a deed poll, else ""
    dob_vague: np.ndarray  # birthday unknown: systems write the 1st or 15th
    ni: np.ndarray
    death: np.ndarray
    hh: np.ndarray

    def __len__(self) -> int:
        return len(self.home)

    def extend(self, other: People) -> np.ndarray:
        start = len(self)
        for f in self.__dataclass_fields__:
            setattr(self, f, np.concatenate([getattr(self, f), getattr(other, f)]))
        return np.arange(start, len(self))


def ni_numbers(rng: np.random.Generator, n: int) -> np.ndarray:
    """Valid-format NI numbers (no D F I Q U V first, nor O second, no BG GB NK KN TN NT ZZ)."""
    first = np.array(list("ABCEGHJKLMNOPRSTWXYZ"), dtype=object)
    second = np.array(list("ABCEGHJKLMNPRSTWXYZ"), dtype=object)
    pre = first[rng.integers(0, len(first), n)] + second[rng.integers(0, len(second), n)]
    bad = np.isin(pre, ["BG", "GB", "NK", "KN", "TN", "NT", "ZZ"])
    pre[bad] = "JX"
    digits = np.char.zfill(rng.integers(0, 10**6, n).astype(str), 6).astype(object)
    suffix = np.array(list("ABCD"), dtype=object)[rng.integers(0, 4, n)]
    return pre + digits + suffix


def build_people(
    rng: np.random.Generator, councils: list[Council], n_people: int, cycle: int
) -> tuple[People, Homes]:
    """Households until n_people, spread over the councils; their people and homes."""
    nh = int(n_people / 1.9) + 50
    hc = rng.integers(0, len(councils), nh)
    kind = rng.choice(5, size=nh, p=[0.3, 0.24, 0.38, 0.03, 0.05])
    size = np.select(
        [kind == SINGLE, kind == COUPLE, kind == FAMILY, kind == HMO],
        [np.ones(nh, int), np.full(nh, 2), rng.integers(3, 7, nh), rng.integers(4, 8, nh)],
        np.ones(nh, int),
    )
    ends = np.cumsum(size)
    nh = int(np.searchsorted(ends, n_people)) + 1
    hc, kind, size = hc[:nh], kind[:nh], size[:nh]
    homes = make_homes(rng, councils, hc, kind, distinct=True)
    mixes = [np.array([c.mix.get(i, 0.0) for i in range(len(C))]) for c in councils]
    hcomm = np.empty(nh, dtype=int)
    for k, mix in enumerate(mixes):
        m = hc == k
        hcomm[m] = rng.choice(len(C), size=int(m.sum()), p=mix / mix.sum())

    hh = np.repeat(np.arange(nh), size)[:n_people]
    first = np.concatenate([[0], np.cumsum(size)[:-1]])
    k = np.arange(len(hh)) - first[hh]
    hk = kind[hh]
    n = len(hh)
    council = hc[hh]
    comm = hcomm[hh].copy()
    lodger = hk == HMO
    # lodgers in a house in multiple occupation come from anywhere in the council's mix
    for c, mix in enumerate(mixes):
        m = lodger & (council == c)
        comm[m] = rng.choice(len(C), size=int(m.sum()), p=mix / mix.sum())
    partnered = (hk == COUPLE) | ((hk == FAMILY) & (rng.random(nh) < 0.75)[hh])
    spouse = partnered & (k == 1)
    child = ((hk == FAMILY) & (k >= 1)) & ~spouse
    head = (k == 0) | lodger
    female = rng.random(n) < 0.5
    female[spouse] = ~female[np.flatnonzero(spouse) - 1] ^ (rng.random(int(spouse.sum())) < 0.03)

    head_age = np.select(
        [hk == SHELTERED, hk == FAMILY, hk == HMO],
        [rng.uniform(66, 96, nh)[hh], rng.uniform(27, 56, nh)[hh], rng.uniform(19, 48, n)],
        rng.uniform(19, 92, nh)[hh],
    )
    age = head_age.copy()
    age[spouse] = head_age[spouse] + rng.normal(-1.5, 3.5, int(spouse.sum()))
    ci = np.where(child, k - np.where(partnered, 2, 1), 0)  # child's position among children
    eldest = head_age - rng.uniform(20, 36, nh)[hh]
    age[child] = (eldest - ci * rng.uniform(1.0, 3.2, n))[child]
    age = np.clip(age, 0.3, 99)
    dob = (cycle - age * YEAR).astype(np.int64)
    twin = child & (ci >= 1) & (rng.random(n) < 0.05)
    tw = np.flatnonzero(twin)
    dob[tw] = dob[tw - 1]

    given = draw_given(rng, comm, female)
    middle = np.full(n, "", dtype=object)
    surname = draw_surname(rng, comm)
    surname2 = np.full(n, "", dtype=object)
    barrel = np.zeros(n, bool)
    suffix = np.full(n, "", dtype=object)
    preferred = np.full(n, "", dtype=object)
    former = np.full(n, "", dtype=object)
    hidx = first[hh]  # the household's first member, its head
    idx = np.arange(n)
    sp_idx = np.minimum(hidx + 1, n - 1)
    has_sp = partnered[hidx] & spouse[sp_idx] & (hh[sp_idx] == hh)
    sp_idx = np.where(has_sp, sp_idx, hidx)
    father = np.where(~female[hidx], hidx, np.where(has_sp & ~female[sp_idx], sp_idx, -1))
    mother = np.where(father == hidx, np.where(has_sp, sp_idx, -1), hidx)
    fam = np.where(father >= 0, father, hidx)  # whose surname the children take
    father_given = np.where(father >= 0, given[np.maximum(father, 0)], "")
    heritable = ~lodger & ~spouse & (k > 0)  # children take a parent's names
    # no two children of one family given one name
    again = heritable & np.r_[False, (given[1:] == given[:-1]) & (hh[1:] == hh[:-1])]
    given[again] = draw_given(rng, comm[again], female[again])

    def is_(name: str) -> np.ndarray:
        return comm == C[name]

    brit = is_("english") | is_("scottish") | is_("ulster")
    mid = brit & (rng.random(n) < 0.4)
    middle[mid] = draw_given(rng, comm[mid], female[mid])
    # the family surname; spouses of families that keep their own names keep them
    keeps_own = is_("somali") | is_("arab") | is_("latin") | is_("viet")
    keeps_own |= is_("ghana") & (rng.random(n) < 0.5)
    keeps_own |= brit & (rng.random(n) < 0.25)
    wife = (idx == mother) & (father >= 0) & ~keeps_own & ~lodger
    surname[wife] = surname[father[wife]]
    surname[heritable] = surname[fam[heritable]]
    takes = wife | heritable | ((idx == father) & ~lodger)
    # South Asian Muslim men: MOHAMMED + a second name; women often BEGUM or BIBI
    msa = is_("muslim_sa")
    men = msa & ~female & (rng.random(n) < 0.75)
    middle[men] = np.array(MUSLIM_SECOND, dtype=object)[rng.integers(0, len(MUSLIM_SECOND), n)][men]
    bg = msa & female & (rng.random(n) < 0.4)
    surname[bg] = np.array(WOMEN_SA, dtype=object)[rng.integers(0, 2, n)][bg]
    # Somali: middle is the father's given name, surname the grandfather's
    som = is_("somali")
    som_mid = draw_surname(rng, comm)
    middle[som] = som_mid[som]
    kids = som & heritable & (father_given != "")
    middle[kids] = father_given[kids]
    surname[kids] = middle[father[kids]]
    # Arabic: the father's name as middle name for half
    arab_kids = is_("arab") & heritable & (father_given != "") & (rng.random(n) < 0.5)
    middle[arab_kids] = father_given[arab_kids]
    # Sikh: SINGH or KAUR; a family name for most
    sikh = is_("sikh")
    sk = np.where(female, "KAUR", "SINGH").astype(object)
    no_family = sikh & (rng.random(n) < 0.3)
    middle[sikh & ~no_family] = sk[sikh & ~no_family]
    surname[no_family] = sk[no_family]
    # Spanish and Latin American: father's first surname, then mother's
    lat = is_("latin")
    surname2[lat] = draw_surname(rng, comm)[lat]
    lkids = lat & heritable & (mother >= 0)
    surname2[lkids] = surname[mother[lkids]]
    mid2 = lat & (rng.random(n) < 0.3)
    middle[mid2] = draw_given(rng, comm[mid2], female[mid2])
    # Vietnamese VAN (men) and THI (women)
    vi = is_("viet") & (rng.random(n) < 0.85)
    middle[vi] = np.where(female[vi], "THI", "VAN")
    # Ghanaian day name from the weekday of birth (1970-01-01 was a Thursday)
    gh = is_("ghana") & (rng.random(n) < 0.8)
    wd = (dob + 3) % 7
    day = np.where(
        female, np.array(DAY_FEMALE, dtype=object)[wd], np.array(DAY_MALE, dtype=object)[wd]
    )
    middle[gh] = day[gh]
    pref = gh & (rng.random(n) < 0.2)
    preferred[pref] = day[pref]
    # English families: double-barrelled names and particles, whole household
    fam_r = rng.random(nh)[hh]
    db = is_("english") & (fam_r < 0.05) & (takes | head)
    surname2[db] = np.array(BARREL, dtype=object)[(hh[db] * 7) % len(BARREL)]
    barrel[db] = True
    pt = is_("english") & (fam_r > 0.993) & (takes | head)
    surname[pt] = np.array(PARTICLE, dtype=object)[(hh[pt] * 3) % len(PARTICLE)]
    # a son named after his father: JNR and SNR
    son = (
        child & ~female & (ci == 0) & (brit | is_("ghana")) & ~female[hidx] & (rng.random(n) < 0.15)
    )
    sons = np.flatnonzero(son)
    given[sons] = given[hidx[sons]]
    middle[sons] = middle[hidx[sons]]
    suffix[sons] = "JNR"
    suffix[hidx[sons]] = "SNR"
    # a preferred middle name in daily use ("known as")
    known = brit & (middle != "") & (rng.random(n) < 0.04)
    preferred[known] = middle[known]
    # a deed-poll change of surname
    adult = age >= 18
    dp = adult & (rng.random(n) < 0.004)
    former[dp] = draw_surname(rng, comm[dp])
    vague = (som | is_("arab") | is_("viet")) & adult & (rng.random(n) < 0.05)
    ni = np.where(age >= 16, ni_numbers(rng, n), "").astype(object)
    people = People(
        home=hh.copy(),
        council=council,
        comm=comm,
        female=female,
        dob=dob,
        given=given,
        middle=middle,
        surname=surname,
        surname2=surname2,
        barrel=barrel,
        suffix=suffix,
        preferred=preferred,
        former=former,
        dob_vague=vague,
        ni=ni,
        death=np.full(n, NA, np.int64),
        hh=hh,
    )
    return people, homes

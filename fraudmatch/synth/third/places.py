"""Councils, their towns and streets, the homes on them, and how each council writes them.

Every home (dwelling) is one number + street + postcode: the same street name recurs in
several towns and councils, as it does in England and Wales, but a postcode unit belongs to
one stretch of one street. A few institutions per council (care homes, hospitals) are where
some deaths are registered.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Place:
    """A council's name, towns and outward postcode districts."""

    name: str
    towns: tuple[str, ...]
    districts: tuple[str, ...]
    welsh: bool = False


PLACES = (
    Place("ashworth_vale", ("Ashworth", "Norden Brook", "Heapfold"), ("OL11", "OL12", "BL9")),
    Place("merebrook", ("Merebrook", "Cranleigh Heath", "Byley Cross"), ("CW4", "CW10", "CW12")),
    Place(
        "pentre_afon",
        ("Pentre Afon", "Ystrad Isaf", "Cwm-y-glo"),
        ("SA9", "SA10", "SA11", "SA18"),
        welsh=True,
    ),
    Place("saltmarsh_bay", ("Saltmarsh", "Porlock Sands", "Kilve End"), ("TA5", "TA6")),
    Place("kingsholm_fields", ("Kingsholm", "Hempsted Green", "Longford"), ("GL1", "GL2", "GL4")),
    Place("wyrley_forest", ("Great Wyrley", "Cheslyn Hay", "Norton Canes"), ("WS6", "WS11")),
    Place("llanfair_dyffryn", ("Llanfair", "Rhewl", "Pentre Celyn"), ("LL15", "LL16"), welsh=True),
    Place("east_harling_marsh", ("East Harling", "Quidenham", "Garboldisham"), ("NR16", "IP22")),
)

_BASES = (
    "Church Mill Station High Park Victoria Green Manor Kings Queens School Chapel North South "
    "West East New Albert York Grange Springfield Windsor Highfield Orchard Meadow Willow Beech "
    "Oak Elm Ash Birch Cedar Maple Hawthorn Rowan Holly Ivy Rose Lime Chestnut Sycamore Poplar "
    "Laburnum Brook Bridge Castle Abbey Priory Vicarage Rectory Market Water Well Quarry Forge "
    "Smithy Tannery Ropewalk Saddlers Coopers Tanners Cuckoo Larkspur Kestrel Heron Swallow "
    "Falcon Wren Blackthorn Foxglove Bluebell Primrose Heather Bracken Fern Moorland Hillside "
    "Valley Riverside Canal Wharf Ferry Furlong Glebe Common Heath Moor Marsh Sandy Stony Long "
    "Broad Greenhill Redhill Shelley Tennyson Wordsworth Milton Byron Keats Nelson Wellington "
    "Raleigh Drake Gladstone Churchill Coronation Jubilee Regent Princess Stanley Cavendish "
    "Grosvenor Russell Percy Howard Neville Talbot Bishops Cherry Gorse Sorrel Tithe Pinfold "
    "Hollybush Copperfield Fennel Marigold Osier Pennywell Ravensdale Scarth Thistle Wheatsheaf"
).split() + ["St John's", "St Mary's", "St Andrew's", "Lady's", "Bishop's"]
_TYPES = (
    ("Road", 0.28),
    ("Street", 0.18),
    ("Lane", 0.12),
    ("Avenue", 0.08),
    ("Close", 0.1),
    ("Drive", 0.06),
    ("Crescent", 0.03),
    ("Gardens", 0.03),
    ("Way", 0.03),
    ("Place", 0.02),
    ("Grove", 0.02),
    ("Terrace", 0.02),
    ("Court", 0.02),
    ("Walk", 0.005),
    ("Mews", 0.005),
)
_THE = ("The Green", "The Crescent", "The Avenue", "The Paddocks", "The Stables", "The Glebe")
_WELSH_STREETS = (
    "Heol y Bryn",
    "Heol Newydd",
    "Ffordd yr Eglwys",
    "Stryd Fawr",
    "Lôn Isaf",
    "Maes yr Haf",
    "Heol Tir Coch",
    "Ffordd Las",
    "Heol Cae Gurwen",
    "Lôn y Felin",
    "Maes Glas",
    "Stryd y Capel",
    "Heol Ddu",
    "Ffordd Penrhyn",
    "Heol Pant",
    "Heol y Parc",
    "Bryn Teg",
    "Cae Mawr",
)
ABBREV = {
    "Road": ("Rd",),
    "Street": ("St",),
    "Avenue": ("Ave", "Av"),
    "Close": ("Cl",),
    "Lane": ("Ln",),
    "Drive": ("Dr",),
    "Crescent": ("Cres",),
    "Gardens": ("Gdns",),
    "Place": ("Pl",),
    "Grove": ("Gr",),
    "Terrace": ("Terr", "Ter"),
    "Court": ("Ct",),
}
_HOUSE_NAMES = (
    "Rose Cottage",
    "The Old Rectory",
    "Ivy House",
    "Hillside",
    "Orchard View",
    "Fairways",
    "The Laurels",
    "Meadow Bank",
    "Bryn Awel",
    "Ty Gwyn",
    "Glan yr Afon",
    "The Old Forge",
    "Holly Lodge",
    "Wits End",
    "Windrush",
    "The Croft",
    "Brook Farm",
    "Stable Cottage",
    "Lavender Cottage",
    "Y Bwthyn",
)
_INSTITUTIONS = (
    "Beechwood Care Home",
    "St Anne's Nursing Home",
    "{town} Community Hospital",
    "Royal {town} Infirmary",
    "Ty Hafan Residential Home",
    "Meadowcroft Care Centre",
)
# Postcode inward letters never use C I K M O V.
_UNIT_LETTERS = np.array(list("ABDEFGHJLNPQRSTUWXYZ"))


@dataclass
class Dwellings:
    """All homes and institutions, as parallel arrays (index = dwelling id)."""

    council: np.ndarray  # int
    town: np.ndarray  # object: town name
    number: np.ndarray  # int, 0 = none
    flat: np.ndarray  # int, 0 = none
    house_name: np.ndarray  # object, "" = none
    street: np.ndarray  # object: full street name as the Royal Mail writes it
    postcode: np.ndarray  # object: "SA10 4BN"
    uprn: np.ndarray  # int64
    institution: np.ndarray  # bool
    homes: list[np.ndarray]  # per council: ids of ordinary dwellings, in random order
    institutions: list[np.ndarray]  # per council: ids of institutions


def _street_names(rng: np.random.Generator, k: int, welsh: bool) -> list[str]:
    names = []
    tnames = [t for t, _ in _TYPES]
    tp = np.array([w for _, w in _TYPES])
    tp = tp / tp.sum()
    for _ in range(k):
        u = rng.random()
        if welsh and u < 0.35:
            names.append(str(rng.choice(_WELSH_STREETS)))
        elif u < 0.04:
            names.append(str(rng.choice(_THE)))
        else:
            names.append(f"{rng.choice(_BASES)} {tnames[rng.choice(len(tnames), p=tp)]}")
    return names


def build_dwellings(
    rng: np.random.Generator, places: tuple[Place, ...], needed: np.ndarray
) -> Dwellings:
    """At least needed[c] ordinary homes per council, on streets of 6-120 numbers."""
    cols: dict[str, list] = {k: [] for k in ("c", "town", "num", "flat", "hn", "st", "pc", "inst")}
    homes: list[list[int]] = [[] for _ in places]
    insts: list[list[int]] = [[] for _ in places]
    used_units: set[str] = set()

    def unit(district: str) -> str:
        while True:
            pc = f"{district} {rng.integers(1, 10)}{''.join(rng.choice(_UNIT_LETTERS, 2))}"
            if pc not in used_units:
                used_units.add(pc)
                return pc

    n = 0
    for c, place in enumerate(places):
        town_district = {
            t: place.districts[i % len(place.districts)] for i, t in enumerate(place.towns)
        }
        made = 0
        while made < needed[c]:
            town = place.towns[int(rng.choice(len(place.towns), p=(0.55, 0.3, 0.15)))]
            rural = town == place.towns[2]
            street = _street_names(rng, 1, place.welsh)[0]
            length = int(rng.integers(6, 121)) if not rural else int(rng.integers(4, 30))
            district = town_district[town]
            if rng.random() < 0.3:  # towns spill into a neighbouring district
                district = place.districts[int(rng.integers(len(place.districts)))]
            block = rng.random() < 0.12
            pc = unit(district)
            in_unit = 0
            for num in range(1, length + 1):
                flats = int(rng.integers(4, 13)) if block and rng.random() < 0.3 else 0
                hn = ""
                number = num
                if rural and rng.random() < 0.3:
                    hn = str(rng.choice(_HOUSE_NAMES))
                    number = 0 if rng.random() < 0.7 else num
                for f in range(1, flats + 1) if flats else [0]:
                    cols["c"].append(c)
                    cols["town"].append(town)
                    cols["num"].append(number)
                    cols["flat"].append(f)
                    cols["hn"].append(hn)
                    cols["st"].append(street)
                    cols["pc"].append(pc)
                    cols["inst"].append(False)
                    homes[c].append(n)
                    n += 1
                    made += 1
                    in_unit += 1
                if in_unit >= 25:
                    pc = unit(district)
                    in_unit = 0
        for k, label in enumerate(_INSTITUTIONS[:3] if c % 2 else _INSTITUTIONS[3:]):
            town = place.towns[k % 2]
            cols["c"].append(c)
            cols["town"].append(town)
            cols["num"].append(int(rng.integers(1, 80)) if k == 0 else 0)
            cols["flat"].append(0)
            cols["hn"].append(label.format(town=town))
            cols["st"].append(_street_names(rng, 1, place.welsh)[0])
            cols["pc"].append(unit(town_district[town]))
            cols["inst"].append(True)
            insts[c].append(n)
            n += 1
    uprn = 100_000_000_000 + rng.permutation(n).astype(np.int64) * 7 + rng.integers(0, 7, n)
    return Dwellings(
        council=np.array(cols["c"], dtype=np.int32),
        town=np.array(cols["town"], dtype=object),
        number=np.array(cols["num"], dtype=np.int32),
        flat=np.array(cols["flat"], dtype=np.int32),
        house_name=np.array(cols["hn"], dtype=object),
        street=np.array(cols["st"], dtype=object),
        postcode=np.array(cols["pc"], dtype=object),
        uprn=uprn,
        institution=np.array(cols["inst"], dtype=bool),
        homes=[rng.permutation(np.array(h, dtype=np.int64)) for h in homes],
        institutions=[np.array(i, dtype=np.int64) for i in insts],
    )

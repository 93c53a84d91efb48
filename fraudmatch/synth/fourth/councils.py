"""The fourth population's councils: where they are, whom they serve, how their systems export.

Why: each council's case-management system has its own habits, and a rule must hold for
all of them. These six are a Scottish city council, a Northern Irish district council, two
English metropolitan boroughs, an east London borough and a Scottish county, each with its
own file format, date writing, headers, record ids and gaps (documented per field below).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fraudmatch.synth.fourth.names import C


@dataclass(frozen=True)
class Council:
    name: str  # the partner's name in the partnership: lower case, as party names are
    towns: tuple[str, ...]
    outward: tuple[str, ...]  # postcode districts
    mix: dict[int, float]  # community -> share of households
    fmt: str  # csv-utf8 | csv-utf8-bom | csv-cp1252 | xlsx
    crlf: bool
    dates: str  # iso | uk | mixed (xlsx date cells with a few typed day-first)
    pad: bool  # day-first dates zero-padded (01/02/1958) or not (1/2/1958)
    headers: str  # snake | title | upper | sentence | lower
    id_style: str
    forenames: (
        str  # all (every forename) | first (the first only) | usual (given + middle half the time)
    )
    title_case: bool = False  # names written MacDonald, not MACDONALD
    apostrophe: str = "keep"  # O'NEILL: keep | space (O NEILL) | drop (ONEILL)
    mac_as_mc: float = 0.0  # MACDONALD keyed MCDONALD
    singh_surname: float = 0.0  # a Sikh's SINGH/KAUR keyed as surname, family name dropped
    drop_second_surname: float = 0.0  # a Spanish second surname (or a barrel) left out
    hyphen_double: bool = False  # GARCIA-LOPEZ
    diacritics: str = "keep"  # keep | fold | lose (cp1252: a character with no code is lost)
    ni_style: str = "plain"  # plain | spaced-lower | no-suffix
    ni_missing: dict[str, float] = field(default_factory=dict)
    temp_ni: float = 0.0  # a TN temporary reference in place of an NI number (blanked)
    payroll_address: bool = True
    deceased_ni: bool = True
    pc_nospace: float = 0.0
    pc_lower: float = 0.0
    town_share: float = 0.5  # rows whose address ends in the town
    placeholder_dob: float = 0.0  # 1900-01-01 for a birth date the system did not hold
    tenement: bool = False  # Scottish tenement flats 0/1, 2/1 and 2F1
    two_digit_year: float = 0.0  # damage: a date keyed 01/02/58, rejected
    serial_date: float = 0.0  # damage: an Excel serial number in a date cell, rejected
    extra: str = ""  # an undocumented extra column


COUNCILS = (
    Council(
        "glenmorven",
        ("GLENMORVEN", "KIRKBRAE", "INCHLAW"),
        ("G31", "G32", "G33", "G40", "G51"),
        {
            C["scottish"]: 0.62,
            C["english"]: 0.12,
            C["muslim_sa"]: 0.08,
            C["east_eu"]: 0.08,
            C["arab"]: 0.05,
            C["somali"]: 0.05,
        },
        fmt="csv-utf8-bom",
        crlf=True,
        dates="iso",
        pad=True,
        headers="title",
        id_style="GM",
        forenames="all",
        title_case=True,
        mac_as_mc=0.12,
        ni_missing={"housing_tenants": 0.3, "housing_waiting_list": 0.5, "deceased": 0.4},
        town_share=0.8,
        tenement=True,
        extra="Ward",
    ),
    Council(
        "loughcarrig",
        ("LOUGHCARRIG", "BALLYNURE", "DROMARA"),
        ("BT28", "BT29", "BT41", "BT43", "BT48"),
        {
            C["ulster"]: 0.72,
            C["english"]: 0.1,
            C["east_eu"]: 0.1,
            C["latin"]: 0.04,
            C["viet"]: 0.04,
        },
        fmt="csv-cp1252",
        crlf=True,
        dates="uk",
        pad=False,
        headers="upper",
        id_style="LC",
        forenames="first",
        apostrophe="space",
        diacritics="lose",
        ni_style="no-suffix",
        ni_missing={"housing_tenants": 0.4, "housing_waiting_list": 0.6, "deceased": 0.3},
        payroll_address=False,
        town_share=0.3,
        two_digit_year=0.002,
    ),
    Council(
        "ashbridge",
        ("ASHBRIDGE", "SPARKHILL", "HANDSWORTH"),
        ("B10", "B11", "B12", "B19", "B21"),
        {
            C["muslim_sa"]: 0.3,
            C["english"]: 0.25,
            C["sikh"]: 0.18,
            C["somali"]: 0.08,
            C["arab"]: 0.06,
            C["ghana"]: 0.06,
            C["viet"]: 0.04,
            C["east_eu"]: 0.03,
        },
        fmt="xlsx",
        crlf=False,
        dates="mixed",
        pad=True,
        headers="snake",
        id_style="AB",
        forenames="usual",
        singh_surname=0.45,
        diacritics="fold",
        ni_missing={"housing_tenants": 0.25, "housing_waiting_list": 0.4, "deceased": 0.35},
        pc_nospace=0.15,
        serial_date=0.002,
    ),
    Council(
        "wexcombe",
        ("WEXCOMBE", "HOLBECK", "ARMLEY"),
        ("LS6", "LS8", "LS11", "LS12", "BD3"),
        {
            C["english"]: 0.45,
            C["east_eu"]: 0.15,
            C["latin"]: 0.1,
            C["ghana"]: 0.1,
            C["muslim_sa"]: 0.12,
            C["sikh"]: 0.08,
        },
        fmt="csv-utf8",
        crlf=False,
        dates="uk",
        pad=True,
        headers="sentence",
        id_style="WX",
        forenames="usual",
        drop_second_surname=0.5,
        hyphen_double=True,
        ni_missing={"housing_tenants": 0.35, "housing_waiting_list": 0.5},
        deceased_ni=False,  # the register office's extract carries no NI numbers
        pc_lower=0.1,
        town_share=0.2,
        placeholder_dob=0.004,
    ),
    Council(
        "eastmere",
        ("EASTMERE", "POPLAR", "BOW"),
        ("E1", "E3", "E14", "E16", "E17"),
        {
            C["english"]: 0.25,
            C["somali"]: 0.15,
            C["viet"]: 0.12,
            C["ghana"]: 0.15,
            C["latin"]: 0.12,
            C["arab"]: 0.08,
            C["muslim_sa"]: 0.13,
        },
        fmt="csv-utf8",
        crlf=True,
        dates="iso",
        pad=True,
        headers="lower",
        id_style="EM",
        forenames="all",
        ni_style="spaced-lower",
        ni_missing={"housing_tenants": 0.3, "housing_waiting_list": 0.45, "deceased": 0.5},
        temp_ni=0.04,
        pc_nospace=0.1,
        town_share=0.0,
    ),
    Council(
        "strathbeg",
        ("STRATHBEG", "INVERLOCH", "DALMORE"),
        ("PH1", "PH2", "KY12", "FK8", "IV3"),
        {C["scottish"]: 0.8, C["english"]: 0.12, C["east_eu"]: 0.05, C["ulster"]: 0.03},
        fmt="csv-utf8-bom",
        crlf=False,
        dates="uk",
        pad=True,
        headers="upper",
        id_style="SB",
        forenames="first",
        mac_as_mc=0.25,
        apostrophe="drop",
        ni_missing={"housing_tenants": 0.3, "housing_waiting_list": 0.5, "deceased": 0.3},
        town_share=0.9,
        two_digit_year=0.002,
    ),
)

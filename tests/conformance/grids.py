"""Conformance grids: what each shipped person rule must catch and must never flag.

Why: accuracy on one synthetic population says little about extracts written elsewhere.
A grid states, cell by cell, the principle a rule keeps (``docs/rules.md``, "Judging the
evidence"): each identifying field in turn written differently or missing, under the
rule's fraud signature (two homes at two councils, a death at the same home), and the
hard negatives it must leave alone (parent and child, twins, spouses, namesakes, people
who moved on). Cells are raw records, written as partners' CSV files into a small
background population, and go through the real ingest, pseudonymise and engine path.

This module is data only; ``test_grids.py`` runs it and ``render.py`` writes the tables
of ``docs/rules.md`` from it, so the documentation cannot drift from the tests.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date

from fraudmatch.spec.specs import Spec, load_spec

CYCLE = date(2026, 11, 1)
PARTNERS = ("northmoor", "eastvale", "southby")

#: Person rules and what their fraud looks like. ``homes``: "two" when the fraud IS a
#: second home at another council (the right record lives elsewhere), "one" when the two
#: records show the same home. ``ni``: both datasets carry the NI number.
#: ``period``: (left, right) clear columns of a positive case, and of a "moved on"
#: case whose dates do not meet the rule's conditions.


@dataclass(frozen=True)
class RuleGrid:
    rule: str
    left: str
    right: str
    homes: str
    ni: bool
    positive: tuple[dict[str, str], dict[str, str]]
    moved: tuple[dict[str, str], dict[str, str]]
    moved_label: str = "periods do not overlap (moved on)"
    #: namesakes whose forename is written short (an initial, a middle name used as the
    #: first) and, for a one-home rule, homes shown by the address alone
    short_namesakes: bool = False


_CLAIM = {"claim_start_date": "2024-01-01"}
_CLAIM_OLD = {"claim_start_date": "2018-01-01", "claim_end_date": "2019-12-31"}
_JOB = {"start_date": "2020-01-01"}
_JOB_OLD = {"start_date": "2015-01-01", "end_date": "2019-12-31"}
_JOB_NEW = {"start_date": "2021-01-01"}
_TENANCY = {"tenancy_start_date": "2020-01-01"}
_TENANCY_OLD = {"tenancy_start_date": "2015-01-01", "tenancy_end_date": "2019-12-31"}
_TENANCY_NEW = {"tenancy_start_date": "2021-01-01"}
_DEATH = {"date_of_death": "2026-03-01"}
_BADGE = {"issue_date": "2024-01-01", "expiry_date": "2027-12-31"}
_BADGE_EXPIRED = {"issue_date": "2022-01-01", "expiry_date": "2025-12-31"}
_PASS = {"issue_date": "2024-01-01", "expiry_date": "2027-12-31"}
_PASS_EXPIRED = {"issue_date": "2022-01-01", "expiry_date": "2025-12-31"}

GRIDS: tuple[RuleGrid, ...] = (
    RuleGrid(
        "housing_benefit_to_housing_benefit", "housing_benefit", "housing_benefit", "two", True,
        (_CLAIM, _CLAIM), (_CLAIM_OLD, _CLAIM), short_namesakes=True,
    ),
    RuleGrid(
        "housing_tenants_to_housing_tenants", "housing_tenants", "housing_tenants", "two", True,
        (_TENANCY, _TENANCY), (_TENANCY_OLD, _TENANCY_NEW), short_namesakes=True,
    ),
    RuleGrid(
        "payroll_to_payroll", "payroll", "payroll", "two", True,
        (_JOB, _JOB), (_JOB_OLD, _JOB_NEW), "one job ended before the other began",
        short_namesakes=True,
    ),
    RuleGrid(
        "payroll_to_housing_benefit", "payroll", "housing_benefit", "one", True,
        (_JOB, _CLAIM), (_JOB_OLD, _CLAIM), "the job ended before the claim began",
        short_namesakes=True,
    ),
    RuleGrid(
        "council_tax_reduction_to_payroll", "council_tax_reduction", "payroll", "one", True,
        (_CLAIM, _JOB), (_CLAIM, {"start_date": "2010-01-01", "end_date": "2019-12-31"}),
        "the job ended before the claim began", short_namesakes=True,
    ),
    RuleGrid(
        "housing_tenants_to_deceased", "housing_tenants", "deceased", "one", True,
        (_TENANCY, _DEATH), (_TENANCY_OLD, _DEATH), "the tenancy ended before the cycle",
    ),
    RuleGrid(
        "housing_waiting_list_to_housing_tenants", "housing_waiting_list", "housing_tenants",
        "one", True, ({"application_date": "2025-01-01"}, _TENANCY),
        ({"application_date": "2025-01-01"}, _TENANCY_OLD),
        "the tenancy ended before the application", short_namesakes=True,
    ),
    RuleGrid(
        "blue_badge_to_deceased", "blue_badge", "deceased", "one", False,
        (_BADGE, _DEATH), (_BADGE_EXPIRED, _DEATH), "the badge expired before the death",
    ),
    RuleGrid(
        "concessionary_travel_to_deceased", "concessionary_travel", "deceased", "one", False,
        (_PASS, _DEATH), (_PASS_EXPIRED, _DEATH), "the pass expired before the death",
    ),
)  # fmt: skip

MATCH, NEVER = "match", "never"


@dataclass
class Person:
    """One side's raw record values (what a partner's extract holds)."""

    surname: str
    forenames: str
    date_of_birth: date
    ni_number: str | None
    address: str | None
    postcode: str | None

    def copy(self, **changes: object) -> Person:
        return Person(**{**self.__dict__, **changes})


@dataclass(frozen=True)
class Cell:
    """One pair of records and what the rule must do with it."""

    group: str  # the row of the documented table: "same person" or "hard negative"
    field: str  # the field varied (or the negative's name)
    variant: str  # how
    expect: str  # MATCH or NEVER
    left: Person
    right: Person
    left_extra: dict[str, str] = field(default_factory=dict)
    right_extra: dict[str, str] = field(default_factory=dict)
    right_partner: int = 1
    why: str = ""


# Distinct surnames per cell (no two cells of a rule can meet each other by chance) built
# from syllables; forenames are ordinary names with a known short form.
_STEMS = (
    "BRAM",
    "CALD",
    "DURN",
    "ELS",
    "FARN",
    "GOSS",
    "HEND",
    "KIRK",
    "LANG",
    "MORT",
    "NETH",
    "ORM",
    "PEND",
    "QUARR",
    "RAVEN",
    "STAIN",
    "THORN",
    "UFF",
    "WARB",
    "YARL",
)
_ENDS = ("WELL", "FORD", "LEY", "TON", "HURST", "WICK", "DALE", "COMBE")
_STREETS = (
    "ELM ROAD",
    "MILL LANE",
    "CHURCH STREET",
    "STATION ROAD",
    "PARK AVENUE",
    "HIGH STREET",
    "QUEEN STREET",
    "VICTORIA ROAD",
    "GREEN LANE",
    "MANOR WAY",
)
_AREAS = ("LS", "YO", "HG")  # one postcode area per partner
_NI_PREFIXES = ("AB", "CE", "JK", "PR", "SW", "TL", "MH", "GY")

#: The most common names of the background: the namesake cells use them.
COMMON_SURNAME, COMMON_FORENAME = "SMITH", "JOHN"


def surname_for(index: int) -> str:
    return _STEMS[index % len(_STEMS)] + _ENDS[(index // len(_STEMS)) % len(_ENDS)]


def ni_for(index: int) -> str:
    return f"{_NI_PREFIXES[index % len(_NI_PREFIXES)]}{100000 + index * 37 % 900000:06d}C"


def slipped_ni(ni: str | None) -> str:
    """The NI number with its fifth digit keyed one higher (AB100037C -> AB100047C)."""
    assert ni is not None
    return ni[:6] + str((int(ni[6]) + 1) % 10) + ni[7:]


def postcode_for(partner: int, index: int) -> str:
    letters = "ABDEFGHJLNPQRSTUWXYZ"
    return (
        f"{_AREAS[partner]}{1 + index % 9} {index % 10}"
        f"{letters[index % 20]}{letters[(index // 20) % 20]}"
    )


def address_for(index: int) -> str:
    return f"{10 + index % 180} {_STREETS[index % len(_STREETS)]}"


def _typo(name: str) -> str:
    """Two neighbouring letters swapped inside the name (a keying slip)."""
    i = max(1, len(name) // 2 - 1)
    return name[:i] + name[i + 1] + name[i] + name[i + 2 :]


def _swap_start(name: str) -> str:
    """The second and third letters swapped (CHNADLER for CHANDLER): near the start of a
    name, where Bloom bigrams rate the slip lowest."""
    return name[0] + name[2] + name[1] + name[3:]


def _person(index: int, partner: int, forenames: str, dob: date, ni: bool) -> Person:
    return Person(
        surname=surname_for(index),
        forenames=forenames,
        date_of_birth=dob,
        ni_number=ni_for(index) if ni else None,
        address=address_for(index),
        postcode=postcode_for(partner, index),
    )


def cells(grid: RuleGrid, base: int) -> list[Cell]:
    """Every cell of one rule's grid; ``base`` keeps its identities apart from other rules'."""
    out: list[Cell] = []
    n = [base]

    def pair(forenames: str = "JAMES ROBERT", dob: date | None = None) -> tuple[Person, Person]:
        """The same person on both sides under the rule's signature; a fresh identity."""
        i = n[0]
        n[0] += 1
        d = dob or date(1950 + i % 45, 1 + i % 9, 13 + i % 15)  # day > 12: never swappable
        left = _person(i, 0, forenames, d, grid.ni)
        right = left.copy()
        if grid.homes == "two":  # the second home: another address at another council
            right = right.copy(address=address_for(i + 500), postcode=postcode_for(1, i + 500))
        return left, right

    pos_l, pos_r = grid.positive

    def add(group, fld, variant, expect, left, right, why="", extra=None, partner=1):
        le, re_ = extra or (pos_l, pos_r)
        out.append(Cell(group, fld, variant, expect, left, right, dict(le), dict(re_),
                        partner, why))  # fmt: skip

    contexts = [("NI on both", "both"), ("NI missing on one", "one")] if grid.ni else [("", "")]
    same = "same person"
    for ctx, mode in contexts:

        def ctx_pair(forenames: str = "JAMES ROBERT", dob: date | None = None, mode=mode):
            left, right = pair(forenames, dob)
            if mode == "one":
                right = right.copy(ni_number=None)
            return left, right

        tag = f" ({ctx})" if ctx else ""
        left, right = ctx_pair()
        add(same, "all", "equal" + tag, MATCH, left, right)
        left, right = ctx_pair()
        add(same, "surname", "typo" + tag, MATCH, left, right.copy(surname=_typo(left.surname)))
        left, right = ctx_pair()
        short = f"{left.surname[:3]}ES"  # five letters: the slip leaves one bigram of four
        add(same, "surname", f"two letters swapped in a short name ({_swap_start(short)} for "
            f"{short})" + tag, MATCH, left.copy(surname=short),
            right.copy(surname=_swap_start(short)),
            "the letters in order agree: one keying slip, read as very close")  # fmt: skip
        left, right = ctx_pair()
        add(same, "forenames", "two letters swapped near the start, the middle name on one "
            "record only (JMAES for JAMES ROBERT)" + tag, MATCH, left,
            right.copy(forenames="JMAES"),
            "the letters in order agree, and JMAES is no known name: a keying slip")  # fmt: skip
        left, right = ctx_pair()
        add(same, "surname", "hyphenated" + tag, MATCH, left,
            right.copy(surname=f"{left.surname}-{surname_for(n[0] + 900)}"))  # fmt: skip
        left, right = ctx_pair()
        add(same, "forenames", "typo" + tag, MATCH, left, right.copy(forenames="JAMSE ROBERT"))
        left, right = ctx_pair()
        add(same, "forenames", "nickname" + tag, MATCH, left, right.copy(forenames="JIMMY"))
        left, right = ctx_pair()
        add(same, "forenames", "initial" + tag, MATCH, left, right.copy(forenames="J"))
        left, right = ctx_pair("MARY JANE")
        add(same, "forenames", "middle name first" + tag, MATCH, left,
            right.copy(forenames="JANE"))  # fmt: skip
        left, right = ctx_pair(dob=date(1961, 4, 9))
        add(same, "date_of_birth", "DD/MM swap" + tag, MATCH, left,
            right.copy(date_of_birth=date(1961, 9, 4)))  # fmt: skip
        left, right = ctx_pair()
        d = left.date_of_birth
        add(same, "date_of_birth", "day slip" + tag, MATCH, left,
            right.copy(date_of_birth=d.replace(day=d.day + 1)))  # fmt: skip
        left, right = ctx_pair()
        d = left.date_of_birth
        add(same, "date_of_birth", "year slip" + tag, MATCH, left,
            right.copy(date_of_birth=d.replace(year=d.year + 1)))  # fmt: skip
        if grid.homes == "one" or mode == "both":
            left, right = ctx_pair(dob=date(1950 + n[0] % 45, 6, 18))  # no part of 01/01
            add(same, "date_of_birth", "day and month unknown on the left: its council writes "
                "01/01 for an unknown birthday" + tag, MATCH, left.copy(date_of_birth=
                left.date_of_birth.replace(month=1, day=1)), right,
                "the year agrees and the day is not known: no disagreement")  # fmt: skip
        if grid.homes == "one":
            left, right = ctx_pair()
            add(same, "address", "missing left" + tag, MATCH, left.copy(address=None), right)
            left, right = ctx_pair()
            add(same, "postcode", "missing right" + tag, MATCH, left, right.copy(postcode=None))
            left, right = ctx_pair()
            add(same, "postcode", "missing both" + tag, MATCH, left.copy(postcode=None),
                right.copy(postcode=None))  # fmt: skip
    if grid.ni:
        left, right = pair()
        add(same, "ni_number", "missing left", MATCH, left.copy(ni_number=None), right)
        left, right = pair()
        add(same, "ni_number", "missing both", MATCH, left.copy(ni_number=None),
            right.copy(ni_number=None))  # fmt: skip
        left, right = pair()
        add(same, "ni_number", "one digit keyed wrong on one", MATCH, left,
            right.copy(ni_number=slipped_ni(right.ni_number)),
            "one half of the number agrees: a slip, no evidence either way")  # fmt: skip
        left, right = pair()
        add(
            same,
            "surname",
            "married (new surname)",
            MATCH,
            left,
            right.copy(surname=surname_for(n[0] + 950)),
            "the NI number and the rest agree",
        )
    if grid.homes == "one":
        left, right = pair()
        add(same, "postcode", "missing left, address written differently", MATCH,
            left.copy(postcode=None), right.copy(address=f"FLAT 1, {right.address}"))  # fmt: skip

    neg = "hard negative"

    # relatives and namesakes never share an NI number; the right record shows none
    def no_ni(p: Person) -> Person:
        return p.copy(ni_number=None)

    left, right = pair()
    d = left.date_of_birth
    add(neg, "parent and child", "same name and home, born 30 years apart on the same day",
        NEVER, left, no_ni(left.copy(date_of_birth=d.replace(year=d.year + 30))))  # fmt: skip
    left, right = pair()
    add(neg, "parent and child", "same name and home, born 27 years apart", NEVER, left,
        no_ni(left.copy(date_of_birth=date(d.year + 27, 1 + (d.month + 5) % 12, 3))))  # fmt: skip
    left, right = pair()
    add(neg, "parent and child", "same name and home, born 30 years apart, the parent's "
        "birthday unknown (01/01)", NEVER, left.copy(date_of_birth=date(d.year, 1, 1)),
        no_ni(left.copy(date_of_birth=d.replace(year=d.year + 30))))  # fmt: skip
    left, right = pair("LUKE")
    add(neg, "twins", "same surname, birth date and home, forenames LUKE and LUCY", NEVER,
        left, no_ni(left.copy(forenames="LUCY")))  # fmt: skip
    left, right = pair("LUKE", dob=date(1950 + n[0] % 45, 6, 18))
    add(neg, "twins", "same surname, birth year and home, forenames LUKE and LUCY, one "
        "twin's birthday unknown (01/01)", NEVER,
        left.copy(date_of_birth=left.date_of_birth.replace(month=1, day=1)),
        no_ni(left.copy(forenames="LUCY")))  # fmt: skip
    left, right = pair("AMY")
    add(neg, "twins", "same surname, birth date and home, forenames AMY and MAY (the same "
        "letters)", NEVER, left, no_ni(left.copy(forenames="MAY")),
        "two known given names, however alike their letters: two people")  # fmt: skip
    left, right = pair("PETER")
    add(neg, "spouses", "same surname and home, other forename and birth date", NEVER, left,
        no_ni(left.copy(forenames="SUSAN", date_of_birth=date(d.year + 3, 1 + d.month % 12, 5))))  # fmt: skip
    left, right = pair(f"{COMMON_FORENAME}")
    left = left.copy(surname=COMMON_SURNAME)
    other = left.copy(address=address_for(n[0] + 700), postcode=postcode_for(1, n[0] + 700))
    add(neg, "namesakes", f"{COMMON_FORENAME} {COMMON_SURNAME}, same birth date, another "
        "council and home, nothing else in common", NEVER, left, no_ni(other),
        partner=1)  # fmt: skip
    left, right = pair()
    add(neg, "moved on", grid.moved_label, NEVER, left, right, extra=grid.moved)
    if grid.ni:
        left, right = pair()
        add(neg, "doubles", "same names, birth date and home, two different NI numbers", NEVER,
            left, left.copy(ni_number=ni_for(n[0] + 800)))  # fmt: skip
    if grid.short_namesakes:
        _short_namesakes(grid, pair, add, no_ni, n)
    if grid.right == "deceased":
        out += _deceased_cells(grid, pair, no_ni)
    # appended last, so that the identities of the cells above stay as they were
    _given_name_cells(grid, pair, add, no_ni, contexts)
    _twin_shape_cells(pair, add, no_ni, n)
    _initials_cells(grid, pair, add, contexts)
    _shared_initial_twin_cell(pair, add, no_ni)
    _twin_with_a_slip_cell(pair, add, no_ni)
    _third_forename_cell(pair, add, no_ni)
    _surname_shape_cells(pair, add, no_ni)
    if grid.rule in _TRANSPOSED_RULES:
        _transposed_cells(pair, add, no_ni)
    _forename_typo_cells(grid, pair, add, no_ni)
    if grid.ni:
        _placeholder_ni_cells(pair, add)
    _slipped_namesake_cells(pair, add, no_ni, n)
    if grid.rule == "payroll_to_payroll":
        _bank_account_cells(grid, pair, add, no_ni)
    if grid.right == "deceased":
        _locality_cell(pair, add)
        _same_council_slip_cells(pair, add, no_ni)
        _rare_forename_cells(pair, add, no_ni)
        _other_postcode_cells(pair, add, no_ni)
    if grid.rule in _FORMS_RULES:
        _weak_link_cells(grid, pair, add, no_ni)
    return out


def _unplaced_common(pair, no_ni):
    """A pair maker for the death rules' cells: ``forenames`` ``own`` (SMITH unless given)
    and, on a death record with no home, ``shown`` ``surname`` (born on the dates given,
    else the pair's own)."""

    def unplaced(forenames: str, shown: str, surname: str = COMMON_SURNAME,
                 born: tuple[date, date] | None = None, own: str = COMMON_SURNAME):  # fmt: skip
        left, right = pair(forenames, born[0] if born else None)
        left = left.copy(surname=own)
        right = right.copy(date_of_birth=born[1]) if born else right
        return left, no_ni(right.copy(surname=surname, forenames=shown, address=None,
                                      postcode=None))  # fmt: skip

    return unplaced


def _rare_forename_cells(pair, add, no_ni) -> None:
    """No home on the death record, a common surname, the exact birth date, another council:
    a first forename that is not common (TALIESIN) makes the name rare as a whole, as a rare
    surname does, with the whole forenames or the middle name dropped; a common first
    forename never decides there (the namesakes cells above). A slip in the first forename
    read as the known name it stands for (EMLIA for EMILIA) decides with a rare surname
    only: beside a common surname it is too little."""
    unplaced = _unplaced_common(pair, no_ni)
    add("same person", "forenames", f"TALIESIN {COMMON_SURNAME}, a first forename that is not "
        "common and a common surname, the death registered by another council, no home on "
        "the death record", MATCH, *unplaced("TALIESIN", "TALIESIN"),
        "a rare name as a whole and the birth date: a namesake would need both", partner=1)  # fmt: skip
    add("same person", "forenames", f"IOLO MADOC {COMMON_SURNAME} and IOLO {COMMON_SURNAME} (the "
        "middle name dropped, a first forename that is not common), the death registered by "
        "another council, no home on the death record", MATCH,
        *unplaced("IOLO MADOC", "IOLO"),
        "the first forename written alone is the name written short, and rare", partner=1)  # fmt: skip
    add("same person", "forenames", "EMILIA TREGONING and EMLIA TREGONING (a letter left out of "
        "the first forename, a rare surname), the death registered by another council, no home "
        "on the death record", MATCH, *unplaced("EMILIA", "EMLIA", "TREGONING", own="TREGONING"),
        "EMLIA is one slip from one known name, the other record's: a rare surname and the "
        "birth date decide, as with the name written right", partner=1)  # fmt: skip
    add("hard negative", "namesakes", f"DOREEN {COMMON_SURNAME} and DOEEN {COMMON_SURNAME} (a "
        "letter left out of a first forename that is not common), the death registered by "
        "another council, no home on the death record", NEVER,
        *unplaced("DOREEN", "DOEEN"),
        "a common surname and a forename one slip from the other's: too little to tell the "
        "person from a namesake (two MEGAN WILLIAMS born the same day, one keyed MEGQN)",
        partner=1)  # fmt: skip


def _other_postcode_cells(pair, add, no_ni) -> None:
    """The same premises and street written alike on both records under another postcode
    (one keyed wrong, or the other side of the street's): at the council that holds both
    records that is no evidence about the home either way, so the whole name and the exact
    birth date decide there, as where the death record shows no home. A twin or a parent
    at those premises is still never the person, and another council's street of the same
    name and number is another home."""

    def elsewhere(person: Person, partner: int = 0) -> Person:
        index = 977 if postcode_for(partner, 977) != person.postcode else 978
        return no_ni(person.copy(postcode=postcode_for(partner, index)))

    name = f"{COMMON_FORENAME} ARNULF"
    left, right = pair(name)
    left, right = left.copy(surname=COMMON_SURNAME), right.copy(surname=COMMON_SURNAME)
    add("same person", "postcode", f"another postcode on the death record, the same premises "
        f"and street ({name} {COMMON_SURNAME}), the death registered by the same council",
        MATCH, left, elsewhere(right),
        "the premises agree as written: a postcode keyed wrong is not another home, and the "
        "whole name and birth date at one council decide", partner=0)  # fmt: skip
    left, right = pair("PETER")
    add("hard negative", "twins", "PETER and PAUL, the same surname, birth date and premises, "
        "another postcode on the death record, the death registered by the same council",
        NEVER, left, elsewhere(right.copy(forenames="PAUL")),
        "two known given names: twins, wherever the postcode", partner=0)  # fmt: skip
    left, right = pair(COMMON_FORENAME)
    left, right = left.copy(surname=COMMON_SURNAME), right.copy(surname=COMMON_SURNAME)
    add("hard negative", "namesakes", f"{COMMON_FORENAME} {COMMON_SURNAME} born the same day at "
        "the same house number and street name under another council's postcode", NEVER,
        left, elsewhere(right, 1),
        "another council's street of the same name is another home: a common name and a birth "
        "date cannot decide there", partner=1)  # fmt: skip


def _same_council_slip_cells(pair, add, no_ni) -> None:
    """No home on the death record, a common name, the exact birth date: at the council that
    holds both records a slip in the surname (SMTH for SMITH) beside the whole forenames (with
    the birth date's day and month swapped too), or a slip in the first forename (GRAHAN for
    GRAHAM) with the middle name dropped, is still the person; at another council it is a
    namesake's, and a twin's known name never is."""
    unplaced = _unplaced_common(pair, no_ni)

    same, neg, slip = "same person", "hard negative", "SMTH"
    name = f"{COMMON_FORENAME} CUTHBERT"
    add(same, "surname", f"{name} {COMMON_SURNAME} and {name} {slip} (a letter left out), the "
        "death registered by the same council, no home on the death record", MATCH,
        *unplaced(name, name, slip),
        "the whole forenames and birth date at one council, the surname a letter apart: no "
        "namesake to speak of", partner=0)  # fmt: skip
    name = f"{COMMON_FORENAME} WULFSTAN"
    add(neg, "namesakes", f"{name} {COMMON_SURNAME} and {name} {slip} (a letter left out), the "
        "death registered by another council, no home on the death record", NEVER,
        *unplaced(name, name, slip),
        "a common name a letter apart at another council: the evidence cannot decide",
        partner=1)  # fmt: skip
    add(same, "forenames", f"GRAHAM HILDEBRAND {COMMON_SURNAME} and GRAHAN {COMMON_SURNAME} (a "
        "slip in the first forename, the middle name dropped), the death registered by the "
        "same council, no home on the death record", MATCH,
        *unplaced("GRAHAM HILDEBRAND", "GRAHAN"),
        "GRAHAN is one slip from one known name, GRAHAM: the surname and birth date at one "
        "council decide", partner=0)  # fmt: skip
    add(neg, "twins", f"DANIEL OSRIC {COMMON_SURNAME} and DANIELA {COMMON_SURNAME}, the death "
        "registered by the same council, no home on the death record", NEVER,
        *unplaced("DANIEL OSRIC", "DANIELA"),
        "two known given names a letter apart are twins' names, not a slip", partner=0)  # fmt: skip
    name = f"{COMMON_FORENAME} EADBERHT"
    add(same, "surname", f"{name} {COMMON_SURNAME} born 1 November 1945 and {name} {slip} born 11 "
        "January 1945 (the day and month swapped), the death registered by the same council, "
        "no home on the death record", MATCH,
        *unplaced(name, name, slip, (date(1945, 11, 1), date(1945, 1, 11))),
        "a slip in the surname and the birth date written day-month swapped, the whole "
        "forenames at one council: no namesake to speak of", partner=0)  # fmt: skip


def _locality_cell(pair, add) -> None:
    """The same home with its district written on one record only: a short address with
    two more words falls below the address's Dice level, and where the home is what tells
    the person from a twin (the forename as an initial) the premises and street decide."""
    left, right = pair("KELLY")
    left, right = left.copy(address="7 BROAD ROAD"), right.copy(address="7 BROAD ROAD")
    add("same person", "address", "the district written on one record only (7 BROAD ROAD "
        "HEMPSTED GREEN), the forename as its initial (K for KELLY)", MATCH, left,
        right.copy(forenames="K", address=f"{right.address} HEMPSTED GREEN"),
        "the same premises and street at the same postcode: the same home")  # fmt: skip


def _bank_account_cells(grid: RuleGrid, pair, add, no_ni) -> None:
    """Two jobs paid into one bank account: the same person even with a new surname and an
    initial, where nothing else would decide; never the twin, spouse or child who shares
    the account (their forenames or birth dates differ)."""
    pos_l, pos_r = grid.positive

    def paid_into_one(index: int) -> tuple[dict[str, str], dict[str, str]]:
        bank = {"sort_code": "40-11-62", "account_number": f"{31000000 + index:08d}"}
        return {**pos_l, **bank}, {**pos_r, **bank}

    left, right = pair("BEVERLEY CLAIRE")
    add("same person", "bank account", "NI number on one record only, a new surname and the "
        "first forename as its initial (B for BEVERLEY CLAIRE), the same bank account",
        MATCH, left, no_ni(right.copy(surname="HOLLINGWORTH", forenames="B")),
        "salary paid into the same account, the same birth date and a forename written "
        "short: one person", extra=paid_into_one(1))  # fmt: skip
    left, _ = pair("LUKE")
    add("hard negative", "twins", "same surname, birth date and home, forenames LUKE and "
        "LUCY, paid into one bank account", NEVER, left, no_ni(left.copy(forenames="LUCY")),
        "an account two people share says nothing against their forenames",
        extra=paid_into_one(2))  # fmt: skip
    left, _ = pair("PETER")
    d = left.date_of_birth
    add("hard negative", "spouses", "same surname and home, other forename and birth date, "
        "paid into one bank account", NEVER, left,
        no_ni(left.copy(forenames="SUSAN", date_of_birth=d.replace(year=d.year + 3))),
        extra=paid_into_one(3))  # fmt: skip
    left, _ = pair()
    d = left.date_of_birth
    add("hard negative", "parent and child", "same name and home, born 30 years apart, paid "
        "into one bank account", NEVER, left,
        no_ni(left.copy(date_of_birth=d.replace(year=d.year + 30))), extra=paid_into_one(4))  # fmt: skip


def _slipped_namesake_cells(pair, add, no_ni, n: list[int]) -> None:
    """Namesakes with a common name written wrong on one record by a slip that neither keeps
    its letters (a swap) nor its sound: SMIITH for SMITH, DAVIF for DAVID. The commoner of
    the two names is common, so the name decides nothing at another council."""
    surname = COMMON_SURNAME
    for forename, (first, last), how in (
        (COMMON_FORENAME, (COMMON_FORENAME, "SMIITH"), "a letter doubled"),
        ("DAVID", ("DAVIF", COMMON_SURNAME), "a neighbouring key, another sound"),
    ):  # fmt: skip
        left, _ = pair(forename)
        left = left.copy(surname=surname)
        other = left.copy(forenames=first, surname=last,
                          address=address_for(n[0] + 760), postcode=postcode_for(1, n[0] + 760))  # fmt: skip
        add("hard negative", "namesakes", f"{forename} {surname} and {first} {last} ({how}), "
            "same birth date, another council and home, nothing else in common", NEVER, left,
            no_ni(other), "a common name written wrong is still a common name", partner=1)  # fmt: skip


def _placeholder_ni_cells(pair, add) -> None:
    """The NI number the first partner writes for an unknown one (PLACEHOLDER_NI, shared by
    many of its records): no identifier. Twins who both show it are two people, and the
    same person showing it on one record is decided by the rest. Surnames of their own."""
    left, _ = pair("HARRY")
    left = left.copy(surname="TREVASKIS", ni_number=PLACEHOLDER_NI)
    add("hard negative", "twins", "same surname, birth date and home, forenames HARRY and "
        "OSCAR, both records showing the council's placeholder NI number (AB123456C)",
        NEVER, left, left.copy(forenames="OSCAR"),
        "a number many records share identifies no one: the twins veto decides")  # fmt: skip
    left, right = pair()
    left, right = left.copy(surname="TRENGOVE"), right.copy(surname="TRENGOVE")
    add("same person", "ni_number", "the left record shows its council's placeholder "
        "(AB123456C)", MATCH, left.copy(ni_number=PLACEHOLDER_NI), right,
        "no identifier, as if left out: names and date of birth decide")  # fmt: skip


#: the twins cell whose names are alike and on no name list (a known gap: known.py)
RARE_NAMES_TWIN = (
    "same surname, birth date and home, forenames OLUWASEUN and OLUWASEYI (neither a name "
    "the lists know)"
)


def _forename_typo_cells(grid: RuleGrid, pair, add, no_ni) -> None:
    """A typo in a short forename that changes its sound (EMMX for EMMA: no known name),
    twins whose forenames are alike as strings with one or both no known name: JAYDEN and
    KAYDEN (another first letter), OLUWASEUN and OLUWASEYI (neither known: a known gap of
    the Fellegi-Sunter rules, see known.py), and a slip in a name no list knows that keeps
    a sound (OLUWASEUM). Surnames of their own (added after the grids' identities were laid
    out)."""
    if grid.right == "deceased":
        left, right = pair("EMMA")
        left, right = left.copy(surname="TREMAYNE"), right.copy(surname="TREMAYNE")
        add("same person", "forenames", "a typo that changes a short forename's sound (EMMX "
            "for EMMA), the same home", MATCH, left, right.copy(forenames="EMMX"),
            "one record's forename is a known name, the other's no name at all: a typo")  # fmt: skip
    left, _ = pair("JAYDEN")
    left = left.copy(surname="TRESIDDER")
    add("hard negative", "twins", "same surname, birth date and home, forenames JAYDEN and "
        "KAYDEN (KAYDEN no name the lists know)", NEVER, left,
        no_ni(left.copy(forenames="KAYDEN")),
        "names that begin differently are two names, however alike the rest")  # fmt: skip
    left, _ = pair("OLUWASEUN")
    left = left.copy(surname="ROSEVEAR")
    add("hard negative", "twins", RARE_NAMES_TWIN, NEVER, left,
        no_ni(left.copy(forenames="OLUWASEYI")),
        "two names no list knows may be two rare names alike: nothing says one is a typo")  # fmt: skip
    left, right = pair("OLUWASEUN")
    left, right = left.copy(surname="TREGEAR"), right.copy(surname="TREGEAR")
    add("same person", "forenames", "a slip in a forename no list knows that keeps a sound "
        "(OLUWASEUM for OLUWASEUN)", MATCH, left, right.copy(forenames="OLUWASEUM"),
        "a slip keeps the sound by one code at least")  # fmt: skip


def _given_name_cells(grid: RuleGrid, pair, add, no_ni, contexts) -> None:
    """Twins whose forenames are alike as strings but two known given names, the typo that
    is no name, and an initial that is not the other's.

    ANNE and LEANNE, LAURA and LAUREN are close as strings, and no twins veto that asks the
    forenames to be dissimilar tells them apart; the known given names do (``__given``). A
    typo (LUARA) is no known name, so it is no evidence of another person.
    """
    neg = "hard negative"

    def twins(first: str, other: str, how: str, why: str) -> None:
        """Twins: same surname, birth date and home, forenames ``first`` and ``other``."""
        left, _ = pair(first)
        add(neg, "twins", f"same surname, birth date and home, forenames {first} and {other} "
            f"({how})", NEVER, left, no_ni(left.copy(forenames=other)), why)  # fmt: skip

    for first, other in (("LAURA", "LAUREN"), ("ANNE", "LEANNE")):
        twins(first, other, "alike as strings", "two known given names that sound different: "
              "two people, however alike the letters")  # fmt: skip
    for first, other in (("PAUL", "PAULA"), ("FRANCIS", "FRANCES"), ("DANIEL", "DANIELA")):
        twins(first, other, "a boy's and a girl's name one letter apart", "two known given "
              "names, however alike as strings and in sound: two people")  # fmt: skip
    twins("DENIS", "DENUSE", "his twin DENISE, keyed wrong", "a slip one letter from one known "
          "name is read as that name: DENISE and DENIS are two people")  # fmt: skip
    left, _ = pair("MARTIN", date(1992, 6, 5))
    add(neg, "twins", "same surname and home, forenames MARTIN and MANAN (a name no list "
        "knows), the birth date written with day and month swapped on one record", NEVER,
        left, no_ni(left.copy(forenames="MANAN", date_of_birth=date(1992, 5, 6))),
        "a date with day and month swapped is the same date; forenames that sound different "
        "by both codes and no more than similar are two names")  # fmt: skip

    def same_person(first: str, other: str, variant: str, why: str) -> None:
        """The same person, the second record showing ``other`` for ``first``, per NI context."""
        for ctx, mode in contexts:
            left, right = pair(first)
            if mode == "one":
                right = right.copy(ni_number=None)
            tag = f" ({ctx})" if ctx else ""
            add("same person", "forenames", variant + tag, MATCH, left,
                right.copy(forenames=other), why)  # fmt: skip

    same_person("AMINA", "AMIAN", "two letters swapped in a forename no list knows, AMINA and "
                "AMIAN", "each is one slip from another known name (ALMINA, DAMIAN), but a slip "
                "is read only against a known name on the other record")  # fmt: skip
    for first, other in (("STEVEN", "STEPHEN"), ("ISABEL", "ISOBEL"), ("ANN", "ANNE")):
        same_person(first, other, f"the forename spelt another way, {first} and {other}",
                    "two spellings of one name are one given name (spellings.py), never twins")  # fmt: skip
    twins("ELLA", "ELLIE", "the same sound", "two known given names: two people, though they "
          "sound alike and a key's Bloom estimate may read them close")  # fmt: skip
    same_person("LAURA", "LUARA", "typo in a single known forename, LAURA and LUARA",
                "LUARA is one slip from LAURA alone: the same name, no evidence of another "
                "person")  # fmt: skip
    left, _ = pair("GEORGE")
    d = left.date_of_birth
    pos_l, pos_r = grid.positive
    damaged = {**pos_r, "date_of_birth": f"{d.day:02d}/13/{d.year}"}  # no month 13
    add(neg, "twins", "same surname and home, forenames GEORGE and only the initial S, the "
        "birth date damaged on the second record and agreeing as far as it is known", NEVER,
        left, no_ni(left.copy(forenames="S")),
        "an initial that is not the first letter of the other's forename is another forename",
        extra=(pos_l, damaged))  # fmt: skip
    left, _ = pair("MEGAN")
    add(neg, "twins", "same surname, birth date and home, forenames MEGAN and MORGAN (a Welsh "
        "given name, also a surname)", NEVER, left, no_ni(left.copy(forenames="MORGAN")),
        "two known given names no more than similar: two people")  # fmt: skip


def _twin_shape_cells(pair, add, no_ni, n: list[int]) -> None:
    """Twins whose first forenames are two names however much else is alike, and a namesake
    whose common forename carries a typo.

    A shared middle name (COLIN ANTHONY and ALEX ANTHONY) or a name inside the other (EMMA
    and JEMMA) keeps the forenames close as strings, and a surname typo that keeps its
    sound (MSAON) keeps the family; the first forename still says two people. A typo in a
    common forename (JHON) leaves a common name, which decides nothing at another council.
    """
    neg = "hard negative"
    for first, other, how in (("COLIN ANTHONY", "ALEX ANTHONY", "the same middle name"),
                              ("EMMA", "JEMMA", "one inside the other"),
                              ("GIFTY AKOSUA", "GRACE AKOSUA", "the Akan day name both twins "
                               "bear, the same first letter")):  # fmt: skip
        left, _ = pair(first)
        add(neg, "twins", f"same surname, birth date and home, forenames {first} and {other} "
            f"({how})", NEVER, left, no_ni(left.copy(forenames=other)),
            "first forenames with other first letters and other sounds are two names")  # fmt: skip
    left, _ = pair("ANNE")
    left = left.copy(surname="MASON")
    add(neg, "twins", "same birth date and home, ANNE MASON and JANET MSAON (a surname typo "
        "that keeps its sound)", NEVER, left,
        no_ni(left.copy(surname="MSAON", forenames="JANET")),
        "a surname typo that keeps the sound still names the family; the forenames say two "
        "people")  # fmt: skip
    left, _ = pair(COMMON_FORENAME)
    left = left.copy(surname=COMMON_SURNAME)
    other = left.copy(forenames=_typo(COMMON_FORENAME), address=address_for(n[0] + 720),
                      postcode=postcode_for(1, n[0] + 720))  # fmt: skip
    add(neg, "namesakes", f"{COMMON_FORENAME} {COMMON_SURNAME} and {_typo(COMMON_FORENAME)} "
        f"{COMMON_SURNAME} (a typo that keeps the sound), same birth date, another council "
        "and home, nothing else in common", NEVER, left, no_ni(other),
        "a common name written wrong is still a common name", partner=1)  # fmt: skip
    left, _ = pair(COMMON_FORENAME)
    left = left.copy(surname=COMMON_SURNAME)
    slip = _swap_start(COMMON_SURNAME)
    other = left.copy(surname=slip, address=address_for(n[0] + 740),
                      postcode=postcode_for(1, n[0] + 740))  # fmt: skip
    add(neg, "namesakes", f"{COMMON_FORENAME} {COMMON_SURNAME} and {COMMON_FORENAME} {slip} "
        "(two letters swapped), same birth date, another council and home, nothing else in "
        "common", NEVER, left, no_ni(other),
        "a common surname with two letters swapped is still a common surname", partner=1)  # fmt: skip
    # a second forename on both records whose initial differs: positive disagreement
    for kind, first, other, variant, why in (
        ("twins", "JORDAN GRAHAM", "J A", "J A and JORDAN GRAHAM (the first initial shared, "
         "the second not)", "both show a second forename and its initial differs: another "
         "person"),
        ("namesakes", "JAMES ROBERT", "JAMES MICHAEL", "JAMES ROBERT and JAMES MICHAEL (two "
         "middle names)", "two middle names that differ are two people"),
    ):  # fmt: skip
        left, _ = pair(first)
        add(neg, kind, f"same surname, birth date and home, {variant}", NEVER, left,
            no_ni(left.copy(forenames=other)), why)  # fmt: skip


def _initials_cells(grid: RuleGrid, pair, add, contexts) -> None:
    """Forenames written as their initials ("J R" for JAMES ROBERT): two initials that agree
    are more than one. Where the home is evidence they carry the pair with a damaged birth
    date that agrees only as far as it is known; at two homes, with the whole date."""
    pos_l, pos_r = grid.positive
    for ctx, mode in contexts:
        tag = f" ({ctx})" if ctx else ""
        left, right = pair()
        if mode == "one":
            right = right.copy(ni_number=None)
        d = left.date_of_birth
        if grid.homes == "one":
            damaged = {**pos_r, "date_of_birth": f"{d.day:02d}/13/{d.year}"}  # no month 13
            add("same person", "forenames", "both initials (J R for JAMES ROBERT), the birth "
                "date damaged on the second record and agreeing as far as it is known" + tag,
                MATCH, left, right.copy(forenames="J R"),
                "every initial agrees, the home, and the date as far as it is known",
                extra=(pos_l, damaged))  # fmt: skip
        else:
            add("same person", "forenames", "both initials (J R for JAMES ROBERT)" + tag, MATCH,
                left, right.copy(forenames="J R"),
                "every initial agrees, and the birth date")  # fmt: skip


#: The twin written as the initial both twins share (known.py says why it is still flagged)
SHARED_INITIAL_TWIN = "same surname, birth date and home, the other twin written as the initial both share (M for MARK)"


def _shared_initial_twin_cell(pair, add, no_ni) -> None:
    """A twin whose record shows only the initial the other twin's forename begins with:
    the initial agrees, so nothing in the records tells the twin from the person."""
    left, _ = pair("MARK")
    add("hard negative", "twins", SHARED_INITIAL_TWIN, NEVER, left,
        no_ni(left.copy(forenames="M")),
        "an initial shared by the twins' names cannot tell them apart")  # fmt: skip


def _twin_with_a_slip_cell(pair, add, no_ni) -> None:
    """Twins MIA and MAYA, one record with the birth year one out: two known given names
    are two people whether or not the date of birth was also mistyped. A surname of its own
    (added after the grids' identities were laid out: see _OWN_SURNAMES)."""
    left, _ = pair("MIA")
    left = left.copy(surname="TREVITHICK")
    born = left.date_of_birth
    add("hard negative", "twins", "same surname and home, forenames MIA and MAYA, the birth "
        "year one out on one record", NEVER, left,
        no_ni(left.copy(forenames="MAYA", date_of_birth=born.replace(year=born.year + 1))),
        "two known given names: twins, with a slip in the date of birth on top")  # fmt: skip
    left, _ = pair("MEGAN")
    left = left.copy(surname="TRELAWNEY", date_of_birth=date(1995, 1, 9))
    add("hard negative", "twins", "same surname and home, forenames MEGAN and MORGAN, day and "
        "month swapped on one record (09/01 and 01/09)", NEVER, left,
        no_ni(left.copy(forenames="MORGAN", date_of_birth=date(1995, 9, 1))),
        "two known given names that sound different: twins, whatever the date's slip")  # fmt: skip


def _third_forename_cell(pair, add, no_ni) -> None:
    """A third forename on one record only (LEONIE MARGUERITE SOLANGE and LEONIE
    MARGUERITE): the initials of the first two agree, and a forename missing is no
    forename that differs. A surname of its own, as for the twins with a slip."""
    left, _ = pair("LEONIE MARGUERITE SOLANGE")
    left = left.copy(surname="TREVASKIS")
    add("same person", "forenames", "a third forename on one record only", MATCH, left,
        no_ni(left.copy(forenames="LEONIE MARGUERITE")),
        "a forename missing is no evidence; the first two forenames and their initials agree")  # fmt: skip


#: The Fellegi–Sunter person rules: their forenames read short forms and the other order
#: below or beside their Dice levels, and their surnames no sound alone
_FORMS_RULES = ("council_tax_reduction_to_payroll", "housing_benefit_to_housing_benefit",
                "housing_tenants_to_housing_tenants", "housing_waiting_list_to_housing_tenants",
                "payroll_to_housing_benefit", "payroll_to_payroll")  # fmt: skip


def _weak_link_cells(grid: RuleGrid, pair, add, no_ni) -> None:
    """Two names linked only weakly, under the rule's signature with the NI number on one
    record: surnames with one sound by metaphone but no letters in order alike (KNOTT and
    NEATE) at two homes, or forenames linked by the middle name used first where each
    record shows a forename the other does not (EMILY GRACE and GRACE MIA JESSICA), are
    namesakes' names; the same forenames in the other order are one person's. At one home
    the address backs a surname that differs (a married name), so the first cell is only
    the two-home rules'. Surnames of their own."""
    if grid.homes == "two":
        left, right = pair("ROSALIND")
        left, right = left.copy(surname="KNOTT"), right.copy(surname="NEATE")
        add("hard negative", "namesakes", "surnames KNOTT and NEATE (one sound by metaphone, "
            "no bigram alike), the same forenames and birth date", NEVER, left, no_ni(right),
            "two surnames: a sound shared by short names is no slip")  # fmt: skip
    left, right = pair("EMILY GRACE")
    left, right = left.copy(surname="TREBILCOCK"), right.copy(surname="TREBILCOCK")
    kind = "twins" if grid.homes == "one" else "namesakes"
    add("hard negative", kind, "forenames EMILY GRACE and GRACE MIA JESSICA (the middle "
        "name first, each record with a forename the other lacks), the same surname and birth "
        "date", NEVER, left, no_ni(right.copy(forenames="GRACE MIA JESSICA")),
        "EMILY on one record only and MIA JESSICA on the other: the short form cannot decide")  # fmt: skip
    left, right = pair("ISOLDE MORWENNA")
    left, right = left.copy(surname="TREBILCOCK"), right.copy(surname="TREBILCOCK")
    add("same person", "forenames", "the forenames in the other order (MORWENNA ISOLDE for "
        "ISOLDE MORWENNA)", MATCH, left, no_ni(right.copy(forenames="MORWENNA ISOLDE")),
        "every forename on both records: the order is a council's habit")  # fmt: skip
    left, right = pair(f"{COMMON_FORENAME} DAVID")
    left, right = left.copy(surname=COMMON_SURNAME), right.copy(surname=COMMON_SURNAME)
    add("same person", "forenames", f"the forenames in the other order, a common name (DAVID "
        f"{COMMON_FORENAME} {COMMON_SURNAME} for {COMMON_FORENAME} DAVID {COMMON_SURNAME})",
        MATCH, left, no_ni(right.copy(forenames=f"DAVID {COMMON_FORENAME}")),
        "both forenames on both records: not one common forename shared, but the whole name")  # fmt: skip


def _surname_shape_cells(pair, add, no_ni) -> None:
    """A surname's Mc written apart on one record (MC QUILLAN, MCQUILLAN), and a long surname
    with two letters swapped near its end, where its sound changes (MACCONNGHAMHNA,
    MACCONNGHAMNHA) and blocking must find it by the letters in order."""
    left, _ = pair("ROWAN")
    left = left.copy(surname="MCQUILLAN")
    add("same person", "surname", "Mc written apart on one record (MC QUILLAN)", MATCH, left,
        no_ni(left.copy(surname="MC QUILLAN")), "councils write Mc and Mac apart or together")  # fmt: skip
    left, _ = pair("PETER")
    left = left.copy(surname="MACCONNGHAMHNA")
    right = left.copy(surname="MACCONNGHAMNHA", forenames="PETE", postcode=None)
    add("same person", "surname", "two letters swapped near the end of a long surname "
        "(MACCONNGHAMNHA), PETE for PETER, no postcode on one record", MATCH, left,
        no_ni(right), "the letters in order agree (one keying slip) and the same address; "
        "no block on the sound, the first forename or the postcode finds this pair")  # fmt: skip


#: The two-council rules that read surname and forenames transposed on one record (the
#: deceased rules do too, with cells of their own; the other rules' extracts do not send
#: the swap tokens)
_TRANSPOSED_RULES = ("housing_benefit_to_housing_benefit", "housing_tenants_to_housing_tenants")


def _transposed_cells(pair, add, no_ni) -> None:
    """Surname and forenames in each other's columns on one record, the NI number on the
    other only, two homes: the same names and birth date, so a rare name is flagged and a
    common one stays undecided, as written the right way round."""
    left, right = pair("GWENLLIAN")
    left, right = left.copy(surname="PENROSE"), right.copy(surname="PENROSE")
    add("same person", "surname", "surname and forenames transposed on one record, NI number "
        "on the other only, a rare name", MATCH, left,
        no_ni(right.copy(surname=right.forenames, forenames=right.surname)),
        "the same names in the other columns and the same birth date")  # fmt: skip
    left, right = pair(COMMON_FORENAME)
    left, right = left.copy(surname=COMMON_SURNAME), right.copy(surname=COMMON_SURNAME)
    add("hard negative", "namesakes", f"{COMMON_FORENAME} {COMMON_SURNAME} transposed on one "
        "record, NI number on the other only", NEVER, left,
        no_ni(right.copy(surname=right.forenames, forenames=right.surname)),
        "a common name: the evidence cannot decide, whichever way round it is written")  # fmt: skip


#: Rare forenames (none in the background), a different one per cell of a rule: where the
#: home cannot be compared, a name that is a common value on the death records' side (five
#: or more of them) never decides, so no rare name may recur in more cells than the rules.
_RARE_FIRST = ("PEREGRINE", "CORNELIUS", "BARNABY", "HORATIO", "LEOPOLD", "EZEKIEL", "OSBERT",
               "ALOYSIUS", "CRISPIN", "FLORIAN", "GODFREY", "LAZARUS", "PHINEAS", "THADDEUS",
               "SEPTIMUS", "ZEPHANIAH", "AUGUSTINE", "ISIDORE")  # fmt: skip
_RARE_MIDDLE = ("AMBROSE", "OSWALD", "DUNSTAN", "CEDRIC", "ALARIC", "FULBERT", "ROLAND",
                "WENDELL", "TOBIAS", "SILAS", "EVERARD", "LEANDER", "MAGNUS", "OTTOKAR",
                "BARNABAS", "ERASMUS", "REMUS", "CASSIUS")  # fmt: skip
#: Long forenames for the typo cells: a typo changes three bigrams, so only names of 16 or
#: more bigrams stay nearly the same (Dice at least 0.8)
_LONG = ("BARTHOLOMEW FREDERICK", "MAXIMILIAN ALEXANDER")
#: Rare middle names for the cells that pair them with the common forename
_RARE_WITH_COMMON = ("PERCIVAL", "LANCELOT", "TRISTRAM", "BALTHAZAR", "MORDECAI", "GALAHAD",
                     "ZEBEDEE", "OBADIAH")  # fmt: skip


def _deceased_cells(grid: RuleGrid, pair, no_ni) -> list[Cell]:
    """Principle 4 for a death record: the home must agree; where it cannot be compared (the
    death record shows none, or one record only the postcode and the other only the
    address) only a rare name whose forenames no twin shares decides. ``no_ni``: the death
    record shows no NI number, so names, birth date and home decide."""
    out: list[Cell] = []
    le, re_ = grid.positive
    names = iter(zip(_RARE_FIRST, _RARE_MIDDLE, strict=True))

    def add(group, fld, variant, expect, left, right, why="", partner=1):
        out.append(
            Cell(group, fld, variant, expect, left, right, dict(le), dict(re_), partner, why)
        )

    def unplaced(first: str, middle: str, right_forenames: str, halves: bool,
                 surname: str | None = None) -> tuple[Person, Person]:  # fmt: skip
        """A pair whose home cannot be compared; the death record shows ``right_forenames``."""
        left, right = pair(f"{first} {middle}")
        if surname:
            left, right = left.copy(surname=surname), right.copy(surname=surname)
        right = no_ni(right.copy(forenames=right_forenames))
        if halves:
            return left.copy(address=None), right.copy(postcode=None)
        return left, right.copy(address=None, postcode=None)

    same, neg = "same person", "hard negative"
    rare = "a rare name: no namesake likely, and no twin shares these forenames"
    for halves, where in ((False, "no home on the death record"),
                          (True, "postcode on one record, address on the other")):  # fmt: skip
        tag = f"home not comparable ({where})"
        first, middle = next(names)
        add(same, "forenames", f"equal, rare name, {tag}", MATCH,
            *unplaced(first, middle, f"{first} {middle}", halves), rare)  # fmt: skip
        first, middle = next(names)
        add(same, "forenames", f"middle name dropped, rare name, {tag}", MATCH,
            *unplaced(first, middle, first, halves), rare)  # fmt: skip
        first, middle = next(names)
        add(same, "forenames", f"middle name used as first, rare name, {tag}", MATCH,
            *unplaced(first, middle, middle, halves), rare)  # fmt: skip
        first, middle = _LONG[halves].split()
        add(same, "forenames", f"typo in a long rare name, {tag}", MATCH,
            *unplaced(first, middle, f"{first} {_typo(middle)}", halves),
            "forenames nearly the same (Dice at least 0.8): no twin has them")  # fmt: skip
        first, middle = next(names)
        add(same, "forenames", f"both initials ({first[0]} {middle[0]} for {first} {middle}), {tag}",
            MATCH, *unplaced(first, middle, f"{first[0]} {middle[0]}", halves),
            "every initial of two forenames agrees with a rare surname and the birth date: a "
            "twin sharing both initials is too rare to speak of")  # fmt: skip
        first, middle = next(names)
        add(neg, "twins", f"the twin's forename written as an initial the other's shares, {tag}",
            NEVER, *unplaced(first, middle, first[0], halves),
            "an initial is shared by many twins' names")  # fmt: skip
        first, middle = next(names)
        other = next(names)[1]
        add(neg, "namesakes", f"the same first forename, two different middle names, {tag}",
            NEVER, *unplaced(first, middle, f"{first} {other}", halves),
            "two middle names that differ are two people")  # fmt: skip
        # the surname and the exact date of birth tell the person from a namesake; how common
        # the forename both records share is does not enter
        middle = _RARE_WITH_COMMON[0 + 4 * halves]
        add(same, "forenames", f"middle name dropped, a rare surname with the common forename "
            f"{COMMON_FORENAME}, {tag}", MATCH,
            *unplaced(COMMON_FORENAME, middle, COMMON_FORENAME, halves),
            "a rare surname and the same birth date tell the person from a namesake; a "
            "forename written short is no other person, however common it is")  # fmt: skip
        middle = _RARE_WITH_COMMON[1 + 4 * halves]
        add(same, "forenames", f"the common forename {COMMON_FORENAME} used as the first where "
            f"it is the other's middle name, a rare surname, {tag}", MATCH,
            *unplaced(middle, COMMON_FORENAME, COMMON_FORENAME, halves),
            "a rare surname and the same birth date tell the person from a namesake")  # fmt: skip
        middle = _RARE_WITH_COMMON[2 + 4 * halves]
        left, right = unplaced(COMMON_FORENAME, middle, COMMON_FORENAME, halves)
        born = right.date_of_birth
        add(neg, "relatives", f"a rare surname and the common forename {COMMON_FORENAME}, the "
            f"middle name on one record only, born 28 years apart on the same day, {tag}",
            NEVER, left, right.copy(date_of_birth=born.replace(year=born.year - 28)),
            "a generation apart: the parent and the child named after them")  # fmt: skip
        middle = _RARE_WITH_COMMON[3 + 4 * halves]
        add(neg, "twins", f"a rare surname, the same middle name, first forenames "
            f"{COMMON_FORENAME} and DAVID, {tag}", NEVER,
            *unplaced(COMMON_FORENAME, middle, f"DAVID {middle}", halves),
            "twins share a middle name, never a first forename")  # fmt: skip
        middle = next(names)[1]
        add(neg, "namesakes", f"{COMMON_FORENAME} {COMMON_SURNAME}, middle name on one record "
            f"only, same birth date, {tag}", NEVER,
            *unplaced(COMMON_FORENAME, middle, COMMON_FORENAME, halves, COMMON_SURNAME),
            "a common name: the evidence cannot decide")  # fmt: skip
        first, middle = next(names)
        left, right = unplaced(first, middle, f"{first} {middle}", halves)
        add(same, "surname", f"two letters swapped, rare name, {tag}", MATCH, left,
            right.copy(surname=_swap_start(left.surname)),
            "the surname's letters agree (one keying slip), a rare surname, and the whole "
            "forenames and birth date")  # fmt: skip
    slip = _swap_start(COMMON_SURNAME)
    left, right = unplaced(COMMON_FORENAME, _RARE_MIDDLE[2], f"{COMMON_FORENAME} {_RARE_MIDDLE[2]}",
                           False, COMMON_SURNAME)  # fmt: skip
    add(neg, "namesakes", f"{COMMON_FORENAME} {COMMON_SURNAME} and {COMMON_FORENAME} {slip} (two "
        "letters swapped) with a middle name, the death registered by another council, no home "
        "on the death record", NEVER, left, right.copy(surname=slip),
        "a common surname with two letters swapped is still common: the evidence cannot decide",
        partner=1)  # fmt: skip
    left, right = pair(f"{COMMON_FORENAME} {_RARE_MIDDLE[0]}")
    left = left.copy(surname=COMMON_SURNAME)
    other = right.copy(surname=COMMON_SURNAME, forenames=COMMON_FORENAME,
                       address=address_for(1700 + len(out)), postcode=postcode_for(1, 1700 + len(out)))  # fmt: skip
    add(neg, "namesakes", f"{COMMON_FORENAME} {COMMON_SURNAME}, middle name on one record only, "
        "same birth date, another council and home", NEVER, left, no_ni(other),
        "a death record at another home is someone else's")  # fmt: skip
    left, right = pair(f"{COMMON_FORENAME} {_RARE_MIDDLE[1]}")
    left = left.copy(surname=COMMON_SURNAME)
    number, street = left.address.split(" ", 1)
    other = right.copy(surname=COMMON_SURNAME, forenames=COMMON_FORENAME, postcode=None,
                       address=f"{int(number) + 80} {street}")  # fmt: skip
    add(neg, "namesakes", f"{COMMON_FORENAME} {COMMON_SURNAME}, same birth date, the death record "
        "shows no postcode and another number in the same street", NEVER, left, no_ni(other),
        "the address alone says the home: another house number is another home")  # fmt: skip
    left, right = pair("SUSAN")
    add(neg, "twins", "same surname, birth date and home, forenames SUSAN and SANDRA KAREN "
        "(similar, the same initial)", NEVER, left, no_ni(right.copy(forenames="SANDRA KAREN")),
        "the same initial is not a short form: the names sound different")  # fmt: skip
    left, right = pair("MICHAEL")
    add(neg, "twins", "same surname, birth date and home, forenames MICHAEL and MITCHELL "
        "(close, the same initial)", NEVER, left, no_ni(right.copy(forenames="MITCHELL")),
        "the same initial is not a short form: the names sound different")  # fmt: skip
    # a common name and the exact birth date, no home on the death record: the council
    # holding both records tells the person from a namesake (the whole forenames, then the
    # middle name on one record only: in this order, so the identities stay as they were)
    for i, (shape, whole) in enumerate((("equal", True), ("middle name dropped", False))):
        name = f"{COMMON_FORENAME} {_RARE_MIDDLE[2 + 2 * i]}"
        shown = name if whole else COMMON_FORENAME
        what = f"{shape}, {COMMON_FORENAME} {COMMON_SURNAME}" + (
            " with a middle name" if whole else ""
        )
        add(same, "forenames", f"{what}, the death registered by the same council, no home on "
            "the death record", MATCH,
            *unplaced(*name.split(), shown, False, COMMON_SURNAME),
            f"the {'whole' if whole else 'first'} name and birth date at one council leave no "
            "namesake to speak of", partner=0)  # fmt: skip
        name = f"{COMMON_FORENAME} {_RARE_MIDDLE[3 + 2 * i]}"
        shown = name if whole else COMMON_FORENAME
        add(neg, "namesakes", f"{what}, the death registered by another council, no home on "
            "the death record", NEVER,
            *unplaced(*name.split(), shown, False, COMMON_SURNAME),
            "a common name at another council: the evidence cannot decide")  # fmt: skip
    # both initials of a common forename and a rare middle name, a common surname, no home on
    # the death record: the council holding both records decides, as for the name itself
    for middle, partner, expect in ((_RARE_MIDDLE[6], 0, MATCH), (_RARE_MIDDLE[7], 1, NEVER)):
        where = "the same council" if partner == 0 else "another council"
        initials = f"{COMMON_FORENAME[0]} {middle[0]}"
        add(same if expect == MATCH else neg, "forenames" if expect == MATCH else "namesakes",
            f"both initials ({initials}), {COMMON_FORENAME} {COMMON_SURNAME} with a middle name, "
            f"the death registered by {where}, no home on the death record", expect,
            *unplaced(COMMON_FORENAME, middle, initials, False, COMMON_SURNAME),
            "every initial and the birth date at one council leave no namesake to speak of"
            if partner == 0 else "a common name at another council: the evidence cannot decide",
            partner=partner)  # fmt: skip
    surname = _OWN_SURNAMES[5]  # TRELAWNEY, and TRELANWEY with two letters swapped
    left, right = pair("NORMAN", date(1940, 8, 23))
    left, right = left.copy(surname=surname), right.copy(surname=surname)
    add("same person", "all", "same home, a slip in each of surname (two letters swapped), "
        "forename (two letters swapped) and birth month", MATCH, left,
        no_ni(right.copy(surname=surname[:5] + surname[6] + surname[5] + surname[7:],
                         forenames="NORAMN", date_of_birth=date(1940, 7, 23))),
        "one slip in each is still the same person at the same home; met on the postcode "
        "and the surname's letters in order, since no whole value is left to meet on")  # fmt: skip
    _death_place_cells(pair, no_ni, add, len(out))
    return out


#: Rare names of the death-place cells (the other rare names are all taken above)
_DEATH_PLACE_NAMES = ("EBENEZER ANSELM", "MELCHIOR THEODRIC", "LUCIEN WYSTAN", "ZACCHAEUS ORRIN")


#: Surnames no other cell or background record has, for cells added after the grids'
#: identities were laid out: a surname the stems make (ELSDALE) would count once more in
#: the dataset and move another rule's cells' term frequencies
_OWN_SURNAMES = ("TREGARTHEN", "PENHALIGON", "CARNSEW", "TREWHELLA", "POLKINGHORNE", "TRELAWNEY")
_OWN_FORENAMES = ("JOCELYN", "PERPETUA", "BARTIMAEUS")


def _death_place_cells(pair, no_ni, add, base: int) -> None:
    """A death registered at a hospital or a care home: an address that says where the person
    died or last stayed, not their home, so the home cannot be compared (as if missing). A
    private address elsewhere is another home; a street named after a hospital is a street."""
    same, neg = "same person", "hard negative"
    hospital = "Royal Northmoor Infirmary, 26 Russell Street"
    care_home = "Beechwood Care Home, 76 Primrose Terrace"

    placed_n = [0]

    def placed(forenames: str, address: str, surname: str | None = None):
        """A pair whose death record shows ``address``, with a postcode of its own: one
        postcode shared by many death records would say an institution (death_postcode)."""
        left, right = pair(forenames)
        if surname:
            left, right = left.copy(surname=surname), right.copy(surname=surname)
        placed_n[0] += 1
        postcode = postcode_for(1, base + 900 + 10 * placed_n[0])
        return left, no_ni(right.copy(address=address, postcode=postcode))

    add(same, "address", "a rare name, the death registered at a hospital by another council",
        MATCH, *placed(_DEATH_PLACE_NAMES[0], hospital),
        "a hospital is where the person died, not another home: a rare name and the birth "
        "date decide, as with no home shown", partner=1)  # fmt: skip
    name = f"{COMMON_FORENAME} {_DEATH_PLACE_NAMES[1].split()[0]}"
    add(same, "address", f"{name} {COMMON_SURNAME}, the death registered at a care home by the "
        "same council", MATCH, *placed(name, care_home, COMMON_SURNAME),
        "the whole name and birth date at one council leave no namesake to speak of", partner=0)  # fmt: skip
    name = f"{COMMON_FORENAME} {_DEATH_PLACE_NAMES[1].split()[1]}"
    add(neg, "namesakes", f"{name} {COMMON_SURNAME}, the death registered at a care home by "
        "another council", NEVER, *placed(name, care_home, COMMON_SURNAME),
        "a common name at another council: the evidence cannot decide", partner=1)  # fmt: skip
    # field "another home", not "namesakes": the homes are all that differ, so blanking them
    # leaves the cell "home not comparable", a match (test_missingness leaves it out, as it
    # does two NI numbers)
    add(neg, "another home", "a rare name, the death registered at another private home by "
        "another council", NEVER,
        *placed(_DEATH_PLACE_NAMES[2], address_for(base + 900)),
        "another home: the person may have moved, or it is a namesake; the evidence cannot "
        "decide", partner=1)  # fmt: skip
    add(neg, "another home", "a rare name, the death registered at another home on HOSPITAL LANE "
        "by another council", NEVER, *placed(_DEATH_PLACE_NAMES[3], "23 Hospital Lane"),
        "a street named after a hospital is a street: another home", partner=1)  # fmt: skip
    # a known short form of the first forename (JOHNNY for JOHN): twins never bear two forms
    # of one name, so it decides where the whole forename would (the same council for a
    # common surname, a rare surname anywhere), and a common name at another council never
    for variant, forenames, surname, partner, expect in (
        (f"JOHNNY {COMMON_SURNAME} for {COMMON_FORENAME} {COMMON_SURNAME}, the same council",
         COMMON_FORENAME, COMMON_SURNAME, 0, MATCH),
        (f"JOHNNY {COMMON_SURNAME} for {COMMON_FORENAME} {COMMON_SURNAME}, another council",
         COMMON_FORENAME, COMMON_SURNAME, 1, NEVER),
        ("TED for EDWARD, a rare surname, another council", "EDWARD", _OWN_SURNAMES[0], 1, MATCH),
    ):  # fmt: skip
        left, right = placed(forenames, hospital, surname)
        left = left.copy(forenames="JOHNNY" if forenames == COMMON_FORENAME else "TED")
        add(same if expect == MATCH else neg, "forenames" if expect == MATCH else "namesakes",
            f"a known short form ({variant}), the death registered at a hospital", expect,
            left, right,
            "a known short form is the name itself, which no twin shares; the home cannot be "
            "compared, so a common surname decides only at the council holding both records"
            if expect == MATCH else "a common name at another council: the evidence cannot "
            "decide", partner=partner)  # fmt: skip
    # a death record showing no address and the postcode of a hospital (as many deaths are
    # registered there as INSTITUTION_DEATHS, with this one): the home cannot be compared; a
    # private home's postcode is another home
    for variant, forenames, surname, postcode, partner, expect, why in (
        ("a rare name, the death record shows no address and a hospital's postcode (more than "
         "ten deaths registered there), another council", _OWN_FORENAMES[0], _OWN_SURNAMES[2],
         institution_postcode(), 1, MATCH, "a postcode where many die is no home: a rare name "
         "and the birth date decide, as with a hospital named in the address"),
        (f"{COMMON_FORENAME} {COMMON_SURNAME}, the death record shows no address and a "
         "hospital's postcode, another council", COMMON_FORENAME, COMMON_SURNAME,
         institution_postcode(), 1, NEVER, "a common name at another council: the evidence "
         "cannot decide"),
        ("a rare name, the death record shows no address and another home's postcode, "
         "another council", _OWN_FORENAMES[1], _OWN_SURNAMES[3], postcode_for(1, base + 950),
         1, NEVER, "another home: the person may have moved, or it is a namesake"),
    ):  # fmt: skip
        left, right = placed(forenames, "", surname)
        add(same if expect == MATCH else neg,
            "address" if expect == MATCH else ("namesakes" if surname == COMMON_SURNAME
                                               else "another home"),
            variant, expect, left, right.copy(address=None, postcode=postcode), why,
            partner=partner)  # fmt: skip
    # a surname with a slip no letters in order explain (one letter doubled), at a hospital
    # at another council: both spellings rare decide; a common surname's slip is the common
    # surname still, and counting the slip alone would call it rare
    for variant, surname, slip, expect, why in (
        ("a rare surname with a letter doubled on the death record", _OWN_SURNAMES[4],
         _OWN_SURNAMES[4][:5] + _OWN_SURNAMES[4][4:], MATCH,
         "both spellings are rare: a namesake would need them, the whole forenames and the "
         "birth date"),
        (f"{COMMON_SURNAME} with a letter doubled on the death record ({COMMON_SURNAME[:3]}"
         f"{COMMON_SURNAME[2:]})", COMMON_SURNAME, COMMON_SURNAME[:3] + COMMON_SURNAME[2:], NEVER,
         "a common surname written with a slip is still a common surname: the evidence cannot "
         "decide"),
    ):  # fmt: skip
        left, right = placed(f"{_OWN_FORENAMES[2]} {_RARE_MIDDLE[0]}", hospital, surname)
        add(same if expect == MATCH else neg, "surname" if expect == MATCH else "namesakes",
            f"{variant}, the death registered at a hospital by another council", expect,
            left, right.copy(surname=slip), why, partner=1)  # fmt: skip
    # surname and forenames transposed on the death record (a partner's extract with the two
    # columns swapped on some rows): the same names, so the same evidence as the names
    left, right = placed("LEONARD", "", _OWN_SURNAMES[1])
    right = right.copy(address=left.address, postcode=left.postcode)
    add(same, "surname", "surname and forenames transposed on the death record, same home",
        MATCH, left, no_ni(right.copy(surname=right.forenames, forenames=right.surname)),
        "the same names in each other's column, the same birth date and home")  # fmt: skip
    for partner, expect in ((0, MATCH), (1, NEVER)):
        where = "the same council" if partner == 0 else "another council"
        left, right = placed(COMMON_FORENAME, hospital, COMMON_SURNAME)
        right = right.copy(surname=right.forenames, forenames=right.surname)
        add(same if expect == MATCH else neg, "surname" if expect == MATCH else "namesakes",
            f"{COMMON_FORENAME} {COMMON_SURNAME} transposed on the death record (surname "
            f"{COMMON_FORENAME}), the death registered at a hospital by {where}", expect,
            left, right,
            "the whole name and birth date at one council leave no namesake to speak of"
            if expect == MATCH else "a common name at another council: the evidence cannot "
            "decide", partner=partner)  # fmt: skip


def _short_namesakes(grid: RuleGrid, pair, add, no_ni, n: list[int]) -> None:
    """Namesakes with a forename written short, and one-home namesakes with no postcode.

    A forename written short (an initial, a middle name used as the first) is weaker
    agreement than the forename itself, so a common surname with it decides no more than
    the common name does. Where a record leaves the postcode empty, its address still shows
    the home: two addresses that differ are two homes, the same address one home.
    """
    name, surname = COMMON_FORENAME, COMMON_SURNAME
    short = "a common surname with a common forename written short decides no more than the "
    for variant, forenames, why in (
        (f"{name[0]} {surname} and {name} {surname}", name[0], "initial"),
        (f"{name} {surname} and DAVID {name} {surname}", f"DAVID {name}", "middle name"),
    ):
        left, _ = pair(name)
        left = left.copy(surname=surname)
        other = left.copy(forenames=forenames, address=address_for(n[0] + 700),
                          postcode=postcode_for(1, n[0] + 700))  # fmt: skip
        add("hard negative", "namesakes", f"{variant}, same birth date, another council and "
            "home, nothing else in common", NEVER, left, no_ni(other),
            short + f"common name itself: an {why} is shared by more people than the name")  # fmt: skip
    if grid.homes != "one":
        return
    for side in ("left", "right"):
        left, _ = pair(name)
        left = left.copy(surname=surname)
        other = left.copy(address=address_for(n[0] + 700), postcode=postcode_for(1, n[0] + 700))
        if side == "left":
            left = left.copy(postcode=None)
        else:
            other = other.copy(postcode=None)
        add("hard negative", "namesakes", f"{name} {surname}, same birth date, another council,"
            f" postcode missing {side} and another address", NEVER, left, no_ni(other),
            "the addresses show two homes: with no postcode, the address is the home's evidence")  # fmt: skip
    for side, other_side in (("left", "right"), ("right", "left")):
        left, right = pair(name)
        left, right = left.copy(surname=surname), right.copy(surname=surname)
        blank = {"left": left, "right": right}
        blank[side] = blank[side].copy(postcode=None)
        blank[other_side] = blank[other_side].copy(ni_number=None)
        add("same person", "postcode", f"missing {side}, NI missing {other_side}, "
            f"{name} {surname} at the same address", MATCH, blank["left"], blank["right"],
            "the same address shows the same home: a common name there is not left undecided")  # fmt: skip
    # the same, with the forename written as its initial on the record with no postcode:
    # the same home, surname and birth date with a forename written short is the person
    for side, other_side in (("left", "right"), ("right", "left")):
        left, right = pair(name)
        left, right = left.copy(surname=surname), right.copy(surname=surname)
        blank = {"left": left, "right": right}
        blank[side] = blank[side].copy(postcode=None, forenames=name[0])
        blank[other_side] = blank[other_side].copy(ni_number=None)
        add("same person", "postcode", f"missing {side}, NI missing {other_side}, "
            f"{name[0]} {surname} and {name} {surname} at the same address", MATCH,
            blank["left"], blank["right"],
            "the same address, surname and birth date, and the forename written short: a "
            "missing postcode is no evidence either way")  # fmt: skip


def _possible(cell: Cell, grid: RuleGrid, spec: Spec) -> bool:
    """Whether both records can be submitted: a required field left empty is rejected."""
    for person, ds in ((cell.left, grid.left), (cell.right, grid.right)):
        for col in spec.dataset(ds).columns:
            if col.required and getattr(person, col.name, "") is None:
                return False
    return True


def grid_cells(spec: Spec | None = None) -> dict[str, list[Cell]]:
    """Every rule's cells (those both extracts can hold), identities apart across rules.

    Apart only up to 100 identities a rule: the deceased grids use more, so their last
    identities are the next rule's first ones (the same surname and birth date), and the
    tenancy rule's model moves when records are added to housing_tenants anywhere. Cells
    added late therefore use surnames and postcodes of their own (_OWN_SURNAMES).
    """
    spec = spec or load_spec()
    return {
        g.rule: [c for c in cells(g, 100 * i) if _possible(c, g, spec)] for i, g in enumerate(GRIDS)
    }


def grid_of(rule: str) -> RuleGrid:
    return next(g for g in GRIDS if g.rule == rule)


# --------------------------------------------------------------------------- background

_SURNAMES = (
    (COMMON_SURNAME,) * 12
    + ("JONES",) * 8
    + ("TAYLOR",) * 6
    + (
        "BROWN",
        "WILSON",
        "EVANS",
        "THOMAS",
        "JOHNSON",
        "ROBERTS",
        "WALKER",
        "WRIGHT",
        "ROBINSON",
        "THOMPSON",
        "WHITE",
        "HUGHES",
        "EDWARDS",
        "GREEN",
        "HALL",
        "WOOD",
        "HARRIS",
        "LEWIS",
        "MARTIN",
        "JACKSON",
        "CLARKE",
        "CLARK",
        "TURNER",
        "HILL",
        "SCOTT",
        "COOPER",
        "MORRIS",
        "WARD",
        "MOORE",
        "KING",
        "WATSON",
        "BAKER",
        "HARRISON",
        "MORGAN",
        "PATEL",
        "YOUNG",
    )
)
_FORENAMES = (COMMON_FORENAME,) * 10 + ("DAVID",) * 6 + ("SARAH",) * 6 + (
    "MICHAEL", "PAUL", "ANDREW", "MARK", "RICHARD", "CHRIS", "STEVEN", "DANIEL", "KAREN",
    "SUSAN", "HELEN", "EMMA", "LISA", "CLAIRE", "JULIE", "RACHEL", "LAURA", "NICOLA", "ANNE",
    "MARGARET", "WILLIAM", "THOMAS", "GEORGE", "EMILY", "OLIVIA", "JACK", "HARRY", "SOPHIE",
)  # fmt: skip


def background(people: int = 360, seed: int = 7) -> list[tuple[Person, list[int]]]:
    """Ordinary residents, each at a home in one partner's area and known to 1–3 partners.

    Many share the common names, so u and term frequencies behave as in a run; some are
    known to two partners (moved, or records of the same person), so EM sees true matches.
    """
    rng = random.Random(seed)
    out = []
    for i in range(people):
        home = rng.randrange(3)
        known = sorted({home, *rng.sample(range(3), rng.choice((0, 0, 1, 2)))})
        out.append(
            (
                Person(
                    surname=rng.choice(_SURNAMES),
                    forenames=rng.choice(_FORENAMES),
                    date_of_birth=date(
                        rng.randint(1935, 2004), rng.randint(1, 12), rng.randint(1, 28)
                    ),  # fmt: skip
                    ni_number=ni_for(5000 + i) if rng.random() < 0.7 else None,
                    address=address_for(3000 + i),
                    postcode=postcode_for(home, 3000 + i),
                ),
                known,
            )
        )
    return out


# --------------------------------------------------------------------------- extracts

#: Clear columns of an ordinary background record, per dataset (in force at the cycle).
_DEFAULTS: dict[str, dict[str, str]] = {
    "payroll": _JOB,
    "housing_benefit": _CLAIM,
    "council_tax_reduction": _CLAIM,
    "housing_tenants": _TENANCY,
    "housing_waiting_list": {"application_date": "2025-01-01"},
    "deceased": _DEATH,
    "blue_badge": _BADGE,
    "concessionary_travel": _PASS,
}


def _row(record_id: str, person: Person, columns: list[str], extra: dict[str, str]) -> dict:
    values = {
        "record_id": record_id,
        "surname": person.surname,
        "forenames": person.forenames,
        "date_of_birth": person.date_of_birth.strftime("%d/%m/%Y"),  # as councils write it
        "ni_number": person.ni_number,
        "address": person.address,
        "postcode": person.postcode,
        **extra,
    }
    return {c: values.get(c) for c in columns}


def extract_rows(spec: Spec | None = None) -> dict[tuple[str, str], list[dict]]:
    """(dataset, partner) -> raw rows: the background plus every grid cell's two records."""
    import random as _random

    spec = spec or load_spec()
    rows: dict[tuple[str, str], list[dict]] = {}

    def put(ds: str, partner: int, record_id: str, person: Person, extra: dict[str, str]):
        columns = spec.dataset(ds).column_names
        rows.setdefault((ds, PARTNERS[partner]), []).append(
            _row(record_id, person, columns, {**_DEFAULTS[ds], **extra})
        )

    rng = _random.Random(11)
    for i, (person, known) in enumerate(background()):
        for partner in known:
            # the first partner writes 01/01 for an unknown birthday, as some councils do, and
            # AB123456C for an unknown NI number
            shown = _placeholder_birthday(person) if partner == 0 and i % 6 == 0 else person
            if partner == 0 and i % 20 == 7:
                shown = shown.copy(ni_number=PLACEHOLDER_NI)
            for ds in _DEFAULTS:
                if rng.random() < 0.5:
                    put(ds, partner, f"bg{i}-{ds[:4]}", shown, {})
    for j, person in enumerate(_institution_deaths()):
        put("deceased", 1, f"bg-inst-{j}", person, {})
    for rule, cs in grid_cells(spec).items():
        grid = grid_of(rule)
        for k, cell in enumerate(cs):
            put(grid.left, 0, cell_id(rule, k, "L"), cell.left, cell.left_extra)
            put(grid.right, cell.right_partner, cell_id(rule, k, "R"), cell.right,
                cell.right_extra)  # fmt: skip
    return rows


#: A hospital's postcode, at which INSTITUTION_DEATHS deaths are registered with no address
#: (``postcode_for`` never makes it: its last digit 9 never comes with the letters AA)
INSTITUTION_POSTCODE_INDEX, INSTITUTION_DEATHS = 1, 11


def institution_postcode() -> str:
    return f"{_AREAS[INSTITUTION_POSTCODE_INDEX]}9 9AA"


def _institution_deaths() -> list[Person]:
    """Deaths registered at one hospital's postcode, no address shown: other patients."""
    return [
        Person(surname=f"QUILLER{chr(65 + j)}", forenames="MARGARET", ni_number=None,
               date_of_birth=date(1930 + j, 3, 14), address=None, postcode=institution_postcode())
        for j in range(INSTITUTION_DEATHS)
    ]  # fmt: skip


#: what the first partner writes for an unknown NI number (the grid's background has it on
#: eighteen people, about nine records of each dataset)
PLACEHOLDER_NI = "AB123456C"


def _placeholder_birthday(person: Person) -> Person:
    return person.copy(date_of_birth=person.date_of_birth.replace(month=1, day=1))


def cell_id(rule: str, index: int, side: str) -> str:
    return f"{rule}-{index}-{side}"


def raw_record(ds: str, record_id: str, person: Person, extra: dict[str, str], spec: Spec) -> dict:
    """One record of a person as a partner's extract holds it (an ordinary one's dates)."""
    return _row(record_id, person, spec.dataset(ds).column_names, {**_DEFAULTS[ds], **extra})

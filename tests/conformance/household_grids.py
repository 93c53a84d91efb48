"""Conformance grid of ``council_tax_spd_to_electoral_register`` and its three helpers.

The pair is (single-person discount, register entry at its address). The household's other
records ride along: the holder's own register entry (an elector is registered once) and a
council tax disregard (student, carer) where the cell has one, so the internal rules
``council_tax_spd_holder_registered``, ``council_tax_spd_holder_unclear``,
``council_tax_spd_holder_named``, ``council_tax_spd_holder_variant`` and
``council_tax_disregard_in_force`` are exercised through the rule they serve. Data only.
"""

from __future__ import annotations

import random
from datetime import date

from tests.conformance.grids import CYCLE, MATCH, NEVER
from tests.conformance.record_grids import CATCH, LEGIT, Rec, RecordCell, RecordGrid, postcode

RULE = "council_tax_spd_to_electoral_register"


def _home(i: int) -> dict[str, str | None]:
    return {
        "address": f"{20 + i} BECK LANE",
        "postcode": postcode(i + 1200),
        "uprn": f"{10090000 + i}",
    }


def _holder(i: int, surname: str, forenames: str = "JAMES ROBERT", **kw) -> Rec:
    values = {"surname": surname, "forenames": forenames, **_home(i),
              "discount_start_date": "01/04/2019", **kw}  # fmt: skip
    return Rec("council_tax_spd", values)


def _elector(i: int, surname: str, forenames: str, dob: date | None = None, **kw) -> Rec:
    values = {"surname": surname, "forenames": forenames, **_home(i),
              "date_of_birth": dob.strftime("%d/%m/%Y") if dob else None, **kw}  # fmt: skip
    return Rec("electoral_register", values)


def _disregard(i: int, surname: str, forenames: str, start: str | None = "01/09/2024",
               end: str | None = "30/06/2027", **kw) -> Rec:  # fmt: skip
    values = {"surname": surname, "forenames": forenames, **_home(i), "date_of_birth": None,
              "disregard_reason": "STUDENT", "start_date": start, "end_date": end, **kw}  # fmt: skip
    return Rec("council_tax_disregards", values)


def _surname(i: int) -> str:
    return "BECK" + "".join("ABDEFGHJKLMNPRSTW"[int(c)] for c in str(i)) + "ER"


def spd_cells(base: int) -> list[RecordCell]:
    out: list[RecordCell] = []
    n = [base]

    def nxt() -> tuple[int, str, Rec]:
        n[0] += 1
        i = n[0]
        return i, _surname(i), _holder(i, _surname(i))

    def add(group, fld, variant, expect, left, right, others=(), why=""):
        out.append(RecordCell(group, fld, variant, expect, left, right, tuple(others), why))

    def own(i: int, s: str) -> Rec:  # the holder's own register entry, as written on the SPD
        return _elector(i, s, "JAMES ROBERT")

    lodger = ("OKAFOR", "GRACE")
    i, s, h = nxt()
    add(CATCH, "other adult", "another surname and forenames, property reference on both",
        MATCH, h, _elector(i, *lodger), [own(i, s)])  # fmt: skip
    i, s, h = nxt()
    add(CATCH, "uprn", "missing on the discount", MATCH, _holder(i, s, uprn=None),
        _elector(i, *lodger), [own(i, s)])  # fmt: skip
    i, s, h = nxt()
    add(CATCH, "uprn", "missing on the register", MATCH, h, _elector(i, *lodger, uprn=None),
        [own(i, s)])  # fmt: skip
    i, s, h = nxt()
    add(CATCH, "uprn", "missing on both", MATCH, _holder(i, s, uprn=None),
        _elector(i, *lodger, uprn=None), [_elector(i, s, "JAMES ROBERT", uprn=None)])  # fmt: skip
    i, s, h = nxt()
    add(CATCH, "address", "a house name, no house number, the same property reference", MATCH,
        _holder(i, s, address="Rose Cottage, Beck Lane"),
        _elector(i, *lodger, address="ROSE COTTAGE BECK LANE"),
        [_elector(i, s, "JAMES ROBERT", address="ROSE COTTAGE BECK LANE")])  # fmt: skip
    i, s, h = nxt()
    add(CATCH, "address", "written differently (Flat word, town, case), no property reference",
        MATCH, _holder(i, s, address=f"Flat 1, {20 + i} Beck Lane, Northmoor", uprn=None),
        _elector(i, *lodger, address=f"1 {20 + i} BECK LANE", uprn=None), [own(i, s)])  # fmt: skip
    i, s, h = nxt()
    add(CATCH, "postcode", "written without its space", MATCH, h,
        _elector(i, *lodger, postcode=postcode(i + 1200).replace(" ", "")), [own(i, s)])  # fmt: skip
    i, s, h = nxt()
    add(CATCH, "partner", "the holder's surname, another forename (holder registered too)",
        MATCH, h, _elector(i, s, "MARGARET"), [own(i, s)])  # fmt: skip
    i, s, h = nxt()
    add(CATCH, "partner", "the holder's surname, another forename, holder not registered",
        MATCH, h, _elector(i, s, "MARGARET"), [],
        "a forename that is another name, not a short form or an initial, is another person")  # fmt: skip
    i, s, h = nxt()
    add(CATCH, "partner", "the holder's surname, another name with the holder's initial "
        "(JESSICA beside JOHN), holder not registered", MATCH, _holder(i, s, "JOHN"),
        _elector(i, s, "JESSICA"), [],
        "two known given names, neither of which may be the other: another person")  # fmt: skip
    i, s, h = nxt()
    add(CATCH, "partner", "the holder registered under their own name, another elector with a "
        "forename like theirs (OLIVIA beside OLIVER)", MATCH, _holder(i, s, "OLIVER"),
        _elector(i, s, "OLIVIA"), [_elector(i, s, "OLIVER")],
        "an elector is registered once: beside the holder's own entry, a look-alike name is "
        "another person")  # fmt: skip
    i, s, h = nxt()
    add(CATCH, "partner", "the holder registered under their own name, another elector with "
        "the same forename and a new surname (JAMES ROBERT OKAFOR)", MATCH, h,
        _elector(i, "OKAFOR", "JAMES ROBERT"), [own(i, s)],
        "an elector is registered once: beside the holder's own entry, a look-alike name is "
        "another person")  # fmt: skip
    i, s, h = nxt()
    add(LEGIT, "holder", "own entry with a middle name (JAMES ROBERT for JAMES), beside an "
        "attainer of the holder's name (a son, 17)", NEVER, _holder(i, s, "JAMES"),
        _elector(i, s, "JAMES ROBERT"), [_elector(i, s, "JAMES", date(CYCLE.year - 17, 5, 2))],
        "an entry showing an attainer's date is not the holder, who pays council tax: the "
        "holder's own entry may be the look-alike")  # fmt: skip
    i, s, h = nxt()
    add(CATCH, "adult child", "the holder's surname, born 1998 (no date of birth shown)",
        MATCH, h, _elector(i, s, "THOMAS"), [own(i, s)])  # fmt: skip
    i, s, h = nxt()
    add(CATCH, "attainer", "turned 18 in May before the cycle", MATCH, h,
        _elector(i, s, "CHLOE", date(2008, 5, 17)), [own(i, s)])  # fmt: skip
    i, s, h = nxt()
    add(CATCH, "attainer", "turned 18 in the month before the cycle", MATCH, h,
        _elector(i, s, "CHLOE", date(CYCLE.year - 18, CYCLE.month - 1, 20)), [own(i, s)])  # fmt: skip
    i, s, h = nxt()
    add(CATCH, "attainer", "turns 18 on the cycle date", MATCH, h,
        _elector(i, s, "CHLOE", CYCLE.replace(year=CYCLE.year - 18)), [own(i, s)])  # fmt: skip
    i, s, h = nxt()
    add(CATCH, "disregard", "ended before the cycle date", MATCH, h, _elector(i, *lodger),
        [own(i, s), _disregard(i, *lodger, start="01/09/2022", end="30/06/2026")])  # fmt: skip
    i, s, h = nxt()
    add(CATCH, "disregard", "starts after the cycle date", MATCH, h, _elector(i, *lodger),
        [own(i, s), _disregard(i, *lodger, start="01/01/2027", end=None)])  # fmt: skip
    i, s, h = nxt()
    add(CATCH, "disregard", "in force for another adult of the household", MATCH, h,
        _elector(i, *lodger), [own(i, s), _elector(i, s, "THOMAS"), _disregard(i, s, "THOMAS")])  # fmt: skip
    i, s, h = nxt()
    add(CATCH, "disregard", "for a namesake at another house of the same street", MATCH, h,
        _elector(i, *lodger),
        [own(i, s), _disregard(i, *lodger, address=f"{21 + i} BECK LANE", uprn=None)])  # fmt: skip
    i, s, h = nxt()
    add(CATCH, "disregard", "no house number on it, the elector's surname, another forename",
        MATCH, h, _elector(i, *lodger),
        [own(i, s), _disregard(i, "OKAFOR", "PETER", address="BECK LANE", uprn=None)])  # fmt: skip

    i, s, h = nxt()
    add(LEGIT, "holder", "the holder's own entry", NEVER, h, own(i, s))
    for fld, variant, sur, fore in (
        ("forenames", "short form (JIM for JAMES)", None, "JIM"),
        ("forenames", "initial only", None, "J"),
        ("forenames", "typo", None, "JAMSE ROBERT"),
        ("forenames", "middle name first", None, "ROBERT"),
        ("surname", "typo", "typo", None),
        ("surname", "hyphenated", "hyphen", None),
        ("surname", "married (new surname)", "OKAFOR", None),
        (
            "forenames",
            "two letters swapped, a new surname (OKAFOR JMAES ROBERT)",
            "OKAFOR",
            "JMAES ROBERT",
        ),
    ):
        i, s, h = nxt()
        surname = {"typo": s[:3] + s[4] + s[3] + s[5:], "hyphen": f"{s}-OKAFOR"}.get(sur, sur)
        add(LEGIT, "holder", f"own entry, {fld} {variant}", NEVER, h,
            _elector(i, surname or s, fore or "JAMES ROBERT"))  # fmt: skip
    i, s, h = nxt()
    add(LEGIT, "holder", "own entry, two letters swapped in the one forename, a new surname "
        "(OKAFOR LSIA for LISA)", NEVER, _holder(i, s, "LISA"), _elector(i, "OKAFOR", "LSIA"),
        why="the letters of the forename agree and LSIA is no known name: the holder under a "
        "married name with a keying slip")  # fmt: skip
    i, s, h = nxt()
    add(LEGIT, "holder", "own entry, a short surname with a typo and a short form the name list "
        "lacks (RWOE NED for ROWE EDWARD)", NEVER, _holder(i, "ROWE", "EDWARD"),
        _elector(i, "RWOE", "NED"),
        why="the holder's own entry not found otherwise, a surname that sounds the same and is "
        "spelt alike: most likely the holder")  # fmt: skip
    i, s, h = nxt()
    add(LEGIT, "holder", "own entry, a forename like the holder's (OLIVIA for OLIVER), the "
        "holder not otherwise registered", NEVER, _holder(i, s, "OLIVER"),
        _elector(i, s, "OLIVIA"),
        why="with no entry under the holder's own name, a look-alike may be the holder "
        "written differently: the evidence cannot decide")  # fmt: skip
    for holder, entry in (
        ("CATHERINE", "KATE"),
        ("GILLIAN", "JILL"),
        ("AMELIA", "MILLIE"),
        ("JOHN", "JACK"),
        ("WILLIAM", "LIAM"),
        ("ALISTAIR", "ALI"),
    ):
        i, s, h = nxt()
        add(LEGIT, "holder", f"own entry under a name {holder} may go by ({entry}), the holder "
            "not otherwise registered", NEVER, _holder(i, s, holder), _elector(i, s, entry),
            why="a name in its own right that the holder's name may be known by (its sound, a "
            "formal name it stands for, its first letters): the holder written differently")  # fmt: skip
    i, s, h = nxt()
    add(LEGIT, "holder", "own entry under another surname, only the initial (OKAFOR J)", NEVER,
        h, _elector(i, "OKAFOR", "J"),
        why="the holder's own entry not found otherwise, and nothing tells this one from the "
        "holder under a married name: the evidence cannot decide")  # fmt: skip
    i, s, h = nxt()
    add(LEGIT, "disregard", "student in force on the cycle date", NEVER, h,
        _elector(i, *lodger), [own(i, s), _disregard(i, *lodger)])  # fmt: skip
    i, s, h = nxt()
    add(LEGIT, "disregard", "open-ended (no end date)", NEVER, h, _elector(i, *lodger),
        [own(i, s), _disregard(i, *lodger, end=None)])  # fmt: skip
    i, s, h = nxt()
    add(LEGIT, "disregard", "names written differently on it (initial, no property reference)",
        NEVER, h, _elector(i, *lodger), [own(i, s), _disregard(i, "OKAFOR", "G", uprn=None)])  # fmt: skip
    i, s, h = nxt()
    add(LEGIT, "disregard", "no house number on it (street and postcode), no property reference",
        NEVER, h, _elector(i, *lodger),
        [own(i, s), _disregard(i, *lodger, address="Beck Lane", uprn=None)],
        why="a house number missing on one record is no evidence either way: the street, its "
        "postcode and both names agree")  # fmt: skip
    i, s, h = nxt()
    add(LEGIT, "disregard", "no house number on the register entry (property reference there)",
        NEVER, h, _elector(i, *lodger, address="BECK LANE"),
        [own(i, s), _disregard(i, *lodger, uprn=None)])  # fmt: skip
    i, s, h = nxt()
    add(LEGIT, "disregard", "a surname typo that keeps its sound, no house number (OKAFRO)",
        NEVER, h, _elector(i, *lodger),
        [own(i, s), _disregard(i, "OKAFRO", "GRACE", address="BECK LANE", uprn=None)])  # fmt: skip
    i, s, h = nxt()
    add(LEGIT, "disregard", "another surname, both forenames the same, no house number", NEVER,
        h, _elector(i, "OKAFOR", "GRACE ADAEZE"),
        [own(i, s), _disregard(i, "MENSAH", "GRACE ADAEZE", address="BECK LANE", uprn=None)])  # fmt: skip
    i, s, h = nxt()
    add(LEGIT, "attainer", "turns 18 later in the cycle month", NEVER, h,
        _elector(i, s, "CHLOE", date(CYCLE.year - 18, CYCLE.month, 15)), [own(i, s)])  # fmt: skip
    i, s, h = nxt()
    add(LEGIT, "attainer", "turns 18 next year", NEVER, h,
        _elector(i, s, "CHLOE", date(CYCLE.year - 17, 2, 2)), [own(i, s)])  # fmt: skip
    i, s, h = nxt()
    add(LEGIT, "attainer", f"born in {CYCLE.year - 17} with an impossible month (30/13)", NEVER,
        h, _elector(i, s, "CHLOE", date_of_birth=f"30/13/{CYCLE.year - 17}"), [own(i, s)],
        "the year alone says a minor on the cycle date: the parts of a damaged date are "
        "evidence, never read as no date")  # fmt: skip
    i, s, h = nxt()
    add(LEGIT, "address", "another flat of the same building", NEVER,
        _holder(i, s, address=f"FLAT 2, {20 + i} BECK LANE", uprn=None),
        _elector(i, *lodger, address=f"FLAT 3, {20 + i} BECK LANE", uprn=None))  # fmt: skip
    i, s, h = nxt()
    add(LEGIT, "address", "next door (same street and postcode)", NEVER,
        _holder(i, s, uprn=None), _elector(i, *lodger, address=f"{21 + i} BECK LANE", uprn=None))  # fmt: skip
    i, s, h = nxt()
    add(LEGIT, "address", "same address line, another postcode", NEVER, _holder(i, s, uprn=None),
        _elector(i, *lodger, postcode=postcode(i + 1900), uprn=None))  # fmt: skip
    i, s, h = nxt()
    add(LEGIT, "address", "the street alone (no house number) and the postcode, no property "
        "reference", NEVER, _holder(i, s, address="BECK LANE", uprn=None),
        _elector(i, *lodger, address="Beck Lane", uprn=None),
        why="a street and its postcode hold about fifteen homes, not one: the two may be "
        "neighbours")  # fmt: skip
    i, s, h = nxt()
    add(LEGIT, "disregard", "on it under another surname and an initial (ADEYEMI G for "
        "GRACE OKAFOR)", NEVER, h, _elector(i, *lodger),
        [own(i, s), _disregard(i, "ADEYEMI", "G", uprn=None)],
        why="an initial that is the elector's first forename's, at the same home, links the "
        "disregard whatever the surnames: a missed link is a false lead about a student")  # fmt: skip
    i, s, h = nxt()
    add(LEGIT, "uprn", "two flats written alike (property references differ)", NEVER, h,
        _elector(i, *lodger, uprn=f"{10095000 + i}"), [own(i, s)])  # fmt: skip
    return out


def spd_background(households: int = 90) -> list[Rec]:
    """Households of partner 0 and 1: holders living alone, and families with no discount."""
    rng = random.Random(3)
    names = ("SMITH", "JONES", "TAYLOR", "BROWN", "KHAN", "PATEL", "WILSON", "EVANS")
    fores = ("JOHN", "SARAH", "DAVID", "EMMA", "PAUL", "ANNE", "MARK", "LISA")
    out: list[Rec] = []
    for k in range(households):
        i, partner = 9000 + k, k % 2
        home = {"address": f"{k + 1} MOOR VIEW", "postcode": postcode(i, partner), "uprn": None}
        s, f = rng.choice(names), rng.choice(fores)
        if k % 3 == 0:
            out.append(Rec("council_tax_spd", {"surname": s, "forenames": f, **home,
                                               "discount_start_date": None}, partner))  # fmt: skip
            out.append(Rec("electoral_register", {"surname": s, "forenames": f, **home}, partner))
        else:
            for f2 in rng.sample(fores, 2):
                out.append(
                    Rec("electoral_register", {"surname": s, "forenames": f2, **home}, partner)
                )
    return out


GRIDS = (
    RecordGrid(
        RULE,
        "a single-person discount at an address where another adult is registered to vote, "
        "neither the holder nor disregarded on the cycle date",
    ),
)
CELLS = {RULE: spd_cells}
BACKGROUND = (spd_background,)

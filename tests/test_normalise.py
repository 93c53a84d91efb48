"""Normalisers: pinned outputs for messy real-looking values, and properties for any text.

The golden table is the contract partners' data officers and the matching rules rely on: a
change to any row changes which records meet at the hub, so it must be deliberate.
"""

from __future__ import annotations

import importlib
import inspect
import math
import os
import pkgutil
from datetime import date
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fraudmatch.spec import normalisers
from fraudmatch.spec.normalisers import (
    NORMALISERS,
    Normalised,
    initials,
    normalise_column,
    two_initials,
)
from fraudmatch.spec.normalisers.dates import normalise_date
from fraudmatch.spec.normalisers.given_names import BRITISH_GIVEN_NAMES, given_names
from fraudmatch.spec.normalisers.spellings import SPELLINGS, spelling_table

# Every reason a normaliser may give. Reasons are grouped in the rejects summary, so they
# must be a small fixed set that never embeds the value.
REASONS = {
    "no name left after removing titles and punctuation",
    "invalid NI number: must be 2 letters, 6 digits and an optional letter",
    "invalid NI number: prefix not issued",
    "invalid NI number: suffix must be A, B, C or D",
    "invalid postcode",
    "invalid postcode: letter not used in that position",
    "two-digit year is ambiguous",
    "unrecognised date format",
    "year out of range",
    "impossible date",
    "sort code must contain only digits",
    "sort code must have 6 digits",
    "account number must contain only digits",
    "account number must have 7 or 8 digits",
    "UPRN must contain only digits",
    "UPRN must not be zero",
    "UPRN must have at most 12 digits",
    "no letters or digits in the code",
    "not an amount",
    "amount too large",
    "no address left after removing the postcode and punctuation",
}

NO_NAME = "no name left after removing titles and punctuation"
NINO_SHAPE = "invalid NI number: must be 2 letters, 6 digits and an optional letter"
NINO_PREFIX = "invalid NI number: prefix not issued"
NINO_SUFFIX = "invalid NI number: suffix must be A, B, C or D"
PC_BAD = "invalid postcode"
PC_LETTER = "invalid postcode: letter not used in that position"
NO_ADDRESS = "no address left after removing the postcode and punctuation"


# Built once: building the expressions costs about as much as running them on a few cells.
BUILT = {name: normalise_column(pl.col("raw"), name) for name in NORMALISERS}


def _run(normaliser: str, values: list[str | None]) -> pl.DataFrame:
    """Normalise a list of raw cells into value, error and one column per extra."""
    norm = BUILT[normaliser]
    frame = pl.DataFrame({"raw": values}, schema={"raw": pl.String})
    return frame.select(
        pl.col("raw"),
        norm.value.alias("value"),
        norm.error.alias("error"),
        *[expr.alias(name) for name, expr in norm.extras.items()],
    )


# --------------------------------------------------------------------------------------------
# Golden table: (normaliser, raw, value, error, extras)
# --------------------------------------------------------------------------------------------

G = tuple[str, str | None, Any, str | None, dict[str, str] | None]

GOLDEN: list[G] = [
    # record_id: trimmed, otherwise untouched (case kept: it is the partner's own key)
    ("record_id", " ABC-123 ", "ABC-123", None, None),
    ("record_id", "ab/99", "ab/99", None, None),
    ("record_id", "", None, None, None),
    ("record_id", "   ", None, None, None),
    ("record_id", None, None, None, None),
    # name
    (
        "name",
        "O'Brien-Smith",
        "OBRIEN SMITH",
        None,
        {"first": "OBRIEN", "last": "SMITH", "initial": "O"},
    ),
    ("name", "Dr. José", "JOSE", None, {"first": "JOSE", "last": "JOSE"}),
    (
        "name",
        "Mrs Anne-Marie  O’Neill",
        "ANNE MARIE ONEILL",
        None,
        {"first": "ANNE", "last": "ONEILL"},
    ),  # noqa: E501
    ("name", "MR", None, NO_NAME, {"first": None, "last": None, "initial": None}),
    ("name", "Mr.", None, NO_NAME, None),
    ("name", "Mr & Mrs", None, NO_NAME, None),
    ("name", "...", None, NO_NAME, None),
    ("name", "  smith  ", "SMITH", None, {"first": "SMITH", "last": "SMITH"}),
    ("name", "Łukasz Bøe", "LUKASZ BOE", None, None),
    ("name", "Straße", "STRASSE", None, None),
    ("name", "Ærin Þórsdóttir", "AERIN THORSDOTTIR", None, None),
    ("name", "Zoë", "ZOE", None, None),
    ("name", "D’Arcy", "DARCY", None, None),
    ("name", "Prof Sir John Smith Jnr", "JOHN SMITH", None, None),
    (
        "name",
        "MRS. J. SMITH-JONES",
        "J SMITH JONES",
        None,
        {"first": "J", "last": "JONES", "initial": "J"},
    ),
    # an initial as written ("S." for SOPHIE) is its own first word and initial
    ("name", "S.", "S", None, {"first": "S", "last": "S", "initial": "S"}),
    (
        "name",
        "Sophie Lauren",
        "SOPHIE LAUREN",
        None,
        {"first": "SOPHIE", "last": "LAUREN", "initial": "S"},
    ),
    ("name", "Élodie", "ELODIE", None, {"initial": "E", "formal": "ELODIE"}),
    # formal: the first word with a known short form written out; ambiguous ones stay
    ("name", "Jimmy Lee", "JIMMY LEE", None, {"first": "JIMMY", "formal": "JAMES"}),
    ("name", "Mr Bill", "BILL", None, {"formal": "WILLIAM"}),
    ("name", "Lee Jimmy", "LEE JIMMY", None, {"formal": "LEE"}),
    ("name", "Sam", "SAM", None, {"formal": "SAM"}),
    ("name", "Jack", "JACK", None, {"formal": "JACK"}),
    # from the nicknames package: one formal name only, never a name in its own right
    ("name", "Tori Ann", "TORI ANN", None, {"formal": "VICTORIA"}),
    ("name", "Sally", "SALLY", None, {"formal": "SALLY"}),
    ("name", "Mark", "MARK", None, {"formal": "MARK"}),
    # given: the known given name the first word is, a short form written out; null for an
    # unknown word, a typo, an initial or a short form of several names
    ("name", "Laura Jane", "LAURA JANE", None, {"given": "LAURA"}),
    ("name", "Lauren", "LAUREN", None, {"given": "LAUREN"}),
    ("name", "Leanne", "LEANNE", None, {"given": "LEANNE"}),
    ("name", "Tori", "TORI", None, {"given": "VICTORIA"}),
    ("name", "Jimmy", "JIMMY", None, {"given": "JAMES"}),
    ("name", "Jamie", "JAMIE", None, {"given": "JAMIE"}),
    ("name", "Luara", "LUARA", None, {"given": None}),
    ("name", "S", "S", None, {"given": None}),
    ("name", "Sam Lee", "SAM LEE", None, {"given": None}),
    ("name", "Chris", "CHRIS", None, {"given": None}),
    ("name", "Smith, John", "SMITH JOHN", None, None),
    ("name", "van der Berg", "VAN DER BERG", None, {"first": "VAN", "last": "BERG"}),
    ("name", "3M UK plc", "3M UK PLC", None, None),
    # titles that are also surnames go only as a leading word before a name
    ("name", "Lord", "LORD", None, {"first": "LORD", "last": "LORD"}),
    ("name", "Lord Smith", "SMITH", None, None),
    ("name", "John Lord", "JOHN LORD", None, None),
    ("name", "Lady Jane Grey", "JANE GREY", None, None),
    ("name", "", None, None, {"first": None, "last": None}),
    # ni_number: stem without suffix
    ("ni_number", "ab 12 34 56 c", "AB123456", None, {"head": "AB12", "tail": "3456"}),
    ("ni_number", "AB123456", "AB123456", None, None),
    ("ni_number", "AB-12-34-56-D", "AB123456", None, None),
    ("ni_number", "TN311258F", None, NINO_PREFIX, None),
    ("ni_number", "QQ123456C", None, NINO_PREFIX, None),
    ("ni_number", "AO123456A", None, NINO_PREFIX, None),
    ("ni_number", "GB123456A", None, NINO_PREFIX, None),
    ("ni_number", "DA123456A", None, NINO_PREFIX, None),
    ("ni_number", "ZZ123456A", None, NINO_PREFIX, None),
    ("ni_number", "AB123456E", None, NINO_SUFFIX, None),
    ("ni_number", "AB12345", None, NINO_SHAPE, None),
    ("ni_number", "123456789", None, NINO_SHAPE, None),
    ("ni_number", "AB123456CD", None, NINO_SHAPE, None),
    ("ni_number", " ", None, None, None),
    # postcode
    ("postcode", "sw1a1aa", "SW1A 1AA", None, {"sector": "SW1A 1", "district": "SW1A"}),
    ("postcode", " SW1A  1AA ", "SW1A 1AA", None, {"sector": "SW1A 1", "district": "SW1A"}),
    ("postcode", "EC1A1BB", "EC1A 1BB", None, {"sector": "EC1A 1", "district": "EC1A"}),
    ("postcode", "M1 1AE", "M1 1AE", None, {"sector": "M1 1", "district": "M1"}),
    ("postcode", "b33 8th", "B33 8TH", None, {"sector": "B33 8", "district": "B33"}),
    ("postcode", "CR2 6XH", "CR2 6XH", None, None),
    ("postcode", "DN55 1PT", "DN55 1PT", None, {"sector": "DN55 1", "district": "DN55"}),
    ("postcode", "W1A 0AX", "W1A 0AX", None, {"sector": "W1A 0", "district": "W1A"}),
    ("postcode", "GIR 0AA", "GIR 0AA", None, {"sector": "GIR 0", "district": "GIR"}),
    ("postcode", "QA1 1AA", None, PC_LETTER, {"sector": None, "district": None}),
    ("postcode", "AJ1 1AA", None, PC_LETTER, None),
    ("postcode", "AB1 2CD", None, PC_LETTER, None),
    ("postcode", "W1L 1AA", None, PC_LETTER, None),
    ("postcode", "SW1A 1AAA", None, PC_BAD, None),
    ("postcode", "12345", None, PC_BAD, None),
    ("postcode", "SW1A", None, PC_BAD, None),
    # date: day first, never guessed
    ("date", "31/02/1990", None, "impossible date", {"py": 1990, "pm": 2, "pd": 31}),
    ("date", "29/02/2000", date(2000, 2, 29), None, None),
    ("date", "29/02/1900", None, "impossible date", None),
    ("date", "1990-13-01", None, "impossible date", {"py": 1990, "pm": None, "pd": 1}),
    ("date", "1958-07-71", None, "impossible date", {"py": 1958, "pm": 7, "pd": None}),
    ("date", "01/02/1800", None, "year out of range", {"py": None, "pm": None, "pd": None}),
    ("date", "1990-02-30", None, "impossible date", None),
    ("date", "00/01/1990", None, "impossible date", {"py": 1990, "pm": 1, "pd": None}),
    ("date", "01/02/85", None, "two-digit year is ambiguous", None),
    ("date", "01-Feb-85", None, "two-digit year is ambiguous", None),
    ("date", "1990-01-31", date(1990, 1, 31), None, None),
    ("date", "1990-1-5", date(1990, 1, 5), None, None),
    ("date", "1990-01-31T00:00:00", date(1990, 1, 31), None, None),
    ("date", "1990-01-31 00:00:00", date(1990, 1, 31), None, None),
    ("date", "31/01/1990", date(1990, 1, 31), None, None),
    ("date", "1/2/1990", date(1990, 2, 1), None, None),
    ("date", "01-02-1990", date(1990, 2, 1), None, None),
    ("date", "01.02.1990", date(1990, 2, 1), None, None),
    ("date", "5 Jan 1990", date(1990, 1, 5), None, None),
    ("date", "05-JAN-1990", date(1990, 1, 5), None, None),
    ("date", "5 September 1990", date(1990, 9, 5), None, None),
    ("date", " 31/01/1990 13:45 ", date(1990, 1, 31), None, None),
    ("date", "1849-12-31", None, "year out of range", None),
    ("date", "01/01/2101", None, "year out of range", None),
    ("date", "01/02-1990", None, "unrecognised date format", None),
    ("date", "January 5 1990", None, "unrecognised date format", None),
    ("date", "5 Foo 1990", None, "unrecognised date format", None),
    # YYYYMMDD (ISO's basic form) is read; a day-first date run together never is
    ("date", "19900131", date(1990, 1, 31), None, None),
    ("date", "19900231", None, "impossible date", {"py": 1990, "pm": 2, "pd": 31}),
    ("date", "19901301", None, "unrecognised date format", None),
    ("date", "31011990", None, "unrecognised date format", None),
    ("date", "20011990", None, "unrecognised date format", None),
    ("date", "32874", None, "unrecognised date format", None),
    ("date", "", None, None, None),
    # sort_code
    ("sort_code", "12-34-56", "123456", None, None),
    ("sort_code", "12 34 56", "123456", None, None),
    ("sort_code", "12–34–56", "123456", None, None),
    ("sort_code", "12345", None, "sort code must have 6 digits", None),
    ("sort_code", "1234567", None, "sort code must have 6 digits", None),
    ("sort_code", "12-34-5A", None, "sort code must contain only digits", None),
    # account_number
    ("account_number", "1234567", "01234567", None, None),
    ("account_number", "12345678", "12345678", None, None),
    ("account_number", "1234 5678", "12345678", None, None),
    ("account_number", "123456", None, "account number must have 7 or 8 digits", None),
    ("account_number", "123456789", None, "account number must have 7 or 8 digits", None),
    ("account_number", "1234567X", None, "account number must contain only digits", None),
    # address: abbreviations written out, ST as SAINT only where it opens a name
    ("address", "12 High St.", "12 HIGH STREET", None, None),
    ("address", "Flat 3, 4 St Mary's Rd, AB1 2CD", "FLAT 3 4 SAINT MARYS ROAD", None, None),
    ("address", "St Marys Road", "SAINT MARYS ROAD", None, None),
    ("address", "12 High St, London", "12 HIGH STREET LONDON", None, None),
    ("address", "12 High St London", "12 HIGH STREET LONDON", None, None),
    ("address", "12 Park St London", "12 PARK STREET LONDON", None, None),
    ("address", "12 High Street St Albans", "12 HIGH STREET SAINT ALBANS", None, None),
    ("address", "Apt 2\nSt John's Ct", "FLAT 2 SAINT JOHNS COURT", None, None),
    ("address", "1 Acacia Ave sw1a1aa", "1 ACACIA AVENUE", None, None),
    ("address", "10 Downing St, London, SW1A 2AA", "10 DOWNING STREET LONDON", None, None),
    ("address", "Flt 1 Nth Rd", "FLAT 1 NORTH ROAD", None, None),
    ("address", "5 Rue de l'Église", "5 RUE DE LEGLISE", None, None),
    ("address", "2 The Gdns, Gt Ayton", "2 THE GARDENS GREAT AYTON", None, None),
    # address extras: line (premises and street: no FLAT/UNIT word, no locality) and number
    (
        "address",
        "Flat 3, 12 Elm Rd",
        "FLAT 3 12 ELM ROAD",
        None,
        {"line": "3 12 ELM ROAD", "number": "12"},
    ),
    (
        "address",
        "3, 12 Elm Road, Northmoor",
        "3 12 ELM ROAD NORTHMOOR",
        None,
        {"line": "3 12 ELM ROAD", "number": "12"},
    ),
    # the flat written after the street is the same home, never a locality to drop
    (
        "address",
        "12 Elm Road Flat 3",
        "12 ELM ROAD FLAT 3",
        None,
        {"line": "3 12 ELM ROAD", "number": "12"},
    ),
    ("address", "12 Elm Road", "12 ELM ROAD", None, {"line": "12 ELM ROAD", "number": "12"}),
    ("address", "13 ELM ROAD", "13 ELM ROAD", None, {"line": "13 ELM ROAD", "number": "13"}),
    # a street named like a street type: the run of type words ends the street
    (
        "address",
        "12 Park Rd, Southwold Bay",
        "12 PARK ROAD SOUTHWOLD BAY",
        None,
        {"line": "12 PARK ROAD", "number": "12"},
    ),
    (
        "address",
        "4 Court Lane Green End",
        "4 COURT LANE GREEN END",
        None,
        {"line": "4 COURT LANE GREEN END", "number": "4"},
    ),
    (
        "address",
        "12 Mount Pleasant Road Castle Hill",
        "12 MOUNT PLEASANT ROAD CASTLE HILL",
        None,
        {"line": "12 MOUNT PLEASANT ROAD", "number": "12"},
    ),
    ("address", "7 Elm Gr", "7 ELM GROVE", None, {"line": "7 ELM GROVE", "number": "7"}),
    # a flat in a named building is that flat of that building, with or without the
    # building's street number (sheltered housing is written both ways)
    (
        "address",
        "Flat 2, Rose Court, 14 High St, London",
        "FLAT 2 ROSE COURT 14 HIGH STREET LONDON",
        None,
        {"line": "2 ROSE COURT", "number": "2"},
    ),
    (
        "address",
        "2 Rose Court, High Street",
        "2 ROSE COURT HIGH STREET",
        None,
        {"line": "2 ROSE COURT", "number": "2"},
    ),
    (
        "address",
        "Flat 7, Linden Lodge, 160 Burnside Place",
        "FLAT 7 LINDEN LODGE 160 BURNSIDE PLACE",
        None,
        {"line": "7 LINDEN LODGE BURNSIDE PLACE", "number": "7"},
    ),
    (
        "address",
        "7 Linden Lodge, Burnside Place",
        "7 LINDEN LODGE BURNSIDE PLACE",
        None,
        {"line": "7 LINDEN LODGE BURNSIDE PLACE", "number": "7"},
    ),
    (
        "address",
        "Unit 4, 7 Mill Lane",
        "UNIT 4 7 MILL LANE",
        None,
        {"line": "4 7 MILL LANE", "number": "7"},
    ),
    ("address", "12A The Green", "12A THE GREEN", None, {"line": "12A THE GREEN", "number": "12A"}),
    # no house number and street: every word but FLAT stays; no number
    (
        "address",
        "Rose Cottage, Northmoor",
        "ROSE COTTAGE NORTHMOOR",
        None,
        {"line": "ROSE COTTAGE NORTHMOOR", "number": None},
    ),
    ("address", "Flat", "FLAT", None, {"line": "FLAT", "number": None}),
    # a flat number alone reads as the house number: it cannot be told apart
    (
        "address",
        "Flat 1 Nth Rd",
        "FLAT 1 NORTH ROAD",
        None,
        {"line": "1 NORTH ROAD", "number": "1"},
    ),
    # a Scottish tenement flat (2F1: second floor, first flat) is the 2/1 others write, and
    # written after the street it still goes first; a room is written as a flat
    (
        "address",
        "2F1, 112 School Way",
        "2 1 112 SCHOOL WAY",
        None,
        {"line": "2 1 112 SCHOOL WAY", "number": "112"},
    ),
    (
        "address",
        "112 School Way (2/1), Kirkbrae",
        "112 SCHOOL WAY 2 1 KIRKBRAE",
        None,
        {"line": "2 1 112 SCHOOL WAY", "number": "112"},
    ),
    (
        "address",
        "Room 3, 110 Farm Street",
        "ROOM 3 110 FARM STREET",
        None,
        {"line": "3 110 FARM STREET", "number": "110"},
    ),
    # a flat lettered before the house number is the number with that letter
    (
        "address",
        "Flat B, 20 King Gardens",
        "FLAT B 20 KING GARDENS",
        None,
        {"line": "20B KING GARDENS", "number": "20B"},
    ),
    (
        "address",
        "20 King Gardens Flat B",
        "20 KING GARDENS FLAT B",
        None,
        {"line": "20B KING GARDENS", "number": "20B"},
    ),
    # "c/o" someone is no part of the home; with nothing after it, it is all there is
    (
        "address",
        "C/O Sandhu, Flat 2/2, 112 School Way",
        "FLAT 2 2 112 SCHOOL WAY",
        None,
        {"line": "2 2 112 SCHOOL WAY", "number": "112"},
    ),
    ("address", "c/o Khan 237 Vale Terrace", "237 VALE TERRACE", None, None),
    ("address", "C/O Post Office", "C O POST OFFICE", None, None),
    ("address", "AB1 2CD", None, NO_ADDRESS, None),
    ("address", "--", None, NO_ADDRESS, None),
    # text
    ("text", "  senior   social worker ", "SENIOR SOCIAL WORKER", None, None),
    ("text", "Straße", "STRASSE", None, None),
    ("text", "!!!", "!!!", None, None),
    # code
    ("code", "AB-12 cd", "AB12CD", None, None),
    ("code", "GB 123 4567 89", "GB123456789", None, None),
    ("code", "é1", "E1", None, None),
    ("code", "--", None, "no letters or digits in the code", None),
    # uprn
    ("uprn", "000100023336956", "100023336956", None, None),
    ("uprn", "100023336956.0", "100023336956", None, None),
    ("uprn", " 10023 ", "10023", None, None),
    ("uprn", "0", None, "UPRN must not be zero", None),
    ("uprn", "1234567890123", None, "UPRN must have at most 12 digits", None),
    ("uprn", "12a", None, "UPRN must contain only digits", None),
    # amount: pounds as Float64, rounded half away from zero on the decimal digits
    ("amount", "£1,234.50", 1234.5, None, None),
    ("amount", "(12.00)", -12.0, None, None),
    ("amount", "1234.5", 1234.5, None, None),
    ("amount", "-12", -12.0, None, None),
    ("amount", "GBP 10", 10.0, None, None),
    ("amount", "10 GBP", 10.0, None, None),
    ("amount", "£ 1,234,567.891", 1234567.89, None, None),
    ("amount", "-£5.2", -5.2, None, None),
    ("amount", "1.005", 1.01, None, None),
    ("amount", "-1.005", -1.01, None, None),
    ("amount", ".5", 0.5, None, None),
    ("amount", "40.3", 40.3, None, None),  # exactly the float nearest 40.3, not 40.300000000000004
    ("amount", "-0.05", -0.05, None, None),
    ("amount", "-0.00", 0.0, None, None),
    ("amount", "1,23", None, "not an amount", None),
    ("amount", "12,34.5", None, "not an amount", None),
    ("amount", "£", None, "not an amount", None),
    ("amount", "abc", None, "not an amount", None),
    ("amount", "(12", None, "not an amount", None),
    ("amount", "(-12)", None, "not an amount", None),
    ("amount", "--5", None, "not an amount", None),
    ("amount", "1e5", None, "not an amount", None),
    ("amount", "99999999999999", None, "amount too large", None),
]


@pytest.mark.parametrize(
    ("normaliser", "raw", "value", "error", "extras"),
    GOLDEN,
    ids=[f"{row[0]}:{row[1]!r}" for row in GOLDEN],
)
def test_golden(
    normaliser: str,
    raw: str | None,
    value: Any,
    error: str | None,
    extras: dict[str, str] | None,
) -> None:
    row = _run(normaliser, [raw]).row(0, named=True)
    assert (row["value"], row["error"]) == (value, error)
    if isinstance(value, float):
        assert math.copysign(1.0, row["value"]) == math.copysign(1.0, value)  # no -0.0
    for name, expected in (extras or {}).items():
        assert row[name] == expected, name


def test_golden_covers_every_normaliser_and_reason() -> None:
    assert {row[0] for row in GOLDEN} == set(NORMALISERS)
    assert {row[3] for row in GOLDEN if row[3]} == REASONS


# --------------------------------------------------------------------------------------------
# API and types
# --------------------------------------------------------------------------------------------

EXPECTED_EXTRAS = {
    "name": {"first", "last", "initial", "formal", "given", "initials", "two_initials", "letters"},
    "postcode": {"sector", "district"},
    "address": {"line", "number", "street"},
    "ni_number": {"head", "tail"},
    "date": {"py", "pm", "pd"},
}
#: Extras that may be null for a valid value (an address without a house number or street,
#: a name whose first word is no known given name).
OPTIONAL_EXTRAS = {"number", "street", "given", "initials", "two_initials"}
#: Extras only an invalid value has: the possible parts of an impossible date.
PARTIAL_EXTRAS = {"py", "pm", "pd"}
DTYPES = {"date": pl.Date, "amount": pl.Float64}


def test_registry_names_are_the_data_specification_normalisers() -> None:
    assert set(NORMALISERS) == {
        "record_id", "name", "ni_number", "postcode", "date", "sort_code",
        "account_number", "address", "text", "code", "uprn", "amount",
    }  # fmt: skip


def test_unknown_normaliser_lists_the_valid_names() -> None:
    with pytest.raises(KeyError, match="postcode"):
        normalise_column(pl.col("x"), "nope")


@pytest.mark.parametrize("normaliser", sorted(NORMALISERS))
def test_types_and_extras(normaliser: str) -> None:
    norm = NORMALISERS[normaliser](pl.col("raw"))
    assert isinstance(norm, Normalised)
    assert set(norm.extras) == EXPECTED_EXTRAS.get(normaliser, set())
    out = _run(normaliser, [None, "", "x", "12"])
    assert out.schema["value"] == DTYPES.get(normaliser, pl.String)
    assert out.schema["error"] == pl.String
    for name in norm.extras:
        assert out.schema[name] == (pl.Int16 if name in PARTIAL_EXTRAS else pl.String)


@pytest.mark.parametrize("normaliser", sorted(NORMALISERS))
def test_works_on_a_null_literal_column(normaliser: str) -> None:
    """Ingest passes pl.lit(None) for an absent optional column."""
    norm = normalise_column(pl.lit(None, dtype=pl.String), normaliser)
    outputs = [norm.value.alias("v"), norm.error.alias("e")]
    outputs += [e.alias(k) for k, e in norm.extras.items()]
    out = pl.DataFrame({"x": [1, 2, 3]}).select(pl.col("x"), *outputs).drop("x")
    assert out.height == 3 and all(out[c].null_count() == 3 for c in out.columns)


def test_no_python_per_row() -> None:
    modules = pkgutil.iter_modules(normalisers.__path__, normalisers.__name__ + ".")
    for info in modules:
        source = inspect.getsource(importlib.import_module(info.name))
        for forbidden in ("map_elements", "map_batches", "apply(", "iter_rows"):
            assert forbidden not in source, info.name


# --------------------------------------------------------------------------------------------
# Properties over arbitrary text
# --------------------------------------------------------------------------------------------

# Near-valid inputs per normaliser, so idempotence is exercised on real values, not only on
# the nulls that random text mostly produces.
PLAUSIBLE: dict[str, str] = {
    "record_id": r"\s?[A-Za-z0-9/-]{1,8}\s?",
    "name": r"(Mr |Dr\. |Lord |Lady )?[A-Za-zéøÆ' -]{1,12}( Jnr| (Lord|Mrs))?",
    "ni_number": r"[A-Za-z]{2} ?[0-9]{2} ?[0-9]{2} ?[0-9]{2} ?[A-Fa-f]?",
    "postcode": r"[A-Za-z]{1,2}[0-9][A-Za-z0-9]? ?[0-9][A-Za-z]{2}|GIR 0AA",
    "date": r"[0-9]{1,2}[/.-][0-9]{1,2}[/.-](19|20)[0-9]{2}|(18|19|20|21)[0-9]{2}-[01][0-9]-[0-3][0-9]"
    r"( 00:00:00|T00:00:00)?|[0-9]{1,2} (Jan|feb|SEPT|May|Dec)[a-z]* [0-9]{4}"
    r"|(18|19|20|21)[0-9]{2}[01][0-9][0-3][0-9]",
    "sort_code": r"[0-9]{2}[ -]?[0-9]{2}[ -]?[0-9]{2,3}",
    "account_number": r"[0-9]{6,9}",
    "address": r"((Flat|Apt|Flt) [0-9]{1,2}, )?[0-9]{1,3}[A-Z]? (St|ST) [A-Za-z']{1,8}"
    r"( (St|Rd|Ave|Ct|Street|Road)){0,3}(, [A-Za-z ]{1,8})?(,? [A-Z]{1,2}[0-9] ?[0-9][A-Z]{2})?",
    "text": r"\s*[a-zA-Zß ]{0,10}\s*",
    "code": r"[A-Za-z0-9 /.-]{0,10}",
    "uprn": r"0{0,3}[0-9]{1,13}(\.0)?",
    "amount": r"\(?-?(£|GBP ?)?-?[0-9]{0,3}(,[0-9]{3}){0,4}[0-9]{0,3}(\.[0-9]{0,3})?( ?GBP)?\)?",
}

CELL = st.one_of(st.none(), st.text(max_size=24))


def _cells(normaliser: str) -> st.SearchStrategy[list[str | None]]:
    plausible = st.from_regex(PLAUSIBLE[normaliser], fullmatch=True)
    return st.lists(st.one_of(CELL, plausible, plausible), max_size=20)


def _render(normaliser: str, value: Any) -> str:
    """How a normalised value is written back out as text (CSV, report)."""
    if normaliser == "date":
        return value.isoformat()
    if normaliser == "amount":
        return f"{value:.2f}"
    return value


def _check_invariants(out: pl.DataFrame, extras: set[str]) -> None:
    # "Blank" as the ingest caller judges it (Unicode White_Space, as polars strips it).
    blanks = out.select(pl.col("raw").str.strip_chars().fill_null("") == "").to_series()
    for row, blank in zip(out.iter_rows(named=True), blanks, strict=True):
        value, error = row["value"], row["error"]
        if blank:
            assert value is None and error is None, row
        else:
            # present: exactly one of a value or a reason
            assert (value is None) != (error is None), row
        if error is not None:
            assert error in REASONS, row
        for name in extras:
            if name in PARTIAL_EXTRAS:
                # only an impossible date keeps parts, each possible on its own
                assert error == "impossible date" or row[name] is None, row
                bounds = {"py": (1850, 2100), "pm": (1, 12), "pd": (1, 31)}[name]
                assert row[name] is None or bounds[0] <= row[name] <= bounds[1], row
            elif name in OPTIONAL_EXTRAS:
                assert value is not None or row[name] is None, row
            else:
                assert (row[name] is None) == (value is None), row


# Each example is a whole column (up to 20 cells) through polars, which costs a few ms per
# query, so the default keeps the file fast; raise it for a soak, e.g. FRAUDMATCH_EXAMPLES=2000.
PROPERTY_SETTINGS = settings(
    max_examples=int(os.environ.get("FRAUDMATCH_EXAMPLES", "50")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@pytest.mark.parametrize("normaliser", sorted(NORMALISERS))
@PROPERTY_SETTINGS
@given(data=st.data())
def test_never_raises_and_is_idempotent(normaliser: str, data: st.DataObject) -> None:
    cells = data.draw(_cells(normaliser), label="cells")
    extras = set(BUILT[normaliser].extras)
    out = _run(normaliser, cells)
    _check_invariants(out, extras)

    valid = out.filter(pl.col("value").is_not_null())
    again = _run(normaliser, [_render(normaliser, v) for v in valid["value"]])
    assert again["error"].null_count() == again.height, again.filter(pl.col("error").is_not_null())
    assert again["value"].to_list() == valid["value"].to_list()
    for name in extras:
        assert again[name].to_list() == valid[name].to_list()


@pytest.mark.parametrize("normaliser", ["name", "address", "code", "text"])
def test_idempotent_for_every_bmp_character(normaliser: str) -> None:
    """Exhaustive over the Basic Multilingual Plane: case mapping and decomposition can feed
    each other (ª -> a, ǰ -> J + caron), which random examples rarely hit."""
    chars = [chr(c) for c in range(0x10000) if not 0xD800 <= c <= 0xDFFF]
    cells = [f"a{c}b {c}" for c in chars]
    first = _run(normaliser, cells)["value"]
    second = _run(normaliser, first.to_list())["value"]
    changed = first.is_not_null() & (first != second)
    assert not changed.any(), [cells[i] for i in changed.arg_true().head(5).to_list()]


# --------------------------------------------------------------------------------------------
# Vectorisation
# --------------------------------------------------------------------------------------------


def test_normalises_200k_rows_in_one_query() -> None:
    """A large mixed frame goes through every normaliser as plain polars expressions."""
    sample = [row[1] for row in GOLDEN]
    n = 200_000
    frame = pl.DataFrame({"raw": (sample * (n // len(sample) + 1))[:n]}, schema={"raw": pl.String})
    exprs: list[pl.Expr] = []
    for name in NORMALISERS:
        norm = normalise_column(pl.col("raw"), name)
        exprs += [norm.value.alias(f"{name}__v"), norm.error.alias(f"{name}__e")]
        exprs += [e.alias(f"{name}__{k}") for k, e in norm.extras.items()]
    out = frame.lazy().select(exprs).collect()
    assert out.height == n
    # Row results do not depend on the batch: a block deep in the big frame equals the sample
    # normalised on its own.
    small = frame.head(len(sample)).select(exprs)
    deep = n // len(sample) - 1  # the last whole block, however many cells GOLDEN holds
    assert out.slice(len(sample) * deep, len(sample)).equals(small)
    assert out["postcode__v"][sample.index("sw1a1aa")] == "SW1A 1AA"


# --------------------------------------------------------------------------------------------
# The given name extra
# --------------------------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(cells=_cells("name"))
def test_given_is_the_known_name_of_the_first_word_or_null(cells: list[str | None]) -> None:
    """``given`` is the dictionary's name for the first word (a short form written out, as
    ``formal`` does), null for every word the dictionary does not know: never a guess."""
    known = given_names()
    out = _run("name", cells)
    for row in out.filter(pl.col("value").is_not_null()).iter_rows(named=True):
        assert row["given"] == known.get(row["first"]), row
        if row["given"] is not None:
            assert row["given"] == row["formal"], row  # a known word is written out alike


@PROPERTY_SETTINGS
@given(cells=_cells("name"))
def test_initials_are_every_words_first_letter_from_two_words(cells: list[str | None]) -> None:
    """``initials``: the words' first letters, space-separated, where the name has two words
    or more (so "C E" as written meets CHRISTINE EMMA's); null for one word."""
    out = _run("name", cells)
    for row in out.filter(pl.col("value").is_not_null()).iter_rows(named=True):
        words = row["value"].split(" ")
        expected = " ".join(w[0] for w in words) if len(words) >= 2 else None
        assert row["initials"] == expected, row
        if expected is not None:
            assert row["initials"].split(" ")[0] == row["initial"], row


@PROPERTY_SETTINGS
@given(cells=_cells("name"), at=st.integers(min_value=0, max_value=40))
def test_letters_survive_two_neighbouring_letters_swapped(cells: list[str | None], at: int) -> None:
    """``letters``: the first word's letters in order, so a first word with two neighbouring
    letters swapped (the commonest keying slip) has the letters of the word itself."""
    out = _run("name", cells)
    for row in out.filter(pl.col("value").is_not_null()).iter_rows(named=True):
        first = row["first"]
        assert row["letters"] == "".join(sorted(first)), row
        if len(first) < 2:
            continue
        i = at % (len(first) - 1)
        slipped = first[:i] + first[i + 1] + first[i] + first[i + 2 :]
        again = _run("name", [f"{slipped} {row['value'][len(first) :]}".strip()])
        if again["first"][0] != slipped:
            continue  # the slip wrote a title (XM -> MX), which is no name
        assert again["letters"][0] == row["letters"], (row, slipped)


def test_letters_meet_a_slip_not_another_name() -> None:
    out = _run("name", ["Chandler", "CHNADLER", "Porter", "poretr", "Parker", "J"])
    assert out["letters"].to_list() == ["ACDEHLNR", "ACDEHLNR", "EOPRRT", "EOPRRT", "AEKPRR", "J"]


def test_initials_written_as_initials_equal_the_whole_name() -> None:
    out = _run("name", ["Christine Emma", "C. E.", "C E", "Christine", "mary-jane o'brien"])
    assert out["initials"].to_list() == ["C E", "C E", "C E", None, "M J O"]
    assert out["value"][1] == out["initials"][0]


def test_every_british_given_name_is_its_own_given_name() -> None:
    """Our own list holds names, never short forms the ``formal`` extra writes out; a
    spelling of a name is written as the first of its group, itself a name of the list."""
    names = sorted(BRITISH_GIVEN_NAMES)
    out = _run("name", names)
    spelt = spelling_table(SPELLINGS)
    assert out["given"].to_list() == [spelt.get(n, n) for n in names]
    assert set(spelt.values()) <= BRITISH_GIVEN_NAMES


def test_spellings_of_one_name_are_one_given_name_and_twins_names_two() -> None:
    """STEVEN and STEPHEN, CLAIRE and CLARE are one name (``given`` and ``formal`` agree);
    PAUL and PAULA, FRANCIS and FRANCES, ELLA and ELLIE stay two."""
    out = _run("name", ["Stephen", "STEVEN", "Claire", "clare", "Kathy", "Katherine",
                        "PAUL", "PAULA", "FRANCIS", "FRANCES", "ELLA", "ELLIE"])  # fmt: skip
    given, formal = out["given"].to_list(), out["formal"].to_list()
    assert given[:6] == ["STEVEN", "STEVEN", "CLARE", "CLARE", "CATHERINE", "CATHERINE"]
    assert formal[:6] == given[:6]
    assert given[6:] == ["PAUL", "PAULA", "FRANCIS", "FRANCES", "ELLA", "ELLIE"]


def test_a_name_in_two_spelling_groups_is_refused() -> None:
    with pytest.raises(ValueError, match="ANNE is in two spelling groups"):
        spelling_table((("ANN", "ANNE"), ("ANNE", "ANNA")))


@given(st.lists(st.sampled_from(["ANNA", "MEI", "LING", "J", "O BRIEN"]), min_size=0, max_size=4))
def test_two_initials_are_the_initials_of_the_first_two_words(words: list[str]) -> None:
    name = " ".join(words)
    out = pl.DataFrame({"n": [name]}, schema={"n": pl.String}).select(
        two=two_initials(pl.col("n")), all=initials(pl.col("n"))
    )
    parts = name.split()
    if len(parts) < 2:
        assert out["two"][0] is None
    else:
        assert out["two"][0] == f"{parts[0][0]} {parts[1][0]}"
        assert out["all"][0].startswith(out["two"][0])


@pytest.mark.parametrize(
    ("apart", "together"),
    [("MC QUAID", "MCQUAID"), ("Mac Donald", "MACDONALD"), ("ANNA MC QUAID", "ANNA MCQUAID")],
)
def test_mc_and_mac_written_apart_are_the_name_written_together(apart: str, together: str) -> None:
    assert _run("name", [apart, together])["value"].to_list() == [together] * 2


@pytest.mark.parametrize("name", ["O BRIEN", "J MC", "MACK SMITH", "JAMES MC"])
def test_other_words_stay_apart(name: str) -> None:
    """O may be an initial in a forenames cell; MC alone at the end has no name after it."""
    assert _run("name", [name])["value"].to_list() == [name]


_NI_LETTERS = "ABCEGHJKLMNPRSTWXYZ"  # valid in both prefix positions
_NI_NEVER = ("BG", "GB", "NK", "KN", "TN", "NT", "ZZ")  # prefixes never issued


@PROPERTY_SETTINGS
@given(
    prefix=st.text(_NI_LETTERS, min_size=2, max_size=2).filter(lambda p: p not in _NI_NEVER),
    digits=st.text("0123456789", min_size=6, max_size=6),
    at=st.integers(0, 7),
    data=st.data(),
)
def test_one_slip_in_an_ni_number_leaves_one_half(
    prefix: str, digits: str, at: int, data: st.DataObject
) -> None:
    """Head and tail make the stem; a number with one character keyed wrong (a valid one)
    shares exactly one of them, so a rule reads the slip as a slip."""
    ni = prefix + digits
    pool = _NI_LETTERS if at < 2 else "0123456789"
    wrong = data.draw(st.sampled_from([c for c in pool if c != ni[at]]), label="wrong")
    slipped = ni[:at] + wrong + ni[at + 1 :]
    out = _run("ni_number", [ni, slipped])
    if out["value"].null_count():  # the slip made a prefix never issued: rejected, not read
        assert slipped[:2] in _NI_NEVER
        return
    head, tail = out["head"].to_list(), out["tail"].to_list()
    assert head[0] + tail[0] == ni
    assert (head[0] == head[1]) != (tail[0] == tail[1])


@PROPERTY_SETTINGS
@given(day=st.dates(min_value=date(1850, 1, 1), max_value=date(2100, 12, 31)))
def test_a_date_run_together_is_read_year_first_and_never_guessed(day: date) -> None:
    """YYYYMMDD is the date; the same date written day-first or month-first run together
    (DDMMYYYY, MMDDYYYY) is never read as another date, in any declared order."""
    for order in ("dmy", "mdy", "iso"):
        norm = normalise_date(pl.col("raw"), order)
        raw = [f"{day:%Y%m%d}", f"{day:%d%m%Y}", f"{day:%m%d%Y}"]
        out = pl.DataFrame({"raw": raw}).select(norm.value, norm.error)
        assert out.row(0) == (day, None)
        for value, error in out.rows()[1:]:
            assert value is None and error == "unrecognised date format"

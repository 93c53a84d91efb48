"""Addresses: folded words, abbreviations written out, postcode removed; line and number."""

from __future__ import annotations

import polars as pl

from fraudmatch.spec.normalisers.core import (
    F,
    Normalised,
    bind,
    drop_words,
    finish,
    fold,
    let,
    replace_words,
)

# --------------------------------------------------------------------------------------------

# Whole-word abbreviations written out, so "12 High St." meets "12 HIGH STREET". ST itself is
# handled by _saint_or_street, since it is also SAINT.
ADDRESS_ABBREVIATIONS: dict[str, str] = {
    "RD": "ROAD", "STR": "STREET", "AVE": "AVENUE", "AV": "AVENUE", "AVN": "AVENUE",
    "LN": "LANE", "DR": "DRIVE", "DRV": "DRIVE", "CL": "CLOSE", "CT": "COURT", "CRT": "COURT",
    "CRES": "CRESCENT", "CRESC": "CRESCENT", "CRS": "CRESCENT", "PL": "PLACE", "SQ": "SQUARE",
    "GDNS": "GARDENS", "GDN": "GARDEN", "TER": "TERRACE", "TERR": "TERRACE", "TCE": "TERRACE",
    "GRN": "GREEN", "GR": "GROVE", "PK": "PARK", "HSE": "HOUSE", "FLT": "FLAT", "APT": "FLAT",
    "APARTMENT": "FLAT", "NTH": "NORTH", "STH": "SOUTH", "GRO": "GROVE", "GRV": "GROVE",
    "HTS": "HEIGHTS", "PDE": "PARADE", "WLK": "WALK", "MWS": "MEWS", "EST": "ESTATE",
    "BLDG": "BUILDING", "BLDGS": "BUILDINGS", "CNR": "CORNER", "UPR": "UPPER", "LWR": "LOWER",
    "GT": "GREAT", "MT": "MOUNT", "BLVD": "BOULEVARD", "HWY": "HIGHWAY", "PKWY": "PARKWAY",
    "ST": "STREET",
}  # fmt: skip

# Postcode shape (letter rules not needed: this only recognises a pasted-in postcode).
_LOOSE_POSTCODE = r"(?:[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}|GIR ?0AA)"
# Words that may come before the street name at the start of an address line.
_LINE_PREFIX_WORD = r"(?:FLAT|FLT|APT|APARTMENT|UNIT|NO|[^ ,]*[0-9][^ ,]*)"
# Thoroughfare words after which "ST <word>" starts a place name ("HIGH ST ST ALBANS"). Words
# that also name streets (PARK, GREEN, HILL, CHURCH...) are left out: "PARK ST LONDON".
_THOROUGHFARES = r"(?:ROAD|RD|STREET|ST|LANE|LN|AVENUE|AVE|DRIVE|CLOSE|CRESCENT|WAY)"
_NO_ADDRESS = "no address left after removing the postcode and punctuation"


def _saint_or_street(lines: pl.Expr) -> pl.Expr:
    """Read ST as SAINT where it opens a street or place name, else (later) as STREET.

    ST followed by another word is SAINT when it starts an address line, optionally after a
    flat or house number ("4 St Mary's Rd" -> 4 SAINT MARYS ROAD), or comes straight after a
    thoroughfare word ("High St St Albans" -> HIGH STREET SAINT ALBANS). Anywhere else, after
    a street name or last, it is STREET: "12 High St London" -> 12 HIGH STREET LONDON.
    """
    return lines.str.replace_all(
        rf"(^|,|\b{_THOROUGHFARES} )((?:{_LINE_PREFIX_WORD} )*)ST ([^ ,])", "${1}${2}SAINT ${3}"
    )


def _clean_address(raw: pl.Expr) -> pl.Expr:
    # Commas, semicolons and line breaks separate address lines; the ST rule needs them.
    lines = fold(raw).str.replace_all(r"[,;\r\n\u2028\u2029]", ",")
    lines = lines.str.replace_all(r"[^\p{L}\p{N},]+", " ")
    lines = lines.str.replace_all(r" *(?:, *)+", ",").str.strip_chars(" ,")
    # "c/o" someone: the line naming whom the post goes through is no part of the home
    # ("C/O KHAN, 142 MAIN DRIVE" is 142 MAIN DRIVE): a line after it, or a house number
    lines = lines.str.replace(r"^C O [^,]*,(.)", "$1")
    lines = lines.str.replace(r"^C O (?:[^ ,\d]+ ){1,3}(\d)", "$1")
    # a Scottish tenement flat by floor and position (2F1: second floor, first flat) is the
    # "2/1" others write: FLAT 2/1 and 2F1 are one home
    lines = lines.str.replace_all(r"\b(\d{1,2})F(\d{1,2})\b", "$1 $2")
    # Councils paste the postcode into the last line; it is matched on its own column.
    lines = lines.str.replace(rf"(?:(?:^|[ ,]){_LOOSE_POSTCODE})+$", "").str.strip_chars(" ,")
    lines = _saint_or_street(lines)
    return replace_words(lines.str.replace_all(",", " ", literal=True), ADDRESS_ABBREVIATIONS)


# Words that end a street name ("12 ELM ROAD"), after abbreviations are written out. The street
# ends at the first of them that follows at least one word of its name, or at the last of a run
# ("12 PARK ROAD", "3 COURT LANE"); what follows is the locality.
STREET_TYPES: tuple[str, ...] = (
    "ROAD", "STREET", "LANE", "AVENUE", "DRIVE", "CLOSE", "COURT", "CRESCENT", "PLACE",
    "SQUARE", "GARDENS", "GARDEN", "TERRACE", "GREEN", "PARK", "WAY", "GROVE", "HILL", "ROW",
    "WALK", "MEWS", "VIEW", "PARADE", "RISE", "VALE", "END", "YARD", "WHARF", "QUAY",
    "BOULEVARD", "HIGHWAY", "PARKWAY", "CIRCUS", "GATE", "HEIGHTS", "ESTATE", "MOUNT",
)  # fmt: skip
# Words that only say "a sub-premises number follows": FLAT 3 12 ELM ROAD is 3 12 ELM ROAD,
# and ROOM 3 (a room let in a house in multiple occupation) is written as FLAT 3 elsewhere.
_SUBPREMISES_WORDS = ("FLAT", "UNIT", "ROOM")
_TYPES = "|".join(STREET_TYPES)
# The premises-and-street part: anything up to the LAST house-number word (so a building name
# with its own number before it stays), then the street name up to its run of street-type
# words. Groups: 1 = the line, 2 = the house number, 3 = the street.
_ADDRESS_LINE = rf"^((?:.* )?(\d[^ ]*) ((?:[^ ]+ )+?(?:{_TYPES})(?: (?:{_TYPES}))*))(?: .*)?$"


def address_line(address: pl.Expr) -> pl.Expr:
    """The premises and street of a normalised address: no FLAT/UNIT word, no locality.

    "FLAT 3 12 ELM ROAD NORTHMOOR", "3 12 ELM ROAD" -> "3 12 ELM ROAD"; an address without a
    house number and street-type word keeps all its words (only FLAT/UNIT dropped).
    """
    words = _premises_words(address)
    return words.str.extract(_ADDRESS_LINE, 1).fill_null(words)


def address_number(address: pl.Expr) -> pl.Expr:
    """The house number of a normalised address (the number before the street), or null.

    "FLAT 3 12 ELM ROAD" -> "12": with the postcode it names the building, however the flat,
    the street or the locality are written. In a named building it is the flat's ("FLAT 7,
    LINDEN LODGE, 160 BURNSIDE PLACE" -> "7"), since the building's own street number is
    often left out; a lettered flat carries its letter ("FLAT B, 20 ..." -> "20B").
    """
    return _premises_words(address).str.extract(_ADDRESS_LINE, 2)


def address_street(address: pl.Expr) -> pl.Expr:
    """The street of a normalised address (the words after the house number), or null.

    "FLAT 3 12 ELM ROAD NORTHMOOR" -> "ELM ROAD": where the postcode is missing, how many
    postcode districts a street is found in says whether a house number on it names one
    home.
    """
    return _premises_words(address).str.extract(_ADDRESS_LINE, 3)


# Words that make an address a hospital, hospice or care home rather than a private home; the
# buildings' words alone also name streets (HOSPITAL LANE), a home's never do.
_INSTITUTION_BUILDINGS = "HOSPITAL|INFIRMARY|HOSPICE"
INSTITUTION_WORDS = (
    rf"{_INSTITUTION_BUILDINGS}|YSBYTY|CARE CENTRE|NURSING CENTRE"
    r"|(?:NURSING|CARE|RESIDENTIAL|REST|RETIREMENT) HOMES?"
)


def address_institution(address: pl.Expr) -> pl.Expr:
    """``INSTITUTION`` where a normalised address is a hospital, hospice or care home, else
    null.

    Why: a death is often registered at the hospital or the care home where the person died
    or last lived, while their badge or pass still shows their own home. Such an address
    says where they died, not that another person is meant: no home to compare.
    """
    # a street named after one is no institution (23 HOSPITAL LANE, INFIRMARY ROAD); a home
    # is never a street's name, and "NURSING HOME ST ANDREWS ROAD" reads ST as STREET
    streets = address.str.replace_all(rf"\b(?:{_INSTITUTION_BUILDINGS}) (?:{_TYPES})\b", "")
    found = streets.str.contains(rf"\b(?:{INSTITUTION_WORDS})\b")
    return pl.when(found).then(pl.lit("INSTITUTION")).otherwise(pl.lit(None, pl.String))


# A flat written after the street ("12 ELM ROAD FLAT 3") is the same home as "FLAT 3 12 ELM
# ROAD": the sub-premises goes first, so it is part of the line and not read as a locality.
_TRAILING_SUBPREMISES = rf"^(.+) (?:{'|'.join(_SUBPREMISES_WORDS)}) ([^ ]+)$"
# ... and so is a tenement flat's floor and position written after the street, in brackets
# or not ("1 PRIORY STREET (1/2)", "259 HOLLY DRIVE 2/2 GLENMORVEN"): two small numbers
# straight after the street's type word go first, as "FLAT 1/2, 1 PRIORY STREET" writes it
_TRAILING_TENEMENT = rf"^(\d[^ ]* (?:[^ ]+ )+?(?:{_TYPES})) (\d{{1,2}} \d{{1,2}})\b"


# Words that end a named building's name; the number after one, before the street, is the
# building's street number ("7 LINDEN LODGE 160 BURNSIDE PLACE")
_BUILDINGS = "LODGE|HOUSE|COURT|MANSIONS|TOWER|TOWERS|HALL|BUILDINGS|POINT|HEIGHTS|BLOCK"
_BUILDING_STREET_NUMBER = rf"^(\d[^ ]* (?:[^ \d]+ )*?(?:{_BUILDINGS})) \d+[A-Z]? ([^ \d])"


def _premises_words(address: pl.Expr) -> pl.Expr:
    """The address without FLAT/UNIT/ROOM words (the address itself if nothing else is
    left), with a flat written after the street put first and the forms one flat is written
    in (2/1 and 2F1, FLAT B 20 and 20B, a named building with or without its street number)
    made one."""
    address = address.str.replace(_TRAILING_SUBPREMISES, "$2 $1")
    address = address.str.replace(_TRAILING_TENEMENT, "$2 $1")
    words = drop_words(address, _SUBPREMISES_WORDS)
    # a flat in a named building (sheltered housing, a block) is that flat of that
    # building, whether or not the building's street number is written: FLAT 7, LINDEN
    # LODGE, 160 BURNSIDE PLACE and 7 LINDEN LODGE, BURNSIDE PLACE are one home
    words = words.str.replace(_BUILDING_STREET_NUMBER, "$1 $2")
    # a flat lettered before the house number is the number with that letter: FLAT B, 20
    # KING GARDENS and 20B KING GARDENS are one home
    words = words.str.replace(r"^([A-Z]) (\d+) ", "${2}${1} ")
    return pl.when(words != "").then(words).otherwise(address)


def normalise_address(raw: pl.Expr) -> Normalised:
    """Address as upper-case words with common abbreviations written out and no postcode.

    Extras: ``line`` (premises and street, see :func:`address_line`), ``number`` (the
    house number, see :func:`address_number`), so that the same home written with or without
    "Flat" or a trailing town still meets, and a next-door number never does; and ``street``
    (see :func:`address_street`).
    """
    state = bind(raw, address=_clean_address(F("raw")))
    address = F("address")
    state = let(state, _words=_premises_words(address))
    state = let(state, _parts=F("_words").str.extract_groups(_ADDRESS_LINE))
    extras = {
        "line": F("_parts").struct.field("1").fill_null(F("_words")),
        "number": F("_parts").struct.field("2"),
        "street": F("_parts").struct.field("3"),
    }
    return finish(state, address, [(address == "", _NO_ADDRESS)], extras)


# --------------------------------------------------------------------------------------------

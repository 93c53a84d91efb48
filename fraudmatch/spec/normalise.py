"""Column normalisers: raw cell text -> typed, comparable values plus a reason when invalid.

Every partner must turn the same person, address or bank account into the same bytes before
pseudonymisation, or keyed tokens never meet at the hub. So each normaliser is strict about
what it accepts, canonical in what it returns, idempotent, and never guesses (an impossible
date is rejected, not rolled over). Everything is a polars expression so a million-row extract
normalises without Python per row.

Contract for callers: ``value`` is null when the cell is missing or invalid; ``error`` is null
unless the cell is present but invalid, and is then a short, stable reason (never the value
itself, so reasons group in the rejects summary). Blank cells are not errors here: only the
caller knows whether the column is required. Output expressions carry internal names
(_value, _error, _extra_first, ...): callers alias them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import polars as pl

__all__ = ["NORMALISERS", "Normalised", "normalise_column"]


@dataclass(frozen=True)
class Normalised:
    """A normalised column: typed value, reason when invalid, and derived extra columns."""

    value: pl.Expr
    error: pl.Expr
    # The whole state as one struct (fields ``_value``, ``_error``, ``_extra_<name>``).
    # Selecting it once and then its fields computes the cleaning once, where selecting
    # value, error and each extra separately recomputes it for every output (5-7x slower).
    state: pl.Expr
    extras: dict[str, pl.Expr] = field(default_factory=dict)


Normaliser = Callable[[pl.Expr], Normalised]
Check = tuple[pl.Expr, str]

_NULL_STR = pl.lit(None, dtype=pl.String)

# --------------------------------------------------------------------------------------------
# Shared building blocks
# --------------------------------------------------------------------------------------------


# Each normaliser builds a struct of named intermediate fields (raw, cleaned text, regex
# groups, ...) and refers to them with pl.field. A field is computed once however often it is
# used, whereas a repeated sub-expression is recomputed at every use: with the checks, the
# value and the extras all reading the same regex groups, that was ten times slower.
F = pl.field


def _bind(raw: pl.Expr, **fields: pl.Expr) -> pl.Expr:
    """Start a normaliser's state: the raw cell plus fields computed from pl.field("raw")."""
    state = pl.struct(raw.alias("raw"))
    return state.struct.with_fields(**fields) if fields else state


def _let(state: pl.Expr, **fields: pl.Expr) -> pl.Expr:
    """Add fields computed from the state's existing fields (each evaluated once)."""
    return state.struct.with_fields(**fields)


def _finish(
    state: pl.Expr,
    value: pl.Expr,
    checks: Iterable[Check] = (),
    extras: Mapping[str, pl.Expr] | None = None,
) -> Normalised:
    """Apply the first failing check's reason and null every output that is not valid.

    Checks are ordered: the first that is true wins, so the most basic problem (bad shape) is
    reported before finer ones (bad prefix), which is what a data officer fixes first. A blank
    cell (null, empty or whitespace only) is missing, not invalid: the caller judges it.
    """
    raw = F("raw")
    state = _let(state, _blank=raw.is_null() | raw.str.contains(r"^\s*$"))
    chain = pl.when(F("_blank")).then(_NULL_STR)
    for bad, reason in checks:
        chain = chain.when(bad.fill_null(True)).then(pl.lit(reason, dtype=pl.String))
    state = _let(state, _error=chain.otherwise(_NULL_STR))
    ok = ~F("_blank") & F("_error").is_null()
    outputs = {"_value": value, **{f"_extra_{name}": e for name, e in (extras or {}).items()}}
    state = _let(state, **{name: pl.when(ok).then(e) for name, e in outputs.items()})
    return Normalised(
        value=state.struct.field("_value"),
        error=state.struct.field("_error"),
        extras={name: state.struct.field(f"_extra_{name}") for name in extras or {}},
        state=state,
    )


def _collapse_spaces(expr: pl.Expr) -> pl.Expr:
    """Collapse runs of whitespace to one space and trim, so spacing never splits tokens."""
    return expr.str.replace_all(r"\s+", " ").str.strip_chars(" ")


def _strip_all_space(expr: pl.Expr) -> pl.Expr:
    return expr.str.replace_all(r"\s+", "")


# Apostrophe-like characters are deleted without a space: O'BRIEN must meet OBRIEN, and
# ST MARY'S must meet ST MARYS. U+00B4 (acute) and U+02B9/U+02BC are common stand-ins.
_APOSTROPHES = r"['\u2018\u2019\u201b\u0060\u00b4\u02b9\u02bc\u2032]"

# Letters that NFKD leaves whole but that partners' systems often write in plain ASCII.
_LETTER_FOLDS: dict[str, str] = {
    "Æ": "AE",
    "æ": "AE",
    "Œ": "OE",
    "œ": "OE",
    "Ø": "O",
    "ø": "O",
    "Ł": "L",
    "ł": "L",
    "Đ": "D",
    "đ": "D",
    "Ð": "D",
    "ð": "D",
    "Þ": "TH",
    "þ": "TH",
    "ẞ": "SS",
    "ß": "SS",
    "Ħ": "H",
    "ħ": "H",
    "Ŧ": "T",
    "ŧ": "T",
    "Ŋ": "NG",
    "ŋ": "NG",
    "ı": "I",
    "ĸ": "K",
    "Ə": "E",
    "ə": "E",
    "Ɨ": "I",
    "ɨ": "I",
}


def _strip_marks(expr: pl.Expr) -> pl.Expr:
    return expr.str.normalize("NFKD").str.replace_all(r"\p{M}+", "")


def _fold(expr: pl.Expr) -> pl.Expr:
    """Upper-case and fold accents so JOSÉ, Jose and JOSE are one name.

    Upper-casing first exposes marks (ǰ becomes J plus a combining caron) and upper-casing
    again catches what decomposition turns lower-case (ª becomes a). A test over every code
    point of the Basic Multilingual Plane pins the result as idempotent.
    """
    expr = expr.str.replace_all(_APOSTROPHES, "")
    expr = _strip_marks(expr.str.to_uppercase()).str.to_uppercase()
    expr = expr.str.replace_many(_LETTER_FOLDS)
    return expr.str.replace_all(_APOSTROPHES, "")


def _space_out(expr: pl.Expr) -> pl.Expr:
    """Give every word its own pair of spaces: "A B" -> " A  B ".

    Then " WORD " matches each whole word, consecutive ones too (MR DR), with a fast literal
    multi-pattern replace and without the look-around that polars' regex lacks.
    """
    return pl.lit(" ") + expr.str.replace_all(" ", "  ", literal=True) + pl.lit(" ")


def _drop_words(expr: pl.Expr, words: Iterable[str]) -> pl.Expr:
    """Remove whole space-separated words, wherever they are."""
    spaced = {f" {word} ": " " for word in words}
    return _collapse_spaces(_space_out(expr).str.replace_many(spaced))


def _replace_words(expr: pl.Expr, mapping: Mapping[str, str]) -> pl.Expr:
    """Replace whole space-separated words by mapping."""
    spaced = {f" {k} ": f" {v} " for k, v in mapping.items()}
    return _collapse_spaces(_space_out(expr).str.replace_many(spaced))


# --------------------------------------------------------------------------------------------
# record_id and text
# --------------------------------------------------------------------------------------------


def normalise_record_id(raw: pl.Expr) -> Normalised:
    """Trim only: the id is the partner's own key for re-identification, so it must round-trip."""
    return _finish(_bind(raw), F("raw").str.strip_chars())


def normalise_text(raw: pl.Expr) -> Normalised:
    """Free text kept for people to read (job titles, reasons): tidy, never rejected."""
    return _finish(_bind(raw), _collapse_spaces(F("raw").str.to_uppercase()))


# --------------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------------

# Titles, honorifics and post-nominals that are never anyone's name: removed anywhere.
NAME_TITLES: frozenset[str] = frozenset(
    {
        "MR", "MRS", "MS", "MISS", "MX", "MSTR", "DR", "PROF", "REV", "REVD", "RT", "HON",
        "CAPT", "CLLR", "JR", "JNR", "SR", "SNR", "ESQ", "II", "III", "MBE", "OBE", "CBE",
        "KBE", "DBE", "BEM", "QC", "KC", "PHD",
    }
)  # fmt: skip

# Titles that are also real surnames (Lord, Lady, Sir, Dame, Master): removed only as leading
# words with a name after them, so "Lord Smith" -> SMITH but a surname cell "Lord" stays LORD.
NAME_LEADING_TITLES: frozenset[str] = frozenset({"SIR", "DAME", "LORD", "LADY", "MASTER"})

_NO_NAME = "no name left after removing titles and punctuation"


# Common English short forms of a forename, to the name they stand for. Only unambiguous ones:
# SAM (SAMUEL, SAMANTHA), CHRIS, JO, STEVE, ALEX... are left as written, and so are short
# forms that are given names in their own right (JACK, HARRY, CHARLIE, JAMIE, KATE, AMY...),
# so that twins JAMES and JAMIE never meet.
NICKNAMES: dict[str, str] = {
    "ANDY": "ANDREW", "DREW": "ANDREW", "TONY": "ANTHONY", "BEN": "BENJAMIN",
    "BENNY": "BENJAMIN", "BOB": "ROBERT", "BOBBY": "ROBERT", "ROB": "ROBERT",
    "ROBBIE": "ROBERT", "CHUCK": "CHARLES", "DAN": "DANIEL", "DANNY": "DANIEL",
    "DAVE": "DAVID", "DAVY": "DAVID", "ED": "EDWARD", "EDDIE": "EDWARD", "TED": "EDWARD",
    "TEDDY": "EDWARD", "FRED": "FREDERICK", "GEOFF": "GEOFFREY", "GREG": "GREGORY",
    "JIM": "JAMES", "JIMMY": "JAMES", "JOHNNY": "JOHN", "JOE": "JOSEPH", "JOEY": "JOSEPH",
    "KEN": "KENNETH", "KENNY": "KENNETH", "LEN": "LEONARD", "LENNY": "LEONARD",
    "MATT": "MATTHEW", "MATTY": "MATTHEW", "MIKE": "MICHAEL", "MICK": "MICHAEL",
    "MICKY": "MICHAEL", "MIKEY": "MICHAEL", "NICK": "NICHOLAS", "PADDY": "PATRICK",
    "PETE": "PETER", "PHIL": "PHILIP", "RAY": "RAYMOND", "RICH": "RICHARD",
    "RICK": "RICHARD", "RICKY": "RICHARD", "DICK": "RICHARD", "RON": "RONALD",
    "RONNIE": "RONALD", "STU": "STUART", "TOM": "THOMAS", "TOMMY": "THOMAS",
    "TIM": "TIMOTHY", "BILL": "WILLIAM", "BILLY": "WILLIAM", "WILL": "WILLIAM",
    "WILLIE": "WILLIAM", "ALF": "ALFRED", "ALEC": "ALEXANDER", "XANDER": "ALEXANDER",
    "KIT": "CHRISTOPHER", "DOUG": "DOUGLAS", "LARRY": "LAWRENCE", "NORM": "NORMAN",
    "REG": "REGINALD", "SID": "SIDNEY", "TERRY": "TERENCE", "VIC": "VICTOR",
    "WALLY": "WALTER", "ABBY": "ABIGAIL", "ABBIE": "ABIGAIL", "BECKY": "REBECCA",
    "BECCA": "REBECCA", "LIZ": "ELIZABETH", "LIZZIE": "ELIZABETH", "LIZZY": "ELIZABETH",
    "BETTY": "ELIZABETH", "BESS": "ELIZABETH", "LIBBY": "ELIZABETH", "CATHY": "CATHERINE",
    "CATH": "CATHERINE", "KATHY": "KATHERINE", "CHRISSIE": "CHRISTINE", "DEB": "DEBORAH",
    "DEBBIE": "DEBORAH", "DOT": "DOROTHY", "DOTTIE": "DOROTHY", "FLO": "FLORENCE",
    "GILL": "GILLIAN", "JACKIE": "JACQUELINE", "JEN": "JENNIFER", "JENNY": "JENNIFER",
    "JESS": "JESSICA", "JESSIE": "JESSICA", "JUDY": "JUDITH", "LOTTIE": "CHARLOTTE",
    "LOU": "LOUISE", "MAGGIE": "MARGARET", "PEGGY": "MARGARET", "MANDY": "AMANDA",
    "PAM": "PAMELA", "PATSY": "PATRICIA", "TRISH": "PATRICIA", "TRICIA": "PATRICIA",
    "PENNY": "PENELOPE", "SUE": "SUSAN", "SUSIE": "SUSAN", "SUZY": "SUSAN", "VAL": "VALERIE",
    "VICKY": "VICTORIA", "VICKI": "VICTORIA", "GINNY": "VIRGINIA", "HATTIE": "HARRIET",
    "SOPH": "SOPHIE", "STEPH": "STEPHANIE",
}  # fmt: skip


def _clean_name(raw: pl.Expr) -> pl.Expr:
    words = _collapse_spaces(_fold(raw).str.replace_all(r"[^\p{L}\p{N}]+", " "))
    words = _drop_words(words, NAME_TITLES)
    leading = "|".join(sorted(NAME_LEADING_TITLES))
    return words.str.replace(f"^(?:(?:{leading}) )+", "")


def normalise_name(raw: pl.Expr) -> Normalised:
    """Person or supplier name as upper-case words, with first and last word as extras.

    The extras let O'BRIEN-SMITH meet both OBRIEN SMITH and SMITH: hyphenated and
    double-barrelled surnames are recorded inconsistently across councils. ``initial`` (the
    first letter) lets "S" meet SOPHIE: a record that shows only an initial has a first word
    equal to the other record's initial. ``formal`` is the first word with a common short form
    written out (:data:`NICKNAMES`: JIMMY -> JAMES), so a nickname meets its name.
    """
    state = _bind(raw, name=_clean_name(F("raw")))
    state = _let(state, first=F("name").str.extract(r"^([^ ]+)"))
    name = F("name")
    return _finish(
        state,
        name,
        [(name == "", _NO_NAME)],
        {
            "first": F("first"),
            "last": name.str.extract(r"([^ ]+)$"),
            "initial": name.str.slice(0, 1),
            "formal": formal_name(F("first")),
        },
    )


def formal_name(first_word: pl.Expr) -> pl.Expr:
    """A name's first word with a known short form written out (BILL -> WILLIAM)."""
    return first_word.replace(NICKNAMES)


# --------------------------------------------------------------------------------------------
# NI number
# --------------------------------------------------------------------------------------------

# HMRC: never issued as prefixes (administrative, temporary TN, or reserved ZZ).
_NINO_BAD_PREFIXES = ("BG", "GB", "NK", "KN", "TN", "NT", "ZZ")


def normalise_ni_number(raw: pl.Expr) -> Normalised:
    """NI number stem (2 letters, 6 digits) without the A-D suffix.

    The suffix does not identify the person and is often left off, so matching on the stem
    keeps AB123456C and AB123456 together.
    """
    state = _bind(raw, s=F("raw").str.to_uppercase().str.replace_all(r"[\s\-.]+", ""))
    s = F("s")
    prefix = s.str.slice(0, 2)
    bad_prefix = (
        prefix.str.contains(r"^(?:[DFIQUV].|.[DFIQUVO])$")
        | prefix.is_in(_NINO_BAD_PREFIXES)
    )  # fmt: skip
    checks = [
        (
            ~s.str.contains(r"^[A-Z]{2}[0-9]{6}[A-Z]?$"),
            "invalid NI number: must be 2 letters, 6 digits and an optional letter",
        ),
        (bad_prefix, "invalid NI number: prefix not issued"),
        (s.str.contains(r"^.{8}[^A-D]$"), "invalid NI number: suffix must be A, B, C or D"),
    ]
    return _finish(state, s.str.slice(0, 8), checks)


# --------------------------------------------------------------------------------------------
# Postcode
# --------------------------------------------------------------------------------------------

# Shape: outward A9, A99, A9A, AA9, AA99, AA9A, then inward 9AA (spaces removed), or GIR 0AA.
_POSTCODE_SHAPE = r"^(?:[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}|GIR0AA)$"
# Royal Mail letter rules: 1st not QVX, 2nd not IJZ, A9A 3rd in ABCDEFGHJKPSTUW, AA9A 4th in
# ABEHMNPRVWXY, inward letters not CIKMOV.
_POSTCODE_LETTERS = (
    r"^(?:(?:[A-PR-UWYZ][0-9][0-9]?|[A-PR-UWYZ][A-HK-Y][0-9][0-9]?"
    r"|[A-PR-UWYZ][0-9][A-HJKPSTUW]|[A-PR-UWYZ][A-HK-Y][0-9][ABEHMNPRVWXY])"
    r"[0-9][ABD-HJLNP-UW-Z]{2}|GIR0AA)$"
)


def normalise_postcode(raw: pl.Expr) -> Normalised:
    """Canonical 'OUTWARD INWARD' postcode, plus sector and district for blocking."""
    state = _bind(raw, s=_strip_all_space(F("raw").str.to_uppercase()))
    state = _let(state, outward=F("s").str.head(-3), inward=F("s").str.tail(3))
    s, outward, inward = F("s"), F("outward"), F("inward")
    checks = [
        (~s.str.contains(_POSTCODE_SHAPE), "invalid postcode"),
        (
            ~s.str.contains(_POSTCODE_LETTERS),
            "invalid postcode: letter not used in that position",
        ),
    ]
    extras = {"sector": outward + " " + inward.str.head(1), "district": outward}
    return _finish(state, outward + " " + inward, checks, extras)


# --------------------------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------------------------

# A time of day after the date, as spreadsheets give when a date cell is read as text.
_TIME = r"(?:[T ](?:[01]?[0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:\.[0-9]+)?)?)?"
_Y, _MD = "[0-9]{4}", "[0-9]{1,2}"


def _year_first(i: int, sep: str) -> str:
    return f"(?<y{i}>{_Y}){sep}(?<m{i}>{_MD}){sep}(?<d{i}>{_MD})"


def _day_first(i: int, sep: str) -> str:
    return f"(?<d{i}>{_MD}){sep}(?<m{i}>{_MD}){sep}(?<y{i}>{_Y})"


# Accepted layouts, each with its own numbered groups (the regex engine has no duplicate
# names). A separator is used consistently within a date: 01/02-1990 is not a date.
_DATE_LAYOUTS = (
    _year_first(0, "-"),
    _year_first(1, "/"),
    _day_first(2, "/"),
    _day_first(3, r"\."),
    _day_first(4, "-"),
    rf"(?<d5>{_MD})[ /.-]?(?<m5>[A-Z]{{3,9}})\.?[ /.,-]*(?<y5>{_Y})",
)
_DATE = rf"^(?:{'|'.join(_DATE_LAYOUTS)}){_TIME}$"
# Whichever layout matched, its groups fill "year|month|day"; the others are empty.
_DATE_TEMPLATE = "|".join(
    "".join(f"${{{part}{i}}}" for i in range(len(_DATE_LAYOUTS))) for part in "ymd"
)
_TWO_DIGIT_YEAR = (
    rf"^[0-9]{{1,2}}[/.-][0-9]{{1,2}}[/.-][0-9]{{2}}{_TIME}$"
    rf"|^[0-9]{{1,2}}[ /.-]?[A-Z]{{3,9}}\.?[ /.,-]*[0-9]{{2}}{_TIME}$"
)
_MONTHS = (
    "JANUARY", "FEBRUARY", "MARCH", "APRIL", "MAY", "JUNE",
    "JULY", "AUGUST", "SEPTEMBER", "OCTOBER", "NOVEMBER", "DECEMBER",
)  # fmt: skip
_MONTH_NUMBERS: dict[str, int] = {
    **{name: i for i, name in enumerate(_MONTHS, 1)},
    **{name[:3]: i for i, name in enumerate(_MONTHS, 1)},
    "SEPT": 9,
}
YEAR_MIN, YEAR_MAX = 1850, 2100


def _days_in_month(y: pl.Expr, m: pl.Expr) -> pl.Expr:
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    return (
        pl.when(m == 2)
        .then(pl.when(leap).then(29).otherwise(28))
        .when(m.is_in([4, 6, 9, 11]))
        .then(30)
        .otherwise(31)
    )


def normalise_date(raw: pl.Expr) -> Normalised:
    """A real calendar date from ISO, UK day-first or day-month-name text; never a guess.

    Day-first is the UK convention, so D/M/Y is read that way and never the US way. Two-digit
    years and impossible dates are rejected rather than guessed or rolled over: a wrong date
    of birth silently breaks matching.
    """
    state = _bind(raw, s=F("raw").str.strip_chars().str.to_uppercase())
    s = F("s")
    ymd = pl.when(s.str.contains(_DATE)).then(s.str.replace(_DATE, _DATE_TEMPLATE))
    state = _let(
        state,
        ymd=ymd.str.split_exact("|", 2),
        two_digit_year=s.str.contains(_TWO_DIGIT_YEAR),
    )
    ymd = F("ymd")
    state = _let(
        state,
        y=ymd.struct.field("field_0").cast(pl.Int32, strict=False),
        # A month number, else a month name; an unknown word stays null: unrecognised.
        m=pl.coalesce(
            ymd.struct.field("field_1").cast(pl.Int32, strict=False),
            ymd.struct.field("field_1").replace_strict(
                _MONTH_NUMBERS, default=None, return_dtype=pl.Int32
            ),
        ),
        d=ymd.struct.field("field_2").cast(pl.Int32, strict=False),
    )
    y, m, d = F("y"), F("m"), F("d")
    parsed = y.is_not_null() & m.is_not_null() & d.is_not_null()
    in_range = y.is_between(YEAR_MIN, YEAR_MAX)
    real = m.is_between(1, 12) & d.is_between(1, _days_in_month(y, m))
    checks = [
        (F("two_digit_year"), "two-digit year is ambiguous"),
        (~parsed, "unrecognised date format"),
        (~in_range, "year out of range"),
        (~real, "impossible date"),
    ]
    # pl.date raises on impossible components, so they are nulled before it sees them.
    valid = (parsed & in_range & real).fill_null(False)
    parts = (pl.when(valid).then(part) for part in (y, m, d))
    return _finish(state, pl.date(*parts), checks)


# --------------------------------------------------------------------------------------------
# Bank details and other identifiers
# --------------------------------------------------------------------------------------------

# Spaces, any dash (Excel turns hyphens into en dashes) and dots separate digit groups.
_DIGIT_SEPARATORS = r"[\s\p{Pd}.]+"


def normalise_sort_code(raw: pl.Expr) -> Normalised:
    """Six digits, separators dropped: 12-34-56 and 123456 are one sort code."""
    state = _bind(raw, s=F("raw").str.replace_all(_DIGIT_SEPARATORS, ""))
    s = F("s")
    checks = [
        (~s.str.contains(r"^[0-9]+$"), "sort code must contain only digits"),
        (s.str.len_chars() != 6, "sort code must have 6 digits"),
    ]
    return _finish(state, s, checks)


def normalise_account_number(raw: pl.Expr) -> Normalised:
    """Eight digits; seven-digit accounts are left-padded with 0 as UK banks do."""
    state = _bind(raw, s=F("raw").str.replace_all(_DIGIT_SEPARATORS, ""))
    s = F("s")
    checks = [
        (~s.str.contains(r"^[0-9]+$"), "account number must contain only digits"),
        (~s.str.len_chars().is_in([7, 8]), "account number must have 7 or 8 digits"),
    ]
    return _finish(state, s.str.zfill(8), checks)


def normalise_uprn(raw: pl.Expr) -> Normalised:
    """UPRN as digits without leading zeros (the register's own form; at most 12 digits).

    A trailing '.0' is accepted because spreadsheets read as text render numbers that way.
    """
    state = _bind(raw, s=_strip_all_space(F("raw")))
    state = _let(state, digits=F("s").str.replace(r"\.0+$", "").str.replace(r"^0+", ""))
    s, digits = F("s"), F("digits")
    checks = [
        (~s.str.contains(r"^[0-9]+(?:\.0+)?$"), "UPRN must contain only digits"),
        (digits == "", "UPRN must not be zero"),
        (digits.str.len_chars() > 12, "UPRN must have at most 12 digits"),
    ]
    return _finish(state, digits, checks)


def normalise_code(raw: pl.Expr) -> Normalised:
    """Reference numbers (badge, pass, company, VAT, invoice): letters and digits only.

    Punctuation and spacing in such numbers vary by system, never by meaning.
    """
    state = _bind(raw, code=_fold(F("raw")).str.replace_all(r"[^A-Z0-9]+", ""))
    code = F("code")
    return _finish(state, code, [(code == "", "no letters or digits in the code")])


# --------------------------------------------------------------------------------------------
# Amounts
# --------------------------------------------------------------------------------------------

_AMOUNT = (
    r"^(?<open>\()?(?<s1>[+-])?(?<cur1>£|GBP)?(?<s2>[+-])?"
    r"(?<int>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]*)(?:\.(?<frac>[0-9]*))?"
    r"(?<cur2>£|GBP)?(?<close>\))?$"
)
# Brackets | signs | currency | pounds | decimals | bracket: parts that must then agree.
_AMOUNT_TEMPLATE = "${open}|${s1}${s2}|${cur1}${cur2}|${int}|${frac}|${close}"
# Whole pounds kept exact in Float64 with pence: 13 digits + 2 decimals < 2**53.
_AMOUNT_MAX_DIGITS = 13


def normalise_amount(raw: pl.Expr) -> Normalised:
    """Money in pounds as Float64 rounded half away from zero to the penny.

    Rounding is done on the decimal digits, not the float, so 1.005 is 1.01 as an accountant
    expects; accounting-style brackets mean a negative amount.
    """
    state = _bind(raw, s=_strip_all_space(F("raw").str.to_uppercase()))
    s = F("s")
    parts = pl.when(s.str.contains(_AMOUNT)).then(s.str.replace(_AMOUNT, _AMOUNT_TEMPLATE))
    state = _let(state, parts=parts.str.split_exact("|", 5))
    bracket, sign, currency, pounds, decimals, close = (
        F("parts").struct.field(f"field_{i}") for i in range(6)
    )
    state = _let(
        state,
        well_formed=(
            sign.is_in(["", "+", "-"])  # null when the pattern did not match
            & currency.is_in(["", "£", "GBP"])
            & ((bracket == "(") == (close == ")"))
            & ~((bracket == "(") & (sign != ""))
            & (pounds + decimals != "")
        ),
        negative=((bracket == "(") | (sign == "-")).fill_null(False),
        digits=pounds.str.replace_all(",", "", literal=True).str.replace(r"^0+", ""),
        milli=decimals.str.pad_end(3, "0").str.head(3).str.to_integer(strict=False),
    )
    fits = F("digits").str.len_chars() <= _AMOUNT_MAX_DIGITS
    whole = pl.when(fits).then(F("digits").str.to_integer(strict=False)).fill_null(0)
    milli = F("milli")
    state = _let(state, pence=whole * 100 + milli // 10 + (milli % 10 >= 5).cast(pl.Int64))
    pence = F("pence")
    # A zero is never negative, so "-0" and "0" are one value (not -0.0 and 0.0).
    minus = pl.when(F("negative") & (pence != 0)).then(pl.lit("-")).otherwise(pl.lit(""))
    # Parsed from decimal text, the float is the nearest to the exact amount: pence / 100.0
    # may be computed as pence * 0.01, which makes 40.3 into 40.300000000000004.
    cents = (pence % 100).cast(pl.String).str.zfill(2)
    decimal = minus + (pence // 100).cast(pl.String) + "." + cents
    checks = [(~F("well_formed"), "not an amount"), (~fits, "amount too large")]
    return _finish(state, decimal.cast(pl.Float64, strict=False), checks)


# --------------------------------------------------------------------------------------------
# Addresses
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
    lines = _fold(raw).str.replace_all(r"[,;\r\n\u2028\u2029]", ",")
    lines = lines.str.replace_all(r"[^\p{L}\p{N},]+", " ")
    lines = lines.str.replace_all(r" *(?:, *)+", ",").str.strip_chars(" ,")
    # Councils paste the postcode into the last line; it is matched on its own column.
    lines = lines.str.replace(rf"(?:(?:^|[ ,]){_LOOSE_POSTCODE})+$", "").str.strip_chars(" ,")
    lines = _saint_or_street(lines)
    return _replace_words(lines.str.replace_all(",", " ", literal=True), ADDRESS_ABBREVIATIONS)


# Words that end a street name ("12 ELM ROAD"), after abbreviations are written out. The street
# ends at the first of them that follows at least one word of its name, or at the last of a run
# ("12 PARK ROAD", "3 COURT LANE"); what follows is the locality.
STREET_TYPES: tuple[str, ...] = (
    "ROAD", "STREET", "LANE", "AVENUE", "DRIVE", "CLOSE", "COURT", "CRESCENT", "PLACE",
    "SQUARE", "GARDENS", "GARDEN", "TERRACE", "GREEN", "PARK", "WAY", "GROVE", "HILL", "ROW",
    "WALK", "MEWS", "VIEW", "PARADE", "RISE", "VALE", "END", "YARD", "WHARF", "QUAY",
    "BOULEVARD", "HIGHWAY", "PARKWAY", "CIRCUS", "GATE", "HEIGHTS", "ESTATE", "MOUNT",
)  # fmt: skip
# Words that only say "a sub-premises number follows": FLAT 3 12 ELM ROAD is 3 12 ELM ROAD.
_SUBPREMISES_WORDS = ("FLAT", "UNIT")
_TYPES = "|".join(STREET_TYPES)
# The premises-and-street part: anything up to the LAST house-number word (so a building name
# with its own number before it stays), then the street name up to its run of street-type
# words. Groups: 1 = the line, 2 = the house number.
_ADDRESS_LINE = rf"^((?:.* )?(\d[^ ]*)(?: [^ ]+)+? (?:{_TYPES})(?: (?:{_TYPES}))*)(?: .*)?$"


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
    the street or the locality are written.
    """
    return _premises_words(address).str.extract(_ADDRESS_LINE, 2)


def _premises_words(address: pl.Expr) -> pl.Expr:
    """The address without FLAT/UNIT words (the address itself if nothing else is left)."""
    words = _drop_words(address, _SUBPREMISES_WORDS)
    return pl.when(words != "").then(words).otherwise(address)


def normalise_address(raw: pl.Expr) -> Normalised:
    """Address as upper-case words with common abbreviations written out and no postcode.

    Extras: ``line`` (premises and street, see :func:`address_line`) and ``number`` (the
    house number, see :func:`address_number`), so that the same home written with or without
    "Flat" or a trailing town still meets, and a next-door number never does.
    """
    state = _bind(raw, address=_clean_address(F("raw")))
    address = F("address")
    state = _let(state, _words=_premises_words(address))
    state = _let(state, _parts=F("_words").str.extract_groups(_ADDRESS_LINE))
    extras = {
        "line": F("_parts").struct.field("1").fill_null(F("_words")),
        "number": F("_parts").struct.field("2"),
    }
    return _finish(state, address, [(address == "", _NO_ADDRESS)], extras)


# --------------------------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------------------------

NORMALISERS: dict[str, Normaliser] = {
    "record_id": normalise_record_id,
    "name": normalise_name,
    "ni_number": normalise_ni_number,
    "postcode": normalise_postcode,
    "date": normalise_date,
    "sort_code": normalise_sort_code,
    "account_number": normalise_account_number,
    "address": normalise_address,
    "text": normalise_text,
    "code": normalise_code,
    "uprn": normalise_uprn,
    "amount": normalise_amount,
}


def normalise_column(raw: pl.Expr, normaliser: str) -> Normalised:
    """Normalise a raw string column with the normaliser named in the data specification."""
    try:
        fn = NORMALISERS[normaliser]
    except KeyError:
        valid = ", ".join(sorted(NORMALISERS))
        raise KeyError(f"unknown normaliser {normaliser!r}; valid names: {valid}") from None
    return fn(raw)

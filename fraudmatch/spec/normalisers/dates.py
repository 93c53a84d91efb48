"""Dates: ISO (also run together, 19900325), day-first or month-first and day-month-name text
into real dates, never a guess."""

from __future__ import annotations

from functools import cache

import polars as pl

from fraudmatch.spec.date_formats import DateOrder
from fraudmatch.spec.normalisers.core import (
    F,
    Normalised,
    bind,
    finish,
    let,
)

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


def _month_first(i: int, sep: str) -> str:
    return f"(?<m{i}>{_MD}){sep}(?<d{i}>{_MD}){sep}(?<y{i}>{_Y})"


_NUMERIC_ORDER = {"dmy": _day_first, "mdy": _month_first}
_NUMERIC_SEPARATORS = ("/", r"\.", "-")


@cache
def _date_pattern(order: DateOrder) -> tuple[str, str]:
    """The regex of the dates accepted in ``order`` and the template giving "year|month|day".

    Each layout has its own numbered groups (the regex engine has no duplicate names). A
    separator is used consistently within a date: 01/02-1990 is not a date. Year-first and
    month-name dates cannot be misread, so every order accepts them; numeric day and month
    dates only in the order declared or detected, and not at all in ``iso``.
    """
    layouts = [_year_first(0, "-"), _year_first(1, "/")]
    numeric = _NUMERIC_ORDER.get(order)
    if numeric is not None:
        layouts += [numeric(i, sep) for i, sep in enumerate(_NUMERIC_SEPARATORS, len(layouts))]
    i = len(layouts)
    layouts.append(rf"(?<d{i}>{_MD})[ /.-]?(?<m{i}>[A-Z]{{3,9}})\.?[ /.,-]*(?<y{i}>{_Y})")
    pattern = rf"^(?:{'|'.join(layouts)}){_TIME}$"
    # Whichever layout matched, its groups fill "year|month|day"; the others are empty.
    template = "|".join("".join(f"${{{part}{i}}}" for i in range(len(layouts))) for part in "ymd")
    return pattern, template


# A numeric date with day and month in either order: groups a (first), b (second), y.
_NUMERIC_LAYOUTS = tuple(
    f"(?<a{i}>{_MD}){sep}(?<b{i}>{_MD}){sep}(?<y{i}>{_Y})"
    for i, sep in enumerate(_NUMERIC_SEPARATORS)
)
_NUMERIC = rf"^(?:{'|'.join(_NUMERIC_LAYOUTS)}){_TIME}$"
_NUMERIC_TEMPLATE = "|".join(
    "".join(f"${{{part}{i}}}" for i in range(len(_NUMERIC_LAYOUTS))) for part in "aby"
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
# Eight digits with nothing between: ISO's basic form, YYYYMMDD, as system exports (and
# FEBRL) write it.
_COMPACT = r"^[0-9]{8}$"


def _expand_compact(s: pl.Expr) -> pl.Expr:
    """19900325 -> 1990-03-25 where the first four digits are a year in range and the next
    two a month; any other eight digits are left as they are (unrecognised).

    Never a guess: a day-first or month-first date run together (25031990, 03251990) can
    never pass, since its reading as YYYYMMDD would need a month of 18-21 (the year's first
    two digits) or a year below 1850 (a day and month, at most 3112).
    """
    y = s.str.slice(0, 4).cast(pl.Int32, strict=False)
    m = s.str.slice(4, 2).cast(pl.Int32, strict=False)
    ok = s.str.contains(_COMPACT) & y.is_between(YEAR_MIN, YEAR_MAX) & m.is_between(1, 12)
    iso = pl.concat_str(s.str.slice(0, 4), s.str.slice(4, 2), s.str.slice(6, 2), separator="-")
    return pl.when(ok.fill_null(False)).then(iso).otherwise(s)


def _days_in_month(y: pl.Expr, m: pl.Expr) -> pl.Expr:
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    return (
        pl.when(m == 2)
        .then(pl.when(leap).then(29).otherwise(28))
        .when(m.is_in([4, 6, 9, 11]))
        .then(30)
        .otherwise(31)
    )


def normalise_date(raw: pl.Expr, order: DateOrder = "dmy") -> Normalised:
    """A real calendar date from ISO (also YYYYMMDD), numeric day and month or day-month-name
    text.

    ``order`` says how a numeric date such as 03/04/1990 is read: ``dmy`` (the UK
    convention, the default), ``mdy``, or ``iso`` (not at all: a partner that declares ISO
    has no such dates, so one is an error, not a guess). Two-digit years and impossible
    dates are rejected rather than guessed or rolled over: a wrong date of birth silently
    breaks matching.
    """
    pattern, template = _date_pattern(order)
    state = bind(raw, t=F("raw").str.strip_chars().str.to_uppercase())
    state = let(state, s=_expand_compact(F("t")))
    s = F("s")
    ymd = pl.when(s.str.contains(pattern)).then(s.str.replace(pattern, template))
    state = let(
        state,
        ymd=ymd.str.split_exact("|", 2),
        two_digit_year=s.str.contains(_TWO_DIGIT_YEAR),
        not_iso=s.str.contains(_NUMERIC) if order == "iso" else pl.lit(False),
    )
    ymd = F("ymd")
    state = let(
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
        (F("not_iso"), "not YYYY-MM-DD, the declared date_format iso"),
        (~parsed, "unrecognised date format"),
        (~in_range, "year out of range"),
        (~real, "impossible date"),
    ]
    # pl.date raises on impossible components, so they are nulled before it sees them.
    valid = (parsed & in_range & real).fill_null(False)
    parts = (pl.when(valid).then(part) for part in (y, m, d))
    done = finish(state, pl.date(*parts), checks)
    # Partial evidence: the parts of an impossible date (1958-07-71, 1958-13-04) that are
    # each possible on their own, kept after finish nulls the value so that a date-of-birth
    # comparison can still use them; the error still says what was wrong.
    damaged = (parsed & in_range & ~real).fill_null(False)
    partial = {
        "py": pl.when(damaged).then(y),
        "pm": pl.when(damaged & m.is_between(1, 12)).then(m),
        "pd": pl.when(damaged & d.is_between(1, 31)).then(d),
    }
    state = let(done.state, **{f"_extra_{k}": e.cast(pl.Int16) for k, e in partial.items()})
    return Normalised(
        value=state.struct.field("_value"),
        error=state.struct.field("_error"),
        extras={k: state.struct.field(f"_extra_{k}") for k in partial},
        state=state,
    )


def date_reading(raw: pl.Expr) -> pl.Expr:
    """How a numeric date can be read: "dmy" only, "mdy" only, "either", else null.

    The evidence for a column's order: 25/03/1990 can only be day-first, 03/25/1990 only
    month-first, 03/04/1990 either (two different dates). 04/04/1990 reads the same both
    ways and is no evidence, nor is a date impossible both ways or not numeric at all.
    Staged in a struct, as the normalisers are, so each step is evaluated once.
    """
    s = F("raw").str.strip_chars()
    parts = pl.when(s.str.contains(_NUMERIC)).then(s.str.replace(_NUMERIC, _NUMERIC_TEMPLATE))
    state = bind(raw, parts=parts.str.split_exact("|", 2))
    state = let(
        state,
        **{
            name: F("parts").struct.field(f"field_{i}").cast(pl.Int32, strict=False)
            for i, name in enumerate("aby")
        },
    )
    a, b, y = F("a"), F("b"), F("y")
    state = let(
        state,
        day_first=(b.is_between(1, 12) & a.is_between(1, _days_in_month(y, b))).fill_null(False),
        month_first=(a.is_between(1, 12) & b.is_between(1, _days_in_month(y, a))).fill_null(False),
    )
    day_first, month_first = F("day_first"), F("month_first")
    state = let(
        state,
        kind=pl.when(day_first & month_first & (a != b))
        .then(pl.lit("either"))
        .when(day_first & ~month_first)
        .then(pl.lit("dmy"))
        .when(month_first & ~day_first)
        .then(pl.lit("mdy")),
    )
    return state.struct.field("kind")

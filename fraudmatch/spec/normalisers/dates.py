"""Dates: ISO, UK day-first and day-month-name text into real dates, never a guess."""

from __future__ import annotations

import polars as pl

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
    state = bind(raw, s=F("raw").str.strip_chars().str.to_uppercase())
    s = F("s")
    ymd = pl.when(s.str.contains(_DATE)).then(s.str.replace(_DATE, _DATE_TEMPLATE))
    state = let(
        state,
        ymd=ymd.str.split_exact("|", 2),
        two_digit_year=s.str.contains(_TWO_DIGIT_YEAR),
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

"""How each council's systems write a file (encoding, headers, dates, case) and cell noise."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl


@dataclass(frozen=True)
class Style:
    """How one council's systems write files."""

    encoding: str  # utf-8 | utf-8-sig | cp1252
    headers: str  # snake | title
    dates: str  # iso | uk | mixed (per row)
    upper: bool  # names and addresses in capitals
    sort_code: str  # dash 12-34-56 | plain 123456 | space 12 34 56
    crlf: bool
    money: str  # plain 1234.50 | pounds £1,234.50


_STYLES = (
    Style("utf-8", "snake", "iso", False, "dash", False, "plain"),
    Style("utf-8-sig", "title", "uk", True, "plain", True, "plain"),
    Style("cp1252", "snake", "mixed", False, "space", True, "pounds"),
    Style("utf-8", "title", "uk", False, "dash", False, "plain"),
    Style("utf-8", "snake", "mixed", True, "plain", False, "plain"),
)


_TITLE_WORDS = {"id": "ID", "ni": "NI", "uprn": "UPRN", "vat": "VAT"}


def style_of(partner: int, dataset: str) -> Style:
    st = _STYLES[partner % len(_STYLES)]
    if dataset in ("deceased", "electoral_register") and st.dates == "iso":
        # These come from other systems (register office, electoral software).
        st = Style(st.encoding, st.headers, "uk", st.upper, st.sort_code, st.crlf, st.money)
    return st


def file_format(partner: int, dataset: str) -> str:
    if (partner, dataset) == (0, "creditors"):
        return "xlsx"
    if (partner, dataset) == (1, "payroll"):
        return "parquet"
    return "csv"


def header_of(column: str, style: Style) -> str:
    if style.headers == "snake":
        return column
    return " ".join(_TITLE_WORDS.get(w, w.capitalize()) for w in column.split("_"))


def fmt_dates(expr: pl.Expr, style: str, u: pl.Expr) -> pl.Expr:
    iso, uk = expr.dt.strftime("%Y-%m-%d"), expr.dt.strftime("%d/%m/%Y")
    out = {"iso": iso, "uk": uk}.get(style)
    if out is None:
        out = pl.when(u < 0.5).then(iso).otherwise(uk)
    return out.fill_null("")


def typo(col: pl.Expr, u: pl.Expr, letter: pl.Expr) -> pl.Expr:
    """One letter replaced, never the first (so phonetic blocking still has a chance)."""
    n = col.str.len_chars()
    pos = (u * (n - 1)).floor().cast(pl.Int64) + 1
    return (
        pl.when(n >= 2).then(col.str.slice(0, pos) + letter + col.str.slice(pos + 1)).otherwise(col)
    )


def swap_letters(col: pl.Expr, u: pl.Expr) -> pl.Expr:
    """Two neighbouring letters transposed, after the first."""
    n = col.str.len_chars()
    pos = (u * (n - 2)).floor().cast(pl.Int64) + 1
    return (
        pl.when(n >= 3)
        .then(
            col.str.slice(0, pos)
            + col.str.slice(pos + 1, 1)
            + col.str.slice(pos, 1)
            + col.str.slice(pos + 2)
        )
        .otherwise(col)
    )


def letter_case(col: pl.Expr, upper: bool, u: pl.Expr) -> pl.Expr:
    base = col.str.to_uppercase() if upper else col
    return (
        pl.when(u < 0.01)
        .then(col.str.to_lowercase())
        .when(u < 0.02)
        .then(col.str.to_uppercase())
        .when(u < 0.025)
        .then(col.str.to_titlecase())
        .otherwise(base)
    )


@dataclass
class File:
    """One emitted file in the making: its rows (strings) and what was planted in it."""

    partner: int
    dataset: str
    frame: pl.DataFrame  # true record columns + people and address attributes, in row order
    style: Style
    rng: np.random.Generator
    invalid: np.ndarray  # bool per row: a planted invalid row
    can_blank: np.ndarray  # bool per row: may carry an invalid optional value

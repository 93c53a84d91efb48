"""How each council of the second population writes its files: shapes, gaps and damage.

Per council: its own date format, case, file encoding, and for every optional column its
own missing rate (0-30%; NI numbers 20-40% on benefit and tenancy lists). Per record: names
in other shapes (initials, middle name first, a double-barrelled name halved, a maiden name),
addresses written other ways (flat forms, "Rd" for "Road", no house number), and a little
damage (typos, impossible dates such as 1958-07-71, day and month swapped).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from fraudmatch.synth.vocabulary import DATASETS
from fraudmatch.synth.wild.people import NO_DAY

FORMATS = ("csv-utf8", "csv-bom", "csv-cp1252", "xlsx")
NI_LISTS = {"housing_benefit", "council_tax_reduction", "housing_tenants", "housing_waiting_list"}
#: Optional columns a council may leave empty. Dates that define a spell or a
#: condition (start, end, expiry, application, death) are never left out.
MISSABLE = {
    "ni_number",
    "address",
    "postcode",
    "uprn",
    "date_of_birth",
    "sort_code",
    "account_number",
    "job_title",
    "badge_number",
    "pass_number",
    "issue_date",
    "company_number",
    "vat_number",
    "supplier_name",
    "payment_date",
}
#: Optional columns whose absence is itself a statement, never a gap: the register shows a date
#: of birth only for an attainer (datasets.yaml), so an entry without one says "18 or over". A
#: 17-year-old's entry with the date left out would be a register that says adult of a minor
#: while the truth says minor: the data and its truth would disagree.
NEVER_MISSING = {("electoral_register", "date_of_birth")}


@dataclass(frozen=True)
class Style:
    """One council's export habits."""

    file: str  # one of FORMATS
    dates: str  # iso | uk | mixed
    upper: bool
    abbreviate: float  # share of addresses with "Rd" for "Road"
    missing: dict[tuple[str, str], float]  # (dataset, column) -> rate


def styles(rng: np.random.Generator, n: int) -> list[Style]:
    out = []
    for c in range(n):
        missing = {}
        for ds, spec in DATASETS.items():
            for col in spec.columns:
                if col in spec.required or col not in MISSABLE:
                    continue
                lo, hi = (0.2, 0.4) if col == "ni_number" and ds in NI_LISTS else (0.0, 0.3)
                rate = float(rng.uniform(lo, hi))  # drawn anyway: the other rates stay as drawn
                missing[(ds, col)] = 0.0 if (ds, col) in NEVER_MISSING else rate
        out.append(
            Style(
                file=FORMATS[c % len(FORMATS)],
                dates=("iso", "uk", "mixed")[int(rng.integers(0, 3))],
                upper=bool(rng.random() < 0.5),
                abbreviate=float(rng.uniform(0, 0.8)),
                missing=missing,
            )
        )
    return out


def _u(rng: np.random.Generator, n: int) -> pl.Series:
    return pl.Series(rng.random(n))


def forenames(rng: np.random.Generator, first: pl.Series, middle: pl.Series) -> pl.Series:
    """Forenames as systems hold them: full, first only, initials, middle name first."""
    u = _u(rng, len(first))
    return pl.select(
        pl.when(u < 0.04)
        .then(
            first.str.slice(0, 1)
            + pl.when(middle.is_not_null()).then(" " + middle.str.slice(0, 1)).otherwise(pl.lit(""))
        )
        .when((u < 0.07) & middle.is_not_null())
        .then(middle + " " + first)
        .when(u < 0.45)
        .then(first)
        .otherwise(first + pl.when(middle.is_not_null()).then(" " + middle).otherwise(pl.lit("")))
    ).to_series()


def surnames(rng: np.random.Generator, surname: pl.Series, maiden: pl.Series) -> pl.Series:
    """Double-barrelled names written with a space or halved; sometimes the maiden name."""
    u = _u(rng, len(surname))
    barrelled = surname.str.contains("-")
    return pl.select(
        pl.when(maiden.is_not_null() & (u < 0.25))
        .then(maiden)
        .when(barrelled & (u < 0.3))
        .then(surname.str.replace("-", " "))
        .when(barrelled & (u < 0.45))
        .then(surname.str.split("-").list.last())
        .otherwise(surname)
    ).to_series()


def typos(rng: np.random.Generator, s: pl.Series, rate: float) -> pl.Series:
    """A letter swapped with its neighbour or doubled, in a share `rate` of values."""
    n = len(s)
    u = _u(rng, n)
    pos = pl.Series(rng.integers(1, 4, n))
    head, tail = s.str.slice(0, pos), s.str.slice(pos + 2)
    a, b = s.str.slice(pos, 1), s.str.slice(pos + 1, 1)
    return pl.select(
        pl.when((u < rate / 2) & (s.str.len_chars() > pos + 2))
        .then(head + b + a + tail)
        .when((u < rate) & (s.str.len_chars() > pos + 1))
        .then(head + a + a + s.str.slice(pos + 1))
        .otherwise(s)
    ).to_series()


def address_lines(rng: np.random.Generator, addr: pl.DataFrame, abbreviate: float) -> pl.Series:
    """'Flat 3, 12 Elm Road' / '3/12 Elm Rd' / '12 Elm Road Flat 3'; a few without a number."""
    n = addr.height
    u, v = _u(rng, n), _u(rng, n)
    street = pl.select(
        pl.when(v < abbreviate).then(addr["street_abbr"]).otherwise(addr["street"])
    ).to_series()
    num = addr["number"].cast(pl.String)
    flat = addr["flat"].cast(pl.String)
    has_flat = addr["flat"] > 0
    return pl.select(
        pl.when(has_flat & (u < 0.4))
        .then("Flat " + flat + ", " + num + " " + street)
        .when(has_flat & (u < 0.7))
        .then(flat + "/" + num + " " + street)
        .when(has_flat)
        .then(num + " " + street + " Flat " + flat)
        .when(u < 0.015)
        .then(street)
        .otherwise(num + pl.when(u < 0.2).then(pl.lit(", ")).otherwise(pl.lit(" ")) + street)
    ).to_series()


def postcodes(rng: np.random.Generator, pc: pl.Series) -> pl.Series:
    u = _u(rng, len(pc))
    return pl.select(
        pl.when(u < 0.15)
        .then(pc.str.replace(" ", ""))
        .when(u < 0.2)
        .then(pc.str.to_lowercase())
        .otherwise(pc)
    ).to_series()


def dates(rng: np.random.Generator, days: pl.Series, style: str, damage: float) -> pl.Series:
    """Day numbers as text: ISO or DD/MM/YYYY; a share `damage` swapped or impossible."""
    n = len(days)
    d = pl.select(pl.when(days == NO_DAY).then(None).otherwise(days).cast(pl.Date)).to_series()
    y, m, dd = (
        d.dt.year().cast(pl.String),
        d.dt.month().cast(pl.String).str.zfill(2),
        d.dt.day().cast(pl.String).str.zfill(2),
    )
    u, w = _u(rng, n), _u(rng, n)
    swap = (u < damage / 2) & (d.dt.day() <= 12) & (d.dt.day() != d.dt.month())
    bad = (u >= damage / 2) & (u < damage)
    day = pl.select(
        pl.when(bad & (w < 0.5))
        .then(pl.lit("7") + dd.str.slice(1, 1))  # 1958-07-71
        .when(swap)
        .then(m)
        .otherwise(dd)
    ).to_series()
    month = pl.select(
        pl.when(bad & (w >= 0.5)).then(pl.lit("13")).when(swap).then(dd).otherwise(m)
    ).to_series()
    uk = pl.Series([style == "uk"] * n) if style != "mixed" else _u(rng, n) < 0.5
    return pl.select(
        pl.when(d.is_null())
        .then(None)
        .when(uk)
        .then(day + "/" + month + "/" + y)
        .otherwise(y + "-" + month + "-" + day)
    ).to_series()


def ni_text(rng: np.random.Generator, ni: pl.Series) -> pl.Series:
    u = _u(rng, len(ni))
    spaced = (
        ni.str.slice(0, 2)
        + " "
        + ni.str.slice(2, 2)
        + " "
        + ni.str.slice(4, 2)
        + " "
        + ni.str.slice(6, 2)
        + " "
        + ni.str.slice(8, 1)
    )
    return pl.select(
        pl.when(u < 0.2).then(spaced).when(u < 0.3).then(ni.str.to_lowercase()).otherwise(ni)
    ).to_series()


def blank(
    rng: np.random.Generator, frame: pl.DataFrame, ds: str, style: Style, forced: pl.Series
) -> pl.DataFrame:
    """Leave each optional column empty at this council's own rate (and where a plant says)."""
    cols = []
    for col in frame.columns:
        rate = style.missing.get((ds, col))
        if rate is None:
            continue
        gone = (_u(rng, frame.height) < rate) | (forced.fill_null("") == col)
        cols.append(pl.when(gone).then(None).otherwise(pl.col(col)).alias(col))
    return frame.with_columns(cols) if cols else frame


def case(frame: pl.DataFrame, upper: bool, columns: list[str]) -> pl.DataFrame:
    cols = [c for c in columns if c in frame.columns]
    if upper:
        return frame.with_columns(pl.col(cols).str.to_uppercase())
    return frame

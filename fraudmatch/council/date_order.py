"""Which way round an extract writes its numeric dates: declared, or shown by the dates.

03/04/1990 is 3 April in a UK system and 4 March in a US one, and a date of birth read the
wrong way round never meets its person at another council. A partner may declare the order
(``date_format`` in the partnership file); otherwise each date column must show it: a value
that reads only one way (25/03/1990 is day-first, 03/25/1990 month-first) settles the
column, and a column with none borrows the order its own file shows in its other date
columns, since one export writes its dates one way. A column that shows no order and whose
file shows none, or that shows both, is refused: a date is never guessed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import polars as pl

from fraudmatch.spec.normalisers.dates import date_reading

DMY, MDY, EITHER = "dmy", "mdy", "either"
_SPELT = {DMY: "day-first", MDY: "month-first"}
# A column read one way may hold a few values that read only the other way (07/13/1984 in
# a day-first column is a slip); they are impossible dates in the column's order and
# rejected as such. More than this share of the column's telling values is two orders.
SLIP_SHARE = 0.05


@dataclass(frozen=True)
class Evidence:
    """How many of a column's numeric dates read only day-first, only month-first, either."""

    column: str
    counts: Mapping[str, int]
    examples: Mapping[str, str]

    def n(self, kind: str) -> int:
        return self.counts.get(kind, 0)

    def seen(self, kind: str) -> str:
        return f"{self.n(kind):,} only {_SPELT[kind]} (e.g. {self.examples[kind]})"


@dataclass
class DateOrders:
    """The order to read each date column in, notes for the report, and reasons to refuse."""

    orders: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)


def evidence(frame: pl.DataFrame, columns: Iterable[str]) -> list[Evidence]:
    """Count each column's readings over its distinct cells, with the smallest example of each."""
    plans = [
        frame.lazy()
        .group_by(pl.col(c).alias("value"))
        .agg(pl.len().alias("n"))
        .with_columns(date_reading(pl.col("value")).alias("kind"))
        .filter(pl.col("kind").is_not_null())
        .group_by("kind")
        .agg(pl.col("n").sum(), pl.col("value").min().alias("example"))
        for c in columns
    ]
    out = []
    for c, table in zip(columns, pl.collect_all(plans), strict=True):
        rows = table.rows(named=True)
        out.append(
            Evidence(
                column=c,
                counts={r["kind"]: r["n"] for r in rows},
                examples={r["kind"]: r["example"] for r in rows},
            )
        )
    return out


def _own_order(ev: Evidence, result: DateOrders) -> str | None:
    """The order a column shows by itself, noting slips; None if it shows none."""
    d, m = ev.n(DMY), ev.n(MDY)
    if not d and not m:
        return None
    order, slips = (DMY, m) if d >= m else (MDY, d)
    other = MDY if order == DMY else DMY
    if slips > SLIP_SHARE * (d + m):
        result.refusals.append(
            f"{ev.column}: dates written both ways round, {ev.seen(DMY)} and {ev.seen(MDY)}"
        )
        return None
    if slips:
        result.notes.append(
            f"{ev.column}: read {_SPELT[order]}, {ev.seen(order)}; {ev.seen(other)} "
            f"cannot be real that way and are rejected as impossible dates"
        )
    elif order == MDY:
        result.notes.append(f"{ev.column}: read month-first, {ev.seen(MDY)}")
    return order


def _borrowed(ev: Evidence, file_orders: Mapping[str, str], result: DateOrders) -> str:
    """A column with only either-way dates takes its file's one order, or is refused."""
    shown = set(file_orders.values())
    if len(shown) == 1:
        order = shown.pop()
        source = ", ".join(sorted(file_orders))
        result.notes.append(
            f"{ev.column}: its {ev.n(EITHER):,} date(s) read either way (e.g. "
            f"{ev.examples[EITHER]}); read {_SPELT[order]} like {source} in the same file"
        )
        return order
    result.refusals.append(
        f"{ev.column}: all {ev.n(EITHER):,} numeric date(s) read either way round "
        f"(e.g. {ev.examples[EITHER]}: every day is 12 or less) and nothing in the file "
        "says which"
    )
    return DMY


def decide(columns: Iterable[str], frame: pl.DataFrame, declared: str | None) -> DateOrders:
    """The order of every date column: the declared one, else what the dates show.

    Refusals name the column, the count and an example of each reading; the caller refuses
    the file with them, asking for ``date_format`` in the partnership file.
    """
    columns = list(columns)
    result = DateOrders()
    if declared is not None or not columns:
        result.orders = dict.fromkeys(columns, declared or DMY)
        return result
    found = evidence(frame, columns)
    own = {ev.column: _own_order(ev, result) for ev in found}
    file_orders = {c: o for c, o in own.items() if o is not None}
    for ev in found:
        order = own[ev.column]
        if order is None and ev.n(EITHER) and not (ev.n(DMY) and ev.n(MDY)):
            order = _borrowed(ev, file_orders, result)
        result.orders[ev.column] = order or DMY
    return result

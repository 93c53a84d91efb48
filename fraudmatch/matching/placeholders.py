"""A council's placeholder values, found from its counts: 01/01 for an unknown birthday,
AB123456C for an unknown NI number.

Some councils' systems write a fixed value when the real one is not known. Read as a
birthday, 01/01 is two parts of the date that differ from the person's other record, which
vetoes the pair as relatives; read as an NI number, AB123456C is an identifier two people
share, which proves them one. The hub cannot read a token, but it can count them: a
day-month token one council's records hold several times as often as its typical one, or an
identifier several of its records share, is that council's placeholder, whatever the value
and under any key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from fraudmatch.matching.rule_model import Comparison
from fraudmatch.matching.similarity import EPS

__all__ = [
    "PLACEHOLDER_MIN_RECORDS",
    "placeholder_flag",
    "placeholder_table",
    "shared_value_table",
    "with_placeholder_flags",
]

Frame = pl.DataFrame | pl.LazyFrame

#: a day and month is read as a council's placeholder only when at least this many of its
#: records hold it: in a small extract a real birthday can be several times the median
PLACEHOLDER_MIN_RECORDS = 20


def _value_counts(sides: Sequence[tuple[Frame, str]]) -> pl.LazyFrame:
    """How many records of each council hold each value (``__value``, ``__n``), counted
    together over ``sides``: (frame, column) per dataset read."""
    return (
        pl.concat([f.lazy().select("partner", pl.col(col).alias("__value")) for f, col in sides])
        .drop_nulls()
        .group_by("partner", "__value")
        .agg(pl.len().alias("__n"))
    )


def _flagged(counts: pl.LazyFrame, held: pl.Expr) -> pl.DataFrame:
    return (
        counts.filter(held)
        .select("partner", "__value", pl.lit(True).alias("__placeholder"))
        .collect()
    )


def placeholder_table(comp: Comparison, sides: Sequence[tuple[Frame, str]]) -> pl.DataFrame:
    """Per council, the day-and-month tokens its records hold ``comp.placeholder`` times as
    often as its median one, and on at least :data:`PLACEHOLDER_MIN_RECORDS` records: the
    value it writes for an unknown birthday (01/01). ``sides``: (frame, day-month column)
    per dataset read, counted together, since a council's habit shows in all its extracts
    and a small one alone cannot tell a placeholder from a popular birthday. Found from the
    counts alone, so it holds for whatever value a council uses and under any key."""
    assert comp.placeholder is not None
    n = pl.col("__n")
    typical = n.median().over("partner")
    held = (n >= comp.placeholder * typical - EPS) & (n >= PLACEHOLDER_MIN_RECORDS)
    return _flagged(_value_counts(sides), held)


def placeholder_flag(comp: Comparison) -> str | None:
    """The side column that says a record's value is its council's placeholder: for a
    ``date_parts`` comparison with a ``placeholder`` (its day and month) or an ``exact`` one
    with ``placeholder_records`` (made by :class:`~fraudmatch.matching.compare.Comparer`)."""
    if comp.placeholder is None and comp.placeholder_records is None:
        return None
    return f"__placeholder__{comp.name}"


def shared_value_table(comp: Comparison, frame: Frame, col: str) -> pl.DataFrame:
    """Per council, the values of ``col`` that at least ``comp.placeholder_records`` of its
    records in ``frame`` (one dataset) share: an identifier so many records hold is no one's.
    Counted per dataset, not over all of them, since one person is in many of a council's
    datasets under one NI number."""
    assert comp.placeholder_records is not None
    return _flagged(_value_counts([(frame, col)]), pl.col("__n") >= comp.placeholder_records)


def with_placeholder_flags(
    frame: pl.DataFrame,
    comps: Sequence[Comparison],
    tables: Mapping[str, pl.DataFrame],
    side: str,
) -> pl.DataFrame:
    """``frame`` with each placeholder comparison's flag: whether the record's day-month
    token is one its council writes for an unknown birthday (``tables``: per comparison,
    its :func:`placeholder_table`), or its identifier one that many of its council's
    records in this dataset share (:func:`shared_value_table`, counted here)."""
    for comp in comps:
        flag = placeholder_flag(comp)
        if flag is None:
            continue
        if comp.type == "exact":
            (ref,) = comp.keys[0]
            col = ref.left if side == "left" else ref.right
            table = shared_value_table(comp, frame, col)
        else:
            assert comp.column is not None
            col = (comp.column.left if side == "left" else comp.column.right) + "__dm"
            table = tables[comp.name]
        keys = frame.select("partner", pl.col(col).alias("__value"))
        found = keys.join(table, on=["partner", "__value"], how="left", maintain_order="left")
        frame = frame.with_columns(found.get_column("__placeholder").fill_null(False).alias(flag))
    return frame

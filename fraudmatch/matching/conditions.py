"""Conditions on clear attributes, and exclusions by another rule's matches.

"Same person" is not a case on its own: a badge that expired before its holder died is not
a fraud lead. Conditions are small SQL expressions over ``l.<col>``, ``r.<col>`` and
``:cycle_date``, e.g. ``r.expiry_date > l.date_of_death``. They are safe by construction:
a whitelist tokenizer admits only literals, SQL words from a short list, operators and
side-qualified columns, and polars' SQL parser turns the text into an expression. Nothing
is ever evaluated as Python.

A NULL result (a date not supplied) does not satisfy a condition: a rule that wants missing
values to pass says so (``l.end_date IS NULL OR ...``), so the analyst can read the intent.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import polars as pl

__all__ = [
    "Condition",
    "ConditionError",
    "apply_conditions",
    "apply_exclusions",
    "condition_columns",
    "parse_condition",
]

_CYCLE_PLACEHOLDER = "\x00cycle_date\x00"
SQL_WORDS = frozenset(
    """AND OR NOT IS NULL TRUE FALSE BETWEEN IN CASE WHEN THEN ELSE END COALESCE ABS DATE
    INTERVAL LEAST GREATEST LIKE ILIKE LENGTH UPPER LOWER CAST AS DATE_PART YEAR MONTH DAY
    INTEGER INT BIGINT DOUBLE FLOAT VARCHAR TEXT NULLIF ROUND FLOOR CEIL STARTS_WITH
    ENDS_WITH""".split()
)
_TOKEN = re.compile(
    r"""\s*(?:
      (?P<str>'(?:[^']|'')*')
    | (?P<num>\d+(?:\.\d+)?)
    | (?P<param>:[A-Za-z_]+)
    | (?P<col>[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*)
    | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<op><=|>=|<>|!=|\|\||[=<>+\-*/(),%])
    )""",
    re.VERBOSE,
)


class ConditionError(ValueError):
    """A condition is not a safe expression over known columns."""


@dataclass(frozen=True)
class Condition:
    """A checked condition: its text, the rewritten SQL, and the columns it reads."""

    text: str
    sql: str  # l.x -> l__x, r.x -> r__x; :cycle_date left as a placeholder
    columns: tuple[tuple[str, str], ...]  # (l|r, column)

    def expr(self, cycle_date: date) -> pl.Expr:
        """The polars expression with ``:cycle_date`` bound (the run's cycle date)."""
        sql = self.sql.replace(_CYCLE_PLACEHOLDER, f"DATE '{cycle_date.isoformat()}'")
        return pl.sql_expr(sql)


def parse_condition(text: str) -> Condition:
    """Check a condition and rewrite it for the pair frame (``l__<col>``, ``r__<col>``)."""
    if not isinstance(text, str) or not text.strip():
        raise ConditionError("expected a condition expression (a string)")
    pos, out, cols = 0, [], []
    while pos < len(text):
        if not text[pos:].strip():
            break
        m = _TOKEN.match(text, pos)
        if not m:
            raise ConditionError(f"unexpected text at {text[pos:].strip()[:20]!r} in {text!r}")
        pos = m.end()
        kind = m.lastgroup or ""
        tok = m.group(kind)
        if kind == "param":
            if tok != ":cycle_date":
                raise ConditionError(f"unknown parameter {tok!r} (only :cycle_date) in {text!r}")
            out.append(_CYCLE_PLACEHOLDER)
        elif kind == "col":
            side, col = tok.split(".", 1)
            if side not in ("l", "r"):
                raise ConditionError(
                    f"columns are written l.<column> or r.<column>, got {tok!r} in {text!r}"
                )
            cols.append((side, col))
            out.append(f"{side}__{col}")
        elif kind == "word":
            if tok.upper() not in SQL_WORDS:
                near = difflib.get_close_matches(tok.upper(), sorted(SQL_WORDS), n=1)
                hint = f"; did you mean {near[0]}?" if near else ""
                raise ConditionError(
                    f"{tok!r} is not allowed in {text!r}: columns are written l.<column> or "
                    f"r.<column>, functions must be simple SQL ones{hint}"
                )
            out.append(tok)
        else:
            out.append(tok)
    if not cols:
        raise ConditionError(f"a condition must refer to l.<column> or r.<column>: {text!r}")
    sql = " ".join(out)
    try:
        probe = pl.sql_expr(sql.replace(_CYCLE_PLACEHOLDER, "DATE '2000-01-01'"))
        roots = set(probe.meta.root_names())
    except Exception as exc:  # polars raises several error types for bad SQL
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConditionError(f"not a valid expression: {text!r} ({first})") from None
    allowed = {f"{s}__{c}" for s, c in cols}
    if not roots <= allowed:
        raise ConditionError(f"unexpected names {sorted(roots - allowed)} in {text!r}")
    return Condition(text=text, sql=sql, columns=tuple(dict.fromkeys(cols)))


def condition_columns(conditions: Sequence[Condition]) -> tuple[list[str], list[str]]:
    """Columns the conditions read on the left and on the right."""
    left = [c for cond in conditions for s, c in cond.columns if s == "l"]
    right = [c for cond in conditions for s, c in cond.columns if s == "r"]
    return list(dict.fromkeys(left)), list(dict.fromkeys(right))


def condition_mask(conditions: Sequence[Condition], cycle_date: date) -> pl.Expr:
    """All conditions hold (NULL counts as not holding)."""
    if not conditions:
        return pl.lit(True)
    return pl.all_horizontal([c.expr(cycle_date).fill_null(False) for c in conditions])


def apply_conditions(
    pairs: pl.DataFrame, conditions: Sequence[Condition], cycle_date: date
) -> pl.DataFrame:
    """Keep pairs (with ``l__``/``r__`` columns gathered) where every condition holds."""
    if not conditions:
        return pairs
    return pairs.filter(condition_mask(conditions, cycle_date))


RECORD = ("partner", "dataset", "record_id")


def matched_records(matches: pl.DataFrame, side: str = "either") -> pl.DataFrame:
    """Distinct (partner, dataset, record_id) on one or both sides of a matches frame."""
    sides = ("left", "right") if side == "either" else (side,)
    parts = [
        matches.select([pl.col(f"{s}_{k}").cast(pl.String).alias(k) for k in RECORD]) for s in sides
    ]
    return pl.concat(parts).unique()


def apply_exclusions(
    matches: pl.DataFrame,
    exclusions: Sequence[tuple[str, pl.DataFrame]],
) -> tuple[pl.DataFrame, dict[str, int]]:
    """Drop matches whose ``side`` record is matched by another rule; count per rule.

    ``exclusions`` is (side of this rule's pair: left|right|either, the other rule's
    matches frame). Any of the other rule's records (either of its sides) counts, keyed by
    partner, dataset and record_id: tokens may change between cycles, record ids do not.
    """
    counts: dict[str, int] = {}
    for i, (side, other) in enumerate(exclusions):
        records = matched_records(other)
        before = matches.height
        sides = ("left", "right") if side == "either" else (side,)
        for s in sides:
            keyed = records.rename({k: f"{s}_{k}" for k in RECORD})
            matches = matches.join(keyed, on=[f"{s}_{k}" for k in RECORD], how="anti")
        counts[str(i)] = before - matches.height
    return matches, counts

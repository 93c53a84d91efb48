"""Conditions on clear attributes (nulls, :cycle_date) and exclusions by another rule."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from fraudmatch.matching.conditions import (
    ConditionError,
    apply_conditions,
    apply_exclusions,
    condition_columns,
    parse_condition,
)

CYCLE = date(2026, 4, 1)
D = date


@pytest.mark.parametrize(
    ("text", "rows", "expected"),
    [
        (
            "r.expiry_date > l.date_of_death",
            {
                "l__date_of_death": [D(2025, 1, 1), D(2025, 1, 1), None, D(2025, 1, 1)],
                "r__expiry_date": [D(2026, 1, 1), D(2024, 1, 1), D(2026, 1, 1), D(2025, 1, 1)],
            },
            [True, False, False, False],
        ),
        (
            "l.tenancy_end_date IS NULL OR l.tenancy_end_date >= :cycle_date",
            {"l__tenancy_end_date": [None, D(2026, 4, 1), D(2026, 3, 31)]},
            [True, True, False],
        ),
        (  # two periods overlap; an open period runs to the cycle date
            "l.start_date <= COALESCE(r.end_date, :cycle_date)"
            " AND r.start_date <= COALESCE(l.end_date, :cycle_date)",
            {
                "l__start_date": [D(2020, 1, 1), D(2020, 1, 1), D(2020, 1, 1), D(2020, 1, 1)],
                "l__end_date": [D(2021, 1, 1), D(2021, 1, 1), None, D(2021, 1, 1)],
                "r__start_date": [D(2020, 6, 1), D(2022, 1, 1), D(2025, 1, 1), D(2019, 1, 1)],
                "r__end_date": [None, None, None, D(2019, 12, 31)],
            },
            [True, False, True, False],
        ),
        (  # adult at the cycle date; no date of birth shown counts as an adult
            "r.date_of_birth IS NULL OR r.date_of_birth <= :cycle_date - INTERVAL '18 years'",
            {"r__date_of_birth": [None, D(2008, 4, 1), D(2008, 4, 2), D(1970, 1, 1)]},
            [True, True, False, True],
        ),
        (
            "ABS(l.amount - r.amount) < 1 AND l.job_title LIKE '%MANAGER%'",
            {
                "l__amount": [10.0, 10.0, None],
                "r__amount": [10.5, 12.0, 10.0],
                "l__job_title": ["SITE MANAGER", "SITE MANAGER", "MANAGER"],
            },
            [True, False, False],
        ),
        (
            "l.application_date BETWEEN r.tenancy_start_date AND"
            " COALESCE(r.tenancy_end_date, :cycle_date)",
            {
                "l__application_date": [D(2024, 1, 1), D(2024, 1, 1), D(2026, 5, 1)],
                "r__tenancy_start_date": [D(2023, 1, 1), D(2024, 2, 1), D(2023, 1, 1)],
                "r__tenancy_end_date": [None, None, None],
            },
            [True, False, False],
        ),
    ],
    ids=["after_death", "open_at_cycle", "overlap", "adult", "numeric_and_like", "between"],
)
def test_conditions_evaluate(text: str, rows: dict, expected: list[bool]) -> None:
    cond = parse_condition(text)
    frame = pl.DataFrame(rows).with_row_index("i")
    kept = apply_conditions(frame, [cond], CYCLE)
    assert [i in kept["i"].to_list() for i in range(frame.height)] == expected


def test_cycle_date_is_bound_at_run_time() -> None:
    cond = parse_condition("l.end_date >= :cycle_date")
    frame = pl.DataFrame({"l__end_date": [D(2026, 1, 1)]})
    assert apply_conditions(frame, [cond], D(2025, 1, 1)).height == 1
    assert apply_conditions(frame, [cond], D(2027, 1, 1)).height == 0


def test_condition_columns_by_side() -> None:
    conds = [parse_condition("r.expiry_date > l.date_of_death"), parse_condition("l.x IS NULL")]
    assert condition_columns(conds) == (["date_of_death", "x"], ["expiry_date"])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("__import__('os')", "'__import__' is not allowed"),
        ("eval('1')", "'eval' is not allowed"),
        ("l.__class__.__bases__", "unexpected text"),
        ("os.system('ls')", "columns are written l.<column> or r.<column>"),
        ("x > 1", "'x' is not allowed"),
        ("l.a > :now", "unknown parameter ':now'"),
        ("l.a > 1; DROP TABLE t", "unexpected text at ';"),
        ("l.a >", "not a valid expression"),
        ("(SELECT 1) = l.a", "'SELECT' is not allowed"),
        ("'a' = 'a'", "must refer to l.<column> or r.<column>"),
        ("", "expected a condition expression"),
    ],
)
def test_unsafe_or_bad_conditions_are_refused(text: str, message: str) -> None:
    with pytest.raises(ConditionError, match=None) as exc:
        parse_condition(text)
    assert message in str(exc.value)


def _matches(pairs: list[tuple[str, str]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "left_partner": ["north"] * len(pairs),
            "left_dataset": ["council_tax_spd"] * len(pairs),
            "left_record_id": [a for a, _ in pairs],
            "right_partner": ["north"] * len(pairs),
            "right_dataset": ["electoral_register"] * len(pairs),
            "right_record_id": [b for _, b in pairs],
        }
    )


def test_exclusions_drop_records_matched_by_another_rule() -> None:
    mine = _matches([("S1", "E1"), ("S1", "E2"), ("S2", "E3")])
    helper = pl.DataFrame(
        {
            "left_partner": ["north", "south"],
            "left_dataset": ["council_tax_disregards"] * 2,
            "left_record_id": ["D1", "D2"],
            "right_partner": ["north", "south"],
            "right_dataset": ["electoral_register"] * 2,
            "right_record_id": ["E2", "E3"],  # E3 at another partner: a different record
        }
    )
    kept, counts = apply_exclusions(mine, [("right", helper)])
    assert kept["right_record_id"].to_list() == ["E1", "E3"]
    assert counts == {"0": 1}
    kept, _ = apply_exclusions(mine, [("left", helper)])
    assert kept.height == 3  # no spd record is in the helper's matches

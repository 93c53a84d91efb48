"""Cases: chains of matches become one case, with an id that survives a new cycle."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from fraudmatch.matching.cases import _propagate, assign_cases, case_id, components


def edges(rows: list[tuple[str, str, str, str]], dataset: str = "payroll") -> pl.DataFrame:
    return pl.DataFrame(
        {
            "left_partner": [r[0] for r in rows],
            "left_dataset": [dataset] * len(rows),
            "left_record_id": [r[1] for r in rows],
            "right_partner": [r[2] for r in rows],
            "right_dataset": [dataset] * len(rows),
            "right_record_id": [r[3] for r in rows],
        }
    )


CHAIN = [
    ("north", "E1", "south", "E7"),  # the same person on three payrolls
    ("south", "E7", "east", "E3"),
    ("north", "X1", "east", "X2"),  # an unrelated pair
    ("north", "E1", "east", "E3"),
]


def test_chain_of_three_partners_is_one_case() -> None:
    out = assign_cases(edges(CHAIN), "payroll_to_payroll")
    ids = out["case_id"].to_list()
    assert ids[0] == ids[1] == ids[3] != ids[2]
    assert out["case_size"].to_list() == [3, 3, 2, 3]


def test_case_id_is_stable_under_row_order() -> None:
    a = assign_cases(edges(CHAIN), "r")
    shuffled = edges([CHAIN[i] for i in (3, 2, 1, 0)])
    b = assign_cases(shuffled, "r")
    assert set(a["case_id"]) == set(b["case_id"])
    key = ["left_record_id", "right_record_id"]
    assert a.sort(key).select(*key, "case_id").equals(b.sort(key).select(*key, "case_id"))


def test_case_id_depends_on_rule_and_members_only() -> None:
    one = assign_cases(edges(CHAIN[:1]), "r")["case_id"][0]
    mirrored = assign_cases(edges([("south", "E7", "north", "E1")]), "r")["case_id"][0]
    assert one == mirrored  # same members, whichever side they were on
    assert assign_cases(edges(CHAIN[:1]), "other_rule")["case_id"][0] != one
    assert one == case_id("r", ["south\x1fpayroll\x1fE7", "north\x1fpayroll\x1fE1"])
    assert one.startswith("C") and len(one) == 13


def test_same_record_id_in_two_partners_is_two_nodes() -> None:
    out = assign_cases(edges([("north", "1", "south", "2"), ("east", "1", "west", "2")]), "r")
    assert out["case_id"].n_unique() == 2


def test_empty_matches() -> None:
    out = assign_cases(edges([]), "r")
    assert out.height == 0 and "case_id" in out.columns


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_label_propagation_agrees_with_scipy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 500
    src, dst = rng.integers(0, n, 400), rng.integers(0, n, 400)
    a, b = components(src, dst, n), _propagate(src, dst, n)
    # same partition of the nodes (labels themselves may differ)
    pairs = {(int(x), int(y)) for x, y in zip(a, b, strict=True)}
    assert len(pairs) == len(set(a.tolist())) == len(set(b.tolist()))


def test_long_chain_converges() -> None:
    n = 10_000
    src, dst = np.arange(n - 1), np.arange(1, n)
    assert set(_propagate(src, dst, n).tolist()) == {0}

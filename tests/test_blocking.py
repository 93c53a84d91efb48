"""Blocking: union of rules, de-duplication, scope, hot keys, budget and partitions."""

from __future__ import annotations

import itertools

import numpy as np
import polars as pl
import pytest

from fraudmatch.matching.blocking import (
    HOT_DETAIL,
    _scope_join,
    block_col,
    candidate_pairs,
    explain_blocking,
    plan_blocking,
    prepare_pair,
    sample_pairs,
)
from fraudmatch.matching.rules import Rule, parse_rule


def rule(blocking: list[dict], *, scope: str = "any", one: bool = True, **limits: int) -> Rule:
    doc = {
        "name": "t",
        "description": "test",
        "risk": "low",
        "scope": scope,
        "blocking": {"rules": blocking, **limits},
        "comparisons": [{"name": "a", "type": "exact", "column": "a"}],
        "scoring": {"model": "deterministic", "match_when": [{"a": "exact"}]},
    }
    doc.update({"dataset": "d"} if one else {"left": "l", "right": "r"})
    return parse_rule(doc)


def frame(partners: list[str], **cols: list) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "partner": partners,
            "record_id": [f"R{i}" for i in range(len(partners))],
            **{k: pl.Series(k, v, dtype=pl.UInt64) for k, v in cols.items()},
        }
    )


def brute(left: pl.DataFrame, right: pl.DataFrame, r: Rule) -> dict[tuple[int, int], int]:
    """Expected pairs and their first blocking rule, by nested loops (tiny data only)."""
    out: dict[tuple[int, int], int] = {}
    lrows, rrows = left.to_dicts(), right.to_dicts()
    for i, j in itertools.product(range(len(lrows)), range(len(rrows))):
        a, b = lrows[i], rrows[j]
        if r.one_dataset and i >= j:
            continue
        if r.scope == "within_partner" and a["partner"] != b["partner"]:
            continue
        if r.scope == "across_partners" and a["partner"] == b["partner"]:
            continue
        for k, br in enumerate(r.blocking.rules):
            if all(a[ref.left] is not None and a[ref.left] == b[ref.right] for ref in br.on):
                out.setdefault((i, j), k)
                break
    return out


def as_dict(pairs: pl.DataFrame) -> dict[tuple[int, int], int]:
    rows = pairs.select("li", "ri", "blocking_rule").rows()
    assert len(rows) == len({(a, b) for a, b, _ in rows}), "duplicate pairs"
    return {(a, b): k for a, b, k in rows}


def random_frame(n: int, seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)

    def col(k: int) -> list:
        v = rng.integers(1, k, n).tolist()
        return [None if rng.random() < 0.1 else x for x in v]

    return frame(
        [["p1", "p2", "p3"][i] for i in rng.integers(0, 3, n)], a=col(6), b=col(5), c=col(4)
    )


BLOCKING = [
    {"name": "ab", "keys": ["a", "b"]},
    {"name": "a", "keys": "a"},
    {"name": "bc", "keys": ["b", "c"]},
]


@pytest.mark.parametrize("scope", ["any", "within_partner", "across_partners"])
def test_one_dataset_pairs_match_brute_force(scope: str) -> None:
    data = random_frame(60, 1)
    r = rule(BLOCKING, scope=scope)
    pairs, plan = candidate_pairs(r, data, data)
    got = as_dict(pairs)
    assert all(i < j for i, j in got), "self or mirror pairs"
    assert got == brute(data, data, r)  # same pairs, first blocking rule kept
    assert [s["pairs_made"] for s in plan.stats.rules] == [
        sum(1 for v in got.values() if v == k) for k in range(3)
    ]


@pytest.mark.parametrize("scope", ["any", "within_partner", "across_partners"])
def test_two_datasets_pairs_match_brute_force(scope: str) -> None:
    left, right = random_frame(50, 2), random_frame(40, 3)
    r = rule(BLOCKING, scope=scope, one=False)
    pairs, _ = candidate_pairs(r, left, right)
    assert as_dict(pairs) == brute(left, right, r)


@pytest.mark.parametrize("one", [True, False])
@pytest.mark.parametrize("scope", ["within_partner", "across_partners"])
def test_lopsided_block_builds_only_pairs_the_scope_keeps(scope: str, one: bool) -> None:
    # one block: 2,000 rows of partner a, 3 of b; joining on the key alone builds 4 million
    data = frame(["a"] * 2000 + ["b"] * 3, dob=[19000101] * 2003)
    r = rule([{"name": "dob", "keys": ["dob"]}], scope=scope, one=one, block_ceiling=10**7)
    lside, rside = prepare_pair(r, data, data, ["dob"], ["dob"])
    plan = plan_blocking(r, lside, rside)
    planned = int(plan.block_tables[0].get_column("pairs").sum())
    assert not plan.stats.hot
    built = _scope_join(plan.left, plan.right, block_col(0), scope).height
    # one dataset: both orders (and, within a partner, the diagonal); never the whole block
    assert built <= 2 * planned + data.height
    if scope == "across_partners":
        assert planned == 6000 if one else 12_000
    pairs, _ = candidate_pairs(r, data, data)
    assert pairs.height == planned
    small = data.head(8).vstack(data.tail(3))  # the same shape, small enough for nested loops
    pairs, _ = candidate_pairs(r, small, small)
    assert as_dict(pairs) == brute(small, small, r)


def test_null_keys_never_block() -> None:
    data = frame(["p", "p", "p"], a=[None, None, 1])
    pairs, _ = candidate_pairs(rule([{"name": "a", "keys": "a"}]), data, data)
    assert pairs.height == 0


def test_blocking_on_clear_columns_and_different_names() -> None:
    left = pl.DataFrame(
        {"partner": ["p"] * 3, "record_id": ["1", "2", "3"], "amount": [5.0, 7.0, None]}
    )
    right = pl.DataFrame({"partner": ["q"] * 2, "record_id": ["9", "8"], "value": [5, 7]})
    r = rule([{"name": "amt", "keys": {"left": "amount", "right": "value"}}], one=False)
    pairs, _ = candidate_pairs(r, left, right)
    assert sorted(pairs.select("li", "ri").rows()) == [(0, 0), (1, 1)]


def test_hot_key_is_split_by_secondary_key_and_reported() -> None:
    # 40 rows share a=1 (780 pairs); b splits them into 4 blocks of 10 (45 pairs each)
    data = frame(["p"] * 44, a=[1] * 40 + [2, 2, 3, 3], b=[i % 4 for i in range(40)] + [0] * 4)
    r = rule([{"name": "a", "keys": "a", "split_hot_by": "b"}], block_ceiling=100)
    pairs, plan = candidate_pairs(r, data, data)
    hot = plan.stats.hot_frame()
    assert hot.select("blocking_rule", "pairs", "action").rows() == [("a", 780, "split")]
    assert "a=" in hot["key"][0]
    assert pairs.height == 4 * 45 + 2
    rows = data.to_dicts()
    assert all(rows[i]["b"] == rows[j]["b"] for i, j in pairs.select("li", "ri").rows())


def test_hot_key_without_split_is_skipped_and_reported() -> None:
    data = frame(["p"] * 44, a=[1] * 40 + [2, 2, 3, 3])
    r = rule([{"name": "a", "keys": "a"}], block_ceiling=100)
    pairs, plan = candidate_pairs(r, data, data)
    assert plan.stats.hot_frame().select("pairs", "action").rows() == [(780, "skipped")]
    assert pairs.height == 2


def test_hot_key_still_hot_after_split_is_skipped() -> None:
    data = frame(["p"] * 40, a=[1] * 40, b=[1] * 40)
    r = rule([{"name": "a", "keys": "a", "split_hot_by": "b"}], block_ceiling=100)
    pairs, plan = candidate_pairs(r, data, data)
    assert [h.action for h in plan.stats.hot] == ["split", "skipped_after_split"]
    assert pairs.height == 0


def test_skipped_block_pairs_are_still_made_by_a_later_rule() -> None:
    # rule 1 skips the hot block, so rule 2 must make (and own) those pairs
    data = frame(["p"] * 30, a=[1] * 30, b=[i % 3 for i in range(30)])
    r = rule([{"name": "a", "keys": "a"}, {"name": "b", "keys": "b"}], block_ceiling=100)
    pairs, _ = candidate_pairs(r, data, data)
    assert pairs.height == 3 * 45 and set(pairs["blocking_rule"]) == {1}


def test_pair_budget_drops_the_largest_blocks() -> None:
    data = frame(["p"] * 30, a=[1] * 20 + [2] * 6 + [3] * 4)  # 190 + 15 + 6 pairs
    r = rule([{"name": "a", "keys": "a"}], pair_budget=50)
    pairs, plan = candidate_pairs(r, data, data)
    assert [(h.pairs, h.action) for h in plan.stats.hot] == [(190, "over_budget")]
    assert pairs.height == 21


def test_many_dropped_blocks_are_reported_as_the_largest_plus_one_sum() -> None:
    # 60 blocks of 3 records (3 pairs each) and one of 5 (10 pairs), a budget of 30 pairs:
    # 50 blocks go; the report names the largest HOT_DETAIL and sums the others
    keys = [k for k in range(60) for _ in range(3)] + [99] * 5
    data = frame(["p"] * len(keys), a=keys)
    r = rule([{"name": "a", "keys": "a"}], pair_budget=30)
    pairs, plan = candidate_pairs(r, data, data)
    hot = plan.stats.hot
    assert len(hot) == HOT_DETAIL + 1
    assert hot[0].pairs == 10 and hot[0].key == "a=99"
    assert all(h.blocks == 1 and h.pairs == 3 for h in hot[1:HOT_DETAIL])
    rest = hot[-1]
    dropped = 1 + 60 - pairs.height // 3
    assert rest.blocks == dropped - HOT_DETAIL and rest.pairs == 3 * rest.blocks
    assert rest.key == f"{rest.blocks:,} smaller blocks" and rest.action == "over_budget"
    assert plan.stats.hot_frame().get_column("blocks").sum() == dropped
    assert pairs.height <= 30


def test_partitions_are_bounded_and_complete() -> None:
    data = random_frame(300, 4)
    whole, _ = candidate_pairs(rule(BLOCKING), data, data)
    small = rule(BLOCKING, partition_pairs=200)
    lside, rside = prepare_pair(small, data, data, ["a", "b", "c"], ["a", "b", "c"])
    plan = plan_blocking(small, lside, rside)
    largest = max(t["pairs"].max() for t in plan.block_tables)
    parts = list(plan.partitions())
    assert len(parts) > 3
    assert all(p.height <= 200 + largest for p in parts)
    assert as_dict(pl.concat(parts)) == as_dict(whole)


@pytest.mark.parametrize("scope", ["any", "within_partner", "across_partners"])
def test_random_pairs_respect_scope(scope: str) -> None:
    data = random_frame(200, 5)
    r = rule(BLOCKING, scope=scope)
    lside, rside = prepare_pair(r, data, data, ["a", "b", "c"], ["a", "b", "c"])
    plan = plan_blocking(r, lside, rside)
    lside, rside = plan.left, plan.right
    pairs = sample_pairs(r, lside, rside, 5000, seed=1)
    assert pairs.height > 4000
    lp = lside["partner"].gather(pairs["li"])
    rp = rside["partner"].gather(pairs["ri"])
    if scope == "within_partner":
        assert (lp == rp).all()
    elif scope == "across_partners":
        assert (lp != rp).all()
    assert (pairs["li"] != pairs["ri"]).all()
    again = sample_pairs(r, lside, rside, 5000, seed=1)
    assert pairs.equals(again)


def test_explain_blocking_counts_new_pairs() -> None:
    data = random_frame(80, 6)
    r = rule(BLOCKING)
    table = explain_blocking(r, data, data)
    assert table["blocking_rule"].to_list() == ["ab", "a", "bc"]
    pairs, _ = candidate_pairs(r, data, data)
    assert table["new_pairs"].sum() == pairs.height
    assert (table["candidate_pairs"] >= table["new_pairs"]).all()
    # the second rule's candidates include every pair of the first (a,b ⊂ a)
    assert table["candidate_pairs"][1] >= table["candidate_pairs"][0]


def test_one_dataset_rule_blocks_a_left_column_against_a_right_column() -> None:
    """Record 1's a equals record 0's b: one pair, whichever record plays which side (the
    day-month-swap and transposed-name blocks of the two-council rules are of this kind)."""
    data = frame(["p", "q", "q"], a=[1, 9, 3], b=[9, 2, 4])
    r = rule([{"name": "ab", "keys": {"left": "a", "right": "b"}}])
    pairs, _ = candidate_pairs(r, data, data)
    assert sorted(pairs.select("li", "ri").rows()) == [(0, 1)]


@pytest.mark.parametrize("parts", [1_000_000, 3])
@pytest.mark.parametrize("scope", ["any", "within_partner", "across_partners"])
def test_one_dataset_crossed_keys_match_brute_force_in_either_order(scope: str, parts: int) -> None:
    """Beside same-column rules, a left column against a right one: every unordered pair
    that either order of its two records blocks, once, with the first rule that finds it."""
    data = random_frame(60, 4)
    blocking = [
        {"name": "a", "keys": "a"},
        {"name": "bc", "keys": [{"left": "b", "right": "c"}, "a"]},
        {"name": "cb", "keys": {"left": "c", "right": "b"}},
    ]
    r = rule(blocking, scope=scope, partition_pairs=parts)  # 3: a pair's two orders apart
    pairs, plan = candidate_pairs(r, data, data)
    got = as_dict(pairs)
    rows = data.to_dicts()
    expected: dict[tuple[int, int], int] = {}
    for i, j in itertools.combinations(range(len(rows)), 2):
        a, b = rows[i], rows[j]
        if scope == "within_partner" and a["partner"] != b["partner"]:
            continue
        if scope == "across_partners" and a["partner"] == b["partner"]:
            continue
        for k, br in enumerate(r.blocking.rules):
            hit = any(
                all(x[ref.left] is not None and x[ref.left] == y[ref.right] for ref in br.on)
                for x, y in ((a, b), (b, a))
            )
            if hit:
                expected[(i, j)] = k
                break
    assert got == expected
    assert [s["pairs_made"] for s in plan.stats.rules] == [
        sum(1 for v in got.values() if v == k) for k in range(3)
    ]

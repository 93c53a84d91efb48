"""The case list at volume: paging, sorting, search and counts over thousands of cases.

A synthetic run of 3,000 cases (fraudmatch.review.synthetic_run) stands in for a big
cycle; every case must be reachable by paging and by search, and every count must be over
the whole list, not the page shown.
"""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest
from fastapi.testclient import TestClient

from fraudmatch.review.analysts import add_analyst
from fraudmatch.review.caselist import ListView
from fraudmatch.review.casework import Filters, Review
from fraudmatch.review.synthetic_run import write_run
from fraudmatch.review.web import create_app
from fraudmatch.shipped import shipped_rules_dir

RULES = shipped_rules_dir()
RUN = "run-20261101"
CASES = 3_000
SHIPPED = [
    ("payroll_to_payroll", "payroll", "payroll"),
    ("payroll_to_housing_benefit", "payroll", "housing_benefit"),
    ("blue_badge_to_deceased", "blue_badge", "deceased"),
    ("payroll_to_creditors", "payroll", "creditors"),
]
PARTNERS = ["eastvale", "northmoor", "southwold_bay", "westfield", "oakham"]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("volume")
    write_run(root, RUN, CASES, SHIPPED, PARTNERS, seed=5)
    add_analyst(root, "alice", "alice-password-1")
    return root


@pytest.fixture(scope="module")
def review(workspace) -> Review:
    return Review(workspace, RULES)


def test_every_case_is_reachable_by_paging(review) -> None:
    seen: list[str] = []
    page_no, pages = 1, None
    while pages is None or page_no <= pages:
        page = review.case_page(Filters(run=RUN), ListView(page=page_no, per_page=200))
        pages = page.pages
        assert page.total == CASES and page.counts["all"] == CASES
        assert (
            page.first == (page_no - 1) * 200 + 1 and page.last == page.first + len(page.rows) - 1
        )
        seen += [r["case_id"] for r in page.rows]
        page_no += 1
    assert pages == 15 and len(seen) == CASES and len(set(seen)) == CASES
    beyond = review.case_page(Filters(run=RUN), ListView(page=99, per_page=200))
    assert beyond.page == 15 and beyond.rows  # a page past the end shows the last one


def test_search_finds_a_case_by_id_record_id_and_partner(review) -> None:
    matches = review.matches(RUN)
    one = matches.row(1234, named=True)
    for q in (one["case_id"], one["case_id"].lower()[2:], one["right_record_id"]):
        found = review.case_page(Filters(run=RUN, q=q))
        assert one["case_id"] in [r["case_id"] for r in found.rows], q
    exact = review.case_page(Filters(run=RUN, q=one["left_record_id"]))
    assert (
        exact.total == 1
        and exact.rows[0]["matches"] == (matches["case_id"] == one["case_id"]).sum()
    )
    involving = matches.filter(
        (pl.col("left_partner") == "oakham") | (pl.col("right_partner") == "oakham")
    )["case_id"].n_unique()
    assert review.case_page(Filters(run=RUN, q="Oakham")).total == involving
    assert review.case_page(Filters(run=RUN, q="no-such-thing")).total == 0


def test_sorting_by_each_key_orders_the_whole_list(review) -> None:
    for sort, column, descending in [("rule", "rule", False), ("value", "value", True),
                                     ("age", "age_days", True)]:  # fmt: skip
        for reverse in (False, True):
            rows = review.case_page(Filters(run=RUN), ListView(sort, reverse, 1, 200)).rows
            values = [r[column] for r in rows]
            known = [v for v in values if v is not None]
            assert known and known == sorted(known, reverse=descending != reverse), (sort, reverse)
            assert values[: len(known)] == known  # cases without one come last
    risky = review.case_page(Filters(run=RUN), ListView("risk", False, 1, 200)).rows
    assert risky[0]["risk"] == "high"
    by_partner = review.case_page(Filters(run=RUN), ListView("partner", False, 1, 200)).rows
    firsts = [r["partners"][0] for r in by_partner]
    assert firsts == sorted(firsts)


def test_counts_are_over_the_list_not_the_page(review) -> None:
    rows = review.case_page(Filters(run=RUN, rule="payroll_to_payroll")).rows
    target = review.case(RUN, rows[0]["case_id"])
    review.record(RUN, target.case_id, target.matches[0].key, outcome="fraud", analyst="alice",
                  expected_version=0, amount=999_999.0)  # fmt: skip
    page = review.case_page(Filters(run=RUN, status="fraud"), ListView(per_page=25))
    assert page.total == 1 and page.counts["fraud"] == 1 and page.counts["all"] == CASES
    top = review.case_page(Filters(run=RUN), ListView("value", False, 1, 25)).rows[0]
    assert (top["case_id"], top["value"]) == (target.case_id, 999_999.0)
    per_rule = review.case_page(Filters(run=RUN, rule="payroll_to_payroll"), ListView(per_page=25))
    assert per_rule.counts["all"] == per_rule.total == CASES // len(SHIPPED)


def test_the_list_pages_and_searches_in_the_app(workspace, review) -> None:
    client = TestClient(create_app(workspace, RULES))
    client.post("/login", data={"name": "alice", "password": "alice-password-1"})
    html = client.get(f"/cases?run={RUN}&per=100&page=3&sort=rule").text
    assert re.search(r'id="first">201<.*id="last">300<.*id="total">3000<', html, re.S)
    assert 'class="page-no">3<' in html and 'class="page-count">30<' in html
    assert html.count('class="case-link"') == 100
    nxt = re.search(r'href="/cases\?([^"]+)" class="next"', html).group(1)
    assert "page=4" in nxt and "sort=rule" in nxt and "per=100" in nxt
    record = review.matches(RUN)["right_record_id"][2500]
    found = client.get(f"/cases?run={RUN}&q={record}").text
    assert found.count('class="case-link"') == 1 and 'id="total">1<' in found

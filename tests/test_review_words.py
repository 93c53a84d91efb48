"""The evidence in an analyst's words, on the case page of a real run."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from test_review_support import review_world

from fraudmatch.review.analysts import add_analyst
from fraudmatch.review.casework import Filters, Review
from fraudmatch.review.views import Evidence, describe, rule_title
from fraudmatch.review.web import create_app
from fraudmatch.review.words import in_words, matched_on, probability_words


def test_levels_in_words() -> None:
    assert in_words("bank", "exact") == "same bank account"
    assert in_words("dob", "day_month_swapped") == "date of birth: day and month swapped"
    assert in_words("postcode", None) == "postcode: missing on one record"
    assert in_words("surname", "else") == "surname: different"
    assert in_words("shoe_size", "much_bigger") == "shoe size: much bigger"  # never hidden
    evidence = [Evidence("ni", "exact", None), Evidence("surname", "else", None),
                Evidence("dob", "year_only", None)]  # fmt: skip
    assert matched_on(evidence) == "matched on: same NI number; date of birth: same year only"
    assert probability_words(0.98765) == "match probability 98.8%"
    assert rule_title("payroll_to_housing_benefit") == "Payroll to housing benefit"
    assert describe("record_outcome", {"outcome": "no_issue", "amount": 12.5, "version": 2,
                                       "comment": "ok"}) == (
        "recorded 'no issue', £12.50: \u201cok\u201d (version 2)"
    )  # fmt: skip
    assert describe("allocated", {"to": "bob", "from": "alice", "due": "2026-12-31"}) == (
        "allocated to bob (was alice), due 2026-12-31"
    )


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return review_world(tmp_path_factory, "words")


def test_case_pages_speak_plainly(world) -> None:
    add_analyst(world.workspace, "alice", "alice-password-1")
    client = TestClient(create_app(world.workspace, world.rules, users=None))
    client.post("/login", data={"name": "alice", "password": "alice-password-1"})
    review = Review(world.workspace, world.rules)
    scored = review.cases(Filters(run=world.run_id, rule="payroll_to_housing_benefit"))
    html = client.get(f"/cases/{world.run_id}/{scored['case_id'][0]}").text
    assert "Payroll to housing benefit" in html and "Total weight" in html
    assert "times likelier" in html and "match probability" in html
    assert re.search(r'class="words">(same|surname|forenames|date of birth|NI)', html)
    assert "| else" not in html
    determined = review.cases(Filters(run=world.run_id, rule="blue_badge_to_deceased"))
    assert determined.height
    html = client.get(f"/cases/{world.run_id}/{determined['case_id'][0]}").text
    assert "Matched on: same" in html and "Total weight" not in html
    # the run pickers say when, for which period (the submissions' month) and how big
    label = r"run-20261101 · cycle 01 Nov 2026 · period 2026-11 · [\d,]+ cases"
    assert re.search(label, client.get("/cases").text)
    assert re.search(label, client.get("/").text)

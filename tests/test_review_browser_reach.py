"""Every case of a 1,500-case run is reachable in a real headless Chromium, the way an
analyst reaches it: by following the pager from the first page to the last (in two sort
orders), and by typing its case id, or one of its record ids, into the search box.

The run is synthetic (fraudmatch.review.synthetic_run: the engine's matches format, four
rules, six partners, one to three matches a case), so the server starts in a second; the
whole module stays under a minute (FRAUDMATCH_REACH_CASES runs it on another size).
"""

from __future__ import annotations

import os
import re
from urllib.parse import urlencode

import polars as pl
import pytest
from test_review_browser import ARGS, CHROMIUM

from fraudmatch.review.analysts import add_analyst
from fraudmatch.review.casework import Review
from fraudmatch.review.synthetic_run import EXAMPLE_PARTNERS, EXAMPLE_RULES, write_run
from fraudmatch.shipped import shipped_rules_dir
from tests.servers import serve_app

sync_api = pytest.importorskip("playwright.sync_api")

RULES = shipped_rules_dir()
RUN = "run-20261201"
CASES = int(os.environ.get("FRAUDMATCH_REACH_CASES", "1500"))
"""1,500 in the suite; set FRAUDMATCH_REACH_CASES=7500 for the larger check by hand."""
PASSWORD = "erin-password-1"
CASE_LINK = re.compile(r'<a class="case-link" href="[^"]+">([^<]+)</a>')


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from fraudmatch.review.web import create_app

    root = tmp_path_factory.mktemp("browser-reach")
    write_run(root, RUN, CASES, EXAMPLE_RULES, EXAMPLE_PARTNERS, seed=5)
    add_analyst(root, "erin", PASSWORD)
    app = create_app(root, RULES, users=None)
    with serve_app(app) as base:
        yield root, base


@pytest.fixture(scope="module")
def page(server):
    root, base = server
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_context().new_page()
        page.goto(f"{base}/cases")
        page.fill("#name", "erin")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/cases**")
        yield page
        browser.close()


@pytest.fixture(scope="module")
def matches(server) -> pl.DataFrame:
    root, _ = server
    return Review(root, RULES).matches(RUN)


def _follow_pager(page) -> list[str]:
    """The case ids of every page, following 'next' from the page shown to the last."""
    seen: list[str] = []
    while True:
        seen += page.locator("a.case-link").all_text_contents()
        following = page.locator("nav.pager a.next")
        if not following.count():
            return seen
        following.first.click()
        page.wait_for_load_state()


def test_the_pager_reaches_every_case_in_two_orders(server, page, matches) -> None:
    _, base = server
    every = set(matches["case_id"])
    assert len(every) == CASES
    page.goto(f"{base}/cases?run={RUN}")
    assert page.text_content("#total") == str(CASES)
    assert page.text_content(".page-count") == str(-(-CASES // 50))
    by_risk = _follow_pager(page)
    assert len(by_risk) == CASES and set(by_risk) == every
    assert page.text_content("#last") == str(CASES)
    # by partner, 200 a page, chosen as an analyst does: the column heading, then the picker
    page.goto(f"{base}/cases?run={RUN}")
    page.click("#sort-partner")
    page.wait_for_url("**sort=partner**")
    page.select_option("#f-per", "200")
    page.click("#apply")
    page.wait_for_url("**per=200**")
    by_partner = _follow_pager(page)
    assert len(by_partner) == CASES and set(by_partner) == every
    assert by_partner != by_risk


def test_search_finds_every_case_by_its_id_and_by_a_record_id(server, page, matches) -> None:
    _, base = server
    firsts = matches.unique("case_id", keep="first").sort("case_id")
    assert firsts.height == CASES
    # every case: alternately its id and one of its record ids, as the search box sends
    # them, through the signed-in browser's own requests (a typed search costs a page
    # render per case: a sample below is typed)
    for i, (case_id, record_id) in enumerate(firsts.select("case_id", "left_record_id").rows()):
        query = urlencode({"run": RUN, "q": case_id if i % 2 == 0 else record_id})
        response = page.request.get(f"{base}/cases?{query}")
        assert response.ok and "/login" not in response.url
        assert CASE_LINK.findall(response.text()) == [case_id], (i, case_id, record_id)
    # a sample typed into the search box, and opened from the list
    page.goto(f"{base}/cases?run={RUN}")
    for i, (case_id, record_id) in enumerate(
        firsts.gather_every(50).select("case_id", "right_record_id").rows()
    ):
        term = record_id if i % 2 else case_id
        page.fill("#f-q", term)
        page.press("#f-q", "Enter")
        page.wait_for_url(f"**q={term}**", wait_until="domcontentloaded")
        assert page.locator("a.case-link").all_text_contents() == [case_id], (case_id, term)
        assert page.text_content("#total") == "1"
        if i % 5 == 0:
            page.locator("a.case-link").first.click()
            page.wait_for_selector("#case-id")
            assert page.text_content("#case-id") == case_id
            page.go_back()

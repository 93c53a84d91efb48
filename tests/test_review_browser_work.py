"""Team case work in a real headless Chromium: paging and search over hundreds of cases,
a lead allocating, an analyst's own cases and a bulk outcome, sign-out that ends the
session on the server, and throttled sign-in. One server for the module, on a synthetic
run of 360 cases (fraudmatch.review.synthetic_run), so it starts in a second.
"""

from __future__ import annotations

import pytest
from test_review_browser import ARGS, CHROMIUM

from fraudmatch.review import outcomes as oc
from fraudmatch.review.analysts import add_analyst, session_secret
from fraudmatch.review.casework import Filters, Review
from fraudmatch.review.signin import Throttle
from fraudmatch.review.synthetic_run import write_run
from fraudmatch.shipped import shipped_rules_dir
from tests.servers import serve_app

sync_api = pytest.importorskip("playwright.sync_api")

RULES = shipped_rules_dir()
RUN = "run-20261101"
CASES = 360
SHIPPED = [
    ("payroll_to_payroll", "payroll", "payroll"),
    ("payroll_to_housing_benefit", "payroll", "housing_benefit"),
    ("blue_badge_to_deceased", "blue_badge", "deceased"),
]
PARTNERS = ["eastvale", "northmoor", "oakham", "westfield"]
PASSWORDS = {
    "lena": "lena-password-1",
    "alice": "alice-password-1",
    "carol": "carol-password-1",
    "dan": "dan-password-123",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from fraudmatch.review.web import create_app

    root = tmp_path_factory.mktemp("browser-work")
    write_run(root, RUN, CASES, SHIPPED, PARTNERS, seed=11)
    for name, password in PASSWORDS.items():
        add_analyst(root, name, password, role="lead" if name == "lena" else None)
    app = create_app(root, RULES, users=None)
    with serve_app(app) as base:
        yield root, base


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


def sign_in(page, base: str, name: str, password: str | None = None) -> None:
    page.goto(f"{base}/cases")
    page.fill("#name", name)
    page.fill("#password", password or PASSWORDS[name])
    page.click("button[type=submit]")


def test_paging_and_search_reach_every_case(server, browser) -> None:
    root, base = server
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, base, "alice")
    page.wait_for_url(f"{base}/cases**")
    page.goto(f"{base}/cases?run={RUN}&per=100&sort=rule")
    assert page.text_content("#total") == str(CASES)
    seen: list[str] = []
    while True:
        seen += page.locator("a.case-link").all_text_contents()
        nxt = page.locator("nav.pager a.next")
        if not nxt.count():
            break
        nxt.first.click()
        page.wait_for_load_state()
    assert len(seen) == CASES and len(set(seen)) == CASES
    assert page.text_content(".page-no") == "4"
    # search by a record id finds its one case; by partner, every case involving it
    review = Review(root, RULES)
    one = review.matches(RUN).row(123, named=True)
    page.fill("#f-q", one["right_record_id"])
    page.click("#apply")
    page.wait_for_url("**q=**")
    assert page.locator("a.case-link").all_text_contents() == [one["case_id"]]
    page.fill("#f-q", "Oakham")
    page.click("#apply")
    page.wait_for_url("**q=Oakham**")
    involving = review.cases(Filters(run=RUN, partner="oakham")).height
    assert page.text_content("#total") == str(involving)
    context.close()


def test_lead_allocates_and_analyst_closes_in_bulk(server, browser) -> None:
    root, base = server
    lead_ctx, analyst_ctx = browser.new_context(), browser.new_context()
    lead, analyst = lead_ctx.new_page(), analyst_ctx.new_page()
    sign_in(lead, base, "lena")
    lead.wait_for_url(f"{base}/cases**")
    # the lead allocates every blue badge case (all pages) to alice
    lead.goto(f"{base}/cases?run={RUN}&rule=blue_badge_to_deceased&per=25")
    total = int(lead.text_content("#total"))
    assert total > 25
    lead.select_option("#allocate-to", "alice")
    lead.click("#allocate-filter")
    lead.wait_for_selector("#done")
    assert f"{total} cases allocated to alice" in lead.text_content("#done")
    assert "/allocate" not in lead.url  # redirected after the POST
    # and two selected cases of another rule to dan
    lead.goto(f"{base}/cases?run={RUN}&rule=payroll_to_payroll")
    lead.click("#allocate-selected")  # nothing ticked yet: told so, back on the same list
    lead.wait_for_selector("#problem")
    assert "tick at least one case" in lead.text_content("#problem")
    assert "rule=payroll_to_payroll" in lead.url and "/allocate" not in lead.url
    lead.locator("input.pick").nth(0).check()
    lead.locator("input.pick").nth(1).check()
    lead.select_option("#allocate-to", "dan")
    lead.click("#allocate-selected")
    lead.wait_for_selector("#done")
    assert "2 cases allocated to dan" in lead.text_content("#done")

    # alice's own cases: exactly the blue badge ones, all allocated
    sign_in(analyst, base, "alice")
    analyst.wait_for_url(f"{base}/cases**")
    assert analyst.locator("#allocate").count() == 0  # no allocation for an analyst
    analyst.click("#nav-mine")
    analyst.wait_for_url("**assignee=alice**")
    assert analyst.text_content("#total") == str(total)
    assert set(analyst.locator("td .stage").all_text_contents()) == {"allocated"}
    # she closes three of them as no issue, with one comment
    picked = analyst.locator("a.case-link").all_text_contents()[:3]
    for i in range(3):
        analyst.locator("input.pick").nth(i).check()
    analyst.select_option("#bulk-outcome-value", "no_issue")
    analyst.fill("#bulk-comment", "deaths registered after the badge expired")
    analyst.click("#bulk-save")
    analyst.wait_for_selector("#done")
    assert "Recorded 'no issue'" in analyst.text_content("#done")
    analyst.goto(f"{base}/cases?run={RUN}&assignee=alice&stage=closed")
    assert sorted(analyst.locator("a.case-link").all_text_contents()) == sorted(picked)
    # the front page counts them, and the audit says who did what in words
    analyst.goto(f"{base}/")
    assert "closed 3" in " ".join(analyst.text_content("#summary").split())
    analyst.goto(f"{base}/audit")
    audit = " ".join(analyst.text_content("#audit").split())
    assert "allocated to alice" in audit and "deaths registered after the badge expired" in audit
    saved = oc.current_outcomes(oc.default_url(root))
    assert set(saved["comment"]) == {"deaths registered after the badge expired"}
    lead_ctx.close()
    analyst_ctx.close()


def test_sign_out_ends_the_session_on_the_server(server, browser) -> None:
    _, base = server
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, base, "dan")
    page.wait_for_url(f"{base}/cases**")
    cookies = context.cookies()
    page.click("header button.link")  # sign out
    page.wait_for_url("**/login**")
    # the same cookie replayed in a fresh browser opens nothing
    thief = browser.new_context()
    thief.add_cookies(cookies)
    stolen = thief.new_page()
    stolen.goto(f"{base}/cases")
    assert "/login" in stolen.url
    thief.close()
    context.close()


def test_sign_in_is_throttled_after_failures(server, browser) -> None:
    root, base = server
    context = browser.new_context()
    page = context.new_page()
    for _ in range(4):
        sign_in(page, base, "carol", "not-her-password")
        page.wait_for_selector(".notice.err, .err")
    # The waits after four failures are 2 and 4 seconds, which a browser on a loaded machine
    # can outlast; four more failures, recorded as the app records them, make the wait a
    # minute, so the right password lands inside it however slow the page is
    throttle = Throttle(Review(root, RULES).url, session_secret(root))
    for _ in range(4):
        throttle.record("carol", "127.0.0.1", ok=False)
    # now even the right password must wait
    sign_in(page, base, "carol")
    page.wait_for_load_state()
    assert "Too many failed sign-ins" in page.content()
    assert "/login" in page.url
    context.close()

"""Case work by a team: a lead allocates cases to named analysts, "my cases", the workflow
stages, bulk outcomes with one comment, progress per rule and partner, all audited.

Works on a synthetic run of 400 cases (fraudmatch.review.synthetic_run) through the app.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from postgres_support import postgres_cluster, postgres_url  # noqa: F401 (fixtures)

from fraudmatch.review import allocation as al
from fraudmatch.review import outcomes as oc
from fraudmatch.review import workflow as wf
from fraudmatch.review.analysts import AnalystError, add_analyst, load_roles, set_role
from fraudmatch.review.casework import Filters, Review
from fraudmatch.review.synthetic_run import write_run
from fraudmatch.review.web import create_app
from fraudmatch.shipped import shipped_rules_dir

RULES = shipped_rules_dir()
RUN = "run-20261101"
CASES = 400
SHIPPED = [
    ("payroll_to_payroll", "payroll", "payroll"),
    ("payroll_to_housing_benefit", "payroll", "housing_benefit"),
]
PARTNERS = ["eastvale", "northmoor", "oakham"]
PASSWORDS = {"lena": "lena-password-1", "alice": "alice-password-1", "bob": "bob-password-22"}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("workflow")
    write_run(root, RUN, CASES, SHIPPED, PARTNERS, seed=7)
    add_analyst(root, "lena", PASSWORDS["lena"], role="lead")
    add_analyst(root, "alice", PASSWORDS["alice"])
    add_analyst(root, "bob", PASSWORDS["bob"])
    return root


@pytest.fixture(scope="module")
def app(workspace):
    return create_app(workspace, RULES, users=None)


def signed_in(app, name: str) -> TestClient:
    client = TestClient(app)
    r = client.post("/login", data={"name": name, "password": PASSWORDS[name]})
    assert r.status_code == 200, r.text
    return client


def csrf(client: TestClient, path: str = f"/cases?run={RUN}") -> str:
    return re.search(r'name="csrf" value="([^"]+)"', client.get(path).text).group(1)


def test_roles_live_in_the_analysts_file(workspace) -> None:
    assert load_roles(workspace) == {"lena": "lead", "alice": "analyst", "bob": "analyst"}
    add_analyst(workspace, "lena", "lena-password-1")  # a new password keeps the role
    assert load_roles(workspace)["lena"] == "lead"
    with pytest.raises(AnalystError, match="role 'boss'"):
        set_role(workspace, "alice", "boss")
    assert "role: lead" in (workspace / "analysts.yaml").read_text()


def test_a_lead_allocates_by_filter_and_by_selection(app, workspace) -> None:
    lena, alice = signed_in(app, "lena"), signed_in(app, "alice")
    token = csrf(lena)
    # only a lead may allocate
    refused = alice.post("/allocate", data={"csrf": csrf(alice), "run": RUN, "to": "alice",
                                            "scope": "filter"}, follow_redirects=False)  # fmt: skip
    assert refused.status_code == 403
    # every case of one rule and partner, all pages, to alice (a redirect, then a notice)
    form = {"csrf": token, "run": RUN, "rule": "payroll_to_payroll", "partner": "oakham",
            "to": "alice", "due": "2026-12-31", "scope": "filter"}  # fmt: skip
    r = lena.post("/allocate", data=form, follow_redirects=False)
    assert r.status_code == 303 and "done=allocated" in r.headers["location"]
    review = Review(workspace, RULES)
    expected = review.cases(Filters(run=RUN, rule="payroll_to_payroll", partner="oakham")).height
    assert expected > 50  # more than one page
    page = lena.get(r.headers["location"]).text
    assert f"{expected} cases allocated to alice" in page
    mine = review.cases(Filters(run=RUN, assignee="alice"))
    assert mine.height == expected and set(mine["stage"]) == {"allocated"}
    assert str(mine["due"][0]) == "2026-12-31"
    # two selected cases to bob
    pick = review.cases(Filters(run=RUN, assignee="-"))["case_id"][:2].to_list()
    r = lena.post("/allocate", data={"csrf": token, "run": RUN, "to": "bob",
                                     "scope": "selected", "case": pick})  # fmt: skip
    assert "2 cases allocated to bob" in r.text
    assert sorted(review.cases(Filters(run=RUN, assignee="bob"))["case_id"]) == sorted(pick)
    # alice's "my cases" shows hers only, counts over every page
    html = alice.get(f"/cases?run={RUN}&assignee=alice").text
    assert "My cases" in html and f'id="total">{expected}<' in html
    # every allocation is audited, in words
    trail = oc.audit_trail(review.url)
    allocated = trail.filter(trail["action"] == "allocated")
    assert allocated.height == expected + 2
    assert set(allocated["analyst"]) == {"lena"}
    audit = lena.get("/audit").text
    assert "allocated to bob" in audit and "due 2026-12-31" in audit
    # an unknown analyst is refused, nothing written
    bad = lena.post("/allocate", data={**form, "to": "mallory"})
    assert bad.status_code == 400 and "no analyst &#39;mallory&#39;" in bad.text
    assert oc.audit_trail(review.url).height == trail.height


def test_workflow_stages_and_bulk_outcome(app, workspace) -> None:
    review = Review(workspace, RULES)
    lena, alice = signed_in(app, "lena"), signed_in(app, "alice")
    rule = "payroll_to_payroll"
    case_id = review.cases(Filters(run=RUN, rule=rule, assignee="-"))["case_id"][0]
    assert al.allocate(review.url, RUN, [(rule, case_id)], "alice", by="lena") == 1
    r = alice.post(f"/cases/{RUN}/{case_id}/start", data={"csrf": csrf(alice)},
                   follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    page = alice.get(r.headers["location"]).text
    assert 'id="stage">under investigation<' in page and "investigation started" in page
    # nothing ticked: the list comes back (a redirect) saying so, and nothing is written
    before = oc.audit_trail(review.url).height
    for path, extra in (("/bulk-outcome", {"outcome": "fraud"}), ("/allocate", {"to": "bob"})):
        user = alice if path == "/bulk-outcome" else lena
        r = user.post(path, data={"csrf": csrf(user), "run": RUN, "rule": rule, **extra},
                      follow_redirects=False)  # fmt: skip
        assert r.status_code == 303 and "problem=none-selected" in r.headers["location"], path
        shown = user.get(r.headers["location"]).text
        assert 'id="problem"' in shown and "tick at least one case" in shown
        assert f"rule={rule}" in r.headers["location"]  # back to the same list
    too_many = [f"C{i:07d}" for i in range(wf.MAX_BULK + 1)]
    r = alice.post("/bulk-outcome", data={"csrf": csrf(alice), "run": RUN, "outcome": "fraud",
                   "case": too_many}, follow_redirects=False)  # fmt: skip
    assert "problem=too-many" in r.headers["location"]
    assert f"({wf.MAX_BULK + 1} selected)" in alice.get(r.headers["location"]).text
    assert oc.audit_trail(review.url).height == before
    # bulk: close 5 new cases of one rule as no issue, one comment
    chosen = review.cases(Filters(run=RUN, stage="new", rule="payroll_to_housing_benefit"))
    picked = chosen["case_id"][:5].to_list()
    matches = int(chosen["matches"][:5].sum())
    r = alice.post("/bulk-outcome", data={"csrf": csrf(alice), "run": RUN, "stage": "new",
                   "outcome": "no_issue", "comment": "second job declared", "case": picked},
                   follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    assert (
        f"Recorded &#39;no issue&#39; on {matches} match" in alice.get(r.headers["location"]).text
    )
    closed = review.cases(Filters(run=RUN, stage="closed"))
    assert set(picked) <= set(closed["case_id"]) and closed.height == 5
    saved = oc.current_outcomes(review.url)
    assert saved.height == matches and set(saved["comment"]) == {"second job declared"}
    assert set(saved["analyst"]) == {"alice"}
    # once more: nothing changes, nothing overwritten
    again = {"csrf": csrf(alice), "run": RUN, "outcome": "no_issue", "comment": "x",
             "case": picked}  # fmt: skip
    assert "on 0 matches" in alice.post("/bulk-outcome", data=again).text
    # the front page: progress per rule and per partner, and "your cases"
    home = lena.get(f"/?run={RUN}").text
    assert 'id="progress-rule"' in home and 'id="progress-partner"' in home
    rule_row = re.search(r"Payroll to housing benefit</a></td>(.*?)</tr>", home, re.S).group(1)
    assert ">5</a>" in rule_row  # closed
    board = alice.get(f"/?run={RUN}").text
    assert re.search(r'id="mine-under_investigation">under investigation 1<', board)
    assert al.generation(review.url) > 0


def test_exports_honour_the_search(app, workspace) -> None:
    review = Review(workspace, RULES)
    one = review.matches(RUN).row(17, named=True)
    alice = signed_in(app, "alice")
    csv = alice.get(f"/export.csv?run={RUN}&q={one['left_record_id']}").text
    rows = csv.strip().splitlines()[1:]
    in_case = review.matches(RUN).filter(review.matches(RUN)["case_id"] == one["case_id"])
    assert len(rows) == in_case.height and all(one["case_id"] in r for r in rows)
    everything = alice.get(f"/export.csv?run={RUN}").text.strip().splitlines()[1:]
    assert len(everything) == review.matches(RUN).height


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'outcomes.sqlite'}"
    return request.getfixturevalue("postgres_url")


def test_allocation_and_bulk_outcome_on_each_database(workspace, store_url) -> None:
    review = Review(workspace, RULES, outcomes_url=store_url)
    every = wf.under_filters(review, Filters(run=RUN))
    assert len(every) == CASES
    # more cases than one statement may name, in one transaction, one audit entry each
    moved = wf.allocate(review, RUN, every, "bob", by="lena", analysts=["bob", "alice"])
    assert moved == CASES and al.allocations(store_url, RUN).height == CASES
    assert wf.allocate(review, RUN, every[:10], "bob", by="lena", analysts=["bob"]) == 0
    assert wf.allocate(review, RUN, every[:10], None, by="lena", analysts=["bob"]) == 10
    counts = review.status_counts(Filters(run=RUN))
    assert (counts["stage:new"], counts["stage:allocated"]) == (10, CASES - 10)
    picked = [c for _, c in every[:4]]
    done = wf.bulk_outcome(review, RUN, picked, outcome="error", analyst="bob", comment="one")
    assert done.saved >= 4 and not done.conflicts
    assert review.cases(Filters(run=RUN, stage="closed")).height == 4
    trail = oc.audit_trail(store_url)
    assert (trail["action"] == "allocated").sum() == CASES
    assert (trail["action"] == "bulk outcome").sum() == 1
    with pytest.raises(al.AllocationError, match="no analyst 'eve'"):
        wf.allocate(review, RUN, every[:1], "eve", by="lena", analysts=["bob"])

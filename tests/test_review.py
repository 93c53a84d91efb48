"""The review library and web app (no browser): filters, outcomes, conflicts, sign-in,
CSRF, and that no page, export or log line shows a token, key or secret."""

from __future__ import annotations

import base64
import io
import logging
import re
import zipfile

import polars as pl
import pytest
from fastapi.testclient import TestClient
from postgres_support import postgres_cluster, postgres_url  # noqa: F401 (fixtures)
from test_review_support import review_world

from fraudmatch.cli import main
from fraudmatch.review import outcomes as oc
from fraudmatch.review.analysts import (
    AnalystError,
    add_analyst,
    hash_password,
    load_analysts,
    session_secret,
    verify_password,
)
from fraudmatch.review.casework import Filters, Review, ReviewError
from fraudmatch.review.web import COOKIE, create_app

PASSWORDS = {"alice": "alice-password-1", "bob": "bob-password-22"}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    world = review_world(tmp_path_factory, "review")
    for name, password in PASSWORDS.items():
        add_analyst(world.workspace, name, password)
    return world


@pytest.fixture(scope="module")
def review(world) -> Review:
    return Review(world.workspace, world.rules)


def login(client: TestClient, name: str) -> None:
    r = client.post("/login", data={"name": name, "password": PASSWORDS[name], "next": "/cases"})
    assert r.status_code == 200, r.text  # followed the redirect to the case list
    assert COOKIE in client.cookies


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


@pytest.fixture(scope="module")
def app(world):
    return create_app(world.workspace, world.rules, users=None)


# --------------------------------------------------------------------------- library


def test_cases_filter_by_rule_partner_risk_status(world, review) -> None:
    run = world.run_id
    everything = review.cases(Filters(run=run))
    assert everything.height > 10
    assert set(everything["statuses"].explode().to_list()) == {"open"}
    rule = "payroll_to_payroll"
    only = review.cases(Filters(run=run, rule=rule))
    assert only.height and set(only["rule"]) == {rule}
    partner = world.partners[0]
    mine = review.cases(Filters(run=run, partner=partner))
    assert mine.height and all(partner in p for p in mine["partners"].to_list())
    high = review.cases(Filters(run=run, risk="high"))
    assert high.height and set(high["risk"]) == {"high"}
    assert review.cases(Filters(run=run, status="fraud")).height == 0
    counts = review.status_counts(Filters(run=run))
    assert counts["all"] == everything.height == counts["open"]
    # newest run is the default; an unknown or crafted run is refused, never created
    assert review.latest_run() == run
    with pytest.raises(ReviewError):
        review.matches("../../etc")
    with pytest.raises(ReviewError):
        review.matches("run-19990101")
    assert not (world.workspace / "runs" / "run-19990101").exists()


def test_case_detail_has_both_sides_and_evidence(world, review) -> None:
    case_id = review.cases(Filters(run=world.run_id, rule="payroll_to_housing_benefit"))["case_id"][
        0
    ]
    case = review.case(world.run_id, case_id)
    m = case.matches[0]
    assert m.left.dataset == "payroll" and m.right.dataset == "housing_benefit"
    assert m.left.record_id and m.right.record_id and m.tier and m.blocking_rule
    names = {e.comparison for e in m.evidence}
    assert {"surname", "dob"} <= names
    assert all(e.level is not None for e in m.evidence)
    assert m.outcome is None and m.version == 0 and m.status == "open"
    with pytest.raises(ReviewError):
        review.case(world.run_id, "C-no-such-case")


def test_two_analysts_on_one_match_lose_neither_change(world, review) -> None:
    two_analysts_on_one_match(world, review)


def test_two_analysts_on_one_match_on_postgresql(world, postgres_url) -> None:  # noqa: F811
    two_analysts_on_one_match(
        world, Review(world.workspace, world.rules, outcomes_url=postgres_url)
    )


def two_analysts_on_one_match(world, review: Review) -> None:
    cases = review.cases(Filters(run=world.run_id, rule="payroll_to_payroll"))
    case = review.case(world.run_id, cases["case_id"][0])
    key = case.matches[0].key
    # both opened the case at version 0
    seen_by_alice = seen_by_bob = case.matches[0].version
    first = review.record(world.run_id, case.case_id, key, outcome="fraud", analyst="alice",
                          expected_version=seen_by_alice, amount=1200.0, comment="same person")  # fmt: skip
    assert first.version == 1
    with pytest.raises(oc.OutcomeConflict) as conflict:
        review.record(world.run_id, case.case_id, key, outcome="no_issue", analyst="bob",
                      expected_version=seen_by_bob, comment="entitled")  # fmt: skip
    assert conflict.value.current.analyst == "alice"
    assert conflict.value.current.outcome == "fraud"
    # alice's change stands until bob saves against the version he was shown
    assert review.match(world.run_id, case.case_id, key).outcome.outcome == "fraud"
    second = review.record(world.run_id, case.case_id, key, outcome="under_investigation",
                           analyst="bob", expected_version=conflict.value.current.version,
                           comment="checking with HR")  # fmt: skip
    assert second.version == 2
    trail = [e for e in review.audit([key]) if e["action"] == "record_outcome"]
    assert [(e["analyst"], e["detail"]["outcome"]) for e in trail] == [
        ("bob", "under_investigation"),
        ("alice", "fraud"),
    ]
    assert review.cases(Filters(run=world.run_id, status="under_investigation")).height >= 1


# --------------------------------------------------------------------------- analysts


def test_passwords_are_hashed_and_secret_is_private(world, tmp_path) -> None:
    text = (world.workspace / "analysts.yaml").read_text()
    assert "alice-password-1" not in text and "scrypt$" in text
    assert (world.workspace / "analysts.yaml").stat().st_mode & 0o777 == 0o600
    hashed = hash_password("correct horse battery")
    assert verify_password("correct horse battery", hashed)
    assert not verify_password("wrong horse battery", hashed)
    assert not verify_password("x", "not-a-hash")
    with pytest.raises(AnalystError):
        add_analyst(world.workspace, "carol", "short")
    with pytest.raises(AnalystError):
        add_analyst(world.workspace, "../carol", "long enough password")
    secret = session_secret(tmp_path)
    assert len(secret) == 32 and session_secret(tmp_path) == secret
    assert (tmp_path / ".review-secret").stat().st_mode & 0o777 == 0o600


def test_cli_add_analyst_with_password_file(tmp_path) -> None:
    (tmp_path / "ws").mkdir()
    pw = tmp_path / "pw.txt"
    pw.write_text("a-long-password-9\n")
    code = main(["review", "add-analyst", "dana", "--workspace", str(tmp_path / "ws"),
                 "--password-file", str(pw)])  # fmt: skip
    assert code == 0
    users = load_analysts(tmp_path / "ws")
    assert verify_password("a-long-password-9", users["dana"])


# --------------------------------------------------------------------------- web app


def test_every_page_but_login_needs_a_session(app) -> None:
    client = TestClient(app)
    for path in ("/", "/cases", "/audit", "/export.csv", "/cases/run-20261101/C1"):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login"), path
    r = client.post("/cases/run-20261101/C1/matches/k/outcome", data={}, follow_redirects=False)
    assert r.status_code == 303
    assert client.get("/login").status_code == 200
    r = client.post("/login", data={"name": "alice", "password": "wrong-password"},
                    follow_redirects=False)  # fmt: skip
    # refused, and sent back to the form by a GET: reloading it never posts the password
    assert r.status_code == 303 and "failed=wrong" in r.headers["location"]
    assert COOKIE not in client.cookies
    again = client.get(r.headers["location"])
    assert again.status_code == 200 and "Unknown analyst or wrong password." in again.text
    # a forged cookie is refused
    client.cookies.set(COOKIE, "eyJ1IjoiYWxpY2UiLCJleHAiOjk5OTk5OTk5OTksIm4iOiIxIn0.forged")
    assert client.get("/cases", follow_redirects=False).status_code == 303


def test_web_outcome_needs_csrf_and_reports_conflicts(world, review, app) -> None:
    alice, bob = TestClient(app), TestClient(app)
    login(alice, "alice")
    login(bob, "bob")
    case_id = review.cases(Filters(run=world.run_id, rule="housing_tenants_to_deceased"))[
        "case_id"
    ][0]
    url = f"/cases/{world.run_id}/{case_id}"
    page_a, page_b = alice.get(url).text, bob.get(url).text
    key = review.case(world.run_id, case_id).matches[0].key
    post = f"{url}/matches/{key}/outcome"
    # without the CSRF token nothing is saved
    r = alice.post(post, data={"outcome": "fraud", "expected_version": "0"})
    assert r.status_code == 403
    # a token from another session does not work either
    r = alice.post(post, data={"outcome": "fraud", "expected_version": "0",
                               "csrf": csrf_of(page_b)})  # fmt: skip
    assert r.status_code == 403
    r = alice.post(post, data={"outcome": "fraud", "amount": "£1,250.50", "comment": "died 2024",
                               "expected_version": "0", "csrf": csrf_of(page_a)})  # fmt: skip
    assert r.status_code == 200 and "Saved: fraud" in r.text
    r = bob.post(post, data={"outcome": "no_issue", "comment": "bob's typed note",
                             "expected_version": "0", "csrf": csrf_of(page_b)})  # fmt: skip
    assert r.status_code == 409
    assert "alice recorded &#39;fraud&#39;" in r.text and "bob&#39;s typed note" in r.text
    assert review.match(world.run_id, case_id, key).outcome.outcome == "fraud"
    r = bob.post(post, data={"outcome": "no_issue", "comment": "bob's typed note",
                             "expected_version": "1", "csrf": csrf_of(r.text)})  # fmt: skip
    assert r.status_code == 200 and "Saved: no issue" in r.text
    saved = review.match(world.run_id, case_id, key).outcome
    assert (saved.outcome, saved.version, saved.analyst) == ("no_issue", 2, "bob")
    audit = alice.get("/audit").text
    assert "bob&#39;s typed note" in audit and "died 2024" in audit and "£1,250.50" in audit
    # bad input is explained, typed values kept
    r = alice.post(post, data={"outcome": "fraud", "amount": "lots", "comment": "keep me",
                               "expected_version": "2", "csrf": csrf_of(page_a)})  # fmt: skip
    assert r.status_code == 400 and "not a number" in r.text and "keep me" in r.text


def test_exports_download_from_the_app(world, app) -> None:
    client = TestClient(app)
    login(client, "alice")
    r = client.get(f"/export.csv?run={world.run_id}&rule=payroll_to_payroll")
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    frame = pl.read_csv(io.BytesIO(r.content))
    assert set(frame["rule"]) == {"payroll_to_payroll"}
    r = client.get(f"/export.xlsx?run={world.run_id}&partner={world.partners[1]}")
    assert r.status_code == 200 and r.content[:2] == b"PK"


# --------------------------------------------------------------------------- no secrets


def _token_values(world, case_rows: pl.DataFrame) -> tuple[set[str], set[str]]:
    """Token column names and (long) token values of every matched record in the store."""
    wanted = set(case_rows["record_id"].to_list())
    names, values = set(), set()
    for path in (world.workspace / "store").rglob("*.parquet"):
        frame = pl.read_parquet(path)
        tok = [c for c in frame.columns if "__" in c]  # every pseudonymised column
        names.update(tok)
        mine = frame.filter(pl.col("record_id").is_in(list(wanted))).select(tok)
        for col in mine.columns:
            for v in mine[col].drop_nulls().to_list():
                if isinstance(v, int) and v >= 10**12:  # short values are not distinctive
                    values.add(str(v))
    return names, values


def _secrets(world) -> list[str]:
    found = []
    link = world.linkage_key.read_text().splitlines()
    found += [line.split(":", 1)[-1].strip() for line in link if line and not line.startswith("#")]
    for key in world.private_keys:
        for line in key.read_text().splitlines():
            if ":" in line and not line.startswith("#"):
                value = line.split(":", 1)[1].strip()
                if len(value) >= 32:
                    found.append(value)
    secret = (world.workspace / ".review-secret").read_bytes()
    found += [secret.hex(), base64.b64encode(secret).decode(),
              base64.urlsafe_b64encode(secret).decode().rstrip("=")]  # fmt: skip
    found += list(PASSWORDS.values()) + list(load_analysts(world.workspace).values())
    found += [h.split("$")[-1] for h in load_analysts(world.workspace).values()]
    return [s for s in found if len(s) >= 8]


def _xlsx_text(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())


def test_no_page_export_or_log_shows_a_token_key_or_secret(world, review, app, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    client = TestClient(app)
    client.post("/login", data={"name": "alice", "password": "not-her-password"})
    login(client, "alice")
    run = world.run_id
    case_rows = pl.read_parquet(world.workspace / "runs" / run / "case_rows.parquet")
    token_names, token_values = _token_values(world, case_rows)
    assert token_names and len(token_values) > 100
    secret_values = _secrets(world)
    assert len(secret_values) >= 6

    texts: dict[str, str] = {}
    texts["list"] = client.get(f"/cases?run={run}").text
    for rule in sorted(set(case_rows["rule"])):
        texts[f"list {rule}"] = client.get(f"/cases?run={run}&rule={rule}").text
    cases = review.cases(Filters(run=run))
    for row in cases.iter_rows(named=True):
        page = client.get(f"/cases/{run}/{row['case_id']}")
        assert page.status_code == 200
        texts[f"case {row['case_id']}"] = page.text
    # one outcome through the app, so audit pages and exports carry outcome data too
    first = cases.row(0, named=True)
    page = texts[f"case {first['case_id']}"]
    key = re.search(r"/matches/([0-9a-f]+)/outcome", page).group(1)
    client.post(f"/cases/{run}/{first['case_id']}/matches/{key}/outcome",
                data={"outcome": "error", "amount": "10", "comment": "overpaid",
                      "expected_version": re.search(r'name="expected_version" value="(\d+)"', page).group(1),
                      "csrf": csrf_of(page)})  # fmt: skip
    texts["audit"] = client.get("/audit").text
    texts["case after"] = client.get(f"/cases/{run}/{first['case_id']}").text
    texts["csv"] = client.get(f"/export.csv?run={run}").content.decode("utf-8-sig")
    texts["xlsx"] = _xlsx_text(client.get(f"/export.xlsx?run={run}").content)
    for partner in world.partners:
        texts[f"csv {partner}"] = client.get(f"/export.csv?run={run}&partner={partner}").text
    texts["log"] = "\n".join(r.getMessage() for r in caplog.records)
    assert "analyst alice signed in" in texts["log"]

    for where, text in texts.items():
        for name in token_names:
            assert name not in text, (where, name)
        assert "__tok" not in text and "__bf" not in text and "__metaphone" not in text, where
        for value in token_values:
            assert value not in text, (where, "token value", value)
        for secret in secret_values:
            assert secret not in text, (where, "secret")
        assert "PRIVATE KEY" not in text and "linkage key" not in text.lower(), where


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("not a url", "an unreadable URL"),
        ("postgresql+nosuchdriver://analyst:s3cret@db.example/outcomes", "analyst:***@"),
        ("sqlite:////no/such/folder/outcomes.sqlite", "unable to open database file"),
    ],
)
def test_an_outcomes_database_that_cannot_open_is_one_plain_error(url, said) -> None:
    with pytest.raises(oc.OutcomeError, match="cannot open the outcomes database") as caught:
        oc.engine(url)
    assert said in str(caught.value) and "s3cret" not in str(caught.value)

"""Sessions that end and sign-ins that slow down, in the review app (FastAPI TestClient).

Sign-out, a new password and removing the analyst each end the session on the server: the
same cookie replayed opens nothing. Idle sessions end. Failed sign-ins are throttled per
name and per address, with growing delays that hold even for the right password, and every
attempt is audited without the password.
"""

from __future__ import annotations

import re
import time

import pytest
from fastapi.testclient import TestClient
from postgres_support import postgres_cluster, postgres_url  # noqa: F401 (fixtures)

from fraudmatch.cli import main
from fraudmatch.review import outcomes as oc
from fraudmatch.review import signin
from fraudmatch.review.analysts import add_analyst, load_analysts
from fraudmatch.review.web import COOKIE, create_app

PASSWORD = "alice-password-1"


@pytest.fixture
def workspace(tmp_path):
    add_analyst(tmp_path, "alice", PASSWORD)
    add_analyst(tmp_path, "bob", "bob-password-22")
    return tmp_path


def client_of(workspace, **kw) -> TestClient:
    rules = workspace / "no-rules"
    rules.mkdir(exist_ok=True)
    return TestClient(create_app(workspace, rules, **kw), follow_redirects=False)


def sign_in(client: TestClient, name: str = "alice", password: str = PASSWORD):
    return client.post("/login", data={"name": name, "password": password, "next": "/cases"})


def answer(response) -> str:
    """What a sign-in POST said, from where it redirected: "in", "wrong" or "wait"."""
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    if location == "/cases":
        return "in"
    assert location.startswith("/login?"), location
    return "wait" if "failed=wait" in location else "wrong"


def csrf_of(client: TestClient) -> str:
    html = client.get("/audit").text
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def replay(workspace, cookie: str, **kw) -> int:
    """Status of /cases for a fresh client holding only this cookie."""
    other = client_of(workspace, **kw)
    other.cookies.set(COOKIE, cookie)
    return other.get("/audit").status_code


def test_sign_out_ends_the_session_on_the_server(workspace) -> None:
    client = client_of(workspace)
    assert answer(sign_in(client)) == "in"
    cookie = client.cookies[COOKIE]
    assert replay(workspace, cookie) == 200
    assert client.post("/logout", data={"csrf": csrf_of(client)}).status_code == 303
    assert replay(workspace, cookie) == 303  # to /login: the cookie opens nothing now
    actions = oc.audit_trail(oc.default_url(workspace))["action"].to_list()
    assert actions[:2] == ["sign-out", "sign-in"]


@pytest.mark.parametrize("how", ["set-password", "remove-analyst", "add-analyst again"])
def test_a_new_password_or_removal_ends_every_session(workspace, how, tmp_path) -> None:
    client = client_of(workspace)
    sign_in(client)
    cookie = client.cookies[COOKIE]
    password_file = tmp_path / "pw.txt"
    password_file.write_text("a-brand-new-password\n")
    argv = {
        "set-password": ["set-password", "alice", "--password-file", str(password_file)],
        "remove-analyst": ["remove-analyst", "alice"],
        "add-analyst again": ["add-analyst", "alice", "--password-file", str(password_file)],
    }[how]
    assert main(["review", *argv[:2], "--workspace", str(workspace), *argv[2:]]) == 0
    assert replay(workspace, cookie) == 303
    assert ("alice" in load_analysts(workspace)) is (how != "remove-analyst")
    if how != "remove-analyst":
        assert answer(sign_in(client_of(workspace), password="a-brand-new-password")) == "in"
    trail = oc.audit_trail(oc.default_url(workspace))
    assert "a-brand-new-password" not in " ".join(trail["detail"].to_list())


def test_setting_the_password_of_nobody_is_refused(workspace, tmp_path, capsys) -> None:
    password_file = tmp_path / "pw.txt"
    password_file.write_text("a-brand-new-password\n")
    argv = ["review", "set-password", "carol", "--workspace", str(workspace),
            "--password-file", str(password_file)]  # fmt: skip
    assert main(argv) == 2
    assert "no analyst 'carol'" in capsys.readouterr().err


def test_an_idle_session_ends(workspace) -> None:
    client = client_of(workspace, idle_seconds=1)
    sign_in(client)
    assert client.get("/audit").status_code == 200
    time.sleep(1.3)
    assert client.get("/audit").status_code == 303


def test_failed_sign_ins_slow_down_even_for_the_right_password(workspace) -> None:
    client = client_of(workspace)
    answers = [answer(sign_in(client, password=f"wrong-password-{i}")) for i in range(6)]
    free = signin.FREE_FAILURES_PER_NAME
    assert answers[:free] == ["wrong"] * free and set(answers[free + 1 :]) == {"wait"}
    right = sign_in(client)
    assert answer(right) == "wait" and int(right.headers["Retry-After"]) >= 1
    assert COOKIE not in client.cookies
    shown = client.get(right.headers["location"]).text
    assert f"try again in {right.headers['Retry-After']} seconds" in shown
    # another analyst from another address is not held up by alice's attempts
    assert answer(sign_in(client_of(workspace), "bob", "bob-password-22")) == "in"
    trail = oc.audit_trail(oc.default_url(workspace))
    refused = trail.filter(trail["action"] == "sign-in refused")
    assert refused.height == 7 and set(refused["analyst"]) == {"alice"}
    text = " ".join(trail["detail"].to_list())
    assert "wrong-password" not in text and PASSWORD not in text
    assert "too many failed sign-ins" in text and "wrong password" in text


def test_unknown_names_are_throttled_and_never_stored(workspace) -> None:
    client = client_of(workspace)
    typed = [f"my-Secret-{i}" for i in range(signin.FREE_FAILURES_PER_ADDRESS + 1)]
    answers = [answer(sign_in(client, name, "whatever-it-is")) for name in typed]
    assert answers[:-1] == ["wrong"] * (len(typed) - 1) and answers[-1] == "wait"  # per address
    trail = oc.audit_trail(oc.default_url(workspace))
    assert set(trail["analyst"]) == {"(unknown name)"}
    assert not any("my-Secret" in d for d in trail["detail"].to_list())


def test_sessions_and_throttle_on_postgresql(workspace, postgres_url) -> None:  # noqa: F811
    client = client_of(workspace, outcomes_url=postgres_url)
    for i in range(signin.FREE_FAILURES_PER_NAME + 1):
        sign_in(client, password=f"wrong-{i}")
    assert answer(sign_in(client)) == "wait"
    other = client_of(workspace, outcomes_url=postgres_url)
    assert answer(sign_in(other, "bob", "bob-password-22")) == "in"
    cookie = other.cookies[COOKIE]
    assert replay(workspace, cookie, outcomes_url=postgres_url) == 200
    assert signin.remove_analyst(workspace, "bob", url=postgres_url) == 1
    assert replay(workspace, cookie, outcomes_url=postgres_url) == 303


def test_adding_an_analyst_and_changing_a_role_are_audited(workspace, tmp_path) -> None:
    password_file = tmp_path / "pw.txt"
    password_file.write_text("carol-password-1\n")
    at = ["--workspace", str(workspace)]
    assert main(["review", "add-analyst", "carol", *at, "--password-file", str(password_file)]) == 0
    assert main(["review", "set-role", "carol", "lead", *at]) == 0
    trail = oc.audit_trail(oc.default_url(workspace))
    done = dict(zip(trail["action"], trail["detail"], strict=True))
    assert '"analyst": "carol"' in done["analyst added"]
    assert '"role": "lead"' in done["role changed"]
    assert set(trail["analyst"]) == {signin.COMMAND_LINE}
    assert "carol-password-1" not in " ".join(trail["detail"])
    # and the signed-in audit page says it in words
    client = client_of(workspace)
    sign_in(client)
    page = client.get("/audit").text
    assert "analyst added" in page and "role changed" in page and "role: lead" in page

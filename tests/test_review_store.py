"""The review database on SQLite and on a real PostgreSQL server, the same tests on both.

Schema made and migrated by the same Alembic revisions, outcomes versioned, lost updates
refused also under truly simultaneous saves, every change audited. The PostgreSQL server
is started by the tests themselves (tests/postgres_support.py).
"""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from postgres_support import postgres_cluster, postgres_url  # noqa: F401 (fixtures)

from fraudmatch.review import outcomes as oc
from fraudmatch.review import schema


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'outcomes.sqlite'}"
    return request.getfixturevalue("postgres_url")


def a_match(n: int = 1) -> dict[str, str]:
    return {
        "rule": "payroll_to_payroll",
        "case_id": f"C{n:05d}",
        "left_partner": "northmoor",
        "left_dataset": "payroll",
        "left_record_id": f"P-{n}",
        "right_partner": "eastvale",
        "right_dataset": "payroll",
        "right_record_id": f"Q-{n}",
        "evidence_hash": "e" * 32,
        "level_surname": "exact",
    }


def test_schema_is_made_by_the_migrations_on_both(url) -> None:
    eng = oc.engine(url)
    assert schema.current_revision(eng) == schema.head_revision()
    tables = set(sa.inspect(eng).get_table_names())
    assert {"outcomes", "audit", "alembic_version"} <= tables
    oc.engine(url)  # opening again migrates nothing and fails nothing
    assert schema.current_revision(eng) == schema.head_revision()


def test_outcome_versions_and_conflicts_on_both(url) -> None:
    first = oc.record_outcome(url, a_match(), outcome="fraud", analyst="alice",
                              expected_version=0, amount=1250.5, comment="same person")  # fmt: skip
    assert (first.version, first.amount, first.outcome) == (1, 1250.5, "fraud")
    with pytest.raises(oc.OutcomeConflict) as conflict:
        oc.record_outcome(url, a_match(), outcome="no_issue", analyst="bob", expected_version=0)
    assert conflict.value.current.analyst == "alice"
    second = oc.record_outcome(url, a_match(), outcome="no_issue", analyst="bob",
                               expected_version=1, comment="entitled")  # fmt: skip
    assert second.version == 2 and oc.get_outcome(url, second.match_key).analyst == "bob"
    trail = oc.audit_trail(url, second.match_key)
    assert trail["analyst"].to_list() == ["bob", "alice"]
    assert oc.current_outcomes(url).height == 1


def test_simultaneous_saves_keep_exactly_one_on_both(url) -> None:
    oc.engine(url)
    analysts = [f"analyst{i}" for i in range(6)]
    barrier = threading.Barrier(len(analysts))
    results: dict[str, str] = {}

    def save(name: str) -> None:
        barrier.wait()
        try:
            oc.record_outcome(url, a_match(7), outcome="fraud", analyst=name, expected_version=0)
            results[name] = "saved"
        except oc.OutcomeConflict as exc:
            results[name] = f"conflict with {exc.current.analyst}"

    threads = [threading.Thread(target=save, args=(n,)) for n in analysts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [n for n, r in results.items() if r == "saved"]
    assert len(winners) == 1, results
    assert all(r == f"conflict with {winners[0]}" for n, r in results.items() if n != winners[0])
    key = oc.current_outcomes(url)["match_key"][0]
    assert oc.audit_trail(url, key)["analyst"].to_list() == winners


def test_a_store_made_before_migrations_is_stamped_and_upgraded(tmp_path) -> None:
    path = tmp_path / "old.sqlite"
    old = sa.create_engine(f"sqlite:///{path}")
    with old.begin() as con:  # the shape fraudmatch created before evidence_labels
        con.execute(sa.text(
            "CREATE TABLE outcomes (match_key VARCHAR(64) PRIMARY KEY, case_id VARCHAR(64) NOT NULL,"
            " rule VARCHAR(200) NOT NULL, left_partner VARCHAR(100) NOT NULL,"
            " left_dataset VARCHAR(100) NOT NULL, left_record_id VARCHAR(200) NOT NULL,"
            " right_partner VARCHAR(100) NOT NULL, right_dataset VARCHAR(100) NOT NULL,"
            " right_record_id VARCHAR(200) NOT NULL, evidence_hash VARCHAR(64) NOT NULL,"
            " outcome VARCHAR(40) NOT NULL, same_entity BOOLEAN, amount NUMERIC(14, 2),"
            " comment TEXT NOT NULL, analyst VARCHAR(100) NOT NULL,"
            " recorded_at DATETIME NOT NULL, run_id VARCHAR(100), version INTEGER NOT NULL)"
        ))  # fmt: skip
        con.execute(sa.text(
            "CREATE TABLE audit (id INTEGER PRIMARY KEY, at DATETIME NOT NULL,"
            " analyst VARCHAR(100) NOT NULL, action VARCHAR(40) NOT NULL,"
            " match_key VARCHAR(64), case_id VARCHAR(64), detail TEXT NOT NULL)"
        ))  # fmt: skip
    old.dispose()
    url = f"sqlite:///{path}"
    eng = oc.engine(url)
    assert schema.current_revision(eng) == schema.head_revision()
    saved = oc.record_outcome(url, a_match(), outcome="error", analyst="alice", expected_version=0)
    assert oc.get_outcome(url, saved.match_key).evidence_labels == {"surname": "exact"}


def test_a_refused_server_is_one_line_naming_the_database(postgres_cluster) -> None:  # noqa: F811
    url = postgres_cluster.url("no_such_database").replace("fraudmatch@", "fraudmatch:s3cret@")
    with pytest.raises(oc.OutcomeError) as caught:
        oc.engine(url)
    said = str(caught.value)
    assert "cannot open the outcomes database" in said and "no_such_database" in said
    assert "s3cret" not in said and "\n" not in said


def test_plain_postgresql_urls_mean_psycopg_3() -> None:
    assert oc.normalise_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert oc.normalise_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert oc.normalise_url("sqlite:///x.sqlite") == "sqlite:///x.sqlite"


def test_the_app_does_not_start_on_a_database_that_refuses(
    postgres_cluster,  # noqa: F811
    tmp_path,
    monkeypatch,
    capsys,
) -> None:
    from fraudmatch.cli import main
    from fraudmatch.review.analysts import add_analyst

    add_analyst(tmp_path, "alice", "alice-password-1")
    url = postgres_cluster.url("no_such_database").replace("fraudmatch@", "fraudmatch:s3cret@")
    monkeypatch.setenv(oc.URL_ENV, url)
    assert main(["review", "--workspace", str(tmp_path), "--port", "1"]) == 2
    said = capsys.readouterr().err.strip()
    assert said.startswith("error: cannot open the outcomes database")
    assert "no_such_database" in said and "s3cret" not in said


def test_the_app_names_the_missing_driver_and_the_extra_to_install(
    tmp_path, monkeypatch, capsys
) -> None:
    from fraudmatch.cli import main
    from fraudmatch.review.analysts import add_analyst

    add_analyst(tmp_path, "alice", "alice-password-1")
    monkeypatch.setenv(oc.URL_ENV, "mysql://analyst:s3cret@db.example/outcomes")
    assert main(["review", "--workspace", str(tmp_path), "--port", "1"]) == 2
    said = capsys.readouterr().err.strip()
    assert "\n" not in said and "s3cret" not in said
    assert said.startswith("error: cannot open the outcomes database")
    assert "its driver 'MySQLdb' is not installed" in said
    assert "pip install 'fraudmatch[postgres]'" in said  # the extra survives the console

"""The hub catalogue and workspace: schema, idempotent writes, run bookkeeping, migrations."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest

from fraudmatch.hub import catalogue, catalogue_db
from fraudmatch.hub.workspace import (
    ENV_VAR,
    Workspace,
    default_root,
    ensure_private_dir,
    free_name,
    inbox_files,
    open_workspace,
    take_file,
)
from fraudmatch.sealing.keys import generate_party, public_identity_to_text
from fraudmatch.spec.partnership import Partnership, parse_partnership


@pytest.fixture(scope="module")
def partnership() -> Partnership:
    def party(name: str) -> dict[str, object]:
        return {"name": name, "public_key": public_identity_to_text(generate_party(name).public())}

    return parse_partnership(
        {
            "hub": party("hub"),
            "partners": [
                {**party("northmoor"), "datasets": ["payroll"]},
                {**party("eastvale"), "datasets": ["payroll"]},
            ],
        }
    )


@pytest.fixture()
def ws(tmp_path: Path, partnership: Partnership) -> Workspace:
    return open_workspace(tmp_path / "ws", partnership)


def record(ws: Workspace, sha: str, partner: str = "northmoor", **kw: object) -> bool:
    values: dict[str, object] = {
        "dataset": "payroll",
        "period": "2026-10",
        "created": "2026-10-01T06:00:00Z",
        "inbox_name": f"{partner}__payroll.sealed",
        "stored_path": f"/store/{sha}.parquet",
        "sealed_path": f"/store/sealed/{sha}.sealed",
        "rows": 10,
    }
    values.update(kw)
    return catalogue.record_submission(ws, sha256=sha, partner=partner, **values)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- workspace


def test_open_workspace_makes_private_folders_per_partner(ws: Workspace) -> None:
    for folder in (
        ws.root,
        ws.inbox("northmoor"),
        ws.inbox("eastvale"),
        ws.outbox("northmoor"),
        ws.outbox("eastvale"),
        ws.quarantine,
        ws.store,
        ws.runs,
    ):
        assert folder.is_dir(), folder
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    assert ws.catalogue_path == ws.root / "catalogue.duckdb"
    assert stat.S_IMODE(ws.catalogue_path.stat().st_mode) == 0o600
    assert ws.run_dir("run-20261101") == ws.root / "runs" / "run-20261101"
    assert stat.S_IMODE(ws.run_dir("run-20261101").stat().st_mode) == 0o700


def test_folders_are_private_even_under_an_open_umask(
    tmp_path: Path, partnership: Partnership
) -> None:
    old = os.umask(0)
    try:
        ws = open_workspace(tmp_path / "deep" / "ws", partnership)
        nested = ensure_private_dir(ws.store_dir("northmoor", "payroll") / "sealed")
    finally:
        os.umask(old)
    for folder in (
        tmp_path / "deep",
        ws.root,
        ws.inbox("eastvale"),
        ws.store / "northmoor",
        nested,
    ):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder


def test_open_workspace_twice_keeps_everything(ws: Workspace, partnership: Partnership) -> None:
    (ws.inbox("northmoor") / "x.sealed").write_bytes(b"x")
    record(ws, "a" * 64)
    again = open_workspace(ws.root, partnership)
    assert (again.inbox("northmoor") / "x.sealed").read_bytes() == b"x"
    assert catalogue.submissions(again).height == 1


def test_default_root_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert default_root() == Path("workspace")
    monkeypatch.setenv(ENV_VAR, "/srv/fraud")
    assert Workspace.default().root == Path("/srv/fraud")


def test_inbox_files_are_sorted_and_skip_deliveries_in_progress(tmp_path: Path) -> None:
    for name in ("b.sealed", "a.sealed", ".b.sealed.1234.tmp.sealed"):
        (tmp_path / name).write_bytes(b"1")
    (tmp_path / "sub").mkdir()
    assert [p.name for p in inbox_files(tmp_path)] == ["a.sealed", "b.sealed"]
    assert inbox_files(tmp_path / "absent") == []


def test_take_file_never_overwrites(tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    src = tmp_path / "one.sealed"
    src.write_bytes(b"first")
    assert take_file(src, dest, "x.sealed") == dest / "x.sealed"
    assert not src.exists()
    src.write_bytes(b"second")
    assert free_name(dest, "x.sealed") == dest / "x~2.sealed"
    assert take_file(src, dest, "x.sealed") == dest / "x~2.sealed"
    assert (dest / "x.sealed").read_bytes() == b"first"
    assert (dest / "x~2.sealed").read_bytes() == b"second"
    # the very same bytes again: nothing new to keep
    src.write_bytes(b"first")
    assert take_file(src, dest, "x.sealed") == dest / "x.sealed"
    assert not src.exists()
    assert sorted(p.name for p in dest.iterdir()) == ["x.sealed", "x~2.sealed"]


# --------------------------------------------------------------------------- schema


def test_schema_is_created_and_versioned(ws: Workspace) -> None:
    assert catalogue.schema_version(ws) == catalogue.SCHEMA_VERSION == 3
    with duckdb.connect(str(ws.catalogue_path)) as con:
        tables = {
            r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
        }
    expected = {"schema_version", "submissions", "quarantined", "runs", "run_steps", "run_rules"}
    assert expected | {"deletions", "rule_inputs", "bundles"} <= tables


def test_a_later_migration_is_applied_once(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def add_outcomes(con: duckdb.DuckDBPyConnection) -> None:
        calls.append(1)
        con.execute("CREATE TABLE outcomes (case_id VARCHAR PRIMARY KEY, outcome VARCHAR)")

    later = catalogue.SCHEMA_VERSION + 1
    migrations = [*catalogue.MIGRATIONS, (later, "outcomes", add_outcomes)]
    monkeypatch.setattr(catalogue_db, "MIGRATIONS", migrations)
    monkeypatch.setattr(catalogue_db, "SCHEMA_VERSION", later)
    assert catalogue.ensure_schema(ws) == later
    assert catalogue.ensure_schema(ws) == later
    assert calls == [1]
    with duckdb.connect(str(ws.catalogue_path)) as con:
        assert con.execute("SELECT count(*) FROM outcomes").fetchone() == (0,)


def test_a_failed_migration_leaves_the_old_version(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(con: duckdb.DuckDBPyConnection) -> None:
        con.execute("CREATE TABLE half (x INTEGER)")
        raise RuntimeError("boom")

    now = catalogue.SCHEMA_VERSION
    monkeypatch.setattr(
        catalogue_db, "MIGRATIONS", [*catalogue.MIGRATIONS, (now + 1, "bad", broken)]
    )
    monkeypatch.setattr(catalogue_db, "SCHEMA_VERSION", now + 1)
    with pytest.raises(RuntimeError, match="boom"):
        catalogue.ensure_schema(ws)
    monkeypatch.undo()
    assert catalogue.schema_version(ws) == now
    with duckdb.connect(str(ws.catalogue_path)) as con:
        tables = {
            r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
        }
    assert "half" not in tables


def test_a_catalogue_from_a_newer_fraudmatch_is_refused(ws: Workspace) -> None:
    with duckdb.connect(str(ws.catalogue_path)) as con:
        con.execute("INSERT INTO schema_version VALUES (99, 'future', now())")
    with pytest.raises(catalogue.CatalogueError, match="version 99 is newer"):
        catalogue.known_sha(ws, "a" * 64)


# --------------------------------------------------------------------------- submissions


def test_record_submission_is_idempotent(ws: Workspace) -> None:
    sha = "a" * 64
    assert record(ws, sha) is True
    assert record(ws, sha, rows=99) is False  # a re-run after a crash changes nothing
    frame = catalogue.submissions(ws)
    assert frame.height == 1 and frame["rows"].to_list() == [10]
    assert frame["status"].to_list() == ["stored"]
    assert frame.schema["created"] == pl.Datetime("us")
    assert frame["created"][0] == datetime(2026, 10, 1, 6, 0)
    assert catalogue.known_sha(ws, sha)
    assert catalogue.known_sha(ws, sha, "northmoor", "payroll")
    assert not catalogue.known_sha(ws, sha, "eastvale")
    assert not catalogue.known_sha(ws, "b" * 64)
    # the same payload from another partner is that partner's submission
    assert record(ws, sha, partner="eastvale") is True


def test_latest_period_and_current_submissions(ws: Workspace) -> None:
    assert catalogue.latest_period(ws, "northmoor", "payroll") is None
    record(ws, "1" * 64, period="2026-09", received_at=datetime(2026, 9, 2))
    record(ws, "2" * 64, period="2026-10", received_at=datetime(2026, 10, 2))
    record(
        ws,
        "3" * 64,
        period="2026-10",
        created="2026-10-03T06:00:00Z",
        received_at=datetime(2026, 10, 3),
    )
    record(ws, "4" * 64, partner="eastvale", period="2026-08", received_at=datetime(2026, 8, 2))
    assert catalogue.latest_period(ws, "northmoor", "payroll") == "2026-10"
    accepted = catalogue.latest_accepted(ws, "northmoor", "payroll")
    assert accepted is not None and accepted.sha256 == "3" * 64
    assert accepted.created == datetime(2026, 10, 3, 6, 0)
    current = catalogue.current_submissions(ws)
    assert current.select("partner", "sha256").rows() == [
        ("eastvale", "4" * 64),
        ("northmoor", "3" * 64),
    ]


def test_current_submissions_ignore_deleted_ones_but_replay_checks_do_not(ws: Workspace) -> None:
    record(ws, "1" * 64, period="2026-09")
    record(ws, "2" * 64, period="2026-10")
    with duckdb.connect(str(ws.catalogue_path)) as con:  # what retention will do
        con.execute("UPDATE submissions SET status = 'deleted' WHERE period = '2026-10'")
    assert catalogue.current_submissions(ws)["period"].to_list() == ["2026-09"]
    assert catalogue.latest_period(ws, "northmoor", "payroll") == "2026-10"


def test_set_sealed_path(ws: Workspace) -> None:
    record(ws, "a" * 64)
    catalogue.set_sealed_path(ws, "northmoor", "payroll", "a" * 64, "/elsewhere.sealed")
    row = catalogue.submission(ws, "a" * 64, partner="northmoor", dataset="payroll")
    assert row is not None and row["sealed_path"] == "/elsewhere.sealed"
    assert catalogue.submission(ws, "a" * 64, partner="eastvale", dataset="payroll") is None


def test_empty_listings_still_have_their_columns(ws: Workspace) -> None:
    assert catalogue.current_submissions(ws).columns[:4] == [
        "sha256",
        "partner",
        "dataset",
        "period",
    ]
    assert catalogue.quarantined(ws).columns == [
        "path",
        "inbox_name",
        "partner",
        "reason",
        "at",
        "sender",
        "dataset",
        "period",
    ]
    assert catalogue.runs(ws).height == 0
    assert catalogue.run_steps(ws, "r").columns == ["run_id", "step", "key", "status", "path", "at"]
    assert catalogue.run_rules(ws, "r").columns == ["run_id", "rule", "matches", "cases", "path"]


def test_record_quarantine_updates_on_retry(ws: Workspace) -> None:
    args = {"inbox_name": "x.sealed", "partner": "northmoor", "path": "/q/northmoor__x.sealed"}
    catalogue.record_quarantine(ws, reason="first", **args)
    catalogue.record_quarantine(ws, reason="second", sender="northmoor", **args)
    frame = catalogue.quarantined(ws)
    assert frame.select("reason", "sender").rows() == [("second", "northmoor")]


# --------------------------------------------------------------------------- runs


def test_a_run_resumes_under_its_id(ws: Workspace) -> None:
    cycle = date(2026, 11, 1)
    assert catalogue.start_run(ws, "run-20261101", cycle) == 1
    catalogue.mark_step(ws, "run-20261101", "match", "payroll_to_payroll", "done", "/m.parquet")
    assert catalogue.step_done(ws, "run-20261101", "match", "payroll_to_payroll")
    assert not catalogue.step_done(ws, "run-20261101", "match", "payroll_to_creditors")
    assert not catalogue.step_done(ws, "run-20261101", "distribute", "northmoor")
    # the cycle died; run again
    assert catalogue.start_run(ws, "run-20261101", cycle) == 2
    assert catalogue.step_done(ws, "run-20261101", "match", "payroll_to_payroll")
    catalogue.mark_step(ws, "run-20261101", "match", "payroll_to_payroll", "done", "/m2.parquet")
    steps = catalogue.run_steps(ws, "run-20261101")
    assert steps.select("step", "key", "path").rows() == [
        ("match", "payroll_to_payroll", "/m2.parquet")
    ]
    info = catalogue.run_info(ws, "run-20261101")
    assert info is not None
    assert (info["status"], info["attempts"], info["cycle_date"]) == ("running", 2, cycle)


def test_a_run_id_belongs_to_one_cycle_date(ws: Workspace) -> None:
    catalogue.start_run(ws, "r1", date(2026, 11, 1))
    with pytest.raises(catalogue.CatalogueError, match="is for cycle date 2026-11-01"):
        catalogue.start_run(ws, "r1", date(2026, 12, 1))


def test_a_failed_step_is_not_done(ws: Workspace) -> None:
    catalogue.mark_step(ws, "r1", "distribute", "eastvale", "failed")
    assert not catalogue.step_done(ws, "r1", "distribute", "eastvale")


def test_rules_and_summary_of_a_run(ws: Workspace) -> None:
    catalogue.start_run(ws, "r1", date(2026, 11, 1))
    catalogue.record_rule(ws, "r1", "payroll_to_payroll", 3, 2, "/m.parquet")
    catalogue.record_rule(ws, "r1", "payroll_to_payroll", 4, 2, "/m.parquet")  # re-run
    catalogue.record_rule(ws, "r1", "blue_badge_to_deceased", 0, 0, None)
    rules = catalogue.run_rules(ws, "r1")
    assert rules.select("rule", "matches", "cases").rows() == [
        ("blue_badge_to_deceased", 0, 0),
        ("payroll_to_payroll", 4, 2),
    ]
    summary = {"run_id": "r1", "cycle_date": date(2026, 11, 1), "rules": [{"matches": 4}]}
    catalogue.finish_run(ws, "r1", summary)
    info = catalogue.run_info(ws, "r1")
    assert info is not None
    assert info["status"] == "finished" and info["finished_at"] is not None
    assert info["summary"] == json.loads(json.dumps(summary, default=str))
    assert catalogue.runs(ws)["run_id"].to_list() == ["r1"]
    assert catalogue.run_info(ws, "nope") is None


# --------------------------------------------------------------------------- sessions


def _other_process_can_open(path: Path) -> bool:
    code = f"import duckdb; duckdb.connect({str(path)!r}).execute('SELECT 1').fetchall()"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60)
    return done.returncode == 0


def test_a_session_holds_the_catalogue_only_while_it_lasts(ws: Workspace) -> None:
    with catalogue.session(ws):
        with catalogue.session(ws):  # nested: the same open database
            record(ws, "a" * 64)
        assert catalogue.known_sha(ws, "a" * 64)
        assert not _other_process_can_open(ws.catalogue_path)
    assert catalogue_db._sessions == {}
    assert _other_process_can_open(ws.catalogue_path)
    assert catalogue.submissions(ws).height == 1


def test_a_write_that_fails_inside_a_session_is_rolled_back(ws: Workspace) -> None:
    with catalogue.session(ws):
        with pytest.raises(duckdb.Error):
            record(ws, "a" * 64, rows=None)  # NOT NULL
        assert record(ws, "a" * 64) is True
    assert catalogue.submissions(ws)["rows"].to_list() == [10]

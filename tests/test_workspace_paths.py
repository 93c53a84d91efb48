"""A workspace works from any current directory: the catalogue records paths relative to
the workspace root, and old catalogues (paths relative to the first cycle's directory)
are rewritten when the workspace is opened."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import duckdb
import pytest

from fraudmatch.council.prepare import prepare_extract
from fraudmatch.hub import catalogue
from fraudmatch.hub.collect import collect, load_current
from fraudmatch.hub.runs import match_rule
from fraudmatch.hub.workspace import open_workspace
from fraudmatch.matching.rules import load_rules
from fraudmatch.sealing.keys import load_partnership_key
from fraudmatch.shipped import shipped_rules_dir
from fraudmatch.spec.partnership import load_partnership
from fraudmatch.synth.demo import make_parties

RULES = shipped_rules_dir()


def _raw(ws_root: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(ws_root / "catalogue.duckdb")) as con:
        return con.execute(sql).fetchall()


def _deliver_payroll(tmp_path: Path, partner: str, parties, inbox: Path) -> None:
    extract = tmp_path / f"{partner}-payroll.csv"
    extract.write_text(
        "record_id,surname,forenames,date_of_birth,ni_number\n"
        "E1,Okafor,Chidi,1981-05-05,AB123456C\nE2,Lindqvist,Astrid,1990-12-24,\n"
    )
    staged = prepare_extract(
        extract,
        dataset="payroll",
        period="2026-11",
        partner=parties.partner_keys(partner),
        partnership=load_partnership(parties.partnership_path),
        linkage_key=load_partnership_key(parties.linkage_key_path),
        out_dir=tmp_path / "staged" / partner,
    )
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / staged.sealed_path.name).write_bytes(staged.sealed_path.read_bytes())


def test_a_workspace_made_from_one_directory_runs_from_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parties = make_parties(tmp_path / "parties", ["northmoor", "eastvale"], ["payroll"])
    partnership = load_partnership(parties.partnership_path)
    first = tmp_path / "operator"
    first.mkdir()
    monkeypatch.chdir(first)
    ws = open_workspace(Path("hub"), partnership)  # relative, as `--workspace hub`
    for partner in ("northmoor", "eastvale"):
        _deliver_payroll(tmp_path, partner, parties, ws.inbox(partner))
    result = collect(ws, partnership, parties.hub_keys())
    assert [f.outcome for f in result.files] == ["stored", "stored"]
    recorded = _raw(first / "hub", "SELECT stored_path, sealed_path FROM submissions")
    assert all(p.startswith("store/") and s.startswith("store/") for p, s in recorded)

    monkeypatch.chdir(tmp_path / "parties")  # a worker, or the next operator shell
    elsewhere = open_workspace(first / "hub", partnership)
    frames = load_current(elsewhere)
    assert frames["payroll"].collect().height == 4
    rows = catalogue.current_submissions(elsewhere)
    assert all(Path(p).is_file() and Path(p).is_absolute() for p in rows["stored_path"])
    rules = {r.name: r for r in load_rules(RULES)}
    outcome = match_rule(
        elsewhere,
        "run-20261101",
        rules["payroll_to_payroll"],
        frames,
        cycle_date=date(2026, 11, 1),
        rules_by_name=rules,
    )
    assert outcome.status == "matched"
    (step_path,) = _raw(first / "hub", "SELECT path FROM run_steps")[0]
    assert step_path == "runs/run-20261101/matches/payroll_to_payroll.parquet"
    assert Path(catalogue.run_steps(elsewhere, "run-20261101")["path"][0]).is_file()


def test_old_style_paths_are_migrated_when_the_workspace_is_opened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parties = make_parties(tmp_path / "parties", ["northmoor"], ["payroll"])
    partnership = load_partnership(parties.partnership_path)
    monkeypatch.chdir(tmp_path)
    ws = open_workspace(Path("hub"), partnership)
    _deliver_payroll(tmp_path, "northmoor", parties, ws.inbox("northmoor"))
    collect(ws, partnership, parties.hub_keys())
    catalogue.mark_step(ws, "run-20261101", "match", "r", "done", "runs/run-20261101/m.parquet")
    # what the previous release wrote: paths relative to the cycle's own directory, and
    # absolute ones from an operator who gave an absolute --workspace
    (stored,) = _raw(tmp_path / "hub", "SELECT stored_path FROM submissions")[0]
    old = f"hub/{stored}"
    absolute = str(tmp_path / "hub" / "runs" / "run-20261101" / "m.parquet")
    with duckdb.connect(str(tmp_path / "hub" / "catalogue.duckdb")) as con:
        con.execute("UPDATE submissions SET stored_path = ?", [old])
        con.execute("UPDATE run_steps SET path = ?", [absolute])

    os.chdir(tmp_path / "parties")
    moved = open_workspace(tmp_path / "hub", partnership)
    assert _raw(tmp_path / "hub", "SELECT stored_path FROM submissions") == [(stored,)]
    assert _raw(tmp_path / "hub", "SELECT path FROM run_steps") == [
        ("runs/run-20261101/m.parquet",)
    ]
    assert load_current(moved)["payroll"].collect().height == 2
    assert catalogue.relativise_paths(moved) == 0  # idempotent


def test_a_path_outside_the_workspace_is_kept_as_given(tmp_path: Path) -> None:
    parties = make_parties(tmp_path / "parties", ["northmoor"], ["payroll"])
    ws = open_workspace(tmp_path / "hub", load_partnership(parties.partnership_path))
    outside = str(tmp_path / "elsewhere" / "store" / "m.parquet")
    catalogue.mark_step(ws, "run-1", "match", "r", "done", outside)
    catalogue.ensure_schema(ws)
    assert catalogue.run_steps(ws, "run-1")["path"].to_list() == [outside]

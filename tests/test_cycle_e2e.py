"""The whole cycle through the CLI: councils prepare, the hub cycles, councils open.

Real keys, real sealed files, real Prefect (a temporary server from the test harness).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from cli_steps import RULES, cycle, deliver, open_bundle_rows, prepare

from fraudmatch.cli import main
from fraudmatch.hub import catalogue
from fraudmatch.hub.collect import collect, load_current
from fraudmatch.hub.runs import match_rule, reportable, run_id_for
from fraudmatch.hub.workspace import open_workspace
from fraudmatch.matching.rules import load_rules
from fraudmatch.spec.partnership import load_partnership
from fraudmatch.spec.specs import load_spec
from fraudmatch.synth import generate
from fraudmatch.synth.demo import make_parties

CYCLE = date(2026, 11, 1)


@pytest.fixture(scope="module")
def harness(prefect_harness):
    return prefect_harness


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):
    """Three councils that have prepared and delivered all their extracts."""
    root = tmp_path_factory.mktemp("cycle")
    synth = generate(root / "councils", partners=3, people=3_000, seed=3, cycle_date=CYCLE)
    parties = make_parties(root, synth.partners, list(load_spec().datasets))
    inbox = root / "prepared"
    for partner in synth.partners:
        prepare(
            parties, partner, root / "councils" / partner, inbox / partner, "2026-11",
            parties.linkage_key_path,
        )  # fmt: skip
    return root, synth, parties, inbox


@pytest.fixture(scope="module")
def full_cycle(world, harness) -> Path:
    """The uninterrupted cycle of every partner's delivery: one run serves the whole-cycle
    test and is the clean reference of the killed-and-resumed one (both only read it)."""
    root, synth, parties, inbox = world
    workspace = root / "ws-full"
    deliver(inbox, workspace, synth.partners)
    assert cycle_cli(root, parties, workspace) == 0
    return workspace


def cycle_cli(root: Path, parties, workspace: Path) -> int:
    return cycle(parties, workspace, CYCLE)


def bundle_rows(workspace: Path, parties, partner: str) -> pl.DataFrame:
    (bundle,) = sorted((workspace / "outbox" / partner).glob("*.bundle"))
    return open_bundle_rows(parties, partner, bundle)


def run_summary(workspace: Path) -> dict:
    return json.loads((workspace / "runs" / run_id_for(CYCLE) / "summary.json").read_text())


# No capsys here: Prefect's console log handler keeps the stream it first saw, and a
# per-test capture closes it. The run's summary.json holds what the CLI printed.
def test_whole_cycle_through_the_cli(world, full_cycle) -> None:
    root, synth, parties, inbox = world
    workspace = full_cycle
    summary = run_summary(workspace)
    assert summary["collected"]["counts"]["stored"] == 3 * len(load_spec().datasets)
    assert {r["rule"] for r in summary["rules"]} == {r.name for r in reportable(load_rules(RULES))}
    report = workspace / "runs" / run_id_for(CYCLE) / "report.html"
    assert report.exists() and "A match is a lead, not a finding" in report.read_text()

    truth = pl.read_csv(synth.truth["cases"], infer_schema=False).filter(pl.col("kind") == "case")
    found_total = 0
    for partner in synth.partners:
        rows = bundle_rows(workspace, parties, partner)
        # no partner's bundle holds another partner's records
        assert rows.filter(pl.col("partner") != partner).height == 0
        mine = truth.filter(pl.col("left_partner") == partner)
        keys = set(rows.select("rule", "record_id", "other_partner", "other_record_id").rows())
        found = sum(
            (r["rule"], r["left_record_id"], r["right_partner"], r["right_record_id"]) in keys
            for r in mine.iter_rows(named=True)
        )
        found_total += found
        # and the investigator can open it through the CLI
        code = main(
            [
                "open",
                *map(str, (workspace / "outbox" / partner).glob("*.bundle")),
                "--partnership",
                str(parties.partnership_path),
                "--key",
                str(parties.partner_key_paths[partner]),
                "--extracts",
                str(root / "councils" / partner),
                "--out",
                str(root / "cases" / partner),
            ]
        )
        assert code == 0
        assert list((root / "cases" / partner).glob("*.cases.xlsx"))
    # rule accuracy is asserted per rule in test_shipped_rules; here: the cases reach partners
    assert found_total >= 0.95 * truth.height, (found_total, truth.height)


def test_missing_partner_is_reported_and_cycle_runs(world, harness) -> None:
    root, synth, parties, inbox = world
    workspace = root / "ws-missing"
    deliver(inbox, workspace, synth.partners[:-1])
    assert cycle_cli(root, parties, workspace) == 0
    missing = run_summary(workspace)["collected"]["missing"]
    assert {m["partner"] for m in missing} == {synth.partners[-1]}
    assert len(missing) == len(load_spec().datasets)
    report = (workspace / "runs" / run_id_for(CYCLE) / "report.html").read_text()
    assert synth.partners[-1] in report
    absent = bundle_rows(workspace, parties, synth.partners[-1])
    assert absent.height == 0  # an empty bundle, not silence


def test_cycle_killed_between_match_and_distribute_resumes(world, harness, full_cycle) -> None:
    root, synth, parties, inbox = world
    partnership = load_partnership(parties.partnership_path)
    clean = full_cycle  # a clean run for reference

    # the same cycle dies after matching, before distributing
    crashed = root / "ws-crash"
    deliver(inbox, crashed, synth.partners)
    ws = open_workspace(crashed, partnership)
    run_id = run_id_for(CYCLE)
    catalogue.start_run(ws, run_id, CYCLE)
    collect(ws, partnership, parties.hub_keys())
    rules = load_rules(RULES)
    by_name = {r.name: r for r in rules}
    frames = load_current(ws)
    for rule in reportable(rules):
        match_rule(ws, run_id, rule, frames, cycle_date=CYCLE, rules_by_name=by_name)
    matched = {p.name: p.stat().st_mtime_ns for p in (ws.run_dir(run_id) / "matches").iterdir()}
    assert not any((crashed / "outbox").rglob("*.bundle"))

    assert cycle_cli(root, parties, crashed) == 0
    # matches were reused, not recomputed or duplicated
    after = {p.name: p.stat().st_mtime_ns for p in (ws.run_dir(run_id) / "matches").iterdir()}
    assert after == matched
    steps = catalogue.run_steps(ws, run_id)
    assert steps.filter(pl.col("step") == "match").height == len(reportable(rules))
    # same bundles as the clean run: one per partner, same rows
    for partner in synth.partners:
        assert len(list((crashed / "outbox" / partner).glob("*.bundle"))) == 1
        got = bundle_rows(crashed, parties, partner).drop("evidence")
        want = bundle_rows(clean, parties, partner).drop("evidence")
        assert got.sort(got.columns).equals(want.sort(want.columns))

    # and a third run changes nothing
    assert cycle_cli(root, parties, crashed) == 0
    for partner in synth.partners:
        assert len(list((crashed / "outbox" / partner).glob("*.bundle"))) == 1

"""A real hub workspace with a finished run, shared by the review, export and browser tests.

Three synthetic councils (3,000 people) are prepared and sealed, collected and matched
under the shipped rules once per test session (across xdist workers, under a file lock);
every test module then works on its own copy, so outcomes recorded in one never show in
another. No tests here.
"""

from __future__ import annotations

import fcntl
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from fraudmatch.shipped import shipped_rules_dir

CYCLE = date(2026, 11, 1)
RULES = shipped_rules_dir()
RUN_ID = "run-20261101"


@dataclass(frozen=True)
class World:
    root: Path
    workspace: Path
    run_id: str
    rules: Path
    linkage_key: Path
    private_keys: list[Path]
    partners: list[str]


def _build(target: Path) -> None:
    from fraudmatch.council.prepare import prepare_extract
    from fraudmatch.hub import catalogue
    from fraudmatch.hub.collect import collect, load_current
    from fraudmatch.hub.runs import (
        build_case_rows,
        match_rule,
        reportable,
        run_id_for,
        summary_document,
        write_summary,
    )
    from fraudmatch.hub.workspace import open_workspace
    from fraudmatch.matching.rules import load_rules
    from fraudmatch.sealing.keys import load_partnership_key
    from fraudmatch.spec.partnership import load_partnership
    from fraudmatch.spec.specs import load_spec
    from fraudmatch.synth import generate
    from fraudmatch.synth.demo import make_parties

    synth = generate(target / "councils", partners=3, people=3_000, seed=3, cycle_date=CYCLE)
    parties = make_parties(target, synth.partners, list(load_spec().datasets))
    partnership = load_partnership(parties.partnership_path)
    linkage = load_partnership_key(parties.linkage_key_path)
    ws = open_workspace(target / "workspace", partnership)
    for partner in synth.partners:
        keys = parties.partner_keys(partner)
        for extract in sorted((target / "councils" / partner).iterdir()):
            if not extract.is_file() or extract.name.endswith(".rejects.csv"):
                continue
            prepare_extract(
                extract,
                dataset=extract.stem,
                period="2026-11",
                partner=keys,
                partnership=partnership,
                linkage_key=linkage,
                out_dir=ws.inbox(partner),
                rejects_path=target / "rejects" / partner / f"{extract.stem}.csv",
            )
    run_id = run_id_for(CYCLE)
    assert run_id == RUN_ID
    catalogue.start_run(ws, run_id, CYCLE)
    collect(ws, partnership, parties.hub_keys())
    rules = load_rules(RULES)
    by_name = {r.name: r for r in rules}
    frames = load_current(ws)
    done = [
        match_rule(ws, run_id, r, frames, cycle_date=CYCLE, rules_by_name=by_name)
        for r in reportable(rules)
    ]
    build_case_rows(ws, run_id, rules)
    summary = summary_document(run_id, CYCLE, {}, done, [])
    write_summary(ws, run_id, summary)
    catalogue.finish_run(ws, run_id, summary)
    (target / "partners.txt").write_text("\n".join(synth.partners))
    (target / "DONE").write_text("ok")


def review_world(tmp_path_factory: pytest.TempPathFactory, name: str) -> World:
    """A private copy of the shared built workspace for one test module."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if base.name.startswith("popen-gw") else base
    built = shared / "review-world"
    with open(shared / "review-world.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (built / "DONE").exists():
            shutil.rmtree(built, ignore_errors=True)
            _build(built)
    mine = tmp_path_factory.mktemp(name)
    shutil.copytree(built / "workspace", mine / "workspace", symlinks=True)
    return World(
        root=built,
        workspace=mine / "workspace",
        run_id=RUN_ID,
        rules=RULES,
        linkage_key=built / "keys" / "partners-only" / "partnership.key",
        private_keys=sorted((built / "keys").glob("*/*.private")),
        partners=(built / "partners.txt").read_text().split("\n"),
    )

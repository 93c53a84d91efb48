"""Late data: a partner's submission arrives after the cycle ran; the cycle is run again
for the same cycle date.

The rules that read the late dataset are matched again, the others reused; the late
partner gets its cases in version 2 of its bundle, partners whose cases did not change
are sent nothing new, and ``open`` keeps the newest version whatever the order.
Real keys, sealed files, the ``fraudmatch`` CLI and Prefect's test server.
"""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import polars as pl
import pytest
import yaml
from cli_steps import deliver, open_bundle_rows

from fraudmatch.cli import main
from fraudmatch.hub import catalogue
from fraudmatch.hub.runs import run_id_for
from fraudmatch.hub.workspace import Workspace
from fraudmatch.sealing.header import read_header
from fraudmatch.shipped import shipped_rules_dir
from fraudmatch.synth import generate
from fraudmatch.synth.demo import make_parties

CYCLE = date(2026, 11, 1)
RUN = run_id_for(CYCLE)
DATASETS = ["payroll", "housing_benefit", "blue_badge", "deceased"]
AFFECTED = {"payroll_to_payroll", "payroll_to_housing_benefit"}  # they read payroll
UNAFFECTED = "blue_badge_to_deceased"


@pytest.fixture(scope="module")
def harness(prefect_harness):
    return prefect_harness


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("late")
    synth = generate(root / "councils", partners=3, people=1_500, seed=11, cycle_date=CYCLE)
    *early, late = synth.partners
    parties = make_parties(root, synth.partners, DATASETS)
    doc = yaml.safe_load(parties.partnership_path.read_text())
    for partner in doc["partners"]:  # the late council sends its payroll only
        if partner["name"] == late:
            partner["datasets"] = ["payroll"]
    parties.partnership_path.write_text(yaml.safe_dump(doc, sort_keys=False, width=1000))
    rules = root / "rules"
    rules.mkdir()
    for name in [*AFFECTED, UNAFFECTED]:
        shutil.copy(shipped_rules_dir() / f"{name}.yaml", rules / f"{name}.yaml")
    prepared = root / "prepared"
    for partner in synth.partners:
        sends = ["payroll"] if partner == late else DATASETS
        extracts = [
            p for p in (root / "councils" / partner).iterdir() if p.stem in sends and p.is_file()
        ]
        code = main(
            ["prepare", *map(str, sorted(extracts)), "--period", "2026-11",
             "--partnership", str(parties.partnership_path),
             "--key", str(parties.partner_key_paths[partner]),
             "--linkage-key", str(parties.linkage_key_path), "--out", str(prepared / partner)]
        )  # fmt: skip
        assert code == 0
    return root, synth, parties, rules, prepared, early, late


def _cycle(parties, workspace: Path, rules: Path) -> dict:
    code = main(
        ["cycle", "--workspace", str(workspace), "--partnership", str(parties.partnership_path),
         "--hub-key", str(parties.hub_key_path), "--rules", str(rules),
         "--cycle-date", CYCLE.isoformat()]
    )  # fmt: skip
    assert code == 0
    return json.loads((workspace / "runs" / RUN / "summary.json").read_text())


def _open(parties, partner: str, root: Path, bundles: list[Path], out: Path) -> None:
    code = main(
        ["open", *map(str, bundles), "--partnership", str(parties.partnership_path),
         "--key", str(parties.partner_key_paths[partner]),
         "--extracts", str(root / "councils" / partner), "--out", str(out)]
    )  # fmt: skip
    assert code == 0


def test_a_late_submission_is_matched_and_redistributed(world, harness) -> None:
    root, synth, parties, rules, prepared, early, late = world
    hub = root / "hub"
    ws = Workspace(hub)

    # first attempt: the late council has sent nothing
    deliver(prepared, hub, early)
    first = _cycle(parties, hub, rules)
    assert {m["partner"] for m in first["collected"]["missing"]} == {late}
    assert {r["rule"]: r["status"] for r in first["rules"]} == dict.fromkeys(
        [*AFFECTED, UNAFFECTED], "matched"
    )
    v1 = hub / "outbox" / late / f"{late}__2026-11__{RUN}__v1.bundle"
    assert open_bundle_rows(parties, late, v1).height == 0  # an empty bundle, not silence
    unaffected_file = hub / "runs" / RUN / "matches" / f"{UNAFFECTED}.parquet"
    unaffected_mtime = unaffected_file.stat().st_mtime_ns
    before = {b["partner"]: b for b in first["bundles"]}

    # the late payroll arrives; the cycle runs again for the same date
    deliver(prepared, hub, [late])
    second = _cycle(parties, hub, rules)
    assert second["collected"]["missing"] == []
    status = {r["rule"]: r for r in second["rules"]}
    assert status[UNAFFECTED]["status"] == "reused"
    assert unaffected_file.stat().st_mtime_ns == unaffected_mtime
    for rule in AFFECTED:
        assert status[rule]["status"] == "rematched", status[rule]
        assert f"new {late}/payroll" in status[rule]["reason"]
    # the catalogue knows which submissions each rule used
    (late_payroll,) = (
        catalogue.current_submissions(ws)
        .filter(pl.col("partner") == late)
        .select("partner", "dataset", "sha256")
        .rows()
    )
    for rule in AFFECTED:
        assert late_payroll in catalogue.rule_run(ws, RUN, rule).inputs
    assert not any(p == late for p, _, _ in catalogue.rule_run(ws, RUN, UNAFFECTED).inputs)

    # the late council's cases reach it, in version 2 of its bundle
    bundles = {b["partner"]: b for b in second["bundles"]}
    assert (bundles[late]["status"], bundles[late]["version"]) == ("written", 2)
    v2 = Path(bundles[late]["path"])
    assert v2.name == f"{late}__2026-11__{RUN}__v2.bundle" and v1.exists()
    assert read_header(v2).bundle_version == 2 and read_header(v1).bundle_version == 1
    rows = open_bundle_rows(parties, late, v2)
    assert rows.height > 0
    # every partner's newest bundle holds what it would have held had nobody been late
    on_time = root / "hub-on-time"
    deliver(prepared, on_time, synth.partners)
    reference = {b["partner"]: Path(b["path"]) for b in _cycle(parties, on_time, rules)["bundles"]}
    for partner in synth.partners:
        got = open_bundle_rows(parties, partner, Path(bundles[partner]["path"])).drop("evidence")
        want = open_bundle_rows(parties, partner, reference[partner]).drop("evidence")
        assert got.sort(got.columns).equals(want.sort(want.columns)), partner
    # a partner gets a new version exactly when its case rows changed
    for partner in early:
        b = bundles[partner]
        assert (b["status"], b["version"]) in {("written", 2), ("reused", 1)}, b
        if b["status"] == "reused":
            assert b["rows"] == before[partner]["rows"]
    assert bundles[early[0]]["status"] == "written"  # early councils share cases with it
    versions = catalogue.bundle_versions(ws, RUN)
    assert versions.filter(pl.col("partner") == late)["version"].to_list() == [1, 2]

    # opened in any order, the case list is the newest version's
    out = root / "cases" / late
    _open(parties, late, root, [v1], out)
    _open(parties, late, root, [v2, v1], out)
    (csv,) = out.glob("*.cases.csv")
    assert csv.name == f"{late}__2026-11__{RUN}.cases.csv"
    assert pl.read_csv(csv).height == rows.height > 0
    assert (
        json.loads((out / f"{late}__2026-11__{RUN}.bundle.json").read_text())["bundle_version"] == 2
    )

    # an investigator's outcomes on the older case list survive the newer version
    partner = early[0]
    older, newer = sorted((hub / "outbox" / partner).glob("*.bundle"))
    key = ["rule", "record_id", "other_record_id"]
    both = (
        open_bundle_rows(parties, partner, older)
        .select(key)
        .join(open_bundle_rows(parties, partner, newer).select(key), on=key)
    )
    assert both.height, "no case row in both versions to carry an outcome over"
    out = root / "cases" / partner
    _open(parties, partner, root, [older], out)
    (csv,) = out.glob("*.cases.csv")
    filled = pl.read_csv(csv, infer_schema=False).with_columns(
        pl.when(pl.all_horizontal(pl.col(k) == v for k, v in zip(key, both.row(0), strict=True)))
        .then(pl.lit("fraud"))
        .otherwise(pl.col("outcome"))
        .alias("outcome")
    )
    filled.write_csv(csv)
    _open(parties, partner, root, [newer], out)
    now = pl.read_csv(csv, infer_schema=False)
    assert now.filter(pl.col("outcome") == "fraud").select(key).rows() == [both.row(0)]
    assert (out / f"{csv.name.removesuffix('.cases.csv')}.v1.superseded.csv").exists()

    # nothing new: a third run reuses every rule and sends no new version
    third = _cycle(parties, hub, rules)
    assert {r["status"] for r in third["rules"]} == {"reused"}
    assert {b["status"] for b in third["bundles"]} == {"reused"}
    assert not list((hub / "outbox").rglob("*__v3.bundle"))

"""A cycle killed with SIGKILL at each point and run again: no temporary file anywhere in the
workspace, and the same matches, cases and bundles as a cycle never interrupted.

The cycle runs as a real `fraudmatch cycle` subprocess against the test harness's Prefect
server and kills itself at a named point (``FRAUDMATCH_CRASH_AT``, a real SIGKILL: no
``finally``, no cleanup). Sealed files are randomised, so outputs are compared by record ids.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from cli_steps import deliver, prepare

from fraudmatch.common.fsutil import CRASH_ENV, is_temporary
from fraudmatch.hub.runs import run_id_for
from fraudmatch.sealing.bundles import read_bundle
from fraudmatch.shipped import shipped_rules_dir
from fraudmatch.spec.partnership import load_partnership
from fraudmatch.synth import generate
from fraudmatch.synth.demo import make_parties

CYCLE = date(2026, 11, 1)
REPO = Path(__file__).resolve().parents[1]
RULES = ("payroll_to_payroll", "payroll_to_housing_benefit")
DATASETS = ("payroll", "housing_benefit")
# collect, match, distribute, after distribute, during retention
POINTS = ("collect", "match", "sealing-bundle", "after-distribute", "retention")


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory, prefect_harness):
    """Two councils' payroll and housing benefit, prepared once; two rules; the uninterrupted
    run's outputs to compare with."""
    from prefect.settings import PREFECT_API_URL

    root = tmp_path_factory.mktemp("kill")
    synth = generate(root / "councils", partners=2, people=500, seed=7, cycle_date=CYCLE)
    parties = make_parties(root, synth.partners, list(DATASETS))
    rules = root / "rules"
    rules.mkdir()
    for name in RULES:
        shutil.copy(shipped_rules_dir() / f"{name}.yaml", rules / f"{name}.yaml")
    inbox = root / "prepared"
    for partner in synth.partners:
        folder = root / "extracts" / partner
        folder.mkdir(parents=True)
        for dataset in DATASETS:
            [extract] = (root / "councils" / partner).glob(f"{dataset}.*")
            shutil.copy(extract, folder / extract.name)
        prepare(parties, partner, folder, inbox / partner, "2026-11", parties.linkage_key_path)
    env = {
        **os.environ,
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    env.pop(CRASH_ENV, None)
    world = (root, synth.partners, parties, rules, inbox, env)
    baseline = root / "ws-baseline"
    deliver(inbox, baseline, synth.partners)
    assert _cycle(world, baseline).returncode == 0
    return world, _outputs(world, baseline)


def _cycle(world, workspace: Path, crash_at: str | None = None) -> subprocess.CompletedProcess:
    root, _, parties, rules, _, env = world
    argv = [
        sys.executable, "-c", "import sys; from fraudmatch.cli import main; sys.exit(main())",
        "cycle", "--workspace", str(workspace),
        "--partnership", str(parties.partnership_path), "--hub-key", str(parties.hub_key_path),
        "--rules", str(rules), "--cycle-date", CYCLE.isoformat(),
    ]  # fmt: skip
    env = {**env, CRASH_ENV: crash_at} if crash_at else env
    return subprocess.run(argv, env=env, cwd=root, capture_output=True, text=True, check=False)


def _outputs(world, workspace: Path) -> dict[str, object]:
    """What a run produced, by record ids: matches per rule, case rows, each bundle's rows."""
    _, partners, parties, _, _, _ = world
    run = workspace / "runs" / run_id_for(CYCLE)
    ids = ["rule", "left_partner", "left_record_id", "right_partner", "right_record_id"]
    matches = {
        p.stem: sorted(pl.read_parquet(p).select(ids).rows())
        for p in sorted((run / "matches").glob("*.parquet"))
    }
    case_ids = ["rule", "partner", "record_id", "other_partner", "other_record_id"]
    cases = sorted(pl.read_parquet(run / "case_rows.parquet").select(case_ids).rows())
    hub = load_partnership(parties.partnership_path).hub.keys
    bundles = {}
    for partner in partners:
        [bundle] = sorted((workspace / "outbox" / partner).glob("*.bundle"))
        _, rows = read_bundle(bundle, partner=parties.partner_keys(partner), senders={"hub": hub})
        bundles[bundle.name] = sorted(rows.select(case_ids).rows())
    stored = sorted(p.name for p in (workspace / "store").rglob("*.parquet"))
    return {"matches": matches, "cases": cases, "bundles": bundles, "stored": stored}


@pytest.mark.parametrize("point", POINTS)
def test_a_cycle_killed_at_each_point_reruns_to_the_same_outputs_and_no_debris(
    prepared, tmp_path: Path, point: str
) -> None:
    world, expected = prepared
    _, partners, _, _, inbox, _ = world
    workspace = tmp_path / "ws"
    deliver(inbox, workspace, partners)

    killed = _cycle(world, workspace, crash_at=point)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]

    again = _cycle(world, workspace)
    assert again.returncode == 0, again.stderr[-2000:]
    debris = [p for p in workspace.rglob("*") if is_temporary(p) or ".tmp" in p.name]
    assert debris == []
    assert _outputs(world, workspace) == expected
    assert expected["cases"] and expected["bundles"]  # the comparison is not of nothing

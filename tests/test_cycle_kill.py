"""A cycle killed with SIGKILL at each point and run again leaves the workspace as a cycle
never interrupted leaves it: the same files, byte for byte, and no temporary file anywhere.

Each kill is real and deterministic: `fraudmatch cycle` runs as a subprocess and kills
itself at a named point (``FRAUDMATCH_CRASH_AT``, read by
:func:`fraudmatch.common.fsutil.crash_point`): no ``finally``, no cleanup, no sleeping and
guessing. "Byte for byte" compares every file as it is, except what differs between any two
runs: a sealed bundle is compared by its verified plaintext (sealing draws a fresh content
key), the catalogue by its rows without clock times, a rule's model without its timings,
and the workspace's own path is written as ``<workspace>``.

To stay fast: two councils, the smallest population the generator makes, two datasets
and three rules that each match, prepared once; each point gets a copy of one delivered
workspace; the killed cycles run two at a time while the uninterrupted one runs in the
test process, and the re-runs run in the test process too.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest
from cli_steps import deliver, prepare

from fraudmatch.cli import main
from fraudmatch.common.fsutil import CRASH_ENV, is_temporary
from fraudmatch.hub.runs import run_id_for
from fraudmatch.sealing.bundles import read_bundle
from fraudmatch.sealing.keys import load_private
from fraudmatch.shipped import shipped_rules_dir
from fraudmatch.spec.partnership import load_partnership
from fraudmatch.synth import generate
from fraudmatch.synth.demo import DemoParties, make_parties

CYCLE = date(2026, 11, 1)
REPO = Path(__file__).resolve().parents[1]
DATASETS = ("payroll", "housing_benefit")
RULES = ("payroll_to_payroll", "payroll_to_housing_benefit", "housing_benefit_to_housing_benefit")
# collect, match, distribute (sealing a bundle), after distribute, during retention
POINTS = ("collect", "match", "sealing-bundle", "after-distribute", "retention")
INSIDE_A_WRITE = {"collect": "store", "match": "runs", "sealing-bundle": "outbox"}
# an outbox file of no run, from long ago: the retention of this cycle deletes it
STALE = "outbox/northmoor/northmoor__2025-06__run-20250601__v1.bundle"
_OURS = re.compile(r"\..+\.[0-9a-f]{12}\.tmp")  # .<target name>.<12 hex>.tmp, nothing after
_CLOCK_COLUMNS = {"received_at", "at", "started_at", "finished_at", "attempts", "applied_at"}
# a rule or bundle an earlier, killed attempt of the run finished is "reused" by the re-run,
# where the uninterrupted run says "matched" or "written": both read "done"
_DONE = re.compile(rb"(<td>|\"status\": \")(?:matched|written)(?=[<\"])")
_REUSED = re.compile(rb"(<td>|\"status\": \")reused")


@dataclass(frozen=True)
class World:
    root: Path
    partners: tuple[str, ...]
    parties: DemoParties
    rules: Path
    delivered: Path  # a workspace with every submission in its inbox, never cycled
    env: dict[str, str]

    def workspace(self, name: str) -> Path:
        """A fresh copy of the delivered workspace."""
        target = self.root / f"ws-{name}"
        shutil.copytree(self.delivered, target)
        return target

    def argv(self, workspace: Path) -> list[str]:
        return [
            "cycle", "--workspace", str(workspace),
            "--partnership", str(self.parties.partnership_path),
            "--hub-key", str(self.parties.hub_key_path),
            "--rules", str(self.rules), "--cycle-date", CYCLE.isoformat(),
        ]  # fmt: skip


@dataclass(frozen=True)
class Killed:
    workspace: Path
    returncode: int
    stderr: str
    debris: list[Path]  # temporary files the kill left


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, prefect_harness) -> World:
    from prefect.settings import PREFECT_API_URL

    root = tmp_path_factory.mktemp("kill")
    synth = generate(root / "councils", partners=2, people=500, seed=7, cycle_date=CYCLE)
    parties = make_parties(root, synth.partners, list(DATASETS))
    rules = root / "rules"
    rules.mkdir()
    for name in RULES:
        shutil.copy(shipped_rules_dir() / f"{name}.yaml", rules / f"{name}.yaml")
    prepared = root / "prepared"
    for partner in synth.partners:
        folder = root / "extracts" / partner
        folder.mkdir(parents=True)
        for dataset in DATASETS:
            [extract] = (root / "councils" / partner).glob(f"{dataset}.*")
            shutil.copy(extract, folder / extract.name)
        prepare(parties, partner, folder, prepared / partner, "2026-11", parties.linkage_key_path)
    delivered = root / "delivered"
    deliver(prepared, delivered, synth.partners)
    stale = delivered / STALE
    stale.parent.mkdir(parents=True, exist_ok=True)
    stale.write_bytes(b"a bundle of a run the catalogue no longer knows")
    old = datetime(2025, 6, 1).timestamp()
    os.utime(stale, (old, old))
    env = {
        **os.environ,
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    env.pop(CRASH_ENV, None)
    return World(root, tuple(synth.partners), parties, rules, delivered, env)


def _killed_cycle(world: World, point: str) -> Killed:
    """`fraudmatch cycle` as a subprocess that SIGKILLs itself at ``point``."""
    workspace = world.workspace(point)
    argv = [sys.executable, "-c", "import sys; from fraudmatch.cli import main; sys.exit(main())"]
    done = subprocess.run(
        [*argv, *world.argv(workspace)],
        env={**world.env, CRASH_ENV: point},
        cwd=world.root,
        capture_output=True,
        text=True,
        check=False,
    )
    debris = sorted(p for p in workspace.rglob("*") if is_temporary(p))
    return Killed(workspace, done.returncode, done.stderr[-3000:], debris)


@pytest.fixture(scope="module")
def runs(world: World) -> tuple[dict[str, object], dict[str, Killed]]:
    """The uninterrupted cycle's workspace (in this process) and one killed cycle per point
    (subprocesses, two at a time, meanwhile)."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {point: pool.submit(_killed_cycle, world, point) for point in POINTS}
        baseline = world.workspace("baseline")
        assert main(world.argv(baseline)) == 0
        killed = {point: future.result() for point, future in futures.items()}
    return snapshot(world, baseline), killed


def snapshot(world: World, workspace: Path) -> dict[str, object]:
    """Every file of the workspace by its path in it, as compared (see the module doc)."""
    out: dict[str, object] = {}
    for path in sorted(p for p in workspace.rglob("*") if p.is_file()):
        name = path.relative_to(workspace).as_posix()
        if path.name == "catalogue.duckdb":
            out[name] = _catalogue_rows(path, workspace)
        elif path.name.endswith(".wal"):
            continue  # the catalogue's journal: its rows are read with the catalogue
        elif path.suffix == ".bundle" and name != STALE:
            out[name] = _bundle(world, path)
        elif path.parent.name == "models":
            model = json.loads(path.read_text())
            model.pop("timings", None)
            out[name] = model
        else:
            data = path.read_bytes().replace(str(workspace).encode(), b"<workspace>")
            if path.name in ("summary.json", "report.html"):
                data = _REUSED.sub(rb"\1done", _DONE.sub(rb"\1done", data))
            out[name] = data
    return out


def _bundle(world: World, path: Path) -> dict[str, object]:
    """A bundle as its partner opens it: verified, with the hash of its plaintext."""
    partner = path.parent.name
    hub = load_partnership(world.parties.partnership_path).hub.keys
    keys = load_private(world.parties.partner_key_paths[partner])
    header, _ = read_bundle(path, partner=keys, senders={"hub": hub})
    return {k: v for k, v in header.to_dict().items() if k != "created"}


def _catalogue_rows(path: Path, workspace: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(path), read_only=True) as con:
        tables = [t for (t,) in con.execute("SHOW TABLES").fetchall()]
        out = {}
        for table in tables:
            cursor = con.execute(f'SELECT * FROM "{table}"')
            columns = [d[0] for d in cursor.description]
            keep = [i for i, c in enumerate(columns) if c not in _CLOCK_COLUMNS]
            out[table] = sorted(
                tuple(_cell(row[i], workspace) for i in keep) for row in cursor.fetchall()
            )
    return out


def _cell(value: object, workspace: Path) -> str:
    text = str(value).replace(str(workspace), "<workspace>").encode()
    return _REUSED.sub(rb"\1done", _DONE.sub(rb"\1done", text)).decode()


@pytest.mark.parametrize("point", POINTS)
def test_a_cycle_killed_at_each_point_reruns_to_the_same_workspace_and_no_debris(
    world: World, runs, point: str
) -> None:
    expected, killed = runs
    run = killed[point]
    assert run.returncode == -signal.SIGKILL, run.stderr
    if point in INSIDE_A_WRITE:  # killed inside a write: its temp file is there, hidden,
        assert run.debris, "the kill left no temporary file: did it happen inside the write?"
        for tmp in run.debris:  # ... and never with a final suffix a script would pick up
            assert tmp.relative_to(run.workspace).parts[0] == INSIDE_A_WRITE[point]
            assert _OURS.fullmatch(tmp.name), tmp.name
    if point == "retention":  # logged for deletion, not yet deleted
        assert (run.workspace / STALE).exists()
    run_dir = run.workspace / "runs" / run_id_for(CYCLE)
    assert not (run_dir / "summary.json").exists()  # the run did not finish

    assert main(world.argv(run.workspace)) == 0

    debris = [p for p in run.workspace.rglob("*") if is_temporary(p) or ".tmp" in p.name]
    assert debris == []
    differences = _differences(snapshot(world, run.workspace), expected)
    assert not differences, "\n".join(differences)


def _differences(got: dict[str, object], expected: dict[str, object]) -> list[str]:
    """What differs, file by file (a catalogue table by table), in a few readable lines."""
    out = [f"{name}: only after the re-run" for name in got.keys() - expected.keys()]
    out += [f"{name}: only after the uninterrupted run" for name in expected.keys() - got.keys()]
    for name in sorted(got.keys() & expected.keys()):
        mine, theirs = got[name], expected[name]
        if name == "catalogue.duckdb":
            for table in sorted(mine):  # type: ignore[union-attr]
                a, b = mine[table], theirs[table]  # type: ignore[index]
                if a != b:
                    extra = [r for r in a if r not in b][:2]
                    gone = [r for r in b if r not in a][:2]
                    out.append(f"catalogue {table}: re-run has {extra}, not {gone}")
        elif mine != theirs:
            out.append(f"{name}: {str(mine)[:300]} != {str(theirs)[:300]}")
    return out


def test_the_uninterrupted_run_is_worth_comparing(runs) -> None:
    expected, _ = runs
    matches = [n for n in expected if "/matches/" in n]
    assert len(matches) == len(RULES)
    bundles = [v for n, v in expected.items() if n.endswith(".bundle")]
    assert bundles and all(b["payload_size"] > 0 for b in bundles)  # type: ignore[index]
    assert STALE not in expected  # retention deleted it
    rules = expected["catalogue.duckdb"]["run_rules"]  # type: ignore[index]
    assert len(rules) == len(RULES) and all(int(r[2]) > 0 for r in rules)  # matches in each

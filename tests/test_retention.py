"""Retention with a clock moved forward for real (``today=``), real files, a real catalogue,
and a real process killed half-way through a deletion."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml

from fraudmatch.common.fsutil import CRASH_ENV, atomic_write, is_temporary
from fraudmatch.council.prepare import prepare_extract
from fraudmatch.hub import catalogue
from fraudmatch.hub.collect import QUARANTINED, STORED, collect
from fraudmatch.hub.retention import enforce, remove_debris
from fraudmatch.hub.workspace import Workspace, open_workspace
from fraudmatch.review.outcomes import current_outcomes, record_outcome
from fraudmatch.sealing.keys import PartyKeys, load_private, new_party
from fraudmatch.spec.partnership import Partnership, load_partnership
from fraudmatch.spec.specs import load_spec

SPEC = load_spec()
DAYS = 30
TODAY = date.today()
LATER = TODAY + timedelta(days=DAYS + 1)
PAYROLL = """record_id,surname,forenames,date_of_birth,ni_number,address,postcode
P1,Abernethy,Gwendolyn,22/07/1961,,4 Tollbooth Wynd,EH1 1QS
P2,Nakamura,Haruki,1983-08-19,,3 Quay Street,BS1 4DJ
"""


@dataclass
class World:
    path: Path
    partnership: Partnership
    keys: dict[str, PartyKeys]
    linkage: bytes


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    root = tmp_path_factory.mktemp("retention")
    keys = {}
    for name in ("hub", "eastvale"):
        private, _ = new_party(name, root / "keys")
        keys[name] = load_private(private)
    document = {
        "name": "retention test",
        "retention_days": DAYS,
        "hub": {"name": "hub", "public_key_file": "keys/hub.public"},
        "partners": [
            {"name": "eastvale", "public_key_file": "keys/eastvale.public", "datasets": ["payroll"]}
        ],
    }
    path = root / "partnership.yaml"
    path.write_text(yaml.safe_dump(document))
    return World(path, load_partnership(path), keys, secrets.token_bytes(32))


def submit(world: World, tmp_path: Path, out: Path, period: str = "2026-10") -> Path:
    extract = tmp_path / secrets.token_hex(4) / "payroll.csv"
    extract.parent.mkdir(parents=True)
    extract.write_text(PAYROLL)
    return prepare_extract(
        extract,
        dataset="payroll",
        period=period,
        partner=world.keys["eastvale"],
        partnership=world.partnership,
        linkage_key=world.linkage,
        out_dir=out,
        spec=SPEC,
    ).sealed_path


def a_cycle(world: World, ws: Workspace, tmp_path: Path) -> dict[str, Path]:
    """One stored submission, one quarantined file, one run with matches and a bundle."""
    sealed = submit(world, tmp_path, ws.inbox("eastvale"))
    keep = sealed.read_bytes()
    (ws.inbox("eastvale") / "junk.sealed").write_bytes(b"not sealed at all")
    (tmp_path / "copy.sealed").write_bytes(keep)  # to deliver again later
    result = collect(ws, world.partnership, world.keys["hub"], spec=SPEC)
    assert sorted(f.outcome for f in result.files) == [QUARANTINED, STORED]
    run_id = f"run-{TODAY:%Y%m%d}"
    catalogue.start_run(ws, run_id, TODAY)
    matches = ws.run_dir(run_id) / "matches" / "rule.parquet"
    matches.parent.mkdir()
    matches.write_bytes(b"matches")
    bundle = ws.outbox("eastvale") / f"eastvale__2026-10__{run_id}.bundle"
    bundle.write_bytes(b"bundle")
    catalogue.mark_step(ws, run_id, "distribute", "eastvale", "done", str(bundle))
    catalogue.finish_run(ws, run_id, {})
    [row] = catalogue.submissions(ws).iter_rows(named=True)
    [q] = catalogue.quarantined(ws).iter_rows(named=True)
    return {
        "stored": Path(row["stored_path"]),
        "sealed": Path(row["sealed_path"]),
        "quarantined": Path(q["path"]),
        "reason": Path(q["path"] + ".reason.txt"),
        "run": ws.runs / run_id,
        "bundle": bundle,
    }


def test_nothing_is_deleted_within_the_retention_period(world: World, tmp_path: Path) -> None:
    ws = open_workspace(tmp_path / "ws", world.partnership)
    files = a_cycle(world, ws, tmp_path)
    result = enforce(ws, world.partnership, today=TODAY + timedelta(days=DAYS - 1))
    assert result.deleted == []
    assert all(p.exists() for p in files.values())
    assert catalogue.deletions(ws).height == 0


def test_everything_past_retention_is_deleted_and_logged(world: World, tmp_path: Path) -> None:
    ws = open_workspace(tmp_path / "ws", world.partnership)
    files = a_cycle(world, ws, tmp_path)
    url = f"sqlite:///{ws.root / 'outcomes.sqlite'}"
    match = {
        "rule": "r", "left_partner": "eastvale", "left_dataset": "payroll",
        "left_record_id": "P1", "right_partner": "eastvale", "right_dataset": "payroll",
        "right_record_id": "P2", "case_id": "c1", "evidence_hash": "e" * 64,
    }  # fmt: skip
    record_outcome(
        url, match, outcome="fraud", analyst="ana", expected_version=0, amount=120.0,
        run_id=f"run-{TODAY:%Y%m%d}", evidence_labels={"surname": "exact"},
    )  # fmt: skip

    dry = enforce(ws, world.partnership, today=LATER, dry_run=True, outcomes_url=url)
    assert sorted(r["kind"] for r in dry.deleted) == ["quarantined", "run", "submission"]
    assert all(p.exists() for p in files.values())
    assert catalogue.deletions(ws).height == 0

    result = enforce(ws, world.partnership, today=LATER, outcomes_url=url)
    assert sorted(r["kind"] for r in result.deleted) == ["quarantined", "run", "submission"]
    for key in ("stored", "sealed", "quarantined", "reason", "run", "bundle"):
        assert not files[key].exists(), key
    log = catalogue.deletions(ws)
    assert log.height == 3
    assert set(log["rule"]) == {f"retention_days: {DAYS} ({world.path})"}
    assert all(r.startswith("older than the retention period: stored ") for r in log["reason"])
    assert json.loads(log.filter(kind="run")["paths"][0]) == [
        str(files["run"]),
        str(files["bundle"]),
    ]
    # what the savings report and the audit need stays; the evidence does not
    [outcome] = current_outcomes(url).iter_rows(named=True)
    assert (outcome["outcome"], outcome["amount"], outcome["evidence_labels"]) == (
        "fraud",
        120.0,
        None,
    )
    assert result.outcomes_reduced == 1
    assert catalogue.submissions(ws)["status"].to_list() == ["deleted"]
    assert catalogue.current_submissions(ws).height == 0
    # a second pass with the same clock deletes nothing new
    assert enforce(ws, world.partnership, today=LATER).deleted == []
    # a replay of the deleted period is still refused
    (ws.inbox("eastvale") / "again.sealed").write_bytes((tmp_path / "copy.sealed").read_bytes())
    older = submit(world, tmp_path, ws.inbox("eastvale"), period="2026-09")
    again = collect(ws, world.partnership, world.keys["hub"], spec=SPEC)
    reasons = {f.file: (f.outcome, f.reason) for f in again.files}
    assert reasons["again.sealed"][0] == QUARANTINED
    assert "replay" in reasons["again.sealed"][1] and "deleted" in reasons["again.sealed"][1]
    assert reasons[older.name][0] == QUARANTINED and "replay" in reasons[older.name][1]


_KILLED_RETENTION = """
import sys
from datetime import date
from pathlib import Path
from fraudmatch.hub.retention import enforce
from fraudmatch.hub.workspace import open_workspace
from fraudmatch.spec.partnership import load_partnership
p = load_partnership(sys.argv[1])
enforce(open_workspace(Path(sys.argv[2]), p), p, today=date.fromisoformat(sys.argv[3]))
"""


def test_a_deletion_killed_half_way_is_completed_by_the_next_run(
    world: World, tmp_path: Path
) -> None:
    ws = open_workspace(tmp_path / "ws", world.partnership)
    files = a_cycle(world, ws, tmp_path)
    env = {**os.environ, CRASH_ENV: "retention"}
    args = [str(world.path), str(ws.root), LATER.isoformat()]
    done = subprocess.run([sys.executable, "-c", _KILLED_RETENTION, *args], env=env, check=False)
    assert done.returncode == -signal.SIGKILL
    assert catalogue.deletions(ws).height == 3  # logged before anything was removed
    assert files["stored"].exists() and files["run"].exists()

    result = enforce(ws, world.partnership, today=LATER)
    assert result.deleted == []
    assert len(result.completed) == 3
    for key in ("stored", "sealed", "quarantined", "reason", "run", "bundle"):
        assert not files[key].exists(), key
    assert catalogue.deletions(ws).height == 3


def test_temporaries_of_a_killed_writer_are_removed_but_not_fresh_deliveries(
    world: World, tmp_path: Path
) -> None:
    ws = open_workspace(tmp_path / "ws", world.partnership)
    target = ws.store_dir("eastvale", "payroll") / "x.parquet"
    target.parent.mkdir(parents=True)
    with pytest.raises(RuntimeError), atomic_write(target) as handle:
        handle.write(b"half")
        [tmp] = [p for p in target.parent.iterdir()]
        assert is_temporary(tmp) and tmp.suffix == ".tmp"  # never a final suffix
        raise RuntimeError("interrupted")
    debris = target.parent / ".x.parquet.0123456789ab.tmp"
    legacy = ws.outbox("eastvale") / ".b.bundle.0123456789ab.tmp.bundle"
    arriving = ws.inbox("eastvale") / ".s.sealed.0123456789ab.tmp"
    stale = ws.inbox("eastvale") / ".t.sealed.0123456789ab.tmp"
    for path in (debris, legacy, arriving, stale):
        path.write_bytes(b"x")
    os.utime(stale, (1, 1))
    keep = ws.outbox("eastvale") / "b.bundle"
    keep.write_bytes(b"bundle")
    removed = remove_debris(ws)
    assert sorted(removed) == sorted([debris, legacy, stale])
    assert arriving.exists() and keep.exists()

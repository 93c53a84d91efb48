"""SFTP drops against a real OpenSSH server on loopback, with the faults of issue 19: an
unreachable partner, a connection dropped mid-fetch, a half-written upload and a failed
delivery. Nothing is lost, nothing silently skipped, every failure is in the summary and
the report, and the cycle finishes for the other partners."""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
import time
from datetime import date
from pathlib import Path

import pytest

from fraudmatch.common import drops
from fraudmatch.common.drops import DropOptions
from fraudmatch.hub import transport
from tests.drop_servers import CuttingRelay, sftp_server, sshd_missing
from tests.drop_world import DropWorld, drop_world
from tests.servers import free_port

pytestmark = pytest.mark.skipif(bool(sshd_missing()), reason=sshd_missing() or "")


@pytest.fixture(scope="module")
def sshd():
    with sftp_server() as server:
        yield server


@pytest.fixture(scope="module")
def harness(prefect_harness):
    return prefect_harness


def _world(sshd, root: Path) -> DropWorld:
    base = f"sftp://drop.invalid{sshd.root}"  # the shared file names no real host
    world = drop_world(root, f"{base}/{{partner}}/to-hub", f"{base}/{{partner}}/from-hub")
    world.write_operator(sshd.options())
    return world


def _cycle(world: DropWorld, workspace: Path, day: date) -> dict:
    from flows.cycle import cycle_flow

    return cycle_flow(
        workspace=str(workspace),
        partnership=str(world.partnership),
        hub_key=str(world.parties.hub_key_path),
        rules_dir=str(world.rules),
        cycle_date=day,
    )


def test_every_fault_is_reported_and_nothing_is_lost(sshd, harness, tmp_path: Path) -> None:
    # partners are fetched in name order: the healthy one comes after both faults
    cut, down, ok = "eastvale", "northmoor", "westfield"
    world = _world(sshd, tmp_path)
    to_hub = {p: sshd.folder(p, "to-hub") for p in (down, ok, cut)}
    for partner, rows in ((down, 5), (ok, 5), (cut, 2000)):
        sealed = world.sealed(partner, rows)
        shutil.copy(sealed, to_hub[partner] / sealed.name)
        sshd.own(to_hub[partner] / sealed.name)
    # the healthy partner is still uploading its next file, under the upload convention's temp name
    late = world.sealed(ok, 7, tag="-v2")  # a corrected extract
    half = to_hub[ok] / f".{late.name}.part"
    half.write_bytes(late.read_bytes()[: late.stat().st_size // 2])
    sshd.own(half)
    # the cut partner's bundle cannot be delivered: a file stands where its folder should be
    blocked = sshd.root / cut / "from-hub"
    blocked.write_text("not a folder")
    sshd.own(blocked)
    relay = CuttingRelay(sshd.port, cut_after=100_000)  # the link drops mid-file
    world.write_operator(
        sshd.options(),
        {
            down: {"port": free_port()},
            cut: {"port": relay.port, "known_hosts": sshd.known_hosts_for(relay.port)},
        },
    )
    workspace = tmp_path / "hub"
    try:
        summary = _cycle(world, workspace, date(2026, 11, 1))
    finally:
        relay.close()

    collected = summary["collected"]
    assert [(f["partner"], f["outcome"]) for f in collected["files"]] == [(ok, "stored")]
    failed = {(f["partner"], f["name"]): f["reason"] for f in collected["fetch_failed"]}
    assert set(failed) == {(down, "*"), (cut, world.sealed_name(cut))}
    assert "Unable to connect" in failed[(down, "*")]
    assert relay.cuts >= 1
    assert [(w["partner"], w["name"]) for w in collected["waiting"]] == [(ok, f".{late.name}.part")]
    delivery = {b["partner"]: b["delivery"] for b in summary["bundles"]}
    assert delivery[ok] == "delivered"
    assert delivery[down].startswith("failed: ")
    assert delivery[cut].startswith("failed: ")
    assert list((sshd.root / ok / "from-hub").glob("*.bundle"))
    report = Path(summary["report"]).read_text()
    for partner, step in (
        (down, "fetch failed"),
        (down, "delivery failed"),
        (cut, "fetch failed"),
        (cut, "delivery failed"),
        (ok, "left for later"),
    ):
        assert f"<td>{partner}</td><td>{step}</td>" in report, (partner, step)
    # nothing lost: what was not stored is still where the partner put it, nothing half
    # fetched lies in an inbox, and only the stored file was moved aside
    assert (to_hub[down] / world.sealed_name(down)).exists()
    assert (to_hub[cut] / world.sealed_name(cut)).exists()
    assert not list((workspace / "inbox").rglob("*.sealed"))
    assert not list((workspace / "inbox").rglob(".*"))
    (aside,) = (to_hub[ok] / "fetched").iterdir()
    assert aside.name.endswith("__" + world.sealed_name(ok))
    assert half.exists()

    # the faults are mended and the upload finishes its upload: the next cycle takes the rest
    half.write_bytes(late.read_bytes())
    half.rename(to_hub[ok] / late.name)
    blocked.unlink()
    world.write_operator(sshd.options())
    second = _cycle(world, workspace, date(2026, 11, 2))
    outcomes = sorted((f["partner"], f["outcome"]) for f in second["collected"]["files"])
    assert outcomes == sorted([(down, "stored"), (ok, "stored"), (cut, "stored")])
    assert second["collected"]["fetch_failed"] == []
    assert {b["partner"]: b["delivery"] for b in second["bundles"]} == {
        p: "delivered" for p in (down, ok, cut)
    }
    summary_file = workspace / "runs" / "run-20261102" / "summary.json"
    assert json.loads(summary_file.read_text())["collected"]["waiting"] == []


def test_an_unknown_host_key_is_refused_by_default(sshd, tmp_path: Path) -> None:
    folder = sshd.folder("hostkeys", "to-hub")
    (folder / "a.sealed").write_bytes(b"x")
    sshd.own(folder / "a.sealed")
    template = f"sftp://127.0.0.1{sshd.root}/{{partner}}/to-hub"
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    options = drops.parse_options(sshd.options(known_hosts=str(empty)), "test")
    result = transport.fetch(template, "hostkeys", tmp_path / "inbox", options)
    ((name, reason),) = result.failed
    assert name == "*" and "known_hosts" in reason and "strict host-key checking" in reason
    assert not (tmp_path / "inbox").exists()
    other = tmp_path / "other_known_hosts"  # a server presenting another key: refused too
    other.write_text(f"[127.0.0.1]:{sshd.port} " + _another_key(tmp_path))
    options = drops.parse_options(sshd.options(known_hosts=str(other)), "test")
    ((_, reason),) = transport.fetch(template, "hostkeys", tmp_path / "inbox", options).failed
    assert "BadHostKeyException" in reason
    relaxed = DropOptions(**{**options.__dict__, "strict_host_key_checking": False})
    assert transport.fetch(template, "hostkeys", tmp_path / "inbox", relaxed).copied == []


def _another_key(tmp_path: Path) -> str:
    import subprocess

    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "k")], check=True
    )
    return " ".join((tmp_path / "k.pub").read_text().split()[:2]) + "\n"


def test_a_password_comes_from_the_environment_and_never_shows(
    sshd, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("DROP_PASSWORD", "correct-horse-battery")
    template = f"sftp://127.0.0.1{sshd.root}/{{partner}}/to-hub"
    raw = sshd.options(password_env="DROP_PASSWORD")
    raw.pop("key_file")  # the server takes keys only: the password is refused
    with caplog.at_level(logging.DEBUG):
        result = transport.fetch(
            template, "pw", tmp_path / "inbox", drops.parse_options(raw, "test")
        )
    ((name, reason),) = result.failed
    assert name == "*" and "Authentication" in reason
    assert "correct-horse-battery" not in reason + caplog.text
    with pytest.raises(drops.DropError, match="password_env"):
        drops.connect("sftp://hub:correct-horse-battery@127.0.0.1/x", DropOptions())


def test_a_file_still_growing_under_its_final_name_is_left_for_later(sshd, tmp_path: Path) -> None:
    """A partner that ignores the upload convention: the hub waits ``settle_seconds`` and
    takes the file only once its size and time hold still."""
    path = sshd.folder("growing", "to-hub") / "growing__payroll__2026-11.sealed"
    path.write_bytes(b"x" * 1000)
    sshd.own(path)
    stop = threading.Event()

    def grow() -> None:
        with open(path, "ab") as f:
            while not stop.is_set():
                f.write(b"x" * 100)
                f.flush()
                time.sleep(0.05)

    writer = threading.Thread(target=grow)
    writer.start()
    template = f"sftp://127.0.0.1{sshd.root}/{{partner}}/to-hub"
    options = drops.parse_options(sshd.options(settle_seconds=1), "test")
    try:
        result = transport.fetch(template, "growing", tmp_path / "inbox", options)
    finally:
        stop.set()
        writer.join()
    assert result.copied == []
    assert not (tmp_path / "inbox" / path.name).exists()
    if result.failed:
        # the writer thread was not scheduled for a whole settle window (a loaded machine),
        # so the size held still and the fetch began: the growth it then met is refused,
        # and nothing is kept either way
        ((name, why),) = result.failed
        assert name == path.name and "changed while being fetched" in why
        assert result.waiting == []
    else:
        ((name, why),) = result.waiting
        assert name == path.name and "still being written" in why
    old = time.time() - 60  # the upload ended a minute ago
    os.utime(path, (old, old))
    again = transport.fetch(template, "growing", tmp_path / "inbox", options)
    assert again.copied == [path.name]
    assert (tmp_path / "inbox" / path.name).read_bytes() == path.read_bytes()

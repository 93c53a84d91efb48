"""S3 drops against moto's standalone S3 server (the real S3 protocol over HTTP): councils
deliver with ``fraudmatch submit`` and fetch their bundles with ``fraudmatch fetch``; the hub
collects and distributes with one partner unreachable and one whose link drops mid-fetch.
Nothing is lost, every failure is in the summary and the report, the others carry on."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from fraudmatch.cli import main
from fraudmatch.hub.collect import collect
from fraudmatch.hub.operator import load_operator
from fraudmatch.hub.runs import distribute, summary_document, write_run_report
from fraudmatch.hub.workspace import open_workspace
from fraudmatch.matching.rules import load_rules
from fraudmatch.spec.partnership import load_partnership
from tests.drop_servers import CuttingRelay, s3_missing, s3_server
from tests.drop_world import DropWorld, drop_world
from tests.servers import free_port

pytestmark = pytest.mark.skipif(bool(s3_missing()), reason=s3_missing() or "")

BUCKET = "joint-unit-drops"


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FRAUDMATCH_TEST_S3_KEY", "testing")
        mp.setenv("FRAUDMATCH_TEST_S3_SECRET", "testing")
        with s3_server(tmp_path_factory.mktemp("moto")) as server:
            server.filesystem().mkdir(BUCKET)
            yield server


@pytest.fixture(scope="module")
def harness(prefect_harness):
    return prefect_harness


def _hub_cycle(world: DropWorld, workspace: Path, day: date) -> dict:
    """The cycle's steps as its flow runs them (collect, match, distribute, report)."""
    partnership = load_partnership(world.partnership)
    operator = load_operator(None, world.partnership)
    ws = open_workspace(workspace, partnership)
    keys = world.parties.hub_keys()
    collected = collect(ws, partnership, keys, period=f"{day:%Y-%m}", operator=operator)
    run_id, rules = f"run-{day:%Y%m%d}", load_rules([world.rules])
    bundles = distribute(
        ws, partnership, keys, run_id, rules, period=f"{day:%Y-%m}", operator=operator
    )
    summary = summary_document(run_id, day, collected.summary(), [], bundles)
    summary["report"] = str(write_run_report(ws, run_id, rules, summary))
    return summary


def _submit(world: DropWorld, partner: str, export: Path, *extra: str) -> int:
    return main(
        [
            "submit",
            str(export),
            "--partnership",
            str(world.partnership),
            "--key",
            str(world.parties.partner_key_paths[partner]),
            "--linkage-key",
            str(world.parties.linkage_key_path),
            "--period",
            "2026-11",
            *extra,
        ]
    )


def _export(world: DropWorld, partner: str, rows: int) -> Path:
    world.sealed(partner, rows)  # writes extracts/<partner>/payroll.csv
    return world.root / "extracts" / partner


def test_councils_submit_and_fetch_through_s3_with_faults(s3, harness, tmp_path: Path) -> None:
    prefix = f"{BUCKET}/{tmp_path.name}"
    world = drop_world(
        tmp_path, f"s3://{prefix}/{{partner}}/to-hub", f"s3://{prefix}/{{partner}}/from-hub"
    )
    world.write_operator(s3.options())
    fs = s3.filesystem()
    assert _submit(world, "northmoor", _export(world, "northmoor", 5)) == 0
    for partner, rows in (("eastvale", 5), ("westfield", 2000)):  # as a partner's own tool
        sealed = world.sealed(partner, rows)
        fs.put_file(str(sealed), f"{prefix}/{partner}/to-hub/{sealed.name}")
    names = {p: f"{p}__payroll__2026-11.sealed" for p in ("eastvale", "northmoor", "westfield")}
    for partner, name in names.items():
        assert fs.exists(f"{prefix}/{partner}/to-hub/{name}")
    fs.pipe(f"{prefix}/northmoor/to-hub/.next.sealed.part", b"half an upload")

    relay = CuttingRelay(s3.port, cut_after=60_000)
    world.write_operator(
        s3.options(),
        {
            "eastvale": {"endpoint_url": f"http://127.0.0.1:{free_port()}"},
            "westfield": {"endpoint_url": f"http://127.0.0.1:{relay.port}"},
        },
    )
    try:
        summary = _hub_cycle(world, tmp_path / "hub", date(2026, 11, 1))
    finally:
        relay.close()
    collected = summary["collected"]
    assert [(f["partner"], f["outcome"]) for f in collected["files"]] == [("northmoor", "stored")]
    failed = {(f["partner"], f["name"]) for f in collected["fetch_failed"]}
    assert failed == {("eastvale", "*"), ("westfield", names["westfield"])}
    assert relay.cuts >= 1
    assert [(w["partner"], w["name"]) for w in collected["waiting"]] == [
        ("northmoor", ".next.sealed.part")
    ]
    delivery = {b["partner"]: b["delivery"] for b in summary["bundles"]}
    assert delivery["northmoor"] == "delivered"
    assert delivery["eastvale"].startswith("failed: ")
    report = Path(summary["report"]).read_text()
    assert "<td>eastvale</td><td>delivery failed</td>" in report
    assert "<td>eastvale</td><td>fetch failed</td>" in report
    assert "<td>westfield</td><td>fetch failed</td>" in report
    # nothing lost: unfetched files are still in their drops; northmoor's was set aside
    for partner in ("eastvale", "westfield"):
        assert fs.exists(f"{prefix}/{partner}/to-hub/{names[partner]}")
    assert not fs.exists(f"{prefix}/northmoor/to-hub/{names['northmoor']}")
    (aside,) = fs.ls(f"{prefix}/northmoor/to-hub/fetched")
    assert aside.endswith("__" + names["northmoor"])

    # northmoor fetches and opens its bundle from the bucket
    args = ["fetch", "--partnership", str(world.partnership), "--extracts"]
    args += [str(world.root / "extracts" / "northmoor"), "--out", str(tmp_path / "nm-cases")]
    args += ["--key", str(world.parties.partner_key_paths["northmoor"])]
    assert main(args) == 0
    assert list((tmp_path / "nm-cases" / "bundles").glob("*.bundle"))
    assert list((tmp_path / "nm-cases").glob("*.csv"))
    assert main(args) == 0  # again: nothing new, nothing opened twice
    fs.pipe(f"{prefix}/northmoor/from-hub/zz-forged.bundle", b"not from the hub")
    assert main(args) == 1  # a bundle that does not open is a failure, not kept as fetched
    assert not (tmp_path / "nm-cases" / "bundles" / "zz-forged.bundle").exists()
    fs.rm(f"{prefix}/northmoor/from-hub/zz-forged.bundle")

    # links mended: the next cycle takes the rest and every council gets its bundle
    world.write_operator(s3.options())
    second = _hub_cycle(world, tmp_path / "hub", date(2026, 11, 2))
    assert sorted((f["partner"], f["outcome"]) for f in second["collected"]["files"]) == [
        ("eastvale", "stored"),
        ("westfield", "stored"),
    ]
    assert second["collected"]["fetch_failed"] == []
    assert {b["delivery"] for b in second["bundles"]} == {"delivered"}


def test_submit_sends_only_what_changed_and_fails_on_a_refused_extract(
    harness, tmp_path: Path
) -> None:
    """A local folder as the drop (a mounted share): the same code as a remote one."""
    world = drop_world(tmp_path, f"{tmp_path}/drop/{{partner}}", f"{tmp_path}/out/{{partner}}")
    export = _export(world, "northmoor", 5)
    (export / "deceased.csv").write_text("record_id,surname\nX,Y\n")  # missing columns
    drop = tmp_path / "drop" / "northmoor"
    sent = drop / "northmoor__payroll__2026-11.sealed"

    assert _submit(world, "northmoor", export) == 1  # deceased refused: the flow fails
    assert sent.is_file() and not list(drop.glob(".*"))
    note = export / "deceased.csv.not-sent.txt"
    assert "not 'deceased'" in note.read_text()  # not a dataset it submits

    sent.unlink()  # the hub took it; unchanged, it is not sent again
    assert _submit(world, "northmoor", export) == 1
    assert not sent.exists()
    assert not list(export.glob("*.not-sent.txt.not-sent.txt"))  # its own note is no extract

    (export / "deceased.csv").unlink()
    note.unlink()
    assert _submit(world, "northmoor", export) == 0
    assert not sent.exists()
    assert _submit(world, "northmoor", export, "--force") == 0
    assert sent.is_file()

    sent.unlink()
    with open(export / "payroll.csv", "a") as f:
        f.write("P9,Farrow,Gideon,1977-03-03\n")
    assert _submit(world, "northmoor", export) == 0  # changed: sent again
    assert sent.is_file()
    record = yaml.safe_load((export / "sealed" / "sent.json").read_text())
    assert record["payroll.csv"]["sealed"] == sent.name

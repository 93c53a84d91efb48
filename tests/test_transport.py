"""Remote drops through fsspec (in-memory and local-file filesystems, both real)."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

import fsspec
import pytest
import yaml

from fraudmatch.council.prepare import prepare_extract
from fraudmatch.hub import transport
from fraudmatch.hub.collect import collect
from fraudmatch.hub.workspace import open_workspace
from fraudmatch.sealing.keys import load_partnership_key
from fraudmatch.spec.partnership import PartnershipError, load_partnership, parse_partnership
from fraudmatch.spec.specs import load_spec
from fraudmatch.synth.demo import make_parties


@pytest.fixture()
def drop() -> str:
    return f"memory://drops-{uuid.uuid4().hex}/{{partner}}/in"


def test_fetch_copies_and_sets_aside_only_what_collection_took(drop: str, tmp_path: Path) -> None:
    fs = fsspec.filesystem("memory")
    root = transport.location(drop, "northmoor").removeprefix("memory://")
    fs.pipe(f"{root}/a.sealed", b"first")
    fs.pipe(f"{root}/b.sealed", b"second")
    fs.pipe(f"{root}/.c.sealed.part", b"half")  # an upload in flight is left alone
    fs.pipe(f"{root}/d.sealed.filepart", b"half")  # WinSCP's name for the same
    inbox = tmp_path / "inbox"
    result = transport.fetch(drop, "northmoor", inbox)
    assert result.copied == ["a.sealed", "b.sealed"]
    assert [name for name, _ in result.waiting] == [".c.sealed.part", "d.sealed.filepart"]
    assert (inbox / "a.sealed").read_bytes() == b"first"
    assert not fs.exists(f"{root}/fetched")  # nothing moved before it is stored
    (inbox / "a.sealed").unlink()  # collection took a.sealed; b.sealed is still in the inbox
    moved = transport.set_aside(drop, "northmoor", inbox, result.copied)
    assert moved.copied == ["a.sealed"] and moved.skipped == ["b.sealed"]
    (aside,) = fs.ls(f"{root}/fetched", detail=False)
    assert Path(aside).name.endswith("__a.sealed") and fs.cat(aside) == b"first"
    assert fs.exists(f"{root}/b.sealed") and fs.exists(f"{root}/.c.sealed.part")


def test_fetch_never_overwrites_a_file_waiting_in_the_inbox(drop: str, tmp_path: Path) -> None:
    fs = fsspec.filesystem("memory")
    root = transport.location(drop, "northmoor").removeprefix("memory://")
    fs.pipe(f"{root}/a.sealed", b"newer upload")
    fs.pipe(f"{root}/b.sealed", b"second")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a.sealed").write_bytes(b"waiting to be collected")
    result = transport.fetch(drop, "northmoor", inbox)
    assert result.copied == ["b.sealed"]
    assert [name for name, _ in result.failed] == ["a.sealed"]
    assert "FileExistsError" in result.failed[0][1]
    assert (inbox / "a.sealed").read_bytes() == b"waiting to be collected"
    assert fs.cat(f"{root}/a.sealed") == b"newer upload"  # left in place for the next fetch
    assert not fs.exists(f"{root}/fetched/a.sealed")
    assert sorted(p.name for p in inbox.iterdir()) == ["a.sealed", "b.sealed"]


def test_safe_url_drops_credentials() -> None:
    assert (
        transport.safe_url("sftp://hub:s3cret@drop.example:22/in/x?key=abc#frag")
        == "sftp://drop.example:22/in/x"
    )
    assert (
        transport.safe_url("simplecache::s3://AKIA:topsecret@bucket/x?token=t0k")
        == "simplecache::s3://bucket/x"
    )
    assert transport.safe_url("/mnt/share/northmoor") == "/mnt/share/northmoor"
    reason = transport.describe_error(
        OSError("cannot open sftp://hub:s3cret@drop.example/in?key=abc"),
        "sftp://hub:s3cret@drop.example/in?key=abc",
    )
    assert "s3cret" not in reason and "key=abc" not in reason
    assert reason.startswith("OSError: ")


def test_fetch_logs_no_secret_from_the_url(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    template = f"memory://drops-{uuid.uuid4().hex}/{{partner}}/in?token=hunter2"
    url = transport.location(template, "northmoor")
    fs, root = fsspec.core.url_to_fs(url)
    fs.pipe(f"{root}/a.sealed", b"newer upload")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a.sealed").write_bytes(b"waiting")  # so the fetch fails and is logged
    with caplog.at_level(logging.DEBUG, logger="fraudmatch"):
        result = transport.fetch(template, "northmoor", inbox)
        transport.fetch(template, "nobody", inbox)
    assert [name for name, _ in result.failed] == ["a.sealed"]
    assert caplog.records, "the failed fetch is logged"
    assert "northmoor" in caplog.text and "a.sealed" in caplog.text
    assert "hunter2" not in caplog.text
    assert all("hunter2" not in reason for _, reason in result.failed)


def test_fetch_without_a_drop_is_quiet(drop: str, tmp_path: Path) -> None:
    assert transport.fetch(drop, "nobody", tmp_path).copied == []


def test_push_writes_whole_files_once(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    (outbox / "x.bundle").write_bytes(b"sealed bundle")
    template = f"file://{tmp_path}/remote/{{partner}}/out"
    first = transport.push(outbox, template, "eastvale")
    assert first.copied == ["x.bundle"]
    remote = tmp_path / "remote" / "eastvale" / "out"
    assert (remote / "x.bundle").read_bytes() == b"sealed bundle"
    assert not list(remote.glob(".*"))
    assert transport.push(outbox, template, "eastvale").skipped == ["x.bundle"]


def test_transport_config_is_checked(tmp_path: Path) -> None:
    parties = make_parties(tmp_path, ["northmoor"], ["payroll"])
    data = yaml.safe_load(parties.partnership_path.read_text())
    data["transport"] = {"inbox": "s3://bucket/{partner}", "outbx": "x"}
    with pytest.raises(PartnershipError, match="transport"):
        parse_partnership(data)


def _sealed_payroll(parties, transport_config: dict, rows: str, tmp_path: Path):
    """The partnership with ``transport_config``, and northmoor's payroll of ``rows`` sealed."""
    data = yaml.safe_load(parties.partnership_path.read_text())
    data["transport"] = transport_config
    parties.partnership_path.write_text(yaml.safe_dump(data, sort_keys=False, width=1000))
    partnership = load_partnership(parties.partnership_path)
    extract = tmp_path / "payroll.csv"
    extract.write_text("record_id,surname,forenames,date_of_birth\n" + rows)
    staged = prepare_extract(
        extract,
        dataset="payroll",
        period="2026-11",
        partner=parties.partner_keys("northmoor"),
        partnership=partnership,
        linkage_key=load_partnership_key(parties.linkage_key_path),
        out_dir=tmp_path / "staged",
    )
    return partnership, staged


def test_collect_fetches_from_the_remote_drop(drop: str, tmp_path: Path) -> None:
    spec = load_spec()
    parties = make_parties(tmp_path, ["northmoor", "eastvale"], list(spec.datasets))
    partnership, staged = _sealed_payroll(
        parties,
        {"inbox": drop},
        "E1,Okafor,Chidi,1981-05-05\nE2,Lindqvist,Astrid,1990-12-24\n",
        tmp_path,
    )
    fs = fsspec.filesystem("memory")
    root = transport.location(drop, "northmoor").removeprefix("memory://")
    fs.pipe(f"{root}/{staged.sealed_path.name}", staged.sealed_path.read_bytes())

    workspace = open_workspace(tmp_path / "ws", partnership)
    result = collect(workspace, partnership, parties.hub_keys())
    assert result.fetched == [staged.sealed_path.name]
    assert [(f.outcome, f.dataset, f.rows) for f in result.files] == [("stored", "payroll", 2)]
    (aside,) = fs.ls(f"{root}/fetched", detail=False)
    assert aside.endswith("__" + staged.sealed_path.name)
    assert not fs.exists(f"{root}/{staged.sealed_path.name}")


def test_distribute_pushes_bundles_to_the_remote_drop(tmp_path: Path) -> None:
    from fraudmatch.hub.runs import distribute
    from fraudmatch.sealing.bundles import read_bundle

    parties = make_parties(tmp_path, ["northmoor", "eastvale"], ["payroll"])
    data = yaml.safe_load(parties.partnership_path.read_text())
    data["transport"] = {"outbox": f"file://{tmp_path}/drops/{{partner}}/from-hub"}
    parties.partnership_path.write_text(yaml.safe_dump(data, sort_keys=False, width=1000))
    partnership = load_partnership(parties.partnership_path)
    workspace = open_workspace(tmp_path / "ws", partnership)
    written = distribute(
        workspace, partnership, parties.hub_keys(), "run-20261101", [], period="2026-11"
    )
    assert {b.partner for b in written} == {"northmoor", "eastvale"}
    for partner in ("northmoor", "eastvale"):
        (remote,) = (tmp_path / "drops" / partner / "from-hub").glob("*.bundle")
        _, rows = read_bundle(
            remote,
            partner=parties.partner_keys(partner),
            senders={"hub": partnership.hub.public},
        )
        assert rows.height == 0  # no cases this run, and the partner is told so


def test_collect_carries_on_when_a_remote_drop_fails(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spec = load_spec()
    parties = make_parties(tmp_path, ["northmoor", "eastvale"], list(spec.datasets))
    partnership, staged = _sealed_payroll(
        parties,
        {"inbox": "nosuchproto://hub:hunter2@drop.example/{partner}?key=k3y"},
        "E1,Okafor,Chidi,1981-05-05\n",
        tmp_path,
    )
    workspace = open_workspace(tmp_path / "ws", partnership)
    inbox = workspace.inbox("northmoor")
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / staged.sealed_path.name).write_bytes(staged.sealed_path.read_bytes())

    with caplog.at_level(logging.DEBUG, logger="fraudmatch"):
        result = collect(workspace, partnership, parties.hub_keys())
    assert [(f.outcome, f.dataset, f.rows) for f in result.files] == [("stored", "payroll", 1)]
    assert result.fetched == []
    assert sorted((p, n) for p, n, _ in result.fetch_failed) == [
        ("eastvale", "*"),
        ("northmoor", "*"),
    ]
    failed = result.summary()["fetch_failed"]
    assert {f["partner"] for f in failed} == {"northmoor", "eastvale"}
    assert all("password_env" in f["reason"] for f in failed)  # no password in a shared URL
    assert "could not read northmoor's drop" in caplog.text
    assert "hunter2" not in caplog.text and "k3y" not in caplog.text
    assert all("hunter2" not in f["reason"] for f in failed)


def test_retention_prunes_what_was_set_aside_before_the_cutoff(drop: str, tmp_path: Path) -> None:
    from datetime import UTC, datetime

    fs = fsspec.filesystem("memory")
    root = transport.location(drop, "northmoor").removeprefix("memory://")
    fs.pipe(f"{root}/fetched/20260901T060000Z__old.sealed", b"old")
    fs.pipe(f"{root}/fetched/20261101T060000Z__new.sealed", b"new")
    fs.pipe(f"{root}/fetched/unstamped.sealed", b"kept: age unknown")
    pruned = transport.prune_fetched(drop, "northmoor", datetime(2026, 10, 1, tzinfo=UTC))
    assert pruned.copied == ["20260901T060000Z__old.sealed"]
    assert sorted(Path(p).name for p in fs.ls(f"{root}/fetched", detail=False)) == [
        "20261101T060000Z__new.sealed",
        "unstamped.sealed",
    ]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"password": "x"}, "never written in a file"),
        ({"secret": "x"}, "never written in a file"),
        ({"hostname": "x"}, "unknown keys"),
        ({"port": "22"}, "port: expected a number"),
        ({"strict_host_key_checking": "no"}, "true or false"),
    ],
)
def test_drop_options_are_checked(tmp_path: Path, options: dict, message: str) -> None:
    from fraudmatch.hub.operator import OperatorError, load_operator

    path = tmp_path / "operator.yaml"
    path.write_text(yaml.safe_dump({"transport": {"partners": {"northmoor": options}}}))
    with pytest.raises(OperatorError, match=message) as err:
        load_operator(path)
    assert "transport.partners.northmoor" in str(err.value)


def test_a_partner_overrides_the_default_drop_options(tmp_path: Path) -> None:
    from fraudmatch.hub.operator import load_operator

    path = tmp_path / "operator.yaml"
    doc = {"default": {"user": "hub", "port": 22}, "partners": {"northmoor": {"port": 2222}}}
    path.write_text(yaml.safe_dump({"transport": doc}))
    config = load_operator(None, tmp_path / "partnership.yaml")  # found beside it
    assert (config.transport_options("northmoor").port, config.transport_options("x").port) == (
        2222,
        22,
    )
    assert config.transport_options("northmoor").user == "hub"
    assert config.transport_options("northmoor").strict_host_key_checking is True

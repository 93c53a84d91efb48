"""Collection at the hub with real keys, real sealed files and a real catalogue (no mocks)."""

from __future__ import annotations

import os
import secrets
import shutil
import stat
import time
from dataclasses import dataclass, replace
from pathlib import Path

import polars as pl
import pytest

from fraudmatch.council.prepare import PrepareError, open_submission, prepare_extract
from fraudmatch.hub import catalogue
from fraudmatch.hub.collect import (
    ANY_DATASET,
    DUPLICATE,
    QUARANTINED,
    STORED,
    Refusal,
    collect,
    load_current,
    store_submission,
)
from fraudmatch.hub.workspace import Workspace, WorkspaceBusy, exclusive, open_workspace
from fraudmatch.sealing.keys import (
    LinkageKey,
    PartyKeys,
    load_private,
    new_party,
    public_identity_to_text,
)
from fraudmatch.sealing.seal import seal_file
from fraudmatch.spec.outputs import output_columns
from fraudmatch.spec.partnership import Partnership, bloom_params, parse_partnership
from fraudmatch.spec.specs import load_spec, parse_spec

SPEC = load_spec()
PERIOD = "2026-10"

PAYROLL_CSV = """record_id,surname,forenames,date_of_birth,ni_number,address,postcode,sort_code,account_number,job_title,start_date
E100,Wojcik-Hartley,Przemyslaw,14/03/1979,JT 44 81 26 B,17 Quarrendon Avenue,LS6 2QZ,40-11-62,31926845,Refuse driver,2019-04-01
E101,Featherstonehaugh,Ottoline,1988-11-30,PK772019C,Flat 2 9 Ravensworth Rd,NE3 4RT,20-45-77,70814423,Librarian,01/09/2015
E102,Abernethy,Gwendolyn,22/07/1961,,4 Tollbooth Wynd,EH1 1QS,,,Clerk,2001-01-02
E103,Okonkwo,Chidi,21/12/1990,AB123456C,22 Mill Lane,M1 1AE,30-90-12,12345678,Planner,2020-06-15
E104,Smith,John,1975-05-05,,8 High Street,BS1 4DJ,,,Porter,2010-03-01
"""
PAYROLL_CSV_EASTVALE = """record_id,surname,forenames,date_of_birth,ni_number,address,postcode
P1,Abernethy,Gwendolyn,22/07/1961,,4 Tollbooth Wynd,EH1 1QS
P2,Nakamura,Haruki,1983-08-19,,3 Quay Street,BS1 4DJ
"""
HOUSING_BENEFIT_CSV = """record_id,surname,forenames,date_of_birth,ni_number,address,postcode,claim_start_date
HB1,Abernethy,Gwendolyn,22/07/1961,,4 Tollbooth Wynd,EH1 1QS,2024-01-01
HB2,Okafor,Ngozi,1970-02-03,,9 Bridge Road,LS6 2QZ,2023-05-01
HB3,Brown,Alice,1955-09-09,,1 Church Walk,NE3 4RT,2022-11-11
"""


@dataclass
class World:
    """Keys on disk for a hub, three partners and two outsiders, and the partnership."""

    root: Path
    partnership: Partnership
    keys: dict[str, PartyKeys]
    linkage: bytes

    @property
    def hub(self) -> PartyKeys:
        return self.keys["hub"]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    root = tmp_path_factory.mktemp("world")
    keys: dict[str, PartyKeys] = {}
    publics: dict[str, str] = {}
    for name in ("hub", "northmoor", "eastvale", "southmere", "mallory"):
        private, public = new_party(name, root / "keys" / name)
        keys[name] = load_private(private)
        publics[name] = public.read_text()
    # a second key pair called northmoor: someone impersonating a partner
    impostor, _ = new_party("northmoor", root / "keys" / "impostor")
    keys["impostor"] = load_private(impostor)
    document = {
        "name": "test partnership",
        "hub": {"name": "hub", "public_key": publics["hub"]},
        "partners": [
            {
                "name": "northmoor",
                "public_key": publics["northmoor"],
                "datasets": ["payroll", "housing_benefit"],
            },
            {"name": "eastvale", "public_key": publics["eastvale"], "datasets": ["payroll"]},
            {"name": "southmere", "public_key": publics["southmere"], "datasets": ["payroll"]},
        ],
    }
    partnership = parse_partnership(document, source="partnership.yaml")
    return World(root=root, partnership=partnership, keys=keys, linkage=secrets.token_bytes(32))


@pytest.fixture()
def ws(world: World, tmp_path: Path) -> Workspace:
    return open_workspace(tmp_path / "workspace", world.partnership)


def submit(
    world: World,
    tmp_path: Path,
    partner: str,
    out_dir: Path,
    *,
    dataset: str = "payroll",
    period: str = PERIOD,
    csv: str = PAYROLL_CSV,
    signer: str | None = None,
) -> Path:
    """A partner prepares an extract the real way; returns the sealed file."""
    extract = tmp_path / "extracts" / secrets.token_hex(4) / f"{dataset}.csv"
    extract.parent.mkdir(parents=True)
    extract.write_text(csv)
    result = prepare_extract(
        extract,
        dataset=dataset,
        period=period,
        partner=world.keys[signer or partner],
        partnership=world.partnership,
        linkage_key=world.linkage,
        out_dir=out_dir,
        spec=SPEC,
    )
    return result.sealed_path


def seal_frame(
    world: World,
    tmp_path: Path,
    frame: pl.DataFrame,
    target: Path,
    *,
    sender: str,
    recipient: str = "hub",
    kind: str = "submission",
    dataset: str | None = "payroll",
    period: str = PERIOD,
) -> Path:
    """Seal a hand-made payload, for files prepare would never produce."""
    parquet = tmp_path / f"{secrets.token_hex(4)}.parquet"
    frame.write_parquet(parquet)
    target.parent.mkdir(parents=True, exist_ok=True)
    seal_file(
        parquet,
        target,
        sender=world.keys[sender],
        recipient=world.keys[recipient].public(),
        kind=kind,
        dataset=dataset,
        period=period,
    )
    return target


def outcome_of(result, file: str):
    [item] = [f for f in result.files if f.file == file]
    return item


def store_files(ws: Workspace, partner: str, dataset: str) -> list[Path]:
    return sorted(ws.store_dir(partner, dataset).glob("*.parquet"))


# --------------------------------------------------------------------------- stored


def test_a_submission_is_stored_recorded_and_archived(world: World, ws: Workspace, tmp_path):
    sealed = submit(world, tmp_path, "northmoor", ws.inbox("northmoor"))
    sha = catalogue_sha(sealed)

    result = collect(ws, world.partnership, world.hub, spec=SPEC)

    item = outcome_of(result, sealed.name)
    assert (item.outcome, item.partner, item.dataset, item.period, item.rows) == (
        STORED,
        "northmoor",
        "payroll",
        PERIOD,
        5,
    )
    stored = ws.store_dir("northmoor", "payroll") / f"{PERIOD}__{sha[:12]}.parquet"
    assert item.path == str(stored)
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    frame = pl.read_parquet(stored)
    assert frame.schema == pl.Schema(
        output_columns(SPEC.dataset("payroll"), bloom_params(world.partnership))
    )
    assert sorted(frame["record_id"]) == ["E100", "E101", "E102", "E103", "E104"]
    # the original left the inbox only after the stored copy was written
    assert not sealed.exists()
    archived = ws.sealed_dir("northmoor", "payroll") / f"{PERIOD}__{sha[:12]}.sealed"
    assert archived.is_file()
    row = catalogue.submission(ws, sha, partner="northmoor", dataset="payroll")
    assert row is not None
    assert row["stored_path"] == str(stored) and row["sealed_path"] == str(archived)
    assert (row["partner"], row["dataset"], row["period"], row["rows"]) == (
        "northmoor",
        "payroll",
        PERIOD,
        5,
    )
    assert row["inbox_name"] == sealed.name
    assert catalogue.latest_period(ws, "northmoor", "payroll") == PERIOD
    # store folders are private, all the way down
    for folder in (ws.store / "northmoor", ws.store_dir("northmoor", "payroll"), archived.parent):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder


def catalogue_sha(sealed: Path) -> str:
    from fraudmatch.sealing.seal import read_header

    return read_header(sealed).payload_sha256


def test_an_empty_inbox_collects_nothing(world: World, ws: Workspace):
    result = collect(ws, world.partnership, world.hub, spec=SPEC)
    assert result.files == []
    assert catalogue.submissions(ws).height == 0


def test_files_still_being_delivered_are_left_alone(world: World, ws: Workspace, tmp_path):
    sealed = submit(world, tmp_path, "northmoor", tmp_path / "staging")
    in_flight = ws.inbox("northmoor") / f".{sealed.name}.a1b2c3.tmp.sealed"
    in_flight.write_bytes(sealed.read_bytes()[:100])
    result = collect(ws, world.partnership, world.hub, spec=SPEC)
    assert result.files == []
    assert in_flight.exists()


# --------------------------------------------------------------------------- duplicates


def test_the_same_payload_twice_is_stored_once(world: World, ws: Workspace, tmp_path):
    inbox = ws.inbox("northmoor")
    first = submit(world, tmp_path, "northmoor", inbox)
    copy = inbox / "northmoor__payroll__2026-10.copy.sealed"
    shutil.copyfile(first, copy)  # the same file delivered twice
    # the same extract prepared and sealed again: other ciphertext, same payload
    resealed = submit(world, tmp_path, "northmoor", tmp_path / "again")
    sha12 = catalogue_sha(first)[:12]
    assert catalogue_sha(resealed)[:12] == sha12
    resealed = Path(shutil.move(resealed, inbox / "z-resealed.sealed"))

    result = collect(ws, world.partnership, world.hub, spec=SPEC)

    outcomes = {f.file: f.outcome for f in result.files}
    assert outcomes == {
        copy.name: STORED,
        first.name: DUPLICATE,
        resealed.name: DUPLICATE,
    }
    assert "same payload as" in outcome_of(result, first.name).reason
    assert catalogue.submissions(ws).height == 1
    assert len(store_files(ws, "northmoor", "payroll")) == 1
    assert list(inbox.iterdir()) == []
    assert result.quarantined == []
    # the byte-identical copy is not kept twice; the resealed one is kept beside it
    archived = sorted(p.name for p in ws.sealed_dir("northmoor", "payroll").iterdir())
    assert archived == [f"{PERIOD}__{sha12}.sealed", f"{PERIOD}__{sha12}~2.sealed"]


def test_the_same_payload_from_two_partners_or_datasets_is_stored_for_each(
    world: World, ws: Workspace, tmp_path
):
    # housing benefit and council tax reduction share a specification: one council may
    # well send the same extract as both, and two councils could send identical rows
    a = submit(world, tmp_path, "northmoor", ws.inbox("northmoor"), csv=PAYROLL_CSV_EASTVALE)
    b = submit(world, tmp_path, "eastvale", ws.inbox("eastvale"), csv=PAYROLL_CSV_EASTVALE)
    assert catalogue_sha(a) == catalogue_sha(b)
    result = collect(ws, world.partnership, world.hub, spec=SPEC)
    assert [f.outcome for f in result.files] == [STORED, STORED]
    assert catalogue.current_submissions(ws).select("partner", "dataset").rows() == [
        ("eastvale", "payroll"),
        ("northmoor", "payroll"),
    ]


def test_a_duplicate_in_a_later_cycle_is_not_stored_again(world: World, ws: Workspace, tmp_path):
    sealed = submit(world, tmp_path, "eastvale", ws.inbox("eastvale"), csv=PAYROLL_CSV_EASTVALE)
    keep = sealed.read_bytes()
    collect(ws, world.partnership, world.hub, spec=SPEC)
    sealed.write_bytes(keep)  # delivered again next month
    result = collect(ws, world.partnership, world.hub, spec=SPEC)
    assert [f.outcome for f in result.files] == [DUPLICATE]
    assert catalogue.submissions(ws).height == 1


def test_a_damaged_copy_of_a_stored_file_is_quarantined_as_altered_not_a_duplicate(
    world: World, ws: Workspace, tmp_path
):
    sealed = submit(world, tmp_path, "eastvale", ws.inbox("eastvale"), csv=PAYROLL_CSV_EASTVALE)
    data = bytearray(sealed.read_bytes())
    collect(ws, world.partnership, world.hub, spec=SPEC)
    data[len(data) // 2] ^= 0x01  # one bit of ciphertext; the clear header is untouched
    damaged = ws.inbox("eastvale") / "resent.sealed"
    damaged.write_bytes(bytes(data))
    result = collect(ws, world.partnership, world.hub, spec=SPEC)
    item = outcome_of(result, damaged.name)
    assert item.outcome == QUARANTINED
    assert item.reason.startswith("altered: the header claims the payload of")
    assert "failed authentication" in item.reason
    assert catalogue.submissions(ws).height == 1
    # store_submission judges the same way
    shutil.copyfile(Path(item.path), damaged)
    with pytest.raises(Refusal, match="^altered"):
        store_submission(ws, world.partnership, world.hub, damaged, partner="eastvale", spec=SPEC)


# --------------------------------------------------------------------------- replay


def test_an_older_period_is_refused_as_a_replay(world: World, ws: Workspace, tmp_path):
    submit(world, tmp_path, "northmoor", ws.inbox("northmoor"), period="2026-10")
    collect(ws, world.partnership, world.hub, spec=SPEC)
    old = submit(
        world, tmp_path, "northmoor", ws.inbox("northmoor"), period="2026-09", csv=PAYROLL_CSV[:-60]
    )

    result = collect(ws, world.partnership, world.hub, spec=SPEC)

    item = outcome_of(result, old.name)
    assert item.outcome == QUARANTINED
    assert item.reason == "replay: period 2026-09 is older than accepted 2026-10"
    assert (ws.quarantine / f"northmoor__{old.name}").is_file()
    assert catalogue.submissions(ws).height == 1
    assert catalogue.latest_period(ws, "northmoor", "payroll") == "2026-10"


def test_an_earlier_extract_of_the_same_period_cannot_replace_a_later_one(
    world: World, ws: Workspace, tmp_path
):
    earlier = submit(world, tmp_path, "eastvale", tmp_path / "earlier", csv=PAYROLL_CSV_EASTVALE)
    time.sleep(1.1)  # sealing times have one-second resolution
    later = submit(world, tmp_path, "eastvale", ws.inbox("eastvale"), csv=PAYROLL_CSV)
    later_sha = catalogue_sha(later)
    collect(ws, world.partnership, world.hub, spec=SPEC)
    late = shutil.move(earlier, ws.inbox("eastvale") / "late.sealed")

    result = collect(ws, world.partnership, world.hub, spec=SPEC)

    item = outcome_of(result, Path(late).name)
    assert item.outcome == QUARANTINED
    assert item.reason.startswith("replay: sealed ")
    current = catalogue.current_submissions(ws)
    assert current.select("sha256", "rows").rows() == [(later_sha, 5)]


def test_a_newer_period_replaces_the_current_one(world: World, ws: Workspace, tmp_path):
    submit(world, tmp_path, "northmoor", ws.inbox("northmoor"), period="2026-10")
    collect(ws, world.partnership, world.hub, spec=SPEC)
    submit(
        world,
        tmp_path,
        "northmoor",
        ws.inbox("northmoor"),
        period="2026-11",
        csv=PAYROLL_CSV_EASTVALE,
    )
    collect(ws, world.partnership, world.hub, spec=SPEC)
    current = catalogue.current_submissions(ws)
    assert current.select("partner", "period", "rows").rows() == [("northmoor", "2026-11", 2)]
    assert catalogue.submissions(ws).height == 2  # the older one is kept (retention decides)


# --------------------------------------------------------------------------- quarantine


def test_a_tampered_file_is_quarantined_and_the_cycle_carries_on(
    world: World, ws: Workspace, tmp_path
):
    inbox = ws.inbox("northmoor")
    good = submit(
        world, tmp_path, "northmoor", inbox, dataset="housing_benefit", csv=HOUSING_BENEFIT_CSV
    )
    tampered = submit(world, tmp_path, "northmoor", tmp_path / "t")
    data = bytearray(tampered.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit inside the encrypted payload
    bad = inbox / "a-tampered.sealed"  # sorts first: the good file comes after it
    bad.write_bytes(bytes(data))
    other = submit(world, tmp_path, "eastvale", ws.inbox("eastvale"), csv=PAYROLL_CSV_EASTVALE)

    result = collect(ws, world.partnership, world.hub, spec=SPEC)

    assert [f.file for f in result.files] == [other.name, bad.name, good.name]
    item = outcome_of(result, bad.name)
    assert item.outcome == QUARANTINED
    assert "failed authentication" in item.reason  # the SealError message, verbatim
    assert item.reason.startswith(str(bad))
    moved = ws.quarantine / f"northmoor__{bad.name}"
    assert item.path == str(moved)
    assert moved.read_bytes() == bytes(data)  # kept as received, for the record
    reason = (ws.quarantine / f"northmoor__{bad.name}.reason.txt").read_text()
    for line in (
        f"reason: {item.reason}",
        "sender: northmoor",
        "dataset: payroll",
        f"period: {PERIOD}",
        "time: ",
    ):
        assert line in reason
    assert not bad.exists()
    # the rest carried on
    assert outcome_of(result, good.name).outcome == STORED
    assert outcome_of(result, other.name).outcome == STORED
    # no half-decrypted payload left in the store
    assert [p.name for p in ws.store_dir("northmoor", "payroll").iterdir()] == []
    q = catalogue.quarantined(ws)
    assert q.select("inbox_name", "partner", "sender", "dataset").rows() == [
        (bad.name, "northmoor", "northmoor", "payroll")
    ]
    assert q["reason"][0] == item.reason


def test_an_unknown_sender_is_quarantined(world: World, ws: Workspace, tmp_path):
    frame = pl.DataFrame({"record_id": ["X1"]})
    target = ws.inbox("northmoor") / "mallory__payroll__2026-10.sealed"
    seal_frame(world, tmp_path, frame, target, sender="mallory")

    result = collect(ws, world.partnership, world.hub, spec=SPEC)

    item = outcome_of(result, target.name)
    assert item.outcome == QUARANTINED
    assert item.reason.startswith("unknown sender: 'mallory' is not a partner")
    assert (ws.quarantine / f"northmoor__{target.name}.reason.txt").is_file()
    assert catalogue.submissions(ws).height == 0


def test_a_partner_impersonated_with_other_keys_is_quarantined(
    world: World, ws: Workspace, tmp_path
):
    sealed = submit(world, tmp_path, "northmoor", ws.inbox("northmoor"), signer="impostor")

    result = collect(ws, world.partnership, world.hub, spec=SPEC)

    item = outcome_of(result, sealed.name)
    assert item.outcome == QUARANTINED
    assert "which is not a key of 'northmoor' in the partnership" in item.reason
    assert item.reason.startswith("signed with key ")
    assert catalogue.submissions(ws).height == 0
    assert store_files(ws, "northmoor", "payroll") == []


def test_a_file_in_the_wrong_partners_inbox_is_quarantined(world: World, ws: Workspace, tmp_path):
    sealed = submit(world, tmp_path, "eastvale", ws.inbox("northmoor"), csv=PAYROLL_CSV_EASTVALE)

    result = collect(ws, world.partnership, world.hub, spec=SPEC)

    item = outcome_of(result, sealed.name)
    assert (item.partner, item.outcome) == ("northmoor", QUARANTINED)
    assert item.reason == "sent by 'eastvale' but delivered to the inbox of 'northmoor'"
    assert (ws.quarantine / f"northmoor__{sealed.name}").is_file()


def test_a_file_that_is_not_sealed_is_quarantined(world: World, ws: Workspace):
    stray = ws.inbox("southmere") / "payroll.csv"
    stray.write_text("record_id,surname\n1,SMITH\n")
    result = collect(ws, world.partnership, world.hub, spec=SPEC)
    item = outcome_of(result, "payroll.csv")
    assert item.outcome == QUARANTINED
    assert "not a sealed fraudmatch file" in item.reason
    text = (ws.quarantine / "southmere__payroll.csv.reason.txt").read_text()
    assert "header: none readable" in text


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"recipient": "eastvale"}, "sealed to 'eastvale', not to the hub 'hub'"),
        ({"kind": "bundle"}, "this is a bundle, not a submission"),
        (
            {"dataset": "blue_badge"},
            "partnership.yaml says northmoor submits payroll, housing_benefit, not 'blue_badge'",
        ),
        ({"dataset": None}, "the header names no dataset"),
        (
            {"period": "../../etc"},
            "period '../../etc' is not a period such as 2026-11 or 2026-11-30",
        ),
        ({"period": "2026-9"}, "period '2026-9' is not a period such as 2026-11 or 2026-11-30"),
    ],
)
def test_header_checks_refuse_before_decrypting(world, ws, tmp_path, kwargs, reason):
    target = ws.inbox("northmoor") / "odd.sealed"
    seal_frame(
        world, tmp_path, pl.DataFrame({"record_id": ["X1"]}), target, sender="northmoor", **kwargs
    )
    result = collect(ws, world.partnership, world.hub, spec=SPEC)
    assert outcome_of(result, "odd.sealed").reason == reason
    assert not list(ws.store.rglob("*.parquet"))


def test_a_payload_with_the_wrong_columns_is_quarantined(world: World, ws: Workspace, tmp_path):
    expected = output_columns(SPEC.dataset("payroll"), bloom_params(world.partnership))
    frame = (
        pl.DataFrame(schema=expected)
        .drop("surname__tok")
        .with_columns(
            pl.lit(None, dtype=pl.String).alias("surname")  # a clear name: must never be stored
        )
    )
    target = ws.inbox("northmoor") / "northmoor__payroll__2026-10.sealed"
    seal_frame(world, tmp_path, frame, target, sender="northmoor")

    result = collect(ws, world.partnership, world.hub, spec=SPEC)

    item = outcome_of(result, target.name)
    assert item.outcome == QUARANTINED
    assert "missing columns: surname__tok" in item.reason
    assert "unexpected columns: surname" in item.reason
    assert store_files(ws, "northmoor", "payroll") == []


def test_a_submission_prepared_under_another_specification_is_quarantined(
    world: World, ws: Workspace, tmp_path
):
    # the partner's specification adds a column to payroll that the hub's does not have
    partner_spec = parse_spec(
        {
            "extends": "shipped",
            "datasets": {
                "payroll": {
                    "columns": {
                        "staff_badge": {
                            "type": "string",
                            "normaliser": "code",
                            "pseudonymise": "token",
                        }
                    }
                }
            },
        },
        source="partner/spec.yaml",
    )
    extract = tmp_path / "payroll.csv"
    extract.write_text(PAYROLL_CSV)
    sealed = prepare_extract(
        extract,
        dataset="payroll",
        period=PERIOD,
        partner=world.keys["northmoor"],
        partnership=world.partnership,
        linkage_key=world.linkage,
        out_dir=ws.inbox("northmoor"),
        spec=partner_spec,
    ).sealed_path

    result = collect(ws, world.partnership, world.hub, spec=SPEC)

    item = outcome_of(result, sealed.name)
    assert item.outcome == QUARANTINED
    assert partner_spec.fingerprint != SPEC.fingerprint
    assert f"prepared under data specification {partner_spec.fingerprint}" in item.reason
    assert f"the hub runs under {SPEC.fingerprint}" in item.reason
    assert store_files(ws, "northmoor", "payroll") == []


def test_files_in_a_folder_of_no_partner_are_quarantined(world: World, ws: Workspace, tmp_path):
    sealed = submit(world, tmp_path, "northmoor", ws.inbox_root / "formerpartner")
    result = collect(ws, world.partnership, world.hub, spec=SPEC)
    item = outcome_of(result, sealed.name)
    assert item.outcome == QUARANTINED
    assert item.reason == "inbox folder 'formerpartner' belongs to no partner in partnership.yaml"


def test_the_same_bad_name_twice_keeps_both_quarantined_files(world: World, ws: Workspace):
    for content in ("first", "second"):
        (ws.inbox("eastvale") / "junk.sealed").write_text(content)
        collect(ws, world.partnership, world.hub, spec=SPEC)
    names = sorted(p.name for p in ws.quarantine.iterdir())
    assert names == [
        "eastvale__junk.sealed",
        "eastvale__junk.sealed.reason.txt",
        "eastvale__junk~2.sealed",
        "eastvale__junk~2.sealed.reason.txt",
    ]
    assert catalogue.quarantined(ws).height == 2


# --------------------------------------------------------------------------- missing


def test_a_missing_partner_is_reported_not_an_error(world: World, ws: Workspace, tmp_path):
    submit(world, tmp_path, "northmoor", ws.inbox("northmoor"))

    result = collect(ws, world.partnership, world.hub, spec=SPEC)

    assert result.missing == [
        ("eastvale", "payroll"),
        ("northmoor", "housing_benefit"),
        ("southmere", "payroll"),
    ]
    summary = result.summary()
    assert summary["counts"] == {STORED: 1, DUPLICATE: 0, QUARANTINED: 0}
    assert {"partner": "southmere", "dataset": "payroll"} in summary["missing"]
    assert summary["files"][0]["outcome"] == STORED


def test_a_partner_that_lists_no_datasets_is_missing_until_it_sends_any(world: World, tmp_path):
    partnership = parse_partnership(
        {
            "hub": {"name": "hub", "public_key": public_identity_to_text(world.hub.public())},
            "partners": [
                {
                    "name": "southmere",
                    "public_key": public_identity_to_text(world.keys["southmere"].public()),
                }
            ],
        }
    )
    ws = open_workspace(tmp_path / "w", partnership)
    assert collect(ws, partnership, world.hub, spec=SPEC).missing == [("southmere", ANY_DATASET)]


# --------------------------------------------------------------------------- crash safety


def test_a_crash_between_store_and_archive_loses_nothing(world: World, ws: Workspace, tmp_path):
    sealed = submit(world, tmp_path, "northmoor", ws.inbox("northmoor"))
    original = sealed.read_bytes()
    # the store step ran (decrypted, written, recorded) and then the process died
    stored = store_submission(
        ws, world.partnership, world.hub, sealed, partner="northmoor", spec=SPEC
    )
    assert stored.stored_path.is_file() and sealed.exists()
    assert not stored.sealed_path.exists()

    result = collect(ws, world.partnership, world.hub, spec=SPEC)

    item = outcome_of(result, sealed.name)
    assert item.outcome == STORED
    assert "interrupted" in item.reason
    assert store_files(ws, "northmoor", "payroll") == [stored.stored_path]
    assert catalogue.submissions(ws).height == 1
    assert not sealed.exists()
    assert stored.sealed_path.read_bytes() == original
    row = catalogue.submission(
        ws, stored.header.payload_sha256, partner="northmoor", dataset="payroll"
    )
    assert row is not None and row["sealed_path"] == str(stored.sealed_path)
    # and a further run has nothing left to do
    assert collect(ws, world.partnership, world.hub, spec=SPEC).files == []


def test_a_crash_before_the_catalogue_record_redoes_the_store(
    world: World, ws: Workspace, tmp_path
):
    sealed = submit(world, tmp_path, "northmoor", ws.inbox("northmoor"))
    store_submission(ws, world.partnership, world.hub, sealed, partner="northmoor", spec=SPEC)
    # lose the catalogue (e.g. died before commit): the stored file is simply rewritten
    ws.catalogue_path.unlink()
    catalogue.ensure_schema(ws)
    result = collect(ws, world.partnership, world.hub, spec=SPEC)
    assert [f.outcome for f in result.files] == [STORED]
    assert len(store_files(ws, "northmoor", "payroll")) == 1
    assert not [p for p in ws.store.rglob(".*")]  # no temp files left behind


def test_a_lost_stored_copy_is_restored_from_a_redelivery(world: World, ws: Workspace, tmp_path):
    sealed = submit(world, tmp_path, "eastvale", ws.inbox("eastvale"), csv=PAYROLL_CSV_EASTVALE)
    keep = sealed.read_bytes()
    [item] = collect(ws, world.partnership, world.hub, spec=SPEC).files
    Path(item.path).unlink()
    sealed.write_bytes(keep)
    [again] = collect(ws, world.partnership, world.hub, spec=SPEC).files
    assert again.outcome == STORED and again.path == item.path
    assert pl.read_parquet(again.path).height == 2
    assert catalogue.submissions(ws).height == 1


def test_two_collections_cannot_run_at_once(world: World, ws: Workspace, tmp_path):
    sealed = submit(world, tmp_path, "northmoor", ws.inbox("northmoor"))
    with exclusive(ws, "collect"):
        # flock locks are per open file description: a second open conflicts, as across
        # processes
        with pytest.raises(WorkspaceBusy, match="another fraudmatch process"):
            collect(ws, world.partnership, world.hub, spec=SPEC)
    assert sealed.exists()
    assert [f.outcome for f in collect(ws, world.partnership, world.hub, spec=SPEC).files] == [
        STORED
    ]


def test_a_wrong_hub_key_is_a_configuration_error(world: World, ws: Workspace, tmp_path):
    sealed = submit(world, tmp_path, "northmoor", ws.inbox("northmoor"))
    with pytest.raises(ValueError, match="names hub 'hub'"):
        collect(ws, world.partnership, world.keys["eastvale"], spec=SPEC)
    assert sealed.exists()


# --------------------------------------------------------------------------- load_current


def test_load_current_stacks_each_datasets_latest_submissions(
    world: World, ws: Workspace, tmp_path
):
    submit(
        world,
        tmp_path,
        "northmoor",
        ws.inbox("northmoor"),
        period="2026-09",
        csv=PAYROLL_CSV_EASTVALE,
    )
    collect(ws, world.partnership, world.hub, spec=SPEC)
    submit(world, tmp_path, "northmoor", ws.inbox("northmoor"), period="2026-10")
    submit(world, tmp_path, "eastvale", ws.inbox("eastvale"), csv=PAYROLL_CSV_EASTVALE)
    submit(
        world,
        tmp_path,
        "northmoor",
        ws.inbox("northmoor"),
        dataset="housing_benefit",
        csv=HOUSING_BENEFIT_CSV,
    )
    collect(ws, world.partnership, world.hub, spec=SPEC)

    frames = load_current(ws)

    assert sorted(frames) == ["housing_benefit", "payroll"]
    assert all(isinstance(f, pl.LazyFrame) for f in frames.values())
    payroll = frames["payroll"].collect()
    assert payroll.columns[0] == "partner"
    assert payroll.schema["partner"] == pl.String
    counts = dict(payroll.group_by("partner").len().iter_rows())
    assert counts == {"northmoor": 5, "eastvale": 2}  # northmoor's 2026-10, not its 2026-09
    expected = output_columns(SPEC.dataset("payroll"), bloom_params(world.partnership))
    assert payroll.columns[1:] == list(expected)
    hb = frames["housing_benefit"].collect()
    assert hb["partner"].unique().to_list() == ["northmoor"] and hb.height == 3
    only = load_current(ws, partners={"eastvale"})
    assert sorted(only) == ["payroll"]
    assert only["payroll"].collect()["partner"].unique().to_list() == ["eastvale"]


def test_load_current_names_a_stored_file_that_has_gone(world: World, ws: Workspace, tmp_path):
    submit(world, tmp_path, "eastvale", ws.inbox("eastvale"), csv=PAYROLL_CSV_EASTVALE)
    result = collect(ws, world.partnership, world.hub, spec=SPEC)
    os.unlink(result.files[0].path)
    with pytest.raises(FileNotFoundError, match="stored payroll of eastvale"):
        load_current(ws)


# --------------------------------------------------------------------------- key generations


def test_a_submission_of_the_wrong_key_generation_is_quarantined_saying_which(
    world: World, ws: Workspace, tmp_path
):
    """Partners switched to generation 2 from this period; eastvale still uses the old key."""
    rotated = replace(world.partnership, linkage_generations=(("2026-01", 1), (PERIOD, 2)))
    new_key = LinkageKey(secrets.token_bytes(32), generation=2)
    north = prepare_extract(
        _extract(tmp_path, "payroll", PAYROLL_CSV),
        dataset="payroll",
        period=PERIOD,
        partner=world.keys["northmoor"],
        partnership=rotated,
        linkage_key=new_key,
        out_dir=ws.inbox("northmoor"),
        spec=SPEC,
    ).sealed_path
    # eastvale's partnership file was never updated: it prepares with generation 1
    stale = submit(world, tmp_path, "eastvale", ws.inbox("eastvale"), csv=PAYROLL_CSV_EASTVALE)

    result = collect(ws, rotated, world.hub, spec=SPEC)

    assert outcome_of(result, north.name).outcome == STORED
    item = outcome_of(result, stale.name)
    assert item.outcome == QUARANTINED
    assert f"made with linkage-key generation 1, but period {PERIOD} uses generation 2" in (
        item.reason
    )
    assert [p.name for p in ws.store_dir("eastvale", "payroll").iterdir()] == []
    # and prepare itself refuses the old key for a period of the new generation
    with pytest.raises(PrepareError, match="uses linkage-key generation 2.*generation 1"):
        prepare_extract(
            _extract(tmp_path, "payroll", PAYROLL_CSV_EASTVALE),
            dataset="payroll",
            period=PERIOD,
            partner=world.keys["eastvale"],
            partnership=rotated,
            linkage_key=world.linkage,
            out_dir=tmp_path / "refused",
            spec=SPEC,
        )
    assert not (tmp_path / "refused").exists()


def test_tokens_of_the_same_person_differ_between_two_periods(world: World, tmp_path):
    frames = {}
    for period in ("2026-10", "2026-11"):
        sealed = submit(world, tmp_path, "northmoor", tmp_path / period, period=period)
        _, frames[period] = open_submission(
            sealed, hub=world.hub, partnership=world.partnership, out=tmp_path / f"{period}.pq"
        )
    october, november = frames["2026-10"], frames["2026-11"]
    assert october["record_id"].to_list() == november["record_id"].to_list()
    tokens = [c for c in october.columns if c.endswith(("__tok", "__bf0", "__dm", "__my"))]
    assert "surname__tok" in tokens and "date_of_birth__my" in tokens
    for col in tokens:
        shared = set(october[col].drop_nulls()) & set(november[col].drop_nulls())
        assert not shared, f"{col}: {len(shared)} tokens join across periods"
    # within one period the same extract gives the same tokens (partners meet)
    again = submit(world, tmp_path, "northmoor", tmp_path / "again", period="2026-10")
    _, same = open_submission(
        again, hub=world.hub, partnership=world.partnership, out=tmp_path / "again.pq"
    )
    assert same["surname__tok"].equals(october["surname__tok"])


def _extract(tmp_path: Path, dataset: str, csv: str) -> Path:
    path = tmp_path / "extracts" / secrets.token_hex(4) / f"{dataset}.csv"
    path.parent.mkdir(parents=True)
    path.write_text(csv)
    return path


def test_a_run_quarantines_a_submission_for_another_period_naming_both(
    world: World, ws: Workspace, tmp_path
):
    """A run for PERIOD: southmere prepared for the next period and eastvale for the last
    one (same generation, other HKDF period keys): their tokens would meet nobody's, so
    both are quarantined, saying which period each was for and which the run is for."""
    submit(world, tmp_path, "eastvale", ws.inbox("eastvale"), csv=PAYROLL_CSV_EASTVALE,
           period="2026-09")  # fmt: skip
    collect(ws, world.partnership, world.hub, spec=SPEC)  # last month's run stored it
    north = submit(world, tmp_path, "northmoor", ws.inbox("northmoor"), period="2026-10-31")
    east = submit(world, tmp_path, "eastvale", ws.inbox("eastvale"), csv=PAYROLL_CSV_EASTVALE,
                  period="2026-09")  # fmt: skip
    south = submit(world, tmp_path, "southmere", ws.inbox("southmere"), period="2026-11")

    result = collect(ws, world.partnership, world.hub, spec=SPEC, period=PERIOD)

    assert outcome_of(result, north.name).outcome == STORED  # a dated period of the month
    for sealed, theirs in ((east, "2026-09"), (south, "2026-11")):
        item = outcome_of(result, sealed.name)
        assert item.outcome == QUARANTINED
        assert f"prepared for period {theirs}, but this run is for period {PERIOD}" in item.reason
        assert f"--period {PERIOD}" in item.reason
    assert store_files(ws, "southmere", "payroll") == []
    # eastvale's September payroll is still stored, but this run neither matches it nor
    # counts it as received
    assert len(store_files(ws, "eastvale", "payroll")) == 1
    missing = sorted(m for m in result.missing if m[1] == "payroll")
    assert missing == [("eastvale", "payroll"), ("southmere", "payroll")]
    frames = load_current(ws, period=PERIOD)
    assert frames["payroll"].collect()["partner"].unique().to_list() == ["northmoor"]
    assert "eastvale" in load_current(ws)["payroll"].collect()["partner"].to_list()


def test_a_run_quarantines_the_odd_key_generation_among_the_run_s_submissions(
    world: World, ws: Workspace, tmp_path
):
    """Every partner prepared for the run's period, one with the generation-1 key after the
    partnership moved to generation 2: that one is quarantined, naming both generations."""
    rotated = replace(world.partnership, linkage_generations=(("2026-01", 1), (PERIOD, 2)))
    new_key = LinkageKey(secrets.token_bytes(32), generation=2)
    sealed = {}
    for partner, csv in (("northmoor", PAYROLL_CSV), ("southmere", PAYROLL_CSV_EASTVALE)):
        sealed[partner] = prepare_extract(
            _extract(tmp_path, "payroll", csv), dataset="payroll", period=PERIOD,
            partner=world.keys[partner], partnership=rotated, linkage_key=new_key,
            out_dir=ws.inbox(partner), spec=SPEC,
        ).sealed_path  # fmt: skip
    odd = submit(world, tmp_path, "eastvale", ws.inbox("eastvale"), csv=PAYROLL_CSV_EASTVALE)

    result = collect(ws, rotated, world.hub, spec=SPEC, period=PERIOD)

    assert {outcome_of(result, p.name).outcome for p in sealed.values()} == {STORED}
    item = outcome_of(result, odd.name)
    assert item.outcome == QUARANTINED
    assert (
        f"made with linkage-key generation 1, but period {PERIOD} uses generation 2" in item.reason
    )
    assert [m for m in result.missing if m[1] == "payroll"] == [("eastvale", "payroll")]
    partners = load_current(ws, period=PERIOD)["payroll"].collect()["partner"]
    assert sorted(partners.unique()) == ["northmoor", "southmere"]

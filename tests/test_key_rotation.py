"""Key rotation for every party: keys listed with the periods they are valid for, the hub
opening files sealed to its previous key during the stated overlap only, bundles signed with
the run's key, and `fraudmatch keys rotate`. Real keys, real files, no mocks."""

from __future__ import annotations

import os
import secrets
import stat
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
import yaml

from fraudmatch.cli import main
from fraudmatch.council.prepare import PrepareError, prepare_extract
from fraudmatch.hub import catalogue
from fraudmatch.hub.collect import QUARANTINED, STORED, collect
from fraudmatch.hub.runs import distribute
from fraudmatch.hub.workspace import open_workspace
from fraudmatch.sealing.bundles import read_bundle
from fraudmatch.sealing.keyring import (
    Keyring,
    KeySchedule,
    KeyValidityError,
    load_keyring,
    rotate_party,
)
from fraudmatch.sealing.keys import (
    KeyFileError,
    PartyKeys,
    PublicIdentity,
    load_private,
    new_party,
    public_identity_to_text,
)
from fraudmatch.sealing.seal import KeyNotValid, read_header
from fraudmatch.spec.partnership import PartnershipError, load_partnership, parse_partnership
from fraudmatch.spec.specs import load_spec

SPEC = load_spec()
PAYROLL = """record_id,surname,forenames,date_of_birth,ni_number,address,postcode
P1,Abernethy,Gwendolyn,22/07/1961,,4 Tollbooth Wynd,EH1 1QS
P2,Nakamura,Haruki,1983-08-19,,3 Quay Street,BS1 4DJ
"""


def _text(identity: PublicIdentity) -> str:
    return public_identity_to_text(identity)


@dataclass
class Keys:
    """Hub and one partner, each with the first pair and the pair rotated in from 2026-11."""

    folder: Path
    old: dict[str, PartyKeys]
    new: dict[str, PartyKeys]
    linkage: bytes

    def document(self, rotated: tuple[str, ...], *, overlap_until: str | None = None) -> dict:
        """The partnership file; the parties in ``rotated`` list both keys (new from
        2026-11; the old one accepted up to ``overlap_until``, else to 2026-10)."""

        def party(name: str) -> dict:
            if name not in rotated:
                return {"name": name, "public_key": _text(self.old[name].public())}
            first: dict = {"public_key": _text(self.old[name].public())}
            if overlap_until:
                first["until"] = overlap_until
            second = {"public_key": _text(self.new[name].public()), "from": "2026-11"}
            return {"name": name, "keys": [first, second]}

        return {
            "hub": party("hub"),
            "partners": [{**party("eastvale"), "datasets": ["payroll"]}],
        }


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    folder = tmp_path_factory.mktemp("rotation")
    old, new = {}, {}
    for name in ("hub", "eastvale"):
        private, _ = new_party(name, folder / name)
        old[name] = load_private(private)
        private, _, _ = rotate_party(name, folder / name, "2026-11")
        new[name] = load_private(private)
    return Keys(folder, old, new, secrets.token_bytes(32))


def _prepare(keys: Keys, tmp_path: Path, document: dict, signer: PartyKeys | Keyring, period):
    extract = tmp_path / secrets.token_hex(4) / "payroll.csv"
    extract.parent.mkdir(parents=True)
    extract.write_text(PAYROLL)
    return prepare_extract(
        extract,
        dataset="payroll",
        period=period,
        partner=signer,
        partnership=parse_partnership(document),
        linkage_key=keys.linkage,
        out_dir=tmp_path / "sent",
        spec=SPEC,
    ).sealed_path


# --------------------------------------------------------------------------- the file


def test_the_single_key_form_still_means_one_key_for_every_period(keys: Keys) -> None:
    p = parse_partnership(keys.document(rotated=()))
    assert p.hub.public == keys.old["hub"].public()
    assert p.hub.keys.current("1999-01") == keys.old["hub"].public()
    assert p.hub.keys.check(keys.old["hub"].fingerprint, "2099-12-31")


def test_listed_keys_are_valid_from_their_period_and_the_overlap_is_stated(keys: Keys) -> None:
    p = parse_partnership(keys.document(rotated=("hub",), overlap_until="2026-12"))
    old, new = keys.old["hub"], keys.new["hub"]
    assert p.hub.keys.current("2026-10") == old.public()
    assert p.hub.keys.current("2026-11-30") == new.public()
    assert p.hub.keys.check(old.fingerprint, "2026-12")  # the overlap
    with pytest.raises(KeyValidityError, match="until 2026-12; period 2027-01 is outside"):
        p.hub.keys.check(old.fingerprint, "2027-01")
    with pytest.raises(KeyValidityError, match="from 2026-11 onwards; period 2026-10 is outside"):
        p.hub.keys.check(new.fingerprint, "2026-10")
    # without a stated overlap the old key ends the month before the new one begins
    plain = parse_partnership(keys.document(rotated=("hub",)))
    with pytest.raises(KeyValidityError, match="until 2026-10"):
        plain.hub.keys.check(old.fingerprint, "2026-11")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda ks: ks[1].pop("from"), r"hub.keys\[1\].from: every key after the first"),
        (lambda ks: ks[1].update({"from": "2026-13"}), r"keys\[1\].from: expected a period"),
        (lambda ks: ks[0].update({"from": "2027-01"}), r"keys\[1\].from: each key must start"),
        (lambda ks: ks[0].update({"until": "2026-08"}), r"keys\[0\].until: ends before keys\[1\]"),
        (lambda ks: ks[1].update({"until": "2026-01"}), r"keys\[1\].until: before its own from"),
        (lambda ks: ks[1].update({"public_key": ks[0]["public_key"]}), "listed twice"),
        (lambda ks: ks[1].update({"valid": "x"}), r"hub.keys\[1\].valid: unknown key"),
        (lambda ks: ks.clear(), "hub.keys: expected a list"),
    ],
)
def test_a_wrong_key_list_is_refused_naming_the_entry(keys: Keys, change, message) -> None:
    document = keys.document(rotated=("hub",))
    change(document["hub"]["keys"])
    with pytest.raises(PartnershipError, match=message):
        parse_partnership(document, source="p.yaml")


def test_a_key_of_another_party_or_both_forms_are_refused(keys: Keys) -> None:
    document = keys.document(rotated=("hub",))
    document["hub"]["keys"][1]["public_key"] = _text(keys.new["eastvale"].public())
    with pytest.raises(PartnershipError, match=r"keys\[1\].public_key: the key belongs to"):
        parse_partnership(document)
    document = keys.document(rotated=("hub",))
    document["hub"]["public_key"] = _text(keys.old["hub"].public())
    with pytest.raises(PartnershipError, match="either keys or public_key"):
        parse_partnership(document)


# --------------------------------------------------------------------------- key files


def test_rotate_writes_a_new_0600_pair_beside_the_old_and_never_overwrites(keys: Keys) -> None:
    folder = keys.folder / "hub"
    private = folder / "hub.2026-11.private"
    assert stat.S_IMODE(os.stat(private).st_mode) == 0o600
    assert (folder / "hub.2026-11.public").is_file()
    assert (folder / "hub.private").is_file()  # the current pair is kept
    with pytest.raises(FileExistsError):
        rotate_party("hub", folder, "2026-11")


def test_a_keyring_is_the_key_given_and_its_rotated_siblings(keys: Keys, tmp_path) -> None:
    ring = load_keyring(keys.folder / "hub" / "hub.private")
    assert set(ring.fingerprints) == {keys.old["hub"].fingerprint, keys.new["hub"].fingerprint}
    assert load_keyring(keys.folder / "hub" / "hub.2026-11.private").fingerprints == (
        ring.fingerprints
    )
    assert "private=<hidden>" in repr(ring)
    # a sibling readable by others is refused like any secret key file
    new_party("leeds", tmp_path)
    rotate_party("leeds", tmp_path, "2027-01")
    os.chmod(tmp_path / "leeds.2027-01.private", 0o644)
    with pytest.raises(KeyFileError, match="chmod 600"):
        load_keyring(tmp_path / "leeds.private")


def test_the_hub_must_hold_the_private_key_of_the_runs_key(keys: Keys) -> None:
    schedule = parse_partnership(keys.document(rotated=("hub",))).hub.keys
    only_old = Keyring("hub", (keys.old["hub"],), ("hub.private",))
    assert only_old.for_period(schedule, "2026-10") is keys.old["hub"]
    with pytest.raises(KeyFileError, match="for period 2026-11 is .* but hub.private hold"):
        only_old.for_period(schedule, "2026-11")


# --------------------------------------------------------------------------- the hub


def _collect_one(keys: Keys, tmp_path: Path, document: dict, sealed: Path):
    partnership = parse_partnership(document, source="partnership.yaml")
    ws = open_workspace(tmp_path / "ws", partnership)
    target = ws.inbox("eastvale") / sealed.name
    sealed.replace(target)
    ring = load_keyring(keys.folder / "hub" / "hub.private")
    [item] = collect(ws, partnership, ring, spec=SPEC).files
    return item


def test_the_hub_opens_a_file_sealed_to_its_previous_key_during_the_overlap(
    keys: Keys, tmp_path
) -> None:
    # eastvale has not yet got the new partnership file: it seals to the old hub key
    sealed = _prepare(keys, tmp_path, keys.document(rotated=()), keys.old["eastvale"], "2026-11")
    assert read_header(sealed).recipient_fingerprint == keys.old["hub"].fingerprint
    item = _collect_one(keys, tmp_path, keys.document(("hub",), overlap_until="2026-11"), sealed)
    assert item.outcome == STORED, item.reason


def test_after_the_overlap_a_file_sealed_to_the_previous_hub_key_is_quarantined(
    keys: Keys, tmp_path
) -> None:
    sealed = _prepare(keys, tmp_path, keys.document(rotated=()), keys.old["eastvale"], "2026-12")
    item = _collect_one(keys, tmp_path, keys.document(("hub",), overlap_until="2026-11"), sealed)
    assert item.outcome == QUARANTINED
    assert item.reason.startswith(f"sealed to key {keys.old['hub'].fingerprint} of 'hub' is valid")
    assert "period 2026-12 is outside its validity" in item.reason


def test_a_partner_with_the_new_file_seals_to_the_new_hub_key(keys: Keys, tmp_path) -> None:
    document = keys.document(rotated=("hub",))
    sealed = _prepare(keys, tmp_path, document, keys.old["eastvale"], "2026-11")
    assert read_header(sealed).recipient_fingerprint == keys.new["hub"].fingerprint
    assert _collect_one(keys, tmp_path, document, sealed).outcome == STORED


@pytest.mark.parametrize(
    ("signer", "period", "why"),
    [
        ("old", "2026-11", "until 2026-10; period 2026-11 is outside its validity"),
        ("new", "2026-10", "from 2026-11 onwards; period 2026-10 is outside its validity"),
    ],
)
def test_a_file_signed_with_a_key_outside_its_validity_is_quarantined(
    keys: Keys, tmp_path, signer: str, period: str, why: str
) -> None:
    document = keys.document(rotated=("eastvale",))
    key = getattr(keys, signer)["eastvale"]
    sealed = _prepare(keys, tmp_path, document, key, period)  # one pair given: used as it is
    item = _collect_one(keys, tmp_path, document, sealed)
    assert item.outcome == QUARANTINED
    assert item.reason.startswith(f"signed with key {key.fingerprint} of 'eastvale' is valid")
    assert why in item.reason


def test_prepare_signs_with_the_partners_key_for_the_period(keys: Keys, tmp_path) -> None:
    document = keys.document(rotated=("eastvale",))
    ring = load_keyring(keys.folder / "eastvale" / "eastvale.private")
    for period, key in (("2026-10", keys.old), ("2026-11", keys.new)):
        sealed = _prepare(keys, tmp_path, document, ring, period)
        assert read_header(sealed).sender_fingerprint == key["eastvale"].fingerprint
        assert _collect_one(keys, tmp_path / period, document, sealed).outcome == STORED
    only_old = Keyring("eastvale", (keys.old["eastvale"],), ("eastvale.private",))
    with pytest.raises(PrepareError, match="for period 2026-11 is"):
        _prepare(keys, tmp_path, document, only_old, "2026-11")


def test_bundles_are_signed_with_the_runs_hub_key_and_verified_against_it(
    keys: Keys, tmp_path
) -> None:
    partnership = parse_partnership(keys.document(rotated=("hub", "eastvale")))
    ws = open_workspace(tmp_path / "ws", partnership)
    ring = load_keyring(keys.folder / "hub" / "hub.private")
    partner = load_keyring(keys.folder / "eastvale" / "eastvale.private")
    senders = {"hub": partnership.hub.keys}
    for period, key in (("2026-10", keys.old), ("2026-11", keys.new)):
        run_id = f"run-{period.replace('-', '')}01"
        catalogue.start_run(ws, run_id, date.fromisoformat(f"{period}-01"))
        [bundle] = distribute(ws, partnership, ring, run_id, [], period=period)
        header = read_bundle(bundle.path, partner=partner, senders=senders)[0]
        assert header.sender_fingerprint == key["hub"].fingerprint
        assert header.recipient_fingerprint == key["eastvale"].fingerprint
    # a partner whose file says the old hub key ended refuses a bundle signed with it later
    stale = parse_partnership(keys.document(rotated=("eastvale",)))
    stale_hub = KeySchedule.build(
        "hub",
        [(keys.old["hub"].public(), None, "2026-10"), (keys.new["hub"].public(), "2026-11", None)],
    )
    catalogue.start_run(ws, "run-20261201", date(2026, 12, 1))
    only_old = Keyring("hub", (keys.old["hub"],))
    [bundle] = distribute(ws, stale, only_old, "run-20261201", [], period="2026-12")
    with pytest.raises(KeyNotValid, match="period 2026-12 is outside its validity"):
        read_bundle(bundle.path, partner=partner, senders={"hub": stale_hub})


# --------------------------------------------------------------------------- the command


def test_keys_rotate_prints_the_lines_that_make_a_valid_partnership(
    keys: Keys, tmp_path, capsys
) -> None:
    folder = tmp_path / "keys"
    new_party("hub", folder)
    new_party("eastvale", folder)
    document = {
        "hub": {"name": "hub", "public_key_file": "keys/hub.public"},
        "partners": [{"name": "eastvale", "public_key_file": "keys/eastvale.public"}],
    }
    path = tmp_path / "partnership.yaml"
    path.write_text(yaml.safe_dump(document))
    argv = ["keys", "rotate", "hub", "--partnership", str(path), "--out", str(folder)]
    assert main([*argv, "--from", "2027-01", "--overlap", "2"]) == 0
    out = capsys.readouterr().out
    assert stat.S_IMODE(os.stat(folder / "hub.2027-01.private").st_mode) == 0o600
    assert "SECRET" not in out and "encryption: " in out  # public keys only
    block = out[out.index("keys:\n") :]
    hub = {"name": "hub", **yaml.safe_load(block)}
    document["hub"] = hub
    path.write_text(yaml.safe_dump(document))
    rotated = load_partnership(path).hub.keys
    old = load_private(folder / "hub.private").fingerprint
    new = load_private(folder / "hub.2027-01.private").fingerprint
    assert rotated.current("2027-01").fingerprint == new
    assert rotated.check(old, "2027-02")  # the overlap of two months
    with pytest.raises(KeyValidityError):
        rotated.check(old, "2027-03")
    # and again a year later: the block keeps every key with its period
    assert main([*argv, "--from", "2028-01", "--overlap", "0"]) == 0
    block = capsys.readouterr().out.split("keys:\n", 1)[1]
    again = KeySchedule.build(
        "hub",
        [
            (k.public, k.start, k.until)
            for k in parse_partnership(
                {**document, "hub": {"name": "hub", **yaml.safe_load("keys:\n" + block)}},
                base=tmp_path,
            ).hub.keys.keys
        ],
    )
    assert [k.start for k in again.keys] == [None, "2027-01", "2028-01"]
    assert again.keys[1].last == "2027-12"

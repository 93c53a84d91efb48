"""Party keys and partnership key files: permissions, round trips, no secret leaks."""

from __future__ import annotations

import os
import pickle
import re
import stat
from pathlib import Path

import pytest
import yaml

from fraudmatch.sealing.keys import (
    GENERATION_META,
    KEY_PERIOD_META,
    KeyFileError,
    KeyFilePermissionError,
    cycle_linkage_key,
    generate_party,
    key_generation_problem,
    load_linkage_key,
    load_partnership_key,
    load_private,
    load_public,
    new_partnership_key,
    new_party,
    parse_public_identity,
    partnership_key_check,
    public_identity_from_dict,
    public_identity_to_dict,
    public_identity_to_text,
    rotate_partnership_key,
)


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def _secret_values(private_path: Path) -> list[str]:
    """The base64 secret values in a private file, to check they never leak."""
    values = re.findall(r"^(?:encryption|signing|key): (\S+)$", private_path.read_text(), re.M)
    assert values
    return values


@pytest.fixture()
def party(tmp_path: Path) -> tuple[Path, Path]:
    return new_party("leeds", tmp_path)


# --------------------------------------------------------------------------- party keys


def test_new_party_writes_private_0600_and_public(party: tuple[Path, Path]) -> None:
    private, public = party
    assert private.name == "leeds.private" and public.name == "leeds.public"
    assert _mode(private) == 0o600
    assert _mode(public) & 0o077 != 0o077  # ordinary umask-governed file, not secret
    assert "leeds" in private.read_text() and "leeds" in public.read_text()


def test_new_party_private_is_never_group_readable_even_with_open_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        private, _ = new_party("hub", tmp_path)
    finally:
        os.umask(old)
    assert _mode(private) == 0o600


def test_round_trip(party: tuple[Path, Path]) -> None:
    private, public = party
    keys = load_private(private)
    identity = load_public(public)
    assert keys.name == identity.name == "leeds"
    assert keys.public() == identity
    assert keys.fingerprint == identity.fingerprint
    assert re.fullmatch(r"([0-9a-f]{4}-){7}[0-9a-f]{4}", identity.fingerprint)
    assert f"fingerprint: {identity.fingerprint}" in public.read_text()


def test_new_party_refuses_to_overwrite(party: tuple[Path, Path], tmp_path: Path) -> None:
    private, public = party
    before = (private.read_bytes(), public.read_bytes())
    with pytest.raises(FileExistsError, match="leeds.private"):
        new_party("leeds", tmp_path)
    assert (private.read_bytes(), public.read_bytes()) == before
    public.unlink()  # even a lone leftover private file is never replaced
    with pytest.raises(FileExistsError):
        new_party("leeds", tmp_path)
    assert private.read_bytes() == before[0]


def test_new_party_rejects_unsafe_names(tmp_path: Path) -> None:
    for name in ("", "../hub", "Hub", "a b", "x" * 64):
        with pytest.raises(ValueError, match="invalid party name"):
            new_party(name, tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_load_private_refuses_group_or_other_access(party: tuple[Path, Path], mode: int) -> None:
    private, _ = party
    os.chmod(private, mode)
    with pytest.raises(KeyFilePermissionError) as info:
        load_private(private)
    message = str(info.value)
    assert str(private) in message
    assert f"{mode:04o}" in message
    assert f"chmod 600 {private}" in message


def test_no_secret_in_repr_or_str(party: tuple[Path, Path]) -> None:
    private, _ = party
    keys = load_private(private)
    shown = repr(keys) + str(keys) + repr(keys.public()) + str([keys])
    assert "leeds" in shown and "hidden" in shown
    for value in _secret_values(private):
        assert value not in shown
        assert value[:12] not in shown
    raw_sign = keys.sign_private.private_bytes_raw()
    assert raw_sign.hex() not in shown


def test_party_keys_refuse_pickling(party: tuple[Path, Path]) -> None:
    keys = load_private(party[0])
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(keys)


def test_public_identity_pickles(party: tuple[Path, Path]) -> None:
    identity = load_public(party[1])
    assert pickle.loads(pickle.dumps(identity)) == identity


def _rewrite(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    os.chmod(path, 0o600)


def _private_errors(private: Path) -> list[tuple[str, str, str]]:
    """(old, new, expected message fragment) edits that make a private file malformed."""
    enc, sign = _secret_values(private)
    return [
        (f"signing: {sign}", f"signing: {sign[:-4]}", "is 30 bytes long, expected 32"),
        (f"signing: {sign}", f"signing: {sign[:-2]}!!", "not valid base64"),
        (f"encryption: {enc}\n", "", "missing 'encryption'"),
        ("name: leeds", "name: Leeds Council", "'name'"),
        ("fraudmatch-private-keys: 1", "fraudmatch-private-keys: 9", "unsupported"),
        ("fraudmatch-private-keys: 1", "fraudmatch-public-identity: 1", "not a fraudmatch"),
        (f"signing: {sign}", f"signing: {sign}\nsigning: {sign}", "repeats 'signing'"),
        (f"signing: {sign}", f"signing: {sign}\ncolour: blue", "unknown key"),
        (f"signing: {sign}", sign, "not a 'key: value' line"),
    ]


def test_malformed_private_file_errors_name_file_and_hide_secrets(tmp_path: Path) -> None:
    template, _ = new_party("leeds", tmp_path)
    original = template.read_text()
    secrets = _secret_values(template)
    for old, new, fragment in _private_errors(template):
        template.write_text(original)
        os.chmod(template, 0o600)
        _rewrite(template, old, new)
        with pytest.raises(KeyFileError) as info:
            load_private(template)
        message = str(info.value)
        assert str(template) in message, message
        assert fragment in message, message
        for value in secrets:
            assert value[:12] not in message, message
        assert info.value.__cause__ is None


def test_load_private_missing_file(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="not found"):
        load_private(tmp_path / "nobody.private")


def test_public_identity_text_round_trip_and_yaml_embedding() -> None:
    identity = generate_party("hub").public()
    text = public_identity_to_text(identity)
    assert parse_public_identity(text) == identity
    assert load_public(text) == identity
    doc = yaml.safe_dump({"hub": {"name": "hub", "public_key": text}}, default_style="|")
    assert load_public(yaml.safe_load(doc)["hub"]["public_key"]) == identity
    assert public_identity_from_dict(public_identity_to_dict(identity)) == identity


def test_load_public_accepts_path_or_str_path(party: tuple[Path, Path]) -> None:
    _, public = party
    assert load_public(public) == load_public(str(public))


def test_public_fingerprint_mismatch_is_refused(party: tuple[Path, Path]) -> None:
    _, public = party
    other = generate_party("leeds").public()
    text = public.read_text()
    lines = [
        f"encryption: {public_identity_to_dict(other)['encryption']}"
        if line.startswith("encryption:")
        else line
        for line in text.splitlines()
    ]
    public.write_text("\n".join(lines) + "\n")
    with pytest.raises(KeyFileError, match="fingerprint .* does not match") as info:
        load_public(public)
    assert str(public) in str(info.value)


def test_public_name_and_garbage_errors(party: tuple[Path, Path]) -> None:
    _, public = party
    with pytest.raises(KeyFileError, match="not a fraudmatch public key"):
        load_public("hello: 1\nworld: 2\n")
    with pytest.raises(KeyFileError, match="'name'"):
        parse_public_identity(public.read_text().replace("name: leeds", "name: ../x"))
    with pytest.raises(KeyFileError, match="must be a string"):
        public_identity_from_dict({"name": "hub", "fingerprint": 1})


def test_public_identity_equality() -> None:
    a, b = generate_party("hub"), generate_party("hub")
    assert a.public() == a.public()
    assert a.public() != b.public()
    assert a.fingerprint != b.fingerprint


# --------------------------------------------------------------------------- partnership key


def test_partnership_key_round_trip(tmp_path: Path) -> None:
    path = new_partnership_key(tmp_path / "linkage.key")
    assert _mode(path) == 0o600
    key = load_partnership_key(path)
    assert len(key) == 32
    assert load_partnership_key(path) == key
    assert f"check: {partnership_key_check(key)}" in path.read_text()
    assert (
        new_partnership_key(tmp_path / "other.key")
        and load_partnership_key(tmp_path / "other.key") != key
    )


def test_partnership_key_refuses_overwrite(tmp_path: Path) -> None:
    path = new_partnership_key(tmp_path / "linkage.key")
    before = path.read_bytes()
    with pytest.raises(FileExistsError, match="linkage.key"):
        new_partnership_key(path)
    assert path.read_bytes() == before


def test_partnership_key_permission_check(tmp_path: Path) -> None:
    path = new_partnership_key(tmp_path / "linkage.key")
    os.chmod(path, 0o644)
    with pytest.raises(KeyFilePermissionError, match=r"0644.*chmod 600"):
        load_partnership_key(path)


def test_partnership_key_corruption_is_detected_without_leaking(tmp_path: Path) -> None:
    path = new_partnership_key(tmp_path / "linkage.key")
    (value,) = _secret_values(path)
    flipped = value[:5] + ("A" if value[5] != "A" else "B") + value[6:]
    _rewrite(path, value, flipped)
    with pytest.raises(KeyFileError, match="check value") as info:
        load_partnership_key(path)
    assert value[:12] not in str(info.value) and flipped[:12] not in str(info.value)


# --------------------------------------------------------------------------- per-cycle keys


def test_each_period_has_its_own_linkage_key(tmp_path: Path) -> None:
    """Tokens of one cycle never join to another's: the key is HKDF(secret, month)."""
    key = load_linkage_key(new_partnership_key(tmp_path / "linkage.key"))
    assert key.generation == 1
    nov, dec = key.for_period("2026-11"), key.for_period("2026-12")
    assert len(nov) == 32 and nov != dec and nov != key.secret
    assert key.for_period("2026-11-30") == nov  # a dated period keys as its month
    assert cycle_linkage_key(key.secret, "2026-11") == nov
    assert key.secret.hex() not in repr(key) and "generation=1" in repr(key)
    with pytest.raises(ValueError, match="not a period"):
        key.for_period("2026-13")


def test_rotation_writes_the_next_generation_and_keeps_the_old_file(tmp_path: Path) -> None:
    first = new_partnership_key(tmp_path / "gen1.key")
    path, generation = rotate_partnership_key(first, tmp_path / "gen2.key")
    assert generation == 2 and _mode(path) == 0o600
    new, old = load_linkage_key(path), load_linkage_key(first)
    assert new.generation == 2 and new.secret != old.secret
    assert new.for_period("2027-01") != old.for_period("2027-01")
    assert rotate_partnership_key(path, tmp_path / "gen3.key")[1] == 3
    with pytest.raises(FileExistsError):
        rotate_partnership_key(first, path)


def test_a_key_file_without_a_generation_is_generation_one(tmp_path: Path) -> None:
    path = new_partnership_key(tmp_path / "linkage.key")
    _rewrite(path, "generation: 1\n", "")
    assert load_linkage_key(path).generation == 1
    _rewrite(path, "check:", "generation: zero\ncheck:")
    with pytest.raises(KeyFileError, match="generation"):
        load_linkage_key(path)


def test_key_generation_problems_name_the_generation_never_a_key() -> None:
    meta = {GENERATION_META: "1", KEY_PERIOD_META: "2026-11"}
    assert key_generation_problem(meta, 1, "2026-11-30") is None
    wrong = key_generation_problem(meta, 2, "2026-11")
    assert wrong is not None and "generation 1" in wrong and "uses generation 2" in wrong
    other = key_generation_problem(meta, 1, "2026-12")
    assert other is not None and "keyed for period 2026-11" in other
    assert "without a linkage-key generation" in str(key_generation_problem({}, 1, "2026-11"))

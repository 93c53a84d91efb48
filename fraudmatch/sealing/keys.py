"""Party key pairs and the partnership linkage key, as small text files.

Every party (the hub and each partner council) holds:

* an HPKE encryption key pair, KEM ML-KEM-768 + X25519 (post-quantum hybrid), so a
  file sealed to it stays confidential even against a future quantum attacker
  who recorded it today;
* an Ed25519 signing key pair, so receivers know who sealed a file.

``<name>.private`` holds both private keys (mode 0600, never leaves the party);
``<name>.public`` is the one small file a party sends to the others, and its
text can be pasted inline into ``partnership.yaml``. A short fingerprint
lets two officers confirm over the phone that they hold the same public file.

The partnership linkage key (32 random bytes) is shared by the partners only,
never the hub. It is never used as it is: each period's tokens and Bloom encodings are
keyed with ``cycle_linkage_key(secret, period)`` (HKDF-SHA256 over the period's month), so
the same person has unrelated tokens in two cycles and the hub cannot follow anyone from
one cycle to the next. The secret itself can be replaced (``keys partnership --rotate``):
each file records its *generation*, the partnership file says from which period each
generation is used, and a submission states the generation it was made with (never the key).

File formats are documented in ``docs/sealed-format.md``. Secret values never
appear in a repr, an exception message or a log line.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import secrets
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import hashes, hpke
from cryptography.hazmat.primitives.asymmetric import mlkem, x25519
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from fraudmatch.common.fsutil import atomic_write_bytes, write_private_bytes

__all__ = [
    "KeyFileError",
    "PartyKeys",
    "PublicIdentity",
    "generate_party",
    "key_generation_problem",
    "GENERATION_META",
    "KEY_PERIOD_META",
    "LinkageKey",
    "cycle_linkage_key",
    "key_period",
    "load_linkage_key",
    "load_partnership_key",
    "load_private",
    "load_public",
    "new_partnership_key",
    "new_party",
    "rotate_partnership_key",
    "parse_public_identity",
    "partnership_key_check",
    "public_identity_from_dict",
    "public_identity_to_dict",
    "public_identity_to_text",
    "validate_party_name",
]

PRIVATE_TAG = "fraudmatch-private-keys"
PUBLIC_TAG = "fraudmatch-public-identity"
PARTNERSHIP_TAG = "fraudmatch-partnership-key"
KEY_FILE_VERSION = "1"

MLKEM768_SEED_LEN = 64
MLKEM768_PUBLIC_LEN = 1184
X25519_LEN = 32
ED25519_LEN = 32
ENC_PRIVATE_LEN = MLKEM768_SEED_LEN + X25519_LEN  # ML-KEM-768 seed || X25519 private
ENC_PUBLIC_LEN = MLKEM768_PUBLIC_LEN + X25519_LEN  # ML-KEM-768 public || X25519 public
PARTNERSHIP_KEY_LEN = 32

_NAME_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
_FINGERPRINT_LABEL = b"fraudmatch/identity/v1\x00"
_KEY_CHECK_LABEL = b"fraudmatch/partnership-key-check/v1"
_CYCLE_SALT = b"fraudmatch/linkage-cycle/v1"
# Parquet metadata of a submission: the linkage-key generation it was made with and the month
# its key is derived for (never the key), checked by the hub against the partnership file.
GENERATION_META = "fraudmatch:linkage_generation"
KEY_PERIOD_META = "fraudmatch:key_period"
_MONTH_RE = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")


class KeyFileError(ValueError):
    """A key file is missing, malformed or unsafe; the message names the file and the problem."""


class KeyFilePermissionError(KeyFileError):
    """A secret key file is readable by group or other users."""


@dataclass(frozen=True, eq=False, repr=False)
class PublicIdentity:
    """What the other parties know about a party: its name and public keys."""

    name: str
    enc_public: hpke.MLKEM768X25519PublicKey
    sign_public: Ed25519PublicKey
    fingerprint: str
    # The hybrid key object cannot export its bytes, so they travel alongside it.
    enc_public_raw: bytes = field(repr=False)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PublicIdentity):
            return NotImplemented
        return (self.name, self.enc_public_raw, self.sign_public_raw) == (
            other.name,
            other.enc_public_raw,
            other.sign_public_raw,
        )

    def __hash__(self) -> int:
        return hash((self.name, self.fingerprint))

    def __repr__(self) -> str:
        return f"PublicIdentity(name={self.name!r}, fingerprint={self.fingerprint!r})"

    def __reduce__(self) -> tuple[object, tuple[str, bytes, bytes]]:
        """Pickle as raw public bytes: key objects do not pickle, and flows pass identities."""
        return (_identity_from_raw, (self.name, self.enc_public_raw, self.sign_public_raw))

    @property
    def sign_public_raw(self) -> bytes:
        return self.sign_public.public_bytes_raw()


@dataclass(frozen=True, eq=False, repr=False)
class PartyKeys:
    """A party's own private keys. The repr shows the name and fingerprint only.

    Pickling is refused so keys cannot end up in a task-result store or a worker
    queue by accident: pass the ``.private`` path to a task and load it there.
    """

    name: str
    enc_private: hpke.MLKEM768X25519PrivateKey
    sign_private: Ed25519PrivateKey
    enc_public_raw: bytes = field(repr=False)

    def public(self) -> PublicIdentity:
        """The identity to give the other parties."""
        return _make_identity(self.name, self.enc_public_raw, self.sign_private.public_key())

    @property
    def fingerprint(self) -> str:
        return self.public().fingerprint

    def __repr__(self) -> str:
        return f"PartyKeys(name={self.name!r}, fingerprint={self.fingerprint!r}, private=<hidden>)"

    __str__ = __repr__

    def __reduce__(self) -> object:
        raise TypeError("PartyKeys cannot be pickled: private keys must not leave their file")


# --------------------------------------------------------------------------- parties


def validate_party_name(name: str) -> str:
    """Party names become file names and header fields, so keep them plain.

    Lower-case letters, digits, ``-`` and ``_``, 1-63 characters, starting with a
    letter or digit.
    """
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
        raise ValueError(
            f"invalid party name {name!r}: use 1-63 lower-case letters, digits, '-' or '_', "
            "starting with a letter or digit"
        )
    return name


def generate_party(name: str) -> PartyKeys:
    """Fresh in-memory keys for ``name`` (tests and :func:`new_party`)."""
    validate_party_name(name)
    return _party_from_secrets(name, *_new_secrets())


def new_party(name: str, out_dir: Path) -> tuple[Path, Path]:
    """Create ``<name>.private`` (0600) and ``<name>.public`` in ``out_dir``; never overwrite."""
    private_path, public_path, _ = write_new_pair(name, Path(out_dir), name)
    return private_path, public_path


def write_new_pair(name: str, out_dir: Path, stem: str) -> tuple[Path, Path, PublicIdentity]:
    """A new key pair of ``name`` as ``<stem>.private`` (0600) and ``<stem>.public``; refuses
    to overwrite either, since a replaced private key cannot open what was sealed to it."""
    validate_party_name(name)
    out_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    private_path = out_dir / f"{stem}.private"
    public_path = out_dir / f"{stem}.public"
    for path in (private_path, public_path):
        if os.path.lexists(path):
            raise FileExistsError(
                f"{path} already exists: refusing to overwrite keys "
                "(move it away first if you really mean to replace them)"
            )
    enc_secret, sign_secret = _new_secrets()
    identity = _party_from_secrets(name, enc_secret, sign_secret).public()
    private_text = _private_text(name, enc_secret, sign_secret)
    write_private_bytes(private_path, private_text.encode(), overwrite=False)
    atomic_write_bytes(public_path, public_identity_to_text(identity).encode(), overwrite=False)
    return private_path, public_path, identity


def load_private(path: str | os.PathLike[str]) -> PartyKeys:
    """Load a party's private keys, refusing a file that others could read."""
    source = Path(path)
    text = _read_secret_text(source)
    fields = _parse_fields(text, source, PRIVATE_TAG, ("name", "encryption", "signing"))
    name = _field_name(fields["name"], source)
    enc_secret = _field_b64(fields, "encryption", ENC_PRIVATE_LEN, source)
    sign_secret = _field_b64(fields, "signing", ED25519_LEN, source)
    try:
        return _party_from_secrets(name, enc_secret, sign_secret)
    except ValueError:
        raise KeyFileError(f"{source}: the private key values are not valid keys") from None


def parse_public_identity(text: str, source: str = "<inline public key>") -> PublicIdentity:
    """Parse the text of a ``.public`` file (e.g. embedded in the partnership YAML)."""
    keys = ("name", "fingerprint", "encryption", "signing")
    fields = _parse_fields(text, source, PUBLIC_TAG, keys)
    return _identity_from_fields(fields, source)


def load_public(path_or_text: str | os.PathLike[str]) -> PublicIdentity:
    """Load a public identity from a ``.public`` file path, or from its text (any string
    with a newline or the format tag is text: that is how the partnership YAML embeds it)."""
    if isinstance(path_or_text, str) and ("\n" in path_or_text or PUBLIC_TAG in path_or_text):
        return parse_public_identity(path_or_text)
    source = Path(path_or_text)
    try:
        text = source.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise KeyFileError(f"{source}: public key file not found") from None
    except OSError as exc:
        raise KeyFileError(f"{source}: cannot read public key file: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise KeyFileError(f"{source}: not a text file (expected a {PUBLIC_TAG} file)") from None
    return parse_public_identity(text, str(source))


def public_identity_to_text(identity: PublicIdentity) -> str:
    """The ``.public`` file text: one ``key: value`` per line, safe to paste into YAML."""
    return (
        f"# fraudmatch public identity of party {identity.name!r}.\n"
        "# Send this file to the other parties; check the fingerprint with them by phone.\n"
        f"{PUBLIC_TAG}: {KEY_FILE_VERSION}\n"
        f"name: {identity.name}\n"
        f"fingerprint: {identity.fingerprint}\n"
        f"encryption: {_b64(identity.enc_public_raw)}\n"
        f"signing: {_b64(identity.sign_public_raw)}\n"
    )


def public_identity_to_dict(identity: PublicIdentity) -> dict[str, str]:
    """The identity as a flat mapping, for YAML written as a mapping rather than text."""
    return {
        "name": identity.name,
        "fingerprint": identity.fingerprint,
        "encryption": _b64(identity.enc_public_raw),
        "signing": _b64(identity.sign_public_raw),
    }


def public_identity_from_dict(
    data: Mapping[str, object], source: str = "<public key mapping>"
) -> PublicIdentity:
    """Inverse of :func:`public_identity_to_dict`; errors name ``source`` and the key."""
    fields: dict[str, str] = {}
    for key in ("name", "fingerprint", "encryption", "signing"):
        value = data.get(key)
        if not isinstance(value, str):
            raise KeyFileError(f"{source}: '{key}' must be a string, got {type(value).__name__}")
        fields[key] = value.strip()
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise KeyFileError(f"{source}: unknown key(s) {', '.join(map(str, unknown))}")
    return _identity_from_fields(fields, source)


# --------------------------------------------------------------------------- partnership key


@dataclass(frozen=True, repr=False)
class LinkageKey:
    """The partners' linkage secret and its generation; the hub never holds either file."""

    secret: bytes
    generation: int = 1

    def __repr__(self) -> str:
        return f"LinkageKey(generation={self.generation}, check={self.check})"

    @property
    def check(self) -> str:
        return partnership_key_check(self.secret)

    def for_period(self, period: str) -> bytes:
        """The key this period's tokens and Bloom encodings are made with."""
        return cycle_linkage_key(self.secret, period)


def key_period(period: str) -> str:
    """The month (``YYYY-MM``) a period's key is derived for: 2026-11 and 2026-11-30 agree."""
    match = _MONTH_RE.match(period)
    if match is None or len(period) not in (7, 10):
        raise ValueError(f"period {period!r} is not a period such as 2026-11 or 2026-11-30")
    return match.group(0)


def cycle_linkage_key(secret: bytes, period: str) -> bytes:
    """HKDF-SHA256 of the partnership secret for one period's month (32 bytes).

    Tokens of one cycle do not join to another's, and a leaked cycle key exposes that cycle
    only: HKDF is one-way, so neither the secret nor another period's key follows from it.
    """
    if len(secret) != PARTNERSHIP_KEY_LEN:
        raise ValueError(
            f"the partnership key must be {PARTNERSHIP_KEY_LEN} bytes, not {len(secret)}"
        )
    info = f"fraudmatch/v1/period/{key_period(period)}".encode()
    hkdf = HKDF(algorithm=hashes.SHA256(), length=PARTNERSHIP_KEY_LEN, salt=_CYCLE_SALT, info=info)
    return hkdf.derive(secret)


def key_generation_problem(meta: Mapping[str, str], expected: int, period: str) -> str | None:
    """Why a submission's key metadata does not fit its period, or None when it does.

    ``meta`` is the payload's Parquet metadata (:data:`GENERATION_META`,
    :data:`KEY_PERIOD_META`); ``expected`` the generation the partnership names for the period.
    """
    made = meta.get(GENERATION_META)
    if made is None:
        return (
            f"made without a linkage-key generation; period {period} uses generation "
            f"{expected}: prepare it again"
        )
    if made != str(expected):
        return (
            f"made with linkage-key generation {made}, but period {period} uses generation "
            f"{expected}: prepare it again with the generation-{expected} key"
        )
    keyed = meta.get(KEY_PERIOD_META)
    if keyed != key_period(period):
        return f"keyed for period {keyed}, not {period}: its tokens would not meet this period's"
    return None


def new_partnership_key(path: str | os.PathLike[str], generation: int = 1) -> Path:
    """Write a fresh 32-byte linkage key (mode 0600); never overwrite an existing one."""
    target = Path(path)
    if os.path.lexists(target):
        raise FileExistsError(f"{target} already exists: refusing to overwrite a partnership key")
    if generation < 1:
        raise ValueError(f"a key generation is a whole number from 1, not {generation}")
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = secrets.token_bytes(PARTNERSHIP_KEY_LEN)
    text = (
        "# fraudmatch partnership linkage key. SECRET: shared by the partner councils only,\n"
        "# never the hub. Compare the check value (not the key) to confirm you hold the same.\n"
        f"{PARTNERSHIP_TAG}: {KEY_FILE_VERSION}\n"
        f"generation: {generation}\n"
        f"check: {partnership_key_check(key)}\n"
        f"key: {_b64(key)}\n"
    )
    write_private_bytes(target, text.encode(), overwrite=False)
    return target


def rotate_partnership_key(
    current: str | os.PathLike[str], out: str | os.PathLike[str]
) -> tuple[Path, int]:
    """Write the next generation's key to ``out``; the current file is kept for old periods."""
    generation = load_linkage_key(current).generation + 1
    return new_partnership_key(out, generation), generation


def load_linkage_key(path: str | os.PathLike[str]) -> LinkageKey:
    """Load the linkage secret and its generation (a file without one is generation 1)."""
    source = Path(path)
    fields = _parse_fields(
        _read_secret_text(source), source, PARTNERSHIP_TAG, ("check", "key"), ("generation",)
    )
    key = _field_b64(fields, "key", PARTNERSHIP_KEY_LEN, source)
    if not hmac.compare_digest(fields["check"], partnership_key_check(key)):
        raise KeyFileError(
            f"{source}: the key does not match its check value (file corrupted or edited)"
        )
    raw = fields.get("generation", "1")
    if not raw.isdigit() or int(raw) < 1:
        raise KeyFileError(f"{source}: 'generation' must be a whole number from 1")
    return LinkageKey(key, int(raw))


def load_partnership_key(path: str | os.PathLike[str]) -> bytes:
    """Load the linkage secret, refusing a file that others could read or a corrupted copy."""
    return load_linkage_key(path).secret


def partnership_key_check(key: bytes) -> str:
    """A key check value partners can compare openly: it reveals nothing about the key."""
    return hmac.new(key, _KEY_CHECK_LABEL, hashlib.sha256).hexdigest()[:16]


# --------------------------------------------------------------------------- internals


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _fingerprint(name: str, enc_public_raw: bytes, sign_public_raw: bytes) -> str:
    """128 bits of SHA-256 over name and both keys, as 8 groups of 4 hex digits."""
    digest = hashlib.sha256(
        _FINGERPRINT_LABEL + name.encode() + b"\x00" + enc_public_raw + sign_public_raw
    ).hexdigest()[:32]
    return "-".join(digest[i : i + 4] for i in range(0, 32, 4))


def _make_identity(
    name: str, enc_public_raw: bytes, sign_public: Ed25519PublicKey
) -> PublicIdentity:
    mlkem_pub = mlkem.MLKEM768PublicKey.from_public_bytes(enc_public_raw[:MLKEM768_PUBLIC_LEN])
    x_pub = x25519.X25519PublicKey.from_public_bytes(enc_public_raw[MLKEM768_PUBLIC_LEN:])
    return PublicIdentity(
        name=name,
        enc_public=hpke.MLKEM768X25519PublicKey(mlkem_pub, x_pub),
        sign_public=sign_public,
        fingerprint=_fingerprint(name, enc_public_raw, sign_public.public_bytes_raw()),
        enc_public_raw=enc_public_raw,
    )


def _identity_from_raw(name: str, enc_public_raw: bytes, sign_public_raw: bytes) -> PublicIdentity:
    return _make_identity(name, enc_public_raw, Ed25519PublicKey.from_public_bytes(sign_public_raw))


def _party_from_secrets(name: str, enc_secret: bytes, sign_secret: bytes) -> PartyKeys:
    mlkem_key = mlkem.MLKEM768PrivateKey.from_seed_bytes(enc_secret[:MLKEM768_SEED_LEN])
    x_key = x25519.X25519PrivateKey.from_private_bytes(enc_secret[MLKEM768_SEED_LEN:])
    enc_public_raw = (
        mlkem_key.public_key().public_bytes_raw() + x_key.public_key().public_bytes_raw()
    )
    return PartyKeys(
        name=name,
        enc_private=hpke.MLKEM768X25519PrivateKey(mlkem_key, x_key),
        sign_private=Ed25519PrivateKey.from_private_bytes(sign_secret),
        enc_public_raw=enc_public_raw,
    )


def _new_secrets() -> tuple[bytes, bytes]:
    """Raw private key material: (ML-KEM-768 seed || X25519 private, Ed25519 private)."""
    enc_secret = (
        mlkem.MLKEM768PrivateKey.generate().private_bytes_raw()
        + x25519.X25519PrivateKey.generate().private_bytes_raw()
    )
    return enc_secret, Ed25519PrivateKey.generate().private_bytes_raw()


def _private_text(name: str, enc_secret: bytes, sign_secret: bytes) -> str:
    """The ``.private`` file text. Built from raw secrets because the hybrid key object
    cannot export its parts."""
    return (
        f"# fraudmatch private keys of party {name!r}.\n"
        "# SECRET: keep mode 0600, never send, back up offline. Send the .public file instead.\n"
        f"{PRIVATE_TAG}: {KEY_FILE_VERSION}\n"
        f"name: {name}\n"
        f"encryption: {_b64(enc_secret)}\n"
        f"signing: {_b64(sign_secret)}\n"
    )


def _read_secret_text(source: Path) -> str:
    """Read a secret file, checking on the open descriptor (no race) that only its owner can."""
    try:
        fd = os.open(source, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise KeyFileError(f"{source}: key file not found") from None
    except PermissionError:
        raise KeyFileError(f"{source}: permission denied reading the key file") from None
    with os.fdopen(fd, "rb") as handle:
        st = os.fstat(handle.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise KeyFileError(f"{source}: not a regular file")
        mode = stat.S_IMODE(st.st_mode)
        if mode & 0o077:
            raise KeyFilePermissionError(
                f"{source} has mode {mode:04o}: it is accessible to group/other users, and a "
                f"secret key file must be readable by its owner only. Fix with: chmod 600 {source}"
            )
        data = handle.read(1 << 20)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise KeyFileError(f"{source}: not a text key file") from None


def _parse_fields(
    text: str, source: object, tag: str, keys: tuple[str, ...], optional: tuple[str, ...] = ()
) -> dict[str, str]:
    """Parse ``key: value`` lines (``#`` comments allowed) into ``tag`` + ``keys`` (+ optional).

    Errors name the line number and key, never the value: values may be secret.
    """
    fields: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition(":")
        key = key.strip()
        if not sep or not key:
            raise KeyFileError(f"{source}: line {number} is not a 'key: value' line")
        if key in fields:
            raise KeyFileError(f"{source}: line {number} repeats '{key}'")
        fields[key] = value.strip()
    if tag not in fields:
        what = {PRIVATE_TAG: "private key", PUBLIC_TAG: "public key"}.get(tag, "partnership key")
        raise KeyFileError(f"{source}: not a fraudmatch {what} file (no '{tag}:' line)")
    if fields.pop(tag) != KEY_FILE_VERSION:
        raise KeyFileError(f"{source}: unsupported {tag} version (supported: {KEY_FILE_VERSION})")
    missing = [k for k in keys if k not in fields]
    if missing:
        raise KeyFileError(f"{source}: missing {', '.join(repr(k) for k in missing)}")
    unknown = sorted(set(fields) - set(keys) - set(optional))
    if unknown:
        raise KeyFileError(f"{source}: unknown key(s) {', '.join(repr(k) for k in unknown)}")
    return fields


def _field_name(value: str, source: object) -> str:
    try:
        return validate_party_name(value)
    except ValueError as exc:
        raise KeyFileError(f"{source}: 'name': {exc}") from None


def _field_b64(fields: Mapping[str, str], key: str, length: int, source: object) -> bytes:
    try:
        data = base64.b64decode(fields[key], validate=True)
    except (binascii.Error, ValueError):
        raise KeyFileError(f"{source}: '{key}' is not valid base64") from None
    if len(data) != length:
        raise KeyFileError(f"{source}: '{key}' is {len(data)} bytes long, expected {length}")
    return data


def _identity_from_fields(fields: Mapping[str, str], source: object) -> PublicIdentity:
    name = _field_name(fields["name"], source)
    enc_raw = _field_b64(fields, "encryption", ENC_PUBLIC_LEN, source)
    sign_raw = _field_b64(fields, "signing", ED25519_LEN, source)
    try:
        identity = _make_identity(name, enc_raw, Ed25519PublicKey.from_public_bytes(sign_raw))
    except ValueError:
        raise KeyFileError(f"{source}: the public key values are not valid keys") from None
    if fields["fingerprint"] != identity.fingerprint:
        raise KeyFileError(
            f"{source}: fingerprint {fields['fingerprint']} does not match the keys "
            f"(computed {identity.fingerprint}): the file was altered or damaged in transit"
        )
    return identity

"""Sealed files: the one format for partner submissions and hub bundles.

A sealed file is encrypted to one recipient and signed by its sender, streams
(memory stays flat however large the payload), and carries a small clear
header so an operator can list, route and de-duplicate files without keys.
The byte layout and the reasons behind it are in ``docs/sealed-format.md``.

Opening verifies everything (header, key wrap, every chunk, the final-chunk
flag, the signature, the payload hash) before the plaintext appears at its
destination; any failure raises a :class:`SealError` subclass whose message
names the file and says what an operator can do about it.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import stat
import struct
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from fraudmatch.common.fsutil import PRIVATE_MODE, atomic_write
from fraudmatch.sealing.keys import PartyKeys, PublicIdentity, validate_party_name

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "FORMAT_VERSION",
    "KINDS",
    "MAGIC",
    "SUITE",
    "BadSignature",
    "ChunkError",
    "Header",
    "HeaderError",
    "KeyUnwrapError",
    "NotASealedFile",
    "PayloadHashMismatch",
    "SealError",
    "SourceChanged",
    "TrailingData",
    "Truncated",
    "UnknownSender",
    "UnsupportedSuite",
    "UnsupportedVersion",
    "WrongKind",
    "WrongRecipient",
    "open_bytes",
    "open_file",
    "read_header",
    "seal_bytes",
    "seal_file",
]

MAGIC = b"\x89FMS\r\n\x1a\n"
FORMAT_VERSION = 1
SUPPORTED_VERSIONS = (1,)
SUITE = "mlkem768x25519-hkdfsha256-chacha20poly1305-ed25519"
KINDS = ("submission", "bundle")

DEFAULT_CHUNK_SIZE = 1 << 20
MAX_CHUNK_SIZE = 16 << 20
MAX_HEADER_SIZE = 64 << 10

_PREFIX = struct.Struct(">8sHI")  # magic, format version, header length
_HPKE = hpke.Suite(hpke.KEM.MLKEM768_X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.CHACHA20_POLY1305)
_CONTENT_KEY_LEN = 32
_TAG_LEN = 16
_WRAPPED_KEY_LEN = hpke.KEM.MLKEM768_X25519.enc_length() + _CONTENT_KEY_LEN + _TAG_LEN
_SIG_LEN = 64
_HPKE_INFO_LABEL = b"fraudmatch/seal/v1/content-key\x00"
_SIG_LABEL = b"fraudmatch/seal/v1/signature\x00"
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_FINGERPRINT = re.compile(r"[0-9a-f]{4}(-[0-9a-f]{4}){7}")
_MAX_LABEL = 128


# --------------------------------------------------------------------------- errors


class SealError(ValueError):
    """A sealed file cannot be written or opened; ``str()`` names the file and the cause.

    A ValueError, like every other bad-input error, so the CLI reports it in one line.
    """

    def __init__(self, source: object, cause: str) -> None:
        super().__init__(f"{source}: {cause}")
        self.source = str(source)
        self.cause = cause


class NotASealedFile(SealError):
    """The file does not start with the sealed-file magic bytes."""


class UnsupportedVersion(SealError):
    """The format version is not one this fraudmatch can read."""


class UnsupportedSuite(SealError):
    """The header names a cryptographic suite this fraudmatch does not implement."""


class HeaderError(SealError):
    """The clear header is not valid JSON or lacks a field: the file is damaged."""


class WrongRecipient(SealError):
    """The file was sealed to another party, or to another key of this party."""


class UnknownSender(SealError):
    """The sender is not a party of the partnership."""


class WrongKind(SealError):
    """A submission where a bundle was expected, or the reverse."""


class KeyUnwrapError(SealError):
    """The content key does not unwrap: header or key block altered, or another key."""


class Truncated(SealError):
    """The file ends before its header says it should."""


class TrailingData(SealError):
    """Bytes follow the signature: the file was appended to or concatenated."""


class ChunkError(SealError):
    """A payload chunk failed authentication (altered, reordered or spliced)."""

    def __init__(self, source: object, cause: str, index: int) -> None:
        super().__init__(source, cause)
        self.index = index


class BadSignature(SealError):
    """The signature does not verify with the sender's key in the partnership."""


class PayloadHashMismatch(SealError):
    """The decrypted payload does not match the hash and size in the header."""


class SourceChanged(SealError):
    """The source file changed while it was being sealed."""


# --------------------------------------------------------------------------- header


@dataclass(frozen=True)
class Header:
    """The clear header: who, what, when, and enough to route and dedupe without keys."""

    sender: str
    recipient: str
    kind: str
    dataset: str | None
    period: str
    created: str
    payload_sha256: str
    payload_size: int
    suite: str
    chunk_size: int
    sender_fingerprint: str
    recipient_fingerprint: str
    format_version: int = FORMAT_VERSION

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    @property
    def chunk_count(self) -> int:
        """At least one chunk: an empty payload still has an authenticated final chunk."""
        return max(1, -(-self.payload_size // self.chunk_size))


_STR_FIELDS = ("sender", "recipient", "kind", "period", "created", "payload_sha256", "suite")
_STR_FIELDS += ("sender_fingerprint", "recipient_fingerprint")
_INT_FIELDS = ("payload_size", "chunk_size")
_HEADER_FIELDS = frozenset((*_STR_FIELDS, *_INT_FIELDS, "dataset"))


def _header_json(header: Header) -> bytes:
    """Canonical JSON (sorted keys, no spaces): the same header always gives the same bytes."""
    fields = header.to_dict()
    del fields["format_version"]  # carried in the binary prefix, not the JSON
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _parse_header(raw: bytes, version: int, source: object) -> Header:
    """Decode and validate the JSON header; every failure is a HeaderError."""
    try:
        data = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicate_keys)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise HeaderError(source, "the header is not valid JSON: the file is damaged") from None
    if not isinstance(data, dict):
        raise HeaderError(source, "the header is not a JSON object: the file is damaged")
    missing = sorted(_HEADER_FIELDS - data.keys())
    unknown = sorted(data.keys() - _HEADER_FIELDS)
    if missing or unknown:
        problems = [
            f"{what} {names}"
            for what, names in (("missing", missing), ("unexpected", unknown))
            if names
        ]
        raise HeaderError(source, f"header fields {' and '.join(problems)}: the file is damaged")
    for name in _STR_FIELDS:
        _require(isinstance(data[name], str), source, f"'{name}' is not a string")
    for name in _INT_FIELDS:
        value = data[name]
        _require(type(value) is int and value >= 0, source, f"'{name}' is not a size")
    _require(data["dataset"] is None or isinstance(data["dataset"], str), source, "bad 'dataset'")
    header = Header(**data, format_version=version)
    _validate_header(header, source)
    return header


def _no_duplicate_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    """A repeated key would make the header mean different things to different readers."""
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate key in header")
    return result


def _validate_header(header: Header, source: object) -> None:
    """Check field values, shared by sealing (bad arguments) and opening (damaged file)."""
    for name in ("sender", "recipient"):
        _require(_is_party_name(getattr(header, name)), source, f"'{name}' is not a party name")
    _require(header.kind in KINDS, source, f"'kind' must be one of {list(KINDS)}")
    _require(_is_label(header.period), source, "'period' must be a short non-empty string")
    _require(header.dataset is None or _is_label(header.dataset), source, "bad 'dataset'")
    _require(_is_utc_timestamp(header.created), source, "'created' is not a UTC ISO timestamp")
    _require(bool(_SHA256_HEX.fullmatch(header.payload_sha256)), source, "bad 'payload_sha256'")
    _require(1 <= header.chunk_size <= MAX_CHUNK_SIZE, source, "'chunk_size' out of range")
    for name in ("sender_fingerprint", "recipient_fingerprint"):
        _require(bool(_FINGERPRINT.fullmatch(getattr(header, name))), source, f"bad '{name}'")


def _require(ok: bool, source: object, problem: str) -> None:
    if not ok:
        raise HeaderError(source, f"invalid header: {problem}")


def _is_party_name(value: str) -> bool:
    try:
        validate_party_name(value)
    except ValueError:
        return False
    return True


def _is_label(value: str) -> bool:
    return 0 < len(value) <= _MAX_LABEL and value.isprintable()


def _is_utc_timestamp(value: str) -> bool:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return False
    offset = parsed.utcoffset()
    return offset is not None and not offset


def _utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------- public API


def read_header(src: str | os.PathLike[str] | bytes) -> Header:
    """The clear header of a sealed file (path) or sealed bytes, without any key."""
    if isinstance(src, bytes):
        return _read_preamble(io.BytesIO(src), "<sealed bytes>")[0]
    with open(src, "rb") as handle:
        return _read_preamble(handle, src)[0]


def seal_file(
    src: Path,
    dst: Path,
    *,
    sender: PartyKeys,
    recipient: PublicIdentity,
    kind: str,
    dataset: str | None,
    period: str,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> Header:
    """Seal ``src`` to ``recipient``, signed by ``sender``; write ``dst`` atomically.

    Two streaming passes over ``src``: the first hashes it (the hash goes in the
    clear header), the second encrypts it and re-hashes, refusing with
    SourceChanged if the file changed in between.
    """
    with open(src, "rb") as handle:
        digest, size = _hash_source(handle)
    header = _new_header(sender, recipient, kind, dataset, period, digest, size, chunk_size, src)
    with open(src, "rb") as plain, atomic_write(dst) as out:
        _seal_stream(plain, out, header, sender, recipient, src)
    return header


def seal_bytes(
    data: bytes,
    *,
    sender: PartyKeys,
    recipient: PublicIdentity,
    kind: str,
    dataset: str | None,
    period: str,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> bytes:
    """Seal a small in-memory payload; same format as :func:`seal_file`."""
    source = "<bytes>"
    digest, size = _hash_source(io.BytesIO(data))
    header = _new_header(sender, recipient, kind, dataset, period, digest, size, chunk_size, source)
    out = io.BytesIO()
    _seal_stream(io.BytesIO(data), out, header, sender, recipient, source)
    return out.getvalue()


def open_file(
    src: Path,
    dst: Path,
    *,
    recipient: PartyKeys,
    senders: Mapping[str, PublicIdentity],
    expected_kind: str | None = None,
) -> Header:
    """Verify and decrypt ``src`` into ``dst`` (mode 0600).

    Plaintext goes to a temp file beside ``dst`` and is renamed onto it only
    once every check has passed; on any failure the temp file is removed,
    ``dst`` is untouched and a SealError says why.
    """
    with open(src, "rb") as sealed:
        size = _regular_file_size(sealed)
        with atomic_write(dst, mode=PRIVATE_MODE) as out:
            return _open_stream(sealed, out, size, recipient, senders, expected_kind, src)


def open_bytes(
    data: bytes,
    *,
    recipient: PartyKeys,
    senders: Mapping[str, PublicIdentity],
    expected_kind: str | None = None,
) -> tuple[Header, bytes]:
    """Verify and decrypt sealed bytes; returns the header and the plaintext."""
    out = io.BytesIO()
    header = _open_stream(
        io.BytesIO(data), out, len(data), recipient, senders, expected_kind, "<sealed bytes>"
    )
    return header, out.getvalue()


# --------------------------------------------------------------------------- sealing


def _hash_source(handle: BinaryIO) -> tuple[str, int]:
    """First pass: SHA-256 and size of the plaintext, for the clear header."""
    digest = hashlib.sha256()
    size = 0
    while block := handle.read(DEFAULT_CHUNK_SIZE):
        digest.update(block)
        size += len(block)
    return digest.hexdigest(), size


def _new_header(
    sender: PartyKeys,
    recipient: PublicIdentity,
    kind: str,
    dataset: str | None,
    period: str,
    digest: str,
    size: int,
    chunk_size: int,
    source: object,
) -> Header:
    header = Header(
        sender=sender.name,
        recipient=recipient.name,
        kind=kind,
        dataset=dataset,
        period=period,
        created=_utc_now(),
        payload_sha256=digest,
        payload_size=size,
        suite=SUITE,
        chunk_size=chunk_size,
        sender_fingerprint=sender.fingerprint,
        recipient_fingerprint=recipient.fingerprint,
    )
    try:
        _validate_header(header, source)
    except HeaderError as exc:  # at sealing time this is a caller mistake, not a damaged file
        raise ValueError(f"cannot seal {source}: {exc.cause}") from None
    return header


def _seal_stream(
    plain: BinaryIO,
    out: BinaryIO,
    header: Header,
    sender: PartyKeys,
    recipient: PublicIdentity,
    source: object,
) -> None:
    """Second pass: write preamble, wrapped key, chunks and signature."""
    header_bytes = _header_json(header)
    preamble = _PREFIX.pack(MAGIC, FORMAT_VERSION, len(header_bytes)) + header_bytes
    header_hash = hashlib.sha256(preamble).digest()
    content_key = ChaCha20Poly1305.generate_key()
    wrapped = _HPKE.encrypt(content_key, recipient.enc_public, info=_hpke_info(header_hash))
    aead = ChaCha20Poly1305(content_key)
    transcript = hashlib.sha256(preamble + wrapped)
    payload_hash = hashlib.sha256()
    out.write(preamble + wrapped)
    for index, length, final in _chunk_plan(header):
        block = _read_exact(plain, length)
        if len(block) != length:
            raise SourceChanged(source, "the file shrank while it was being sealed; seal it again")
        payload_hash.update(block)
        ciphertext = aead.encrypt(_nonce(index, final), block, header_hash)
        transcript.update(ciphertext)
        out.write(ciphertext)
    _check_source_unchanged(plain, payload_hash.hexdigest(), header, source)
    out.write(sender.sign_private.sign(_SIG_LABEL + transcript.digest()))


def _check_source_unchanged(plain: BinaryIO, digest: str, header: Header, source: object) -> None:
    """The header promised this hash and size: refuse to sign anything else."""
    if plain.read(1) or digest != header.payload_sha256:
        raise SourceChanged(source, "the file changed while it was being sealed; seal it again")


# --------------------------------------------------------------------------- opening


def _open_stream(
    sealed: BinaryIO,
    out: BinaryIO,
    total_size: int | None,
    recipient: PartyKeys,
    senders: Mapping[str, PublicIdentity],
    expected_kind: str | None,
    source: object,
) -> Header:
    """Check routing, unwrap the key, decrypt every chunk, then verify signature and hash."""
    header, preamble = _read_preamble(sealed, source)
    sender = _check_routing(header, recipient, senders, expected_kind, source)
    wrapped = _read_exact(sealed, _WRAPPED_KEY_LEN)
    if len(wrapped) != _WRAPPED_KEY_LEN:
        raise Truncated(source, "the file ends inside the key block (incomplete transfer?)")
    header_hash = hashlib.sha256(preamble).digest()
    aead = ChaCha20Poly1305(_unwrap(wrapped, header_hash, recipient, source))
    _check_total_size(header, len(preamble), total_size, source)
    transcript = hashlib.sha256(preamble + wrapped)
    payload_hash = hashlib.sha256()
    offset = len(preamble) + len(wrapped)
    for index, length, final in _chunk_plan(header):
        ciphertext = _read_exact(sealed, length + _TAG_LEN)
        if len(ciphertext) != length + _TAG_LEN:
            raise Truncated(
                source,
                f"the file ends inside chunk {index + 1} of {header.chunk_count} "
                "(incomplete transfer? fetch it again)",
            )
        transcript.update(ciphertext)
        block = _decrypt_chunk(aead, ciphertext, index, final, header, header_hash, offset, source)
        payload_hash.update(block)
        out.write(block)
        offset += len(ciphertext)
    _verify_signature(sealed, transcript.digest(), header, sender, source)
    _check_payload(payload_hash.hexdigest(), header, source)
    return header


def _read_preamble(sealed: BinaryIO, source: object) -> tuple[Header, bytes]:
    """Read magic, version and JSON header; returns the header and its exact bytes."""
    prefix = _read_exact(sealed, _PREFIX.size)
    if not prefix:
        raise NotASealedFile(source, "the file is empty, not a sealed fraudmatch file")
    if prefix[: len(MAGIC)] != MAGIC[: len(prefix)]:
        raise NotASealedFile(
            source,
            "not a sealed fraudmatch file (wrong magic bytes): check you picked the right "
            "file, and that it was transferred in binary mode",
        )
    if len(prefix) < _PREFIX.size:
        raise Truncated(
            source, "the file ends inside its first bytes (truncated or damaged; fetch it again)"
        )
    _, version, header_len = _PREFIX.unpack(prefix)
    if version not in SUPPORTED_VERSIONS:
        supported = ", ".join(map(str, SUPPORTED_VERSIONS))
        raise UnsupportedVersion(
            source,
            f"sealed-file format version {version}, but this fraudmatch reads version "
            f"{supported}: upgrade fraudmatch or ask the sender to reseal with a matching one "
            "(or, if the sender runs the same version, the file is damaged)",
        )
    if not 2 <= header_len <= MAX_HEADER_SIZE:
        raise HeaderError(source, f"header length {header_len} is implausible: the file is damaged")
    raw = _read_exact(sealed, header_len)
    if len(raw) != header_len:
        raise Truncated(
            source, "the file ends inside its header (truncated or damaged; fetch it again)"
        )
    header = _parse_header(raw, version, source)
    if header.suite != SUITE:
        raise UnsupportedSuite(
            source, f"cipher suite {header.suite!r} is not supported (this fraudmatch: {SUITE!r})"
        )
    return header, prefix + raw


def _check_routing(
    header: Header,
    recipient: PartyKeys,
    senders: Mapping[str, PublicIdentity],
    expected_kind: str | None,
    source: object,
) -> PublicIdentity:
    """Refuse early, before decrypting, a file that is not for us or not from a partner."""
    if header.recipient != recipient.name:
        raise WrongRecipient(
            source, f"the file is for {header.recipient!r}, but you are {recipient.name!r}"
        )
    if header.recipient_fingerprint != recipient.fingerprint:
        raise WrongRecipient(
            source,
            f"the file is for {header.recipient!r} key {header.recipient_fingerprint}, but your "
            f"private key is {recipient.fingerprint}: it was sealed to an old or different key "
            f"of {header.recipient!r}; ask the sender to reseal with your current public key",
        )
    sender = senders.get(header.sender)
    if sender is None:
        known = ", ".join(sorted(senders)) or "none"
        raise UnknownSender(
            source,
            f"sender {header.sender!r} is not in the partnership (known: {known}); "
            "add its public key to the partnership config only if it really is a partner",
        )
    if header.sender_fingerprint != sender.fingerprint:
        raise BadSignature(
            source,
            f"signed with {header.sender!r} key {header.sender_fingerprint}, but the partnership "
            f"lists {header.sender!r} key {sender.fingerprint}: the sender has new keys, or "
            "someone else made this file; confirm the fingerprint with the sender",
        )
    if expected_kind is not None and header.kind != expected_kind:
        raise WrongKind(source, f"this is a {header.kind}, but a {expected_kind} was expected")
    return sender


def _unwrap(wrapped: bytes, header_hash: bytes, recipient: PartyKeys, source: object) -> bytes:
    """HPKE-decrypt the content key; the info binds it to these exact header bytes."""
    try:
        key = _HPKE.decrypt(wrapped, recipient.enc_private, info=_hpke_info(header_hash))
    except (InvalidTag, ValueError):
        key = b""
    if len(key) != _CONTENT_KEY_LEN:
        raise KeyUnwrapError(
            source,
            f"the content key does not unwrap with the private key of {recipient.name!r}: "
            "the header or key block was altered after sealing (or the file is damaged); "
            "ask the sender for a fresh copy",
        )
    return key


def _check_total_size(
    header: Header, preamble_len: int, total_size: int | None, source: object
) -> None:
    """With a regular file, catch truncation or appended bytes before decrypting gigabytes."""
    if total_size is None:
        return
    body = header.payload_size + header.chunk_count * _TAG_LEN
    expected = preamble_len + _WRAPPED_KEY_LEN + body + _SIG_LEN
    if total_size < expected:
        raise Truncated(
            source,
            f"the file is {total_size} bytes but its header says {expected}: it is truncated "
            "(incomplete transfer? fetch it again)",
        )
    if total_size > expected:
        raise TrailingData(source, _trailing_message(total_size - expected))


def _trailing_message(extra: int | None) -> str:
    amount = f"{extra} unexpected bytes" if extra else "unexpected bytes"
    return (
        f"{amount} after the final chunk and signature: the file was appended to or "
        "concatenated with another; fetch a clean copy"
    )


def _decrypt_chunk(
    aead: ChaCha20Poly1305,
    ciphertext: bytes,
    index: int,
    final: bool,
    header: Header,
    header_hash: bytes,
    offset: int,
    source: object,
) -> bytes:
    try:
        return aead.decrypt(_nonce(index, final), ciphertext, header_hash)
    except InvalidTag:
        raise ChunkError(
            source,
            f"chunk {index + 1} of {header.chunk_count} (at byte {offset}) failed "
            "authentication: the file was altered, its chunks reordered, or a chunk from "
            "another file spliced in; fetch a fresh copy",
            index,
        ) from None


def _verify_signature(
    sealed: BinaryIO, digest: bytes, header: Header, sender: PublicIdentity, source: object
) -> None:
    signature = _read_exact(sealed, _SIG_LEN)
    if len(signature) != _SIG_LEN:
        raise Truncated(source, "the file ends inside its signature (incomplete transfer?)")
    if sealed.read(1):
        raise TrailingData(source, _trailing_message(None))
    try:
        sender.sign_public.verify(signature, _SIG_LABEL + digest)
    except InvalidSignature:
        raise BadSignature(
            source,
            f"the signature does not verify with the key of sender {header.sender!r} "
            f"({sender.fingerprint}): the file was altered, or signed with a different key",
        ) from None


def _check_payload(digest: str, header: Header, source: object) -> None:
    if digest != header.payload_sha256:
        raise PayloadHashMismatch(
            source,
            f"the decrypted payload has SHA-256 {digest}, but the header says "
            f"{header.payload_sha256}: the sender's software sealed inconsistent data; "
            "ask the sender to reseal",
        )


# --------------------------------------------------------------------------- helpers


def _chunk_plan(header: Header) -> Iterator[tuple[int, int, bool]]:
    """(index, plaintext length, is final) for every chunk the header implies."""
    count = header.chunk_count
    for index in range(count):
        start = index * header.chunk_size
        length = min(header.chunk_size, header.payload_size - start)
        yield index, length, index == count - 1


def _nonce(index: int, final: bool) -> bytes:
    """STREAM nonce: 88-bit big-endian chunk counter, then 1 byte final-chunk flag."""
    return index.to_bytes(11, "big") + (b"\x01" if final else b"\x00")


def _hpke_info(header_hash: bytes) -> bytes:
    return _HPKE_INFO_LABEL + header_hash


def _read_exact(handle: BinaryIO, size: int) -> bytes:
    """Read ``size`` bytes, fewer only at end of file (pipes may return short reads)."""
    parts: list[bytes] = []
    remaining = size
    while remaining > 0:
        block = handle.read(remaining)
        if not block:
            break
        parts.append(block)
        remaining -= len(block)
    return b"".join(parts)


def _regular_file_size(handle: BinaryIO) -> int | None:
    st = os.fstat(handle.fileno())
    return st.st_size if stat.S_ISREG(st.st_mode) else None

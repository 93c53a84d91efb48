"""The sealed file's clear part: constants, errors, the JSON header and the preamble reader.

Everything here is readable without a key, so an operator can list, route and
de-duplicate sealed files; the encrypted body is :mod:`fraudmatch.sealing.seal`.
The byte layout is in ``docs/sealed-format.md``.
"""

from __future__ import annotations

import io
import json
import os
import re
import struct
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import BinaryIO

from fraudmatch.sealing.keys import validate_party_name

MAGIC = b"\x89FMS\r\n\x1a\n"
FORMAT_VERSION = 1
SUPPORTED_VERSIONS = (1,)
SUITE = "mlkem768x25519-hkdfsha256-chacha20poly1305-ed25519"
KINDS = ("submission", "bundle", "outcomes")
"""``outcomes``: a partner's filled-in case list back to the hub (fraudmatch.review.returns)."""

DEFAULT_CHUNK_SIZE = 1 << 20
MAX_CHUNK_SIZE = 16 << 20
MAX_HEADER_SIZE = 64 << 10

PREFIX = struct.Struct(">8sHI")  # magic, format version, header length
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


class KeyNotValid(SealError):
    """The file names a key of its sender or recipient that is not valid for its period."""


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
    #: bundles only: 1 for a run's first bundle to a partner, 2 when late data changed its
    #: cases, ...; the newest version of a run supersedes the earlier ones
    bundle_version: int | None = None
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
_OPTIONAL_FIELDS = frozenset(("bundle_version",))


def header_json(header: Header) -> bytes:
    """Canonical JSON (sorted keys, no spaces): the same header always gives the same bytes."""
    fields = header.to_dict()
    del fields["format_version"]  # carried in the binary prefix, not the JSON
    for name in _OPTIONAL_FIELDS:
        if fields[name] is None:
            del fields[name]  # absent, not null: submissions' headers are as before
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _parse_header(raw: bytes, format_version: int, source: object) -> Header:
    """Decode and validate the JSON header; every failure is a HeaderError."""
    try:
        data = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicate_keys)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise HeaderError(source, "the header is not valid JSON: the file is damaged") from None
    if not isinstance(data, dict):
        raise HeaderError(source, "the header is not a JSON object: the file is damaged")
    missing = sorted(_HEADER_FIELDS - data.keys())
    unknown = sorted(data.keys() - _HEADER_FIELDS - _OPTIONAL_FIELDS)
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
    version = data.get("bundle_version")
    _require(version is None or type(version) is int, source, "'bundle_version' is not a number")
    header = Header(**data, format_version=format_version)
    validate_header(header, source)
    return header


def _no_duplicate_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    """A repeated key would make the header mean different things to different readers."""
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate key in header")
    return result


def validate_header(header: Header, source: object) -> None:
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


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------- preamble


def read_header(src: str | os.PathLike[str] | bytes) -> Header:
    """The clear header of a sealed file (path) or sealed bytes, without any key."""
    if isinstance(src, bytes):
        return read_preamble(io.BytesIO(src), "<sealed bytes>")[0]
    with open(src, "rb") as handle:
        return read_preamble(handle, src)[0]


def read_preamble(sealed: BinaryIO, source: object) -> tuple[Header, bytes]:
    """Read magic, version and JSON header; returns the header and its exact bytes."""
    prefix = read_exact(sealed, PREFIX.size)
    if not prefix:
        raise NotASealedFile(source, "the file is empty, not a sealed fraudmatch file")
    if prefix[: len(MAGIC)] != MAGIC[: len(prefix)]:
        raise NotASealedFile(
            source,
            "not a sealed fraudmatch file (wrong magic bytes): check you picked the right "
            "file, and that it was transferred in binary mode",
        )
    if len(prefix) < PREFIX.size:
        raise Truncated(
            source, "the file ends inside its first bytes (truncated or damaged; fetch it again)"
        )
    _, version, header_len = PREFIX.unpack(prefix)
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
    raw = read_exact(sealed, header_len)
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


def read_exact(handle: BinaryIO, size: int) -> bytes:
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

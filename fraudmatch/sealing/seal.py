"""Sealed files: the one format for partner submissions and hub bundles.

A sealed file is encrypted to one recipient and signed by its sender, streams
(memory stays flat however large the payload), and carries a small clear
header so an operator can list, route and de-duplicate files without keys
(that clear part, with the errors, is :mod:`fraudmatch.sealing.header`).
The byte layout and the reasons behind it are in ``docs/sealed-format.md``.

Opening verifies everything (header, key wrap, every chunk, the final-chunk
flag, the signature, the payload hash) before the plaintext appears at its
destination; any failure raises a :class:`SealError` subclass whose message
names the file and says what an operator can do about it.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from fraudmatch.common.fsutil import PRIVATE_MODE, atomic_write, crash_point
from fraudmatch.sealing.header import (
    DEFAULT_CHUNK_SIZE,
    FORMAT_VERSION,
    KINDS,
    MAGIC,
    PREFIX,
    SUITE,
    BadSignature,
    ChunkError,
    Header,
    HeaderError,
    KeyNotValid,
    KeyUnwrapError,
    NotASealedFile,
    PayloadHashMismatch,
    SealError,
    SourceChanged,
    TrailingData,
    Truncated,
    UnknownSender,
    UnsupportedSuite,
    UnsupportedVersion,
    WrongKind,
    WrongRecipient,
    header_json,
    read_exact,
    read_header,
    read_preamble,
    utc_now,
    validate_header,
)
from fraudmatch.sealing.keyring import Keyring, KeySchedule, KeyValidityError, as_keyring
from fraudmatch.sealing.keys import PartyKeys, PublicIdentity

Recipient = PartyKeys | Keyring
"""The receiver's private keys: one pair, or a keyring chosen from by the header's fingerprint."""
Senders = Mapping[str, PublicIdentity | KeySchedule]
"""Who may send, by name: one key each, or a key schedule checked against the file's period."""

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
    "KeyNotValid",
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
    "verify_file",
]

_HPKE = hpke.Suite(hpke.KEM.MLKEM768_X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.CHACHA20_POLY1305)
_CONTENT_KEY_LEN = 32
_TAG_LEN = 16
_WRAPPED_KEY_LEN = hpke.KEM.MLKEM768_X25519.enc_length() + _CONTENT_KEY_LEN + _TAG_LEN
_SIG_LEN = 64
_HPKE_INFO_LABEL = b"fraudmatch/seal/v1/content-key\x00"
_SIG_LABEL = b"fraudmatch/seal/v1/signature\x00"


# --------------------------------------------------------------------------- public API


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
    bundle_version: int | None = None,
) -> Header:
    """Seal ``src`` to ``recipient``, signed by ``sender``; write ``dst`` atomically.

    Two streaming passes over ``src``: the first hashes it (the hash goes in the
    clear header), the second encrypts it and re-hashes, refusing with
    SourceChanged if the file changed in between.
    """
    with open(src, "rb") as handle:
        digest, size = _hash_source(handle)
    header = _new_header(sender, recipient, kind, dataset, period, digest, size, chunk_size, src)
    if bundle_version is not None:
        header = replace(header, bundle_version=bundle_version)
        _validated(header, src)
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
    recipient: Recipient,
    senders: Senders,
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


def verify_file(
    src: Path,
    *,
    recipient: Recipient,
    senders: Senders,
    expected_kind: str | None = None,
) -> Header:
    """Every check of :func:`open_file`, with the plaintext discarded (nothing is written):
    to authenticate a file before judging it, e.g. as a duplicate of one already stored."""
    with open(src, "rb") as sealed:
        size = _regular_file_size(sealed)
        return _open_stream(sealed, _Discard(), size, recipient, senders, expected_kind, src)


class _Discard(io.RawIOBase):
    """A sink that drops what is written (verification needs no plaintext)."""

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        return len(data)


def open_bytes(
    data: bytes,
    *,
    recipient: Recipient,
    senders: Senders,
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
        created=utc_now(),
        payload_sha256=digest,
        payload_size=size,
        suite=SUITE,
        chunk_size=chunk_size,
        sender_fingerprint=sender.fingerprint,
        recipient_fingerprint=recipient.fingerprint,
    )
    return _validated(header, source)


def _validated(header: Header, source: object) -> Header:
    try:
        validate_header(header, source)
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
    header_bytes = header_json(header)
    preamble = PREFIX.pack(MAGIC, FORMAT_VERSION, len(header_bytes)) + header_bytes
    header_hash = hashlib.sha256(preamble).digest()
    content_key = ChaCha20Poly1305.generate_key()
    wrapped = _HPKE.encrypt(content_key, recipient.enc_public, info=_hpke_info(header_hash))
    aead = ChaCha20Poly1305(content_key)
    transcript = hashlib.sha256(preamble + wrapped)
    payload_hash = hashlib.sha256()
    out.write(preamble + wrapped)
    for index, length, final in _chunk_plan(header):
        block = read_exact(plain, length)
        if len(block) != length:
            raise SourceChanged(source, "the file shrank while it was being sealed; seal it again")
        payload_hash.update(block)
        ciphertext = aead.encrypt(_nonce(index, final), block, header_hash)
        transcript.update(ciphertext)
        out.write(ciphertext)
    _check_source_unchanged(plain, payload_hash.hexdigest(), header, source)
    crash_point(f"sealing-{header.kind}")
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
    recipient: Recipient,
    senders: Senders,
    expected_kind: str | None,
    source: object,
) -> Header:
    """Check routing, unwrap the key, decrypt every chunk, then verify signature and hash."""
    header, preamble = read_preamble(sealed, source)
    sender, keys = _check_routing(header, recipient, senders, expected_kind, source)
    wrapped = read_exact(sealed, _WRAPPED_KEY_LEN)
    if len(wrapped) != _WRAPPED_KEY_LEN:
        raise Truncated(source, "the file ends inside the key block (incomplete transfer?)")
    header_hash = hashlib.sha256(preamble).digest()
    aead = ChaCha20Poly1305(_unwrap(wrapped, header_hash, keys, source))
    _check_total_size(header, len(preamble), total_size, source)
    transcript = hashlib.sha256(preamble + wrapped)
    payload_hash = hashlib.sha256()
    offset = len(preamble) + len(wrapped)
    for index, length, final in _chunk_plan(header):
        ciphertext = read_exact(sealed, length + _TAG_LEN)
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


def _check_routing(
    header: Header,
    recipient: Recipient,
    senders: Senders,
    expected_kind: str | None,
    source: object,
) -> tuple[PublicIdentity, PartyKeys]:
    """Refuse early, before decrypting, a file that is not for us or not from a partner;
    returns the sender's key and our private key the file names."""
    ring = as_keyring(recipient)
    if header.recipient != ring.name:
        raise WrongRecipient(
            source, f"the file is for {header.recipient!r}, but you are {ring.name!r}"
        )
    mine = ring.get(header.recipient_fingerprint)
    if mine is None:
        raise WrongRecipient(
            source,
            f"the file is for {header.recipient!r} key {header.recipient_fingerprint}, but your "
            f"private key is {', '.join(ring.fingerprints)}: it was sealed to an old or "
            f"different key of {header.recipient!r}; ask the sender to reseal with your "
            "current public key",
        )
    listed = senders.get(header.sender)
    if listed is None:
        known = ", ".join(sorted(senders)) or "none"
        raise UnknownSender(
            source,
            f"sender {header.sender!r} is not in the partnership (known: {known}); "
            "add its public key to the partnership config only if it really is a partner",
        )
    if isinstance(listed, KeySchedule):
        try:
            sender = listed.check(header.sender_fingerprint, header.period)
        except KeyValidityError as exc:
            raise KeyNotValid(source, f"signed with {exc}") from None
    else:
        sender = listed
    if header.sender_fingerprint != sender.fingerprint:
        raise BadSignature(
            source,
            f"signed with {header.sender!r} key {header.sender_fingerprint}, but the partnership "
            f"lists {header.sender!r} key {sender.fingerprint}: the sender has new keys, or "
            "someone else made this file; confirm the fingerprint with the sender",
        )
    if expected_kind is not None and header.kind != expected_kind:
        raise WrongKind(source, f"this is a {header.kind}, but a {expected_kind} was expected")
    return sender, mine


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
    signature = read_exact(sealed, _SIG_LEN)
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


def _regular_file_size(handle: BinaryIO) -> int | None:
    st = os.fstat(handle.fileno())
    return st.st_size if stat.S_ISREG(st.st_mode) else None

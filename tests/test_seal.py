"""Sealed files: round trips, every refusal with its message, and atomic outputs."""

from __future__ import annotations

import json
import os
import stat
import struct
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fraudmatch.common.fsutil import (
    atomic_path,
    atomic_write,
    atomic_write_bytes,
    write_private_bytes,
)
from fraudmatch.sealing import seal
from fraudmatch.sealing.keys import PartyKeys, PublicIdentity, generate_party
from fraudmatch.sealing.seal import (
    BadSignature,
    ChunkError,
    HeaderError,
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
    open_bytes,
    open_file,
    read_header,
    seal_bytes,
    seal_file,
)

CHUNK = 64
TAG = 16
PREFIX = struct.Struct(">8sHI")
WRAPPED = 1168
SIG = 64


@pytest.fixture(scope="module")
def hub() -> PartyKeys:
    return generate_party("hub")


@pytest.fixture(scope="module")
def leeds() -> PartyKeys:
    return generate_party("leeds")


@pytest.fixture(scope="module")
def senders(hub: PartyKeys, leeds: PartyKeys) -> dict[str, PublicIdentity]:
    return {"hub": hub.public(), "leeds": leeds.public()}


def _seal(data: bytes, sender: PartyKeys, recipient: PartyKeys, **kw: object) -> bytes:
    args: dict[str, object] = {"kind": "submission", "dataset": "payroll", "period": "2026-11"}
    args.update(kw)
    return seal_bytes(
        data,
        sender=sender,
        recipient=recipient.public(),
        chunk_size=CHUNK,
        **args,  # type: ignore[arg-type]
    )


def _layout(blob: bytes) -> tuple[int, list[tuple[int, int]]]:
    """(offset of the first chunk, [(start, end) of each chunk]) of a sealed blob."""
    _, _, header_len = PREFIX.unpack_from(blob)
    header = json.loads(blob[PREFIX.size : PREFIX.size + header_len])
    start = PREFIX.size + header_len + WRAPPED
    chunks, offset, remaining = [], start, header["payload_size"]
    while True:
        length = min(header["chunk_size"], remaining) + TAG
        chunks.append((offset, offset + length))
        offset, remaining = offset + length, remaining - (length - TAG)
        if remaining <= 0:
            break
    return start, chunks


def _rewrite_header(blob: bytes, **changes: object) -> bytes:
    """Edit header fields (re-encoding the JSON and its length), leaving the rest as is."""
    magic, version, header_len = PREFIX.unpack_from(blob)
    header = json.loads(blob[PREFIX.size : PREFIX.size + header_len])
    header.update(changes)
    raw = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    return PREFIX.pack(magic, version, len(raw)) + raw + blob[PREFIX.size + header_len :]


def _flip(blob: bytes, position: int, mask: int = 0x01) -> bytes:
    out = bytearray(blob)
    out[position] ^= mask
    return bytes(out)


def _refuse(
    blob: bytes, recipient: PartyKeys, senders: dict[str, PublicIdentity], **kw: object
) -> SealError:
    with pytest.raises(SealError) as info:
        open_bytes(blob, recipient=recipient, senders=senders, **kw)  # type: ignore[arg-type]
    return info.value


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 5 * CHUNK + 7])
def test_file_round_trip(
    tmp_path: Path, size: int, hub: PartyKeys, leeds: PartyKeys, senders: dict
) -> None:
    payload = os.urandom(size)
    src, sealed, out = tmp_path / "extract.parquet", tmp_path / "x.sealed", tmp_path / "out"
    src.write_bytes(payload)
    header = seal_file(
        src,
        sealed,
        sender=leeds,
        recipient=hub.public(),
        kind="submission",
        dataset="payroll",
        period="2026-11",
        chunk_size=CHUNK,
    )
    assert header.payload_size == size and header.chunk_count == max(1, -(-size // CHUNK))
    assert read_header(sealed) == header
    opened = open_file(sealed, out, recipient=hub, senders=senders, expected_kind="submission")
    assert opened == header
    assert out.read_bytes() == payload
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["extract.parquet", "out", "x.sealed"]
    assert payload not in sealed.read_bytes() or size < 8


def test_header_is_readable_without_keys(hub: PartyKeys, leeds: PartyKeys) -> None:
    payload = b"record_id,token\n1,abc\n"
    blob = _seal(payload, leeds, hub, kind="bundle", dataset=None, period="2026-Q4")
    header = read_header(blob)
    assert (header.sender, header.recipient, header.kind) == ("leeds", "hub", "bundle")
    assert header.dataset is None and header.period == "2026-Q4"
    assert header.payload_size == len(payload) and header.chunk_size == CHUNK
    assert header.suite == seal.SUITE and header.format_version == seal.FORMAT_VERSION
    assert header.created.endswith("Z")
    assert header.sender_fingerprint == leeds.fingerprint
    assert header.recipient_fingerprint == hub.fingerprint
    import hashlib

    assert header.payload_sha256 == hashlib.sha256(payload).hexdigest()
    assert blob.startswith(seal.MAGIC)


def test_bytes_round_trip_default_chunk(hub: PartyKeys, leeds: PartyKeys, senders: dict) -> None:
    payload = os.urandom(3 * 1024 * 1024 + 5)
    blob = seal_bytes(
        payload,
        sender=hub,
        recipient=leeds.public(),
        kind="bundle",
        dataset=None,
        period="2026-11",
    )
    header, opened = open_bytes(blob, recipient=leeds, senders=senders, expected_kind="bundle")
    assert opened == payload and header.chunk_count == 4


def test_sealing_twice_gives_different_ciphertexts(hub: PartyKeys, leeds: PartyKeys) -> None:
    a, b = _seal(b"same", leeds, hub), _seal(b"same", leeds, hub)
    assert a != b
    assert read_header(a).payload_sha256 == read_header(b).payload_sha256  # dedupe key


def test_seal_rejects_bad_arguments(hub: PartyKeys, leeds: PartyKeys) -> None:
    with pytest.raises(ValueError, match="'kind'"):
        _seal(b"x", leeds, hub, kind="letter")
    with pytest.raises(ValueError, match="'period'"):
        _seal(b"x", leeds, hub, period="")
    with pytest.raises(ValueError, match="'chunk_size'"):
        seal_bytes(
            b"x",
            sender=leeds,
            recipient=hub.public(),
            kind="bundle",
            dataset=None,
            period="p",
            chunk_size=0,
        )


# --------------------------------------------------------------------------- refusals


@pytest.fixture(scope="module")
def blob(hub: PartyKeys, leeds: PartyKeys) -> bytes:
    """A 4-chunk submission from leeds to the hub."""
    return _seal(bytes(range(3 * CHUNK)) + b"tail", leeds, hub)


def test_not_a_sealed_file(hub: PartyKeys, senders: dict, blob: bytes) -> None:
    err = _refuse(b"record_id,surname\n1,SMITH\n", hub, senders)
    assert isinstance(err, NotASealedFile) and "wrong magic bytes" in str(err)
    assert isinstance(_refuse(b"", hub, senders), NotASealedFile)
    assert isinstance(_refuse(_flip(blob, 0), hub, senders), NotASealedFile)
    assert isinstance(_refuse(_flip(blob, 5), hub, senders), NotASealedFile)


def test_not_a_sealed_file_names_the_file(tmp_path: Path, hub: PartyKeys, senders: dict) -> None:
    src = tmp_path / "extract.csv"
    src.write_text("record_id\n1\n")
    with pytest.raises(NotASealedFile, match=r"extract\.csv: not a sealed fraudmatch file"):
        open_file(src, tmp_path / "out", recipient=hub, senders=senders)
    with pytest.raises(NotASealedFile, match=r"extract\.csv"):
        read_header(src)


def test_unsupported_version(hub: PartyKeys, senders: dict, blob: bytes) -> None:
    future = blob[:8] + struct.pack(">H", 2) + blob[10:]
    err = _refuse(future, hub, senders)
    assert isinstance(err, UnsupportedVersion)
    assert "version 2" in str(err) and "reads version 1" in str(err)
    with pytest.raises(UnsupportedVersion):
        read_header(future)


def test_unsupported_suite(hub: PartyKeys, senders: dict, blob: bytes) -> None:
    err = _refuse(_rewrite_header(blob, suite="rot13"), hub, senders)
    assert isinstance(err, UnsupportedSuite) and "'rot13'" in str(err)


def test_damaged_header(hub: PartyKeys, senders: dict, blob: bytes) -> None:
    _, _, header_len = PREFIX.unpack_from(blob)
    brace = PREFIX.size  # the header's opening '{'
    assert isinstance(_refuse(_flip(blob, brace), hub, senders), HeaderError)
    huge = blob[:10] + struct.pack(">I", 1 << 30) + blob[14:]
    assert "implausible" in str(_refuse(huge, hub, senders))
    missing = _rewrite_header(blob, period=None)
    assert "'period'" in str(_refuse(missing, hub, senders))
    raw = blob[PREFIX.size : PREFIX.size + header_len].replace(b'"kind"', b'"kinf"')
    assert "missing ['kind'] and unexpected ['kinf']" in str(
        _refuse(blob[: PREFIX.size] + raw + blob[14 + header_len :], hub, senders)
    )


def test_truncated(hub: PartyKeys, senders: dict, blob: bytes) -> None:
    start, chunks = _layout(blob)
    for cut in (5, 12, PREFIX.size + 3, start - 1, chunks[1][0] + 3, chunks[-1][1], len(blob) - 1):
        err = _refuse(blob[:cut], hub, senders)
        assert isinstance(err, Truncated), (cut, err)
        assert "truncated" in str(err) or "ends inside" in str(err)


def test_truncated_stream_without_size(hub: PartyKeys, senders: dict, blob: bytes) -> None:
    """A pipe has no size up front: truncation is still caught while reading."""
    import io

    start, chunks = _layout(blob)
    for cut in (chunks[2][0] + 1, chunks[-1][1], len(blob) - 1):
        with pytest.raises(Truncated, match="ends inside"):
            seal._open_stream(
                io.BytesIO(blob[:cut]), io.BytesIO(), None, hub, senders, None, "<pipe>"
            )


def test_trailing_data(hub: PartyKeys, senders: dict, blob: bytes) -> None:
    err = _refuse(blob + b"\n", hub, senders)
    assert isinstance(err, TrailingData) and "1 unexpected bytes" in str(err)
    assert isinstance(_refuse(blob + blob, hub, senders), TrailingData)


def test_trailing_data_stream_without_size(hub: PartyKeys, senders: dict, blob: bytes) -> None:
    import io

    with pytest.raises(TrailingData, match="appended"):
        seal._open_stream(io.BytesIO(blob + b"x"), io.BytesIO(), None, hub, senders, None, "<p>")


def test_flipped_chunk_byte(hub: PartyKeys, senders: dict, blob: bytes) -> None:
    _, chunks = _layout(blob)
    err = _refuse(_flip(blob, chunks[2][0] + 10), hub, senders)
    assert isinstance(err, ChunkError) and err.index == 2
    assert "chunk 3 of 4" in str(err) and "failed authentication" in str(err)


def test_swapped_chunks(hub: PartyKeys, senders: dict, blob: bytes) -> None:
    _, ((a0, a1), (b0, b1), *_) = _layout(blob)
    swapped = blob[:a0] + blob[b0:b1] + blob[a0:a1] + blob[b1:]
    err = _refuse(swapped, hub, senders)
    assert isinstance(err, ChunkError) and "chunk 1 of 4" in str(err)
    assert "reordered" in str(err)


def test_last_chunk_moved_or_dropped(hub: PartyKeys, leeds: PartyKeys, senders: dict) -> None:
    """Full chunks only: dropping the final chunk or duplicating one is caught."""
    full = _seal(os.urandom(3 * CHUNK), leeds, hub)
    _, chunks = _layout(full)
    (c0, c1), (d0, d1) = chunks[1], chunks[2]
    # middle chunk replaced by the final one (same length): the final flag differs
    moved = full[:c0] + full[d0:d1] + full[c1:]
    assert isinstance(_refuse(moved, hub, senders), ChunkError)


def test_chunk_spliced_from_another_file(hub: PartyKeys, leeds: PartyKeys, senders: dict) -> None:
    payload = os.urandom(4 * CHUNK)
    first, second = _seal(payload, leeds, hub), _seal(payload, leeds, hub)
    _, chunks = _layout(first)
    start, end = chunks[1]
    assert _layout(second)[1][1] == (start, end)  # same layout, same header size
    spliced = first[:start] + second[start:end] + first[end:]
    err = _refuse(spliced, hub, senders)
    assert isinstance(err, ChunkError) and "chunk 2 of 4" in str(err) and "spliced" in str(err)


def test_wrong_recipient(hub: PartyKeys, leeds: PartyKeys, senders: dict, blob: bytes) -> None:
    err = _refuse(blob, leeds, senders)
    assert isinstance(err, WrongRecipient)
    assert "the file is for 'hub', but you are 'leeds'" in str(err)


def test_wrong_recipient_key_same_name(hub: PartyKeys, senders: dict, blob: bytes) -> None:
    new_hub = generate_party("hub")
    err = _refuse(blob, new_hub, senders)
    assert isinstance(err, WrongRecipient)
    assert hub.fingerprint in str(err) and new_hub.fingerprint in str(err)


def test_unknown_sender(hub: PartyKeys, blob: bytes) -> None:
    err = _refuse(blob, hub, {"hub": hub.public(), "york": generate_party("york").public()})
    assert isinstance(err, UnknownSender)
    assert "sender 'leeds' is not in the partnership" in str(err) and "hub, york" in str(err)


def test_wrong_sender_key(hub: PartyKeys, blob: bytes) -> None:
    impostor = generate_party("leeds")
    err = _refuse(blob, hub, {"hub": hub.public(), "leeds": impostor.public()})
    assert isinstance(err, BadSignature) and impostor.fingerprint in str(err)


def test_signed_by_other_key_with_matching_header(
    monkeypatch: pytest.MonkeyPatch, hub: PartyKeys, leeds: PartyKeys, senders: dict
) -> None:
    """A forger who copies leeds' fingerprint into the header still fails the signature."""
    impostor = generate_party("leeds")
    real_fingerprint = leeds.fingerprint
    monkeypatch.setattr(PartyKeys, "fingerprint", property(lambda self: real_fingerprint))
    forged = _seal(b"fake", impostor, hub)
    monkeypatch.undo()
    err = _refuse(forged, hub, senders)
    assert isinstance(err, BadSignature)
    assert "does not verify with the key of sender 'leeds'" in str(err) and "altered" in str(err)


def test_flipped_signature(hub: PartyKeys, senders: dict, blob: bytes) -> None:
    err = _refuse(_flip(blob, len(blob) - 5), hub, senders)
    assert isinstance(err, BadSignature) and "does not verify" in str(err)


def test_altered_header_field(hub: PartyKeys, senders: dict, blob: bytes) -> None:
    err = _refuse(_rewrite_header(blob, period="2026-12"), hub, senders)
    assert isinstance(err, KeyUnwrapError) and "header or key block was altered" in str(err)


def test_flipped_wrapped_key(hub: PartyKeys, senders: dict, blob: bytes) -> None:
    start, _ = _layout(blob)
    assert isinstance(_refuse(_flip(blob, start - 100), hub, senders), KeyUnwrapError)


def test_sender_swapped_and_resigned(hub: PartyKeys, leeds: PartyKeys, blob: bytes) -> None:
    """A partner cannot pass off another partner's file as its own, even re-signing it."""
    eve = generate_party("eve")
    header = read_header(blob)
    changed = _rewrite_header(blob, sender="eve", sender_fingerprint=eve.fingerprint)
    body = changed[:-SIG]
    import hashlib

    resigned = body + eve.sign_private.sign(
        b"fraudmatch/seal/v1/signature\x00" + hashlib.sha256(body).digest()
    )
    senders = {"hub": hub.public(), "leeds": leeds.public(), "eve": eve.public()}
    assert header.sender == "leeds"
    assert isinstance(_refuse(resigned, hub, senders), KeyUnwrapError)


def test_wrong_kind(hub: PartyKeys, senders: dict, blob: bytes) -> None:
    err = _refuse(blob, hub, senders, expected_kind="bundle")
    assert isinstance(err, WrongKind)
    assert "this is a submission, but a bundle was expected" in str(err)


def test_payload_hash_mismatch(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    hub: PartyKeys,
    leeds: PartyKeys,
    senders: dict,
) -> None:
    """A sender bug that signs a wrong hash is caught on opening, and nothing is written."""
    monkeypatch.setattr(seal, "_hash_source", lambda handle: ("0" * 64, len(handle.read())))
    monkeypatch.setattr(seal, "_check_source_unchanged", lambda *args: None)
    src, sealed, out = tmp_path / "src", tmp_path / "sealed", tmp_path / "out"
    src.write_bytes(b"payload")
    seal_file(
        src,
        sealed,
        sender=leeds,
        recipient=hub.public(),
        kind="submission",
        dataset=None,
        period="2026-11",
    )
    monkeypatch.undo()
    with pytest.raises(PayloadHashMismatch, match="the header says 0000"):
        open_file(sealed, out, recipient=hub, senders=senders)
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sealed", "src"]


def test_source_changed_while_sealing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hub: PartyKeys, leeds: PartyKeys
) -> None:
    real = seal._hash_source

    def hash_then_modify(handle: object) -> tuple[str, int]:
        result = real(handle)  # type: ignore[arg-type]
        src.write_bytes(b"payload changed by someone else")
        return result

    monkeypatch.setattr(seal, "_hash_source", hash_then_modify)
    src, sealed = tmp_path / "src", tmp_path / "sealed"
    src.write_bytes(b"payload")
    with pytest.raises(SourceChanged, match="changed while it was being sealed"):
        seal_file(
            src,
            sealed,
            sender=leeds,
            recipient=hub.public(),
            kind="submission",
            dataset=None,
            period="2026-11",
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src"]


def test_failed_open_leaves_existing_dst_untouched(
    tmp_path: Path, hub: PartyKeys, senders: dict, blob: bytes
) -> None:
    _, chunks = _layout(blob)
    sealed, out = tmp_path / "sealed", tmp_path / "out"
    sealed.write_bytes(_flip(blob, chunks[-1][0]))  # the last chunk: earlier ones decrypt fine
    out.write_bytes(b"previous good output")
    with pytest.raises(ChunkError):
        open_file(sealed, out, recipient=hub, senders=senders)
    assert out.read_bytes() == b"previous good output"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "sealed"]


def test_every_single_byte_flip_is_refused(hub: PartyKeys, leeds: PartyKeys, senders: dict) -> None:
    """Exhaustive: whatever region a flipped byte hits, opening refuses with a SealError."""
    small = _seal(os.urandom(2 * CHUNK + 3), leeds, hub)
    seen: set[type] = set()
    for position in range(len(small)):
        with pytest.raises(SealError) as info:
            open_bytes(_flip(small, position), recipient=hub, senders=senders)
        seen.add(type(info.value))
    assert {NotASealedFile, UnsupportedVersion, HeaderError, KeyUnwrapError, ChunkError} <= seen
    assert BadSignature in seen


@pytest.fixture(scope="module")
def multi_chunk_file(hub: PartyKeys, leeds: PartyKeys) -> bytes:
    return _seal(os.urandom(5 * CHUNK + 9), leeds, hub)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_random_byte_flips_always_refused_and_no_output(
    data: st.DataObject, multi_chunk_file: bytes, hub: PartyKeys, senders: dict
) -> None:
    blob = bytearray(multi_chunk_file)
    positions = data.draw(
        st.lists(st.integers(0, len(blob) - 1), min_size=1, max_size=4, unique=True)
    )
    for position in positions:
        blob[position] ^= data.draw(st.integers(1, 255))
    with tempfile.TemporaryDirectory() as tmp:
        sealed, out = Path(tmp) / "in.sealed", Path(tmp) / "out.parquet"
        sealed.write_bytes(bytes(blob))
        with pytest.raises(SealError):
            open_file(sealed, out, recipient=hub, senders=senders)
        assert not out.exists()
        assert [p.name for p in Path(tmp).iterdir()] == ["in.sealed"]


# --------------------------------------------------------------------------- fsutil


def test_atomic_write_replaces_on_success(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with atomic_write(target) as handle:
        handle.write(b"new")
        assert target.read_bytes() == b"old"  # not visible until the block ends
    assert target.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_atomic_write_failure_keeps_target_and_removes_temp(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_write(target) as handle:
        handle.write(b"partial")
        raise RuntimeError("boom")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_private_write_is_0600_from_creation(tmp_path: Path) -> None:
    target = tmp_path / "secret"
    old = os.umask(0)
    try:
        with atomic_write(target, mode=0o600) as handle:
            assert stat.S_IMODE(os.fstat(handle.fileno()).st_mode) == 0o600
        write_private_bytes(tmp_path / "other", b"x")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tmp_path / "other").st_mode) == 0o600


def test_rewrite_keeps_existing_permissions(tmp_path: Path) -> None:
    target = tmp_path / "report.csv"
    target.write_bytes(b"a")
    os.chmod(target, 0o640)
    atomic_write_bytes(target, b"b")
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o640 and target.read_bytes() == b"b"


def test_no_overwrite(tmp_path: Path) -> None:
    target = tmp_path / "key"
    atomic_write_bytes(target, b"first", overwrite=False)
    with pytest.raises(FileExistsError):
        atomic_write_bytes(target, b"second", overwrite=False)
    assert target.read_bytes() == b"first"
    assert [p.name for p in tmp_path.iterdir()] == ["key"]


def test_atomic_path(tmp_path: Path) -> None:
    target = tmp_path / "matches.parquet"
    with atomic_path(target) as tmp:
        assert tmp.parent == tmp_path and tmp.suffix == ".tmp" and tmp.exists()  # no final suffix
        tmp.write_bytes(b"PAR1")
        assert not target.exists()
    assert target.read_bytes() == b"PAR1"
    with pytest.raises(ValueError), atomic_path(target) as tmp:
        tmp.write_bytes(b"half")
        raise ValueError("writer failed")
    assert target.read_bytes() == b"PAR1"
    assert [p.name for p in tmp_path.iterdir()] == ["matches.parquet"]


def test_documented_header_fields_are_the_real_ones() -> None:
    """docs/sealed-format.md's header table names exactly the fields a header may carry
    (a partner writing their own reader works from it), optional ones marked as such."""
    import re

    from fraudmatch.sealing.header import _HEADER_FIELDS, _OPTIONAL_FIELDS

    doc = (Path(__file__).parents[1] / "docs" / "sealed-format.md").read_text()
    table = doc.split("### Header", 1)[1].split("\n\n", 2)[1]
    rows = dict(re.findall(r"^\| `(\w+)` \| ((?:\\\||[^|])+) \|", table, flags=re.MULTILINE))
    assert set(rows) == _HEADER_FIELDS | _OPTIONAL_FIELDS
    assert {name for name, kind in rows.items() if "optional" in kind} == _OPTIONAL_FIELDS

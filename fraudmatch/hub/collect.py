"""Hub side, first step of a cycle: take the sealed submissions out of the partners' inboxes.

Each inbox file is routed on its clear header, verified and decrypted with the hub key,
checked against the partnership and the data specification, and stored as Parquet. A file
that fails any check goes to ``quarantine/`` with a reason file and the others carry on.

Order matters for safety: the decrypted copy is written atomically and recorded in the
catalogue *before* the sealed original leaves the inbox. A crash in between leaves the
original in the inbox; the next run finds its payload already recorded and just archives
it. Errors of the machine rather than the file (disk full, permissions) are not the
partner's fault and are not quarantined: they propagate, the file stays where it is, and
the flow's retry or the next cycle picks it up again.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from fraudmatch.common.fsutil import PRIVATE_MODE, atomic_path, atomic_write_bytes, crash_point
from fraudmatch.hub import catalogue, filekeys, returns, transport
from fraudmatch.hub.operator import OperatorConfig
from fraudmatch.hub.workspace import (
    Workspace,
    ensure_private_dir,
    exclusive,
    free_name,
    inbox_files,
    take_file,
)
from fraudmatch.sealing.keyring import Keyring, KeySchedule, as_keyring
from fraudmatch.sealing.keys import PartyKeys, key_generation_problem, key_period
from fraudmatch.sealing.seal import Header, SealError, open_file, read_header, verify_file
from fraudmatch.spec.bloom import BloomParams
from fraudmatch.spec.outputs import output_columns
from fraudmatch.spec.partnership import Partnership, bloom_params
from fraudmatch.spec.specs import SPEC_FINGERPRINT_KEY, Spec, resolve_spec

__all__ = [
    "DUPLICATE",
    "QUARANTINED",
    "STORED",
    "CollectResult",
    "FileOutcome",
    "Refusal",
    "StoredSubmission",
    "collect",
    "load_current",
    "missing_submissions",
    "store_submission",
]

log = logging.getLogger(__name__)

STORED = "stored"
DUPLICATE = "duplicate"
QUARANTINED = "quarantined"
ANY_DATASET = "*"
"""The dataset of a ``missing`` pair when a partner lists no datasets and sent nothing."""

# Periods name files in the store and are compared as strings to refuse replays, so they
# must be plain and zero-padded: YYYY-MM (what prepare uses) or YYYY-MM-DD.
_PERIOD = re.compile(r"\d{4}-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?")


class Refusal(Exception):
    """An inbox file the hub will not store; ``reason`` is for the operator and partner."""

    def __init__(self, reason: str, header: Header | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.header = header


@dataclass(frozen=True)
class FileOutcome:
    """What collection did with one inbox file."""

    partner: str  # whose inbox it was in
    file: str
    outcome: str  # stored | duplicate | quarantined
    dataset: str | None = None
    period: str | None = None
    rows: int | None = None
    reason: str = ""
    path: str | None = None  # the stored Parquet, or where the refused file now is

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class CollectResult:
    files: list[FileOutcome] = field(default_factory=list)
    missing: list[tuple[str, str]] = field(default_factory=list)
    fetched: list[str] = field(default_factory=list)
    # (partner, file name, reason) of remote files not fetched; the name is ``*`` when the
    # whole drop could not be read.
    fetch_failed: list[tuple[str, str, str]] = field(default_factory=list)
    # (partner, file name, why) of remote files left for a later run (still being uploaded)
    waiting: list[tuple[str, str, str]] = field(default_factory=list)

    def with_outcome(self, outcome: str) -> list[FileOutcome]:
        return [f for f in self.files if f.outcome == outcome]

    @property
    def stored(self) -> list[FileOutcome]:
        return self.with_outcome(STORED)

    @property
    def duplicates(self) -> list[FileOutcome]:
        return self.with_outcome(DUPLICATE)

    @property
    def quarantined(self) -> list[FileOutcome]:
        return self.with_outcome(QUARANTINED)

    def summary(self) -> dict[str, Any]:
        """JSON-ready, for the run summary and report."""
        return {
            "counts": {o: len(self.with_outcome(o)) for o in (STORED, DUPLICATE, QUARANTINED)},
            "files": [f.to_dict() for f in self.files],
            "missing": [{"partner": p, "dataset": d} for p, d in self.missing],
            "fetched": list(self.fetched),
            "fetch_failed": [
                {"partner": p, "name": n, "reason": r} for p, n, r in self.fetch_failed
            ],
            "waiting": [{"partner": p, "name": n, "reason": r} for p, n, r in self.waiting],
        }


@dataclass(frozen=True)
class StoredSubmission:
    header: Header
    stored_path: Path
    sealed_path: Path  # where the original is to be archived (recorded in the catalogue)
    rows: int


@dataclass(frozen=True)
class _Context:
    workspace: Workspace
    partnership: Partnership
    hub: Keyring
    spec: Spec
    bloom: BloomParams
    period: str | None = None  # the run's period (YYYY-MM); None: any period is collected

    @property
    def senders(self) -> Mapping[str, KeySchedule]:
        """Only partners submit; the hub's own key is not a valid submission sender."""
        return self.partnership.partner_senders()


# --------------------------------------------------------------------------- entry points


def collect(
    workspace: Workspace,
    partnership: Partnership,
    hub: PartyKeys | Keyring,
    *,
    spec: Spec | None = None,
    bloom: BloomParams | None = None,
    period: str | None = None,
    operator: OperatorConfig | None = None,
) -> CollectResult:
    """Collect every inbox file (partners in name order, files in name order).

    When the partnership names a remote inbox (``transport.inbox``), new files are fetched
    from each partner's drop into the local inbox first. ``period`` is the run's period (the
    month of its cycle date): a submission prepared for another is quarantined, as its
    tokens would meet no other partner's, and only this period's count as received. Drop
    options come from ``operator``; a fetched file is moved aside only once collected.
    """
    ctx = _context(workspace, partnership, hub, spec, bloom, period)
    result = CollectResult()
    remote = partnership.transport.get("inbox")
    pulled = None
    with exclusive(workspace, "collect"):
        if remote:  # every failure recorded per partner, none raised
            pulled = transport.fetch_drops(remote, partnership.partners, workspace, operator)
            result.fetched, result.fetch_failed = pulled.fetched, pulled.failed
            result.waiting = pulled.waiting
        with catalogue.session(workspace):
            for partner, path in _deliveries(ctx):
                outcome = _collect_one(ctx, partner, path)
                if outcome is not None:
                    result.files.append(outcome)
            result.missing = missing_submissions(workspace, partnership, ctx.period)
        if pulled:
            result.fetch_failed += transport.set_aside_drops(pulled, workspace, operator)
    for partner, dataset in result.missing:
        log.warning("missing: no %s from %s is stored", dataset, partner)
    counts = result.summary()["counts"]
    log.info(
        "collected: %s stored, %s duplicate, %s quarantined, %s missing",
        counts[STORED],
        counts[DUPLICATE],
        counts[QUARANTINED],
        len(result.missing),
    )
    return result


def store_submission(
    workspace: Workspace,
    partnership: Partnership,
    hub: PartyKeys | Keyring,
    path: Path,
    *,
    partner: str,
    spec: Spec | None = None,
    bloom: BloomParams | None = None,
) -> StoredSubmission:
    """Check, verify, decrypt, store and record one inbox file, leaving it in the inbox.

    This is collection without the final archive move (``collect`` does that next).
    Raises :class:`Refusal` for a file that must not be stored.
    """
    ctx = _context(workspace, partnership, hub, spec, bloom)
    header = _read_header(path)
    _check_routing(ctx, partner, header)
    known = catalogue.submission(
        workspace, header.payload_sha256, partner=partner, dataset=str(header.dataset)
    )
    if known is not None:
        _authenticate(ctx, path, header, known)
        raise Refusal("this payload is already stored", header)
    return _store(ctx, partner, path, header)


def missing_submissions(
    workspace: Workspace, partnership: Partnership, period: str | None = None
) -> list[tuple[str, str]]:
    """(partner, dataset) pairs the partnership expects but nobody stored (for ``period``).

    A partner that lists no datasets may send any; it is missing (as ``*``) only if it has
    nothing stored at all.
    """
    month = key_period(period) if period else None
    current = catalogue.current_submissions(workspace, month)
    have = set(current.select("partner", "dataset").iter_rows())
    missing: list[tuple[str, str]] = []
    for name in sorted(partnership.partners):
        expected = partnership.partners[name].datasets
        if expected:
            missing.extend((name, d) for d in expected if (name, d) not in have)
        elif not any(p == name for p, _ in have):
            missing.append((name, ANY_DATASET))
    return missing


def load_current(
    workspace: Workspace, partners: Collection[str] | None = None, period: str | None = None
) -> dict[str, pl.LazyFrame]:
    """Per dataset, every partner's current submission stacked, with ``partner`` first.

    ``partners`` limits it to the partnership's current members, so a council that left
    is not matched on its last extract; ``period`` to submissions prepared for the run's
    period, as another period's tokens meet nothing of this one's.
    """
    current = catalogue.current_submissions(workspace, key_period(period) if period else None)
    frames: dict[str, list[pl.LazyFrame]] = {}
    for row in current.sort("dataset", "partner").iter_rows(named=True):
        if partners is not None and row["partner"] not in partners:
            continue
        stored = Path(row["stored_path"])
        if not stored.is_file():
            raise FileNotFoundError(
                f"{stored}: the stored {row['dataset']} of {row['partner']} (period "
                f"{row['period']}) recorded in {workspace.catalogue_path} is gone; "
                "restore it from backup or ask the partner to resubmit"
            )
        lazy = pl.scan_parquet(stored).select(
            pl.lit(row["partner"], dtype=pl.String).alias("partner"), pl.all()
        )
        frames.setdefault(row["dataset"], []).append(lazy)
    return {ds: pl.concat(parts, how="diagonal_relaxed") for ds, parts in frames.items()}


# --------------------------------------------------------------------------- one file


def _context(
    workspace: Workspace,
    partnership: Partnership,
    hub: PartyKeys | Keyring,
    spec: Spec | None,
    bloom: BloomParams | None,
    period: str | None = None,
) -> _Context:
    """Refuse a wrong hub key up front: it is a configuration error, not a bad file."""
    hub = as_keyring(hub)
    if hub.name != partnership.hub.name or not hub.holds_any(partnership.hub.keys):
        listed = ", ".join(k.public.fingerprint for k in partnership.hub.keys.keys)
        raise ValueError(
            f"the hub key given is {hub.name!r} ({', '.join(hub.fingerprints)}), but "
            f"{partnership.source} names hub {partnership.hub.name!r} ({listed})"
        )
    return _Context(
        workspace=workspace,
        partnership=partnership,
        hub=hub,
        spec=spec or resolve_spec(partnership),
        bloom=bloom or bloom_params(partnership),
        period=key_period(period) if period else None,
    )


def _deliveries(ctx: _Context) -> Iterator[tuple[str, Path]]:
    """(inbox owner, file) for every delivered file, partners first, then stray folders."""
    inbox_root = ctx.workspace.inbox_root
    for partner in sorted(ctx.partnership.partners):
        for path in inbox_files(ctx.workspace.inbox(partner)):
            yield partner, path
    if not inbox_root.is_dir():
        return
    for entry in sorted(inbox_root.iterdir()):
        if entry.is_dir() and entry.name not in ctx.partnership.partners:
            for path in inbox_files(entry):
                yield entry.name, path
    for path in inbox_files(inbox_root):
        yield "", path


def _collect_one(ctx: _Context, partner: str, path: Path) -> FileOutcome | None:
    """What happened to one file; None if it vanished before it could be read (taken back
    by the partner's transfer software: nothing to collect)."""
    try:
        header = _read_header(path)
        if header.kind == "outcomes":  # a partner's outcomes coming back: hub.returns
            if header.recipient == ctx.partnership.hub.name and _PERIOD.fullmatch(header.period):
                # the sender's key is checked as the file opens
                problem = filekeys.hub_key_problem(ctx.partnership, ctx.hub, header)
                if problem:
                    raise Refusal(problem, header)
            try:
                done = returns.collect_return(ctx.workspace.root, partner, path, header,
                                              hub=ctx.hub, senders=ctx.senders)  # fmt: skip
            except returns.ReturnRefused as exc:
                raise Refusal(str(exc), header) from None
            return FileOutcome(partner, path.name, returns.RETURNED, "outcomes", header.period,
                               done.rows, done.result.text(), str(done.path))  # fmt: skip
        _check_routing(ctx, partner, header)
        known = catalogue.submission(
            ctx.workspace, header.payload_sha256, partner=partner, dataset=str(header.dataset)
        )
        if known is not None:
            _authenticate(ctx, path, header, known)
            return _archive_known(ctx, partner, path, header, known)
        stored = _store(ctx, partner, path, header)
    except Refusal as refusal:
        return _quarantine(ctx, partner, path, refusal)
    except FileNotFoundError:
        if path.exists():
            raise
        log.warning("%s vanished from %s's inbox before it was collected", path.name, partner)
        return None
    return _archive_stored(ctx, partner, path, stored)


def _authenticate(ctx: _Context, path: Path, header: Header, known: Mapping[str, Any]) -> None:
    """Verify and decrypt (discarding the plaintext) a file whose header claims a payload
    already stored: only an authentic identical payload is a duplicate; a damaged or forged
    copy is refused as altered, whatever its header says."""
    try:
        verify_file(path, recipient=ctx.hub, senders=ctx.senders, expected_kind="submission")
    except SealError as exc:
        raise Refusal(
            f"altered: the header claims the payload of {known['inbox_name']} (stored "
            f"{known['received_at']:%Y-%m-%d %H:%M}), but the file does not authenticate: "
            f"{exc.cause}",
            header,
        ) from None


def _read_header(path: Path) -> Header:
    try:
        return read_header(path)
    except SealError as exc:
        raise Refusal(str(exc)) from None


def _check_routing(ctx: _Context, partner: str, header: Header) -> None:
    """Checks on the clear header: cheap, and before any key is used."""
    partners = ctx.partnership.partners
    source = ctx.partnership.source

    def refuse(reason: str) -> Refusal:
        return Refusal(reason, header)

    if not partner:
        raise refuse("delivered to the inbox folder itself, not to a partner's inbox")
    if partner not in partners:
        raise refuse(f"inbox folder {partner!r} belongs to no partner in {source}")
    if header.sender not in partners:
        raise refuse(
            f"unknown sender: {header.sender!r} is not a partner in {source} "
            f"(partners: {', '.join(sorted(partners))})"
        )
    if header.sender != partner:
        raise refuse(f"sent by {header.sender!r} but delivered to the inbox of {partner!r}")
    if header.recipient != ctx.partnership.hub.name:
        raise refuse(f"sealed to {header.recipient!r}, not to the hub {ctx.partnership.hub.name!r}")
    if header.kind != "submission":
        raise refuse(f"this is a {header.kind}, not a submission")
    _check_dataset(ctx, partner, header)
    if not _PERIOD.fullmatch(header.period):
        raise refuse(f"period {header.period!r} is not a period such as 2026-11 or 2026-11-30")
    if ctx.period and key_period(header.period) != ctx.period:
        raise refuse(
            f"prepared for period {header.period}, but this run is for period {ctx.period}: "
            f"its tokens are keyed for {key_period(header.period)} and would meet no other "
            f"partner's; prepare it again with --period {ctx.period}"
        )
    problem = filekeys.keys_problem(ctx.partnership, ctx.hub, header)
    if problem:
        raise refuse(problem)


def _check_dataset(ctx: _Context, partner: str, header: Header) -> None:
    dataset = header.dataset
    declared = ctx.partnership.partners[partner].datasets
    if not dataset:
        raise Refusal("the header names no dataset", header)
    if declared and dataset not in declared:
        raise Refusal(
            f"{ctx.partnership.source} says {partner} submits {', '.join(declared)}, "
            f"not {dataset!r}",
            header,
        )
    if dataset not in ctx.spec.datasets:
        raise Refusal(
            f"dataset {dataset!r} is not in the data specification {ctx.spec.source}", header
        )


def _check_not_replay(ctx: _Context, header: Header) -> None:
    """Refuse anything older than what was already accepted for the same partner and dataset.

    Within one period, the sealing time decides: a correction sealed later replaces the
    earlier extract, but an earlier extract arriving late must not replace the correction.
    """
    assert header.dataset is not None
    accepted = catalogue.latest_accepted(ctx.workspace, header.sender, header.dataset)
    if accepted is None:
        return
    if header.period < accepted.period:
        raise Refusal(
            f"replay: period {header.period} is older than accepted {accepted.period}", header
        )
    created = _naive_utc(header.created)
    if header.period == accepted.period and created < accepted.created:
        raise Refusal(
            f"replay: sealed {header.created}, before the {accepted.period} submission already "
            f"accepted (sealed {accepted.created:%Y-%m-%dT%H:%M:%SZ})",
            header,
        )


def _store(ctx: _Context, partner: str, path: Path, header: Header) -> StoredSubmission:
    """Decrypt into the store atomically, check the payload, then record it."""
    _check_not_replay(ctx, header)
    assert header.dataset is not None
    dataset = ctx.spec.dataset(header.dataset)
    name = _stored_stem(header)
    target = ensure_private_dir(ctx.workspace.store_dir(partner, dataset.name)) / f"{name}.parquet"
    with atomic_path(target, mode=PRIVATE_MODE) as tmp:
        try:
            open_file(path, tmp, recipient=ctx.hub, senders=ctx.senders, expected_kind="submission")
        except SealError as exc:
            raise Refusal(str(exc), header) from None
        _check_spec_fingerprint(tmp, header, ctx.spec)
        rows = _check_payload(tmp, header, output_columns(dataset, ctx.bloom))
        _check_generation(ctx, tmp, header)
        crash_point("collect")
    sealed = ctx.workspace.sealed_dir(partner, dataset.name) / f"{name}.sealed"
    catalogue.record_submission(
        ctx.workspace,
        sha256=header.payload_sha256,
        partner=partner,
        dataset=dataset.name,
        period=header.period,
        created=header.created,
        inbox_name=path.name,
        stored_path=str(target),
        sealed_path=str(sealed),
        rows=rows,
        payload_size=header.payload_size,
        sender_fingerprint=header.sender_fingerprint,
    )
    return StoredSubmission(header=header, stored_path=target, sealed_path=sealed, rows=rows)


def _check_spec_fingerprint(parquet: Path, header: Header, spec: Spec) -> None:
    """A submission prepared under another specification means something else by its
    columns: refuse it, naming both fingerprints (files from before fingerprints pass)."""
    try:
        theirs = pl.read_parquet_metadata(parquet).get(SPEC_FINGERPRINT_KEY)
    except (pl.exceptions.PolarsError, OSError):
        return  # not Parquet: _check_payload gives the reason
    if theirs is not None and theirs != spec.fingerprint:
        raise Refusal(
            f"prepared under data specification {theirs}, but the hub runs under "
            f"{spec.fingerprint} ({spec.source}): the partnership's spec: must be the same "
            "file at every partner and at the hub",
            header,
        )


def _check_generation(ctx: _Context, parquet: Path, header: Header) -> None:
    """Quarantine a payload keyed with another generation or period than the partnership's:
    its tokens would never meet the others', and matching would silently find nothing."""
    expected = ctx.partnership.linkage_generation(header.period)
    problem = key_generation_problem(pl.read_parquet_metadata(parquet), expected, header.period)
    if problem:
        raise Refusal(f"{problem} ({ctx.partnership.source})", header)


def _check_payload(parquet: Path, header: Header, expected: Mapping[str, pl.DataType]) -> int:
    """The decrypted payload must be Parquet with exactly the specified columns and types;
    returns its row count. Only column names and types go in the reason, never values."""
    try:
        schema = pl.read_parquet_schema(parquet)
        rows = int(pl.scan_parquet(parquet).select(pl.len()).collect().item())
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise Refusal(
            f"the payload is not a readable Parquet file ({type(exc).__name__})", header
        ) from None
    missing = [c for c in expected if c not in schema]
    extra = [c for c in schema if c not in expected]
    wrong = [
        f"{c} is {schema[c]}, expected {expected[c]}"
        for c in expected
        if c in schema and schema[c] != expected[c]
    ]
    problems = [
        f"{label}: {', '.join(items)}"
        for label, items in (
            ("missing columns", missing),
            ("unexpected columns", extra),
            ("wrong types", wrong),
        )
        if items
    ]
    if problems:
        raise Refusal(
            f"the {header.dataset} payload does not match the data specification "
            f"({'; '.join(problems)}): was it prepared with another specification or "
            "other Bloom settings?",
            header,
        )
    return rows


# --------------------------------------------------------------------------- moving files


def _archive_stored(
    ctx: _Context, partner: str, path: Path, stored: StoredSubmission
) -> FileOutcome:
    """Only now, with the stored copy written and recorded, does the original leave the inbox."""
    header = stored.header
    archived = take_file(path, stored.sealed_path.parent, stored.sealed_path.name)
    if archived != stored.sealed_path:
        catalogue.set_sealed_path(
            ctx.workspace, partner, str(header.dataset), header.payload_sha256, str(archived)
        )
    log.info(
        "stored %s %s %s (%s rows) from %s",
        partner,
        header.dataset,
        header.period,
        stored.rows,
        path.name,
    )
    return FileOutcome(
        partner=partner,
        file=path.name,
        outcome=STORED,
        dataset=header.dataset,
        period=header.period,
        rows=stored.rows,
        path=str(stored.stored_path),
    )


def _archive_known(
    ctx: _Context, partner: str, path: Path, header: Header, known: Mapping[str, Any]
) -> FileOutcome:
    """A payload already stored for this partner and dataset: finish an interrupted
    collection, or archive a duplicate."""
    if known["status"] != "stored":
        raise Refusal(
            f"replay: this payload was received on {known['received_at']:%Y-%m-%d} and has "
            f"since been {known['status']}",
            header,
        )
    if not Path(known["stored_path"]).is_file():  # stored copy lost: restore it from this one
        return _archive_stored(ctx, partner, path, _store(ctx, partner, path, header))
    sealed = Path(known["sealed_path"])
    interrupted = not sealed.exists()
    archived = take_file(path, sealed.parent, sealed.name)
    if interrupted:
        if archived != sealed:
            catalogue.set_sealed_path(
                ctx.workspace, partner, str(header.dataset), header.payload_sha256, str(archived)
            )
        outcome = STORED
        reason = "stored by an earlier, interrupted collection; original archived now"
    else:
        outcome = DUPLICATE
        reason = (
            f"same payload as {known['inbox_name']}, stored {known['received_at']:%Y-%m-%d %H:%M}"
        )
    log.info("%s %s %s %s: %s", outcome, partner, header.dataset, path.name, reason)
    return FileOutcome(
        partner=partner,
        file=path.name,
        outcome=outcome,
        dataset=header.dataset,
        period=header.period,
        rows=known["rows"],
        reason=reason,
        path=known["stored_path"],
    )


def _quarantine(ctx: _Context, partner: str, path: Path, refusal: Refusal) -> FileOutcome:
    """Reason file and catalogue row first, then the move: a crash in between leaves the file
    in the inbox, to be refused again (into the same place) by the next run."""
    folder = ensure_private_dir(ctx.workspace.quarantine)
    target = free_name(folder, f"{partner or 'inbox'}__{path.name}")
    header, now = refusal.header, datetime.now(UTC)
    returns.audit_refused(ctx.workspace.root, partner, path.name, header, refusal.reason)
    reason_file = target.with_name(f"{target.name}.reason.txt")
    atomic_write_bytes(reason_file, _reason_text(partner, path, refusal, now).encode())
    catalogue.record_quarantine(
        ctx.workspace,
        inbox_name=path.name,
        partner=partner,
        reason=refusal.reason,
        path=str(target),
        sender=header.sender if header else None,
        dataset=header.dataset if header else None,
        period=header.period if header else None,
        at=now,
    )
    moved = take_file(path, folder, target.name)
    log.warning("quarantined %s from %s's inbox: %s", path.name, partner, refusal.reason)
    return FileOutcome(
        partner=partner,
        file=path.name,
        outcome=QUARANTINED,
        dataset=header.dataset if header else None,
        period=header.period if header else None,
        reason=refusal.reason,
        path=str(moved),
    )


def _reason_text(partner: str, path: Path, refusal: Refusal, now: datetime) -> str:
    header = refusal.header
    lines = [
        "fraudmatch refused this file; it was not stored or matched.",
        f"file: {path.name}",
        f"inbox: {partner or '(top level)'}",
        f"reason: {refusal.reason}",
        f"time: {now:%Y-%m-%dT%H:%M:%SZ}",
    ]
    if header is not None:
        lines += [
            f"sender: {header.sender}",
            f"recipient: {header.recipient}",
            f"kind: {header.kind}",
            f"dataset: {header.dataset}",
            f"period: {header.period}",
            f"sealed: {header.created}",
            f"payload_sha256: {header.payload_sha256}",
        ]
    else:
        lines.append("header: none readable")
    return "\n".join(lines) + "\n"


def _stored_stem(header: Header) -> str:
    return f"{header.period}__{header.payload_sha256[:12]}"


def _naive_utc(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed.astimezone(UTC).replace(tzinfo=None) if parsed.tzinfo else parsed

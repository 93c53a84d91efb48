"""Partner side: turn a raw extract into a sealed submission for the hub.

extract → validate and normalise → pseudonymise → Parquet → sealed and signed file.
The clear extract and its rejects report never leave the council; only the sealed file
goes to the hub, named so an operator can route it without opening it.
"""

from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from fraudmatch.common.fsutil import atomic_path
from fraudmatch.council.ingest import Validation, ingest
from fraudmatch.council.pseudonymise import period_start, pseudonymise
from fraudmatch.sealing.keyring import Keyring
from fraudmatch.sealing.keys import (
    GENERATION_META,
    KEY_PERIOD_META,
    LinkageKey,
    PartyKeys,
    PublicIdentity,
    key_period,
)
from fraudmatch.sealing.seal import Header, seal_file
from fraudmatch.spec.partnership import Partnership, bloom_params
from fraudmatch.spec.specs import SPEC_FINGERPRINT_KEY, Spec, resolve_spec

log = logging.getLogger(__name__)

SUBMISSION_SUFFIX = ".sealed"
NOTE_SUFFIX = ".not-sent.txt"


class PrepareError(ValueError):
    """The extract is not fit to send; nothing was sent. The message says why."""


@dataclass
class PrepareResult:
    validation: Validation
    rejects_path: Path
    sealed_path: Path
    header: Header
    rows_sent: int


def submission_name(partner: str, dataset: str, period: str) -> str:
    """``<partner>__<dataset>__<period>.sealed``: routable without decrypting."""
    return f"{partner}__{dataset}__{period}{SUBMISSION_SUFFIX}"


def check_fit_to_send(result: Validation, max_rejected: float) -> None:
    """Refuse an extract that is empty or mostly rejected: a broken export, not data."""
    if result.accepted.height == 0:
        raise PrepareError(
            f"{result.source}: no rows accepted out of {result.rows_read}; "
            "see the rejects report; nothing was sent"
        )
    share = result.rows_rejected / max(result.rows_read, 1)
    if share > max_rejected:
        raise PrepareError(
            f"{result.source}: {result.rows_rejected} of {result.rows_read} rows rejected "
            f"({share:.0%}, limit {max_rejected:.0%}); see the rejects report; nothing was sent"
        )


def prepare_extract(
    extract: Path,
    *,
    dataset: str,
    period: str,
    partner: PartyKeys | Keyring,
    partnership: Partnership,
    linkage_key: LinkageKey | bytes,
    out_dir: Path,
    rejects_path: Path | None = None,
    spec: Spec | None = None,
    max_rejected: float = 0.25,
) -> PrepareResult:
    """Validate, pseudonymise and seal one extract to the hub.

    The rejects report is written first (it is the partner's to act on even when the
    extract is refused); the sealed file is written atomically into ``out_dir``. Tokens are
    made with the period's key (:func:`cycle_key`), never the partnership secret itself.
    """
    spec = spec or resolve_spec(partnership)
    me = partnership.partner(partner.name)
    key, generation = cycle_key(linkage_key, partnership, period)
    signer, hub_key = period_keys(partner, partnership, period)
    if me.datasets and dataset not in me.datasets:
        raise PrepareError(
            f"{partnership.source} says {me.name} submits {', '.join(me.datasets)}, "
            f"not {dataset!r}; nothing was sent"
        )
    ds = spec.dataset(dataset)
    # the partner's declared date order and encoding for this dataset; none: detected
    declared = me.format_for(dataset)
    result = ingest(extract, ds, date_format=declared.date_format, encoding=declared.encoding)
    rejects_path = rejects_path or extract.with_name(f"{extract.stem}.rejects.csv")
    rejects_path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(rejects_path) as tmp:
        result.rejects.write_csv(tmp)
    check_fit_to_send(result, max_rejected)
    as_of = period_start(period)
    frame = pseudonymise(result.accepted, ds, key, bloom_params(partnership), as_of=as_of)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / submission_name(me.name, dataset, period)
    with tempfile.TemporaryDirectory(prefix="fraudmatch-") as tmpdir:
        os.chmod(tmpdir, 0o700)
        parquet = Path(tmpdir) / "payload.parquet"
        meta = {
            SPEC_FINGERPRINT_KEY: spec.fingerprint,
            GENERATION_META: str(generation),
            KEY_PERIOD_META: key_period(period),
        }
        frame.write_parquet(parquet, compression="zstd", statistics=False, metadata=meta)
        header = seal_file(
            parquet,
            target,
            sender=signer,
            recipient=hub_key,
            kind="submission",
            dataset=dataset,
            period=period,
        )
    log.info(
        "sealed %s rows of %s for %s into %s", frame.height, dataset, partnership.hub.name, target
    )
    return PrepareResult(
        validation=result,
        rejects_path=rejects_path,
        sealed_path=target,
        header=header,
        rows_sent=frame.height,
    )


def period_keys(
    partner: PartyKeys | Keyring, partnership: Partnership, period: str
) -> tuple[PartyKeys, PublicIdentity]:
    """This partner's private key and the hub's public key for ``period``
    (:meth:`Partnership.keys_to_hub`), refused as a :class:`PrepareError`."""
    try:
        key_period(period)
        return partnership.keys_to_hub(partner, period)
    except ValueError as exc:
        raise PrepareError(f"{exc}; nothing was sent") from None


def cycle_key(
    linkage_key: LinkageKey | bytes, partnership: Partnership, period: str
) -> tuple[bytes, int]:
    """The period's token key and its generation, refusing a key of the wrong generation.

    Bytes stand for a generation-1 secret (a key file from before generations existed).
    """
    if not isinstance(linkage_key, LinkageKey):
        linkage_key = LinkageKey(linkage_key)
    try:
        month = key_period(period)
    except ValueError as exc:
        raise PrepareError(f"{exc}; nothing was sent") from None
    expected = partnership.linkage_generation(period)
    if linkage_key.generation != expected:
        raise PrepareError(
            f"{partnership.source} says period {month} uses linkage-key generation {expected}, "
            f"but the key given is generation {linkage_key.generation}; use the partnership key "
            f"file of generation {expected}; nothing was sent"
        )
    return linkage_key.for_period(period), expected


def open_submission(
    path: Path, *, hub: PartyKeys | Keyring, partnership: Partnership, out: Path
) -> tuple[Header, pl.DataFrame]:
    """Hub side: verify and open a submission into Parquet at ``out`` and read it back."""
    from fraudmatch.sealing.seal import open_file

    header = open_file(
        path,
        out,
        recipient=hub,
        senders=partnership.partner_senders(),
        expected_kind="submission",
    )
    return header, pl.read_parquet(out)


def extracts_in(folder: Path) -> list[Path]:
    """Extract files in an export folder; the dataset is the file name (``payroll.csv``)."""
    suffixes = {".csv", ".txt", ".xlsx", ".xlsm", ".parquet"}
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file()
        and p.suffix.lower() in suffixes
        and ".rejects" not in p.name
        and not p.name.endswith(NOTE_SUFFIX)  # our own note on an extract not sent
    )

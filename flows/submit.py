"""Prefect flow for a partner's side: deliver the export folder's extracts to the hub.

Orchestration only: the work is :func:`fraudmatch.council.submit.submit_folder`.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow

from fraudmatch.common.drops import options_for
from fraudmatch.council.submit import check_submitted, drop_of, submit_folder
from fraudmatch.sealing.keyring import load_keyring
from fraudmatch.sealing.keys import load_linkage_key
from fraudmatch.spec.partnership import load_partnership
from fraudmatch.spec.specs import resolve_spec


def _operator_file(operator: str | None, partnership: str) -> Path | None:
    if operator:
        return Path(operator)
    beside = Path(partnership).resolve().parent / "operator.yaml"
    return beside if beside.is_file() else None


@flow(name="fraudmatch-submit", log_prints=True)
def submit_flow(
    export_dir: str,
    partnership: str,
    partner_key: str,
    linkage_key: str,
    period: str,
    drop: str | None = None,
    operator: str | None = None,
    force: bool = False,
    spec: str | None = None,
) -> dict:
    """Prepare every new or changed extract in the export folder and deliver it to the
    council's drop (``drop``, else the partnership's ``transport.inbox``; a local folder,
    ``sftp://`` or ``s3://``), with the drop options of the council's ``operator.yaml``.

    ``period`` is the cycle's period (``2026-11``: the month of the hub's cycle date), never
    guessed from today: tokens are keyed for it and the hub refuses another period's.
    Fails (after delivering the others) when an extract was refused or not delivered.
    Extracts are prepared under ``spec`` if given, else the partnership's ``spec:``.
    """
    config = load_partnership(partnership)
    keys = load_keyring(partner_key)
    result = submit_folder(
        Path(export_dir),
        drop_of(config, keys.name, "inbox", drop),
        partnership=config,
        partner=keys,
        linkage_key=load_linkage_key(linkage_key),
        period=period,
        spec=resolve_spec(config, spec),
        options=options_for(_operator_file(operator, partnership), keys.name),
        force=force,
    )
    for item in result["unchanged"]:
        print(f"unchanged since last sent, not sent again: {Path(item['extract']).name}")
    return check_submitted(result)

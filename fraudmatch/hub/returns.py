"""Collecting partners' returned outcomes (sealed kind ``outcomes``) from their inboxes.

Collection hands such a file here (:func:`collect_return`): it must come from the partner
whose inbox it is in, be sealed to this hub and verify under that partner's key; then its
rows are merged into the outcomes store (:func:`fraudmatch.review.returns.merge`), the
merge is audited under the sender's name with what it did (conflicts listed, never
overwritten), and the file moves to ``returns/<partner>/``. A refusal raises
:class:`ReturnRefused`, which collection quarantines like any refused file; a refused
return (forged, unsigned, damaged or misdelivered) is also audited in the outcomes store
(:func:`audit_refused`), so the review app shows the fraud unit that someone tried.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from fraudmatch.hub.workspace import ensure_private_dir, free_name, take_file
from fraudmatch.review import outcomes as oc
from fraudmatch.review import returns as rt
from fraudmatch.review.runmatches import RunMatches
from fraudmatch.sealing.seal import Header, Recipient, SealError, Senders

log = logging.getLogger(__name__)
RETURNED = "outcomes returned"
REFUSED = "outcomes return refused"
COLLECTION = "hub collection"
"""Who a refused return is audited as: its sender is unproven, so never the partner."""


class ReturnRefused(Exception):
    """A returned-outcomes file the hub will not merge; the reason is for both sides."""


@dataclass(frozen=True)
class Returned:
    path: Path
    rows: int
    result: rt.MergeResult


def collect_return(
    root: Path,
    partner: str,
    path: Path,
    header: Header,
    *,
    hub: Recipient,
    senders: Senders,
) -> Returned:
    """Verify, merge and archive one partner's returned outcomes."""
    if header.sender != partner:
        raise ReturnRefused(f"outcomes sent by {header.sender!r} but delivered to {partner!r}")
    if header.recipient != hub.name:
        raise ReturnRefused(f"outcomes sealed to {header.recipient!r}, not to this hub")
    try:
        _, rows = rt.open_return(path, hub=hub, senders=dict(senders))
    except (SealError, rt.ReturnError) as exc:
        raise ReturnRefused(f"returned outcomes do not verify: {exc}") from None
    url = oc.default_url(root)
    store = RunMatches(root, {})
    result = rt.merge(url, rows, sender=partner, matches_of=store.matches)
    oc.log_action(
        url,
        f"{partner} (partner)",
        RETURNED,
        {"file": path.name, "period": header.period, "rows": rows.height,
         "saved": result.saved, "unchanged": result.unchanged,
         "conflicts": result.conflicts[:20], "unknown": result.unknown[:20]},
    )  # fmt: skip
    folder = ensure_private_dir(root / "returns" / partner)
    archived = take_file(path, folder, free_name(folder, path.name).name)
    log.info("outcomes returned by %s (%s): %s", partner, path.name, result.text())
    return Returned(archived, rows.height, result)


def looks_like_return(name: str, header: Header | None) -> bool:
    """Whether a refused inbox file was (or claims to be) a partner's returned outcomes:
    sealed as kind ``outcomes``, or unreadable but named like one."""
    if header is not None:
        return header.kind == "outcomes"
    return name.endswith(rt.RETURN_SUFFIX)


def audit_refused(root: Path, partner: str, name: str, header: Header | None, reason: str) -> None:
    """Audit a refused return under :data:`COLLECTION`: the file, whose inbox it was in,
    who it claims to come from (unproven) and why it was refused. Nothing was merged.
    Any other refused file is left to the quarantine's own report."""
    if not looks_like_return(name, header):
        return
    detail = {"file": name, "inbox": partner or "(top level)",
              "claimed_sender": header.sender if header else None, "reason": reason}  # fmt: skip
    log.warning("refused outcomes %s in %s's inbox: %s", name, partner, reason)
    try:
        oc.log_action(oc.default_url(root), COLLECTION, REFUSED, detail)
    except oc.OutcomeError as exc:  # the file is still quarantined; say why it is unaudited
        log.error("the refusal of %s is not in the review audit: %s", name, exc)

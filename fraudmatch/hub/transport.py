"""The hub's side of remote drops: fetch submissions, set them aside, deliver bundles.

The partnership file names where each partner's drop is (``transport: {inbox:
sftp://drop.example/{partner}/in, outbox: s3://bucket/{partner}/from-hub}``); how to reach
it (host, port, user, key file, known_hosts, secrets) comes from the hub's own
``operator.yaml`` (:mod:`fraudmatch.hub.operator`). The local inbox and outbox folders
stay the working copy.

Each partner's drop gets its own fresh connection, and every failure is that partner's
only: it is returned, with the file it concerns (``*`` for the whole drop), for the run
summary and report, and the other partners carry on. A remote file is moved aside into
``fetched/`` (stamped with the time, for retention) only after collection has taken its
copy out of the inbox, i.e. stored, recognised or quarantined it; until then it stays
where the partner put it, so a failure at any point loses nothing.
"""

from __future__ import annotations

import logging
import posixpath
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path

from fraudmatch.common import drops
from fraudmatch.common.drops import DropOptions, describe_error, location, safe_url
from fraudmatch.hub.operator import OperatorConfig
from fraudmatch.hub.workspace import Workspace
from fraudmatch.spec.partnership import Partnership

__all__ = [
    "FETCHED_DIR",
    "TransferResult",
    "describe_error",
    "fetch",
    "location",
    "fetch_drops",
    "prune_drops",
    "prune_fetched",
    "push",
    "safe_url",
    "set_aside",
    "set_aside_drops",
]

log = logging.getLogger(__name__)

FETCHED_DIR = "fetched"


@dataclass
class TransferResult:
    copied: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (file or "*", reason)
    waiting: list[tuple[str, str]] = field(default_factory=list)  # (file, why not yet)

    def fail_all(self, reason: str, names: Iterable[str] = ()) -> TransferResult:
        self.failed += [(name, reason) for name in names] or [("*", reason)]
        return self


def fetch(
    template: str, partner: str, inbox: Path, options: DropOptions | None = None
) -> TransferResult:
    """Copy the complete new files of a partner's drop into its inbox (name order).

    Files still being uploaded are left and listed in ``waiting``. A file of the same name
    already waiting in the inbox is never overwritten: that file fails and stays remote.
    Nothing is moved remotely here (see :func:`set_aside`). A drop that cannot be reached
    or read fails as a whole (``*``); a missing drop folder is an empty drop.
    """
    options = options or DropOptions()
    result = TransferResult()
    url = location(template, partner)
    try:
        fs, root = drops.connect(url, options)
        listing = drops.list_ready(fs, root, url, options, skip={FETCHED_DIR})
    except Exception as exc:  # DNS, refused, SSH, auth, host key, permission: this drop only
        reason = describe_error(exc, url)
        log.warning("could not read %s's drop %s: %s", partner, safe_url(url), reason)
        return result.fail_all(reason)
    if not listing.exists:
        log.info("%s's drop %s has no folder yet: nothing to fetch", partner, safe_url(url))
    result.waiting = listing.waiting
    for name, why in listing.waiting:
        log.info("left in %s's drop for later: %s (%s)", partner, name, why)
    for entry in listing.ready:
        try:
            drops.copy_in(fs, entry, inbox / entry.name)
            result.copied.append(entry.name)
        except Exception as exc:  # this file only; a dropped connection fails the rest too
            reason = describe_error(exc, url)
            result.failed.append((entry.name, reason))
            log.warning("could not fetch %s from %s's drop: %s", entry.name, partner, reason)
    return result


@dataclass
class Pulled:
    """What :func:`fetch_drops` did for every partner: (partner, file, reason) triples."""

    template: str
    fetched: list[str] = field(default_factory=list)
    by_partner: dict[str, list[str]] = field(default_factory=dict)
    failed: list[tuple[str, str, str]] = field(default_factory=list)
    waiting: list[tuple[str, str, str]] = field(default_factory=list)


def fetch_drops(
    template: str,
    partners: Iterable[str],
    workspace: Workspace,
    operator: OperatorConfig | None = None,
) -> Pulled:
    """:func:`fetch` every partner's drop into its inbox, each with its own options."""
    operator = operator or OperatorConfig()
    pulled = Pulled(template)
    for partner in partners:
        got = fetch(
            template, partner, workspace.inbox(partner), operator.transport_options(partner)
        )
        pulled.fetched += got.copied
        pulled.by_partner[partner] = got.copied
        pulled.failed += [(partner, name, reason) for name, reason in got.failed]
        pulled.waiting += [(partner, name, why) for name, why in got.waiting]
    return pulled


def set_aside_drops(
    pulled: Pulled, workspace: Workspace, operator: OperatorConfig | None = None
) -> list[tuple[str, str, str]]:
    """:func:`set_aside` what :func:`fetch_drops` fetched; returns the failures."""
    operator = operator or OperatorConfig()
    failed = []
    for partner, names in pulled.by_partner.items():
        inbox = workspace.inbox(partner)
        opts = operator.transport_options(partner)
        moved = set_aside(pulled.template, partner, inbox, names, opts)
        failed += [(partner, name, reason) for name, reason in moved.failed]
    return failed


def set_aside(
    template: str,
    partner: str,
    inbox: Path,
    names: Iterable[str],
    options: DropOptions | None = None,
    now: datetime | None = None,
) -> TransferResult:
    """Move fetched files into the drop's ``fetched/`` once collection has taken their copy
    out of the inbox; a file still in the inbox stays remote too (it is not yet stored)."""
    result = TransferResult()
    taken = [n for n in names if not (inbox / n).exists()]
    result.skipped = [n for n in names if n not in taken]
    if not taken:
        return result
    url = location(template, partner)
    try:
        fs, root = drops.connect(url, options)
        archive = posixpath.join(root, FETCHED_DIR)
        fs.makedirs(archive, exist_ok=True)
    except Exception as exc:
        reason = "stored, but not moved aside in the drop: " + describe_error(exc, url)
        return result.fail_all(reason, taken)
    prefix = drops.stamp(now)
    for name in taken:
        try:
            fs.mv(posixpath.join(root, name), posixpath.join(archive, prefix + name))
            result.copied.append(name)
        except Exception as exc:  # fetched again next time, and recognised as a duplicate
            reason = "stored, but not moved aside in the drop: " + describe_error(exc, url)
            result.failed.append((name, reason))
            log.warning("%s's drop: %s: %s", partner, name, reason)
    return result


def push(
    outbox: Path, template: str, partner: str, options: DropOptions | None = None
) -> TransferResult:
    """Copy a partner's bundles to its drop under the upload convention (temp name, then
    renamed); a bundle already there with the same size is skipped. A drop that cannot be
    reached fails every bundle; nothing is raised."""
    result = TransferResult()
    url = location(template, partner)
    bundles = sorted(outbox.glob("*.bundle"))
    try:
        fs, root = drops.connect(url, options)
        fs.makedirs(root, exist_ok=True)
    except Exception as exc:
        reason = describe_error(exc, url)
        log.warning("could not reach %s's drop %s: %s", partner, safe_url(url), reason)
        return result.fail_all(reason, [p.name for p in bundles])
    for path in bundles:
        target = posixpath.join(root, path.name)
        try:
            if fs.exists(target) and fs.size(target) == path.stat().st_size:
                result.skipped.append(path.name)
                continue
            drops.put_atomic(fs, path, root, url)
            result.copied.append(path.name)
        except Exception as exc:  # this bundle only
            reason = describe_error(exc, url)
            result.failed.append((path.name, reason))
            log.warning("could not deliver %s to %s's drop: %s", path.name, partner, reason)
    return result


def prune_fetched(
    template: str, partner: str, before: datetime, options: DropOptions | None = None
) -> TransferResult:
    """Delete the files set aside in a partner's drop before ``before`` (retention); those
    without a readable stamp are kept. ``copied`` lists what was deleted."""
    result = TransferResult()
    url = location(template, partner)
    try:
        fs, root = drops.connect(url, options)
        entries = fs.ls(posixpath.join(root, FETCHED_DIR), detail=False)
    except FileNotFoundError:
        return result
    except Exception as exc:
        return result.fail_all(describe_error(exc, url))
    for path in sorted(entries):
        name = posixpath.basename(path.rstrip("/"))
        when = drops.stamped_at(name)
        if when is None or when >= before:
            result.skipped.append(name)
            continue
        try:
            fs.rm_file(path)
            result.copied.append(name)
        except Exception as exc:
            result.failed.append((name, describe_error(exc, url)))
    return result


def prune_drops(
    partnership: Partnership, operator: OperatorConfig | None, *, cutoff: date
) -> dict[str, list]:
    """:func:`prune_fetched` in every partner's drop: what was set aside before ``cutoff``
    (the retention cutoff) is deleted. For the run summary: deleted and failed per partner."""
    operator = operator or OperatorConfig()
    template = partnership.transport.get("inbox")
    before = datetime.combine(cutoff, time(), tzinfo=UTC)
    deleted: list[dict[str, str]] = []
    failed: list[dict[str, str]] = []
    for partner in partnership.partners if template else ():
        opts = operator.transport_options(partner)
        pruned = prune_fetched(template, partner, before, opts)
        deleted += [{"partner": partner, "name": name} for name in pruned.copied]
        failed += [{"partner": partner, "name": n, "reason": r} for n, r in pruned.failed]
    return {"deleted": deleted, "failed": failed}

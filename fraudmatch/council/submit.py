"""Partner side, automated: deliver an export folder's extracts to the hub's drop, and
fetch the council's bundles back from its drop.

The drop is a local folder or a remote one (``sftp://``, ``s3://``) reached with the same
drop options as the hub's (:mod:`fraudmatch.common.drops`), from the council's own
``operator.yaml``. Uploads follow the upload convention (temporary name, then renamed), so
the hub never takes half a file.

An extract is sent again only when its bytes, the period or the drop changed since it was
last delivered (``sealed/sent.json`` remembers), or when asked (``force``). An extract
that cannot be sent is not sent: the reason goes in ``<extract>.not-sent.txt`` beside it,
and the result lists it as refused, so the flow that called this can fail.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import fsspec

from fraudmatch.common import drops
from fraudmatch.common.drops import DropOptions, describe_error, safe_url
from fraudmatch.common.fsutil import atomic_path
from fraudmatch.council.prepare import NOTE_SUFFIX, extracts_in, prepare_extract
from fraudmatch.sealing.bundles import BUNDLE_SUFFIX
from fraudmatch.sealing.keyring import Keyring
from fraudmatch.sealing.keys import LinkageKey, PartyKeys
from fraudmatch.spec.partnership import Partnership
from fraudmatch.spec.specs import Spec, resolve_spec

__all__ = [
    "SENT_FILE",
    "FetchResult",
    "SubmitIncomplete",
    "check_submitted",
    "drop_of",
    "fetch_and_open",
    "fetch_bundles",
    "submit_folder",
]

log = logging.getLogger(__name__)

SENT_FILE = "sent.json"


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _read_sent(path: Path) -> dict[str, dict[str, str]]:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        log.warning("%s unreadable (%s): every extract is sent again", path, exc)
        return {}


class _Drop:
    """One connection to the drop, made when the first file goes."""

    def __init__(self, url: str, options: DropOptions) -> None:
        self.url, self.options = url, options
        self.fs: fsspec.AbstractFileSystem | None = None
        self.root = ""

    def put(self, local: Path) -> None:
        if self.fs is None:
            self.fs, self.root = drops.connect(self.url, self.options)
            self.fs.makedirs(self.root, exist_ok=True)
        drops.put_atomic(self.fs, local, self.root, self.url)


def submit_folder(
    export_dir: Path,
    drop: Path | str,
    *,
    partnership: Partnership,
    partner: PartyKeys | Keyring,
    linkage_key: LinkageKey | bytes,
    period: str,
    spec: Spec | None = None,
    options: DropOptions | None = None,
    force: bool = False,
) -> dict[str, list[dict[str, str]]]:
    """Prepare every changed extract in ``export_dir`` and deliver it to ``drop``.

    Returns the extracts ``sent``, ``unchanged`` (already delivered, not sent again),
    ``refused`` (not fit to send; the note beside it says why) and ``failed`` (prepared
    but not delivered: sent again next time).
    """
    from fraudmatch.common.errors import USER_ERRORS

    spec = spec or resolve_spec(partnership)
    url = str(drop)
    target = _Drop(url, options or DropOptions())
    staging = export_dir / "sealed"
    sent_file = staging / SENT_FILE
    record = _read_sent(sent_file)
    out: dict[str, list[dict[str, str]]] = {
        "sent": [],
        "unchanged": [],
        "refused": [],
        "failed": [],
    }
    for extract in extracts_in(export_dir):
        note = extract.with_name(extract.name + NOTE_SUFFIX)
        digest = _digest(extract)
        done = record.get(extract.name, {})
        same = (done.get("sha256"), done.get("period"), done.get("drop"))
        if not force and same == (digest, period, safe_url(url)):
            out["unchanged"].append({"extract": str(extract), "sealed": done.get("sealed", "")})
            continue
        try:
            result = prepare_extract(
                extract,
                dataset=extract.stem,
                period=period,
                partner=partner,
                partnership=partnership,
                linkage_key=linkage_key,
                out_dir=staging,
                spec=spec,
            )
        except USER_ERRORS as exc:
            with atomic_path(note) as tmp:
                tmp.write_text(f"{extract.name} was not sent to the hub: {exc}\n")
            out["refused"].append({"extract": str(extract), "reason": str(exc)})
            log.warning("not sent: %s: %s", extract.name, exc)
            continue
        note.unlink(missing_ok=True)
        try:
            target.put(result.sealed_path)
        except Exception as exc:  # the drop: this extract is tried again next time
            reason = describe_error(exc, url)
            out["failed"].append({"extract": str(extract), "reason": reason})
            log.warning("not delivered: %s to %s: %s", extract.name, safe_url(url), reason)
            continue
        record[extract.name] = {
            "sha256": digest,
            "period": period,
            "drop": safe_url(url),
            "sealed": result.sealed_path.name,
            "sent_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        with atomic_path(sent_file) as tmp:
            tmp.write_text(json.dumps(record, indent=1, sort_keys=True))
        out["sent"].append(
            {
                "extract": str(extract),
                "sealed": result.sealed_path.name,
                "rows": str(result.rows_sent),
            }
        )
    return out


@dataclass
class FetchResult:
    fetched: list[Path] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (bundle or "*", reason)
    waiting: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "fetched": [str(p) for p in self.fetched],
            "already": list(self.already),
            "failed": [{"name": n, "reason": r} for n, r in self.failed],
            "waiting": [{"name": n, "reason": r} for n, r in self.waiting],
        }


def fetch_bundles(drop: Path | str, into: Path, options: DropOptions | None = None) -> FetchResult:
    """Copy the bundles in the council's drop that ``into`` does not hold yet.

    Bundles stay in the drop (the hub delivers again whatever is missing there); a drop
    that cannot be reached fails as a whole (``*``), never looks empty.
    """
    options = options or DropOptions()
    url = str(drop)
    result = FetchResult()
    try:
        fs, root = drops.connect(url, options)
        listing = drops.list_ready(fs, root, url, options, skip=set())
    except Exception as exc:
        result.failed.append(("*", describe_error(exc, url)))
        return result
    result.waiting = listing.waiting
    for entry in listing.ready:
        if not entry.name.endswith(BUNDLE_SUFFIX):
            continue
        local = into / entry.name
        if local.exists() and local.stat().st_size == entry.size:
            result.already.append(entry.name)
            continue
        try:
            if local.exists():
                local.unlink()  # a different copy: the drop's is the hub's latest
            drops.copy_in(fs, entry, local)
            result.fetched.append(local)
        except Exception as exc:
            result.failed.append((entry.name, describe_error(exc, url)))
    return result


class SubmitIncomplete(ValueError):
    """Some extracts were refused or not delivered; ``result`` says which and why."""

    def __init__(self, result: dict[str, list[dict[str, str]]]) -> None:
        self.result = result
        parts = [
            f"{Path(r['extract']).name} {what}: {r['reason']}"
            for what, key in (("refused", "refused"), ("not delivered", "failed"))
            for r in result[key]
        ]
        super().__init__("not everything went to the hub: " + "; ".join(parts))


def check_submitted(result: dict[str, list[dict[str, str]]]) -> dict[str, list[dict[str, str]]]:
    """``result`` if every extract went (or was unchanged); else :class:`SubmitIncomplete`."""
    if result["refused"] or result["failed"]:
        raise SubmitIncomplete(result)
    return result


def drop_of(partnership: Partnership, party: str, which: str, given: Path | str | None) -> str:
    """The drop given, else the partnership's ``transport.<which>`` for ``party``."""
    if given:
        return str(given)
    template = partnership.transport.get(which)
    if not template:
        raise ValueError(
            f"no drop given and the partnership file has no transport.{which}: name the "
            f"drop (a folder, sftp:// or s3:// URL) with --{'to' if which == 'inbox' else 'from'}"
        )
    return drops.location(template, party)


def fetch_and_open(
    drop: Path | str,
    *,
    partnership: Partnership,
    partner: PartyKeys | Keyring,
    extracts: Path,
    out_dir: Path,
    options: DropOptions | None = None,
) -> tuple[FetchResult, list[tuple[Path, Any]]]:
    """Fetch the new bundles from the council's drop into ``out_dir/bundles`` and open each
    into a case list (verified, decrypted, re-identified). Returns what was fetched and
    (bundle, case list) of each opened; a bundle that does not open is a failure, and its
    copy is removed so the next fetch tries it again."""
    from fraudmatch.common.errors import USER_ERRORS
    from fraudmatch.council.open import find_extracts, open_bundle

    fetched = fetch_bundles(drop, out_dir / "bundles", options)
    own = find_extracts(extracts)
    opened = []
    for bundle in list(fetched.fetched):
        try:
            cases = open_bundle(
                bundle,
                partner=partner,
                senders={partnership.hub.name: partnership.hub.keys},
                extracts=own,
                out_dir=out_dir,
            )
        except USER_ERRORS as exc:  # not kept: the next fetch tries this bundle again
            fetched.fetched.remove(bundle)
            fetched.failed.append((bundle.name, f"fetched but not opened: {exc}"))
            bundle.unlink(missing_ok=True)
            continue
        opened.append((bundle, cases))
    return fetched, opened

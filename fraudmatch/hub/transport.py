"""Moving sealed files between the hub's folders and remote drops (SFTP, S3, ...).

A council may drop its submissions on an SFTP server or in a bucket rather than in the
hub's inbox folder, and pick its bundle up the same way. Any fsspec URL works
(``sftp://host/drop/{partner}``, ``s3://bucket/{partner}/in``, ``file:///mnt/share/{partner}``),
with ``{partner}`` standing for each partner's name. The local folders stay the working
copy: ``fetch`` copies new remote files into the inbox before collection, ``push`` copies
bundles out after distribution. Sealed files are signed and encrypted, so the transport
needs no trust; it only must not lose or half-copy a file.
"""

from __future__ import annotations

import logging
import posixpath
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import fsspec

from fraudmatch.common.fsutil import atomic_path

log = logging.getLogger(__name__)

FETCHED_DIR = "fetched"


@dataclass
class TransferResult:
    copied: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)


def location(template: str, partner: str) -> str:
    """The remote folder of one partner: ``{partner}`` in the URL replaced."""
    if "{partner}" not in template:
        return template.rstrip("/") + "/" + partner
    return template.replace("{partner}", partner)


def safe_url(url: str) -> str:
    """``url`` fit for a log: user, password, query and fragment left out.

    fsspec URLs can carry credentials (``sftp://user:pass@host/...``, keys in the query);
    chained URLs (``simplecache::s3://...``) are cleaned link by link.
    """
    return "::".join(_safe_link(link) for link in url.split("::"))


def _safe_link(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable URL>"
    if not parts.scheme:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def describe_error(exc: BaseException, url: str) -> str:
    """The exception as text, with the URL's secrets (userinfo, query) masked."""
    text = f"{type(exc).__name__}: {exc}"
    for link in url.split("::"):
        try:
            parts = urlsplit(link)
        except ValueError:
            continue
        text = text.replace(link, safe_url(link))
        userinfo = parts.netloc.rpartition("@")[0]
        for secret in (userinfo, parts.password, parts.query, parts.fragment):
            if secret:
                text = text.replace(secret, "***")
    return text


def fetch(template: str, partner: str, inbox: Path) -> TransferResult:
    """Copy new files from a partner's remote drop into its local inbox.

    Each file is copied to a temp file, fsynced and renamed, and only then moved on the
    remote side into ``fetched/`` (never deleted), so a failure at any point leaves the
    file either still waiting remotely or safely in the inbox — and a re-run is harmless:
    collection recognises a file it has already stored by its content hash. A file of the
    same name already waiting in the inbox is never overwritten: that fetch fails and the
    remote copy stays where it is, to be fetched once the inbox one has been collected.
    """
    result = TransferResult()
    url = location(template, partner)
    fs, root = fsspec.core.url_to_fs(url)
    if not fs.exists(root):
        log.info("no remote drop yet for %s at %s", partner, safe_url(url))
        return result
    inbox.mkdir(parents=True, exist_ok=True)
    for entry in sorted(fs.ls(root, detail=True), key=lambda e: e["name"]):
        name = posixpath.basename(entry["name"].rstrip("/"))
        if entry["type"] != "file" or name.startswith("."):
            continue
        try:
            with (
                atomic_path(inbox / name, overwrite=False) as tmp,
                fs.open(entry["name"], "rb") as src,
            ):
                with open(tmp, "wb") as dst:
                    while chunk := src.read(1 << 20):
                        dst.write(chunk)
            archive = posixpath.join(root, FETCHED_DIR)
            fs.makedirs(archive, exist_ok=True)
            fs.mv(entry["name"], posixpath.join(archive, name))
            result.copied.append(name)
        except Exception as exc:  # any remote error (e.g. SSHException) fails this file only
            reason = describe_error(exc, url)
            result.failed.append((name, reason))
            log.warning(
                "could not fetch %s from %s's drop %s: %s", name, partner, safe_url(url), reason
            )
    return result


def push(outbox: Path, template: str, partner: str) -> TransferResult:
    """Copy a partner's bundles to its remote drop; a bundle already there is skipped.

    Written under a hidden temp name and renamed, so the partner never picks up half a file.
    """
    result = TransferResult()
    url = location(template, partner)
    fs, root = fsspec.core.url_to_fs(url)
    fs.makedirs(root, exist_ok=True)
    for path in sorted(outbox.glob("*.bundle")):
        target = posixpath.join(root, path.name)
        if fs.exists(target) and fs.size(target) == path.stat().st_size:
            result.skipped.append(path.name)
            continue
        tmp = posixpath.join(root, f".{path.name}.part")
        try:
            fs.put_file(str(path), tmp)
            fs.mv(tmp, target)
            result.copied.append(path.name)
        except OSError as exc:
            reason = describe_error(exc, url)
            result.failed.append((path.name, reason))
            log.warning(
                "could not push %s to %s's drop %s: %s", path.name, partner, safe_url(url), reason
            )
    return result

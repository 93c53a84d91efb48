"""Remote drops (SFTP, S3, a local or mounted folder): connecting, listing, copying.

Used by both sides: the hub fetches submissions from each partner's drop and delivers
bundles to it; a council delivers its submissions and fetches its bundles. Sealed files
are signed and encrypted, so a drop needs no trust; it only must not lose, half-copy or
silently miss a file.

Connection settings never come from the shared partnership file (every party holds it):
its URL says only where (``sftp://drop.example/{partner}/in``); host, port, user, key file,
known_hosts and secrets are :class:`DropOptions` from the party's own ``operator.yaml``.
Secrets are given by environment variable (``*_env``) or file (``*_file``), never inline.

**Upload convention.** A file appears in a drop under its final name only when complete:
write it as ``.<name>.part`` (or any name starting with ``.`` or ending in ``.part``,
``.partial``, ``.tmp``, ``.filepart``, ``.uploading``) and rename it when the upload has
finished. Such names are never fetched. A file under its final name that changed within
the last ``settle_seconds`` (SFTP, local folders) is left for the next run unless its size
and time stay the same over that wait; object stores (S3) only show complete objects.
"""

from __future__ import annotations

import getpass
import logging
import os
import posixpath
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import fsspec

from fraudmatch.common.fsutil import atomic_path

__all__ = [
    "DropError",
    "DropOptions",
    "Entry",
    "Listing",
    "OPTION_KEYS",
    "connect",
    "copy_in",
    "describe_error",
    "in_progress",
    "options_for",
    "list_ready",
    "parse_options",
    "put_atomic",
    "safe_url",
    "secret",
]

log = logging.getLogger(__name__)

IN_PROGRESS_SUFFIXES = (".part", ".partial", ".tmp", ".filepart", ".uploading")
OBJECT_STORES = {"s3", "s3a", "gs", "gcs", "az", "abfs", "memory"}


class DropError(OSError):
    """A drop cannot be used as configured; the message says what to change."""


@dataclass(frozen=True)
class DropOptions:
    """How to reach one drop; every field optional (the URL's own host, port and user)."""

    host: str | None = None
    port: int | None = None
    user: str | None = None
    key_file: str | None = None
    known_hosts: str | None = None  # default ~/.ssh/known_hosts
    strict_host_key_checking: bool = True
    password_env: str | None = None
    password_file: str | None = None
    timeout: float = 30.0
    settle_seconds: float | None = None  # default 10 (SFTP, folders), 0 (object stores)
    # S3 (s3fs); without keys, boto's own chain (AWS_* environment, ~/.aws, instance role)
    endpoint_url: str | None = None
    key_env: str | None = None
    secret_env: str | None = None
    key_id_file: str | None = None
    secret_file: str | None = None
    region: str | None = None


OPTION_KEYS = frozenset(f.name for f in fields(DropOptions))
_NUMBERS = {"port": int, "timeout": (int, float), "settle_seconds": (int, float)}


def parse_options(raw: Any, where: str) -> DropOptions:
    """Check one mapping of drop options; errors name ``where``, the key and what is expected."""
    if raw is None:
        return DropOptions()
    if not isinstance(raw, Mapping):
        raise DropError(f"{where}: expected a mapping of drop options, got {type(raw).__name__}")
    if {"password", "secret", "key"} & set(raw):
        raise DropError(
            f"{where}: a password or secret key is never written in a file; use "
            "password_env / password_file, key_env / key_id_file, secret_env / secret_file "
            "(or a key_file for SFTP)"
        )
    unknown = set(raw) - OPTION_KEYS
    if unknown:
        raise DropError(f"{where}: unknown keys {sorted(unknown)}; expected {sorted(OPTION_KEYS)}")
    for key, kind in _NUMBERS.items():
        value = raw.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, kind)):
            raise DropError(f"{where}: {key}: expected a number, got {value!r}")
    strict = raw.get("strict_host_key_checking", True)
    if not isinstance(strict, bool):
        raise DropError(f"{where}: strict_host_key_checking: expected true or false")
    return DropOptions(**dict(raw))


def merge(default: DropOptions, own: Mapping[str, Any]) -> DropOptions:
    """``default`` overlaid with the keys a partner sets itself."""
    return DropOptions(**{**default.__dict__, **own})


def options_for(path: Path | str | None, party: str) -> DropOptions:
    """The drop options of ``party`` in an ``operator.yaml`` (its ``transport:`` section:
    ``default`` overlaid with ``partners.<party>``); no file, the defaults."""
    if path is None or not Path(path).is_file():
        if path is not None:
            raise DropError(f"{path}: operator file not found")
        return DropOptions()
    import yaml

    try:
        data = yaml.safe_load(Path(path).read_text()) or {}
    except yaml.YAMLError as exc:
        raise DropError(f"{path}: not valid YAML: {exc}") from None
    transport = data.get("transport") or {} if isinstance(data, dict) else None
    if not isinstance(transport, Mapping):
        raise DropError(f"{path}: transport: expected a mapping with default and/or partners")
    default = parse_options(transport.get("default"), f"{path}: transport.default")
    own = (transport.get("partners") or {}).get(party) or {}
    parse_options(own, f"{path}: transport.partners.{party}")
    return merge(default, own)


def secret(env: str | None, file: str | None, what: str) -> str | None:
    """A secret from an environment variable or a file; None if neither is configured."""
    if env:
        value = os.environ.get(env)
        if not value:
            raise DropError(f"{what}: environment variable {env} is not set")
        return value
    if file:
        try:
            return Path(file).expanduser().read_text().strip()
        except OSError as exc:
            raise DropError(f"{what}: cannot read {file}: {exc.strerror}") from None
    return None


# --------------------------------------------------------------------------- URLs


def location(template: str, party: str) -> str:
    """The drop of one party: ``{partner}`` in the URL replaced (else ``/<party>`` added)."""
    if "{partner}" not in template:
        return template.rstrip("/") + "/" + party
    return template.replace("{partner}", party)


def safe_url(url: str) -> str:
    """``url`` fit for a log: user, password, query and fragment left out (link by link)."""
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
    """The exception as text for a summary or log, with the URL's secrets masked."""
    text = f"{type(exc).__name__}: {exc}".strip()
    if text.endswith(":"):
        text += " (no detail; the connection was closed)"
    for link in url.split("::"):
        try:
            parts = urlsplit(link)
        except ValueError:
            continue
        text = text.replace(link, safe_url(link))
        userinfo = parts.netloc.rpartition("@")[0]
        for hidden in (userinfo, parts.password, parts.query, parts.fragment):
            if hidden:
                text = text.replace(hidden, "***")
    return text


# --------------------------------------------------------------------------- connecting


def connect(url: str, options: DropOptions | None = None) -> tuple[fsspec.AbstractFileSystem, str]:
    """A fresh connection to the drop at ``url`` and the folder in it.

    Never a cached one: a connection that dropped earlier must fail again, not make the
    drop look empty. Errors say what to install or configure.
    """
    options = options or DropOptions()
    scheme = urlsplit(url).scheme.lower() if "://" in url else "file"
    if "::" not in url and urlsplit(url).password:
        raise DropError(
            f"{safe_url(url)}: the drop URL holds a password, and the partnership file goes "
            "to every party: give it by password_env or password_file in operator.yaml"
        )
    try:
        if scheme in ("sftp", "ssh"):
            return _sftp(url, options)
        if scheme in ("s3", "s3a"):
            return _s3(url, options)
        return fsspec.core.url_to_fs(url, skip_instance_cache=True)
    except ImportError as exc:
        extra = {"sftp": "sftp", "ssh": "sftp", "s3": "s3", "s3a": "s3"}.get(scheme)
        hint = f": pip install 'fraudmatch[{extra}]'" if extra else ""
        raise DropError(f"no back end for {scheme}:// drops installed{hint} ({exc})") from None


def _sftp(url: str, o: DropOptions) -> tuple[fsspec.AbstractFileSystem, str]:
    import paramiko
    from fsspec.implementations.sftp import SFTPFileSystem

    parts = urlsplit(url)
    host = o.host or parts.hostname
    if not host:
        raise DropError(f"{safe_url(url)}: no host in the URL and no host option")
    known = Path(o.known_hosts or "~/.ssh/known_hosts").expanduser()
    if o.strict_host_key_checking and not known.is_file():
        raise DropError(
            f"known_hosts file {known} not found: strict host-key checking needs the "
            f"drop server's host key (check its fingerprint, then e.g. "
            f"ssh-keyscan -p {o.port or parts.port or 22} {host} >> {known}), or set known_hosts"
        )
    kwargs: dict[str, Any] = {
        "port": o.port or parts.port or 22,
        "username": o.user or parts.username or getpass.getuser(),
        "timeout": o.timeout,
        "banner_timeout": o.timeout,
        "auth_timeout": o.timeout,
    }
    password = secret(o.password_env, o.password_file, "drop password")
    if o.key_file:
        kwargs.update(key_filename=str(Path(o.key_file).expanduser()))
        kwargs.update(allow_agent=False, look_for_keys=False)
    if password:
        kwargs["password"] = password  # also unlocks an encrypted key_file

    class _Checked(SFTPFileSystem):
        """fsspec's SFTP with the host keys of ``known`` loaded and a read timeout."""

        def _connect(self) -> None:
            client = paramiko.SSHClient()
            if known.is_file():
                client.load_host_keys(str(known))
            policy = paramiko.RejectPolicy() if o.strict_host_key_checking else None
            client.set_missing_host_key_policy(policy or paramiko.AutoAddPolicy())
            try:
                client.connect(self.host, **self.ssh_kwargs)
            except paramiko.SSHException as exc:
                if "not found in known_hosts" in str(exc):
                    raise DropError(
                        f"{exc} ({known}); strict host-key checking refuses an unknown "
                        "server: add its key after checking the fingerprint"
                    ) from None
                raise
            self.client = client
            self.ftp = client.open_sftp()
            self.ftp.get_channel().settimeout(o.timeout)

    return _Checked(host, skip_instance_cache=True, **kwargs), parts.path or "/"


def _s3(url: str, o: DropOptions) -> tuple[fsspec.AbstractFileSystem, str]:
    import s3fs

    parts = urlsplit(url)
    key = secret(o.key_env, o.key_id_file, "S3 access key id")
    hidden = secret(o.secret_env, o.secret_file, "S3 secret access key")
    fs = s3fs.S3FileSystem(
        key=key,
        secret=hidden,
        endpoint_url=o.endpoint_url,
        client_kwargs={"region_name": o.region} if o.region else None,
        config_kwargs={
            "connect_timeout": o.timeout,
            "read_timeout": o.timeout,
            "retries": {"max_attempts": 2, "mode": "standard"},
        },
        skip_instance_cache=True,
    )
    fs.retries = 2  # s3fs's own retries on a dropped read (5 by default, with back-off)
    bucket = parts.hostname or ""
    return fs, f"{bucket}{parts.path}".rstrip("/")


# --------------------------------------------------------------------------- listing


def in_progress(name: str) -> bool:
    """Whether a name is an upload still being written under the upload convention."""
    return name.startswith(".") or name.lower().endswith(IN_PROGRESS_SUFFIXES)


@dataclass(frozen=True)
class Entry:
    name: str
    path: str
    size: int


@dataclass
class Listing:
    """The complete files of a drop folder, and those left for later, with why."""

    ready: list[Entry] = field(default_factory=list)
    waiting: list[tuple[str, str]] = field(default_factory=list)
    exists: bool = True


def _mtime(entry: Mapping[str, Any]) -> float | None:
    for key in ("mtime", "LastModified", "last_modified", "created"):
        value = entry.get(key)
        if isinstance(value, datetime):
            return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
        if isinstance(value, int | float):
            return float(value)
    return None


def _latest_change(mtime: float | None) -> float | None:
    """The latest a file may have changed: SFTP gives whole seconds, so a file written 0.9 s
    ago may show 1.9 s; a whole-second time counts as up to a second younger than it says."""
    if mtime is None:
        return None
    return mtime + 1.0 if mtime == int(mtime) else mtime


def _settle(url: str, options: DropOptions) -> float:
    if options.settle_seconds is not None:
        return float(options.settle_seconds)
    scheme = urlsplit(url).scheme.lower() if "://" in url else "file"
    return 0.0 if scheme in OBJECT_STORES else 10.0


def list_ready(
    fs: fsspec.AbstractFileSystem, root: str, url: str, options: DropOptions, skip: set[str]
) -> Listing:
    """The files in ``root`` ready to fetch (name order), skipping the folders in ``skip``.

    A missing folder is an empty drop (``exists`` False); any other error (connection,
    permission) raises: it is a failure, never "nothing there".
    """
    try:
        entries = fs.ls(root, detail=True)
    except FileNotFoundError:
        return Listing(exists=False)
    listing = Listing()
    settle = _settle(url, options)
    fresh: dict[str, tuple[Entry, float | None]] = {}
    now = time.time()
    for entry in sorted(entries, key=lambda e: e["name"]):
        name = posixpath.basename(entry["name"].rstrip("/"))
        if entry.get("type") != "file" or name in skip:
            continue
        if in_progress(name):
            listing.waiting.append((name, "upload in progress (temporary name)"))
            continue
        item = Entry(name, entry["name"], int(entry.get("size") or 0))
        mtime = _mtime(entry)
        latest = _latest_change(mtime)
        if settle and (latest is None or now - latest < settle):
            fresh[name] = (item, mtime)
        else:
            listing.ready.append(item)
    if fresh:  # changed just now: ready only if size and time hold still for settle seconds
        newest = max(_latest_change(m) or now for _, m in fresh.values())
        time.sleep(max(0.0, min(settle, newest + settle - time.time())))
        for name, (item, mtime) in fresh.items():
            try:
                again = fs.info(item.path)
            except FileNotFoundError:
                listing.waiting.append((name, "gone while the drop was read"))
                continue
            if int(again.get("size") or 0) == item.size and _mtime(again) == mtime:
                listing.ready.append(item)
            else:
                listing.waiting.append((name, f"still being written (changed within {settle:g}s)"))
        listing.ready.sort(key=lambda e: e.name)
    return listing


# --------------------------------------------------------------------------- copying


def copy_in(fs: fsspec.AbstractFileSystem, entry: Entry, target: Path) -> None:
    """Copy a drop file to ``target`` atomically, never over an existing file; a copy whose
    size differs from the listing (changed, or the connection closed early) is discarded."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(target, overwrite=False) as tmp, fs.open(entry.path, "rb") as src:
        copied = 0
        with open(tmp, "wb") as dst:
            while chunk := src.read(1 << 20):
                dst.write(chunk)
                copied += len(chunk)
        if copied != entry.size:
            raise DropError(
                f"{entry.name}: {copied} bytes read of the {entry.size} listed; not kept "
                "(it changed while being fetched, or the connection ended early)"
            )


def put_atomic(fs: fsspec.AbstractFileSystem, local: Path, root: str, url: str) -> None:
    """Upload ``local`` into ``root`` under the upload convention: ``.<name>.part``, then
    renamed; an object store gets the object in one request (it is never seen half-made)."""
    target = posixpath.join(root, local.name)
    scheme = urlsplit(url).scheme.lower() if "://" in url else "file"
    if scheme in OBJECT_STORES:
        fs.put_file(str(local), target)
        return
    tmp = posixpath.join(root, f".{local.name}.part")
    fs.put_file(str(local), tmp)
    size = int(fs.info(tmp).get("size") or 0)
    if size != local.stat().st_size:
        raise DropError(f"{local.name}: {size} of {local.stat().st_size} bytes arrived")
    fs.mv(tmp, target)  # SFTP: posix-rename, which replaces an older copy


def stamp(now: datetime | None = None) -> str:
    """The prefix of a file set aside in ``fetched/``: when, for retention to read."""
    return f"{(now or datetime.now(UTC)):%Y%m%dT%H%M%SZ}__"


def stamped_at(name: str) -> datetime | None:
    """When a file in ``fetched/`` was set aside, from its :func:`stamp` (None: unknown)."""
    try:
        return datetime.strptime(name[:16], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None

"""The hub's workspace: one folder holding everything a cycle reads and writes.

```
workspace/
  inbox/<partner>/     sealed submissions as delivered (the only folder partners write to)
  quarantine/          refused files, each with a ``.reason.txt``
  store/<partner>/<dataset>/    decrypted Parquet, and ``sealed/`` originals kept as received
  runs/<run_id>/       matches, cases, report and summary of one cycle
  outbox/<partner>/    sealed bundles for each partner to fetch
  catalogue.duckdb     what was received, stored, quarantined and run
```

Folders are private (0700): the store holds decrypted, if pseudonymised, personal data.

Collection lists an inbox with :func:`inbox_files` and moves files out of it with
:func:`take_file` only; it reads each listed file by local path. An inbox that is an
fsspec URL (a council's SFTP drop, an S3 bucket) therefore plugs in here without touching
collection: ``inbox_files`` fetches new remote files into a local staging folder and lists
those, and ``take_file`` deletes the remote copy only after the local one is safely moved.
"""

from __future__ import annotations

import errno
import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from fraudmatch.common.fsutil import fsync_dir
from fraudmatch.hub import catalogue
from fraudmatch.spec.partnership import Partnership

__all__ = [
    "DIR_MODE",
    "ENV_VAR",
    "Workspace",
    "WorkspaceBusy",
    "default_root",
    "ensure_private_dir",
    "exclusive",
    "free_name",
    "inbox_files",
    "open_workspace",
    "take_file",
]

ENV_VAR = "FRAUDMATCH_WORKSPACE"
DIR_MODE = 0o700
CATALOGUE_NAME = "catalogue.duckdb"


def default_root() -> Path:
    """``$FRAUDMATCH_WORKSPACE`` if set, else ``./workspace``."""
    return Path(os.environ.get(ENV_VAR) or "workspace")


@dataclass(frozen=True)
class Workspace:
    """Paths of one hub workspace. :func:`open_workspace` creates the folders; only
    :meth:`run_dir` creates its own, on first use."""

    root: Path

    @classmethod
    def default(cls) -> Workspace:
        return cls(default_root())

    @property
    def inbox_root(self) -> Path:
        return self.root / "inbox"

    def inbox(self, partner: str) -> Path:
        return self.inbox_root / partner

    @property
    def quarantine(self) -> Path:
        return self.root / "quarantine"

    @property
    def store(self) -> Path:
        return self.root / "store"

    def store_dir(self, partner: str, dataset: str) -> Path:
        return self.store / partner / dataset

    def sealed_dir(self, partner: str, dataset: str) -> Path:
        """Where the sealed originals of stored submissions are kept, as received."""
        return self.store_dir(partner, dataset) / "sealed"

    @property
    def runs(self) -> Path:
        return self.root / "runs"

    def run_dir(self, run_id: str) -> Path:
        """A run's folder, created (private) on first use so every step can write into it."""
        return ensure_private_dir(self.runs / run_id)

    def outbox(self, partner: str) -> Path:
        return self.root / "outbox" / partner

    @property
    def catalogue_path(self) -> Path:
        return self.root / CATALOGUE_NAME


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` and any missing parents as 0700, whatever the umask, and make
    ``path`` itself 0700 (``mkdir(parents=True)`` would leave new parents umask-wide)."""
    missing = []
    folder = path
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for folder in reversed(missing):
        folder.mkdir(mode=DIR_MODE, exist_ok=True)
        os.chmod(folder, DIR_MODE)
    os.chmod(path, DIR_MODE)
    return path


def open_workspace(root: Path | str | None, partnership: Partnership) -> Workspace:
    """Create (or reuse) the workspace for a partnership: one inbox and outbox per partner,
    and the catalogue. Safe to call every cycle: existing folders and files are kept.
    """
    workspace = Workspace(Path(root) if root is not None else default_root())
    for folder in (workspace.root, workspace.inbox_root, workspace.quarantine):
        ensure_private_dir(folder)
    for folder in (workspace.store, workspace.runs, workspace.root / "outbox"):
        ensure_private_dir(folder)
    for partner in partnership.partners:
        ensure_private_dir(workspace.inbox(partner))
        ensure_private_dir(workspace.outbox(partner))
    catalogue.ensure_schema(workspace)
    return workspace


class WorkspaceBusy(RuntimeError):
    """Another process is already doing this step on the same workspace."""


@contextmanager
def exclusive(workspace: Workspace, what: str) -> Iterator[None]:
    """Hold ``.<what>.lock`` in the workspace so two processes (a scheduled cycle and a
    manual one) never move the same inbox files at once. The OS drops the lock if the
    process dies, so a crash never leaves the workspace locked."""
    path = workspace.root / f".{what}.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise WorkspaceBusy(
                f"{workspace.root}: another fraudmatch process is running {what} on this "
                "workspace; wait for it to finish"
            ) from None
        yield
    finally:
        os.close(fd)


# --------------------------------------------------------------------------- inbox seam


def inbox_files(folder: Path) -> list[Path]:
    """Delivered files in an inbox folder, sorted by name so collection is deterministic.

    Hidden files are skipped: they are deliveries still being written (an atomic copy into
    the inbox writes ``.<name>.<random>.tmp`` first and renames it when complete).
    """
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if not p.name.startswith(".") and p.is_file())


def take_file(src: Path, folder: Path, name: str) -> Path:
    """Move ``src`` into ``folder`` as ``name`` without ever overwriting; returns the new path.

    A taken name gets ``~2``, ``~3``... before the suffix, unless that file holds the very
    same bytes, in which case ``src`` is simply removed: nothing is lost either way. The
    move is a rename (same filesystem) made durable by syncing both directories.
    """
    ensure_private_dir(folder)
    for target in _candidates(folder, name):
        if target.exists() and _same_bytes(src, target):
            src.unlink()
            fsync_dir(src.parent)
            return target
        if _link_or_rename(src, target):
            fsync_dir(folder)
            fsync_dir(src.parent)
            return target
    raise FileExistsError(f"{folder}: no free name for {name}")


def free_name(folder: Path, name: str) -> Path:
    """The path :func:`take_file` would use for a new file: ``name``, or ``name~2``..."""
    for target in _candidates(folder, name):
        if not os.path.lexists(target):
            return target
    raise FileExistsError(f"{folder}: no free name for {name}")


def _candidates(folder: Path, name: str) -> Iterator[Path]:
    stem, suffix = _split_name(name)
    yield folder / name
    for n in range(2, 10_000):
        yield folder / f"{stem}~{n}{suffix}"


def _link_or_rename(src: Path, target: Path) -> bool:
    """Move ``src`` to ``target`` unless ``target`` exists; False if it does.

    ``link`` refuses an existing name atomically, so two collectors cannot clobber each
    other; filesystems without hard links fall back to check-then-rename.
    """
    try:
        os.link(src, target)
    except FileExistsError:
        return False
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EXDEV, errno.EMLINK):
            raise
        if os.path.lexists(target):
            return False
        os.replace(src, target)
        return True
    src.unlink()
    return True


def _split_name(name: str) -> tuple[str, str]:
    """``a.sealed`` -> (``a``, ``.sealed``); a hidden or suffix-less name has no suffix."""
    stem, dot, suffix = name.rpartition(".")
    return (stem, f".{suffix}") if dot and stem else (name, "")


def _same_bytes(a: Path, b: Path, block: int = 1 << 20) -> bool:
    if a.stat().st_size != b.stat().st_size:
        return False
    with open(a, "rb") as fa, open(b, "rb") as fb:
        while True:
            x, y = fa.read(block), fb.read(block)
            if x != y:
                return False
            if not x:
                return True

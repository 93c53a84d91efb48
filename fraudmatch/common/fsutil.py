"""Crash-safe file writes: every stage output appears complete or not at all.

A writer never opens its target directly. It writes a temp file in the target's
directory (so the final rename stays on one filesystem and is atomic), flushes
and fsyncs it, renames it onto the target and fsyncs the directory so the
rename itself survives a power cut. If anything fails, the temp file is removed
and the target is left exactly as it was.

Temp files are named ``.<target name>.<random>.tmp``: hidden, recognisable if a
crash leaves one behind, and never ending in a final suffix (``.bundle``,
``.parquet``, ``.sealed``), so no ``*.bundle`` script of a partner ever picks one
up. :func:`remove_temporaries` clears those a killed process left behind.

:func:`crash_point` lets a test kill the process for real at a named point
(``FRAUDMATCH_CRASH_AT=<point>``), to prove a re-run leaves no debris.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import signal
import stat
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

__all__ = [
    "CRASH_ENV",
    "PRIVATE_MODE",
    "atomic_path",
    "atomic_write",
    "atomic_write_bytes",
    "crash_point",
    "fsync_dir",
    "is_temporary",
    "remove_temporaries",
    "write_private_bytes",
]

PRIVATE_MODE = 0o600
"""Owner read/write only: keys and decrypted personal data."""

_NEW_FILE_MODE = 0o666  # narrowed by the process umask, like any open(..., "w")

CRASH_ENV = "FRAUDMATCH_CRASH_AT"
"""Names the :func:`crash_point` at which the process kills itself (tests only)."""

# ours: ``.<name>.<12 hex>.tmp``; releases before this one also appended the target suffix
_TEMP_NAME = re.compile(r"\..+\.[0-9a-f]{12}\.tmp(\.[^.]+)?")


def crash_point(name: str) -> None:
    """SIGKILL this process here if ``$FRAUDMATCH_CRASH_AT`` names this point.

    A real kill (no cleanup, no ``finally``), so a test can check that the next run
    recovers and leaves nothing behind. Does nothing unless the variable is set.
    """
    if os.environ.get(CRASH_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


def is_temporary(path: Path) -> bool:
    """Whether ``path`` is named like a temp file of :func:`atomic_write`."""
    return bool(_TEMP_NAME.fullmatch(path.name))


def remove_temporaries(
    root: Path, *, skip: Iterable[Path] = (), older_than: float | None = None
) -> list[Path]:
    """Delete the temp files a killed writer left under ``root``; returns what was removed.

    Only call it while no writer of ours can be at work in ``root`` (the hub holds its
    cycle lock). Folders in ``skip`` are left alone; ``older_than`` (seconds) spares
    younger files, for folders where someone else may be writing (an inbox, where
    partners' deliveries still being copied in look the same).
    """
    skipped = {Path(p).resolve() for p in skip}
    cutoff = None if older_than is None else time.time() - older_than
    removed: list[Path] = []
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        dirs[:] = sorted(d for d in dirs if (here / d).resolve() not in skipped)
        for name in sorted(files):
            path = here / name
            if is_temporary(path) and (cutoff is None or _mtime(path) < cutoff):
                _unlink_quiet(path)
                removed.append(path)
    for folder in {p.parent for p in removed}:
        fsync_dir(folder)
    return removed


def fsync_dir(directory: Path) -> None:
    """Flush a directory entry so a rename in it survives a crash."""
    if not hasattr(os, "O_DIRECTORY"):  # not POSIX: nothing to flush
        return
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    except OSError as exc:  # some filesystems cannot fsync a directory
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise
    finally:
        os.close(fd)


@contextmanager
def atomic_write(
    path: str | os.PathLike[str], *, mode: int | None = None, overwrite: bool = True
) -> Iterator[BinaryIO]:
    """Yield a binary file whose content replaces ``path`` only if the block succeeds.

    ``mode`` None gives a new file the umask default and keeps an existing
    target's permissions, so a rewrite never loosens them; an explicit mode is
    applied exactly, and the temp file is created no wider than 0600 first so it
    is never briefly readable by others. ``overwrite=False`` refuses an existing
    target (checked up front and again, race-free, at the rename).
    """
    target = Path(path)
    tmp, fd = _create_temp(target, mode, overwrite)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        _commit(tmp, target, overwrite)
    except BaseException:
        _unlink_quiet(tmp)
        raise


@contextmanager
def atomic_path(
    path: str | os.PathLike[str], *, mode: int | None = None, overwrite: bool = True
) -> Iterator[Path]:
    """Yield a temp path to write (e.g. with a Parquet writer); renamed onto ``path`` on success.

    The temp file already exists (empty, with the right permissions) so the
    name is reserved; writers that truncate and rewrite it keep those
    permissions. Same ``mode`` and ``overwrite`` rules as :func:`atomic_write`.
    """
    target = Path(path)
    tmp, fd = _create_temp(target, mode, overwrite)
    os.close(fd)
    try:
        yield tmp
        _fsync_file(tmp)
        _commit(tmp, target, overwrite)
    except BaseException:
        _unlink_quiet(tmp)
        raise


def atomic_write_bytes(
    path: str | os.PathLike[str], data: bytes, *, mode: int | None = None, overwrite: bool = True
) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_write`)."""
    with atomic_write(path, mode=mode, overwrite=overwrite) as handle:
        handle.write(data)


def write_private_bytes(
    path: str | os.PathLike[str], data: bytes, *, overwrite: bool = True
) -> None:
    """Write secret ``data`` atomically with mode 0600 from the moment the file exists."""
    atomic_write_bytes(path, data, mode=PRIVATE_MODE, overwrite=overwrite)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return float("inf")


def _temp_name(target: Path) -> Path:
    """A fresh hidden sibling of ``target``, kept under the 255-byte name limit, whose
    suffix is ``.tmp`` whatever the target's (see the module docstring)."""
    token = secrets.token_hex(6)
    return target.with_name(f".{target.name[:180]}.{token}.tmp")


def _create_temp(target: Path, mode: int | None, overwrite: bool) -> tuple[Path, int]:
    """Create the temp file exclusively; return its path and an open write descriptor."""
    if not overwrite and os.path.lexists(target):
        raise FileExistsError(errno.EEXIST, "refusing to overwrite existing file", str(target))
    create_mode = _NEW_FILE_MODE if mode is None else PRIVATE_MODE
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    while True:
        tmp = _temp_name(target)
        try:
            fd = os.open(tmp, flags, create_mode)
            break
        except FileExistsError:  # random name collision: draw again
            continue
    try:
        final_mode = mode if mode is not None else _existing_mode(target)
        if final_mode is not None:
            os.fchmod(fd, final_mode)
    except BaseException:
        os.close(fd)
        _unlink_quiet(tmp)
        raise
    return tmp, fd


def _existing_mode(target: Path) -> int | None:
    """Permission bits of an existing regular target, so a rewrite keeps them."""
    try:
        st = os.stat(target)
    except FileNotFoundError:
        return None
    return stat.S_IMODE(st.st_mode) if stat.S_ISREG(st.st_mode) else None


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _commit(tmp: Path, target: Path, overwrite: bool) -> None:
    """Move ``tmp`` onto ``target`` atomically and make the rename durable."""
    if overwrite:
        os.replace(tmp, target)
    else:
        _rename_no_clobber(tmp, target)
    fsync_dir(target.parent)


def _rename_no_clobber(tmp: Path, target: Path) -> None:
    """Rename that fails if ``target`` exists: link() refuses an existing name atomically."""
    try:
        os.link(tmp, target)
    except FileExistsError:
        raise FileExistsError(
            errno.EEXIST, "refusing to overwrite existing file", str(target)
        ) from None
    except OSError:  # filesystem without hard links: best-effort check
        if os.path.lexists(target):
            raise FileExistsError(
                errno.EEXIST, "refusing to overwrite existing file", str(target)
            ) from None
        os.replace(tmp, target)
        return
    os.unlink(tmp)


def _unlink_quiet(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass

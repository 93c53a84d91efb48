"""Crash-safe file writes: every stage output appears complete or not at all.

A writer never opens its target directly. It writes a temp file in the target's
directory (so the final rename stays on one filesystem and is atomic), flushes
and fsyncs it, renames it onto the target and fsyncs the directory so the
rename itself survives a power cut. If anything fails, the temp file is removed
and the target is left exactly as it was.

Temp files are named ``.<target name>.<random>.tmp<target suffix>``: hidden,
recognisable if a crash leaves one behind, and ending in the target's suffix so
writers that pick a format from the extension still work.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

__all__ = [
    "PRIVATE_MODE",
    "atomic_path",
    "atomic_write",
    "atomic_write_bytes",
    "fsync_dir",
    "write_private_bytes",
]

PRIVATE_MODE = 0o600
"""Owner read/write only: keys and decrypted personal data."""

_NEW_FILE_MODE = 0o666  # narrowed by the process umask, like any open(..., "w")


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


def _temp_name(target: Path) -> Path:
    """A fresh hidden sibling of ``target``, kept under the 255-byte name limit."""
    token = secrets.token_hex(6)
    return target.with_name(f".{target.name[:180]}.{token}.tmp{target.suffix[:30]}")


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

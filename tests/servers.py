"""Real servers for tests (Prefect, OpenSSH, S3): free ports, process groups, clean-up.

Every server runs in its own process group and is killed with its children when the
``with`` block ends, also when the test fails or is interrupted.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def process(
    cmd: list[str], *, env: Mapping[str, str], log: Path, cwd: Path | None = None
) -> Iterator[subprocess.Popen]:
    """Run ``cmd`` in a new session (its own process group), output to ``log``; on exit
    SIGTERM the whole group, then SIGKILL whatever is left after a few seconds."""
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            cmd,
            env=dict(env),
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        yield proc
    finally:
        stop_group(proc)


def stop_group(proc: subprocess.Popen, grace: float = 5.0) -> None:
    """Stop a process started by :func:`process` and every process in its group."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, grace)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
    _reap_group(proc.pid)


def _reap_group(pgid: int) -> None:
    """Children may outlive their leader: SIGKILL the group until nothing answers."""
    for _ in range(20):
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            return
        time.sleep(0.1)


def wait_for(
    check: Callable[[], object],
    *,
    timeout: float,
    what: str,
    proc: subprocess.Popen | None = None,
    log: Path | None = None,
    interval: float = 0.5,
) -> object:
    """Poll ``check`` until it returns something truthy; fail with the log's tail if it
    does not within ``timeout`` or the process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = check()
        except Exception:  # noqa: BLE001 - not up yet
            value = None
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            break
        time.sleep(interval)
    tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
    raise AssertionError(f"{what} did not happen within {timeout:.0f} s\n{tail}")


@contextmanager
def serve_app(app: object, timeout: float = 20.0) -> Iterator[str]:
    """Serve an ASGI app with uvicorn on a free local port in a thread; yield its base URL.

    For browser tests: a real server a real browser can reach, stopped on exit.
    """
    import threading

    import uvicorn

    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not srv.started:
        assert time.monotonic() < deadline, "the app did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(timeout=10)

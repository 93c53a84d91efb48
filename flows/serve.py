"""Serve a deployment in this process until the first SIGINT (Ctrl-C) or SIGTERM.

``prefect.serve`` does not stop cleanly: the runner installs its own SIGTERM handler,
which stops the runner from a signal handler through a loop thread and can hang for a
minute, and a Ctrl-C surfaces as a traceback. Here the runner runs as a task of our own
event loop; once it has started (and installed its handler), the loop's own handlers for
both signals replace it and only set an event. Then the runner task is cancelled, which
runs its normal shutdown (clients closed, temporary folder removed) within ``grace``
seconds; after that the process does not wait for it any longer.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def serve_until_signalled(
    deployment: Any, *, grace: float = 8.0, ready: Callable[[], None] | None = None
) -> str:
    """Serve ``deployment`` (a ``RunnerDeployment``) until SIGINT or SIGTERM; returns the
    signal's name. ``ready`` is called once the runner is polling and the signals are
    ours. Must run in the main thread (signal handlers)."""
    return asyncio.run(_serve(deployment, grace, ready))


async def _serve(deployment: Any, grace: float, ready: Callable[[], None] | None) -> str:
    from prefect.runner import Runner

    loop = asyncio.get_running_loop()
    received: list[str] = []
    stop = asyncio.Event()

    def on_signal(sig: signal.Signals) -> None:
        if not received:
            received.append(sig.name)
        stop.set()

    def take_signals() -> None:
        for sig in STOP_SIGNALS:
            loop.add_signal_handler(sig, on_signal, sig)

    take_signals()  # a signal while the deployment is registered: stop before serving
    runner = Runner(pause_on_shutdown=False)
    await runner.aadd_deployment(deployment)
    if stop.is_set():
        return received[0]
    running = asyncio.create_task(runner.start(), name="prefect-runner")
    # let the runner reach its first await: it has installed its SIGTERM handler by then,
    # and ours, installed again after it, are the ones that count
    await asyncio.sleep(0)
    take_signals()
    if ready is not None:
        ready()
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({running, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for sig in STOP_SIGNALS:
            loop.remove_signal_handler(sig)
            signal.signal(sig, signal.SIG_IGN)  # a second Ctrl-C must not interrupt shutdown
    if running.done() and not stopping.done():
        stopping.cancel()
        running.result()  # the runner ended by itself: its error, if any, is the caller's
        return "runner ended"
    running.cancel()
    _, pending = await asyncio.wait({running}, timeout=grace)
    if pending:
        log.warning("the runner did not shut down within %.0f s; leaving it", grace)
    elif not running.cancelled() and running.exception() is not None:
        log.warning("the runner stopped with an error: %s", running.exception())
    return received[0] if received else "stopped"

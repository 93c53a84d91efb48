"""Shared fixtures: one Prefect test server per test process.

Starting Prefect's temporary server takes seconds, and on a loaded 2-core machine more
than its default 30 s limit; one per session (per xdist worker) with a generous limit keeps
flow tests fast and stable.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from prefect.testing.utilities import prefect_test_harness


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    with prefect_test_harness(server_startup_timeout=180):
        yield

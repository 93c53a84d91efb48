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


# Under xdist (-n 2) the long modules, longest first, each run whole on one worker: their
# module-scoped set-up (a Prefect server, a cycle, a browser, an sshd) is made once, not
# once per worker, and they start first, so the many short tests fill in at the end instead
# of one long module finishing alone. (xdist's own --dist loadgroup does not group under
# pytest 9: it renames item._nodeid, which pytest 9 no longer reads.)
LONG_MODULES = (
    "tests/test_schedule.py",
    "tests/test_cycle_e2e.py",
    "tests/test_new_user_route.py",
    "tests/test_leak.py",
    "tests/test_review_browser_reach.py",
    "tests/test_cycle_kill.py",
    "tests/test_packaging.py",
    "tests/test_suppression_e2e.py",
    "tests/test_late_data.py",
    "tests/test_key_invariance.py",
    "tests/test_distributed.py",
    "tests/test_review_browser.py",
    "tests/test_exports.py",
    "tests/test_drops_s3.py",
    "tests/test_review_browser_work.py",
    "tests/test_drops_sftp.py",
    "tests/test_example_partnership.py",
    "tests/test_review_returns.py",
    "tests/test_shipped_rules.py",
)


def _module(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The long modules first, in the order above; every other test in collection order."""
    rank = {name: i for i, name in enumerate(LONG_MODULES)}
    items.sort(key=lambda item: rank.get(_module(item.nodeid), len(rank)))


@pytest.hookimpl(optionalhook=True)  # an xdist hook: unknown with -p no:xdist
def pytest_xdist_make_scheduler(config: pytest.Config, log):  # noqa: ANN201 - xdist's type
    """One work unit per long module, one per test elsewhere, dealt in collection order."""
    if config.getoption("dist") != "load":
        return None  # an explicit other --dist is left to xdist
    from xdist.scheduler import LoadScopeScheduling

    class LongModulesWhole(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = _module(nodeid)
            return module if module in LONG_MODULES else nodeid

    config.option.loadscopereorder = False  # keep the order above, not units by size
    return LongModulesWhole(config, log)

"""Where a rule's partitions are compared: in this process, or as Prefect tasks on Dask.

Blocking cuts a rule's candidate pairs into partitions (``BlockingPlan.partitions``); each
partition's gammas are a pure function of the pairs and the rule's :class:`Comparer` (the
per-pair side columns and per-rule lookup tables). That is the one step worth spreading
over machines: everything after it (EM, scoring, tiers, conditions, cases) works on the
small gamma columns and stays on the driver.

- :class:`LocalExecutor` (the default) compares the partitions here, one after another,
  exactly as the engine always has.
- :class:`DaskExecutor` runs a Prefect flow on a ``prefect_dask.DaskTaskRunner``: the
  Comparer is scattered to every worker once per rule, each partition is scattered and
  submitted as one Prefect task, and the gamma frames come back in partition order, so
  the driver concatenates exactly what the local run would: identical matches.

The partnership file chooses (``engine:``), see :func:`executor_from_config`::

    engine: {engine: dask, address: tcp://scheduler.hub.internal:8786}   # existing cluster
    engine: {engine: dask, n_workers: 4}      # a LocalCluster on this (big) machine
    engine: {engine: local}                   # never Dask, whatever the environment says

With no ``engine:`` key, the environment variable ``FRAUDMATCH_DASK_ADDRESS`` (a
scheduler address) sends the comparisons to that cluster; unset, they run locally.
Workers need the same fraudmatch version installed (they unpickle its objects).
"""

from __future__ import annotations

import atexit
import os
import threading
import uuid
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

import polars as pl

from fraudmatch.matching.compare import Comparer

__all__ = [
    "ENV_ADDRESS",
    "DaskExecutor",
    "EngineConfigError",
    "Executor",
    "LocalExecutor",
    "compare_partition",
    "default_executor",
    "executor_from_config",
]

ENV_ADDRESS = "FRAUDMATCH_DASK_ADDRESS"
_LOCAL_CLUSTER_KEYS = {"n_workers", "threads_per_worker", "processes", "memory_limit"}
_KEYS = {"engine", "address", *_LOCAL_CLUSTER_KEYS}
_MISSING_EXTRA = (
    "engine: dask needs prefect-dask and dask.distributed: pip install 'fraudmatch[dask]'"
)


class EngineConfigError(ValueError):
    """The partnership's ``engine:`` setting is invalid; the message names the key."""


class Executor(Protocol):
    """Computes the gammas of every partition, returned in the order given."""

    name: str

    def map_partitions(
        self, comparer: Comparer, partitions: Iterable[pl.DataFrame]
    ) -> list[pl.DataFrame]: ...


class LocalExecutor:
    """In this process, partition after partition: the engine's default."""

    name = "local"

    def map_partitions(
        self, comparer: Comparer, partitions: Iterable[pl.DataFrame]
    ) -> list[pl.DataFrame]:
        return [comparer.gammas(part) for part in partitions]

    def __repr__(self) -> str:
        return "LocalExecutor()"


def _prefect_task():
    """The per-partition Prefect task (made on first use: Prefect loads only when needed)."""
    from prefect import task
    from prefect.cache_policies import NO_CACHE

    # NO_CACHE: a cache key would hash the comparer and pairs, for nothing (one-off work);
    # retries: a worker lost mid-task is retried on another
    return task(name="compare-partition", cache_policy=NO_CACHE, retries=1)(_gammas)


def _gammas(comparer: Comparer, pairs: pl.DataFrame) -> pl.DataFrame:
    """One partition's gammas: what a Dask worker runs (a pure function of its inputs)."""
    return comparer.gammas(pairs)


_TASK: Any = None


def compare_partition() -> Any:
    """The Prefect task ``compare-partition`` (``comparer``, ``pairs``) -> gamma frame."""
    global _TASK
    if _TASK is None:
        _TASK = _prefect_task()
    return _TASK


class DaskExecutor:
    """Partitions as Prefect tasks on a Dask cluster (``prefect_dask.DaskTaskRunner``).

    ``address`` is an existing scheduler (``tcp://host:8786``); without one, a
    ``distributed.LocalCluster`` is started on first use (``cluster_kwargs``: n_workers,
    threads_per_worker, processes, memory_limit) and kept for later rules until
    :meth:`close` (or exit).

    Data: the rule's :meth:`Comparer.portable` copy is scattered to every worker once per
    rule (``broadcast``), each partition's pairs are scattered to one worker; no shared
    filesystem is needed. At most ``window`` partitions are in flight (default: twice the
    cluster's threads), so the pairs and gammas held on the cluster stay bounded, and
    results are taken strictly in partition order.
    """

    name = "dask"

    def __init__(
        self,
        address: str | None = None,
        cluster_kwargs: Mapping[str, Any] | None = None,
        window: int | None = None,
    ) -> None:
        try:
            import distributed  # noqa: F401
            import prefect_dask  # noqa: F401
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise EngineConfigError(_MISSING_EXTRA) from exc
        self.address = address
        self.cluster_kwargs = dict(cluster_kwargs or {})
        self.window = window
        self._cluster: Any = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        where = self.address or f"LocalCluster({self.cluster_kwargs})"
        return f"DaskExecutor({where})"

    def __enter__(self) -> DaskExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def scheduler_address(self) -> str:
        """The scheduler's address (starting the LocalCluster if there is none yet)."""
        if self.address:
            return self.address
        with self._lock:
            if self._cluster is None:
                from distributed import LocalCluster

                kw = {"dashboard_address": None, **self.cluster_kwargs}
                self._cluster = LocalCluster(**kw)
                atexit.register(self.close)
            return self._cluster.scheduler_address

    def close(self) -> None:
        """Stop the LocalCluster this executor started (an external cluster is left alone)."""
        with self._lock:
            cluster, self._cluster = self._cluster, None
        if cluster is not None:
            cluster.close()

    def map_partitions(
        self, comparer: Comparer, partitions: Iterable[pl.DataFrame]
    ) -> list[pl.DataFrame]:
        from prefect_dask import DaskTaskRunner

        runner = DaskTaskRunner(address=self.scheduler_address())
        job = uuid.uuid4().hex
        # the flow gets a key, not the data: Prefect records a flow's parameters and ships
        # its run context (flow and parameters) with every task
        _JOBS[job] = (comparer, partitions, self.window)
        try:
            return _compare_flow().with_options(task_runner=runner)(job)
        finally:
            del _JOBS[job]


_JOBS: dict[str, tuple[Comparer, Iterable[pl.DataFrame], int | None]] = {}
_FLOW: Any = None


def _compare_partitions(job: str) -> list[pl.DataFrame]:
    """The flow: scatter the comparer, one task per partition, results in partition order."""
    from prefect.context import FlowRunContext

    comparer, partitions, window = _JOBS[job]
    ctx = FlowRunContext.get()
    assert ctx is not None
    client = ctx.task_runner.client  # the DaskTaskRunner's distributed.Client
    window = window or 2 * (sum(client.nthreads().values()) or 1)
    shared = client.scatter(comparer.portable(), broadcast=True, hash=False)
    task = compare_partition()
    out: list[pl.DataFrame] = []
    pending: deque = deque()
    for pairs in partitions:  # blocking makes the next partition while workers compare
        pending.append(task.submit(shared, client.scatter(pairs, hash=False)))
        if len(pending) >= window:
            out.append(pending.popleft().result())
    while pending:
        out.append(pending.popleft().result())
    return out


def _compare_flow() -> Any:
    """The Prefect flow ``fraudmatch-compare-partitions`` (made on first use)."""
    global _FLOW
    if _FLOW is None:
        from prefect import flow

        _FLOW = flow(name="fraudmatch-compare-partitions", validate_parameters=False)(
            _compare_partitions
        )
    return _FLOW


_CACHE: dict[tuple, DaskExecutor] = {}
_CACHE_LOCK = threading.Lock()


def _dask(address: str | None, cluster_kwargs: Mapping[str, Any]) -> DaskExecutor:
    """One executor per cluster setting, so rules in one process share a LocalCluster."""
    key = (address, tuple(sorted(cluster_kwargs.items())))
    with _CACHE_LOCK:
        if key not in _CACHE:
            _CACHE[key] = DaskExecutor(address, cluster_kwargs)
        return _CACHE[key]


def default_executor() -> Executor:
    """Dask at ``$FRAUDMATCH_DASK_ADDRESS`` if set, else local: ``run_rule``'s default."""
    address = os.environ.get(ENV_ADDRESS, "").strip()
    return _dask(address, {}) if address else LocalExecutor()


def executor_from_config(config: Mapping[str, Any] | None, source: str = "engine") -> Executor:
    """The executor a partnership's ``engine:`` mapping asks for.

    ``{}`` (no setting): :func:`default_executor`. ``{engine: local}``: here.
    ``{engine: dask, address: tcp://host:8786}``: that cluster. ``{engine: dask}``: a
    LocalCluster (optionally ``n_workers``, ``threads_per_worker``, ``processes``,
    ``memory_limit``), for one big machine.
    """
    config = dict(config or {})
    unknown = sorted(set(config) - _KEYS)
    if unknown:
        raise EngineConfigError(
            f"{source}.{unknown[0]}: unknown key (known: {', '.join(sorted(_KEYS))})"
        )
    kind = str(config.get("engine", "")).strip().lower()
    if not kind:
        if len(config):
            raise EngineConfigError(f"{source}.engine: missing (local or dask)")
        return default_executor()
    if kind == "local":
        extra = sorted(set(config) - {"engine"})
        if extra:
            raise EngineConfigError(f"{source}.{extra[0]}: only for engine: dask")
        return LocalExecutor()
    if kind != "dask":
        raise EngineConfigError(f"{source}.engine: {kind!r} is not local or dask")
    address = config.get("address")
    cluster_kwargs = {k: config[k] for k in sorted(_LOCAL_CLUSTER_KEYS & set(config))}
    if address is not None:
        address = str(address).strip()
        if "://" not in address:
            raise EngineConfigError(
                f"{source}.address: {address!r} is not a scheduler address such as tcp://host:8786"
            )
        if cluster_kwargs:
            key = next(iter(cluster_kwargs))
            raise EngineConfigError(
                f"{source}.{key}: only without address (it sizes a LocalCluster);"
                " an existing cluster is sized where it runs"
            )
    return _dask(address, cluster_kwargs)

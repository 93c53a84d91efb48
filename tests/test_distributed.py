"""The partitions as Prefect tasks on a real Dask cluster: the same matches as run here.

A ``distributed.LocalCluster`` with two worker processes, a temporary Prefect server, and
small partitions so every rule is compared in several tasks; each rule's matches (and
its fitted model) must equal the single-machine run exactly, row for row.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from test_engine import people, pseudo

from fraudmatch.matching.distributed import (
    ENV_ADDRESS,
    DaskExecutor,
    EngineConfigError,
    LocalExecutor,
    executor_from_config,
)
from fraudmatch.matching.engine import run_rule
from fraudmatch.matching.rules import load_rule
from fraudmatch.shipped import shipped_rules_dir

RULES = Path(__file__).resolve().parent / "rules"
SHIPPED = shipped_rules_dir()
CYCLE = date(2026, 11, 1)
# a person rule (two datasets, Fellegi-Sunter: EM sees the gammas in partition order) and
# a one-dataset rule, each cut into several partitions
PARTITION_PAIRS = {"payroll_to_housing_benefit": 100, "payroll_to_payroll": 40}


class CountingExecutor(LocalExecutor):
    """The local executor, counting the partitions it compares."""

    def __init__(self) -> None:
        self.partitions = 0

    def map_partitions(self, comparer, partitions):
        out = super().map_partitions(comparer, partitions)
        self.partitions += len(out)
        return out


@pytest.fixture(scope="module")
def hub() -> dict:
    """Payroll 500 + 30 duplicates, housing benefit 1,200 (200 of them on payroll).

    Few postcodes and birth dates (``test_engine.people``): blocking makes many pairs of
    different people, so EM has something to separate and partitions are many.
    """
    pop = people(1500, 3)
    pay = pl.concat([pop.slice(0, 500), pop.slice(0, 30)]).with_columns(
        pl.format("E{}", pl.int_range(pl.len())).alias("record_id")
    )
    hb = pop.slice(300, 1200).with_columns(pl.format("HB{}", pl.col("pid")).alias("record_id"))
    partners = pl.Series(["north", "south", "east"] * 600)
    frames = {
        "payroll": pseudo(pay.drop("pid"), "payroll", partners[: pay.height]),
        "housing_benefit": pseudo(hb.drop("pid"), "housing_benefit", partners[: hb.height]),
    }
    rules = {
        "payroll_to_housing_benefit": load_rule(RULES / "payroll_to_housing_benefit.yaml"),
        "payroll_to_payroll": load_rule(SHIPPED / "payroll_to_payroll.yaml"),
    }
    rules = {
        name: dataclasses.replace(
            r, blocking=dataclasses.replace(r.blocking, partition_pairs=PARTITION_PAIRS[name])
        )
        for name, r in rules.items()
    }
    return {"frames": frames, "rules": rules}


def _run(hub: dict, name: str, executor) -> tuple:
    result = run_rule(
        hub["rules"][name],
        hub["frames"],
        cycle_date=CYCLE,
        rules_by_name=hub["rules"],
        seed=11,
        executor=executor,
    )
    return result.matches, result.stats


def test_dask_cluster_matches_equal_the_local_run(hub: dict, monkeypatch, prefect_harness) -> None:
    from distributed import LocalCluster

    monkeypatch.delenv(ENV_ADDRESS, raising=False)
    monkeypatch.setenv("PREFECT_SERVER_ANALYTICS_ENABLED", "false")  # no telemetry writes
    local, counter = {}, CountingExecutor()
    for name in PARTITION_PAIRS:
        local[name] = _run(hub, name, counter)
    assert counter.partitions >= 15, "the test needs several partitions a rule"
    assert local["payroll_to_housing_benefit"][0].height >= 150
    assert local["payroll_to_payroll"][0].height >= 10

    # the Prefect test server is the session's (tests/conftest.py)
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        executor = DaskExecutor(address=cluster.scheduler_address)
        assert executor_from_config(
            {"engine": "dask", "address": cluster.scheduler_address}
        ).address == (cluster.scheduler_address)
        for name in PARTITION_PAIRS:
            matches, stats = _run(hub, name, executor)
            want_matches, want_stats = local[name]
            assert_frame_equal(matches, want_matches, check_exact=True)
            assert matches.equals(want_matches)
            assert stats["pairs_compared"] == want_stats["pairs_compared"]
            assert stats["blocking"] == want_stats["blocking"]
            assert stats["model"] == want_stats["model"]  # EM saw the same gammas, in order
        executor.close()  # an external cluster: nothing of ours to stop
        assert len(cluster.scheduler_info["workers"]) == 2


def test_engine_config_chooses_the_executor(monkeypatch) -> None:
    monkeypatch.delenv(ENV_ADDRESS, raising=False)
    assert isinstance(executor_from_config({}), LocalExecutor)
    assert isinstance(executor_from_config(None), LocalExecutor)
    assert isinstance(executor_from_config({"engine": "local"}), LocalExecutor)
    remote = executor_from_config({"engine": "dask", "address": "tcp://10.0.0.5:8786"})
    assert isinstance(remote, DaskExecutor) and remote.address == "tcp://10.0.0.5:8786"
    assert remote is executor_from_config({"engine": "dask", "address": "tcp://10.0.0.5:8786"})
    one_box = executor_from_config({"engine": "dask", "n_workers": 4})
    assert isinstance(one_box, DaskExecutor) and one_box.address is None
    assert one_box.cluster_kwargs == {"n_workers": 4}
    monkeypatch.setenv(ENV_ADDRESS, "tcp://10.0.0.6:8786")
    assert executor_from_config({}).address == "tcp://10.0.0.6:8786"
    assert isinstance(executor_from_config({"engine": "local"}), LocalExecutor)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"engine": "spark"}, "engine.engine: 'spark' is not local or dask"),
        ({"engine": "dask", "adress": "tcp://x:1"}, "engine.adress: unknown key"),
        ({"engine": "dask", "address": "host:8786"}, "not a scheduler address"),
        ({"engine": "dask", "address": "tcp://x:1", "n_workers": 2}, "engine.n_workers: only"),
        ({"engine": "local", "address": "tcp://x:1"}, "engine.address: only for engine: dask"),
        ({"address": "tcp://x:1"}, "engine.engine: missing"),
    ],
)
def test_engine_config_errors_name_the_key(config: dict, message: str) -> None:
    with pytest.raises(EngineConfigError, match=message.replace("(", r"\(")):
        executor_from_config(config)


def test_portable_comparer_gives_the_same_gammas(hub: dict) -> None:
    """What is shipped to workers computes exactly what the driver's comparer does."""
    import pickle

    from fraudmatch.matching.blocking import candidate_pairs
    from fraudmatch.matching.compare import Comparer
    from fraudmatch.matching.engine import _n_words

    rule = hub["rules"]["payroll_to_housing_benefit"]
    left, right = hub["frames"][rule.left], hub["frames"][rule.right]
    n_words = _n_words(rule, left)
    pairs, _ = candidate_pairs(rule, left, right)  # row numbers of left and right
    assert pairs.height > 0
    comparer = Comparer(rule.comparisons, left, right, n_words=n_words)
    shipped = pickle.loads(pickle.dumps(comparer.portable()))
    assert shipped.left.width < left.width  # Bloom words per row stay behind
    assert_frame_equal(shipped.gammas(pairs), comparer.gammas(pairs), check_exact=True)

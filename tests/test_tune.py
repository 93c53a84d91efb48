"""``rules tune``: precision/recall from labelled outcomes and a proposed m, never applied."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest

from fraudmatch.hub import runs
from fraudmatch.hub.tuning import proposal_dir, tune
from fraudmatch.hub.workspace import Workspace
from fraudmatch.matching.rules import load_rule
from fraudmatch.matching.tune import (
    TuneError,
    estimate_m,
    precision_recall,
    table_rows,
)
from fraudmatch.review import outcomes as oc
from fraudmatch.review.suppress import with_keys
from fraudmatch.shipped import shipped_rules_dir

SHIPPED = shipped_rules_dir()
RULE = "payroll_to_housing_benefit"
RUN = "run-20261101"


def test_precision_recall_at_each_threshold() -> None:
    frame = pl.DataFrame(
        {"match_probability": [0.99, 0.97, 0.95, 0.93, 0.93], "label": [True, True, False, True, False]}
    )  # fmt: skip
    curve = precision_recall(frame, "match_probability")
    got = {r["threshold"]: r for r in curve.iter_rows(named=True)}
    assert list(got) == [0.93, 0.95, 0.97, 0.99]
    assert (got[0.93]["flagged"], got[0.93]["true_pos"], got[0.93]["false_pos"]) == (5, 3, 2)
    assert got[0.93]["precision"] == pytest.approx(0.6) and got[0.93]["recall"] == 1.0
    assert got[0.95]["precision"] == pytest.approx(2 / 3)
    assert got[0.95]["recall"] == pytest.approx(2 / 3)
    assert got[0.99]["precision"] == 1.0 and got[0.99]["recall"] == pytest.approx(1 / 3)
    big = pl.DataFrame({"threshold": [float(i) for i in range(100)]})
    assert table_rows(big, 41.5, limit=10).height <= 11
    assert 42.0 in table_rows(big, 41.5, limit=10)["threshold"].to_list()


def test_m_is_laplace_smoothed_level_counts_without_nulls() -> None:
    rule = load_rule(SHIPPED / f"{RULE}.yaml")
    true_pairs = pl.DataFrame(
        {"level_ni": ["exact"] * 6 + ["else", "null"], "level_dob": ["exact"] * 8}
    )
    m = estimate_m(true_pairs, rule)
    assert m["ni"] == {"exact": 7 / 9, "else": 2 / 9}  # 7 seen (null says nothing), 2 levels
    dob = rule.comparison("dob")
    assert m["dob"]["exact"] == pytest.approx(9 / (8 + dob.n_levels))
    assert sum(m["dob"].values()) == pytest.approx(1.0)
    assert "forename_form" not in m  # fixed m/u in the rule: left alone


def _matches(rule, n_true: int, n_false: int) -> pl.DataFrame:
    rows = []
    for i in range(n_true + n_false):
        same = i < n_true
        row = {
            "rule": RULE, "left_partner": "a", "left_dataset": "payroll",
            "left_record_id": f"P{i}", "right_partner": "b",
            "right_dataset": "housing_benefit", "right_record_id": f"H{i}",
            "tier": "model", "match_probability": (0.999 if same else 0.95) - i * 1e-4,
            "match_weight": 12.0 - i * 0.1, "case_id": f"c{i}", "case_size": 2,
        }  # fmt: skip
        for comp in rule.comparisons:
            best = comp.labels[0]
            row[f"level_{comp.name}"] = best if same or comp.name != "ni" else "else"
            row[f"weight_{comp.name}"] = 1.0
        if same and i % 4 == 0:
            row["level_postcode"] = "district"
        rows.append(row)
    return with_keys(pl.DataFrame(rows))


@pytest.fixture
def world(tmp_path: Path):
    rules_dir = tmp_path / "rules"
    rules_dir.mkdir()
    shutil.copy(SHIPPED / f"{RULE}.yaml", rules_dir / f"{RULE}.yaml")
    rule = load_rule(rules_dir / f"{RULE}.yaml")
    workspace = Workspace(tmp_path / "ws")
    run_dir = workspace.run_dir(RUN)
    (run_dir / "matches").mkdir(parents=True)
    (run_dir / "models").mkdir()
    fitted = {
        c.name: {lb: {"m": 0.5, "u": 1 / c.n_levels, "weight": 0.0} for lb in c.labels}
        for c in rule.comparisons
    }
    (run_dir / "models" / f"{RULE}.json").write_text(json.dumps({"model": {"comparisons": fitted}}))
    url = f"sqlite:///{tmp_path / 'outcomes.sqlite'}"
    return rules_dir, rule, workspace, run_dir, url


def _label(url: str, matches: pl.DataFrame, n_true: int) -> None:
    for i, match in enumerate(matches.to_dicts()):
        same = i < n_true
        oc.record_outcome(
            url, match, outcome="fraud" if same else "no_issue", analyst="ann",
            expected_version=0, same_entity=same,
        )  # fmt: skip


def test_tune_refuses_too_few_labels_or_one_class(world) -> None:
    rules_dir, rule, workspace, run_dir, url = world
    matches = _matches(rule, 12, 3)
    matches.write_parquet(run_dir / "matches" / f"{RULE}.parquet")
    _label(url, matches, 12)
    with pytest.raises(TuneError, match="15 labelled matches.*at least 20"):
        tune(workspace, RULE, rules_dir, run_id=RUN, outcomes_url=url)
    only_true = _matches(rule, 25, 0)
    only_true.write_parquet(run_dir / "matches" / f"{RULE}.parquet")
    url2 = url.replace("outcomes.sqlite", "outcomes2.sqlite")
    _label(url2, only_true, 25)
    with pytest.raises(TuneError, match="25 same entity, 0 different"):
        tune(workspace, RULE, rules_dir, run_id=RUN, outcomes_url=url2)
    assert not (rules_dir / "proposed").exists()


def test_tune_of_a_mistyped_run_says_so_and_creates_no_folder(world) -> None:
    rules_dir, rule, workspace, run_dir, url = world
    _matches(rule, 20, 5).write_parquet(run_dir / "matches" / f"{RULE}.parquet")
    before = sorted(p.name for p in workspace.runs.iterdir())
    with pytest.raises(TuneError, match=f"no run run-TYPO in {workspace.root}"):
        tune(workspace, RULE, rules_dir, run_id="run-TYPO", outcomes_url=url)
    assert sorted(p.name for p in workspace.runs.iterdir()) == before == [RUN]
    assert not (workspace.runs / "run-TYPO").exists()
    assert runs.fitted_model(workspace, "run-TYPO", RULE) == {}
    assert runs.prior_weight(workspace, "run-TYPO", RULE) is None
    assert not (workspace.runs / "run-TYPO").exists()


def test_tune_writes_a_proposal_never_the_rule(world) -> None:
    rules_dir, rule, workspace, run_dir, url = world
    matches = _matches(rule, 24, 8)
    # some labelled matches were suppressed as reviewed in this run: they still count
    matches.head(20).write_parquet(run_dir / "matches" / f"{RULE}.parquet")
    (run_dir / "suppressed").mkdir()
    matches.slice(20).with_columns(
        pl.lit("fraud").alias("outcome"),
        pl.lit("ann").alias("analyst"),
        pl.lit("x").alias("reason"),
    ).write_parquet(run_dir / "suppressed" / f"{RULE}.parquet")
    _label(url, matches, 24)
    before = (rules_dir / f"{RULE}.yaml").read_text()

    result = tune(workspace, RULE, rules_dir, run_id=RUN, outcomes_url=url)

    assert (result.n_true, result.n_false) == (24, 8)
    assert result.score == "match_probability"
    low = result.curve.row(0, named=True)
    assert (low["flagged"], low["precision"], low["recall"]) == (32, 0.75, 1.0)
    assert result.curve["precision"].max() == 1.0
    assert (rules_dir / f"{RULE}.yaml").read_text() == before  # never changed
    assert result.proposed == rules_dir / "proposed" / f"{RULE}.yaml"
    proposed = load_rule(result.proposed)
    assert proposed.name == RULE
    postcode = proposed.comparison("postcode")
    # 24 true pairs: 18 exact, 6 district; 4 levels (exact, sector, district, else)
    assert postcode.fixed_m["exact"] == pytest.approx(19 / 28, abs=1e-6)
    assert postcode.fixed_m["district"] == pytest.approx(7 / 28, abs=1e-6)
    assert postcode.fixed_u["exact"] == pytest.approx(0.25)
    assert proposed.comparison("forename_form").fixed_m == rule.comparison("forename_form").fixed_m
    assert "+# PROPOSED by `fraudmatch rules tune" in result.diff
    assert "m: {exact:" in result.diff
    assert result.proposed.read_text().count("# ") >= before.count("# ")  # comments kept
    chart = result.chart.read_text()
    assert chart.count("<svg") == 1 and "http" not in chart and "<script" not in chart
    assert any("kept: forename_form" in n for n in result.notes)


def test_a_shipped_rules_proposal_goes_to_the_workspace_not_the_package(tmp_path: Path) -> None:

    workspace = Workspace(tmp_path / "ws")
    shipped = shipped_rules_dir() / f"{RULE}.yaml"
    assert proposal_dir(workspace, shipped) == tmp_path / "ws" / "proposed"
    own = tmp_path / "rules" / f"{RULE}.yaml"
    assert proposal_dir(workspace, own) == tmp_path / "rules" / "proposed"

"""One run of every shipped rule over the grids' population, per test session (per worker)."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
import pytest

from fraudmatch.library import pseudonymised_frames
from fraudmatch.matching.engine import RuleResult, run_rules
from fraudmatch.matching.rule_model import Rule
from fraudmatch.matching.rules import load_rules
from fraudmatch.shipped import shipped_rules_dir
from tests.conformance.grids import CYCLE
from tests.conformance.population import write_extracts

KEY = bytes(range(7, 39))


@dataclass
class GridRun:
    frames: dict[str, pl.DataFrame]  # pseudonymised, per dataset
    rules: dict[str, Rule]
    results: dict[str, RuleResult]  # every rule, internal ones too

    def __repr__(self) -> str:  # hypothesis prints its arguments
        return f"GridRun({len(self.frames)} datasets, {len(self.results)} rules)"


@pytest.fixture(scope="session")
def grid_run(tmp_path_factory: pytest.TempPathFactory) -> GridRun:
    out = write_extracts(tmp_path_factory.mktemp("grid"))
    frames = pseudonymised_frames(out, KEY)
    rules = load_rules(shipped_rules_dir())
    results = run_rules(rules, frames, cycle_date=CYCLE, include_internal=True)
    return GridRun(frames, {r.name: r for r in rules}, results)

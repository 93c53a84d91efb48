"""A run of any number of synthetic cases, for the review app's volume tests and benchmark.

Writes ``runs/<run_id>/matches/<rule>.parquet`` in the engine's format (sides, tier,
weights, ``level_*``/``weight_*`` evidence, ``case_id``) for the rules given, spread over
the partners given, one to three matches a case. No people behind it: record ids are
made up, so it measures the review side alone, at sizes a real run takes hours to make.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import polars as pl

from fraudmatch.common.fsutil import atomic_path

COMPARISONS = ("surname", "forenames", "dob", "postcode")
#: Shipped rules (name, left dataset, right dataset) and partners a synthetic run spreads
#: its cases over, for the volume benchmark and the browser reach test alike.
EXAMPLE_RULES: tuple[tuple[str, str, str], ...] = (
    ("payroll_to_payroll", "payroll", "payroll"),
    ("payroll_to_housing_benefit", "payroll", "housing_benefit"),
    ("blue_badge_to_deceased", "blue_badge", "deceased"),
    ("payroll_to_creditors", "payroll", "creditors"),
)
EXAMPLE_PARTNERS = ("eastvale", "northmoor", "southwold_bay", "westfield", "oakham", "riverside")
LEVELS = ("exact", "similar", "else")


def write_run(
    workspace: Path,
    run_id: str,
    cases: int,
    rules: Sequence[tuple[str, str, str]],
    partners: Sequence[str],
    *,
    seed: int = 0,
) -> int:
    """Write ``cases`` cases spread over ``rules`` (name, left dataset, right dataset);
    returns the number of matches written."""
    rng = np.random.default_rng(seed)
    sizes = rng.choice([1, 1, 1, 2, 3], size=cases)
    case_of = np.repeat(np.arange(cases), sizes)
    n = case_of.size
    rule_of = case_of % len(rules)
    left_partner = (case_of + np.arange(n)) % len(partners)
    right_partner = (left_partner + 1 + case_of % max(1, len(partners) - 1)) % len(partners)
    weights = np.round(rng.normal(12, 4, size=n), 2)
    frame = pl.DataFrame(
        {
            "_rule_index": rule_of,
            "case_id": [f"C{c:07d}" for c in case_of],
            "left_partner": np.asarray(partners)[left_partner],
            "left_record_id": [f"L{i:08d}" for i in range(n)],
            "right_partner": np.asarray(partners)[right_partner],
            "right_record_id": [f"R{i:08d}" for i in range(n)],
            "blocking_rule": "synthetic",
            "tier": "fellegi_sunter",
            "match_weight": weights,
            "match_probability": 1 / (1 + 2.0 ** (-weights)),
            **{
                f"level_{c}": np.asarray(LEVELS)[rng.integers(0, len(LEVELS), size=n)]
                for c in COMPARISONS
            },
            **{f"weight_{c}": np.round(rng.normal(3, 2, size=n), 2) for c in COMPARISONS},
        }
    )
    folder = workspace / "runs" / run_id / "matches"
    folder.mkdir(parents=True, exist_ok=True)
    for index, (name, left, right) in enumerate(rules):
        part = frame.filter(pl.col("_rule_index") == index).drop("_rule_index")
        part = part.with_columns(
            rule=pl.lit(name), left_dataset=pl.lit(left), right_dataset=pl.lit(right)
        )
        with atomic_path(folder / f"{name}.parquet") as tmp:
            part.write_parquet(tmp)
    return n

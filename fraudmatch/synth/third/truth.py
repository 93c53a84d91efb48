"""Complete truth: every pair of one person's records that a rule must flag.

Written from DESIGN.md's table of match types, not from the rules. Every record knows its
person, so the cases are found by joining records on the person and testing the rule's
datasets, partner scope and time condition on the true dates. Before that, any pair of one
person's records lying within `AMBIGUOUS` days of a rule's time boundary loses its base
record, so that no case (or non-case) hangs on a boundary day.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from fraudmatch.synth.third.habits import BB, CT, CTR, DC, HB, HT, PY, WL

AMBIGUOUS = 31
_INF = 10**9


@dataclass(frozen=True)
class Rule:
    name: str
    left: int
    right: int
    scope: str  # any | other
    time: str  # none | overlap | expiry_after_death | open_at_cycle | open_at_application


RULES = (
    Rule("payroll_to_housing_benefit", PY, HB, "any", "none"),
    # the shipped rule's meaning: employed by two councils at once (a job that ended before
    # the other began is a move; DESIGN's table says only "same person")
    Rule("payroll_to_payroll", PY, PY, "other", "overlap"),
    Rule("council_tax_reduction_to_payroll", CTR, PY, "any", "none"),
    Rule("housing_benefit_to_housing_benefit", HB, HB, "other", "overlap"),
    Rule("housing_tenants_to_housing_tenants", HT, HT, "other", "overlap"),
    Rule("housing_waiting_list_to_housing_tenants", WL, HT, "any", "open_at_application"),
    Rule("blue_badge_to_deceased", BB, DC, "any", "expiry_after_death"),
    Rule("concessionary_travel_to_deceased", CT, DC, "any", "expiry_after_death"),
    Rule("housing_tenants_to_deceased", HT, DC, "any", "open_at_cycle"),
)

# DESIGN's table says only "same person" for payroll against a claim, but its prose says an
# employee who left before the claim began is not a case. Every one-person payroll/claim pair
# is kept overlapping by a clear margin so both readings agree.
_KEEP_OVERLAPPING = {"payroll_to_housing_benefit", "council_tax_reduction_to_payroll"}


def _pairs(frame: pl.DataFrame, rule: Rule) -> pl.DataFrame:
    left = frame.filter(pl.col("ds") == rule.left).select(
        "idx", "pid", "partner", "d1", "d2", "protect"
    )
    right = frame.filter(pl.col("ds") == rule.right).select(
        "idx", "pid", "partner", "d1", "d2", "protect"
    )
    j = left.join(right, on="pid", suffix="_r")
    if rule.left == rule.right:
        j = j.filter(pl.col("idx") < pl.col("idx_r"))
    if rule.scope == "other":
        j = j.filter(pl.col("partner") != pl.col("partner_r"))
    return j


def _margin(j: pl.DataFrame, time: str, cycle: int) -> pl.DataFrame:
    """Signed distance (days) from the boundary: >0 the condition holds, <=0 it fails."""
    e1 = pl.when(pl.col("d2") < 0).then(_INF).otherwise(pl.col("d2"))
    e2 = pl.when(pl.col("d2_r") < 0).then(_INF).otherwise(pl.col("d2_r"))
    if time == "none":
        m = pl.lit(_INF)
    elif time == "overlap":
        m = pl.min_horizontal(e1, e2) - pl.max_horizontal(pl.col("d1"), pl.col("d1_r"))
    elif time == "expiry_after_death":  # left badge/pass (d2 expiry), right death (d1)
        m = pl.col("d2") - pl.col("d1_r")
    elif time == "open_at_cycle":  # left tenancy
        m = pl.min_horizontal(e1 - cycle, cycle - pl.col("d1"))
    elif time == "open_at_application":  # left application (d1), right tenancy
        m = pl.min_horizontal(pl.col("d1") - pl.col("d1_r"), e2 - pl.col("d1"))
    else:
        raise ValueError(time)
    return j.with_columns(m.cast(pl.Int64).alias("margin"))


def settle_boundaries(cols: dict[str, np.ndarray], cycle: int) -> np.ndarray:
    """Drop base records whose one-person pairs sit near a time boundary; returns keep mask."""
    n = len(cols["pid"])
    keep = np.ones(n, dtype=bool)
    for _ in range(5):
        frame = pl.DataFrame({k: cols[k] for k in ("pid", "ds", "partner", "d1", "d2", "protect")})
        frame = frame.with_columns(pl.Series("idx", np.arange(n))).filter(pl.Series(keep))
        bad: list[pl.DataFrame] = []
        for rule in RULES:
            j = _margin(_pairs(frame, rule), rule.time, cycle)
            near = j.filter(pl.col("margin").abs() < AMBIGUOUS)
            if rule.name in _KEEP_OVERLAPPING:
                ov = _margin(j.drop("margin"), "overlap", cycle)
                near = pl.concat([near, ov.filter(pl.col("margin") < AMBIGUOUS)])
            bad.append(near.select("idx", "protect", "idx_r", "protect_r"))
        b = pl.concat(bad)
        if b.height == 0:
            return keep
        both = b.filter(pl.col("protect") & pl.col("protect_r"))
        if both.height:
            raise AssertionError(f"planted pair on a boundary: {both.head(3)}")
        drop = b.select(
            pl.when(pl.col("protect_r")).then(pl.col("idx")).otherwise(pl.col("idx_r"))
        ).to_series()
        keep[drop.to_numpy()] = False
    raise AssertionError("boundary settling did not converge")


def find_cases(cols: dict[str, np.ndarray], cycle: int) -> pl.DataFrame:
    """Every (rule, left record, right record) that must be flagged."""
    n = len(cols["pid"])
    frame = pl.DataFrame({k: cols[k] for k in ("pid", "ds", "partner", "d1", "d2", "protect")})
    frame = frame.with_columns(pl.Series("idx", np.arange(n)))
    out = []
    for rule in RULES:
        j = _margin(_pairs(frame, rule), rule.time, cycle).filter(pl.col("margin") > 0)
        out.append(
            j.select(
                pl.lit(rule.name).alias("rule"),
                pl.col("idx").alias("left"),
                pl.col("idx_r").alias("right"),
            )
        )
    return pl.concat(out)


def check_decoy(
    cols: dict[str, np.ndarray], rule_name: str, left: int, right: int, cycle: int
) -> bool:
    """A decoy must be two people, or one person whose dates fail the rule."""
    if cols["pid"][left] != cols["pid"][right]:
        return True
    rule = next(r for r in RULES if r.name == rule_name)
    frame = pl.DataFrame(
        {
            "idx": [left],
            "pid": [0],
            "partner": [cols["partner"][left]],
            "d1": [cols["d1"][left]],
            "d2": [cols["d2"][left]],
            "idx_r": [right],
            "partner_r": [cols["partner"][right]],
            "d1_r": [cols["d1"][right]],
            "d2_r": [cols["d2"][right]],
        }
    )
    m = _margin(frame, rule.time, cycle)["margin"][0]
    return m <= -AMBIGUOUS

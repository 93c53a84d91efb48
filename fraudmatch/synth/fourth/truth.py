"""Complete truth from the rules' meaning: every pair of one person's records a rule must flag.

Why: a population is only a fair test if its truth holds every case, the everyday ones as
much as the planted. Every record knows its person, so cases are the person's pairs of
records that meet the rule's datasets, partner scope and dates (an empty end date runs to
the cycle date; an empty start date is always before). Before that, a pair within a month
of a date boundary loses a record (the everyday one where there is one), so no truth hangs
on a day.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from fraudmatch.synth.fourth.people import NA
from fraudmatch.synth.fourth.services import PLANS, Plan

MARGIN = 31


def _pairs(rec: pl.DataFrame, plan: Plan) -> pl.DataFrame:
    """The person's pairs of records in the rule's datasets and partner scope."""
    left = rec.filter(pl.col("ds") == plan.left).select(
        pl.col("i").alias("l"),
        "pid",
        pl.col("partner").alias("lp"),
        pl.col("d1").alias("l1"),
        pl.col("d2").alias("l2"),
    )
    right = rec.filter(pl.col("ds") == plan.right).select(
        pl.col("i").alias("r"),
        "pid",
        pl.col("partner").alias("rp"),
        pl.col("d1").alias("r1"),
        pl.col("d2").alias("r2"),
    )
    pairs = left.join(right, on="pid", how="inner", maintain_order="left_right")
    if plan.left == plan.right:
        pairs = pairs.filter(pl.col("l") < pl.col("r"))
    if plan.other:
        pairs = pairs.filter(pl.col("lp") != pl.col("rp"))
    return pairs


def _meets(plan: Plan, cycle: int) -> tuple[pl.Expr, pl.Expr]:
    """The rule's date condition, and whether any of its comparisons is within MARGIN days."""
    l1, l2, r1, r2 = (pl.col(c) for c in ("l1", "l2", "r1", "r2"))

    def na(e: pl.Expr) -> pl.Expr:
        return e == NA

    def near(a: pl.Expr, b: pl.Expr) -> pl.Expr:
        return (a != NA) & (b != NA) & ((a - b).abs() <= MARGIN)

    def upto(e: pl.Expr) -> pl.Expr:
        return pl.when(na(e)).then(cycle).otherwise(e)

    if plan.time == "overlap":
        meet = (na(l1) | (l1 <= upto(r2))) & (na(r1) | (r1 <= upto(l2)))
        close = near(l1, upto(r2)) | near(r1, upto(l2))
    elif plan.time == "open_at_application":  # l: application, r: tenancy
        meet = ~na(r1) & (r1 <= l1) & (na(r2) | (r2 >= l1))
        close = near(r1, l1) | near(r2, l1)
    elif plan.time == "expiry_after_death":  # l2: expiry, r1: death
        meet = l2 > r1
        close = near(l2, r1)
    else:  # open_at_cycle: the tenancy (left) open on the cycle date
        c = pl.lit(cycle)
        meet = (na(l1) | (l1 <= cycle)) & (na(l2) | (l2 >= cycle))
        close = near(l1, c) | near(l2, c)
    return meet, close


def settle_boundaries(rec: pl.DataFrame, cycle: int) -> np.ndarray:
    """Records to drop: one of each same-person pair that sits on a rule's date boundary."""
    drop: list[np.ndarray] = []
    prot = rec.select("i", "protect")
    for plan in PLANS:
        meet, close = _meets(plan, cycle)
        near = _pairs(rec, plan).filter(close)
        if near.is_empty():
            continue
        near = near.join(prot.rename({"i": "l", "protect": "lprot"}), on="l", how="left")
        pick = pl.when(pl.col("lprot")).then(pl.col("r")).otherwise(pl.col("l"))
        drop.append(near.select(pick).to_series().to_numpy())
    return np.unique(np.concatenate(drop)) if drop else np.array([], np.int64)


def find_cases(rec: pl.DataFrame, cycle: int) -> pl.DataFrame:
    """Every (rule, left record, right record) a rule must flag."""
    out = []
    for plan in PLANS:
        meet, _ = _meets(plan, cycle)
        got = (
            _pairs(rec, plan)
            .filter(meet)
            .select(
                pl.lit(plan.name).alias("rule"),
                pl.col("l").alias("left"),
                pl.col("r").alias("right"),
            )
        )
        out.append(got)
    return pl.concat(out)


def decoy_holds(rec: pl.DataFrame, cases: pl.DataFrame, decoys: pl.DataFrame) -> pl.DataFrame:
    """The hard negatives that stand: both records written, and not a case of the rule."""
    alive = rec.select(pl.col("i"))
    return (
        decoys.join(alive.rename({"i": "left"}), on="left", how="semi")
        .join(alive.rename({"i": "right"}), on="right", how="semi")
        .join(cases, on=["rule", "left", "right"], how="anti")
        .join(
            cases.rename({"left": "right", "right": "left"}),
            on=["rule", "left", "right"],
            how="anti",
        )
    )

"""Planted single-person-discount cases: another adult on the register at the address."""

from __future__ import annotations

import numpy as np
import polars as pl

from fraudmatch.synth.context import Ctx, as_arrays, record_frame
from fraudmatch.synth.vocabulary import NULL_DAY


def plant_spd(ctx: Ctx) -> None:
    """Single-person discounts with another adult on the register, and the near misses.

    Cases: an undeclared second adult; a second adult whose disregard has ended.
    Decoys: a second adult with a disregard in force; a 17-year-old attainer; and the
    discount holder's own register entry.
    """
    rng = ctx.rng("plant", "spd")
    plan, c = ctx.plan, ctx.cycle
    rec = ctx.records
    adults = ctx.people.filter(pl.col("dod").is_null() & (pl.col("age") >= 18))
    adults = adults.filter(pl.col("household_id") < ctx.n_people)  # not doubles' homes
    dis_people = rec["council_tax_disregards"].select("person_id")
    spd_people = rec["council_tax_spd"].select("person_id")
    flags = adults.select(
        "household_id",
        dis=pl.col("person_id").is_in(dis_people["person_id"].implode()),
        spd=pl.col("person_id").is_in(spd_people["person_id"].implode()),
    )
    hh = flags.group_by("household_id", maintain_order=True).agg(
        pl.len().alias("n"), pl.col("dis").sum(), pl.col("spd").sum()
    )
    twos = hh.filter((pl.col("n") == 2) & (pl.col("dis") == 0) & (pl.col("spd") == 0))
    twos = twos.sample(fraction=1.0, shuffle=True, seed=int(rng.integers(1 << 31)))
    n_expired = max(1, plan.cases // 4)
    n_undeclared = plan.cases - n_expired
    counts = (n_undeclared, n_expired, plan.decoys * 2)
    chosen = twos.head(sum(counts))["household_id"].to_numpy()
    members = adults.filter(pl.col("household_id").is_in(chosen.tolist()))
    order = {h: i for i, h in enumerate(chosen.tolist())}
    members = members.with_columns(
        slot=pl.col("household_id").replace_strict(order, return_dtype=pl.Int64)
    ).sort("slot", "age", "person_id", descending=[False, True, False])
    holder = members.filter(pl.int_range(pl.len()).over("household_id") == 0)
    other = members.filter(pl.int_range(pl.len()).over("household_id") == 1)
    slot = holder["slot"].to_numpy()
    what = np.select(
        [slot < counts[0], slot < counts[0] + counts[1]], ["undeclared", "expired"], "disregarded"
    )
    # Disregards for the other adult: ended (a case) or in force (a decoy).
    o = other.filter(pl.Series(what != "undeclared"))
    w = what[what != "undeclared"]
    k = o.height
    young = o["age"].to_numpy() <= 24
    reason = np.where(
        young, "student", np.where(rng.random(k) < 0.6, "carer", "severe_mental_impairment")
    )
    start = c - np.where(w == "expired", rng.integers(400, 1500, k), rng.integers(30, 1000, k))
    end = np.where(
        w == "expired",
        c - rng.integers(30, 365, k),
        np.where(rng.random(k) < 0.5, NULL_DAY, c + rng.integers(30, 900, k)),
    )
    ctx.add(
        "council_tax_disregards",
        record_frame(
            *as_arrays(o, "partner", "person_id", "address_id"),
            {"start_date": start, "end_date": end},
            disregard_reason=reason,
            dob_shown=rng.random(k) < 0.7,
            note=np.where(
                w == "expired", "planted: disregard ended", "planted: disregard in force"
            ),
        ),
    )
    _ensure_registered(ctx, other, dob_shown=False)
    notes = np.select(
        [what == "undeclared", what == "expired"],
        ["planted: undeclared second adult", "planted: second adult's disregard ended"],
        "planted: second adult disregarded",
    )
    spd_new = ctx.add(
        "council_tax_spd",
        record_frame(
            *as_arrays(holder, "partner", "person_id", "address_id"),
            {"discount_start_date": c - rng.integers(30, 3000, holder.height)},
            note=notes,
        ),
    )
    planted_spd = spd_new.select("uid", "person_id")
    planted_spd = pl.concat([planted_spd, _plant_attainer_spd(ctx, rng, adults)])
    _ensure_registered(
        ctx,
        ctx.people.join(planted_spd.select("person_id"), on="person_id", maintain_order="left"),
        dob_shown=False,
    )
    er = rec["electoral_register"].select("person_id", pl.col("uid").alias("er_uid"))
    own = planted_spd.join(er, on="person_id", how="inner", maintain_order="left")
    ctx.decoys.append(
        pl.DataFrame(
            {
                "rule": "council_tax_spd_to_electoral_register",
                "left_dataset": "council_tax_spd",
                "left_uid": own["uid"],
                "right_dataset": "electoral_register",
                "right_uid": own["er_uid"],
                "note": "planted decoy: the discount holder's own register entry",
            }
        )
    )


def _plant_attainer_spd(ctx: Ctx, rng: np.random.Generator, adults: pl.DataFrame) -> pl.DataFrame:
    """Lone adults with a 17-year-old on the register (DOB shown): a discount stays right."""
    p = ctx.people.filter(pl.col("dod").is_null())
    seventeen = p.filter(pl.col("age") == 17).select(
        "household_id", pl.col("person_id").alias("kid")
    )
    lone = adults.filter(pl.len().over("household_id") == 1)
    dis = ctx.records["council_tax_disregards"].select("person_id")
    lone = lone.join(dis, on="person_id", how="anti", maintain_order="left")
    pairs = lone.join(seventeen, on="household_id", how="inner", maintain_order="left")
    pairs = pairs.unique("household_id", keep="first", maintain_order=True)
    pairs = pairs.sample(
        min(ctx.plan.decoys * 2, pairs.height), shuffle=True, seed=int(rng.integers(1 << 31))
    )
    spd = ctx.records["council_tax_spd"].select("person_id", "uid")
    have = pairs.join(spd, on="person_id", how="inner", maintain_order="left")
    need = pairs.join(spd, on="person_id", how="anti", maintain_order="left")
    new = ctx.add(
        "council_tax_spd",
        record_frame(
            *as_arrays(need, "partner", "person_id", "address_id"),
            {"discount_start_date": ctx.cycle - rng.integers(30, 3000, need.height)},
            note=np.full(need.height, "planted: lone adult with a 17-year-old"),
        ),
    )
    kids = ctx.people.join(
        pairs.select(pl.col("kid").alias("person_id")), on="person_id", maintain_order="left"
    )
    er = ctx.records["electoral_register"]
    ctx.records["electoral_register"] = er.with_columns(
        dob_shown=pl.col("dob_shown") | pl.col("person_id").is_in(kids["person_id"].implode())
    )
    _ensure_registered(ctx, kids, dob_shown=True)
    return pl.concat([have.select("uid", "person_id"), new.select("uid", "person_id")])


def _ensure_registered(ctx: Ctx, people: pl.DataFrame, *, dob_shown: bool) -> None:
    """Add register entries (at home) for those of `people` not yet registered."""
    er = ctx.records["electoral_register"].select("person_id")
    missing = people.join(er, on="person_id", how="anti", maintain_order="left").unique(
        "person_id", keep="first", maintain_order=True
    )
    if missing.height:
        ctx.add(
            "electoral_register",
            record_frame(
                *as_arrays(missing, "partner", "person_id", "address_id"),
                dob_shown=np.full(missing.height, dob_shown),
            ),
        )

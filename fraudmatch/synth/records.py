"""Each council's person datasets drawn from its own residents at realistic rates (un-noised)."""

from __future__ import annotations

import numpy as np
import polars as pl

from fraudmatch.synth.context import Ctx, as_arrays, pick_some, record_frame, spell_end
from fraudmatch.synth.suppliers import natural_creditors, natural_payments
from fraudmatch.synth.vocabulary import NULL_DAY


def natural_records(ctx: Ctx) -> None:
    """Each council's datasets drawn from its own living residents at realistic rates.

    The steps share one random stream in a fixed order, so the same seed gives the same data.
    """
    rng = ctx.rng("natural")
    p = ctx.people
    alive = p.filter(pl.col("dod").is_null())
    adults = alive.filter(pl.col("age") >= 18)
    employees = _natural_payroll(ctx, rng, adults)
    _natural_claims(ctx, rng, adults, employees)
    _natural_disregards(ctx, rng, adults)
    _natural_spd(ctx, rng, adults)
    _natural_register(ctx, rng, alive)
    _natural_badges_and_passes(ctx, rng, alive, adults)
    _natural_deceased(ctx, rng)
    _natural_tenants(ctx, rng, adults)
    _natural_waiting_list(ctx, rng, adults)
    natural_creditors(ctx, rng)
    natural_payments(ctx, rng)


def _period_start(
    ctx: Ctx, rng: np.random.Generator, frame: pl.DataFrame, max_back: int
) -> np.ndarray:
    """A spell start up to `max_back` days before the cycle, never before the 18th birthday."""
    c = ctx.cycle
    dob, _age = as_arrays(frame, "dob", "age")
    adult_day = dob + 18 * 366
    start = c - rng.integers(30, max_back, frame.height)
    return np.maximum(start, np.minimum(adult_day, c - 30))


def _natural_payroll(ctx: Ctx, rng: np.random.Generator, adults: pl.DataFrame) -> pl.DataFrame:
    """About 4% of people work for a council; returns the employees."""
    n, c = ctx.people.height, ctx.cycle
    emp = pick_some(rng, adults.filter(pl.col("age") <= 67), 0.04 * n / max(1, adults.height * 0.8))
    s = _period_start(ctx, rng, emp, 25 * 365)
    ctx.add(
        "payroll",
        record_frame(
            *as_arrays(emp, "partner", "person_id", "address_id"),
            {"start_date": s, "end_date": spell_end(rng, s, 0.12, 540, c)},
        ),
    )
    return emp


def _natural_claims(
    ctx: Ctx, rng: np.random.Generator, adults: pl.DataFrame, employees: pl.DataFrame
) -> None:
    """Housing benefit and council tax reduction claims by household heads, mostly together."""
    n, c = ctx.people.height, ctx.cycle
    # Council employees claim in-work benefits less often than other households.
    heads = adults.filter(pl.col("role") == "head").with_columns(
        _w=pl.when(pl.col("person_id").is_in(employees["person_id"].implode()))
        .then(0.2)
        .otherwise(1.0)
    )
    w = heads["_w"].to_numpy()
    hb = heads.filter(pl.Series(rng.random(heads.height) < w * 0.07 * n / w.sum()))
    s = _period_start(ctx, rng, hb, 3650)
    hb_dates = {"claim_start_date": s, "claim_end_date": spell_end(rng, s, 0.15, 365, c)}
    ctx.add(
        "housing_benefit",
        record_frame(*as_arrays(hb, "partner", "person_id", "address_id"), hb_dates),
    )
    both = pick_some(rng, hb, 0.8)
    rest = heads.join(hb.select("person_id"), on="person_id", how="anti", maintain_order="left")
    w = rest["_w"].to_numpy()
    rest = rest.filter(
        pl.Series(rng.random(rest.height) < w * (0.09 * n - both.height) / max(1.0, w.sum()))
    )
    ctr = pl.concat([both, rest])
    s = _period_start(ctx, rng, ctr, 3650)
    ctx.add(
        "council_tax_reduction",
        record_frame(
            *as_arrays(ctr, "partner", "person_id", "address_id"),
            {"claim_start_date": s, "claim_end_date": spell_end(rng, s, 0.12, 365, c)},
        ),
    )


def _natural_badges_and_passes(
    ctx: Ctx, rng: np.random.Generator, alive: pl.DataFrame, adults: pl.DataFrame
) -> None:
    """Blue badges (mostly over-60s) and bus passes (15% of over-66s)."""
    c = ctx.cycle
    old = alive.filter(pl.col("age") >= 60)
    young = adults.filter(pl.col("age") < 60)
    badge = pl.concat([pick_some(rng, old, 0.03), pick_some(rng, young, 0.005)])
    issue = c - rng.integers(0, 1400, badge.height)
    ctx.add(
        "blue_badge",
        record_frame(
            *as_arrays(badge, "partner", "person_id", "address_id"),
            {"issue_date": issue, "expiry_date": issue + 1095},
        ),
    )
    travel = pick_some(rng, alive.filter(pl.col("age") >= 66), 0.15)
    issue = c - rng.integers(0, 2100, travel.height)
    ctx.add(
        "concessionary_travel",
        record_frame(
            *as_arrays(travel, "partner", "person_id", "address_id"),
            {"issue_date": issue, "expiry_date": issue + 1826},
        ),
    )


def _natural_deceased(ctx: Ctx, rng: np.random.Generator) -> None:
    """Every death, registered at the home council (10% at another: the person had moved)."""
    dead = ctx.people.filter(pl.col("dod").is_not_null())
    home = dead["partner"].to_numpy()
    moved = (rng.random(dead.height) < 0.1) & (ctx.n_partners > 1)
    other = (home + rng.integers(1, max(2, ctx.n_partners), dead.height)) % ctx.n_partners
    ctx.add(
        "deceased",
        record_frame(
            np.where(moved, other, home),
            *as_arrays(dead, "person_id", "address_id"),
            {"date_of_death": as_arrays(dead, "dod")[0]},
            show_address=rng.random(dead.height) < 0.85,
            show_ni=rng.random(dead.height) < 0.6,
        ),
    )


def _natural_waiting_list(ctx: Ctx, rng: np.random.Generator, adults: pl.DataFrame) -> None:
    """About 2% of people wait for a council home (never the current tenants)."""
    n, c = ctx.people.height, ctx.cycle
    tenants = ctx.records["housing_tenants"].select("person_id")
    wl = adults.join(tenants, on="person_id", how="anti", maintain_order="left")
    wl = pick_some(rng, wl, 0.02 * n / max(1, wl.height))
    ctx.add(
        "housing_waiting_list",
        record_frame(
            *as_arrays(wl, "partner", "person_id", "address_id"),
            {"application_date": c - rng.integers(10, 1800, wl.height)},
            nfa=rng.random(wl.height) < 0.01,
        ),
    )


def _natural_disregards(ctx: Ctx, rng: np.random.Generator, adults: pl.DataFrame) -> None:
    """Students, apprentices, care leavers, carers, severe mental impairment: ~2% of people."""
    age = adults["age"].to_numpy()
    u = rng.random((5, adults.height))
    reason = np.select(
        [
            (age <= 23) & (u[0] < 0.25),
            (age <= 24) & (u[1] < 0.03),
            (age <= 24) & (u[2] < 0.01),
            (age >= 25) & (age <= 75) & (u[3] < 0.006),
            (age >= 30) & (u[4] < 0.003),
        ],
        ["student", "apprentice", "care_leaver", "carer", "severe_mental_impairment"],
        "",
    )
    d = adults.filter(pl.Series(reason != ""))
    reason = reason[reason != ""]
    c = ctx.cycle
    dob = as_arrays(d, "dob")[0]
    start = np.maximum(c - rng.integers(30, 1400, d.height), dob + 18 * 366)
    u = rng.random(d.height)
    expired = np.minimum(np.maximum(c - rng.integers(1, 500, d.height), start + 1), c - 1)
    end = np.select([u < 0.25, u < 0.6], [expired, c + rng.integers(30, 1000, d.height)], NULL_DAY)
    ctx.add(
        "council_tax_disregards",
        record_frame(
            *as_arrays(d, "partner", "person_id", "address_id"),
            {"start_date": start, "end_date": end},
            disregard_reason=reason,
            dob_shown=rng.random(d.height) < 0.7,
        ),
    )


def in_force_at(cycle: int) -> pl.Expr:
    c = pl.lit(cycle).cast(pl.Date)
    return (pl.col("start_date") <= c) & (pl.col("end_date").is_null() | (pl.col("end_date") >= c))


def _natural_spd(ctx: Ctx, rng: np.random.Generator, adults: pl.DataFrame) -> None:
    """A discount where exactly one adult of the household is not disregarded."""
    dis = ctx.records["council_tax_disregards"]
    in_force = dis.filter(in_force_at(ctx.cycle)).select("person_id")
    counted = adults.join(in_force, on="person_id", how="anti", maintain_order="left")
    single = counted.filter(pl.len().over("household_id") == 1)
    spd = pick_some(rng, single, 0.85)
    ctx.add(
        "council_tax_spd",
        record_frame(
            *as_arrays(spd, "partner", "person_id", "address_id"),
            {"discount_start_date": ctx.cycle - rng.integers(30, 5000, spd.height)},
        ),
    )


def _natural_register(ctx: Ctx, rng: np.random.Generator, alive: pl.DataFrame) -> None:
    """Adults (92% registered, few with DOB shown) and 17-year-old attainers (DOB shown)."""
    adults = pick_some(rng, alive.filter(pl.col("age") >= 18), 0.92)
    attainers = pick_some(rng, alive.filter(pl.col("age") == 17), 0.7)
    er = pl.concat([adults, attainers])
    shown = np.concatenate([rng.random(adults.height) < 0.03, np.ones(attainers.height, bool)])
    ctx.add(
        "electoral_register",
        record_frame(*as_arrays(er, "partner", "person_id", "address_id"), dob_shown=shown),
    )


def _natural_tenants(ctx: Ctx, rng: np.random.Generator, adults: pl.DataFrame) -> None:
    """About 10% of households rent from the council; a quarter of couples jointly."""
    hh = adults.filter(pl.col("role") == "head").select("household_id")
    hh = pick_some(rng, hh, 0.10)
    hh = hh.with_columns(joint=pl.Series(rng.random(hh.height) < 0.25))
    t = adults.join(hh, on="household_id", how="inner", maintain_order="left").filter(
        (pl.col("role") == "head") | ((pl.col("role") == "partner") & pl.col("joint"))
    )
    c = ctx.cycle
    head_start = c - rng.integers(60, 7300, t.height)
    start_by_hh = (
        pl.DataFrame({"household_id": t["household_id"], "s": head_start})
        .group_by("household_id", maintain_order=True)
        .agg(pl.col("s").first())
    )
    t = t.join(start_by_hh, on="household_id", how="left", maintain_order="left")
    dob, s = as_arrays(t, "dob", "s")
    s = np.maximum(s, np.minimum(dob + 18 * 366, c - 60))
    end = spell_end(rng, s, 0.08, 700, c)
    end_by_hh = (
        pl.DataFrame({"household_id": t["household_id"], "e": end})
        .group_by("household_id", maintain_order=True)
        .agg(pl.col("e").first())
    )
    end = t.join(end_by_hh, on="household_id", how="left", maintain_order="left")["e"].to_numpy()
    ctx.add(
        "housing_tenants",
        record_frame(
            *as_arrays(t, "partner", "person_id", "address_id"),
            {"tenancy_start_date": s, "tenancy_end_date": end},
        ),
    )

"""Planted cases and decoys for the 'same person' rules, and the order all plants run in."""

from __future__ import annotations

import numpy as np
import polars as pl

from fraudmatch.synth.context import Ctx, as_arrays, record_frame
from fraudmatch.synth.days import uniform_days
from fraudmatch.synth.plant_money import plant_duplicate_invoices, plant_payroll_creditors
from fraudmatch.synth.plant_spd import plant_spd
from fraudmatch.synth.population import draw_forenames
from fraudmatch.synth.vocabulary import ADDRESS_BOUND, ID_RULES, NULL_DAY, PERIODS, IdRule


class _Pool:
    """People not yet used by any plant, in random order: each plant takes fresh ones."""

    def __init__(self, ids: np.ndarray) -> None:
        self.ids, self.pos = ids, 0

    def take(self, n: int) -> np.ndarray:
        out = self.ids[self.pos : self.pos + n]
        self.pos += len(out)
        return out


def plant_all(ctx: Ctx) -> None:
    rng = ctx.rng("plant", "pools")
    used = pl.concat(
        [
            ctx.records[d].select("person_id")
            for d in (
                "payroll",
                "housing_benefit",
                "council_tax_reduction",
                "housing_tenants",
                "housing_waiting_list",
                "blue_badge",
                "concessionary_travel",
                "council_tax_disregards",
            )
        ]
    )
    p = ctx.people
    alive = p.filter(pl.col("dod").is_null() & pl.col("age").is_between(30, 62))
    alive = alive.join(used, on="person_id", how="anti", maintain_order="left")
    dead = p.filter(pl.col("dod").is_not_null() & (pl.col("age") >= 40))
    alive_pool = _Pool(rng.permutation(alive["person_id"].to_numpy()))
    dead_pool = _Pool(rng.permutation(dead["person_id"].to_numpy()))
    for rule in ID_RULES:
        if rule.scope == "other" and ctx.n_partners < 2:
            continue
        _plant_identity(ctx, rule, dead_pool if rule.right == "deceased" else alive_pool)
    plant_spd(ctx)
    plant_payroll_creditors(ctx)
    plant_duplicate_invoices(ctx)


def _rule_periods(
    rng: np.random.Generator, rule: IdRule, ok: np.ndarray, dod: np.ndarray, cycle: int
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Left and right dates that meet the rule's time condition where `ok`, else fail it."""
    n = len(ok)
    if rule.time == "overlap":
        s1, e1, s2, e2 = _overlapping(rng, n, cycle)
        d1, d2, d3, d4 = _disjoint(rng, n, cycle)
        s1, e1 = np.where(ok, s1, d1), np.where(ok, e1, d2)
        s2, e2 = np.where(ok, s2, d3), np.where(ok, e2, d4)
        a, b = PERIODS[rule.left], PERIODS[rule.right]
        return {a[0]: s1, a[1]: e1}, {b[0]: s2, b[1]: e2}
    if rule.time == "expiry_after_death":
        valid = 1095 if rule.left == "blue_badge" else 1826
        issue = np.where(
            ok, dod - rng.integers(30, valid - 60, n), dod - valid - rng.integers(30, 600, n)
        )
        return {"issue_date": issue, "expiry_date": issue + valid}, {}
    if rule.time == "open_at_cycle":
        before = dod - rng.integers(30, 400, n)
        after = np.minimum(dod + rng.integers(14, 120, n), cycle - 1)
        end = np.where(ok, NULL_DAY, np.where(rng.random(n) < 0.5, before, after))
        start = np.where(ok, dod, end) - rng.integers(200, 5000, n)
        return {"tenancy_start_date": start, "tenancy_end_date": end}, {}
    # open_at_application: left is the application, right the tenancy
    app = cycle - rng.integers(30, 1500, n)
    open_end = np.where(rng.random(n) < 0.7, NULL_DAY, uniform_days(rng, app + 1, cycle - 1, n))
    end = np.where(ok, open_end, app - rng.integers(30, 600, n))
    start = np.where(ok, app, end) - rng.integers(60, 3000, n)
    return {"application_date": app}, {"tenancy_start_date": start, "tenancy_end_date": end}


def _overlapping(rng: np.random.Generator, n: int, cycle: int):
    """Two spells that share at least the day t (open ends are open)."""
    t = cycle - rng.integers(30, 1500, n)
    s1, s2 = t - rng.integers(0, 2500, n), t - rng.integers(0, 2500, n)
    e1 = np.where(rng.random(n) < 0.6, NULL_DAY, uniform_days(rng, t, cycle - 1, n))
    e2 = np.where(rng.random(n) < 0.6, NULL_DAY, uniform_days(rng, t, cycle - 1, n))
    return s1, e1, s2, e2


def _disjoint(rng: np.random.Generator, n: int, cycle: int):
    """Two spells, one ended at least 30 days before the other began (either order)."""
    t = cycle - rng.integers(30, 1200, n)
    e_first = t - rng.integers(30, 600, n)
    s_first = e_first - rng.integers(60, 2500, n)
    e_second = np.where(rng.random(n) < 0.6, NULL_DAY, uniform_days(rng, t, cycle - 1, n))
    swap = rng.random(n) < 0.5
    s1, e1 = np.where(swap, t, s_first), np.where(swap, e_second, e_first)
    s2, e2 = np.where(swap, s_first, t), np.where(swap, e_first, e_second)
    return s1, e1, s2, e2


def _spare_addresses(ctx: Ctx, rng: np.random.Generator, partners: np.ndarray) -> np.ndarray:
    """An empty address in each given council (second addresses, doubles' homes)."""
    spare = ctx.addresses.filter(pl.col("kind") == "spare")
    out = np.zeros(len(partners), dtype=np.int64)
    for p in np.unique(partners):
        ids = spare.filter(pl.col("partner") == p)["address_id"].to_numpy()
        m = partners == p
        out[m] = ids[rng.integers(0, len(ids), int(m.sum()))]
    return out


def _new_people(
    ctx: Ctx,
    rng: np.random.Generator,
    like: np.ndarray,
    twin: np.ndarray,
    home_partner: np.ndarray,
) -> np.ndarray:
    """Doubles (same names and DOB, living elsewhere) and twins (same surname, DOB and home)."""
    src = ctx.people[like]
    n = len(like)
    ids = np.arange(ctx.people.height, ctx.people.height + n, dtype=np.int64)
    spare = _spare_addresses(ctx, rng, home_partner)
    female = np.where(
        twin & (rng.random(n) < 0.5), rng.random(n) < 0.5, (src["sex"] == "F").to_numpy()
    )
    sex = np.where(female, "F", "M")
    first, middle = draw_forenames(rng, female)
    for _ in range(8):  # a twin needs another forename than the anchor (a few redraws)
        clash = (first == src["first"]).to_numpy()
        if not clash.any():
            break
        again, _ = draw_forenames(rng, female)
        first = pl.select(pl.when(pl.Series(clash)).then(again).otherwise(first)).to_series()
    tw = pl.Series(twin)
    new = src.with_columns(
        person_id=pl.Series(ids),
        household_id=pl.when(tw)
        .then(pl.col("household_id"))
        .otherwise(pl.Series(ctx.people["household_id"].max() + 1 + np.arange(n))),
        partner=pl.when(tw)
        .then(pl.col("partner"))
        .otherwise(pl.Series(home_partner, dtype=pl.Int32)),
        address_id=pl.when(tw).then(pl.col("address_id")).otherwise(pl.Series(spare)),
        role=pl.lit("adult"),
        sex=pl.Series(sex),
        first=pl.when(tw).then(first).otherwise(pl.col("first")),
        middle=pl.when(tw).then(middle).otherwise(pl.col("middle")),
        ni=_ni_tail(ctx, n),
        sort_code=pl.Series(ctx.sort_pool[rng.integers(0, len(ctx.sort_pool), n)])
        .cast(pl.String)
        .str.zfill(6),
        account=pl.Series(ctx.take_accounts(n)).cast(pl.String),
    )
    ctx.people = pl.concat([ctx.people, new.select(ctx.people.columns)])
    return ids


def _ni_tail(ctx: Ctx, n: int) -> pl.Series:
    """Fresh NI numbers for new people: the pool was drawn for everyone up front."""
    return ctx.ni_pool.slice(ctx.people.height, n)


def _record_partner_address(
    ctx: Ctx, rng: np.random.Generator, dataset: str, partner: np.ndarray, person: np.ndarray
) -> np.ndarray:
    """Home address, unless the service is tied to a property in another council."""
    who = ctx.people[person]
    home_p, home_a = who["partner"].to_numpy(), who["address_id"].to_numpy()
    if dataset not in ADDRESS_BOUND:
        return home_a
    return np.where(partner == home_p, home_a, _spare_addresses(ctx, rng, partner))


def _plant_identity(ctx: Ctx, rule: IdRule, pool: _Pool) -> None:
    """Cases (same person, time condition met) and decoys for one 'same person' rule.

    Decoys: period (same person, condition failed), double (same names and DOB, another
    person elsewhere, another NI) and twin (same surname, DOB and address, other forename).
    """
    rng = ctx.rng("plant", rule.name)
    plan, n_part = ctx.plan, ctx.n_partners
    kinds = ["case"] * plan.cases + ["double"] * plan.decoys + ["twin"] * plan.decoys
    kinds += ["period"] * plan.decoys  # every rule has a time condition to fail
    anchors = pool.take(len(kinds))
    kind = np.array(kinds[: len(anchors)])
    n = len(anchors)
    who = ctx.people[anchors]
    home = who["partner"].to_numpy()
    dod = np.where(who["dod"].is_null().to_numpy(), NULL_DAY, as_arrays(who, "dod")[0])
    rand_p = rng.integers(0, n_part, n)
    stand_in = (kind == "double") | (kind == "twin")
    deceased_rule = rule.right == "deceased"

    lp, rp = _plant_partners(rule, rng, kind, home, rand_p, n_part)
    free_partner = lp if deceased_rule else rp
    new_ids = _new_people(
        ctx, rng, anchors[stand_in], kind[stand_in] == "twin", free_partner[stand_in]
    )
    holder_free = anchors.copy()
    holder_free[stand_in] = new_ids
    left_person = holder_free if deceased_rule else anchors
    right_person = anchors if deceased_rule else holder_free

    ok = kind != "period"
    left_dates, right_dates = _rule_periods(rng, rule, ok, dod, ctx.cycle)
    note = np.array([_PLANT_NOTES[rule.name].get(k, k) for k in kind])
    protect = stand_in
    left_addr = _record_partner_address(ctx, rng, rule.left, lp, left_person)
    if deceased_rule:
        right_addr = ctx.people[anchors]["address_id"].to_numpy()
    else:
        right_addr = _record_partner_address(ctx, rng, rule.right, rp, right_person)
    # Where the two records show different addresses, the NI number is what links them.
    cross = left_addr != right_addr
    extra_left = _dataset_extras(rule.left, rng, n)
    left = ctx.add(
        rule.left,
        record_frame(
            lp,
            left_person,
            left_addr,
            left_dates,
            protect=protect,
            keep_ni=cross | protect,
            note=note,
            **extra_left,
        ),
    )
    if deceased_rule:
        right_uid = _show_deceased(ctx, anchors)
    else:
        right = ctx.add(
            rule.right,
            record_frame(
                rp,
                right_person,
                right_addr,
                right_dates,
                protect=protect,
                keep_ni=cross | protect,
                note=note,
                **_dataset_extras(rule.right, rng, n),
            ),
        )
        right_uid = right["uid"].to_numpy()
    m = stand_in
    ctx.decoys.append(
        pl.DataFrame(
            {
                "rule": rule.name,
                "left_dataset": rule.left,
                "left_uid": left["uid"].to_numpy()[m],
                "right_dataset": rule.right,
                "right_uid": right_uid[m],
                "note": note[m],
            }
        )
    )


def _plant_partners(
    rule: IdRule,
    rng: np.random.Generator,
    kind: np.ndarray,
    home: np.ndarray,
    rand_p: np.ndarray,
    n_part: int,
) -> tuple[np.ndarray, np.ndarray]:
    """The councils holding the left and right record of each planted pair."""
    n = len(kind)
    if rule.right == "deceased":
        # The anchor died; its deceased record exists. The badge, pass or tenancy is planted
        # for the anchor (case, period) or for its double or twin (decoys).
        lp = np.where(kind == "double", rand_p, home)
        if rule.left == "housing_tenants":
            lp = np.where((kind == "case") & (rng.random(n) < 0.3), rand_p, lp)
        return lp, home
    lp = home if rule.left in ADDRESS_BOUND else rand_p
    if rule.scope == "other":
        rp = (lp + rng.integers(1, max(2, n_part), n)) % n_part
    else:
        rp = np.where(rng.random(n) < 0.5, home, rand_p)
        if rule.right in ADDRESS_BOUND:
            rp = np.where(kind == "twin", home, rp)
    return lp, rp


def _show_deceased(ctx: Ctx, anchors: np.ndarray) -> np.ndarray:
    """Planted deaths always show address and NI number; returns their deceased uids."""
    dec = ctx.records["deceased"]
    ctx.records["deceased"] = dec.with_columns(
        show_address=pl.col("show_address") | pl.col("person_id").is_in(anchors.tolist()),
        show_ni=pl.col("show_ni") | pl.col("person_id").is_in(anchors.tolist()),
        # shown means shown: never blanked at the usual missing-NI rate either
        keep_ni=(pl.col("keep_ni") if "keep_ni" in dec.columns else pl.lit(False))
        | pl.col("person_id").is_in(anchors.tolist()),
    )
    return (
        pl.DataFrame({"person_id": anchors})
        .join(dec.select("person_id", "uid"), on="person_id", how="left", maintain_order="left")[
            "uid"
        ]
        .to_numpy()
    )


def _dataset_extras(dataset: str, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    if dataset == "housing_waiting_list":
        return {"nfa": np.zeros(n, dtype=bool)}
    return {}


_PLANT_NOTES: dict[str, dict[str, str]] = {
    "payroll_to_housing_benefit": {
        "case": "planted: employee also claiming housing benefit",
        "period": "planted: employment and claim do not overlap",
    },
    "payroll_to_payroll": {
        "case": "planted: employed by two councils at once",
        "period": "planted: one job ended before the other began (moved)",
    },
    "blue_badge_to_deceased": {
        "case": "planted: badge still valid after death",
        "period": "planted: badge expired before death",
    },
    "concessionary_travel_to_deceased": {
        "case": "planted: pass still valid after death",
        "period": "planted: pass expired before death",
    },
    "housing_tenants_to_housing_tenants": {
        "case": "planted: two tenancies at once",
        "period": "planted: moved, tenancies do not overlap",
    },
    "housing_tenants_to_deceased": {
        "case": "planted: tenancy still open after death",
        "period": "planted: tenancy ended, not open at the cycle date",
    },
    "housing_benefit_to_housing_benefit": {
        "case": "planted: two claims at once",
        "period": "planted: moved, claims do not overlap",
    },
    "housing_waiting_list_to_housing_tenants": {
        "case": "planted: applicant already a tenant",
        "period": "planted: tenancy ended before the application",
    },
    "council_tax_reduction_to_payroll": {
        "case": "planted: claimant on a payroll",
        "period": "planted: employment and claim do not overlap",
    },
}
for _notes in _PLANT_NOTES.values():
    _notes.setdefault("double", "planted decoy: same names and DOB, a different person")
    _notes.setdefault("twin", "planted decoy: twin, same surname, DOB and address")

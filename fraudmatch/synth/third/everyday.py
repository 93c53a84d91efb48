"""Everyday records: tenancies, claims, jobs, badges, passes and deaths of everyone else.

Drawn for whole arrays at a time, mostly clear of every rule (a dead person's badge is
cancelled or lapses, movers' old and new tenancies are months apart), with a few everyday
slips that do make cases (`NATURAL`: a pass nobody cancelled, a tenancy not ended, a
low-paid employee also claiming).
"""

from __future__ import annotations

import numpy as np

from fraudmatch.synth.third.habits import BB, CT, CTR, DC, HB, HT, PY, WL
from fraudmatch.synth.third.people import YEAR, People
from fraudmatch.synth.third.places import Dwellings
from fraudmatch.synth.third.records import BADGE_YEARS, MARGIN, PASS_YEARS, Records

# Why a base record may make a case after all (everyday slips that rules exist to catch).
NATURAL = {
    1: "natural: tenant applying for a transfer",
    2: "natural: low-paid employee also claiming",
    3: "natural: badge or pass not cancelled after death",
    4: "natural: tenancy not ended after death",
    5: "natural: old claim or tenancy not ended after a move",
}


def base_records(
    rng: np.random.Generator,
    people: People,
    dw: Dwellings,
    used: np.ndarray,
    cycle: int,
    partners: int,
    rec: Records,
) -> None:
    """Everyday records of everyone not planted, kept clear of every rule."""
    p, C = people, cycle
    n = p.n
    age = (C - p.dob) / YEAR
    home_c = dw.council[p.dwelling]
    new_c = np.where(p.new_dwelling >= 0, dw.council[np.maximum(p.new_dwelling, 0)], -1)
    now_home = np.where(p.new_dwelling >= 0, p.new_dwelling, p.dwelling)
    now_c = dw.council[now_home]
    adult_day = p.dob + int(18 * YEAR)

    # Deaths over the last two years, by age.
    q = np.minimum(0.6, 2 * 0.0004 * np.exp(0.09 * (age - 30)))
    dies = (~used) & (age > 1) & (rng.random(n) < q)
    p.died_on[dies] = C - rng.integers(75, 731, dies.sum())

    heads = np.flatnonzero(p.role == 0)
    partner_of = np.where(p.spouse[heads] >= 0, p.spouse[heads], -1)
    free = ~used[heads] & ((partner_of < 0) | ~used[np.maximum(partner_of, 0)])
    heads, partner_of = heads[free], partner_of[free]
    ht = p.hh_type[heads]
    tenant_p = np.select([ht == 0, ht == 1, ht == 2, ht == 3], [0.2, 0.12, 0.16, 0.42], 0.25)
    tenant = rng.random(len(heads)) < tenant_p
    mover = p.moved_on[heads] >= 0

    def spells(ids, max_back, open_rate, ds):
        """Spells for people ids at their home, split in two for movers."""
        stay = p.moved_on[ids] < 0
        i = ids[stay]
        back = np.minimum(max_back, np.maximum(90, C - adult_day[i]))
        s = C - (rng.random(len(i)) * (back - 60)).astype(np.int64) - 60
        e = np.where(rng.random(len(i)) < open_rate, -1, C - rng.integers(MARGIN + 30, 800, len(i)))
        e = np.where((e >= 0) & (e - s < 90), -1, e)
        rec.add_many(i, ds, home_c[i], p.dwelling[i], s, e)
        m = ids[~stay]
        mv = p.moved_on[m]
        s2 = mv + rng.integers(MARGIN + 15, 240, len(m))
        ok2 = (s2 <= C - MARGIN) & (rng.random(len(m)) < 0.7)
        e1 = mv - rng.integers(0, 30, len(m))
        # a few old spells are not closed until months after the new one began
        late = ok2 & (rng.random(len(m)) < 0.08)
        e1 = np.where(late, np.minimum(s2 + rng.integers(MARGIN + 15, 200, len(m)), C - MARGIN), e1)
        s1 = np.maximum(adult_day[m] + 30, mv - rng.integers(200, 5000, len(m)))
        ok = e1 - s1 >= 90
        why = np.where(late, 5, 0)
        rec.add_many(m[ok], ds, home_c[m[ok]], p.dwelling[m[ok]], s1[ok], e1[ok], why=why[ok])
        rec.add_many(
            m[ok2],
            ds,
            new_c[m[ok2]],
            p.new_dwelling[m[ok2]],
            s2[ok2],
            np.full(ok2.sum(), -1),
            why=why[ok2],
        )

    # Tenancies: lead tenant, and a joint tenant for half the couples.
    t_heads = heads[tenant]
    joint = partner_of[tenant]
    joint = joint[(joint >= 0) & (rng.random(len(joint)) < 0.5)]
    spells(np.concatenate([t_heads, joint]), 25 * 365, 1.0, HT)

    # Housing benefit and council tax reduction: claimants of some households.
    hb_house = np.where(tenant, rng.random(len(heads)) < 0.55, rng.random(len(heads)) < 0.05)
    claimant = heads.copy()
    swap = (partner_of >= 0) & (rng.random(len(heads)) < 0.2)
    claimant[swap] = partner_of[swap]
    hb_claim = claimant[hb_house]
    spells(hb_claim, 3000, 0.85, HB)
    ctr_claim = np.concatenate(
        [
            hb_claim[rng.random(len(hb_claim)) < 0.9],
            claimant[~hb_house & (rng.random(len(heads)) < 0.06)],
        ]
    )
    spells(ctr_claim, 3000, 0.85, CTR)
    claimants = np.zeros(n, dtype=bool)
    claimants[hb_claim] = True
    claimants[ctr_claim] = True

    # Waiting list: some non-tenant households, and grown-up children of tenants.
    wl_heads = heads[~tenant & ~mover & (rng.random(len(heads)) < 0.03)]
    tenant_hh = np.zeros(p.hh.max() + 1, dtype=bool)
    tenant_hh[p.hh[t_heads]] = True
    kids = np.flatnonzero(
        (p.role == 2) & ~used & (age >= 18.5) & (age <= 40) & tenant_hh[p.hh] & (p.moved_on < 0)
    )
    wl_kids = kids[rng.random(len(kids)) < 0.12]
    wl = np.concatenate([wl_heads, wl_kids])
    wl = wl[(C - adult_day[wl]) > 200]
    app = C - (rng.random(len(wl)) * np.minimum(2000, C - adult_day[wl] - 100)).astype(np.int64)
    app = np.minimum(app, C - MARGIN)
    rec.add_many(wl, WL, home_c[wl], p.dwelling[wl], app, np.full(len(wl), -1))
    # A few tenants apply for a transfer without saying they hold a tenancy.
    tr = t_heads[(p.moved_on[t_heads] < 0) & (rng.random(len(t_heads)) < 0.0025)]
    app = C - rng.integers(MARGIN + 15, 500, len(tr))
    rec.add_many(tr, WL, home_c[tr], p.dwelling[tr], app, np.full(len(tr), -1), why=1)

    # Payroll: some working-age people who claim nothing, at home or a neighbouring council.
    cand = (~used) & (age >= 18) & (age <= 66) & (p.ni != "")
    emp = np.flatnonzero(cand & np.where(claimants, rng.random(n) < 0.003, rng.random(n) < 0.035))
    employer = np.where(
        rng.random(len(emp)) < 0.75, now_c[emp], rng.integers(0, partners, len(emp))
    )
    back = np.minimum(30 * 365, np.maximum(120, C - p.dob[emp] - int(17 * YEAR)))
    s = C - 60 - (rng.random(len(emp)) * (back - 60)).astype(np.int64)
    e = np.where(rng.random(len(emp)) < 0.08, C - rng.integers(MARGIN + 30, 400, len(emp)), -1)
    e = np.where((e >= 0) & (e - s < 90), -1, e)
    stale = (p.new_dwelling[emp] >= 0) & (rng.random(len(emp)) < 0.3)
    addr = np.where(stale, p.dwelling[emp], now_home[emp])
    rec.add_many(emp, PY, employer, addr, s, e, asof=s, why=np.where(claimants[emp], 2, 0))

    # Blue badges and bus passes, current (a few lapsed), at the current home.
    for ds, life, prob in (
        (BB, BADGE_YEARS, np.select([age < 18, age < 65, age < 80], [0.005, 0.015, 0.06], 0.15)),
        (CT, PASS_YEARS, np.where(age >= 66, 0.5, 0.01)),
    ):
        who = np.flatnonzero((~used) & (age >= 5) & (rng.random(n) < prob))
        lapsed = rng.random(len(who)) < 0.08
        issue = np.where(
            lapsed,
            C - life - rng.integers(MARGIN + 15, 400, len(who)),
            C - rng.integers(30, life - MARGIN - 15, len(who)),
        )
        stale = (p.new_dwelling[who] >= 0) & (rng.random(len(who)) < 0.15)
        addr = np.where(stale, p.dwelling[who], now_home[who])
        rec.add_many(who, ds, dw.council[addr], addr, issue, issue + life)

    # Deaths registered: at home mostly, some at another council's hospital or care home.
    dd = np.flatnonzero(dies)
    reg = np.where(rng.random(len(dd)) < 0.8, now_c[dd], rng.integers(0, partners, len(dd)))
    inst = np.array(
        [dw.institutions[c][int(rng.integers(len(dw.institutions[c])))] for c in reg],
        dtype=np.int64,
    )
    at_home = (rng.random(len(dd)) < 0.75) & (reg == now_c[dd])
    where = np.where(at_home, now_home[dd], inst)
    rec.add_many(dd, DC, reg, where, p.died_on[dd], np.full(len(dd), -1))


def settle_deaths(
    cols: dict[str, np.ndarray], people: People, rng: np.random.Generator
) -> np.ndarray:
    """Base records of the dead: nothing begun after death, spells closed, badges lapsed.

    Returns a keep mask. Planted records (protect) are left alone.
    """
    d = people.died_on[cols["pid"]]
    ds, d1, d2 = cols["ds"], cols["d1"], cols["d2"]
    base = ~cols["protect"] & (d >= 0) & (ds != DC)
    keep = np.ones(len(ds), dtype=bool)
    keep[base & (d1 > d - MARGIN)] = False
    spell = base & np.isin(ds, [PY, HB, CTR]) & ((d2 < 0) | (d2 > d))
    d2[spell] = d[spell]
    why = cols["why"]
    ten = base & (ds == HT) & ((d2 < 0) | (d2 > d + 28))
    left_open = ten & (d2 < 0) & (rng.random(len(ds)) < 0.04)
    why[left_open] = 4
    ten &= ~left_open
    d2[ten] = d[ten] + rng.integers(7, 29, ten.sum())
    for kind, life in ((BB, BADGE_YEARS), (CT, PASS_YEARS)):
        m = base & (ds == kind) & keep & (d2 > d - 60)
        u = rng.random(len(ds))
        cancelled = m & (u < 0.72)
        keep[cancelled] = False
        missed = m & (u >= 0.72) & (u < 0.76)
        why[missed] = 3
        lapse = m & ~cancelled & ~missed
        d2[lapse] = d[lapse] - rng.integers(MARGIN + 15, 600, lapse.sum())
        d1[lapse] = d2[lapse] - life
    cols["asof"] = np.where(cols["asof"] > cols["d1"], cols["d1"], cols["asof"])
    return keep

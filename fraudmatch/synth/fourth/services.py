"""Who holds which council service, when: everyday records, deaths, planted cases, hard
negatives.

Why: the truth is every pair of one person's records a rule must flag, so the everyday
population must hold services at realistic rates and dates (staff who also claim, tenants
on the waiting list for a transfer, passes of the very old), deaths must end records as
councils end them (most badges and passes cancelled, a few missed), and the planted cases
and hard negatives must meet or miss the rule's dates by a clear margin. Dates are days
since 1970-01-01; NA is an empty date.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from fraudmatch.synth.fourth.names import MOHAMMED, draw_given
from fraudmatch.synth.fourth.people import NA, YEAR, Homes, People, make_homes, ni_numbers

DATASETS = (
    "payroll",
    "housing_benefit",
    "council_tax_reduction",
    "housing_tenants",
    "housing_waiting_list",
    "blue_badge",
    "concessionary_travel",
    "deceased",
)
PY, HB, CTR, HT, WL, BB, CT, DC = range(8)
BADGE_YEARS = {BB: 3, CT: 5}


@dataclass
class Recs:
    """Records being built: person, council, dataset, two dates, dwelling, why it exists."""

    cols: dict[str, list[np.ndarray]] = field(default_factory=dict)
    n: int = 0

    def add(self, pid, partner, ds, d1, d2, home, tag, protect=False) -> np.ndarray:
        """Append records; returns their indices."""
        n = len(pid)
        self.n += n
        parts = {
            "pid": np.asarray(pid, np.int64),
            "partner": np.broadcast_to(np.asarray(partner, np.int64), n).copy(),
            "ds": np.full(n, ds, np.int64),
            "d1": np.broadcast_to(np.asarray(d1, np.int64), n).copy(),
            "d2": np.broadcast_to(np.asarray(d2, np.int64), n).copy(),
            "home": np.asarray(home, np.int64),
            "tag": np.broadcast_to(np.asarray(tag, dtype=object), n).copy(),
            "protect": np.full(n, protect),
        }
        for k, v in parts.items():
            self.cols.setdefault(k, []).append(v)
        return np.arange(self.n - n, self.n)

    def arrays(self) -> dict[str, np.ndarray]:
        return {k: np.concatenate(v) for k, v in self.cols.items()}


def _u(rng, lo, hi, n) -> np.ndarray:
    return rng.uniform(lo, hi, n).astype(np.int64)


def _elsewhere(rng, council: np.ndarray, n_partners: int, p: float) -> np.ndarray:
    """The council itself, or with probability p another partner."""
    other = (council + rng.integers(1, max(n_partners, 2), len(council))) % n_partners
    return np.where((rng.random(len(council)) < p) & (n_partners > 1), other, council)


def background(rng, pe: People, n_partners: int, cycle: int, recs: Recs) -> None:
    """Everyday services at realistic rates, for everyone alive at the cycle date."""
    n = len(pe)
    age = (cycle - pe.dob) / YEAR
    r = rng.random((8, n))
    adult = age >= 18
    # payroll: council staff, 1 in 5 working for a neighbouring partner
    m = np.flatnonzero(adult & (age < 67) & (r[0] < 0.035))
    start = cycle - (rng.uniform(0.05, 1, len(m)) * np.minimum(age[m] - 17.5, 30) * YEAR).astype(
        np.int64
    )
    end = np.where(rng.random(len(m)) < 0.15, cycle - _u(rng, 40, 700, len(m)), NA)
    end = np.where(end < start + 60, NA, end)
    recs.add(
        m, _elsewhere(rng, pe.council[m], n_partners, 0.2), PY, start, end, pe.home[m], "natural"
    )
    # housing benefit and council tax reduction, often together
    hb = adult & (r[1] < np.where(age > 66, 0.07, 0.05))
    m = np.flatnonzero(hb)
    s = cycle - np.minimum(rng.exponential(900, len(m)), (age[m] - 18) * YEAR).astype(np.int64)
    e = np.where(rng.random(len(m)) < 0.2, cycle - _u(rng, 40, 540, len(m)), NA)
    e = np.where(e < s + 60, NA, e)
    recs.add(m, pe.council[m], HB, s, e, pe.home[m], "natural")
    both = rng.random(len(m)) < 0.7
    recs.add(m[both], pe.council[m[both]], CTR, s[both], e[both], pe.home[m[both]], "natural")
    m = np.flatnonzero(adult & ~hb & (r[2] < 0.035))
    s = cycle - np.minimum(rng.exponential(900, len(m)), (age[m] - 18) * YEAR).astype(np.int64)
    e = np.where(rng.random(len(m)) < 0.2, cycle - _u(rng, 40, 540, len(m)), NA)
    e = np.where(e < s + 60, NA, e)
    recs.add(m, pe.council[m], CTR, s, e, pe.home[m], "natural")
    # tenancies: the lead tenant, and a joint tenant now and then
    first_of_home = np.r_[True, pe.hh[1:] != pe.hh[:-1]]
    lead = adult & (first_of_home | (r[3] < 0.15))
    ht = lead & (rng.random(n) < 0.16)[pe.hh % n]
    m = np.flatnonzero(ht)
    s = cycle - (rng.uniform(0.02, 1, len(m)) * np.minimum(age[m] - 18, 30) * YEAR).astype(np.int64)
    s = np.minimum(s, cycle - 45)
    e = np.where(rng.random(len(m)) < 0.08, cycle - _u(rng, 40, 700, len(m)), NA)
    e = np.where(e < s + 60, NA, e)
    recs.add(m, pe.council[m], HT, s, e, pe.home[m], "natural")
    # the waiting list: mostly people without a tenancy, a few tenants seeking a transfer
    wl = adult & (r[4] < np.where(ht, 0.04, 0.03))
    m = np.flatnonzero(wl)
    recs.add(m, pe.council[m], WL, cycle - _u(rng, 30, 6 * 365, len(m)), NA, pe.home[m], "natural")
    # blue badges (3 years) and bus passes (5 years), some expired but still listed
    bb = (age >= 30) & (r[5] < np.where(age >= 65, 0.07, 0.012))
    m = np.flatnonzero(bb)
    issue = cycle - _u(rng, 0, int(3.6 * 365), len(m))
    recs.add(m, pe.council[m], BB, issue, issue + int(3 * YEAR), pe.home[m], "natural")
    ct = (age >= 66.5) & (r[6] < 0.7) | (age >= 20) & (r[6] < 0.008)
    m = np.flatnonzero(ct)
    issue = cycle - _u(rng, 0, int(5.3 * 365), len(m))
    recs.add(m, pe.council[m], CT, issue, issue + int(5 * YEAR), pe.home[m], "natural")


def deaths(rng, pe: People, cycle: int) -> np.ndarray:
    """Deaths in the two years before the cycle, by age; returns who died."""
    age = (cycle - pe.dob) / YEAR
    p = np.select([age < 50, age < 70, age < 80, age < 90], [0.001, 0.012, 0.045, 0.12], 0.28)
    dead = np.flatnonzero((rng.random(len(pe)) < p) & (pe.death == NA))
    pe.death[dead] = cycle - _u(rng, 20, 730, len(dead))
    return dead


def register_deaths(
    rng,
    pe: People,
    who: np.ndarray,
    n_partners: int,
    recs: Recs,
    tag: str = "natural",
    protect: bool = False,
) -> np.ndarray:
    """A death registered where it happened: the home council mostly, sometimes another
    partner (a hospital there), now and then outside the partnership (no record)."""
    if protect:
        where, keep = pe.council[who], np.ones(len(who), bool)
    else:
        where = _elsewhere(rng, pe.council[who], n_partners, 0.07)
        keep = rng.random(len(who)) < 0.93
    return recs.add(
        who[keep], where[keep], DC, pe.death[who[keep]], NA, pe.home[who[keep]], tag, protect
    )


def settle_deaths(rng, rec: dict[str, np.ndarray], pe: People) -> np.ndarray:
    """End the dead's everyday records as councils do; returns the rows to keep.

    A service begun after the death is not there. A claim or job running past it ends
    within four weeks, a tenancy within two months; most badges and passes are cancelled
    (the row goes), a few are missed and stay, as do a few tenancies: the cases.
    """
    death = pe.death[rec["pid"]]
    ds, d1, d2 = rec["ds"], rec["d1"], rec["d2"]
    free = ~rec["protect"] & (death != NA) & (ds != DC)
    keep = ~(free & (d1 > death))
    n = len(ds)
    u = rng.random(n)
    runs = free & keep & ((d2 == NA) | (d2 > death))
    period = np.isin(ds, [PY, HB, CTR])
    rec["d2"] = np.where(runs & period & (u > 0.01), death + _u(rng, 0, 28, n), d2)
    tenancy = runs & (ds == HT) & (u > 0.05)
    rec["d2"] = np.where(tenancy, death + _u(rng, 14, 60, n), rec["d2"])
    badge = runs & np.isin(ds, [BB, CT])
    keep &= ~(badge & (u > np.where(ds == BB, 0.12, 0.08)))
    keep &= ~(free & (ds == WL) & (d1 > death - 30))
    return keep


# --------------------------------------------------------------------------- planted pairs


@dataclass(frozen=True)
class Plan:
    """A rule's two datasets, whether the right side must be at another partner, and its time."""

    name: str
    left: int
    right: int
    other: bool
    time: str  # overlap | open_at_application | expiry_after_death | open_at_cycle


PLANS = (
    Plan("payroll_to_housing_benefit", PY, HB, False, "overlap"),
    Plan("payroll_to_payroll", PY, PY, True, "overlap"),
    Plan("council_tax_reduction_to_payroll", CTR, PY, False, "overlap"),
    Plan("housing_benefit_to_housing_benefit", HB, HB, True, "overlap"),
    Plan("housing_tenants_to_housing_tenants", HT, HT, True, "overlap"),
    Plan("housing_waiting_list_to_housing_tenants", WL, HT, False, "open_at_application"),
    Plan("blue_badge_to_deceased", BB, DC, False, "expiry_after_death"),
    Plan("concessionary_travel_to_deceased", CT, DC, False, "expiry_after_death"),
    Plan("housing_tenants_to_deceased", HT, DC, False, "open_at_cycle"),
)
# hard negatives of another person, and the label of the same person whose dates miss
OTHERS = ("twin", "relative", "sibling", "spouse", "namesake", "cousin")
SHARES = {
    "twin": 0.2,
    "relative": 0.15,
    "sibling": 0.12,
    "spouse": 0.1,
    "namesake": 0.18,
    "cousin": 0.05,
}
SAME = {
    "overlap": "ended",
    "open_at_application": "ended",
    "expiry_after_death": "expired",
    "open_at_cycle": "ended",
}


def _dates(rng, plan: Plan, n: int, cycle: int, meet: bool):
    """Left and right dates that meet the rule's time (or miss it) by a clear margin, and a
    date of death for the deceased rules."""
    death = np.full(n, NA, np.int64)
    if plan.time == "overlap":
        ls = cycle - _u(rng, 500, 4000, n)
        if meet:
            le = np.where(rng.random(n) < 0.25, cycle - _u(rng, 100, 300, n), NA)
            top = np.where(le == NA, cycle, le) - 60
            rs = ls + (rng.uniform(0.05, 0.95, n) * (top - ls)).astype(np.int64)
        else:
            le = cycle - _u(rng, 400, 1400, n)
            ls = le - _u(rng, 200, 2000, n)
            rs = le + _u(rng, 90, 300, n)
        re = np.full(n, NA, np.int64)
        if rng.random() < 0.5:  # either side may be the earlier
            return rs, re, ls, le, death
        return ls, le, rs, re, death
    if plan.time == "open_at_application":
        if meet:
            hs = cycle - _u(rng, 800, 6000, n)
            he = np.full(n, NA, np.int64)
            app = hs + (rng.uniform(0.1, 0.9, n) * (cycle - 60 - hs)).astype(np.int64)
        else:
            he = cycle - _u(rng, 300, 1500, n)
            hs = he - _u(rng, 500, 4000, n)
            app = he + _u(rng, 90, 250, n)
        return app, np.full(n, NA, np.int64), hs, he, death
    death = cycle - _u(rng, 60, 700, n)
    if plan.time == "expiry_after_death":
        span = int(BADGE_YEARS[plan.left] * YEAR)
        if meet:
            issue = death - _u(rng, 100, 900, n)
        else:
            issue = death - _u(rng, 90, 700, n) - span
        return issue, issue + span, death, np.full(n, NA, np.int64), death
    # open_at_cycle: a tenancy open at the cycle date, or ended after the death
    if meet:
        end = np.full(n, NA, np.int64)
        start = death - _u(rng, 300, 8000, n)
    else:
        end = cycle - _u(rng, 120, 900, n)
        death = end - _u(rng, 14, 60, n)
        start = death - _u(rng, 300, 8000, n)
    return start, end, death, np.full(n, NA, np.int64), death


def _pick(rng, pe: People, used: np.ndarray, lo: float, hi: float, n: int, cycle: int):
    """n living people aged lo..hi not yet used for a planted pair."""
    age = (cycle - pe.dob) / YEAR
    ok = np.flatnonzero((age >= lo) & (age < hi) & (pe.death == NA) & ~used & (pe.ni != ""))
    got = rng.choice(ok, size=min(n, len(ok)), replace=False)
    used[got] = True
    return np.sort(got)


def _ages(plan: Plan) -> tuple[float, float]:
    if plan.left in (BB, CT):
        return 62, 95
    if plan.right == DC:
        return 55, 92
    return 20, 64


def _other_council(rng, c: np.ndarray, n_partners: int) -> np.ndarray:
    return (c + rng.integers(1, n_partners, len(c))) % n_partners


def _place(rng, plan: Plan, who: np.ndarray, pe: People, homes: Homes, councils, n_partners: int):
    """Left and right partners and dwellings: another partner (and a second home) where the
    rule looks across partners, else mostly the person's own council."""
    c = pe.council[who]
    lp, lh = c.copy(), pe.home[who]
    if plan.other:
        rp = _other_council(rng, c, n_partners)
        if plan.left == PY:
            rh = lh
        else:  # a second home in the other council
            kind = np.zeros(len(who), int)
            rh = homes.extend(make_homes(rng, councils, rp, kind))
    else:
        rp = _elsewhere(rng, c, n_partners, 0.3 if plan.right in (PY, HT) else 0.08)
        if plan.left == PY:
            lp, rp = _elsewhere(rng, c, n_partners, 0.35), c
        rh = lh
    return lp, lh, rp, rh


def plant_cases(
    rng,
    plan: Plan,
    k: int,
    pe: People,
    homes: Homes,
    councils,
    n_partners: int,
    used: np.ndarray,
    cycle: int,
    recs: Recs,
) -> None:
    """k people with both records of a case; some across-partner cases reach a third council."""
    if plan.other and n_partners < 2:
        return
    who = _pick(rng, pe, used, *_ages(plan), k, cycle)
    l1, l2, r1, r2, death = _dates(rng, plan, len(who), cycle, True)
    lp, lh, rp, rh = _place(rng, plan, who, pe, homes, councils, n_partners)
    tag = f"planted:{plan.name}"
    recs.add(who, lp, plan.left, l1, l2, lh, tag, True)
    if plan.right == DC:
        pe.death[who] = death
        register_deaths(rng, pe, who, n_partners, recs, tag, True)
    else:
        recs.add(who, rp, plan.right, r1, r2, rh, tag, True)
    if plan.other and n_partners >= 3:  # people who appear at three councils
        third = rng.random(len(who)) < 0.15
        tp = lp[third].copy()
        for j in range(n_partners):
            tp = np.where((tp == lp[third]) | (tp == rp[third]), j, tp)
        recs.add(who[third], tp, plan.right, r1[third], NA, lh[third], tag + ":third", True)


def _relatives(
    rng, label: str, a: np.ndarray, pe: People, homes: Homes, councils, cycle: int
) -> np.ndarray:
    """New people who are a's twin, parent or child, sibling, spouse, cousin or namesake."""
    n = len(a)
    f = {k: getattr(pe, k)[a].copy() for k in pe.__dataclass_fields__}
    f["ni"] = ni_numbers(rng, n)
    f["death"] = np.full(n, NA, np.int64)
    f["preferred"] = np.full(n, "", dtype=object)
    f["former"] = np.full(n, "", dtype=object)
    f["suffix"] = np.full(n, "", dtype=object)
    new_given = draw_given(rng, f["comm"], f["female"])
    same = new_given == f["given"]
    new_given[same] = draw_given(rng, f["comm"][same], ~f["female"][same])
    if label == "twin":
        f["given"] = new_given
    elif label == "sibling":
        gap = _u(rng, 380, 3 * 365, n) * rng.choice([-1, 1], n)
        f["dob"] = f["dob"] + gap
        moh = np.isin(f["given"], MOHAMMED) & ~f["female"]
        # brothers MOHAMMED ALI and MOHAMMED ASIF: the same first name, another second
        f["middle"] = np.where(moh, np.where(f["middle"] == "ASIF", "ALI", "ASIF"), f["middle"])
        f["given"] = np.where(moh, f["given"], new_given)
    elif label == "spouse":
        f["female"] = ~f["female"]
        f["given"] = draw_given(rng, f["comm"], f["female"])
        sikh = np.where(f["female"], "KAUR", "SINGH").astype(object)
        viet = np.where(f["female"], "THI", "VAN").astype(object)
        was = pe.middle[a]
        f["middle"] = np.where(
            np.isin(was, ["THI", "VAN"]), viet, np.where(np.isin(was, ["SINGH", "KAUR"]), sikh, "")
        )
        f["surname"] = np.where(np.isin(f["surname"], ["SINGH", "KAUR"]), sikh, f["surname"])
        f["dob"] = f["dob"] + _u(rng, 2 * 365, 9 * 365, n) * rng.choice([-1, 1], n)
    elif label == "relative":
        older = rng.random(n) < 0.5
        f["dob"] = f["dob"] + np.where(older, -1, 1) * _u(rng, 22 * 365, 34 * 365, n)
        named = (rng.random(n) < 0.4) & ~f["female"]
        f["given"] = np.where(named, f["given"], new_given)
        f["suffix"] = np.where(named, np.where(older, "SNR", "JNR"), "")
    elif label == "cousin":
        f["dob"] = f["dob"] + _u(rng, 2 * 365, 12 * 365, n) * rng.choice([-1, 1], n)
    elif label == "namesake":
        same_year = rng.random(n) < 0.5
        shift = np.where(same_year, _u(rng, 40, 300, n), _u(rng, 1 * 365, 6 * 365, n))
        f["dob"] = f["dob"] + shift * rng.choice([-1, 1], n)
        c = rng.integers(0, len(councils), n)
        f["council"] = c
        f["home"] = homes.extend(make_homes(rng, councils, c, np.zeros(n, int)))
        f["hh"] = -1 - np.arange(n)
    f["dob"] = np.clip(f["dob"], cycle - int(99 * YEAR), cycle - int(19 * YEAR))
    return pe.extend(People(**f))


def plant_decoys(
    rng,
    plan: Plan,
    d: int,
    pe: People,
    homes: Homes,
    councils,
    n_partners: int,
    used: np.ndarray,
    cycle: int,
    recs: Recs,
) -> list[tuple[int, int, str]]:
    """Hard negatives: (left record, right record, label), their records written.

    Another person meets the rule's dates as if it were one person; the same person misses
    them by a clear margin.
    """
    if plan.other and n_partners < 2:
        return []
    out = []
    labels = [*OTHERS, SAME[plan.time]]
    if plan.name in (
        "payroll_to_payroll",
        "housing_benefit_to_housing_benefit",
        "housing_tenants_to_housing_tenants",
    ):
        labels[-1] = "moved"
    shares = {**SHARES, labels[-1]: 0.2}
    for label in labels:
        k = max(1, round(shares[label] * d))
        a = _pick(rng, pe, used, *_ages(plan), k, cycle)
        if label in OTHERS:
            b = _relatives(rng, label, a, pe, homes, councils, cycle)
            if used.size < len(pe):
                used.resize(len(pe), refcheck=False)
            used[b] = True
        else:
            b = a
        meet = label in OTHERS
        l1, l2, r1, r2, death = _dates(rng, plan, len(a), cycle, meet)
        lp, lh, rp, rh = _place(rng, plan, a, pe, homes, councils, n_partners)
        if label in OTHERS and (not plan.other or plan.left == PY):
            rh = pe.home[b]
        if label == "namesake" and not plan.other:
            rp = pe.council[b]
        tag = f"decoy:{plan.name}:{label}"
        li = recs.add(a, lp, plan.left, l1, l2, lh, tag, True)
        if plan.right == DC:
            pe.death[b] = death
            ri = register_deaths(rng, pe, b, n_partners, recs, tag, True)
        else:
            ri = recs.add(b, rp, plan.right, r1, r2, rh, tag, True)
        out += [(int(x), int(y), label) for x, y in zip(li, ri, strict=True)]
    return out

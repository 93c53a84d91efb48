"""The planted scenarios: cases for each rule, and its hard negatives.

Planted one person at a time: cases for each rule, and hard negatives (relatives, twins,
spouses, namesakes, and the same person whose dates do not meet the rule). Every planted
date keeps at least `MARGIN` days from the boundary its rule tests.
"""

from __future__ import annotations

from fraudmatch.synth.third.cast import Cast
from fraudmatch.synth.third.habits import BB, CT, CTR, DC, HB, HT, PY, WL
from fraudmatch.synth.third.records import BADGE_YEARS, MARGIN, PASS_YEARS, Decoy


class Planter(Cast):
    """Plants cases and hard negatives for every rule."""

    def plant_all(self, n_case: int, n_decoy: int) -> None:
        self.payroll_to_claim("payroll_to_housing_benefit", HB, n_case, n_decoy)
        self.payroll_to_claim("council_tax_reduction_to_payroll", CTR, n_case, n_decoy)
        self.payroll_to_payroll(n_case, n_decoy)
        self.two_places("housing_benefit_to_housing_benefit", HB, n_case, n_decoy)
        self.two_places("housing_tenants_to_housing_tenants", HT, n_case, n_decoy)
        self.waiting_list(n_case, n_decoy)
        self.after_death("blue_badge_to_deceased", BB, n_case, n_decoy)
        self.after_death("concessionary_travel_to_deceased", CT, n_case, n_decoy)
        self.tenant_died(n_case, n_decoy)

    def _maiden_variant(self, x: int) -> bool:
        return bool(self.p.maiden[x]) and self.rng.random() < 0.5

    def _claim_home(self, x: int, c: int) -> int:
        return self.home(x) if c == self.cn(x) and self.rng.random() < 0.75 else self.spare(c)

    def payroll_to_claim(self, rule: str, claim: int, n_case: int, n_decoy: int) -> None:
        """A council employee also claiming (at their own council or another)."""
        p = self.p
        wives = (p.maiden != "") & (p.married_on > self.C - 3000)
        for i in range(n_case):
            x = self.draw(21, 64, (lambda j: wives[j]) if i % 8 == 0 else None)
            a = self.anchor(self.adult_day(x, 19))
            emp = self.cn(x) if self.rng.random() < 0.6 else self.other(self.cn(x))
            cc = self.cn(x) if self.rng.random() < 0.5 else self.other(self.cn(x))
            ps, pe = self.period(a, self.adult_day(x, 17), open_rate=0.85)
            cs, ce = self.period(a, self.adult_day(x, 18))
            maiden = self._maiden_variant(x)
            tag = f"planted: employee claiming {'at own' if cc == emp else 'at another'} council"
            if maiden:
                tag += "; maiden name on payroll"
            self.rec.add(x, PY, emp, self.home(x), ps, pe, tag=tag, force_maiden=maiden)
            self.rec.add(x, claim, cc, self._claim_home(x, cc), cs, ce, tag=tag)
        left_py = rule == "payroll_to_housing_benefit"
        for kind in ("relative", "twin", "spouse", "namesake"):
            for _ in range(n_decoy):
                if kind == "namesake":
                    x = self.draw(21, 64)
                    same = self.rng.random() < 0.5
                    y = self.namesake(x, same, 21, 64)
                else:
                    got = self.pair(kind, 21, 70, 21, 64)
                    if got is None:
                        continue
                    x, y = got
                    if self.age[x] > 66:
                        x, y = y, x  # the younger one is the employee
                    same = False
                a = self.anchor(max(self.adult_day(x, 19), self.adult_day(y, 19)))
                ps, pe = self.period(a, self.adult_day(x, 17), open_rate=0.85)
                cs, ce = self.period(a, self.adult_day(y, 18))
                emp = self.cn(x) if self.rng.random() < 0.7 else self.other(self.cn(x))
                cc = self.cn(y)
                guard = kind in ("twin",) or (kind == "namesake" and same)
                note = _decoy_note(kind, same)
                r_py = self.rec.add(
                    x, PY, emp, self.home(x), ps, pe, tag=note, guard=guard, force_ni=same
                )
                r_cl = self.rec.add(
                    y,
                    claim,
                    cc,
                    self._claim_home(y, cc),
                    cs,
                    ce,
                    tag=note,
                    guard=guard,
                    force_ni=same,
                )
                left, right = (r_py, r_cl) if left_py else (r_cl, r_py)
                self.decoys.append(Decoy(rule, left, right, kind, note))

    def payroll_to_payroll(self, n_case: int, n_decoy: int) -> None:
        """On two councils' payrolls: a second job, or (a few) one job after another."""
        rule = "payroll_to_payroll"
        for i in range(n_case):
            x = self.draw(21, 64)
            c1 = self.cn(x) if self.rng.random() < 0.7 else self.other(self.cn(x))
            c2 = self.other(c1)
            lo = self.adult_day(x, 17)
            moved = i % 7 == 3
            if moved:  # left one council, joined another: a move, not two jobs (a decoy)
                e1 = self.C - self.u(200, 1200)
                s1 = max(lo, e1 - self.u(300, 3000))
                s2 = e1 + self.u(MARGIN + 15, 150)
                (ps1, pe1), (ps2, pe2) = (s1, e1), (s2, -1)
                tag = "planted: left one council's payroll, later on another's"
            else:
                a = self.anchor(self.adult_day(x, 19))
                ps1, pe1 = self.period(a, lo, open_rate=0.9)
                ps2, pe2 = self.period(a, lo, open_rate=0.9)
                tag = "planted: on two councils' payrolls at once"
            old = self.spare(c1) if self.rng.random() < 0.3 else self.home(x)
            if old != self.home(x):
                tag += "; old address on one"
            r1 = self.rec.add(x, PY, c1, old, ps1, pe1, tag=tag)
            r2 = self.rec.add(x, PY, c2, self.home(x), ps2, pe2, tag=tag)
            if moved:
                self.decoys.append(Decoy(rule, r1, r2, "moved", tag))
        for kind in ("relative", "twin", "spouse", "namesake"):
            for _ in range(n_decoy):
                same = False
                if kind == "namesake":
                    x = self.draw(21, 64)
                    same = self.rng.random() < 0.5
                    y = self.namesake(x, same, 21, 64)
                else:
                    got = self.pair(kind, 21, 64, 21, 64, same_home=False)
                    if got is None:
                        continue
                    x, y = got
                cx = self.cn(x)
                cy = self.cn(y) if self.cn(y) != cx else self.other(cx)
                a = self.anchor(max(self.adult_day(x, 19), self.adult_day(y, 19)))
                s1, e1 = self.period(a, self.adult_day(x, 17), open_rate=0.9)
                s2, e2 = self.period(a, self.adult_day(y, 17), open_rate=0.9)
                guard = kind == "twin" or same
                note = _decoy_note(kind, same)
                r1 = self.rec.add(
                    x, PY, cx, self.home(x), s1, e1, tag=note, guard=guard, force_ni=same
                )
                r2 = self.rec.add(
                    y, PY, cy, self.home(y), s2, e2, tag=note, guard=guard, force_ni=same
                )
                self.decoys.append(Decoy(rule, r1, r2, kind, note))

    def two_places(self, rule: str, ds: int, n_case: int, n_decoy: int) -> None:
        """Claims (tenancies) at two councils at once; movers, relatives and others apart."""
        what = "claims" if ds == HB else "tenancies"
        for _ in range(n_case):
            x = self.draw(20, 85)
            c2 = self.other(self.cn(x))
            a = self.anchor(self.adult_day(x, 19))
            s1, e1 = self.period(a, self.adult_day(x, 18), open_rate=0.8)
            s2, e2 = self.period(a, self.adult_day(x, 18), open_rate=0.8)
            maiden = self._maiden_variant(x)
            tag = f"planted: {what} at two councils overlapping"
            if maiden:
                tag += "; maiden name on one"
            self.rec.add(x, ds, self.cn(x), self.home(x), s1, e1, tag=tag, force_maiden=maiden)
            self.rec.add(x, ds, c2, self.spare(c2), s2, e2, tag=tag)
        for kind in ("moved", "relative", "twin", "spouse", "namesake"):
            for _ in range(n_decoy):
                same = False
                if kind == "moved":
                    x = self.draw(22, 85)
                    c2 = self.other(self.cn(x))
                    e1 = self.C - self.u(500, 1400)
                    s1 = max(self.adult_day(x, 18), e1 - self.u(200, 4000))
                    s2 = e1 + self.u(MARGIN + 15, 400)
                    e2 = -1
                    note = f"same person moved council, {what} {s2 - e1} days apart"
                    r1 = self.rec.add(x, ds, self.cn(x), self.home(x), s1, e1, tag=note)
                    r2 = self.rec.add(x, ds, c2, self.spare(c2), s2, e2, tag=note)
                    self.decoys.append(Decoy(rule, r1, r2, kind, note))
                    continue
                if kind == "namesake":
                    x = self.draw(20, 85)
                    same = self.rng.random() < 0.5
                    y = self.namesake(x, same, 20, 85)
                else:
                    got = self.pair(kind, 21, 90, 21, 90, same_home=False)
                    if got is None:
                        continue
                    x, y = got
                cx = self.cn(x)
                cy = self.cn(y) if self.cn(y) != cx else self.other(cx)
                dy = (
                    self.home(y)
                    if self.cn(y) == cy and self.home(y) != self.home(x)
                    else (self.spare(cy))
                )
                a = self.anchor(max(self.adult_day(x, 19), self.adult_day(y, 19)))
                s1, e1 = self.period(a, self.adult_day(x, 18), open_rate=0.8)
                s2, e2 = self.period(a, self.adult_day(y, 18), open_rate=0.8)
                guard = kind == "twin" or same
                note = _decoy_note(kind, same)
                r1 = self.rec.add(
                    x, ds, cx, self.home(x), s1, e1, tag=note, guard=guard, force_ni=same
                )
                r2 = self.rec.add(y, ds, cy, dy, s2, e2, tag=note, guard=guard, force_ni=same)
                self.decoys.append(Decoy(rule, r1, r2, kind, note))

    def waiting_list(self, n_case: int, n_decoy: int) -> None:
        """A tenant applying for housing while the tenancy is open; and look-alikes."""
        rule = "housing_waiting_list_to_housing_tenants"
        for _ in range(n_case):
            x = self.draw(20, 80)
            app = self.anchor(self.adult_day(x, 19))
            s, e = self.period(app, self.adult_day(x, 18), open_rate=0.85)
            cw = self.cn(x) if self.rng.random() < 0.5 else self.other(self.cn(x))
            addr = self.home(x) if self.rng.random() < 0.5 else self.spare(cw)
            tag = "planted: tenant on a waiting list"
            tag += ", tenancy address" if addr == self.home(x) else ", another address"
            r_wl = self.rec.add(x, WL, cw, addr, app, -1, tag=tag)
            r_t = self.rec.add(x, HT, self.cn(x), self.home(x), s, e, tag=tag)
            del r_wl, r_t
        for kind in ("ended", "relative", "twin", "spouse", "namesake"):
            for _ in range(n_decoy):
                same = False
                if kind == "ended":
                    x = self.draw(22, 80)
                    app = self.C - self.u(90, 900)
                    e = app - self.u(MARGIN + 15, 700)
                    s = max(self.adult_day(x, 18), e - self.u(300, 4000))
                    note = f"same person, tenancy ended {app - e} days before applying"
                    cw = self.cn(x)
                    r_w = self.rec.add(x, WL, cw, self.spare(cw), app, -1, tag=note)
                    r_t = self.rec.add(x, HT, self.cn(x), self.home(x), s, e, tag=note)
                    self.decoys.append(Decoy(rule, r_w, r_t, kind, note))
                    continue
                if kind == "namesake":
                    x = self.draw(20, 80)
                    same = self.rng.random() < 0.5
                    y = self.namesake(x, same, 21, 80)
                else:
                    got = self.pair(kind, 21, 90, 21, 60, same_home=True)
                    if got is None:
                        continue
                    x, y = got  # x the tenant, y the applicant
                    if kind == "relative" and self.age[y] > self.age[x]:
                        x, y = y, x
                app = self.anchor(max(self.adult_day(x, 19), self.adult_day(y, 19)))
                s, e = self.period(app, self.adult_day(x, 18), open_rate=0.9)
                cw = self.cn(y)
                addr = self.home(y)
                guard = kind == "twin" or same
                note = _decoy_note(kind, same)
                if addr == self.home(x):
                    note += ", same address"
                r_w = self.rec.add(y, WL, cw, addr, app, -1, tag=note, guard=guard, force_ni=same)
                r_t = self.rec.add(
                    x, HT, self.cn(x), self.home(x), s, e, tag=note, guard=guard, force_ni=same
                )
                self.decoys.append(Decoy(rule, r_w, r_t, kind, note))

    def _death(self, x: int) -> tuple[int, int, int]:
        """x dies: day, the council that registers it, and the address on the register."""
        d = self.C - self.u(90, 700)
        self.p.died_on[x] = d
        reg = self.cn(x) if self.rng.random() < 0.8 else self.other(self.cn(x))
        if self.rng.random() < 0.75 and reg == self.cn(x):
            where = self.home(x)
        else:
            insts = self.dw.institutions[reg]
            where = int(insts[int(self.rng.integers(len(insts)))])
        return d, reg, where

    def after_death(self, rule: str, ds: int, n_case: int, n_decoy: int) -> None:
        """A badge or pass still valid after its holder's death; and look-alikes."""
        life = BADGE_YEARS if ds == BB else PASS_YEARS
        what = "badge" if ds == BB else "pass"
        lo = 55 if ds == BB else 67
        for _ in range(n_case):
            x = self.draw(lo, 99)
            d, reg, where = self._death(x)
            issue = d - self.u(MARGIN + 15, life - MARGIN - 60)
            tag = f"planted: {what} valid after death"
            if where != self.home(x):
                tag += ", death registered at an institution"
            self.rec.add(x, ds, self.cn(x), self.home(x), issue, issue + life, tag=tag)
            self.rec.add(x, DC, reg, where, d, -1, asof=d, tag=tag)
        for kind in ("expired", "spouse", "relative", "twin", "namesake"):
            for _ in range(n_decoy):
                same = False
                if kind == "expired":
                    x = self.draw(lo, 99)
                    d, reg, where = self._death(x)
                    expiry = d - self.u(MARGIN + 15, 700)
                    note = f"same person, {what} expired {d - expiry} days before death"
                    r1 = self.rec.add(
                        x, ds, self.cn(x), self.home(x), expiry - life, expiry, tag=note
                    )
                    r2 = self.rec.add(x, DC, reg, where, d, -1, tag=note)
                    self.decoys.append(Decoy(rule, r1, r2, kind, note))
                    continue
                if kind == "namesake":
                    x = self.draw(lo, 99)
                    y = self.namesake(x, False, 40, 99)
                elif kind == "relative":
                    got = self.natural("relative", 60, 99, 25, 99)
                    if got is None:
                        x = self.draw(62, 99)
                        y = self.junior_of(x, self.rng.random() < 0.5)
                    else:
                        x, y = got  # x the parent who dies, y the junior holding the badge
                elif kind == "twin":
                    x = self.draw(lo, 99)
                    y = self.twin_of(x, False)
                else:
                    got = self.natural("spouse", lo, 99, 40, 99)
                    if got is None:
                        continue
                    x, y = got
                d, reg, where = self._death(x)
                issue = d - self.u(MARGIN + 15, life - MARGIN - 60)
                guard = kind == "twin"
                note = _decoy_note(kind, same)
                if self.home(y) == self.home(x):
                    note += ", same address"
                r1 = self.rec.add(
                    y, ds, self.cn(y), self.home(y), issue, issue + life, tag=note, guard=guard
                )
                r2 = self.rec.add(x, DC, reg, where, d, -1, tag=note, guard=guard)
                self.decoys.append(Decoy(rule, r1, r2, kind, note))

    def tenant_died(self, n_case: int, n_decoy: int) -> None:
        """A tenancy still open at the cycle date whose tenant has died; and look-alikes."""
        rule = "housing_tenants_to_deceased"
        for _ in range(n_case):
            x = self.draw(40, 99)
            d, reg, where = self._death(x)
            s = max(self.adult_day(x, 18), d - self.u(365, 9000))
            e = -1 if self.rng.random() < 0.8 else self.C + self.u(MARGIN + 15, 300)
            tag = "planted: tenancy open after the tenant's death"
            if e > 0:
                tag += ", end date in the future"
            self.rec.add(x, HT, self.cn(x), self.home(x), s, e, tag=tag)
            self.rec.add(x, DC, reg, where, d, -1, tag=tag)
        for kind in ("ended", "spouse", "relative", "twin", "namesake"):
            for _ in range(n_decoy):
                same = False
                if kind == "ended":
                    x = self.draw(40, 99)
                    d, reg, where = self._death(x)
                    d = min(d, self.C - 2 * MARGIN - 60)
                    self.p.died_on[x] = d
                    e = d + self.u(7, 45)
                    s = max(self.adult_day(x, 18), d - self.u(365, 9000))
                    note = f"same person, tenancy ended {self.C - e} days before the cycle date"
                    r1 = self.rec.add(x, HT, self.cn(x), self.home(x), s, e, tag=note)
                    r2 = self.rec.add(x, DC, reg, where, d, -1, tag=note)
                    self.decoys.append(Decoy(rule, r1, r2, kind, note))
                    continue
                if kind == "namesake":
                    x = self.draw(45, 99)
                    same = self.rng.random() < 0.5
                    y = self.namesake(x, same, 25, 99)
                elif kind == "relative":
                    got = self.natural("relative", 50, 99, 25, 99)
                    if got is None:
                        x = self.draw(55, 99)
                        y = self.junior_of(x, True)
                    else:
                        x, y = got
                elif kind == "twin":
                    x = self.draw(45, 99)
                    y = self.twin_of(x, False)
                else:
                    got = self.natural("spouse", 45, 99, 30, 99)
                    if got is None:
                        continue
                    x, y = got
                d, reg, where = self._death(x)
                succeeded = kind in ("relative", "spouse") and self.home(y) == self.home(x)
                if succeeded and self.rng.random() < 0.6:
                    s = d + self.u(20, 60)  # the tenancy passed to the relative
                    if s > self.C - MARGIN:
                        s = d - self.u(400, 4000)
                else:
                    s = max(self.adult_day(y, 18), self.C - self.u(400, 9000))
                guard = kind == "twin" or same
                note = _decoy_note(kind, same)
                if self.home(y) == self.home(x):
                    note += ", same address"
                r1 = self.rec.add(
                    y, HT, self.cn(y), self.home(y), s, -1, tag=note, guard=guard, force_ni=same
                )
                r2 = self.rec.add(x, DC, reg, where, d, -1, tag=note, guard=guard, force_ni=same)
                self.decoys.append(Decoy(rule, r1, r2, kind, note))
                if succeeded and self.rng.random() < 0.5:  # the dead one's own ended row
                    e = d + self.u(7, 28)
                    s0 = max(self.adult_day(x, 18), d - self.u(400, 6000))
                    self.rec.add(x, HT, self.cn(x), self.home(x), s0, e, tag="ended tenancy")


def _decoy_note(kind: str, same_dob: bool) -> str:
    return {
        "relative": "named after parent, 20-40 years apart",
        "twin": "twin: same birthday and surname, other forename",
        "spouse": "spouse: shares a home (and usually the surname)",
        "namesake": "unrelated namesake" + (", same date of birth" if same_dob else ""),
    }[kind]

"""Who plays each part in a planted scenario: people drawn by age, and their look-alikes.

A cast remembers who is taken, so nobody plays two parts. Look-alikes come from the
households where they can (couples, a parent and the junior named after them, twins), and
are made where they cannot: a junior or twin moved in, an unrelated namesake elsewhere.
"""

from __future__ import annotations

import numpy as np

from fraudmatch.synth.third.names import NamePools
from fraudmatch.synth.third.people import SINGLE, YEAR, People
from fraudmatch.synth.third.places import Dwellings
from fraudmatch.synth.third.records import MARGIN, Decoy, Records


class Cast:
    """People for the parts, and the records and decoys planted with them."""

    def __init__(
        self,
        rng: np.random.Generator,
        people: People,
        dw: Dwellings,
        pools: NamePools,
        cursors: list[int],
        partners: int,
        cycle: int,
    ) -> None:
        self.rng, self.p, self.dw, self.pools = rng, people, dw, pools
        self.cursors, self.k, self.C = cursors, partners, cycle
        self.used = np.zeros(people.n, dtype=bool)
        self.rec = Records()
        self.decoys: list[Decoy] = []
        p = people
        self.age = (cycle - p.dob) / YEAR
        self.council = dw.council[p.dwelling]
        self.ok = (p.moved_on < 0) & (p.ni != "")
        self.pool_all = np.flatnonzero(self.ok)
        self.pool_single = np.flatnonzero(self.ok & (p.hh_type == SINGLE))
        self.pairs = {kind: self._pairs(kind) for kind in ("spouse", "relative", "twin")}

    # ---------------------------------------------------------------- helpers

    def u(self, lo: float, hi: float) -> int:
        return int(self.rng.integers(int(lo), int(hi) + 1))

    def spare(self, c: int) -> int:
        """A home nobody lives in yet, in council c (a second home, a new flat)."""
        d = int(self.dw.homes[c][self.cursors[c]])
        self.cursors[c] += 1
        return d

    def other(self, c: int) -> int:
        o = int(self.rng.integers(self.k - 1))
        return o if o < c else o + 1

    def fits(self, i: int, lo: float, hi: float) -> bool:
        """Unused, living, settled (not a mover), with an NI number, aged lo..hi."""
        return bool(
            self.ok[i] and not self.used[i] and self.p.died_on[i] < 0 and lo <= self.age[i] <= hi
        )

    def draw(self, lo: float, hi: float, pred=None, pool: np.ndarray | None = None) -> int:
        """One person who fits (and meets pred), marked used; sampled by rejection."""
        pool = self.pool_all if pool is None else pool
        for _ in range(4000):
            i = int(pool[int(self.rng.integers(len(pool)))])
            if self.fits(i, lo, hi) and (pred is None or pred(i)):
                self.used[i] = True
                return i
        for i in self.rng.permutation(pool):  # rare: scan everyone left
            i = int(i)
            if self.fits(i, lo, hi) and (pred is None or pred(i)):
                self.used[i] = True
                return i
        raise RuntimeError(f"nobody left aged {lo}-{hi} for this part")

    def home(self, pid: int) -> int:
        return int(self.p.dwelling[pid])

    def cn(self, pid: int) -> int:
        return int(self.council[pid])

    def adult_day(self, pid: int, years: float = 18.0) -> int:
        return int(self.p.dob[pid] + years * YEAR)

    def period(self, a: int, lo: int, open_rate: float = 0.75) -> tuple[int, int]:
        """A spell that contains [a - MARGIN, a + MARGIN] and starts on or after lo."""
        s = max(a - self.u(MARGIN + 15, 2500), lo)
        s = min(s, a - MARGIN - 15)
        if self.rng.random() < open_rate:
            return s, -1
        e = a + self.u(MARGIN + 15, 1500)
        return (s, -1) if e > self.C - MARGIN else (s, e)

    def anchor(self, lo: int) -> int:
        """A day around which two spells overlap: recent, after lo."""
        hi = self.C - 2 * MARGIN - 30
        return self.u(min(max(lo + 2 * MARGIN + 30, self.C - 1600), hi), hi)

    # ---------------------------------------------------------------- relatives

    def _rewrite(
        self,
        y: int,
        x: int,
        *,
        dob: int | None = None,
        first: str | None = None,
        middle: str | None = None,
    ) -> None:
        p = self.p
        p.first[y] = p.first[x] if first is None else first
        p.surname[y] = p.surname[x]
        p.maiden[y] = ""
        p.married_on[y] = -1
        p.known_by_middle[y] = False
        if middle is not None:
            p.middle[y] = middle
        if dob is not None:
            p.dob[y] = dob
            self.age[y] = (self.C - dob) / YEAR

    def namesake(self, x: int, same_dob: bool, lo: float, hi: float) -> int:
        """An unrelated person elsewhere given x's forename and surname (and maybe birthday)."""
        p = self.p
        sx, cx = p.sex[x], self.council[x]
        try:
            y = self.draw(
                lo, hi, lambda i: p.sex[i] == sx and self.council[i] != cx, self.pool_single
            )
        except RuntimeError:
            y = self.draw(lo, hi, lambda i: p.sex[i] == sx, self.pool_single)
        mid = (
            ""
            if self.rng.random() < 0.5
            else str(self.pools.first["GB", int(p.sex[y]), 1].draw(self.rng, 1)[0])
        )
        if mid == p.middle[x]:
            mid = ""
        dob = int(p.dob[x]) if same_dob else None
        if not same_dob and abs(int(p.dob[y]) - int(p.dob[x])) < 400:
            dob = int(p.dob[x]) + (1 if self.rng.random() < 0.5 else -1) * self.u(400, 2500)
            if (self.C - dob) / YEAR < lo:
                dob = int(p.dob[x]) + self.u(400, 2500)
        self._rewrite(y, x, dob=dob, middle=mid)
        return y

    def junior_of(self, x: int, same_home: bool) -> int:
        """A son (daughter) named exactly after x, 20-38 years younger (x must be 41+)."""
        p = self.p
        lo, hi = max(21.0, self.age[x] - 38), self.age[x] - 20
        sx = p.sex[x]
        y = self.draw(lo, hi, lambda i: p.sex[i] == sx, self.pool_single)
        self._rewrite(y, x, middle=p.middle[x] if self.rng.random() < 0.6 else "")
        if same_home:
            p.dwelling[y] = p.dwelling[x]
            self.council[y] = self.council[x]
        return y

    def twin_of(self, x: int, same_home: bool) -> int:
        """A twin for x: same birthday and surname, another forename (often same initial)."""
        p = self.p
        y = self.draw(max(20.5, self.age[x] - 8), self.age[x] + 8, pool=self.pool_single)
        sex = int(p.sex[y])
        cands = self.pools.by_initial.get((sex, str(p.first[x])[0]))
        name = None
        if cands is not None and self.rng.random() < 0.55:
            name = str(cands[int(self.rng.integers(len(cands)))])
        if not name or name == p.first[x]:
            name = str(self.pools.first["GB", sex, 1].draw(self.rng, 1)[0])
        if name == p.first[x]:
            name = "Nia" if sex else "Owen"
        self._rewrite(y, x, dob=int(p.dob[x]), first=name, middle="")
        if same_home:
            p.dwelling[y] = p.dwelling[x]
            self.council[y] = self.council[x]
        return y

    def _pairs(self, kind: str) -> tuple[np.ndarray, np.ndarray]:
        """Household pairs of a kind: couples, (parent, junior) a generation apart, twins."""
        p = self.p
        if kind == "spouse":
            a = np.flatnonzero((p.role == 1) & (p.spouse >= 0))
            b = p.spouse[a]
        elif kind == "relative":
            b = np.flatnonzero(p.junior)
            a = np.where(p.sex[b] == 0, p.father[b], p.mother[b])
        else:
            a = np.flatnonzero((p.twin >= 0) & (np.arange(p.n) < p.twin))
            b = p.twin[a]
        ok = (a >= 0) & (b >= 0)
        a, b = a[ok], b[ok]
        if kind == "relative":
            gen = self.age[a] - self.age[b] >= 20
            a, b = a[gen], b[gen]
        return a, b

    def natural(self, kind: str, lo_a: float, hi_a: float, lo_b: float, hi_b: float):
        """An unused pair from the households (couple, junior, twin), ages within bounds."""
        a, b = self.pairs[kind]
        if len(a) == 0:
            return None
        found = None
        for _ in range(3000):
            j = int(self.rng.integers(len(a)))
            if self.fits(int(a[j]), lo_a, hi_a) and self.fits(int(b[j]), lo_b, hi_b):
                found = j
                break
        if found is None:  # rare: look at every pair left
            free = self.ok & ~self.used & (self.p.died_on < 0)
            fit = free[a] & free[b] & (self.age[a] >= lo_a) & (self.age[a] <= hi_a)
            fit &= (self.age[b] >= lo_b) & (self.age[b] <= hi_b)
            idx = np.flatnonzero(fit)
            if len(idx) == 0:
                return None
            found = int(self.rng.choice(idx))
        x, y = int(a[found]), int(b[found])
        self.used[x] = self.used[y] = True
        if self.rng.random() < 0.5 and kind != "relative":
            return y, x
        return x, y

    def pair(self, kind: str, lo: float, hi: float, lo_b: float, hi_b: float, same_home=True):
        """(x, y): a natural pair if one fits, else a constructed one around a picked x."""
        got = self.natural(kind, lo, hi, lo_b, hi_b)
        if got is not None:
            return got
        x = self.draw(max(lo, 45), max(hi, 60)) if kind == "relative" else self.draw(lo, hi)
        if kind == "relative":
            return x, self.junior_of(x, same_home)
        if kind == "twin":
            return x, self.twin_of(x, same_home)
        return None

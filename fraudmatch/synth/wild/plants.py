"""Planted true cases and labelled hard negatives for every shipped 'same person' rule and SPD.

A plant makes new people at empty homes, so it never disturbs the background population.
Cases take the hard shapes councils' data has: two homes at two councils (always two
addresses) with the NI number missing on one side; a death registered with no postcode.
Hard negatives are the people rules must never join: a son named after his father at the
same address (the father dead, the son holding the badge), twins, namesakes at another
council, spouses, and the same person whose two spells never overlapped (moved).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from fraudmatch.synth.wild.people import NO_DAY, Names, text, years_between


@dataclass(frozen=True)
class PersonRule:
    name: str
    left: str
    right: str
    scope: str  # any | other (the two records at two councils)
    time: str  # none | overlap | expiry_after_death | open_at_cycle | open_at_application


PERSON_RULES = (
    PersonRule("payroll_to_housing_benefit", "payroll", "housing_benefit", "any", "overlap"),
    PersonRule("payroll_to_payroll", "payroll", "payroll", "other", "none"),
    PersonRule("blue_badge_to_deceased", "blue_badge", "deceased", "any", "expiry_after_death"),
    PersonRule(
        "concessionary_travel_to_deceased",
        "concessionary_travel",
        "deceased",
        "any",
        "expiry_after_death",
    ),
    PersonRule(
        "housing_tenants_to_housing_tenants",
        "housing_tenants",
        "housing_tenants",
        "other",
        "overlap",
    ),
    PersonRule(
        "housing_tenants_to_deceased", "housing_tenants", "deceased", "any", "open_at_cycle"
    ),
    PersonRule(
        "housing_benefit_to_housing_benefit",
        "housing_benefit",
        "housing_benefit",
        "other",
        "overlap",
    ),
    PersonRule(
        "housing_waiting_list_to_housing_tenants",
        "housing_waiting_list",
        "housing_tenants",
        "any",
        "open_at_application",
    ),
    PersonRule(
        "council_tax_reduction_to_payroll", "council_tax_reduction", "payroll", "any", "overlap"
    ),
)

#: Datasets whose address is the home the service is for (so it lies in that council).
HOME_BOUND = {
    "housing_benefit",
    "council_tax_reduction",
    "housing_tenants",
    "blue_badge",
    "concessionary_travel",
    "council_tax_spd",
    "electoral_register",
}

HARD_NEGATIVES = ("relative", "twin", "namesake", "spouse", "moved")


@dataclass
class World:
    """What the plants add to: people, addresses, records, the decoy pairs, fresh ids."""

    rng: np.random.Generator
    names: Names
    cycle: int
    n_councils: int
    people: pl.DataFrame
    addresses: pl.DataFrame
    recs: dict[str, pl.DataFrame]
    free: list[np.ndarray]  # per council: empty homes not yet used, in random order
    decoys: list[pl.DataFrame] = field(default_factory=list)

    def take_homes(self, council: np.ndarray) -> np.ndarray:
        out = np.empty(len(council), dtype=np.int64)
        for c in range(self.n_councils):
            m = council == c
            k = int(m.sum())
            if k > len(self.free[c]):
                raise ValueError("not enough empty homes to plant in; use more people")
            out[m], self.free[c] = self.free[c][:k], self.free[c][k:]
        return out

    def add_people(self, cols: dict[str, object]) -> np.ndarray:
        n = len(cols["dob"])  # type: ignore[arg-type]
        start = int(self.people["person_id"].max()) + 1
        ids = np.arange(start, start + n, dtype=np.int64)
        frame = pl.DataFrame(
            {
                "person_id": ids,
                "household_id": -ids,
                "council": pl.Series(cols["council"], dtype=pl.Int32),
                "address_id": cols["address_id"],
                "role": pl.Series(["planted"] * n, dtype=pl.String),
                "female": cols["female"],
                "first": text(cols["first"]),  # type: ignore[arg-type]
                "middle": text(cols["middle"]),  # type: ignore[arg-type]
                "surname": text(cols["surname"]),  # type: ignore[arg-type]
                "maiden": pl.Series([None] * n, dtype=pl.String),
                "dob": cols["dob"],
                "dod": cols["dod"],
            }
        ).with_columns(
            age=pl.Series(years_between(np.asarray(cols["dob"]), self.cycle), dtype=pl.Int32)
        )
        self.people = pl.concat([self.people, frame], how="vertical_relaxed")
        return ids

    def add(self, dataset: str, frame: pl.DataFrame) -> np.ndarray:
        """Append records; returns their row numbers in the dataset."""
        old = self.recs[dataset]
        self.recs[dataset] = pl.concat([old, frame], how="diagonal_relaxed")
        return np.arange(old.height, old.height + frame.height, dtype=np.int64)


def _other(rng: np.random.Generator, council: np.ndarray, n_c: int) -> np.ndarray:
    return (council + rng.integers(1, max(2, n_c), len(council))) % max(1, n_c)


def _spells(rng: np.random.Generator, rule: PersonRule, ok: np.ndarray, dod: np.ndarray, c: int):
    """Left and right dates meeting the rule's time condition (or not, where ~ok)."""
    n = len(ok)
    if rule.time in ("overlap", "none"):
        ls = c - rng.integers(300, 2500, n)
        rs = c - rng.integers(100, 2000, n)
        le = np.where(ok, NO_DAY, c - rng.integers(1500, 2400, n))
        ls = np.where(ok, ls, le - rng.integers(200, 1500, n))
        rs = np.where(ok, rs, c - rng.integers(60, 1200, n))
        return {"start": ls, "end": le}, {"start": rs, "end": np.full(n, NO_DAY)}
    if rule.time == "expiry_after_death":
        life = 1095 if rule.left == "blue_badge" else 1826
        issue = np.where(
            ok, dod - rng.integers(30, life - 30, n), dod - life - rng.integers(30, 400, n)
        )
        return {"issue": issue, "expiry": issue + life}, {}
    if rule.time == "open_at_cycle":
        start = dod - rng.integers(400, 6000, n)
        end = np.where(ok, NO_DAY, np.minimum(dod + rng.integers(10, 90, n), c - 1))
        return {"start": start, "end": end}, {}
    # open_at_application: the tenancy (right) was open on the application date (left)
    app = c - rng.integers(10, 700, n)
    rs = app - rng.integers(300, 4000, n)
    re = np.where(ok, NO_DAY, app - rng.integers(20, 250, n))
    return {"application": app}, {"start": rs, "end": re}


def _dated(dataset: str, d: dict[str, np.ndarray], rng: np.random.Generator, n: int) -> dict:
    """The dataset's own date columns (and the attributes its file needs) from a spell."""
    from fraudmatch.synth.wild.services import JOBS, SPELLS

    if dataset in SPELLS:
        s, e = SPELLS[dataset]
        out: dict[str, object] = {s: d["start"], e: d["end"]}
        if dataset == "payroll":
            out |= {
                "sort_code": np.char.zfill(rng.integers(1_000, 999_999, n).astype(str), 6).astype(
                    object
                ),
                "account_number": (30_000_000 + rng.choice(9_000_000, n, replace=False))
                .astype(str)
                .astype(object),
                "job_title": np.array(JOBS, dtype=object)[rng.integers(0, len(JOBS), n)],
            }
        return out
    if dataset in ("blue_badge", "concessionary_travel"):
        pre = "BB" if dataset == "blue_badge" else "CP"
        num = np.char.add(pre, rng.integers(1_000_000, 9_999_999, n).astype(str)).astype(object)
        key = "badge_number" if dataset == "blue_badge" else "pass_number"
        return {"issue_date": d["issue"], "expiry_date": d["expiry"], key: num}
    if dataset == "housing_waiting_list":
        return {"application_date": d["application"]}
    return {}


def _another_name(
    w: World, rng: np.random.Generator, female: np.ndarray, first: np.ndarray, middle: np.ndarray
) -> np.ndarray:
    """A forename that is neither `first` nor `middle` (a twin or spouse has a name of their
    own, never the other's middle name)."""
    out = w.names.forenames(rng, female)
    for _ in range(50):
        same = (out == first) | (out == middle)
        if not same.any():
            break
        out[same] = w.names.forenames(rng, female[same])
    return out


def plant_person_rule(w: World, rule: PersonRule, n_cases: int, n_neg: int) -> None:
    """Cases and every hard negative of one rule; decoy pairs are recorded in the world."""
    rng = w.rng
    kinds = ["case"] * n_cases + [h for h in HARD_NEGATIVES for _ in range(n_neg)]
    if rule.time == "none":
        kinds = [k for k in kinds if k != "moved"]
    kind = np.array(kinds)
    n = len(kind)
    deceased = rule.right == "deceased"
    # the anchor: a new person at an empty home (dead, for the deceased rules)
    home_c = rng.integers(0, w.n_councils, n)
    female = rng.random(n) < 0.5
    age = rng.uniform(68, 96, n) if deceased else rng.uniform(30, 62, n)
    dob = w.cycle - (age * 365.25).astype(np.int64)
    dod = np.where(deceased, w.cycle - rng.integers(20, 500, n), NO_DAY)
    first = w.names.forenames(rng, female)
    middle = np.where(rng.random(n) < 0.6, w.names.forenames(rng, female), None)
    surname = w.names.surname(rng, n)
    # a namesake with the same birth date has a common name (see Names.common)
    common_first, common_surname = w.names.common(rng, female)
    first = np.where(kind == "namesake", common_first, first)
    surname = np.where(kind == "namesake", common_surname, surname)
    middle = np.where((middle != None) & (middle == first), None, middle)  # noqa: E711
    home = w.take_homes(home_c)
    a_ids = w.add_people(
        {
            "council": home_c,
            "address_id": home,
            "female": female,
            "first": first,
            "middle": middle,
            "surname": surname,
            "dob": dob,
            "dod": dod,
        }
    )

    # the other person of a hard negative (a case and 'moved' are the anchor themself)
    other_c = _other(rng, home_c, w.n_councils)
    elsewhere = (kind == "namesake") | ((rule.scope == "other") & (kind != "case"))
    b_c = np.where(elsewhere, other_c, home_c)
    b_home = np.where(elsewhere, w.take_homes(other_c), home)
    gen = rng.integers(22 * 365, 38 * 365, n)
    b_dob = np.select(
        [kind == "relative", kind == "spouse"],
        # the parent died: the living relative is the child; otherwise the relative is the parent
        [dob + gen if deceased else dob - gen, dob + rng.integers(-6 * 365, 6 * 365, n)],
        dob,
    )
    b_female = np.where(kind == "spouse", ~female, female)
    draw2 = _another_name(w, rng, b_female, first, first)
    new_name = _another_name(w, rng, b_female, first, middle)
    b_first = np.where(np.isin(kind, ["twin", "spouse"]), new_name, first)
    b_middle = np.where(kind == "namesake", np.where(rng.random(n) < 0.5, draw2, None), middle)
    b_middle = np.where(np.isin(kind, ["twin", "spouse"]), None, b_middle)
    other_person = ~np.isin(kind, ["case", "moved"])
    b_ids = np.full(n, -1, dtype=np.int64)
    if other_person.any():
        m = other_person
        b_ids[m] = w.add_people(
            {
                "council": b_c[m],
                "address_id": b_home[m],
                "female": b_female[m],
                "first": b_first[m],
                "middle": b_middle[m],
                "surname": surname[m],
                "dob": b_dob[m],
                "dod": np.full(int(m.sum()), NO_DAY),
            }
        )
    b = np.where(other_person, b_ids, a_ids)

    # who holds which record, at which council and address
    if deceased:
        left_p, right_p = b, a_ids
        left_c, left_a = b_c, b_home
        right_c, right_a = home_c, home
    else:
        left_p, right_p = a_ids, b
        left_c = home_c if rule.left in HOME_BOUND else rng.integers(0, w.n_councils, n)
        left_a = home
        if rule.scope == "other":
            right_c = np.where(kind == "case", other_c, b_c)
            right_c = np.where(right_c == left_c, _other(rng, left_c, w.n_councils), right_c)
        else:
            right_c = np.where(rng.random(n) < 0.5, home_c, other_c)
            right_c = np.where(elsewhere, b_c, right_c)
        right_a = np.where(kind == "case", home, b_home)
        # two homes at two councils: the fraud's own signature, always two addresses
        away = (right_c != home_c) & (rule.right in HOME_BOUND)
        need = away & ((kind == "case") | (kind == "moved"))
        if need.any():
            right_a[need] = w.take_homes(right_c[need])
    ok = kind != "moved"
    ld, rd = _spells(rng, rule, ok, dod, w.cycle)
    force_left = np.full(n, None, dtype=object)
    force_right = np.full(n, None, dtype=object)
    hard = (kind == "case") & (rng.random(n) < 0.5)
    if rule.name in ("housing_benefit_to_housing_benefit", "housing_tenants_to_housing_tenants"):
        force_right = np.where(hard, "ni_number", None).astype(object)
    if deceased:
        force_right = np.where(hard, "postcode", None).astype(object)
    if rule.left == "housing_waiting_list":
        force_left = np.where(hard, "postcode", None).astype(object)
    from fraudmatch.synth.wild.services import rows

    lrows = w.add(
        rule.left,
        rows(left_c, left_p, left_a, blank=text(force_left), **_dated(rule.left, ld, rng, n)),
    )
    if deceased:
        rrows = w.add(
            "deceased", rows(right_c, right_p, right_a, date_of_death=dod, blank=text(force_right))
        )
    else:
        rrows = w.add(
            rule.right,
            rows(
                right_c, right_p, right_a, blank=text(force_right), **_dated(rule.right, rd, rng, n)
            ),
        )
    neg = kind != "case"
    w.decoys.append(
        pl.DataFrame(
            {
                "rule": rule.name,
                "left_dataset": rule.left,
                "left_row": lrows[neg],
                "right_dataset": rule.right,
                "right_row": rrows[neg],
                "label": kind[neg].tolist(),
            }
        )
    )


def plant_spd(w: World, n_cases: int, n_neg: int) -> None:
    """A discount holder with another adult registered at the home; and the look-alikes.

    Hard negatives: the other resident is a student with a disregard in force, a 17-year-old
    (date of birth shown on the register), or the holder's own register entry.
    """
    from fraudmatch.synth.wild.services import rows

    rng = w.rng
    kind = np.array(
        ["case"] * n_cases + [k for k in ("disregarded", "minor", "holder") for _ in range(n_neg)]
    )
    n = len(kind)
    c = rng.integers(0, w.n_councils, n)
    home = w.take_homes(c)
    female = rng.random(n) < 0.5
    dob = w.cycle - rng.integers(25 * 365, 80 * 365, n)
    surname = w.names.surname(rng, n)
    holder = w.add_people(
        {
            "council": c,
            "address_id": home,
            "female": female,
            "first": w.names.forenames(rng, female),
            "middle": np.full(n, None),
            "surname": surname,
            "dob": dob,
            "dod": np.full(n, NO_DAY),
        }
    )
    of = rng.random(n) < 0.5
    o_dob = np.select(
        [kind == "disregarded", kind == "minor"],
        [
            w.cycle - rng.integers(18 * 365 + 30, 21 * 365, n),
            w.cycle - rng.integers(17 * 365 + 10, 18 * 365 - 10, n),
        ],
        w.cycle - rng.integers(19 * 365, 70 * 365, n),
    )
    o_surname = np.where(rng.random(n) < 0.6, surname, w.names.surname(rng, n))
    other = w.add_people(
        {
            "council": c,
            "address_id": home,
            "female": of,
            "first": w.names.forenames(rng, of),
            "middle": np.full(n, None),
            "surname": o_surname,
            "dob": o_dob,
            "dod": np.full(n, NO_DAY),
        }
    )
    spd_rows = w.add(
        "council_tax_spd",
        rows(c, holder, home, discount_start_date=w.cycle - rng.integers(60, 3000, n)),
    )
    w.add("electoral_register", rows(c, holder, home, date_of_birth=np.full(n, NO_DAY)))
    holder_rows = np.arange(
        w.recs["electoral_register"].height - n, w.recs["electoral_register"].height
    )
    shown = np.where(kind == "minor", o_dob, NO_DAY)
    other_rows = w.add("electoral_register", rows(c, other, home, date_of_birth=shown))
    dis = kind == "disregarded"
    k = int(dis.sum())
    w.add(
        "council_tax_disregards",
        rows(
            c[dis],
            other[dis],
            home[dis],
            start_date=w.cycle - rng.integers(30, 900, k),
            end_date=np.full(k, NO_DAY),
            disregard_reason=np.full(k, "student", dtype=object),
            date_of_birth=o_dob[dis],
        ),
    )
    neg = kind != "case"
    w.decoys.append(
        pl.DataFrame(
            {
                "rule": "council_tax_spd_to_electoral_register",
                "left_dataset": "council_tax_spd",
                "left_row": spd_rows[neg],
                "right_dataset": "electoral_register",
                "right_row": np.where(kind == "holder", holder_rows, other_rows)[neg],
                "label": kind[neg].tolist(),
            }
        )
    )

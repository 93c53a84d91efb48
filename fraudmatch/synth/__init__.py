"""Synthetic councils: a population, each council's 13 extracts, planted fraud and its truth.

Why: the engine can only be tested, tuned and demonstrated on data whose answers are known.
Real extracts cannot leave a council, so this module invents a population in households,
draws each council's datasets from its own residents at realistic rates, plants fraud cases
and near-miss decoys for every rule, then writes the files the way councils really export
them (encodings, header styles, date formats, typos) while keeping the un-noised truth aside.

Everything is vectorised with numpy and polars: loops run over datasets, partners and case
kinds, never over people or records. One seed gives byte-identical output.
"""

from __future__ import annotations

import io
import json
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np
import polars as pl
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

# --------------------------------------------------------------------------------------
# Fixed vocabulary: partners, datasets, rules
# --------------------------------------------------------------------------------------

#: (council id, postcode area, display name). Area letters respect the real postcode rules
#: (1st letter not Q, V, X; 2nd not I, J, Z) and are not real UK areas.
PARTNERS: tuple[tuple[str, str, str], ...] = (
    ("northmoor", "NM", "Northmoor"),
    ("eastvale", "EV", "Eastvale"),
    ("southwold_bay", "SB", "Southwold Bay"),
    ("westmere", "WM", "Westmere"),
    ("ravensford", "RF", "Ravensford"),
    ("kelderbrook", "KB", "Kelderbrook"),
    ("ashcombe", "AC", "Ashcombe"),
    ("highcliffe_moor", "HM", "Highcliffe Moor"),
    ("lindenfield", "LF", "Lindenfield"),
    ("thornbury_marsh", "TH", "Thornbury Marsh"),
)

#: Postcode inward letters: never C, I, K, M, O, V.
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"


@dataclass(frozen=True)
class DatasetSpec:
    """Column order and required columns of one dataset, mirroring config/datasets.yaml."""

    code: str
    columns: tuple[str, ...]
    required: frozenset[str]

    @property
    def date_columns(self) -> tuple[str, ...]:
        return tuple(c for c in self.columns if c.endswith("_date") or c.startswith("date_of_"))


def _spec(code: str, columns: str) -> DatasetSpec:
    names = columns.split()
    return DatasetSpec(
        code,
        tuple(c.rstrip("*") for c in names),
        frozenset(c.rstrip("*") for c in names if c.endswith("*")),
    )


_CLAIM = (
    "record_id* surname* forenames* date_of_birth* ni_number address* postcode* uprn "
    "claim_start_date claim_end_date"
)

DATASETS: dict[str, DatasetSpec] = {
    "payroll": _spec(
        "PY",
        "record_id* surname* forenames* date_of_birth* ni_number address postcode sort_code "
        "account_number job_title start_date end_date",
    ),
    "housing_benefit": _spec("HB", _CLAIM),
    "council_tax_reduction": _spec("CT", _CLAIM),
    "council_tax_spd": _spec(
        "SP", "record_id* surname* forenames* address* postcode* uprn discount_start_date"
    ),
    "council_tax_disregards": _spec(
        "DR",
        "record_id* surname* forenames* address* postcode* uprn date_of_birth disregard_reason* "
        "start_date end_date",
    ),
    "electoral_register": _spec(
        "ER", "record_id* surname* forenames* address* postcode* uprn date_of_birth"
    ),
    "blue_badge": _spec(
        "BB",
        "record_id* surname* forenames* date_of_birth* address postcode badge_number issue_date "
        "expiry_date*",
    ),
    "concessionary_travel": _spec(
        "CC",
        "record_id* surname* forenames* date_of_birth* address postcode pass_number issue_date "
        "expiry_date*",
    ),
    "deceased": _spec(
        "DC",
        "record_id* surname* forenames* date_of_birth* date_of_death* address postcode ni_number",
    ),
    "housing_tenants": _spec(
        "HT",
        "record_id* surname* forenames* date_of_birth* ni_number address* postcode* uprn "
        "tenancy_start_date tenancy_end_date",
    ),
    "housing_waiting_list": _spec(
        "WL",
        "record_id* surname* forenames* date_of_birth* ni_number address postcode application_date",
    ),
    "creditors": _spec(
        "SU",
        "record_id* supplier_name* address postcode sort_code account_number company_number "
        "vat_number",
    ),
    "creditor_payments": _spec(
        "IN",
        "record_id* supplier_id* supplier_name invoice_number invoice_date* amount* payment_date",
    ),
}

RULES: tuple[str, ...] = (
    "payroll_to_housing_benefit",
    "payroll_to_payroll",
    "payroll_to_creditors",
    "blue_badge_to_deceased",
    "concessionary_travel_to_deceased",
    "housing_tenants_to_housing_tenants",
    "housing_tenants_to_deceased",
    "council_tax_spd_to_electoral_register",
    "housing_benefit_to_housing_benefit",
    "creditor_duplicate_payments",
    "housing_waiting_list_to_housing_tenants",
    "council_tax_reduction_to_payroll",
)


@dataclass(frozen=True)
class _IdRule:
    """A 'same person' rule: two datasets, a partner scope and a time condition."""

    name: str
    left: str
    right: str
    scope: str  # "any" partners, or "other" (the two records at different partners)
    time: str  # none | overlap | expiry_after_death | open_at_cycle | open_at_application


ID_RULES: tuple[_IdRule, ...] = (
    _IdRule("payroll_to_housing_benefit", "payroll", "housing_benefit", "any", "overlap"),
    _IdRule("payroll_to_payroll", "payroll", "payroll", "other", "none"),
    _IdRule("blue_badge_to_deceased", "blue_badge", "deceased", "any", "expiry_after_death"),
    _IdRule(
        "concessionary_travel_to_deceased",
        "concessionary_travel",
        "deceased",
        "any",
        "expiry_after_death",
    ),
    _IdRule(
        "housing_tenants_to_housing_tenants",
        "housing_tenants",
        "housing_tenants",
        "other",
        "overlap",
    ),
    _IdRule("housing_tenants_to_deceased", "housing_tenants", "deceased", "any", "open_at_cycle"),
    _IdRule(
        "housing_benefit_to_housing_benefit",
        "housing_benefit",
        "housing_benefit",
        "other",
        "overlap",
    ),
    _IdRule(
        "housing_waiting_list_to_housing_tenants",
        "housing_waiting_list",
        "housing_tenants",
        "any",
        "open_at_application",
    ),
    _IdRule(
        "council_tax_reduction_to_payroll", "council_tax_reduction", "payroll", "any", "overlap"
    ),
)

#: The period (start, end) columns of datasets whose records are spells of time.
PERIODS: dict[str, tuple[str, str]] = {
    "payroll": ("start_date", "end_date"),
    "housing_benefit": ("claim_start_date", "claim_end_date"),
    "council_tax_reduction": ("claim_start_date", "claim_end_date"),
    "housing_tenants": ("tenancy_start_date", "tenancy_end_date"),
}

#: Datasets whose address is the property the service is for: a record at a council other
#: than the person's home council shows an address in that council's area.
ADDRESS_BOUND = frozenset(
    {
        "housing_benefit",
        "council_tax_reduction",
        "housing_tenants",
        "blue_badge",
        "concessionary_travel",
    }
)

#: The one file carrying an undocumented extra column (partner index, dataset, column).
EXTRA_COLUMN = (0, "housing_benefit", "notes")

TRUTH_CASE_COLUMNS = (
    "rule",
    "kind",
    "left_partner",
    "left_dataset",
    "left_record_id",
    "right_partner",
    "right_dataset",
    "right_record_id",
    "note",
)

DISREGARD_REASONS = ("student", "carer", "severe_mental_impairment", "apprentice", "care_leaver")

JOB_TITLES = (
    "Refuse Collector", "Care Assistant", "Social Worker", "Teaching Assistant", "Librarian",
    "Planning Officer", "Environmental Health Officer", "Housing Officer", "Revenues Officer",
    "Benefits Assessor", "Customer Services Advisor", "Finance Officer", "Accountant",
    "Solicitor", "Civil Engineer", "Highways Inspector", "Parks Operative", "Cleaner",
    "School Cook", "Caretaker", "Youth Worker", "Occupational Therapist", "Team Leader",
    "Project Manager", "ICT Support Analyst", "Data Analyst", "HR Advisor", "Payroll Officer",
    "Procurement Officer", "Building Control Surveyor", "Licensing Officer", "Traffic Warden",
    "Street Cleansing Operative", "Lifeguard", "Leisure Assistant", "Democratic Services Officer",
    "Electoral Services Officer", "Fraud Investigator", "Internal Auditor", "Head of Service",
)  # fmt: skip

TRADES = (
    "Plumbing", "Electrical", "Building", "Roofing", "Landscapes", "Cleaning", "Catering",
    "Transport", "Consulting", "IT Solutions", "Print", "Stationery", "Security", "Care",
    "Scaffolding", "Joinery", "Glazing", "Waste Management", "Plant Hire", "Training",
    "Fencing", "Tree Surgery", "Decorating", "Flooring", "Heating", "Pest Control", "Signs",
    "Couriers", "Recruitment", "Legal Services", "Surveying", "Grounds Maintenance",
)  # fmt: skip

STREET_TYPES: tuple[tuple[str, str, float], ...] = (
    ("Road", "Rd", 0.30), ("Street", "St", 0.20), ("Avenue", "Ave", 0.08), ("Lane", "Ln", 0.08),
    ("Close", "Cl", 0.08), ("Drive", "Dr", 0.06), ("Way", "Way", 0.04),
    ("Crescent", "Cres", 0.03), ("Gardens", "Gdns", 0.03), ("Place", "Pl", 0.02),
    ("Grove", "Gr", 0.02), ("Court", "Ct", 0.02), ("Terrace", "Terr", 0.02),
    ("Walk", "Wlk", 0.01), ("Row", "Row", 0.01), ("Square", "Sq", 0.02),
)  # fmt: skip

NULL_DAY = np.iinfo(np.int32).min  # sentinel for "no date" in numpy day arrays

# --------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SynthResult:
    """What `generate` wrote: partners, per-file row counts and paths, truth files."""

    out_dir: Path
    partners: list[str]
    people: int
    row_counts: dict[str, dict[str, int]]  # partner -> dataset -> data rows
    files: dict[str, dict[str, Path]]  # partner -> dataset -> file
    truth: dict[str, Path]  # records, cases, invalid_rows, blanked_values
    manifest: Path


def generate(
    out_dir: Path,
    *,
    partners: int = 4,
    people: int = 20_000,
    seed: int = 1,
    cycle_date: date = date(2026, 11, 1),
) -> SynthResult:
    """Write N councils' extracts for a population of `people`, plus the truth files."""
    if not 1 <= partners <= len(PARTNERS):
        raise ValueError(f"partners must be between 1 and {len(PARTNERS)}, got {partners}")
    if people < 500:
        raise ValueError(f"people must be at least 500, got {people}")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}")
    out_dir = Path(out_dir)
    ctx = _Ctx.build(people=people, n_partners=partners, seed=seed, cycle=_day(cycle_date))
    _natural_records(ctx)
    _plant_all(ctx)
    _assign_record_ids(ctx)
    cases = _truth_cases(ctx)
    emitted, invalid, blanked = _emit_all(ctx, cases)
    return _write_all(ctx, out_dir, emitted, cases, invalid, blanked, cycle_date)


# --------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------


def _day(d: date) -> int:
    return (d - date(1970, 1, 1)).days


def _rng(seed: int, *labels: str) -> np.random.Generator:
    """An independent stream per stage, so changing one stage leaves the others' data as is."""
    return np.random.default_rng([seed, *(zlib.crc32(label.encode()) for label in labels)])


def _dates(days: np.ndarray, name: str = "") -> pl.Series:
    """Day numbers (NULL_DAY = missing) as a polars Date series."""
    days = np.asarray(days, dtype=np.int64)
    s = pl.Series(name, days.astype(np.int32)).cast(pl.Date)
    missing = days == NULL_DAY
    if missing.any():
        s = pl.select(pl.when(pl.Series(missing)).then(None).otherwise(s).alias(name)).to_series()
    return s


def _ymd(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    d = np.asarray(days, dtype="datetime64[D]")
    y = d.astype("datetime64[Y]").astype(np.int64) + 1970
    m = d.astype("datetime64[M]").astype(np.int64) % 12 + 1
    dd = (d - d.astype("datetime64[M]")).astype(np.int64) + 1
    return y, m, dd


def _age(dob: np.ndarray, at: int) -> np.ndarray:
    """Completed years at day `at` (a 29 February birthday falls on 1 March)."""
    y, m, d = _ymd(dob)
    cy, cm, cd = (int(v[0]) for v in _ymd(np.array([at])))
    return cy - y - ((cm * 100 + cd) < (m * 100 + d)).astype(np.int64)


def _uniform_days(rng: np.random.Generator, lo: np.ndarray | int, hi: np.ndarray | int, n: int):
    """Integer days uniform in [lo, hi] (inclusive), element-wise."""
    lo = np.broadcast_to(np.asarray(lo, dtype=np.int64), (n,))
    hi = np.maximum(np.broadcast_to(np.asarray(hi, dtype=np.int64), (n,)), lo)
    return lo + np.floor(rng.random(n) * (hi - lo + 1)).astype(np.int64)


# --------------------------------------------------------------------------------------
# Lexicon: names and streets from fraudmatch/data
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Lexicon:
    """Name and street lists with their sampling weights."""

    forenames: pl.DataFrame  # name, sex, weight, nicknames (list[str])
    surnames: pl.Series
    surname_p: np.ndarray
    streets: pl.Series

    def forename_table(self, sex: str) -> tuple[pl.Series, np.ndarray]:
        f = self.forenames.filter(pl.col("sex") == sex)
        w = f["weight"].to_numpy().astype(float)
        return f["name"], w / w.sum()


def _data_lines(name: str) -> list[str]:
    text = resources.files("fraudmatch.synth").joinpath("data", name).read_text(encoding="utf-8")
    return [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]


@cache
def _lexicon() -> _Lexicon:
    rows = [ln.split("|") for ln in _data_lines("forenames.txt")]
    fore = pl.DataFrame(
        {
            "name": [r[0] for r in rows],
            "sex": [r[1] for r in rows],
            "weight": [float(r[2]) for r in rows],
            "nicknames": [[n for n in r[3].split(",") if n] if len(r) > 3 else [] for r in rows],
        }
    ).unique(subset=["name", "sex"], keep="first", maintain_order=True)
    sur = [ln.split("|") for ln in _data_lines("surnames.txt")]
    w = np.array([float(r[1]) for r in sur])
    return _Lexicon(
        forenames=fore,
        surnames=pl.Series("surname", [r[0] for r in sur]),
        surname_p=w / w.sum(),
        streets=pl.Series("street", _data_lines("streets.txt")),
    )


# --------------------------------------------------------------------------------------
# The world: people, addresses, bank accounts
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    """How many cases and decoys to plant per rule: at least a few, growing with people."""

    cases: int
    decoys: int

    @classmethod
    def for_size(cls, people: int) -> _Plan:
        return cls(cases=max(3, round(people / 1000)), decoys=max(1, round(people / 4000)))


@dataclass
class _Ctx:
    """Everything the stages share: parameters, the world and the records being built."""

    seed: int
    cycle: int
    n_partners: int
    n_people: int
    plan: _Plan
    people: pl.DataFrame
    addresses: pl.DataFrame
    accounts: np.ndarray  # pool of unique 8-digit account numbers not used by people
    sort_pool: np.ndarray  # bank sort codes, 6-digit strings
    ni_pool: pl.Series  # one unique NI number per person, new people included
    records: dict[str, pl.DataFrame] = field(default_factory=dict)
    decoys: list[pl.DataFrame] = field(default_factory=list)  # planted decoy pairs by uid
    next_account: int = 0

    @classmethod
    def build(cls, *, people: int, n_partners: int, seed: int, cycle: int) -> _Ctx:
        plan = _Plan.for_size(people)
        n_new = _new_person_count(plan, n_partners)
        # The deceased rules plant on people who died aged 40 or more: make sure there are
        # enough of them (this only bites for tiny populations).
        min_dead = 3 * (plan.cases + 3 * plan.decoys) + 5
        base = _population(_rng(seed, "population"), people - n_new, n_partners, cycle, min_dead)
        addresses, home = _addresses(_rng(seed, "addresses"), base, n_partners)
        base = base.with_columns(address_id=home)
        rng = _rng(seed, "identifiers")
        ni = _ni_numbers(rng, people)
        sort_pool = _sort_code_pool(rng)
        accounts = _unique_digits(rng, people + 8 * people // 10 + 5000, 8)
        base = _with_identifiers(base, rng, ni, sort_pool, accounts[: base.height], cycle)
        return cls(
            seed=seed,
            cycle=cycle,
            n_partners=n_partners,
            n_people=people,
            plan=plan,
            people=base,
            addresses=addresses,
            accounts=accounts,
            sort_pool=sort_pool,
            ni_pool=ni,
            next_account=people,
        )

    def rng(self, *labels: str) -> np.random.Generator:
        return _rng(self.seed, *labels)

    def take_accounts(self, n: int) -> np.ndarray:
        out = self.accounts[self.next_account : self.next_account + n]
        if len(out) < n:
            raise RuntimeError("account pool exhausted")
        self.next_account += n
        return out

    def add(self, dataset: str, frame: pl.DataFrame) -> pl.DataFrame:
        """Append records to a dataset, giving them fresh uids; returns them with uids."""
        old = self.records.get(dataset)
        start = 0 if old is None else old.height
        frame = frame.with_columns(uid=pl.int_range(start, start + frame.height, dtype=pl.Int64))
        self.records[dataset] = (
            frame if old is None else pl.concat([old, frame], how="diagonal_relaxed")
        )
        return frame


def _new_person_count(plan: _Plan, n_partners: int) -> int:
    """Doubles and twins are new people: count them up front so the total stays `people`."""
    rules = [r for r in ID_RULES if r.scope == "any" or n_partners > 1]
    return len(rules) * 2 * plan.decoys


_HH_P = np.array([0.30, 0.27, 0.24, 0.11, 0.08])  # single, couple, family, lone parent, sharers


def _population(
    rng: np.random.Generator, n: int, n_partners: int, cycle: int, min_dead: int
) -> pl.DataFrame:
    """People in households: ages, sexes and names that hang together within a household."""
    est = int(n / 1.9) + 64
    t = rng.choice(len(_HH_P), est, p=_HH_P / _HH_P.sum())
    n_ad = np.where(t == 4, rng.integers(2, 5, est), np.where(np.isin(t, [1, 2]), 2, 1))
    n_kid = np.where(np.isin(t, [2, 3]), rng.integers(1, 4, est), 0)
    size = n_ad + n_kid
    cum = np.cumsum(size)
    h = int(np.searchsorted(cum, n)) + 1
    size = size[:h].copy()
    size[-1] -= int(cum[h - 1] - n)
    t, n_ad = t[:h], np.minimum(n_ad[:h], size)
    hh = np.repeat(np.arange(h), size)
    first = np.cumsum(size) - size
    pos = np.arange(n) - first[hh]
    th = t[hh]

    head_age = np.select(
        [t == 0, t == 1, t == 2, t == 3],
        [
            np.where(rng.random(h) < 0.45, rng.uniform(18, 60, h), rng.uniform(60, 98, h)),
            rng.uniform(20, 93, h),
            rng.uniform(24, 56, h),
            rng.uniform(19, 56, h),
        ],
        default=rng.uniform(18, 40, h),
    )
    is_head = pos == 0
    is_partner = (pos == 1) & np.isin(th, [1, 2])
    is_adult = pos < n_ad[hh]
    ha = head_age[hh]
    age = np.select(
        [is_head, is_partner, is_adult],
        [ha, np.clip(ha + rng.normal(0, 3.5, n), 18, 100), rng.uniform(18, 45, n)],
        default=rng.random(n) * np.clip(ha - 17, 0.5, 24.99),
    )
    dob = cycle - np.floor(age * 365.2425).astype(np.int64)

    head_f = rng.random(h) < 0.5
    female = rng.random(n) < 0.5
    female = np.where(is_head, head_f[hh], female)
    female = np.where(is_partner, np.where(rng.random(n) < 0.95, ~head_f[hh], head_f[hh]), female)

    lex = _lexicon()
    s1 = rng.choice(len(lex.surname_p), n, p=lex.surname_p)
    s2 = np.where(rng.random(n) < 0.015, rng.choice(len(lex.surname_p), n, p=lex.surname_p), -1)
    shares = (is_partner & (rng.random(n) < 0.7)) | (~is_adult)
    s1 = np.where(shares, s1[first[hh]], s1)
    s2 = np.where(shares, s2[first[hh]], s2)

    mortality = np.clip(2 * np.exp(-10.5 + 0.095 * age), 0, 0.6)
    died = (rng.random(n) < mortality) & (cycle - dob > 1000)
    short = min_dead - int((died & (age >= 40)).sum())
    if short > 0:
        died[rng.choice(np.flatnonzero(~died & (age >= 40)), short, replace=False)] = True
    dod = np.where(died, cycle - rng.integers(1, 731, n), NULL_DAY)

    first_names, middle_names = _forenames(rng, female)
    hh_partner = rng.choice(n_partners, h, p=_partner_weights(rng, n_partners))
    surname = pl.Series(lex.surnames.gather(s1))
    second = pl.Series(lex.surnames.gather(np.maximum(s2, 0)))
    return pl.DataFrame(
        {
            "person_id": np.arange(n, dtype=np.int64),
            "household_id": hh.astype(np.int64),
            "partner": hh_partner[hh].astype(np.int32),
            "role": pl.Series(["head", "partner", "adult", "child"]).gather(
                np.select([is_head, is_partner, is_adult], [0, 1, 2], 3)
            ),
            "sex": pl.Series(["M", "F"]).gather(female.astype(np.int64)),
            "dob": _dates(dob),
            "dod": _dates(dod),
        }
    ).with_columns(
        surname=pl.when(pl.Series(s2 >= 0)).then(surname + "-" + second).otherwise(surname),
        first=first_names,
        middle=middle_names,
    )


def _partner_weights(rng: np.random.Generator, n: int) -> np.ndarray:
    w = rng.uniform(0.7, 1.3, n)
    return w / w.sum()


def _forenames(rng: np.random.Generator, female: np.ndarray) -> tuple[pl.Series, pl.Series]:
    """First and (40% of people) middle names, drawn by sex and popularity."""
    n = len(female)
    lex = _lexicon()
    tables = {s: lex.forename_table(s) for s in "MF"}
    names = pl.concat([tables["M"][0], tables["F"][0]])
    offset = np.where(female, len(tables["M"][0]), 0)
    first, mid = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    for s, (_, p) in tables.items():
        m = female if s == "F" else ~female
        first[m] = rng.choice(len(p), int(m.sum()), p=p)
        mid[m] = rng.choice(len(p), int(m.sum()), p=p)
    has_mid = pl.Series(rng.random(n) < 0.4)
    middle = pl.select(pl.when(has_mid).then(names.gather(mid + offset))).to_series()
    return names.gather(first + offset).alias("first"), middle.alias("middle")


def _ni_numbers(rng: np.random.Generator, n: int) -> pl.Series:
    """Unique NI numbers valid by the real rules (prefix letters, banned pairs, suffix A-D)."""
    bad1, bad2 = set("DFIQUV"), set("DFIQUVO")
    banned = {"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"}
    letters = [chr(c) for c in range(65, 91)]
    prefixes = [
        a + b
        for a in letters
        for b in letters
        if a not in bad1 and b not in bad2 and a + b not in banned
    ]
    codes = _unique_ints(rng, n, len(prefixes) * 1_000_000)
    pre = pl.Series(prefixes).gather(codes // 1_000_000)
    digits = pl.Series(codes % 1_000_000).cast(pl.String).str.zfill(6)
    suffix = pl.Series(list("ABCD")).gather(rng.integers(0, 4, n))
    return pre + digits + suffix


def _unique_ints(rng: np.random.Generator, n: int, high: int) -> np.ndarray:
    """n distinct integers in [0, high), in random order (no Python loop per value)."""
    out = np.empty(0, dtype=np.int64)
    while len(out) < n:
        draw = rng.integers(0, high, int((n - len(out)) * 1.1) + 16)
        cand = np.concatenate([out, draw])
        _, first = np.unique(cand, return_index=True)
        out = cand[np.sort(first)]
    return out[:n]


def _unique_digits(rng: np.random.Generator, n: int, width: int) -> np.ndarray:
    lo = 10 ** (width - 1)
    return (_unique_ints(rng, n, 9 * lo) + lo).astype(np.int64)


def _sort_code_pool(rng: np.random.Generator) -> np.ndarray:
    """Branch sort codes; about 8% start with 0 (the ones spreadsheets damage)."""
    codes = rng.integers(100_000, 999_999, 600)
    zero = rng.random(600) < 0.08
    codes = np.where(zero, rng.integers(1_000, 99_999, 600), codes)
    return np.unique(codes)


def _with_identifiers(
    base: pl.DataFrame,
    rng: np.random.Generator,
    ni: pl.Series,
    sort_pool: np.ndarray,
    accounts: np.ndarray,
    cycle: int,
) -> pl.DataFrame:
    """NI numbers for people 16 and over, a personal bank account for adults."""
    n = base.height
    age = _age(base["dob"].cast(pl.Int64).to_numpy(), cycle)
    w = rng.pareto(1.2, len(sort_pool)) + 1
    sort = sort_pool[rng.choice(len(sort_pool), n, p=w / w.sum())]
    return base.with_columns(
        ni=pl.when(pl.Series(age >= 16)).then(ni.slice(0, n)).otherwise(None),
        sort_code=pl.Series(sort).cast(pl.String).str.zfill(6),
        account=pl.Series(accounts).cast(pl.String),
        age=pl.Series(age, dtype=pl.Int32),
    )


def _addresses(
    rng: np.random.Generator, people: pl.DataFrame, n_partners: int
) -> tuple[pl.DataFrame, pl.Series]:
    """Streets, numbers, postcodes and UPRNs per council; a home address per household.

    Each council also gets spare (empty) addresses, used for second-address claims and for
    doubles, and business premises for its suppliers.
    """
    hh = people.group_by("household_id", maintain_order=True).agg(pl.col("partner").first())
    frames, home = [], np.zeros(hh.height, dtype=np.int64)
    next_id = 0
    for p in range(n_partners):
        hh_idx = np.flatnonzero(hh["partner"].to_numpy() == p)
        residents = int((people["partner"] == p).sum())
        n_home = len(hh_idx)
        n_spare = max(40, n_home // 20)
        n_bus = _supplier_count(residents)
        n_addr = n_home + n_spare + n_bus
        streets = _street_layout(rng, n_addr, p)
        kind = np.repeat([0, 1, 2], [n_home, n_spare, n_bus])[rng.permutation(n_addr)]
        ids = np.arange(next_id, next_id + n_addr, dtype=np.int64)
        home[hh_idx] = ids[kind == 0]
        kinds = pl.Series(["home", "spare", "business"]).gather(kind)
        frames.append(streets.with_columns(address_id=ids, kind=kinds))
        next_id += n_addr
    per_person = home[people["household_id"].to_numpy()]
    return pl.concat(frames), pl.Series("address_id", per_person)


def _supplier_count(residents: int) -> int:
    return max(200, residents // 25)


def _street_layout(rng: np.random.Generator, n_addr: int, partner: int) -> pl.DataFrame:
    """Addresses laid along streets: numbers, flats, postcode units of ~14, rising UPRNs."""
    lex = _lexicon()
    area = PARTNERS[partner][1]
    lengths = rng.integers(6, 61, n_addr // 6 + 8)
    cum = np.cumsum(lengths)
    k = int(np.searchsorted(cum, n_addr)) + 1
    street = np.repeat(np.arange(k), lengths[:k])[:n_addr]
    start = np.concatenate([[0], cum[: k - 1]])
    number = np.arange(n_addr) - start[street] + 1
    n_types = len(STREET_TYPES)
    tp = np.array([t[2] for t in STREET_TYPES])
    combos = rng.permutation(len(lex.streets) * n_types)
    combo = np.resize(combos, k)
    name_idx = combo // n_types
    type_idx = rng.choice(n_types, k, p=tp / tp.sum())
    n_dist = int(np.clip(np.ceil(n_addr / 2500), 1, 99))
    district = street * n_dist // k + 1
    chunk = (number - 1) // 14
    unit_key = street.astype(np.int64) * 1000 + chunk
    change = np.concatenate([[True], unit_key[1:] != unit_key[:-1]])
    unit = np.cumsum(change) - 1
    dist_of_unit = district[street][change]
    first_unit = np.searchsorted(dist_of_unit, dist_of_unit, side="left")
    rank = (np.arange(len(dist_of_unit)) - first_unit)[unit]
    codes = rng.permutation(4000)[rank % 4000]
    sector = codes // 400
    letters = pl.Series([a + b for a in INWARD_LETTERS for b in INWARD_LETTERS]).gather(codes % 400)
    d = district[street]
    postcode = pl.Series([area] * 1).gather(np.zeros(n_addr, dtype=np.int64)) + (
        pl.Series(d).cast(pl.String) + " " + pl.Series(sector).cast(pl.String) + letters
    )
    flat = np.where(rng.random(n_addr) < 0.08, rng.integers(1, 10, n_addr), 0)
    uprn = 100_000_000_000 + partner * 1_000_000_000 + np.cumsum(rng.integers(1, 40, n_addr))
    types = pl.Series([t[0] for t in STREET_TYPES])
    abbr = pl.Series([t[1] for t in STREET_TYPES])
    return pl.DataFrame(
        {
            "partner": np.full(n_addr, partner, dtype=np.int32),
            "street_key": (partner * 10_000_000 + street).astype(np.int64),
            "number": number.astype(np.int32),
            "flat": pl.Series(flat).replace(0, None).cast(pl.Int32),
            "street": lex.streets.gather(name_idx[street]),
            "stype": types.gather(type_idx[street]),
            "stype_abbr": abbr.gather(type_idx[street]),
            "postcode": postcode,
            "uprn": pl.Series(uprn).cast(pl.String),
        }
    )


# --------------------------------------------------------------------------------------
# Records: the true (un-noised) rows of every dataset, all partners together
# --------------------------------------------------------------------------------------
# Each dataset is one frame: uid (its key until record ids exist), partner, person_id,
# address_id, its own true dates and attributes, and planting flags (protect: no identity
# noise; keep_ni: NI always shown; note: why it was planted).


def _rec(
    partner: np.ndarray,
    person_id: np.ndarray | None,
    address_id: np.ndarray,
    dates: dict[str, np.ndarray] | None = None,
    **extra: Iterable | pl.Series,
) -> pl.DataFrame:
    n = len(partner)
    cols: dict[str, pl.Series] = {
        "partner": pl.Series("partner", partner, dtype=pl.Int32),
        "person_id": pl.Series(
            "person_id", person_id if person_id is not None else [None] * n, dtype=pl.Int64
        ),
        "address_id": pl.Series("address_id", address_id, dtype=pl.Int64),
    }
    for k, v in (dates or {}).items():
        cols[k] = _dates(v, k)
    for k, v in extra.items():
        cols[k] = v.alias(k) if isinstance(v, pl.Series) else pl.Series(k, v)
    return pl.DataFrame(cols)


def _pick(rng: np.random.Generator, frame: pl.DataFrame, prob: float) -> pl.DataFrame:
    return frame.filter(pl.Series(rng.random(frame.height) < min(prob, 1.0)))


def _cols(frame: pl.DataFrame, *names: str) -> list[np.ndarray]:
    out = []
    for n in names:
        s = frame[n]
        out.append(s.cast(pl.Int64).to_numpy() if s.dtype == pl.Date else s.to_numpy())
    return out


def _spell_end(rng: np.random.Generator, start: np.ndarray, frac: float, back: int, cycle: int):
    """An end date for `frac` of spells, within `back` days before the cycle, after the start."""
    n = len(start)
    end = np.maximum(cycle - rng.integers(1, back + 1, n), start + 30)
    ended = (rng.random(n) < frac) & (end <= cycle - 1)
    return np.where(ended, end, NULL_DAY)


def _natural_records(ctx: _Ctx) -> None:
    """Each council's datasets drawn from its own living residents at realistic rates."""
    rng = ctx.rng("natural")
    p = ctx.people
    n = p.height
    alive = p.filter(pl.col("dod").is_null())
    adults = alive.filter(pl.col("age") >= 18)
    c = ctx.cycle

    def period_start(frame: pl.DataFrame, max_back: int) -> np.ndarray:
        dob, age = _cols(frame, "dob", "age")
        adult_day = dob + 18 * 366
        start = c - rng.integers(30, max_back, frame.height)
        return np.maximum(start, np.minimum(adult_day, c - 30))

    emp = _pick(rng, adults.filter(pl.col("age") <= 67), 0.04 * n / max(1, adults.height * 0.8))
    s = period_start(emp, 25 * 365)
    ctx.add(
        "payroll",
        _rec(
            *_cols(emp, "partner", "person_id", "address_id"),
            {"start_date": s, "end_date": _spell_end(rng, s, 0.12, 540, c)},
        ),
    )

    # Council employees claim in-work benefits less often than other households.
    heads = adults.filter(pl.col("role") == "head").with_columns(
        _w=pl.when(pl.col("person_id").is_in(emp["person_id"].implode())).then(0.2).otherwise(1.0)
    )
    w = heads["_w"].to_numpy()
    hb = heads.filter(pl.Series(rng.random(heads.height) < w * 0.07 * n / w.sum()))
    s = period_start(hb, 3650)
    hb_dates = {"claim_start_date": s, "claim_end_date": _spell_end(rng, s, 0.15, 365, c)}
    ctx.add("housing_benefit", _rec(*_cols(hb, "partner", "person_id", "address_id"), hb_dates))
    both = _pick(rng, hb, 0.8)
    rest = heads.join(hb.select("person_id"), on="person_id", how="anti", maintain_order="left")
    w = rest["_w"].to_numpy()
    rest = rest.filter(
        pl.Series(rng.random(rest.height) < w * (0.09 * n - both.height) / max(1.0, w.sum()))
    )
    ctr = pl.concat([both, rest])
    s = period_start(ctr, 3650)
    ctx.add(
        "council_tax_reduction",
        _rec(
            *_cols(ctr, "partner", "person_id", "address_id"),
            {"claim_start_date": s, "claim_end_date": _spell_end(rng, s, 0.12, 365, c)},
        ),
    )

    _natural_disregards(ctx, rng, adults)
    _natural_spd(ctx, rng, adults)
    _natural_register(ctx, rng, alive)

    old = alive.filter(pl.col("age") >= 60)
    young = adults.filter(pl.col("age") < 60)
    badge = pl.concat([_pick(rng, old, 0.03), _pick(rng, young, 0.005)])
    issue = c - rng.integers(0, 1400, badge.height)
    ctx.add(
        "blue_badge",
        _rec(
            *_cols(badge, "partner", "person_id", "address_id"),
            {"issue_date": issue, "expiry_date": issue + 1095},
        ),
    )
    travel = _pick(rng, alive.filter(pl.col("age") >= 66), 0.15)
    issue = c - rng.integers(0, 2100, travel.height)
    ctx.add(
        "concessionary_travel",
        _rec(
            *_cols(travel, "partner", "person_id", "address_id"),
            {"issue_date": issue, "expiry_date": issue + 1826},
        ),
    )

    dead = p.filter(pl.col("dod").is_not_null())
    home = dead["partner"].to_numpy()
    moved = (rng.random(dead.height) < 0.1) & (ctx.n_partners > 1)
    other = (home + rng.integers(1, max(2, ctx.n_partners), dead.height)) % ctx.n_partners
    ctx.add(
        "deceased",
        _rec(
            np.where(moved, other, home),
            *_cols(dead, "person_id", "address_id"),
            {"date_of_death": _cols(dead, "dod")[0]},
            show_address=rng.random(dead.height) < 0.85,
            show_ni=rng.random(dead.height) < 0.6,
        ),
    )
    _natural_tenants(ctx, rng, adults)
    tenants = ctx.records["housing_tenants"].select("person_id")
    wl = adults.join(tenants, on="person_id", how="anti", maintain_order="left")
    wl = _pick(rng, wl, 0.02 * n / max(1, wl.height))
    ctx.add(
        "housing_waiting_list",
        _rec(
            *_cols(wl, "partner", "person_id", "address_id"),
            {"application_date": c - rng.integers(10, 1800, wl.height)},
            nfa=rng.random(wl.height) < 0.01,
        ),
    )
    _natural_creditors(ctx, rng)
    _natural_payments(ctx, rng)


def _natural_disregards(ctx: _Ctx, rng: np.random.Generator, adults: pl.DataFrame) -> None:
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
    dob = _cols(d, "dob")[0]
    start = np.maximum(c - rng.integers(30, 1400, d.height), dob + 18 * 366)
    u = rng.random(d.height)
    expired = np.minimum(np.maximum(c - rng.integers(1, 500, d.height), start + 1), c - 1)
    end = np.select([u < 0.25, u < 0.6], [expired, c + rng.integers(30, 1000, d.height)], NULL_DAY)
    ctx.add(
        "council_tax_disregards",
        _rec(
            *_cols(d, "partner", "person_id", "address_id"),
            {"start_date": start, "end_date": end},
            disregard_reason=reason,
            dob_shown=rng.random(d.height) < 0.7,
        ),
    )


def _in_force(cycle: int) -> pl.Expr:
    c = pl.lit(cycle).cast(pl.Date)
    return (pl.col("start_date") <= c) & (pl.col("end_date").is_null() | (pl.col("end_date") >= c))


def _natural_spd(ctx: _Ctx, rng: np.random.Generator, adults: pl.DataFrame) -> None:
    """A discount where exactly one adult of the household is not disregarded."""
    dis = ctx.records["council_tax_disregards"]
    in_force = dis.filter(_in_force(ctx.cycle)).select("person_id")
    counted = adults.join(in_force, on="person_id", how="anti", maintain_order="left")
    single = counted.filter(pl.len().over("household_id") == 1)
    spd = _pick(rng, single, 0.85)
    ctx.add(
        "council_tax_spd",
        _rec(
            *_cols(spd, "partner", "person_id", "address_id"),
            {"discount_start_date": ctx.cycle - rng.integers(30, 5000, spd.height)},
        ),
    )


def _natural_register(ctx: _Ctx, rng: np.random.Generator, alive: pl.DataFrame) -> None:
    """Adults (92% registered, few with DOB shown) and 17-year-old attainers (DOB shown)."""
    adults = _pick(rng, alive.filter(pl.col("age") >= 18), 0.92)
    attainers = _pick(rng, alive.filter(pl.col("age") == 17), 0.7)
    er = pl.concat([adults, attainers])
    shown = np.concatenate([rng.random(adults.height) < 0.03, np.ones(attainers.height, bool)])
    ctx.add(
        "electoral_register",
        _rec(*_cols(er, "partner", "person_id", "address_id"), dob_shown=shown),
    )


def _natural_tenants(ctx: _Ctx, rng: np.random.Generator, adults: pl.DataFrame) -> None:
    """About 10% of households rent from the council; a quarter of couples jointly."""
    hh = adults.filter(pl.col("role") == "head").select("household_id")
    hh = _pick(rng, hh, 0.10)
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
    dob, s = _cols(t, "dob", "s")
    s = np.maximum(s, np.minimum(dob + 18 * 366, c - 60))
    end = _spell_end(rng, s, 0.08, 700, c)
    end_by_hh = (
        pl.DataFrame({"household_id": t["household_id"], "e": end})
        .group_by("household_id", maintain_order=True)
        .agg(pl.col("e").first())
    )
    end = t.join(end_by_hh, on="household_id", how="left", maintain_order="left")["e"].to_numpy()
    ctx.add(
        "housing_tenants",
        _rec(
            *_cols(t, "partner", "person_id", "address_id"),
            {"tenancy_start_date": s, "tenancy_end_date": end},
        ),
    )


def _company_names(rng: np.random.Generator, n: int, town: str) -> pl.Series:
    """Plausible supplier names: family firms, trades, places."""
    lex = _lexicon()
    sur = lex.surnames.gather(rng.choice(len(lex.surname_p), n, p=lex.surname_p))
    sur2 = lex.surnames.gather(rng.choice(len(lex.surname_p), n, p=lex.surname_p))
    trade = pl.Series(TRADES).gather(rng.integers(0, len(TRADES), n))
    street = lex.streets.gather(rng.integers(0, len(lex.streets), n))
    pattern = pl.Series(rng.integers(0, 5, n))
    return pl.select(
        pl.when(pattern == 0)
        .then(sur + " & Sons Ltd")
        .when(pattern == 1)
        .then(sur + " " + trade + " Ltd")
        .when(pattern == 2)
        .then(street + " " + trade + " Services Ltd")
        .when(pattern == 3)
        .then(pl.lit(town) + " " + trade + " Co")
        .otherwise(sur + " and " + sur2 + " LLP")
    ).to_series()


def _natural_creditors(ctx: _Ctx, rng: np.random.Generator) -> None:
    """Suppliers per council: local companies, sole traders at home, shared national firms."""
    addr = ctx.addresses
    adults = ctx.people.filter(pl.col("dod").is_null() & pl.col("age").is_between(25, 70))
    frames = []
    n_national = 30
    nat_names = _company_names(rng, n_national, "National")
    nat_addr = addr.filter(pl.col("kind") == "business").sample(
        n_national, with_replacement=True, seed=int(rng.integers(1 << 31))
    )["address_id"]
    nat_company = (
        pl.Series(rng.integers(1_000_000, 15_000_000, n_national)).cast(pl.String).str.zfill(8)
    )
    nat_sort = pl.Series(ctx.sort_pool[rng.integers(0, len(ctx.sort_pool), n_national)])
    nat_acct = pl.Series(ctx.take_accounts(n_national))
    for p in range(ctx.n_partners):
        residents = adults.filter(pl.col("partner") == p)
        n_sup = _supplier_count(int((ctx.people["partner"] == p).sum()))
        n_sole = n_sup // 5
        n_nat = min(n_national, n_sup // 10)
        n_local = n_sup - n_sole - n_nat
        town = PARTNERS[p][2]
        bus = addr.filter((pl.col("partner") == p) & (pl.col("kind") == "business"))
        local = pl.DataFrame(
            {
                "supplier_name": _company_names(rng, n_local, town),
                "address_id": bus["address_id"].head(n_local),
                "sort_code": ctx.sort_pool[rng.integers(0, len(ctx.sort_pool), n_local)],
                "account_number": ctx.take_accounts(n_local),
                "company_number": pl.select(
                    pl.when(pl.Series(rng.random(n_local) < 0.9)).then(
                        pl.Series(rng.integers(1_000_000, 15_000_000, n_local))
                        .cast(pl.String)
                        .str.zfill(8)
                    )
                ).to_series(),
                "vat": rng.random(n_local) < 0.6,
            }
        )
        sole_people = residents.sample(
            min(n_sole, residents.height), seed=int(rng.integers(1 << 31))
        )
        k = sole_people.height
        trade = pl.Series(TRADES).gather(rng.integers(0, len(TRADES), k))
        own_acct = rng.random(k) < 0.3
        sole = pl.DataFrame(
            {
                "supplier_name": pl.select(
                    pl.when(pl.Series(rng.random(k) < 0.5))
                    .then(sole_people["first"] + " " + sole_people["surname"] + " " + trade)
                    .otherwise(
                        sole_people["first"].str.slice(0, 1)
                        + " "
                        + sole_people["surname"]
                        + " "
                        + trade
                    )
                ).to_series(),
                "address_id": sole_people["address_id"],
                "sort_code": np.where(
                    own_acct,
                    sole_people["sort_code"].cast(pl.Int64).to_numpy(),
                    ctx.sort_pool[rng.integers(0, len(ctx.sort_pool), k)],
                ),
                "account_number": np.where(
                    own_acct, sole_people["account"].cast(pl.Int64).to_numpy(), ctx.take_accounts(k)
                ),
                "company_number": pl.Series([None] * k, dtype=pl.String),
                "vat": rng.random(k) < 0.2,
            }
        )
        pick = np.sort(rng.choice(n_national, n_nat, replace=False))
        nat = pl.DataFrame(
            {
                "supplier_name": nat_names.gather(pick),
                "address_id": nat_addr.gather(pick),
                "sort_code": nat_sort.gather(pick),
                "account_number": nat_acct.gather(pick),
                "company_number": nat_company.gather(pick),
                "vat": np.ones(n_nat, bool),
            }
        )
        f = pl.concat([local, sole, nat], how="vertical_relaxed")
        frames.append(f.with_columns(partner=pl.lit(p, dtype=pl.Int32)))
    cred = pl.concat(frames, how="vertical_relaxed")
    h = cred.height
    cred = cred.with_columns(
        person_id=pl.lit(None, dtype=pl.Int64),
        address_id=pl.col("address_id").cast(pl.Int64),
        sort_code=pl.col("sort_code").cast(pl.String).str.zfill(6),
        account_number=pl.col("account_number").cast(pl.String),
        vat_number=pl.when(pl.col("vat")).then(
            pl.lit("GB") + pl.Series(rng.integers(100_000_000, 999_999_999, h)).cast(pl.String)
        ),
        recurring=pl.Series(rng.random(h) < 0.15),
    ).drop("vat")
    ctx.add("creditors", cred)


def _natural_payments(ctx: _Ctx, rng: np.random.Generator) -> None:
    """A year or two of invoices: sequential numbers per supplier, some monthly fixed fees."""
    cred = ctx.records["creditors"]
    frames = []
    for p in range(ctx.n_partners):
        sup = cred.filter(pl.col("partner") == p)
        n_inv = max(1500, round(0.6 * int((ctx.people["partner"] == p).sum())))
        rec_mask = sup["recurring"].to_numpy()
        # Monthly fees: 6 to 24 invoices each; the rest spread over the other suppliers,
        # a few busy ones (log-normal weights) and a long tail.
        counts = np.where(rec_mask, rng.integers(6, 25, sup.height), 0)
        w = np.where(rec_mask, 0.0, rng.lognormal(0, 1.2, sup.height))
        counts += rng.multinomial(max(0, n_inv - int(counts.sum())), w / w.sum())
        n_inv = int(counts.sum())
        s_idx = np.repeat(np.arange(sup.height), counts)
        recurring = sup["recurring"].to_numpy()[s_idx]
        k = np.arange(n_inv) - (np.cumsum(counts) - counts)[s_idx]
        offset = rng.integers(0, 30, sup.height)[s_idx]
        date_ = np.where(
            recurring,
            ctx.cycle - 30 * k - offset - rng.integers(-2, 3, n_inv),
            ctx.cycle - rng.integers(1, 400, n_inv),
        )
        order = np.lexsort((date_, s_idx))
        s_idx, recurring, date_ = s_idx[order], recurring[order], date_[order]
        gap = np.where(recurring, 1, rng.integers(1, 40, n_inv))
        first = np.minimum(np.cumsum(counts) - counts, n_inv - 1)
        csum = np.cumsum(gap)
        within = csum - (csum[first] - gap[first])[s_idx]
        number = rng.integers(1_000, 400_000, sup.height)[s_idx] + within
        fmt = rng.integers(0, 5, sup.height)[s_idx]
        letters = pl.Series([a + b for a in "ABCDEFGHJKLMNPRSTW" for b in "ABCDEFGHJKLMNPRSTW"])
        prefix = letters.gather(rng.integers(0, len(letters), sup.height)[s_idx])
        num = pl.Series(number)
        inv_no = pl.select(
            pl.when(pl.Series(fmt) == 0)
            .then("INV-" + num.cast(pl.String).str.zfill(6))
            .when(pl.Series(fmt) == 1)
            .then(num.cast(pl.String).str.zfill(6))
            .when(pl.Series(fmt) == 2)
            .then("SI" + num.cast(pl.String).str.zfill(7))
            .when(pl.Series(fmt) == 3)
            .then(prefix + num.cast(pl.String).str.zfill(6))
            .otherwise(num.cast(pl.String).str.zfill(8))
        ).to_series()
        fixed = _amounts(rng, sup.height)
        amount = np.where(recurring, fixed[s_idx], _amounts(rng, n_inv))
        paid = date_ + rng.integers(5, 46, n_inv)
        frames.append(
            _rec(
                np.full(n_inv, p),
                None,
                np.full(n_inv, None),
                {
                    "invoice_date": date_,
                    "payment_date": np.where(paid <= ctx.cycle, paid, NULL_DAY),
                },
                supplier_uid=sup["uid"].gather(s_idx),
                invoice_number=inv_no,
                amount_p=amount,
            )
        )
    ctx.add("creditor_payments", pl.concat(frames))


def _amounts(rng: np.random.Generator, n: int) -> np.ndarray:
    """Invoice amounts in pence: log-normal, a fifth of them round figures."""
    raw = np.exp(rng.normal(np.log(40_000), 1.3, n)).astype(np.int64) + 100
    round_ = np.maximum(raw // 5_000, 1) * 5_000
    return np.where(rng.random(n) < 0.2, round_, raw)


# --------------------------------------------------------------------------------------
# Planting: fraud cases and near-miss decoys for every rule
# --------------------------------------------------------------------------------------


class _Pool:
    """People not yet used by any plant, in random order: each plant takes fresh ones."""

    def __init__(self, ids: np.ndarray) -> None:
        self.ids, self.pos = ids, 0

    def take(self, n: int) -> np.ndarray:
        out = self.ids[self.pos : self.pos + n]
        self.pos += len(out)
        return out


def _plant_all(ctx: _Ctx) -> None:
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
    _plant_spd(ctx)
    _plant_payroll_creditors(ctx)
    _plant_duplicate_invoices(ctx)


def _rule_periods(
    rng: np.random.Generator, rule: _IdRule, ok: np.ndarray, dod: np.ndarray, cycle: int
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Left and right dates that meet the rule's time condition where `ok`, else fail it."""
    n = len(ok)
    if rule.time in ("overlap", "none"):
        if rule.time == "overlap":
            s1, e1, s2, e2 = _overlapping(rng, n, cycle)
            d1, d2, d3, d4 = _disjoint(rng, n, cycle)
            s1, e1 = np.where(ok, s1, d1), np.where(ok, e1, d2)
            s2, e2 = np.where(ok, s2, d3), np.where(ok, e2, d4)
        else:
            s1, s2 = cycle - rng.integers(30, 4000, n), cycle - rng.integers(30, 4000, n)
            e1, e2 = _spell_end(rng, s1, 0.2, 700, cycle), _spell_end(rng, s2, 0.2, 700, cycle)
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
    open_end = np.where(rng.random(n) < 0.7, NULL_DAY, _uniform_days(rng, app + 1, cycle - 1, n))
    end = np.where(ok, open_end, app - rng.integers(30, 600, n))
    start = np.where(ok, app, end) - rng.integers(60, 3000, n)
    return {"application_date": app}, {"tenancy_start_date": start, "tenancy_end_date": end}


def _overlapping(rng: np.random.Generator, n: int, cycle: int):
    """Two spells that share at least the day t (open ends are open)."""
    t = cycle - rng.integers(30, 1500, n)
    s1, s2 = t - rng.integers(0, 2500, n), t - rng.integers(0, 2500, n)
    e1 = np.where(rng.random(n) < 0.6, NULL_DAY, _uniform_days(rng, t, cycle - 1, n))
    e2 = np.where(rng.random(n) < 0.6, NULL_DAY, _uniform_days(rng, t, cycle - 1, n))
    return s1, e1, s2, e2


def _disjoint(rng: np.random.Generator, n: int, cycle: int):
    """Two spells, one ended at least 30 days before the other began (either order)."""
    t = cycle - rng.integers(30, 1200, n)
    e_first = t - rng.integers(30, 600, n)
    s_first = e_first - rng.integers(60, 2500, n)
    e_second = np.where(rng.random(n) < 0.6, NULL_DAY, _uniform_days(rng, t, cycle - 1, n))
    swap = rng.random(n) < 0.5
    s1, e1 = np.where(swap, t, s_first), np.where(swap, e_second, e_first)
    s2, e2 = np.where(swap, s_first, t), np.where(swap, e_first, e_second)
    return s1, e1, s2, e2


def _spare_addresses(ctx: _Ctx, rng: np.random.Generator, partners: np.ndarray) -> np.ndarray:
    """An empty address in each given council (second addresses, doubles' homes)."""
    spare = ctx.addresses.filter(pl.col("kind") == "spare")
    out = np.zeros(len(partners), dtype=np.int64)
    for p in np.unique(partners):
        ids = spare.filter(pl.col("partner") == p)["address_id"].to_numpy()
        m = partners == p
        out[m] = ids[rng.integers(0, len(ids), int(m.sum()))]
    return out


def _new_people(
    ctx: _Ctx,
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
    first, middle = _forenames(rng, female)
    for _ in range(8):  # a twin needs another forename than the anchor (a few redraws)
        clash = (first == src["first"]).to_numpy()
        if not clash.any():
            break
        again, _ = _forenames(rng, female)
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


def _ni_tail(ctx: _Ctx, n: int) -> pl.Series:
    """Fresh NI numbers for new people: the pool was drawn for everyone up front."""
    return ctx.ni_pool.slice(ctx.people.height, n)


def _record_partner_address(
    ctx: _Ctx, rng: np.random.Generator, dataset: str, partner: np.ndarray, person: np.ndarray
) -> np.ndarray:
    """Home address, unless the service is tied to a property in another council."""
    who = ctx.people[person]
    home_p, home_a = who["partner"].to_numpy(), who["address_id"].to_numpy()
    if dataset not in ADDRESS_BOUND:
        return home_a
    return np.where(partner == home_p, home_a, _spare_addresses(ctx, rng, partner))


def _plant_identity(ctx: _Ctx, rule: _IdRule, pool: _Pool) -> None:
    """Cases (same person, time condition met) and decoys for one 'same person' rule.

    Decoys: period (same person, condition failed), double (same names and DOB, another
    person elsewhere, another NI) and twin (same surname, DOB and address, other forename).
    """
    rng = ctx.rng("plant", rule.name)
    plan, n_part = ctx.plan, ctx.n_partners
    kinds = ["case"] * plan.cases + ["double"] * plan.decoys + ["twin"] * plan.decoys
    if rule.time != "none":
        kinds += ["period"] * plan.decoys
    anchors = pool.take(len(kinds))
    kind = np.array(kinds[: len(anchors)])
    n = len(anchors)
    who = ctx.people[anchors]
    home = who["partner"].to_numpy()
    dod = np.where(who["dod"].is_null().to_numpy(), NULL_DAY, _cols(who, "dod")[0])
    rand_p = rng.integers(0, n_part, n)
    stand_in = (kind == "double") | (kind == "twin")
    deceased_rule = rule.right == "deceased"

    if deceased_rule:
        # The anchor died; its deceased record exists. The badge, pass or tenancy is planted
        # for the anchor (case, period) or for its double or twin (decoys).
        lp = np.where(kind == "double", rand_p, home)
        if rule.left == "housing_tenants":
            lp = np.where((kind == "case") & (rng.random(n) < 0.3), rand_p, lp)
        rp = home
    else:
        lp = home if rule.left in ADDRESS_BOUND else rand_p
        if rule.scope == "other":
            rp = (lp + rng.integers(1, max(2, n_part), n)) % n_part
        else:
            rp = np.where(rng.random(n) < 0.5, home, rand_p)
            if rule.right in ADDRESS_BOUND:
                rp = np.where(kind == "twin", home, rp)
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
        _rec(
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
        dec = ctx.records["deceased"]
        ctx.records["deceased"] = dec.with_columns(
            show_address=pl.col("show_address") | pl.col("person_id").is_in(anchors.tolist()),
            show_ni=pl.col("show_ni") | pl.col("person_id").is_in(anchors.tolist()),
            # shown means shown: never blanked at the usual missing-NI rate either
            keep_ni=(pl.col("keep_ni") if "keep_ni" in dec.columns else pl.lit(False))
            | pl.col("person_id").is_in(anchors.tolist()),
        )
        right_uid = (
            pl.DataFrame({"person_id": anchors})
            .join(
                dec.select("person_id", "uid"), on="person_id", how="left", maintain_order="left"
            )["uid"]
            .to_numpy()
        )
    else:
        right = ctx.add(
            rule.right,
            _rec(
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


def _dataset_extras(dataset: str, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    if dataset == "housing_waiting_list":
        return {"nfa": np.zeros(n, dtype=bool)}
    return {}


_PLANT_NOTES: dict[str, dict[str, str]] = {
    "payroll_to_housing_benefit": {
        "case": "planted: employee also claiming housing benefit",
        "period": "planted: employment and claim do not overlap",
    },
    "payroll_to_payroll": {"case": "planted: employed by two councils"},
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


def _plant_spd(ctx: _Ctx) -> None:
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
        _rec(
            *_cols(o, "partner", "person_id", "address_id"),
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
        _rec(
            *_cols(holder, "partner", "person_id", "address_id"),
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


def _plant_attainer_spd(ctx: _Ctx, rng: np.random.Generator, adults: pl.DataFrame) -> pl.DataFrame:
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
        _rec(
            *_cols(need, "partner", "person_id", "address_id"),
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


def _ensure_registered(ctx: _Ctx, people: pl.DataFrame, *, dob_shown: bool) -> None:
    """Add register entries (at home) for those of `people` not yet registered."""
    er = ctx.records["electoral_register"].select("person_id")
    missing = people.join(er, on="person_id", how="anti", maintain_order="left").unique(
        "person_id", keep="first", maintain_order=True
    )
    if missing.height:
        ctx.add(
            "electoral_register",
            _rec(
                *_cols(missing, "partner", "person_id", "address_id"),
                dob_shown=np.full(missing.height, dob_shown),
            ),
        )


def _plant_payroll_creditors(ctx: _Ctx) -> None:
    """Suppliers paid into an employee's own account, or based at an employee's home.

    Decoys: the employee's account number under another sort code; a supplier next door.
    """
    rng = ctx.rng("plant", "payroll_to_creditors")
    plan = ctx.plan
    pay = ctx.records["payroll"]
    if "note" in pay.columns:  # employees not already used by another plant
        pay = pay.filter(pl.col("note").is_null())
    pay = pay.unique("person_id", keep="first", maintain_order=True)
    n_bank = plan.cases - plan.cases // 2
    kinds = np.array(
        ["bank"] * n_bank
        + ["address"] * (plan.cases // 2)
        + ["account_only"] * plan.decoys
        + ["next_door"] * plan.decoys
    )
    emp = pay.sample(min(len(kinds), pay.height), seed=int(rng.integers(1 << 31)))
    kinds = kinds[: emp.height]
    n = emp.height
    who = ctx.people[emp["person_id"].to_numpy()]
    partner = rng.integers(0, ctx.n_partners, n)
    home = who["address_id"].to_numpy()
    business = _business_addresses(ctx, rng, partner)
    address = np.select(
        [kinds == "address", kinds == "next_door", kinds == "bank"],
        [home, _next_door(ctx, home), np.where(rng.random(n) < 0.3, home, business)],
        business,
    )
    other_sort = ctx.sort_pool[rng.integers(0, len(ctx.sort_pool), n)]
    own_sort = who["sort_code"].cast(pl.Int64).to_numpy()
    other_sort = np.where(other_sort == own_sort, (own_sort + 1) % 1_000_000, other_sort)
    fresh = ctx.take_accounts(n)
    sort = np.select([kinds == "bank", kinds == "account_only"], [own_sort, other_sort], other_sort)
    acct = np.where(np.isin(kinds, ["bank", "account_only"]), who["account"].cast(pl.Int64), fresh)
    trade = pl.Series(TRADES).gather(rng.integers(0, len(TRADES), n))
    names = pl.select(
        pl.when(pl.Series(rng.random(n) < 0.6))
        .then(who["first"].str.slice(0, 1) + " " + who["surname"] + " " + trade)
        .otherwise(_company_names(rng, n, "Regional"))
    ).to_series()
    note = np.select(
        [kinds == "bank", kinds == "address"],
        [
            "planted: supplier paid into an employee's account",
            "planted: supplier at an employee's home",
        ],
        np.where(
            kinds == "account_only",
            "planted decoy: same account number, other sort code",
            "planted decoy: supplier next door to an employee",
        ),
    )
    cred = ctx.add(
        "creditors",
        _rec(
            partner,
            None,
            address,
            supplier_name=names,
            sort_code=pl.Series(sort).cast(pl.String).str.zfill(6),
            account_number=pl.Series(acct).cast(pl.String),
            company_number=pl.Series([None] * n, dtype=pl.String),
            vat_number=pl.Series([None] * n, dtype=pl.String),
            recurring=np.zeros(n, dtype=bool),
            note=note,
            protect=np.ones(n, dtype=bool),
        ),
    )
    decoy = np.isin(kinds, ["account_only", "next_door"])
    ctx.decoys.append(
        pl.DataFrame(
            {
                "rule": "payroll_to_creditors",
                "left_dataset": "payroll",
                "left_uid": emp["uid"].to_numpy()[decoy],
                "right_dataset": "creditors",
                "right_uid": cred["uid"].to_numpy()[decoy],
                "note": note[decoy],
            }
        )
    )


def _business_addresses(ctx: _Ctx, rng: np.random.Generator, partners: np.ndarray) -> np.ndarray:
    bus = ctx.addresses.filter(pl.col("kind") == "business")
    out = np.zeros(len(partners), dtype=np.int64)
    for p in np.unique(partners):
        ids = bus.filter(pl.col("partner") == p)["address_id"].to_numpy()
        m = partners == p
        out[m] = ids[rng.integers(0, len(ids), int(m.sum()))]
    return out


def _next_door(ctx: _Ctx, address_id: np.ndarray) -> np.ndarray:
    """The next (or previous) number on the same street."""
    a = ctx.addresses
    key = a["street_key"].to_numpy()
    nxt = np.minimum(address_id + 1, a.height - 1)
    same = key[nxt] == key[address_id]
    return np.where(same & (nxt != address_id), nxt, address_id - 1)


def _plant_duplicate_invoices(ctx: _Ctx) -> None:
    """Invoices paid twice: same number, or a one-character-different number within a week.

    Decoys: a monthly repeat (30 days on, next number); a number two characters different
    within a week; the same amount and number from a different supplier.
    """
    rng = ctx.rng("plant", "creditor_duplicate_payments")
    plan = ctx.plan
    pay = ctx.records["creditor_payments"]
    cred = ctx.records["creditors"]
    regular = cred.filter(~pl.col("recurring")).select(pl.col("uid").alias("supplier_uid"))
    base = pay.join(regular, on="supplier_uid", how="semi", maintain_order="left")
    n_same = plan.cases - plan.cases // 2
    kinds = np.array(
        ["same_number"] * n_same
        + ["near_number"] * (plan.cases // 2)
        + ["monthly"] * plan.decoys
        + ["two_apart"] * plan.decoys
        + ["other_supplier"] * plan.decoys
    )
    base = base.sample(len(kinds), seed=int(rng.integers(1 << 31)))
    n = base.height
    inv = base["invoice_number"]
    d = _cols(base, "invoice_date")[0]
    near = _edit_last_digit(inv, rng, 1)
    append = pl.Series(rng.random(n) < 0.3)
    near = pl.select(pl.when(append).then(inv + "A").otherwise(near)).to_series()
    number = pl.select(
        pl.when(pl.Series(np.isin(kinds, ["same_number", "other_supplier"])))
        .then(inv)
        .when(pl.Series(kinds == "two_apart"))
        .then(_edit_last_digit(inv, rng, 2))
        .otherwise(near)
    ).to_series()
    shift = np.select(
        [kinds == "same_number", kinds == "monthly", kinds == "other_supplier"],
        [rng.integers(0, 40, n), rng.integers(28, 36, n), np.zeros(n, dtype=np.int64)],
        rng.integers(0, 8, n),
    )
    date_ = np.minimum(d + shift, ctx.cycle - 1)
    supplier = base["supplier_uid"].to_numpy().copy()
    other = kinds == "other_supplier"
    if other.any():
        sup_partner = cred.select("uid", "partner")
        for i in np.flatnonzero(other):  # a handful of decoys, not a loop over records
            cands = sup_partner.filter(
                (pl.col("partner") == base["partner"][int(i)]) & (pl.col("uid") != supplier[i])
            )["uid"].to_numpy()
            supplier[i] = cands[rng.integers(0, len(cands))]
    paid = date_ + rng.integers(3, 30, n)
    note = np.select(
        [kinds == "same_number", kinds == "near_number"],
        ["planted: same invoice paid twice", "planted: invoice re-keyed one character different"],
        np.select(
            [kinds == "monthly", kinds == "two_apart"],
            [
                "planted decoy: monthly repeat, 28+ days apart",
                "planted decoy: numbers two characters apart",
            ],
            "planted decoy: same amount and number, another supplier",
        ),
    )
    new = ctx.add(
        "creditor_payments",
        _rec(
            base["partner"].to_numpy(),
            None,
            np.full(n, None),
            {"invoice_date": date_, "payment_date": np.where(paid <= ctx.cycle, paid, NULL_DAY)},
            supplier_uid=supplier,
            invoice_number=number,
            amount_p=base["amount_p"],
            note=note,
            protect=np.ones(n, dtype=bool),
        ),
    )
    decoy = np.isin(kinds, ["monthly", "two_apart", "other_supplier"])
    ctx.decoys.append(
        pl.DataFrame(
            {
                "rule": "creditor_duplicate_payments",
                "left_dataset": "creditor_payments",
                "left_uid": base["uid"].to_numpy()[decoy],
                "right_dataset": "creditor_payments",
                "right_uid": new["uid"].to_numpy()[decoy],
                "note": note[decoy],
            }
        )
    )


def _edit_last_digit(s: pl.Series, rng: np.random.Generator, k: int) -> pl.Series:
    """Change each of the last k characters (digits) to a different digit: Levenshtein k."""
    out = s
    for i in range(1, k + 1):  # k is 1 or 2
        ch = out.str.slice(-i, 1).cast(pl.Int64)
        new = ((ch + pl.Series(rng.integers(1, 10, len(s)))) % 10).cast(pl.String)
        head = out.str.slice(0, out.str.len_chars() - i)
        tail = out.str.slice(-(i - 1), i - 1) if i > 1 else pl.Series([""] * len(s))
        out = head + new + tail
    return out


# --------------------------------------------------------------------------------------
# Record ids and row numbers
# --------------------------------------------------------------------------------------


def _assign_record_ids(ctx: _Ctx) -> None:
    """Shuffle each file so planted rows hide among the rest, then number rows and ids.

    Ids rise with the row (exports are sorted by reference) and carry the partner's postcode
    area, so they are unique across partners as well: e.g. NM-HB00012345.
    """
    areas = pl.Series([a for _, a, _ in PARTNERS[: ctx.n_partners]])
    for ds, frame in ctx.records.items():
        rng = ctx.rng("ids", ds)
        h = frame.height
        frame = frame.with_columns(_key=pl.Series(rng.permutation(h))).sort("partner", "_key")
        gap = pl.Series(rng.integers(1, 20, h))
        frame = frame.with_columns(_gap=gap).with_columns(
            row=(pl.int_range(pl.len()).over("partner") + 2).cast(pl.Int64),
            _num=pl.col("_gap").cum_sum().over("partner") + 1000,
        )
        frame = frame.with_columns(
            record_id=areas.gather(frame["partner"])
            + "-"
            + DATASETS[ds].code
            + frame["_num"].cast(pl.String).str.zfill(8),
        ).drop("_key", "_gap", "_num")
        for col, default in (("protect", False), ("keep_ni", False)):
            frame = frame.with_columns(
                (pl.col(col) if col in frame.columns else pl.lit(None))
                .cast(pl.Boolean)
                .fill_null(default)
                .alias(col)
            )
        if "note" not in frame.columns:
            frame = frame.with_columns(note=pl.lit(None, dtype=pl.String))
        ctx.records[ds] = frame
    cred = ctx.records["creditors"].select(
        pl.col("uid").alias("supplier_uid"),
        pl.col("record_id").alias("supplier_id"),
        "supplier_name",
    )
    ctx.records["creditor_payments"] = ctx.records["creditor_payments"].join(
        cred, on="supplier_uid", how="left", maintain_order="left"
    )


# --------------------------------------------------------------------------------------
# Truth: every pair each rule flags, from person ids and true attributes
# --------------------------------------------------------------------------------------

_PAIR_KEYS = ("rule", "left_dataset", "left_uid", "right_dataset", "right_uid")


def _truth_cases(ctx: _Ctx) -> pl.DataFrame:
    """Cases (complete: planted or arising by chance) and decoys, one row per record pair."""
    parts = [_identity_pairs(ctx, r) for r in ID_RULES]
    parts += [_spd_pairs(ctx), _payroll_creditor_pairs(ctx), _duplicate_invoice_pairs(ctx)]
    found = pl.concat(parts, how="vertical_relaxed")
    planted = pl.concat(ctx.decoys, how="vertical_relaxed").with_columns(kind=pl.lit("decoy"))
    allp = pl.concat([found, planted.select(found.columns)], how="vertical_relaxed")
    allp = _with_record_ids(ctx, allp)
    cases = allp.filter(pl.col("kind") == "case").unique(
        ["rule", "left_record_id", "right_record_id", "left_partner", "right_partner"],
        keep="first",
        maintain_order=True,
    )
    decoys = (
        allp.filter(pl.col("kind") == "decoy")
        .join(
            cases,
            on=["rule", "left_partner", "left_record_id", "right_partner", "right_record_id"],
            how="anti",
            maintain_order="left",
        )
        .unique(
            ["rule", "left_record_id", "right_record_id", "left_partner", "right_partner"],
            keep="first",
            maintain_order=True,
        )
    )
    out = pl.concat([cases, decoys]).sort(
        "rule", "kind", "left_partner", "left_record_id", "right_partner", "right_record_id"
    )
    return out


def _with_record_ids(ctx: _Ctx, pairs: pl.DataFrame) -> pl.DataFrame:
    """uids to partner names and record ids; within one dataset, the smaller id goes left."""
    names = pl.Series([n for n, _, _ in PARTNERS[: ctx.n_partners]])
    keyed = []
    for ds, frame in ctx.records.items():
        keyed.append(
            frame.select(pl.lit(ds).alias("dataset"), "uid", "partner", "record_id", "row")
        )
    ids = pl.concat(keyed)
    for side in ("left", "right"):
        pairs = pairs.join(
            ids.rename({c: f"{side}_{c}" for c in ids.columns}),
            on=[f"{side}_dataset", f"{side}_uid"],
            how="left",
            maintain_order="left",
        )
    swap = (pl.col("left_dataset") == pl.col("right_dataset")) & (
        pl.col("left_record_id") > pl.col("right_record_id")
    )
    cols = ("uid", "partner", "record_id", "row")
    pairs = pairs.with_columns(
        [
            pl.when(swap)
            .then(pl.col(f"right_{c}"))
            .otherwise(pl.col(f"left_{c}"))
            .alias(f"left_{c}")
            for c in cols
        ]
        + [
            pl.when(swap)
            .then(pl.col(f"left_{c}"))
            .otherwise(pl.col(f"right_{c}"))
            .alias(f"right_{c}")
            for c in cols
        ]
    )
    return pairs.with_columns(
        left_partner=names.gather(pairs["left_partner"]),
        right_partner=names.gather(pairs["right_partner"]),
    )


def _pairs(rule: str, left: str, right: str, frame: pl.DataFrame, kind: pl.Expr, note: pl.Expr):
    return frame.select(
        rule=pl.lit(rule),
        kind=kind,
        left_dataset=pl.lit(left),
        left_uid=pl.col("uid"),
        right_dataset=pl.lit(right),
        right_uid=pl.col("uid_r"),
        note=note,
    )


def _overlaps(a: tuple[str, str], b: tuple[str, str]) -> pl.Expr:
    """Inclusive overlap of two spells; an empty end date is still open."""
    far = pl.lit(date(9999, 12, 31))
    a_end = pl.col(a[1]).fill_null(far)
    b_end = pl.col(b[1] + "_r").fill_null(far)
    return (pl.col(a[0]) <= b_end) & (pl.col(b[0] + "_r") <= a_end)


def _identity_pairs(ctx: _Ctx, rule: _IdRule) -> pl.DataFrame:
    """Same-person pairs: cases where the time condition holds, decoys where it fails."""
    left = ctx.records[rule.left]
    right = ctx.records[rule.right]
    right = right.rename({c: f"{c}_r" for c in right.columns if c != "person_id"})
    j = left.join(right, on="person_id", how="inner", maintain_order="left_right")
    if rule.scope == "other":
        j = j.filter(pl.col("partner") != pl.col("partner_r"))
    if rule.left == rule.right:
        j = j.filter(pl.col("uid") < pl.col("uid_r"))
    cycle = pl.lit(ctx.cycle).cast(pl.Date)
    cond, fail_note = {
        "none": (pl.lit(True), ""),
        "overlap": (
            _overlaps(PERIODS[rule.left], PERIODS[rule.right])
            if rule.time == "overlap"
            else pl.lit(True),
            "same person, periods do not overlap",
        ),
        "expiry_after_death": (
            pl.col("expiry_date") > pl.col("date_of_death_r"),
            "same person, expired before the death",
        ),
        "open_at_cycle": (
            (pl.col("tenancy_start_date") <= cycle)
            & (pl.col("tenancy_end_date").is_null() | (pl.col("tenancy_end_date") >= cycle)),
            "same person, tenancy not open at the cycle date",
        ),
        "open_at_application": (
            (pl.col("tenancy_start_date_r") <= pl.col("application_date"))
            & (
                pl.col("tenancy_end_date_r").is_null()
                | (pl.col("tenancy_end_date_r") >= pl.col("application_date"))
            ),
            "same person, tenancy not open at the application date",
        ),
    }[rule.time]
    planted = pl.coalesce(pl.col("note"), pl.col("note_r"))
    kind = pl.when(cond).then(pl.lit("case")).otherwise(pl.lit("decoy"))
    note = (
        pl.when(cond)
        .then(planted.fill_null("arising in the population"))
        .otherwise(planted.fill_null(pl.lit(fail_note)))
    )
    return _pairs(rule.name, rule.left, rule.right, j, kind, note)


def _spd_pairs(ctx: _Ctx) -> pl.DataFrame:
    """Discount and register entry at the same address, of another person (see DESIGN.md)."""
    spd = ctx.records["council_tax_spd"]
    er = ctx.records["electoral_register"]
    dis = ctx.records["council_tax_disregards"]
    in_force = (
        dis.filter(_in_force(ctx.cycle))
        .select("partner", "person_id", "address_id", pl.lit(True).alias("disregarded"))
        .unique(maintain_order=True)
    )
    er = er.join(
        ctx.people.select("person_id", "dob"), on="person_id", how="left", maintain_order="left"
    )
    age = _age(np.where(er["dob"].is_null(), 0, _cols(er, "dob")[0]), ctx.cycle)
    er = er.with_columns(adult=~pl.col("dob_shown") | pl.Series(age >= 18)).join(
        in_force, on=["partner", "person_id", "address_id"], how="left", maintain_order="left"
    )
    j = spd.join(
        er, on=["partner", "address_id"], how="inner", suffix="_r", maintain_order="left_right"
    ).filter(pl.col("person_id") != pl.col("person_id_r"))
    flagged = pl.col("adult") & pl.col("disregarded").is_null()
    note = (
        pl.when(flagged)
        .then(pl.col("note").fill_null("arising in the population"))
        .otherwise(
            pl.when(pl.col("adult"))
            .then(pl.lit("other adult disregarded on the cycle date"))
            .otherwise(pl.lit("other person under 18 at the cycle date"))
        )
    )
    kind = pl.when(flagged).then(pl.lit("case")).otherwise(pl.lit("decoy"))
    return _pairs(
        "council_tax_spd_to_electoral_register",
        "council_tax_spd",
        "electoral_register",
        j,
        kind,
        note,
    )


def _payroll_creditor_pairs(ctx: _Ctx) -> pl.DataFrame:
    """An employee's bank account (sort code and number) or home address is a supplier's."""
    pay = (
        ctx.records["payroll"]
        .join(
            ctx.people.select("person_id", "sort_code", "account"),
            on="person_id",
            how="left",
            maintain_order="left",
        )
        .select("uid", "address_id", "sort_code", pl.col("account").alias("account_number"), "note")
    )
    cred = ctx.records["creditors"].select(
        pl.col("uid").alias("uid_r"),
        pl.col("address_id").alias("address_id_r"),
        "sort_code",
        "account_number",
        pl.col("note").alias("note_r"),
    )
    by_bank = pay.join(
        cred, on=["sort_code", "account_number"], how="inner", maintain_order="left_right"
    ).with_columns(why=pl.lit("same bank account"))
    by_addr = pay.join(
        cred.rename({"address_id_r": "address_id", "sort_code": "sc_r", "account_number": "an_r"}),
        on="address_id",
        how="inner",
        maintain_order="left_right",
    ).with_columns(why=pl.lit("same address"))
    both = pl.concat(
        [
            by_bank.select("uid", "uid_r", "note_r", "why"),
            by_addr.select("uid", "uid_r", "note_r", "why"),
        ]
    )
    both = both.group_by("uid", "uid_r", maintain_order=True).agg(
        pl.col("note_r").first(), pl.col("why").str.join(" and ")
    )
    note = pl.coalesce(pl.col("note_r"), pl.lit("arising in the population: ") + pl.col("why"))
    return _pairs("payroll_to_creditors", "payroll", "creditors", both, pl.lit("case"), note)


def _duplicate_invoice_pairs(ctx: _Ctx) -> pl.DataFrame:
    """Same partner, supplier and amount; same number, or within 7 days and 1 edit apart.

    Two bounded joins instead of one on (supplier, amount), which is quadratic for a busy
    supplier with a recurring amount: on the invoice number, and within week buckets.
    """
    pay = ctx.records["creditor_payments"].select(
        "uid",
        "partner",
        "supplier_uid",
        "amount_p",
        "invoice_number",
        "invoice_date",
        "note",
        week=pl.col("invoice_date").cast(pl.Int64) // 7,
    )
    key = ["partner", "supplier_uid", "amount_p"]
    right = pay.rename({c: f"{c}_r" for c in pay.columns if c not in key})
    same = pay.join(
        right,
        left_on=[*key, "invoice_number"],
        right_on=[*key, "invoice_number_r"],
        how="inner",
        maintain_order="left_right",
    ).with_columns(invoice_number_r=pl.col("invoice_number"))
    near_right = pl.concat([right.with_columns(week=pl.col("week_r") + d) for d in (-1, 0, 1)])
    near = pay.join(near_right, on=[*key, "week"], how="inner", maintain_order="left_right")
    days = (pl.col("invoice_date") - pl.col("invoice_date_r")).dt.total_days().abs()
    near = near.filter((days <= 7) & (pl.col("invoice_number") != pl.col("invoice_number_r")))
    dist = process.cpdist(
        near["invoice_number"].to_list(),
        near["invoice_number_r"].to_list(),
        scorer=Levenshtein.distance,
        workers=1,
    )
    near = near.filter(pl.Series(np.asarray(dist) == 1))
    cols = ["uid", "uid_r", "note", "note_r"]
    j = pl.concat([same.select(cols), near.select(cols)]).filter(pl.col("uid") < pl.col("uid_r"))
    j = j.unique(["uid", "uid_r"], keep="first", maintain_order=True)
    note = pl.coalesce(pl.col("note_r"), pl.col("note")).fill_null("arising in the population")
    return _pairs(
        "creditor_duplicate_payments",
        "creditor_payments",
        "creditor_payments",
        j,
        pl.lit("case"),
        note,
    )


# --------------------------------------------------------------------------------------
# Emission: the files as councils export them, with the noise of real extracts
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Style:
    """How one council's systems write files."""

    encoding: str  # utf-8 | utf-8-sig | cp1252
    headers: str  # snake | title
    dates: str  # iso | uk | mixed (per row)
    upper: bool  # names and addresses in capitals
    sort_code: str  # dash 12-34-56 | plain 123456 | space 12 34 56
    crlf: bool
    money: str  # plain 1234.50 | pounds £1,234.50


_STYLES = (
    _Style("utf-8", "snake", "iso", False, "dash", False, "plain"),
    _Style("utf-8-sig", "title", "uk", True, "plain", True, "plain"),
    _Style("cp1252", "snake", "mixed", False, "space", True, "pounds"),
    _Style("utf-8", "title", "uk", False, "dash", False, "plain"),
    _Style("utf-8", "snake", "mixed", True, "plain", False, "plain"),
)

_TITLE_WORDS = {"id": "ID", "ni": "NI", "uprn": "UPRN", "vat": "VAT"}

#: Share of rows whose optional NI number is left empty, by dataset.
_NI_MISSING = {
    "payroll": 0.05, "housing_benefit": 0.05, "council_tax_reduction": 0.1,
    "housing_tenants": 0.25, "housing_waiting_list": 0.35, "deceased": 0.2,
}  # fmt: skip

#: Identity noise, at most one per record so a record never loses all its identifiers.
_HARD = (
    ("none", 0.0), ("surname_typo", 0.008), ("surname_swap", 0.007), ("forename_typo", 0.008),
    ("forename_swap", 0.007), ("nickname", 0.05), ("initial", 0.02), ("dob_swap", 0.012),
    ("married_name", 0.004), ("temporary_ni", 0.004),
)  # fmt: skip
_HARD_P = np.array([p for _, p in _HARD])
_HARD_P[0] = 1 - _HARD_P.sum()
_H = {name: i for i, (name, _) in enumerate(_HARD)}

_IMPOSSIBLE_MD = (
    ("02", "30"), ("02", "31"), ("04", "31"), ("06", "31"), ("09", "31"), ("11", "31"),
    ("13", "05"), ("00", "12"), ("05", "00"), ("07", "32"),
)  # fmt: skip

_HB_NOTES = (
    "Change of circumstances received", "Awaiting evidence", "Overpayment recovery",
    "Landlord paid direct", "Review due", "Backdating requested",
)  # fmt: skip


def _style(partner: int, dataset: str) -> _Style:
    st = _STYLES[partner % len(_STYLES)]
    if dataset in ("deceased", "electoral_register") and st.dates == "iso":
        # These come from other systems (register office, electoral software).
        st = _Style(st.encoding, st.headers, "uk", st.upper, st.sort_code, st.crlf, st.money)
    return st


def _file_format(partner: int, dataset: str) -> str:
    if (partner, dataset) == (0, "creditors"):
        return "xlsx"
    if (partner, dataset) == (1, "payroll"):
        return "parquet"
    return "csv"


def _header(column: str, style: _Style) -> str:
    if style.headers == "snake":
        return column
    return " ".join(_TITLE_WORDS.get(w, w.capitalize()) for w in column.split("_"))


def _fmt_dates(expr: pl.Expr, style: str, u: pl.Expr) -> pl.Expr:
    iso, uk = expr.dt.strftime("%Y-%m-%d"), expr.dt.strftime("%d/%m/%Y")
    out = {"iso": iso, "uk": uk}.get(style)
    if out is None:
        out = pl.when(u < 0.5).then(iso).otherwise(uk)
    return out.fill_null("")


def _typo(col: pl.Expr, u: pl.Expr, letter: pl.Expr) -> pl.Expr:
    """One letter replaced, never the first (so phonetic blocking still has a chance)."""
    n = col.str.len_chars()
    pos = (u * (n - 1)).floor().cast(pl.Int64) + 1
    return (
        pl.when(n >= 2).then(col.str.slice(0, pos) + letter + col.str.slice(pos + 1)).otherwise(col)
    )


def _swap(col: pl.Expr, u: pl.Expr) -> pl.Expr:
    """Two neighbouring letters transposed, after the first."""
    n = col.str.len_chars()
    pos = (u * (n - 2)).floor().cast(pl.Int64) + 1
    return (
        pl.when(n >= 3)
        .then(
            col.str.slice(0, pos)
            + col.str.slice(pos + 1, 1)
            + col.str.slice(pos, 1)
            + col.str.slice(pos + 2)
        )
        .otherwise(col)
    )


def _case(col: pl.Expr, upper: bool, u: pl.Expr) -> pl.Expr:
    base = col.str.to_uppercase() if upper else col
    return (
        pl.when(u < 0.01)
        .then(col.str.to_lowercase())
        .when(u < 0.02)
        .then(col.str.to_uppercase())
        .when(u < 0.025)
        .then(col.str.to_titlecase())
        .otherwise(base)
    )


@dataclass
class _File:
    """One emitted file in the making: its rows (strings) and what was planted in it."""

    partner: int
    dataset: str
    frame: pl.DataFrame  # true record columns + people and address attributes, in row order
    style: _Style
    rng: np.random.Generator
    invalid: np.ndarray  # bool per row: a planted invalid row
    can_blank: np.ndarray  # bool per row: may carry an invalid optional value


def _emit_all(
    ctx: _Ctx, cases: pl.DataFrame
) -> tuple[dict[tuple[int, str], pl.DataFrame], pl.DataFrame, pl.DataFrame]:
    """Every file's text cells; the planted invalid rows; the invalid optional values."""
    involved = pl.concat(
        [
            cases.select(pl.col(f"{s}_dataset").alias("dataset"), pl.col(f"{s}_uid").alias("uid"))
            for s in ("left", "right")
        ]
    )
    involved = pl.concat([involved, _deciding_records(ctx)]).unique()
    nick = (
        _lexicon()
        .forenames.select(pl.col("name").alias("first"), "nicknames")
        .unique("first", keep="first", maintain_order=True)
    )
    people = ctx.people.select(
        "surname",
        "first",
        "middle",
        "sex",
        "dob",
        "ni",
        "age",
        pl.col("sort_code").alias("p_sort_code"),
        pl.col("account").alias("p_account"),
    ).join(nick, on="first", how="left", maintain_order="left")
    towns = pl.Series([t for _, _, t in PARTNERS[: ctx.n_partners]])
    addr = ctx.addresses.with_columns(town=towns.gather(ctx.addresses["partner"])).drop(
        "partner", "address_id"
    )
    emitted: dict[tuple[int, str], pl.DataFrame] = {}
    invalid_parts, blank_parts = [], []
    for ds, records in ctx.records.items():
        inv_uids = involved.filter(pl.col("dataset") == ds)["uid"].implode()
        full = pl.concat(
            [
                records.with_columns(involved=pl.col("uid").is_in(inv_uids)),
                _gather_rows(people, records["person_id"]),
                _gather_rows(addr, records["address_id"]),
            ],
            how="horizontal",
        )
        for p in range(ctx.n_partners):
            sub = full.filter(pl.col("partner") == p).sort("row")
            f = _new_file(ctx, p, ds, sub)
            cells, blanked = _cells(ctx, f)
            cells, invalid = _plant_invalid(f, cells)
            emitted[(p, ds)] = cells
            invalid_parts.append(invalid)
            blank_parts.append(blanked)
    return emitted, pl.concat(invalid_parts), pl.concat(blank_parts)


def _deciding_records(ctx: _Ctx) -> pl.DataFrame:
    """Records outside any truth pair whose presence still decides one (dataset, uid).

    A single-person discount's truth rows depend on everything registered or disregarded at
    its address: a disregard in force makes the other adult a decoy, and the holder's own
    register entry tells the holder from a same-surname adult. Such a row rejected at ingest
    (a planted invalid row) would change the answer the hub can reach, so like the rows of
    the truth pairs themselves they are kept valid.
    """
    spd = ctx.records["council_tax_spd"].select("partner", "address_id").unique()
    return pl.concat(
        [
            ctx.records[ds]
            .join(spd, on=["partner", "address_id"], how="semi")
            .select(pl.lit(ds).alias("dataset"), "uid")
            for ds in ("electoral_register", "council_tax_disregards")
        ]
    )


def _gather_rows(table: pl.DataFrame, index: pl.Series) -> pl.DataFrame:
    """Rows of `table` at `index` (ids are row numbers); null rows where the index is null."""
    return table.select(pl.all().gather(index))


def _new_file(ctx: _Ctx, partner: int, dataset: str, sub: pl.DataFrame) -> _File:
    rng = ctx.rng("emit", dataset, str(partner))
    h = sub.height
    eligible = ~(sub["involved"].to_numpy() | sub["protect"].to_numpy())
    k = max(1 if h >= 50 else 0, round(0.002 * h))
    idx = np.flatnonzero(eligible)
    invalid = np.zeros(h, dtype=bool)
    if k and len(idx) > 2 * k:
        invalid[rng.choice(idx, k, replace=False)] = True
    return _File(partner, dataset, sub, _style(partner, dataset), rng, invalid, eligible & ~invalid)


def _cells(ctx: _Ctx, f: _File) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Text cells of one file (spec columns, + the extra column) and the blanked values."""
    spec = DATASETS[f.dataset]
    rng, h = f.rng, f.frame.height
    w = f.frame.with_columns(
        [pl.Series(f"_u{i}", rng.random(h)) for i in range(12)]
        + [pl.Series("_can_blank", f.can_blank)]
    )
    if "surname" in spec.columns:
        w = _person_cells(ctx, f, w)
    if "address" in spec.columns:
        w = _address_cells(f, w)
    w = _dataset_cells(ctx, f, w)
    blank_cols = [c for c in ("ni_number", "sort_code", "postcode") if f"_bl_{c}" in w.columns]
    blanked = pl.concat(
        [
            w.filter(pl.col(f"_bl_{c}")).select(
                partner=pl.lit(PARTNERS[f.partner][0]),
                dataset=pl.lit(f.dataset),
                row=pl.col("row"),
                record_id=pl.col("record_id"),
                column=pl.lit(c),
            )
            for c in blank_cols
        ]
        or [_empty_blanked()]
    )
    cols = list(spec.columns)
    if (f.partner, f.dataset) == EXTRA_COLUMN[:2]:
        notes = pl.Series(_HB_NOTES).gather(rng.integers(0, len(_HB_NOTES), h))
        w = w.with_columns(
            notes=pl.when(pl.Series(rng.random(h) < 0.1)).then(notes).otherwise(pl.lit(""))
        )
        cols.append(EXTRA_COLUMN[2])
    cells = w.select([pl.col(c).cast(pl.String).fill_null("").alias(c) for c in cols])
    return cells, blanked.sort("row", "column")


def _empty_blanked() -> pl.DataFrame:
    return pl.DataFrame(
        schema={
            "partner": pl.String,
            "dataset": pl.String,
            "row": pl.Int64,
            "record_id": pl.String,
            "column": pl.String,
        }
    )


def _person_cells(ctx: _Ctx, f: _File, w: pl.DataFrame) -> pl.DataFrame:
    """surname, forenames, date_of_birth and ni_number with realistic identity noise."""
    rng, st, h = f.rng, f.style, w.height
    lex = _lexicon()
    cat = rng.choice(len(_HARD), h, p=_HARD_P)
    cat[w["protect"].to_numpy()] = 0
    u = [pl.col(f"_u{i}") for i in range(12)]
    titles_m = pl.Series(["Mr", "Mr.", "Dr", "MR"]).gather(rng.integers(0, 4, h))
    titles_f = pl.Series(["Mrs", "Ms", "Miss", "Dr.", "Mrs."]).gather(rng.integers(0, 5, h))
    w = w.with_columns(
        _cat=pl.Series(cat),
        _letter=pl.Series(list("abcdefghijklmnopqrstuvwxyz")).gather(rng.integers(0, 26, h)),
        _married=lex.surnames.gather(rng.choice(len(lex.surname_p), h, p=lex.surname_p)),
        _title=pl.when(pl.col("sex") == "M").then(titles_m).otherwise(titles_f),
    )
    cat_ = pl.col("_cat")
    free = ~pl.col("protect")
    sur = pl.col("surname")
    hy = sur.str.contains("-", literal=True)
    # Each step is materialised: nesting the expressions would grow them exponentially.
    w = w.with_columns(
        _sur=pl.when(hy & (u[0] < 0.25))
        .then(sur.str.replace("-", " ", literal=True))
        .when(hy & free & (cat_ == 0) & (u[0] < 0.33))
        .then(sur.str.split("-").list.first())
        .when(hy & free & (cat_ == 0) & (u[0] < 0.38))
        .then(sur.str.split("-").list.last())
        .otherwise(sur)
    )
    sur = pl.col("_sur")
    married_ok = (pl.col("sex") == "F") & pl.col("age").is_between(20, 70)
    w = w.with_columns(
        _sur=pl.when(cat_ == _H["surname_typo"])
        .then(_typo(sur, u[1], pl.col("_letter")))
        .when(cat_ == _H["surname_swap"])
        .then(_swap(sur, u[1]))
        .when((cat_ == _H["married_name"]) & married_ok)
        .then(pl.col("_married"))
        .when(u[2] < 0.01)
        .then(sur + " ")
        .otherwise(sur)
    )
    first = pl.col("first")
    nick = pl.col("nicknames").list.get(
        (u[3] * pl.col("nicknames").list.len()).floor().cast(pl.Int64), null_on_oob=True
    )
    initial = first.str.slice(0, 1) + pl.when(u[4] < 0.3).then(pl.lit(".")).otherwise(pl.lit(""))
    w = w.with_columns(
        _f1=pl.when((cat_ == _H["nickname"]) & nick.is_not_null())
        .then(nick)
        .when(cat_ == _H["initial"])
        .then(initial)
        .when(cat_ == _H["forename_typo"])
        .then(_typo(first, u[1], pl.col("_letter")))
        .when(cat_ == _H["forename_swap"])
        .then(_swap(first, u[1]))
        .otherwise(first),
        _mid=pl.when(pl.col("middle").is_null() | (u[5] < 0.3))
        .then(pl.lit(None, pl.String))
        .when(cat_ == _H["initial"])
        .then(pl.col("middle").str.slice(0, 1))
        .otherwise(pl.col("middle")),
    )
    w = w.with_columns(
        _fore=pl.when(pl.col("_mid").is_not_null())
        .then(pl.col("_f1") + " " + pl.col("_mid"))
        .otherwise(pl.col("_f1"))
    )
    fore = pl.col("_fore")
    w = w.with_columns(
        _fore=pl.when(u[6] < 0.04)
        .then(pl.col("_title") + " " + fore)
        .when(u[7] < 0.01)
        .then(" " + fore)
        .when(u[7] < 0.02)
        .then(fore.str.replace(" ", "  ", literal=True))
        .otherwise(fore)
    )
    w = w.with_columns(
        surname=_case(pl.col("_sur"), st.upper, u[8]),
        forenames=_case(pl.col("_fore"), st.upper, u[8]),
    )
    dob = pl.col("dob")
    swappable = (dob.dt.day() <= 12) & (dob.dt.day() != dob.dt.month())
    swapped = pl.date(dob.dt.year(), dob.dt.day(), dob.dt.month())
    allow = f.dataset not in ("electoral_register", "council_tax_disregards")
    dob_e = pl.when((cat_ == _H["dob_swap"]) & swappable & allow).then(swapped).otherwise(dob)
    w = w.with_columns(date_of_birth=_fmt_dates(dob_e, st.dates, u[9]))
    if "ni_number" in DATASETS[f.dataset].columns:
        w = _ni_cells(f, w)
    return w


def _ni_cells(f: _File, w: pl.DataFrame) -> pl.DataFrame:
    """NI numbers: sometimes missing, spaced or lower case; rarely a temporary 'TN' number."""
    u = pl.col("_u10")
    ni = pl.col("ni")
    shown = pl.col("show_ni") if "show_ni" in w.columns else pl.lit(True)
    missing = (~pl.col("keep_ni") & (u < _NI_MISSING.get(f.dataset, 0.2))) | ~shown | ni.is_null()
    tn = (
        (pl.col("_cat") == _H["temporary_ni"])
        & pl.col("_can_blank")
        & ~pl.col("keep_ni")
        & ~missing
    )
    spaced = pl.concat_str(
        [
            ni.str.slice(0, 2),
            ni.str.slice(2, 2),
            ni.str.slice(4, 2),
            ni.str.slice(6, 2),
            ni.str.slice(8, 1),
        ],
        separator=" ",
    )
    temp = "TN" + pl.col("dob").dt.strftime("%d%m%y") + pl.col("sex")
    v = pl.col("_u11")
    return w.with_columns(
        ni_number=pl.when(tn)
        .then(temp)
        .when(missing)
        .then(pl.lit(None, dtype=pl.String))
        .when(v < 0.2)
        .then(spaced)
        .when(v < 0.23)
        .then(ni.str.to_lowercase())
        .otherwise(ni),
        _bl_ni_number=tn,
    )


def _address_cells(f: _File, w: pl.DataFrame) -> pl.DataFrame:
    """Address line, postcode and UPRN as people type them: Rd/Road, Flat prefixes, case."""
    st = f.style
    u = [pl.col(f"_u{i}") for i in range(12)]
    stype = pl.when(u[0] < 0.2).then(pl.col("stype_abbr")).otherwise(pl.col("stype"))
    core = pl.col("number").cast(pl.String) + " " + pl.col("street") + " " + stype
    unit = pl.when(pl.col("kind") == "business").then(pl.lit("Unit")).otherwise(pl.lit("Flat"))
    flat = pl.col("flat").cast(pl.String)
    line = (
        pl.when(pl.col("flat").is_null())
        .then(core)
        .when(u[1] < 0.55)
        .then(unit + " " + flat + ", " + core)
        .when(u[1] < 0.8)
        .then(unit + " " + flat + " " + core)
        .when(u[1] < 0.9)
        .then(flat + ", " + core)
        .otherwise(core)
    )
    line = pl.when(u[2] < 0.03).then(line + ", " + pl.col("town")).otherwise(line)
    line = pl.when(pl.lit(st.upper) | (u[3] < 0.02)).then(line.str.to_uppercase()).otherwise(line)
    pc = pl.col("postcode")
    pc = (
        pl.when(u[4] < 0.10)
        .then(pc.str.replace(" ", "", literal=True))
        .when(u[4] < 0.15)
        .then(pc.str.to_lowercase())
        .when(u[4] < 0.17)
        .then(pc.str.replace(" ", "  ", literal=True))
        .otherwise(pc)
    )
    shown = pl.col("show_address") if "show_address" in w.columns else pl.lit(True)
    nfa = (pl.col("nfa") & pl.col("_can_blank")) if "nfa" in w.columns else pl.lit(False)
    none = pl.lit(None, dtype=pl.String)
    return w.with_columns(
        address=pl.when(nfa).then(pl.lit("No Fixed Abode")).when(shown).then(line).otherwise(none),
        postcode=pl.when(nfa).then(pl.lit("ZZ99 3VZ")).when(shown).then(pc).otherwise(none),
        uprn=pl.when(u[5] < 0.1).then(none).otherwise(pl.col("uprn")),
        _bl_postcode=nfa,
    )


def _sort_code_cells(col: pl.Expr, style: _Style, damaged: pl.Expr) -> pl.Expr:
    """Sort codes as written; a spreadsheet drops the leading zero of some (5 digits)."""
    s = col
    fmt = {
        "dash": pl.concat_str(
            [s.str.slice(0, 2), s.str.slice(2, 2), s.str.slice(4, 2)], separator="-"
        ),
        "space": pl.concat_str(
            [s.str.slice(0, 2), s.str.slice(2, 2), s.str.slice(4, 2)], separator=" "
        ),
        "plain": s,
    }[style.sort_code]
    return pl.when(damaged).then(s.str.slice(1)).otherwise(fmt)


def _money(pence: pl.Expr, style: _Style) -> pl.Expr:
    pounds = pence // 100
    pennies = (pence % 100).cast(pl.String).str.zfill(2)
    if style.money == "plain":
        return pounds.cast(pl.String) + "." + pennies
    th = ((pounds // 1000) % 1000).cast(pl.String)
    units = (pounds % 1000).cast(pl.String)
    grouped = (
        pl.when(pounds >= 1_000_000)
        .then(
            (pounds // 1_000_000).cast(pl.String) + "," + th.str.zfill(3) + "," + units.str.zfill(3)
        )
        .when(pounds >= 1000)
        .then(th + "," + units.str.zfill(3))
        .otherwise(units)
    )
    return "£" + grouped + "." + pennies


def _dataset_cells(ctx: _Ctx, f: _File, w: pl.DataFrame) -> pl.DataFrame:
    """The columns particular to each dataset."""
    st, rng, h, ds = f.style, f.rng, w.height, f.dataset
    u = [pl.col(f"_u{i}") for i in range(12)]
    spec = DATASETS[ds]
    out = w
    for c in spec.date_columns:
        if c != "date_of_birth":
            out = out.with_columns(_fmt_dates(pl.col(c), st.dates, u[9]).alias(c))
    if ds == "payroll":
        damaged = (
            pl.lit(st.sort_code == "plain")
            & pl.col("p_sort_code").str.starts_with("0")
            & pl.col("_can_blank")
            & (u[6] < 0.6)
        )
        out = out.with_columns(
            sort_code=_sort_code_cells(pl.col("p_sort_code"), st, damaged),
            account_number=pl.col("p_account"),
            job_title=pl.Series(JOB_TITLES).gather(rng.integers(0, len(JOB_TITLES), h)),
            _bl_sort_code=damaged,
        )
    elif ds in ("electoral_register", "council_tax_disregards"):
        out = out.with_columns(
            date_of_birth=pl.when(pl.col("dob_shown")).then(pl.col("date_of_birth"))
        )
    elif ds in ("blue_badge", "concessionary_travel"):
        col = "badge_number" if ds == "blue_badge" else "pass_number"
        area = PARTNERS[f.partner][1]
        code = (
            pl.lit(area) + ((pl.col("uid") * 7919) % 10_000_000).cast(pl.String).str.zfill(7)
            if ds == "blue_badge"
            else "633597"
            + ((pl.col("uid") * 1_000_003) % 10_000_000_000).cast(pl.String).str.zfill(10)
        )
        out = out.with_columns(code.alias(col))
    elif ds == "creditors":
        out = _creditor_cells(f, out)
    elif ds == "creditor_payments":
        out = out.with_columns(
            amount=_money(pl.col("amount_p"), st),
            supplier_name=pl.when(u[7] < 0.1).then(None).otherwise(pl.col("supplier_name")),
        )
    return out


def _creditor_cells(f: _File, w: pl.DataFrame) -> pl.DataFrame:
    st = f.style
    u = [pl.col(f"_u{i}") for i in range(12)]
    name = pl.col("supplier_name")
    name = (
        pl.when(u[6] < 0.1).then(name.str.replace(" Ltd", " Limited", literal=True)).otherwise(name)
    )
    vat = pl.col("vat_number")
    vat = (
        pl.when(u[7] < 0.2)
        .then(
            pl.concat_str(
                [
                    vat.str.slice(0, 2),
                    vat.str.slice(2, 3),
                    vat.str.slice(5, 4),
                    vat.str.slice(9, 2),
                ],
                separator=" ",
            )
        )
        .when(u[7] < 0.3)
        .then(vat.str.slice(2))
        .otherwise(vat)
    )
    damaged = (
        pl.lit(st.sort_code == "plain")
        & pl.col("sort_code").str.starts_with("0")
        & pl.col("_can_blank")
        & (u[8] < 0.6)
    )
    return w.with_columns(
        supplier_name=_case(name, st.upper, u[9]),
        vat_number=vat,
        sort_code=_sort_code_cells(pl.col("sort_code"), st, damaged),
        _bl_sort_code=damaged,
    )


def _plant_invalid(f: _File, cells: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Break the chosen rows in a required column, each with one stated problem."""
    spec, rng = DATASETS[f.dataset], f.rng
    rows = np.flatnonzero(f.invalid)
    k = len(rows)
    schema = {
        "partner": pl.String,
        "dataset": pl.String,
        "row": pl.Int64,
        "record_id": pl.String,
        "column": pl.String,
        "problem": pl.String,
    }
    if k == 0:
        return cells, pl.DataFrame(schema=schema)
    req_dates = [c for c in spec.date_columns if c in spec.required]
    problems = ["missing_required", "duplicate_record_id"]
    if req_dates:
        problems += ["impossible_date", "invalid_date_format"]
    if "postcode" in spec.required:
        problems.append("invalid_postcode")
    problem = np.array(problems)[rng.integers(0, len(problems), k)]
    others = [c for c in spec.columns if c in spec.required and c != "record_id"]
    column = np.where(
        problem == "missing_required",
        np.array(others)[rng.integers(0, len(others), k)],
        np.where(problem == "invalid_postcode", "postcode", "record_id"),
    )
    is_date = np.isin(problem, ["impossible_date", "invalid_date_format"])
    if req_dates:
        column = np.where(is_date, np.array(req_dates)[rng.integers(0, len(req_dates), k)], column)
    value = _bad_values(f, problem, rng)
    columns = {c: cells[c].clone() for c in cells.columns}
    for c in np.unique(column):
        m = (column == c) & (problem != "duplicate_record_id")
        if m.any():
            columns[str(c)] = columns[str(c)].scatter(rows[m], value.filter(pl.Series(m)))
    dup = problem == "duplicate_record_id"
    pool = np.flatnonzero(f.can_blank & ~f.invalid)
    sources = rng.choice(pool, int(dup.sum()), replace=False) if dup.any() else np.array([], int)
    ids = columns["record_id"]
    if dup.any():
        ids = ids.scatter(rows[dup], ids.gather(sources))
    columns["record_id"] = ids
    out = pl.DataFrame(columns)
    listed_rows = np.concatenate([rows, sources])
    listed_problem = np.concatenate([problem, np.full(len(sources), "duplicate_record_id")])
    listed_col = np.concatenate([column, np.full(len(sources), "record_id")])
    report = pl.DataFrame(
        {
            "partner": PARTNERS[f.partner][0],
            "dataset": f.dataset,
            "row": (listed_rows + 2).astype(np.int64),
            "record_id": ids.gather(listed_rows),
            "column": listed_col,
            "problem": listed_problem,
        },
        schema=schema,
    ).sort("row", "column")
    return out, report


def _bad_values(f: _File, problem: np.ndarray, rng: np.random.Generator) -> pl.Series:
    """Impossible dates, dates in formats no one accepts, malformed postcodes; or empty."""
    k = len(problem)
    area = PARTNERS[f.partner][1]
    y = pl.Series(rng.integers(1940, 2026, k)).cast(pl.String)
    md = rng.integers(0, len(_IMPOSSIBLE_MD), k)
    mm = pl.Series([m for m, _ in _IMPOSSIBLE_MD]).gather(md)
    dd = pl.Series([d for _, d in _IMPOSSIBLE_MD]).gather(md)
    iso = rng.random(k) < {"iso": 1.0, "uk": 0.0}.get(f.style.dates, 0.5)
    impossible = pl.select(
        pl.when(pl.Series(iso)).then(y + "-" + mm + "-" + dd).otherwise(dd + "/" + mm + "/" + y)
    ).to_series()
    real = _dates(_day(date(1950, 1, 1)) + rng.integers(0, 27_000, k))
    fmt = pl.Series(rng.integers(0, 3, k))
    # Month first or run together: no reader of ISO or UK dates (even a lenient one that
    # takes "12 Feb 1984") can read these.
    wrong_format = pl.select(
        pl.when(fmt == 0)
        .then(real.dt.strftime("%B %d %Y"))
        .when(fmt == 1)
        .then(real.dt.strftime("%b %d, %Y"))
        .otherwise(real.dt.strftime("%Y%m%d"))
    ).to_series()
    district = pl.Series(rng.integers(1, 30, k)).cast(pl.String)
    digit = pl.Series(rng.integers(0, 10, k)).cast(pl.String)
    bad = pl.Series(["CI", "KO", "MV", "IC", "OK"]).gather(rng.integers(0, 5, k))
    good = pl.Series(["AB", "DE", "HJ", "LN", "XY"]).gather(rng.integers(0, 5, k))
    shape = pl.Series(rng.integers(0, 4, k))
    postcode = pl.select(
        pl.when(shape == 0)
        .then(area + district)
        .when(shape == 1)
        .then(area + district + " " + digit + bad)
        .when(shape == 2)
        .then("Q" + area[1] + district + " " + digit + good)
        .otherwise(area + district + " " + good + digit)
    ).to_series()
    return pl.select(
        pl.when(pl.Series(problem == "impossible_date"))
        .then(impossible)
        .when(pl.Series(problem == "invalid_date_format"))
        .then(wrong_format)
        .when(pl.Series(problem == "invalid_postcode"))
        .then(postcode)
        .otherwise(pl.lit(""))
    ).to_series()


# --------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------

_XLSX_CREATED = datetime(2026, 1, 1)  # fixed workbook timestamp: same seed, same bytes


def _write_table(frame: pl.DataFrame, path: Path, fmt: str, style: _Style) -> None:
    """Write text cells as the council's system would: CSV (encoding, BOM, CRLF), XLSX, Parquet."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    frame = frame.with_columns(pl.all().replace("", None))  # an empty cell, not ""
    if fmt == "csv":
        eol = "\r\n" if style.crlf else "\n"
        if style.encoding == "cp1252":
            data = frame.write_csv(line_terminator=eol).encode("cp1252")
        else:
            buf = io.BytesIO()
            frame.write_csv(buf, line_terminator=eol, include_bom=style.encoding == "utf-8-sig")
            data = buf.getvalue()
        tmp.write_bytes(data)
    else:
        if fmt == "parquet":
            frame.write_parquet(tmp)
        else:
            import xlsxwriter

            wb = xlsxwriter.Workbook(str(tmp))
            wb.set_properties({"created": _XLSX_CREATED})
            frame.write_excel(wb, worksheet=path.stem, autofilter=False)
            wb.close()
    tmp.replace(path)


def _write_all(
    ctx: _Ctx,
    out_dir: Path,
    emitted: dict[tuple[int, str], pl.DataFrame],
    cases: pl.DataFrame,
    invalid: pl.DataFrame,
    blanked: pl.DataFrame,
    cycle_date: date,
) -> SynthResult:
    names = [n for n, _, _ in PARTNERS[: ctx.n_partners]]
    files: dict[str, dict[str, Path]] = {n: {} for n in names}
    counts: dict[str, dict[str, int]] = {n: {} for n in names}
    manifest_files, records = [], []
    for (p, ds), cells in emitted.items():
        fmt, st = _file_format(p, ds), _style(p, ds)
        path = out_dir / names[p] / f"{ds}.{fmt}"
        headed = cells.rename({c: _header(c, st) for c in cells.columns})
        _write_table(headed, path, fmt, st)
        files[names[p]][ds] = path
        counts[names[p]][ds] = cells.height
        manifest_files.append(
            {
                "partner": names[p],
                "dataset": ds,
                "path": str(path.relative_to(out_dir)),
                "rows": cells.height,
                "format": fmt,
                "encoding": st.encoding if fmt == "csv" else None,
                "headers": st.headers,
                "dates": st.dates,
                "extra_columns": [c for c in cells.columns if c not in DATASETS[ds].columns],
            }
        )
        rec = ctx.records[ds].filter(pl.col("partner") == p).sort("row")
        records.append(
            pl.DataFrame(
                {
                    "partner": names[p],
                    "dataset": ds,
                    "record_id": cells["record_id"],
                    "person_id": rec["person_id"],
                    "row": rec["row"],
                }
            )
        )
    truth_dir = out_dir / "truth"
    truth_dir.mkdir(parents=True, exist_ok=True)
    truth = {
        "records": truth_dir / "records.parquet",
        "cases": truth_dir / "cases.csv",
        "invalid_rows": truth_dir / "invalid_rows.csv",
        "blanked_values": truth_dir / "blanked_values.csv",
    }
    pl.concat(records).write_parquet(truth["records"])
    cases.select(TRUTH_CASE_COLUMNS).write_csv(truth["cases"])
    invalid.sort("partner", "dataset", "row", "column").write_csv(truth["invalid_rows"])
    blanked = blanked.join(
        invalid.select("partner", "dataset", "row"),
        on=["partner", "dataset", "row"],
        how="anti",
        maintain_order="left",
    )
    blanked.sort("partner", "dataset", "row", "column").write_csv(truth["blanked_values"])
    manifest = out_dir / "manifest.json"
    manifest.write_text(
        json.dumps(
            {
                "generator": "fraudmatch.synth",
                "seed": ctx.seed,
                "people": ctx.n_people,
                "partners": names,
                "cycle_date": cycle_date.isoformat(),
                "files": manifest_files,
                "truth": {k: str(v.relative_to(out_dir)) for k, v in truth.items()},
                "truth_counts": {
                    "cases": cases.filter(pl.col("kind") == "case").height,
                    "decoys": cases.filter(pl.col("kind") == "decoy").height,
                    "invalid_rows": invalid.height,
                    "blanked_values": blanked.height,
                },
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    return SynthResult(
        out_dir=out_dir,
        partners=names,
        people=ctx.n_people,
        row_counts=counts,
        files=files,
        truth=truth,
        manifest=manifest,
    )

"""The second population's service records: who is on each council's 13 lists (true values).

Each dataset is one frame of true values: council, person_id (none for suppliers), address_id,
the dataset's own dates as day numbers (NO_DAY = none) and attributes. Rendering (how a
council writes them, what it leaves out) happens later, in `render`.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from fraudmatch.synth.wild.people import NO_DAY

JOBS = (
    "Social Worker", "Care Assistant", "Refuse Loader", "Teaching Assistant", "Gardener",
    "Revenues Officer", "Planning Technician", "Accounts Assistant", "Library Assistant",
    "Housing Officer", "Cook", "Caretaker", "Environmental Health Officer", "Team Manager",
)  # fmt: skip

#: (start, end) columns of the datasets whose records are spells of time.
SPELLS = {
    "payroll": ("start_date", "end_date"),
    "housing_benefit": ("claim_start_date", "claim_end_date"),
    "council_tax_reduction": ("claim_start_date", "claim_end_date"),
    "housing_tenants": ("tenancy_start_date", "tenancy_end_date"),
}


def rows(
    council: np.ndarray, person_id: np.ndarray | None, address_id: np.ndarray, **cols: object
) -> pl.DataFrame:
    """A frame of true records; day-number columns end in `_date`/`date_of_*` (NO_DAY = none)."""
    n = len(council)
    data: dict[str, object] = {
        "council": pl.Series(np.asarray(council), dtype=pl.Int32),
        "person_id": pl.Series(
            np.asarray(person_id) if person_id is not None else [None] * n, dtype=pl.Int64
        ),
        "address_id": pl.Series(np.asarray(address_id), dtype=pl.Int64),
    }
    for k, v in cols.items():
        if isinstance(v, np.ndarray) and v.dtype == object:
            v = pl.Series(v.tolist(), dtype=pl.String)
        data[k] = v
    return pl.DataFrame(data)


def spell(
    rng: np.random.Generator, n: int, cycle: int, back: int, ended: float, dob: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Start up to `back` days ago (never before 18); a share `ended` closed before the cycle."""
    start = np.maximum(cycle - rng.integers(20, back, n), dob + 18 * 366)
    start = np.minimum(start, cycle - 20)
    end = np.minimum(start + rng.integers(60, 3000, n), cycle - rng.integers(1, 400, n))
    return start, np.where((rng.random(n) < ended) & (end > start), end, NO_DAY)


def _some(rng: np.random.Generator, frame: pl.DataFrame, p: float) -> pl.DataFrame:
    return frame.filter(pl.Series(rng.random(frame.height) < min(1.0, p)))


def natural(
    rng: np.random.Generator, people: pl.DataFrame, accounts: pl.DataFrame, cycle: int
) -> dict[str, pl.DataFrame]:
    """Every council's person lists, each drawn from its own residents at its own rates."""
    alive = people.filter(pl.col("dod") == NO_DAY)
    adults = alive.filter(pl.col("age") >= 18)
    n_c = int(people["council"].max()) + 1
    rate = rng.uniform(0.7, 1.3, (n_c, 8))  # councils differ in how many claim, rent, ...
    out: dict[str, pl.DataFrame] = {}

    def draw(frame: pl.DataFrame, base: float, k: int) -> pl.DataFrame:
        r = rate[frame["council"].to_numpy(), k] * base
        return frame.filter(pl.Series(rng.random(frame.height) < r))

    def base_cols(f: pl.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return f["council"].to_numpy(), f["person_id"].to_numpy(), f["address_id"].to_numpy()

    emp = draw(adults.filter(pl.col("age") <= 66), 0.05, 0)
    emp = emp.join(accounts, on="person_id", how="left", maintain_order="left")
    s, e = spell(rng, emp.height, cycle, 9000, 0.15, emp["dob"].to_numpy())
    out["payroll"] = rows(
        *base_cols(emp),
        start_date=s,
        end_date=e,
        sort_code=emp["sort_code"],
        account_number=emp["account_number"],
        job_title=np.array(JOBS, dtype=object)[rng.integers(0, len(JOBS), emp.height)],
    )
    heads = adults.filter(pl.col("role").is_in(["head", "elder"]))
    hb = draw(heads, 0.08, 1)
    s, e = spell(rng, hb.height, cycle, 3000, 0.2, hb["dob"].to_numpy())
    out["housing_benefit"] = rows(*base_cols(hb), claim_start_date=s, claim_end_date=e)
    ctr = pl.concat([_some(rng, hb, 0.75), draw(heads, 0.04, 2)]).unique(
        "person_id", keep="first", maintain_order=True
    )
    s, e = spell(rng, ctr.height, cycle, 3000, 0.15, ctr["dob"].to_numpy())
    out["council_tax_reduction"] = rows(*base_cols(ctr), claim_start_date=s, claim_end_date=e)

    students = adults.filter(pl.col("age") <= 22)
    dis = pl.concat(
        [
            _some(rng, students, 0.3).with_columns(reason=pl.lit("student")),
            _some(rng, adults.filter(pl.col("age") > 30), 0.006).with_columns(
                reason=pl.lit("carer")
            ),
        ]
    )
    ds = cycle - rng.integers(30, 1500, dis.height)
    de = np.where(rng.random(dis.height) < 0.3, cycle - rng.integers(1, 25, dis.height), NO_DAY)
    out["council_tax_disregards"] = rows(
        *base_cols(dis),
        start_date=ds,
        end_date=np.where(de > ds, de, NO_DAY),
        disregard_reason=dis["reason"],
        date_of_birth=dis["dob"].to_numpy(),
    )
    in_force = out["council_tax_disregards"].filter(pl.col("end_date") == NO_DAY)
    counted = adults.join(in_force.select("person_id"), on="person_id", how="anti")
    alone = counted.filter(pl.len().over("address_id") == 1)
    spd = _some(rng, alone, 0.8)
    out["council_tax_spd"] = rows(
        *base_cols(spd), discount_start_date=cycle - rng.integers(40, 6000, spd.height)
    )
    reg = pl.concat([_some(rng, adults, 0.9), _some(rng, alive.filter(pl.col("age") == 17), 0.8)])
    out["electoral_register"] = rows(
        *base_cols(reg),
        date_of_birth=np.where(reg["age"].to_numpy() < 18, reg["dob"].to_numpy(), NO_DAY),
    )
    old = alive.filter(pl.col("age") >= 60)
    badge = pl.concat([draw(old, 0.05, 3), draw(adults.filter(pl.col("age") < 60), 0.006, 3)])
    issue = cycle - rng.integers(0, 1090, badge.height)
    out["blue_badge"] = rows(
        *base_cols(badge),
        issue_date=issue,
        expiry_date=issue + 1095,
        badge_number=_serial(rng, badge.height, "BB"),
    )
    travel = draw(alive.filter(pl.col("age") >= 66), 0.2, 4)
    issue = cycle - rng.integers(0, 1800, travel.height)
    out["concessionary_travel"] = rows(
        *base_cols(travel),
        issue_date=issue,
        expiry_date=issue + 1826,
        pass_number=_serial(rng, travel.height, "CP"),
    )
    dead = people.filter(pl.col("dod") != NO_DAY)
    elsewhere = (rng.random(dead.height) < 0.08) & (n_c > 1)
    reg_council = np.where(
        elsewhere, (dead["council"].to_numpy() + 1) % max(1, n_c), dead["council"].to_numpy()
    )
    out["deceased"] = rows(
        reg_council,
        dead["person_id"].to_numpy(),
        dead["address_id"].to_numpy(),
        date_of_death=dead["dod"].to_numpy(),
    )
    tenant_hh = draw(heads.filter(pl.col("role") == "head"), 0.11, 5)
    s, e = spell(rng, tenant_hh.height, cycle, 9000, 0.06, tenant_hh["dob"].to_numpy())
    out["housing_tenants"] = rows(*base_cols(tenant_hh), tenancy_start_date=s, tenancy_end_date=e)
    waiting = adults.join(tenant_hh.select("person_id"), on="person_id", how="anti")
    waiting = draw(waiting, 0.02, 6)
    out["housing_waiting_list"] = rows(
        *base_cols(waiting), application_date=cycle - rng.integers(5, 1500, waiting.height)
    )
    return out


def _serial(rng: np.random.Generator, n: int, prefix: str) -> np.ndarray:
    return np.char.add(prefix, rng.integers(1_000_000, 9_999_999, n).astype(str)).astype(object)

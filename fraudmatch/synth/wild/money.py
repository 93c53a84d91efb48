"""The second population's suppliers and invoices, with planted money cases and look-alikes.

Cases: an employee's own bank account or home address on the creditors file; an invoice
keyed twice (same number, or a number one character off within a week). Hard negatives: a
supplier next door to an employee, monthly fees of one amount with consecutive numbers.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from faker.providers.company import Provider as FakerCompany

from fraudmatch.synth.wild.people import NO_DAY, Names, text
from fraudmatch.synth.wild.services import rows

TRADES = ("Plumbing", "Roofing", "Electrical", "Cleaning", "Catering", "Fencing", "Haulage",
          "Print", "Security", "Scaffolding", "Joinery", "Tree Care", "Couriers")  # fmt: skip


def accounts(rng: np.random.Generator, people: pl.DataFrame) -> pl.DataFrame:
    """A personal bank account (sort code, account number) for every adult."""
    adults = people.filter(pl.col("age") >= 18)
    n = adults.height
    sort = np.char.zfill(rng.integers(1_000, 999_999, 400).astype(str), 6)
    acct = 10_000_000 + rng.choice(89_000_000, n, replace=False)
    return pl.DataFrame(
        {
            "person_id": adults["person_id"],
            "sort_code": text(sort[rng.integers(0, 400, n)].astype(object)),
            "account_number": text(acct.astype(str).astype(object)),
        }
    )


def creditors(
    rng: np.random.Generator, addresses: pl.DataFrame, names: Names, n_councils: int, size: int
) -> pl.DataFrame:
    """Companies at unoccupied premises of each council, with their own accounts."""
    frames = []
    suffix = np.array(FakerCompany.company_suffixes, dtype=object)
    trades = np.array(TRADES, dtype=object)
    for c in range(n_councils):
        free = addresses.filter((pl.col("council") == c) & ~pl.col("occupied"))
        k = min(max(40, size // 40), free.height // 2)
        name = np.where(
            rng.random(k) < 0.5,
            names.surname(rng, k) + " " + trades[rng.integers(0, len(trades), k)],
            names.surname(rng, k) + " " + suffix[rng.integers(0, len(suffix), k)],
        )
        frames.append(
            rows(
                np.full(k, c),
                None,
                free["address_id"].to_numpy()[-k:],
                supplier_name=name,
                sort_code=np.char.zfill(rng.integers(1_000, 999_999, k).astype(str), 6).astype(
                    object
                ),
                account_number=(20_000_000 + rng.choice(70_000_000, k, replace=False))
                .astype(str)
                .astype(object),
                company_number=np.where(
                    rng.random(k) < 0.7,
                    np.char.zfill(rng.integers(100_000, 16_000_000, k).astype(str), 8),
                    None,
                ).astype(object),
                vat_number=np.where(
                    rng.random(k) < 0.5,
                    np.char.add("GB", rng.integers(10**8, 10**9, k).astype(str)),
                    None,
                ).astype(object),
            )
        )
    out = pl.concat(frames)
    return out.with_columns(supplier=pl.int_range(0, out.height, dtype=pl.Int64))


def payments(rng: np.random.Generator, cred: pl.DataFrame, cycle: int) -> pl.DataFrame:
    """A year of invoices: one number series per supplier, monthly fees for some."""
    n_sup = cred.height
    counts = rng.integers(2, 12, n_sup)
    monthly = rng.random(n_sup) < 0.12
    sup = np.repeat(np.arange(n_sup), counts)
    k = np.arange(len(sup)) - (np.cumsum(counts) - counts)[sup]
    base = rng.integers(1_000, 90_000, n_sup)
    fee = np.round(np.exp(rng.normal(6, 1.2, n_sup)), 2)
    amount = np.where(monthly[sup], fee[sup], np.round(np.exp(rng.normal(6.5, 1.4, len(sup))), 2))
    date = np.where(
        monthly[sup], cycle - 31 * k - 5, cycle - rng.integers(1, 360, len(sup)) - 7 * k
    )
    number = base[sup] + k * np.where(monthly[sup], 1, rng.integers(1, 30, len(sup)))
    return rows(
        cred["council"].to_numpy()[sup],
        None,
        np.zeros(len(sup), dtype=np.int64),
        supplier=sup.astype(np.int64),
        invoice_number=np.char.add("INV", np.char.zfill(number.astype(str), 6)).astype(object),
        invoice_date=date,
        amount=amount,
        payment_date=np.where(date + 30 < cycle, date + 30, NO_DAY),
        monthly=monthly[sup],
    )


def plant_money(
    rng: np.random.Generator,
    recs: dict[str, pl.DataFrame],
    addresses: pl.DataFrame,
    acct: pl.DataFrame,
    n_cases: int,
    cycle: int,
) -> list[pl.DataFrame]:
    """Employees paid as suppliers, duplicate invoices; and their look-alikes (hard negatives).

    Returns decoy pairs (rule, left/right dataset and row, label)."""
    decoys = []
    pay = recs["payroll"].with_row_index("row")
    cred = recs["creditors"]
    emp = pay.sample(min(2 * n_cases, pay.height), seed=int(rng.integers(1 << 31)))
    own, home = emp.head(n_cases), emp.tail(emp.height - n_cases)
    k = own.height
    new = rows(
        own["council"].to_numpy(),
        None,
        cred.sample(k, seed=int(rng.integers(1 << 31)), with_replacement=True)["address_id"],
        supplier_name=(
            np.array(["Consulting", "Services", "Supplies"], dtype=object)[rng.integers(0, 3, k)]
        ),
        sort_code=own["sort_code"],
        account_number=own["account_number"],
        company_number=np.full(k, None, dtype=object),
        vat_number=np.full(k, None, dtype=object),
    )
    hk = home.height
    at_home = rows(
        home["council"].to_numpy(),
        None,
        home["address_id"].to_numpy(),
        supplier_name=np.array(["Home Repairs", "Garden Care", "Tuition"], dtype=object)[
            rng.integers(0, 3, hk)
        ],
        sort_code=np.char.zfill(rng.integers(1_000, 999_999, hk).astype(str), 6).astype(object),
        account_number=(95_000_000 + np.arange(hk)).astype(str).astype(object),
        company_number=np.full(hk, None, dtype=object),
        vat_number=np.full(hk, None, dtype=object),
    )
    # hard negative: a supplier next door (the next address on the same street)
    nd = pay.sample(min(n_cases, pay.height), seed=int(rng.integers(1 << 31)))
    nxt = nd.select("row", "council", address_id=pl.col("address_id") + 1).join(
        addresses.select("address_id", "council"), on=["address_id", "council"], how="semi"
    )
    nk = nxt.height
    next_door = rows(
        nxt["council"].to_numpy(),
        None,
        nxt["address_id"].to_numpy(),
        supplier_name=np.full(nk, "Neighbourhood Builders Ltd", dtype=object),
        sort_code=np.char.zfill(rng.integers(1_000, 999_999, nk).astype(str), 6).astype(object),
        account_number=(96_000_000 + np.arange(nk)).astype(str).astype(object),
        company_number=np.full(nk, None, dtype=object),
        vat_number=np.full(nk, None, dtype=object),
    )
    start = cred.height
    added = pl.concat([new, at_home, next_door], how="diagonal_relaxed")
    added = added.with_columns(supplier=pl.int_range(start, start + added.height, dtype=pl.Int64))
    recs["creditors"] = pl.concat([cred, added], how="diagonal_relaxed")
    nd_rows = np.arange(start + k + hk, start + k + hk + nk)
    decoys.append(
        pl.DataFrame(
            {
                "rule": "payroll_to_creditors",
                "left_dataset": "payroll",
                "left_row": nxt["row"].cast(pl.Int64),
                "right_dataset": "creditors",
                "right_row": pl.Series(nd_rows, dtype=pl.Int64),
                "label": "neighbour",
            }
        )
    )
    decoys.append(_duplicate_invoices(rng, recs, n_cases, cycle))
    return decoys


def _duplicate_invoices(
    rng: np.random.Generator, recs: dict[str, pl.DataFrame], n: int, cycle: int
) -> pl.DataFrame:
    """Invoices keyed twice; and monthly fees whose next invoice looks alike (hard negative)."""
    pay = recs["creditor_payments"]
    one_off = pay.with_row_index("row").filter(~pl.col("monthly"))
    src = one_off.sample(min(n, one_off.height), seed=int(rng.integers(1 << 31)))
    k = src.height
    retyped = rng.random(k) < 0.5
    number = src["invoice_number"].to_numpy().astype(str)
    last = np.array([s[-1] for s in number])  # k values, a few dozen at most
    other = np.where(last == "9", "8", "9")
    changed = np.char.add(np.array([s[:-1] for s in number]), other)
    dup = src.drop("row").with_columns(
        invoice_number=text(np.where(retyped, changed, number).astype(object)),
        invoice_date=pl.col("invoice_date") + pl.Series(rng.integers(0, 6, k)),
    )
    recs["creditor_payments"] = pl.concat([pay, dup])
    monthly = pay.with_row_index("row").filter(pl.col("monthly"))
    # consecutive monthly invoices of one supplier: same amount, numbers one apart, 31 days
    pairs = monthly.join(
        monthly.select("supplier", "amount", "row", "invoice_date"),
        on=["supplier", "amount"],
        suffix="_b",
    ).filter((pl.col("invoice_date") - pl.col("invoice_date_b")).is_between(28, 33))
    pairs = pairs.head(n)
    return pl.DataFrame(
        {
            "rule": "creditor_duplicate_payments",
            "left_dataset": "creditor_payments",
            "left_row": pairs["row"].cast(pl.Int64),
            "right_dataset": "creditor_payments",
            "right_row": pairs["row_b"].cast(pl.Int64),
            "label": "monthly_fee",
        }
    )

"""Planted money cases: employees paid as suppliers, and duplicate invoices."""

from __future__ import annotations

import numpy as np
import polars as pl

from fraudmatch.synth.context import Ctx, as_arrays, record_frame
from fraudmatch.synth.suppliers import company_names
from fraudmatch.synth.vocabulary import NULL_DAY, TRADES


def plant_payroll_creditors(ctx: Ctx) -> None:
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
        .otherwise(company_names(rng, n, "Regional"))
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
        record_frame(
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


def _business_addresses(ctx: Ctx, rng: np.random.Generator, partners: np.ndarray) -> np.ndarray:
    bus = ctx.addresses.filter(pl.col("kind") == "business")
    out = np.zeros(len(partners), dtype=np.int64)
    for p in np.unique(partners):
        ids = bus.filter(pl.col("partner") == p)["address_id"].to_numpy()
        m = partners == p
        out[m] = ids[rng.integers(0, len(ids), int(m.sum()))]
    return out


def _next_door(ctx: Ctx, address_id: np.ndarray) -> np.ndarray:
    """The next (or previous) number on the same street."""
    a = ctx.addresses
    key = a["street_key"].to_numpy()
    nxt = np.minimum(address_id + 1, a.height - 1)
    same = key[nxt] == key[address_id]
    return np.where(same & (nxt != address_id), nxt, address_id - 1)


def plant_duplicate_invoices(ctx: Ctx) -> None:
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
    d = as_arrays(base, "invoice_date")[0]
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
        record_frame(
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

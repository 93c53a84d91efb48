"""Suppliers and their payments: creditors, creditor_payments and the truth of the two
money rules.

Why: a supplier paid into an employee's own bank account, or trading from an employee's
home, is a lead whoever the supplier says it is; and the same invoice paid twice is a loss
whatever the invoice is for. The truth is read from what is true, not from how it is
written: a creditor and a payroll record are a case when the bank account (sort code and
account number) is the employee's own or the supplier's premises are the employee's home;
two payments are a case when one partner paid one supplier the same amount twice, under
the same invoice number, or under numbers one keying slip apart with invoice dates at most
six days apart (none is 4 to 12 days apart: the later of such a pair is not written, so no
case hangs on the boundary). Hard negatives: a supplier next door or in the other flat of the same
building ("neighbour"), an account one digit from the employee's at the same branch
("same_branch"), monthly invoices of one amount numbered in sequence ("recurring"), the
same invoice number and amount from another supplier ("other_supplier"), and a re-keyed
number within days for another amount ("other_amount").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from fraudmatch.synth.fourth.councils import Council
from fraudmatch.synth.fourth.people import STREETS, Homes

_TRADE = np.array(
    "BUILDING|PLUMBING|ELECTRICAL|CLEANING|CATERING|TRANSPORT|ROOFING|SECURITY|GARDENING|"
    "DECORATING|CONSULTANCY|CARE SERVICES|IT SOLUTIONS|WASTE|JOINERY".split("|"),
    dtype=object,
)
_FIRM = np.array(
    "NORTHGATE|APEX|CASTLEFORD|MERIDIAN|SUMMIT|RIVERSIDE|HIGHLAND|ALBION|PHOENIX|CROWN|"
    "UNITY|KESTREL|BECKSIDE|ORCHARD|BRIDGEWATER|LANTERN".split("|"),
    dtype=object,
)
_ESTATE = np.array("ENTERPRISE PARK|TRADING ESTATE|BUSINESS CENTRE|INDUSTRIAL ESTATE".split("|"))
_SLIPS = ("change", "add", "drop", "swap")


def bank(pid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A person's own sort code and account number (one per person, whatever the record)."""
    p = pid.astype(np.int64)
    sort = [f"{20 + x % 70:02d}-{x // 70 % 100:02d}-{x % 97:02d}" for x in p]
    acc = [f"{(x * 7919) % 10**8:08d}" for x in p]
    return np.array(sort, dtype=object), np.array(acc, dtype=object)


def home_line(homes: Homes, h: np.ndarray) -> np.ndarray:
    """A dwelling as a supplier's form gives it: flat and house number, street, town."""
    val, unit = homes.unit_val[h], homes.unit[h]
    road = homes.number[h].astype(str).astype(object) + " " + STREETS[homes.street[h]]
    flat = np.where(val != "", "FLAT " + val + ", ", "")
    flat = np.where(unit == 0, "", flat)
    return flat + road + ", " + homes.town[h]


def address_key(homes: Homes, h: np.ndarray) -> np.ndarray:
    """What makes two addresses one: council, street, number and flat."""
    return (
        homes.council[h].astype(str).astype(object) + "|" + homes.street[h].astype(str)
        + "|" + homes.number[h].astype(str) + "|" + homes.unit_val[h].astype(str)
    )  # fmt: skip


def osa_one(a: str, b: str) -> bool:
    """One keying slip apart: one character changed, added or dropped, or two neighbours
    swapped."""
    if a == b:
        return False
    la, lb = len(a), len(b)
    if la == lb:
        diff = [i for i in range(la) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        return (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    if abs(la - lb) != 1:
        return False
    short, long_ = (a, b) if la < lb else (b, a)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))


def _slip(rng: np.random.Generator, s: str) -> str:
    """The invoice number re-keyed with one slip (never the same number)."""
    digits = [i for i, ch in enumerate(s) if ch.isdigit()]
    i = int(rng.choice(digits))
    kind = _SLIPS[int(rng.integers(0, 4))]
    if kind == "swap" and i + 1 < len(s) and s[i] != s[i + 1]:
        return s[:i] + s[i + 1] + s[i] + s[i + 2 :]
    if kind == "add":
        return s[:i] + str(rng.integers(0, 10)) + s[i:]
    if kind == "drop" and len(digits) > 1:
        return s[:i] + s[i + 1 :]
    return s[:i] + str((int(s[i]) + 1 + int(rng.integers(0, 8))) % 10) + s[i + 1 :]


@dataclass
class Money:
    """Per council: the creditors (cells as text, true address key, person) and who a
    sole trader is (-1 for a company)."""

    creditors: dict[int, pl.DataFrame]
    person: dict[int, np.ndarray]  # creditor's person id (a sole trader), else -1


def build_money(
    rng: np.random.Generator,
    councils: list[Council],
    homes: Homes,
    payroll: pl.DataFrame,
    people: int,
    k: int,
    d: int,
    cycle: int,
) -> Money:
    """Suppliers and payments per council, planted cases and hard negatives.

    ``payroll`` holds the written payroll records: partner, record position ``i``, person
    ``pid``, dwelling ``home`` and ``has_address``.
    """
    n_c = len(councils)
    per = max(40, people // (80 * n_c))
    rows = []  # (council, name, line, postcode, sort, acc, company, vat, address key, pid, tag)
    for c, council in enumerate(councils):
        n = per
        firm = _FIRM[rng.integers(0, len(_FIRM), n)]
        trade = _TRADE[rng.integers(0, len(_TRADE), n)]
        suffix = np.array(["LTD", "LIMITED", "& CO", "LLP", "SERVICES LTD"], dtype=object)[
            rng.integers(0, 5, n)
        ]
        names = firm + " " + trade + " " + suffix
        unit = rng.integers(1, 40, n).astype(str).astype(object)
        est = _ESTATE[rng.integers(0, len(_ESTATE), n)].astype(object)
        town = np.array(council.towns, dtype=object)[rng.integers(0, 3, n)]
        line = "UNIT " + unit + ", " + town + " " + est
        out = np.array(council.outward, dtype=object)[rng.integers(0, 5, n)]
        inward = (
            rng.integers(1, 10, n).astype(str).astype(object)
            + np.array(["AB", "BD", "DE", "EF", "HJ", "LN", "PQ", "RT", "WX", "YZ"], dtype=object)[
                rng.integers(0, 10, n)
            ]
        )
        pc = out + " " + inward
        sort = [
            f"{30 + x % 9:02d}-{x // 9 % 100:02d}-{x % 89:02d}" for x in rng.integers(0, 10**6, n)
        ]
        acc = [f"{x:08d}" for x in rng.integers(0, 10**8, n)]
        prefix = {"glenmorven": "SC", "strathbeg": "SC", "loughcarrig": "NI"}.get(council.name, "")
        comp = [f"{prefix}{x:06d}" if prefix else f"{x:08d}" for x in rng.integers(0, 10**6, n)]
        vat = [f"GB{x:09d}" if x % 3 else "" for x in rng.integers(10**8, 10**9, n)]
        for j in range(n):
            rows.append((c, names[j], line[j], pc[j], sort[j], acc[j], comp[j], vat[j], "", -1,
                         "natural"))  # fmt: skip
    # planted: a supplier paid into an employee's account or trading from the home
    pay = payroll.filter(pl.col("has_address"))
    cases_pids = []
    if pay.height and k:
        pick = pay.sample(n=min(k, pay.height), seed=int(rng.integers(2**31)), shuffle=True)
        for j, (pid, home) in enumerate(pick.select("pid", "home").iter_rows()):
            how = ("bank", "home", "both")[j % 3]
            s, a = bank(np.array([pid]))
            c = int(rng.integers(0, n_c))
            hl = home_line(homes, np.array([home]))[0]
            trading = _TRADE[j % len(_TRADE)]
            name = f"{_FIRM[j % len(_FIRM)]} {trading}" if j % 2 else f"{trading} SERVICES"
            line, pc, hm = rows[c * per][2], rows[c * per][3], ""
            sort, acc = f"3{j % 9}-{j % 100:02d}-{j % 89:02d}", f"{(j * 104729) % 10**8:08d}"
            if how in ("bank", "both"):
                sort, acc = s[0], a[0]
            if how in ("home", "both"):
                line, pc, hm = hl, homes.postcode[home], address_key(homes, np.array([home]))[0]
            else:
                line = f"UNIT {40 + j % 20}, {councils[c].towns[0]} ENTERPRISE PARK"
            rows.append((c, name, line, pc, sort, acc, "", "", hm, pid, f"planted:{how}"))
            cases_pids.append(pid)
        # hard negatives: next door, or the same branch with another account
        dec = pay.sample(n=min(d, pay.height), seed=int(rng.integers(2**31)), shuffle=True)
        for j, (pid, home) in enumerate(dec.select("pid", "home").iter_rows()):
            c = int(rng.integers(0, n_c))
            s, a = bank(np.array([pid]))
            if j % 2 == 0:  # the house two doors along, on the same side and postcode
                num = int(homes.number[home]) + 2
                line = f"{num} {STREETS[homes.street[home]]}, {homes.town[home]}"
                key = f"{homes.council[home]}|{homes.street[home]}|{num}|"
                rows.append((c, f"{_FIRM[j % len(_FIRM)]} SUPPLIES", line, homes.postcode[home],
                             f"3{j % 9}-11-{j % 89:02d}", f"{(j * 7907) % 10**8:08d}", "", "",
                             key, pid, "decoy:neighbour"))  # fmt: skip
            else:  # the same branch, the account one digit off
                acc = a[0][:-1] + str((int(a[0][-1]) + 1) % 10)
                rows.append((c, f"{_TRADE[j % len(_TRADE)]} SOLUTIONS", f"UNIT {j % 30 + 1}, "
                             f"{councils[c].towns[1]} BUSINESS CENTRE", rows[c * per][3], s[0],
                             acc, "", "", "", pid, "decoy:same_branch"))  # fmt: skip
    cred = pl.DataFrame(
        rows,
        schema=["c", "supplier_name", "address", "postcode", "sort_code", "account_number",
                "company_number", "vat_number", "akey", "pid", "tag"],
        orient="row",
    )  # fmt: skip
    creditors, person = {}, {}
    for c in range(n_c):
        part = cred.filter(pl.col("c") == c)
        creditors[c] = part
        person[c] = part["pid"].to_numpy()
    return Money(creditors, person)


def pair_creditors(money: Money, payroll: pl.DataFrame, bank_of: pl.DataFrame):
    """Every (payroll record, creditor) pair by bank account or home, and the decoys."""
    cases, decoys = [], []
    for c, part in money.creditors.items():
        cr = part.with_row_index("j")
        by_bank = cr.join(bank_of, on=["sort_code", "account_number"], how="inner")
        by_home = cr.filter(pl.col("akey") != "").join(
            payroll.select("i", "akey"), on="akey", how="inner"
        )
        got = pl.concat([by_bank.select("j", "i"), by_home.select("j", "i")]).unique()
        cases += [(c, int(j), int(i)) for j, i in got.sort("i", "j").iter_rows()]
        dec = cr.filter(pl.col("tag").str.starts_with("decoy"))
        mine = payroll.select("i", "pid")
        dd = dec.join(mine, on="pid", how="inner")
        dd = dd.join(got, on=["j", "i"], how="anti")
        decoys += [(c, int(j), int(i), t.split(":")[1]) for j, i, t in
                   dd.select("j", "i", "tag").sort("i", "j").iter_rows()]  # fmt: skip
    return cases, decoys


def build_payments(
    rng: np.random.Generator, money: Money, k: int, d: int, cycle: int
) -> tuple[dict[int, pl.DataFrame], list[tuple], list[tuple]]:
    """Two years of invoices per supplier; planted double payments and hard negatives;
    then every pair the rule must flag, computed on what is true."""
    frames = {}
    n_c = len(money.creditors)
    for c, cr in money.creditors.items():
        n_sup = cr.height
        rows = []
        style = rng.integers(0, 3, n_sup)
        start = rng.integers(1000, 90000, n_sup)
        monthly = rng.random(n_sup) < 0.3
        for s in range(n_sup):
            m = int(rng.poisson(6)) + 1
            if monthly[s]:
                dates = cycle - 700 + np.arange(m) * 30 + int(rng.integers(0, 25))
                amounts = np.full(m, round(float(rng.uniform(100, 3000)), 2))
            else:
                dates = np.sort(cycle - rng.integers(10, 720, m))
                amounts = np.round(rng.uniform(20, 20000, m), 2)
            nums = start[s] + np.cumsum(rng.integers(1, 40, m))
            if monthly[s]:
                nums = start[s] + np.arange(m) * 10  # INV1000, INV1010: a digit apart
            for t in range(m):
                inv = ("INV{}", "{}", "SI{}")[style[s]].format(int(nums[t]))
                rows.append((s, inv, int(dates[t]), float(amounts[t]), "natural"))
        frames[c] = rows
    # planted double payments: the same invoice again, or re-keyed within days
    for j in range(k):
        c = int(rng.integers(0, n_c))
        rows = frames[c]
        s, inv, dt, amt, _ = rows[int(rng.integers(0, len(rows)))]
        if j % 2:
            rows.append((s, inv, dt + int(rng.integers(0, 3)), amt, "planted:same_number"))
        else:
            rows.append((s, _slip(rng, inv), dt + int(rng.integers(-3, 4)), amt,
                         "planted:rekeyed"))  # fmt: skip
    for j in range(d):
        c = int(rng.integers(0, n_c))
        rows = frames[c]
        s, inv, dt, amt, _ = rows[int(rng.integers(0, len(rows)))]
        kind = ("other_supplier", "other_amount")[j % 2]
        if kind == "other_supplier":
            other = (s + 1 + int(rng.integers(0, 5))) % money.creditors[c].height
            rows.append((other, inv, dt + int(rng.integers(0, 3)), amt, "decoy:other_supplier"))
        else:
            more = round(amt + float(rng.uniform(5, 500)), 2)
            slipped = _slip(rng, inv)
            rows.append((s, slipped, dt + int(rng.integers(0, 3)), more, "decoy:other_amount"))
    out, cases, decoys, drop = {}, [], [], []
    for c, rows in frames.items():
        f = pl.DataFrame(rows, schema=["s", "invoice_number", "invoice_date", "amount", "tag"],
                         orient="row").with_row_index("j")  # fmt: skip
        f = f.with_columns(pl.col("invoice_date").clip(upper_bound=cycle - 5))
        pairs = f.join(f, on=["s", "amount"], suffix="_r").filter(pl.col("j") < pl.col("j_r"))
        gap = (pl.col("invoice_date") - pl.col("invoice_date_r")).abs()
        pairs = pairs.with_columns(gap=gap)
        flags = []
        for row in pairs.select("j", "j_r", "invoice_number", "invoice_number_r", "gap",
                                "tag", "tag_r").iter_rows():  # fmt: skip
            j, jr, a, b, g, ta, tb = row
            same = a == b
            slip = osa_one(a, b)
            if same or (slip and g <= 3):
                flags.append((j, jr, "case", ""))
            elif slip and g <= 12:
                drop.append((c, jr))  # near the six days' boundary: the later row goes
            elif slip and 25 <= g <= 40:
                flags.append((j, jr, "decoy", "recurring"))
        other = f.filter(pl.col("tag").str.starts_with("decoy"))
        for j, s, inv, amt, tag in other.select("j", "s", "invoice_number", "amount",
                                                "tag").iter_rows():  # fmt: skip
            label = tag.split(":")[1]
            if label == "other_supplier":
                match = f.filter((pl.col("invoice_number") == inv) & (pl.col("amount") == amt)
                                 & (pl.col("s") != s) & (pl.col("j") != j))  # fmt: skip
            else:
                match = f.filter((pl.col("s") == s) & (pl.col("amount") != amt)
                                 & (pl.col("j") < j))  # fmt: skip
                match = match.filter(
                    pl.col("invoice_number").map_elements(
                        lambda x, inv=inv: osa_one(x, inv), return_dtype=pl.Boolean
                    )
                )
            for (jj,) in match.select("j").head(1).iter_rows():
                flags.append((jj, j, "decoy", label))
        gone = {jr for cc, jr in drop if cc == c}
        keep = [fl for fl in flags if fl[0] not in gone and fl[1] not in gone]
        rec = [fl for fl in keep if fl[2] == "case"]
        recurring = [fl for fl in keep if fl[3] == "recurring"][: max(2, d // n_c)]
        dec = recurring + [fl for fl in keep if fl[2] == "decoy" and fl[3] != "recurring"]
        casekeys = {(a, b) for a, b, _, _ in rec}
        cases += [(c, a, b) for a, b, _, _ in rec]
        decoys += [(c, a, b, lab) for a, b, _, lab in dec if (a, b) not in casekeys]
        out[c] = f.filter(~pl.col("j").is_in(sorted(gone)))
    return out, cases, decoys

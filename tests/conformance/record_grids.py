"""Conformance grids of the shipped rules that are not about one person's two records.

``payroll_to_creditors`` (an employee's bank account or home behind a supplier),
``creditor_duplicate_payments`` (one invoice paid twice) and
``council_tax_spd_to_electoral_register`` (another adult at a single-person-discount
address; its three internal helpers, the disregard in force and the holder's own register
entry, are exercised through it). Each cell is a pair of raw records, plus the other
records of the household where the rule needs them, with what the rule must do and why;
the expectation comes from the principles of ``docs/rules.md`` ("Judging the evidence"),
not from what the rule happens to do. Like ``grids.py``, data only.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

from tests.conformance.grids import MATCH, NEVER, postcode_for

CATCH, LEGIT = "fraud", "hard negative"


@dataclass(frozen=True)
class Rec:
    """One raw record as a partner's extract holds it (``partner``: index into PARTNERS)."""

    dataset: str
    values: dict[str, str | None]
    partner: int = 0


@dataclass(frozen=True)
class RecordCell:
    group: str
    field: str
    variant: str
    expect: str
    left: Rec
    right: Rec
    others: tuple[Rec, ...] = ()  # the rest of the household (holder's own entry, disregard)
    why: str = ""


@dataclass(frozen=True)
class RecordGrid:
    rule: str
    signature: str  # the fraud in one line, for docs/rules.md


_L = "ABDEFGHJLNPQRSTUWXYZ"


def postcode(i: int, partner: int = 0) -> str:
    """A postcode of its own per index (below 320,000), in districts 10..89 (the person
    grids use 1..9)."""
    area = ("LS", "YO", "HG")[partner]
    return f"{area}{10 + i % 80} {i // 80 % 10}{_L[i // 800 % 20]}{_L[i // 16000 % 20]}"


def sort_code(i: int) -> str:
    return f"{20 + i % 70:02d}-{(i * 7) % 100:02d}-{(i * 13) % 100:02d}"


def account(i: int) -> str:
    return f"{10000000 + i * 7919 % 89999999:08d}"


# --------------------------------------------------------------------------- payroll_to_creditors


def _employee(i: int, **kw: str | None) -> Rec:
    values = {
        "surname": f"CRED{_L[i % 20]}{_L[(i // 20) % 20]}SON",
        "forenames": "ALAN",
        "date_of_birth": "14/03/1971",
        "ni_number": None,
        "address": f"{10 + i} ORCHARD ROAD",
        "postcode": postcode(i),
        "sort_code": sort_code(i),
        "account_number": account(i),
        "job_title": "PROCUREMENT OFFICER",
        "start_date": "01/01/2015",
    }
    return Rec("payroll", {**values, **kw})


def _supplier(i: int, partner: int = 0, **kw: str | None) -> Rec:
    values = {
        "supplier_name": f"ORCHARD SERVICES {i} LTD",
        "address": f"UNIT {i % 9 + 1}, {i + 3} MILL TRADING ESTATE",
        "postcode": postcode(i + 400),
        "sort_code": sort_code(i + 400),
        "account_number": account(i + 400),
        "company_number": f"{9000000 + i:08d}",
        "vat_number": None,
    }
    return Rec("creditors", {**values, **kw}, partner)


def payroll_to_creditors_cells(base: int) -> list[RecordCell]:
    out: list[RecordCell] = []
    n = [base]

    def nxt() -> int:
        n[0] += 1
        return n[0]

    def add(group, fld, variant, expect, left, right, why="", others=()):
        out.append(RecordCell(group, fld, variant, expect, left, right, tuple(others), why))

    def bank(i: int, **kw) -> Rec:  # the supplier is paid into the employee's account
        return _supplier(i, **{"sort_code": sort_code(i), "account_number": account(i), **kw})

    def home(i: int, **kw) -> Rec:  # the supplier is at the employee's home
        return _supplier(i, **{"address": f"{10 + i} ORCHARD ROAD", "postcode": postcode(i), **kw})

    def own_street(i: int) -> str:  # a street of the cell's own (every ORCHARD ROAD is one)
        return f"{_employee(i).values['surname']} ROAD"

    def unposted(i: int, elector_postcode: str | None = None) -> tuple[Rec, Rec, list[Rec]]:
        """The employee at a street of its own, the supplier there without a postcode, and
        (given its postcode) an elector at another number of that street."""
        street = own_street(i)
        others = [] if elector_postcode is None else [
            _elector(i, address=f"{200 + i} {street}", postcode=elector_postcode)]  # fmt: skip
        employee = _employee(i, address=f"{10 + i} {street}")
        return employee, home(i, address=f"{10 + i} {street}", postcode=None), others

    i = nxt()
    add(CATCH, "bank account", "equal, supplier based elsewhere", MATCH, _employee(i), bank(i))
    i = nxt()
    add(CATCH, "bank account", "written differently (123456, 1234 5678)", MATCH, _employee(i),
        bank(i, sort_code=sort_code(i).replace("-", ""),
             account_number=account(i)[:4] + " " + account(i)[4:]))  # fmt: skip
    i = nxt()
    add(CATCH, "bank account", "equal, employee's address missing", MATCH,
        _employee(i, address=None, postcode=None), bank(i))  # fmt: skip
    i = nxt()
    add(CATCH, "bank account", "equal, supplier's address missing", MATCH, _employee(i),
        bank(i, address=None, postcode=None))  # fmt: skip
    i = nxt()
    add(CATCH, "bank account", "equal, address missing on both", MATCH,
        _employee(i, address=None, postcode=None), bank(i, address=None, postcode=None))  # fmt: skip
    i = nxt()
    add(CATCH, "bank account", "equal, supplier registered with another council", MATCH,
        _employee(i), Rec("creditors", bank(i).values, 1), "scope: any council")  # fmt: skip
    i = nxt()
    add(CATCH, "address", "equal, supplier has its own bank account", MATCH, _employee(i),
        home(i), "another bank account is not evidence against: a front company has one")  # fmt: skip
    i = nxt()
    add(CATCH, "address", "written differently (Flat word, town, abbreviation, case)", MATCH,
        _employee(i, address=f"Flat 2, {10 + i} Orchard Rd, Northmoor"),
        home(i, address=f"2 {10 + i} ORCHARD ROAD", postcode=postcode(i).replace(" ", "")))  # fmt: skip
    i = nxt()
    add(CATCH, "address", "equal, employee's bank account missing", MATCH,
        _employee(i, sort_code=None, account_number=None), home(i))  # fmt: skip
    i = nxt()
    add(CATCH, "address", "equal, supplier's bank account missing", MATCH, _employee(i),
        home(i, sort_code=None, account_number=None))  # fmt: skip
    i = nxt()
    add(CATCH, "address", "equal, bank account missing on both", MATCH,
        _employee(i, sort_code=None, account_number=None),
        home(i, sort_code=None, account_number=None))  # fmt: skip
    i = nxt()
    add(CATCH, "address", "premises and street equal, postcode missing on the supplier",
        MATCH, *unposted(i)[:2],
        "a missing postcode is no evidence either way; another postcode would be")  # fmt: skip
    i = nxt()
    employee, supplier, others = unposted(i, _other_sector(postcode(i)))
    add(CATCH, "address", "postcode missing on the supplier, the street's other homes all "
        "in the employee's postcode district", MATCH, employee, supplier,
        "a street found in one district names one street: its number names one home",
        others)  # fmt: skip

    i = nxt()
    add(LEGIT, "bank account", "same account number under another sort code", NEVER,
        _employee(i), _supplier(i, account_number=account(i)),
        "another sort code is another bank's account")  # fmt: skip
    i = nxt()
    add(LEGIT, "bank account", "account number equal, sort code missing on the supplier",
        NEVER, _employee(i), _supplier(i, account_number=account(i), sort_code=None),
        "cannot decide: an account number alone is not one account")  # fmt: skip
    i = nxt()
    add(LEGIT, "address", "next door (13 for 12, same street and postcode)", NEVER,
        _employee(i), home(i, address=f"{11 + i} ORCHARD ROAD"))  # fmt: skip
    i = nxt()
    add(LEGIT, "address", "another flat of the same building", NEVER,
        _employee(i, address=f"FLAT 2, {10 + i} ORCHARD ROAD"),
        home(i, address=f"FLAT 3, {10 + i} ORCHARD ROAD"))  # fmt: skip
    i = nxt()
    add(LEGIT, "address", "same house number and street in another town", NEVER,
        _employee(i), home(i, postcode=postcode(i + 700)))  # fmt: skip
    i = nxt()
    employee, supplier, others = unposted(i, postcode(i + 1))
    add(LEGIT, "address", "premises and street equal, postcode missing on the supplier, "
        "a street of that name in another postcode district", NEVER, employee, supplier,
        "a STATION ROAD runs through many towns: without its postcode the supplier's "
        "number 12 may be in either (cannot decide)", others)  # fmt: skip
    i = nxt()
    add(LEGIT, "namesakes", "sole trader named like the employee, nothing else in common",
        NEVER, _employee(i), _supplier(i, supplier_name=f"ALAN {_employee(i).values['surname']}"),
        "a name is not a bank account or a home")  # fmt: skip
    # a council's record without a postcode, read as of a place in the council's own area
    # (home area: the districts holding 95% of its records; the grids' councils hold records
    # all over LS, YO and HG, so "another council's area" is a ZE district none of them has)
    i = nxt()
    street = own_street(i)
    add(CATCH, "address", "postcode missing on the supplier, the street also in another "
        "council's area, the employee's home in the supplier's council's", MATCH,
        _employee(i, address=f"{10 + i} {street}", postcode=postcode_for(0, i)),
        home(i, address=f"{10 + i} {street}", postcode=None),
        "a council's record without a postcode is of its own area, where the street is "
        "one street", [Rec("electoral_register", _elector(i, address=f"{200 + i} {street}",
                                                          postcode=f"ZE{1 + i % 9} 1AB").values, 1)],
    )  # fmt: skip
    i = nxt()
    street = own_street(i)
    add(LEGIT, "address", "postcode missing on the supplier, the employee's home in another "
        "council's area, the street also in the supplier's council's", NEVER,
        _employee(i, address=f"{10 + i} {street}", postcode=f"ZE{1 + i % 9} 2AB"),
        home(i, address=f"{10 + i} {street}", postcode=None),
        "read as of its own council's area, the supplier's number is a home on that "
        "council's street (cannot decide)",
        [_elector(i, address=f"{200 + i} {street}", postcode=postcode_for(0, i))])  # fmt: skip
    i = nxt()
    street = own_street(i)
    add(LEGIT, "address", "a street with no house number on both, the same postcode", NEVER,
        _employee(i, address=street), home(i, address=street),
        "a street and its postcode are some fifteen homes: the employee and the supplier "
        "may be neighbours (cannot decide)")  # fmt: skip
    return out


def _elector(i: int, **kw: str | None) -> Rec:
    """A registered elector of another household (by default, at the employee's premises
    and street)."""
    values = {"surname": "ELSEWHERE", "forenames": "ROBIN", "address": f"{10 + i} ORCHARD ROAD",
              "postcode": postcode(i), "date_of_birth": "02/02/1960"}  # fmt: skip
    return Rec("electoral_register", {**values, **kw})


def _other_sector(code: str) -> str:
    """Another postcode of the same district (the next sector)."""
    return f"{code[:-3]}{(int(code[-3]) + 1) % 10}{code[-2:]}"


def creditors_background(count: int = 90) -> list[Rec]:
    rng = random.Random(5)
    return [
        _supplier(5000 + k, rng.randrange(3), supplier_name=f"{rng.choice(_TRADES)} {k} LTD")
        for k in range(count)
    ]


_TRADES = ("ACME", "NORTHERN", "CITY", "VALLEY", "PREMIER", "PARAGON", "KEYSTONE")


# --------------------------------------------------------------------------- duplicate payments


def _payment(supplier: int, invoice: str | None, day: date, amount: str = "1840.00",
             partner: int = 0, **kw: str | None) -> Rec:  # fmt: skip
    values = {
        "supplier_id": f"SUP-{supplier:05d}",
        "supplier_name": f"PARAGON SUPPLIES {supplier} LTD",
        "invoice_number": invoice,
        "invoice_date": day.strftime("%d/%m/%Y"),
        "amount": amount,
        "payment_date": None,
    }
    return Rec("creditor_payments", {**values, **kw}, partner)


def creditor_duplicate_payments_cells(base: int) -> list[RecordCell]:
    out: list[RecordCell] = []
    n = [base]
    d0 = date(2026, 9, 14)

    def add(group, fld, variant, expect, left, right, why=""):
        out.append(RecordCell(group, fld, variant, expect, left, right, why=why))

    def s() -> int:
        n[0] += 1
        return n[0]

    def inv(k: int) -> str:
        return f"INV-{50000 + k * 13}"

    k = s()
    add(CATCH, "all", "equal (the same invoice paid twice)", MATCH,
        _payment(k, inv(k), d0), _payment(k, inv(k), d0))  # fmt: skip
    k = s()
    add(CATCH, "invoice_date", "20 days apart, same invoice number", MATCH,
        _payment(k, inv(k), d0), _payment(k, inv(k), date(2026, 10, 4)),
        "re-entered with another date")  # fmt: skip
    k = s()
    add(CATCH, "invoice_date", "DD/MM swapped, same invoice number", MATCH,
        _payment(k, inv(k), date(2026, 3, 4)), _payment(k, inv(k), date(2026, 4, 3)))  # fmt: skip
    k = s()
    add(CATCH, "invoice_date", "written differently (ISO)", MATCH, _payment(k, inv(k), d0),
        _payment(k, inv(k), d0, invoice_date=d0.isoformat()))  # fmt: skip
    k = s()
    add(CATCH, "invoice_number", "written differently (inv 50013, INV-50013)", MATCH,
        _payment(k, inv(k), d0), _payment(k, inv(k).lower().replace("-", " "), d0))  # fmt: skip
    k = s()
    add(CATCH, "invoice_number", "one character re-keyed, 3 days apart", MATCH,
        _payment(k, "INV-70317", d0), _payment(k, "INV-70311", date(2026, 9, 17)))  # fmt: skip
    k = s()
    add(CATCH, "invoice_number", "two digits transposed, 3 days apart", MATCH,
        _payment(k, "INV-80317", d0), _payment(k, "INV-80371", date(2026, 9, 17)),
        "the commonest keying slip")  # fmt: skip
    k = s()
    add(CATCH, "amount", "written differently (1,840.00 and £1840)", MATCH,
        _payment(k, inv(k), d0, amount="1,840.00"), _payment(k, inv(k), d0, amount="£1840"))  # fmt: skip
    k = s()
    add(CATCH, "supplier", "reference written differently (sup 00042, SUP-00042)", MATCH,
        _payment(k, inv(k), d0), _payment(k, inv(k), d0, supplier_id=f"sup {k:05d}"))  # fmt: skip
    k = s()
    add(CATCH, "supplier", "name missing on one payment", MATCH, _payment(k, inv(k), d0),
        _payment(k, inv(k), d0, supplier_name=None))  # fmt: skip
    k = s()
    add(CATCH, "supplier", "name written differently (LTD, LIMITED)", MATCH,
        _payment(k, inv(k), d0),
        _payment(k, inv(k), d0, supplier_name=f"Paragon Supplies {k} Limited"))  # fmt: skip
    k = s()
    add(CATCH, "payment_date", "paid a month apart", MATCH,
        _payment(k, inv(k), d0, payment_date="01/10/2026"),
        _payment(k, inv(k), d0, payment_date="02/11/2026"))  # fmt: skip

    k = s()
    add(LEGIT, "repeated payment", "monthly invoice, next number, same amount", NEVER,
        _payment(k, "INV-90101", d0), _payment(k, "INV-90102", date(2026, 10, 14)))  # fmt: skip
    k = s()
    add(LEGIT, "repeated payment", "weekly invoice, next number, same amount, 7 days apart",
        NEVER, _payment(k, "INV-91101", d0), _payment(k, "INV-91102", date(2026, 9, 21)),
        "a weekly hire or agency invoice")  # fmt: skip
    k = s()
    add(LEGIT, "repeated payment", "same invoice number and amount, another supplier", NEVER,
        _payment(k, inv(k), d0), _payment(k + 500, inv(k), d0))  # fmt: skip
    k = s()
    add(LEGIT, "repeated payment", "same invoice, two instalments of other amounts", NEVER,
        _payment(k, inv(k), d0, amount="920.00"), _payment(k, inv(k), d0, amount="700.00"))  # fmt: skip
    k = s()
    add(LEGIT, "repeated payment", "the payment and its refund (credit note)", NEVER,
        _payment(k, inv(k), d0), _payment(k, inv(k), d0, amount="-1840.00"))  # fmt: skip
    k = s()
    add(LEGIT, "repeated payment", "same supplier reference and invoice at another council",
        NEVER, _payment(k, inv(k), d0), _payment(k, inv(k), d0, partner=1),
        "a supplier reference is one council's own")  # fmt: skip
    k = s()
    add(LEGIT, "invoice_number", "missing on one payment", NEVER, _payment(k, inv(k), d0),
        _payment(k, None, d0), "cannot decide: the definition is about invoice numbers")  # fmt: skip
    k = s()
    add(LEGIT, "invoice_number", "missing on both", NEVER, _payment(k, None, d0),
        _payment(k, None, d0), "a repeated amount alone is an ordinary repeat")  # fmt: skip
    return out


def payments_background(suppliers: int = 40) -> list[Rec]:
    """Ordinary payments: monthly repeats with the next invoice number, and one-offs."""
    rng = random.Random(9)
    out = []
    for k in range(suppliers):
        sup, partner = 6000 + k, k % 3
        amount = f"{rng.randint(50, 9000)}.{rng.randint(0, 99):02d}"
        for month in range(1, 1 + rng.randint(2, 5)):
            out.append(_payment(sup, f"B{sup}-{month}", date(2026, month, 5), amount, partner))
        out.append(_payment(sup, f"X{sup}", date(2026, 6, 20), "77.00", partner))
    return out


GRIDS = (
    RecordGrid(
        "payroll_to_creditors",
        "a supplier paid into an employee's own bank account, or based at an employee's home",
    ),
    RecordGrid(
        "creditor_duplicate_payments",
        "the same invoice paid twice to one supplier by one council",
    ),
)
CELLS = {
    "payroll_to_creditors": payroll_to_creditors_cells,
    "creditor_duplicate_payments": creditor_duplicate_payments_cells,
}
BACKGROUND = (creditors_background, payments_background)

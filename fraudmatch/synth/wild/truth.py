"""The second population's complete truth: every pair each rule must flag, from true values.

Computed from who each record really is and its true dates, never from what was planted,
so a pair that arose by chance (an employee who also claims) is a case too. Pairs are
internal row numbers here; `files` turns them into councils and record ids.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from fraudmatch.synth.wild.people import NO_DAY
from fraudmatch.synth.wild.plants import PERSON_RULES, PersonRule
from fraudmatch.synth.wild.services import SPELLS

PAIR = ("rule", "left_dataset", "left_row", "right_dataset", "right_row")


def _day(col: str) -> pl.Expr:
    """A day-number column with NO_DAY as null."""
    return pl.when(pl.col(col) == NO_DAY).then(None).otherwise(pl.col(col))


def _person_pairs(recs: dict[str, pl.DataFrame], rule: PersonRule, cycle: int) -> pl.DataFrame:
    left = recs[rule.left].with_row_index("left_row").filter(pl.col("person_id").is_not_null())
    right = recs[rule.right].with_row_index("right_row").filter(pl.col("person_id").is_not_null())
    j = left.join(right, on="person_id", suffix="_r")
    if rule.left == rule.right:
        j = j.filter(pl.col("left_row") < pl.col("right_row"))
    if rule.scope == "other":
        j = j.filter(pl.col("council") != pl.col("council_r"))
    c = pl.lit(cycle)
    if rule.time == "overlap":
        (ls, le), (rs, re) = SPELLS[rule.left], SPELLS[rule.right]
        re, rs = (re + "_r", rs + "_r") if rule.left == rule.right else (re, rs)
        j = j.filter(
            (_day(ls) <= pl.coalesce(_day(re), c)) & (_day(rs) <= pl.coalesce(_day(le), c))
        )
    elif rule.time == "expiry_after_death":
        j = j.filter(pl.col("expiry_date") > pl.col("date_of_death"))
    elif rule.time == "open_at_cycle":
        j = j.filter(
            (pl.col("tenancy_start_date") <= c) & (_day("tenancy_end_date").fill_null(c) >= c)
        )
    elif rule.time == "open_at_application":
        app = pl.col("application_date")
        j = j.filter(
            (pl.col("tenancy_start_date") <= app)
            & (_day("tenancy_end_date").is_null() | (_day("tenancy_end_date") >= app))
        )
    return j.select(
        pl.lit(rule.name).alias("rule"),
        pl.lit(rule.left).alias("left_dataset"),
        pl.col("left_row").cast(pl.Int64),
        pl.lit(rule.right).alias("right_dataset"),
        pl.col("right_row").cast(pl.Int64),
    )


def _month_day(d: np.ndarray) -> np.ndarray:
    """Month and day as one number (1 November: 1001), comparable whatever the year."""
    month = d.astype("datetime64[M]")
    return (month.astype(np.int64) % 12) * 100 + (d - month).astype(np.int64)


def _adult_on(dob: np.ndarray, at: int) -> np.ndarray:
    """18 or over on day `at`, by calendar year, month and day.

    Why not `years_between`: it compares days since 1 January, so in a leap year of birth a
    birthday after February counts one day late, and someone born 1 November 2008 was not yet
    18 on 1 November 2026. The register shows that elector's date of birth, and by it the
    elector is 18 on the cycle date: the truth must say so too.
    """
    d = np.asarray(dob, dtype="datetime64[D]")
    a = np.datetime64(int(at), "D")
    years = a.astype("datetime64[Y]").astype(np.int64) - d.astype("datetime64[Y]").astype(np.int64)
    return years - (_month_day(np.array([a]))[0] < _month_day(d)) >= 18


def _spd_pairs(recs: dict[str, pl.DataFrame], people: pl.DataFrame, cycle: int) -> pl.DataFrame:
    """Another adult registered at the discount's home, with no disregard in force."""
    spd = recs["council_tax_spd"].with_row_index("left_row")
    reg = recs["electoral_register"].with_row_index("right_row")
    dis = recs["council_tax_disregards"].filter(
        (pl.col("start_date") <= cycle) & (_day("end_date").fill_null(cycle) >= cycle)
    )
    dob = people.select("person_id", "dob")
    j = (
        spd.join(reg, on=["council", "address_id"], suffix="_r")
        .filter(pl.col("person_id") != pl.col("person_id_r"))
        .join(dob, left_on="person_id_r", right_on="person_id", how="left")
        .join(dis.select("person_id"), left_on="person_id_r", right_on="person_id", how="anti")
    )
    adult = _adult_on(j["dob"].to_numpy(), cycle)
    return j.filter(pl.Series(adult)).select(
        pl.lit("council_tax_spd_to_electoral_register").alias("rule"),
        pl.lit("council_tax_spd").alias("left_dataset"),
        pl.col("left_row").cast(pl.Int64),
        pl.lit("electoral_register").alias("right_dataset"),
        pl.col("right_row").cast(pl.Int64),
    )


def _creditor_pairs(recs: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """An employee's bank account or home address on the creditors file."""
    pay = recs["payroll"].with_row_index("left_row")
    cred = recs["creditors"].with_row_index("right_row")
    by_account = pay.join(cred, on=["sort_code", "account_number"]).select("left_row", "right_row")
    by_address = pay.join(cred, on="address_id").select("left_row", "right_row")
    return (
        pl.concat([by_account, by_address])
        .unique()
        .select(
            pl.lit("payroll_to_creditors").alias("rule"),
            pl.lit("payroll").alias("left_dataset"),
            pl.col("left_row").cast(pl.Int64),
            pl.lit("creditors").alias("right_dataset"),
            pl.col("right_row").cast(pl.Int64),
        )
    )


def _duplicate_pairs(recs: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """Same supplier and amount; same invoice number, or one character apart within 7 days."""
    pay = recs["creditor_payments"].with_row_index("row")
    j = pay.join(pay, on=["council", "supplier", "amount"], suffix="_r").filter(
        pl.col("row") < pl.col("row_r")
    )
    dist = process.cpdist(
        j["invoice_number"].to_list(), j["invoice_number_r"].to_list(), scorer=Levenshtein.distance
    )
    near = (dist == 1) & (
        np.abs(j["invoice_date"].to_numpy() - j["invoice_date_r"].to_numpy()) <= 7
    )
    j = j.filter(pl.Series((dist == 0) | near))
    return j.select(
        pl.lit("creditor_duplicate_payments").alias("rule"),
        pl.lit("creditor_payments").alias("left_dataset"),
        pl.col("row").cast(pl.Int64).alias("left_row"),
        pl.lit("creditor_payments").alias("right_dataset"),
        pl.col("row_r").cast(pl.Int64).alias("right_row"),
    )


def truth_rows(
    recs: dict[str, pl.DataFrame], people: pl.DataFrame, decoys: pl.DataFrame, cycle: int
) -> pl.DataFrame:
    """Cases (kind case, label case) and hard negatives (kind decoy, label what they are)."""
    cases = pl.concat(
        [_person_pairs(recs, r, cycle) for r in PERSON_RULES]
        + [_spd_pairs(recs, people, cycle), _creditor_pairs(recs), _duplicate_pairs(recs)]
    ).with_columns(kind=pl.lit("case"), label=pl.lit("case"))
    # a hard negative is never a case (a plant that became one by chance is dropped)
    hard = decoys.join(cases, on=list(PAIR), how="anti").with_columns(kind=pl.lit("decoy"))
    return pl.concat([cases, hard.select(cases.columns)])


def evident_money_pairs(
    cases: pl.DataFrame, recs: dict[str, pl.DataFrame], sent: dict[str, pl.DataFrame]
) -> pl.DataFrame:
    """payroll_to_creditors pairs whose evidence reached the hub; every other row unchanged.

    An employee's account or home on the creditors file is a case for a council only where
    both files show it: the sort code and account number on both sides, or the address with
    its house number on both sides. A pair whose only link a council left out of its extract
    is no case anyone can find (the person rules differ: names and birth dates are always
    sent).
    """
    rule = pl.col("rule") == "payroll_to_creditors"
    money = cases.filter(rule & (pl.col("kind") == "case"))
    if money.is_empty():
        return cases
    pay, cred = recs["payroll"], recs["creditors"]
    true = pl.DataFrame(
        {
            "bank_same": (
                pay["sort_code"]
                .gather(money["left_row"])
                .eq_missing(cred["sort_code"].gather(money["right_row"]))
                & pay["account_number"]
                .gather(money["left_row"])
                .eq_missing(cred["account_number"].gather(money["right_row"]))
                & pay["account_number"].gather(money["left_row"]).is_not_null()
            ).to_list(),
            "home_same": (
                pay["address_id"].gather(money["left_row"])
                == cred["address_id"].gather(money["right_row"])
            ).to_list(),
        }
    )
    shown = {
        ds: frame.select(
            pl.col("partner").alias(f"{side}_partner"),
            pl.col("record_id").alias(f"{side}_record_id"),
            pl.all_horizontal(pl.col("sort_code", "account_number").is_not_null()).alias(
                f"{side}_bank"
            ),
            # an address written without its house number names a street, not a home
            pl.col("address").str.contains(r"\d").fill_null(False).alias(f"{side}_home"),
        )
        for ds, side, frame in (("payroll", "left", sent["payroll"]),
                                ("creditors", "right", sent["creditors"]))
    }  # fmt: skip
    money = (
        pl.concat([money, true], how="horizontal")
        .join(shown["payroll"], on=["left_partner", "left_record_id"], how="left")
        .join(shown["creditors"], on=["right_partner", "right_record_id"], how="left")
    )
    evident = money.filter(
        (pl.col("bank_same") & pl.col("left_bank") & pl.col("right_bank"))
        | (pl.col("home_same") & pl.col("left_home") & pl.col("right_home"))
    ).select(cases.columns)
    return pl.concat([cases.filter(~(rule & (pl.col("kind") == "case"))), evident]).sort(
        "rule", "kind", "left_partner", "left_record_id", "right_partner", "right_record_id"
    )

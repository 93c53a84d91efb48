"""Record ids and the truth: every pair each rule should flag, from the true attributes."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from fraudmatch.synth.context import Ctx, as_arrays
from fraudmatch.synth.days import age_at
from fraudmatch.synth.records import in_force_at
from fraudmatch.synth.vocabulary import DATASETS, ID_RULES, PARTNERS, PERIODS, IdRule


def assign_record_ids(ctx: Ctx) -> None:
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


_PAIR_KEYS = ("rule", "left_dataset", "left_uid", "right_dataset", "right_uid")


def truth_cases(ctx: Ctx) -> pl.DataFrame:
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


def _with_record_ids(ctx: Ctx, pairs: pl.DataFrame) -> pl.DataFrame:
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


def _identity_pairs(ctx: Ctx, rule: IdRule) -> pl.DataFrame:
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
        "overlap": (
            _overlaps(PERIODS[rule.left], PERIODS[rule.right])
            if rule.time == "overlap"  # the table is built for every rule: only these have spells
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


def _spd_pairs(ctx: Ctx) -> pl.DataFrame:
    """Discount and register entry at the same address, of another person (see DESIGN.md)."""
    spd = ctx.records["council_tax_spd"]
    er = ctx.records["electoral_register"]
    dis = ctx.records["council_tax_disregards"]
    in_force = (
        dis.filter(in_force_at(ctx.cycle))
        .select("partner", "person_id", "address_id", pl.lit(True).alias("disregarded"))
        .unique(maintain_order=True)
    )
    er = er.join(
        ctx.people.select("person_id", "dob"), on="person_id", how="left", maintain_order="left"
    )
    age = age_at(np.where(er["dob"].is_null(), 0, as_arrays(er, "dob")[0]), ctx.cycle)
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


def _payroll_creditor_pairs(ctx: Ctx) -> pl.DataFrame:
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


def _duplicate_invoice_pairs(ctx: Ctx) -> pl.DataFrame:
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

"""The dataset-specific cells: dates, job titles, bank details, money, creditors."""

from __future__ import annotations

import polars as pl

from fraudmatch.synth.context import Ctx
from fraudmatch.synth.styles import File, Style, fmt_dates, letter_case
from fraudmatch.synth.vocabulary import DATASETS, JOB_TITLES, PARTNERS


def _sort_code_cells(col: pl.Expr, style: Style, damaged: pl.Expr) -> pl.Expr:
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


def _money(pence: pl.Expr, style: Style) -> pl.Expr:
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


def dataset_cells(ctx: Ctx, f: File, w: pl.DataFrame) -> pl.DataFrame:
    """The columns particular to each dataset."""
    st, rng, h, ds = f.style, f.rng, w.height, f.dataset
    u = [pl.col(f"_u{i}") for i in range(12)]
    spec = DATASETS[ds]
    out = w
    for c in spec.date_columns:
        if c != "date_of_birth":
            out = out.with_columns(fmt_dates(pl.col(c), st.dates, u[9]).alias(c))
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


def _creditor_cells(f: File, w: pl.DataFrame) -> pl.DataFrame:
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
        supplier_name=letter_case(name, st.upper, u[9]),
        vat_number=vat,
        sort_code=_sort_code_cells(pl.col("sort_code"), st, damaged),
        _bl_sort_code=damaged,
    )

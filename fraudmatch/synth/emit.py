"""Emission: every record rendered as its council's file cells, with real extracts' noise."""

from __future__ import annotations

import numpy as np
import polars as pl

from fraudmatch.synth.context import Ctx
from fraudmatch.synth.damage import plant_invalid
from fraudmatch.synth.identity_cells import address_cells, person_cells
from fraudmatch.synth.lexicon import load_lexicon
from fraudmatch.synth.service_cells import dataset_cells
from fraudmatch.synth.styles import File, style_of
from fraudmatch.synth.vocabulary import DATASETS, EXTRA_COLUMN, PARTNERS

_HB_NOTES = (
    "Change of circumstances received", "Awaiting evidence", "Overpayment recovery",
    "Landlord paid direct", "Review due", "Backdating requested",
)  # fmt: skip


def emit_all(
    ctx: Ctx, cases: pl.DataFrame
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
        load_lexicon()
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
            cells, invalid = plant_invalid(f, cells)
            emitted[(p, ds)] = cells
            invalid_parts.append(invalid)
            blank_parts.append(blanked)
    return emitted, pl.concat(invalid_parts), pl.concat(blank_parts)


def _deciding_records(ctx: Ctx) -> pl.DataFrame:
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


def _new_file(ctx: Ctx, partner: int, dataset: str, sub: pl.DataFrame) -> File:
    rng = ctx.rng("emit", dataset, str(partner))
    h = sub.height
    eligible = ~(sub["involved"].to_numpy() | sub["protect"].to_numpy())
    k = max(1 if h >= 50 else 0, round(0.002 * h))
    idx = np.flatnonzero(eligible)
    invalid = np.zeros(h, dtype=bool)
    if k and len(idx) > 2 * k:
        invalid[rng.choice(idx, k, replace=False)] = True
    return File(
        partner, dataset, sub, style_of(partner, dataset), rng, invalid, eligible & ~invalid
    )


def _cells(ctx: Ctx, f: File) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Text cells of one file (spec columns, + the extra column) and the blanked values."""
    spec = DATASETS[f.dataset]
    rng, h = f.rng, f.frame.height
    w = f.frame.with_columns(
        [pl.Series(f"_u{i}", rng.random(h)) for i in range(12)]
        + [pl.Series("_can_blank", f.can_blank)]
    )
    if "surname" in spec.columns:
        w = person_cells(ctx, f, w)
    if "address" in spec.columns:
        w = address_cells(f, w)
    w = dataset_cells(ctx, f, w)
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

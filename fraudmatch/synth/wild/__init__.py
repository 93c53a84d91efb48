"""A second test population that does not share `fraudmatch.synth`'s habits ("wild" councils).

Why: the shipped rules score >= 0.98 on synth's data because they were tuned on it. A rule is
judged on data it was not tuned on, so this generator was written apart from synth's
planted-case code: Faker's en_GB names, its own households (sons named after fathers, twins,
spouses), every optional field missing at each council's own rate, names, addresses and
dates written in other shapes, and for every shipped rule planted cases in the hard shapes
plus labelled hard negatives. The truth is written in synth's format (truth/cases.csv, with
an extra `label` column), so the same accuracy code scores both.

    fraudmatch synth --population wild --partners 5 --people 20000 --seed 1 --out wild
"""

from __future__ import annotations

import io
import json
from datetime import date, datetime
from pathlib import Path

import numpy as np
import polars as pl

from fraudmatch.synth.vocabulary import DATASETS, TRUTH_CASE_COLUMNS
from fraudmatch.synth.wild import render
from fraudmatch.synth.wild.money import accounts, creditors, payments, plant_money
from fraudmatch.synth.wild.people import COUNCILS, NO_DAY, Names, ni_numbers, population, stream
from fraudmatch.synth.wild.plants import PERSON_RULES, World, plant_person_rule, plant_spd
from fraudmatch.synth.wild.services import natural
from fraudmatch.synth.wild.truth import evident_money_pairs, truth_rows
from fraudmatch.synth.writers import SynthResult

__all__ = ["COUNCILS", "generate_wild"]

_XLSX_CREATED = datetime(2026, 1, 1)  # fixed workbook timestamp: same seed, same bytes
_NAME_COLS = ["surname", "forenames", "address", "supplier_name"]


def generate_wild(
    out_dir: Path,
    *,
    partners: int = 5,
    people: int = 20_000,
    seed: int = 1,
    cycle_date: date = date(2026, 11, 1),
) -> SynthResult:
    """Write `partners` councils' extracts of the second population and its truth."""
    if not 1 <= partners <= len(COUNCILS):
        raise ValueError(f"partners must be between 1 and {len(COUNCILS)}, got {partners}")
    if people < 1000:
        raise ValueError(f"people must be at least 1000 for the wild population, got {people}")
    out_dir = Path(out_dir)
    cycle = (cycle_date - date(1970, 1, 1)).days
    world = _build(seed, partners, people, cycle)
    truth = truth_rows(world.recs, world.people, pl.concat(world.decoys), cycle)
    ids = _record_ids(world, seed)
    return _write(out_dir, world, ids, truth, seed, cycle_date)


MAX_CASES = 150  # planted cases per rule; homes run out beyond ~200 at 300,000 people


def _build(seed: int, partners: int, n_people: int, cycle: int) -> World:
    names = Names.load()
    folk, addr = population(stream(seed, "people"), n_people, partners, cycle, names)
    acct = accounts(stream(seed, "accounts"), folk)
    recs = natural(stream(seed, "services"), folk, acct, cycle)
    recs["creditors"] = creditors(stream(seed, "creditors"), addr, names, partners, n_people)
    recs["creditor_payments"] = payments(stream(seed, "payments"), recs["creditors"], cycle)
    rng = stream(seed, "homes")
    free = [
        rng.permutation(
            addr.filter((pl.col("council") == c) & ~pl.col("occupied"))["address_id"].to_numpy()
        )
        for c in range(partners)
    ]
    # creditors sit at the last empty premises; plants take homes from the front
    world = World(stream(seed, "plants"), names, cycle, partners, folk, addr, recs, free)
    # one case per 1,000 people and one hard negative per 2,500, up to 150 and 60 a rule:
    # every plant takes empty homes, and a council keeps about one home in ten empty
    n_cases = max(5, min(n_people // 1000, MAX_CASES))
    n_neg = max(3, min(n_people // 2500, MAX_CASES * 2 // 5))
    for rule in PERSON_RULES:
        if rule.scope == "other" and partners < 2:
            continue
        plant_person_rule(world, rule, n_cases, n_neg)
    plant_spd(world, n_cases, n_neg)
    world.decoys += plant_money(stream(seed, "money"), recs, addr, acct, n_cases, cycle)
    ni = ni_numbers(stream(seed, "ni"), world.people.height)
    world.people = world.people.with_columns(
        ni=pl.when(pl.col("age") >= 16).then(pl.Series(ni.tolist(), dtype=pl.String))
    )
    return world


def _record_ids(world: World, seed: int) -> dict[str, pl.DataFrame]:
    """Per dataset: each record's council, record id and file row, in a shuffled file order."""
    rng = stream(seed, "record_ids")
    out = {}
    for ds, frame in world.recs.items():
        order = rng.permutation(frame.height)
        base = rng.integers(100_000, 900_000, world.n_councils)
        shuffled = pl.DataFrame({"row": np.arange(frame.height)[order]}).with_columns(
            council=frame["council"].gather(order)
        )
        shuffled = shuffled.with_columns(
            pos=pl.int_range(pl.len()).over("council"),
            base=pl.Series(base).gather(shuffled["council"]),
        )
        code = DATASETS[ds].code
        out[ds] = shuffled.select(
            "row",
            "council",
            "pos",
            record_id=pl.when(pl.col("council") % 2 == 0)
            .then(pl.lit(code + "/") + (pl.col("base") + pl.col("pos") * 3).cast(pl.String))
            .otherwise((pl.col("base") * 10 + pl.col("pos")).cast(pl.String)),
        )
    return out


def _cells(
    world: World,
    ds: str,
    council: int,
    style: render.Style,
    ids: pl.DataFrame,
    rng: np.random.Generator,
) -> pl.DataFrame:
    """One council's file of one dataset, as that council writes it."""
    order = ids.filter(pl.col("council") == council).sort("pos")
    rec = world.recs[ds][order["row"]]
    if "blank" not in rec.columns:
        rec = rec.with_columns(blank=pl.lit(None, pl.String))
    person = rec.select("person_id").join(
        world.people, on="person_id", how="left", maintain_order="left"
    )
    addr = rec.select("address_id").join(
        world.addresses, on="address_id", how="left", maintain_order="left"
    )
    n = rec.height
    damage = 0.006
    cols: dict[str, pl.Series] = {"record_id": order["record_id"]}
    spec = DATASETS[ds]
    if "surname" in spec.columns:
        cols["surname"] = render.typos(
            rng, render.surnames(rng, person["surname"], person["maiden"]), damage
        )
        cols["forenames"] = render.typos(
            rng, render.forenames(rng, person["first"], person["middle"]), damage
        )
        dob = person["dob"].fill_null(NO_DAY)
        if "date_of_birth" in rec.columns:  # the register shows it only for attainers
            dob = rec["date_of_birth"]
        cols["date_of_birth"] = render.dates(rng, dob, _date_style(style, rng), damage)
        cols["ni_number"] = render.ni_text(rng, person["ni"])
    if "address" in spec.columns:
        cols["address"] = render.address_lines(rng, addr, style.abbreviate)
        cols["postcode"] = render.postcodes(rng, addr["postcode"])
        cols["uprn"] = addr["uprn"]
    for col in spec.columns:
        if col in cols or col not in rec.columns:
            continue
        s = rec[col]
        if col.endswith("_date") or col.startswith("date_of_"):
            cols[col] = render.dates(rng, s, _date_style(style, rng), 0.0)
        elif col == "amount":
            cols[col] = s.round(2).cast(pl.String)
        else:
            cols[col] = s.cast(pl.String)
    if ds == "creditor_payments":
        sup = world.recs["creditors"]
        cols["supplier_id"] = _supplier_ids(world, rec["supplier"])
        cols["supplier_name"] = rec.select("supplier").join(
            sup.select("supplier", "supplier_name"),
            on="supplier",
            how="left",
            maintain_order="left",
        )["supplier_name"]
    frame = pl.DataFrame(
        {c: cols.get(c, pl.Series([None] * n, dtype=pl.String)) for c in spec.columns}
    )
    frame = render.blank(rng, frame, ds, style, rec["blank"])
    return render.case(frame, style.upper, _NAME_COLS)


def _supplier_ids(world: World, supplier: pl.Series) -> pl.Series:
    ids = world.ids["creditors"].sort("row")["record_id"]  # type: ignore[attr-defined]
    return ids.gather(supplier)


def _date_style(style: render.Style, rng: np.random.Generator) -> str:
    return style.dates


def _write(
    out_dir: Path,
    world: World,
    ids: dict[str, pl.DataFrame],
    truth: pl.DataFrame,
    seed: int,
    cycle_date: date,
) -> SynthResult:
    world.ids = ids  # type: ignore[attr-defined]
    names = [c for c, _ in COUNCILS[: world.n_councils]]
    st = render.styles(stream(seed, "styles"), world.n_councils)
    files: dict[str, dict[str, Path]] = {n: {} for n in names}
    counts: dict[str, dict[str, int]] = {n: {} for n in names}
    entries = []
    sent: dict[str, list[pl.DataFrame]] = {"payroll": [], "creditors": []}
    for c, name in enumerate(names):
        for ds in DATASETS:
            cells = _cells(world, ds, c, st[c], ids[ds], stream(seed, "render", name, ds))
            if ds in sent:
                sent[ds].append(cells.with_columns(partner=pl.lit(name)))
            path = _write_file(cells, out_dir / name, ds, st[c].file)
            files[name][ds] = path
            counts[name][ds] = cells.height
            entries.append(
                {
                    "partner": name,
                    "dataset": ds,
                    "path": str(path.relative_to(out_dir)),
                    "rows": cells.height,
                    "format": st[c].file,
                    "dates": st[c].dates,
                }
            )
    truth_dir = out_dir / "truth"
    truth_dir.mkdir(parents=True, exist_ok=True)
    paths = {"cases": truth_dir / "cases.csv", "records": truth_dir / "records.parquet"}
    cases = evident_money_pairs(
        _truth_ids(truth, ids, names), world.recs, {k: pl.concat(v) for k, v in sent.items()}
    )
    cases.select(*TRUTH_CASE_COLUMNS, "label").write_csv(paths["cases"])
    who = [
        v.select(
            pl.col("council").replace_strict(list(range(len(names))), names).alias("partner"),
            pl.lit(ds).alias("dataset"),
            "record_id",
            person_id=world.recs[ds]["person_id"].gather(v["row"]),
        )
        for ds, v in ids.items()
    ]
    pl.concat(who).write_parquet(paths["records"])
    manifest = out_dir / "manifest.json"
    manifest.write_text(
        json.dumps(
            {
                "generator": "fraudmatch.synth.wild",
                "seed": seed,
                "people": world.people.height,
                "partners": names,
                "cycle_date": cycle_date.isoformat(),
                "files": entries,
                "truth": {k: str(v.relative_to(out_dir)) for k, v in paths.items()},
                "truth_counts": cases.group_by("kind", "label").len().sort("kind", "label").rows(),
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    return SynthResult(
        out_dir=out_dir,
        partners=names,
        people=world.people.height,
        row_counts=counts,
        files=files,
        truth=paths,
        manifest=manifest,
    )


def _truth_ids(truth: pl.DataFrame, ids: dict[str, pl.DataFrame], names: list[str]) -> pl.DataFrame:
    """Internal rows to (partner, record_id) on both sides."""
    out = truth
    for side in ("left", "right"):
        lookup = pl.concat(
            [
                v.select(
                    pl.lit(ds).alias("ds"), pl.col("row").cast(pl.Int64), "council", "record_id"
                )
                for ds, v in ids.items()
            ]
        )
        out = out.join(
            lookup.rename(
                {
                    "ds": f"{side}_dataset",
                    "row": f"{side}_row",
                    "council": f"{side}_council",
                    "record_id": f"{side}_record_id",
                }
            ),
            on=[f"{side}_dataset", f"{side}_row"],
            how="left",
        )
        out = out.with_columns(
            pl.col(f"{side}_council")
            .replace_strict(list(range(len(names))), names)
            .alias(f"{side}_partner")
        )
    return out.with_columns(note=pl.col("label")).sort(
        "rule", "kind", "left_partner", "left_record_id", "right_partner", "right_record_id"
    )


def _write_file(cells: pl.DataFrame, folder: Path, ds: str, fmt: str) -> Path:
    """CSV in UTF-8, UTF-8 with BOM, or Windows-1252 with CRLF; or XLSX."""
    folder.mkdir(parents=True, exist_ok=True)
    headers = {c: c.replace("_", " ").title() for c in cells.columns} if fmt != "csv-utf8" else {}
    cells = cells.rename(headers)
    if fmt == "xlsx":
        import xlsxwriter

        path = folder / f"{ds}.xlsx"
        wb = xlsxwriter.Workbook(str(path))
        wb.set_properties({"created": _XLSX_CREATED})
        cells.write_excel(wb, worksheet=ds[:31], autofilter=False)
        wb.close()
        return path
    path = folder / f"{ds}.csv"
    if fmt == "csv-cp1252":
        path.write_bytes(cells.write_csv(line_terminator="\r\n").encode("cp1252", "replace"))
    else:
        buf = io.BytesIO()
        cells.write_csv(buf, include_bom=fmt == "csv-bom")
        path.write_bytes(buf.getvalue())
    return path

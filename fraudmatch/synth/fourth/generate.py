"""Generate the fourth population: people, services, truth, council files and manifest."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np
import polars as pl
import xlsxwriter

from fraudmatch.synth.fourth.councils import COUNCILS, Council
from fraudmatch.synth.fourth.money import (
    address_key,
    bank,
    build_money,
    build_payments,
    pair_creditors,
)
from fraudmatch.synth.fourth.people import Homes, People, build_people
from fraudmatch.synth.fourth.render import (
    EPOCH,
    Slips,
    addresses,
    birth_dates,
    names,
    ni_numbers,
    render_dates,
)
from fraudmatch.synth.fourth.services import (
    CTR,
    DATASETS,
    DC,
    HB,
    PLANS,
    PY,
    Recs,
    background,
    deaths,
    plant_cases,
    plant_decoys,
    register_deaths,
    settle_deaths,
)
from fraudmatch.synth.fourth.truth import decoy_holds, find_cases, settle_boundaries
from fraudmatch.synth.vocabulary import TRUTH_CASE_COLUMNS
from fraudmatch.synth.writers import SynthResult

# columns per dataset, and which of them hold the record's two dates
COLUMNS = {
    "payroll": "record_id surname forenames date_of_birth ni_number address postcode sort_code "
    "account_number job_title start_date end_date",
    "housing_benefit": "record_id surname forenames date_of_birth ni_number address postcode "
    "claim_start_date claim_end_date",
    "council_tax_reduction": "record_id surname forenames date_of_birth ni_number address "
    "postcode claim_start_date claim_end_date",
    "housing_tenants": "record_id surname forenames date_of_birth ni_number address postcode "
    "tenancy_start_date tenancy_end_date",
    "housing_waiting_list": "record_id surname forenames date_of_birth ni_number address "
    "postcode application_date",
    "blue_badge": "record_id surname forenames date_of_birth address postcode badge_number "
    "issue_date expiry_date",
    "concessionary_travel": "record_id surname forenames date_of_birth address postcode "
    "pass_number issue_date expiry_date",
    "deceased": "record_id surname forenames date_of_birth date_of_death address postcode "
    "ni_number",
}
DATE_COLS = {
    "payroll": ("start_date", "end_date"),
    "housing_benefit": ("claim_start_date", "claim_end_date"),
    "council_tax_reduction": ("claim_start_date", "claim_end_date"),
    "housing_tenants": ("tenancy_start_date", "tenancy_end_date"),
    "housing_waiting_list": ("application_date", ""),
    "blue_badge": ("issue_date", "expiry_date"),
    "concessionary_travel": ("issue_date", "expiry_date"),
    "deceased": ("date_of_death", ""),
}
_JOBS = (
    "Refuse Collector",
    "Social Worker",
    "Cleaner",
    "Teaching Assistant",
    "Clerk",
    "Care Assistant",
    "Housing Officer",
    "Librarian",
    "Caretaker",
    "Revenues Officer",
)
_WARDS = ("North", "South", "Central", "Riverside", "Eastfield", "Westburn")
_XLSX_CREATED = datetime(2026, 1, 1)
PER_300K = 300_000


def generate_fourth(
    out_dir: Path | str,
    *,
    partners: int = 5,
    people: int = 20_000,
    seed: int = 1,
    cycle_date: date = date(2026, 11, 1),
) -> SynthResult:
    """Write the councils' extracts, complete truth and a manifest into out_dir."""
    if not 1 <= partners <= len(COUNCILS):
        raise ValueError(f"the fourth population has 1 to {len(COUNCILS)} councils, not {partners}")
    out_dir = Path(out_dir)
    councils = list(COUNCILS[:partners])
    rng = np.random.default_rng([seed, 4])
    cycle = (cycle_date - EPOCH).days
    pe, homes = build_people(rng, councils, people, cycle)
    recs = Recs()
    dead = deaths(rng, pe, cycle)
    background(rng, pe, partners, cycle, recs)
    register_deaths(rng, pe, dead, partners, recs)
    used = np.zeros(len(pe), bool)
    used[dead] = True
    k = max(4, round(150 * people / PER_300K))
    d = max(8, round(50 * people / PER_300K))
    for plan in PLANS:
        plant_cases(rng, plan, k, pe, homes, councils, partners, used, cycle, recs)
    decoys = []
    for plan in PLANS:
        got = plant_decoys(rng, plan, d, pe, homes, councils, partners, used, cycle, recs)
        decoys += [(plan.name, left, right, label) for left, right, label in got]
    rec = recs.arrays()
    keep = settle_deaths(rng, rec, pe)
    rec, keep = _duplicate_rows(rng, rec, keep)
    frame = _frame(rec)
    keep[settle_boundaries(frame.filter(pl.Series(keep)), cycle)] = False
    invalid, same_id = _damage(rng, rec, keep, councils)
    truthful = frame.filter(pl.Series(keep & (invalid == "")))
    cases = find_cases(truthful, cycle)
    dec = pl.DataFrame(decoys, schema=["rule", "left", "right", "label"], orient="row")
    dec = decoy_holds(truthful, cases, dec)
    # suppliers and payments, against the payroll records that are written and accepted
    pay = np.flatnonzero(keep & (invalid == "") & (rec["ds"] == PY))
    has_address = np.array([c.payroll_address for c in councils])[rec["partner"][pay]]
    payroll = pl.DataFrame(
        {
            "i": pay,
            "pid": rec["pid"][pay],
            "home": rec["home"][pay],
            "akey": address_key(homes, rec["home"][pay]),
            "has_address": has_address,
        }
    )
    sort, acc = bank(rec["pid"][pay])
    bank_of = pl.DataFrame({"i": pay, "sort_code": sort, "account_number": acc})
    money = build_money(rng, councils, homes, payroll, people, k, d, cycle)
    cred_cases, cred_decoys = pair_creditors(money, payroll, bank_of)
    payments, pay_cases, pay_decoys = build_payments(rng, money, k, d, cycle)
    extra = Extra(
        money.creditors, money.person, payments, cred_cases, cred_decoys, pay_cases, pay_decoys
    )
    state = State(rec, keep, invalid, same_id, pe, homes, cases, dec, extra)
    return _write(out_dir, seed, people, cycle_date, councils, rng, state)


@dataclass
class Extra:
    """The money datasets and their truth, by council and row position."""

    creditors: dict[int, pl.DataFrame]
    person: dict[int, np.ndarray]
    payments: dict[int, pl.DataFrame]
    cred_cases: list[tuple]  # (council, creditor row, payroll record)
    cred_decoys: list[tuple]  # ... and label
    pay_cases: list[tuple]  # (council, payment row, payment row)
    pay_decoys: list[tuple]  # ... and label


def _frame(rec: dict[str, np.ndarray]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "i": np.arange(len(rec["pid"])),
            **{c: rec[c] for c in ("pid", "partner", "ds", "d1", "d2", "protect")},
        }
    )


def _duplicate_rows(rng, rec, keep):
    """One person twice in one extract (a claim re-entered, a re-issued badge): same dates."""
    dup = np.flatnonzero(keep & ~rec["protect"] & (rec["ds"] != DC))
    dup = dup[rng.random(len(dup)) < 0.004]
    out = {k: np.concatenate([v, v[dup]]) for k, v in rec.items()}
    out["dup"] = np.r_[np.zeros(len(rec["pid"]), bool), np.ones(len(dup), bool)]
    return out, np.r_[keep, np.ones(len(dup), bool)]


def _damage(rng, rec, keep, councils: list[Council]) -> tuple[np.ndarray, np.ndarray]:
    """Rows keyed beyond acceptance on purpose, with the reason ingest gives; never a truth
    row: a date of birth with a two-digit year, an Excel serial number in a date cell, an
    empty forenames cell, a record id the legacy system gave two rows."""
    n = len(keep)
    reason = np.full(n, "", dtype=object)
    free = keep & ~rec["protect"]
    u = rng.random(n)
    part = rec["partner"]
    two = free & (u < np.array([c.two_digit_year for c in councils])[part])
    reason[two] = "two-digit year is ambiguous"
    serial = free & (u < np.array([c.serial_date for c in councils])[part])
    reason[serial] = "unrecognised date format"
    blank = free & (reason == "") & (rng.random(n) < 0.001)
    reason[blank] = "missing required value"
    # pairs of rows of one extract that share a record id: both rejected
    pick = np.flatnonzero(free & (reason == "") & (rng.random(n) < 0.0006))
    key = part[pick] * 10 + rec["ds"][pick]
    order = np.argsort(key, kind="stable")
    pick, key = pick[order], key[order]
    first = np.r_[True, key[1:] != key[:-1]]
    pairs = np.flatnonzero(~first & np.r_[False, first[:-1]])  # second row of each extract
    reason[pick[pairs]] = "duplicate record_id"
    reason[pick[pairs - 1]] = "duplicate record_id"
    return reason, np.stack([pick[pairs - 1], pick[pairs]], axis=1)


def record_ids(council: Council, n: int, rng) -> np.ndarray:
    """Record ids in the council's own system's shape, unique within the draw."""
    space = {"WX": 10**6, "LC": 8 * 10**5}.get(council.id_style, 10**7)
    num = rng.choice(space, size=n, replace=False)
    s = council.id_style
    if s == "GM":
        return np.array([f"GM{x:07d}" for x in num], dtype=object)
    if s == "LC":
        return np.array([f"LC/{18 + x % 8:02d}/{x // 8 % 100000:05d}" for x in num], dtype=object)
    if s == "AB":
        return np.array([f"{40000000 + x:08d}" for x in num], dtype=object)
    if s == "WX":
        letters = "ABCDEFGHJKLMNPRSTUVWXYZ"
        return np.array([f"WX-{x:06d}-{letters[x % 23]}" for x in num], dtype=object)
    if s == "EM":
        return np.array([f"E{x:07d}{'KLMNPQRSTV'[x % 10]}" for x in num], dtype=object)
    return np.array([f"SB{x // 100:05d}/{x % 100:02d}" for x in num], dtype=object)


def _ids(rng, rec, written: np.ndarray, councils, same_id: np.ndarray) -> np.ndarray:
    """Record ids per extract; a council's council tax reduction row reuses its housing
    benefit claim reference for the same person, as one revenues system numbers both."""
    n = len(rec["pid"])
    rid = np.full(n, "", dtype=object)
    for c, council in enumerate(councils):
        crng = np.random.default_rng([int(rng.integers(2**31)), c])
        hb = np.flatnonzero(written & (rec["partner"] == c) & (rec["ds"] == HB))
        ctr = np.flatnonzero(written & (rec["partner"] == c) & (rec["ds"] == CTR))
        ids = record_ids(council, len(hb) + len(ctr), crng)
        rid[hb], rid[ctr] = ids[: len(hb)], ids[len(hb) :]
        hb_of = pl.DataFrame({"pid": rec["pid"][hb], "h": hb})
        one = hb_of.filter(pl.col("pid").is_unique())
        ctr_of = pl.DataFrame({"pid": rec["pid"][ctr], "t": ctr}).filter(pl.col("pid").is_unique())
        both = one.join(ctr_of, on="pid", how="inner", maintain_order="left")
        rid[both["t"].to_numpy()] = rid[both["h"].to_numpy()]
        for ds in range(len(DATASETS)):
            if ds in (HB, CTR):
                continue
            idx = np.flatnonzero(written & (rec["partner"] == c) & (rec["ds"] == ds))
            rid[idx] = record_ids(council, len(idx), crng)
    # the legacy system that gave two rows one id
    rid[same_id[:, 1]] = rid[same_id[:, 0]]
    return rid


def _header(col: str, style: str) -> str:
    words = col.split("_")
    if style == "snake":
        return col
    if style == "title":
        return " ".join(w.capitalize() if w != "ni" else "NI" for w in words)
    if style == "upper":
        return " ".join(words).upper()
    if style == "sentence":
        text = " ".join(words)
        return (text[:1].upper() + text[1:]).replace("ni number", "NI number")
    return " ".join(words)


@dataclass
class State:
    """Everything generated, for writing: records, masks, people, homes, truth, money."""

    rec: dict[str, np.ndarray]
    keep: np.ndarray
    invalid: np.ndarray
    same_id: np.ndarray
    pe: People
    homes: Homes
    cases: pl.DataFrame
    dec: pl.DataFrame
    extra: Extra


def _write(out_dir, seed, people, cycle_date, councils, rng, st: State) -> SynthResult:
    """Render every written record, then one file per council and dataset, the truth and
    the manifest."""
    rec, keep, invalid, same_id, pe = st.rec, st.keep, st.invalid, st.same_id, st.pe
    homes, cases, dec, extra = st.homes, st.cases, st.dec, st.extra
    written = keep
    idx_all = np.flatnonzero(written)
    sub = {k: v[idx_all] for k, v in rec.items()}
    slips = Slips(len(idx_all))
    slips.add(sub["dup"], "dup:row")
    for flag, tag in (
        (np.array([not c.pad and c.dates == "uk" for c in councils]), "date:unpadded"),
        (np.array([c.dates == "mixed" for c in councils]), "date:excel_cells"),
    ):
        slips.add(flag[sub["partner"]], tag)
    sur, fore = names(rng, sub, pe, councils, slips)
    dob = birth_dates(rng, sub, pe, councils, slips)
    ni, tn = ni_numbers(rng, sub, pe, councils, slips, dob)
    line, pc = addresses(rng, sub, pe, homes, councils, slips)
    bad = invalid[idx_all]
    fore = np.where(bad == "missing required value", "", fore)
    slips.add(bad != "", "invalid")
    rid_all = _ids(rng, rec, written, councils, same_id)
    rid = rid_all[idx_all]
    files_meta, row_counts, files = [], {}, {}
    for c, council in enumerate(councils):
        row_counts[council.name], files[council.name] = {}, {}
        for ds, name in enumerate(DATASETS):
            idx = np.flatnonzero((sub["partner"] == c) & (sub["ds"] == ds))
            if len(idx) == 0:
                continue
            lrng = np.random.default_rng([seed, c, ds, 4])
            idx = idx[lrng.permutation(len(idx))]
            frame = _table(council, name, idx, sub, rid, sur, fore, dob, ni, line, pc, bad, lrng)
            ext = "xlsx" if council.fmt == "xlsx" else "csv"
            rel = f"{council.name}/{name}.{ext}"
            _write_table(frame, out_dir / rel, council)
            files_meta.append(
                {
                    "partner": council.name,
                    "dataset": name,
                    "path": rel,
                    "rows": len(idx),
                    "format": council.fmt,
                    "dates": council.dates,
                    "headers": council.headers,
                    "extra_columns": [council.extra.lower()] if council.extra else [],
                }
            )
            row_counts[council.name][name] = len(idx)
            files[council.name][name] = out_dir / rel

    money_rows, money_truth, money_ids = _write_money(
        out_dir, seed, councils, extra, files_meta, row_counts, files, rid_all, rec
    )
    pos = np.full(len(rec["pid"]), -1)
    pos[idx_all] = np.arange(len(idx_all))
    pname = np.array([c.name for c in councils], dtype=object)
    dname = np.array(DATASETS, dtype=object)

    def side(i: np.ndarray) -> list[np.ndarray]:
        return [pname[rec["partner"][i]], dname[rec["ds"][i]], rid_all[i]]

    def note(left: np.ndarray, right: np.ndarray) -> np.ndarray:
        tl, tr = rec["tag"][left], rec["tag"][right]
        why = np.where(tl != "natural", tl, tr)
        return why + " | L: " + slips.tags[pos[left]] + " | R: " + slips.tags[pos[right]]

    parts = []
    for kind, frame in (("case", cases.with_columns(label=pl.lit("case"))), ("decoy", dec)):
        left, right = frame["left"].to_numpy(), frame["right"].to_numpy()
        cols = [
            frame["rule"].to_numpy(),
            np.full(len(left), kind, dtype=object),
            *side(left),
            *side(right),
            note(left, right),
            frame["label"].to_numpy(),
        ]
        parts.append(
            pl.DataFrame(
                dict(zip((*TRUTH_CASE_COLUMNS, "label"), cols, strict=True)),
                schema=dict.fromkeys((*TRUTH_CASE_COLUMNS, "label"), pl.String),
            )
        )
    truth_cases = pl.concat([*parts, money_truth])
    order = {p.name: i for i, p in enumerate(PLANS)}
    order |= {"payroll_to_creditors": len(order), "creditor_duplicate_payments": len(order) + 1}
    truth_cases = (
        truth_cases.with_columns(
            pl.col("rule").replace_strict(order, return_dtype=pl.Int64).alias("_o")
        )
        .sort(
            "_o",
            "kind",
            "label",
            "left_partner",
            "left_record_id",
            "right_partner",
            "right_record_id",
        )
        .drop("_o")
    )
    truth_dir = out_dir / "truth"
    truth_dir.mkdir(parents=True, exist_ok=True)
    truth_cases.write_csv(truth_dir / "cases.csv")
    people_rows = pl.DataFrame(
        {
            "partner": pname[sub["partner"]],
            "dataset": dname[sub["ds"]],
            "record_id": rid,
            "person_id": sub["pid"].astype(str),
            "planted": sub["protect"],
            "slips": slips.tags,
        }
    )
    pl.concat([people_rows, money_rows]).write_csv(truth_dir / "records.csv")
    b = np.flatnonzero(bad != "")
    pl.DataFrame(
        {
            "partner": pname[sub["partner"][b]],
            "dataset": dname[sub["ds"][b]],
            "record_id": rid[b],
            "reason": bad[b],
        },
        schema=dict.fromkeys(("partner", "dataset", "record_id", "reason"), pl.String),
    ).unique(maintain_order=True).write_csv(truth_dir / "invalid_rows.csv")
    t = np.flatnonzero(tn & (bad == ""))
    pl.DataFrame(
        {
            "partner": pname[sub["partner"][t]],
            "dataset": dname[sub["ds"][t]],
            "record_id": rid[t],
            "column": "ni_number",
            "reason": "temporary reference (TN), blanked by the spec",
        },
        schema=dict.fromkeys(("partner", "dataset", "record_id", "column", "reason"), pl.String),
    ).write_csv(truth_dir / "blanked_values.csv")
    truth = {
        "cases": truth_dir / "cases.csv",
        "records": truth_dir / "records.csv",
        "invalid_rows": truth_dir / "invalid_rows.csv",
        "blanked_values": truth_dir / "blanked_values.csv",
    }
    manifest = {
        "generator": "fraudmatch.synth.fourth",
        "seed": seed,
        "people": people,
        "partners": [c.name for c in councils],
        "cycle_date": cycle_date.isoformat(),
        "truth": {k: str(v.relative_to(out_dir)) for k, v in truth.items()},
        "truth_counts": {
            "cases": cases.height,
            "decoys": dec.height,
            "invalid_rows": int(len(b)),
            "blanked_values": int(len(t)),
        },
        "files": files_meta,
    }
    mpath = out_dir / "manifest.json"
    mpath.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return SynthResult(
        out_dir=out_dir,
        partners=[c.name for c in councils],
        people=people,
        row_counts=row_counts,
        files=files,
        truth=truth,
        manifest=mpath,
    )


def _table(
    council: Council, name: str, idx, sub, rid, sur, fore, dob, ni, line, pc, bad, rng
) -> pl.DataFrame:
    """One extract's cells, as text, in the council's column order and date writing."""
    n = len(idx)
    first, second = DATE_COLS[name]
    data: dict[str, np.ndarray] = {}
    for col in COLUMNS[name].split():
        if col == "record_id":
            data[col] = rid[idx]
        elif col == "surname":
            data[col] = sur[idx]
        elif col == "forenames":
            data[col] = fore[idx]
        elif col == "date_of_birth":
            cell = render_dates(dob[idx], council.dates, council.pad, rng)
            b = bad[idx]
            two = b == "two-digit year is ambiguous"
            cell[two] = [re.sub(r"/(\d\d)(\d\d)$", r"/\2", v) for v in cell[two]]
            ser = b == "unrecognised date format"  # days since 1899-12-30, as Excel counts
            cell[ser] = [str(int(x) + 25569) for x in dob[idx][ser]]
            data[col] = cell
        elif col == "ni_number":
            data[col] = ni[idx]
        elif col == "address":
            data[col] = line[idx]
        elif col == "postcode":
            data[col] = pc[idx]
        elif col == first:
            data[col] = render_dates(sub["d1"][idx], council.dates, council.pad, rng)
        elif col == second:
            data[col] = render_dates(sub["d2"][idx], council.dates, council.pad, rng)
        elif col in ("sort_code", "account_number"):  # the employee's own account
            data[col] = bank(sub["pid"][idx])[0 if col == "sort_code" else 1]
        elif col == "job_title":
            data[col] = np.array(_JOBS, dtype=object)[rng.integers(0, len(_JOBS), n)]
        elif col in ("badge_number", "pass_number"):
            num = rng.choice(10**8, size=n, replace=False)
            pre = "BB" if col == "badge_number" else "63359700"
            data[col] = np.array([f"{pre}{x:08d}" for x in num], dtype=object)
    if council.extra:
        data[council.extra.lower()] = np.array(_WARDS, dtype=object)[rng.integers(0, 6, n)]
    frame = pl.DataFrame({k: pl.Series(k, list(v), dtype=pl.String) for k, v in data.items()})
    if council.forenames == "all" and council.title_case:  # this system lists forenames first
        order = ["record_id", "forenames", "surname"]
        frame = frame.select(order + [c for c in frame.columns if c not in order])
    frame = frame.rename({c: _header(c, council.headers) for c in frame.columns})
    return frame.with_columns(pl.all().replace("", None))


_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_SERIAL = re.compile(r"^\d{5}$")


def _write_table(frame: pl.DataFrame, path: Path, council: Council) -> None:
    """CSV in the council's encoding and line ends, or an XLSX workbook whose dates are real
    date cells (a few typed as text, day first)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if council.fmt == "xlsx":
        wb = xlsxwriter.Workbook(
            str(path),
            {
                "strings_to_numbers": False,
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "constant_memory": True,
            },
        )
        wb.set_properties({"created": _XLSX_CREATED})
        ws = wb.add_worksheet(path.stem[:31])
        datefmt = wb.add_format({"num_format": "dd/mm/yyyy"})
        dated = [j for j, c in enumerate(frame.columns) if "date" in c.lower()]
        for j, name in enumerate(frame.columns):
            ws.write_string(0, j, name)
        for i, row in enumerate(frame.iter_rows(), start=1):
            for j, v in enumerate(row):
                if v is None:
                    continue
                if j in dated and (m := _ISO.match(v)):
                    y, mo, d = (int(g) for g in m.groups())
                    ws.write_datetime(i, j, datetime(y, mo, d), datefmt)
                elif j in dated and _SERIAL.match(v):
                    ws.write_number(i, j, int(v))
                else:
                    ws.write_string(i, j, v)
        wb.close()
        return
    eol = "\r\n" if council.crlf else "\n"
    text = frame.write_csv(line_terminator=eol)
    if council.fmt == "csv-cp1252":
        data = text.encode("cp1252", errors="replace")
    elif council.fmt == "csv-utf8-bom":
        data = b"\xef\xbb\xbf" + text.encode("utf-8")
    else:
        data = text.encode("utf-8")
    path.write_bytes(data)


def _write_money(out_dir, seed, councils, extra: Extra, files_meta, row_counts, files, rid_all,
                 rec):  # fmt: skip
    """Creditors and creditor_payments files per council; their records and truth rows."""
    records, truth = [], []
    cred_ids, pay_ids = {}, {}
    for c, council in enumerate(councils):
        lrng = np.random.default_rng([seed, c, 40])
        cr = extra.creditors[c]
        cred_ids[c] = record_ids(council, cr.height, lrng)
        pm = extra.payments[c]
        pay_ids[c] = np.array([f"P{x:08d}" for x in lrng.choice(10**8, pm.height, replace=False)],
                              dtype=object)  # fmt: skip
        sup = cr.with_columns(record_id=pl.Series(cred_ids[c], dtype=pl.String))
        cred = sup.select(
            "record_id", "supplier_name", "address", "postcode", "sort_code", "account_number",
            "company_number", "vat_number",
        )  # fmt: skip
        s_idx = pm["s"].to_numpy()
        invoice = pm["invoice_date"].to_numpy()
        paid = np.minimum(invoice + lrng.integers(7, 45, len(invoice)), invoice.max(initial=0) + 45)
        pay = pl.DataFrame(
            {
                "record_id": pay_ids[c],
                "supplier_id": cred_ids[c][s_idx],
                "supplier_name": sup["supplier_name"].to_numpy()[s_idx],
                "invoice_number": pm["invoice_number"].to_numpy(),
                "invoice_date": render_dates(invoice, council.dates, council.pad, lrng),
                "amount": [f"{a:.2f}" for a in pm["amount"].to_numpy()],
                "payment_date": render_dates(paid, council.dates, council.pad, lrng),
            },
            schema=dict.fromkeys(
                ("record_id", "supplier_id", "supplier_name", "invoice_number", "invoice_date",
                 "amount", "payment_date"), pl.String),
        )  # fmt: skip
        for name, frame, tags, who in (
            ("creditors", cred, cr["tag"], extra.person[c]),
            ("creditor_payments", pay, pm["tag"], np.full(pm.height, -1)),
        ):
            order = np.random.default_rng([seed, c, 41, len(name)]).permutation(frame.height)
            out = frame[order].rename({col: _header(col, council.headers) for col in frame.columns})
            ext = "xlsx" if council.fmt == "xlsx" else "csv"
            rel = f"{council.name}/{name}.{ext}"
            _write_table(out.with_columns(pl.all().replace("", None)), out_dir / rel, council)
            files_meta.append({
                "partner": council.name, "dataset": name, "path": rel, "rows": frame.height,
                "format": council.fmt, "dates": council.dates, "headers": council.headers,
                "extra_columns": [],
            })  # fmt: skip
            row_counts[council.name][name] = frame.height
            files[council.name][name] = out_dir / rel
            records.append(
                pl.DataFrame(
                    {
                        "partner": council.name,
                        "dataset": name,
                        "record_id": frame["record_id"],
                        "person_id": [str(p) if p >= 0 else "" for p in who],
                        "planted": (tags != "natural").to_numpy(),
                        "slips": "",
                    }
                )
            )
    pname = [c.name for c in councils]
    cols = (*TRUTH_CASE_COLUMNS, "label")
    for c, j, i in extra.cred_cases:
        truth.append(("payroll_to_creditors", "case", pname[rec["partner"][i]], "payroll",
                      rid_all[i], pname[c], "creditors", cred_ids[c][j],
                      extra.creditors[c]["tag"][j], "case"))  # fmt: skip
    for c, j, i, label in extra.cred_decoys:
        truth.append(("payroll_to_creditors", "decoy", pname[rec["partner"][i]], "payroll",
                      rid_all[i], pname[c], "creditors", cred_ids[c][j],
                      f"decoy:{label}", label))  # fmt: skip
    for c, a, b in extra.pay_cases:
        tag = extra.payments[c]["tag"]
        note = tag[b] if tag[b] != "natural" else tag[a]
        truth.append(("creditor_duplicate_payments", "case", pname[c], "creditor_payments",
                      pay_ids[c][a], pname[c], "creditor_payments", pay_ids[c][b], note,
                      "case"))  # fmt: skip
    for c, a, b, label in extra.pay_decoys:
        truth.append(("creditor_duplicate_payments", "decoy", pname[c], "creditor_payments",
                      pay_ids[c][a], pname[c], "creditor_payments", pay_ids[c][b],
                      f"decoy:{label}", label))  # fmt: skip
    frame = pl.DataFrame(truth, schema=dict.fromkeys(cols, pl.String), orient="row")
    return pl.concat(records), frame, (cred_ids, pay_ids)

"""Generate the third population: people, records, council files, truth and manifest."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import numpy as np
import polars as pl
import xlsxwriter

from fraudmatch.synth.third.everyday import NATURAL, base_records, settle_deaths
from fraudmatch.synth.third.habits import (
    BB,
    CT,
    CTR,
    DATASET_NAMES,
    DC,
    EPOCH,
    HB,
    HT,
    PY,
    WL,
    Style,
    record_ids,
    render_address,
    render_days,
    render_dob,
    render_name,
    render_ni,
    style_for,
)
from fraudmatch.synth.third.names import build_pools
from fraudmatch.synth.third.people import People, build_people, place_households
from fraudmatch.synth.third.places import PLACES, Dwellings, build_dwellings
from fraudmatch.synth.third.planted import Planter
from fraudmatch.synth.third.truth import RULES, check_decoy, find_cases, settle_boundaries
from fraudmatch.synth.vocabulary import TRUTH_CASE_COLUMNS
from fraudmatch.synth.writers import SynthResult

COLUMNS = {
    PY: "record_id surname forenames date_of_birth ni_number address postcode sort_code "
    "account_number job_title start_date end_date",
    HB: "record_id surname forenames date_of_birth ni_number address postcode uprn "
    "claim_start_date claim_end_date",
    CTR: "record_id surname forenames date_of_birth ni_number address postcode uprn "
    "claim_start_date claim_end_date",
    HT: "record_id surname forenames date_of_birth ni_number address postcode uprn "
    "tenancy_start_date tenancy_end_date",
    WL: "record_id surname forenames date_of_birth ni_number address postcode application_date",
    BB: "record_id surname forenames date_of_birth address postcode badge_number issue_date "
    "expiry_date",
    CT: "record_id surname forenames date_of_birth address postcode pass_number issue_date "
    "expiry_date",
    DC: "record_id surname forenames date_of_birth date_of_death address postcode ni_number",
}
# Which of d1/d2 fill which date columns.
DATE_COLS = {
    PY: ("start_date", "end_date"),
    HB: ("claim_start_date", "claim_end_date"),
    CTR: ("claim_start_date", "claim_end_date"),
    HT: ("tenancy_start_date", "tenancy_end_date"),
    WL: ("application_date", None),
    BB: ("issue_date", "expiry_date"),
    CT: ("issue_date", "expiry_date"),
    DC: ("date_of_death", None),
}
_OPTIONAL_ADDRESS = {PY, WL, BB, CT, DC}
_JOBS = (
    "Refuse Collector",
    "Teaching Assistant",
    "Care Worker",
    "Social Worker",
    "Planning Officer",
    "Revenues Officer",
    "Library Assistant",
    "Cleaner",
    "School Cook",
    "Highways Operative",
    "Housing Officer",
    "Finance Assistant",
    "Customer Services Advisor",
    "Environmental Health Officer",
    "Youth Worker",
    "Admin Officer",
    "Civil Enforcement Officer",
    "Caretaker",
    "ICT Technician",
    "School Crossing Patrol",
)
_NOTES = ("", "", "", "", "", "arrears", "key safe", "succession query", "decant", "ASB case")
_INVALID_KINDS = (
    ("dob-impossible", 0.55),
    ("dob-blank", 0.2),
    ("surname-blank", 0.15),
    ("forenames-blank", 0.1),
)


def _day(d: date) -> int:
    return (d - EPOCH).days


def generate_third(
    out_dir: Path,
    *,
    partners: int = 5,
    people: int = 20_000,
    seed: int = 1,
    cycle_date: date = date(2026, 11, 1),
) -> SynthResult:
    """Write a population's council extracts, complete truth and a manifest into out_dir."""
    if not 2 <= partners <= len(PLACES):
        raise ValueError(f"partners must be 2..{len(PLACES)}")
    out_dir = Path(out_dir)
    rng = np.random.default_rng(seed)
    C = _day(cycle_date)
    places = PLACES[:partners]
    styles = [style_for(i) for i in range(partners)]
    pools = build_pools(seed)
    pe, council_h = build_people(rng, people, places, pools, C)
    needed = (np.bincount(council_h, minlength=partners) * 1.25 + 200 + people * 0.01).astype(int)
    dw = build_dwellings(rng, places, needed)
    cursors = place_households(rng, pe, council_h, dw.homes, C)

    scale = people / 300_000
    n_case, n_decoy = max(3, round(150 * scale)), max(2, round(50 * scale))
    planter = Planter(rng, pe, dw, pools, cursors, partners, C)
    planter.plant_all(n_case, n_decoy)
    n_planted = len(planter.rec.tags)
    base_records(rng, pe, dw, planter.used, C, partners, planter.rec)
    cols, tags = planter.rec.columns()
    for settle in (lambda c: settle_deaths(c, pe, rng), lambda c: settle_boundaries(c, C)):
        keep = settle(cols)
        if not keep[:n_planted].all():
            raise AssertionError("a planted record was dropped")
        cols = {k: v[keep] for k, v in cols.items()}

    cases = find_cases(cols, C)
    for d in planter.decoys:
        if not check_decoy(cols, d.rule, d.left, d.right, C):
            raise AssertionError(f"decoy is a case: {d}")
    in_truth = np.zeros(len(cols["pid"]), dtype=bool)
    in_truth[cases["left"].to_numpy()] = True
    in_truth[cases["right"].to_numpy()] = True
    for d in planter.decoys:
        in_truth[d.left] = in_truth[d.right] = True

    invalid = _invalid_rows(rng, cols, styles, in_truth)
    rendered = _render(rng, cols, pe, dw, styles, invalid)
    return _write(
        out_dir,
        seed=seed,
        people=people,
        cycle_date=cycle_date,
        places=places,
        styles=styles,
        cols=cols,
        tags=tags,
        rendered=rendered,
        invalid=invalid,
        cases=cases,
        decoys=planter.decoys,
    )


def _invalid_rows(rng, cols, styles: list[Style], in_truth: np.ndarray) -> np.ndarray:
    """A few rows per council keyed unacceptably: an impossible date of birth, or a blank
    required value. Never a row in the truth."""
    rate = np.array([s.invalid for s in styles])[cols["partner"]]
    hit = (rng.random(len(rate)) < rate) & ~in_truth & ~cols["protect"]
    kinds = np.array([k for k, _ in _INVALID_KINDS], dtype=object)
    p = np.array([w for _, w in _INVALID_KINDS])
    out = np.full(len(rate), "", dtype=object)
    out[hit] = kinds[rng.choice(len(kinds), size=int(hit.sum()), p=p)]
    return out


def _render(rng, cols, pe: People, dw: Dwellings, styles, invalid) -> dict[str, np.ndarray]:
    """Every record's cells as text, plus the slips each received."""
    n = len(cols["pid"])
    out = {
        k: np.full(n, "", dtype=object)
        for k in (
            "surname",
            "forenames",
            "date_of_birth",
            "ni_number",
            "address",
            "postcode",
            "uprn",
            "flags",
        )
    }
    for i in range(n):
        pid, ds, partner = int(cols["pid"][i]), int(cols["ds"][i]), int(cols["partner"][i])
        st = styles[partner]
        flags: list[str] = []
        sn = pe.surname[pid]
        if pe.maiden[pid] and (
            cols["force_maiden"][i]
            or (cols["asof"][i] < pe.married_on[pid] and rng.random() < st.stale_surname)
        ):
            sn = pe.maiden[pid]
            flags.append("sn:maiden")
        s, f = render_name(
            st,
            ds,
            pe.first[pid],
            pe.middle[pid],
            sn,
            int(pe.sex[pid]),
            bool(pe.known_by_middle[pid]),
            bool(cols["guard"][i]),
            rng,
            flags,
        )
        bad = invalid[i]
        out["surname"][i] = "" if bad == "surname-blank" else s
        out["forenames"][i] = "" if bad == "forenames-blank" else f
        out["date_of_birth"][i] = render_dob(st, int(pe.dob[pid]), rng, flags, bad)
        if ds in (PY, HB, CTR, HT, WL, DC):
            out["ni_number"][i] = render_ni(
                st, ds, pe.ni[pid], bool(cols["force_ni"][i]), rng, flags
            )
        line, pc, uprn = render_address(st, dw, int(cols["dwelling"][i]), rng)
        if ds in _OPTIONAL_ADDRESS:
            u = rng.random(2)
            if u[0] < st.addr_missing:
                line = ""
                flags.append("address:missing")
            if u[1] < st.pc_missing:
                pc = ""
                flags.append("postcode:missing")
        out["address"][i], out["postcode"][i], out["uprn"][i] = line, pc, uprn
        out["flags"][i] = ",".join(flags)
    return out


def _bank(pid: np.ndarray, fmt: str) -> tuple[list[str], list[str]]:
    """A person's sort code and account (same at every employer), in the council's format."""
    h = (pid.astype(np.uint64) * np.uint64(2654435761)) % np.uint64(10**14)
    sc = (h // np.uint64(10**8)) % np.uint64(10**6)
    acc = h % np.uint64(10**8)
    scs = [f"{int(v):06d}" for v in sc]
    if fmt == "dashes":
        scs = [f"{s[:2]}-{s[2:4]}-{s[4:]}" for s in scs]
    elif fmt == "spaces":
        scs = [f"{s[:2]} {s[2:4]} {s[4:]}" for s in scs]
    return scs, [f"{int(v):08d}" for v in acc]


def _write(
    out_dir: Path,
    *,
    seed: int,
    people: int,
    cycle_date: date,
    places,
    styles: list[Style],
    cols: dict[str, np.ndarray],
    tags: list[str],
    rendered: dict[str, np.ndarray],
    invalid: np.ndarray,
    cases: pl.DataFrame,
    decoys,
) -> SynthResult:
    """One file per council and dataset (rows shuffled, ids in the council's style), truth
    files and the manifest."""
    n = len(cols["pid"])
    rid = np.full(n, "", dtype=object)
    files_meta, row_counts, files = [], {}, {}
    for c, place in enumerate(places):
        st = styles[c]
        row_counts[place.name], files[place.name] = {}, {}
        for ds in range(len(DATASET_NAMES)):
            idx = np.flatnonzero((cols["partner"] == c) & (cols["ds"] == ds))
            if len(idx) == 0:
                continue
            idx = idx[np.random.default_rng([seed, c, ds]).permutation(len(idx))]
            lrng = np.random.default_rng([seed, c, ds, 1])
            rid[idx] = record_ids(st, ds, len(idx), lrng)
            frame = _frame(st, ds, idx, cols, rendered, rid, lrng)
            name = DATASET_NAMES[ds]
            ext = "xlsx" if st.fmt == "xlsx" else "csv"
            rel = f"{place.name}/{name}.{ext}"
            path = out_dir / rel
            _write_table(frame, path, st)
            files_meta.append(
                {
                    "partner": place.name,
                    "dataset": name,
                    "path": rel,
                    "rows": len(idx),
                    "format": st.fmt,
                    "dates": st.dates,
                }
            )
            row_counts[place.name][name] = len(idx)
            files[place.name][name] = path

    pname = np.array([p.name for p in places], dtype=object)
    dname = np.array(DATASET_NAMES, dtype=object)

    def side(i):
        return pname[cols["partner"][i]], dname[cols["ds"][i]], rid[i]

    rows = []
    tag_of = np.array(tags + [""] * (n - len(tags)), dtype=object)
    for rule, left, right in cases.iter_rows():
        why = max(int(cols["why"][left]), int(cols["why"][right]))
        note = tag_of[left] or tag_of[right] or NATURAL.get(why, "natural")
        note = f"{note} | L: {rendered['flags'][left]} | R: {rendered['flags'][right]}"
        rows.append((rule, "case", *side(left), *side(right), note, "case"))
    for d in decoys:
        note = f"{d.note} | L: {rendered['flags'][d.left]} | R: {rendered['flags'][d.right]}"
        rows.append((d.rule, "decoy", *side(d.left), *side(d.right), note, d.label))
    truth_cols = (*TRUTH_CASE_COLUMNS, "label")
    truth_dir = out_dir / "truth"
    truth_dir.mkdir(parents=True, exist_ok=True)
    order = {r.name: i for i, r in enumerate(RULES)}
    rows.sort(key=lambda r: (order[r[0]], r[1], r[9], r[2], r[4]))
    pl.DataFrame(rows, schema=truth_cols, orient="row").write_csv(truth_dir / "cases.csv")
    pl.DataFrame(
        {
            "partner": pname[cols["partner"]],
            "dataset": dname[cols["ds"]],
            "record_id": rid,
            "person_id": cols["pid"],
            "planted": cols["protect"],
            "slips": rendered["flags"],
        }
    ).write_csv(truth_dir / "records.csv")
    bad = np.flatnonzero(invalid != "")
    pl.DataFrame(
        {
            "partner": pname[cols["partner"][bad]].tolist(),
            "dataset": dname[cols["ds"][bad]].tolist(),
            "record_id": rid[bad].tolist(),
            "reason": invalid[bad].tolist(),
        },
        schema={k: pl.String for k in ("partner", "dataset", "record_id", "reason")},
    ).write_csv(truth_dir / "invalid_rows.csv")

    truth = {
        "cases": truth_dir / "cases.csv",
        "records": truth_dir / "records.csv",
        "invalid_rows": truth_dir / "invalid_rows.csv",
    }
    manifest = {
        "generator": "fraudmatch.synth.third",
        "seed": seed,
        "people": people,
        "partners": [p.name for p in places],
        "cycle_date": cycle_date.isoformat(),
        "truth": {k: str(v.relative_to(out_dir)) for k, v in truth.items()},
        "files": files_meta,
    }
    mpath = out_dir / "manifest.json"
    mpath.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return SynthResult(
        out_dir=out_dir,
        partners=[p.name for p in places],
        people=people,
        row_counts=row_counts,
        files=files,
        truth=truth,
        manifest=mpath,
    )


def _frame(st: Style, ds: int, idx, cols, rendered, rid, rng) -> pl.DataFrame:
    data: dict[str, list | np.ndarray] = {}
    first_col, second_col = DATE_COLS[ds]
    for col in COLUMNS[ds].split():
        if col == "record_id":
            data[col] = rid[idx]
        elif col in rendered:
            data[col] = rendered[col][idx]
        elif col == first_col:
            data[col] = render_days(cols["d1"][idx], st.dates)
        elif col == second_col:
            data[col] = render_days(cols["d2"][idx], st.dates)
        elif col in ("sort_code", "account_number"):
            sc, acc = _bank(cols["pid"][idx], st.sort_code)
            data[col] = sc if col == "sort_code" else acc
        elif col == "job_title":
            data[col] = np.array(_JOBS, dtype=object)[rng.integers(0, len(_JOBS), len(idx))]
        elif col in ("badge_number", "pass_number"):
            base = rng.choice(10**9, size=len(idx), replace=False)
            if col == "badge_number":
                data[col] = [f"BB{b:09d}" for b in base]
            else:
                data[col] = [f"6335970{b:09d}" for b in base]
    if st.extra_column and st.extra_column[0] == ds:
        data[st.extra_column[1]] = np.array(_NOTES, dtype=object)[
            rng.integers(0, len(_NOTES), len(idx))
        ]
    frame = pl.DataFrame({k: pl.Series(k, list(v), dtype=pl.String) for k, v in data.items()})
    if st.id_style == "check":  # this council's system puts forenames before surname
        order = ["record_id", "forenames", "surname"] + [
            c for c in frame.columns if c not in ("record_id", "forenames", "surname")
        ]
        frame = frame.select(order)
    return frame.with_columns(pl.all().replace("", None))


_XLSX_CREATED = datetime(2026, 1, 1)


def _write_table(frame: pl.DataFrame, path: Path, st: Style) -> None:
    """CSV in the council's encoding and line ends, or an XLSX workbook of text cells."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if st.fmt == "xlsx":
        wb = xlsxwriter.Workbook(
            str(path),
            {"strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False},
        )
        wb.set_properties({"created": _XLSX_CREATED})
        ws = wb.add_worksheet(path.stem[:31])
        for j, name in enumerate(frame.columns):
            ws.write_string(0, j, name)
        for i, row in enumerate(frame.iter_rows(), start=1):
            for j, v in enumerate(row):
                if v is not None:
                    ws.write_string(i, j, v)
        wb.close()
        return
    eol = "\r\n" if st.crlf else "\n"
    text = frame.write_csv(line_terminator=eol)
    if st.fmt == "csv-cp1252":
        data = text.encode("cp1252", errors="replace")
    elif st.fmt == "csv-utf8-bom":
        data = b"\xef\xbb\xbf" + text.encode("utf-8")
    else:
        data = text.encode("utf-8")
    path.write_bytes(data)

"""Writing files as councils send them (CSV encodings, XLSX, Parquet), truth and manifest."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import polars as pl

from fraudmatch.synth.context import Ctx
from fraudmatch.synth.styles import Style, file_format, header_of, style_of
from fraudmatch.synth.vocabulary import DATASETS, PARTNERS, TRUTH_CASE_COLUMNS


@dataclass(frozen=True)
class SynthResult:
    """What `generate` wrote: partners, per-file row counts and paths, truth files."""

    out_dir: Path
    partners: list[str]
    people: int
    row_counts: dict[str, dict[str, int]]  # partner -> dataset -> data rows
    files: dict[str, dict[str, Path]]  # partner -> dataset -> file
    truth: dict[str, Path]  # records, cases, invalid_rows, blanked_values
    manifest: Path


_XLSX_CREATED = datetime(2026, 1, 1)  # fixed workbook timestamp: same seed, same bytes


def _write_table(frame: pl.DataFrame, path: Path, fmt: str, style: Style) -> None:
    """Write text cells as the council's system would: CSV (encoding, BOM, CRLF), XLSX, Parquet."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    frame = frame.with_columns(pl.all().replace("", None))  # an empty cell, not ""
    if fmt == "csv":
        eol = "\r\n" if style.crlf else "\n"
        if style.encoding == "cp1252":
            data = frame.write_csv(line_terminator=eol).encode("cp1252")
        else:
            buf = io.BytesIO()
            frame.write_csv(buf, line_terminator=eol, include_bom=style.encoding == "utf-8-sig")
            data = buf.getvalue()
        tmp.write_bytes(data)
    else:
        if fmt == "parquet":
            frame.write_parquet(tmp)
        else:
            import xlsxwriter

            wb = xlsxwriter.Workbook(str(tmp))
            wb.set_properties({"created": _XLSX_CREATED})
            frame.write_excel(wb, worksheet=path.stem, autofilter=False)
            wb.close()
    tmp.replace(path)


def write_all(
    ctx: Ctx,
    out_dir: Path,
    emitted: dict[tuple[int, str], pl.DataFrame],
    cases: pl.DataFrame,
    invalid: pl.DataFrame,
    blanked: pl.DataFrame,
    cycle_date: date,
) -> SynthResult:
    """Write every extract, the truth and the manifest; returns what was written where."""
    names = [n for n, _, _ in PARTNERS[: ctx.n_partners]]
    files: dict[str, dict[str, Path]] = {n: {} for n in names}
    counts: dict[str, dict[str, int]] = {n: {} for n in names}
    manifest_files, records = [], []
    for (p, ds), cells in emitted.items():
        entry = _write_extract(out_dir, names[p], p, ds, cells)
        files[names[p]][ds] = out_dir / entry["path"]
        counts[names[p]][ds] = cells.height
        manifest_files.append(entry)
        rec = ctx.records[ds].filter(pl.col("partner") == p).sort("row")
        records.append(
            pl.DataFrame(
                {
                    "partner": names[p],
                    "dataset": ds,
                    "record_id": cells["record_id"],
                    "person_id": rec["person_id"],
                    "row": rec["row"],
                }
            )
        )
    truth, blanked = _write_truth(out_dir, pl.concat(records), cases, invalid, blanked)
    manifest = out_dir / "manifest.json"
    summary = {
        "generator": "fraudmatch.synth",
        "seed": ctx.seed,
        "people": ctx.n_people,
        "partners": names,
        "cycle_date": cycle_date.isoformat(),
        "files": manifest_files,
        "truth": {k: str(v.relative_to(out_dir)) for k, v in truth.items()},
        "truth_counts": {
            "cases": cases.filter(pl.col("kind") == "case").height,
            "decoys": cases.filter(pl.col("kind") == "decoy").height,
            "invalid_rows": invalid.height,
            "blanked_values": blanked.height,
        },
    }
    manifest.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return SynthResult(
        out_dir=out_dir,
        partners=names,
        people=ctx.n_people,
        row_counts=counts,
        files=files,
        truth=truth,
        manifest=manifest,
    )


def _write_extract(
    out_dir: Path, partner_name: str, p: int, ds: str, cells: pl.DataFrame
) -> dict[str, object]:
    """Write one council's file in its own style; returns its manifest entry."""
    fmt, st = file_format(p, ds), style_of(p, ds)
    path = out_dir / partner_name / f"{ds}.{fmt}"
    headed = cells.rename({c: header_of(c, st) for c in cells.columns})
    _write_table(headed, path, fmt, st)
    return {
        "partner": partner_name,
        "dataset": ds,
        "path": str(path.relative_to(out_dir)),
        "rows": cells.height,
        "format": fmt,
        "encoding": st.encoding if fmt == "csv" else None,
        "headers": st.headers,
        "dates": st.dates,
        "extra_columns": [c for c in cells.columns if c not in DATASETS[ds].columns],
    }


def _write_truth(
    out_dir: Path,
    records: pl.DataFrame,
    cases: pl.DataFrame,
    invalid: pl.DataFrame,
    blanked: pl.DataFrame,
) -> tuple[dict[str, Path], pl.DataFrame]:
    """The truth files; a blanked value on a row that is invalid anyway is not listed twice."""
    truth_dir = out_dir / "truth"
    truth_dir.mkdir(parents=True, exist_ok=True)
    truth = {
        "records": truth_dir / "records.parquet",
        "cases": truth_dir / "cases.csv",
        "invalid_rows": truth_dir / "invalid_rows.csv",
        "blanked_values": truth_dir / "blanked_values.csv",
    }
    records.write_parquet(truth["records"])
    cases.select(TRUTH_CASE_COLUMNS).write_csv(truth["cases"])
    invalid.sort("partner", "dataset", "row", "column").write_csv(truth["invalid_rows"])
    blanked = blanked.join(
        invalid.select("partner", "dataset", "row"),
        on=["partner", "dataset", "row"],
        how="anti",
        maintain_order="left",
    )
    blanked.sort("partner", "dataset", "row", "column").write_csv(truth["blanked_values"])
    return truth, blanked

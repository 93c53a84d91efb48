"""Open a bundle at the council: verify, decrypt, re-identify the council's own records.

The hub's bundle holds only case rows about this council's records (by ``record_id``);
joining them to the council's own extract is the one place a case gets a name again,
and it happens here, at home.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import xlsxwriter

from fraudmatch.common.fsutil import atomic_path
from fraudmatch.council.ingest import ROW, read_extract
from fraudmatch.sealing.bundles import (
    BUNDLE_SUFFIX,
    LEAD_NOTICE,
    RETURN_COLUMNS,
    evidence_text,
    read_bundle,
)
from fraudmatch.sealing.keys import PartyKeys, PublicIdentity
from fraudmatch.sealing.seal import Header

_EXTRACT_SUFFIXES = (".csv", ".xlsx", ".xlsm", ".parquet", ".txt")


def find_extracts(folder: Path) -> dict[str, Path]:
    """Map dataset name → extract file in a partner's export folder (``payroll.csv``...)."""
    found: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() in _EXTRACT_SUFFIXES and not path.stem.endswith(".rejects"):
            found.setdefault(path.stem, path)
    return found


def reidentify(rows: pl.DataFrame, extracts: Mapping[str, Path]) -> pl.DataFrame:
    """Join each case row to the partner's own raw record by ``record_id``.

    The raw columns are shown as the council's system holds them. A record no longer in
    the extract is kept and flagged (``record_found`` false), never dropped.
    """
    parts = []
    for (name,), group in rows.group_by("dataset", maintain_order=True):
        group = group.with_columns(evidence_text(pl.col("evidence")).alias("evidence"))
        if name in extracts:
            # headers are already snake_case; duplicated ids were rejected, so never sent
            raw, _ = read_extract(extracts[str(name)])
            raw = (
                raw.drop(ROW)
                .with_columns(pl.col("record_id").str.strip_chars(), record_found=pl.lit(True))
                .unique("record_id", keep="first")
            )
            clash = {c: f"own_{c}" for c in raw.columns if c in group.columns and c != "record_id"}
            group = group.join(raw.rename(clash), on="record_id", how="left")
            group = group.with_columns(pl.col("record_found").fill_null(False))
        else:
            group = group.with_columns(record_found=pl.lit(False))
        parts.append(group)
    if not parts:
        return rows.with_columns(pl.lit("").alias("evidence"), pl.lit(False).alias("record_found"))
    return pl.concat(parts, how="diagonal_relaxed")


@dataclass
class CaseList:
    cases: pl.DataFrame
    summary: pl.DataFrame
    csv_path: Path
    xlsx_path: Path
    header: Header


def summarise(cases: pl.DataFrame) -> pl.DataFrame:
    """Cases and records per rule and risk, for the investigator's first look."""
    if cases.height == 0:
        return pl.DataFrame(
            schema={"rule": pl.String, "risk": pl.String, "cases": pl.UInt32, "records": pl.UInt32}
        )
    return (
        cases.group_by("rule", "risk")
        .agg(
            pl.col("case_id").n_unique().alias("cases"),
            pl.col("record_id").n_unique().alias("records"),
        )
        .sort("cases", "rule", descending=[True, False])
    )


def write_case_list(cases: pl.DataFrame, summary: pl.DataFrame, csv: Path, xlsx: Path) -> None:
    """CSV for systems, XLSX (cases + summary + notice) for people; both atomic."""
    with atomic_path(csv) as tmp:
        cases.write_csv(tmp)
    with atomic_path(xlsx) as tmp:
        with xlsxwriter.Workbook(str(tmp)) as wb:
            cases.write_excel(wb, worksheet="cases", autofit=True)
            summary.write_excel(wb, worksheet="summary", autofit=True)
            notice = wb.add_worksheet("read me")
            notice.write(0, 0, LEAD_NOTICE)


def open_bundle(
    bundle: Path,
    *,
    partner: PartyKeys,
    senders: Mapping[str, PublicIdentity],
    extracts: Mapping[str, Path],
    out_dir: Path,
) -> CaseList:
    """Verify, decrypt and re-identify a bundle into a case list (CSV and XLSX)."""
    header, rows = read_bundle(bundle, partner=partner, senders=senders)
    cases = reidentify(rows, extracts)
    # for the investigator to fill in and send back (fraudmatch outcomes return)
    cases = cases.with_columns(pl.lit(None, pl.String).alias(c) for c in RETURN_COLUMNS)
    summary = summarise(cases)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = bundle.name.removesuffix(BUNDLE_SUFFIX)
    csv, xlsx = out_dir / f"{stem}.cases.csv", out_dir / f"{stem}.cases.xlsx"
    write_case_list(cases, summary, csv, xlsx)
    return CaseList(cases=cases, summary=summary, csv_path=csv, xlsx_path=xlsx, header=header)

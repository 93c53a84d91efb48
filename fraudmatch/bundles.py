"""Bundles: each partner's own cases, sealed by the hub, opened and re-identified at home.

The hub turns a run's matches into *case rows*, one per match and side, so a partner's
bundle holds a row for each of its own records that matched, with the counterpart's
partner, dataset and record_id and the evidence. A partner never receives a row about
another partner's record except as the counterpart reference of its own.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import xlsxwriter

from fraudmatch.fsutil import atomic_path
from fraudmatch.ingest import ROW, read_extract
from fraudmatch.keys import PartyKeys, PublicIdentity
from fraudmatch.seal import Header, open_file, seal_file

EVIDENCE = pl.List(pl.Struct({"comparison": pl.String, "level": pl.String, "weight": pl.Float64}))
CASE_ROW_SCHEMA: dict[str, pl.DataType] = {
    "run_id": pl.String(),
    "case_id": pl.String(),
    "rule": pl.String(),
    "risk": pl.String(),
    "tier": pl.String(),
    "match_weight": pl.Float64(),
    "match_probability": pl.Float64(),
    "partner": pl.String(),
    "dataset": pl.String(),
    "record_id": pl.String(),
    "other_partner": pl.String(),
    "other_dataset": pl.String(),
    "other_record_id": pl.String(),
    "evidence": EVIDENCE,
    "note": pl.String(),  # why a reviewed match is raised again (suppression), else null
}
LEAD_NOTICE = (
    "A match is a lead, not a finding. Every case must be reviewed by a named "
    "investigator before any action is taken about a person."
)
BUNDLE_SUFFIX = ".bundle"
_EXTRACT_SUFFIXES = (".csv", ".xlsx", ".xlsm", ".parquet", ".txt")


def evidence_expr(columns: list[str]) -> pl.Expr:
    """Fold ``level_<c>``/``weight_<c>`` columns into one list of (comparison, level, weight)."""
    comps = [c.removeprefix("level_") for c in columns if c.startswith("level_")]
    if not comps:
        return pl.lit([], dtype=EVIDENCE)
    items = [
        pl.struct(
            pl.lit(c).alias("comparison"),
            pl.col(f"level_{c}").cast(pl.String).alias("level"),
            (
                pl.col(f"weight_{c}").cast(pl.Float64)
                if f"weight_{c}" in columns
                else pl.lit(None, pl.Float64)
            ).alias("weight"),
        )
        for c in comps
    ]
    return pl.concat_list(items).cast(EVIDENCE)


def case_rows(
    matches: pl.DataFrame, *, run_id: str, risk: Mapping[str, str] | None = None
) -> pl.DataFrame:
    """Two rows per match (one per side), with the other side as the counterpart."""
    if matches.height == 0:
        return pl.DataFrame(schema=CASE_ROW_SCHEMA)
    risk_map = dict(risk or {})
    base = matches.with_columns(
        pl.lit(run_id).alias("run_id"),
        pl.col("rule").replace_strict(risk_map, default=None, return_dtype=pl.String).alias("risk"),
        evidence_expr(matches.columns).alias("evidence"),
        (
            pl.col("note").cast(pl.String) if "note" in matches.columns else pl.lit(None, pl.String)
        ).alias("note"),
        *[
            pl.col(c).cast(pl.Float64) if c in matches.columns else pl.lit(None, pl.Float64)
            for c in ("match_weight", "match_probability")
        ],
    )
    sides = []
    for me, other in (("left", "right"), ("right", "left")):
        sides.append(
            base.select(
                "run_id",
                "case_id",
                "rule",
                "risk",
                "tier",
                "match_weight",
                "match_probability",
                pl.col(f"{me}_partner").alias("partner"),
                pl.col(f"{me}_dataset").alias("dataset"),
                pl.col(f"{me}_record_id").alias("record_id"),
                pl.col(f"{other}_partner").alias("other_partner"),
                pl.col(f"{other}_dataset").alias("other_dataset"),
                pl.col(f"{other}_record_id").alias("other_record_id"),
                "evidence",
                "note",
            )
        )
    return pl.concat(sides).cast(CASE_ROW_SCHEMA).sort("rule", "case_id", "partner", "record_id")


def partner_cases(rows: pl.DataFrame, partner: str) -> pl.DataFrame:
    """Only the rows about ``partner``'s own records."""
    return rows.filter(pl.col("partner") == partner)


def bundle_name(partner: str, period: str, run_id: str) -> str:
    return f"{partner}__{period}__{run_id}{BUNDLE_SUFFIX}"


def write_bundle(
    rows: pl.DataFrame,
    target: Path,
    *,
    hub: PartyKeys,
    recipient: PublicIdentity,
    period: str,
) -> Header:
    """Seal one partner's case rows to that partner, signed by the hub."""
    others = rows.filter(pl.col("partner") != recipient.name)
    if others.height:
        raise ValueError(
            f"refusing to send {others.height} rows about other partners' records to "
            f"{recipient.name}"
        )
    with tempfile.TemporaryDirectory(prefix="fraudmatch-") as tmpdir:
        payload = Path(tmpdir) / "cases.parquet"
        rows.write_parquet(payload)
        return seal_file(
            payload,
            target,
            sender=hub,
            recipient=recipient,
            kind="bundle",
            dataset=None,
            period=period,
        )


def read_bundle(
    path: Path, *, partner: PartyKeys, senders: Mapping[str, PublicIdentity]
) -> tuple[Header, pl.DataFrame]:
    """Verify and open a bundle; refuse it unless the hub signed it for this partner."""
    with tempfile.TemporaryDirectory(prefix="fraudmatch-") as tmpdir:
        out = Path(tmpdir) / "cases.parquet"
        header = open_file(path, out, recipient=partner, senders=senders, expected_kind="bundle")
        rows = pl.read_parquet(out)
    return header, rows


def evidence_text(expr: pl.Expr) -> pl.Expr:
    """``surname: exact (+7.2); date_of_birth: exact (+9.1)`` for spreadsheets."""
    item = pl.element().struct
    weight = item.field("weight")
    text = pl.concat_str(
        item.field("comparison"),
        pl.lit(": "),
        item.field("level"),
        pl.when(weight.is_not_null())
        .then(pl.format(" ({})", weight.round(1).cast(pl.String)))
        .otherwise(pl.lit("")),
    )
    return expr.list.eval(text).list.join("; ")


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
    summary = summarise(cases)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = bundle.name.removesuffix(BUNDLE_SUFFIX)
    csv, xlsx = out_dir / f"{stem}.cases.csv", out_dir / f"{stem}.cases.xlsx"
    write_case_list(cases, summary, csv, xlsx)
    return CaseList(cases=cases, summary=summary, csv_path=csv, xlsx_path=xlsx, header=header)

"""Case lists for analysts who work in spreadsheets: CSV and XLSX per rule or partner.

One row per match: the case, rule and risk, both sides' partner, dataset and record_id,
tier, blocking rule, weight and probability, the evidence (one readable ``evidence``
column plus every ``level_*``/``weight_*`` column), and the current outcome. Columns are
whitelisted (:data:`COLUMNS` and the evidence columns): a token or key column cannot get
in. Text cells that a spreadsheet would run as a formula are defused.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import xlsxwriter

from fraudmatch.common.fsutil import atomic_path
from fraudmatch.review.casework import Filters, Review, evidence_columns

COLUMNS = (
    "run_id",
    "case_id",
    "rule",
    "risk",
    "tier",
    "match_weight",
    "match_probability",
    "blocking_rule",
    "left_partner",
    "left_dataset",
    "left_record_id",
    "right_partner",
    "right_dataset",
    "right_record_id",
    "evidence",
    "note",
    "status",
    "outcome_version",
    "amount",
    "comment",
    "analyst",
    "recorded_at",
    "evidence_changed",
)
_FORMULA_START = r"^[=+\-@\t\r]"  # a spreadsheet runs such a cell as a formula
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")

__all__ = [
    "COLUMNS",
    "ExportedFile",
    "case_list",
    "export_case_lists",
    "file_stem",
    "to_csv_bytes",
    "to_xlsx_bytes",
]


@dataclass(frozen=True)
class ExportedFile:
    group: str
    rows: int
    csv: Path
    xlsx: Path


def _evidence_text(comparisons: Sequence[str]) -> pl.Expr:
    """``ni=exact (10.61); surname=exact (5.98)``: one readable column of the evidence."""
    parts = [
        pl.when(pl.col(f"level_{c}").is_not_null()).then(
            pl.format(
                "{}={}{}",
                pl.lit(c),
                pl.col(f"level_{c}").cast(pl.String),
                pl.format(" ({})", pl.col(f"weight_{c}").round(2).cast(pl.String)).fill_null(""),
            )
        )
        for c in comparisons
    ]
    if not parts:
        return pl.lit("", pl.String)
    return pl.concat_str(parts, separator="; ", ignore_nulls=True)


def case_list(review: Review, filters: Filters) -> pl.DataFrame:
    """The filtered matches of a run as export rows (see :data:`COLUMNS`), best first."""
    frame = review.matches_with_outcomes(filters)
    if filters.status:
        frame = frame.filter(pl.col("status") == filters.status)
    present = [c for c in evidence_columns(frame.columns) if frame[c].null_count() < frame.height]
    comparisons = [c.removeprefix("level_") for c in present if c.startswith("level_")]
    for c in comparisons:
        if f"weight_{c}" not in frame.columns:
            frame = frame.with_columns(pl.lit(None, pl.Float64).alias(f"weight_{c}"))
    evidence = [f"{kind}_{c}" for c in comparisons for kind in ("level", "weight")]
    frame = frame.with_columns(
        _evidence_text(comparisons).alias("evidence"),
        pl.col("outcome_version").fill_null(0),
        *[pl.lit(None, pl.String).alias(c) for c in ("note",) if c not in frame.columns],
    )
    frame = frame.sort(
        ["rule", "match_weight", "case_id"], descending=[False, True, False], nulls_last=True
    )
    return frame.select(*COLUMNS, *evidence)


def file_stem(filters: Filters, group: str | None = None) -> str:
    parts = [filters.run or "run", group or filters.rule or filters.partner or "all-rules"]
    if group is None and filters.rule and filters.partner:
        parts.append(filters.partner)
    return _UNSAFE_NAME.sub("_", "__".join(parts)) + ".cases"


def _cells(frame: pl.DataFrame) -> pl.DataFrame:
    """Text cells a spreadsheet would run as a formula (CSV/formula injection) get a
    leading ``'``; used for both CSV and XLSX."""
    text = [c for c, t in frame.schema.items() if t == pl.String]
    return frame.with_columns(
        pl.when(pl.col(c).str.contains(_FORMULA_START))
        .then(pl.lit("'") + pl.col(c))
        .otherwise(pl.col(c))
        .alias(c)
        for c in text
    )


def to_csv_bytes(frame: pl.DataFrame) -> bytes:
    """UTF-8 with a BOM, so Excel reads accents right."""
    out = _cells(frame).with_columns(
        pl.col(c).dt.strftime("%Y-%m-%d %H:%M:%S")
        for c, t in frame.schema.items()
        if isinstance(t, pl.Datetime)
    )
    return "\ufeff".encode() + out.write_csv().encode()


def to_xlsx_bytes(frame: pl.DataFrame, *, sheet: str = "cases") -> bytes:
    frame = _cells(frame)
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(
        buffer,
        {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
         "strings_to_numbers": False, "remove_timezone": True},
    )  # fmt: skip
    ws = book.add_worksheet(_UNSAFE_NAME.sub("_", sheet)[:31] or "cases")
    bold = book.add_format({"bold": True, "bg_color": "#EEF1F5", "border": 1})
    number = book.add_format({"num_format": "0.00"})
    stamp = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    for col, name in enumerate(frame.columns):
        ws.write_string(0, col, name, bold)
    kinds = list(frame.schema.values())
    for r, row in enumerate(frame.iter_rows(), start=1):
        for col, value in enumerate(row):
            if value is None:
                continue
            kind = kinds[col]
            if kind == pl.Boolean:
                ws.write_boolean(r, col, bool(value))
            elif kind.is_numeric():
                ws.write_number(r, col, float(value), number if kind.is_float() else None)
            elif isinstance(kind, pl.Datetime):
                ws.write_datetime(r, col, value.replace(tzinfo=None), stamp)
            else:
                ws.write_string(r, col, str(value))
    widths = {"evidence": 60, "comment": 40, "note": 40}
    for col, name in enumerate(frame.columns):
        ws.set_column(col, col, widths.get(name, max(10, min(len(name) + 2, 24))))
    ws.freeze_panes(1, 0)
    if frame.height:
        ws.autofilter(0, 0, frame.height, len(frame.columns) - 1)
    book.close()
    return buffer.getvalue()


def _group_rows(everything: pl.DataFrame, by: str, group: str) -> pl.DataFrame:
    """One rule's or partner's rows of a :func:`case_list`, as :func:`case_list` would give
    them under that filter: same order, evidence columns only for comparisons it has."""
    if by == "rule":
        frame = everything.filter(pl.col("rule") == group)
    else:
        frame = everything.filter(
            (pl.col("left_partner") == group) | (pl.col("right_partner") == group)
        )
    empty = [
        c.removeprefix("level_")
        for c in frame.columns
        if c.startswith("level_") and frame[c].null_count() == frame.height
    ]
    return frame.drop([f"{kind}_{c}" for c in empty for kind in ("level", "weight")])


def export_case_lists(
    review: Review,
    run_id: str,
    out_dir: Path | str,
    *,
    rule: str | None = None,
    partner: str | None = None,
    by: str = "rule",
) -> list[ExportedFile]:
    """Write one CSV and one XLSX per rule (``by='rule'``) or per partner (``by='partner'``)
    of a run, under the rule/partner filters; returns what was written."""
    if by not in ("rule", "partner"):
        raise ValueError(f"export by 'rule' or 'partner', got {by!r}")
    base = Filters(run=run_id, rule=rule, partner=partner)
    everything = case_list(review, base)
    if by == "rule":
        groups = sorted(set(everything["rule"].to_list())) if not rule else [rule]
    else:
        partners = set(everything["left_partner"].to_list()) | set(
            everything["right_partner"].to_list()
        )
        groups = [partner] if partner else sorted(partners)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for group in groups:
        frame = _group_rows(everything, by, group)
        stem = file_stem(base, group)
        csv_path, xlsx_path = out / f"{stem}.csv", out / f"{stem}.xlsx"
        with atomic_path(csv_path) as tmp:
            tmp.write_bytes(to_csv_bytes(frame))
        with atomic_path(xlsx_path) as tmp:
            tmp.write_bytes(to_xlsx_bytes(frame, sheet=group))
        written.append(ExportedFile(group, frame.height, csv_path, xlsx_path))
    review.log(
        "cli",
        "export",
        {"run": run_id, "rule": rule, "partner": partner, "by": by, "files": len(written)},
    )
    return written

"""Open a bundle at the council: verify, decrypt, re-identify the council's own records.

The hub's bundle holds only case rows about this council's records (by ``record_id``);
joining them to the council's own extract is the one place a case gets a name again,
and it happens here, at home.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import xlsxwriter

from fraudmatch.common.fsutil import atomic_path
from fraudmatch.council.ingest import ROW, read_extract
from fraudmatch.sealing.bundles import (
    LEAD_NOTICE,
    RETURN_COLUMNS,
    case_list_stem,
    evidence_text,
    read_bundle,
)
from fraudmatch.sealing.seal import Header, Recipient, Senders

_EXTRACT_SUFFIXES = (".csv", ".xlsx", ".xlsm", ".parquet", ".txt")


def find_extracts(folder: Path) -> dict[str, Path]:
    """Map dataset name → extract file in a partner's export folder (``payroll.csv``...)."""
    found: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() in _EXTRACT_SUFFIXES and not path.stem.endswith(".rejects"):
            found.setdefault(path.stem, path)
    return found


def reidentify(
    rows: pl.DataFrame,
    extracts: Mapping[str, Path],
    encodings: Mapping[str, str] | None = None,
) -> pl.DataFrame:
    """Join each case row to the partner's own raw record by ``record_id``.

    The raw columns are shown as the council's system holds them, each extract read in the
    encoding the partnership file declares for its dataset (else the one detected). A
    record no longer in the extract is kept and flagged (``record_found`` false), never
    dropped.
    """
    encodings = encodings or {}
    parts = []
    for (name,), group in rows.group_by("dataset", maintain_order=True):
        group = group.with_columns(evidence_text(pl.col("evidence")).alias("evidence"))
        if name in extracts:
            # headers are already snake_case; duplicated ids were rejected, so never sent
            raw, _ = read_extract(extracts[str(name)], encoding=encodings.get(str(name)))
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


_CASE_KEY = ("rule", "record_id", "other_partner", "other_dataset", "other_record_id")


@dataclass
class CaseList:
    cases: pl.DataFrame
    summary: pl.DataFrame
    csv_path: Path
    xlsx_path: Path
    header: Header
    version: int = 1  # of the run's bundle, from its signed header
    #: the version this one replaced in the case list (None: the first opened)
    supersedes: int | None = None
    #: a newer version was already opened: this older one left the case list as it was
    superseded_by: int | None = None
    added: int = 0  # case rows not in the version it replaced
    removed: int = 0  # case rows of the replaced version no longer raised
    carried: int = 0  # rows whose filled-in outcome columns were carried over

    def describe(self) -> str:
        """One line for the investigator: which version, and what it changed."""
        if self.superseded_by is not None:
            return (
                f"bundle version {self.version} is superseded by version {self.superseded_by}, "
                f"already opened into {self.csv_path.name}: case list left as it is"
            )
        if self.supersedes is None or self.supersedes == self.version:
            return f"bundle version {self.version}"
        return (
            f"bundle version {self.version}, supersedes version {self.supersedes}: "
            f"{self.added} case rows added, {self.removed} no longer raised, outcomes "
            f"filled in on {self.carried} rows carried over (the old case list is kept as "
            f"*.v{self.supersedes}.superseded.*)"
        )


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


def write_case_list(
    cases: pl.DataFrame, summary: pl.DataFrame, csv: Path, xlsx: Path, note: str = ""
) -> None:
    """CSV for systems, XLSX (cases + summary + notice) for people; both atomic."""
    with atomic_path(csv) as tmp:
        cases.write_csv(tmp)
    with atomic_path(xlsx) as tmp:
        with xlsxwriter.Workbook(str(tmp)) as wb:
            cases.write_excel(wb, worksheet="cases", autofit=True)
            summary.write_excel(wb, worksheet="summary", autofit=True)
            notice = wb.add_worksheet("read me")
            notice.write(0, 0, LEAD_NOTICE)
            if note:
                notice.write(1, 0, note)


def _opened(record: Path) -> dict:
    """What was last opened into a case list (its ``.bundle.json``), or nothing."""
    try:
        return json.loads(record.read_text())
    except (OSError, ValueError):
        return {}


def _filled_in(csv: Path, xlsx: Path) -> pl.DataFrame:
    """Rows of an old case list (CSV or XLSX, whichever the investigator edited) with any
    outcome column filled in: key columns and outcome columns, as text."""
    frames = []
    for path in (csv, xlsx):
        if not path.exists():
            continue
        try:
            if path.suffix == ".csv":
                frame = pl.read_csv(path, infer_schema=False)
            else:
                frame = pl.read_excel(path, sheet_name="cases", infer_schema_length=0)
        except Exception:  # noqa: BLE001 - an unreadable copy: the other may hold them
            continue
        wanted = [*_CASE_KEY, *RETURN_COLUMNS]
        if not set(wanted) <= set(frame.columns):
            continue
        frame = frame.select(pl.col(c).cast(pl.String) for c in wanted)
        filled = pl.any_horizontal(
            pl.col(c).is_not_null() & (pl.col(c).str.strip_chars() != "") for c in RETURN_COLUMNS
        )
        frames.append(frame.filter(filled))
    if not frames:
        return pl.DataFrame(schema=dict.fromkeys([*_CASE_KEY, *RETURN_COLUMNS], pl.String))
    return pl.concat(frames).unique(list(_CASE_KEY), keep="first")


def _carry_outcomes(cases: pl.DataFrame, filled: pl.DataFrame) -> tuple[pl.DataFrame, int]:
    """Outcome columns an investigator filled in on the older version, on the same rows
    of the newer one; returns the frame and how many rows got them."""
    if not filled.height or not cases.height:
        return cases, 0
    keyed = cases.with_columns(pl.col(c).cast(pl.String).alias(f"__{c}") for c in _CASE_KEY)
    old = filled.rename({c: f"__{c}" for c in _CASE_KEY}).rename(
        {c: f"__old_{c}" for c in RETURN_COLUMNS}
    )
    joined = keyed.join(old, on=[f"__{c}" for c in _CASE_KEY], how="left")
    carried = int(
        joined.select(
            pl.any_horizontal(pl.col(f"__old_{c}").is_not_null() for c in RETURN_COLUMNS).sum()
        ).item()
    )
    merged = joined.with_columns(
        pl.coalesce(pl.col(c).cast(pl.String), pl.col(f"__old_{c}")).alias(c)
        for c in RETURN_COLUMNS
    )
    return merged.drop([c for c in merged.columns if c.startswith("__")]), carried


def _keys(cases: pl.DataFrame) -> set[tuple]:
    if not cases.height or not set(_CASE_KEY) <= set(cases.columns):
        return set()
    return set(cases.select(pl.col(c).cast(pl.String) for c in _CASE_KEY).iter_rows())


def open_bundle(
    bundle: Path,
    *,
    partner: Recipient,
    senders: Senders,
    extracts: Mapping[str, Path],
    out_dir: Path,
    encodings: Mapping[str, str] | None = None,
) -> CaseList:
    """Verify, decrypt and re-identify a bundle into a case list (CSV and XLSX).

    Every version of a run's bundle opens into the same case list
    (``<partner>__<period>__<run_id>.cases.csv``); a newer version replaces an older one
    and says what changed, an older one opened after a newer is left out (not an error),
    so opening all bundles of a drop in any order leaves the newest. The version comes
    from the signed header (bundles from before versions were kept count as version 1);
    ``<stem>.bundle.json`` records which version the case list holds.
    """
    header, rows = read_bundle(bundle, partner=partner, senders=senders)
    version = header.bundle_version or 1
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = case_list_stem(bundle.name)
    csv, xlsx = out_dir / f"{stem}.cases.csv", out_dir / f"{stem}.cases.xlsx"
    record = out_dir / f"{stem}.bundle.json"
    before = _opened(record) if csv.exists() else {}
    previous = before.get("bundle_version")
    cases = reidentify(rows, extracts, encodings)
    # for the investigator to fill in and send back (fraudmatch outcomes return)
    cases = cases.with_columns(pl.lit(None, pl.String).alias(c) for c in RETURN_COLUMNS)
    summary = summarise(cases)
    result = CaseList(cases, summary, csv, xlsx, header, version=version, supersedes=previous)
    if isinstance(previous, int) and previous > version:
        result.supersedes, result.superseded_by = None, previous
        return result
    if isinstance(previous, int):
        # what the investigator filled in on the case list is never lost: carried over to
        # the same rows, and an older version's case list kept beside the new one
        old = pl.read_csv(csv, infer_schema=False)
        cases, result.carried = _carry_outcomes(cases, _filled_in(csv, xlsx))
        result.cases = cases
        if previous < version:
            had, now = _keys(old), _keys(cases)
            result.added, result.removed = len(now - had), len(had - now)
            for path, suffix in ((csv, "csv"), (xlsx, "xlsx")):
                if path.exists():
                    path.replace(out_dir / f"{stem}.v{previous}.superseded.{suffix}")
    write_case_list(cases, summary, csv, xlsx, note=result.describe())
    with atomic_path(record) as tmp:
        tmp.write_text(
            json.dumps(
                {
                    "bundle": bundle.name,
                    "bundle_version": version,
                    "created": header.created,
                    "period": header.period,
                    "payload_sha256": header.payload_sha256,
                    "case_rows": cases.height,
                },
                indent=1,
            )
        )
    return result

"""Read a partner's extract and check it against its dataset's specification.

Councils export from case-management systems and Excel, so an extract may be CSV in
UTF-8, UTF-8 with a byte-order mark or Windows-1252, an XLSX workbook or Parquet, with
headers such as "Date of Birth". Every cell is read as text and normalised by the
spec's normaliser; a row that cannot be used is rejected with its reason, never dropped
in silence, so the data officer can fix the source and the counts always add up.
"""

from __future__ import annotations

import codecs
import io
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from fraudmatch.council.date_order import decide
from fraudmatch.spec.normalisers import normalise_column
from fraudmatch.spec.normalisers.dates import normalise_date
from fraudmatch.spec.specs import ColumnSpec, DatasetSpec

ROW = "__row"
REJECTS_SCHEMA = {
    "row": pl.Int64,
    "record_id": pl.String,
    "column": pl.String,
    "value": pl.String,
    "reason": pl.String,
    "action": pl.String,
}
ROW_REJECTED = "row rejected"
VALUE_BLANKED = "value blanked"
# An impossible date of birth (1958-07-71) whose possible parts are kept as evidence: the
# row stays, even where the column is required, and the report says what was wrong.
PARTS_KEPT = "valid date parts kept"
MISSING_REQUIRED = "missing required value"
EMPTY_ROW = "empty row"
ALL_COLUMNS = "(all)"

_TYPES = {"string": pl.String, "date": pl.Date, "number": pl.Float64}
# A column is normalised per distinct cell when at most this share of its cells is distinct.
_DISTINCT_SHARE = 0.5
_CODE = "__code"


class IngestError(ValueError):
    """An extract cannot be read or checked at all; the message says which file and why."""


class MissingColumnsError(IngestError):
    """Required columns are absent; all of them are listed at once."""


@dataclass
class Validation:
    """The outcome of checking one extract: usable rows and the reasons for the rest."""

    source: str
    dataset: str
    rows_read: int
    accepted: pl.DataFrame
    rejects: pl.DataFrame
    warnings: list[str] = field(default_factory=list)

    @property
    def rows_rejected(self) -> int:
        rejected = self.rejects.filter(pl.col("action") == ROW_REJECTED)
        return rejected.select(pl.col("row").n_unique()).item()

    @property
    def values_blanked(self) -> int:
        return self.rejects.filter(pl.col("action").is_in([VALUE_BLANKED, PARTS_KEPT])).height

    def reasons(self) -> pl.DataFrame:
        """Rows per (action, column, reason), largest first, for the summary table."""
        return (
            self.rejects.group_by("action", "column", "reason")
            .agg(pl.col("row").n_unique().alias("rows"))
            .sort(["action", "rows", "column"], descending=[False, True, False])
        )


def header_to_snake(name: str) -> str:
    """Map an export header ("Date of Birth", "NI-Number") to the spec's snake_case."""
    name = name.replace("\ufeff", "").strip().lower()
    return re.sub(r"[^0-9a-z]+", "_", name).strip("_")


def _decode_csv(path: Path) -> tuple[bytes, str]:
    """Return the file as UTF-8 bytes and the encoding it was found in.

    Excel on Windows writes Windows-1252; everything else writes UTF-8, sometimes with a
    byte-order mark. Valid UTF-8 is read as such; anything else is taken as cp1252 (which
    decodes every byte except five, reported if present).
    """
    data = path.read_bytes()
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :], "utf-8-sig"
    try:
        data.decode("utf-8")
        return data, "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252").encode("utf-8"), "cp1252"
    except UnicodeDecodeError as exc:
        raise IngestError(
            f"{path}: not UTF-8 and not Windows-1252 (byte {exc.start}); "
            "export the file as CSV UTF-8"
        ) from None


def _decode_declared(path: Path, encoding: str) -> bytes:
    """The file as UTF-8 bytes, decoded as the partnership file says it is written.

    A byte that is not valid in the declared encoding stops the file: read some other way,
    names and addresses would silently change, and the partner should fix the export or
    the declaration.
    """
    data = path.read_bytes()
    try:
        return data.decode(encoding).encode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise IngestError(
            f"{path}: not {encoding} as the partnership file declares: byte {exc.start} "
            f"(0x{data[exc.start]:02x}, line {line}) {exc.reason}; export the file as "
            f"{encoding} or correct the partner's encoding in partnership.yaml"
        ) from None


def read_extract(
    path: Path | str, *, encoding: str | None = None
) -> tuple[pl.DataFrame, list[str]]:
    """Read an extract as all-text columns with snake_case headers and a source row number.

    ``__row`` is the row a person sees when opening the file: the header is row 1, so
    the first record is row 2. A CSV is read in ``encoding`` where the partner declares
    one, else in the one detected. Returns the frame and notes on how it was read.
    """
    path = Path(path)
    if not path.exists():
        raise IngestError(f"{path}: file not found")
    suffix = path.suffix.lower()
    notes: list[str] = []
    if encoding is not None and suffix not in (".csv", ".txt"):
        notes.append(f"declared encoding {encoding} not used: a {suffix} file carries its own")
    try:
        if suffix in (".csv", ".txt"):
            if encoding is not None:
                data = _decode_declared(path, encoding)
                notes.append(f"read as {encoding} (declared)")
            else:
                data, found = _decode_csv(path)
                if found != "utf-8":
                    notes.append(f"read as {found}")
            frame = pl.read_csv(
                io.BytesIO(data),
                infer_schema=False,
                truncate_ragged_lines=False,
            )
        elif suffix in (".xlsx", ".xlsm", ".xls"):
            frame = pl.read_excel(path, infer_schema_length=0)
        elif suffix == ".parquet":
            frame = pl.read_parquet(path)
        else:
            raise IngestError(
                f"{path}: unsupported file type {suffix!r} (use CSV, XLSX or Parquet)"
            )
    except IngestError:
        raise
    except (pl.exceptions.PolarsError, OSError, ValueError) as exc:
        raise IngestError(
            f"{path}: cannot be read as {suffix.lstrip('.').upper()}: {exc}"
        ) from None
    frame = frame.select(pl.all().cast(pl.String))
    headers = [header_to_snake(c) for c in frame.columns]
    dupes = sorted(h for h, n in Counter(headers).items() if n > 1)
    if dupes:
        raise IngestError(f"{path}: columns appear twice after normalising headers: {dupes}")
    frame = frame.rename(dict(zip(frame.columns, headers, strict=True)))
    return frame.with_row_index(ROW, offset=2).with_columns(pl.col(ROW).cast(pl.Int64)), notes


def check_columns(frame: pl.DataFrame, dataset: DatasetSpec, source: str) -> list[str]:
    """Stop on missing required columns (all listed); warn on unknown and absent optional ones."""
    present = set(frame.columns) - {ROW}
    missing = [c for c in dataset.required if c not in present]
    if missing:
        raise MissingColumnsError(
            f"{source}: dataset {dataset.name!r} needs the columns {', '.join(missing)}, "
            f"which are missing (found: {', '.join(sorted(present)) or 'none'})"
        )
    warnings = []
    unknown = sorted(present - set(dataset.column_names))
    if unknown:
        warnings.append(f"ignored columns not in the {dataset.name} specification: {unknown}")
    absent = [c for c in dataset.column_names if c not in present]
    if absent:
        warnings.append(f"optional columns not supplied: {absent}")
    return warnings


def _column_fields(col: ColumnSpec, date_order: str) -> tuple[list[pl.Expr], list[pl.Expr]]:
    """Two selections over a frame holding the raw column: the state, then the fields.

    Each normaliser's state struct is computed once, then split into raw text, value,
    error and extras in a second, cheap selection. ``{col}__blank`` (the cell is missing)
    comes along so the rejects need not strip a million cells again per check.
    """
    raw = pl.col(col.name)
    if col.normaliser == "date":
        norm = normalise_date(raw, date_order)  # type: ignore[arg-type]
    else:
        norm = normalise_column(raw, col.normaliser, col.options_dict)
    states: list[pl.Expr] = [raw.alias(f"{col.name}__raw"), _blank(raw).alias(f"{col.name}__blank")]
    state = f"{col.name}__state"
    states.append(norm.state.alias(state))
    value = pl.col(state).struct.field("_value")
    error = pl.col(state).struct.field("_error")
    extras = {k: pl.col(state).struct.field(f"_extra_{k}") for k in norm.extras}
    fields = [
        pl.col(f"{col.name}__raw"),
        value.cast(_TYPES[col.type]).alias(col.name),
        error.alias(f"{col.name}__err"),
    ]
    fields += [e.alias(f"{col.name}__{suffix}") for suffix, e in extras.items()]
    return states, [*fields, pl.col(f"{col.name}__blank")]


def _normalised_frame(
    frame: pl.DataFrame, dataset: DatasetSpec, date_orders: dict[str, str]
) -> pl.DataFrame:
    """Apply every column's normaliser; keep raw text next to value, error and extras.

    A normaliser is a function of the cell alone, so a column with many repeats (names,
    dates, postcodes: a few percent of a million rows are distinct) is normalised once per
    distinct cell and joined back to the rows: the regexes then run over tens of thousands
    of cells instead of a million. Near-unique columns (NI numbers, record ids) are
    normalised row by row. All columns' plans run in one parallel ``collect_all``.
    """
    absent = [c for c in dataset.column_names if c not in frame.columns]
    frame = frame.with_columns(pl.lit(None, pl.String).alias(c) for c in absent)
    repeated = [
        frame.get_column(c.name).approx_n_unique() <= _DISTINCT_SHARE * frame.height
        for c in dataset.columns
    ]
    plans = []
    for col, repeats in zip(dataset.columns, repeated, strict=True):
        states, fields = _column_fields(col, date_orders.get(col.name, "dmy"))
        cells = pl.col(col.name).unique() if repeats else pl.col(col.name)
        plans.append(frame.lazy().select(cells).select(states).select(fields))
    tables = pl.collect_all(plans)
    # Back to the rows: each row's number in its column's table, then a gather; each step
    # one parallel collect_all (an eager join carrying every field was several times slower).
    codes = pl.collect_all(
        frame.lazy()
        .select(pl.col(col.name).alias(f"{col.name}__raw"))
        .join(
            table.lazy().select(f"{col.name}__raw").with_row_index(_CODE),
            on=f"{col.name}__raw",
            how="left",
            maintain_order="left",
            nulls_equal=True,
        )
        .select(_CODE)
        for col, table, repeats in zip(dataset.columns, tables, repeated, strict=True)
        if repeats
    )
    gathers = [
        table.lazy()
        .drop(f"{col.name}__raw")
        .select(pl.all().gather(pl.lit(codes.pop(0).get_column(_CODE))))
        if repeats
        else table.lazy()
        for col, table, repeats in zip(dataset.columns, tables, repeated, strict=True)
    ]
    parts = [frame.select(ROW)]
    for col, part, repeats in zip(dataset.columns, pl.collect_all(gathers), repeated, strict=True):
        raw = frame.get_column(col.name).alias(f"{col.name}__raw")
        parts.append(part.insert_column(0, raw) if repeats else part)
    return pl.concat(parts, how="horizontal")


def _blank(raw: pl.Expr) -> pl.Expr:
    return raw.is_null() | (raw.str.strip_chars() == "")


def _problems(normed: pl.DataFrame, dataset: DatasetSpec) -> pl.DataFrame:
    """One row per (source row, column) problem: invalid values and missing required ones.

    A row with no value at all (Excel exports often end in ``,,,,`` lines) is one problem,
    ``empty row``, not one missing value per required column.
    """
    empty = pl.all_horizontal(pl.col(f"{c}__blank") for c in dataset.column_names)
    parts = [
        normed.filter(empty).select(
            pl.col(ROW).alias("row"),
            pl.lit(None, pl.String).alias("record_id"),
            pl.lit(ALL_COLUMNS).alias("column"),
            pl.lit(None, pl.String).alias("value"),
            pl.lit(EMPTY_ROW).alias("reason"),
            pl.lit(ROW_REJECTED).alias("action"),
        )
    ]
    if parts[0].height:
        normed = normed.filter(~empty)
    for col in dataset.columns:
        raw, err = pl.col(f"{col.name}__raw"), pl.col(f"{col.name}__err")
        missing = pl.col(f"{col.name}__blank")
        if col.required:
            reason = (
                pl.when(err.is_not_null()).then(err).when(missing).then(pl.lit(MISSING_REQUIRED))
            )
            action = pl.lit(ROW_REJECTED)
            bad = err.is_not_null() | missing
        else:
            # An empty date means "none" to the rules (no end date: still employed, a claim
            # still open), so an unreadable optional date is never blanked: the row goes.
            blanks = col.normaliser != "date"
            action = pl.lit(VALUE_BLANKED if blanks else ROW_REJECTED)
            reason, bad = err, err.is_not_null()
        partial = [f"{col.name}__{p}" for p in ("py", "pm", "pd") if f"{col.name}__{p}" in normed]
        if "date_parts" in col.pseudonymise and partial:
            kept = pl.any_horizontal(pl.col(p).is_not_null() for p in partial)
            action = pl.when(err.is_not_null() & kept).then(pl.lit(PARTS_KEPT)).otherwise(action)
        # Rows with a problem are few: filter first, then build their reject rows.
        parts.append(
            normed.filter(bad).select(
                pl.col(ROW).alias("row"),
                pl.col("record_id__raw").str.strip_chars().alias("record_id"),
                pl.lit(col.name).alias("column"),
                raw.alias("value"),
                reason.alias("reason"),
                action.alias("action"),
            )
        )
    return pl.concat(parts)


def _duplicates(normed: pl.DataFrame) -> pl.DataFrame:
    """Every copy of a record_id that appears more than once: the partner must say which."""
    rid = pl.col("record_id")
    # Equal ids have equal hashes: distinct hashes (cheap on integers) prove there is no
    # repeat, and duplicated ones narrow a million ids down to the few that may repeat,
    # which alone are compared as strings.
    hashes = normed.get_column("record_id").hash()
    maybe = (
        normed.head(0)
        if hashes.n_unique() == normed.height
        else normed.filter(hashes.is_duplicated())
    )
    dup = maybe.filter(rid.is_not_null() & rid.is_duplicated())
    return dup.select(
        pl.col(ROW).alias("row"),
        rid.alias("record_id"),
        pl.lit("record_id").alias("column"),
        pl.col("record_id__raw").alias("value"),
        pl.format("duplicate record_id ({} rows share it)", rid.len().over(rid)).alias("reason"),
        pl.lit(ROW_REJECTED).alias("action"),
    )


def _date_orders(
    frame: pl.DataFrame, dataset: DatasetSpec, source: str, date_format: str | None
) -> tuple[dict[str, str], list[str]]:
    """Each date column's order (declared, else shown by its dates) and notes on it.

    A column whose dates do not show their order is refused here, before anything is read
    the wrong way round; the message says to declare ``date_format``.
    """
    columns = [c.name for c in dataset.columns if c.normaliser == "date" and c.name in frame]
    decided = decide(columns, frame, date_format)
    if decided.refusals:
        raise IngestError(
            f"{source}: cannot tell day from month: {'; '.join(decided.refusals)}. "
            "Declare the order (date_format: dmy for 25/03/1990, mdy for 03/25/1990, or iso) "
            "for this partner, or this dataset, in partnership.yaml"
        )
    return decided.orders, decided.notes


def validate(
    frame: pl.DataFrame,
    dataset: DatasetSpec,
    *,
    source: str = "<extract>",
    date_format: str | None = None,
) -> Validation:
    """Check an all-text extract against its spec: accepted rows normalised, plus rejects.

    ``date_format`` (iso, dmy or mdy) is the partner's declared date order; without one
    the order is taken from what the dates show, and a file that shows none is refused.
    """
    warnings = check_columns(frame, dataset, source)
    date_orders, notes = _date_orders(frame, dataset, source, date_format)
    warnings += notes
    normed = _normalised_frame(frame, dataset, date_orders)
    rejects = pl.concat([_problems(normed, dataset), _duplicates(normed)]).cast(REJECTS_SCHEMA)
    rejects = rejects.sort("row", "column")
    rejected_rows = rejects.filter(pl.col("action") == ROW_REJECTED).select("row").unique()
    keep = [c for c in normed.columns if not c.endswith(("__raw", "__err", "__blank")) and c != ROW]
    accepted = normed.select(keep)
    if rejected_rows.height:  # after the select: raw, error and blank columns are not copied
        rejected = normed.get_column(ROW).is_in(rejected_rows.get_column("row").implode())
        accepted = accepted.filter(~rejected)
    return Validation(
        source=source,
        dataset=dataset.name,
        rows_read=frame.height,
        accepted=accepted,
        rejects=rejects,
        warnings=warnings,
    )


def ingest(
    path: Path | str,
    dataset: DatasetSpec,
    *,
    date_format: str | None = None,
    encoding: str | None = None,
) -> Validation:
    """Read and validate one extract file, in the date order and encoding declared if any."""
    frame, notes = read_extract(path, encoding=encoding)
    result = validate(frame, dataset, source=str(path), date_format=date_format)
    result.warnings[:0] = notes
    return result

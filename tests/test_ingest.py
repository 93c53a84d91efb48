"""Reading extracts in the formats councils export, and the rejects contract."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from fraudmatch.council.ingest import (
    MISSING_REQUIRED,
    PARTS_KEPT,
    ROW_REJECTED,
    VALUE_BLANKED,
    IngestError,
    MissingColumnsError,
    header_to_snake,
    ingest,
)
from fraudmatch.spec.specs import load_spec

SPEC = load_spec()
PAYROLL = SPEC.dataset("payroll")

HEADER = "Record ID,Surname,Forenames,Date of Birth,NI Number,Postcode,Sort Code,Account Number"
ROWS = [
    "P1,O'Brien-Smith,Dr. José,31/01/1980,ab 12 34 56 c,sw1a1aa,12-34-56,12345678",
    "P2,Jones,Mary,1975-06-02,,EC1A 1BB,,",
    "P3,,Anne,1990-01-01,,,,",  # missing surname: rejected
    "P4,Patel,Raj,31/02/1990,,,,",  # impossible date: kept with its possible parts, reported
    "P5,Khan,Ali,1988-03-03,TN311258F,,,",  # temporary NI: value blanked, row kept
    "P6,Lee,Sam,1970-07-07,,,,",
    "P6,Lee,Samuel,1970-07-07,,,,",  # duplicate record id: both copies rejected
]


def write_csv(path: Path, text: str, encoding: str) -> Path:
    path.write_bytes(text.encode(encoding))
    return path


@pytest.fixture()
def extract_text() -> str:
    return "\n".join([HEADER, *ROWS]) + "\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
def test_csv_encodings_read_the_same(tmp_path: Path, extract_text: str, encoding: str) -> None:
    path = write_csv(tmp_path / "payroll.csv", extract_text, encoding)
    result = ingest(path, PAYROLL)
    p1 = result.accepted.filter(pl.col("record_id") == "P1").row(0, named=True)
    assert p1["forenames"] == "JOSE"
    assert p1["surname"] == "OBRIEN SMITH"
    assert p1["surname__last"] == "SMITH"
    assert p1["date_of_birth"] == date(1980, 1, 31)
    assert p1["postcode"] == "SW1A 1AA"
    assert p1["postcode__district"] == "SW1A"


def test_every_row_is_accepted_or_rejected_with_a_reason(tmp_path: Path, extract_text: str) -> None:
    result = ingest(write_csv(tmp_path / "p.csv", extract_text, "utf-8"), PAYROLL)
    assert result.rows_read == 7
    assert sorted(result.accepted["record_id"]) == ["P1", "P2", "P4", "P5"]
    assert result.rows_rejected == 3
    assert result.accepted.height + result.rows_rejected == result.rows_read
    rejected = result.rejects.filter(pl.col("action") == ROW_REJECTED)
    by_row = {r["row"]: r for r in rejected.iter_rows(named=True)}
    assert by_row[4]["column"] == "surname" and by_row[4]["reason"] == MISSING_REQUIRED
    kept = result.rejects.filter(pl.col("action") == PARTS_KEPT).row(0, named=True)
    assert kept["row"] == 5 and kept["column"] == "date_of_birth"
    assert kept["reason"] == "impossible date" and kept["value"] == "31/02/1990"
    p4 = result.accepted.filter(pl.col("record_id") == "P4").row(0, named=True)
    assert p4["date_of_birth"] is None
    assert (p4["date_of_birth__py"], p4["date_of_birth__pm"], p4["date_of_birth__pd"]) == (
        1990,
        2,
        31,
    )
    dup = rejected.filter(pl.col("column") == "record_id")
    assert dup["row"].to_list() == [7, 8]
    assert all("duplicate record_id (2 rows share it)" == r for r in dup["reason"])


def test_invalid_optional_value_is_blanked_and_reported(tmp_path: Path, extract_text: str) -> None:
    result = ingest(write_csv(tmp_path / "p.csv", extract_text, "utf-8"), PAYROLL)
    blanked = result.rejects.filter(pl.col("action") == VALUE_BLANKED)
    assert blanked.select("row", "column", "value").rows() == [(6, "ni_number", "TN311258F")]
    p5 = result.accepted.filter(pl.col("record_id") == "P5")
    assert p5["ni_number"].to_list() == [None]


def test_missing_required_columns_listed_at_once(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "p.csv", "record_id,postcode\nA,SW1A 1AA\n", "utf-8")
    with pytest.raises(MissingColumnsError) as info:
        ingest(path, PAYROLL)
    message = str(info.value)
    assert "'payroll'" in message and str(path) in message
    for col in ("surname", "forenames", "date_of_birth"):
        assert col in message


def test_unknown_columns_warned_not_fatal(tmp_path: Path) -> None:
    text = "record_id,surname,forenames,date_of_birth,notes\nA,Smith,Jo,1980-01-01,hello\n"
    result = ingest(write_csv(tmp_path / "p.csv", text, "utf-8"), PAYROLL)
    assert result.accepted.height == 1
    assert any("notes" in w for w in result.warnings)
    assert "notes" not in result.accepted.columns


def test_xlsx_and_parquet(tmp_path: Path) -> None:
    frame = pl.DataFrame(
        {
            "Record ID": ["X1", "X2"],
            "Surname": ["Smith", "Brown"],
            "Forenames": ["Jo", "Al"],
            "Date of Birth": ["01/02/1980", "1999-12-31"],
        }
    )
    frame.write_excel(tmp_path / "p.xlsx")
    frame.write_parquet(tmp_path / "p.parquet")
    for name in ("p.xlsx", "p.parquet"):  # 01/02/1980 alone shows no order: declared
        result = ingest(tmp_path / name, PAYROLL, date_format="dmy")
        assert result.accepted["date_of_birth"].to_list() == [date(1980, 2, 1), date(1999, 12, 31)]


def test_unreadable_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="unsupported file type"):
        ingest(write_csv(tmp_path / "p.json", "{}", "utf-8"), PAYROLL)
    with pytest.raises(IngestError, match="file not found"):
        ingest(tmp_path / "nope.csv", PAYROLL)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Date of Birth", "date_of_birth"),
        ("\ufeffRecord ID", "record_id"),
        ("NI-Number", "ni_number"),
    ],
)
def test_header_to_snake(header: str, expected: str) -> None:
    assert header_to_snake(header) == expected


def test_empty_rows_are_one_problem_each(tmp_path: Path) -> None:
    text = "record_id,surname,forenames,date_of_birth\nA,Smith,Jo,1980-01-01\n,,,\n  , ,,\n"
    result = ingest(write_csv(tmp_path / "p.csv", text, "utf-8"), PAYROLL)
    assert result.rows_read == 3 and result.accepted.height == 1
    assert result.rejects.select("row", "column", "reason").rows() == [
        (3, "(all)", "empty row"),
        (4, "(all)", "empty row"),
    ]


@pytest.mark.parametrize("copies", [1, 5])
def test_normalising_per_distinct_cell_or_per_row_agree(
    tmp_path: Path, extract_text: str, copies: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Columns with repeats are normalised once per distinct cell and gathered back, the
    others row by row; which one is chosen must never show in the accepted rows or rejects."""
    import fraudmatch.council.ingest as ingest_module

    text = "\n".join([HEADER, *ROWS * copies, ",,,,,,,", "  ,,,,,,,"]) + "\n"
    path = write_csv(tmp_path / "p.csv", text, "utf-8")
    monkeypatch.setattr(ingest_module, "_DISTINCT_SHARE", 2.0)  # every column per distinct cell
    distinct = ingest(path, PAYROLL)
    monkeypatch.setattr(ingest_module, "_DISTINCT_SHARE", -1.0)  # every column row by row
    per_row = ingest(path, PAYROLL)
    assert distinct.accepted.equals(per_row.accepted)
    assert distinct.rejects.equals(per_row.rejects)
    assert per_row.rejects.filter(pl.col("reason") == "empty row").height == 2


def test_an_unreadable_optional_date_rejects_the_row_never_blanks_it(tmp_path: Path) -> None:
    """An empty end date reads as a current job to the rules, so it is never made empty."""
    text = (
        "record_id,surname,forenames,date_of_birth,start_date,end_date\n"
        "A,Smith,Jo,25/03/1980,01/04/2010,31/02/2020\n"  # impossible optional date
        "B,Brown,Al,1975-06-02,1/9/15,\n"  # two-digit year in an optional date
        "C,Green,Bo,1990-01-01,2011-05-05,\n"
    )
    result = ingest(write_csv(tmp_path / "p.csv", text, "utf-8"), PAYROLL)
    assert result.accepted["record_id"].to_list() == ["C"]
    rows = result.rejects.select("row", "column", "reason", "action").rows()
    assert rows == [
        (2, "end_date", "impossible date", ROW_REJECTED),
        (3, "start_date", "two-digit year is ambiguous", ROW_REJECTED),
    ]


def test_an_impossible_optional_date_of_birth_keeps_its_parts(tmp_path: Path) -> None:
    """The partial evidence of a damaged date of birth survives where the column is optional."""
    text = (
        "record_id,surname,forenames,address,postcode,date_of_birth\n"
        "E1,Smith,Jo,1 High St,SW1A 1AA,1958-07-71\n"
    )
    dataset = SPEC.dataset("electoral_register")
    result = ingest(write_csv(tmp_path / "e.csv", text, "utf-8"), dataset)
    assert result.rejects.select("column", "action").rows() == [("date_of_birth", PARTS_KEPT)]
    row = result.accepted.row(0, named=True)
    assert row["date_of_birth"] is None
    assert (row["date_of_birth__py"], row["date_of_birth__pm"]) == (1958, 7)

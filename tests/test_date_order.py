"""Which way round dates are read: declared in the partnership file, else shown by the dates.

A date of birth read the wrong way round never meets its person, so an order is never
guessed: declared (``date_format``), shown by dates that read only one way, or the file is
refused with the column, the count and examples.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fraudmatch.council.date_order import decide
from fraudmatch.council.ingest import ROW, IngestError, ingest, validate
from fraudmatch.spec.date_formats import DATE_ORDERS
from fraudmatch.spec.normalisers.dates import date_reading, normalise_date
from fraudmatch.spec.partnership import ExtractFormat, PartnershipError, parse_partnership
from fraudmatch.spec.specs import load_spec
from fraudmatch.synth.demo import make_parties

SPEC = load_spec()
PAYROLL = SPEC.dataset("payroll")
DATES = st.dates(min_value=date(1850, 1, 1), max_value=date(2100, 12, 31))


def written(d: date, order: str, sep: str = "/") -> str:
    """``d`` as a partner in ``order`` writes it."""
    if order == "iso":
        return d.isoformat()
    day, month = f"{d.day:02d}", f"{d.month:02d}"
    first, second = (day, month) if order == "dmy" else (month, day)
    return sep.join([first, second, str(d.year)])


def read(values: list[str], order: str) -> list[tuple[date | None, str | None]]:
    norm = normalise_date(pl.col("raw"), order)  # type: ignore[arg-type]
    frame = pl.DataFrame({"raw": values}, schema={"raw": pl.String})
    return frame.select(norm.value.alias("v"), norm.error.alias("e")).rows()


def payroll_frame(dates_of_birth: list[str], **others: list[str]) -> pl.DataFrame:
    """An all-text payroll extract as read from a file, with its source row numbers."""
    n = len(dates_of_birth)
    columns = {
        "record_id": [f"R{i}" for i in range(n)],
        "surname": ["Smith"] * n,
        "forenames": ["Jo"] * n,
        "date_of_birth": dates_of_birth,
        **others,
    }
    frame = pl.DataFrame(columns, schema=dict.fromkeys(columns, pl.String))
    return frame.with_row_index(ROW, offset=2).with_columns(pl.col(ROW).cast(pl.Int64))


# ------------------------------------------------------------------------------ the normaliser


@settings(max_examples=40, deadline=None)
@given(
    dates=st.lists(DATES, min_size=1, max_size=50),
    order=st.sampled_from(DATE_ORDERS),
    sep=st.sampled_from(["/", ".", "-"]),
)
def test_a_date_written_in_the_declared_order_reads_back_as_itself(
    dates: list[date], order: str, sep: str
) -> None:
    assert read([written(d, order, sep) for d in dates], order) == [(d, None) for d in dates]
    # and ISO is ISO whatever the partner declares
    assert read([d.isoformat() for d in dates], order) == [(d, None) for d in dates]


@pytest.mark.parametrize(
    ("order", "value", "expected", "error"),
    [
        ("dmy", "03/04/1990", date(1990, 4, 3), None),
        ("mdy", "03/04/1990", date(1990, 3, 4), None),
        ("mdy", "12.25.1990", date(1990, 12, 25), None),
        ("mdy", "25/12/1990", None, "impossible date"),
        ("mdy", "5 Feb 1990", date(1990, 2, 5), None),  # a month name cannot be misread
        ("iso", "03/04/1990", None, "not YYYY-MM-DD, the declared date_format iso"),
        ("iso", "1990/04/03", date(1990, 4, 3), None),
        ("iso", "03/04/90", None, "two-digit year is ambiguous"),
    ],
)
def test_numeric_dates_follow_the_order(
    order: str, value: str, expected: date | None, error: str | None
) -> None:
    assert read([value], order) == [(expected, error)]


def test_date_reading_tells_what_a_date_shows() -> None:
    values = ["25/03/1990", "03/25/1990", "03/04/1990", "04/04/1990", "1990-03-04", "31/02/1990"]
    frame = pl.DataFrame({"raw": values})
    kinds = frame.select(date_reading(pl.col("raw"))).to_series().to_list()
    # the same date both ways, ISO and impossible both ways show nothing
    assert kinds == ["dmy", "mdy", "either", None, None, None]


# ------------------------------------------------------------------------- detection in a file


@settings(max_examples=20, deadline=None)
@given(
    days=st.lists(
        st.tuples(st.integers(1, 12), st.integers(1, 12), st.integers(1900, 2020)).filter(
            lambda t: t[0] != t[1]
        ),
        min_size=1,
        max_size=40,
    )
)
def test_a_column_of_only_either_way_dates_is_refused_without_a_declaration(
    days: list[tuple[int, int, int]],
) -> None:
    values = [f"{d:02d}/{m:02d}/{y}" for d, m, y in days]
    with pytest.raises(IngestError) as info:
        validate(payroll_frame(values), PAYROLL, source="payroll.csv")
    message = str(info.value)
    assert "payroll.csv" in message and "date_of_birth" in message
    assert f"all {len(values):,} numeric date(s) read either way" in message
    assert "date_format" in message and "partnership.yaml" in message
    # declared, the same column reads in the declared order
    for order, pick in (
        ("dmy", lambda d, m, y: date(y, m, d)),
        ("mdy", lambda d, m, y: date(y, d, m)),
    ):
        result = validate(payroll_frame(values), PAYROLL, date_format=order)
        assert result.accepted["date_of_birth"].to_list() == [pick(*t) for t in days]


def test_a_column_that_shows_its_order_reads_its_either_way_dates_that_way() -> None:
    day_first = validate(payroll_frame(["25/03/1990", "03/04/1990"]), PAYROLL)
    assert day_first.accepted["date_of_birth"].to_list() == [date(1990, 3, 25), date(1990, 4, 3)]
    month_first = validate(payroll_frame(["03/25/1990", "03/04/1990"]), PAYROLL)
    assert month_first.accepted["date_of_birth"].to_list() == [date(1990, 3, 25), date(1990, 3, 4)]
    assert any("date_of_birth: read month-first" in w for w in month_first.warnings)


def test_an_either_way_column_takes_the_order_its_file_shows() -> None:
    frame = payroll_frame(["25/03/1990", "1980-01-01"], start_date=["03/04/2015", None])
    result = validate(frame, PAYROLL)
    assert result.accepted["start_date"].to_list() == [date(2015, 4, 3), None]
    assert any("start_date" in w and "like date_of_birth" in w for w in result.warnings)


def test_an_either_way_column_is_refused_when_the_file_shows_two_orders() -> None:
    frame = payroll_frame(["25/03/1990"], start_date=["12/25/2015"], end_date=["03/04/2020"])
    with pytest.raises(IngestError, match="end_date: all 1 numeric date"):
        validate(frame, PAYROLL)


def test_a_column_written_both_ways_is_refused_with_an_example_of_each() -> None:
    values = ["25/03/1990", "26/03/1990", "03/27/1990", "03/28/1990"]
    with pytest.raises(IngestError) as info:
        validate(payroll_frame(values), PAYROLL, source="p.csv")
    message = str(info.value)
    assert "date_of_birth: dates written both ways round" in message
    assert "2 only day-first (e.g. 25/03/1990)" in message
    assert "2 only month-first (e.g. 03/27/1990)" in message


def test_a_one_off_slip_in_a_day_first_column_is_an_impossible_date_not_a_refusal() -> None:
    values = [f"{d}/03/1990" for d in range(13, 32)] * 2 + ["03/04/1990", "05/13/1984"]
    result = validate(payroll_frame(values), PAYROLL)
    rejected = result.rejects.filter(pl.col("column") == "date_of_birth")
    assert rejected.select("value", "reason").rows() == [("05/13/1984", "impossible date")]
    kept = result.accepted.filter(pl.col("record_id") == "R38")
    assert kept["date_of_birth"].to_list() == [date(1990, 4, 3)]
    assert kept["date_of_birth__pd"].to_list() == [None]
    slip = result.accepted.filter(pl.col("record_id") == "R39")  # its parts kept as evidence
    assert (slip["date_of_birth__py"][0], slip["date_of_birth__pd"][0]) == (1984, 5)
    assert any("1 only month-first (e.g. 05/13/1984)" in w for w in result.warnings)


def test_a_declared_order_is_used_without_looking() -> None:
    decided = decide(["date_of_birth"], payroll_frame(["03/25/1990"]), "dmy")
    assert decided.orders == {"date_of_birth": "dmy"} and not decided.refusals
    result = validate(payroll_frame(["03/25/1990"]), PAYROLL, date_format="dmy")
    assert result.rejects.select("reason").to_series().to_list() == ["impossible date"]


# ------------------------------------------------------------------------------- encodings


def test_a_declared_encoding_replaces_detection(tmp_path: Path) -> None:
    text = "record_id,surname,forenames,date_of_birth\nA,Nuñez,José,25/03/1990\n"
    path = tmp_path / "p.csv"
    path.write_bytes(text.encode("cp1252"))
    result = ingest(path, PAYROLL, encoding="cp1252")
    assert result.accepted["surname"].to_list() == ["NUNEZ"]
    assert "read as cp1252 (declared)" in result.warnings
    # valid UTF-8 declared latin-1 is read as latin-1 (mojibake), not as detection would
    utf8 = tmp_path / "u.csv"
    utf8.write_bytes(text.encode("utf-8"))
    assert ingest(utf8, PAYROLL).accepted["surname"].to_list() == ["NUNEZ"]
    assert ingest(utf8, PAYROLL, encoding="latin-1").accepted["surname"].to_list() != ["NUNEZ"]


def test_a_byte_the_declared_encoding_cannot_decode_names_file_offset_and_line(
    tmp_path: Path,
) -> None:
    path = tmp_path / "p.csv"
    path.write_bytes(b"record_id,surname,forenames,date_of_birth\nA,Nu\xf1ez,Jo,25/03/1990\n")
    with pytest.raises(IngestError) as info:
        ingest(path, PAYROLL, encoding="utf-8")
    message = str(info.value)
    assert str(path) in message and "not utf-8 as the partnership file declares" in message
    assert "byte 46 (0xf1, line 2)" in message


# ------------------------------------------------------------------------ the partnership file


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict:
    import yaml

    parties = make_parties(tmp_path_factory.mktemp("p"), ["northmoor"], ["payroll", "creditors"])
    return yaml.safe_load(parties.partnership_path.read_text())


def _with_partner(document: dict, **changes: object) -> dict:
    doc = {**document, "partners": [{**document["partners"][0], **changes}]}
    return doc


def test_formats_declared_per_partner_and_overridden_per_dataset(document: dict) -> None:
    doc = _with_partner(
        document,
        date_format="dmy",
        encoding="cp1252",
        datasets=["payroll", {"name": "creditors", "date_format": "mdy"}],
    )
    party = parse_partnership(doc).partner("northmoor")
    assert party.datasets == ("payroll", "creditors")
    assert party.format_for("payroll") == ExtractFormat("dmy", "cp1252")
    assert party.format_for("creditors") == ExtractFormat("mdy", "cp1252")
    plain = parse_partnership(document).partner("northmoor")
    assert plain.format_for("payroll") == ExtractFormat(None, None)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"date_format": "dd/mm/yyyy"},
            "partners[0].date_format: expected one of iso, dmy, mdy",
        ),
        ({"encoding": "klingon"}, "partners[0].encoding: 'klingon' is not a known encoding"),
        (
            {"datasets": ["payroll", {"name": "creditors", "date_format": "ymd"}]},
            "partners[0].datasets[1].date_format: expected one of iso, dmy, mdy",
        ),
        (
            {"datasets": [{"name": "payroll", "date_order": "dmy"}]},
            "partners[0].datasets[0].date_order: unknown key",
        ),
        ({"datasets": [{"date_format": "dmy"}]}, "partners[0].datasets[0].name"),
        ({"datasets": [3]}, "partners[0].datasets[0]: expected a dataset name"),
    ],
)
def test_bad_declarations_name_the_key_and_what_is_allowed(
    document: dict, changes: dict, message: str
) -> None:
    with pytest.raises(PartnershipError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_partnership(_with_partner(document, **changes), source="partnership.yaml")


def test_the_example_partnership_declares_formats() -> None:
    from fraudmatch.shipped import shipped_path
    from fraudmatch.spec.partnership import load_partnership

    example = load_partnership(shipped_path() / "config" / "partnership.example.yaml")
    westbrook = example.partner("westbrook")
    assert westbrook.format_for("payroll") == ExtractFormat("dmy", "cp1252")
    assert westbrook.format_for("creditors") == ExtractFormat("mdy", "utf-8")

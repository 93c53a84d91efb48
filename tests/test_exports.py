"""Case-list exports (CSV and XLSX) from a real run, through the library and the CLI."""

from __future__ import annotations

import io

import polars as pl
import pytest
from test_review_support import review_world

from fraudmatch.cli import main
from fraudmatch.review.casework import Filters, Review
from fraudmatch.review.exports import (
    COLUMNS,
    case_list,
    export_case_lists,
    to_csv_bytes,
    to_xlsx_bytes,
)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return review_world(tmp_path_factory, "exports")


def test_cli_exports_one_file_pair_per_rule_with_evidence_and_outcomes(world, tmp_path) -> None:
    review = Review(world.workspace, world.rules)
    rule = "payroll_to_payroll"
    case = review.case(
        world.run_id, review.cases(Filters(run=world.run_id, rule=rule))["case_id"][0]
    )
    review.record(world.run_id, case.case_id, case.matches[0].key, outcome="fraud",
                  analyst="alice", expected_version=0, amount=99.5,
                  comment="=HYPERLINK(\"http://evil\")")  # fmt: skip
    out = tmp_path / "out"
    assert main(["export", "--workspace", str(world.workspace), "--rules", str(world.rules),
                 "--run", world.run_id, "--out", str(out)]) == 0  # fmt: skip
    csvs = sorted(out.glob("*.csv"))
    assert (
        len(csvs)
        == len(sorted(out.glob("*.xlsx")))
        == len(set(review.matches(world.run_id)["rule"]))
    )
    frame = pl.read_csv(out / f"{world.run_id}__{rule}.cases.csv", infer_schema=False)
    assert list(frame.columns[: len(COLUMNS)]) == list(COLUMNS)
    extra = frame.columns[len(COLUMNS) :]
    assert extra and all(c.startswith(("level_", "weight_")) for c in extra)
    assert {"level_ni", "weight_ni", "level_dob"} <= set(extra)
    assert set(frame["rule"]) == {rule}
    saved = frame.filter(pl.col("status") == "fraud").row(0, named=True)
    assert saved["analyst"] == "alice" and float(saved["amount"]) == 99.5
    assert saved["comment"].startswith("'=")  # a spreadsheet shows it, never runs it
    assert "ni=exact" in saved["evidence"]
    xlsx = pl.read_excel(out / f"{world.run_id}__{rule}.cases.xlsx")
    assert xlsx.height == frame.height and "evidence" in xlsx.columns
    assert xlsx.filter(pl.col("status") == "fraud")["comment"][0].startswith("'=")

    # per partner: every row involves that partner
    partner = world.partners[0]
    assert main(["export", "--workspace", str(world.workspace), "--rules", str(world.rules),
                 "--run", world.run_id, "--partner", partner, "--by", "partner",
                 "--out", str(tmp_path / "p")]) == 0  # fmt: skip
    (only,) = (tmp_path / "p").glob("*.csv")
    rows = pl.read_csv(only, infer_schema=False)
    assert rows.height and all(
        partner in (r["left_partner"], r["right_partner"]) for r in rows.iter_rows(named=True)
    )


def test_only_whitelisted_columns_reach_an_export(world, tmp_path) -> None:
    """Even a matches file that carried a token column would not leak it."""
    review = Review(world.workspace, world.rules)
    path = world.workspace / "runs" / world.run_id / "matches" / "payroll_to_payroll.parquet"
    original = pl.read_parquet(path)
    try:
        original.with_columns(pl.lit(1234567890123456789).alias("surname__tok")).write_parquet(path)
        frame = case_list(review, Filters(run=world.run_id, rule="payroll_to_payroll"))
        assert "surname__tok" not in frame.columns
        assert b"1234567890123456789" not in to_csv_bytes(frame)
        data = to_xlsx_bytes(frame)
        assert data[:2] == b"PK" and pl.read_excel(io.BytesIO(data)).height == frame.height
    finally:
        original.write_parquet(path)


@pytest.mark.parametrize("by", ["rule", "partner"])
def test_each_exported_group_is_the_case_list_under_its_filter(world, tmp_path, by) -> None:
    """One read of the run, split per group, gives what filtering each group would."""
    review = Review(world.workspace, world.rules)
    written = export_case_lists(review, world.run_id, tmp_path / by, by=by)
    assert len(written) > 1
    for exported in written:
        filters = Filters(run=world.run_id, **{by: exported.group})
        expected = case_list(review, filters)
        assert exported.rows == expected.height > 0
        assert exported.csv.read_bytes() == to_csv_bytes(expected)

"""`fraudmatch validate` on synthetic councils rejects exactly the planted invalid rows."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest

from fraudmatch.cli import main
from fraudmatch.council.ingest import PARTS_KEPT, ROW_REJECTED, VALUE_BLANKED, ingest
from fraudmatch.spec.specs import load_spec
from fraudmatch.synth import generate

SPEC = load_spec()
# how the ground truth names a problem → words the validator's reason must contain
PROBLEM_WORDS = {
    "missing_required": "missing",
    "impossible_date": "impossible",
    "invalid_postcode": "postcode",
    "duplicate_record_id": "duplicate",
    "invalid_date_format": "date",
}


@pytest.fixture(scope="module")
def councils(tmp_path_factory: pytest.TempPathFactory):
    return generate(tmp_path_factory.mktemp("synth"), partners=3, people=4_000, seed=7)


def test_rejects_exactly_the_planted_invalid_rows(councils) -> None:
    planted = pl.read_csv(councils.truth["invalid_rows"], infer_schema=False).with_columns(
        pl.col("row").cast(pl.Int64)
    )
    blanked = pl.read_csv(councils.truth["blanked_values"], infer_schema=False).with_columns(
        pl.col("row").cast(pl.Int64)
    )
    checked = 0
    for partner, files in councils.files.items():
        for dataset, path in files.items():
            result = ingest(path, SPEC.dataset(dataset))
            rejected = result.rejects.filter(pl.col("action") == ROW_REJECTED)
            want = planted.filter((pl.col("partner") == partner) & (pl.col("dataset") == dataset))
            # an impossible date whose parts the matching reads (1962-06-31: the year, month
            # and day are each possible) keeps its row and those parts, and says so
            parts = [
                c.name for c in SPEC.dataset(dataset).columns if "date_parts" in c.pseudonymise
            ]
            damaged = (pl.col("problem") == "impossible_date") & pl.col("column").is_in(parts)
            for row in want.filter(damaged).iter_rows(named=True):
                kept = result.rejects.filter(
                    (pl.col("row") == row["row"]) & (pl.col("column") == row["column"])
                )
                assert kept["action"].to_list() == [PARTS_KEPT], (partner, dataset, row)
            want = want.filter(~damaged)
            assert sorted(set(rejected["row"])) == sorted(set(want["row"])), (partner, dataset)
            for row in want.iter_rows(named=True):
                got = rejected.filter(
                    (pl.col("row") == row["row"]) & (pl.col("column") == row["column"])
                )
                assert got.height >= 1, (partner, dataset, row)
                reason = got["reason"][0].lower()
                assert PROBLEM_WORDS[row["problem"]] in reason, (row, reason)
            want_blank = blanked.filter(
                (pl.col("partner") == partner) & (pl.col("dataset") == dataset)
            )
            # a rejected row reports all its problems; compare blanks on rows that were kept
            got_blank = result.rejects.filter(
                (pl.col("action") == VALUE_BLANKED)
                & ~pl.col("row").is_in(rejected["row"].implode())
            )
            assert sorted(got_blank.select("row", "column").rows()) == sorted(
                want_blank.select("row", "column").rows()
            ), (partner, dataset)
            expected_rows = councils.row_counts[partner][dataset]
            assert result.rows_read == expected_rows
            assert result.accepted.height + result.rows_rejected == result.rows_read
            checked += 1
    assert checked == 3 * len(SPEC.datasets)
    assert planted.height > 0 and blanked.height > 0


def test_validate_command_prints_summary_and_writes_rejects(councils, tmp_path, capsys) -> None:
    extract = councils.files["northmoor"]["payroll"]
    rejects = tmp_path / "payroll.rejects.csv"
    assert main(["validate", "--dataset", "payroll", str(extract), "--rejects", str(rejects)]) == 0
    out = capsys.readouterr().out
    assert re.search(r"rows read", out) and "rejects report" in out
    written = pl.read_csv(rejects)
    assert written.columns == ["row", "record_id", "column", "value", "reason", "action"]


def test_validate_command_lists_missing_columns(tmp_path: Path, capsys) -> None:
    path = tmp_path / "payroll.csv"
    path.write_text("record_id,surname\nA,B\n")
    assert main(["validate", "--dataset", "payroll", str(path)]) == 2
    err = capsys.readouterr().err
    assert "forenames" in err and "date_of_birth" in err and "payroll" in err

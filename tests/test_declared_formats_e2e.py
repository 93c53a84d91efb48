"""``fraudmatch prepare`` reads an extract as its partner declares it in the partnership file.

A US-style finance export (month first, every day 12 or less, Windows-1252) cannot be
told apart from a UK one by looking: undeclared it is refused, declared it is sealed with
its dates the right way round, and a dataset declared otherwise is read its own way.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest
import yaml

from fraudmatch.cli import main
from fraudmatch.council.prepare import open_submission
from fraudmatch.spec.partnership import load_partnership
from fraudmatch.synth.demo import DemoParties, make_parties

# Every numeric date reads either way round: only a declaration can say which.
PAYROLL = (
    "Record ID,Surname,Forenames,Date of Birth,NI Number,Start Date\n"
    "E1,O\u2019Neill,Zo\u00eb,03/04/1979,JT448126B,11/02/2015\n"
    "E2,Nu\u00f1ez,Jos\u00e9,12/01/1988,,01/05/2020\n"
)
CREDITORS = "record_id,supplier_name\nS1,Caf\u00e9 Ltd\n"


@pytest.fixture()
def parties(tmp_path: Path) -> DemoParties:
    return make_parties(tmp_path / "parties", ["northmoor"], ["payroll", "creditors"])


def declare(parties: DemoParties, **northmoor: object) -> None:
    doc = yaml.safe_load(parties.partnership_path.read_text())
    doc["partners"][0].update(northmoor)
    parties.partnership_path.write_text(yaml.safe_dump(doc, sort_keys=False, width=1000))


def prepare(parties: DemoParties, *extracts: Path, out: Path) -> int:
    return main(
        ["prepare", *map(str, extracts), "--period", "2026-11",
         "--partnership", str(parties.partnership_path),
         "--key", str(parties.partner_key_paths["northmoor"]),
         "--linkage-key", str(parties.linkage_key_path), "--out", str(out)]
    )  # fmt: skip


def extracts(folder: Path) -> tuple[Path, Path]:
    folder.mkdir()
    payroll, creditors = folder / "payroll.csv", folder / "creditors.csv"
    payroll.write_bytes(PAYROLL.replace("\n", "\r\n").encode("cp1252"))
    creditors.write_bytes(CREDITORS.encode("cp1252"))
    return payroll, creditors


def test_undeclared_either_way_dates_are_refused(parties, tmp_path, capsys) -> None:
    payroll, _ = extracts(tmp_path / "export")
    assert prepare(parties, payroll, out=tmp_path / "to-hub") == 1
    out = capsys.readouterr().out.replace("\n", " ")
    assert "not sent:" in out and "date_of_birth: all 2 numeric date(s)" in out
    assert "date_format" in out
    assert not (tmp_path / "to-hub").exists() or not any((tmp_path / "to-hub").iterdir())


def test_declared_mdy_and_cp1252_are_read_so(parties, tmp_path, capsys) -> None:
    declare(
        parties,
        date_format="mdy",
        encoding="cp1252",
        # the finance system writes UTF-8: its export here is not, and says where
        datasets=["payroll", {"name": "creditors", "encoding": "utf-8"}],
    )
    payroll, creditors = extracts(tmp_path / "export")
    assert prepare(parties, payroll, creditors, out=tmp_path / "to-hub") == 1
    out = capsys.readouterr().out.replace("\n", " ")
    assert f"sealed: {payroll}" in out
    assert "not sent:" in out and "not utf-8 as the partnership file declares" in out
    assert "(0xe9, line 2)" in out

    sealed = tmp_path / "to-hub" / "northmoor__payroll__2026-11.sealed"
    _, frame = open_submission(
        sealed,
        hub=parties.hub_keys(),
        partnership=load_partnership(parties.partnership_path),
        out=tmp_path / "payroll.parquet",
    )
    # month first: 11/02/2015 is 2 November, 01/05/2020 is 5 January
    assert frame["start_date"].to_list() == [date(2015, 11, 2), date(2020, 1, 5)]
    assert frame.height == 2
    rejects = pl.read_csv(payroll.with_name("payroll.rejects.csv"))
    assert rejects.height == 0

    # validate reads the file as prepare did, with --partner
    rejects_path = tmp_path / "v.rejects.csv"
    argv = ["validate", "--dataset", "payroll", str(payroll), "--rejects", str(rejects_path)]
    partner = ["--partnership", str(parties.partnership_path), "--partner", "northmoor"]
    assert main([*argv, *partner]) == 0
    assert "read as cp1252 (declared)" in capsys.readouterr().out

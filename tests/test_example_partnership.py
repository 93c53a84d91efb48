"""The worked example: a partnership with its own dataset, rule and normalisers runs
``validate``, ``prepare``, ``rules check``, ``cycle`` and ``open`` through the CLI, with the
commands exactly as its README gives them and no edit to any shipped file."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import polars as pl
import pytest
from cli_steps import EXAMPLE, expand_globs, readme_commands

from fraudmatch.cli import main
from fraudmatch.shipped import shipped_path


def tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(str(path.relative_to(root)).encode() + path.read_bytes())
    return digest.hexdigest()


def test_the_example_runs_end_to_end_through_the_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, prefect_harness: None
) -> None:
    shipped_before = tree_digest(shipped_path())
    work = tmp_path / "parking_permits"
    shutil.copytree(EXAMPLE, work)
    monkeypatch.chdir(work)

    for args in readme_commands():
        assert main(expand_globs(args)) == 0, " ".join(args)

    # the council's rejects: the permit number with a wrong check digit, and why
    rejects = pl.read_csv(work / "extracts/northmoor/parking_permits.rejects.csv")
    assert rejects["record_id"].to_list() == ["PP005"]
    assert "fails its luhn check digit" in rejects.write_csv()

    # the hub quarantined nothing: every party ran under the partnership's specification
    [case_list] = (work / "cases").glob("*.cases.csv")
    cases = pl.read_csv(case_list)
    assert sorted(cases["record_id"].unique()) == ["D-N1", "PP001", "PP002"]
    assert set(cases["rule"]) == {"parking_permits_to_deceased"}
    # Eastvale's death record (Okafor) never reaches Northmoor: only its own rows do
    assert "D-E1" not in cases["record_id"].to_list()
    # re-identified against the council's own extract
    assert cases.filter(pl.col("record_id") == "PP002")["permit_number"].to_list() == [
        "RP 100 5818"
    ]
    assert tree_digest(shipped_path()) == shipped_before


def test_submit_prepares_under_the_partnerships_spec_and_spec_overrides_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, prefect_harness: None
) -> None:
    """``fraudmatch submit`` reads ``spec:`` like ``prepare``; ``--spec`` overrides it for
    this one command: under the shipped specification a parking-permits extract is refused
    (the shipped one has no such dataset), under the partnership's it is delivered."""
    from fraudmatch.spec.specs import DEFAULT_SPEC_PATH

    work = tmp_path / "parking_permits"
    shutil.copytree(EXAMPLE, work)
    monkeypatch.chdir(work)
    for party in ("hub", "northmoor", "eastvale"):
        assert main(["keys", "new", party, "--out", "keys"]) == 0
    assert main(["keys", "partnership", "--out", "keys/linkage.key"]) == 0
    export = work / "export"
    export.mkdir()
    shutil.copy(work / "extracts/northmoor/parking_permits.csv", export)
    submit = ["submit", str(export), "--partnership", "partnership.yaml"]
    submit += ["--key", "keys/northmoor.private", "--linkage-key", "keys/linkage.key"]
    submit += ["--period", "2026-11", "--to", str(work / "drop")]

    assert main([*submit, "--spec", str(DEFAULT_SPEC_PATH)]) == 1
    assert not list((work / "drop").glob("*.sealed*"))
    assert "parking_permits" in (export / "parking_permits.csv.not-sent.txt").read_text()

    assert main(submit) == 0
    assert len(list((work / "drop").iterdir())) == 1

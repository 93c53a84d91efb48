"""Partner pipeline end to end: prepare → (hub opens) → bundle → open, with real keys."""

from __future__ import annotations

import logging
from pathlib import Path

import polars as pl
import pytest

from fraudmatch.council.ingest import ingest
from fraudmatch.council.open import open_bundle
from fraudmatch.council.prepare import (
    PrepareError,
    open_submission,
    prepare_extract,
)
from fraudmatch.council.pseudonymise import pseudonymise
from fraudmatch.council.submit import submit_folder
from fraudmatch.sealing.bundles import (
    bundle_name,
    case_rows,
    partner_cases,
    write_bundle,
)
from fraudmatch.sealing.keys import (
    GENERATION_META,
    KEY_PERIOD_META,
    load_linkage_key,
    load_partnership_key,
)
from fraudmatch.sealing.seal import SealError
from fraudmatch.spec.partnership import bloom_params, load_partnership
from fraudmatch.spec.specs import load_spec
from fraudmatch.synth.demo import make_parties

SPEC = load_spec()
PAYROLL_CSV = """record_id,surname,forenames,date_of_birth,ni_number,address,postcode,sort_code,account_number,job_title,start_date
E100,Wojcik-Hartley,Przemyslaw,14/03/1979,JT 44 81 26 B,17 Quarrendon Avenue,LS6 2QZ,40-11-62,31926845,Refuse driver,2019-04-01
E101,Featherstonehaugh,Ottoline,1988-11-30,PK772019C,Flat 2 9 Ravensworth Rd,NE3 4RT,20-45-77,70814423,Librarian,01/09/2015
E102,Abernethy,Gwendolyn,02/07/1961,,4 Tollbooth Wynd,EH1 1QS,,,Clerk,2001-01-02
"""
RAW_IDENTIFIERS = [
    "Wojcik",
    "WOJCIK",
    "HARTLEY",
    "Przemyslaw",
    "PRZEMYSLAW",
    "JT448126",
    "JT 44 81 26 B",
    "PK772019",
    "LS6 2QZ",
    "LS62QZ",
    "1979-03-14",
    "14/03/1979",
    "31926845",
    "70814423",
    "FEATHERSTONEHAUGH",
    "Featherstonehaugh",
    "QUARRENDON",
    "ABERNETHY",
    "1988-11-30",
]


@pytest.fixture(scope="module")
def parties(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("parties")
    return make_parties(root, ["northmoor", "eastvale"], list(SPEC.datasets))


@pytest.fixture()
def extract(tmp_path: Path) -> Path:
    path = tmp_path / "export" / "payroll.csv"
    path.parent.mkdir()
    path.write_text(PAYROLL_CSV)
    return path


def _prepare(parties, extract: Path, out: Path, **kw):
    partnership = load_partnership(parties.partnership_path)
    return prepare_extract(
        extract,
        dataset="payroll",
        period="2026-11",
        partner=parties.partner_keys("northmoor"),
        partnership=partnership,
        linkage_key=load_partnership_key(parties.linkage_key_path),
        out_dir=out,
        **kw,
    )


def test_prepare_round_trip_gives_the_pseudonymised_frame(parties, extract, tmp_path) -> None:
    result = _prepare(parties, extract, tmp_path / "outbox")
    assert result.sealed_path.name == "northmoor__payroll__2026-11.sealed"
    partnership = load_partnership(parties.partnership_path)
    header, frame = open_submission(
        result.sealed_path, hub=parties.hub_keys(), partnership=partnership, out=tmp_path / "o.pq"
    )
    assert (header.sender, header.recipient, header.dataset) == ("northmoor", "hub", "payroll")
    expected = pseudonymise(
        ingest(extract, SPEC.dataset("payroll")).accepted,
        SPEC.dataset("payroll"),
        # the period's key, never the partnership secret itself
        load_linkage_key(parties.linkage_key_path).for_period("2026-11"),
        bloom_params(partnership),
    )
    assert frame.equals(expected)
    meta = pl.read_parquet_metadata(tmp_path / "o.pq")
    assert meta[GENERATION_META] == "1" and meta[KEY_PERIOD_META] == "2026-11"
    secret = load_linkage_key(parties.linkage_key_path).secret
    assert all(secret.hex() not in v and secret.hex()[:16] not in v for v in meta.values())
    assert frame.height == 3


def test_a_partner_cannot_open_a_submission(parties, extract, tmp_path) -> None:
    result = _prepare(parties, extract, tmp_path / "outbox")
    partnership = load_partnership(parties.partnership_path)
    with pytest.raises(SealError, match="hub"):
        open_submission(
            result.sealed_path,
            hub=parties.partner_keys("eastvale"),
            partnership=partnership,
            out=tmp_path / "x.pq",
        )
    assert not (tmp_path / "x.pq").exists()


def test_no_raw_identifier_leaves_the_partner(parties, extract, tmp_path, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    result = _prepare(parties, extract, tmp_path / "outbox")
    partnership = load_partnership(parties.partnership_path)
    _, frame = open_submission(
        result.sealed_path, hub=parties.hub_keys(), partnership=partnership, out=tmp_path / "o.pq"
    )
    sealed = result.sealed_path.read_bytes()
    parquet = (tmp_path / "o.pq").read_bytes()
    text_columns = str(frame.select(pl.col(pl.String)).rows())
    for raw in RAW_IDENTIFIERS:
        for haystack, where in ((sealed, "sealed file"), (parquet, "parquet")):
            assert raw.encode() not in haystack, (raw, where)
        assert raw not in text_columns, raw
        assert raw not in caplog.text, raw
    # the rejects report stays with the partner, outside the outbox
    assert not any(p.name.endswith(".csv") for p in (tmp_path / "outbox").iterdir())


def test_refuses_dataset_the_partner_does_not_submit(parties, extract, tmp_path) -> None:
    partnership = load_partnership(parties.partnership_path)
    with pytest.raises(PrepareError, match="nothing was sent"):
        prepare_extract(
            extract,
            dataset="payroll",
            period="2026-11",
            partner=parties.partner_keys("northmoor"),
            partnership=partnership.__class__(
                **{
                    **partnership.__dict__,
                    "partners": {
                        k: v.__class__(**{**v.__dict__, "datasets": ("deceased",)})
                        for k, v in partnership.partners.items()
                    },
                }
            ),
            linkage_key=load_partnership_key(parties.linkage_key_path),
            out_dir=tmp_path / "outbox",
        )


def test_mostly_rejected_extract_is_not_sent(parties, tmp_path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "payroll.csv").write_text(
        "record_id,surname,forenames,date_of_birth\nA,,,\nB,,,\nC,Smith,Jo,1980-01-01\n"
    )
    (folder / "deceased.csv").write_text("record_id,surname\nX,Y\n")  # missing columns
    partnership = load_partnership(parties.partnership_path)
    outcome = submit_folder(
        folder,
        tmp_path / "hub-inbox",
        partnership=partnership,
        partner=parties.partner_keys("northmoor"),
        linkage_key=load_partnership_key(parties.linkage_key_path),
        period="2026-11",
    )
    assert outcome["sent"] == []
    assert len(outcome["refused"]) == 2
    assert "2 of 3 rows rejected" in (folder / "payroll.csv.not-sent.txt").read_text()
    assert "date_of_birth" in (folder / "deceased.csv.not-sent.txt").read_text()
    assert not (tmp_path / "hub-inbox").exists() or not any((tmp_path / "hub-inbox").iterdir())


def _matches() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "rule": ["payroll_to_payroll", "payroll_to_housing_benefit"],
            "case_id": ["c-1", "c-2"],
            "left_partner": ["northmoor", "northmoor"],
            "left_dataset": ["payroll", "payroll"],
            "left_record_id": ["E100", "E101"],
            "right_partner": ["eastvale", "eastvale"],
            "right_dataset": ["payroll", "housing_benefit"],
            "right_record_id": ["P9", "H7"],
            "tier": ["model", "hard_match"],
            "match_weight": [14.2, 22.0],
            "match_probability": [0.9999, 1.0],
            "level_surname": ["exact", "dice>=0.9"],
            "weight_surname": [6.5, 4.1],
            "level_date_of_birth": ["exact", "exact"],
            "weight_date_of_birth": [9.0, 9.0],
        }
    )


def test_bundle_round_trip_and_reidentification(parties, extract, tmp_path) -> None:
    partnership = load_partnership(parties.partnership_path)
    rows = case_rows(_matches(), run_id="run-20261101", risk={"payroll_to_payroll": "high"})
    mine = partner_cases(rows, "northmoor")
    target = tmp_path / bundle_name("northmoor", "2026-11", "run-20261101")
    write_bundle(
        mine,
        target,
        hub=parties.hub_keys(),
        recipient=partnership.partner("northmoor").public,
        period="2026-11",
    )
    with pytest.raises(ValueError, match="other partners"):
        write_bundle(
            rows,
            tmp_path / "x.bundle",
            hub=parties.hub_keys(),
            recipient=partnership.partner("northmoor").public,
            period="2026-11",
        )
    cases = open_bundle(
        target,
        partner=parties.partner_keys("northmoor"),
        senders={"hub": partnership.hub.public},
        extracts={"payroll": extract},
        out_dir=tmp_path / "cases",
    )
    got = cases.cases.sort("record_id")
    assert got["record_id"].to_list() == ["E100", "E101"]
    assert got["other_record_id"].to_list() == ["P9", "H7"]
    assert got["surname"].to_list() == ["Wojcik-Hartley", "Featherstonehaugh"]
    assert got["record_found"].to_list() == [True, True]
    assert "surname: exact (6.5)" in got["evidence"][0]
    assert cases.csv_path.exists() and cases.xlsx_path.exists()
    assert set(cases.summary["rule"]) == {"payroll_to_payroll", "payroll_to_housing_benefit"}
    with pytest.raises(SealError):
        open_bundle(
            target,
            partner=parties.partner_keys("eastvale"),
            senders={"hub": partnership.hub.public},
            extracts={},
            out_dir=tmp_path / "nope",
        )


def test_the_cli_says_per_file_what_was_sent_and_names_a_missing_file(
    parties, extract, tmp_path, capsys
) -> None:
    from fraudmatch.cli import main

    missing = tmp_path / "export" / "nope.csv"  # e.g. an unexpanded glob
    out = tmp_path / "to-hub" / ("deep-folder-name-" * 6)  # longer than 80 columns
    code = main(
        ["prepare", str(extract), str(missing), "--period", "2026-11",
         "--partnership", str(parties.partnership_path),
         "--key", str(parties.partner_key_paths["northmoor"]),
         "--linkage-key", str(parties.linkage_key_path), "--out", str(out)]
    )  # fmt: skip
    printed = capsys.readouterr()
    assert code == 1  # not everything was sent
    sealed = next(out.glob("*.sealed"))
    assert f"sealed: {extract} -> {sealed}" in printed.out  # the full path, not cut
    assert f"not sent: {missing}: no such file: {missing}" in printed.out
    assert "1 of 2 file(s) not sent" in printed.err

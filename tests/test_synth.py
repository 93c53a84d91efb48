"""The synthetic councils generator: deterministic, in the spec, with a truth that holds.

Small populations keep this fast; the million-person run is benchmarks/synth.py.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest
import yaml

from fraudmatch.shipped import shipped_spec_path
from fraudmatch.synth import RULES, generate

SPEC = yaml.safe_load(shipped_spec_path().read_text())["datasets"]
POSTCODE = re.compile(r"^[A-PR-UWYZ][A-HK-Y]?[0-9][0-9A-Z]? ?[0-9][ABD-HJLNP-UW-Z]{2}$")
NI = re.compile(r"^(?![DFIQUV])[A-Z](?![DFIQUVO])[A-Z](?<!BG|GB|NK|KN|TN|NT|ZZ)[0-9]{6}[A-D]$")
ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")
UK = re.compile(r"^\d{2}/\d{2}/\d{4}$")
SMALL = {"partners": 3, "people": 3_000, "seed": 7}


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("synth") / "a"
    generate(d, **SMALL)
    return d


@pytest.fixture(scope="module")
def manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text())


def _snake(header: str) -> str:
    """What the reader does to a header: lower case, spaces and hyphens to underscores."""
    return re.sub(r"[ \-]", "_", header.strip().lower())


def _read(out: Path, entry: dict) -> pl.DataFrame:
    """A file as its council wrote it, all cells text ('' for empty), headers in snake_case."""
    path = out / entry["path"]
    if entry["format"] == "csv":
        text = path.read_bytes().decode(entry["encoding"])
        df = pl.read_csv(io.StringIO(text), infer_schema=False)
    elif entry["format"] == "xlsx":
        df = pl.read_excel(path, infer_schema_length=0)
    else:
        df = pl.read_parquet(path)
    df = df.rename({c: _snake(c) for c in df.columns})
    return df.with_columns(pl.all().cast(pl.String).fill_null(""))


def _files(out: Path, manifest: dict) -> Iterator[tuple[dict, pl.DataFrame]]:
    for entry in manifest["files"]:
        yield entry, _read(out, entry)


def _real_date(cell: str) -> date | None:
    for pattern, fmt in ((ISO, "%Y-%m-%d"), (UK, "%d/%m/%Y")):
        if pattern.match(cell):
            try:
                return datetime.strptime(cell, fmt).date()
            except ValueError:
                return None
    return None


def _all_bytes(d: Path) -> dict[str, bytes]:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


def test_same_seed_same_bytes_other_seed_differs(out: Path, tmp_path: Path) -> None:
    generate(tmp_path / "b", **SMALL)
    generate(tmp_path / "c", **{**SMALL, "seed": 8})
    a, b, c = _all_bytes(out), _all_bytes(tmp_path / "b"), _all_bytes(tmp_path / "c")
    assert a.keys() == b.keys()
    assert [k for k in a if a[k] != b[k]] == []
    assert a["truth/cases.csv"] != c["truth/cases.csv"]
    assert a["northmoor/payroll.csv"] != c["northmoor/payroll.csv"]


def test_every_file_has_the_spec_columns(out: Path, manifest: dict) -> None:
    assert len(manifest["files"]) == 3 * 13
    for entry, df in _files(out, manifest):
        expected = list(SPEC[entry["dataset"]]["columns"]) + entry["extra_columns"]
        assert df.columns == expected, entry["path"]
        assert df.height == entry["rows"] > 0, entry["path"]
    extras = [(e["partner"], e["dataset"], e["extra_columns"]) for e in manifest["files"]]
    assert [x for x in extras if x[2]] == [("northmoor", "housing_benefit", ["notes"])]


def test_files_vary_as_real_exports_do(out: Path, manifest: dict) -> None:
    formats = {e["format"] for e in manifest["files"]}
    assert formats == {"csv", "xlsx", "parquet"}
    encodings = {e["encoding"] for e in manifest["files"] if e["format"] == "csv"}
    assert encodings == {"utf-8", "utf-8-sig", "cp1252"}
    assert (out / "eastvale" / "housing_benefit.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    header = (out / "eastvale" / "housing_benefit.csv").read_bytes().split(b"\r\n")[0]
    assert b"Date Of Birth" in header and b"NI Number" in header
    cp = b"".join((out / "southwold_bay" / f"{d}.csv").read_bytes() for d in SPEC)
    with pytest.raises(UnicodeDecodeError):
        cp.decode("utf-8")
    assert "é" in cp.decode("cp1252") or "ë" in cp.decode("cp1252")
    dob = pl.concat(
        [df["date_of_birth"] for e, df in _files(out, manifest) if e["dataset"] == "payroll"]
    )
    assert dob.str.contains(r"^\d{4}-").any() and dob.str.contains(r"^\d{2}/").any()


def test_cases_refer_to_emitted_records(out: Path, manifest: dict) -> None:
    records = pl.read_parquet(out / "truth" / "records.parquet")
    assert records.columns[:4] == ["partner", "dataset", "record_id", "person_id"]
    for entry, df in _files(out, manifest):
        mine = records.filter(
            (pl.col("partner") == entry["partner"]) & (pl.col("dataset") == entry["dataset"])
        ).sort("row")
        assert mine["record_id"].to_list() == df["record_id"].to_list(), entry["path"]
    cases = pl.read_csv(out / "truth" / "cases.csv", infer_schema=False)
    keys = records.select("partner", "dataset", "record_id").unique()
    for side in ("left", "right"):
        side_keys = cases.select(
            pl.col(f"{side}_partner").alias("partner"),
            pl.col(f"{side}_dataset").alias("dataset"),
            pl.col(f"{side}_record_id").alias("record_id"),
        )
        assert side_keys.join(keys, on=["partner", "dataset", "record_id"], how="anti").is_empty()


def test_each_rule_has_cases_and_decoys_and_they_never_overlap(out: Path) -> None:
    cases = pl.read_csv(out / "truth" / "cases.csv", infer_schema=False)
    assert set(cases["rule"]) == set(RULES)
    assert set(cases["kind"]) == {"case", "decoy"}
    counts = cases.group_by("rule", "kind").len()
    for rule in RULES:
        for kind in ("case", "decoy"):
            n = counts.filter((pl.col("rule") == rule) & (pl.col("kind") == kind))["len"]
            assert n.sum() >= 1, (rule, kind)
    pair = ["rule", "left_partner", "left_record_id", "right_partner", "right_record_id"]
    both = cases.filter(pl.col("kind") == "case").join(
        cases.filter(pl.col("kind") == "decoy"), on=pair
    )
    assert both.is_empty()
    assert cases.select(pair).is_duplicated().sum() == 0
    same = cases.filter(pl.col("left_dataset") == pl.col("right_dataset"))
    assert (same["left_record_id"] < same["right_record_id"]).all()


def test_time_conditions_hold_in_the_emitted_dates(out: Path, manifest: dict) -> None:
    cases = pl.read_csv(out / "truth" / "cases.csv", infer_schema=False)
    files = {(e["partner"], e["dataset"]): df for e, df in _files(out, manifest)}

    def cell(partner: str, dataset: str, record_id: str, column: str) -> str:
        df = files[(partner, dataset)]
        return df.filter(pl.col("record_id") == record_id)[column][0]

    for rule, col in (
        ("blue_badge_to_deceased", "expiry_date"),
        ("concessionary_travel_to_deceased", "expiry_date"),
    ):
        for row in cases.filter(pl.col("rule") == rule).iter_rows(named=True):
            expiry = _real_date(
                cell(row["left_partner"], row["left_dataset"], row["left_record_id"], col)
            )
            death = _real_date(
                cell(row["right_partner"], "deceased", row["right_record_id"], "date_of_death")
            )
            identity_decoy = row["note"].startswith("planted decoy")  # another person
            assert identity_decoy or (expiry > death) == (row["kind"] == "case"), row
    for row in cases.filter(
        (pl.col("rule") == "housing_tenants_to_deceased") & (pl.col("kind") == "case")
    ).iter_rows(named=True):
        end = cell(
            row["left_partner"], "housing_tenants", row["left_record_id"], "tenancy_end_date"
        )
        assert end == ""


def test_invalid_rows_have_their_stated_problem(out: Path, manifest: dict) -> None:
    invalid = pl.read_csv(out / "truth" / "invalid_rows.csv", infer_schema=False)
    assert set(invalid["problem"]) <= {
        "missing_required",
        "impossible_date",
        "invalid_postcode",
        "duplicate_record_id",
        "invalid_date_format",
    }
    cases = pl.read_csv(out / "truth" / "cases.csv", infer_schema=False)
    for side in ("left", "right"):
        hit = invalid.join(
            cases,
            left_on=["partner", "dataset", "record_id"],
            right_on=[f"{side}_partner", f"{side}_dataset", f"{side}_record_id"],
        )
        assert hit.is_empty(), "truth records must stay valid, so they stay matchable"
    files = {(e["partner"], e["dataset"]): df for e, df in _files(out, manifest)}
    for (partner, dataset), df in files.items():
        if df.height >= 50:
            mine = invalid.filter((pl.col("partner") == partner) & (pl.col("dataset") == dataset))
            assert mine.height >= 1, (partner, dataset)
    for r in invalid.iter_rows(named=True):
        df = files[(r["partner"], r["dataset"])]
        raw = df[r["column"]][int(r["row"]) - 2]
        required = SPEC[r["dataset"]]["columns"][r["column"]].get("required", False)
        assert required, r
        problem = r["problem"]
        if problem == "missing_required":
            assert raw.strip() == "", r
        elif problem == "impossible_date":
            assert (ISO.match(raw) or UK.match(raw)) and _real_date(raw) is None, r
        elif problem == "invalid_date_format":
            assert not ISO.match(raw) and not UK.match(raw) and raw.strip(), r
        elif problem == "invalid_postcode":
            assert not POSTCODE.match(raw.strip().upper()), r
        else:
            assert raw == r["record_id"]
            ids = df["record_id"]
            copies = invalid.filter(
                (pl.col("partner") == r["partner"])
                & (pl.col("dataset") == r["dataset"])
                & (pl.col("record_id") == raw)
            )
            assert (ids == raw).sum() == copies.height >= 2, r


def test_no_other_row_is_invalid_in_a_required_column(out: Path, manifest: dict) -> None:
    invalid = pl.read_csv(out / "truth" / "invalid_rows.csv", infer_schema=False)
    for entry, df in _files(out, manifest):
        spec = SPEC[entry["dataset"]]["columns"]
        bad = set(
            invalid.filter(
                (pl.col("partner") == entry["partner"]) & (pl.col("dataset") == entry["dataset"])
            )["row"].cast(pl.Int64)
        )
        clean = df.with_row_index("row", offset=2).filter(~pl.col("row").is_in(list(bad)))
        assert clean["record_id"].is_unique().all(), entry["path"]
        for col, meta in spec.items():
            if not meta.get("required"):
                continue
            values = clean[col]
            assert (values.str.strip_chars() != "").all(), (entry["path"], col)
            if meta["type"] == "date":
                assert all(_real_date(v) for v in values), (entry["path"], col)
            if meta["normaliser"] == "postcode":
                norm = values.str.strip_chars().str.to_uppercase().str.replace_all(r"\s+", " ")
                assert norm.str.contains(POSTCODE.pattern).all(), (entry["path"], col)


def test_blanked_values_are_invalid_and_others_valid(out: Path, manifest: dict) -> None:
    blanked = pl.read_csv(out / "truth" / "blanked_values.csv", infer_schema=False)
    assert blanked.columns == ["partner", "dataset", "row", "record_id", "column"]
    files = {(e["partner"], e["dataset"]): df for e, df in _files(out, manifest)}
    listed = {
        (r["partner"], r["dataset"], int(r["row"]), r["column"])
        for r in blanked.iter_rows(named=True)
    }
    assert listed, "some optional values should be invalid noise"
    for (partner, dataset), df in files.items():
        for col in ("ni_number", "sort_code"):
            if col not in df.columns:
                continue
            for i, raw in enumerate(df[col].to_list()):
                norm = re.sub(r"[\s\-]", "", raw).upper()
                valid = (
                    bool(NI.match(norm))
                    if col == "ni_number"
                    else bool(re.fullmatch(r"\d{6}", norm))
                )
                if raw:
                    assert valid != ((partner, dataset, i + 2, col) in listed), (
                        partner,
                        dataset,
                        i,
                        raw,
                    )


def test_people_and_names(out: Path, manifest: dict) -> None:
    records = pl.read_parquet(out / "truth" / "records.parquet")
    assert records["person_id"].drop_nulls().max() < SMALL["people"]
    assert manifest["people"] == SMALL["people"]
    assert manifest["cycle_date"] == "2026-11-01"
    dec = _read(out, next(e for e in manifest["files"] if e["dataset"] == "electoral_register"))
    assert dec["surname"].n_unique() > 200


def test_rejects_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        generate(tmp_path, partners=11)
    with pytest.raises(ValueError):
        generate(tmp_path, people=10)


def _truth_persons(out: Path) -> pl.DataFrame:
    """Truth pairs with each side's person id (records.parquet keys records by row)."""
    records = pl.read_parquet(out / "truth" / "records.parquet")
    cases = pl.read_csv(out / "truth" / "cases.csv", infer_schema=False)
    for side in ("left", "right"):
        cases = cases.join(
            records.select(
                pl.col("partner").alias(f"{side}_partner"),
                pl.col("dataset").alias(f"{side}_dataset"),
                pl.col("record_id").alias(f"{side}_record_id"),
                pl.col("person_id").alias(f"{side}_person"),
            ).unique([f"{side}_partner", f"{side}_dataset", f"{side}_record_id"]),
            on=[f"{side}_partner", f"{side}_dataset", f"{side}_record_id"],
            how="left",
        )
    return cases


def test_planted_deceased_anchors_always_show_the_ni_number(out: Path, manifest: dict) -> None:
    """The death record of every planted deceased-rule pair shows its NI number (keep_ni)."""
    cases = pl.read_csv(out / "truth" / "cases.csv", infer_schema=False).filter(
        (pl.col("right_dataset") == "deceased") & pl.col("note").str.starts_with("planted")
    )
    assert cases.height
    files = {(e["partner"], e["dataset"]): df for e, df in _files(out, manifest)}
    for r in cases.unique(["right_partner", "right_record_id"]).iter_rows(named=True):
        df = files[(r["right_partner"], "deceased")]
        ni = df.filter(pl.col("record_id") == r["right_record_id"])["ni_number"].to_list()
        assert ni and all(v.strip() for v in ni), r


def test_records_that_decide_a_discount_pair_stay_valid(out: Path) -> None:
    """No disregard or register row of a person in a single-person discount pair is invalid.

    A disregard in force decides that the other adult is a decoy, the holder's own register
    entry that a same-surname adult is a case: rejected at ingest, they would change the
    answer the hub can reach.
    """
    spd = _truth_persons(out).filter(pl.col("rule") == "council_tax_spd_to_electoral_register")
    people = pl.concat(
        [
            spd.select(pl.col(f"{s}_partner").alias("partner"), pl.col(f"{s}_person").alias("p"))
            for s in ("left", "right")
        ]
    ).unique()
    assert people.height
    records = pl.read_parquet(out / "truth" / "records.parquet")
    invalid = pl.read_csv(out / "truth" / "invalid_rows.csv", infer_schema=False).with_columns(
        pl.col("row").cast(pl.Int64)
    )
    bad = (
        invalid.filter(pl.col("dataset").is_in(["council_tax_disregards", "electoral_register"]))
        .join(
            records.select("partner", "dataset", "row", pl.col("person_id").alias("p")),
            on=["partner", "dataset", "row"],
        )
        .join(people, on=["partner", "p"], how="semi")
    )
    assert bad.is_empty(), bad

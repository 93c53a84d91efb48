"""The third synthetic population (`synth --population third`), written blind to the rules:
deterministic, every file accepted by the project's own ingest, a truth that points at
accepted rows, labelled hard negatives, and each council's own file habits.

Small populations keep this fast; the figures at size are benchmarks/accuracy.py's.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl
import pytest

from fraudmatch.council.ingest import ROW_REJECTED, Validation, ingest
from fraudmatch.spec.specs import load_spec
from fraudmatch.synth import RULES as SYNTH_RULES
from fraudmatch.synth.third import generate_third
from fraudmatch.synth.third.truth import RULES
from tests.population_checks import KEY, assert_deterministic, record_keys

PEOPLE, PARTNERS, SEED = 6000, 5, 3
# what a hard negative may be: another person (relative, twin, spouse, namesake), or the
# same person whose dates do not meet the rule (moved away, tenancy ended, badge expired)
HARD_KINDS = {"relative", "twin", "spouse", "namesake", "moved", "ended", "expired"}


@pytest.fixture(scope="module")
def third(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("third")
    generate_third(out, partners=PARTNERS, people=PEOPLE, seed=SEED)
    return out


@pytest.fixture(scope="module")
def manifest(third: Path) -> dict:
    return json.loads((third / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def ingested(third: Path, manifest: dict) -> list[tuple[dict, Validation]]:
    """Every file through the ingest a partner runs, in the date order the manifest declares."""
    spec = load_spec()
    return [
        (
            e,
            ingest(
                third / e["path"],
                spec.dataset(e["dataset"]),
                date_format="dmy" if e["dates"] == "uk" else None,
            ),
        )
        for e in manifest["files"]
    ]


def test_same_seed_same_bytes_other_seed_other_data(tmp_path: Path) -> None:
    assert_deterministic(generate_third, tmp_path, SEED)


def test_every_file_is_accepted_by_ingest(
    third: Path, manifest: dict, ingested: list[tuple[dict, Validation]]
) -> None:
    assert manifest["generator"] == "fraudmatch.synth.third"
    assert len(manifest["partners"]) == PARTNERS
    # the nine person rules' datasets, from every council
    datasets = {r.left for r in RULES} | {r.right for r in RULES}
    assert len({(e["partner"], e["dataset"]) for e in manifest["files"]}) == (
        PARTNERS * len(datasets)
    )
    invalid = pl.read_csv(third / "truth" / "invalid_rows.csv", infer_schema=False)
    rows = rejected = 0
    for entry, v in ingested:
        assert v.rows_read == entry["rows"], entry["path"]
        assert v.accepted.height + v.rows_rejected == v.rows_read, entry["path"]
        assert v.accepted.height > 0, entry["path"]
        rows, rejected = rows + v.rows_read, rejected + v.rows_rejected
        # a row is rejected only where the generator keyed it unacceptably on purpose
        gone = v.rejects.filter(pl.col("action") == ROW_REJECTED)["record_id"].unique()
        spoiled = record_keys(entry, gone).join(invalid.select(KEY), on=KEY, how="anti")
        assert spoiled.is_empty(), (entry["path"], spoiled)
    assert rejected / rows < 0.01, (rejected, rows)


def test_truth_points_at_accepted_rows(
    third: Path, manifest: dict, ingested: list[tuple[dict, Validation]]
) -> None:
    accepted = pl.concat([record_keys(e, v.accepted["record_id"]) for e, v in ingested])
    assert accepted.is_unique().all()
    records = pl.read_csv(third / "truth" / "records.csv", infer_schema=False)
    assert records.height == sum(e["rows"] for e in manifest["files"])
    assert records.select(KEY).is_unique().all()
    truth = pl.read_csv(third / "truth" / "cases.csv", infer_schema=False)
    for side in ("left", "right"):
        keys = truth.select(pl.col(f"{side}_{k}").alias(k) for k in KEY)
        missing = keys.join(accepted, on=KEY, how="anti")
        assert missing.is_empty(), (side, missing.head())


def test_truth_labels(third: Path) -> None:
    truth = pl.read_csv(third / "truth" / "cases.csv", infer_schema=False)
    assert set(truth["kind"]) == {"case", "decoy"}
    cases, hard = truth.filter(pl.col("kind") == "case"), truth.filter(pl.col("kind") == "decoy")
    assert set(cases["label"]) == {"case"}
    assert set(hard["label"]) <= HARD_KINDS
    # no pair is both a case and a hard negative
    pair = ["rule", "left_partner", "left_record_id", "right_partner", "right_record_id"]
    assert hard.join(cases, on=pair, how="semi").is_empty()
    # every person rule, each a shipped one, has cases and hard negatives of other people
    names = {r.name for r in RULES}
    assert names <= set(SYNTH_RULES)
    assert set(cases["rule"]) == names == set(hard["rule"])
    kinds = {r: set(ls) for r, ls in hard.group_by("rule").agg(pl.col("label").unique()).rows()}
    for rule in names:
        assert {"relative", "twin", "namesake"} <= kinds[rule], rule


def test_every_council_has_its_own_file_format(third: Path, manifest: dict) -> None:
    habits: dict[str, set] = {}
    for e in manifest["files"]:
        data = (third / e["path"]).read_bytes()
        if e["format"] == "xlsx":
            assert data[:2] == b"PK"
            shape = ("xlsx",)
        else:
            bom = data.startswith(b"\xef\xbb\xbf")
            assert bom == (e["format"] == "csv-utf8-bom")
            shape = (bom, b"\r\n" in data, data.split(b"\n", 1)[0].split(b",")[:3])
        habits.setdefault(e["partner"], set()).add((e["format"], e["dates"], repr(shape)))
    formats = {e["format"] for e in manifest["files"]}
    assert formats == {"csv-utf8", "csv-utf8-bom", "csv-cp1252", "xlsx"}
    # one habit per council across its files, and no two councils alike
    assert all(len(h) == 1 for h in habits.values()), habits
    assert len({next(iter(h)) for h in habits.values()}) == PARTNERS
    cp = next(e for e in manifest["files"] if e["format"] == "csv-cp1252")
    assert b"\r\n" in (third / cp["path"]).read_bytes()
    # record ids in each council's own style
    shapes = {}
    for partner in manifest["partners"]:
        e = next(f for f in manifest["files"] if f["partner"] == partner and
                 f["dataset"] == "payroll")  # fmt: skip
        frame = (
            pl.read_excel(third / e["path"], infer_schema_length=0)
            if e["format"] == "xlsx"
            else pl.read_csv(
                (third / e["path"]).read_bytes().decode(
                    "cp1252" if e["format"] == "csv-cp1252" else "utf-8-sig"
                ).encode(),
                infer_schema=False,
            )
        )  # fmt: skip
        ids = frame["record_id"].to_list()
        shapes[partner] = {re.sub(r"[A-Z]", "A", re.sub(r"\d", "9", i)) for i in ids}
    for a in shapes:
        for b in shapes:
            if a < b:
                assert not shapes[a] & shapes[b], (a, b)

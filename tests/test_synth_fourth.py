"""The fourth synthetic population (`synth --population fourth`), written blind to the rules:
deterministic, every file accepted by the project's own ingest (rows rejected only where the
generator damaged them on purpose, each listed with the reason ingest gives), a truth that
points at accepted rows, labelled hard negatives, and each council's own file habits.

Small populations keep this fast; the figures at size are benchmarks/accuracy.py's.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl
import pytest

from fraudmatch.council.ingest import ROW_REJECTED, VALUE_BLANKED, Validation, ingest
from fraudmatch.spec.specs import load_spec
from fraudmatch.synth import RULES as SYNTH_RULES
from fraudmatch.synth.fourth import generate_fourth
from fraudmatch.synth.fourth.services import PLANS
from tests.population_checks import KEY, assert_deterministic, record_keys

PEOPLE, PARTNERS, SEED = 6000, 5, 3
# what a hard negative may be: another person (relative, twin, sibling, cousin, spouse,
# namesake), or the same person whose dates do not meet the rule (moved, ended, expired)
HARD_KINDS = {
    "relative",
    "twin",
    "sibling",
    "cousin",
    "spouse",
    "namesake",
    "moved",
    "ended",
    "expired",
}
# the money rules' hard negatives: a supplier next door, an account one digit off at the same
# branch; monthly invoices of one amount numbered in sequence, the same invoice from another
# supplier, a re-keyed number for another amount
MONEY_KINDS = {"neighbour", "same_branch", "recurring", "other_supplier", "other_amount"}
MONEY_RULES = {"payroll_to_creditors", "creditor_duplicate_payments"}
MONEY_DATASETS = {"creditors", "creditor_payments"}


@pytest.fixture(scope="module")
def fourth(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("fourth")
    generate_fourth(out, partners=PARTNERS, people=PEOPLE, seed=SEED)
    return out


@pytest.fixture(scope="module")
def manifest(fourth: Path) -> dict:
    return json.loads((fourth / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def ingested(fourth: Path, manifest: dict) -> list[tuple[dict, Validation]]:
    """Every file through the ingest a partner runs, in the date order the manifest declares."""
    spec = load_spec()
    return [
        (
            e,
            ingest(
                fourth / e["path"],
                spec.dataset(e["dataset"]),
                date_format="dmy" if e["dates"] in ("uk", "mixed") else None,
            ),
        )
        for e in manifest["files"]
    ]


def test_same_seed_same_bytes_other_seed_other_data(tmp_path: Path) -> None:
    assert_deterministic(generate_fourth, tmp_path, SEED)


def test_every_file_is_accepted_by_ingest(
    fourth: Path, manifest: dict, ingested: list[tuple[dict, Validation]]
) -> None:
    assert manifest["generator"] == "fraudmatch.synth.fourth"
    assert len(manifest["partners"]) == PARTNERS
    # the nine person rules' datasets and the two money datasets, from every council
    datasets = {p.left for p in PLANS} | {p.right for p in PLANS}
    written = {(e["partner"], e["dataset"]) for e in manifest["files"]}
    assert len(written) == PARTNERS * (len(datasets) + 2)
    assert {d for _, d in written} >= {"creditors", "creditor_payments"}
    invalid = pl.read_csv(fourth / "truth" / "invalid_rows.csv", infer_schema=False)
    blanked = pl.read_csv(fourth / "truth" / "blanked_values.csv", infer_schema=False)
    rows = rejected = 0
    seen_invalid, seen_blanked = [], []
    for entry, v in ingested:
        assert v.rows_read == entry["rows"], entry["path"]
        assert v.accepted.height + v.rows_rejected == v.rows_read, entry["path"]
        assert v.accepted.height > 0, entry["path"]
        rows, rejected = rows + v.rows_read, rejected + v.rows_rejected
        # a row is rejected only where the generator keyed it unacceptably on purpose,
        # and for the reason it says
        gone = v.rejects.filter(pl.col("action") == ROW_REJECTED)
        got = record_keys(entry, gone["record_id"]).with_columns(reason=gone["reason"])
        seen_invalid.append(got.filter(~pl.col("reason").str.starts_with("duplicate")))
        seen_invalid.append(got.filter(pl.col("reason").str.starts_with("duplicate")).unique(KEY))
        spoiled = got.select(KEY).join(invalid.select(KEY), on=KEY, how="anti")
        assert spoiled.is_empty(), (entry["path"], spoiled)
        blank = v.rejects.filter(pl.col("action") == VALUE_BLANKED)
        seen_blanked.append(record_keys(entry, blank["record_id"]))
    assert rejected / rows < 0.01, (rejected, rows)
    # every listed invalid row is rejected, with the reason listed
    seen = pl.concat(seen_invalid).with_columns(pl.col("reason").str.replace(r" \(.*", ""))
    assert invalid.sort(KEY).equals(seen.select(invalid.columns).sort(KEY))
    # the TN temporary references are blanked, as listed
    assert blanked.select(KEY).sort(KEY).equals(pl.concat(seen_blanked).unique().sort(KEY))


def test_truth_points_at_accepted_rows(
    fourth: Path, manifest: dict, ingested: list[tuple[dict, Validation]]
) -> None:
    accepted = pl.concat([record_keys(e, v.accepted["record_id"]) for e, v in ingested])
    assert accepted.is_unique().all()
    records = pl.read_csv(fourth / "truth" / "records.csv", infer_schema=False)
    assert records.height == sum(e["rows"] for e in manifest["files"])
    truth = pl.read_csv(fourth / "truth" / "cases.csv", infer_schema=False)
    for side in ("left", "right"):
        keys = truth.select(pl.col(f"{side}_{k}").alias(k) for k in KEY)
        missing = keys.join(accepted, on=KEY, how="anti")
        assert missing.is_empty(), (side, missing.head())


def test_truth_labels(fourth: Path) -> None:
    truth = pl.read_csv(fourth / "truth" / "cases.csv", infer_schema=False)
    assert set(truth["kind"]) == {"case", "decoy"}
    cases, hard = truth.filter(pl.col("kind") == "case"), truth.filter(pl.col("kind") == "decoy")
    assert set(cases["label"]) == {"case"}
    assert set(hard["label"]) <= HARD_KINDS | MONEY_KINDS
    money = hard.filter(pl.col("rule").is_in(MONEY_RULES))
    assert set(money["label"]) == MONEY_KINDS
    pair = ["rule", "left_partner", "left_record_id", "right_partner", "right_record_id"]
    assert hard.join(cases, on=pair, how="semi").is_empty()
    assert cases.select(pair).is_unique().all()
    names = {p.name for p in PLANS}
    assert names <= set(SYNTH_RULES)
    assert set(cases["rule"]) == names | MONEY_RULES == set(hard["rule"])
    assert MONEY_RULES <= set(SYNTH_RULES)
    kinds = {r: set(ls) for r, ls in hard.group_by("rule").agg(pl.col("label").unique()).rows()}
    for rule in names:
        assert {"relative", "twin", "namesake", "sibling", "spouse"} <= kinds[rule], rule
    # a case of a rule across partners is between two councils
    for rule in (
        "payroll_to_payroll",
        "housing_benefit_to_housing_benefit",
        "housing_tenants_to_housing_tenants",
    ):
        of = cases.filter(pl.col("rule") == rule)
        assert (of["left_partner"] != of["right_partner"]).all(), rule


def test_truth_pairs_are_one_person_and_habits_are_recorded(fourth: Path) -> None:
    truth = pl.read_csv(fourth / "truth" / "cases.csv", infer_schema=False)
    truth = truth.filter(~pl.col("rule").is_in(MONEY_RULES))
    records = pl.read_csv(fourth / "truth" / "records.csv", infer_schema=False)
    who = records.select(*KEY, "person_id")
    sides = truth
    for side in ("left", "right"):
        sides = sides.join(
            who.rename({k: f"{side}_{k}" for k in KEY} | {"person_id": f"{side}_pid"}),
            on=[f"{side}_{k}" for k in KEY],
        )
    same = sides["left_pid"] == sides["right_pid"]
    kinds = sides["kind"]
    labels = sides["label"]
    assert same.filter(kinds == "case").all()
    others = labels.is_in(["relative", "twin", "sibling", "cousin", "spouse", "namesake"])
    assert (~same).filter(others).all()
    # the habits this population is for are there to be met
    tags = set(",".join(records["slips"].fill_null("").to_list()).split(","))
    for tag in (
        "sn:singh",
        "sn:apostrophe",
        "sn:one_surname",
        "fn:middle_dropped",
        "ni:temporary_tn",
        "ni:none_from_registrar",
        "addr:payroll_holds_none",
        "dup:row",
    ):
        assert tag in tags, tag


def test_every_council_has_its_own_file_format(fourth: Path, manifest: dict) -> None:
    habits: dict[str, set] = {}  # the council's system, over all its files
    shapes: dict[str, set] = {}  # and its person files' first three headers
    for e in manifest["files"]:
        data = (fourth / e["path"]).read_bytes()
        if e["format"] == "xlsx":
            assert data[:2] == b"PK"
            shape = ("xlsx",)
        else:
            bom = data.startswith(b"\xef\xbb\xbf")
            assert bom == (e["format"] == "csv-utf8-bom")
            shape = (bom, b"\r\n" in data)
        habits.setdefault(e["partner"], set()).add((e["format"], e["dates"], repr(shape)))
        if e["dataset"] not in MONEY_DATASETS:
            head = data.split(b"\n", 1)[0].split(b",")[:3] if e["format"] != "xlsx" else []
            shapes.setdefault(e["partner"], set()).add((*next(iter(habits[e["partner"]])),
                                                        repr(head)))  # fmt: skip
    formats = {e["format"] for e in manifest["files"]}
    assert formats == {"csv-utf8", "csv-utf8-bom", "csv-cp1252", "xlsx"}
    assert all(len(h) == 1 for h in habits.values()), habits
    assert all(len(h) == 1 for h in shapes.values()), shapes
    assert len({next(iter(h)) for h in shapes.values()}) == PARTNERS
    cp = next(e for e in manifest["files"] if e["format"] == "csv-cp1252")
    raw = (fourth / cp["path"]).read_bytes()
    assert b"\r\n" in raw
    raw.decode("cp1252")
    # unpadded day-first dates in the council that writes them (1/2/1958)
    assert re.search(rb",\d/\d{1,2}/\d{4}", raw)
    # record ids in each council's own style
    shapes = {}
    for partner in manifest["partners"]:
        e = next(
            f for f in manifest["files"] if f["partner"] == partner and f["dataset"] == "payroll"
        )
        frame = (
            pl.read_excel(fourth / e["path"], infer_schema_length=0)
            if e["format"] == "xlsx"
            else pl.read_csv(
                (fourth / e["path"])
                .read_bytes()
                .decode("cp1252" if e["format"] == "csv-cp1252" else "utf-8-sig")
                .encode(),
                infer_schema=False,
            )
        )
        ids = frame[frame.columns[0]].to_list()
        shapes[partner] = {re.sub(r"[A-Z]", "A", re.sub(r"\d", "9", i)) for i in ids}
    for a in shapes:
        for b in shapes:
            if a < b:
                assert not shapes[a] & shapes[b], (a, b)

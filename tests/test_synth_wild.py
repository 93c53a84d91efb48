"""The second synthetic population (`synth --population wild`): deterministic, every file
format councils send, a consistent truth with labelled hard negatives, per-council gaps.

Small populations keep this fast; the figures at size are benchmarks/accuracy.py's.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fraudmatch.synth import RULES
from fraudmatch.synth.wild import _build, generate_wild, render
from fraudmatch.synth.wild.people import NO_DAY
from fraudmatch.synth.wild.truth import _adult_on
from tests.population_checks import assert_deterministic

PEOPLE, PARTNERS, SEED = 2000, 4, 3


@pytest.fixture(scope="module")
def wild(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wild")
    generate_wild(out, partners=PARTNERS, people=PEOPLE, seed=SEED)
    return out


def _read(root: Path, entry: dict) -> pl.DataFrame:
    """A file as the council sent it, headers back in snake case, every cell text."""
    path = root / entry["path"]
    if entry["format"] == "xlsx":
        frame = pl.read_excel(path, infer_schema_length=0)
    else:
        enc = "cp1252" if entry["format"] == "csv-cp1252" else "utf-8-sig"
        frame = pl.read_csv(path.read_bytes().decode(enc).encode(), infer_schema=False)
    return frame.rename({c: c.strip().lower().replace(" ", "_") for c in frame.columns})


def test_same_seed_same_bytes_other_seed_other_data(tmp_path: Path) -> None:
    assert_deterministic(generate_wild, tmp_path, SEED, truth=("truth/cases.csv",))


def test_every_format_councils_send(wild: Path) -> None:
    manifest = json.loads((wild / "manifest.json").read_text())
    assert manifest["generator"] == "fraudmatch.synth.wild"
    formats = {e["format"] for e in manifest["files"]}
    assert formats == set(render.FORMATS)
    by_format = {e["format"]: wild / e["path"] for e in manifest["files"]}
    assert by_format["csv-bom"].read_bytes().startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in by_format["csv-cp1252"].read_bytes()
    assert by_format["xlsx"].read_bytes()[:2] == b"PK"
    assert not by_format["csv-utf8"].read_bytes().startswith(b"\xef\xbb\xbf")
    # ISO and DD/MM/YYYY dates both occur across the councils
    dobs = pl.concat(
        [_read(wild, e)["date_of_birth"] for e in manifest["files"] if e["dataset"] == "payroll"]
    ).drop_nulls()
    assert dobs.str.contains(r"^\d{4}-").any() and dobs.str.contains(r"^\d{2}/\d{2}/").any()


def test_truth_is_consistent(wild: Path) -> None:
    manifest = json.loads((wild / "manifest.json").read_text())
    sent = pl.concat(
        [
            _read(wild, e).select(
                pl.lit(e["partner"]).alias("partner"), pl.lit(e["dataset"]).alias("dataset"),
                "record_id",
            )
            for e in manifest["files"]
        ]
    )  # fmt: skip
    assert sent.select("partner", "dataset", "record_id").is_unique().all()
    truth = pl.read_csv(wild / "truth" / "cases.csv", infer_schema=False)
    for side in ("left", "right"):
        keys = truth.select(
            pl.col(f"{side}_partner").alias("partner"),
            pl.col(f"{side}_dataset").alias("dataset"),
            pl.col(f"{side}_record_id").alias("record_id"),
        )
        missing = keys.join(sent, on=["partner", "dataset", "record_id"], how="anti")
        assert missing.is_empty(), missing.head()
    cases, hard = truth.filter(pl.col("kind") == "case"), truth.filter(pl.col("kind") == "decoy")
    pair = ["rule", "left_partner", "left_record_id", "right_partner", "right_record_id"]
    assert hard.join(cases, on=pair, how="semi").is_empty()
    # every shipped rule has planted cases; person rules have every kind of hard negative
    assert set(cases["rule"]) == set(RULES)
    labels = hard.group_by("rule").agg(pl.col("label").unique())
    kinds = {r: set(ls) for r, ls in labels.iter_rows()}
    for rule in ("housing_benefit_to_housing_benefit", "blue_badge_to_deceased"):
        assert {"relative", "twin", "namesake", "spouse", "moved"} <= kinds[rule]
    # the hard shapes: two homes, NI number missing on one side
    records = pl.read_parquet(wild / "truth" / "records.parquet")
    assert records.height == sum(e["rows"] for e in manifest["files"])


def test_each_council_leaves_fields_out_at_its_own_rate(wild: Path) -> None:
    manifest = json.loads((wild / "manifest.json").read_text())
    ni_rates, other_rates = [], []
    for e in manifest["files"]:
        frame = _read(wild, e)
        if frame.height < 25:
            continue
        if "ni_number" in frame.columns and e["dataset"] in render.NI_LISTS:
            ni_rates.append(frame["ni_number"].is_null().mean())
        if "uprn" in frame.columns and e["dataset"] in ("housing_benefit", "housing_tenants"):
            other_rates.append(frame["uprn"].is_null().mean())
    assert ni_rates and other_rates
    # 20-40% by design, plus the plants' forced gaps; sampling noise on a few dozen rows
    assert all(0.05 <= r <= 0.7 for r in ni_rates), ni_rates
    assert all(r <= 0.55 for r in other_rates), other_rates
    assert len({round(r, 2) for r in ni_rates}) > 1  # councils differ


@settings(max_examples=60, deadline=None)
@given(
    days=st.lists(st.integers(-30_000, 25_000), min_size=1, max_size=40),
    style=st.sampled_from(["iso", "uk", "mixed"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_undamaged_dates_read_back(days: list[int], style: str, seed: int) -> None:
    text = render.dates(np.random.default_rng(seed), pl.Series(days), style, 0.0)
    for d, t in zip(days, text.to_list(), strict=True):
        want = date(1970, 1, 1) + timedelta(days=d)
        got = date.fromisoformat(t) if "-" in t else date(int(t[6:]), int(t[3:5]), int(t[:2]))
        assert got == want


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), rate=st.floats(0.0, 0.3))
def test_blank_rate_and_forced_gaps(seed: int, rate: float) -> None:
    n = 4000
    frame = pl.DataFrame({"record_id": [str(i) for i in range(n)], "ni_number": ["AB123456C"] * n})
    forced = pl.Series(["ni_number" if i % 10 == 0 else None for i in range(n)], dtype=pl.String)
    style = render.Style("csv-utf8", "iso", False, 0.0, {("payroll", "ni_number"): rate})
    out = render.blank(np.random.default_rng(seed), frame, "payroll", style, forced)
    gone = out["ni_number"].is_null()
    assert gone.filter(forced.is_not_null()).all()  # a plant's gap is always a gap
    assert out["record_id"].null_count() == 0  # required columns are never blanked
    expect = 0.1 + 0.9 * rate
    assert abs(gone.mean() - expect) < 0.04


def test_damaged_dates_are_impossible_or_swapped() -> None:
    days = pl.Series([(date(1958, 7, 21) - date(1970, 1, 1)).days] * 2000)
    text = render.dates(np.random.default_rng(1), days, "iso", 0.5).to_list()
    assert "1958-07-21" in text and "1958-07-71" in text and "1958-13-21" in text
    assert NO_DAY < 0


def test_every_minor_on_the_register_shows_a_date_of_birth(wild: Path) -> None:
    """The register shows a date of birth only for attainers, so one left out says "adult":
    a 17-year-old's entry without it would contradict the truth that counts the minor out."""
    manifest = json.loads((wild / "manifest.json").read_text())
    cycle = (date.fromisoformat(manifest["cycle_date"]) - date(1970, 1, 1)).days
    folk = _build(SEED, PARTNERS, PEOPLE, cycle).people.select("person_id", "dob")
    who = pl.read_parquet(wild / "truth" / "records.parquet")
    reg = pl.concat(
        [
            _read(wild, e).select(pl.lit(e["partner"]).alias("partner"), "record_id",
                                  "date_of_birth")
            for e in manifest["files"] if e["dataset"] == "electoral_register"
        ]
    )  # fmt: skip
    entries = reg.join(
        who.filter(pl.col("dataset") == "electoral_register"), on=["partner", "record_id"]
    ).join(folk, on="person_id")
    minors = entries.filter(~pl.Series(_adult_on(entries["dob"].to_numpy(), cycle)))
    assert minors.height > 5
    assert minors["date_of_birth"].null_count() == 0
    # too few minors here to be sure one would be hit: no council may leave the date out
    for seed in range(20):
        rates = [style.missing[("electoral_register", "date_of_birth")] for style in
                 render.styles(np.random.default_rng(seed), 8)]  # fmt: skip
        assert rates == [0.0] * 8


def test_adulthood_is_by_calendar_day() -> None:
    """18 on the eighteenth birthday, also for a birthday after February in a leap year."""
    cycle = (date(2026, 11, 1) - date(1970, 1, 1)).days
    born = [date(2008, 11, 1), date(2008, 11, 2), date(2008, 10, 31), date(2008, 2, 29)]
    days = np.array([(d - date(1970, 1, 1)).days for d in born])
    assert _adult_on(days, cycle).tolist() == [True, False, True, True]
    march = (date(2026, 3, 1) - date(1970, 1, 1)).days  # a 29 February birthday: 1 March
    assert _adult_on(days[3:], march).tolist() == [True]
    assert _adult_on(days[3:], march - 1).tolist() == [False]

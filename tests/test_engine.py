"""End to end: a small pseudonymised population with planted matches, twins and conditions."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import yaml
from polars.testing import assert_frame_equal

from fraudmatch.council.pseudonymise import pseudonymise
from fraudmatch.matching.engine import deferred_comparisons, match_columns, run_rule, run_rules
from fraudmatch.matching.rules import RuleError, load_rule, parse_rule
from fraudmatch.shipped import shipped_rules_dir
from fraudmatch.spec.specs import load_spec

RULES = Path(__file__).parent / "rules"
KEY = bytes(range(32))
CYCLE = date(2026, 4, 1)
SPEC = load_spec()

SURNAMES = (
    "SMITH JONES TAYLOR BROWN WILLIAMS WILSON JOHNSON DAVIES ROBINSON WRIGHT THOMPSON EVANS "
    "WALKER WHITE ROBERTS GREEN HALL WOOD JACKSON CLARKE PATEL KHAN LEWIS JAMES PHILLIPS "
    "MASON MITCHELL ROSE DAVIS RODRIGUEZ COX ALEXANDER GARDEN CAMPBELL JOHNSTON MOORE"
).split()
FORENAMES = (
    "OLIVER GEORGE HARRY JACK JACOB NOAH CHARLIE MUHAMMAD THOMAS OSCAR AMELIA OLIVIA ISLA "
    "EMILY POPPY AVA ISABELLA JESSICA LILY SOPHIE MARGARET SUSAN DAVID PETER ANNE"
).split()


def typo(name: str) -> str:
    """One transposition inside the name: SMITH -> SMIHT (a realistic keying error)."""
    i = max(1, len(name) // 2)
    return name[: i - 1] + name[i] + name[i - 1] + name[i + 1 :]


def people(n: int, seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    dob = [date(1950, 1, 1) + timedelta(days=int(d)) for d in rng.integers(0, 3000, n)]
    return pl.DataFrame(
        {
            "pid": np.arange(n),
            "surname": [SURNAMES[i] for i in rng.integers(0, len(SURNAMES), n)],
            "forenames": [FORENAMES[i] for i in rng.integers(0, len(FORENAMES), n)],
            "date_of_birth": dob,
            "ni_number": [f"AB{x:06d}C" for x in rng.permutation(n)],
            "postcode": [f"LS{a} {b}AB" for a, b in rng.integers(1, 5, (n, 2))],
            "address": [f"{h} HIGH STREET" for h in rng.integers(1, 400, n)],
        },
        schema_overrides={"date_of_birth": pl.Date},
    )


def pseudo(
    frame: pl.DataFrame, dataset: str, partner: pl.Series | str, as_of: date = CYCLE
) -> pl.DataFrame:
    """Normalised rows -> the hub's view: pseudonymised columns plus partner, prepared for
    the period starting ``as_of`` (by default CYCLE's)."""
    ds = SPEC.datasets[dataset]
    cols = {}
    for c in ds.columns:
        if c.withheld:
            continue
        if c.name in frame.columns:
            cols[c.name] = frame.get_column(c.name)
        else:
            dtype = {"string": pl.String, "date": pl.Date, "number": pl.Float64}[c.type]
            cols[c.name] = pl.Series(c.name, [None] * frame.height, dtype=dtype)
    out = pseudonymise(pl.DataFrame(cols), ds, KEY, as_of=as_of)
    part = partner if isinstance(partner, pl.Series) else pl.Series([partner] * frame.height)
    return out.with_columns(part.alias("partner"))


@pytest.fixture(scope="module")
def population() -> dict:
    """600 people; 40 on both payroll and housing benefit, 15 with keying errors; twins.

    Few postcodes and birth dates, so blocking also makes many pairs of different people
    (what EM needs to tell matches from non-matches).
    """
    pop = people(600, 1)
    payroll = pop.slice(0, 160).with_columns(
        pl.format("E{}", pl.col("pid")).alias("record_id"),
        pl.lit("MANAGER").alias("job_title"),
    )
    both = pop.slice(120, 40)  # pids 120..159 are on both
    hb_other = pop.slice(160, 440)
    typo_rows = both.slice(0, 10).with_columns(
        pl.col("surname").map_elements(typo, return_dtype=pl.String),
        pl.when(pl.col("pid") % 2 == 0)
        .then(pl.lit(None, pl.String))
        .otherwise("ni_number")
        .alias("ni_number"),
    )
    swapped = both.slice(10, 5).with_columns(  # day and month keyed the wrong way round
        pl.date(
            pl.col("date_of_birth").dt.year(),
            pl.col("date_of_birth").dt.day().clip(1, 12),
            pl.col("date_of_birth").dt.month(),
        ).alias("date_of_birth"),
        pl.lit(None, pl.String).alias("ni_number"),
    )
    hb = pl.concat([typo_rows, swapped, both.slice(15, 25), hb_other])
    # a twin of payroll person 100: same surname, dob, postcode and address, other forename
    twin_of = pop.filter(pl.col("pid") == 100)
    other = "ZEBEDEE" if twin_of["forenames"][0] != "ZEBEDEE" else "ALFRED"
    twin = twin_of.with_columns(
        pl.lit(other).alias("forenames"), pl.lit(None, pl.String).alias("ni_number")
    )
    hb = pl.concat([hb, twin]).with_columns(pl.format("HB{}", pl.col("pid")).alias("record_id"))
    hb = hb.with_columns(
        pl.when(pl.col("pid") == 100)
        .then(pl.lit("HBTWIN"))
        .otherwise("record_id")
        .alias("record_id")
    )
    partners_pay = pl.Series(["north", "south", "east"] * 60)[: payroll.height]
    partners_hb = pl.Series(["south", "east", "north"] * 200)[: hb.height]
    return {
        "frames": {
            "payroll": pseudo(payroll.drop("pid"), "payroll", partners_pay),
            "housing_benefit": pseudo(hb.drop("pid"), "housing_benefit", partners_hb),
        },
        "truth": {(f"E{p}", f"HB{p}") for p in range(120, 160)},
        "typo": {(f"E{p}", f"HB{p}") for p in range(120, 130)},
        "twin": ("E100", "HBTWIN"),
    }


def test_fellegi_sunter_finds_planted_matches_and_vetoes_twins(population) -> None:
    rule = load_rule(RULES / "payroll_to_housing_benefit.yaml")
    result = run_rule(rule, population["frames"], cycle_date=CYCLE, seed=7)
    m = result.matches
    found = set(zip(m["left_record_id"], m["right_record_id"], strict=True))
    assert population["typo"] <= found, "keying errors must still match"
    recall = len(found & population["truth"]) / len(population["truth"])
    precision = len(found & population["truth"]) / max(len(found), 1)
    assert recall >= 0.95 and precision >= 0.95, (recall, precision, found - population["truth"])
    assert population["twin"] not in found
    assert list(m.columns) == list(match_columns(rule))
    assert set(m["tier"]) <= {"hard_match", "model"}
    hard = m.filter(pl.col("tier") == "hard_match")
    assert hard.height >= 20 and (hard["level_ni"] == "exact").all()
    typo_rows = m.filter(pl.col("left_record_id") == "E120")
    assert typo_rows["level_surname"][0] in ("very_close", "close", "similar")
    assert typo_rows["weight_surname"][0] is not None
    assert m["match_probability"].min() >= 0.9 or hard.height
    stats = result.stats
    assert stats["pairs_compared"] > 0 and stats["model"]["prior"] > 0
    assert {b["blocking_rule"] for b in stats["blocking"]} == {
        "ni_number",
        "dob_surname_sound",
        "dob_forename",
        "postcode_surname",
    }
    assert m["case_id"].n_unique() == m.height  # one pair per person: one case each


def test_run_is_deterministic_for_a_seed(population) -> None:
    rule = load_rule(RULES / "payroll_to_housing_benefit.yaml")
    a = run_rule(rule, population["frames"], cycle_date=CYCLE, seed=3).matches
    b = run_rule(rule, population["frames"], cycle_date=CYCLE, seed=3).matches
    assert a.equals(b)


def _deceased_rule(extra: str = "") -> dict:
    import yaml

    text = f"""
name: blue_badge_to_deceased
description: A blue badge still valid after its holder died.
risk: high
left: blue_badge
right: deceased
blocking:
  - {{name: dob, keys: date_of_birth__tok}}
comparisons:
  - {{name: surname, type: exact, column: surname__tok}}
  - {{name: forenames, type: exact, column: forenames__tok}}
  - {{name: dob, type: date_parts, column: date_of_birth}}
scoring:
  model: deterministic
  match_when:
    - {{surname: exact, forenames: exact, dob: exact}}
conditions:
  - r.date_of_death < l.expiry_date
{extra}
"""
    return yaml.safe_load(text)


def test_conditions_filter_matches() -> None:
    pop = people(30, 5)
    badges = pop.with_columns(
        pl.format("BB{}", pl.col("pid")).alias("record_id"),
        pl.when(pl.col("pid") % 2 == 0)
        .then(pl.lit(date(2027, 1, 1)))
        .otherwise(pl.lit(date(2025, 1, 1)))
        .alias("expiry_date"),
    ).drop("pid", "ni_number")
    dead = (
        pop.slice(0, 10)
        .with_columns(
            pl.format("D{}", pl.col("pid")).alias("record_id"),
            pl.lit(date(2025, 6, 1)).alias("date_of_death"),
        )
        .drop("pid")
    )
    frames = {
        "blue_badge": pseudo(badges, "blue_badge", "north"),
        "deceased": pseudo(dead, "deceased", "dwp"),
    }
    rule = parse_rule(_deceased_rule(), "inline")
    m = run_rule(rule, frames, cycle_date=CYCLE).matches
    assert sorted(m["left_record_id"]) == sorted(f"BB{p}" for p in range(0, 10, 2))
    assert set(m["tier"]) == {"deterministic"}
    assert m["match_weight"].is_null().all() and m["weight_surname"].is_null().all()


def _household():
    """One address per household; SPD holder, other adults, an attainer and a student."""
    adults = pl.DataFrame(
        {
            "surname": ["GREEN", "GREEN", "HALL", "HALL", "WOOD", "WOOD", "PATEL"],
            "forenames": ["ANNE", "PETER", "SUSAN", "DAVID", "LILY", "OSCAR", "AVA"],
            "address": ["1 ELM ROAD"] * 2 + ["2 ELM ROAD"] * 2 + ["3 ELM ROAD"] * 2 + ["4 ELM"],
            "postcode": ["LS1 1AA"] * 7,
        }
    )
    spd = adults.filter(pl.col("forenames").is_in(["ANNE", "SUSAN", "LILY", "AVA"])).with_columns(
        pl.format("SPD-{}", pl.col("forenames")).alias("record_id")
    )
    register = adults.with_columns(
        pl.format("ER-{}", pl.col("forenames")).alias("record_id"),
        pl.when(pl.col("forenames") == "OSCAR")
        .then(pl.lit(date(2010, 1, 1)))  # an attainer, 16 at the cycle date: not an adult
        .otherwise(pl.lit(None, pl.Date))
        .alias("date_of_birth"),
    )
    disregards = adults.filter(pl.col("forenames") == "DAVID").with_columns(
        pl.lit("DR-1").alias("record_id"),
        pl.lit("student").alias("disregard_reason"),
        pl.lit(date(2025, 9, 1)).alias("start_date"),
        pl.lit(None, pl.Date).alias("end_date"),
    )
    return {
        "council_tax_spd": pseudo(spd, "council_tax_spd", "north"),
        "electoral_register": pseudo(register, "electoral_register", "north"),
        "council_tax_disregards": pseudo(disregards, "council_tax_disregards", "north"),
    }


def test_single_person_discount_excludes_disregarded_and_minors() -> None:
    spd = load_rule(RULES / "council_tax_spd_to_electoral_register.yaml")
    helper = load_rule(RULES / "council_tax_disregard_in_force.yaml")
    assert helper.internal
    results = run_rules([spd, helper], _household(), cycle_date=CYCLE)
    assert set(results) == {spd.name}  # the internal helper is never reported
    m = results[spd.name].matches
    # PETER lives with ANNE (flag); DAVID is a disregarded student (excluded);
    # OSCAR is 16 (condition); AVA lives alone (no pair); holders never pair with themselves
    assert list(zip(m["left_record_id"], m["right_record_id"], strict=True)) == [
        ("SPD-ANNE", "ER-PETER")
    ]
    assert results[spd.name].stats["excluded"] == {"council_tax_disregard_in_force": 1}
    assert results[spd.name].stats["failed_conditions"] == 1


def test_exclusion_rule_runs_on_demand() -> None:
    spd = load_rule(RULES / "council_tax_spd_to_electoral_register.yaml")
    helper = load_rule(RULES / "council_tax_disregard_in_force.yaml")
    res = run_rule(
        spd, _household(), cycle_date=CYCLE, rules_by_name={helper.name: helper, spd.name: spd}
    )
    assert res.matches.height == 1


def test_missing_dataset_is_reported_before_exclusion_rules_run() -> None:
    spd = load_rule(RULES / "council_tax_spd_to_electoral_register.yaml")
    helper = load_rule(RULES / "council_tax_disregard_in_force.yaml")
    frames = {k: v for k, v in _household().items() if k != "electoral_register"}
    results: dict = {}
    with pytest.raises(RuleError, match="'electoral_register', which is not loaded"):
        run_rule(
            spd, frames, cycle_date=CYCLE, rules_by_name={helper.name: helper}, results=results
        )
    assert results == {}  # the exclusion rule never ran


def test_duplicate_invoices_deterministic() -> None:
    rule = load_rule(RULES / "creditor_duplicate_payments.yaml")
    rows = [
        # record, partner, supplier, invoice, date, amount
        ("P1", "north", "S1", "INV100", date(2026, 1, 1), 500.0),
        ("P2", "north", "S1", "INV100", date(2026, 2, 1), 500.0),  # same number: dup of P1
        ("P3", "north", "S1", "INV101", date(2026, 1, 3), 500.0),  # one char, 2 days: P1, P2?
        ("P4", "north", "S1", "INV210", date(2026, 1, 2), 500.0),  # two chars apart: no
        ("P5", "north", "S2", "INV100", date(2026, 1, 1), 500.0),  # other supplier: no
        ("P6", "south", "S1", "INV100", date(2026, 1, 1), 500.0),  # other partner: no
        ("P7", "north", "S1", "INV100", date(2026, 1, 1), 501.0),  # other amount: no
    ]
    frame = pl.DataFrame(
        rows,
        schema=["record_id", "partner", "supplier_id", "invoice_number", "invoice_date", "amount"],
        orient="row",
    )
    frames = {
        "creditor_payments": pseudo(frame.drop("partner"), "creditor_payments", frame["partner"])
    }
    m = run_rule(rule, frames, cycle_date=CYCLE).matches
    pairs = set(zip(m["left_record_id"], m["right_record_id"], strict=True))
    assert pairs == {("P1", "P2"), ("P1", "P3")}
    assert m.filter(pl.col("right_record_id") == "P3")["level_invoice_number"][0] == "one_char"
    # P1, P2, P3 chain into one case
    assert m["case_id"].n_unique() == 1 and m["case_size"][0] == 3


def test_partition_size_does_not_change_the_result(population) -> None:
    rule = load_rule(RULES / "payroll_to_housing_benefit.yaml")
    tiny = dataclasses.replace(rule, blocking=dataclasses.replace(rule.blocking, partition_pairs=7))
    a = run_rule(rule, population["frames"], cycle_date=CYCLE, seed=1).matches
    b = run_rule(tiny, population["frames"], cycle_date=CYCLE, seed=1).matches
    assert a.equals(b)


def test_lazy_parquet_scans_give_the_same_matches_as_frames_in_memory(population, tmp_path) -> None:
    """The hub hands the engine lazy scans; it reads Bloom words per distinct value there."""
    rule = load_rule(RULES / "payroll_to_housing_benefit.yaml")
    scans = {}
    for name, frame in population["frames"].items():
        # two parts a dataset, as several partners' submissions are stacked
        half = frame.height // 2
        frame.slice(0, half).write_parquet(tmp_path / f"{name}-0.parquet")
        frame.slice(half).write_parquet(tmp_path / f"{name}-1.parquet")
        scans[name] = pl.scan_parquet(tmp_path / f"{name}-*.parquet")
    eager = run_rule(rule, population["frames"], cycle_date=CYCLE, seed=1)
    lazy = run_rule(rule, scans, cycle_date=CYCLE, seed=1)
    assert eager.matches.height > 0
    assert lazy.matches.equals(eager.matches)
    assert lazy.stats["pairs_compared"] == eager.stats["pairs_compared"]


def test_fixed_m_u_and_match_weight_threshold(population) -> None:
    import yaml

    doc = yaml.safe_load((RULES / "payroll_to_housing_benefit.yaml").read_text())
    doc["comparisons"][0].update(m={"exact": 0.95, "else": 0.05}, u={"exact": 0.001, "else": 0.999})
    doc["scoring"] = {"model": "fellegi_sunter", "threshold": {"match_weight": 5}}
    rule = parse_rule(doc, "inline")
    result = run_rule(rule, population["frames"], cycle_date=CYCLE, seed=2)
    m = result.matches
    assert m.height and (m["match_weight"] >= 5).all() and set(m["tier"]) == {"model"}
    ni_exact = m.filter(pl.col("level_ni") == "exact")["weight_ni"]
    assert ni_exact.len() and (ni_exact - np.log2(0.95 / 0.001)).abs().max() < 1e-9
    null_ni = m.filter(pl.col("level_ni") == "null")["weight_ni"]
    assert (null_ni == 0).all()  # a missing NI counts neither way
    sessions = result.stats["model"]["em_sessions"]
    assert [s["blocking_rule"] for s in sessions][0] == "ni_number"
    assert "ni" in sessions[0]["masked"]


def test_deferred_comparisons_change_no_match(population) -> None:
    """The twins' and namesakes' inputs (m = u) are compared only on the pairs a clause can
    still change: the matches, tiers and levels equal those of comparing every pair.

    The reference run gives those comparisons a u one part in 10^12 off m, so they weigh
    (next to) nothing as before but are no longer deferred.
    """
    rule = load_rule(shipped_rules_dir() / "payroll_to_housing_benefit.yaml")
    # a threshold so strict that hard matches the model alone would miss decide some pairs
    rule = dataclasses.replace(rule, scoring=dataclasses.replace(rule.scoring, threshold=1 - 1e-9))
    deferred = deferred_comparisons(rule)
    assert {"forename_form", "forename_sound", "surname_each_frequency"} <= deferred

    def off(c):
        if c.name not in deferred:
            return c
        return dataclasses.replace(c, fixed_u={k: v * (1 + 1e-12) for k, v in c.fixed_u.items()})

    eager = dataclasses.replace(rule, comparisons=tuple(off(c) for c in rule.comparisons))
    assert deferred_comparisons(eager) == frozenset()
    got = run_rule(rule, population["frames"], cycle_date=CYCLE, seed=7)
    want = run_rule(eager, population["frames"], cycle_date=CYCLE, seed=7)
    assert got.matches.height >= 30
    hard = got.matches.filter(pl.col("tier") == "hard_match")
    assert (hard["match_probability"] < 1 - 1e-9).any()
    weights = [c for c in got.matches.columns if "weight" in c or c == "match_probability"]
    assert_frame_equal(got.matches.drop(weights), want.matches.drop(weights))
    assert_frame_equal(got.matches.select(weights), want.matches.select(weights), rel_tol=1e-9)
    # fewer pairs were compared on the deferred comparisons, so fewer vetoes are counted
    assert got.stats["tiers"].get("vetoed", 0) <= want.stats["tiers"].get("vetoed", 0)


def test_a_rule_with_deferred_comparisons_and_no_candidate_pairs(population) -> None:
    rule = load_rule(shipped_rules_dir() / "payroll_to_housing_benefit.yaml")
    assert deferred_comparisons(rule)
    frames = dict(
        population["frames"], housing_benefit=population["frames"]["housing_benefit"].clear()
    )
    result = run_rule(rule, frames, cycle_date=CYCLE, seed=7)
    assert result.matches.height == 0 and list(result.matches.columns) == list(match_columns(rule))


def test_an_attainer_is_an_adult_from_the_day_they_turn_18() -> None:
    """Prepared for the period before the cycle: an attainer turning 18 on the cycle date
    (the 1st) counts as an adult, one turning 18 the day after does not."""
    spd = load_rule(RULES / "council_tax_spd_to_electoral_register.yaml")
    homes = [f"{i} ELM ROAD" for i in (1, 2, 3)]
    holders = pl.DataFrame(
        {
            "surname": ["GREEN", "HALL", "WOOD"],
            "forenames": ["ANNE", "SUSAN", "LILY"],
            "address": homes,
            "postcode": ["LS1 1AA"] * 3,
        }
    ).with_columns(pl.format("SPD-{}", pl.col("forenames")).alias("record_id"))
    born = [date(2008, 4, 1), date(2008, 4, 2), date(2008, 3, 15)]  # 18 on 1 and 2 April, in March
    electors = pl.DataFrame(
        {
            "surname": ["GREEN", "HALL", "WOOD"],
            "forenames": ["TOM", "OLLY", "NOAH"],
            "address": homes,
            "postcode": ["LS1 1AA"] * 3,
            "date_of_birth": born,
        }
    ).with_columns(pl.format("ER-{}", pl.col("forenames")).alias("record_id"))
    frames = {
        "council_tax_spd": pseudo(holders, "council_tax_spd", "north"),
        # prepared for March: the attainers' dates are sent (after the period starts)
        "electoral_register": pseudo(electors, "electoral_register", "north", date(2026, 3, 1)),
    }
    helper = load_rule(RULES / "council_tax_disregard_in_force.yaml")
    frames["council_tax_disregards"] = _household()["council_tax_disregards"]
    m = run_rules([spd, helper], frames, cycle_date=CYCLE)[spd.name].matches  # 1 April 2026
    assert sorted(m["right_record_id"]) == ["ER-NOAH", "ER-TOM"]


def test_a_condition_on_a_column_the_extracts_lack_is_refused() -> None:
    """A rule written for another specification (here the attainer's column under its old
    name) would read null in every pair, and "IS NULL" would hold for all: refused, named."""
    path = RULES / "council_tax_spd_to_electoral_register.yaml"
    doc = yaml.safe_load(path.read_text().replace("__adult_from", "__adult_month"))
    spd = parse_rule(doc, "old.yaml")
    helper = load_rule(RULES / "council_tax_disregard_in_force.yaml")
    with pytest.raises(RuleError, match=r"r\.date_of_birth__adult_month.*electoral_register"):
        run_rules([spd, helper], _household(), cycle_date=CYCLE)

"""Splink 4 (DuckDB backend) on one of the peers jobs; run as a child by ``benchmarks/peers.py``.

    python benchmarks/peers_splink.py FOLDER     # prints one JSON line

Splink's normal workflow, timed end to end from the raw text extracts: clean (the same cleaning
as recordlinkage, ``peers_data``), load into DuckDB, estimate the prior from deterministic
rules, u by random sampling, m by EM (one session per training blocking rule), predict over the
union of fraudmatch's blocking rules with a 0.9 match-probability threshold (fraudmatch's).
Candidate pairs are counted afterwards with Splink's blocking analysis (outside the timing and
the peak-memory reading).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))

from peers_data import BLOCKING, CLEAN, load_job, peak_rss, score  # noqa: E402

THRESHOLD = 0.9
U_MAX_PAIRS = 1e6  # Splink's default


def _rules(job: str) -> list:
    """fraudmatch's blocking rules as Splink blocking rules (a cross-column key both ways)."""
    from splink import block_on

    out: list = []
    for _, keys in BLOCKING[job]:
        if all(lc == rc for lc, rc in keys):
            out.append(block_on(*[lc for lc, _ in keys]))
        else:  # l/r are not tied to left/right in link_only: both directions
            for a, b in (("l", "r"), ("r", "l")):
                out.append(" and ".join(f"{a}.{lc} = {b}.{rc}" for lc, rc in keys))
    return out


def _settings(job: str):
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    if job == "synthetic":
        comparisons = [
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.NameComparison("forenames"),
            cl.ExactMatch("forename_formal"),
            cl.DateOfBirthComparison("dob", input_is_string=True, datetime_format="%Y-%m-%d"),
            cl.ExactMatch("ni"),
            cl.PostcodeComparison("postcode"),
        ]
        prior_rules = [block_on("ni", "dob"), block_on("surname", "forenames", "dob")]
        em_rules = [block_on("dob", "surname_mp"), block_on("postcode", "surname"), block_on("ni")]
    else:
        comparisons = [
            cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("dob", input_is_string=True, datetime_format="%Y-%m-%d"),
            cl.LevenshteinAtThresholds("soc_sec_id", [1, 2]),
            cl.ExactMatch("street_number"),
            cl.JaroWinklerAtThresholds("address_1", [0.9, 0.7]),
            cl.JaroWinklerAtThresholds("address_2", [0.9, 0.7]),
            cl.JaroWinklerAtThresholds("suburb", [0.9, 0.7]),
            cl.LevenshteinAtThresholds("postcode", [1]),
            cl.ExactMatch("state"),
        ]
        prior_rules = [block_on("soc_sec_id"), block_on("given_name", "surname", "dob")]
        em_rules = [
            block_on("soc_sec_id"),
            block_on("dob"),
            block_on("given_name_sx", "surname_sx"),
        ]
    settings = SettingsCreator(
        link_type="link_only",
        unique_id_column_name="record_id",
        blocking_rules_to_generate_predictions=_rules(job),
        comparisons=comparisons,
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )
    return settings, prior_rules, em_rules


def run(folder: Path) -> dict:
    import duckdb
    import splink
    from splink import DuckDBAPI, Linker
    from splink.blocking_analysis import (
        cumulative_comparisons_to_be_scored_from_blocking_rules_data,
    )

    job, left_raw, right_raw, truth = load_job(folder)
    stages: dict[str, float] = {}
    t0 = clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        stages[name] = round(now - clock, 3)
        clock = now

    left, right = CLEAN[job](left_raw), CLEAN[job](right_raw)
    del left_raw, right_raw
    lap("clean")
    con = duckdb.connect()
    with tempfile.TemporaryDirectory() as tmp:
        for name, frame in (("a_left", left), ("b_right", right)):
            path = Path(tmp) / f"{name}.parquet"
            frame.write_parquet(path)
            con.execute(f"create table {name} as select * from read_parquet('{path}')")
    del left, right
    db_api = DuckDBAPI(connection=con)
    settings, prior_rules, em_rules = _settings(job)
    linker = Linker(
        ["a_left", "b_right"], settings, db_api, input_table_aliases=["a_left", "b_right"]
    )
    lap("load")
    linker.training.estimate_probability_two_random_records_match(prior_rules, recall=0.7)
    lap("prior")
    linker.training.estimate_u_using_random_sampling(max_pairs=U_MAX_PAIRS, seed=1)
    lap("u_sample")
    for rule in em_rules:
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    lap("em")
    pred = linker.inference.predict(threshold_match_probability=THRESHOLD)
    rows = con.execute(
        f"select source_dataset_l, record_id_l, record_id_r from {pred.physical_name}"
    ).fetchall()
    lap("predict")
    wall = time.perf_counter() - t0
    peak = peak_rss()

    found = pl.DataFrame(
        rows, schema=["src", "l", "r"], orient="row"
    ).select(  # l is the left dataset's record unless Splink ordered the pair the other way
        pl.when(pl.col("src") == "a_left").then("l").otherwise("r").alias("left_record_id"),
        pl.when(pl.col("src") == "a_left").then("r").otherwise("l").alias("right_record_id"),
    )
    counts = cumulative_comparisons_to_be_scored_from_blocking_rules_data(
        table_or_tables=["a_left", "b_right"],
        blocking_rules=settings.blocking_rules_to_generate_predictions,
        link_type="link_only",
        db_api=db_api,
        unique_id_column_name="record_id",
        max_rows_limit=10**12,
    )
    return {
        "tool": "splink",
        "version": f"splink {splink.__version__}, duckdb {duckdb.__version__}",
        "wall_s": wall,
        "stages": stages,
        "peak_rss": peak,
        "pairs": int(counts["row_count"].sum()),
        **score(found, truth),
    }


if __name__ == "__main__":
    import logging

    logging.getLogger("splink").setLevel(logging.WARNING)
    print(json.dumps(run(Path(sys.argv[1]))))

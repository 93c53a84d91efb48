"""Accuracy of the shipped rules on four synthetic populations, per rule, side by side.

Why: the rules were tuned on `fraudmatch synth`'s data; a rule is judged on data it was not
tuned on. This runs the same path (validate, normalise, pseudonymise under a key, then every
shipped rule) on `synth`, on the second population (`synth --population wild`: other
name and address shapes, per-council gaps, generational namesakes, twins, spouses) and on
the third (`synth --population third`), and prints, per rule and population: recall,
precision and hard negatives flagged (synth's decoys; the others' labelled relatives,
twins, namesakes, spouses, movers, ...). The third was written blind to the rules, from the
data specification and the match types only, with its own councils, names (several Faker
locales, Welsh, Polish, South Asian, ...), address shapes, care-home and hospital deaths and
so on; it writes only the person rules' datasets, so a rule whose datasets (or those of the
rules it excludes) it lacks is skipped there and shows no figures in its columns. The
fourth (`synth --population fourth`) was also written blind to the rules, with Scottish,
Northern Irish and metropolitan councils' naming customs and export habits; it writes the
person rules' datasets, creditors and creditor payments (no council-tax discount data).

    python benchmarks/accuracy.py --people 20000 --partners 5 --seed 1
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from fraudmatch.library import accuracy, pseudonymised_frames, truth_pairs
from fraudmatch.matching.engine import run_rules
from fraudmatch.matching.rules import lint_rules, load_rules
from fraudmatch.shipped import shipped_rules_dir
from fraudmatch.spec.specs import load_spec
from fraudmatch.synth import POPULATIONS, population
from fraudmatch.synth import RULES as RULE_NAMES

RULES = shipped_rules_dir()
MAKERS = {name: population(name) for name in POPULATIONS}
CYCLE = date(2026, 11, 1)


def runnable(rules: list, loaded: set[str]) -> tuple[list, dict[str, list[str]]]:
    """The rules whose datasets, and those of every rule they exclude, are all loaded; and
    for each other rule, the datasets it lacks (the engine refuses a rule without them)."""
    by_name = {r.name: r for r in rules}

    def lacks(rule, seen: set[str]) -> set[str]:
        if rule.name in seen:
            return set()
        seen.add(rule.name)
        out = {rule.left, rule.right} - loaded
        for ex in rule.exclude:
            if ex.rule in by_name:  # one not given at all: the engine says so
                out |= lacks(by_name[ex.rule], seen)
        return out

    missing = {r.name: sorted(lacks(r, set())) for r in rules}
    return [r for r in rules if not missing[r.name]], {n: m for n, m in missing.items() if m}


@dataclass(frozen=True)
class Run:
    """One population matched: what each rule found, the truth, and what was skipped."""

    found: dict[str, pl.DataFrame]
    one: dict[str, bool]
    truth: pl.DataFrame
    skipped: dict[str, list[str]]
    timing: str


def run_population(
    make: Callable[..., object] | None,
    out: Path,
    rules: list,
    people: int,
    partners: int,
    seed: int,
    key: bytes | None = None,
) -> Run:
    """Generate one population into ``out`` (``make`` None: reuse what is there), prepare it
    through the library route under ``key`` (default: one from the seed), and run every rule
    it can."""
    t0 = time.perf_counter()
    if make is not None:
        make(out, partners=partners, people=people, seed=seed, cycle_date=CYCLE)
    t1 = time.perf_counter()
    # a key from the seed, so the figures are the same run after run
    key = key or np.random.default_rng(seed).bytes(32)
    frames = pseudonymised_frames(out, key)
    rules, skipped = runnable(rules, set(frames))
    results = run_rules(rules, frames, cycle_date=CYCLE, seed=seed)
    t2 = time.perf_counter()
    found = {n: r.matches for n, r in results.items() if n in RULE_NAMES}
    one = {n: r.rule.one_dataset for n, r in results.items()}
    records = sum(f.height for f in frames.values())
    timing = f"{records:,} records; generate {t1 - t0:.1f} s, prepare + match {t2 - t1:.1f} s"
    return Run(found, one, truth_pairs(out), skipped, timing)


def score(
    make: Callable[..., object], out: Path, rules: list, people: int, partners: int, seed: int
) -> tuple[pl.DataFrame, pl.DataFrame, str, dict[str, list[str]]]:
    """One population through the library route; per-rule figures, hard negatives by label,
    and the rules skipped for want of their datasets."""
    run = run_population(make, out, rules, people, partners, seed)
    table = accuracy(run.found, run.truth, run.one)
    labels = _flagged_by_label(run.found, run.truth, run.one)
    return table, labels, run.timing, run.skipped


def _flagged_by_label(
    found: dict[str, pl.DataFrame], truth: pl.DataFrame, one: dict[str, bool]
) -> pl.DataFrame:
    """Hard negatives flagged, by what they are (relative, twin, ...), all rules together."""
    if "label" not in truth.columns:
        truth = truth.with_columns(label=pl.lit("decoy"))
    rows = []
    for label in truth.filter(pl.col("kind") == "decoy")["label"].unique().sort():
        sub = truth.filter((pl.col("kind") == "decoy") & (pl.col("label") == label))
        t = accuracy(found, sub, one)
        rows.append({"label": label, "total": int(t["decoys"].sum()),
                     "flagged": int(t["decoys_flagged"].sum())})  # fmt: skip
    return pl.DataFrame(rows)


def side_by_side(tables: dict[str, pl.DataFrame]) -> pl.DataFrame:
    cols = []
    for pop, t in tables.items():
        cols.append(
            t.select(
                "rule",
                pl.col("recall").round(3).alias(f"{pop} recall"),
                pl.col("precision").round(3).alias(f"{pop} precision"),
                (
                    pl.col("decoys_flagged").cast(pl.String)
                    + " / "
                    + pl.col("decoys").cast(pl.String)
                ).alias(f"{pop} hard neg. flagged"),
            )
        )
    out = cols[0]
    for c in cols[1:]:
        out = out.join(c, on="rule", how="full", coalesce=True)
    totals = {"rule": "all"}
    for pop, t in tables.items():
        tp, got, cases = (int(t[c].sum()) for c in ("true_pos", "found", "cases"))
        hard = f"{int(t['decoys_flagged'].sum())} / {int(t['decoys'].sum())}"
        totals |= {
            f"{pop} recall": round(tp / cases, 3) if cases else 1.0,
            f"{pop} precision": round(tp / got, 3) if got else 1.0,
            f"{pop} hard neg. flagged": hard,
        }
    return pl.concat([out.sort("rule"), pl.DataFrame([totals])], how="vertical_relaxed")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=20_000)
    ap.add_argument("--partners", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rules", type=Path, default=RULES)
    ap.add_argument(
        "--population", choices=("all", *POPULATIONS), default="all",
        help="which population to score (all: the four side by side)",
    )  # fmt: skip
    args = ap.parse_args(argv)
    print(
        "command: python benchmarks/accuracy.py " + " ".join(sys.argv[1:] if argv is None else argv)
    )
    rules = load_rules(args.rules)
    problems = lint_rules(rules, load_spec())
    for p in problems:
        print(f"lint: {p}")
    chosen = list(MAKERS) if args.population == "all" else [args.population]
    tables, labels = {}, {}
    for pop in chosen:
        with tempfile.TemporaryDirectory() as tmp:
            tables[pop], labels[pop], timing, skipped = score(
                MAKERS[pop], Path(tmp), rules, args.people, args.partners, args.seed
            )
        print(
            f"{pop}: {args.people:,} people, {args.partners} partners, seed {args.seed}: {timing}"
        )
        if skipped:
            why = "; ".join(f"{n} (needs {', '.join(m)})" for n, m in sorted(skipped.items()))
            print(f"{pop}: skipped {len(skipped)} rules, datasets not written here: {why}")
    with pl.Config(tbl_rows=-1, tbl_cols=-1, tbl_width_chars=250, tbl_hide_dataframe_shape=True,
                   fmt_str_lengths=60):  # fmt: skip
        print(side_by_side(tables))
        for pop, lab in labels.items():
            print(f"{pop}: hard negatives flagged by kind")
            print(lab)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

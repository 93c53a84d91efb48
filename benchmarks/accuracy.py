"""Accuracy of the shipped rules on a large synthetic population, per rule.

Why: the small-population test proves every rule finds its planted cases; this shows the
same at a realistic size (more doubles, twins and chance look-alikes per block), with the
time each rule takes. Pairs are judged against the generator's complete truth list
(``truth/cases.csv``): cases every rule must flag, decoys it must leave alone.

    python benchmarks/accuracy.py --people 100000 --partners 6 --seed 1
"""

from __future__ import annotations

import argparse
import secrets
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import polars as pl

from fraudmatch.library import accuracy, pseudonymised_frames, truth_pairs
from fraudmatch.matching.engine import run_rules
from fraudmatch.matching.rules import lint_rules, load_rules
from fraudmatch.shipped import shipped_rules_dir
from fraudmatch.spec.specs import load_spec
from fraudmatch.synth import generate

RULES = shipped_rules_dir()
CYCLE = date(2026, 11, 1)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=100_000)
    ap.add_argument("--partners", type=int, default=6)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rules", type=Path, default=RULES)
    args = ap.parse_args(argv)
    print(
        "command: python benchmarks/accuracy.py " + " ".join(sys.argv[1:] if argv is None else argv)
    )

    rules = load_rules(args.rules)
    problems = lint_rules(rules, load_spec())
    for p in problems:
        print(f"lint: {p}")
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        generate(Path(tmp), partners=args.partners, people=args.people, seed=args.seed,
                 cycle_date=CYCLE)  # fmt: skip
        t1 = time.perf_counter()
        frames = pseudonymised_frames(tmp, secrets.token_bytes(32))
        t2 = time.perf_counter()
        results = run_rules(rules, frames, cycle_date=CYCLE, seed=args.seed)
        t3 = time.perf_counter()
        truth = truth_pairs(tmp)
    table = accuracy(
        {n: r.matches for n, r in results.items()},
        truth,
        {n: r.rule.one_dataset for n, r in results.items()},
    ).with_columns(
        pl.Series(
            "seconds", [round(sum(r.stats["timings"].values()), 2) for r in results.values()]
        ),
        pl.col("recall", "precision").round(3),
    )
    records = sum(f.height for f in frames.values())
    print(
        f"{args.people:,} people, {args.partners} partners, seed {args.seed}: {records:,} records;"
        f" generate {t1 - t0:.1f} s, ingest+pseudonymise {t2 - t1:.1f} s, match {t3 - t2:.1f} s"
    )
    with pl.Config(tbl_rows=-1, tbl_cols=-1, tbl_width_chars=200, tbl_hide_dataframe_shape=True):
        print(table.drop("decoys").rename({"decoys_flagged": "decoys_flagged"}))
    bad = table.filter(
        (pl.col("recall") < 0.98) | (pl.col("precision") < 0.95) | (pl.col("decoys_flagged") > 0)
    )
    print("every rule meets recall >= 0.98, precision >= 0.95, no decoy flagged" if bad.is_empty()
          else f"below the bar: {', '.join(bad['rule'])}")  # fmt: skip
    return 0 if bad.is_empty() and not problems else 1


if __name__ == "__main__":
    raise SystemExit(main())

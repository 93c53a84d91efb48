"""Which matches move when the same extracts are prepared under another linkage key.

Why: a token's value must not change what is matched (issue 13), and
`tests/test_key_invariance.py` holds that on a small population. At scale a few pairs still
move: a Bloom estimate of a Dice on a level's threshold, or a pair whose weight sits on the
rule's threshold while the fitted model moves a little with the levels. This prepares one
kept population under several keys (the same sampling seed throughout), and prints per rule
how many pairs each key's run matched that the first key's did not, and the other way round,
then every such pair beside its records in clear, so the cause can be read.

    python benchmarks/key_moves.py --population third --people 300000 --seed 3 \
        --out /tmp/t300s3 --keys 3

Synthetic people only: nothing here is real.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import polars as pl
from accuracy import MAKERS, RULES, run_population
from misses import side_by_side

from fraudmatch.library import clear_frames, pair_keys
from fraudmatch.matching.rules import load_rules

PAIR = ["left_partner", "left_record_id", "right_partner", "right_record_id"]


def pairs_of(found: dict[str, pl.DataFrame], one: dict[str, bool]) -> pl.DataFrame:
    """Every matched pair, one row each, with its rule (record ids as text; within one
    dataset the smaller record first)."""
    frames = [
        pair_keys(m.select(pl.lit(rule).alias("rule"), *PAIR), one[rule])
        for rule, m in found.items()
    ]
    return pl.concat(frames) if frames else pl.DataFrame(schema={"rule": pl.String})


def cases_of(truth: pl.DataFrame, one: dict[str, bool]) -> pl.DataFrame:
    """The pairs a rule must flag, keyed as :func:`pairs_of` keys them."""
    cases = truth.filter(pl.col("kind") == "case")
    frames = [pair_keys(g, one.get(r, False)) for (r,), g in cases.group_by("rule")]
    return pl.concat(frames).select("rule", *PAIR)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--population", choices=sorted(MAKERS), default="third")
    ap.add_argument("--people", type=int, default=20_000)
    ap.add_argument("--partners", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keys", type=int, default=2, help="keys besides the first")
    ap.add_argument("--rules", type=Path, default=RULES)
    ap.add_argument(
        "--out", type=Path, help="keep the extracts here; an existing folder is reused as it is"
    )
    args = ap.parse_args(argv)
    shown_args = sys.argv[1:] if argv is None else argv
    print("command: python benchmarks/key_moves.py " + " ".join(shown_args))
    rules = load_rules(args.rules)
    rng = np.random.default_rng(args.seed)
    keys = [rng.bytes(32) for _ in range(args.keys + 1)]
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp)
        make = None if (out / "manifest.json").exists() else MAKERS[args.population]
        runs = []
        for i, key in enumerate(keys):
            run = run_population(make if i == 0 else None, out, rules, args.people,
                                 args.partners, args.seed, key=key)  # fmt: skip
            print(f"key {i}: {run.timing}")
            runs.append(run)
        clear = clear_frames(out)
    one = runs[0].one
    first = pairs_of(runs[0].found, one)
    truth = cases_of(runs[0].truth, one)
    moved = []
    for i, run in enumerate(runs[1:], 1):
        other = pairs_of(run.found, one)
        for outcome, a, b in ((f"key {i} only", other, first), (f"key {i} lost", first, other)):
            apart = a.join(b, on=["rule", *PAIR], how="anti")
            true = apart.join(truth, on=["rule", *PAIR], how="semi").with_columns(
                pl.lit(True).alias("true_pair")
            )
            apart = apart.join(true, on=["rule", *PAIR], how="left").with_columns(
                pl.col("true_pair").fill_null(False), pl.lit(outcome).alias("outcome"),
                pl.lit(None, pl.String).alias("label"),
            )  # fmt: skip
            moved.append(apart)
    moved_all = pl.concat(moved)
    tally = moved_all.group_by("rule", "outcome").agg(
        pairs=pl.len(), true_pairs=pl.col("true_pair").sum()
    )
    datasets = {r.name: (r.left, r.right) for r in rules}
    with pl.Config(tbl_rows=-1, tbl_cols=-1, tbl_width_chars=400, fmt_str_lengths=80,
                   tbl_hide_dataframe_shape=True, tbl_hide_column_data_types=True):  # fmt: skip
        print(tally.sort("rule", "outcome"))
        print(
            f"{moved_all.height} pairs moved against {first.height:,} matched under the first key"
        )
        if moved_all.height:
            shown = side_by_side(moved_all.drop("true_pair"), clear, datasets)
            print(shown.drop([c for c in shown.columns if shown[c].null_count() == shown.height]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

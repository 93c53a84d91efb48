"""Which pairs a rule got wrong on a synthetic population, each beside its records in clear.

Why: `accuracy.py` says how many cases a rule missed and how many pairs it flagged wrongly;
tuning a rule to the principles (missing is neutral, only positive disagreement vetoes,
relatives are not the same person) needs to see which, and what the two records held. This
prints, per rule, every missed case and every false flag (with the hard negative's label,
relative, twin, ..., where it was a planted one) as the two records' identifying fields
side by side, and a one-line tally per rule.

    python benchmarks/misses.py --population wild --people 100000 --seed 1 --out /tmp/w1
    python benchmarks/misses.py --out /tmp/w1 --rule housing_benefit_to_housing_benefit

With ``--out`` the extracts are kept there and reused on the next run (same folder: no
generation), so a rule change is judged on the same records; ``--rules DIR`` runs other
rules (a "before" copy). Synthetic people only: nothing here is real.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import polars as pl
from accuracy import MAKERS, RULES, run_population

from fraudmatch.library import clear_frames, misses
from fraudmatch.matching.rules import load_rules

# what a reader does not judge a pair by: amounts, invoices and job titles
NOT_SHOWN = {"partner", "record_id", "amount", "invoice_number", "job_title"}


def side_by_side(
    wrong: pl.DataFrame, clear: dict[str, pl.DataFrame], datasets: dict[str, tuple[str, str]]
) -> pl.DataFrame:
    """One row per wrong pair: its outcome and label, then each shown field as 'left | right'."""
    rows = []
    for rule, group in wrong.group_by("rule", maintain_order=True):
        left_ds, right_ds = datasets[rule[0]]
        sides = []
        for side, ds in (("left", left_ds), ("right", right_ds)):
            frame = clear[ds]
            # the fields as sent, not the normalisers' derived columns (name__first, ...)
            cols = [c for c in frame.columns if "__" not in c and c not in NOT_SHOWN]
            recs = frame.select(
                pl.col("partner").alias(f"{side}_partner"),
                pl.col("record_id").cast(pl.String).alias(f"{side}_record_id"),
                *[pl.col(c).cast(pl.String).alias(f"{side}.{c}") for c in cols],
            )
            sides.append(recs)
        g = group.join(sides[0], on=["left_partner", "left_record_id"], how="left")
        g = g.join(sides[1], on=["right_partner", "right_record_id"], how="left")
        fields = list(dict.fromkeys(c.split(".", 1)[1] for c in g.columns if "." in c))

        shown = [
            pl.concat_str(_value(g, "left", f), _value(g, "right", f), separator=" | ").alias(f)
            for f in fields
        ]
        pair = (
            pl.concat_str("left_partner", "left_record_id", separator=":")
            + " ~ "
            + (pl.concat_str("right_partner", "right_record_id", separator=":"))
        )
        rows.append(g.select("rule", "outcome", "label", pair.alias("pair"), *shown))
    return pl.concat(rows, how="diagonal_relaxed") if rows else wrong


def _value(frame: pl.DataFrame, side: str, field: str) -> pl.Expr:
    """One side's field as text, ``·`` where it is missing or its dataset has no such field."""
    name = f"{side}.{field}"
    return pl.col(name).fill_null("·") if name in frame.columns else pl.lit("·")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--population", choices=sorted(MAKERS), default="wild")
    ap.add_argument("--people", type=int, default=20_000)
    ap.add_argument("--partners", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rules", type=Path, default=RULES)
    ap.add_argument("--rule", action="append", help="only this rule (repeat for several)")
    ap.add_argument(
        "--out", type=Path, help="keep the extracts here; an existing folder is reused as it is"
    )
    args = ap.parse_args(argv)
    print(
        "command: python benchmarks/misses.py " + " ".join(sys.argv[1:] if argv is None else argv)
    )
    rules = load_rules(args.rules)
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp)
        reuse = (out / "manifest.json").exists()
        make = None if reuse else MAKERS[args.population]
        if reuse:
            print(f"reusing the extracts in {out} (its own population, people and seed)")
        run = run_population(make, out, rules, args.people, args.partners, args.seed)
        clear = clear_frames(out)
    print(run.timing)
    found = {n: f for n, f in run.found.items() if not args.rule or n in args.rule}
    wrong = misses(found, run.truth, run.one)
    datasets = {r.name: (r.left, r.right) for r in rules}
    tally = (
        wrong.group_by("rule")
        .agg(
            missed=(pl.col("outcome") == "missed").sum(),
            false=(pl.col("outcome") == "false").sum(),
            false_labelled=((pl.col("outcome") == "false") & pl.col("label").is_not_null()).sum(),
        )
        .sort("rule")
    )
    with pl.Config(tbl_rows=-1, tbl_cols=-1, tbl_width_chars=400, fmt_str_lengths=80,
                   tbl_hide_dataframe_shape=True, tbl_hide_column_data_types=True):  # fmt: skip
        for (rule,), group in side_by_side(wrong, clear, datasets).group_by(
            "rule", maintain_order=True
        ):
            print(f"\n== {rule}")
            print(
                group.drop("rule").drop(
                    [c for c in group.columns if group[c].null_count() == group.height]
                )
            )
        print("\n== tally")
        print(tally)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

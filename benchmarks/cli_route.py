"""Accuracy through the commands a new user runs, beside the library route on the same files.

Why: `accuracy.py` prepares extracts through the library with each file's date order taken
from the generator's manifest, and reads the matches straight from the engine. A council
runs `fraudmatch prepare` on its files with nothing declared (the date order detected, the
encoding sniffed, XLSX read as a spreadsheet), the hub runs `fraudmatch cycle`, and each
council reads its own case list from `fraudmatch open`. This runs that route under fresh
keys, rebuilds the flagged pairs from every council's case list (its own record and the
other record's council and id), scores them against the truth and, with the library route
on the same extracts, lists every pair one route flags and the other does not: a file read
differently, a case lost on the way to a council, or a key changing a match.

    python benchmarks/cli_route.py --population third --people 100000 --seed 7 --out /tmp/c7

With ``--out`` the extracts are kept there and reused on the next run (keys, sealed files
and the hub's workspace are made afresh each time). Synthetic people only.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import polars as pl
from accuracy import CYCLE, MAKERS, RULES, run_population, side_by_side

from fraudmatch.cli import main as cli
from fraudmatch.library import accuracy, case_list_pairs, pair_keys, truth_pairs
from fraudmatch.matching.rules import load_rules
from fraudmatch.sealing.keys import load_linkage_key
from fraudmatch.spec.specs import load_spec
from fraudmatch.synth import RULES as RULE_NAMES
from fraudmatch.synth.demo import DemoParties, make_parties


def run_cli(extracts: Path, work: Path, partners: list[str]) -> tuple[list[Path], DemoParties]:
    """keys, prepare (nothing declared), cycle and open, as the README says; the case lists
    and the parties (their keys)."""
    parties = make_parties(work / "parties", partners, list(load_spec().datasets))
    period = CYCLE.strftime("%Y-%m")
    workspace = work / "workspace"
    for partner in partners:
        files = sorted(
            p for p in (extracts / partner).iterdir()
            if p.is_file() and not p.name.endswith(".rejects.csv")
        )  # fmt: skip
        code = cli(
            ["prepare", *map(str, files), "--period", period,
             "--partnership", str(parties.partnership_path),
             "--key", str(parties.partner_key_paths[partner]),
             "--linkage-key", str(parties.linkage_key_path),
             "--out", str(workspace / "inbox" / partner)]
        )  # fmt: skip
        if code != 0:
            raise SystemExit(f"prepare failed for {partner} (exit {code})")
    code = cli(
        ["cycle", "--workspace", str(workspace), "--partnership", str(parties.partnership_path),
         "--hub-key", str(parties.hub_key_path), "--rules", str(RULES),
         "--cycle-date", CYCLE.isoformat()]
    )  # fmt: skip
    if code != 0:
        raise SystemExit(f"cycle failed (exit {code})")
    lists = []
    for partner in partners:
        bundles = sorted((workspace / "outbox" / partner).glob("*.bundle"))
        if not bundles:
            continue
        out = work / "case-lists" / partner
        code = cli(
            ["open", *map(str, bundles), "--partnership", str(parties.partnership_path),
             "--key", str(parties.partner_key_paths[partner]),
             "--extracts", str(extracts / partner), "--out", str(out)]
        )  # fmt: skip
        if code != 0:
            raise SystemExit(f"open failed for {partner} (exit {code})")
        lists += sorted(out.glob("*.cases.csv"))
    return lists, parties


def differences(
    cli_found: dict[str, pl.DataFrame], lib_found: dict[str, pl.DataFrame], one: dict[str, bool]
) -> pl.DataFrame:
    """Every pair one route flags and the other does not."""
    out = []
    for rule in sorted(lib_found):
        c = pair_keys(cli_found[rule], one[rule]).unique()
        lib = pair_keys(lib_found[rule], one[rule]).unique()
        out.append(c.join(lib, on=c.columns, how="anti").with_columns(only=pl.lit("cli")))
        out.append(lib.join(c, on=c.columns, how="anti").with_columns(only=pl.lit("library")))
    return pl.concat(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--population", choices=tuple(MAKERS), default="third")
    ap.add_argument("--people", type=int, default=20_000)
    ap.add_argument("--partners", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, help="keep (and reuse) the extracts here")
    ap.add_argument(
        "--same-key", action="store_true",
        help="the library route under the CLI's linkage key and the hub's sampling seed (0): "
        "any pair apart is then the route's own doing",
    )  # fmt: skip
    args = ap.parse_args(argv)
    print("command: python benchmarks/cli_route.py " + " ".join(argv or sys.argv[1:]))
    rules = load_rules(RULES)
    with tempfile.TemporaryDirectory() as tmp:
        extracts = args.out or Path(tmp) / "extracts"
        if not (extracts / "manifest.json").exists():
            MAKERS[args.population](
                extracts, partners=args.partners, people=args.people, seed=args.seed,
                cycle_date=CYCLE,
            )  # fmt: skip
        partners = sorted(p.name for p in extracts.iterdir() if p.is_dir() and p.name != "truth")
        t0 = time.perf_counter()
        lists, parties = run_cli(extracts, Path(tmp) / "cli", partners)
        found = case_list_pairs(lists, [r for r in rules if r.name in RULE_NAMES])
        t1 = time.perf_counter()
        period = CYCLE.strftime("%Y-%m")
        key = (
            load_linkage_key(parties.linkage_key_path).for_period(period) if args.same_key else None
        )
        # the hub samples its random pairs for u with seed 0: with the CLI's key, the same
        seed = 0 if args.same_key else args.seed
        lib = run_population(None, extracts, rules, args.people, args.partners, seed, key)
        t2 = time.perf_counter()
        truth = truth_pairs(extracts)
    one = lib.one
    tables = {
        "library": accuracy(lib.found, truth, one),
        "cli": accuracy({r: found[r] for r in lib.found}, truth, one),
    }
    print(f"CLI route: {t1 - t0:.1f} s; library route: {t2 - t1:.1f} s")
    diff = differences(found, lib.found, one)
    with pl.Config(tbl_rows=-1, tbl_cols=-1, tbl_width_chars=250, tbl_hide_dataframe_shape=True,
                   fmt_str_lengths=60):  # fmt: skip
        print(side_by_side(tables))
        print(f"pairs one route flags and the other does not: {diff.height}")
        if diff.height:
            print(diff)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The ``fraudmatch`` command: parses arguments, calls the library, prints tables.

No matching, validation or crypto logic lives here; each subcommand is a thin call into
a library module so the same work can run from a Prefect flow or a test.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from rich.console import Console

console = Console(stderr=False, highlight=False)
err_console = Console(stderr=True, highlight=False)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {text!r}") from None


# --- validate -------------------------------------------------------------------------


def cmd_validate(args: argparse.Namespace) -> int:
    from fraudmatch.ingest import ingest
    from fraudmatch.specs import load_spec
    from fraudmatch.summaries import validation_tables

    spec = load_spec(args.spec)
    dataset = spec.dataset(args.dataset)
    result = ingest(args.file, dataset)
    rejects_path = args.rejects or Path(args.file).with_suffix(".rejects.csv")
    result.rejects.write_csv(rejects_path)
    for t in validation_tables(result):
        console.print(t)
    for w in result.warnings:
        console.print(f"[yellow]warning[/]: {w}")
    console.print(f"rejects report: {rejects_path}")
    return 0


# --- synth ----------------------------------------------------------------------------


def cmd_synth(args: argparse.Namespace) -> int:
    from fraudmatch.synth import generate

    result = generate(
        Path(args.out),
        partners=args.partners,
        people=args.people,
        seed=args.seed,
        cycle_date=args.cycle_date,
    )
    console.print(f"wrote {len(result.partners)} councils to {result.out_dir}")
    console.print(f"ground truth: {result.out_dir / 'truth'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fraudmatch",
        description="Cross-council fraud data matching on pseudonymised extracts.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("validate", help="check an extract against the data specification")
    p.add_argument("--dataset", required=True, help="dataset name, e.g. payroll")
    p.add_argument("file", type=Path, help="the extract (CSV, XLSX or Parquet)")
    p.add_argument("--rejects", type=Path, help="where to write the rejects CSV")
    p.add_argument("--spec", type=Path, help="data specification (default: shipped)")
    p.set_defaults(handler=cmd_validate)

    p = sub.add_parser("synth", help="write synthetic council extracts with planted cases")
    p.add_argument("--partners", type=int, default=4)
    p.add_argument("--people", type=int, default=20_000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--cycle-date", type=_date, default=date(2026, 11, 1))
    p.add_argument("--out", type=Path, required=True)
    p.set_defaults(handler=cmd_synth)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; library errors become one readable line and exit code 2."""
    from fraudmatch.errors import USER_ERRORS

    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except USER_ERRORS as exc:
        err_console.print(f"[red]error[/]: {exc}")
        return 2


if __name__ == "__main__":
    sys.exit(main())

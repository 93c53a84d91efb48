"""What every command group shares: consoles, defaults, option sets."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from rich.console import Console

from fraudmatch.shipped import shipped_rules_dir

DEFAULT_RULES = shipped_rules_dir()
UNBOUNDED_WIDTH = 10_000
"""Console width when output goes to a file or a pipe (a scheduler, a log): rich would
otherwise assume 80 columns and cut paths in tables."""


def make_console(*, stderr: bool) -> Console:
    """A console as wide as the terminal, or unbounded when not writing to one."""
    stream = sys.stderr if stderr else sys.stdout
    interactive = hasattr(stream, "isatty") and stream.isatty()
    return Console(stderr=stderr, highlight=False, width=None if interactive else UNBOUNDED_WIDTH)


console = make_console(stderr=False)
err_console = make_console(stderr=True)


def parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {text!r}") from None


RULES_HELP = "rules folder (default: the partnership's rules:, else the shipped rules)"
SPEC_HELP = "data specification (default: the partnership's spec:, else the shipped one)"


def hub_options(p: argparse.ArgumentParser, spec: bool = True) -> None:
    """The options every hub command takes: workspace, partnership, rules and, for those
    that read extracts' data against it, the specification (an option a command would
    ignore is not offered)."""
    p.add_argument(
        "--workspace", help="hub workspace (default ./workspace or $FRAUDMATCH_WORKSPACE)"
    )
    p.add_argument("--partnership", type=Path, required=True, help="partnership.yaml")
    p.add_argument("--rules", type=Path, help=RULES_HELP)
    if spec:
        p.add_argument("--spec", type=Path, help=SPEC_HELP)


def hub_paths(args: argparse.Namespace) -> dict[str, str | None]:
    from fraudmatch.hub.workspace import default_root

    workspace = Path(args.workspace) if args.workspace else default_root()
    return {
        "workspace": str(workspace),
        "partnership": str(args.partnership),
        "hub_key": str(args.hub_key),
        "rules_dir": str(args.rules) if args.rules else None,
        "spec": str(args.spec) if args.spec else None,
    }


def rule_folders(args: argparse.Namespace) -> list[Path]:
    """``--rules`` if given, else the partnership's ``rules:``, else the shipped rules."""
    from fraudmatch.spec.partnership import load_partnership

    if getattr(args, "rules", None):
        return [args.rules]
    if getattr(args, "partnership", None):
        return list(load_partnership(args.partnership).rules)
    return [DEFAULT_RULES]


def command_spec(args: argparse.Namespace):  # -> Spec (imported lazily: the CLI starts fast)
    """``--spec`` if given, else the partnership's ``spec:``, else the shipped one."""
    from fraudmatch.spec.partnership import load_partnership
    from fraudmatch.spec.specs import resolve_spec

    partnership = load_partnership(args.partnership) if getattr(args, "partnership", None) else None
    return resolve_spec(partnership, getattr(args, "spec", None))


def workspace_root(args: argparse.Namespace) -> Path:
    from fraudmatch.hub.workspace import default_root

    return Path(args.workspace) if getattr(args, "workspace", None) else default_root()

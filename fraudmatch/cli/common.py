"""What every command group shares: consoles, defaults, option sets."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

from rich.console import Console

DEFAULT_RULES = Path(__file__).resolve().parents[2] / "rules"
console = Console(stderr=False, highlight=False)
err_console = Console(stderr=True, highlight=False)


def parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {text!r}") from None


def current_period() -> str:
    return date.today().strftime("%Y-%m")


def hub_options(p: argparse.ArgumentParser) -> None:
    """The options every hub command takes: workspace, partnership, rules."""
    p.add_argument(
        "--workspace", help="hub workspace (default ./workspace or $FRAUDMATCH_WORKSPACE)"
    )
    p.add_argument("--partnership", type=Path, required=True, help="partnership.yaml")
    p.add_argument("--rules", type=Path, default=DEFAULT_RULES, help="rules folder")


def hub_paths(args: argparse.Namespace) -> dict[str, str]:
    from fraudmatch.hub.workspace import default_root

    workspace = Path(args.workspace) if args.workspace else default_root()
    return {
        "workspace": str(workspace),
        "partnership": str(args.partnership),
        "hub_key": str(args.hub_key),
        "rules_dir": str(args.rules),
    }


def workspace_root(args: argparse.Namespace) -> Path:
    from fraudmatch.hub.workspace import default_root

    return Path(args.workspace) if getattr(args, "workspace", None) else default_root()

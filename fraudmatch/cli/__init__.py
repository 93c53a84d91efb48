"""The ``fraudmatch`` command: parses arguments, calls the library, prints tables.

No matching, validation or crypto logic lives here; each subcommand is a thin call into
a library module so the same work can run from a Prefect flow or a test.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from rich.markup import escape

from fraudmatch.cli import common, council, hub, review, rules


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fraudmatch",
        description="Cross-council fraud data matching on pseudonymised extracts.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in (council, hub, rules, review):
        group.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; library errors become one readable line and exit code 2."""
    from fraudmatch.common.errors import USER_ERRORS

    # a hub runs on a closed network: Prefect's server telemetry can only fail, noisily
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except USER_ERRORS as exc:
        # the message is text, not markup: "pip install 'fraudmatch[postgres]'" must keep
        # its [postgres], which rich would otherwise take for a style and drop
        common.err_console.print(f"[red]error[/]: {escape(str(exc))}")
        return 2


if __name__ == "__main__":
    sys.exit(main())

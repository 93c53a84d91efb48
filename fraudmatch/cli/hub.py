"""At the hub: run the cycle once, or serve it on the partnership's schedule."""

from __future__ import annotations

import argparse
from pathlib import Path

from fraudmatch.cli.common import console, hub_options, hub_paths, parse_date


def cmd_cycle(args: argparse.Namespace) -> int:
    from flows.cycle import cycle_flow
    from fraudmatch.cli.tables import cycle_tables

    summary = cycle_flow(**hub_paths(args), cycle_date=args.cycle_date)
    for t in cycle_tables(summary):
        console.print(t)
    console.print(f"report: {summary['report']}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from prefect import serve

    from flows.cycle import cycle_deployment

    deployment = cycle_deployment(**hub_paths(args))
    schedule = deployment.schedules[0].schedule
    console.print(f"serving the cycle on '{schedule.cron}' ({schedule.timezone}); Ctrl-C to stop")
    serve(deployment)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add this group's subcommands to the ``fraudmatch`` parser."""
    p = sub.add_parser("cycle", help="hub: collect, match and distribute once, now")
    hub_options(p)
    p.add_argument("--hub-key", type=Path, required=True, help="the hub's .private key file")
    p.add_argument("--cycle-date", type=parse_date, default=None, help="YYYY-MM-DD (default today)")
    p.set_defaults(handler=cmd_cycle)

    p = sub.add_parser("serve", help="hub: serve the cycle on the partnership's schedule")
    hub_options(p)
    p.add_argument("--hub-key", type=Path, required=True, help="the hub's .private key file")
    p.set_defaults(handler=cmd_serve)

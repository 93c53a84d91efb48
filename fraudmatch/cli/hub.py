"""At the hub: run the cycle once, or serve it on the partnership's schedule."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

from fraudmatch.cli.common import console, hub_options, hub_paths, parse_date, workspace_root


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


def cmd_retention(args: argparse.Namespace) -> int:
    from fraudmatch.cli.tables import retention_table
    from fraudmatch.hub.retention import enforce
    from fraudmatch.hub.workspace import exclusive, open_workspace
    from fraudmatch.review.outcomes import default_url
    from fraudmatch.spec.partnership import load_partnership

    partnership = load_partnership(args.partnership)
    ws = open_workspace(workspace_root(args), partnership)
    with exclusive(ws, "cycle"):
        result = enforce(
            ws,
            partnership,
            today=args.today or date.today(),
            dry_run=args.dry_run,
            outcomes_url=default_url(ws.root),
        )
    console.print(retention_table(result.summary()))
    verb = "would delete" if args.dry_run else "deleted"
    console.print(
        f"{verb} {len(result.deleted)} item(s) stored before {result.cutoff} "
        f"(retention_days: {result.retention_days})"
    )
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add this group's subcommands to the ``fraudmatch`` parser."""
    p = sub.add_parser("cycle", help="hub: collect, match and distribute once, now")
    hub_options(p)
    p.add_argument("--hub-key", type=Path, required=True, help="the hub's .private key file")
    p.add_argument("--cycle-date", type=parse_date, default=None, help="YYYY-MM-DD (default today)")
    p.set_defaults(handler=cmd_cycle)

    p = sub.add_parser("retention", help="hub: delete what is past the agreed retention period")
    hub_options(p)
    p.add_argument("--dry-run", action="store_true", help="list what would go; delete nothing")
    p.add_argument(
        "--today", type=parse_date, default=None, help="YYYY-MM-DD to count from (default today)"
    )
    p.set_defaults(handler=cmd_retention)

    p = sub.add_parser("serve", help="hub: serve the cycle on the partnership's schedule")
    hub_options(p)
    p.add_argument("--hub-key", type=Path, required=True, help="the hub's .private key file")
    p.set_defaults(handler=cmd_serve)

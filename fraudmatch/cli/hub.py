"""At the hub: run the cycle once, deploy it to a Prefect server, or serve it."""

from __future__ import annotations

import argparse
import os
from datetime import date
from pathlib import Path

from fraudmatch.cli.common import (
    console,
    err_console,
    hub_options,
    hub_paths,
    parse_date,
    workspace_root,
)


def _operator(args: argparse.Namespace) -> dict[str, str]:
    return {"operator": str(args.operator)} if getattr(args, "operator", None) else {}


def cmd_cycle(args: argparse.Namespace) -> int:
    from flows.cycle import cycle_flow
    from fraudmatch.cli.tables import cycle_tables

    summary = cycle_flow(**hub_paths(args), cycle_date=args.cycle_date, **_operator(args))
    for t in cycle_tables(summary):
        console.print(t)
    console.print(f"report: {summary['report']}")
    return 0


def _needs_server() -> bool:
    if os.environ.get("PREFECT_API_URL"):
        return False
    from prefect.settings import PREFECT_API_URL

    return not PREFECT_API_URL.value()


_NEEDS_SERVER = (
    "{what} needs a running Prefect server, whose scheduler creates the scheduled runs: "
    "start one (`prefect server start`, see README 'Running on a schedule') and set "
    "PREFECT_API_URL, e.g. export PREFECT_API_URL=http://127.0.0.1:4200/api"
)


def cmd_deploy(args: argparse.Namespace) -> int:
    from flows.cycle import deploy_cycle

    if _needs_server():
        err_console.print(f"[red]error[/]: {_NEEDS_SERVER.format(what='fraudmatch deploy')}")
        return 2
    deployment_id = deploy_cycle(**hub_paths(args), pool=args.pool, **_operator(args))
    console.print(
        f"deployed fraudmatch-cycle/fraudmatch-cycle ({deployment_id}) to work pool "
        f"'{args.pool}'; start a worker: prefect worker start --pool {args.pool}"
    )
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from flows.cycle import cycle_deployment
    from flows.serve import serve_until_signalled

    if _needs_server():
        # Prefect's temporary server runs no scheduler: the cron would never fire
        err_console.print(f"[red]error[/]: {_NEEDS_SERVER.format(what='fraudmatch serve')}")
        return 2
    deployment = cycle_deployment(**hub_paths(args), **_operator(args))
    schedule = deployment.schedules[0].schedule
    ready = f"serving the cycle on '{schedule.cron}' ({schedule.timezone}); Ctrl-C to stop"
    stopped_by = serve_until_signalled(deployment, ready=lambda: console.print(ready))
    console.print(f"stopped ({stopped_by})")
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


def _cycle_options(p: argparse.ArgumentParser) -> None:
    hub_options(p)
    p.add_argument("--hub-key", type=Path, required=True, help="the hub's .private key file")
    p.add_argument(
        "--operator",
        type=Path,
        default=None,
        help="operator-only settings: drop options, alerts (default: operator.yaml beside "
        "the partnership file, if any)",
    )


def register(sub: argparse._SubParsersAction) -> None:
    """Add this group's subcommands to the ``fraudmatch`` parser."""
    p = sub.add_parser("cycle", help="hub: collect, match and distribute once, now")
    _cycle_options(p)
    p.add_argument("--cycle-date", type=parse_date, default=None, help="YYYY-MM-DD (default today)")
    p.set_defaults(handler=cmd_cycle)

    p = sub.add_parser("retention", help="hub: delete what is past the agreed retention period")
    hub_options(p)
    p.add_argument("--dry-run", action="store_true", help="list what would go; delete nothing")
    p.add_argument(
        "--today", type=parse_date, default=None, help="YYYY-MM-DD to count from (default today)"
    )
    p.set_defaults(handler=cmd_retention)

    p = sub.add_parser(
        "deploy",
        help="hub: register the cycle on the partnership's schedule with a Prefect server "
        "(PREFECT_API_URL) for a worker of a work pool",
    )
    _cycle_options(p)
    p.add_argument("--pool", required=True, help="the process work pool its worker polls")
    p.set_defaults(handler=cmd_deploy)

    p = sub.add_parser(
        "serve",
        help="hub: serve the cycle on the partnership's schedule (needs a Prefect server: "
        "PREFECT_API_URL)",
    )
    _cycle_options(p)
    p.set_defaults(handler=cmd_serve)

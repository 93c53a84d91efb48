"""The analysts' side: the review app, analysts, and case-list exports."""

from __future__ import annotations

import argparse
from pathlib import Path

from fraudmatch.cli.common import (
    RULES_HELP,
    console,
    err_console,
    rule_folders,
    workspace_root,
)


def cmd_review(args: argparse.Namespace) -> int:
    import uvicorn

    from fraudmatch.review.analysts import load_analysts
    from fraudmatch.review.web import create_app

    root = workspace_root(args)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such workspace folder")
    if not load_analysts(root):
        raise ValueError(
            f"no analysts in {root / 'analysts.yaml'}: add one with "
            "'fraudmatch review add-analyst NAME' first"
        )
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        err_console.print(
            f"[yellow]warning[/]: serving on {args.host}, not only this machine; put it "
            "behind HTTPS before anyone else connects"
        )
    app = create_app(root, rule_folders(args), users=None)
    console.print(f"review app for {root}: http://{args.host}:{args.port}/  (Ctrl-C to stop)")
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return 0


def _password(args: argparse.Namespace) -> str:
    import getpass

    if args.password_file:
        lines = Path(args.password_file).read_text().splitlines()
        return lines[0] if lines else ""
    password = getpass.getpass(f"password for {args.name}: ")
    if getpass.getpass("again: ") != password:
        raise ValueError("the two passwords differ; nothing changed")
    return password


def cmd_review_add_analyst(args: argparse.Namespace) -> int:
    from fraudmatch.review.analysts import load_analysts
    from fraudmatch.review.signin import add_new_analyst, change_role, set_password

    root = workspace_root(args)
    password = _password(args)
    if args.name in load_analysts(root):  # a new password: their sessions end
        ended = set_password(root, args.name, password)
        if args.role:
            change_role(root, args.name, args.role)
        console.print(f"analyst {args.name} has a new password; {ended} session(s) ended")
        return 0
    path = add_new_analyst(root, args.name, password, role=args.role)
    console.print(f"{args.role or 'analyst'} {args.name} can sign in to the review app ({path})")
    return 0


def cmd_review_set_role(args: argparse.Namespace) -> int:
    from fraudmatch.review.signin import change_role

    change_role(workspace_root(args), args.name, args.role)
    console.print(f"{args.name} is now {'a lead' if args.role == 'lead' else 'an analyst'}")
    return 0


def cmd_review_set_password(args: argparse.Namespace) -> int:
    from fraudmatch.review.signin import set_password

    ended = set_password(workspace_root(args), args.name, _password(args))
    console.print(f"analyst {args.name} has a new password; {ended} session(s) ended")
    return 0


def cmd_review_remove_analyst(args: argparse.Namespace) -> int:
    from fraudmatch.review.signin import remove_analyst

    ended = remove_analyst(workspace_root(args), args.name)
    console.print(
        f"analyst {args.name} removed: {ended} session(s) ended; their outcomes and audit "
        "entries stay"
    )
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from fraudmatch.cli.tables import table
    from fraudmatch.review.casework import Review
    from fraudmatch.review.exports import export_case_lists

    review = Review(workspace_root(args), rule_folders(args))
    files = export_case_lists(
        review, args.run, args.out, rule=args.rule, partner=args.partner, by=args.by
    )
    console.print(
        table(
            f"case lists of {args.run}",
            [args.by, "matches", "csv", "xlsx"],
            [[f.group, f.rows, str(f.csv), str(f.xlsx)] for f in files],
        )
    )
    return 0


def cmd_outcomes_return(args: argparse.Namespace) -> int:
    from fraudmatch.review.returns import seal_return
    from fraudmatch.sealing.keyring import load_keyring
    from fraudmatch.spec.partnership import load_partnership

    partnership = load_partnership(args.partnership)
    council, hub = partnership.keys_to_hub(load_keyring(args.key), args.period)
    for case_list in args.case_lists:
        target, rows = seal_return(
            Path(case_list), Path(args.out), council=council, hub=hub, period=args.period
        )
        console.print(f"{rows} outcome(s) from {Path(case_list).name} sealed to the hub: {target}")
    console.print("deliver the file(s) to the hub's inbox as you deliver extracts")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add this group's subcommands to the ``fraudmatch`` parser."""
    p = sub.add_parser("review", help="serve the analysts' review app (127.0.0.1)")
    p.add_argument(
        "--workspace", help="hub workspace (default ./workspace or $FRAUDMATCH_WORKSPACE)"
    )
    p.add_argument("--rules", type=Path, help=RULES_HELP)
    p.add_argument("--partnership", type=Path, help="partnership.yaml (for its rules:)")
    p.add_argument("--host", default="127.0.0.1", help="address to serve on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8765)
    p.set_defaults(handler=cmd_review)
    review_sub = p.add_subparsers(dest="review_command", metavar="REVIEW_COMMAND")
    r = review_sub.add_parser("add-analyst", help="add an analyst or set their password")
    r.add_argument("name", help="the analyst's name, e.g. asmith")
    r.add_argument("--workspace", default=argparse.SUPPRESS, help="hub workspace")
    r.add_argument("--password-file", type=Path, help="read the password from this file")
    r.add_argument(
        "--role", choices=("analyst", "lead"), help="a lead allocates cases (default analyst)"
    )
    r.set_defaults(handler=cmd_review_add_analyst)
    r = review_sub.add_parser("set-role", help="make an analyst a lead, or a lead an analyst")
    r.add_argument("name", help="the analyst's name")
    r.add_argument("role", choices=("analyst", "lead"))
    r.add_argument("--workspace", default=argparse.SUPPRESS, help="hub workspace")
    r.set_defaults(handler=cmd_review_set_role)
    r = review_sub.add_parser("set-password", help="give an analyst a new password")
    r.add_argument("name", help="the analyst's name")
    r.add_argument("--workspace", default=argparse.SUPPRESS, help="hub workspace")
    r.add_argument("--password-file", type=Path, help="read the password from this file")
    r.set_defaults(handler=cmd_review_set_password)
    r = review_sub.add_parser("remove-analyst", help="remove an analyst, ending their sessions")
    r.add_argument("name", help="the analyst's name")
    r.add_argument("--workspace", default=argparse.SUPPRESS, help="hub workspace")
    r.set_defaults(handler=cmd_review_remove_analyst)

    p = sub.add_parser("outcomes", help="partners' outcomes back to the hub")
    o_sub = p.add_subparsers(dest="outcomes_command", required=True, metavar="OUTCOMES_COMMAND")
    o = o_sub.add_parser(
        "return", help="seal a filled-in case list's outcomes to the hub (at the council)"
    )
    o.add_argument("--partnership", type=Path, required=True, help="partnership.yaml")
    o.add_argument("--key", type=Path, required=True, help="this council's .private key file")
    o.add_argument("--period", required=True, help="the period, e.g. 2026-11")
    o.add_argument("--out", type=Path, required=True, help="folder for the sealed file")
    o.add_argument("case_lists", nargs="+", help="case list(s) from 'fraudmatch open' (.csv/.xlsx)")
    o.set_defaults(handler=cmd_outcomes_return)

    p = sub.add_parser("export", help="case lists of a run as CSV and XLSX")
    p.add_argument(
        "--workspace", help="hub workspace (default ./workspace or $FRAUDMATCH_WORKSPACE)"
    )
    p.add_argument("--rules", type=Path, help=RULES_HELP)
    p.add_argument("--partnership", type=Path, help="partnership.yaml (for its rules:)")
    p.add_argument("--run", required=True, help="run id, e.g. run-20261101")
    p.add_argument("--rule", help="only this rule")
    p.add_argument("--partner", help="only cases involving this partner")
    p.add_argument("--by", choices=("rule", "partner"), default="rule", help="one file per")
    p.add_argument("--out", type=Path, required=True, help="folder for the files")
    p.set_defaults(handler=cmd_export)

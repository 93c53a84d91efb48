"""The ``fraudmatch`` command: parses arguments, calls the library, prints tables.

No matching, validation or crypto logic lives here; each subcommand is a thin call into
a library module so the same work can run from a Prefect flow or a test.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from rich.console import Console

_DEFAULT_RULES = Path(__file__).resolve().parents[2] / "rules"
console = Console(stderr=False, highlight=False)
err_console = Console(stderr=True, highlight=False)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {text!r}") from None


# --- validate -------------------------------------------------------------------------


def cmd_validate(args: argparse.Namespace) -> int:
    from fraudmatch.cli.tables import validation_tables
    from fraudmatch.council.ingest import ingest
    from fraudmatch.spec.specs import load_spec

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


# --- keys -----------------------------------------------------------------------------


def cmd_keys_new(args: argparse.Namespace) -> int:
    from fraudmatch.sealing.keys import load_public, new_party

    private, public = new_party(args.name, Path(args.out))
    identity = load_public(public)
    console.print(f"private keys (keep, mode 0600): {private}")
    console.print(f"public keys (send to the partnership): {public}")
    console.print(f"fingerprint: {identity.fingerprint}")
    return 0


def cmd_keys_partnership(args: argparse.Namespace) -> int:
    from fraudmatch.sealing.keys import new_partnership_key

    path = new_partnership_key(args.out)
    console.print(f"partnership linkage key (share with partners only, never the hub): {path}")
    return 0


# --- prepare --------------------------------------------------------------------------


def _current_period() -> str:
    return date.today().strftime("%Y-%m")


def cmd_prepare(args: argparse.Namespace) -> int:
    from fraudmatch.cli.tables import prepare_table, validation_tables
    from fraudmatch.council.prepare import prepare_extract
    from fraudmatch.sealing.keys import load_partnership_key, load_private
    from fraudmatch.spec.partnership import load_partnership

    partnership = load_partnership(args.partnership)
    keys = load_private(args.key)
    linkage = load_partnership_key(args.linkage_key)
    results = []
    for extract in args.extracts:
        dataset = args.dataset or Path(extract).stem
        result = prepare_extract(
            Path(extract),
            dataset=dataset,
            period=args.period,
            partner=keys,
            partnership=partnership,
            linkage_key=linkage,
            out_dir=Path(args.out),
            max_rejected=args.max_rejected,
        )
        for t in validation_tables(result.validation):
            console.print(t)
        results.append(result)
    console.print(prepare_table(results))
    return 0


# --- open -----------------------------------------------------------------------------


def cmd_open(args: argparse.Namespace) -> int:
    from fraudmatch.cli.tables import table
    from fraudmatch.council.open import find_extracts, open_bundle
    from fraudmatch.sealing.keys import load_private
    from fraudmatch.spec.partnership import load_partnership

    partnership = load_partnership(args.partnership)
    keys = load_private(args.key)
    extracts = find_extracts(Path(args.extracts))
    for bundle in args.bundles:
        cases = open_bundle(
            Path(bundle),
            partner=keys,
            senders={partnership.hub.name: partnership.hub.public},
            extracts=extracts,
            out_dir=Path(args.out),
        )
        console.print(
            table(
                f"{keys.name}: cases in {Path(bundle).name}",
                cases.summary.columns,
                cases.summary.rows(),
            )
        )
        console.print(f"case list: {cases.csv_path}")
        console.print(f"           {cases.xlsx_path}")
    return 0


# --- hub: cycle, serve, rules ---------------------------------------------------------


def _hub_paths(args: argparse.Namespace) -> dict[str, str]:
    from fraudmatch.hub.workspace import default_root

    workspace = Path(args.workspace) if args.workspace else default_root()
    return {
        "workspace": str(workspace),
        "partnership": str(args.partnership),
        "hub_key": str(args.hub_key),
        "rules_dir": str(args.rules),
    }


def cmd_cycle(args: argparse.Namespace) -> int:
    from flows.cycle import cycle_flow
    from fraudmatch.cli.tables import cycle_tables

    summary = cycle_flow(**_hub_paths(args), cycle_date=args.cycle_date)
    for t in cycle_tables(summary):
        console.print(t)
    console.print(f"report: {summary['report']}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from prefect import serve

    from flows.cycle import cycle_deployment

    deployment = cycle_deployment(**_hub_paths(args))
    schedule = deployment.schedules[0].schedule
    console.print(f"serving the cycle on '{schedule.cron}' ({schedule.timezone}); Ctrl-C to stop")
    serve(deployment)
    return 0


def cmd_rules_check(args: argparse.Namespace) -> int:
    from fraudmatch.cli.tables import table
    from fraudmatch.council.prepare import bloom_params
    from fraudmatch.matching.rules import lint_rules, load_rules
    from fraudmatch.spec.partnership import load_partnership
    from fraudmatch.spec.specs import load_spec

    bloom = bloom_params(load_partnership(args.partnership)) if args.partnership else None
    rules = load_rules(args.rules)
    problems = lint_rules(rules, load_spec(args.spec), bloom)
    console.print(
        table(
            f"{len(rules)} rules in {args.rules}",
            ["rule", "datasets", "scope", "model", "risk"],
            [[r.name, f"{r.left} / {r.right}", r.scope, r.scoring.model, r.risk] for r in rules],
        )
    )
    if problems:
        console.print(
            table(
                "problems",
                ["file", "key", "problem"],
                [[p.file, p.path, p.message] for p in problems],
            )
        )
        return 1
    console.print("[green]all rules check against the data specification[/]")
    return 0


def cmd_rules_explain(args: argparse.Namespace) -> int:
    from fraudmatch.cli.tables import table
    from fraudmatch.hub.collect import load_current
    from fraudmatch.hub.workspace import default_root, open_workspace
    from fraudmatch.matching.rules import explain_blocking, load_rules
    from fraudmatch.spec.partnership import load_partnership

    rules = {r.name: r for r in load_rules(args.rules)}
    if args.rule not in rules:
        raise KeyError(f"no rule {args.rule!r} in {args.rules} (rules: {', '.join(rules)})")
    rule = rules[args.rule]
    workspace = open_workspace(
        Path(args.workspace) if args.workspace else default_root(),
        load_partnership(args.partnership),
    )
    frames = load_current(workspace)
    missing = [d for d in (rule.left, rule.right) if d not in frames]
    if missing:
        raise KeyError(f"no submissions of {', '.join(missing)} in {workspace.root}")
    explained = explain_blocking(rule, frames[rule.left], frames[rule.right])
    console.print(
        table(
            f"blocking of {rule.name}",
            explained.columns,
            [[str(v) if isinstance(v, list) else v for v in row] for row in explained.rows()],
        )
    )
    return 0


def cmd_rules_tune(args: argparse.Namespace) -> int:
    from fraudmatch.cli.tables import table
    from fraudmatch.hub.workspace import default_root, open_workspace
    from fraudmatch.matching.tune import MIN_LABELS, TuneError, table_rows, tune
    from fraudmatch.spec.partnership import load_partnership

    workspace = open_workspace(
        Path(args.workspace) if args.workspace else default_root(),
        load_partnership(args.partnership),
    )
    try:
        result = tune(
            workspace,
            args.rule,
            Path(args.rules),
            run_id=args.run,
            min_labels=MIN_LABELS if args.min_labels is None else args.min_labels,
        )
    except TuneError as exc:
        err_console.print(f"[red]cannot tune[/]: {exc}")
        return 1
    shown = table_rows(result.curve, None)
    console.print(
        table(
            f"{result.rule}, run {result.run_id}: precision and recall among "
            f"{result.n_true + result.n_false} labelled matches by threshold on {result.score}",
            ["threshold", "flagged", "true pos", "false pos", "precision", "recall"],
            [
                [f"{t:.4g}", f, tp, fp, f"{p:.3f}", f"{r:.3f}"]
                for t, f, tp, fp, p, r in shown.rows()
            ],
        )
    )
    console.print(f"chart: {result.chart}")
    for note in result.notes:
        console.print(f"[yellow]note[/]: {note}")
    if result.proposed is None:
        console.print("no change to propose")
        return 0
    console.print(result.diff, markup=False, highlight=False)
    console.print(
        f"proposed rule (the rule itself is unchanged): {result.proposed}\n"
        "review it, then move it over the rule file to adopt it"
    )
    return 0


# --- review and export ----------------------------------------------------------------


def _workspace_root(args: argparse.Namespace) -> Path:
    from fraudmatch.hub.workspace import default_root

    return Path(args.workspace) if getattr(args, "workspace", None) else default_root()


def cmd_review(args: argparse.Namespace) -> int:
    import uvicorn

    from fraudmatch.review.analysts import load_analysts
    from fraudmatch.review.webapp import create_app

    root = _workspace_root(args)
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
    app = create_app(root, args.rules, users=None)
    console.print(f"review app for {root}: http://{args.host}:{args.port}/  (Ctrl-C to stop)")
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return 0


def cmd_review_add_analyst(args: argparse.Namespace) -> int:
    import getpass

    from fraudmatch.review.analysts import add_analyst

    root = _workspace_root(args)
    if args.password_file:
        lines = Path(args.password_file).read_text().splitlines()
        password = lines[0] if lines else ""
    else:
        password = getpass.getpass(f"password for {args.name}: ")
        if getpass.getpass("again: ") != password:
            raise ValueError("the two passwords differ; nothing changed")
    path = add_analyst(root, args.name, password)
    console.print(f"analyst {args.name} can sign in to the review app ({path})")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from fraudmatch.cli.tables import table
    from fraudmatch.review.exports import export_case_lists
    from fraudmatch.review.review import Review

    review = Review(_workspace_root(args), args.rules)
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

    p = sub.add_parser("keys", help="make key pairs and the partnership linkage key")
    keys_sub = p.add_subparsers(dest="keys_command", required=True, metavar="KEYS_COMMAND")
    k = keys_sub.add_parser("new", help="a party's encryption and signing key pairs")
    k.add_argument("name", help="the party's name as in partnership.yaml, e.g. northmoor")
    k.add_argument("--out", type=Path, required=True, help="folder for NAME.private/.public")
    k.set_defaults(handler=cmd_keys_new)
    k = keys_sub.add_parser("partnership", help="the partners' shared linkage key")
    k.add_argument("--out", type=Path, required=True, help="file to write (mode 0600)")
    k.set_defaults(handler=cmd_keys_partnership)

    p = sub.add_parser("prepare", help="validate, pseudonymise and seal extracts for the hub")
    p.add_argument("extracts", nargs="+", type=Path, help="extract files (dataset from name)")
    p.add_argument("--dataset", help="dataset name (default: each file's name, e.g. payroll)")
    p.add_argument("--period", default=_current_period(), help="YYYY-MM (default: this month)")
    p.add_argument("--partnership", type=Path, required=True, help="partnership.yaml")
    p.add_argument("--key", type=Path, required=True, help="this council's .private key file")
    p.add_argument("--linkage-key", type=Path, required=True, help="partnership linkage key")
    p.add_argument("--out", type=Path, required=True, help="folder for the sealed submissions")
    p.add_argument(
        "--max-rejected", type=float, default=0.25, help="refuse above this share of rejects"
    )
    p.set_defaults(handler=cmd_prepare)

    p = sub.add_parser("open", help="verify, decrypt and re-identify a bundle from the hub")
    p.add_argument("bundles", nargs="+", type=Path, help="bundle files from the hub")
    p.add_argument("--partnership", type=Path, required=True, help="partnership.yaml")
    p.add_argument("--key", type=Path, required=True, help="this council's .private key file")
    p.add_argument("--extracts", type=Path, required=True, help="folder with the own extracts")
    p.add_argument("--out", type=Path, required=True, help="folder for the case lists")
    p.set_defaults(handler=cmd_open)

    def hub_options(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--workspace", help="hub workspace (default ./workspace or $FRAUDMATCH_WORKSPACE)"
        )
        p.add_argument("--partnership", type=Path, required=True, help="partnership.yaml")
        p.add_argument("--rules", type=Path, default=_DEFAULT_RULES, help="rules folder")

    p = sub.add_parser("cycle", help="hub: collect, match and distribute once, now")
    hub_options(p)
    p.add_argument("--hub-key", type=Path, required=True, help="the hub's .private key file")
    p.add_argument("--cycle-date", type=_date, default=None, help="YYYY-MM-DD (default today)")
    p.set_defaults(handler=cmd_cycle)

    p = sub.add_parser("serve", help="hub: serve the cycle on the partnership's schedule")
    hub_options(p)
    p.add_argument("--hub-key", type=Path, required=True, help="the hub's .private key file")
    p.set_defaults(handler=cmd_serve)

    p = sub.add_parser("rules", help="check and explain match rules")
    rules_sub = p.add_subparsers(dest="rules_command", required=True, metavar="RULES_COMMAND")
    r = rules_sub.add_parser("check", help="lint every rule against the data specification")
    r.add_argument("--rules", type=Path, default=_DEFAULT_RULES, help="rules folder")
    r.add_argument("--spec", type=Path, help="data specification (default: shipped)")
    r.add_argument("--partnership", type=Path, help="partnership.yaml (for Bloom settings)")
    r.set_defaults(handler=cmd_rules_check)
    r = rules_sub.add_parser("explain", help="candidate pairs each blocking rule makes")
    r.add_argument("rule", help="rule name, e.g. payroll_to_payroll")
    hub_options(r)
    r.set_defaults(handler=cmd_rules_explain)
    r = rules_sub.add_parser(
        "tune", help="precision/recall from recorded outcomes; propose re-estimated m"
    )
    r.add_argument("rule", help="rule name, e.g. payroll_to_housing_benefit")
    hub_options(r)
    r.add_argument("--run", help="run id (default: the latest run that matched the rule)")
    r.add_argument(
        "--min-labels", type=int, help="refuse with fewer labelled matches (default: 20)"
    )
    r.set_defaults(handler=cmd_rules_tune)

    p = sub.add_parser("review", help="serve the analysts' review app (127.0.0.1)")
    p.add_argument(
        "--workspace", help="hub workspace (default ./workspace or $FRAUDMATCH_WORKSPACE)"
    )
    p.add_argument("--rules", type=Path, default=_DEFAULT_RULES, help="rules folder")
    p.add_argument("--host", default="127.0.0.1", help="address to serve on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8765)
    p.set_defaults(handler=cmd_review)
    review_sub = p.add_subparsers(dest="review_command", metavar="REVIEW_COMMAND")
    r = review_sub.add_parser("add-analyst", help="add an analyst or set their password")
    r.add_argument("name", help="the analyst's name, e.g. asmith")
    r.add_argument("--workspace", default=argparse.SUPPRESS, help="hub workspace")
    r.add_argument("--password-file", type=Path, help="read the password from this file")
    r.set_defaults(handler=cmd_review_add_analyst)

    p = sub.add_parser("export", help="case lists of a run as CSV and XLSX")
    p.add_argument(
        "--workspace", help="hub workspace (default ./workspace or $FRAUDMATCH_WORKSPACE)"
    )
    p.add_argument("--rules", type=Path, default=_DEFAULT_RULES, help="rules folder")
    p.add_argument("--run", required=True, help="run id, e.g. run-20261101")
    p.add_argument("--rule", help="only this rule")
    p.add_argument("--partner", help="only cases involving this partner")
    p.add_argument("--by", choices=("rule", "partner"), default="rule", help="one file per")
    p.add_argument("--out", type=Path, required=True, help="folder for the files")
    p.set_defaults(handler=cmd_export)
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
        err_console.print(f"[red]error[/]: {exc}")
        return 2


if __name__ == "__main__":
    sys.exit(main())

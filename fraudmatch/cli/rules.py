"""Match rules: check them against the specification, explain blocking, tune from outcomes."""

from __future__ import annotations

import argparse
from pathlib import Path

from fraudmatch.cli.common import (
    RULES_HELP,
    SPEC_HELP,
    command_spec,
    console,
    err_console,
    hub_options,
    rule_folders,
)


def cmd_rules_check(args: argparse.Namespace) -> int:
    from fraudmatch.cli.tables import table
    from fraudmatch.matching.rules import lint_rules, load_rules
    from fraudmatch.spec.partnership import bloom_params, load_partnership

    bloom = bloom_params(load_partnership(args.partnership)) if args.partnership else None
    folders = rule_folders(args)
    rules = load_rules(folders)
    problems = lint_rules(rules, command_spec(args), bloom)
    console.print(
        table(
            f"{len(rules)} rules in {', '.join(map(str, folders))}",
            ["rule", "datasets", "scope", "model", "risk"],
            [[r.name, f"{r.left} / {r.right}", r.scope, r.scoring.model, r.risk] for r in rules],
        )
    )
    if problems:
        console.print(
            table(
                "problems",
                ["severity", "file", "key", "problem"],
                [[p.severity, p.file, p.path, p.message] for p in problems],
            )
        )
    if any(p.severity == "error" for p in problems):
        return 1
    if not problems:
        console.print("[green]all rules check against the data specification[/]")
    return 0


def cmd_rules_explain(args: argparse.Namespace) -> int:
    from fraudmatch.cli.tables import table
    from fraudmatch.hub.collect import load_current
    from fraudmatch.hub.workspace import default_root, open_workspace
    from fraudmatch.matching.blocking import explain_blocking
    from fraudmatch.matching.rules import load_rules
    from fraudmatch.spec.partnership import load_partnership

    folders = rule_folders(args)
    rules = {r.name: r for r in load_rules(folders)}
    if args.rule not in rules:
        where = ", ".join(map(str, folders))
        raise KeyError(f"no rule {args.rule!r} in {where} (rules: {', '.join(rules)})")
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
    _explain_model(workspace, rule)
    return 0


def _explain_model(workspace, rule) -> None:
    """What to distrust in the model the rule fitted in its latest run, if it fitted one."""
    from fraudmatch.hub.labels import latest_run
    from fraudmatch.hub.runs import fitted_model
    from fraudmatch.hub.tuning import TuneError
    from fraudmatch.matching.training import model_warnings

    try:
        run_id = latest_run(workspace, rule.name)
    except TuneError:
        return
    model = fitted_model(workspace, run_id, rule.name)
    if not model:
        return
    warnings = model_warnings(rule, model)
    for w in warnings:
        console.print(f"[yellow]model warning[/] (run {run_id}): {w}", markup=True, highlight=False)
    if not warnings:
        console.print(f"the model fitted in {run_id} makes no one's own identifiers weak")


def cmd_rules_tune(args: argparse.Namespace) -> int:
    from fraudmatch.cli.tables import table
    from fraudmatch.hub.tuning import MIN_LABELS, TuneError, table_rows, tune
    from fraudmatch.hub.workspace import default_root, open_workspace
    from fraudmatch.spec.partnership import load_partnership

    workspace = open_workspace(
        Path(args.workspace) if args.workspace else default_root(),
        load_partnership(args.partnership),
    )
    try:
        result = tune(
            workspace,
            args.rule,
            rule_folders(args),
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


def register(sub: argparse._SubParsersAction) -> None:
    """Add this group's subcommands to the ``fraudmatch`` parser."""
    p = sub.add_parser("rules", help="check and explain match rules")
    rules_sub = p.add_subparsers(dest="rules_command", required=True, metavar="RULES_COMMAND")
    r = rules_sub.add_parser("check", help="lint every rule against the data specification")
    r.add_argument("--rules", type=Path, help=RULES_HELP)
    r.add_argument("--spec", type=Path, help=SPEC_HELP)
    r.add_argument(
        "--partnership", type=Path, help="partnership.yaml (its rules, spec and Bloom settings)"
    )
    r.set_defaults(handler=cmd_rules_check)
    r = rules_sub.add_parser("explain", help="candidate pairs each blocking rule makes")
    r.add_argument("rule", help="rule name, e.g. payroll_to_payroll")
    hub_options(r, spec=False)  # reads matched runs, not extracts
    r.set_defaults(handler=cmd_rules_explain)
    r = rules_sub.add_parser(
        "tune", help="precision/recall from recorded outcomes; propose re-estimated m"
    )
    r.add_argument("rule", help="rule name, e.g. payroll_to_housing_benefit")
    hub_options(r, spec=False)  # reads matched runs, not extracts
    r.add_argument("--run", help="run id (default: the latest run that matched the rule)")
    r.add_argument(
        "--min-labels", type=int, help="refuse with fewer labelled matches (default: 20)"
    )
    r.set_defaults(handler=cmd_rules_tune)

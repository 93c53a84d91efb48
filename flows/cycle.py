"""Prefect flows for the hub's cycle (a partner's submissions: ``flows/submit.py``).

Orchestration only: every task is one library call. Tasks take paths and names, not
frames or keys, so a run can be retried, resumed or moved to other workers. Flow runs are
named after the run id (``run-20261101``) and task runs after their rule, so an operator
sees in the Prefect UI which run and which rule failed.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run as current_flow_run

from fraudmatch.common.fsutil import crash_point
from fraudmatch.hub import catalogue
from fraudmatch.hub.alerts import raise_alert
from fraudmatch.hub.collect import collect, load_current
from fraudmatch.hub.operator import load_operator
from fraudmatch.hub.retention import enforce, for_run, remove_debris
from fraudmatch.hub.runs import (
    RuleOutcome,
    distribute,
    match_rule,
    reportable,
    run_collection,
    run_id_for,
    summary_document,
    write_run_report,
    write_summary,
)
from fraudmatch.hub.transport import prune_drops
from fraudmatch.hub.workspace import Workspace, exclusive, open_workspace
from fraudmatch.matching.distributed import executor_from_config
from fraudmatch.matching.rules import load_rules
from fraudmatch.review.outcomes import default_url
from fraudmatch.sealing.keyring import load_keyring
from fraudmatch.spec.partnership import load_partnership
from fraudmatch.spec.specs import resolve_spec


def rule_folders(partnership_path: str, rules_dir: str | list[str] | None) -> list[str]:
    """The folders given, else the partnership's ``rules:`` (the shipped rules by default)."""
    if rules_dir is None:
        return [str(p) for p in load_partnership(partnership_path).rules]
    return [rules_dir] if isinstance(rules_dir, str) else list(rules_dir)


log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENTRYPOINT = "flows/cycle.py:cycle_flow"


def run_period(cycle_date: date) -> str:
    """The run's period: the month of its cycle date. Partners prepare for it
    (``prepare --period``); the hub quarantines a submission prepared for another."""
    return cycle_date.strftime("%Y-%m")


def _cycle_date(value: Any) -> date:
    """The cycle date of a flow run's parameters (ISO text from the API), default today."""
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)) if value else date.today()


def cycle_run_name() -> str:
    """``run-YYYYMMDD`` of the run's cycle date: the run id the catalogue uses."""
    return run_id_for(_cycle_date(current_flow_run.parameters.get("cycle_date")))


def alert_on_failure(flow: Any, flow_run: Any, state: Any) -> None:
    """``on_failure``/``on_crashed`` hook: an alert file in the workspace, then webhook and
    mail as the operator file says. Never raises: a hook that fails hides the failure."""
    params = flow_run.parameters or {}
    try:
        config = load_operator(params.get("operator"), params.get("partnership"))
    except Exception as exc:  # a broken operator file must not stop the alert file
        from fraudmatch.hub.operator import OperatorConfig

        config, note = OperatorConfig(), f"operator file unreadable: {exc}"
    else:
        note = ""
    details = {
        "run_id": run_id_for(_cycle_date(params.get("cycle_date"))),
        "flow_run": f"{flow_run.name} ({flow_run.id})",
        "state": str(state.type.value if state.type else state.name),
        "error": str(state.message or ""),
    }
    if note:
        details["note"] = note
    try:
        result = raise_alert(
            Path(params.get("workspace") or "."),
            f"fraudmatch cycle {details['run_id']} failed",
            details,
            config,
        )
        log.warning("alert written to %s; sent by: %s", result.path, result.sent or "file only")
    except Exception as exc:  # last resort: at least say so in the log
        log.error("could not write the failure alert: %s", exc)


@task(name="collect", retries=2, retry_delay_seconds=10, cache_policy=NO_CACHE)
def collect_task(
    workspace_root: str,
    partnership_path: str,
    hub_key: str,
    spec: str | None = None,
    period: str | None = None,
    operator: str | None = None,
    run_id: str | None = None,
) -> dict:
    partnership = load_partnership(partnership_path)
    workspace = open_workspace(Path(workspace_root), partnership)
    result = collect(
        workspace,
        partnership,
        load_keyring(hub_key),
        spec=resolve_spec(partnership, spec),
        period=period,
        operator=load_operator(operator, partnership_path),
    )
    logger = get_run_logger()
    for item in result.files:
        logger.info("%s %s: %s %s", item.outcome, item.file, item.dataset or "", item.reason)
    for partner, name, reason in result.fetch_failed:
        logger.warning("fetch failed: %s's drop, %s: %s", partner, name, reason)
    for partner, dataset in result.missing:
        logger.warning("missing: no %s from %s", dataset, partner)
    # with the files an earlier, interrupted attempt of the run already took from the inbox
    return run_collection(workspace, run_id, result.summary()) if run_id else result.summary()


@task(name="match-rule", task_run_name="match-{rule_name}", retries=1, cache_policy=NO_CACHE)
def match_rule_task(
    workspace_root: str,
    partnership_path: str,
    rules_dir: list[str],
    rule_name: str,
    run_id: str,
    cycle_date: date,
) -> RuleOutcome:
    partnership = load_partnership(partnership_path)
    workspace = open_workspace(Path(workspace_root), partnership)
    rules = {r.name: r for r in load_rules(rules_dir)}
    # only the run's period: another period's tokens meet nothing of this one's
    frames = load_current(workspace, period=run_period(cycle_date))
    logger = get_run_logger()
    outcome = match_rule(
        workspace,
        run_id,
        rules[rule_name],
        frames,
        cycle_date=cycle_date,
        rules_by_name=rules,
        progress=logger.info,
        # local by default; partitions on a Dask cluster with `engine: dask` (README)
        executor=executor_from_config(partnership.engine, source=f"{partnership_path}: engine"),
    )
    logger.info(
        "%s: %s, %s matches, %s cases, %s suppressed as reviewed, %s raised again %s",
        rule_name,
        outcome.status,
        outcome.matches,
        outcome.cases,
        outcome.suppressed,
        outcome.evidence_changed,
        outcome.reason,
    )
    return outcome


@task(name="distribute", retries=2, retry_delay_seconds=10, cache_policy=NO_CACHE)
def distribute_task(
    workspace_root: str,
    partnership_path: str,
    hub_key: str,
    rules_dir: list[str],
    run_id: str,
    period: str,
    operator: str | None = None,
) -> list:
    partnership = load_partnership(partnership_path)
    workspace = open_workspace(Path(workspace_root), partnership)
    bundles = distribute(
        workspace,
        partnership,
        load_keyring(hub_key),
        run_id,
        load_rules(rules_dir),
        period=period,
        operator=load_operator(operator, partnership_path),
    )
    for b in bundles:
        if b.delivery.startswith("failed"):
            get_run_logger().warning("delivery to %s's drop %s", b.partner, b.delivery)
    return bundles


@task(name="retention", retries=1, cache_policy=NO_CACHE)
def retention_task(
    workspace_root: str,
    partnership_path: str,
    today: date,
    run_id: str,
    operator: str | None = None,
) -> dict:
    """Delete what is past the agreed retention at the cycle date; the run just made is
    never due (its date is the cycle date). Files set aside in the partners' drops go by
    the same clock."""
    partnership = load_partnership(partnership_path)
    ws = open_workspace(Path(workspace_root), partnership)
    result = enforce(ws, partnership, today=today, outcomes_url=default_url(ws.root))
    result = for_run(ws, result)  # as if an earlier attempt had not been killed in it
    logger = get_run_logger()
    for row in result.deleted:
        logger.info("retention: deleted %s %s", row["kind"], row["item"])
    summary = result.summary()
    if partnership.transport.get("inbox"):
        summary["drops"] = prune_drops(
            partnership, load_operator(operator, partnership_path), cutoff=result.cutoff
        )
    return summary


@flow(
    name="fraudmatch-cycle",
    flow_run_name=cycle_run_name,
    log_prints=True,
    on_failure=[alert_on_failure],
    on_crashed=[alert_on_failure],
)
def cycle_flow(
    workspace: str,
    partnership: str,
    hub_key: str,
    rules_dir: str | list[str] | None = None,
    cycle_date: date | None = None,
    spec: str | None = None,
    operator: str | None = None,
) -> dict:
    """Collect → match (one task per rule) → distribute → retention, under one resumable
    run id. Holds the workspace's cycle lock, so it first removes the temporary files a
    killed run left behind.

    ``rules_dir`` and ``spec`` override the partnership file's ``rules:`` and ``spec:``.
    ``operator`` is the operator-only settings file (drop options, alerts); by default
    ``operator.yaml`` beside the partnership file, if there is one.
    """
    cycle_date = cycle_date or date.today()
    folders = rule_folders(partnership, rules_dir)
    ws = open_workspace(Path(workspace), load_partnership(partnership))
    with exclusive(ws, "cycle"):
        return _cycle(ws, workspace, partnership, hub_key, folders, cycle_date, spec, operator)


def _cycle(
    ws: Workspace,
    workspace: str,
    partnership: str,
    hub_key: str,
    folders: list[str],
    cycle_date: date,
    spec: str | None,
    operator: str | None = None,
) -> dict:
    run_id = run_id_for(cycle_date)
    remove_debris(ws)
    catalogue.start_run(ws, run_id, cycle_date)
    try:
        collected = collect_task(
            workspace, partnership, hub_key, spec, run_period(cycle_date), operator, run_id
        )
        outcomes = [
            match_rule_task(workspace, partnership, folders, rule.name, run_id, cycle_date)
            for rule in reportable(load_rules(folders))
        ]
        bundles = distribute_task(
            workspace, partnership, hub_key, folders, run_id, run_period(cycle_date), operator
        )
    except BaseException as exc:
        # a run that died is not left "running": the catalogue says it failed, and why
        catalogue.finish_run(ws, run_id, {"error": f"{type(exc).__name__}: {exc}"}, "failed")
        raise
    crash_point("after-distribute")
    summary = summary_document(run_id, cycle_date, collected, outcomes, bundles)
    summary["retention"] = retention_task(workspace, partnership, cycle_date, run_id, operator)
    write_summary(ws, run_id, summary)
    report = write_run_report(ws, run_id, load_rules(folders), summary)
    summary["report"] = str(report)
    catalogue.finish_run(ws, run_id, summary)
    get_run_logger().info("run %s finished; report: %s", run_id, report)
    return summary


def _cycle_parameters(
    workspace: str,
    partnership: str,
    hub_key: str,
    rules_dir: str | list[str] | None,
    spec: str | None,
    operator: str | None,
) -> dict[str, Any]:
    """Absolute paths: a worker runs the flow from its own folder, not the operator's."""

    def absolute(path: str | None) -> str | None:
        return str(Path(path).resolve()) if path else None

    folders = [rules_dir] if isinstance(rules_dir, str) else rules_dir
    return {
        "workspace": absolute(workspace),
        "partnership": absolute(partnership),
        "hub_key": absolute(hub_key),
        "rules_dir": [absolute(f) for f in folders] if folders else None,
        "spec": absolute(spec),
        "operator": absolute(operator),
    }


def _schedule(partnership: str):
    from prefect.schedules import Cron

    config = load_partnership(partnership)
    return config, Cron(config.schedule_cron, timezone=config.timezone)


def cycle_deployment(
    workspace: str,
    partnership: str,
    hub_key: str,
    rules_dir: str | list[str] | None = None,
    spec: str | None = None,
    operator: str | None = None,
):
    """The cycle as a deployment on the partnership's cron schedule, in its time zone,
    for ``fraudmatch serve`` (served in-process against a Prefect server). The cycle date
    of each scheduled run defaults to the day it runs."""
    config, schedule = _schedule(partnership)
    return cycle_flow.to_deployment(
        name="fraudmatch-cycle",
        schedules=[schedule],
        parameters=_cycle_parameters(workspace, partnership, hub_key, rules_dir, spec, operator),
        description=f"Collect, match and distribute for {config.name}",
        tags=["fraudmatch"],
    )


def deploy_cycle(
    workspace: str,
    partnership: str,
    hub_key: str,
    *,
    pool: str,
    rules_dir: str | list[str] | None = None,
    spec: str | None = None,
    operator: str | None = None,
    name: str = "fraudmatch-cycle",
) -> str:
    """Register the cycle with a Prefect server for a worker of ``pool`` to run on the
    partnership's schedule (cron and time zone); non-interactive. Returns the deployment
    id. The worker runs the flow from this installation's folder (a process work pool on
    the hub machine)."""
    config, schedule = _schedule(partnership)
    source = cycle_flow.from_source(source=str(PROJECT_ROOT), entrypoint=ENTRYPOINT)
    deployment_id = source.deploy(
        name=name,
        work_pool_name=pool,
        schedules=[schedule],
        parameters=_cycle_parameters(workspace, partnership, hub_key, rules_dir, spec, operator),
        description=f"Collect, match and distribute for {config.name}",
        tags=["fraudmatch"],
        build=False,
        push=False,
        print_next_steps=False,
        ignore_warnings=True,
    )
    return str(deployment_id)

"""Prefect flows for the hub's cycle and a partner's submissions.

Orchestration only: every task is one library call. Tasks take paths and names, not
frames or keys, so a run can be retried, resumed or moved to other workers.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from fraudmatch.common.fsutil import crash_point
from fraudmatch.council.prepare import submit_folder
from fraudmatch.hub import catalogue
from fraudmatch.hub.collect import collect, load_current
from fraudmatch.hub.retention import enforce, remove_debris
from fraudmatch.hub.runs import (
    RuleOutcome,
    distribute,
    match_rule,
    reportable,
    run_id_for,
    summary_document,
    write_run_report,
    write_summary,
)
from fraudmatch.hub.workspace import Workspace, exclusive, open_workspace
from fraudmatch.matching.distributed import executor_from_config
from fraudmatch.matching.rules import load_rules
from fraudmatch.review.outcomes import default_url
from fraudmatch.sealing.keys import load_linkage_key, load_private
from fraudmatch.spec.partnership import load_partnership
from fraudmatch.spec.specs import resolve_spec


def rule_folders(partnership_path: str, rules_dir: str | list[str] | None) -> list[str]:
    """The folders given, else the partnership's ``rules:`` (the shipped rules by default)."""
    if rules_dir is None:
        return [str(p) for p in load_partnership(partnership_path).rules]
    return [rules_dir] if isinstance(rules_dir, str) else list(rules_dir)


@task(name="collect", retries=2, retry_delay_seconds=10, cache_policy=NO_CACHE)
def collect_task(
    workspace_root: str, partnership_path: str, hub_key: str, spec: str | None = None
) -> dict:
    partnership = load_partnership(partnership_path)
    workspace = open_workspace(Path(workspace_root), partnership)
    result = collect(
        workspace, partnership, load_private(hub_key), spec=resolve_spec(partnership, spec)
    )
    logger = get_run_logger()
    for item in result.files:
        logger.info("%s %s: %s %s", item.outcome, item.file, item.dataset or "", item.reason)
    for partner, dataset in result.missing:
        logger.warning("missing: no %s from %s", dataset, partner)
    return result.summary()


@task(name="match-rule", retries=1, cache_policy=NO_CACHE)
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
    frames = load_current(workspace)
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
) -> list:
    partnership = load_partnership(partnership_path)
    workspace = open_workspace(Path(workspace_root), partnership)
    return distribute(
        workspace,
        partnership,
        load_private(hub_key),
        run_id,
        load_rules(rules_dir),
        period=period,
    )


@task(name="retention", retries=1, cache_policy=NO_CACHE)
def retention_task(workspace_root: str, partnership_path: str, today: date, run_id: str) -> dict:
    """Delete what is past the agreed retention at the cycle date; the run just made is
    never due (its date is the cycle date)."""
    partnership = load_partnership(partnership_path)
    ws = open_workspace(Path(workspace_root), partnership)
    result = enforce(ws, partnership, today=today, outcomes_url=default_url(ws.root))
    logger = get_run_logger()
    for row in result.deleted:
        logger.info("retention: deleted %s %s", row["kind"], row["item"])
    return result.summary()


@flow(name="fraudmatch-cycle", log_prints=True)
def cycle_flow(
    workspace: str,
    partnership: str,
    hub_key: str,
    rules_dir: str | list[str] | None = None,
    cycle_date: date | None = None,
    spec: str | None = None,
) -> dict:
    """Collect → match (one task per rule) → distribute → retention, under one resumable
    run id. Holds the workspace's cycle lock, so it first removes the temporary files a
    killed run left behind.

    ``rules_dir`` and ``spec`` override the partnership file's ``rules:`` and ``spec:``.
    """
    cycle_date = cycle_date or date.today()
    folders = rule_folders(partnership, rules_dir)
    ws = open_workspace(Path(workspace), load_partnership(partnership))
    with exclusive(ws, "cycle"):
        return _cycle(ws, workspace, partnership, hub_key, folders, cycle_date, spec)


def _cycle(
    ws: Workspace,
    workspace: str,
    partnership: str,
    hub_key: str,
    folders: list[str],
    cycle_date: date,
    spec: str | None,
) -> dict:
    run_id = run_id_for(cycle_date)
    remove_debris(ws)
    catalogue.start_run(ws, run_id, cycle_date)
    collected = collect_task(workspace, partnership, hub_key, spec)
    outcomes = [
        match_rule_task(workspace, partnership, folders, rule.name, run_id, cycle_date)
        for rule in reportable(load_rules(folders))
    ]
    bundles = distribute_task(
        workspace, partnership, hub_key, folders, run_id, cycle_date.strftime("%Y-%m")
    )
    crash_point("after-distribute")
    summary = summary_document(run_id, cycle_date, collected, outcomes, bundles)
    summary["retention"] = retention_task(workspace, partnership, cycle_date, run_id)
    write_summary(ws, run_id, summary)
    report = write_run_report(ws, run_id, load_rules(folders), summary)
    summary["report"] = str(report)
    catalogue.finish_run(ws, run_id, summary)
    get_run_logger().info("run %s finished; report: %s", run_id, report)
    return summary


@flow(name="fraudmatch-submit", log_prints=True)
def submit_flow(
    export_dir: str,
    hub_inbox: str,
    partnership: str,
    partner_key: str,
    linkage_key: str,
    period: str | None = None,
) -> dict:
    """Partner side: prepare every extract in the export folder and deliver it to the hub.

    An extract that fails validation is not sent; the reason is written next to it.
    """
    period = period or date.today().strftime("%Y-%m")
    return submit_folder(
        Path(export_dir),
        Path(hub_inbox),
        partnership=load_partnership(partnership),
        partner=load_private(partner_key),
        linkage_key=load_linkage_key(linkage_key),
        period=period,
    )


def cycle_deployment(
    workspace: str,
    partnership: str,
    hub_key: str,
    rules_dir: str | list[str] | None = None,
    spec: str | None = None,
):
    """The cycle as a deployment on the partnership's cron schedule, in its time zone.

    ``fraudmatch serve`` serves it in-process; the same object can be deployed to a work
    pool. The cycle date of each scheduled run defaults to the day it runs.
    """
    from prefect.schedules import Cron

    config = load_partnership(partnership)
    return cycle_flow.to_deployment(
        name="fraudmatch-cycle",
        schedules=[Cron(config.schedule_cron, timezone=config.timezone)],
        parameters={
            "workspace": workspace,
            "partnership": partnership,
            "hub_key": hub_key,
            "rules_dir": rules_dir,
            "spec": spec,
        },
        description=f"Collect, match and distribute for {config.name}",
        tags=["fraudmatch"],
    )

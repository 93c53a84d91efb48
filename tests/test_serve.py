"""`fraudmatch serve` builds the cycle deployment from the partnership's schedule."""

from __future__ import annotations

from pathlib import Path

import yaml

from flows.cycle import cycle_deployment, rule_folders
from fraudmatch.shipped import shipped_rules_dir
from fraudmatch.synth.demo import make_parties


def test_deployment_follows_the_partnership_schedule(tmp_path: Path) -> None:
    parties = make_parties(tmp_path, ["northmoor"], ["payroll"])
    data = yaml.safe_load(parties.partnership_path.read_text())
    data["schedule"] = {"cron": "30 5 3 * *", "timezone": "Europe/London"}
    parties.partnership_path.write_text(yaml.safe_dump(data, sort_keys=False, width=1000))
    deployment = cycle_deployment(
        workspace=str(tmp_path / "hub"),
        partnership=str(parties.partnership_path),
        hub_key=str(parties.hub_key_path),
    )
    schedule = deployment.schedules[0].schedule
    assert (schedule.cron, schedule.timezone) == ("30 5 3 * *", "Europe/London")
    assert deployment.parameters["workspace"] == str(tmp_path / "hub")
    assert deployment.parameters["hub_key"] == str(parties.hub_key_path)
    # no --rules or --spec: each run reads the partnership file's rules: and spec:
    assert deployment.parameters["rules_dir"] is None and deployment.parameters["spec"] is None
    assert rule_folders(str(parties.partnership_path), None) == [str(shipped_rules_dir())]
    assert deployment.name == "fraudmatch-cycle"

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


def test_serve_and_deploy_pass_the_spec_through_as_an_absolute_path(
    tmp_path: Path, monkeypatch
) -> None:
    """``--spec X`` reaches each scheduled run: a worker or served run starts in its own
    folder, so the deployment carries X resolved against the operator's folder."""
    import flows.cycle
    import flows.serve
    from fraudmatch.cli import main

    parties = make_parties(tmp_path, ["northmoor"], ["payroll"])
    (tmp_path / "ours.yaml").write_text("extends: shipped\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")
    expected = str((tmp_path / "ours.yaml").resolve())

    # the library route
    deployment = cycle_deployment(
        workspace="hub",
        partnership=str(parties.partnership_path),
        hub_key=str(parties.hub_key_path),
        spec="ours.yaml",
    )
    assert deployment.parameters["spec"] == expected

    common = ["--partnership", str(parties.partnership_path)]
    common += ["--hub-key", str(parties.hub_key_path), "--spec", "ours.yaml"]

    served = []
    monkeypatch.setattr(
        flows.serve, "serve_until_signalled", lambda d, ready: served.append(d) or "SIGTERM"
    )
    assert main(["serve", *common]) == 0
    assert served[0].parameters["spec"] == expected

    class Source:
        def deploy(self, **kwargs):
            deployed.append(kwargs)
            return "0000"

    deployed: list[dict] = []
    monkeypatch.setattr(flows.cycle.cycle_flow, "from_source", lambda **_: Source())
    assert main(["deploy", *common, "--pool", "hub"]) == 0
    assert deployed[0]["parameters"]["spec"] == expected

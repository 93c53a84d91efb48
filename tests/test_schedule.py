"""The cycle on a schedule against a real Prefect server (with its scheduler services).

One server per module, on a free port with its own PREFECT_HOME, started by the README's
operator recipe (its exports and its ``prefect server start`` line, the port swapped for
a free one); one test then runs the rest of the recipe as written. The cron deployment is
made with ``fraudmatch deploy``; a process worker runs it. A cron fires on the minute,
so the cron test waits for the next minute boundary.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import yaml
from servers import free_port, process, wait_for

from fraudmatch.hub import catalogue
from fraudmatch.hub.runs import run_id_for
from fraudmatch.hub.workspace import Workspace
from fraudmatch.synth.demo import make_parties

BIN = Path(sys.executable).parent
PREFECT = str(BIN / "prefect")
FRAUDMATCH = [str(BIN / "fraudmatch")]


README = Path(__file__).resolve().parents[1] / "README.md"
RECIPE_MARK = "<!-- operator recipe:"
README_PORT = "4200"


def operator_recipe(port: int) -> list[str]:
    """The shell lines of the README's operator recipe, in order: continuations joined,
    trailing comments dropped, the README's port replaced by ``port``."""
    text = README.read_text(encoding="utf-8")
    assert RECIPE_MARK in text, f"{README} lost its operator recipe block"
    block = re.search(r"```sh\n(.*?)```", text[text.index(RECIPE_MARK) :], flags=re.S)
    assert block is not None
    lines = []
    for line in block.group(1).replace("\\\n", " ").splitlines():
        line = re.sub(r"\s#\s.*$", "", line).strip()
        if line:
            lines.append(line.replace(README_PORT, str(port)))
    return lines


def _recipe_env(port: int) -> dict[str, str]:
    """This environment without Prefect settings, plus the recipe's exports."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"  # prefect, fraudmatch: this venv
    for line in operator_recipe(port):
        if line.startswith("export "):
            name, _, value = line.removeprefix("export ").partition("=")
            env[name] = shlex.split(value)[0]
    return env


def _api(env: dict[str, str], path: str, body: dict | None = None) -> object:
    url = env["PREFECT_API_URL"] + path
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url,
        data=data,
        headers={"Content-Type": "application/json"},
        method="POST" if data else "GET",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    home = tmp_path_factory.mktemp("prefect-home")
    port = free_port()
    env = _recipe_env(port)  # PREFECT_API_URL before the server starts, as the README says
    assert env["PREFECT_API_URL"] == f"http://127.0.0.1:{port}/api"
    env.update(  # test speed only: loops that fire sooner, services the tests do not use
        PREFECT_HOME=str(home),
        PREFECT_UI_ENABLED="false",
        PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS="2",
        PREFECT_SERVER_SERVICES_SCHEDULER_RECENT_DEPLOYMENTS_LOOP_SECONDS="1",
        PREFECT_SERVER_SERVICES_FOREMAN_ENABLED="false",
        PREFECT_SERVER_SERVICES_CANCELLATION_CLEANUP_ENABLED="false",
        PREFECT_SERVER_SERVICES_PAUSE_EXPIRATIONS_ENABLED="false",
        PREFECT_SERVER_SERVICES_SCHEDULER_MIN_RUNS="1",
        PREFECT_SERVER_SERVICES_SCHEDULER_MAX_RUNS="3",
        PREFECT_WORKER_QUERY_SECONDS="2",
        PREFECT_LOGGING_LEVEL="INFO",
        COLUMNS="250",  # rich tables of `prefect ... ls` unabridged
    )
    log = home / "server.log"
    (start,) = [line for line in operator_recipe(port) if line.startswith("prefect server start")]
    assert start.endswith("&"), "the recipe must leave the server running in the background"
    cmd = shlex.split(start.removesuffix("&"))
    with process(cmd, env=env, log=log) as server:
        wait_for(
            lambda: _api(env, "/health"),
            timeout=300,
            what="Prefect server up",
            proc=server,
            log=log,
        )
        yield env


def _parties(tmp_path: Path, cron: str):
    parties = make_parties(tmp_path / "parties", ["northmoor"], ["payroll"])
    data = yaml.safe_load(parties.partnership_path.read_text())
    data["schedule"] = {"cron": cron, "timezone": "Europe/London"}
    parties.partnership_path.write_text(yaml.safe_dump(data, sort_keys=False, width=1000))
    return parties


def test_cron_deployment_fires_and_a_worker_completes_the_cycle(
    prefect_server: dict[str, str], tmp_path: Path
) -> None:
    env = prefect_server
    parties = _parties(tmp_path, "* * * * *")
    elsewhere = tmp_path / "operator-shell"
    elsewhere.mkdir()
    subprocess.run(
        [PREFECT, "work-pool", "create", "fraud-unit", "--type", "process"],
        env=env, check=True, capture_output=True, cwd=elsewhere,
    )  # fmt: skip
    deployed = subprocess.run(
        [*FRAUDMATCH, "deploy", "--workspace", "hub", "--partnership",
         str(parties.partnership_path), "--hub-key", str(parties.hub_key_path),
         "--pool", "fraud-unit"],
        env=env, capture_output=True, text=True, cwd=elsewhere, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert deployed.returncode == 0, deployed.stderr + deployed.stdout
    assert "deployed fraudmatch-cycle" in deployed.stdout
    pools = subprocess.run(
        [PREFECT, "work-pool", "ls"], env=env, capture_output=True, text=True, check=True
    )
    assert "fraud-unit" in pools.stdout
    deployment = _api(env, "/deployments/name/fraudmatch-cycle/fraudmatch-cycle")
    (schedule,) = deployment["schedules"]
    assert schedule["schedule"]["cron"] == "* * * * *"
    assert schedule["schedule"]["timezone"] == "Europe/London"
    assert deployment["parameters"]["workspace"] == str(elsewhere / "hub")

    # the worker starts while the scheduler service (not a manual trigger) creates the runs
    worker_dir = tmp_path / "worker-home"  # the worker runs from yet another folder
    worker_dir.mkdir()
    log = tmp_path / "worker.log"
    worker_cmd = [PREFECT, "worker", "start", "--pool", "fraud-unit", "--type", "process"]
    finished = {"flow_runs": {"state": {"type": {"any_": ["COMPLETED", "FAILED", "CRASHED"]}}}}
    with process(worker_cmd, env=env, log=log, cwd=worker_dir) as worker:
        completed = wait_for(
            lambda: _api(env, "/flow_runs/filter", {**finished, "limit": 5}),
            timeout=400, what="a flow run finished by the worker", proc=worker, log=log,
        )  # fmt: skip
    run = completed[0]
    assert run["state_type"] == "COMPLETED", log.read_text()[-3000:]
    assert run["auto_scheduled"] is True
    today = date.fromisoformat(run["expected_start_time"][:10])
    assert run["name"] in {run_id_for(today), run_id_for(date.today())}
    info = catalogue.run_info(Workspace(elsewhere / "hub"), run["name"])
    assert info is not None and info["status"] == "finished"
    listed = subprocess.run([PREFECT, "flow-run", "ls"], env=env, capture_output=True, text=True)
    assert listed.returncode == 0, listed.stderr
    assert "Flow Runs" in listed.stdout


def test_serve_without_a_server_says_it_needs_one(tmp_path: Path) -> None:
    parties = _parties(tmp_path, "0 6 2 * *")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env["PREFECT_HOME"] = str(tmp_path / "prefect-home")
    done = subprocess.run(
        [*FRAUDMATCH, "serve", "--partnership", str(parties.partnership_path),
         "--hub-key", str(parties.hub_key_path)],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2
    assert "needs a running Prefect server" in done.stderr
    assert "PREFECT_API_URL" in done.stderr


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_serve_stops_cleanly_on_the_first_signal(
    prefect_server: dict[str, str], tmp_path: Path, sig: signal.Signals
) -> None:
    """Ctrl-C (SIGINT to the terminal's process group) or SIGTERM (a service manager):
    ``serve`` stops within seconds, exit status 0, no traceback."""
    parties = _parties(tmp_path, "0 6 2 * *")
    log = tmp_path / "serve.log"
    cmd = [*FRAUDMATCH, "serve", "--workspace", str(tmp_path / "hub"),
           "--partnership", str(parties.partnership_path), "--hub-key", str(parties.hub_key_path)]  # fmt: skip
    with process(cmd, env=prefect_server, log=log) as serve:
        wait_for(
            lambda: "Ctrl-C to stop" in log.read_text(),
            timeout=180, what="serve polling", proc=serve, log=log,
        )  # fmt: skip
        deployment = _api(prefect_server, "/deployments/name/fraudmatch-cycle/fraudmatch-cycle")
        assert deployment["schedules"][0]["schedule"]["cron"] == "0 6 2 * *"
        sent = time.monotonic()
        if sig == signal.SIGINT:
            os.killpg(serve.pid, sig)  # as a terminal sends Ctrl-C: the whole group
        else:
            serve.send_signal(sig)
        try:
            code = serve.wait(timeout=30)
        except subprocess.TimeoutExpired:
            code = None
        took = time.monotonic() - sent
    output = log.read_text()
    assert code == 0, output[-3000:]
    assert took < 10, f"serve took {took:.1f} s to stop"
    assert "Traceback" not in output and "Error" not in output, output[-3000:]
    assert f"stopped ({sig.name})" in output


def test_the_readme_recipe_runs_as_written(prefect_server: dict[str, str], tmp_path: Path) -> None:
    """After the exports and the server (the module's fixture), every line of the recipe in
    order, through bash, with no terminal to answer questions: each command succeeds and
    the last (the worker) keeps running and joins the pool."""
    port = int(prefect_server["PREFECT_API_URL"].split(":")[2].split("/")[0])
    lines = operator_recipe(port)
    server_at = next(i for i, line in enumerate(lines) if line.startswith("prefect server start"))
    assert all(line.startswith("export ") for line in lines[:server_at])
    *steps, worker_line = lines[server_at + 1 :]
    assert [line.split()[:2] for line in steps] == [
        ["prefect", "server"], ["prefect", "work-pool"], ["fraudmatch", "deploy"],
    ]  # fmt: skip
    assert worker_line.startswith("prefect worker start")

    # the operator's folder: partnership file and hub key where the recipe names them
    parties = _parties(tmp_path / "made", "15 6 2 * *")
    ops = tmp_path / "operator"
    (ops / "keys").mkdir(parents=True)
    shutil.copy(parties.partnership_path, ops / "partnership.yaml")
    shutil.copy(parties.hub_key_path, ops / "keys" / "hub.private")
    env = {**prefect_server, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    for line in steps:
        done = subprocess.run(
            ["bash", "-c", line], env=env, cwd=ops, stdin=subprocess.DEVNULL,
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, f"{line}\n{done.stdout}\n{done.stderr}"

    deployment = _api(env, "/deployments/name/fraudmatch-cycle/fraudmatch-cycle")
    (schedule,) = deployment["schedules"]
    assert (schedule["schedule"]["cron"], schedule["schedule"]["timezone"]) == (
        "15 6 2 * *", "Europe/London",
    )  # fmt: skip
    assert deployment["work_pool_name"] == "fraud-unit"
    assert deployment["parameters"]["workspace"] == str(ops / "hub")
    assert deployment["parameters"]["hub_key"] == str(ops / "keys" / "hub.private")

    def workers() -> set[str]:
        found = _api(env, "/work_pools/fraud-unit/workers/filter", {"limit": 50})
        return {w["name"] for w in found}

    earlier = workers()  # another test's worker may have polled this pool
    log = tmp_path / "worker.log"
    with process(["bash", "-c", f"exec {worker_line}"], env=env, log=log, cwd=ops) as worker:
        wait_for(
            lambda: workers() - earlier,
            timeout=180, what="the worker joined the pool", proc=worker, log=log,
        )  # fmt: skip
        assert worker.poll() is None, log.read_text()[-3000:]

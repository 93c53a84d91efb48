"""The package as a user installs it: ``python -m build`` makes a wheel and an sdist, and the
wheel, installed into a fresh virtual environment outside the checkout, finds its shipped
specification and rules and runs ``validate``, ``rules check`` and a small cycle (the
parking-permits example's commands, ``prepare`` to ``open``).

Offline and fast: the build runs without isolation (the backend is in the dev extra) and the
fresh environment reuses this one's installed dependencies through a ``.pth`` line rather
than downloading them (``pip install --no-deps``). This environment's editable fraudmatch is
not on that path: it is installed by a ``.pth`` file, which a ``.pth`` line does not run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest
from cli_steps import EXAMPLE, expand_globs, readme_commands

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("pyproject.toml", "README.md", "fraudmatch", "flows")
SHIPPED = (
    "fraudmatch/shipped/config/datasets.yaml",
    "fraudmatch/shipped/rules/payroll_to_payroll.yaml",
)


def run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{' '.join(args)}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The wheel and sdist, built from a copy of the sources (the checkout stays clean)."""
    src = tmp_path_factory.mktemp("src")
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=ignore)
        else:
            shutil.copy(path, src / name)
    dist = tmp_path_factory.mktemp("dist")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), str(src)], src, env
    )
    [wheel] = dist.glob("fraudmatch-*.whl")
    [sdist] = dist.glob("fraudmatch-*.tar.gz")
    return {"wheel": wheel, "sdist": sdist}


def test_the_wheel_and_sdist_hold_the_shipped_data(built: dict[str, Path]) -> None:
    names = set(zipfile.ZipFile(built["wheel"]).namelist())
    assert set(SHIPPED) <= names
    assert "flows/cycle.py" in names and "fraudmatch/shipped/__init__.py" in names
    assert not any(n.startswith(("tests/", "examples/")) for n in names)
    with tarfile.open(built["sdist"]) as sdist:
        members = {m.name.split("/", 1)[1] for m in sdist.getmembers() if "/" in m.name}
    assert set(SHIPPED) <= members


def test_the_installed_wheel_runs_a_cycle_outside_the_checkout(
    built: dict[str, Path], tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()
    )  # fmt: skip
    (site / "zz_shared_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(
        PREFECT_HOME=str(tmp_path / "prefect"),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="180",
    )
    pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet"]
    run([*pip, "--no-deps", "--no-index", str(built["wheel"])], tmp_path, env)

    work = tmp_path / "parking_permits"
    shutil.copytree(EXAMPLE, work)
    where = run([str(python), "-c", "import fraudmatch; print(fraudmatch.__file__)"], work, env)
    assert where.stdout.strip().startswith(str(site)), where.stdout
    fraudmatch = str(venv / "bin" / "fraudmatch")

    shipped = run([fraudmatch, "rules", "check"], work, env)
    assert "all rules check against the data specification" in shipped.stdout
    for args in readme_commands():
        run([fraudmatch, *expand_globs(args, work)], work, env)
    assert list((work / "cases").glob("*.cases.csv")), "open wrote no case list"

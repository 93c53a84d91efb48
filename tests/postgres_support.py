"""A throwaway PostgreSQL server for the tests: a real cluster in a temp folder.

Finds ``initdb``/``pg_ctl`` on PATH or under ``/usr/lib/postgresql/*/bin`` (Debian's
``postgresql`` package, which ``make test`` installs where missing), initialises a cluster
in a fresh temp folder and serves it on a Unix socket in that folder only (no TCP port,
fsync off). PostgreSQL refuses to run as root, so under root (CI) the cluster belongs to
the ``postgres`` user, or ``nobody``, through ``runuser``. One server per test process;
each test gets its own database. Skips, saying why, only where no binaries exist; in CI
that is a failure (the set-up must have installed them). No tests here.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI") == "true"
SUPERUSER = "fraudmatch"


def postgres_bin() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl``: PATH first, then the newest Debian one."""
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb and pg_ctl and Path(initdb).parent == Path(pg_ctl).parent:
        return Path(os.path.realpath(initdb)).parent
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: (
            int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0
        ),
    )
    return Path(found[-1]).parent if found else None


def _runner() -> tuple[list[str], str | None]:
    """The command prefix that runs the server as a non-root user, and that user."""
    if os.geteuid() != 0:
        return [], None
    for user in ("postgres", "nobody"):
        try:
            pwd.getpwnam(user)
        except KeyError:
            continue
        return ["runuser", "-u", user, "--"], user
    pytest.fail("running as root and neither a 'postgres' nor a 'nobody' user exists")


class Cluster:
    """One running PostgreSQL cluster; :meth:`database` makes a fresh, empty database."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.folder = Path(tempfile.mkdtemp(prefix="fm-pg-"))
        self.data = self.folder / "data"
        prefix, user = _runner()
        self._prefix = prefix
        if user is not None:
            entry = pwd.getpwnam(user)
            os.chown(self.folder, entry.pw_uid, entry.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", SUPERUSER, "--auth=trust",
                  "-E", "UTF8", "--no-locale", "-N")  # fmt: skip
        options = f"-k {self.folder} -c listen_addresses='' -F -c max_connections=60"
        self._run("pg_ctl", "-D", str(self.data), "-o", options,
                  "-l", str(self.folder / "server.log"), "-w", "-t", "60", "start")  # fmt: skip

    def _run(self, tool: str, *args: str) -> None:
        command = [*self._prefix, str(self.bindir / tool), *args]
        done = subprocess.run(command, capture_output=True, text=True, cwd=self.folder)
        if done.returncode != 0:
            log = self.folder / "server.log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise RuntimeError(f"{tool} failed: {done.stderr or done.stdout}\n{tail}")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{SUPERUSER}@/{database}?host={self.folder}"

    def database(self) -> str:
        """A new empty database's URL."""
        import sqlalchemy as sa

        name = f"t_{uuid.uuid4().hex[:12]}"
        eng = sa.create_engine(self.url(), isolation_level="AUTOCOMMIT")
        with eng.connect() as con:
            con.execute(sa.text(f'CREATE DATABASE "{name}"'))
        eng.dispose()
        return self.url(name)

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[Cluster]:
    bindir = postgres_bin()
    if bindir is None:
        reason = (
            "PostgreSQL binaries (initdb, pg_ctl) not found on PATH or under "
            "/usr/lib/postgresql/*/bin: run 'make postgres' (apt-get install postgresql)"
        )
        if IN_CI:
            pytest.fail(f"{reason}; in CI the set-up must install them", pytrace=False)
        print(f"skipping the PostgreSQL tests: {reason}")
        pytest.skip(reason)
    cluster = Cluster(bindir)
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def postgres_url(postgres_cluster: Cluster) -> str:
    """A fresh PostgreSQL database on the test process's throwaway server."""
    return postgres_cluster.database()

"""Real drop servers for tests: OpenSSH's sshd on loopback, moto's standalone S3 server,
and a TCP relay that cuts a connection after so many bytes (a link that drops mid-fetch).

sshd logs its users in as a non-root user: the one running the tests, or ``nobody`` when
the tests run as root (then sshd itself runs as root, as it must to switch users, bound to
127.0.0.1 only). The drop folders belong to that user, so its permissions are real.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from tests.servers import free_port, process, wait_for

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"


def sshd_missing() -> str | None:
    """Why the SFTP tests cannot run here (None: they can)."""
    if not Path(SSHD).is_file():
        return f"no OpenSSH server ({SSHD}): `make sshd` installs Debian's openssh-server"
    if not shutil.which("ssh-keygen"):
        return "no ssh-keygen: `make sshd` installs Debian's openssh-client"
    return None


@dataclass
class SftpServer:
    port: int
    root: Path  # the server's folder for drops, owned by ``user``
    user: str
    client_key: Path
    known_hosts: Path

    def folder(self, *parts: str) -> Path:
        """A folder under the drop root, made and owned by the server's user."""
        path = self.root.joinpath(*parts)
        path.mkdir(parents=True, exist_ok=True)
        self.own(path)
        return path

    def own(self, path: Path) -> None:
        """Give ``path`` and the folders above it (up to the root) to the server's user."""
        if os.geteuid() != 0:
            return
        entry = pwd.getpwnam(self.user)
        while True:
            os.chown(path, entry.pw_uid, entry.pw_gid)
            if path == self.root or self.root not in path.parents:
                break
            path = path.parent

    def known_hosts_for(self, port: int) -> str:
        """A known_hosts file naming this server's key at ``port`` too (a relay's)."""
        path = self.known_hosts.with_name(f"known_hosts_{port}")
        key = self.known_hosts.read_text().split(" ", 1)[1]
        path.write_text(f"[127.0.0.1]:{port} {key}")
        return str(path)

    def options(self, **more: object) -> dict[str, object]:
        """Drop options for operator.yaml that reach this server."""
        return {
            "host": "127.0.0.1",
            "port": self.port,
            "user": self.user,
            "key_file": str(self.client_key),
            "known_hosts": str(self.known_hosts),
            "timeout": 5,
            "settle_seconds": 0,
            **more,
        }


def _keygen(path: Path) -> None:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)],
        check=True,
        capture_output=True,
    )


@contextmanager
def sftp_server() -> Iterator[SftpServer]:
    """sshd with only SFTP, key login for one non-root user, on a free loopback port."""
    base = Path(tempfile.mkdtemp(prefix="fraudmatch-sshd-"))
    base.chmod(0o755)  # the login user must reach the drop root below
    as_root = os.geteuid() == 0
    user = "nobody" if as_root else pwd.getpwuid(os.geteuid()).pw_name
    try:
        _keygen(base / "host_key")
        _keygen(base / "client_key")
        shutil.copy(base / "client_key.pub", base / "authorized_keys")
        port = free_port()
        host_key = (base / "host_key.pub").read_text().split()[:2]
        (base / "known_hosts").write_text(f"[127.0.0.1]:{port} {' '.join(host_key)}\n")
        (base / "sshd_config").write_text(
            f"Port {port}\nListenAddress 127.0.0.1\nHostKey {base / 'host_key'}\n"
            f"PidFile {base / 'sshd.pid'}\nAuthorizedKeysFile {base / 'authorized_keys'}\n"
            "PasswordAuthentication no\nKbdInteractiveAuthentication no\n"
            "PubkeyAuthentication yes\nUsePAM no\nStrictModes no\n"
            f"AllowUsers {user}\nSubsystem sftp internal-sftp\nLogLevel VERBOSE\n"
        )
        if as_root:
            Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # its privilege separation
        server = SftpServer(port, base / "drops", user, base / "client_key", base / "known_hosts")
        server.folder()
        log = base / "sshd.log"
        cmd = [SSHD, "-D", "-e", "-f", str(base / "sshd_config")]
        with process(cmd, env=os.environ, log=log) as proc:
            wait_for(
                lambda: socket.create_connection(("127.0.0.1", port), timeout=1).close() or True,
                timeout=20,
                what="sshd listening",
                proc=proc,
                log=log,
                interval=0.1,
            )
            yield server
    finally:
        shutil.rmtree(base, ignore_errors=True)


@dataclass
class S3Server:
    port: int

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def options(self, **more: object) -> dict[str, object]:
        return {
            "endpoint_url": self.endpoint,
            "key_env": "FRAUDMATCH_TEST_S3_KEY",
            "secret_env": "FRAUDMATCH_TEST_S3_SECRET",
            "region": "eu-west-2",
            "timeout": 5,
            **more,
        }

    def filesystem(self):
        import s3fs

        return s3fs.S3FileSystem(
            key="testing",
            secret="testing",
            endpoint_url=self.endpoint,
            client_kwargs={"region_name": "eu-west-2"},
            skip_instance_cache=True,
        )


def s3_missing() -> str | None:
    try:
        import moto.server  # noqa: F401
        import s3fs  # noqa: F401
    except ImportError as exc:
        return f"moto[server] or s3fs not installed ({exc}): pip install -e '.[dev]'"
    return None


@contextmanager
def s3_server(log_dir: Path) -> Iterator[S3Server]:
    """moto's standalone S3 server (the real S3 protocol over HTTP) on a free port."""
    port = free_port()
    log = log_dir / "moto.log"
    cmd = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    env = {**os.environ, "AWS_DEFAULT_REGION": "eu-west-2"}
    with process(cmd, env=env, log=log) as proc:
        wait_for(
            lambda: socket.create_connection(("127.0.0.1", port), timeout=1).close() or True,
            timeout=30,
            what="moto S3 server listening",
            proc=proc,
            log=log,
            interval=0.1,
        )
        yield S3Server(port)


class CuttingRelay:
    """A TCP relay to ``target`` that closes each connection once ``cut_after`` bytes have
    gone from the server to the client: a network link that drops mid-transfer."""

    def __init__(self, target: int, cut_after: int) -> None:
        self.target = target
        self.cut_after = cut_after
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.cuts = 0
        self._stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.target))
            threading.Thread(target=self._pump, args=(client, server, None), daemon=True).start()
            threading.Thread(
                target=self._pump, args=(server, client, self.cut_after), daemon=True
            ).start()

    def _pump(self, src: socket.socket, dst: socket.socket, limit: int | None) -> None:
        sent = 0
        try:
            while chunk := src.recv(16384):
                if limit is not None and sent + len(chunk) > limit:
                    self.cuts += 1
                    break
                dst.sendall(chunk)
                sent += len(chunk)
        except OSError:
            pass
        for sock in (src, dst):
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def close(self) -> None:
        self._stop.set()
        self.listener.close()

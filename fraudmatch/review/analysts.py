"""Named analysts of the review app: password hashes and the session-signing secret.

``workspace/analysts.yaml`` lists each analyst's name and a salted scrypt hash of their
password (never the password). ``workspace/.review-secret`` holds 32 random bytes, mode
0600, that sign session cookies and form tokens; deleting it logs everyone out.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path

import yaml

from fraudmatch.common.fsutil import atomic_path

ANALYSTS_FILE = "analysts.yaml"
SECRET_FILE = ".review-secret"
NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9._-]{0,63}$")
MIN_PASSWORD = 10
ROLES = ("analyst", "lead")
"""A lead allocates cases to analysts (and works cases too); an analyst works cases."""
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}

__all__ = [
    "AnalystError",
    "add_analyst",
    "hash_password",
    "load_analysts",
    "load_roles",
    "remove_analyst",
    "session_secret",
    "set_role",
    "verify_password",
]


class AnalystError(ValueError):
    """An analyst cannot be added or loaded as given; the message says why."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """``scrypt$n$r$p$salt$hash``: a salted, memory-hard hash (hashlib, no extra package)."""
    salt = salt or os.urandom(16)
    n, r, p = _SCRYPT["n"], _SCRYPT["r"], _SCRYPT["p"]
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=32)
    return f"scrypt${n}${r}${p}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches a :func:`hash_password` string (constant-time compare)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        got = hashlib.scrypt(
            password.encode(), salt=_unb64(salt), n=int(n), r=int(r), p=int(p), dklen=32
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, _unb64(digest))


def analysts_path(workspace_root: Path | str) -> Path:
    return Path(workspace_root) / ANALYSTS_FILE


def load_analysts(workspace_root: Path | str) -> dict[str, str]:
    """Analyst name -> password hash; empty when nobody was added yet."""
    path = analysts_path(workspace_root)
    if not path.exists():
        return {}
    doc = yaml.safe_load(path.read_text()) or {}
    entries = doc.get("analysts") if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        raise AnalystError(f"{path}: expected a mapping with an 'analysts' list")
    users: dict[str, str] = {}
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or not {"name", "password_hash"} <= entry.keys():
            raise AnalystError(f"{path}: analysts[{i}]: expected name and password_hash")
        users[str(entry["name"])] = str(entry["password_hash"])
    return users


def load_roles(workspace_root: Path | str) -> dict[str, str]:
    """Analyst name -> role (``analyst`` when the file names none, as before roles)."""
    path = analysts_path(workspace_root)
    if not path.exists():
        return {}
    doc = yaml.safe_load(path.read_text()) or {}
    entries = doc.get("analysts") if isinstance(doc, dict) else None
    roles = {}
    for i, entry in enumerate(entries or []):
        if isinstance(entry, dict) and "name" in entry:
            role = str(entry.get("role") or "analyst")
            if role not in ROLES:
                raise AnalystError(
                    f"{path}: analysts[{i}]: role {role!r}: use one of {', '.join(ROLES)}"
                )
            roles[str(entry["name"])] = role
    return roles


def set_role(workspace_root: Path | str, name: str, role: str) -> Path:
    """Make an existing analyst a lead or an analyst; returns the users file."""
    root = Path(workspace_root)
    users = load_analysts(root)
    if name not in users:
        raise AnalystError(f"no analyst {name!r} in {analysts_path(root)}")
    if role not in ROLES:
        raise AnalystError(f"role {role!r}: use one of {', '.join(ROLES)}")
    return _write(root, users, {**load_roles(root), name: role})


def add_analyst(
    workspace_root: Path | str, name: str, password: str, *, role: str | None = None
) -> Path:
    """Add an analyst, or set a new password for an existing one (keeping their role
    unless ``role`` is given); returns the users file."""
    if not NAME_RE.match(name):
        raise AnalystError(
            f"analyst name {name!r}: use letters, digits, '.', '_' or '-', starting with a "
            "letter (at most 64 characters)"
        )
    if len(password) < MIN_PASSWORD:
        raise AnalystError(f"password too short: use at least {MIN_PASSWORD} characters")
    root = Path(workspace_root)
    if not root.is_dir():
        raise AnalystError(f"{root}: no such workspace folder")
    if role is not None and role not in ROLES:
        raise AnalystError(f"role {role!r}: use one of {', '.join(ROLES)}")
    users = load_analysts(root)
    roles = load_roles(root)
    users[name] = hash_password(password)
    roles[name] = role or roles.get(name, "analyst")
    return _write(root, users, roles)


def remove_analyst(workspace_root: Path | str, name: str) -> Path:
    """Take an analyst off the users file (their outcomes and audit entries stay)."""
    root = Path(workspace_root)
    users = load_analysts(root)
    if name not in users:
        known = ", ".join(sorted(users)) or "none yet"
        raise AnalystError(f"no analyst {name!r} in {analysts_path(root)} (analysts: {known})")
    del users[name]
    return _write(root, users, load_roles(root))


def _write(root: Path, users: Mapping[str, str], roles: Mapping[str, str]) -> Path:
    doc = {
        "analysts": [
            {"name": n, "role": roles.get(n, "analyst"), "password_hash": h}
            for n, h in sorted(users.items())
        ]
    }
    path = analysts_path(root)
    with atomic_path(path, mode=0o600) as tmp:
        tmp.write_text(
            "# fraudmatch review analysts: scrypt password hashes, never passwords.\n"
            "# Add or change one with: fraudmatch review add-analyst NAME [--role lead]\n"
            + yaml.safe_dump(doc, sort_keys=False)
        )
    return path


def session_secret(workspace_root: Path | str) -> bytes:
    """The workspace's session-signing secret, created (0600) on first use."""
    path = Path(workspace_root) / SECRET_FILE
    if not path.exists():
        data = secrets.token_bytes(32)
        fd = None
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            os.write(fd, data)
            os.fsync(fd)
        except FileExistsError:
            pass  # another process made it first: use theirs
        finally:
            if fd is not None:
                os.close(fd)
    data = path.read_bytes()
    if len(data) < 32:
        raise AnalystError(f"{path}: session secret is damaged; delete it to make a new one")
    return data


def users_from(source: Mapping[str, str] | None, workspace_root: Path | str) -> dict[str, str]:
    """The users a login is checked against: the given mapping, else the users file."""
    return dict(source) if source is not None else load_analysts(workspace_root)

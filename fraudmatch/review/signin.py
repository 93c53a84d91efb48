"""Sign-in for the review app: server-side sessions and throttled, audited attempts.

A session is a random token in the analyst's cookie; the database keeps only its SHA-256,
so a copy of the database opens nothing. A session ends at sign-out, when the analyst's
password changes or the analyst is removed, after :data:`IDLE_SECONDS` without a request,
and :data:`LIFETIME_SECONDS` after sign-in, whichever comes first: a replayed cookie then
opens nothing.

Failed sign-ins slow the next ones down, per name typed and per address: after
:data:`FREE_FAILURES_PER_NAME` (or :data:`FREE_FAILURES_PER_ADDRESS`) failures in
:data:`WINDOW_SECONDS`, each further attempt must wait twice as long as the one before,
up to :data:`MAX_DELAY_SECONDS`, whether or not its password would be right. The name
typed is kept only as a keyed digest (people type passwords into the name field); every
attempt, refused or not, and every sign-out goes to the audit trail without the password.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from fraudmatch.review import analysts
from fraudmatch.review import outcomes as oc
from fraudmatch.review.schema import sessions_table, signin_attempts_table

COMMAND_LINE = "(command line)"
"""Who the analyst commands (add, remove, new password, role) are audited as."""

IDLE_SECONDS = 30 * 60
LIFETIME_SECONDS = 8 * 3600
TOUCH_SECONDS = 30
"""A session's last-seen time is written at most this often (one write, not one a page)."""
WINDOW_SECONDS = 15 * 60
FREE_FAILURES_PER_NAME = 3
FREE_FAILURES_PER_ADDRESS = 10
MAX_DELAY_SECONDS = 15 * 60

__all__ = ["SessionStore", "Throttle", "remove_analyst", "set_password", "token_digest"]


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Session:
    id: str
    analyst: str


class SessionStore:
    """Sessions in the review database (SQLite or PostgreSQL, see :mod:`.outcomes`)."""

    def __init__(
        self, url: str, *, idle: int = IDLE_SECONDS, lifetime: int = LIFETIME_SECONDS
    ) -> None:
        self.url = url
        self.idle = timedelta(seconds=idle)
        self.lifetime = timedelta(seconds=lifetime)

    def open(self, analyst: str, address: str | None) -> str:
        """Start a session; returns the token for the cookie (never stored)."""
        token = secrets.token_urlsafe(32)
        now = _now()
        with oc.engine(self.url).begin() as con:
            con.execute(
                sa.insert(sessions_table).values(
                    id=token_digest(token),
                    analyst=analyst,
                    address=(address or "")[:64] or None,
                    created_at=now,
                    last_seen_at=now,
                    expires_at=now + self.lifetime,
                )
            )
        return token

    def check(self, token: str | None) -> Session | None:
        """The live session of a cookie, or None (unknown, revoked, idle or expired)."""
        if not token or len(token) > 200:
            return None
        t = sessions_table
        key = token_digest(token)
        now = _now()
        with oc.engine(self.url).connect() as con:
            row = con.execute(sa.select(t).where(t.c.id == key)).mappings().first()
        if row is None or row["revoked_at"] is not None:
            return None
        last_seen = _aware(row["last_seen_at"])
        if now >= _aware(row["expires_at"]) or now - last_seen >= self.idle:
            return None
        if now - last_seen >= timedelta(seconds=TOUCH_SECONDS):
            with oc.engine(self.url).begin() as con:
                con.execute(sa.update(t).where(t.c.id == key).values(last_seen_at=now))
        return Session(key, row["analyst"])

    def revoke(self, token_or_id: str, because: str, *, is_id: bool = False) -> None:
        key = token_or_id if is_id else token_digest(token_or_id)
        t = sessions_table
        with oc.engine(self.url).begin() as con:
            con.execute(
                sa.update(t)
                .where(t.c.id == key, t.c.revoked_at.is_(None))
                .values(revoked_at=_now(), revoked_because=because)
            )

    def revoke_analyst(self, analyst: str, because: str) -> int:
        """End every live session of one analyst; returns how many."""
        t = sessions_table
        with oc.engine(self.url).begin() as con:
            done = con.execute(
                sa.update(t)
                .where(t.c.analyst == analyst, t.c.revoked_at.is_(None))
                .values(revoked_at=_now(), revoked_because=because)
            )
        return done.rowcount or 0


def set_password(
    workspace_root: Path | str, name: str, password: str, *, url: str | None = None
) -> int:
    """Give an existing analyst a new password and end their sessions; returns how many."""
    root = Path(workspace_root)
    if name not in analysts.load_analysts(root):
        raise analysts.AnalystError(
            f"no analyst {name!r} in {analysts.analysts_path(root)}: add them with "
            "'fraudmatch review add-analyst'"
        )
    analysts.add_analyst(root, name, password)
    return _ended(root, url, name, "password changed")


def add_new_analyst(
    workspace_root: Path | str,
    name: str,
    password: str,
    *,
    role: str | None = None,
    url: str | None = None,
) -> Path:
    """Add an analyst who may sign in from now on, audited (without the password)."""
    root = Path(workspace_root)
    path = analysts.add_analyst(root, name, password, role=role)
    oc.log_action(url or oc.default_url(root), COMMAND_LINE, "analyst added",
                  {"analyst": name, "role": role or "analyst"})  # fmt: skip
    return path


def change_role(
    workspace_root: Path | str, name: str, role: str, *, url: str | None = None
) -> Path:
    """Make an analyst a lead (who allocates) or an analyst again, audited."""
    root = Path(workspace_root)
    path = analysts.set_role(root, name, role)
    oc.log_action(url or oc.default_url(root), COMMAND_LINE, "role changed",
                  {"analyst": name, "role": role})  # fmt: skip
    return path


def remove_analyst(workspace_root: Path | str, name: str, *, url: str | None = None) -> int:
    """Remove an analyst and end their sessions; returns how many ended."""
    root = Path(workspace_root)
    analysts.remove_analyst(root, name)
    return _ended(root, url, name, "analyst removed")


def _ended(root: Path, url: str | None, name: str, because: str) -> int:
    url = url or oc.default_url(root)
    ended = SessionStore(url).revoke_analyst(name, because)
    oc.log_action(url, COMMAND_LINE, because, {"analyst": name, "sessions_ended": ended})
    return ended


class Throttle:
    """Growing delays after failed sign-ins, per name typed and per address."""

    def __init__(self, url: str, key: bytes) -> None:
        self.url = url
        self._key = hashlib.sha256(b"fraudmatch-signin-names\x00" + key).digest()

    def name_digest(self, name: str) -> str:
        return hmac.new(self._key, name.strip().lower().encode(), hashlib.sha256).hexdigest()

    def wait(self, name: str, address: str) -> int:
        """Seconds before an attempt for this name from this address may be checked."""
        now = _now()
        by_name = self._failures(signin_attempts_table.c.name_digest == self.name_digest(name))
        by_address = self._failures(signin_attempts_table.c.address == address[:64])
        waits = [
            _remaining(by_name, FREE_FAILURES_PER_NAME, now),
            _remaining(by_address, FREE_FAILURES_PER_ADDRESS, now),
        ]
        return max(waits)

    def record(self, name: str, address: str, ok: bool) -> None:
        with oc.engine(self.url).begin() as con:
            con.execute(
                sa.insert(signin_attempts_table).values(
                    at=_now(), name_digest=self.name_digest(name), address=address[:64], ok=ok
                )
            )

    def _failures(self, which: sa.ColumnElement[bool]) -> list[datetime]:
        """Failure times (oldest first) in the window since the last success."""
        t = signin_attempts_table
        since = _now() - timedelta(seconds=WINDOW_SECONDS)
        with oc.engine(self.url).connect() as con:
            rows = con.execute(
                sa.select(t.c.at, t.c.ok).where(which, t.c.at >= since).order_by(t.c.id)
            ).all()
        failures: list[datetime] = []
        for at, ok in rows:
            failures = [] if ok else [*failures, _aware(at)]
        return failures


def _remaining(failures: list[datetime], free: int, now: datetime) -> int:
    """2, 4, 8, ... seconds after the last failure once ``free`` failures are used up."""
    over = len(failures) - free
    if over < 0:
        return 0
    delay = min(2 ** (over + 1), MAX_DELAY_SECONDS)
    left = (failures[-1] + timedelta(seconds=delay) - now).total_seconds()
    return max(0, int(left + 0.999))

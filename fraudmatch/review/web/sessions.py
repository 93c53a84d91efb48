"""Session cookies backed by the server-side store, and per-session CSRF tokens.

The cookie holds the random token of a :class:`~fraudmatch.review.signin.SessionStore`
session; a form's CSRF token is an HMAC of the session's id under the workspace secret.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from fraudmatch.review.analysts import _b64
from fraudmatch.review.signin import LIFETIME_SECONDS, SessionStore

COOKIE = "fraudmatch_session"
SESSION_SECONDS = LIFETIME_SECONDS


class Sessions:
    """Cookies to sessions and back; CSRF tokens bound to the session."""

    def __init__(self, secret: bytes, store: SessionStore) -> None:
        self._key = hashlib.sha256(b"fraudmatch-review-session\x00" + secret).digest()
        self.store = store
        self.lifetime = int(store.lifetime.total_seconds())

    def issue(self, user: str, address: str | None = None) -> str:
        """A new session's cookie value."""
        return self.store.open(user, address)

    def read(self, cookie: str | None) -> dict[str, Any] | None:
        """``{"u": analyst, "n": session id}`` of a live session, else None."""
        session = self.store.check(cookie)
        return {"u": session.analyst, "n": session.id} if session else None

    def end(self, cookie: str | None, because: str) -> None:
        if cookie:
            self.store.revoke(cookie, because)

    def csrf(self, session: Mapping[str, Any]) -> str:
        return _b64(hmac.new(self._key, f"csrf\x00{session['n']}".encode(), "sha256").digest())

    def check_csrf(self, session: Mapping[str, Any], token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(self.csrf(session), str(token))

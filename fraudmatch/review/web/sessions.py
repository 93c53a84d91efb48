"""Signed, expiring session cookies and per-session CSRF tokens (HMAC-SHA256)."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Mapping
from typing import Any

from fraudmatch.review.analysts import _b64, _unb64

COOKIE = "fraudmatch_session"
SESSION_SECONDS = 8 * 3600


class Sessions:
    """Signed, expiring session cookies and per-session CSRF tokens (HMAC-SHA256)."""

    def __init__(self, secret: bytes, lifetime: int = SESSION_SECONDS) -> None:
        self._key = hashlib.sha256(b"fraudmatch-review-session\x00" + secret).digest()
        self.lifetime = lifetime

    def _sign(self, payload: bytes) -> str:
        return _b64(hmac.new(self._key, payload, hashlib.sha256).digest())

    def issue(self, user: str) -> str:
        body = json.dumps(
            {"u": user, "exp": int(time.time()) + self.lifetime, "n": secrets.token_hex(16)},
            separators=(",", ":"),
        ).encode()
        return f"{_b64(body)}.{self._sign(body)}"

    def read(self, cookie: str | None) -> dict[str, Any] | None:
        if not cookie or "." not in cookie:
            return None
        body_text, signature = cookie.rsplit(".", 1)
        try:
            body = _unb64(body_text)
        except ValueError:
            return None
        if not hmac.compare_digest(self._sign(body), signature):
            return None
        try:
            session = json.loads(body)
        except ValueError:
            return None
        if not isinstance(session, dict) or session.get("exp", 0) < time.time():
            return None
        return session

    def csrf(self, session: Mapping[str, Any]) -> str:
        return self._sign(f"csrf\x00{session['n']}".encode())

    def check_csrf(self, session: Mapping[str, Any], token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(self.csrf(session), str(token))

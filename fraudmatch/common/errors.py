"""Which exceptions are a user's to fix (bad file, key, rule) rather than a bug.

The CLI prints these as one line naming the file and cause, without a traceback.
"""

from __future__ import annotations

USER_ERRORS: tuple[type[BaseException], ...] = (ValueError, KeyError, OSError)

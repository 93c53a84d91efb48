"""Did-you-mean hints for every place a user types a name: keys, columns, datasets."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """``; did you mean 'x'?`` for the closest known name (or one ``name`` starts), else ``""``."""
    known = sorted(known)
    near = difflib.get_close_matches(name, known, n=1)
    if not near and len(name) >= 3:
        near = [k for k in known if k.startswith(name)][:1]
    return f"; did you mean {near[0]!r}?" if near else ""

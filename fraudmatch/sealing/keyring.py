"""Keys over time: which of a party's key pairs is valid for which period, and the private
keys a party holds while it rotates them.

A party replaces its key pair (staff leaving, a laptop lost, a yearly routine) with
``fraudmatch keys rotate NAME --from PERIOD``: the new pair is written beside the current one
as ``<name>.<period>.private`` / ``.public``, never over it. The partnership file then lists
the party's keys, each with the first period it is used for (``from``) and, optionally, the
last period it is still accepted (``until``), which may run past the next key's ``from``:
the overlap in which files sealed to, or signed with, the previous key still open.

* :class:`KeySchedule` is that list for one party, as every party holds it: the key to seal
  to or sign with for a period (:meth:`KeySchedule.current`), and whether a key a file names
  is valid for the file's period (:meth:`KeySchedule.check`).
* :class:`Keyring` is a party's own private keys: the ``.private`` file given plus every
  ``<name>.*.private`` beside it, chosen by fingerprint.

Periods are compared by month (``2027-01`` and ``2027-01-31`` are the same key period).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from fraudmatch.sealing.keys import (
    KeyFileError,
    PartyKeys,
    PublicIdentity,
    key_period,
    load_private,
    public_identity_to_text,
    write_new_pair,
)

__all__ = [
    "KeySchedule",
    "KeyValidityError",
    "Keyring",
    "ValidKey",
    "as_keyring",
    "load_keyring",
    "next_month",
    "previous_month",
    "rotate_party",
]


class KeyValidityError(ValueError):
    """A key is not one the partnership lists for the party, or not valid for the period."""


def _month(value: object, what: str) -> str:
    """A month ``YYYY-MM`` (a full date, as YAML may read ``2027-01-01``, gives its month)."""
    text = str(value)
    try:
        return key_period(text)
    except ValueError:
        raise ValueError(f"{what}: expected a period such as 2027-01, not {text!r}") from None


def previous_month(month: str) -> str:
    year, mon = int(month[:4]), int(month[5:7])
    return f"{year - 1}-12" if mon == 1 else f"{year}-{mon - 1:02d}"


def next_month(month: str, by: int = 1) -> str:
    index = int(month[:4]) * 12 + int(month[5:7]) - 1 + by
    return f"{index // 12}-{index % 12 + 1:02d}"


@dataclass(frozen=True)
class ValidKey:
    """One public key of a party and the months it is valid for (both ends included)."""

    public: PublicIdentity
    start: str | None = None  # first month; None: every period before the next key's
    last: str | None = None  # last month still accepted; None: no end
    until: str | None = None  # as the partnership file states it (None: not stated)

    def covers(self, month: str) -> bool:
        return (self.start is None or self.start <= month) and (
            self.last is None or month <= self.last
        )

    def describe(self) -> str:
        start = f"from {self.start}" if self.start else "from the first period"
        return f"{start} until {self.last}" if self.last else f"{start} onwards"


@dataclass(frozen=True)
class KeySchedule:
    """A party's public keys, oldest first, each with the months it is valid for."""

    name: str
    keys: tuple[ValidKey, ...]

    @classmethod
    def single(cls, identity: PublicIdentity) -> KeySchedule:
        """The one key of a party that never rotated: valid for every period."""
        return cls(identity.name, (ValidKey(identity),))

    @classmethod
    def build(
        cls, name: str, entries: Sequence[tuple[PublicIdentity, object, object]]
    ) -> KeySchedule:
        """From (key, from, until) entries in the partnership file's order; a ValueError
        names the entry (``keys[i]``) and what is wrong."""
        if not entries:
            raise ValueError("keys: at least one key is needed")
        starts: list[str | None] = []
        untils: list[str | None] = []
        seen: set[str] = set()
        for i, (public, start, until) in enumerate(entries):
            if public.fingerprint in seen:
                raise ValueError(f"keys[{i}]: the same key is listed twice")
            seen.add(public.fingerprint)
            if start is None and i:
                raise ValueError(f"keys[{i}].from: every key after the first needs its period")
            starts.append(None if start is None else _month(start, f"keys[{i}].from"))
            untils.append(None if until is None else _month(until, f"keys[{i}].until"))
            before = starts[i - 1] if i else None
            if before is not None and starts[i] <= before:  # type: ignore[operator]
                raise ValueError(f"keys[{i}].from: each key must start after the one before")
            if untils[i] and starts[i] and untils[i] < starts[i]:  # type: ignore[operator]
                raise ValueError(f"keys[{i}].until: before its own from")
        keys = []
        for i, (public, _, _) in enumerate(entries):
            following = starts[i + 1] if i + 1 < len(entries) else None
            last = untils[i] or (previous_month(following) if following else None)
            if following and untils[i] and untils[i] < previous_month(following):  # type: ignore[operator]
                raise ValueError(
                    f"keys[{i}].until: ends before keys[{i + 1}] starts ({following}): "
                    "no key would be valid in between"
                )
            keys.append(ValidKey(public, starts[i], last, untils[i]))
        return cls(name, tuple(keys))

    @property
    def newest(self) -> PublicIdentity:
        return self.keys[-1].public

    def current(self, period: str) -> PublicIdentity:
        """The key to seal to (or sign with) for ``period``: the latest one begun by then."""
        month = key_period(period)
        begun = [k for k in self.keys if k.start is None or k.start <= month]
        if not begun or not begun[-1].covers(month):
            raise KeyValidityError(
                f"no key of {self.name!r} is valid for period {month} (its keys: {self._listing()})"
            )
        return begun[-1].public

    def check(self, fingerprint: str, period: str) -> PublicIdentity:
        """The key with ``fingerprint`` if it is valid for ``period``; else why not."""
        month = key_period(period)
        for key in self.keys:
            if key.public.fingerprint == fingerprint:
                if key.covers(month):
                    return key.public
                raise KeyValidityError(
                    f"key {fingerprint} of {self.name!r} is valid {key.describe()}; period "
                    f"{month} is outside its validity"
                )
        raise KeyValidityError(
            f"key {fingerprint}, which is not a key of {self.name!r} in the partnership "
            f"(its keys: {self._listing()}): {self.name!r} has new keys not yet listed, or "
            "someone else made this file; confirm the fingerprint with them"
        )

    def _listing(self) -> str:
        return "; ".join(f"{k.public.fingerprint} {k.describe()}" for k in self.keys)


@dataclass(frozen=True, repr=False)
class Keyring:
    """A party's own private keys (current and, during an overlap, previous), by fingerprint.

    Like :class:`PartyKeys`, never pickled: tasks load it from the ``.private`` path.
    """

    name: str
    keys: tuple[PartyKeys, ...]
    sources: tuple[str, ...] = ()

    def get(self, fingerprint: str) -> PartyKeys | None:
        return next((k for k in self.keys if k.fingerprint == fingerprint), None)

    @property
    def fingerprints(self) -> list[str]:
        return [k.fingerprint for k in self.keys]

    def holds_any(self, schedule: KeySchedule) -> bool:
        return any(self.get(k.public.fingerprint) for k in schedule.keys)

    def for_period(self, schedule: KeySchedule, period: str) -> PartyKeys:
        """The private key of the partnership's current key of this party for ``period``."""
        wanted = schedule.current(period)
        keys = self.get(wanted.fingerprint)
        if keys is None:
            raise KeyFileError(
                f"the partnership's key of {self.name!r} for period {key_period(period)} is "
                f"{wanted.fingerprint}, but {self.where()} hold(s) "
                f"{', '.join(self.fingerprints)}: put its .private file beside the others "
                "(or correct the partnership file)"
            )
        return keys

    def where(self) -> str:
        """The key files, for messages (never their contents)."""
        return ", ".join(self.sources) or f"the key given for {self.name!r}"

    def __repr__(self) -> str:
        return f"Keyring(name={self.name!r}, fingerprints={self.fingerprints}, private=<hidden>)"

    __str__ = __repr__

    def __reduce__(self) -> object:
        raise TypeError("a Keyring cannot be pickled: private keys must not leave their files")


def as_keyring(keys: PartyKeys | Keyring) -> Keyring:
    return keys if isinstance(keys, Keyring) else Keyring(keys.name, (keys,))


def _ring_files(path: Path) -> list[Path]:
    base = path.name.split(".")[0]
    found = {path, *path.parent.glob(f"{base}.private"), *path.parent.glob(f"{base}.*.private")}
    return sorted(p for p in found if p == path or p.is_file())


def load_keyring(path: str | os.PathLike[str]) -> Keyring:
    """The ``.private`` file given and every ``<name>.*.private`` beside it (the pairs
    ``keys rotate`` writes), each refused unless only its owner can read it."""
    path = Path(path)
    files = _ring_files(path)
    keys = [load_private(p) for p in files]
    names = {k.name for k in keys}
    if len(names) != 1:
        listed = ", ".join(f"{p.name} ({k.name})" for p, k in zip(files, keys, strict=True))
        raise KeyFileError(f"{path}: the key files beside it belong to several parties: {listed}")
    return Keyring(keys[0].name, tuple(keys), tuple(str(p) for p in files))


def rotate_party(name: str, out_dir: Path, start: str) -> tuple[Path, Path, PublicIdentity]:
    """A new key pair for ``name`` used from ``start``: ``<name>.<start>.private`` (0600) and
    ``.public`` in ``out_dir``; existing files are never overwritten."""
    start = _month(start, "--from")
    return write_new_pair(name, Path(out_dir), f"{name}.{start}")


def rotated(schedule: KeySchedule, new: PublicIdentity, start: str, overlap: int) -> KeySchedule:
    """``schedule`` with ``new`` used from ``start``; the key before it stays accepted for
    ``overlap`` months from ``start`` (0: it ends the month before)."""
    if overlap < 0:
        raise ValueError(f"--overlap: a number of months from 0, not {overlap}")
    start = _month(start, "--from")
    entries: list[tuple[PublicIdentity, object, object]] = [
        (k.public, k.start, k.until) for k in schedule.keys
    ]
    public, begun, _ = entries[-1]
    entries[-1] = (public, begun, next_month(start, overlap - 1) if overlap else None)
    entries.append((new, start, None))
    return KeySchedule.build(schedule.name, entries)


def schedule_yaml(schedule: KeySchedule, *, indent: int = 2) -> str:
    """The ``keys:`` block of a party for the partnership file, every key inline."""
    pad = " " * indent
    lines = ["keys:"]
    for key in schedule.keys:
        first = True
        for label, value in (("from", key.start), ("until", key.until)):
            if value:
                lines.append(f"{pad}{'- ' if first else '  '}{label}: '{value}'")
                first = False
        lines.append(f"{pad}{'- ' if first else '  '}public_key: |")
        lines += [f"{pad}    {line}" for line in public_identity_to_text(key.public).splitlines()]
    return "\n".join(lines)

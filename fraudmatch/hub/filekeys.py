"""Whether the keys a sealed file's clear header names are valid for its period.

Collection asks before it decrypts: the sender's signing key and the hub key the file is
sealed to must be keys the partnership lists for the file's period (the hub's previous key
only during a stated overlap). A key outside its validity is the file's fault (refused with
the reason); a valid hub key whose private file the hub does not hold is the hub's set-up.
"""

from __future__ import annotations

from fraudmatch.sealing.keyring import Keyring, KeySchedule, KeyValidityError
from fraudmatch.sealing.seal import Header
from fraudmatch.spec.partnership import Partnership


def keys_problem(partnership: Partnership, hub: Keyring, header: Header) -> str | None:
    """Why the file's signing key or hub key is not valid for its period; None if both are."""
    sender = partnership.partners[header.sender].keys
    return _invalid(partnership, sender, header.sender_fingerprint, header, "signed with") or (
        hub_key_problem(partnership, hub, header)
    )


def hub_key_problem(partnership: Partnership, hub: Keyring, header: Header) -> str | None:
    """Why the hub key the file is sealed to is not valid for its period; None if it is.
    A ValueError if it is valid but the hub's key files do not hold it."""
    schedule = partnership.hub.keys
    problem = _invalid(partnership, schedule, header.recipient_fingerprint, header, "sealed to")
    if problem is None and hub.get(header.recipient_fingerprint) is None:
        raise ValueError(
            f"a {header.period} file is sealed to hub key {header.recipient_fingerprint}, "
            f"valid for that period, but the hub's key files ({hub.where()}) do "
            "not hold it: put its .private file beside the others"
        )
    return problem


def _invalid(
    partnership: Partnership, schedule: KeySchedule, fingerprint: str, header: Header, role: str
) -> str | None:
    try:
        schedule.check(fingerprint, header.period)
    except KeyValidityError as exc:
        return f"{role} {exc} ({partnership.source})"
    return None

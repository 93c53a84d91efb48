"""What the review app shows: filters, runs, cases, matches, their sides and evidence.

Plain data, no queries (those are :mod:`fraudmatch.review.casework`). A match is a lead,
not a finding: a match's status is what an analyst recorded, or ``open`` while nobody has.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fraudmatch.review import outcomes as oc

OPEN = "open"
STATUSES = (OPEN, *oc.OUTCOMES)
LABELS = {
    OPEN: "no outcome yet",
    "fraud": "fraud",
    "error": "error",
    "no_issue": "no issue",
    "under_investigation": "under investigation",
}
RISK_ORDER = {"high": 0, "medium": 1, "low": 2}
SIDES = ("left", "right")


class ReviewError(ValueError):
    """A review request names something that does not exist; the message says what."""


FILTER_NAMES = ("run", "rule", "partner", "risk", "status", "stage", "assignee", "q")


@dataclass(frozen=True)
class Filters:
    """Case-list filters; ``None`` or empty means any."""

    run: str | None = None
    rule: str | None = None
    partner: str | None = None
    risk: str | None = None
    status: str | None = None
    stage: str | None = None
    """Workflow stage: new, allocated, under_investigation or closed."""
    assignee: str | None = None
    """The analyst a case is allocated to; ``-`` for cases allocated to nobody."""
    q: str | None = None
    """Search: part of a case id, either side's record id, or a partner."""

    @classmethod
    def from_mapping(cls, params: Mapping[str, Any]) -> Filters:
        def get(name: str) -> str | None:
            value = params.get(name)
            return str(value).strip()[:200] or None if value is not None else None

        return cls(**{name: get(name) for name in FILTER_NAMES})


@dataclass(frozen=True)
class RunInfo:
    run_id: str
    cycle_date: str | None = None
    status: str | None = None
    period: str | None = None
    """The month(s) of the submissions the run matched (``2026-11``), as the catalogue
    recorded them; None for a run the catalogue does not know."""


@dataclass(frozen=True)
class Side:
    partner: str
    dataset: str
    record_id: str


@dataclass(frozen=True)
class Evidence:
    comparison: str
    level: str | None
    weight: float | None


@dataclass
class MatchView:
    """One match of a case, with its evidence and current outcome."""

    key: str
    run_id: str
    case_id: str
    rule: str
    risk: str | None
    tier: str | None
    blocking_rule: str | None
    match_weight: float | None
    match_probability: float | None
    left: Side
    right: Side
    evidence: list[Evidence]
    evidence_hash: str
    outcome: oc.Outcome | None = None
    note: str | None = None
    levels: dict[str, str] = field(default_factory=dict)
    mirrored: bool = False
    """The outcome was recorded on the same pair written the other way round (a rule
    comparing one dataset with itself); saving updates that outcome."""

    @property
    def version(self) -> int:
        return self.outcome.version if self.outcome else 0

    @property
    def status(self) -> str:
        return self.outcome.outcome if self.outcome else OPEN

    @property
    def evidence_changed(self) -> bool:
        """The outcome was recorded on different evidence (a comparison's level moved)."""
        return self.outcome is not None and self.outcome.evidence_hash != self.evidence_hash

    def record(self) -> dict[str, Any]:
        """What :func:`fraudmatch.review.outcomes.record_outcome` needs to identify this match."""
        left, right = (self.right, self.left) if self.mirrored else (self.left, self.right)
        return {
            "rule": self.rule,
            "case_id": self.case_id,
            "left_partner": left.partner,
            "left_dataset": left.dataset,
            "left_record_id": left.record_id,
            "right_partner": right.partner,
            "right_dataset": right.dataset,
            "right_record_id": right.record_id,
            "evidence_hash": self.evidence_hash,
            **{f"level_{c}": v for c, v in self.levels.items()},
        }


@dataclass
class CaseView:
    run_id: str
    case_id: str
    rule: str
    risk: str | None
    description: str
    matches: list[MatchView] = field(default_factory=list)

    @property
    def partners(self) -> list[str]:
        return sorted({s.partner for m in self.matches for s in (m.left, m.right)})


def format_time(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M:%S} UTC" if value else ""


def rule_title(name: str | None) -> str:
    """A rule's name as words: ``payroll_to_housing_benefit`` is "Payroll to housing
    benefit"."""
    if not name:
        return ""
    words = name.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def run_label(run: Mapping[str, Any]) -> str:
    """A run for a picker: id, cycle date, period, state and number of cases."""
    parts = [str(run["run_id"])]
    if run.get("date"):
        parts.append(f"cycle {run['date']:%d %b %Y}")
    if run.get("period"):
        parts.append(f"period {run['period']}")
    if run.get("status") and run["status"] not in ("finished", "succeeded", "completed"):
        parts.append(str(run["status"]))
    if run.get("cases") is not None:
        parts.append(f"{run['cases']:,} case{'' if run['cases'] == 1 else 's'}")
    return " · ".join(parts)


def describe(action: str, detail: Mapping[str, Any]) -> str:
    """An audit entry's detail as a sentence an analyst reads."""
    d = {k: v for k, v in detail.items() if v is not None and v != ""}
    if action == "record_outcome":
        text = f"recorded '{LABELS.get(d.get('outcome', ''), d.get('outcome', '?'))}'"
        if "amount" in d:
            try:
                text += f", £{float(d['amount']):,.2f}"
            except (TypeError, ValueError):
                text += f", £{d['amount']}"
        if d.get("same_entity") is True:
            text += ", the same person"
        elif d.get("same_entity") is False:
            text += ", not the same person"
        if "comment" in d:
            text += f": \u201c{d['comment']}\u201d"
        if "source" in d:
            text += f" (sent by {d['source']})"
        return text + (f" (version {d['version']})" if "version" in d else "")
    if action in ("allocated", "allocation taken back"):
        if action == "allocated":
            text = f"allocated to {d.get('to', '?')}"
        else:
            text = "allocation taken back"
        if "from" in d:
            text += f" (was {d['from']})"
        return text + (f", due {d['due']}" if "due" in d else "")
    if action == "bulk outcome":
        label = LABELS.get(d.get("outcome", ""), d.get("outcome", "?"))
        saved, cases = d.get("matches saved", 0), d.get("cases", 0)
        text = f"recorded '{label}' on {saved} match(es) of {cases} selected case(s)"
        return text + (f": \u201c{d['comment']}\u201d" if "comment" in d else "")
    if action == "export":
        shown = ", ".join(f"{k} {v}" for k, v in d.items() if k not in ("format", "rows"))
        return f"downloaded {d.get('rows', '?')} rows as {str(d.get('format', '')).upper()}" + (
            f" ({shown})" if shown else ""
        )
    if action in ("sign-in", "sign-in refused"):
        reason = f": {d['reason']}" if "reason" in d else ""
        wait = f", wait {d['wait_seconds']} s" if "wait_seconds" in d else ""
        return f"from {d.get('address', 'an unknown address')}{reason}{wait}"
    if action == "outcomes returned":
        text = (f"merged {d.get('saved', 0)} outcome(s) from {d.get('file', 'a return')} "
                f"({d.get('rows', '?')} row(s), {d.get('unchanged', 0)} unchanged)")  # fmt: skip
        if d.get("conflicts"):
            text += "; conflicts not written: " + "; ".join(map(str, d["conflicts"]))
        if d.get("unknown"):
            text += "; rows naming no match: " + "; ".join(map(str, d["unknown"]))
        return text
    if action == "outcomes return refused":
        claimed = d.get("claimed_sender")
        text = f"refused {d.get('file', 'a file')} in {d.get('inbox', '?')}'s inbox"
        text += f" (claims to be from {claimed})" if claimed else " (no readable sender)"
        return text + f": {d.get('reason', 'no reason given')}; nothing was merged"
    if action == "investigation started":
        return "started investigating the case"
    return "; ".join(f"{k.replace('_', ' ')}: {v}" for k, v in d.items())

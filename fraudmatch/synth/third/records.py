"""Records as columns, and the labelled hard negatives that point into them.

d1/d2 carry each dataset's two dates; every planted date keeps at least `MARGIN` days from
the boundary its rule tests, so the truth does not hang on a day either side.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

MARGIN = 45  # days any planted date keeps from a rule's boundary
BADGE_YEARS = 1095  # blue badges last three years
PASS_YEARS = 1826  # bus passes five

COLS = ("pid", "ds", "partner", "dwelling", "d1", "d2", "asof")
FLAG_COLS = ("guard", "force_ni", "force_maiden", "protect")


@dataclass
class Records:
    """Records as columns: planted rows one at a time, base rows as whole arrays.

    d1/d2 are, by dataset: payroll start/end, claim start/end, tenancy start/end, application
    date/-, badge or pass issue/expiry, date of death/-. -1 is blank. `asof` is the day the
    record's name details were taken.
    """

    rows: dict[str, list] = field(
        default_factory=lambda: {c: [] for c in COLS + FLAG_COLS + ("why",)}
    )
    tags: list[str] = field(default_factory=list)
    chunks: list[dict[str, np.ndarray]] = field(default_factory=list)

    def add(
        self,
        pid,
        ds,
        partner,
        dwelling,
        d1,
        d2=-1,
        asof=None,
        tag="",
        guard=False,
        force_ni=False,
        force_maiden=False,
    ) -> int:
        r = self.rows
        for k, v in zip(
            COLS,
            (pid, ds, partner, dwelling, d1, d2, d1 if asof is None else asof),
            strict=True,
        ):
            r[k].append(int(v))
        r["guard"].append(guard)
        r["force_ni"].append(force_ni)
        r["force_maiden"].append(force_maiden)
        r["protect"].append(True)
        r["why"].append(0)
        self.tags.append(tag)
        return len(self.tags) - 1

    def add_many(self, pid, ds, partner, dwelling, d1, d2, asof=None, why=0) -> None:
        n = len(pid)
        if n == 0:
            return
        chunk = {
            "pid": np.asarray(pid, dtype=np.int64),
            "ds": np.full(n, ds, dtype=np.int64),
            "partner": np.asarray(partner, dtype=np.int64),
            "dwelling": np.asarray(dwelling, dtype=np.int64),
            "d1": np.asarray(d1, dtype=np.int64),
            "d2": np.asarray(d2, dtype=np.int64),
            "asof": np.asarray(d1 if asof is None else asof, dtype=np.int64),
        }
        for k in FLAG_COLS:
            chunk[k] = np.zeros(n, dtype=bool)
        chunk["why"] = np.broadcast_to(np.asarray(why, dtype=np.int64), (n,)).copy()
        self.chunks.append(chunk)

    def columns(self) -> tuple[dict[str, np.ndarray], list[str]]:
        """All records, planted first (so decoy indices stay valid), and planted tags."""
        planted = {
            k: np.array(v, dtype=bool if k in FLAG_COLS else np.int64) for k, v in self.rows.items()
        }
        out = {k: np.concatenate([planted[k]] + [c[k] for c in self.chunks]) for k in planted}
        return out, self.tags


@dataclass
class Decoy:
    """A labelled hard negative: two records a rule must not flag."""

    rule: str
    left: int  # record index (left dataset of the rule)
    right: int
    label: str
    note: str

"""Suppression of reviewed matches: a lead an analyst already closed is not raised again.

A match is recognised next cycle by its **match key** (the rule and both sides' partner,
dataset and record_id: never tokens, which change with the key) and compared by its
**evidence hash** (the level every comparison reached). Joined against the current
outcomes:

- an outcome other than ``under_investigation`` with the same evidence: **suppressed**,
  kept out of what the run distributes but written beside it with the reason;
- an outcome with changed evidence: **raised again** with a ``note`` saying who recorded
  what, when, and which comparison changed;
- ``under_investigation``: still open, raised with a note;
- no outcome: raised as it is.

Everything is a join over the whole matches frame; no Python loop per match.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from fraudmatch.review import outcomes as oc

OPEN_OUTCOMES = ("under_investigation",)
"""Outcomes that leave a lead open: the match keeps being raised."""

SUPPRESSED_DIR = "suppressed"
_PREV = {
    "outcome": "prev_outcome",
    "analyst": "prev_analyst",
    "recorded_at": "prev_recorded_at",
    "evidence_hash": "prev_evidence_hash",
    "evidence_labels": "prev_evidence_labels",
    "same_entity": "prev_same_entity",
    "amount": "prev_amount",
}


@dataclass
class Suppression:
    """One rule's matches split into those raised and those suppressed."""

    raised: pl.DataFrame  # the matches + match_key, evidence_hash, note
    suppressed: pl.DataFrame  # the matches + match_key, evidence_hash, outcome, ..., reason
    evidence_changed: int = 0
    still_open: int = 0
    by_outcome: dict[str, int] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return self.suppressed.height


def load_outcomes(url: str | None) -> pl.DataFrame:
    """Current outcomes, or an empty frame when there is no outcomes database yet."""
    empty = _empty_outcomes()
    if not url:
        return empty
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        if not path.exists():
            return empty  # nobody recorded anything yet; do not create the file here
    frame = oc.current_outcomes(url)
    for name, dtype in empty.schema.items():
        if name not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype).alias(name))
    return frame


def _empty_outcomes() -> pl.DataFrame:
    schema = {
        "match_key": pl.String, "rule": pl.String, "evidence_hash": pl.String,
        "outcome": pl.String, "same_entity": pl.Boolean, "amount": pl.Float64,
        "analyst": pl.String, "recorded_at": pl.Datetime("us", "UTC"),
        "evidence_labels": pl.String, "case_id": pl.String,
    }  # fmt: skip
    return pl.DataFrame(schema=schema)


def with_keys(matches: pl.DataFrame) -> pl.DataFrame:
    """The matches with their ``match_key`` and ``evidence_hash`` (idempotent)."""
    add = []
    if "match_key" not in matches.columns:
        add.append(oc.match_key_expr().alias("match_key"))
    if "evidence_hash" not in matches.columns:
        add.append(oc.evidence_hash_expr(matches.columns).alias("evidence_hash"))
    if not add:
        return matches
    if matches.height == 0:
        return matches.with_columns(
            *[pl.lit(None, pl.String).alias(e.meta.output_name()) for e in add]
        )
    return matches.with_columns(*add)


def attach_outcomes(
    matches: pl.DataFrame, outcomes: pl.DataFrame, *, one_dataset: bool = False
) -> pl.DataFrame:
    """Left-join each match's recorded outcome as ``prev_*`` columns (null when none).

    For a rule comparing one dataset with itself, which record is "left" depends on row
    order, so an outcome recorded on the mirrored pair applies too.
    """
    prev = outcomes.select("match_key", *[pl.col(k).alias(v) for k, v in _PREV.items()])
    keyed = with_keys(matches).with_row_index("__order")
    found = keyed.join(prev, on="match_key", how="left")
    if one_dataset and found.height and prev.height:
        missing = found.filter(pl.col("prev_outcome").is_null()).drop(list(_PREV.values()))
        mirrored = missing.with_columns(oc.mirror_key_expr().alias("__mirror")).join(
            prev.rename({"match_key": "__mirror"}), on="__mirror", how="left"
        )
        found = pl.concat(
            [found.filter(pl.col("prev_outcome").is_not_null()), mirrored.drop("__mirror")],
            how="vertical_relaxed",
        )
    return found.sort("__order").drop("__order")


def _date(col: str) -> pl.Expr:
    return pl.col(col).dt.strftime("%Y-%m-%d")


def _changes(comparisons: list[str]) -> pl.Expr:
    """``ni was exact, now null; dob was exact, now one_part_differs`` (null if unknown)."""
    if not comparisons:
        return pl.lit(None, pl.String)
    old = pl.col("prev_evidence_labels").str.json_decode(
        pl.Struct({c: pl.String for c in comparisons})
    )
    parts = []
    for c in comparisons:
        before = old.struct.field(c)
        now = pl.col(f"level_{c}").cast(pl.String).fill_null("null")
        parts.append(
            pl.when(before.is_null())
            .then(pl.format("{} newly compared, now {}", pl.lit(c), now))
            .when(before != now)
            .then(pl.format("{} was {}, now {}", pl.lit(c), before, now))
        )
    text = pl.concat_str(parts, separator="; ", ignore_nulls=True)
    return (
        pl.when(pl.col("prev_evidence_labels").is_null() | (text == "")).then(None).otherwise(text)
    )


def suppress(
    matches: pl.DataFrame, outcomes: pl.DataFrame, *, one_dataset: bool = False
) -> Suppression:
    """Split one rule's matches by the outcomes already recorded on them."""
    joined = attach_outcomes(matches, outcomes, one_dataset=one_dataset)
    has = pl.col("prev_outcome").is_not_null()
    open_ = pl.col("prev_outcome").is_in(list(OPEN_OUTCOMES))
    same = pl.col("prev_evidence_hash") == pl.col("evidence_hash")
    closed_same = has & ~open_ & same
    comparisons = sorted(c.removeprefix("level_") for c in joined.columns if c.startswith("level_"))
    recorded = pl.format(
        "{} recorded '{}' on {}",
        pl.col("prev_analyst"),
        pl.col("prev_outcome"),
        _date("prev_recorded_at"),
    )
    changes = _changes(comparisons)
    note = (
        pl.when(has & ~same)
        .then(
            pl.concat_str(
                pl.lit("evidence changed since "),
                recorded,
                pl.lit(": "),
                pl.when(pl.col("prev_evidence_labels").is_null())
                .then(pl.lit("a comparison's level changed (levels then not kept)"))
                .otherwise(changes.fill_null(pl.lit("the rule's comparisons changed"))),
            )
        )
        .when(has & open_)
        .then(pl.concat_str(recorded, pl.lit("; still open")))
        .otherwise(pl.lit(None, pl.String))
    )
    joined = joined.with_columns(
        closed_same.fill_null(False).alias("__suppress"),
        (has & ~same).fill_null(False).alias("__changed"),
        (has & open_ & same).fill_null(False).alias("__open"),
    )
    prev_cols = list(_PREV.values())
    raised = (
        joined.filter(~pl.col("__suppress"))
        .with_columns(note.alias("note"))
        .drop(*prev_cols, "__suppress", "__changed", "__open")
    )
    suppressed = (
        joined.filter(pl.col("__suppress"))
        .with_columns(
            pl.col("prev_outcome").alias("outcome"),
            pl.col("prev_analyst").alias("analyst"),
            pl.col("prev_recorded_at").alias("recorded_at"),
            pl.col("prev_same_entity").alias("same_entity"),
            pl.col("prev_amount").alias("amount"),
            pl.concat_str(recorded, pl.lit("; evidence unchanged")).alias("reason"),
        )
        .drop(*prev_cols, "__suppress", "__changed", "__open")
    )
    by_outcome = dict(suppressed.group_by("outcome").len().sort("outcome").iter_rows())
    return Suppression(
        raised=raised,
        suppressed=suppressed,
        evidence_changed=int(joined["__changed"].sum()),
        still_open=int(joined["__open"].sum()),
        by_outcome={str(k): int(v) for k, v in by_outcome.items()},
    )


def read_suppressed(run_dir: Path, rule: str) -> pl.DataFrame:
    """A run's suppressed matches of one rule (empty when there were none)."""
    path = run_dir / SUPPRESSED_DIR / f"{rule}.parquet"
    return pl.read_parquet(path) if path.exists() else pl.DataFrame()

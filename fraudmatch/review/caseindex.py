"""The case list's data, built once per run and once per change of the review database.

A run's matches never change once written, so what a case is made of (rule, risk,
partners, number of matches, best weight, tier, the rule's estimated value) and what search
needs (lower-case case ids, every record id) is built once per run (:class:`CaseIndex`).
What analysts change (outcomes, allocations) is joined on per *generation* of the review
database, the newest audit entry's id: every outcome and allocation is audited in the same
transaction, so a new audit entry is the only thing that can change the list. A list
request then filters, sorts and slices one frame of one row per case.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

import polars as pl

from fraudmatch.review.views import OPEN, RISK_ORDER

FINAL = ("fraud", "error", "no_issue")
"""Outcomes that close a match (``under_investigation`` keeps it open for work)."""
STAGES = ("new", "allocated", "under_investigation", "closed")
STAGE_LABELS = {
    "new": "new",
    "allocated": "allocated",
    "under_investigation": "under investigation",
    "closed": "closed",
}
CASE_KEY = ["rule", "case_id"]


class CaseIndex:
    """One run's cases without what analysts recorded, and its search columns."""

    def __init__(
        self,
        matches: pl.DataFrame,
        values: Mapping[str, float | None],
        run_start: date | None,
    ) -> None:
        self.matches = matches
        start = (
            datetime(run_start.year, run_start.month, run_start.day, tzinfo=UTC)
            if run_start
            else None
        )
        estimated = pl.col("rule").replace_strict(
            dict(values), default=None, return_dtype=pl.Float64
        )
        base = (
            matches.group_by(["run_id", *CASE_KEY, "risk"])
            .agg(
                pl.col("left_partner")
                .append(pl.col("right_partner"))
                .unique()
                .sort()
                .alias("partners"),
                pl.len().cast(pl.UInt32).alias("matches"),
                pl.col("match_weight").cast(pl.Float64).max().alias("max_weight"),
                pl.col("tier").sort_by("match_weight", descending=True).first().alias("tier"),
            )
            .with_columns(
                estimated.alias("_estimate"),
                pl.lit(start, pl.Datetime("us", "UTC")).alias("_run_start"),
                pl.col("case_id").str.to_lowercase().alias("_case_lower"),
                pl.col("risk")
                .replace_strict(RISK_ORDER, default=9, return_dtype=pl.Int8)
                .alias("_risk_order"),
                pl.col("partners").list.first().alias("_first_partner"),
                pl.col("partners")
                .list.eval(pl.element().str.to_lowercase())
                .alias("_partners_lower"),
            )
        )
        tie = base.select(pl.arg_sort_by(CASE_KEY)).to_series().arg_sort()
        self.base = base.with_columns(tie.cast(pl.UInt32).alias("_tie")).rechunk()
        self.records = (
            pl.concat(
                [
                    matches.select(*CASE_KEY, pl.col(f"{side}_record_id").alias("record_id"))
                    for side in ("left", "right")
                ]
            )
            .unique()
            .rechunk()
        )
        self.partners: list[str] = sorted(
            base.get_column("partners").explode().drop_nulls().unique().to_list()
        )
        self.rules: list[str] = sorted(base.get_column("rule").drop_nulls().unique().to_list())
        # each match with its case's number (``_tie``): later joins are on one integer
        self.keys = (
            matches.select(*CASE_KEY, "match_key", "mirror_key", "one_dataset", "evidence_hash")
            .join(self.base.select(*CASE_KEY, "_tie"), on=CASE_KEY, how="left")
            .drop(CASE_KEY)
            .rechunk()
        )


def outcome_hits(keys: pl.DataFrame, outcomes: pl.DataFrame) -> pl.DataFrame:
    """The run's matches that have an outcome, with it: on their own key, or for a pair of
    one dataset written the other way round, on the mirrored key."""
    current = outcomes.select(
        "match_key",
        "outcome",
        pl.col("evidence_hash").alias("outcome_evidence_hash"),
        "amount",
        "recorded_at",
    )
    direct = keys.join(current, on="match_key", how="inner")
    known = current["match_key"].implode()
    mirrored = (
        keys.filter(pl.col("one_dataset") & ~pl.col("match_key").is_in(known))
        .join(current.rename({"match_key": "mirror_key"}), on="mirror_key", how="inner")
        .select(direct.columns)
    )
    return pl.concat([direct, mirrored])


def cases_frame(
    index: CaseIndex,
    outcomes: pl.DataFrame,
    allocations: pl.DataFrame,
    today: date | None = None,
) -> pl.DataFrame:
    """One row per case with its statuses, value, age, assignee and workflow stage.

    ``statuses`` holds each outcome among the case's matches and ``open`` while a match
    has none; ``value`` is the amounts recorded, or the rule's estimate while none is;
    ``age_days`` counts from the last outcome recorded, or from the run. ``stage`` is
    ``closed`` when every match has a closing outcome, ``under_investigation`` once work
    started on it (an outcome recorded, or the assignee said so), ``allocated`` when it
    has an analyst, else ``new``.
    """
    today = today or datetime.now(UTC).date()
    midnight = datetime(today.year, today.month, today.day, tzinfo=UTC)
    hits = outcome_hits(index.keys, outcomes)
    per_case = hits.group_by("_tie").agg(
        pl.col("outcome").unique().alias("_outcomes"),
        pl.len().cast(pl.UInt32).alias("_with_outcome"),
        pl.col("outcome").is_in(FINAL).sum().cast(pl.UInt32).alias("_closed"),
        pl.col("amount").cast(pl.Float64).sum().alias("_recorded"),
        pl.col("amount").is_not_null().any().alias("_has_amount"),
        pl.col("recorded_at").max().alias("_last"),
        (pl.col("outcome_evidence_hash") != pl.col("evidence_hash"))
        .any()
        .alias("evidence_changed"),
    )
    alloc = allocations.select(
        "case_id",
        pl.col("analyst").alias("assignee"),
        pl.col("started_at").is_not_null().alias("_started"),
        pl.col("due").alias("due"),
    )
    frame = index.base.join(per_case, on="_tie", how="left").join(alloc, on="case_id", how="left")
    with_outcome = pl.col("_with_outcome").fill_null(0)
    open_list = pl.lit([OPEN], pl.List(pl.String))
    return frame.with_columns(
        pl.when(pl.col("_outcomes").is_null())
        .then(open_list)
        .when(with_outcome < pl.col("matches"))
        .then(pl.concat_list(pl.col("_outcomes"), open_list).list.sort())
        .otherwise(pl.col("_outcomes").list.sort())
        .alias("statuses"),
        pl.col("evidence_changed").fill_null(False),
        pl.when(pl.col("_has_amount").fill_null(False))
        .then(pl.col("_recorded"))
        .otherwise(pl.col("_estimate"))
        .alias("value"),
        pl.coalesce("_last", "_run_start").alias("last_activity"),
        pl.when(pl.col("_closed").fill_null(0) == pl.col("matches"))
        .then(pl.lit("closed"))
        .when((with_outcome > 0) | pl.col("_started").fill_null(False))
        .then(pl.lit("under_investigation"))
        .when(pl.col("assignee").is_not_null())
        .then(pl.lit("allocated"))
        .otherwise(pl.lit("new"))
        .alias("stage"),
    ).with_columns(
        (pl.lit(midnight) - pl.col("last_activity")).dt.total_days().alias("age_days"),
    )


def search_cases(index: CaseIndex, cases: pl.DataFrame, q: str | None) -> pl.DataFrame:
    """The cases ``q`` finds: part of a case id, either side's record id, or a partner."""
    text = (q or "").strip()
    if not text or not cases.height:
        return cases
    lower = text.lower()
    by_record = index.records.filter(pl.col("record_id") == text).select(CASE_KEY)
    hit = pl.col("_case_lower").str.contains(lower, literal=True) | pl.col(
        "_partners_lower"
    ).list.contains(lower)
    if by_record.height:  # a case id is a digest of its rule and members: unique in a run
        hit = hit | pl.col("case_id").is_in(by_record["case_id"].implode())
    return cases.filter(hit)


def progress(cases: pl.DataFrame, by: str) -> list[dict[str, Any]]:
    """Cases per stage for each rule (``by='rule'``) or partner (``by='partner'``), with
    the share closed; a case counts for every partner it involves."""
    if by == "partner":
        frame = cases.select(pl.col("partners").alias("group"), "stage").explode("group")
    else:
        frame = cases.select(pl.col("rule").alias("group"), "stage")
    if not frame.height:
        return []
    table = (
        frame.group_by("group", "stage")
        .len()
        .pivot(on="stage", index="group", values="len")
        .fill_null(0)
    )
    for stage in STAGES:
        if stage not in table.columns:
            table = table.with_columns(pl.lit(0, pl.UInt32).alias(stage))
    table = table.with_columns(pl.sum_horizontal(*STAGES).alias("total")).sort("group")
    rows = table.select("group", *STAGES, "total").to_dicts()
    for row in rows:
        row["done_percent"] = round(100 * row["closed"] / row["total"]) if row["total"] else 0
    return rows

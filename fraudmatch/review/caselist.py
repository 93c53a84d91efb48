"""The case list at volume: one row per case, searched, sorted and paged in polars.

Works on a run's matches with their outcome columns (:meth:`Review.matches_with_outcomes`),
so every count is taken over all the cases under the filters, never over the page shown.
Search finds a case by its id (any part of it), by either side's record id or by partner;
a case found keeps all its matches, so its row is the same as without the search.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import polars as pl

from fraudmatch.review.views import RISK_ORDER, STATUSES

PER_PAGE = 50
PER_PAGE_CHOICES = (25, 50, 100, 200)
SORTS: dict[str, tuple[tuple[str, bool], ...]] = {
    # key: (column, descending) in its natural order; case id last so pages are stable
    "risk": (("_risk_order", False), ("max_weight", True)),
    "rule": (("rule", False), ("max_weight", True)),
    "partner": (("_first_partner", False), ("max_weight", True)),
    "value": (("value", True), ("max_weight", True)),
    "age": (("age_days", True), ("max_weight", True)),
}
SORT_LABELS = {
    "risk": "risk",
    "rule": "rule",
    "partner": "partner",
    "value": "value (£)",
    "age": "age (days since anything was recorded)",
}
CASE_SCHEMA: dict[str, Any] = {
    "run_id": pl.String,
    "case_id": pl.String,
    "rule": pl.String,
    "risk": pl.String,
    "partners": pl.List(pl.String),
    "matches": pl.UInt32,
    "max_weight": pl.Float64,
    "tier": pl.String,
    "statuses": pl.List(pl.String),
    "evidence_changed": pl.Boolean,
    "value": pl.Float64,
    "last_activity": pl.Datetime("us", "UTC"),
    "age_days": pl.Int64,
}


@dataclass(frozen=True)
class ListView:
    """How the list is shown: sort key and direction, page and page size."""

    sort: str = "risk"
    reverse: bool = False
    """Against the sort's natural order (e.g. lowest value first)."""
    page: int = 1
    per_page: int = PER_PAGE

    @classmethod
    def from_mapping(cls, params: Mapping[str, Any]) -> ListView:
        sort = str(params.get("sort") or "risk")
        per_page = _int(params.get("per"), PER_PAGE)
        return cls(
            sort=sort if sort in SORTS else "risk",
            reverse=str(params.get("dir") or "") == "rev",
            page=max(1, _int(params.get("page"), 1)),
            per_page=per_page if per_page in PER_PAGE_CHOICES else PER_PAGE,
        )


@dataclass
class CasePage:
    """One page of the case list, with the counts of the whole list."""

    rows: list[dict[str, Any]]
    total: int
    """Cases under every filter, the status filter too."""
    view: ListView
    counts: dict[str, int] = field(default_factory=dict)
    """Cases per status under the other filters (a case counts once per status), ``all``."""

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.view.per_page))

    @property
    def page(self) -> int:
        return min(self.view.page, self.pages)

    @property
    def first(self) -> int:
        """Position of the page's first case in the whole list (1-based; 0 when empty)."""
        return (self.page - 1) * self.view.per_page + 1 if self.total else 0

    @property
    def last(self) -> int:
        return self.first + len(self.rows) - 1 if self.rows else 0


def _int(value: Any, default: int) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return default


def search(frame: pl.DataFrame, q: str | None) -> pl.DataFrame:
    """Matches of the cases that ``q`` finds (case id part, record id, partner)."""
    text = (q or "").strip()
    if not text or not frame.height:
        return frame
    lower = text.lower()
    hit = (
        pl.col("case_id").str.to_lowercase().str.contains(lower, literal=True)
        | (pl.col("left_record_id") == text)
        | (pl.col("right_record_id") == text)
        | (pl.col("left_partner").str.to_lowercase() == lower)
        | (pl.col("right_partner").str.to_lowercase() == lower)
    )
    found = frame.filter(hit).select("rule", "case_id").unique()
    return frame.join(found, on=["rule", "case_id"], how="semi")


def case_rows(
    frame: pl.DataFrame,
    values: Mapping[str, float | None],
    run_dates: Mapping[str, date | None],
    today: date | None = None,
) -> pl.DataFrame:
    """One row per case of a matches-with-outcomes frame (unsorted).

    ``value`` is the amounts recorded on the case, or the rule's estimated value per case
    while none is; ``age_days`` counts from the last outcome recorded, or from the run.
    """
    if not frame.height:
        return pl.DataFrame(schema=CASE_SCHEMA)
    today = today or datetime.now(UTC).date()
    run_start = pl.col("run_id").replace_strict(
        {k: datetime(v.year, v.month, v.day, tzinfo=UTC) if v else None
         for k, v in run_dates.items()},
        default=None, return_dtype=pl.Datetime("us", "UTC"),
    )  # fmt: skip
    grouped = (
        frame.with_columns(_run_start=run_start)
        .group_by(["run_id", "case_id", "rule", "risk"])
        .agg(
            pl.col("left_partner")
            .append(pl.col("right_partner"))
            .unique()
            .sort()
            .alias("partners"),
            pl.len().cast(pl.UInt32).alias("matches"),
            pl.col("match_weight").cast(pl.Float64).max().alias("max_weight"),
            pl.col("tier").sort_by("match_weight", descending=True).first().alias("tier"),
            pl.col("status").unique().sort().alias("statuses"),
            pl.col("evidence_changed").any().alias("evidence_changed"),
            pl.col("amount").cast(pl.Float64).sum().alias("_recorded"),
            pl.col("amount").is_not_null().any().alias("_has_amount"),
            pl.coalesce(pl.col("recorded_at").max(), pl.col("_run_start").first()).alias(
                "last_activity"
            ),
        )
    )
    estimated = pl.col("rule").replace_strict(
        {k: v for k, v in values.items()}, default=None, return_dtype=pl.Float64
    )
    midnight = datetime(today.year, today.month, today.day, tzinfo=UTC)
    return grouped.with_columns(
        pl.when(pl.col("_has_amount"))
        .then(pl.col("_recorded"))
        .otherwise(estimated)
        .alias("value"),
        (pl.lit(midnight) - pl.col("last_activity")).dt.total_days().alias("age_days"),
    ).select(list(CASE_SCHEMA))


def status_counts(cases: pl.DataFrame) -> dict[str, int]:
    """Cases per status (a case counts once for each status among its matches), and all."""
    counts = dict.fromkeys(STATUSES, 0)
    if cases.height:
        per = cases.select(pl.col("statuses").explode()).to_series().value_counts()
        counts.update({str(s): int(n) for s, n in per.iter_rows()})
    counts["all"] = cases.height
    return counts


def sort_cases(cases: pl.DataFrame, sort: str = "risk", reverse: bool = False) -> pl.DataFrame:
    keys = SORTS.get(sort, SORTS["risk"])
    columns = [c for c, _ in keys] + ["rule", "case_id"]
    descending = [d != reverse for _, d in keys] + [False, False]
    return (
        cases.with_columns(
            pl.col("risk").replace_strict(RISK_ORDER, default=9, return_dtype=pl.Int8)
            .alias("_risk_order"),
            pl.col("partners").list.first().alias("_first_partner"),
        )
        .sort(columns, descending=descending, nulls_last=True)
        .drop("_risk_order", "_first_partner")
    )  # fmt: skip


def page_of(cases: pl.DataFrame, status: str | None, view: ListView) -> CasePage:
    """The page ``view`` asks for of the cases in ``status`` (counts over all of them)."""
    counts = status_counts(cases)
    if status:
        cases = cases.filter(pl.col("statuses").list.contains(status))
    ordered = sort_cases(cases, view.sort, view.reverse)
    pages = max(1, -(-ordered.height // view.per_page))
    start = (min(view.page, pages) - 1) * view.per_page
    rows = ordered.slice(start, view.per_page).to_dicts()
    return CasePage(rows, ordered.height, view, counts)

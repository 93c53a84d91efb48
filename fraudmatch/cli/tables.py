"""Rich tables that summarise a result for a person at a terminal."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from rich.table import Table

from fraudmatch.council.ingest import Validation
from fraudmatch.review.report import DROP_COLUMNS, RULE_COLUMNS, drop_rows, rule_rows

if TYPE_CHECKING:
    from fraudmatch.council.prepare import PrepareResult


def table(title: str, columns: Sequence[str], rows: Sequence[Sequence[object]]) -> Table:
    """A table with right-aligned numbers and thousands separators."""
    t = Table(title=title, title_justify="left")
    sample = rows[0] if rows else [""] * len(columns)
    for name, value in zip(columns, sample, strict=True):
        numeric = isinstance(value, int | float) and not isinstance(value, bool)
        t.add_column(name, justify="right" if numeric else "left")
    for row in rows:
        t.add_row(*(f"{v:,}" if isinstance(v, int) else str(v) for v in row))
    return t


def validation_tables(result: Validation) -> list[Table]:
    """Counts, then rejected rows and blanked values by reason."""
    accepted = result.accepted.height
    counts = table(
        f"{result.source} ({result.dataset})",
        ["rows read", "accepted", "rejected", "values blanked"],
        [[result.rows_read, accepted, result.rows_rejected, result.values_blanked]],
    )
    reasons = result.reasons()
    tables = [counts]
    if reasons.height:
        tables.append(
            table(
                "problems by reason",
                ["action", "column", "reason", "rows"],
                reasons.select("action", "column", "reason", "rows").rows(),
            )
        )
    return tables


def prepare_table(results: Iterable[PrepareResult], title: str = "sealed for the hub") -> Table:
    """One line per sealed submission: what was sent where."""
    rows = [
        [r.validation.dataset, r.rows_sent, r.validation.rows_rejected, str(r.sealed_path)]
        for r in results
    ]
    return table(title, ["dataset", "rows sent", "rejected", "file"], rows)


def cycle_tables(summary: dict) -> list[Table]:
    """The run summary an operator reads at the end of a cycle."""
    collected = summary.get("collected") or {}
    counts = collected.get("counts", {})
    tables = [
        table(
            f"run {summary.get('run_id')} (cycle date {summary.get('cycle_date')})",
            ["stored", "duplicates", "quarantined", "missing"],
            [
                [
                    counts.get("stored", 0),
                    counts.get("duplicate", 0),
                    counts.get("quarantined", 0),
                    len(collected.get("missing", [])),
                ]
            ],
        )
    ]
    bad = [f for f in collected.get("files", []) if f.get("outcome") == "quarantined"]
    if bad:
        tables.append(
            table(
                "quarantined",
                ["partner", "file", "reason"],
                [[f["partner"], f["file"], f["reason"]] for f in bad],
            )
        )
    missing = collected.get("missing", [])
    if missing:
        tables.append(
            table(
                "missing submissions",
                ["partner", "dataset"],
                [[m["partner"], m["dataset"]] for m in missing],
            )
        )
    tables.append(
        table(
            "matches per rule",
            list(RULE_COLUMNS),
            rule_rows(summary),
        )
    )
    warned = [
        [r["rule"], w] for r in summary.get("rules", []) for w in r.get("model_warnings") or []
    ]
    if warned:
        tables.append(
            table("model warnings: weigh these matches with care", ["rule", "warning"], warned)
        )
    tables.append(
        table(
            "bundles",
            ["partner", "status", "version", "cases", "rows", "delivery", "file"],
            [
                [
                    b["partner"],
                    b["status"],
                    b.get("version", 1),
                    b["cases"],
                    b["rows"],
                    b.get("delivery") or "-",
                    b["path"],
                ]
                for b in summary.get("bundles", [])
            ],
        )
    )
    drops = drop_rows(summary)
    if drops:
        tables.append(table("drops: fetch and delivery problems", list(DROP_COLUMNS), drops))
    return tables


def retention_table(retention: dict) -> Table:
    """What retention deleted (or would delete), one line per item."""
    verb = "would delete" if retention.get("dry_run") else "deleted"
    rows = [
        [r["kind"], r["item"], str(r["stored_at"])[:10], r["rule"]] for r in retention["deleted"]
    ]
    title = f"retention: {verb} what was stored before {retention['cutoff']}"
    return table(title, ["what", "item", "stored", "rule"], rows)

"""Bundles: each partner's own cases as case rows, sealed by the hub to that partner.

The hub turns a run's matches into *case rows*, one per match and side, so a partner's
bundle holds a row for each of its own records that matched, with the counterpart's
partner, dataset and record_id and the evidence. A partner never receives a row about
another partner's record except as the counterpart reference of its own.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Mapping
from pathlib import Path

import polars as pl

from fraudmatch.sealing.keys import PartyKeys, PublicIdentity
from fraudmatch.sealing.seal import Header, Recipient, Senders, open_file, seal_file

EVIDENCE = pl.List(pl.Struct({"comparison": pl.String, "level": pl.String, "weight": pl.Float64}))
CASE_ROW_SCHEMA: dict[str, pl.DataType] = {
    "run_id": pl.String(),
    "case_id": pl.String(),
    "rule": pl.String(),
    "risk": pl.String(),
    "tier": pl.String(),
    "match_weight": pl.Float64(),
    "match_probability": pl.Float64(),
    "partner": pl.String(),
    "dataset": pl.String(),
    "record_id": pl.String(),
    "other_partner": pl.String(),
    "other_dataset": pl.String(),
    "other_record_id": pl.String(),
    "evidence": EVIDENCE,
    "note": pl.String(),  # why a reviewed match is raised again (suppression), else null
}
RETURN_COLUMNS = ("outcome", "amount", "comment", "investigator")
"""Columns the partner's investigator fills in on the case list; ``fraudmatch outcomes
return`` seals them back to the hub (outcome: fraud, error, no issue, under investigation)."""
LEAD_NOTICE = (
    "A match is a lead, not a finding. Every case must be reviewed by a named "
    "investigator before any action is taken about a person."
)
BUNDLE_SUFFIX = ".bundle"


def evidence_expr(columns: list[str]) -> pl.Expr:
    """Fold ``level_<c>``/``weight_<c>`` columns into one list of (comparison, level, weight)."""
    comps = [c.removeprefix("level_") for c in columns if c.startswith("level_")]
    if not comps:
        return pl.lit([], dtype=EVIDENCE)
    items = [
        pl.struct(
            pl.lit(c).alias("comparison"),
            pl.col(f"level_{c}").cast(pl.String).alias("level"),
            (
                pl.col(f"weight_{c}").cast(pl.Float64)
                if f"weight_{c}" in columns
                else pl.lit(None, pl.Float64)
            ).alias("weight"),
        )
        for c in comps
    ]
    return pl.concat_list(items).cast(EVIDENCE)


def case_rows(
    matches: pl.DataFrame, *, run_id: str, risk: Mapping[str, str] | None = None
) -> pl.DataFrame:
    """Two rows per match (one per side), with the other side as the counterpart."""
    if matches.height == 0:
        return pl.DataFrame(schema=CASE_ROW_SCHEMA)
    risk_map = dict(risk or {})
    base = matches.with_columns(
        pl.lit(run_id).alias("run_id"),
        pl.col("rule").replace_strict(risk_map, default=None, return_dtype=pl.String).alias("risk"),
        evidence_expr(matches.columns).alias("evidence"),
        (
            pl.col("note").cast(pl.String) if "note" in matches.columns else pl.lit(None, pl.String)
        ).alias("note"),
        *[
            pl.col(c).cast(pl.Float64) if c in matches.columns else pl.lit(None, pl.Float64)
            for c in ("match_weight", "match_probability")
        ],
    )
    sides = []
    for me, other in (("left", "right"), ("right", "left")):
        sides.append(
            base.select(
                "run_id",
                "case_id",
                "rule",
                "risk",
                "tier",
                "match_weight",
                "match_probability",
                pl.col(f"{me}_partner").alias("partner"),
                pl.col(f"{me}_dataset").alias("dataset"),
                pl.col(f"{me}_record_id").alias("record_id"),
                pl.col(f"{other}_partner").alias("other_partner"),
                pl.col(f"{other}_dataset").alias("other_dataset"),
                pl.col(f"{other}_record_id").alias("other_record_id"),
                "evidence",
                "note",
            )
        )
    return pl.concat(sides).cast(CASE_ROW_SCHEMA).sort("rule", "case_id", "partner", "record_id")


def partner_cases(rows: pl.DataFrame, partner: str) -> pl.DataFrame:
    """Only the rows about ``partner``'s own records."""
    return rows.filter(pl.col("partner") == partner)


def bundle_name(partner: str, period: str, run_id: str, version: int = 1) -> str:
    """``northmoor__2026-11__run-20261101__v2.bundle``: a later version of a run's bundle
    (late data changed the partner's cases) has a name of its own, so partners and drops
    keep both and can tell them apart; the version is also in the signed header."""
    return f"{partner}__{period}__{run_id}__v{version}{BUNDLE_SUFFIX}"


def case_list_stem(bundle_file_name: str) -> str:
    """The name of a bundle without its suffix and version: every version of a run's
    bundle opens into the same case list, the newest replacing the older."""
    stem = bundle_file_name.removesuffix(BUNDLE_SUFFIX)
    head, sep, tail = stem.rpartition("__v")
    return head if sep and tail.isdigit() else stem


def content_digest(rows: pl.DataFrame) -> str:
    """SHA-256 of a partner's case rows in a canonical order: the same rows give the same
    digest, so a re-run whose cases did not change sends no new bundle version."""
    ordered = rows.select(sorted(rows.columns)).sort(
        [c for c in sorted(rows.columns) if c != "evidence"], nulls_last=True
    )
    return hashlib.sha256(ordered.write_ndjson().encode()).hexdigest()


def write_bundle(
    rows: pl.DataFrame,
    target: Path,
    *,
    hub: PartyKeys,
    recipient: PublicIdentity,
    period: str,
    version: int = 1,
) -> Header:
    """Seal one partner's case rows to that partner, signed by the hub, as ``version``
    of the run's bundle to it (carried in the signed header)."""
    others = rows.filter(pl.col("partner") != recipient.name)
    if others.height:
        raise ValueError(
            f"refusing to send {others.height} rows about other partners' records to "
            f"{recipient.name}"
        )
    with tempfile.TemporaryDirectory(prefix="fraudmatch-") as tmpdir:
        payload = Path(tmpdir) / "cases.parquet"
        rows.write_parquet(payload)
        return seal_file(
            payload,
            target,
            sender=hub,
            recipient=recipient,
            kind="bundle",
            dataset=None,
            period=period,
            bundle_version=version,
        )


def read_bundle(path: Path, *, partner: Recipient, senders: Senders) -> tuple[Header, pl.DataFrame]:
    """Verify and open a bundle; refuse it unless the hub signed it for this partner."""
    with tempfile.TemporaryDirectory(prefix="fraudmatch-") as tmpdir:
        out = Path(tmpdir) / "cases.parquet"
        header = open_file(path, out, recipient=partner, senders=senders, expected_kind="bundle")
        rows = pl.read_parquet(out)
    return header, rows


def evidence_text(expr: pl.Expr) -> pl.Expr:
    """``surname: exact (+7.2); date_of_birth: exact (+9.1)`` for spreadsheets."""
    item = pl.element().struct
    weight = item.field("weight")
    text = pl.concat_str(
        item.field("comparison"),
        pl.lit(": "),
        item.field("level"),
        pl.when(weight.is_not_null())
        .then(pl.format(" ({})", weight.round(1).cast(pl.String)))
        .otherwise(pl.lit("")),
    )
    return expr.list.eval(text).list.join("; ")

"""Partners' outcomes back to the hub: the filled-in case list, sealed, verified and merged.

A partner's investigator fills in the outcome columns of the case list that
``fraudmatch open`` wrote (:data:`~fraudmatch.sealing.bundles.RETURN_COLUMNS`). At the
council, ``fraudmatch outcomes return`` reads it (CSV or XLSX), keeps only the rows with an
outcome and only the columns that identify the match (run, case, rule, both sides'
partner, dataset and record_id) with what was found: never the council's own record
columns the case list was re-identified with. It is sealed to the hub (kind ``outcomes``)
and signed by the council, like a submission.

At the hub, collection verifies it and :func:`merge` records each row on its match in the
outcomes store: a new version when the partner changes its own earlier outcome; a
*conflict*, reported and not written, when someone else (a hub analyst or another partner)
recorded a different outcome on that match. Every outcome saved is audited under the
sending partner's name.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from fraudmatch.review import outcomes as oc
from fraudmatch.sealing.bundles import RETURN_COLUMNS
from fraudmatch.sealing.keys import PartyKeys, PublicIdentity
from fraudmatch.sealing.seal import Header, Recipient, Senders, seal_file

KEY_COLUMNS = (
    "run_id", "case_id", "rule", "partner", "dataset", "record_id", "other_partner",
    "other_dataset", "other_record_id",
)  # fmt: skip
RETURN_SCHEMA = dict.fromkeys((*KEY_COLUMNS, *RETURN_COLUMNS), pl.String)
_WORDS = {o.replace("_", " "): o for o in oc.OUTCOMES}
"""Outcomes as an investigator types them ("no issue", "No_Issue") to their codes."""
RETURN_SUFFIX = ".outcomes"


class ReturnError(ValueError):
    """A case list cannot be returned as it is; the message names the file, row and fix."""


def partner_analyst(partner: str, investigator: str | None) -> str:
    """Who an outcome from a partner is recorded as: the partner, and its investigator."""
    return f"{partner} (partner)" + (f": {investigator}" if investigator else "")


def read_case_list(path: Path) -> pl.DataFrame:
    """The rows of a filled-in case list that carry an outcome, as :data:`RETURN_SCHEMA`."""
    path = Path(path)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        frame = pl.read_excel(path, sheet_name="cases", infer_schema_length=0)
    elif path.suffix.lower() == ".csv":
        frame = pl.read_csv(path, infer_schema=False)
    else:
        raise ReturnError(f"{path}: give the case list as .csv or .xlsx")
    missing = [c for c in (*KEY_COLUMNS, "outcome") if c not in frame.columns]
    if missing:
        raise ReturnError(
            f"{path}: no column {', '.join(missing)}: return the case list 'fraudmatch open' "
            "wrote, with its outcome columns filled in"
        )
    for c in RETURN_COLUMNS:
        if c not in frame.columns:
            frame = frame.with_columns(pl.lit(None, pl.String).alias(c))
    frame = frame.select([pl.col(c).cast(pl.String).str.strip_chars() for c in RETURN_SCHEMA])
    frame = frame.with_row_index("_row", offset=2)  # the spreadsheet's row, after the header
    filled = frame.filter(pl.col("outcome").fill_null("") != "")
    problems = []
    codes = []
    for row, outcome, amount in filled.select("_row", "outcome", "amount").iter_rows():
        code = _WORDS.get(outcome.lower().replace("_", " "))
        if code is None:
            problems.append(f"row {row}: outcome {outcome!r}: use fraud, error, no issue or "
                            "under investigation")  # fmt: skip
        codes.append(code)
        if amount and _amount(amount) is None:
            problems.append(f"row {row}: amount {amount!r} is not a number of pounds, e.g. 1250.00")
    if problems:
        raise ReturnError(f"{path}: " + "; ".join(problems[:10]))
    return filled.with_columns(pl.Series("outcome", codes, pl.String)).drop("_row")


def _amount(text: str) -> float | None:
    try:
        value = float(text.replace("£", "").replace(",", "").strip())
    except ValueError:
        return None
    return value if value >= 0 and value == value else None


def seal_return(
    case_list: Path,
    out_dir: Path,
    *,
    council: PartyKeys,
    hub: PublicIdentity,
    period: str,
) -> tuple[Path, int]:
    """Seal the outcomes of a filled-in case list to the hub; returns (file, rows)."""
    rows = read_case_list(case_list)
    if not rows.height:
        raise ReturnError(f"{case_list}: no row has an outcome filled in: nothing to return")
    others = rows.filter(pl.col("partner") != council.name)
    if others.height:
        raise ReturnError(
            f"{case_list}: {others.height} row(s) are about another partner's records "
            f"({others['partner'][0]!r}): return only your own case list"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{council.name}__{period}__{Path(case_list).stem}{RETURN_SUFFIX}"
    with tempfile.TemporaryDirectory(prefix="fraudmatch-") as tmp:
        payload = Path(tmp) / "outcomes.parquet"
        rows.write_parquet(payload)
        seal_file(payload, target, sender=council, recipient=hub, kind="outcomes",
                  dataset=None, period=period)  # fmt: skip
    return target, rows.height


@dataclass
class MergeResult:
    """What merging one return did."""

    saved: int = 0
    unchanged: int = 0
    conflicts: list[str] = field(default_factory=list)
    """One line per match where someone else recorded a different outcome (not written)."""
    unknown: list[str] = field(default_factory=list)
    """Rows naming no match of their run (a case list edited by hand, or a deleted run)."""

    def text(self) -> str:
        parts = [f"{self.saved} outcome(s) saved", f"{self.unchanged} unchanged"]
        if self.conflicts:
            parts.append(f"{len(self.conflicts)} conflict(s) not written: "
                         + "; ".join(self.conflicts[:5]))  # fmt: skip
        if self.unknown:
            parts.append(
                f"{len(self.unknown)} row(s) naming no match: " + "; ".join(self.unknown[:5])
            )
        return ", ".join(parts)


def merge(
    url: str, rows: pl.DataFrame, *, sender: str, matches_of: Callable[[str], pl.DataFrame]
) -> MergeResult:
    """Record a verified return's rows on their matches (see the module's notes)."""
    result = MergeResult()
    bad = rows.filter(pl.col("partner") != sender)
    for r in bad.iter_rows(named=True):
        result.unknown.append(f"case {r['case_id']}: about {r['partner']}'s record, not {sender}'s")
    rows = rows.filter(pl.col("partner") == sender)
    for (run_id,), group in rows.group_by("run_id", maintain_order=True):
        try:
            matches = matches_of(str(run_id))
        except ValueError:
            result.unknown += [f"case {c}: no run {run_id}" for c in group["case_id"]]
            continue
        by_key = {r["match_key"]: r for r in matches.iter_rows(named=True)}
        seen: dict[str, tuple] = {}
        for row in group.iter_rows(named=True):
            match = _find(row, by_key)
            if match is None:
                result.unknown.append(f"case {row['case_id']} record {row['record_id']}")
                continue
            said = (row["outcome"], row["amount"], row["comment"])
            if match["match_key"] in seen:  # both sides of a match within this partner
                if seen[match["match_key"]] == said:
                    result.unchanged += 1
                else:
                    result.conflicts.append(
                        f"case {row['case_id']}: two rows of this return for the same match "
                        "disagree (the first was kept)"
                    )
                continue
            seen[match["match_key"]] = said
            _merge_one(url, row, match, sender, str(run_id), result)
    return result


def _find(row: dict, by_key: dict[str, dict]) -> dict | None:
    me = (row["partner"], row["dataset"], row["record_id"])
    other = (row["other_partner"], row["other_dataset"], row["other_record_id"])
    for left, right in ((me, other), (other, me)):
        match = by_key.get(oc.match_key(row["rule"], *left, *right))
        if match is not None and match["case_id"] == row["case_id"]:
            return match
    return None


def _merge_one(
    url: str, row: dict, match: dict, sender: str, run_id: str, result: MergeResult
) -> None:
    amount = _amount(row["amount"]) if row["amount"] else None
    comment = row["comment"] or ""
    current = oc.get_outcome(url, match["match_key"])
    mine = current is not None and current.analyst.startswith(f"{sender} (partner)")
    if current is not None and (current.outcome, current.amount, current.comment) == (
        row["outcome"], amount, comment
    ):  # fmt: skip
        result.unchanged += 1
        return
    if current is not None and not mine:
        result.conflicts.append(
            f"case {row['case_id']}: {current.analyst} recorded '{current.outcome}' (version "
            f"{current.version}); {sender} sent '{row['outcome']}'"
        )
        return
    try:
        oc.record_outcome(
            url,
            match,
            outcome=row["outcome"],
            analyst=partner_analyst(sender, row["investigator"]),
            expected_version=current.version if current else 0,
            amount=amount,
            comment=comment,
            run_id=run_id,
        )
        result.saved += 1
    except oc.OutcomeConflict as exc:
        result.conflicts.append(f"case {row['case_id']}: {exc}")


def open_return(path: Path, *, hub: Recipient, senders: Senders) -> tuple[Header, pl.DataFrame]:
    """Verify and decrypt a sealed return (refused unless a partner signed it to the hub)."""
    from fraudmatch.sealing.seal import open_file

    with tempfile.TemporaryDirectory(prefix="fraudmatch-") as tmp:
        out = Path(tmp) / "outcomes.parquet"
        header = open_file(path, out, recipient=hub, senders=senders, expected_kind="outcomes")
        rows = pl.read_parquet(out)
    missing = [c for c in RETURN_SCHEMA if c not in rows.columns]
    if missing:
        raise ReturnError(f"{path.name}: the sealed return lacks {', '.join(missing)}")
    return header, rows.select([pl.col(c).cast(pl.String) for c in RETURN_SCHEMA])

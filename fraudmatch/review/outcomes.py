"""Outcomes analysts record on matches, and the audit trail of every change.

Outcomes outlive runs (retention deletes submissions and runs, never outcomes), are
written by several analysts at once while a cycle may be running, and may live in the
partnership's PostgreSQL. So they sit in their own database, through SQLAlchemy Core:
embedded SQLite in the workspace by default, any SQLAlchemy URL when the operator gives
one (``FRAUDMATCH_OUTCOMES_URL``, e.g. ``postgresql+psycopg://...``).

A match is identified by its **match key**: a hash of the rule and both sides' partner,
dataset and record_id. Keys may change every cycle, tokens never appear here, so an
outcome still applies next cycle to the same two records. Its **evidence hash** covers the
level each comparison reached, so a later cycle can tell when the evidence changed.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import sqlalchemy as sa

from fraudmatch.review import schema
from fraudmatch.review.schema import audit_table, outcomes_table

OUTCOMES = ("fraud", "error", "no_issue", "under_investigation")
"""What an analyst can record: a lead is confirmed fraud, an error (overpayment without
intent), no issue, or still being investigated."""

SAME_ENTITY = {"fraud": True, "error": True, "no_issue": None, "under_investigation": None}
"""Whether an outcome says the two records really were the same person or account.
``no_issue`` can mean either (same person, but entitled), so it is no label for tuning
unless the analyst says so with ``same_entity``."""

URL_ENV = "FRAUDMATCH_OUTCOMES_URL"
_KEY_COLUMNS = (
    "rule",
    "left_partner",
    "left_dataset",
    "left_record_id",
    "right_partner",
    "right_dataset",
    "right_record_id",
)
MIRROR_KEY_COLUMNS = (
    "rule",
    "right_partner",
    "right_dataset",
    "right_record_id",
    "left_partner",
    "left_dataset",
    "left_record_id",
)
"""The key columns with the sides swapped: a within-dataset pair may be written either way."""

PG_DRIVER = "postgresql+psycopg"
"""PostgreSQL URLs without a driver use psycopg 3 (the ``postgres`` extra), not psycopg2."""


class OutcomeError(ValueError):
    """An outcome cannot be recorded as given; the message says what to change."""


class OutcomeConflict(OutcomeError):
    """Someone else recorded an outcome on this match since the analyst loaded it."""

    def __init__(self, current: Outcome) -> None:
        self.current = current
        super().__init__(
            f"{current.analyst} recorded '{current.outcome}' on this match at "
            f"{current.recorded_at:%Y-%m-%d %H:%M} (version {current.version}) after you "
            "opened it; review their change, then save again"
        )


@dataclass(frozen=True)
class Outcome:
    match_key: str
    case_id: str
    rule: str
    outcome: str
    analyst: str
    recorded_at: datetime
    version: int
    evidence_hash: str
    amount: float | None = None
    comment: str = ""
    same_entity: bool | None = None
    run_id: str | None = None
    evidence_labels: dict[str, str] | None = None


def evidence_labels_of(match: Mapping[str, Any]) -> dict[str, str] | None:
    """``{comparison: level}`` from a match's ``level_*`` fields (None when it has none)."""
    labels = {
        k.removeprefix("level_"): "null" if v is None else str(v)
        for k, v in match.items()
        if k.startswith("level_")
    }
    return dict(sorted(labels.items())) or None


def match_key(
    rule: str,
    left_partner: str,
    left_dataset: str,
    left_record_id: str,
    right_partner: str,
    right_dataset: str,
    right_record_id: str,
) -> str:
    """Stable id of a match from the partners' own record ids (never from tokens)."""
    parts = (rule, left_partner, left_dataset, left_record_id, right_partner, right_dataset,
             right_record_id)  # fmt: skip
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def match_key_expr() -> pl.Expr:
    """:func:`match_key` as a polars expression over a matches frame."""
    return _key_expr(_KEY_COLUMNS)


def mirror_key_expr() -> pl.Expr:
    """:func:`match_key` of the same pair with left and right swapped (one-dataset rules)."""
    return _key_expr(MIRROR_KEY_COLUMNS)


def _key_expr(columns: tuple[str, ...]) -> pl.Expr:
    text = pl.concat_str([pl.col(c).cast(pl.String) for c in columns], separator="\x1f")
    return text.map_batches(
        lambda s: pl.Series([hashlib.sha256(v.encode()).hexdigest()[:32] for v in s]),
        return_dtype=pl.String,
    )


def evidence_hash_expr(columns: list[str]) -> pl.Expr:
    """Hash of the level every comparison reached (``level_*`` columns), sorted by name."""
    levels = sorted(c for c in columns if c.startswith("level_"))
    if not levels:
        return pl.lit("none")
    text = pl.concat_str(
        [
            pl.format("{}={}", pl.lit(c), pl.col(c).cast(pl.String).fill_null("null"))
            for c in levels
        ],
        separator=";",
    )
    return text.map_batches(
        lambda s: pl.Series([hashlib.sha256(v.encode()).hexdigest()[:32] for v in s]),
        return_dtype=pl.String,
    )


def default_url(workspace_root: Path) -> str:
    return os.environ.get(URL_ENV) or f"sqlite:///{Path(workspace_root) / 'outcomes.sqlite'}"


_engines: dict[str, sa.Engine] = {}


def normalise_url(url: str) -> str:
    """``postgres://`` and ``postgresql://`` mean psycopg 3, the driver fraudmatch ships."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return PG_DRIVER + "://" + url[len(prefix) :]
    return url


def engine(url: str) -> sa.Engine:
    """One engine per URL, its schema migrated to the newest revision on first use.

    Opening connects at once, so a missing driver, a refused connection or a wrong
    password is one :class:`OutcomeError` naming the database (password hidden) when the
    app or the cycle starts, not an error page later. SQLite runs in WAL mode.
    """
    if url not in _engines:
        try:
            eng = _create_engine(normalise_url(url))
            schema.migrate(eng)
        except ModuleNotFoundError as exc:
            raise OutcomeError(
                f"cannot open the outcomes database {_shown(url)} (set by {URL_ENV} or the "
                f"workspace): its driver {exc.name!r} is not installed; for PostgreSQL "
                "install fraudmatch with the postgres extra: pip install 'fraudmatch[postgres]'"
            ) from None
        except (sa.exc.ArgumentError, sa.exc.DBAPIError, ImportError) as exc:
            raise OutcomeError(
                f"cannot open the outcomes database {_shown(url)} (set by {URL_ENV} or the "
                f"workspace): {_reason(exc)}"
            ) from None
        _engines[url] = eng
    return _engines[url]


def _create_engine(url: str) -> sa.Engine:
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "postgresql":
        # fail in seconds when the server is unreachable; check pooled connections
        return sa.create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": 10})
    eng = sa.create_engine(url)
    if eng.dialect.name == "sqlite":

        @sa.event.listens_for(eng, "connect")
        def _pragmas(dbapi_con: Any, _record: Any) -> None:
            cur = dbapi_con.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=10000")
            cur.close()

    return eng


def _reason(exc: BaseException) -> str:
    """The first line of the driver's own message, which says what was refused."""
    inner = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(inner).splitlines() if line.strip()]
    return f"{type(inner).__name__}: {lines[0] if lines else 'no reason given'}"


def _shown(url: str) -> str:
    """The URL with any password hidden: messages may reach a log."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "(an unreadable URL)"


def _row_to_outcome(row: Mapping[str, Any]) -> Outcome:
    recorded = row["recorded_at"]
    if recorded.tzinfo is None:
        recorded = recorded.replace(tzinfo=UTC)
    return Outcome(
        match_key=row["match_key"],
        case_id=row["case_id"],
        rule=row["rule"],
        outcome=row["outcome"],
        analyst=row["analyst"],
        recorded_at=recorded,
        version=row["version"],
        evidence_hash=row["evidence_hash"],
        amount=float(row["amount"]) if row["amount"] is not None else None,
        comment=row["comment"] or "",
        same_entity=row["same_entity"],
        run_id=row["run_id"],
        evidence_labels=json.loads(row["evidence_labels"]) if row["evidence_labels"] else None,
    )


def get_outcome(url: str, key: str) -> Outcome | None:
    with engine(url).connect() as con:
        row = (
            con.execute(sa.select(outcomes_table).where(outcomes_table.c.match_key == key))
            .mappings()
            .first()
        )
    return _row_to_outcome(row) if row else None


def record_outcome(
    url: str,
    match: Mapping[str, Any],
    *,
    outcome: str,
    analyst: str,
    expected_version: int,
    amount: float | None = None,
    comment: str = "",
    same_entity: bool | None = None,
    run_id: str | None = None,
    evidence_labels: Mapping[str, str] | None = None,
) -> Outcome:
    """Record (or change) the outcome of one match, refusing a lost update.

    ``match`` holds the match's key columns (rule, both sides' partner, dataset and
    record_id), ``case_id`` and ``evidence_hash``. ``expected_version`` is the version the
    analyst saw (0 when there was none): if another analyst saved in between, nothing is
    written and :class:`OutcomeConflict` carries their change. ``evidence_labels`` (the
    level each comparison reached) is taken from the match's ``level_*`` fields when not
    given, so a later cycle can say which comparison changed.
    """
    if outcome not in OUTCOMES:
        raise OutcomeError(f"outcome must be one of {', '.join(OUTCOMES)}, got {outcome!r}")
    if not analyst.strip():
        raise OutcomeError("an outcome needs the name of the analyst recording it")
    if amount is not None and amount < 0:
        raise OutcomeError("amount must be zero or more (money recovered or at stake)")
    key = match_key(*(str(match[c]) for c in _KEY_COLUMNS))
    now = datetime.now(UTC)
    if same_entity is None:
        same_entity = SAME_ENTITY[outcome]
    if evidence_labels is None:
        evidence_labels = evidence_labels_of(match)
    values = {
        "case_id": str(match["case_id"]),
        "rule": str(match["rule"]),
        **{c: str(match[c]) for c in _KEY_COLUMNS[1:]},
        "evidence_hash": str(match["evidence_hash"]),
        "outcome": outcome,
        "same_entity": same_entity,
        "amount": amount,
        "comment": comment,
        "analyst": analyst,
        "recorded_at": now,
        "run_id": run_id,
        "version": expected_version + 1,
        "evidence_labels": json.dumps(dict(evidence_labels)) if evidence_labels else None,
    }
    t = outcomes_table
    with engine(url).begin() as con:
        if expected_version == 0:
            try:
                con.execute(sa.insert(t).values(match_key=key, **values))
            except sa.exc.IntegrityError:
                con.rollback()
                current = get_outcome(url, key)
                assert current is not None
                raise OutcomeConflict(current) from None
        else:
            done = con.execute(
                sa.update(t)
                .where(t.c.match_key == key, t.c.version == expected_version)
                .values(**values)
            )
            if done.rowcount != 1:
                con.rollback()
                current = get_outcome(url, key)
                if current is None:
                    raise OutcomeError("no outcome to change: open the match again") from None
                raise OutcomeConflict(current)
        detail = {k: values[k] for k in ("outcome", "amount", "comment", "same_entity", "version")}
        con.execute(
            sa.insert(audit_table).values(
                at=now,
                analyst=analyst,
                action="record_outcome",
                match_key=key,
                case_id=values["case_id"],
                detail=json.dumps(detail, default=str),
            )
        )
    result = get_outcome(url, key)
    assert result is not None
    return result


def log_action(url: str, analyst: str, action: str, detail: Mapping[str, Any]) -> None:
    """Audit something that is not an outcome (a login, an export)."""
    with engine(url).begin() as con:
        con.execute(
            sa.insert(audit_table).values(
                at=datetime.now(UTC),
                analyst=analyst,
                action=action,
                detail=json.dumps(dict(detail), default=str),
            )
        )


def current_outcomes(url: str, keys: list[str] | None = None) -> pl.DataFrame:
    """Every recorded outcome, one row per match key (only those of ``keys`` when given)."""
    columns = list(_OUTCOME_SCHEMA)
    query = sa.select(*(outcomes_table.c[c] for c in columns))
    with engine(url).connect() as con:
        if keys is None:
            rows = con.execute(query).all()
        else:
            rows = []
            for at in range(0, len(keys), 500):
                chunk = keys[at : at + 500]
                rows += con.execute(query.where(outcomes_table.c.match_key.in_(chunk))).all()
    data: dict[str, list[Any]] = {c: [r[i] for r in rows] for i, c in enumerate(columns)}
    data["amount"] = [float(v) if v is not None else None for v in data["amount"]]
    data["recorded_at"] = [
        v.replace(tzinfo=UTC) if v is not None and v.tzinfo is None else v
        for v in data["recorded_at"]
    ]
    return pl.DataFrame(data, schema=_OUTCOME_SCHEMA)


_OUTCOME_SCHEMA: dict[str, Any] = {
    "match_key": pl.String, "case_id": pl.String, "rule": pl.String,
    "left_partner": pl.String, "left_dataset": pl.String, "left_record_id": pl.String,
    "right_partner": pl.String, "right_dataset": pl.String, "right_record_id": pl.String,
    "evidence_hash": pl.String, "outcome": pl.String, "same_entity": pl.Boolean,
    "amount": pl.Float64, "comment": pl.String, "analyst": pl.String,
    "recorded_at": pl.Datetime("us", "UTC"), "run_id": pl.String, "version": pl.Int64,
    "evidence_labels": pl.String,
}  # fmt: skip


def audit_trail(
    url: str,
    key: str | None = None,
    *,
    keys: list[str] | None = None,
    case_id: str | None = None,
    limit: int | None = None,
) -> pl.DataFrame:
    """Who did what when, newest first: all of it, or for one match (``key``), or for some
    matches and/or one case (``keys``, ``case_id``: either may hold), at most ``limit``."""
    t = audit_table
    query = sa.select(t).order_by(t.c.id.desc())
    if key is not None:
        query = query.where(t.c.match_key == key)
    which = []
    if keys:
        which.append(t.c.match_key.in_(keys[:500]))
    if case_id:
        which.append(t.c.case_id == case_id)
    if which:
        query = query.where(sa.or_(*which))
    if limit:
        query = query.limit(limit)
    with engine(url).connect() as con:
        rows = [dict(r) for r in con.execute(query).mappings().all()]
    schema = {
        "id": pl.Int64, "at": pl.Datetime("us", "UTC"), "analyst": pl.String,
        "action": pl.String, "match_key": pl.String, "case_id": pl.String, "detail": pl.String,
    }  # fmt: skip
    return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)


def keys_audited_between(url: str, after: int, upto: int) -> list[str]:
    """Match keys of the audit entries with ``after < id <= upto``: the outcomes saved
    since an earlier read (every outcome is audited in the transaction that saves it)."""
    t = audit_table
    query = (
        sa.select(t.c.match_key)
        .where(t.c.id > after, t.c.id <= upto, t.c.match_key.is_not(None))
        .distinct()
    )
    with engine(url).connect() as con:
        return [r[0] for r in con.execute(query)]


def forget_evidence(url: str, run_ids: list[str]) -> int:
    """Drop the evidence labels of outcomes recorded on runs deleted under retention.

    What stays is what savings and suppression need (outcome, amount, match key, evidence
    hash); returns how many outcomes were reduced. A SQLite database never created has
    none (and is not created here).
    """
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return 0
    t = outcomes_table
    with engine(url).begin() as con:
        done = con.execute(
            sa.update(t)
            .where(t.c.run_id.in_(run_ids), t.c.evidence_labels.is_not(None))
            .values(evidence_labels=None)
        )
    return int(done.rowcount or 0)

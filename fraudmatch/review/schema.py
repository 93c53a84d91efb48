"""The review database's tables and how its schema is created and migrated.

One schema for SQLite (the workspace's ``outcomes.sqlite``) and PostgreSQL
(``FRAUDMATCH_OUTCOMES_URL``), created and upgraded by the same Alembic migrations in
``fraudmatch/review/migrations`` whenever a store is opened. A database made before
migrations existed (tables, no ``alembic_version``) is brought to the first revision's
shape and stamped, then upgraded like any other.
"""

from __future__ import annotations

import fcntl
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BASELINE = "0001"
"""The revision whose tables a store made before migrations already has."""
_PG_LOCK = 0x66726D72  # any constant: one migrator at a time per PostgreSQL database

metadata = sa.MetaData()
outcomes_table = sa.Table(
    "outcomes",
    metadata,
    sa.Column("match_key", sa.String(64), primary_key=True),
    sa.Column("case_id", sa.String(64), nullable=False),
    sa.Column("rule", sa.String(200), nullable=False),
    sa.Column("left_partner", sa.String(100), nullable=False),
    sa.Column("left_dataset", sa.String(100), nullable=False),
    sa.Column("left_record_id", sa.String(200), nullable=False),
    sa.Column("right_partner", sa.String(100), nullable=False),
    sa.Column("right_dataset", sa.String(100), nullable=False),
    sa.Column("right_record_id", sa.String(200), nullable=False),
    sa.Column("evidence_hash", sa.String(64), nullable=False),
    sa.Column("outcome", sa.String(40), nullable=False),
    sa.Column("same_entity", sa.Boolean, nullable=True),
    sa.Column("amount", sa.Numeric(14, 2), nullable=True),
    sa.Column("comment", sa.Text, nullable=False, default=""),
    sa.Column("analyst", sa.String(100), nullable=False),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("run_id", sa.String(100), nullable=True),
    sa.Column("version", sa.Integer, nullable=False),
    # JSON {comparison: level} the evidence hash covers, so a later cycle can say which
    # comparison changed (nullable: older rows and callers that do not give it)
    sa.Column("evidence_labels", sa.Text, nullable=True),
)
audit_table = sa.Table(
    "audit",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("analyst", sa.String(100), nullable=False),
    sa.Column("action", sa.String(40), nullable=False),
    sa.Column("match_key", sa.String(64), nullable=True),
    sa.Column("case_id", sa.String(64), nullable=True),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Index("ix_audit_match_key", "match_key"),
)
sessions_table = sa.Table(
    "sessions",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("analyst", sa.String(100), nullable=False, index=True),
    sa.Column("address", sa.String(64), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("revoked_because", sa.String(60), nullable=True),
)
signin_attempts_table = sa.Table(
    "signin_attempts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("name_digest", sa.String(64), nullable=False, index=True),
    sa.Column("address", sa.String(64), nullable=False, index=True),
    sa.Column("ok", sa.Boolean, nullable=False),
)
allocations_table = sa.Table(
    "allocations",
    metadata,
    sa.Column("run_id", sa.String(100), primary_key=True),
    sa.Column("case_id", sa.String(64), primary_key=True),
    sa.Column("rule", sa.String(200), nullable=False),
    sa.Column("analyst", sa.String(100), nullable=True, index=True),
    sa.Column("assigned_by", sa.String(100), nullable=False),
    sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("due", sa.Date, nullable=True),
)


def alembic_config() -> Config:
    """Alembic's configuration for the review schema (no ini file needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def migrate(eng: sa.Engine) -> None:
    """Create or upgrade the schema to the newest revision; safe to run concurrently."""
    config = alembic_config()
    with _exclusive(eng), eng.begin() as con:
        if con.dialect.name == "postgresql":
            con.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK})
        inspector = sa.inspect(con)
        if inspector.has_table("outcomes") and not inspector.has_table("alembic_version"):
            _bring_to_baseline(con)
            config.attributes["connection"] = con
            command.stamp(config, BASELINE)
        config.attributes["connection"] = con
        command.upgrade(config, "head")


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(eng: sa.Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with eng.connect() as con:
        return MigrationContext.configure(con).get_current_revision()


def _bring_to_baseline(con: sa.Connection) -> None:
    """A pre-migration store: add the nullable columns the baseline has and it lacks."""
    have = {c["name"] for c in sa.inspect(con).get_columns("outcomes")}
    for col in outcomes_table.columns:
        if col.name not in have and col.nullable:
            kind = col.type.compile(dialect=con.dialect)
            con.execute(sa.text(f"ALTER TABLE outcomes ADD COLUMN {col.name} {kind}"))
    log.info("outcomes store made before migrations: stamped at revision %s", BASELINE)


@contextmanager
def _exclusive(eng: sa.Engine) -> Iterator[None]:
    """For a SQLite file, a lock file beside it (SQLite DDL is not reliably transactional
    through the driver); PostgreSQL takes an advisory lock in the migrating transaction."""
    database = eng.url.database if eng.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        yield
        return
    lock = Path(database).with_name(Path(database).name + ".migrate-lock")
    try:
        handle = open(lock, "a")  # noqa: SIM115 (held across the yield)
    except OSError:  # no such folder: opening the database says so, in its own words
        yield
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)

"""The catalogue's database: schema and migrations, connections and sessions, stored paths.

:mod:`fraudmatch.hub.catalogue` holds the questions asked of it (what was received,
stored, refused, run and deleted); this module is how they reach the DuckDB file. See
that module for the conventions (one short transaction per write, UTC times,
root-relative paths, append-only migrations).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import duckdb
import polars as pl

Connection = duckdb.DuckDBPyConnection
Migration = Callable[[Connection], None]

_LOCK_WAIT_SECONDS = 30.0


class Workspace(Protocol):
    """What the catalogue needs of a workspace: where its file is, and the root that stored
    paths are relative to. A protocol, not :class:`fraudmatch.hub.workspace.Workspace`
    itself, so that the workspace may create the catalogue without an import cycle."""

    @property
    def root(self) -> Path: ...

    @property
    def catalogue_path(self) -> Path: ...


class CatalogueError(RuntimeError):
    """The catalogue cannot be used as it is; the message says what to do."""


# --------------------------------------------------------------------------- schema

_V1 = """
CREATE TABLE submissions (
    sha256 VARCHAR NOT NULL,             -- payload_sha256 from the sealed header
    partner VARCHAR NOT NULL,
    dataset VARCHAR NOT NULL,
    period VARCHAR NOT NULL,
    created TIMESTAMP NOT NULL,          -- sealed at (sender's clock, signed), UTC
    received_at TIMESTAMP NOT NULL,      -- stored at the hub, UTC
    inbox_name VARCHAR NOT NULL,
    stored_path VARCHAR NOT NULL,
    sealed_path VARCHAR NOT NULL,
    rows BIGINT NOT NULL,
    payload_size BIGINT,
    sender_fingerprint VARCHAR,
    status VARCHAR NOT NULL DEFAULT 'stored',  -- stored | deleted (by retention)
    -- Not the hash alone: two datasets with one specification (housing benefit and council
    -- tax reduction) can be byte-identical extracts, and each must be stored under its name.
    PRIMARY KEY (partner, dataset, sha256)
);
CREATE TABLE quarantined (
    path VARCHAR PRIMARY KEY,            -- where the refused file now is
    inbox_name VARCHAR NOT NULL,
    partner VARCHAR NOT NULL,            -- whose inbox it was in
    reason VARCHAR NOT NULL,
    "at" TIMESTAMP NOT NULL,
    sender VARCHAR,                      -- from the clear header, when there was one
    dataset VARCHAR,
    period VARCHAR
);
CREATE TABLE runs (
    run_id VARCHAR PRIMARY KEY,
    cycle_date DATE NOT NULL,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    status VARCHAR NOT NULL,             -- running | finished | failed
    attempts INTEGER NOT NULL DEFAULT 1,
    summary VARCHAR                      -- JSON document
);
CREATE TABLE run_steps (
    run_id VARCHAR NOT NULL,
    step VARCHAR NOT NULL,               -- e.g. match, distribute
    "key" VARCHAR NOT NULL,              -- e.g. the rule or partner name
    status VARCHAR NOT NULL,             -- done (or failed)
    path VARCHAR,
    "at" TIMESTAMP NOT NULL,
    PRIMARY KEY (run_id, step, "key")
);
CREATE TABLE run_rules (
    run_id VARCHAR NOT NULL,
    rule VARCHAR NOT NULL,
    matches BIGINT NOT NULL,
    cases BIGINT NOT NULL,
    path VARCHAR,
    PRIMARY KEY (run_id, rule)
);
"""


def _sql_migration(script: str) -> Migration:
    def apply(con: Connection) -> None:
        con.execute(script)

    return apply


_V2 = """
CREATE TABLE deletions (
    kind VARCHAR NOT NULL,               -- submission | run | quarantined | outbox
    item VARCHAR NOT NULL,               -- what: partner/dataset/period/sha, run id, file name
    paths VARCHAR NOT NULL,              -- JSON list of the files and folders deleted
    stored_at TIMESTAMP NOT NULL,        -- when the hub stored it (a run: its cycle date)
    deleted_at TIMESTAMP NOT NULL,
    reason VARCHAR NOT NULL,             -- why, in words
    rule VARCHAR NOT NULL,               -- the clause of the agreement applied
    PRIMARY KEY (kind, item)
);
"""

_V3 = """
CREATE TABLE rule_inputs (
    run_id VARCHAR NOT NULL,
    rule VARCHAR NOT NULL,
    partner VARCHAR NOT NULL,
    dataset VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL,             -- the submission the rule matched on
    PRIMARY KEY (run_id, rule, partner, dataset)
);
ALTER TABLE run_rules ADD COLUMN definition VARCHAR;  -- digest of the rule as it ran
CREATE TABLE bundles (
    run_id VARCHAR NOT NULL,
    partner VARCHAR NOT NULL,
    version INTEGER NOT NULL,            -- 1, then 2 when late data changed the cases, ...
    content VARCHAR,                     -- digest of the case rows sealed (null: unknown)
    rows BIGINT NOT NULL,
    cases BIGINT NOT NULL,
    path VARCHAR NOT NULL,
    "at" TIMESTAMP NOT NULL,
    PRIMARY KEY (run_id, partner, version)
);
"""

MIGRATIONS: list[tuple[int, str, Migration]] = [
    (1, "submissions, quarantine and runs", _sql_migration(_V1)),
    (2, "deletion log (retention)", _sql_migration(_V2)),
    (3, "the submissions each rule used, bundle versions (late data)", _sql_migration(_V3)),
]
"""(version, description, migration) in order. Append, never edit: shipped catalogues
already carry the earlier versions."""

SCHEMA_VERSION = MIGRATIONS[-1][0]


def _current_version(con: Connection) -> int:
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_version ("
        "version INTEGER PRIMARY KEY, description VARCHAR, applied_at TIMESTAMP NOT NULL)"
    )
    row = con.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()
    return int(row[0]) if row else 0


def _migrate(con: Connection, source: object) -> int:
    """Bring the schema up to :data:`SCHEMA_VERSION`, one transaction per migration."""
    version = _current_version(con)
    if version > SCHEMA_VERSION:
        raise CatalogueError(
            f"{source}: catalogue schema version {version} is newer than this fraudmatch "
            f"understands ({SCHEMA_VERSION}); upgrade fraudmatch before running the hub"
        )
    for number, description, migration in MIGRATIONS:
        if number <= version:
            continue
        con.begin()
        try:
            migration(con)
            con.execute(
                "INSERT INTO schema_version VALUES (?, ?, ?)", [number, description, _now()]
            )
            con.commit()
        except BaseException:
            con.rollback()
            raise
        version = number
    return version


# --------------------------------------------------------------------------- connections


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _utc(value: str | datetime) -> datetime:
    """An ISO timestamp (``...Z``) or datetime as naive UTC, the catalogue's convention."""
    parsed = datetime.fromisoformat(value) if isinstance(value, str) else value
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def _open(workspace: Workspace) -> Connection:
    """Connect, waiting a little while another process holds the write lock."""
    path = workspace.catalogue_path
    deadline = time.monotonic() + _LOCK_WAIT_SECONDS
    delay = 0.05
    while True:
        try:
            con = duckdb.connect(str(path))
            break
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                raise CatalogueError(
                    f"{path}: cannot open the catalogue: {exc} "
                    "(is another fraudmatch cycle running on this workspace?)"
                ) from None
            time.sleep(delay)
            delay = min(delay * 2, 1.0)
    if path.exists() and path.stat().st_mode & 0o077:
        os.chmod(path, 0o600)
    return con


_sessions: dict[str, tuple[Connection, int]] = {}
_sessions_lock = threading.Lock()


def _key(workspace: Workspace) -> str:
    return os.path.abspath(workspace.catalogue_path)


@contextmanager
def session(workspace: Workspace) -> Iterator[None]:
    """Keep the catalogue open (and its file locked) for a batch of operations.

    Sessions nest and may be shared by threads; the database closes when the outermost
    one ends. Each operation inside still gets its own connection and transaction.
    """
    key = _key(workspace)
    with _sessions_lock:
        if key in _sessions:
            anchor, depth = _sessions[key]
        else:
            anchor, depth = _open(workspace), 0
            try:
                _migrate(anchor, workspace.catalogue_path)
            except BaseException:
                anchor.close()
                raise
        _sessions[key] = (anchor, depth + 1)
    try:
        yield
    finally:
        with _sessions_lock:
            anchor, depth = _sessions.pop(key)
            if depth > 1:
                _sessions[key] = (anchor, depth - 1)
            else:
                anchor.close()


@contextmanager
def _connect(workspace: Workspace) -> Iterator[Connection]:
    with _sessions_lock:
        open_session = _sessions.get(_key(workspace))
        con = open_session[0].cursor() if open_session else None
    if con is None:  # no session: open, check the schema, and close again afterwards
        con = _open(workspace)
        try:
            _migrate(con, workspace.catalogue_path)
        except BaseException:
            con.close()
            raise
    try:
        yield con
    finally:
        con.close()


@contextmanager
def _transaction(workspace: Workspace) -> Iterator[Connection]:
    with _connect(workspace) as con:
        con.begin()
        try:
            yield con
            con.commit()
        except BaseException:
            con.rollback()
            raise


def _frame(
    con: Connection, sql: str, params: Sequence[object], schema: Mapping[str, pl.DataType]
) -> pl.DataFrame:
    """Query results as a polars frame with a fixed schema (also when there are no rows)."""
    rows = con.execute(sql, list(params)).fetchall()
    return pl.DataFrame(rows, schema=dict(schema), orient="row")


# --------------------------------------------------------------------------- paths

_TOP_FOLDERS = ("store", "quarantine", "runs", "outbox", "inbox")
"""The workspace folders a recorded path can lie in (see :mod:`fraudmatch.hub.workspace`)."""

_PATH_COLUMNS: dict[str, tuple[str, ...]] = {
    "submissions": ("stored_path", "sealed_path"),
    "quarantined": ("path",),
    "run_steps": ("path",),
    "run_rules": ("path",),
    "bundles": ("path",),
}


def _to_stored(workspace: Workspace, path: str | os.PathLike[str] | None) -> str | None:
    """``path`` as recorded: relative to the workspace root when it lies inside it."""
    if path is None:
        return None
    relative = os.path.relpath(os.path.abspath(path), os.path.abspath(workspace.root))
    if relative == ".." or relative.startswith(".." + os.sep) or os.path.isabs(relative):
        return str(path)  # outside the workspace (a path given by hand): kept as given
    return Path(relative).as_posix()


def _to_path(workspace: Workspace, stored: str | None) -> str | None:
    if stored is None or os.path.isabs(stored):
        return stored
    return str(workspace.root / stored)


def _resolve_columns(
    workspace: Workspace, frame: pl.DataFrame, columns: Sequence[str]
) -> pl.DataFrame:
    """Recorded (relative) path columns joined to this workspace's root."""
    root = str(workspace.root).rstrip("/") + "/"
    return frame.with_columns(
        pl.when(pl.col(c).str.starts_with("/"))
        .then(pl.col(c))
        .otherwise(pl.lit(root) + pl.col(c))
        .alias(c)
        for c in columns
        if c in frame.columns
    )


def _old_style(workspace: Workspace, stored: str) -> str | None:
    """The root-relative form of a path recorded the old way, or None if it already is.

    Old paths were relative to the directory of the cycle that wrote them
    (``hub/store/...``) or absolute: the part from the first workspace folder on is what
    the path is within the workspace, preferring a reading under which the file exists.
    """
    parts = Path(stored).parts
    if not parts or (not os.path.isabs(stored) and parts[0] in _TOP_FOLDERS):
        return None
    if os.path.isabs(stored):
        inside = _to_stored(workspace, stored)
        if inside is not None and not os.path.isabs(inside):
            return inside
    readings = [Path(*parts[k:]).as_posix() for k, part in enumerate(parts) if part in _TOP_FOLDERS]
    for reading in readings:
        if (workspace.root / reading).exists():
            return reading
    # a relative path was the workspace's; an absolute one elsewhere may be a restore
    return readings[0] if readings and not os.path.isabs(stored) else None


def relativise_paths(workspace: Workspace) -> int:
    """Rewrite paths recorded relative to another directory (or absolute inside the
    workspace) as root-relative; returns how many were rewritten. Idempotent."""
    changed = 0
    with _transaction(workspace) as con:
        for table, columns in _PATH_COLUMNS.items():
            for column in columns:
                rows = con.execute(
                    f"SELECT DISTINCT {column} FROM {table} WHERE {column} IS NOT NULL AND "
                    f"split_part({column}, '/', 1) NOT IN ({', '.join('?' * len(_TOP_FOLDERS))})",
                    list(_TOP_FOLDERS),
                ).fetchall()
                for (old,) in rows:
                    new = _old_style(workspace, old)
                    if new is not None and new != old:
                        con.execute(
                            f"UPDATE {table} SET {column} = ? WHERE {column} = ?", [new, old]
                        )
                        changed += 1
    return changed


def ensure_schema(workspace: Workspace) -> int:
    """Create or migrate the catalogue, and make old-style paths root-relative; returns
    its schema version."""
    with _connect(workspace) as con:
        version = _current_version(con)
    relativise_paths(workspace)
    return version


def schema_version(workspace: Workspace) -> int:
    return ensure_schema(workspace)

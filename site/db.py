"""The SQLite database: one connection per request, one way to write, numbered migrations.

Every write goes through `transaction(db)`: BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any
exception. The connection runs in autocommit mode (`isolation_level=None`), so a write
outside `transaction()` would commit on its own; with `DB_CHECK_WRITES` (on in the tests)
such writes are collected in `WRITES_OUTSIDE_TRANSACTION`.

Migrations are `site/migrations/NNNN_name.sql`, applied in order by `proofmark init-db`
and at start-up; the applied version is kept in `schema_migrations`.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import sqlite_utils
from flask import Flask, current_app, g

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def database_path(app: Flask) -> Path:
    path = Path(app.config["DATABASE"])
    return path if path.is_absolute() else Path(app.instance_path) / path


class Connection(sqlite3.Connection):
    """A connection that knows whether it is inside `transaction()`."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.transaction_depth = 0


_WRITE = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)
# Writes seen outside transaction() on connections made with check_writes=True.
WRITES_OUTSIDE_TRANSACTION: list[str] = []


def connect(path: str | Path, *, check_writes: bool = False) -> sqlite_utils.Database:
    conn = sqlite3.connect(
        path, timeout=15, isolation_level=None, check_same_thread=False, factory=Connection
    )
    conn.row_factory = sqlite3.Row
    if check_writes:

        def _check(sql: str) -> None:
            if conn.transaction_depth == 0 and _WRITE.match(sql):
                WRITES_OUTSIDE_TRANSACTION.append(sql)

        conn.set_trace_callback(_check)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA foreign_keys = ON")
    # FULL: in WAL mode each COMMIT is fsynced before it returns, so an acknowledged decision
    # survives a power loss (NORMAL may lose the last commits).
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA busy_timeout = 15000")
    return sqlite_utils.Database(conn)


def get_db() -> sqlite_utils.Database:
    if "db" not in g:
        g.db = _take(current_app)
    return g.db


# A request's connection is kept for the next request of this process (DB_POOL_SIZE idle ones
# at most) instead of being closed: a new connection parses the whole schema again on its first
# statement and starts with an empty prepared-statement cache (about 2.5 ms of CPU each).
POOL_KEY = "proofmark.db_pool"
_pool_lock = threading.Lock()


def _take(app: Flask) -> sqlite_utils.Database:
    with _pool_lock:
        pool = app.extensions.get(POOL_KEY)
        if pool:
            return pool.pop()
    return connect(database_path(app), check_writes=app.config.get("DB_CHECK_WRITES", False))


def _give_back(app: Flask, db: sqlite_utils.Database) -> bool:
    conn = db.conn
    if conn.in_transaction or conn.transaction_depth:
        return False  # never seen: transaction() always ends what it begins
    size = int(app.config.get("DB_POOL_SIZE", 8))
    with _pool_lock:
        pool = app.extensions.setdefault(POOL_KEY, [])
        if len(pool) < size:
            pool.append(db)
            return True
    return False


def drop_pool(app: Flask) -> None:
    """Close the idle connections (before the database file is replaced, e.g. by restore)."""
    with _pool_lock:
        pool = app.extensions.pop(POOL_KEY, [])
    for db in pool:
        db.conn.close()


@contextmanager
def transaction(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """The one way to write: BEGIN IMMEDIATE (so two writers never interleave a read and a
    write), COMMIT at the end, ROLLBACK on any exception. Inside another `transaction()` on
    the same connection it joins that one: the outermost block commits."""
    conn = db.conn
    if conn.transaction_depth:
        conn.transaction_depth += 1
        try:
            yield db
        finally:
            conn.transaction_depth -= 1
        return
    if conn.in_transaction:
        raise RuntimeError("A transaction was opened without proofmark.db.transaction().")
    # Threads of this process queue here for the write lock instead of in SQLite's busy
    # handler, which sleeps in growing steps (up to 100 ms) and so turned eight concurrent
    # writers into seconds of p95. Bounded: after WRITER_QUEUE_SECONDS it goes on and SQLite's
    # own waiting decides, as before (another process's writers always queue there).
    queued = _writers.acquire(timeout=WRITER_QUEUE_SECONDS)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.transaction_depth = 1
        try:
            yield db
        except BaseException:
            conn.transaction_depth = 0
            conn.execute("ROLLBACK")
            raise
        conn.transaction_depth = 0
        conn.execute("COMMIT")
    finally:
        if queued:
            _writers.release()


_writers = threading.RLock()
WRITER_QUEUE_SECONDS = 5.0


def close_db(exc: BaseException | None = None) -> None:
    db = g.pop("db", None)
    if db is not None and not _give_back(current_app, db):
        db.conn.close()


def migrations() -> list[tuple[int, str, Path]]:
    found = []
    for path in sorted(MIGRATIONS_DIR.glob("[0-9][0-9][0-9][0-9]_*.sql")):
        found.append((int(path.name[:4]), path.stem[5:], path))
    return found


def latest_version() -> int:
    return max((v for v, _, _ in migrations()), default=0)


def current_version(db: sqlite_utils.Database) -> int:
    if not db["schema_migrations"].exists():
        return 0
    row = db.execute("SELECT max(version) FROM schema_migrations").fetchone()
    return row[0] or 0


def migrate(db: sqlite_utils.Database) -> list[int]:
    """Apply pending migrations, each in its own transaction. Returns the versions applied."""
    with transaction(db):
        db.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
    applied = []
    for version, name, path in migrations():
        # BEGIN IMMEDIATE serialises workers that start at the same time.
        with transaction(db):
            if db.execute("SELECT 1 FROM schema_migrations WHERE version = ?", (version,)).fetchone():
                continue
            for statement in _statements(path.read_text()):
                db.execute(statement)
            db.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (version, name, datetime.now(UTC).isoformat(timespec="seconds")),
            )
        applied.append(version)
    return applied


def _statements(sql: str) -> list[str]:
    """Split a migration into statements; triggers contain `;` inside BEGIN ... END."""
    statements, buf = [], ""
    for line in sql.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            if buf.strip():
                statements.append(buf.strip())
            buf = ""
    if buf.strip():
        statements.append(buf.strip())
    return statements


def init_app(app: Flask) -> None:
    """Close each request's connection when it ends; bring the schema up to date."""
    app.teardown_appcontext(close_db)
    db = connect(database_path(app), check_writes=app.config.get("DB_CHECK_WRITES", False))
    try:
        migrate(db)
    finally:
        db.conn.close()

"""The SQLite database: one connection per request, one way to write, numbered migrations.

Every write goes through `transaction(db)`: BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any
exception. The connection runs in autocommit mode (`isolation_level=None`), so a write
outside `transaction()` would commit on its own; with `DB_CHECK_WRITES` (on in the tests)
such writes are collected in `WRITES_OUTSIDE_TRANSACTION`.

Migrations are `site/migrations/NNNN_name.sql`, applied in order by `proofmark init-db`
and at start-up; the applied version is kept in `schema_migrations`.
"""

from __future__ import annotations

import contextvars
import os
import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import sqlite_utils
from flask import Flask, current_app, g, has_app_context

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def database_path(app: Flask) -> Path:
    path = Path(app.config["DATABASE"])
    return path if path.is_absolute() else Path(app.instance_path) / path


class Connection(sqlite3.Connection):
    """A connection that knows whether it is inside `transaction()`."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.transaction_depth = 0
        self.path = str(args[0] if args else kwargs.get("database", ""))
        self.check_writes = False


_WRITE = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)
# Writes seen outside transaction() on connections made with check_writes=True.
WRITES_OUTSIDE_TRANSACTION: list[str] = []


def connect(path: str | Path, *, check_writes: bool = False) -> sqlite_utils.Database:
    conn = sqlite3.connect(
        path, timeout=15, isolation_level=None, check_same_thread=False, factory=Connection
    )
    conn.row_factory = sqlite3.Row
    conn.check_writes = check_writes
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
    conn.execute(f"PRAGMA busy_timeout = {int(WRITE_WAIT_SECONDS * 1000)}")
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
    close_committers(str(database_path(app)))


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
        _begin_immediate(conn)
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

# Another PROCESS's writer is waited for here, in short equal steps, instead of in SQLite's busy
# handler: that one sleeps in growing steps (1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100 ms), so
# a writer that found the lock taken slept on long after it was free, and two worker processes
# approved more slowly than one. Up to WRITE_WAIT_SECONDS (the connection's busy_timeout), then
# "database is locked" as before. 0: SQLite's busy handler waits (the old way).
WRITE_WAIT_STEP_SECONDS = 0.0005
WRITE_WAIT_SECONDS = 15.0


def _begin_immediate(conn: sqlite3.Connection) -> None:
    if WRITE_WAIT_STEP_SECONDS <= 0:
        conn.execute("BEGIN IMMEDIATE")
        return
    deadline = time.monotonic() + WRITE_WAIT_SECONDS
    conn.execute("PRAGMA busy_timeout = 0")  # SQLITE_BUSY at once: we wait, below
    try:
        while True:
            try:
                conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                busy = getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_BUSY
                if not busy or conn.in_transaction or time.monotonic() >= deadline:
                    raise
            time.sleep(WRITE_WAIT_STEP_SECONDS)
    finally:
        conn.execute(f"PRAGMA busy_timeout = {int(WRITE_WAIT_SECONDS * 1000)}")


# --- group commit -------------------------------------------------------------------------
#
# A short write (a customer's decision, the queueing of its confirmation) costs little CPU but
# one COMMIT, and with synchronous=FULL each COMMIT waits for an fsync (about 6 ms here) while
# holding the write lock. `write(db, work)` hands `work` to one writer thread per process and
# database file, which runs every write queued meanwhile in ONE transaction, each in its own
# SAVEPOINT, and commits them with one fsync. Each caller returns only after the COMMIT that
# holds its write returned (so as durable as before), with its own result or exception:
#   - `work` raising rolls back that work alone (ROLLBACK TO its savepoint); the others commit;
#   - BEGIN or COMMIT failing fails every write of the batch (none of them committed).
# `work` runs in the caller's context (contextvars: its app and request contexts, `g`,
# the locale), on the writer's connection, in the order the writes were queued.


class WriteNotCommitted(RuntimeError):
    """The group commit that held this write failed: the write is not in the database."""


class _Write:
    __slots__ = ("work", "context", "done", "result", "error")

    def __init__(self, work) -> None:
        self.work = work
        self.context = contextvars.copy_context()
        self.done = threading.Event()
        self.result = None
        self.error: BaseException | None = None


class GroupCommitter:
    """The writer thread of one database file in this process (see `write`)."""

    # Writes in one transaction at most; the thread ends after this long without any.
    MAX_BATCH = 64
    IDLE_SECONDS = 2.0

    def __init__(self, path: str, check_writes: bool) -> None:
        self.path = path
        self.check_writes = check_writes
        self.queue: list[_Write] = []
        self.cond = threading.Condition()
        self.thread: threading.Thread | None = None
        self.closing = False
        self.batches = 0  # counted for the benchmark: commits made
        self.writes = 0

    def run(self, work):
        item = _Write(work)
        with self.cond:
            self.queue.append(item)
            if self.thread is None:
                self.closing = False
                self.thread = threading.Thread(target=self._loop, name="proofmark-group-commit", daemon=True)
                self.thread.start()
            self.cond.notify()
        item.done.wait()
        if item.error is not None:
            raise item.error
        return item.result

    def close(self) -> None:
        """Let the thread finish what is queued and close its connection (before the file is
        replaced)."""
        with self.cond:
            thread = self.thread
            self.closing = True
            self.cond.notify()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=30)

    def _loop(self) -> None:
        db = None
        try:
            while True:
                with self.cond:
                    if not self.queue and not self.closing:
                        self.cond.wait(self.IDLE_SECONDS)
                    if not self.queue:
                        self.thread = None  # a later write starts a new one
                        return
                    batch, self.queue[: self.MAX_BATCH] = self.queue[: self.MAX_BATCH], []
                try:
                    if db is None:
                        db = connect(self.path, check_writes=self.check_writes)
                    self._commit(db, batch)
                except BaseException as exc:  # noqa: BLE001 - reported to every waiting caller
                    for item in batch:
                        if item.error is None:
                            item.result = None
                            item.error = WriteNotCommitted(f"the write was not committed: {exc}")
                            item.error.__cause__ = exc
                    if db is not None:
                        db.conn.close()  # a fresh connection for the next batch
                        db = None
                finally:
                    for item in batch:
                        item.done.set()
        finally:
            if db is not None:
                db.conn.close()

    def _commit(self, db: sqlite_utils.Database, batch: list[_Write]) -> None:
        conn = db.conn
        try:
            # The one way to write (BEGIN IMMEDIATE ... COMMIT), with a savepoint per write.
            with transaction(db):
                for item in batch:
                    conn.execute("SAVEPOINT proofmark_write")
                    try:
                        item.result = item.context.run(item.work, db)
                    except BaseException as exc:  # noqa: BLE001 - this write only is undone
                        conn.execute("ROLLBACK TO proofmark_write")
                        item.error = exc
                    conn.execute("RELEASE proofmark_write")
        except BaseException:
            if conn.in_transaction:  # the COMMIT failed (e.g. a deferred constraint): nothing kept
                conn.execute("ROLLBACK")
            raise
        self.batches += 1
        self.writes += len(batch)


_committers: dict[tuple[int, str], GroupCommitter] = {}
_committers_lock = threading.Lock()


def committer_for(db: sqlite_utils.Database) -> GroupCommitter | None:
    conn = db.conn
    path = getattr(conn, "path", "")
    if not path or path == ":memory:" or path.startswith("file:"):
        return None
    key = (os.getpid(), path)  # a forked process starts its own
    with _committers_lock:
        committer = _committers.get(key)
        if committer is None:
            committer = _committers[key] = GroupCommitter(path, getattr(conn, "check_writes", False))
        return committer


def write(db: sqlite_utils.Database, work):
    """Run `work(db)` in a write transaction and return its result, once committed: through
    the process's group commit (see above), or, inside an open transaction() or with group
    commit off, in `transaction(db)` on the caller's own connection. `work` must use the
    connection it is given."""
    committer = None
    enabled = current_app.config.get("DB_GROUP_COMMIT", True) if has_app_context() else True
    if enabled and not db.conn.transaction_depth and not db.conn.in_transaction:
        committer = committer_for(db)
    if committer is None:
        with transaction(db) as same:
            return work(same)
    return committer.run(work)


def close_committers(path: str | None = None) -> None:
    """Stop the writer threads (of one database file, or all) and close their connections."""
    with _committers_lock:
        found = [c for (pid, p), c in _committers.items() if path is None or p == path]
    for committer in found:
        committer.close()


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

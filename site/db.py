"""The SQLite database: one connection per request, schema by numbered migrations.

Migrations are `site/migrations/NNNN_name.sql`, applied in order by `flask --app site
init-db` and at start-up; the applied version is kept in `schema_migrations`.
"""
from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import sqlite_utils
from flask import Flask, current_app, g

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def database_path(app: Flask) -> Path:
    path = Path(app.config["DATABASE"])
    return path if path.is_absolute() else Path(app.instance_path) / path


def connect(path: str | Path) -> sqlite_utils.Database:
    conn = sqlite3.connect(path, timeout=15, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA busy_timeout = 15000")
    return sqlite_utils.Database(conn)


def get_db() -> sqlite_utils.Database:
    if "db" not in g:
        g.db = connect(database_path(current_app))
    return g.db


def close_db(exc: BaseException | None = None) -> None:
    db = g.pop("db", None)
    if db is not None:
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
    conn = db.conn
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    applied = []
    for version, name, path in migrations():
        # BEGIN IMMEDIATE serialises workers that start at the same time.
        conn.execute("BEGIN IMMEDIATE")
        try:
            done = conn.execute("SELECT 1 FROM schema_migrations WHERE version = ?", (version,)).fetchone()
            if done:
                conn.execute("COMMIT")
                continue
            for statement in _statements(path.read_text()):
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (version, name, datetime.now(UTC).isoformat(timespec="seconds")),
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
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
    app.teardown_appcontext(close_db)
    db = connect(database_path(app))
    try:
        migrate(db)
    finally:
        db.conn.close()

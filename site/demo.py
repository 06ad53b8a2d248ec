"""The demo shop that the run command seeds, so a newcomer can walk the whole loop."""
from __future__ import annotations

from collections.abc import Iterator

import sqlite_utils


def seed(database: sqlite_utils.Database) -> Iterator[str]:
    """Idempotent: each step checks what exists and keeps it."""
    with database.conn:
        database.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('demo_seeded', datetime('now'))")
    yield "Demo shop ready: the catalog is in renderer/products.toml."

"""API keys for the shop's systems: made by `proofmark create-api-key`, stored only as SHA-256."""

from __future__ import annotations

import hmac
import secrets

import sqlite_utils

from proofmark.db import transaction
from proofmark.records import sha256_hex, timestamp

KEY_PREFIX = "pm_"


def create(db: sqlite_utils.Database, name: str) -> str:
    """Store a new key's hash and return the key itself (shown once, never stored)."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValueError("An API key needs a name of 1 to 100 characters.")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    with transaction(db):
        db.execute(
            "INSERT INTO api_keys (name, prefix, key_hash, created_at) VALUES (?, ?, ?, ?)",
            (name, key[:10], sha256_hex(key), timestamp()),
        )
    return key


def find(db: sqlite_utils.Database, key: str) -> dict | None:
    """The live (not revoked) key row for `key`, or None."""
    digest = sha256_hex(key)
    row = db.execute("SELECT * FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL", (digest,)).fetchone()
    # The lookup is by hash; compare again in constant time for good measure.
    if row is None or not hmac.compare_digest(row["key_hash"], digest):
        return None
    return dict(row)


def revoke(db: sqlite_utils.Database, prefix: str) -> int:
    """Revoke the live keys that start with `prefix` (as listed); returns how many."""
    with transaction(db):
        return db.execute(
            "UPDATE api_keys SET revoked_at = ? WHERE prefix = ? AND revoked_at IS NULL",
            (timestamp(), prefix[:10]),
        ).rowcount


def listing(db: sqlite_utils.Database) -> list[dict]:
    return [dict(row) for row in db.execute("SELECT * FROM api_keys ORDER BY id")]

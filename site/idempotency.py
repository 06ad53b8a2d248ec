"""Idempotency keys for the shop API (`Idempotency-Key` header): a client that timed out and
retries gets the first answer again instead of a second proof and a second email.

The key is claimed (a row with the body's SHA-256 and no answer yet) before any work, and the
answer is stored after. The same key with the same body replays the stored answer; with a
different body it is refused; while the first request is still being answered a retry is told
to wait. Keys are forgotten after KEEP_DAYS. A claim left without an answer for PENDING_SECONDS (its worker died) may be taken
over; the order reference's uniqueness then keeps a second proof from being made.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import sqlite_utils

from proofmark.db import transaction
from proofmark.records import timestamp, utcnow

MAX_KEY_LENGTH = 255
PENDING_SECONDS = 60
# A retry comes within minutes; a key is remembered this long, then forgotten.
KEEP_DAYS = 7


class IdempotencyConflict(Exception):
    def __init__(self, code: str, message: str, status: int):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


@dataclass(frozen=True)
class Stored:
    status_code: int
    response: bytes


def check_key(key: str) -> str:
    if not key or len(key) > MAX_KEY_LENGTH or not all(33 <= ord(c) <= 126 for c in key):
        raise IdempotencyConflict(
            "invalid_idempotency_key",
            f"The Idempotency-Key header must be 1 to {MAX_KEY_LENGTH} visible ASCII characters "
            "(a UUID is a good choice).",
            422,
        )
    return key


def claim(db: sqlite_utils.Database, api_key_id: int, key: str, body_sha256: str) -> Stored | None:
    """Claim `key` for this body: None means go ahead (and `finish` after); a Stored answer
    means replay it. Raises IdempotencyConflict for another body or a request in flight."""
    now = utcnow()
    with transaction(db):
        db.execute(
            "DELETE FROM api_idempotency WHERE created_at < ?", (timestamp(now - timedelta(days=KEEP_DAYS)),)
        )
        row = db.execute(
            "SELECT * FROM api_idempotency WHERE api_key_id = ? AND key = ?", (api_key_id, key)
        ).fetchone()
        if row is None:
            db.execute(
                "INSERT INTO api_idempotency (api_key_id, key, body_sha256, created_at) VALUES (?, ?, ?, ?)",
                (api_key_id, key, body_sha256, timestamp(now)),
            )
            return None
        if row["body_sha256"] != body_sha256:
            raise IdempotencyConflict(
                "idempotency_key_reused",
                "This Idempotency-Key was already used with a different request body. Use a new key "
                "for a new request; nothing was created.",
                422,
            )
        if row["status_code"] is not None:
            return Stored(row["status_code"], row["response"].encode())
        if row["created_at"] > timestamp(now - timedelta(seconds=PENDING_SECONDS)):
            raise IdempotencyConflict(
                "idempotency_key_in_use",
                "A request with this Idempotency-Key is still being answered. Retry in a few seconds.",
                409,
            )
        db.execute(
            "UPDATE api_idempotency SET created_at = ? WHERE api_key_id = ? AND key = ?",
            (timestamp(now), api_key_id, key),
        )
        return None


def finish(db: sqlite_utils.Database, api_key_id: int, key: str, status_code: int, response: bytes) -> None:
    with transaction(db):
        db.execute(
            "UPDATE api_idempotency SET status_code = ?, response = ? WHERE api_key_id = ? AND key = ?",
            (status_code, response.decode(), api_key_id, key),
        )


def release(db: sqlite_utils.Database, api_key_id: int, key: str) -> None:
    """Forget an unanswered claim (the request failed on our side): a retry may run again."""
    with transaction(db):
        db.execute(
            "DELETE FROM api_idempotency WHERE api_key_id = ? AND key = ? AND status_code IS NULL",
            (api_key_id, key),
        )

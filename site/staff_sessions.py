"""Staff sessions kept in the database, so that ending one is real: the signed cookie only
carries a random session id, and signing out, a password change or disabling the account
revokes the row. A cookie copied before any of these stops working at once, in every worker.

Shared by the staff pages and /dev/outbox (which needs a staff sign-in even in demo mode),
so it sits outside both blueprints.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

import sqlite_utils
from flask import current_app, session

from proofmark.db import get_db, transaction
from proofmark.records import timestamp, utcnow

COOKIE_KEY = "staff_sid"


def open_session(db: sqlite_utils.Database, staff_id: int) -> str:
    sid = secrets.token_urlsafe(32)
    with transaction(db):
        # Sessions long past STAFF_SESSION_HOURS no longer matter.
        db.execute(
            "DELETE FROM staff_sessions WHERE created_at < ?", (timestamp(utcnow() - timedelta(days=30)),)
        )
        db.execute(
            "INSERT INTO staff_sessions (id, staff_id, created_at) VALUES (?, ?, ?)",
            (sid, staff_id, timestamp()),
        )
    return sid


def revoke(db: sqlite_utils.Database, sid: str, why: str) -> None:
    with transaction(db):
        db.execute(
            "UPDATE staff_sessions SET revoked_at = ?, revoked_why = ? WHERE id = ? AND revoked_at IS NULL",
            (timestamp(), why, sid),
        )


def revoke_all(db: sqlite_utils.Database, staff_id: int, why: str) -> int:
    """End every open session of one account; returns how many were open."""
    with transaction(db):
        return db.execute(
            "UPDATE staff_sessions SET revoked_at = ?, revoked_why = ? WHERE staff_id = ? AND revoked_at IS NULL",
            (timestamp(), why, staff_id),
        ).rowcount


def current_staff_id() -> int | None:
    """The signed-in staff member's id for this request, or None: the cookie's session must
    exist, be neither revoked nor older than STAFF_SESSION_HOURS, and its account enabled."""
    sid = session.get(COOKIE_KEY)
    if not isinstance(sid, str) or not sid:
        return None
    limit = timedelta(hours=current_app.config["STAFF_SESSION_HOURS"])
    row = (
        get_db()
        .execute(
            "SELECT s.staff_id FROM staff_sessions s JOIN staff ON staff.id = s.staff_id"
            " WHERE s.id = ? AND s.revoked_at IS NULL AND s.created_at >= ? AND staff.disabled_at IS NULL",
            (sid, timestamp(utcnow() - limit)),
        )
        .fetchone()
    )
    return row[0] if row else None

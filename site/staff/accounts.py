"""Staff accounts and sign-in rate limiting: plain functions over the database, no requests.

Failed attempts live in SQLite (not in process memory) so that the limit holds across
gunicorn workers and restarts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

import sqlite_utils
from flask import current_app, has_app_context
from flask_babel import gettext, ngettext
from werkzeug.security import check_password_hash, generate_password_hash

from proofmark import staff_sessions
from proofmark.db import transaction
from proofmark.records import timestamp, utcnow

MIN_PASSWORD_LENGTH = 10
# werkzeug's scrypt with its default cost (N=2^15, r=8, p=1): about 0.2 s a hash here.
DEFAULT_HASH_METHOD = "scrypt:32768:8:1"


def _hash_method() -> str:
    """STAFF_PASSWORD_HASH (the tests lower the cost; production keeps the default)."""
    if has_app_context():
        return str(current_app.config.get("STAFF_PASSWORD_HASH") or DEFAULT_HASH_METHOD)
    return DEFAULT_HASH_METHOD


def _hash(password: str) -> str:
    return generate_password_hash(password, method=_hash_method())


@cache
def _dummy_hash(method: str) -> str:
    """Checked when the email is unknown, so that a wrong address takes as long as a wrong password."""
    return generate_password_hash("not-a-real-password", method=method)


class AccountError(ValueError):
    """A plain-language reason an account could not be created or changed."""


@dataclass(frozen=True)
class Staff:
    id: int
    email: str
    password_changed_at: str

    @property
    def actor(self) -> str:
        return f"staff:{self.email}"


@dataclass(frozen=True)
class LoginResult:
    staff: Staff | None = None
    error: str | None = None
    retry_after_seconds: int | None = None  # set when the attempt was refused by the rate limit


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def check_email(email: str) -> str:
    email = normalise_email(email)
    local, _, domain = email.partition("@")
    if not local or "." not in domain or any(c.isspace() for c in email) or len(email) > 254:
        raise AccountError(f"{email!r} is not an email address.")
    return email


def check_password(password: str) -> str:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise AccountError(f"The password must have at least {MIN_PASSWORD_LENGTH} characters.")
    return password


def _staff(row) -> Staff:
    return Staff(id=row["id"], email=row["email"], password_changed_at=row["password_changed_at"])


def get(db: sqlite_utils.Database, staff_id: int) -> Staff | None:
    row = db.execute("SELECT * FROM staff WHERE id = ? AND disabled_at IS NULL", (staff_id,)).fetchone()
    return _staff(row) if row else None


def find(db: sqlite_utils.Database, email: str) -> Staff | None:
    row = db.execute("SELECT * FROM staff WHERE email = ?", (normalise_email(email),)).fetchone()
    return _staff(row) if row else None


def create(db: sqlite_utils.Database, email: str, password: str) -> Staff:
    email, password = check_email(email), check_password(password)
    now = timestamp()
    with transaction(db):
        if db.execute("SELECT 1 FROM staff WHERE email = ?", (email,)).fetchone():
            raise AccountError(f"A staff account for {email} already exists.")
        cursor = db.execute(
            "INSERT INTO staff (email, password_hash, created_at, password_changed_at) VALUES (?, ?, ?, ?)",
            (email, _hash(password), now, now),
        )
    return Staff(id=cursor.lastrowid, email=email, password_changed_at=now)


def set_password(db: sqlite_utils.Database, email: str, password: str) -> Staff:
    """Changing the password also ends the account's existing sessions. A disabled account
    stays disabled: only `proofmark staff enable` turns it back on."""
    email, password = normalise_email(email), check_password(password)
    now = timestamp()
    with transaction(db):
        cursor = db.execute(
            "UPDATE staff SET password_hash = ?, password_changed_at = ? WHERE email = ?",
            (_hash(password), now, email),
        )
        if cursor.rowcount == 0:
            raise AccountError(f"There is no staff account for {email}.")
        row = db.execute("SELECT * FROM staff WHERE email = ?", (email,)).fetchone()
        staff_sessions.revoke_all(db, row["id"], "password changed")
    return _staff(row)


def is_disabled(db: sqlite_utils.Database, email: str) -> bool:
    row = db.execute("SELECT disabled_at FROM staff WHERE email = ?", (normalise_email(email),)).fetchone()
    return bool(row and row["disabled_at"])


def set_disabled(db: sqlite_utils.Database, email: str, disabled: bool) -> tuple[Staff, int]:
    """Disable (ending every open session) or enable an account; returns it and the number
    of sessions ended."""
    email = normalise_email(email)
    with transaction(db):
        row = db.execute("SELECT * FROM staff WHERE email = ?", (email,)).fetchone()
        if row is None:
            raise AccountError(f"There is no staff account for {email}.")
        if disabled:
            db.execute(
                "UPDATE staff SET disabled_at = coalesce(disabled_at, ?) WHERE id = ?",
                (timestamp(), row["id"]),
            )
            ended = staff_sessions.revoke_all(db, row["id"], "account disabled")
        else:
            db.execute("UPDATE staff SET disabled_at = NULL WHERE id = ?", (row["id"],))
            ended = 0
    return _staff(row), ended


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _delay(failures: int, free: int, cap: int) -> int:
    """Seconds to wait after the latest failure: none for the first `free` failures, then
    2, 4, 8, ... seconds, never more than `cap`."""
    if failures < free:
        return 0
    return min(cap, 2 ** min(failures - free + 1, 30))


def blocked_for(
    db: sqlite_utils.Database, email: str, ip: str, config: dict, now: datetime | None = None
) -> int | None:
    """Seconds until this account or address may try again, or None if it may try now.

    Per address: growing delays after STAFF_LOGIN_MAX_FAILURES failures, and a stop for the
    rest of the window after STAFF_LOGIN_MAX_FAILURES_PER_IP (only that address is stopped).
    Per account: growing delays too, but never longer than STAFF_LOGIN_MAX_ACCOUNT_DELAY_SECONDS,
    so that a stranger guessing from many addresses slows guessing without locking the staff
    member out. Refused attempts are not counted, so the delays do not feed themselves."""
    now = now or utcnow()
    window = timedelta(minutes=config["STAFF_LOGIN_WINDOW_MINUTES"])
    since = timestamp(now - window)
    email = normalise_email(email)
    free = config["STAFF_LOGIN_MAX_FAILURES"]
    last_ok = (
        db.execute("SELECT max(at) FROM login_attempts WHERE email = ? AND ok = 1", (email,)).fetchone()[0]
        or ""
    )
    waits = []
    count, latest = db.execute(
        "SELECT count(*), max(at) FROM login_attempts WHERE email = ? AND ok = 0 AND at >= ? AND at > ?",
        (email, since, last_ok),
    ).fetchone()
    delay = _delay(count, free, int(config.get("STAFF_LOGIN_MAX_ACCOUNT_DELAY_SECONDS", 60)))
    if delay and latest:
        waits.append((_at(latest) + timedelta(seconds=delay) - now).total_seconds())
    count, latest, oldest = db.execute(
        "SELECT count(*), max(at), min(at) FROM login_attempts WHERE ip = ? AND ok = 0 AND at >= ?",
        (ip, since),
    ).fetchone()
    if count >= config["STAFF_LOGIN_MAX_FAILURES_PER_IP"]:
        waits.append((_at(oldest) + window - now).total_seconds())
    delay = _delay(count, free, int(window.total_seconds()))
    if delay and latest:
        waits.append((_at(latest) + timedelta(seconds=delay) - now).total_seconds())
    wait = max(waits, default=0)
    return math.ceil(wait) if wait > 0 else None


def authenticate(
    db: sqlite_utils.Database, email: str, password: str, ip: str, config: dict, now: datetime | None = None
) -> LoginResult:
    now = now or utcnow()
    email = normalise_email(email)
    at = timestamp(now)
    # The check and the attempt's row are written under one lock, and the attempt counts as
    # a failure until the (slow) password check says otherwise: parallel guesses cannot all
    # slip through before the first of them is recorded.
    with transaction(db):
        wait = blocked_for(db, email, ip, config, now)
        attempt_id = None
        if wait is None:
            # Keep the table small: attempts older than a day no longer matter.
            db.execute("DELETE FROM login_attempts WHERE at < ?", (timestamp(now - timedelta(days=1)),))
            attempt_id = db.execute(
                "INSERT INTO login_attempts (email, ip, at, ok) VALUES (?, ?, ?, 0)", (email[:254], ip, at)
            ).lastrowid
    if wait is not None:
        return LoginResult(
            error=gettext("Too many failed sign-ins. Try again in %(wait)s.", wait=_duration(wait)),
            retry_after_seconds=wait,
        )
    row = db.execute("SELECT * FROM staff WHERE email = ? AND disabled_at IS NULL", (email,)).fetchone()
    ok = (
        check_password_hash(row["password_hash"] if row else _dummy_hash(_hash_method()), password or "")
        and row is not None
    )
    if not ok:
        return LoginResult(error=gettext("That email and password do not match a staff account."))
    with transaction(db):
        db.execute("UPDATE login_attempts SET ok = 1 WHERE id = ?", (attempt_id,))
        db.execute("UPDATE staff SET last_login_at = ? WHERE id = ?", (at, row["id"]))
    return LoginResult(staff=_staff(row))


def _duration(seconds: int) -> str:
    if seconds < 60:
        return ngettext("%(num)d second", "%(num)d seconds", seconds)
    minutes = (seconds + 59) // 60
    return ngettext("%(num)d minute", "%(num)d minutes", minutes)

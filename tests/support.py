"""What every test app shares: its settings, how to make one on its own instance folder, and
the helpers behind the shared fixtures in conftest.py (staff sign-in, a movable clock)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

TEST_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key",
    "WTF_CSRF_ENABLED": False,
    "DB_CHECK_WRITES": True,
    # A cheap scrypt: signing in is most of a staff test otherwise (test_staff_auth checks the default).
    "STAFF_PASSWORD_HASH": "scrypt:1024:8:1",
    "MAIL_BACKEND": "file",
    "PUBLIC_URL": "http://proofs.test",
    "EMBED_ALLOWED_ORIGINS": ["http://shop.test"],
    # Proof PNGs at the production 2400 px dominate the suite's time; one test
    # (test_proof_image_is_rendered_at_production_width) renders at the real width.
    "PROOF_IMAGE_WIDTH": 600,
}

# A fixed moment, so that expiry and reminders are computed from a known "now".
T0 = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)

STAFF_EMAIL = "support@shop.test"
STAFF_PASSWORD = "correct horse battery"


def make_app(instance_path: str | Path, monkeypatch: pytest.MonkeyPatch | None = None, **config):
    """An app whose instance folder is `instance_path`; INSTANCE_PATH is read only while it is made."""
    from proofmark import create_app

    if monkeypatch is not None:
        monkeypatch.setenv("INSTANCE_PATH", str(instance_path))
        return create_app({**TEST_CONFIG, **config})
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("INSTANCE_PATH", str(instance_path))
        return create_app({**TEST_CONFIG, **config})


def make_staff(app, email: str = STAFF_EMAIL, password: str = STAFF_PASSWORD):
    from proofmark.db import get_db
    from proofmark.staff import accounts

    with app.app_context():
        return accounts.create(get_db(), email, password)


@dataclass
class StaffLogin:
    """Sign a test client in and out as a staff member."""

    client: object
    email: str = STAFF_EMAIL
    password: str = STAFF_PASSWORD

    def login(self, password: str | None = None, **environ):
        return self.client.post(
            "/staff/login", data={"email": self.email, "password": password or self.password}, **environ
        )

    def logout(self):
        return self.client.post("/staff/logout")


@dataclass
class StaffSession:
    """A test client signed in as a staff account (what the `staff` fixture gives): use it
    as the client (`staff.get(...)`, `staff.post(...)`); `email` and `account` say who."""

    client: object
    email: str = STAFF_EMAIL
    account: object = None

    def __getattr__(self, name):
        return getattr(self.client, name)


def sign_in(app, *, create: bool = True, email: str = STAFF_EMAIL) -> StaffSession:
    """A fresh client of `app` signed in as `email` (the account is made first if `create`)."""
    account = make_staff(app, email) if create else None
    client = app.test_client()
    response = StaffLogin(client, email).login()
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return StaffSession(client, email, account)


class Clock:
    """A clock that tests move instead of sleeping. While installed (the `clock` fixture) the
    app reads it, so pages and services see the moved time too; `now` can also be passed
    explicitly (`now=clock.now`)."""

    def __init__(self, start: datetime = T0):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, days: float = 0, hours: float = 0, minutes: float = 0, seconds: float = 0) -> datetime:
        self.now += timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
        return self.now

    def later(self, days: float = 0, hours: float = 0, minutes: float = 0, seconds: float = 0) -> datetime:
        """A moment relative to now, without moving the clock."""
        return self.now + timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)

    def install(self, monkeypatch: pytest.MonkeyPatch) -> Clock:
        """Make the app read this clock: proofmark's `utcnow` and the signing time of links
        and sessions (itsdangerous), so a link signed now expires when the clock moves on."""
        from itsdangerous.timed import TimestampSigner

        from proofmark import records

        monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda signer: int(self.now.timestamp()))

        real = records.utcnow
        for name, module in list(sys.modules.items()):
            if (name == "proofmark" or name.startswith("proofmark.")) and getattr(
                module, "utcnow", None
            ) is real:
                monkeypatch.setattr(module, "utcnow", self)
        return self

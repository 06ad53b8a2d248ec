"""Shared fixtures: an app on its own instance folder, a signed-in staff member, a proof made
through the real proofs service, a movable clock, and a guard against writes that bypass
proofmark.db.transaction()."""

from __future__ import annotations

import weakref

import pytest

from tests.support import Clock, StaffSession, make_app, sign_in


@pytest.fixture(autouse=True)
def no_writes_outside_transactions():
    """Every write must go through proofmark.db.transaction(); the test apps run with
    DB_CHECK_WRITES, which records any other write. A test that made one fails."""
    from proofmark import db

    db.WRITES_OUTSIDE_TRANSACTION.clear()
    yield
    found = list(db.WRITES_OUTSIDE_TRANSACTION)
    db.WRITES_OUTSIDE_TRANSACTION.clear()
    if found:
        pytest.fail("writes outside proofmark.db.transaction():\n" + "\n".join(found), pytrace=False)


@pytest.fixture
def app(tmp_path, monkeypatch):
    yield make_app(tmp_path / "instance", monkeypatch)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def staff_app(app):
    """The `app`; a module can override it (e.g. with a module-scoped app full of records)
    and the `staff` fixture signs in to that one instead."""
    return app


_SIGNED_IN: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # app -> a signed-in session


@pytest.fixture
def staff(staff_app) -> StaffSession:
    """A fresh client signed in as a staff member; `staff.account` is the account (made here
    unless the app already has it). Signing in costs a scrypt hash, so a module-scoped app
    signs in once and later tests get a new client carrying that session's cookie."""
    from proofmark.db import get_db
    from tests.support import STAFF_EMAIL

    first = _SIGNED_IN.get(staff_app)
    if first is not None:
        client = staff_app.test_client()
        cookie = first.client.get_cookie(staff_app.config["SESSION_COOKIE_NAME"])
        client.set_cookie(cookie.key, cookie.value, domain=cookie.domain)
        return StaffSession(client, first.email, first.account)
    with staff_app.app_context():
        exists = get_db().execute("SELECT 1 FROM staff WHERE email = ?", (STAFF_EMAIL,)).fetchone()
    session = sign_in(staff_app, create=exists is None)
    session_copy = StaffSession(staff_app.test_client(), session.email, session.account)
    cookie = session.client.get_cookie(staff_app.config["SESSION_COOKIE_NAME"])
    session_copy.client.set_cookie(cookie.key, cookie.value, domain=cookie.domain)
    _SIGNED_IN[staff_app] = session_copy
    return session


@pytest.fixture
def proof_app(app):
    """The app the `proof` fixture makes its proof in: `app`, unless a module overrides it."""
    return app


@pytest.fixture
def proof(proof_app):
    """A fresh proof made through the real proofs service (proofs.create_proof, with its
    image, events and email): its id and a valid approval link to it."""
    from proofmark.db import get_db
    from tests.proofs_support import link_for, new_proof

    with proof_app.app_context():
        db = get_db()
        proof_id = new_proof(db, text="Ada 03/04/2025")
        return proof_id, link_for(db, proof_id)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    """The time, moved by the test instead of slept through: starts at T0, and the app's
    `utcnow()` reads it while the test runs."""
    return Clock().install(monkeypatch)

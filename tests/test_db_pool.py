"""A worker keeps its request connections for its next requests (DB_POOL_SIZE), never one
left inside a transaction, and drops them before `restore` replaces the database file."""

from __future__ import annotations

import pytest

from proofmark import db as dbmod
from proofmark.db import get_db, transaction
from tests.support import make_app


def _connection_of_one_request(app):
    with app.app_context():
        database = get_db()
        database.execute("SELECT 1").fetchone()
        return database.conn


def test_the_next_request_reuses_the_connection(tmp_path):
    app = make_app(tmp_path / "instance")
    first = _connection_of_one_request(app)
    assert _connection_of_one_request(app) is first
    # Still usable for writes in the next request, through transaction() as always.
    with app.app_context():
        database = get_db()
        with transaction(database):
            database.execute("CREATE TABLE pool_probe (x)")
        assert database.conn is first


def test_pool_size_zero_closes_each_connection(tmp_path):
    app = make_app(tmp_path / "instance", DB_POOL_SIZE=0)
    first = _connection_of_one_request(app)
    assert _connection_of_one_request(app) is not first
    with pytest.raises(Exception, match="closed"):
        first.execute("SELECT 1")


def test_a_connection_left_in_a_transaction_is_closed_not_kept(tmp_path):
    app = make_app(tmp_path / "instance")
    with app.app_context():
        database = get_db()
        database.conn.execute("BEGIN")  # as if a transaction had not been ended
        left = database.conn
    assert _connection_of_one_request(app) is not left
    with pytest.raises(Exception, match="closed"):
        left.execute("SELECT 1")


def test_drop_pool_closes_the_idle_connections(tmp_path):
    app = make_app(tmp_path / "instance")
    kept = _connection_of_one_request(app)
    dbmod.drop_pool(app)
    with pytest.raises(Exception, match="closed"):
        kept.execute("SELECT 1")
    assert _connection_of_one_request(app) is not kept

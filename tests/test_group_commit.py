"""Group commit (proofmark.db.write): decisions and their confirmations from many threads commit
together through one writer thread per process, each caller returning once its own write is
committed. Every write lands exactly once and in order; a write that fails is undone alone."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest

from proofmark import db as dbmod
from proofmark import proofs
from proofmark.db import connect, database_path, get_db, transaction
from proofmark.proofs.errors import ProofError
from proofmark.records import verify_chain
from tests.proofs_support import T0, all_statements, count, kinds, make_app, new_proof


def _make(tmp_path, **config):
    app = make_app(tmp_path / "instance", MAIL_SEND_AFTER_REQUEST="off", **config)
    with app.app_context():
        get_db().execute("CREATE TABLE IF NOT EXISTS scratch (n INTEGER PRIMARY KEY, note TEXT)")
    return app


def _threads(app, n: int, target) -> list:
    """Run target(own_connection, i) in n threads started together; their results in order."""
    results: list = [None] * n
    start = threading.Barrier(n)

    def run(i: int) -> None:
        with app.app_context():
            own = connect(database_path(app), check_writes=True)
            try:
                start.wait()
                try:
                    results[i] = target(own, i)
                except Exception as exc:  # noqa: BLE001 - compared by the test
                    results[i] = exc
            finally:
                own.conn.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_concurrent_decisions_all_land_once_in_chain_order(tmp_path):
    app = _make(tmp_path)
    with app.app_context():
        db = get_db()
        ids = [new_proof(db, now=T0, order_ref=f"ORD-{i}") for i in range(12)]
        revs = {i: proofs.get_proof(db, i).revision for i in ids}
        ticked = all_statements(app)
        leaves_before = count(db, "ledger_leaves")

    def approve(own, i):
        # Two approvers per proof (a double click in two tabs): one decision each.
        proof_id = ids[i // 2]
        rev = revs[proof_id]
        return proofs.approve(
            own, proof_id, revision=rev.number, nonce=rev.nonce, statements_ticked=ticked, now=T0
        )

    results = _threads(app, 24, approve)
    assert all(isinstance(r, proofs.Decision) for r in results), results
    own = connect(database_path(app))
    committer = dbmod.committer_for(own)
    own.conn.close()
    with app.app_context():
        db = get_db()
        for proof_id in ids:
            assert kinds(db, proof_id).count("approved") == 1
            assert kinds(db, proof_id)[-2:] == ["approved", "email_queued"]
            assert proofs.get_proof(db, proof_id).status == "approved"
            assert verify_chain(db, proof_id).intact
        recorded = [r for r in results if r.recorded]
        assert len(recorded) == 12
        assert count(db, "outbox", "kind = 'approved'") == 12
        assert count(db, "decision_emails_pending") == 0
        # The shop's log: one leaf per event, contiguous, each decision in it once.
        leaves = [r[0] for r in db.execute("SELECT idx FROM ledger_leaves ORDER BY idx")]
        assert leaves == list(range(len(leaves)))
        assert len(leaves) == leaves_before + 24  # 12 decisions + 12 confirmations queued
        logged = [
            r[0]
            for r in db.execute(
                f"SELECT event_id FROM ledger_leaves WHERE event_id IN ({','.join('?' * 12)})",
                [r.event_id for r in recorded],
            )
        ]
        assert sorted(logged) == sorted(r.event_id for r in recorded)
    assert committer.writes >= 24  # every decision and confirmation went through it


def test_a_failing_write_is_undone_alone_and_the_rest_of_its_batch_commits(tmp_path):
    app = _make(tmp_path)
    with app.app_context():
        committer = dbmod.committer_for(get_db())
    batches_before = committer.batches
    running, release = threading.Event(), threading.Event()

    def insert(i):
        def work(conn_db):
            conn_db.execute("INSERT INTO scratch (n, note) VALUES (?, ?)", (i, f"write {i}"))
            if i == 0:
                # The first batch waits until the four others are queued: they then share one.
                running.set()
                release.wait(60)
            if i == 2:
                raise ProofError("this write fails after writing")
            return i

        return work

    results: dict = {}

    def writer(i):
        with app.app_context():
            own = connect(database_path(app), check_writes=True)
            try:
                results[i] = dbmod.write(own, insert(i))
            except ProofError as exc:
                results[i] = exc
            finally:
                own.conn.close()

    first = threading.Thread(target=writer, args=(0,))
    first.start()
    assert running.wait(60)
    others = [threading.Thread(target=writer, args=(i,)) for i in range(1, 5)]
    for t in others:
        t.start()
    while True:
        with committer.cond:
            if len(committer.queue) == 4:
                break
        threading.Event().wait(0.005)
    release.set()
    for t in [first, *others]:
        t.join()
    assert {i: results[i] for i in (0, 1, 3, 4)} == {0: 0, 1: 1, 3: 3, 4: 4}
    assert isinstance(results[2], ProofError)
    with app.app_context():
        db = get_db()
        assert [r[0] for r in db.execute("SELECT n FROM scratch ORDER BY n")] == [0, 1, 3, 4]
    # The three others committed in one transaction with the failing write.
    assert committer.batches - batches_before == 2


def test_a_failed_commit_fails_every_write_of_its_batch_and_keeps_nothing(tmp_path):
    app = _make(tmp_path)
    with app.app_context():
        db = get_db()
        # A deferred foreign key fails at COMMIT, not at the insert: the whole batch fails.
        db.execute(
            "CREATE TABLE child (id INTEGER PRIMARY KEY, parent INTEGER"
            " REFERENCES scratch(n) DEFERRABLE INITIALLY DEFERRED)"
        )

        def bad(conn_db):
            conn_db.execute("INSERT INTO child (parent) VALUES (999)")

        with pytest.raises(dbmod.WriteNotCommitted):
            dbmod.write(db, bad)
        assert count(db, "child") == 0
        # The writer goes on with the next write.
        assert dbmod.write(db, lambda d: d.execute("INSERT INTO scratch (n) VALUES (7)").rowcount) == 1
        assert count(db, "scratch") == 1


def test_inside_an_open_transaction_a_write_joins_it(tmp_path):
    app = _make(tmp_path)
    with app.app_context():
        db = get_db()
        seen = []
        with pytest.raises(RuntimeError), transaction(db):
            dbmod.write(db, lambda d: seen.append(d is db) or d.execute("INSERT INTO scratch (n) VALUES (1)"))
            raise RuntimeError("roll back both")
        assert seen == [True]
        assert count(db, "scratch") == 0


def test_group_commit_off_writes_on_the_callers_connection(tmp_path):
    app = _make(tmp_path, DB_GROUP_COMMIT=False)
    with app.app_context():
        db = get_db()
        seen = []
        dbmod.write(db, lambda d: seen.append(d is db))
        assert seen == [True]
        proof_id = new_proof(db, now=T0)
        rev = proofs.get_proof(db, proof_id).revision
        decision = proofs.approve(
            db, proof_id, revision=rev.number, nonce=rev.nonce, statements_ticked=all_statements(app), now=T0
        )
        assert decision.recorded and kinds(db, proof_id)[-2:] == ["approved", "email_queued"]


def test_a_writer_waits_for_another_connections_write_lock_and_then_writes(tmp_path):
    """Another process's writer (here: another connection) holds the write lock; ours waits in
    short steps (not SQLite's busy handler) and begins only once it committed."""
    app = _make(tmp_path)
    path = database_path(app)
    other = connect(path)
    other.conn.execute("BEGIN IMMEDIATE")
    other.conn.execute("INSERT INTO scratch (note) VALUES ('other')")
    committed = []

    def finish_other() -> None:
        time.sleep(0.1)  # ours is waiting meanwhile (it began after the lock was taken)
        committed.append(True)
        other.conn.execute("COMMIT")

    finisher = threading.Thread(target=finish_other)
    finisher.start()
    ours = connect(path)
    try:
        with transaction(ours):
            assert committed == [True]
            ours.execute("INSERT INTO scratch (note) VALUES ('ours')")
    finally:
        finisher.join()
        other.conn.close()
    assert [r[0] for r in ours.execute("SELECT note FROM scratch ORDER BY n")] == ["other", "ours"]
    assert ours.execute("PRAGMA busy_timeout").fetchone()[0] == 15000  # put back after BEGIN


def test_a_writer_gives_up_with_database_is_locked_after_the_wait(tmp_path, monkeypatch):
    app = _make(tmp_path)
    monkeypatch.setattr(dbmod, "WRITE_WAIT_SECONDS", 0.05)
    path = database_path(app)
    other = connect(path)
    other.conn.execute("BEGIN IMMEDIATE")
    ours = connect(path)
    try:
        with pytest.raises(sqlite3.OperationalError, match="database is locked"), transaction(ours):
            ours.execute("INSERT INTO scratch (note) VALUES ('ours')")
        assert not ours.conn.in_transaction and ours.conn.transaction_depth == 0
    finally:
        other.conn.execute("ROLLBACK")
        other.conn.close()
    with transaction(ours):  # and the connection works afterwards
        ours.execute("INSERT INTO scratch (note) VALUES ('later')")
    assert [r[0] for r in ours.execute("SELECT note FROM scratch")] == ["later"]

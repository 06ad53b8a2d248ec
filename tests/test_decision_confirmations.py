"""A customer's decision is appended in one short transaction; its confirmation email is built
after it, outside the write lock, and queued in a second (issue 16). A crash between the two
leaves a `decision_emails_pending` row, and the mail worker's sweep queues that email exactly
once."""

from __future__ import annotations

import email
import json
import threading
from email.policy import default as default_policy

from proofmark import mail, proofs
from proofmark.db import connect, database_path, get_db
from proofmark.proofs import confirmations
from proofmark.proofs.service import CONFIRMATION_SWEEP_AFTER_SECONDS
from tests.proofs_support import T0, all_statements, count, kinds, later, make_app, new_proof


def _approve(app, db, proof_id, **kw):
    rev = proofs.get_proof(db, proof_id).revision
    return proofs.approve(
        db,
        proof_id,
        revision=rev.number,
        nonce=rev.nonce,
        statements_ticked=all_statements(app),
        now=T0,
        **kw,
    )


def test_an_approval_queues_its_confirmation_with_the_receipt_and_leaves_nothing_pending(tmp_path):
    app = make_app(tmp_path / "instance", MAIL_SEND_AFTER_REQUEST="off")
    with app.app_context():
        db = get_db()
        proof_id = new_proof(db, now=T0)
        decision = _approve(app, db, proof_id)
        assert decision.recorded
        assert count(db, "decision_emails_pending") == 0
        assert kinds(db, proof_id)[-2:] == ["approved", "email_queued"]
        row = db.execute(
            "SELECT * FROM outbox WHERE proof_id = ? AND kind = 'approved'", (proof_id,)
        ).fetchone()
        leaf = db.execute(
            "SELECT idx, leaf_hash FROM ledger_leaves WHERE event_id = ?", (decision.event_id,)
        ).fetchone()
    text = (
        email.message_from_bytes(mail.message_bytes(row, app), policy=default_policy)
        .get_body(("plain",))
        .get_content()
    )
    assert f"Record hash: {leaf['leaf_hash']}" in text
    assert f"Position in the shop's log: {leaf['idx']}" in text


def test_a_crash_between_the_decision_and_its_email_is_repaired_once_by_the_sweep(tmp_path):
    app = make_app(tmp_path / "instance", MAIL_SEND_AFTER_REQUEST="off")
    with app.app_context():
        db = get_db()
        proof_id = new_proof(db, now=T0)
        # confirm=False: the process stops right after the decision's transaction commits.
        decision = _approve(app, db, proof_id, confirm=False)
        assert decision.recorded and proofs.get_proof(db, proof_id).status == "approved"
        assert count(db, "outbox", "kind = 'approved'") == 0
        assert count(db, "decision_emails_pending") == 1
        # A repeat of the click records nothing and queues nothing.
        assert not _approve(app, db, proof_id).recorded
        assert count(db, "outbox", "kind = 'approved'") == 0

        # Too young for the sweep: it may still be being queued by the request that made it.
        assert proofs.queue_pending_confirmations(db, now=later(seconds=1)) == []
        swept = proofs.queue_pending_confirmations(
            db, now=later(seconds=CONFIRMATION_SWEEP_AFTER_SECONDS + 1)
        )
        assert swept == [decision.event_id]
        assert count(db, "decision_emails_pending") == 0
        assert count(db, "outbox", "kind = 'approved'") == 1
        assert proofs.queue_pending_confirmations(db, now=later(hours=1)) == []
        assert count(db, "outbox", "kind = 'approved'") == 1
        queued = [e for e in proofs.get_events(db, proof_id) if e["kind"] == "email_queued"]
        assert [e["data"]["kind"] for e in queued] == ["proof", "approved"]
        # The receipt names the decision's log position and hash, as the direct path does.
        row = db.execute("SELECT * FROM outbox WHERE kind = 'approved'").fetchone()
        _assert_receipt_names_its_log_entry(app, db, row, decision.event_id)
    result = app.test_cli_runner().invoke(args=["verify-records"])
    assert result.exit_code == 0, result.output


def test_the_mail_worker_sweeps_before_sending(tmp_path):
    """What runs at start and on every poll (mail.send_once) queues and sends it."""
    app = make_app(tmp_path / "instance", MAIL_SEND_AFTER_REQUEST="off")
    with app.app_context():
        db = get_db()
        proof_id = new_proof(db, now=T0)
        _approve(app, db, proof_id, confirm=False)
    report = mail.send_once(app, now=later(seconds=CONFIRMATION_SWEEP_AFTER_SECONDS + 5))
    assert report.sent == 2  # the proof email and the confirmation
    with app.app_context():
        db = get_db()
        assert count(db, "outbox", "kind = 'approved' AND status = 'sent'") == 1
        assert count(db, "decision_emails_pending") == 0


def test_a_change_request_left_unconfirmed_gets_its_email_with_the_comment(tmp_path):
    app = make_app(tmp_path / "instance", MAIL_SEND_AFTER_REQUEST="off")
    with app.app_context():
        db = get_db()
        proof_id = new_proof(db, now=T0)
        rev = proofs.get_proof(db, proof_id).revision
        proofs.request_changes(
            db, proof_id, revision=1, nonce=rev.nonce, comment="Bigger letters, please", now=T0, confirm=False
        )
        assert proofs.queue_pending_confirmations(db, now=later(hours=1))
        row = db.execute("SELECT * FROM outbox WHERE kind = 'changes_requested'").fetchone()
    text = (
        email.message_from_bytes(mail.message_bytes(row, app), policy=default_policy)
        .get_body(("plain",))
        .get_content()
    )
    assert "Bigger letters, please" in text


def test_racing_confirmers_queue_one_email(tmp_path):
    """The request that made the decision and two sweeps in other workers, at once."""
    app = make_app(tmp_path / "instance", MAIL_SEND_AFTER_REQUEST="off")
    with app.app_context():
        db = get_db()
        proof_id = new_proof(db, now=T0)
        decision = _approve(app, db, proof_id, confirm=False)
    results, start = [], threading.Barrier(3)

    def confirmer() -> None:
        with app.app_context():
            own = connect(database_path(app), check_writes=True)
            try:
                start.wait()
                results.append(proofs.confirm_decision(own, decision.event_id, now=later(seconds=1)))
            finally:
                own.conn.close()

    threads = [threading.Thread(target=confirmer) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False, False, True]
    with app.app_context():
        db = get_db()
        assert count(db, "outbox", "kind = 'approved'") == 1
        queued = [e["data"]["kind"] for e in proofs.get_events(db, proof_id) if e["kind"] == "email_queued"]
        assert queued == ["proof", "approved"]
        assert json.loads(
            db.execute("SELECT message_images FROM outbox WHERE kind = 'approved'").fetchone()[0]
        )


def test_rows_the_page_already_read_only_prepare_the_decision_and_everything_is_checked_again(tmp_path):
    """approve(seen=...) (the approval page passes the proof and revision it just read): a stale
    or foreign pair never decides anything. The decision is checked under the lock against the
    rows as they are, and its confirmation is queued exactly once, with the hash of the bytes
    queued."""
    import hashlib

    import pytest

    app = make_app(tmp_path / "instance", MAIL_SEND_AFTER_REQUEST="off")
    with app.app_context():
        db = get_db()
        proof_id, other_id = new_proof(db, now=T0), new_proof(db, now=T0)
        stale = proofs.get_proof(db, proof_id)
        rev = stale.revision
        foreign = proofs.get_proof(db, other_id)
        ticked = all_statements(app)
        # A wrong link nonce is refused although the rows passed in carry the right one.
        with pytest.raises(proofs.ProofError, match="does not belong"):
            proofs.approve(
                db,
                proof_id,
                revision=rev.number,
                nonce="wrong",
                statements_ticked=ticked,
                seen=(stale, rev),
                now=T0,
            )
        # Another proof's rows are not used for this one.
        first = proofs.approve(
            db,
            proof_id,
            revision=rev.number,
            nonce=rev.nonce,
            statements_ticked=ticked,
            seen=(foreign, foreign.revision),
            now=T0,
        )
        assert first.recorded and first.status == "approved"
        # The same (now stale: still "awaiting approval") rows again: a repeat, nothing recorded.
        again = proofs.approve(
            db,
            proof_id,
            revision=rev.number,
            nonce=rev.nonce,
            statements_ticked=ticked,
            seen=(stale, rev),
            now=T0,
        )
        assert (again.recorded, again.status) == (False, "approved")
        assert kinds(db, proof_id).count("approved") == 1
        assert count(db, "decision_emails_pending") == 0
        rows = db.execute(
            "SELECT * FROM outbox WHERE proof_id = ? AND kind = 'approved'", (proof_id,)
        ).fetchall()
        assert len(rows) == 1
        queued = [
            json.loads(r["data"])
            for r in db.execute(
                "SELECT data FROM events WHERE proof_id = ? AND kind = 'email_queued'", (proof_id,)
            )
            if json.loads(r["data"])["kind"] == "approved"
        ]
        assert len(queued) == 1
        assert queued[0]["message_sha256"] == hashlib.sha256(mail.message_bytes(rows[0], app)).hexdigest()
        # The event records what the page showed, as before: the statements ticked, the link's nonce.
        event = [e for e in proofs.get_events(db, proof_id) if e["kind"] == "approved"][0]
        assert event["data"]["nonce"] == rev.nonce
        assert [s["id"] for s in event["data"]["statements"]] == ticked
        # The other proof is untouched.
        assert proofs.get_proof(db, other_id).status == "awaiting_approval"


def _approve_from_threads(app, proof_ids: list[int]) -> list:
    """Each proof approved from its own thread and connection, all started together."""
    with app.app_context():
        db = get_db()
        revisions = {p: proofs.get_proof(db, p).revision for p in proof_ids}
    results, start = [None] * len(proof_ids), threading.Barrier(len(proof_ids))

    def approver(i: int) -> None:
        with app.app_context():
            own = connect(database_path(app), check_writes=True)
            try:
                start.wait()
                rev = revisions[proof_ids[i]]
                results[i] = proofs.approve(
                    own,
                    proof_ids[i],
                    revision=rev.number,
                    nonce=rev.nonce,
                    statements_ticked=all_statements(app),
                    now=T0,
                )
            finally:
                own.conn.close()

    threads = [threading.Thread(target=approver, args=(i,)) for i in range(len(proof_ids))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_the_confirmation_thread_queues_each_approvals_email_once_after_the_answer(tmp_path):
    """PROOF_CONFIRM_AFTER_DECISION=thread: the approver's answer does not wait for its email;
    this process's confirmation thread queues every one, once, with its receipt."""
    app = make_app(
        tmp_path / "instance", MAIL_SEND_AFTER_REQUEST="off", PROOF_CONFIRM_AFTER_DECISION="thread"
    )
    with app.app_context():
        db = get_db()
        ids = [new_proof(db, now=T0, order_ref=f"ORD-{n}") for n in range(8)]
    decisions = _approve_from_threads(app, ids)
    assert all(d.recorded for d in decisions)
    worker = confirmations.worker_for(app)
    assert worker.wait_idle(60)
    assert len(worker.take_delays()) == 8  # all eight went through the thread
    with app.app_context():
        db = get_db()
        assert count(db, "decision_emails_pending") == 0
        for proof_id, decision in zip(ids, decisions, strict=True):
            assert count(db, "outbox", "proof_id = ? AND kind = 'approved'", (proof_id,)) == 1
            assert kinds(db, proof_id)[-2:] == ["approved", "email_queued"]
            row = db.execute(
                "SELECT * FROM outbox WHERE proof_id = ? AND kind = 'approved'", (proof_id,)
            ).fetchone()
            _assert_receipt_names_its_log_entry(app, db, row, decision.event_id)
    result = app.test_cli_runner().invoke(args=["verify-records"])
    assert result.exit_code == 0, result.output


def test_the_confirmation_thread_and_a_sweep_at_once_queue_one_email(tmp_path):
    app = make_app(
        tmp_path / "instance", MAIL_SEND_AFTER_REQUEST="off", PROOF_CONFIRM_AFTER_DECISION="thread"
    )
    with app.app_context():
        db = get_db()
        proof_id = new_proof(db, now=T0)
        decision = _approve(app, db, proof_id, confirm=False)
        worker = confirmations.worker_for(app)
        worker.hand_off(confirmations.Handed(decision.event_id, None, None, later(seconds=1)))
        swept = proofs.queue_pending_confirmations(
            db, now=later(seconds=CONFIRMATION_SWEEP_AFTER_SECONDS + 1)
        )
        assert worker.wait_idle(60)
        assert swept in ([], [decision.event_id])
        assert count(db, "outbox", "kind = 'approved'") == 1
        assert count(db, "decision_emails_pending") == 0
        queued = [e["data"]["kind"] for e in proofs.get_events(db, proof_id) if e["kind"] == "email_queued"]
        assert queued == ["proof", "approved"]


def test_a_batch_queues_every_due_confirmation_and_skips_one_already_queued(tmp_path):
    """confirm_decisions: one write for several decisions; one no longer pending is left out."""
    app = make_app(tmp_path / "instance", MAIL_SEND_AFTER_REQUEST="off")
    with app.app_context():
        db = get_db()
        ids = [new_proof(db, now=T0, order_ref=f"ORD-{n}") for n in range(3)]
        decided = [_approve(app, db, proof_id, confirm=False) for proof_id in ids]
        assert proofs.confirm_decision(db, decided[1].event_id, now=later(seconds=1))
        handed = [confirmations.Handed(d.event_id, None, None, later(seconds=2)) for d in decided]
        assert confirmations.confirm_decisions(db, handed) == [decided[0].event_id, decided[2].event_id]
        assert count(db, "decision_emails_pending") == 0
        for proof_id in ids:
            assert count(db, "outbox", "proof_id = ? AND kind = 'approved'", (proof_id,)) == 1


def _assert_receipt_names_its_log_entry(app, db, row, event_id: int) -> None:
    """The confirmation email (outbox `row`) names the decision's log position and hash."""
    leaf = db.execute("SELECT idx, leaf_hash FROM ledger_leaves WHERE event_id = ?", (event_id,)).fetchone()
    text = (
        email.message_from_bytes(mail.message_bytes(row, app), policy=default_policy)
        .get_body(("plain",))
        .get_content()
    )
    assert f"Record hash: {leaf['leaf_hash']}" in text
    assert f"Position in the shop's log: {leaf['idx']}" in text

"""Mail through the outbox, against a real SMTP server on loopback (aiosmtpd): message
structure, an outage (mail waits, then goes out exactly once), retries with backoff,
permanent failures, crashed senders, concurrent senders, and sending after a request."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from proofmark import mail, proofs
from proofmark.db import connect, database_path, get_db
from proofmark.records import verify_chain
from tests.proofs_support import (
    T0,
    all_statements,
    count,
    design,
    free_port,
    later,
    make_app,
    new_proof,
    smtp_sink,
)


def smtp_app(tmp_path, port: int, **config):
    return make_app(
        tmp_path / "instance",
        MAIL_BACKEND="smtp",
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=port,
        SMTP_TIMEOUT=5,
        MAIL_SEND_AFTER_REQUEST="off",
        **config,
    )


def test_proof_email_is_multipart_with_inline_image_and_link(tmp_path):
    port = free_port()
    app = smtp_app(tmp_path, port, MAIL_FROM="Demo Shop <proofs@shop.test>")
    with smtp_sink(port) as sink, app.app_context():
        db = get_db()
        proof_id = new_proof(db, text="Ada 03/04/2025", email="ada@example.com")
        report = mail.send_due(db)
        assert (report.claimed, report.sent) == (1, 1)
        assert sink.wait_for(1)
    msg = sink.messages[0]
    assert sink.envelopes == [("proofs@shop.test", ["ada@example.com"])]
    assert msg["To"] == "Ada Lovelace <ada@example.com>"
    assert msg["From"] == "Demo Shop <proofs@shop.test>"
    assert msg["Message-ID"].endswith("@shop.test>")
    assert "ORD-1001" in msg["Subject"]
    assert msg.get_content_type() == "multipart/alternative"
    text = msg.get_body(("plain",)).get_content()
    html_part = msg.get_body(("html",))
    html = html_part.get_content()
    assert "http://proofs.test/approve/" in text and "Ada 03/04/2025" in text
    assert "Thursday 3 April 2025" in text  # the date written out, both readings
    related = [p for p in msg.walk() if p.get_content_type() == "multipart/related"]
    assert related, "the HTML part and its image travel together"
    image = [p for p in msg.walk() if p.get_content_maintype() == "image"][0]
    cid = image["Content-ID"].strip("<>")
    assert f'src="cid:{cid}"' in html
    assert image.get_content()[:3] == b"\xff\xd8\xff"  # a JPEG preview; the PNG is on the page
    assert "http://proofs.test/approve/" in html
    with app.app_context():
        events = proofs.get_events(get_db(), proof_id)
    sent = [e for e in events if e["kind"] == "email_sent"]
    assert sent[0]["data"]["message_id"] == msg["Message-ID"]


def test_outage_mail_waits_then_is_delivered_exactly_once(tmp_path):
    port = free_port()  # nothing listens here yet: the SMTP server is "down"
    app = smtp_app(tmp_path, port, MAIL_RETRY_BASE_SECONDS=60)
    with app.app_context():
        db = get_db()
        proof_id = new_proof(db, now=T0)
        report = mail.send_due(db, now=T0)
        assert (report.claimed, report.sent, report.retrying) == (1, 0, 1)
        assert "cannot connect" in report.errors[0]
        row = db.execute("SELECT * FROM outbox WHERE proof_id = ?", (proof_id,)).fetchone()
        assert (row["status"], row["attempts"]) == ("pending", 1)
        assert row["next_attempt_at"] == "2026-11-02T09:31:00.000000Z"  # base backoff: 60 s
        failed = [e for e in proofs.get_events(db, proof_id) if e["kind"] == "email_failed"]
        assert failed[0]["data"]["will_retry"] is True

        # The customer can still decide while mail is down; the confirmation waits too.
        rev = proofs.get_proof(db, proof_id).revision
        decision = proofs.approve(
            db,
            proof_id,
            revision=1,
            nonce=rev.nonce,
            statements_ticked=all_statements(app),
            now=later(seconds=30),
        )
        assert decision.recorded
        report = mail.send_due(db, now=later(seconds=61))
        assert (report.sent, report.retrying) == (0, 2)
        assert db.execute("SELECT attempts FROM outbox WHERE kind = 'proof'").fetchone()[0] == 2
        assert (
            db.execute("SELECT next_attempt_at FROM outbox WHERE kind = 'proof'").fetchone()[0]
            == "2026-11-02T09:33:01.000000Z"
        )  # second backoff: 120 s after 09:31:01

        with smtp_sink(port) as sink:
            # Not yet due: the server is back but nothing is sent before the backoff ends.
            assert mail.send_due(db, now=later(seconds=62)).claimed == 0
            report = mail.send_due(db, now=later(seconds=300))
            assert (report.claimed, report.sent) == (2, 2)
            assert sink.wait_for(2)
            # Nothing is sent twice, however often the sender runs.
            assert mail.send_due(db, now=later(days=1)).claimed == 0
            assert mail.send_due(db, now=later(days=30)).claimed == 0
            assert len(sink.messages) == 2
        queued = [
            e["data"]["message_id"] for e in proofs.get_events(db, proof_id) if e["kind"] == "email_queued"
        ]
        sent = [e["data"]["message_id"] for e in proofs.get_events(db, proof_id) if e["kind"] == "email_sent"]
        assert sorted(sink.message_ids()) == sorted(queued) == sorted(sent)
        assert count(db, "outbox", "status = 'sent'") == 2
        assert verify_chain(db, proof_id).intact


def test_a_long_outage_loses_nothing_then_each_message_goes_out_once(tmp_path):
    port = free_port()  # nothing listens: the server is down for ten days
    app = smtp_app(
        tmp_path,
        port,
        MAIL_MAX_ATTEMPTS=2,
        MAIL_RETRY_BASE_SECONDS=10,
        MAIL_RETRY_MAX_SECONDS=3600,
        MAIL_GIVE_UP_AFTER_HOURS=1,
    )
    with app.app_context():
        db = get_db()
        proof_id = new_proof(db, now=T0)
        moment, runs = T0, 0
        while moment < later(days=10):
            report = mail.send_due(db, now=moment)
            runs += report.claimed
            assert report.failed == 0
            moment += timedelta(hours=2)
        row = db.execute("SELECT status, attempts FROM outbox WHERE proof_id = ?", (proof_id,)).fetchone()
        assert row["status"] == "pending" and row["attempts"] == runs > 2  # past MAIL_MAX_ATTEMPTS
        failed = [e["data"] for e in proofs.get_events(db, proof_id) if e["kind"] == "email_failed"]
        assert len(failed) == runs
        assert all(f["will_retry"] and f["server_unavailable"] for f in failed)
        with smtp_sink(port) as sink:
            assert mail.send_due(db, now=moment).sent == 1
            assert mail.send_due(db, now=later(days=30)).claimed == 0
            assert sink.wait_for(1) and len(sink.messages) == 1
        assert verify_chain(db, proof_id).intact


def test_a_mail_misconfiguration_holds_mail_until_it_is_fixed(tmp_path):
    app = make_app(
        tmp_path / "instance",
        MAIL_BACKEND="smpt",
        MAIL_MAX_ATTEMPTS=1,
        MAIL_GIVE_UP_AFTER_HOURS=0,
        MAIL_SEND_AFTER_REQUEST="off",
    )
    with app.app_context():
        db = get_db()
        proof_id = new_proof(db, now=T0)
        for day in range(5):
            report = mail.send_due(db, now=later(days=day))
            assert (report.claimed, report.failed) == (1, 0) and "unknown MAIL_BACKEND" in report.errors[0]
        app.config["MAIL_BACKEND"] = "file"
        assert mail.send_due(db, now=later(days=6)).sent == 1
        assert [o["status"] for o in proofs.outbox_for(db, proof_id)] == ["sent"]


def test_temporary_refusal_gives_up_after_attempts_and_hours_permanent_at_once(tmp_path):
    port = free_port()
    app = smtp_app(
        tmp_path, port, MAIL_MAX_ATTEMPTS=2, MAIL_RETRY_BASE_SECONDS=10, MAIL_GIVE_UP_AFTER_HOURS=1
    )
    with app.app_context(), smtp_sink(port) as sink:
        db = get_db()
        proof_id = new_proof(db, now=T0)
        sink.defer_rcpt = True  # 450 for this message
        assert mail.send_due(db, now=T0).retrying == 1
        # Two attempts, but not yet an hour of trying: it keeps waiting.
        assert mail.send_due(db, now=later(seconds=11)).retrying == 1
        report = mail.send_due(db, now=later(hours=2))
        assert (report.retrying, report.failed) == (0, 1)
        assert (
            db.execute("SELECT status FROM outbox WHERE proof_id = ?", (proof_id,)).fetchone()[0] == "failed"
        )
        failed = [e["data"] for e in proofs.get_events(db, proof_id) if e["kind"] == "email_failed"]
        assert [(f["will_retry"], f["server_unavailable"]) for f in failed] == [(True, False)] * 2 + [
            (False, False)
        ]
        assert "450" in failed[-1]["error"]

        sink.defer_rcpt, sink.refuse_rcpt = False, True
        other = new_proof(db, now=later(hours=2), email="nobody@example.com")
        report = mail.send_due(db, now=later(hours=2, seconds=1))
        assert (report.sent, report.failed) == (0, 1)
        row = db.execute(
            "SELECT status, attempts, last_error FROM outbox WHERE proof_id = ?", (other,)
        ).fetchone()
        assert (row["status"], row["attempts"]) == ("failed", 1)
        assert "550" in row["last_error"]
        assert sink.messages == []


def test_backoff_doubles_and_is_capped(app):
    config = {"MAIL_RETRY_BASE_SECONDS": 60, "MAIL_RETRY_MAX_SECONDS": 3600}
    assert [mail.backoff_seconds(n, config) for n in range(1, 9)] == [
        60,
        120,
        240,
        480,
        960,
        1920,
        3600,
        3600,
    ]


def test_a_row_stuck_in_sending_is_retried_only_after_the_timeout(tmp_path):
    port = free_port()
    app = smtp_app(tmp_path, port, MAIL_SENDING_TIMEOUT_SECONDS=900)
    with app.app_context():
        db = get_db()
        new_proof(db, now=T0)
        # A sender claims the row and dies before delivering.
        claimed = mail.claim_due(db, now=T0)
        assert len(claimed) == 1
        with smtp_sink(port) as sink:
            assert mail.send_due(db, now=later(seconds=899)).claimed == 0  # maybe still sending
            report = mail.send_due(db, now=later(seconds=901))
            assert report.sent == 1
            assert sink.wait_for(1) and len(sink.messages) == 1
        row = db.execute("SELECT status, attempts FROM outbox").fetchone()
        assert (row["status"], row["attempts"]) == ("sent", 2)


def test_concurrent_senders_deliver_each_message_once(tmp_path):
    port = free_port()
    app = smtp_app(tmp_path, port)
    with app.app_context():
        db = get_db()
        proof_id = new_proof(db, now=T0)
        rev = proofs.get_proof(db, proof_id).revision
        for _ in range(5):
            proofs.resend_link(db, proof_id, actor="staff:s@shop.test", now=T0)
        total = count(db, "outbox")
    path = database_path(app)
    barrier = threading.Barrier(4)
    errors = []

    def sender():
        with app.app_context():
            own = connect(path)
            try:
                barrier.wait()
                mail.send_due(own, now=later(seconds=1), limit=2)
                mail.send_due(own, now=later(seconds=1), limit=2)
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)
            finally:
                own.conn.close()

    with smtp_sink(port) as sink:
        threads = [threading.Thread(target=sender) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        with app.app_context():
            mail.send_due(get_db(), now=later(seconds=2))  # whatever the races left
        assert sink.wait_for(total)
        assert len(sink.messages) == total == 6
        assert len(set(sink.message_ids())) == total
    assert rev.number == 1


def test_web_request_never_fails_because_smtp_is_down(tmp_path):
    port = free_port()
    app = make_app(
        tmp_path / "instance",
        MAIL_BACKEND="smtp",
        SMTP_PORT=port,
        MAIL_SEND_AFTER_REQUEST="inline",
        SHOP_ORDERS=True,
    )
    with app.app_context():
        token = _design_token(app)
    response = app.test_client().post(
        "/orders",
        data={
            "design_token": token,
            "customer_name": "Ada",
            "customer_email": "ada@example.com",
        },
    )
    assert response.status_code == 303
    with app.app_context():
        db = get_db()
        row = db.execute("SELECT status, attempts, last_error FROM outbox").fetchone()
        assert (row["status"], row["attempts"]) == ("pending", 1)
        assert "cannot connect" in row["last_error"]
        assert db.execute("SELECT status FROM proofs").fetchone()[0] == "awaiting_approval"


def _design_token(app) -> str:
    from proofmark.tokens import sign_design

    d = design("Ada")
    return sign_design(d, d.content_key(1200, "jpeg"))


def test_background_thread_sends_right_after_the_request(tmp_path):
    port = free_port()
    app = make_app(
        tmp_path / "instance",
        MAIL_BACKEND="smtp",
        SMTP_PORT=port,
        MAIL_SEND_AFTER_REQUEST="thread",
        SHOP_ORDERS=True,
    )
    with app.app_context():
        token = _design_token(app)
    with smtp_sink(port) as sink:
        response = app.test_client().post(
            "/orders",
            data={
                "design_token": token,
                "customer_name": "Ada",
                "customer_email": "ada@example.com",
            },
        )
        assert response.status_code == 303
        assert sink.wait_for(1)
        assert mail.sender_for(app).wait_idle(30)
    with app.app_context():
        assert get_db().execute("SELECT status FROM outbox").fetchone()[0] == "sent"


def test_file_backend_and_send_mail_command(tmp_path):
    app = make_app(tmp_path / "instance", MAIL_SEND_AFTER_REQUEST="off")
    with app.app_context():
        new_proof(get_db())
    result = app.test_cli_runner().invoke(args=["send-mail"])
    assert result.exit_code == 0, result.output
    assert "1 due, 1 sent" in result.output
    files = sorted((tmp_path / "instance" / "outbox").glob("*.eml"))
    assert [f.name for f in files] == ["000001-proof.eml"]
    assert b"Message-ID: <" in files[0].read_bytes()
    again = app.test_cli_runner().invoke(args=["send-mail"])
    assert "0 due, 0 sent" in again.output


@pytest.mark.parametrize(
    "kind", ["proof", "revision", "resent", "reminder", "approved", "changes_requested", "expired"]
)
def test_every_email_has_paired_text_and_html_templates(app, kind):
    from pathlib import Path

    folder = Path(app.root_path) / "templates" / "email"
    assert (folder / f"{kind}.txt").is_file() and (folder / f"{kind}.html").is_file()


def test_decision_confirmations_are_sent(tmp_path):
    app = make_app(tmp_path / "instance", MAIL_SEND_AFTER_REQUEST="off")
    with app.app_context():
        db = get_db()
        proof_id = new_proof(db, now=T0)
        rev = proofs.get_proof(db, proof_id).revision
        proofs.request_changes(
            db,
            proof_id,
            revision=1,
            nonce=rev.nonce,
            comment="Please use Ada L.",
            now=T0 + timedelta(hours=1),
        )
        mail.send_due(db, now=T0 + timedelta(hours=2))
    emls = sorted((tmp_path / "instance" / "outbox").glob("*.eml"))
    assert [f.name for f in emls] == ["000001-proof.eml", "000002-changes_requested.eml"]
    assert b"Please use Ada L." in emls[1].read_bytes()

"""Events out: Standard Webhooks to a real receiver on loopback, verified with the
`standardwebhooks` package; an outage of more than a day loses nothing and keeps the order
of each proof's events."""

from __future__ import annotations

import json

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from proofmark import proofs
from proofmark.db import get_db
from proofmark.integrations import outbound, worker
from tests.integrations_support import Receiver
from tests.proofs_support import all_statements, new_proof


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.stop()


def approve(app, db, proof_id: int) -> None:
    proof = proofs.get_proof(db, proof_id)
    proofs.approve(
        db, proof_id, revision=1, nonce=proof.revision.nonce, statements_ticked=all_statements(app)
    )


def verified(endpoint: dict, request: dict) -> dict:
    return Webhook(endpoint["secret"]).verify(request["body"], request["headers"])


def test_proof_approved_arrives_signed_and_the_standardwebhooks_verifier_accepts_it(app, receiver):
    receiver.start()
    with app.app_context():
        db = get_db()
        endpoint = outbound.add_endpoint(db, receiver.url, actor="test", event_types=["proof.approved"])
        proof_id = new_proof(db)
        approve(app, db, proof_id)
        report = worker.run_once(app)
    assert report.outbound.delivered == 1
    [request] = receiver.received
    assert {"webhook-id", "webhook-timestamp", "webhook-signature"} <= {k.lower() for k in request["headers"]}
    payload = verified(endpoint, request)
    assert payload["type"] == "proof.approved"
    data = payload["data"]
    assert data["proof_id"].startswith("P-") and data["order_ref"] == "ORD-1001"
    assert (
        data["revision"] == 1
        and data["production"] == "may start"
        and data["text"]["lines"] == ["Ada Lovelace"]
    )
    assert "customer_email" not in json.dumps(payload)
    # Where production fetches the approved revision's files (the API, with the shop's key).
    files = data["production_files"]
    assert files["list"] == f"{app.config['PUBLIC_URL']}/api/proofs/{data['proof_id']}/production"
    assert [f["name"] for f in files["files"]][:2] == ["face.svg", "face.pdf"]
    assert all(f["url"] == f"{files['list']}/{f['name']}" for f in files["files"])
    # The same body signed with another secret, or changed by one byte, is refused.
    with pytest.raises(WebhookVerificationError):
        Webhook(outbound.new_secret()).verify(request["body"], request["headers"])
    with pytest.raises(WebhookVerificationError):
        verified(endpoint, {**request, "body": request["body"].replace(b"ORD-1001", b"ORD-1002")})


def test_receiver_down_for_more_than_a_day_then_up_every_event_arrives_in_order_per_proof(
    app, receiver, clock
):
    with app.app_context():
        db = get_db()
        endpoint = outbound.add_endpoint(db, receiver.url, actor="test")
        first = new_proof(db, now=clock.now)
        second = new_proof(db, now=clock.now, text="Grace Hopper")
        worker.run_once(app, now=clock.now)  # down: nothing listens on the port
        proofs.record_view(db, first, revision=1, ip="203.0.113.5", user_agent="phone", now=clock.now)
        approve(app, db, first)
        proofs.cancel(db, second, actor="staff:test", reason="Customer cancelled", now=clock.now)
        # A day and a bit of outage, the worker running every half hour.
        for _ in range(52):
            clock.advance(minutes=30)
            report = worker.run_once(app, now=clock.now)
            assert report.outbound.delivered == 0
        statuses = [r[0] for r in db.execute("SELECT DISTINCT status FROM webhook_deliveries")]
        assert statuses == ["pending"]  # nothing given up after 26 hours
        receiver.start()
        for _ in range(30):
            clock.advance(hours=1)
            worker.run_once(app, now=clock.now)
        assert [r[0] for r in db.execute("SELECT DISTINCT status FROM webhook_deliveries")] == ["delivered"]
        events = {
            proof_id: [
                e["kind"] for e in proofs.get_events(db, proof_id) if e["kind"] in outbound.EVENT_TYPES
            ]
            for proof_id in (first, second)
        }
        public = {proofs.get_proof(db, p).public_id: p for p in (first, second)}

    seen: dict[int, list[str]] = {first: [], second: []}
    ids = []
    for request in receiver.received:
        payload = verified(endpoint, request)
        ids.append(request["headers"]["webhook-id"])
        seen[public[payload["data"]["proof_id"]]].append(payload["data"]["event"]["kind"])
    # Each event once (the receiver answered every request it got), in the order recorded.
    assert len(ids) == len(set(ids)) == 5
    assert seen == events
    assert events[first] == ["proof_created", "proof_viewed", "approved"]
    assert events[second] == ["proof_created", "cancelled"]


def test_a_failed_attempt_is_retried_with_the_same_webhook_id_and_logged(app, receiver, clock, staff):
    receiver.start()
    receiver.fail_next = 1
    with app.app_context():
        db = get_db()
        endpoint = outbound.add_endpoint(db, receiver.url, actor="test", event_types=["proof.created"])
        new_proof(db, now=clock.now)
        assert worker.run_once(app, now=clock.now).outbound.retrying == 1
        assert worker.run_once(app, now=clock.now).outbound.claimed == 0  # backoff: not due yet
        clock.advance(seconds=5)
        assert worker.run_once(app, now=clock.now).outbound.delivered == 1
    first, second = receiver.received
    assert first["answered"] == 500 and second["answered"] == 204
    assert first["headers"]["webhook-id"] == second["headers"]["webhook-id"]
    page = staff.get(f"/staff/webhooks/{endpoint['id']}").get_data(as_text=True)
    assert "HTTP 500" in page and "delivered" in page and first["headers"]["webhook-id"] in page


def test_retries_stop_after_the_schedule_and_staff_resend(app, receiver, clock, staff):
    app.config["WEBHOOK_RETRY_SCHEDULE_SECONDS"] = [1, 2, 4]
    with app.app_context():
        db = get_db()
        endpoint = outbound.add_endpoint(db, receiver.url, actor="test", event_types=["proof.created"])
        new_proof(db, now=clock.now)
        for _ in range(len(app.config["WEBHOOK_RETRY_SCHEDULE_SECONDS"]) + 1):
            worker.run_once(app, now=clock.now)
            clock.advance(seconds=5)
        row = db.execute("SELECT id, status, attempts FROM webhook_deliveries").fetchone()
        assert (row["status"], row["attempts"]) == ("failed", 4)
    receiver.start()
    response = staff.post(f"/staff/webhooks/deliveries/{row['id']}/resend")
    assert response.status_code == 302
    # The resend ran after the request (inline under TESTING): delivered now.
    assert len(receiver.received) == 1
    verified(endpoint, receiver.received[0])
    with app.app_context():
        assert get_db().execute("SELECT status FROM webhook_deliveries").fetchone()[0] == "delivered"


def test_endpoints_are_managed_from_the_cli_and_the_staff_page(app, runner, staff):
    result = runner.invoke(
        args=["webhooks", "add", "https://erp.example.com/hooks", "--event", "proof.approved"]
    )
    assert result.exit_code == 0, result.output
    assert "whsec_" in result.output
    bad = runner.invoke(args=["webhooks", "add", "ftp://example.com", "--event", "proof.approved"])
    assert bad.exit_code != 0 and "http://" in bad.output
    bad = runner.invoke(args=["webhooks", "add", "https://example.com", "--event", "order.paid"])
    assert bad.exit_code != 0 and "Unknown event type" in bad.output
    listed = runner.invoke(args=["webhooks", "list"])
    assert "#1  https://erp.example.com/hooks  events: proof.approved" in listed.output

    response = staff.post("/staff/webhooks", data={"url": "http://127.0.0.1:9/x", "description": "ERP"})
    assert response.status_code == 200 and "whsec_" in response.get_data(as_text=True)
    response = staff.post("/staff/webhooks", data={"url": "javascript:alert(1)"})
    assert response.status_code == 400
    assert staff.post("/staff/webhooks/2/remove").status_code == 302
    assert runner.invoke(args=["webhooks", "remove", "1"]).exit_code == 0
    assert runner.invoke(args=["webhooks", "remove", "1"]).exit_code != 0
    assert "No webhook endpoints." in runner.invoke(args=["webhooks", "list"]).output
    # No endpoint: recording an event queues nothing.
    with app.app_context():
        new_proof(get_db())
        assert get_db().execute("SELECT count(*) FROM webhook_messages").fetchone()[0] == 0

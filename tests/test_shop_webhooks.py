"""Orders in: Shopify and WooCommerce webhooks over real HTTP to a running server, signed as
the platforms sign them, processed from the durable queue into proofs."""

from __future__ import annotations

import json

import pytest

from proofmark.db import get_db, transaction
from proofmark.integrations import inbound, worker
from proofmark.tokens import sign_design
from tests.integrations_support import (
    SHOPIFY_SECRET,
    WOO_SECRET,
    hmac_b64,
    post,
    served,
    shopify_order,
    woo_order,
)
from tests.proofs_support import count, design
from tests.support import make_app


@pytest.fixture
def shop_app(tmp_path, monkeypatch):
    return make_app(
        tmp_path / "instance",
        monkeypatch,
        SHOPIFY_WEBHOOK_SECRETS=[SHOPIFY_SECRET],
        WOOCOMMERCE_WEBHOOK_SECRETS=[WOO_SECRET],
        # The running server answers first and processes in its background worker.
        INTEGRATIONS_WORK_AFTER_REQUEST="thread",
    )


def tokens(app, n: int) -> list[str]:
    with app.app_context():
        return [
            sign_design(design(f"Name {i}"), design(f"Name {i}").content_key(1200, "jpeg")) for i in range(n)
        ]


def shopify_headers(
    body: bytes, *, webhook_id: str, topic: str = "orders/create", secret: str = SHOPIFY_SECRET
):
    return {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Shop-Domain": "proofmark-test.myshopify.com",
        "X-Shopify-Webhook-Id": webhook_id,
        "X-Shopify-API-Version": "2025-10",
        "X-Shopify-Hmac-Sha256": hmac_b64(secret, body),
    }


def woo_headers(body: bytes, *, delivery_id: str, topic: str = "order.created"):
    return {
        "Content-Type": "application/json",
        "X-WC-Webhook-Source": "https://shop.example/",
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Resource": "order",
        "X-WC-Webhook-Event": "created",
        "X-WC-Webhook-ID": "12",
        "X-WC-Webhook-Delivery-ID": delivery_id,
        "X-WC-Webhook-Signature": hmac_b64(WOO_SECRET, body),
    }


def settle(app) -> None:
    assert worker.worker_for(app).wait_idle(60), "the integrations worker did not finish"


def state(app) -> dict:
    with app.app_context():
        db = get_db()
        return {
            "proofs": count(db, "proofs"),
            "requests": count(db, "proof_requests"),
            "lines": count(db, "order_lines"),
            "deliveries": [
                dict(r)
                for r in db.execute(
                    "SELECT id, status, verified, verification FROM inbound_deliveries ORDER BY id"
                )
            ],
        }


@pytest.mark.parametrize("platform", ["shopify", "woocommerce"])
def test_round_trip_one_proof_per_personalized_line_duplicates_ignored_tampering_refused(shop_app, platform):
    two = tokens(shop_app, 2)
    if platform == "shopify":
        body = json.dumps(shopify_order(two)).encode()
        headers = shopify_headers(body, webhook_id="b54557e4-bdd9-4b37-8a5f-bf7d70bcd043")
    else:
        body = json.dumps(woo_order(two)).encode()
        headers = woo_headers(body, delivery_id="7f6b0f3c2d1e")
    with served(shop_app) as base:
        url = f"{base}/webhooks/{platform}"
        status, answer = post(url, body, headers)
        assert status == 200, answer
        settle(shop_app)
        after_first = state(shop_app)
        # Two lines with the embed's design: two proofs. One line with only text: one proof to
        # prepare. The gift box: nothing.
        assert (after_first["proofs"], after_first["requests"], after_first["lines"]) == (2, 1, 3)
        assert after_first["deliveries"][-1]["status"] == "done"

        # The platform retries the same delivery: stored as a duplicate, nothing new.
        status, answer = post(url, body, headers)
        assert status == 200 and "Already received" in answer["message"]
        settle(shop_app)
        again = state(shop_app)
        assert (again["proofs"], again["requests"], again["lines"]) == (2, 1, 3)
        assert again["deliveries"][-1]["status"] == "duplicate"

        # One byte changed after signing: 401, stored as rejected, nothing created.
        tampered = body.replace(b"Name 0", b"Name 9", 1) if b"Name 0" in body else body[:-1] + b" "
        assert len(tampered) == len(body) and tampered != body
        status, answer = post(url, tampered, headers)
        assert status == 401, answer
        settle(shop_app)
        last = state(shop_app)
        assert (last["proofs"], last["requests"], last["lines"]) == (2, 1, 3)
        assert last["deliveries"][-1] == {
            "id": answer["delivery"],
            "status": "rejected",
            "verified": 0,
            "verification": "signature mismatch",
        }

    with shop_app.app_context():
        db = get_db()
        proofs = [dict(r) for r in db.execute("SELECT * FROM proofs ORDER BY id")]
        assert {p["source"] for p in proofs} == {platform}
        assert {p["customer_email"] for p in proofs} == {
            "jon@example.com" if platform == "shopify" else "john.doe@example.com"
        }
        assert sorted(p["text"] for p in proofs) == ["Name 0", "Name 1"]
        request = dict(db.execute("SELECT * FROM proof_requests").fetchone())
        assert request["personalization"] == ("Zoë Müller" if platform == "shopify" else "Zoë")
        assert request["status"] == "to_prepare"
        # The customer got an email for each proof, sent by the worker right after processing.
        assert count(db, "outbox") == count(db, "outbox", "status = 'sent'") == 2


def test_a_delivery_processed_twice_makes_nothing_new_and_a_new_id_for_the_same_order_neither(shop_app):
    body = json.dumps(shopify_order(tokens(shop_app, 1))).encode()
    with shop_app.test_request_context():
        db = get_db()
        for webhook_id in ("first", "second-id-same-order"):
            received = inbound.receive(db, "shopify", body, shopify_headers(body, webhook_id=webhook_id))
            assert received.status == 200 and received.accepted
        inbound.process_due(db)
        assert (count(db, "proofs"), count(db, "proof_requests")) == (1, 1)
        # A crash after the work but before "done": the delivery is processed once more.
        with transaction(db):
            db.execute("UPDATE inbound_deliveries SET status = 'pending'")
        inbound.process_due(db)
        assert (count(db, "proofs"), count(db, "proof_requests"), count(db, "order_lines")) == (1, 1, 2)
        outcomes = [
            json.loads(r[0]) for r in db.execute("SELECT outcome FROM inbound_deliveries ORDER BY id")
        ]
        assert {line["outcome"] for line in outcomes[-1]["lines"]} == {"already handled", "not personalized"}


def test_orders_cancelled_cancels_the_proofs_and_dismisses_what_was_to_prepare(shop_app):
    order = shopify_order(tokens(shop_app, 1))
    body = json.dumps(order).encode()
    cancelled = json.dumps(
        {**order, "cancelled_at": "2026-11-03T10:00:00-05:00", "cancel_reason": "customer"}
    ).encode()
    with shop_app.test_request_context():
        db = get_db()
        inbound.receive(db, "shopify", body, shopify_headers(body, webhook_id="create-1"))
        inbound.receive(
            db,
            "shopify",
            cancelled,
            shopify_headers(cancelled, webhook_id="cancel-1", topic="orders/cancelled"),
        )
        inbound.process_due(db)
        assert [r[0] for r in db.execute("SELECT status FROM proofs")] == ["cancelled"]
        assert [r[0] for r in db.execute("SELECT status FROM proof_requests")] == ["dismissed"]


@pytest.mark.parametrize(
    ("body", "status", "why"),
    [
        (b"{not json", 400, "not JSON"),
        (b"[1, 2]", 400, "not an object"),
        (b'{"id": 5}', 400, "no line_items"),
        (json.dumps({"id": 5, "line_items": [1]}).encode(), 400, "not an object"),
    ],
)
def test_a_signed_but_malformed_body_is_a_400_that_creates_nothing(shop_app, body, status, why):
    client = shop_app.test_client()
    response = client.post("/webhooks/shopify", data=body, headers=shopify_headers(body, webhook_id="m-1"))
    assert response.status_code == status
    assert why in response.get_json()["message"]
    with shop_app.app_context():
        db = get_db()
        assert count(db, "proofs") == 0
        row = db.execute("SELECT status, verified, body FROM inbound_deliveries").fetchone()
        assert (row["status"], row["verified"], row["body"]) == ("rejected", 1, body)


def test_bad_or_missing_signature_or_no_secret_is_401_and_logged(shop_app, tmp_path, monkeypatch, caplog):
    body = json.dumps(shopify_order(tokens(shop_app, 1))).encode()
    client = shop_app.test_client()
    wrong = shopify_headers(body, webhook_id="w-1", secret="another shop's secret")
    missing = {k: v for k, v in wrong.items() if k != "X-Shopify-Hmac-Sha256"}
    assert client.post("/webhooks/shopify", data=body, headers=wrong).status_code == 401
    assert client.post("/webhooks/shopify", data=body, headers=missing).status_code == 401
    unconfigured = make_app(tmp_path / "other", monkeypatch)
    response = unconfigured.test_client().post(
        "/webhooks/shopify", data=body, headers=shopify_headers(body, webhook_id="w-2")
    )
    assert response.status_code == 401 and "SHOPIFY_WEBHOOK_SECRETS" in response.get_json()["message"]
    assert "signature mismatch" in caplog.text and "X-Shopify-Hmac-Sha256 missing" in caplog.text
    with shop_app.app_context():
        assert (
            count(get_db(), "proofs") == 0
            and count(get_db(), "inbound_deliveries", "status = 'rejected'") == 2
        )


def test_a_secret_being_rotated_both_are_accepted(tmp_path, monkeypatch):
    app = make_app(tmp_path / "instance", monkeypatch, SHOPIFY_WEBHOOK_SECRETS=["old-secret", "new-secret"])
    body = json.dumps({"id": 1, "line_items": []}).encode()
    client = app.test_client()
    for n, secret in enumerate(("old-secret", "new-secret")):
        headers = shopify_headers(body, webhook_id=f"r-{n}", secret=secret)
        assert client.post("/webhooks/shopify", data=body, headers=headers).status_code == 200


def test_an_oversized_body_is_refused_before_it_is_read(tmp_path, monkeypatch):
    app = make_app(
        tmp_path / "instance", monkeypatch, SHOPIFY_WEBHOOK_SECRETS=["s"], WEBHOOK_MAX_BODY_BYTES=1000
    )
    body = b"{" + b" " * 2000 + b"}"
    response = app.test_client().post(
        "/webhooks/shopify", data=body, headers=shopify_headers(body, webhook_id="x", secret="s")
    )
    assert response.status_code == 413
    with app.app_context():
        assert count(get_db(), "inbound_deliveries") == 0


def test_woocommerce_ping_and_unused_topics_are_answered_and_ignored(shop_app):
    client = shop_app.test_client()
    ping = b"webhook_id=12"
    response = client.post(
        "/webhooks/woocommerce",
        data=ping,
        headers={**woo_headers(ping, delivery_id="p"), "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200
    body = json.dumps({"id": 3}).encode()
    response = client.post(
        "/webhooks/woocommerce",
        data=body,
        headers=woo_headers(body, delivery_id="u", topic="product.updated"),
    )
    assert response.status_code == 200
    with shop_app.app_context():
        assert [r[0] for r in get_db().execute("SELECT status FROM inbound_deliveries")] == [
            "ignored",
            "ignored",
        ]


def test_a_failing_delivery_is_retried_then_given_up_and_staff_see_it(shop_app, clock, staff):
    # A design token signed with another key: the line becomes a proof to prepare, with the reason.
    body = json.dumps(shopify_order(["not-a-valid-token"], text_only=None)).encode()
    with shop_app.test_request_context():
        db = get_db()
        inbound.receive(db, "shopify", body, shopify_headers(body, webhook_id="bad-token"))
        inbound.process_due(db)
        request = dict(db.execute("SELECT * FROM proof_requests").fetchone())
        assert "could not become a proof" in request["note"]
        # A body that no longer parses (stored rows are data; simulate a bug in processing):
        inbound.receive(db, "shopify", body, shopify_headers(body, webhook_id="second"))
        with transaction(db):
            db.execute("UPDATE inbound_deliveries SET body = X'7b' WHERE delivery_id = 'second'")
        report = inbound.process_due(db)
        assert report.retrying == 1
        for _ in range(10):
            clock.advance(minutes=15)
            inbound.process_due(db)
        row = db.execute(
            "SELECT status, attempts, last_error FROM inbound_deliveries WHERE delivery_id = 'second'"
        ).fetchone()
        assert row["status"] == "failed" and row["attempts"] == shop_app.config["INBOUND_MAX_ATTEMPTS"]
    page = staff.get("/staff/integrations/received").get_data(as_text=True)
    assert "failed" in page and "JSONDecodeError" in page and "bad-token" in page

"""Events out: signed webhooks following the Standard Webhooks specification.

`on_event()` is called by proofmark.records.append_event for every event, inside the
transaction that records it: for the kinds in EVENT_TYPES it writes one message (its JSON
payload fixed now) and one delivery per endpoint that wants it. So an event is never told
without being recorded, nor recorded without being queued.

`deliver_due()` then sends due deliveries: a POST with `webhook-id` (the message's id, the
same on every retry, for the receiver to drop duplicates), `webhook-timestamp` and
`webhook-signature` (`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, made by the
`standardwebhooks` package). A 2xx answer delivers it; anything else (an error status, a
refused connection, a timeout) is retried after WEBHOOK_RETRY_SCHEDULE_SECONDS (by default
5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h: about 27.5 hours in all), then the delivery is
marked failed and waits for staff to "resend" it. Every attempt is logged.

Order per proof: a delivery is sent only when no earlier delivery of the same endpoint for
the same proof is still pending, so a receiver sees proof.created before proof.approved
even after an outage. Delivery is at-least-once: a receiver that answered but whose answer
was lost (or slower than WEBHOOK_TIMEOUT_SECONDS) gets the message again with the same
webhook-id.

`proof.approved` carries the links to the approved revision's production files
(`proofmark.production.webhook_links`), so a production system needs no second call to find them.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import sqlite_utils
from flask import current_app, g, has_app_context
from standardwebhooks import Webhook

from proofmark import production
from proofmark.db import transaction
from proofmark.records import canonical_json, timestamp, utcnow

EVENT_TYPES = {
    "proof_created": "proof.created",
    "proof_viewed": "proof.viewed",
    "approved": "proof.approved",
    "changes_requested": "proof.changes_requested",
    "expired": "proof.expired",
    "cancelled": "proof.cancelled",
}
ALL_TYPES = tuple(EVENT_TYPES.values())
MAX_URL = 2000
# Fields of an event's data that a receiver may use, per type (never the customer's email).
EVENT_FIELDS = {
    "proof.created": ("source", "product"),
    "proof.viewed": ("revision",),
    "proof.approved": ("revision", "image_sha256", "design_sha256", "text", "product", "font"),
    "proof.changes_requested": ("revision", "comment", "text"),
    "proof.expired": ("revision", "production"),
    "proof.cancelled": ("revision", "reason", "previous_status"),
}


class EndpointError(ValueError):
    pass


# --- endpoints ---------------------------------------------------------------------------------


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def _clean_url(url: str) -> str:
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise EndpointError("The endpoint must be an http:// or https:// URL with a host name.")
    if len(url) > MAX_URL or any(c.isspace() or ord(c) < 32 for c in url):
        raise EndpointError("That URL is too long or contains spaces or control characters.")
    return url


def _clean_types(types) -> list[str]:
    types = [t.strip() for t in (types or []) if t and t.strip()]
    unknown = [t for t in types if t not in ALL_TYPES]
    if unknown:
        raise EndpointError(f"Unknown event type {unknown[0]!r} (use {', '.join(ALL_TYPES)}).")
    return sorted(set(types), key=ALL_TYPES.index)


def add_endpoint(
    db: sqlite_utils.Database,
    url: str,
    *,
    actor: str,
    description: str = "",
    event_types=None,
    secret: str | None = None,
    now: datetime | None = None,
) -> dict:
    url = _clean_url(url)
    types = _clean_types(event_types)
    description = (description or "").strip()[:200]
    secret = secret or new_secret()
    try:
        Webhook(secret)
    except Exception as exc:  # noqa: BLE001 - the package raises several kinds for a bad secret
        raise EndpointError("The secret must be whsec_ followed by base64.") from exc
    with transaction(db):
        cursor = db.execute(
            "INSERT INTO webhook_endpoints (url, secret, description, event_types, created_by, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (url, secret, description, json.dumps(types), actor, timestamp(now)),
        )
    return get_endpoint(db, cursor.lastrowid)


def get_endpoint(db: sqlite_utils.Database, endpoint_id: int) -> dict | None:
    row = db.execute("SELECT * FROM webhook_endpoints WHERE id = ?", (endpoint_id,)).fetchone()
    if row is None:
        return None
    endpoint = dict(row)
    endpoint["event_types"] = json.loads(endpoint["event_types"])
    return endpoint


def list_endpoints(db: sqlite_utils.Database, *, include_removed: bool = False) -> list[dict]:
    sql = "SELECT id FROM webhook_endpoints" + ("" if include_removed else " WHERE removed_at IS NULL")
    endpoints = [get_endpoint(db, r[0]) for r in db.execute(sql + " ORDER BY id")]
    for endpoint in endpoints:
        counts = dict(
            db.execute(
                "SELECT status, count(*) FROM webhook_deliveries WHERE endpoint_id = ? GROUP BY status",
                (endpoint["id"],),
            ).fetchall()
        )
        endpoint["counts"] = {s: counts.get(s, 0) for s in ("pending", "sending", "delivered", "failed")}
    return endpoints


def remove_endpoint(db: sqlite_utils.Database, endpoint_id: int, *, now: datetime | None = None) -> bool:
    """Stop sending to an endpoint; what was still queued for it is marked failed."""
    now = now or utcnow()
    with transaction(db):
        cursor = db.execute(
            "UPDATE webhook_endpoints SET removed_at = ? WHERE id = ? AND removed_at IS NULL",
            (timestamp(now), endpoint_id),
        )
        if cursor.rowcount:
            db.execute(
                "UPDATE webhook_deliveries SET status = 'failed', last_error = 'endpoint removed'"
                " WHERE endpoint_id = ? AND status IN ('pending', 'sending')",
                (endpoint_id,),
            )
    return bool(cursor.rowcount)


# --- queueing, from the event log ---------------------------------------------------------------


def _payload(db, event_type: str, event: dict) -> dict:
    proof = db.execute("SELECT * FROM proofs WHERE id = ?", (event["proof_id"],)).fetchone()
    event_data = json.loads(event["data"]) if isinstance(event["data"], str) else (event["data"] or {})
    data = {
        "proof_id": proof["public_id"],
        "order_ref": proof["order_ref"],
        "source": proof["source"],
        "event": {"seq": event["seq"], "kind": event["kind"], "at": event["at"]},
    }
    for name in EVENT_FIELDS[event_type]:
        if name in event_data:
            data[name] = event_data[name]
    line = db.execute(
        "SELECT platform, shop, order_id, line_id FROM order_lines WHERE proof_id = ? ORDER BY id LIMIT 1",
        (proof["id"],),
    ).fetchone()
    if line is not None:
        data["order_line"] = dict(line)
    if event_type == "proof.approved":
        data["production"] = "may start"
        base_url = current_app.config["PUBLIC_URL"] if has_app_context() else ""
        data.update(production.webhook_links(db, proof["id"], event_data.get("revision"), base_url))
    return {"type": event_type, "timestamp": event["at"], "data": data}


def on_event(db: sqlite_utils.Database, event: dict) -> None:
    """Queue the webhook messages an event causes. Called inside the event's transaction."""
    event_type = EVENT_TYPES.get(event["kind"])
    if event_type is None:
        return
    endpoints = [
        r[0]
        for r in db.execute(
            "SELECT id, event_types FROM webhook_endpoints WHERE removed_at IS NULL ORDER BY id"
        )
        if not json.loads(r[1]) or event_type in json.loads(r[1])
    ]
    if not endpoints:
        return
    payload = canonical_json(_payload(db, event_type, event))
    created = event["at"]
    cursor = db.execute(
        "INSERT INTO webhook_messages (msg_id, proof_id, event_id, event_type, payload, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (
            "msg_" + secrets.token_urlsafe(18),
            event["proof_id"],
            event.get("id") or 0,
            event_type,
            payload,
            created,
        ),
    )
    for endpoint_id in endpoints:
        db.execute(
            "INSERT INTO webhook_deliveries (endpoint_id, message_id, proof_id, status, next_attempt_at, created_at)"
            " VALUES (?, ?, ?, 'pending', ?, ?)",
            (endpoint_id, cursor.lastrowid, event["proof_id"], created, created),
        )
    if has_app_context():
        g.proofmark_integrations_work = True


# --- delivering ---------------------------------------------------------------------------------


@dataclass
class DeliveryReport:
    claimed: int = 0
    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.claimed} webhook deliveries due, {self.delivered} delivered, "
            f"{self.retrying} to retry later, {self.failed} given up"
        )


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # a receiver answers; it does not send us elsewhere
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def sign(secret: str, msg_id: str, body: str, at: datetime) -> dict[str, str]:
    """The three Standard Webhooks headers for one attempt."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, at, body),
    }


def _post(url: str, headers: dict, body: str, timeout: float) -> tuple[int | None, str | None, str]:
    request = urllib.request.Request(
        url,
        data=body.encode(),
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "Proofmark-Webhooks/1", **headers},
    )
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return response.status, None, response.read(500).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        excerpt = exc.read(500).decode("utf-8", "replace") if exc.fp else ""
        return exc.code, f"HTTP {exc.code}", excerpt
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return None, f"{type(exc).__name__}: {reason}"[:500], ""


def _claim(db, now: datetime, limit: int) -> list[dict]:
    """Take due deliveries, at most one per endpoint and proof, and only the earliest one
    still open for that endpoint and proof (per-proof order)."""
    stale = timestamp(now - timedelta(seconds=int(current_app.config["WEBHOOK_SENDING_TIMEOUT_SECONDS"])))
    due_sql = (
        "SELECT d.id FROM webhook_deliveries d WHERE ((d.status = 'pending' AND d.next_attempt_at <= ?)"
        " OR (d.status = 'sending' AND d.claimed_at <= ?))"
        " AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e WHERE e.endpoint_id = d.endpoint_id"
        " AND e.proof_id = d.proof_id AND e.status IN ('pending', 'sending') AND e.id < d.id)"
        " ORDER BY d.id LIMIT ?"
    )
    if db.execute(due_sql, (timestamp(now), stale, 1)).fetchone() is None:
        return []
    claim = secrets.token_hex(8)
    with transaction(db):
        ids = [r[0] for r in db.execute(due_sql, (timestamp(now), stale, limit))]
        if ids:
            db.execute(
                f"UPDATE webhook_deliveries SET status = 'sending', claimed_at = ?, claim_token = ?,"
                f" attempts = attempts + 1 WHERE id IN ({','.join('?' * len(ids))})",
                (timestamp(now), claim, *ids),
            )
    return [
        dict(r)
        for r in db.execute(
            "SELECT d.*, m.msg_id, m.payload, e.url, e.secret, e.removed_at FROM webhook_deliveries d"
            " JOIN webhook_messages m ON m.id = d.message_id JOIN webhook_endpoints e ON e.id = d.endpoint_id"
            " WHERE d.claim_token = ? ORDER BY d.id",
            (claim,),
        )
    ]


def retry_delay(attempts: int, config) -> float | None:
    """Seconds before the next attempt after `attempts` attempts, or None to give up."""
    schedule = list(config["WEBHOOK_RETRY_SCHEDULE_SECONDS"])
    return float(schedule[attempts - 1]) if attempts - 1 < len(schedule) else None


def deliver_due(db: sqlite_utils.Database, *, now: datetime | None = None, limit: int = 50) -> DeliveryReport:
    """Send due deliveries once each. Call inside an app context."""
    now = now or utcnow()
    config = current_app.config
    report = DeliveryReport()
    rows = _claim(db, now, limit)
    report.claimed = len(rows)
    for row in rows:
        started = time.monotonic()
        if row["removed_at"]:
            status, error, excerpt = None, "endpoint removed", ""
        else:
            # The signature's timestamp is the real time of sending: the receiver compares it
            # with its own clock to refuse replays.
            headers = sign(row["secret"], row["msg_id"], row["payload"], datetime.now(UTC))
            status, error, excerpt = _post(
                row["url"], headers, row["payload"], float(config["WEBHOOK_TIMEOUT_SECONDS"])
            )
        ok = status is not None and 200 <= status < 300
        delay = None if ok or row["removed_at"] else retry_delay(row["attempts"], config)
        with transaction(db):
            db.execute(
                "INSERT INTO webhook_attempts (delivery_id, attempt, at, status_code, error, response_excerpt, duration_ms)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    row["id"],
                    row["attempts"],
                    timestamp(now),
                    status,
                    error,
                    excerpt,
                    int((time.monotonic() - started) * 1000),
                ),
            )
            if ok:
                new_status, next_at = "delivered", row["next_attempt_at"]
            elif delay is None:
                new_status, next_at = "failed", row["next_attempt_at"]
            else:
                new_status, next_at = "pending", timestamp(now + timedelta(seconds=delay))
            db.execute(
                "UPDATE webhook_deliveries SET status = ?, next_attempt_at = ?, last_status_code = ?, last_error = ?,"
                " delivered_at = CASE WHEN ? THEN ? ELSE delivered_at END WHERE id = ? AND claim_token = ?",
                (new_status, next_at, status, error, ok, timestamp(now), row["id"], row["claim_token"]),
            )
        report.delivered += ok
        report.retrying += new_status == "pending"
        report.failed += new_status == "failed"
        if error:
            report.errors.append(f"{row['url']}: {error}")
    return report


def resend(db: sqlite_utils.Database, delivery_id: int, *, now: datetime | None = None) -> bool:
    """Queue a delivery again now (same webhook-id): after it failed, or to send it again."""
    now = now or utcnow()
    with transaction(db):
        cursor = db.execute(
            "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = ?, attempts = 0"
            " WHERE id = ? AND status != 'sending'"
            " AND endpoint_id IN (SELECT id FROM webhook_endpoints WHERE removed_at IS NULL)",
            (timestamp(now), delivery_id),
        )
    if cursor.rowcount and has_app_context():
        g.proofmark_integrations_work = True
    return bool(cursor.rowcount)


def delivery_log(db: sqlite_utils.Database, endpoint_id: int, *, limit: int = 100) -> list[dict]:
    """The endpoint's deliveries, newest first, each with its attempts."""
    rows = [
        dict(r)
        for r in db.execute(
            "SELECT d.*, m.msg_id, m.event_type, m.payload, p.public_id FROM webhook_deliveries d"
            " JOIN webhook_messages m ON m.id = d.message_id LEFT JOIN proofs p ON p.id = d.proof_id"
            " WHERE d.endpoint_id = ? ORDER BY d.id DESC LIMIT ?",
            (endpoint_id, limit),
        )
    ]
    for row in rows:
        row["attempt_log"] = [
            dict(a)
            for a in db.execute(
                "SELECT * FROM webhook_attempts WHERE delivery_id = ? ORDER BY id", (row["id"],)
            )
        ]
    return rows

"""Orders in: webhook deliveries from Shopify and WooCommerce.

`receive()` is what the web request does, and all it does: check the signature over the
raw body (before parsing it, in constant time), store the delivery exactly as received with
the result of that check, and answer. A delivery whose signature does not match is stored
(cut at 64 KiB), logged and answered 401; nothing else happens with it. A duplicate
(the same X-Shopify-Webhook-Id / X-WC-Webhook-Delivery-ID as one already accepted) is
stored as such and answered 200, so the platform stops retrying.

`process_due()` then takes accepted deliveries from the table (a durable queue, like the
mail outbox: claimed atomically, retried with backoff) and turns each order line that
carries personalization into exactly one proof through the proofs service: a line with
the embed's design token (`_proof_design`) becomes a proof at once; a line with only
`Personalization` text becomes a proof request that staff prepare (proofmark.integrations
.requests). `order_lines` remembers which line made what, so a delivery processed twice,
or the same order delivered under another id, makes nothing new.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlite_utils
from flask import current_app

from proofmark.db import transaction
from proofmark.records import canonical_json, sha256_hex, timestamp, utcnow

log = logging.getLogger("proofmark.integrations")

PLATFORMS = ("shopify", "woocommerce")
PLATFORM_NAMES = {"shopify": "Shopify", "woocommerce": "WooCommerce", "etsy": "Etsy"}
# What is kept of a delivery whose signature did not match: enough to investigate, not a
# place for anyone to store megabytes.
UNVERIFIED_BODY_KEEP = 64 * 1024
MAX_LINES = 500  # Shopify allows 250 line items per order; a larger list is not an order.
TOKEN_KEYS = ("_proof_design",)
TEXT_KEYS = ("Personalization", "Personalisation", "personalization")


@dataclass(frozen=True)
class PlatformSpec:
    signature_header: str
    topic_header: str
    id_header: str
    shop_header: str
    create_topics: tuple[str, ...]
    cancel_topics: tuple[str, ...]
    secrets_setting: str


SPECS = {
    "shopify": PlatformSpec(
        signature_header="X-Shopify-Hmac-Sha256",
        topic_header="X-Shopify-Topic",
        id_header="X-Shopify-Webhook-Id",
        shop_header="X-Shopify-Shop-Domain",
        create_topics=("orders/create",),
        cancel_topics=("orders/cancelled",),
        secrets_setting="SHOPIFY_WEBHOOK_SECRETS",
    ),
    "woocommerce": PlatformSpec(
        signature_header="X-WC-Webhook-Signature",
        topic_header="X-WC-Webhook-Topic",
        id_header="X-WC-Webhook-Delivery-ID",
        shop_header="X-WC-Webhook-Source",
        create_topics=("order.created",),
        cancel_topics=(),
        secrets_setting="WOOCOMMERCE_WEBHOOK_SECRETS",
    ),
}
KEPT_HEADERS = (
    "Content-Type",
    "User-Agent",
    "X-Shopify-Topic",
    "X-Shopify-Shop-Domain",
    "X-Shopify-Webhook-Id",
    "X-Shopify-Triggered-At",
    "X-Shopify-API-Version",
    "X-Shopify-Hmac-Sha256",
    "X-WC-Webhook-Topic",
    "X-WC-Webhook-Source",
    "X-WC-Webhook-Delivery-ID",
    "X-WC-Webhook-ID",
    "X-WC-Webhook-Resource",
    "X-WC-Webhook-Event",
    "X-WC-Webhook-Signature",
)


@dataclass(frozen=True)
class Received:
    """The answer to one delivery: HTTP status, a short message, the stored row's id."""

    status: int
    message: str
    delivery: int | None
    accepted: bool = False  # queued for processing


def configured_secrets(platform: str, config) -> list[str]:
    value = config.get(SPECS[platform].secrets_setting) or []
    if isinstance(value, str):
        value = [value]
    return [str(s) for s in value if s]


def signature_matches(body: bytes, header: str | None, shop_secrets: list[str]) -> bool:
    """Base64 HMAC-SHA256 of the raw body, compared in constant time with each configured
    secret (several while a secret is being rotated)."""
    if not header:
        return False
    given = header.strip().encode("ascii", "replace")
    found = False
    for secret in shop_secrets:
        expected = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest())
        found |= hmac.compare_digest(expected, given)
    return found


def _now_plus(now: datetime, seconds: float) -> str:
    return timestamp(now + timedelta(seconds=seconds))


def _store(db, **row) -> int:
    cursor = db.execute(
        f"INSERT INTO inbound_deliveries ({', '.join(row)}) VALUES ({', '.join(':' + k for k in row)})",
        row,
    )
    return cursor.lastrowid


def _shape_problem(platform: str, topic: str, payload) -> str | None:
    """Why this verified body is not an order we can read, or None."""
    if not isinstance(payload, dict):
        return "the body is JSON but not an object"
    if payload.get("id") in (None, ""):
        return "the order has no id"
    lines = payload.get("line_items")
    if not isinstance(lines, list):
        return "the order has no line_items list"
    if len(lines) > MAX_LINES:
        return f"the order has {len(lines)} line items (at most {MAX_LINES})"
    if not all(isinstance(line, dict) for line in lines):
        return "a line item is not an object"
    return None


def receive(
    db: sqlite_utils.Database,
    platform: str,
    body: bytes,
    headers,
    *,
    remote_addr: str | None = None,
    now: datetime | None = None,
) -> Received:
    """Check, store and answer one webhook delivery (see the module docstring)."""
    spec = SPECS[platform]
    now = now or utcnow()
    kept = {name: headers.get(name) for name in KEPT_HEADERS if headers.get(name) is not None}
    topic = (headers.get(spec.topic_header) or "").strip()[:100] or None
    delivery_id = (headers.get(spec.id_header) or "").strip()[:200] or None
    shop = (headers.get(spec.shop_header) or "").strip()[:300] or None
    shop_secrets = configured_secrets(platform, current_app.config)
    base = {
        "platform": platform,
        "delivery_id": delivery_id,
        "topic": topic,
        "shop": shop,
        "headers": canonical_json(kept),
        "body_sha256": sha256_hex(body),
        "body_bytes": len(body),
        "remote_addr": remote_addr,
        "received_at": timestamp(now),
    }
    if not shop_secrets or not signature_matches(body, headers.get(spec.signature_header), shop_secrets):
        why = (
            f"no {spec.secrets_setting} configured"
            if not shop_secrets
            else (
                f"{spec.signature_header} missing"
                if not headers.get(spec.signature_header)
                else "signature mismatch"
            )
        )
        with transaction(db):
            row_id = _store(
                db, **base, body=body[:UNVERIFIED_BODY_KEEP], verified=0, verification=why, status="rejected"
            )
        log.warning(
            "%s webhook #%s refused (%s): topic=%s shop=%s from %s",
            platform,
            row_id,
            why,
            topic,
            shop,
            remote_addr,
        )
        return Received(401, f"Signature not accepted ({why}).", row_id)

    verified = {**base, "body": body, "verified": 1, "verification": "signature matches"}
    try:
        payload = json.loads(body)
        problem = None
    except (ValueError, UnicodeDecodeError) as exc:
        payload, problem = None, f"the body is not JSON ({exc})"
    if problem and platform == "woocommerce" and re.fullmatch(rb"webhook_id=\d+", body.strip()):
        # WooCommerce's ping when a webhook is saved: nothing to do, but it must get a 200.
        with transaction(db):
            row_id = _store(db, **verified, status="ignored", outcome=canonical_json({"ping": True}))
        return Received(200, "Ping received.", row_id)
    handled = spec.create_topics + spec.cancel_topics
    if problem is None and topic in handled:
        problem = _shape_problem(platform, topic, payload)
    if problem:
        with transaction(db):
            row_id = _store(db, **verified, status="rejected", outcome=canonical_json({"error": problem}))
        log.warning("%s webhook #%s malformed: %s", platform, row_id, problem)
        return Received(400, f"Malformed delivery: {problem}.", row_id)
    with transaction(db):
        original = None
        if delivery_id:
            original = db.execute(
                "SELECT id FROM inbound_deliveries WHERE platform = ? AND delivery_id = ? AND verified = 1"
                " AND status NOT IN ('rejected', 'duplicate') ORDER BY id LIMIT 1",
                (platform, delivery_id),
            ).fetchone()
        if original is not None:
            row_id = _store(db, **verified, status="duplicate", duplicate_of=original[0])
            return Received(200, f"Already received as delivery #{original[0]}.", row_id)
        if topic not in handled:
            row_id = _store(
                db,
                **verified,
                status="ignored",
                outcome=canonical_json({"note": f"topic {topic!r} not used"}),
            )
            return Received(200, f"Topic {topic!r} is not used; ignored.", row_id)
        row_id = _store(db, **verified, status="pending", next_attempt_at=timestamp(now))
    return Received(200, "Received.", row_id, accepted=True)


# --- reading orders ------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderLine:
    line_id: str
    title: str
    token: str | None
    personalization: str | None


@dataclass(frozen=True)
class Order:
    order_id: str
    order_ref: str
    customer_name: str
    customer_email: str
    lines: tuple[OrderLine, ...]


def _text(value) -> str:
    return "" if value is None else str(value)


def _properties(items) -> dict[str, str]:
    """Shopify `properties` ([{name, value}], older payloads a dict) or WooCommerce
    `meta_data` ([{key, value}]) as one dict; the first value of a name wins."""
    found: dict[str, str] = {}
    if isinstance(items, dict):
        items = [{"name": k, "value": v} for k, v in items.items()]
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        name = item.get("name", item.get("key"))
        if isinstance(name, str) and name not in found and isinstance(item.get("value"), str | int | float):
            found[name] = _text(item.get("value"))
    return found


def _first(props: dict[str, str], keys) -> str | None:
    for key in keys:
        if props.get(key, "") != "":
            return props[key]
    return None


def _name(*candidates) -> str:
    for candidate in candidates:
        if isinstance(candidate, dict):
            name = " ".join(_text(candidate.get(k)).strip() for k in ("first_name", "last_name")).strip()
            name = name or _text(candidate.get("name")).strip()
        else:
            name = _text(candidate).strip()
        if name:
            return name
    return ""


def read_order(platform: str, payload: dict) -> Order:
    lines = []
    for line in payload.get("line_items") or []:
        props = _properties(line.get("properties") if platform == "shopify" else line.get("meta_data"))
        lines.append(
            OrderLine(
                line_id=_text(line.get("id")),
                title=_text(line.get("title") or line.get("name"))[:300],
                token=_first(props, TOKEN_KEYS),
                personalization=_first(props, TEXT_KEYS),
            )
        )
    if platform == "shopify":
        customer = payload.get("customer") if isinstance(payload.get("customer"), dict) else {}
        name = _name(customer, payload.get("billing_address"), payload.get("shipping_address"))
        email = _text(payload.get("email") or payload.get("contact_email") or customer.get("email"))
        ref = _text(payload.get("name") or payload.get("order_number") or payload.get("id"))
    else:
        billing = payload.get("billing") if isinstance(payload.get("billing"), dict) else {}
        name = _name(billing, payload.get("shipping"))
        email = _text(billing.get("email"))
        ref = "#" + _text(payload.get("number") or payload.get("id"))
    return Order(_text(payload.get("id")), ref.strip(), name, email.strip(), tuple(lines))


# --- processing from the queue ----------------------------------------------------------------


@dataclass
class ProcessReport:
    claimed: int = 0
    done: int = 0
    retrying: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return f"{self.claimed} received deliveries due, {self.done} processed, {self.retrying} to retry, {self.failed} given up"


def _claim(db, now: datetime, limit: int) -> list[dict]:
    claim = secrets.token_hex(8)
    stale = timestamp(now - timedelta(seconds=int(current_app.config["INBOUND_PROCESSING_TIMEOUT_SECONDS"])))
    due_sql = (
        "SELECT id FROM inbound_deliveries WHERE (status = 'pending' AND next_attempt_at <= ?)"
        " OR (status = 'processing' AND claimed_at <= ?) ORDER BY id LIMIT ?"
    )
    if db.execute(due_sql, (timestamp(now), stale, 1)).fetchone() is None:
        return []
    with transaction(db):
        ids = [r[0] for r in db.execute(due_sql, (timestamp(now), stale, limit))]
        if ids:
            db.execute(
                f"UPDATE inbound_deliveries SET status = 'processing', claimed_at = ?, claim_token = ?,"
                f" attempts = attempts + 1 WHERE id IN ({','.join('?' * len(ids))})",
                (timestamp(now), claim, *ids),
            )
    return [
        dict(r)
        for r in db.execute("SELECT * FROM inbound_deliveries WHERE claim_token = ? ORDER BY id", (claim,))
    ]


def process_due(db: sqlite_utils.Database, *, now: datetime | None = None, limit: int = 20) -> ProcessReport:
    """Process accepted deliveries that are due. Call inside an app context."""
    now = now or utcnow()
    report = ProcessReport()
    rows = _claim(db, now, limit)
    report.claimed = len(rows)
    config = current_app.config
    for row in rows:
        try:
            outcome = process(db, row, now=now)
        except Exception as exc:  # noqa: BLE001 - recorded on the delivery and retried
            give_up = row["attempts"] >= int(config["INBOUND_MAX_ATTEMPTS"])
            wait = min(
                int(config["INBOUND_RETRY_MAX_SECONDS"]),
                int(config["INBOUND_RETRY_BASE_SECONDS"]) * 2 ** max(row["attempts"] - 1, 0),
            )
            error = f"{type(exc).__name__}: {exc}"[:1000]
            log.exception("processing %s delivery #%s failed", row["platform"], row["id"])
            with transaction(db):
                db.execute(
                    "UPDATE inbound_deliveries SET status = ?, next_attempt_at = ?, last_error = ?"
                    " WHERE id = ? AND claim_token = ?",
                    (
                        "failed" if give_up else "pending",
                        _now_plus(now, wait),
                        error,
                        row["id"],
                        row["claim_token"],
                    ),
                )
            report.failed += give_up
            report.retrying += not give_up
            report.errors.append(error)
            continue
        with transaction(db):
            db.execute(
                "UPDATE inbound_deliveries SET status = 'done', outcome = ?, processed_at = ?, last_error = NULL"
                " WHERE id = ? AND claim_token = ?",
                (canonical_json(outcome), timestamp(now), row["id"], row["claim_token"]),
            )
        report.done += 1
    return report


def process(db: sqlite_utils.Database, row: dict, *, now: datetime) -> dict:
    """What one accepted delivery does; safe to run again (every line is looked up first)."""
    platform, spec = row["platform"], SPECS[row["platform"]]
    payload = json.loads(row["body"])
    order = read_order(platform, payload)
    shop = row["shop"] or ""
    if row["topic"] in spec.cancel_topics:
        return {"order_ref": order.order_ref, "lines": cancel_order(db, platform, shop, order, now=now)}
    results = []
    for line in order.lines:
        results.append(_process_line(db, platform, shop, order, line, delivery=row["id"], now=now))
    return {"order_ref": order.order_ref, "lines": results}


def _existing_line(db, platform: str, shop: str, order_id: str, line_id: str):
    return db.execute(
        "SELECT proof_id, request_id FROM order_lines WHERE platform = ? AND shop = ? AND order_id = ? AND line_id = ?",
        (platform, shop, order_id, line_id),
    ).fetchone()


def _process_line(db, platform: str, shop: str, order: Order, line: OrderLine, *, delivery: int, now) -> dict:
    from proofmark import proofs
    from proofmark.integrations import requests as proof_requests

    result = {"line_id": line.line_id, "title": line.title}
    if line.token is None and line.personalization is None:
        return {**result, "outcome": "not personalized"}
    existing = _existing_line(db, platform, shop, order.order_id, line.line_id)
    if existing is not None:
        return {**result, "outcome": "already handled", "proof_id": existing[0], "request_id": existing[1]}
    note = None
    if line.token is not None:
        try:
            proof_id = proofs.create_proof(
                db,
                order_ref=order.order_ref,
                customer_name=order.customer_name,
                customer_email=order.customer_email,
                design=None,
                design_token=line.token,
                source=platform,
                actor=f"{platform}:{shop or 'shop'}",
                now=now,
            )
        except proofs.ProofError as exc:
            note = f"The order line's design could not become a proof: {exc}"
        else:
            with transaction(db):
                if _existing_line(db, platform, shop, order.order_id, line.line_id) is None:
                    _link_line(db, platform, shop, order, line, delivery, now, proof_id=proof_id)
            return {**result, "outcome": "proof created", "proof_id": proof_id}
    with transaction(db):
        if _existing_line(db, platform, shop, order.order_id, line.line_id) is not None:
            return {**result, "outcome": "already handled"}
        request_id = proof_requests.create(
            db,
            source=platform,
            order_ref=order.order_ref,
            customer_name=order.customer_name,
            customer_email=order.customer_email,
            item_title=line.title,
            personalization=line.personalization or "",
            note=note or "The order line carries personalization text but no design the customer confirmed.",
            created_by=f"{platform}:{shop or 'shop'}",
            delivery_id=delivery,
            now=now,
        )
        _link_line(db, platform, shop, order, line, delivery, now, request_id=request_id)
    return {**result, "outcome": "proof to prepare", "request_id": request_id, "note": note}


def _link_line(db, platform, shop, order: Order, line: OrderLine, delivery: int, now, **made) -> None:
    db.execute(
        "INSERT INTO order_lines (platform, shop, order_id, line_id, proof_id, request_id, delivery_id, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            platform,
            shop,
            order.order_id,
            line.line_id,
            made.get("proof_id"),
            made.get("request_id"),
            delivery,
            timestamp(now),
        ),
    )


def cancel_order(db, platform: str, shop: str, order: Order, *, now) -> list[dict]:
    from proofmark import proofs

    results = []
    rows = list(
        db.execute(
            "SELECT line_id, proof_id, request_id FROM order_lines WHERE platform = ? AND shop = ? AND order_id = ?"
            " ORDER BY id",
            (platform, shop, order.order_id),
        )
    )
    for row in rows:
        if row["proof_id"] is not None:
            cancelled = proofs.cancel(
                db,
                row["proof_id"],
                actor=f"{platform}:{shop or 'shop'}",
                reason=f"The order was cancelled in {PLATFORM_NAMES[platform]}.",
                now=now,
            )
            results.append({"line_id": row["line_id"], "proof_id": row["proof_id"], "cancelled": cancelled})
        elif row["request_id"] is not None:
            with transaction(db):
                cursor = db.execute(
                    "UPDATE proof_requests SET status = 'dismissed', updated_at = ?, note = ?"
                    " WHERE id = ? AND status = 'to_prepare'",
                    (
                        timestamp(now),
                        f"The order was cancelled in {PLATFORM_NAMES[platform]}.",
                        row["request_id"],
                    ),
                )
            results.append(
                {
                    "line_id": row["line_id"],
                    "request_id": row["request_id"],
                    "dismissed": bool(cursor.rowcount),
                }
            )
    return results


def recent(db: sqlite_utils.Database, *, limit: int = 100) -> list[dict]:
    """The latest deliveries for staff, without their bodies."""
    rows = []
    for r in db.execute(
        "SELECT id, platform, delivery_id, topic, shop, body_bytes, verified, verification, status, attempts,"
        " outcome, last_error, duplicate_of, remote_addr, received_at, processed_at"
        " FROM inbound_deliveries ORDER BY id DESC LIMIT ?",
        (limit,),
    ):
        row = dict(r)
        row["outcome"] = json.loads(row["outcome"]) if row["outcome"] else None
        rows.append(row)
    return rows

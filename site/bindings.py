"""The rows that are not events, checked against the events that made them.

The event log (keyed in proofmark.ledger) is the record. The `proofs`, `revisions`, `outbox`
and `claims` tables are the current state, written in the same transaction as the events;
each fact in them that matters is also in an event: a proof's status follows from its
events, a revision's design and text are in its `revision_added` event and its image hash in
that event (revisions made before images were rendered in the background) or in its
`image_rendered` event (an image not yet rendered is '' with neither), an
email's whole message is bound by its SHA-256 in its `email_queued` event, a claim is in its
`claim_recorded` and `claim_decided` events. `check_proof` replays the events and names every
row that disagrees, so changing any of them alone (even with the triggers dropped) is found.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import sqlite_utils

from proofmark import mail as outbox
from proofmark.records import canonical_json, sha256_hex

# The status a proof has after each kind of event (kinds not listed leave it as it was).
STATUS_AFTER = {
    "proof_created": "awaiting_approval",
    "revision_added": "awaiting_approval",
    "resent": "awaiting_approval",
    "approved": "approved",
    "changes_requested": "changes_requested",
    "expired": "expired",
    "cancelled": "cancelled",
}


BINDING_KINDS = {
    "proof_created",
    "revision_added",
    "image_rendered",
    "email_queued",
    "claim_recorded",
    "claim_decided",
}


@dataclass(frozen=True)
class Mismatch:
    table: str
    message: str
    row_id: int | None = None


def _data(row) -> dict:
    try:
        value = json.loads(row["data"])
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _differs(label: str, stored, recorded) -> str:
    return f"{label} is {stored!r} but the log recorded {recorded!r}"


def _image_logged(added: dict, rendered: list[dict]) -> str:
    """The image hash the log gives a revision: its `image_rendered` event's, else the one in
    `revision_added` (older revisions), else '' (not rendered yet)."""
    if rendered:
        return rendered[0].get("image_sha256")
    return added.get("image_sha256") or ""


def check_proof(db: sqlite_utils.Database, proof_id: int, app=None) -> list[Mismatch]:
    found: list[Mismatch] = []
    proof = db.execute("SELECT * FROM proofs WHERE id = ?", (proof_id,)).fetchone()
    # Only the kinds that made rows are parsed (views, sends and notes are most of a log).
    events = [
        (r["kind"], _data(r) if r["kind"] in BINDING_KINDS else {}, r)
        for r in db.execute("SELECT * FROM events WHERE proof_id = ? ORDER BY seq", (proof_id,))
    ]
    if proof is None:
        if events:
            found.append(Mismatch("proofs", f"proof {proof_id} has events but its row was deleted", proof_id))
        return found

    if not events:
        found.append(
            Mismatch("proofs", "the proof has no events at all (all of them were deleted)", proof_id)
        )
        return found

    # The proof row: status and current revision replayed from the events; the customer and
    # order as created.
    status, current = None, 0
    created = None
    for kind, data, _row in events:
        status = STATUS_AFTER.get(kind, status)
        if kind == "proof_created" and created is None:
            created = data
        if kind == "revision_added" and isinstance(data.get("revision"), int):
            current = data["revision"]
    if status is not None and proof["status"] != status:
        found.append(
            Mismatch(
                "proofs",
                _differs("the proof's status", proof["status"], status) + " (set without an event)",
                proof_id,
            )
        )
    if events and proof["current_revision"] != current:
        found.append(
            Mismatch(
                "proofs",
                _differs("the proof's current revision", proof["current_revision"], current),
                proof_id,
            )
        )
    if created is not None:
        for column in ("order_ref", "customer_name", "customer_email", "public_id"):
            if column in created and proof[column] != created[column]:
                found.append(
                    Mismatch(
                        "proofs", _differs(f"the proof's {column}", proof[column], created[column]), proof_id
                    )
                )
    elif events:
        found.append(Mismatch("proofs", "the log has no 'proof_created' event for this proof", proof_id))

    # Revisions against their revision_added events.
    logged = {d.get("revision"): d for k, d, _ in events if k == "revision_added"}
    images: dict = {}
    for kind, data, _row in events:
        if kind == "image_rendered":
            images.setdefault(data.get("revision"), []).append(data)
    rows = {r["number"]: r for r in db.execute("SELECT * FROM revisions WHERE proof_id = ?", (proof_id,))}
    for number, rev in rows.items():
        data = logged.get(number)
        if data is None:
            found.append(
                Mismatch(
                    "revisions", f"revision {number} is not in the log (added without an event)", rev["id"]
                )
            )
            continue
        checks = (
            ("design", rev["design"], canonical_json(data.get("design"))),
            ("design SHA-256", rev["design_sha256"], data.get("design_sha256")),
            ("text", rev["text"], data.get("text")),
            ("image SHA-256", rev["image_sha256"], _image_logged(data, images.get(number, []))),
            ("renderer version", rev["renderer_version"], data.get("renderer_version")),
        )
        for label, stored, recorded in checks:
            if stored != recorded:
                found.append(
                    Mismatch(
                        "revisions", f"revision {number}: " + _differs(label, stored, recorded), rev["id"]
                    )
                )
        if rev["design_sha256"] and sha256_hex(rev["design"]) != rev["design_sha256"]:
            found.append(
                Mismatch(
                    "revisions",
                    f"revision {number}: its design does not hash to its design SHA-256",
                    rev["id"],
                )
            )
    for number, rendered in images.items():
        if len(rendered) > 1:
            found.append(
                Mismatch("revisions", f"revision {number}: its image was logged {len(rendered)} times")
            )
        if rendered and logged.get(number, {}).get("image_sha256"):
            found.append(Mismatch("revisions", f"revision {number}: its image was logged twice"))
        if rendered and number not in logged:
            found.append(
                Mismatch("revisions", f"revision {number}: an image was logged for a revision never added")
            )
    for number in logged:
        if number not in rows:
            found.append(Mismatch("revisions", f"revision {number} is in the log but its row was deleted"))

    # Every outbound email against its email_queued event (whole message by SHA-256).
    queued = {d.get("outbox_id"): d for k, d, _ in events if k == "email_queued"}
    mails = {
        r["id"]: r
        for r in db.execute(
            "SELECT id, kind, to_addr, subject, message, message_images FROM outbox WHERE proof_id = ?",
            (proof_id,),
        )
    }
    for mail_id, mail in mails.items():
        data = queued.get(mail_id)
        if data is None:
            found.append(
                Mismatch(
                    "outbox",
                    f"email {mail_id} ({mail['kind']}) is not in the log (queued without an event)",
                    mail_id,
                )
            )
            continue
        # The message as sent: the row's bytes with its images put back from the store.
        try:
            digest = sha256_hex(outbox.message_bytes(mail, app))
        except outbox.MessageImageError as exc:
            found.append(Mismatch("outbox", f"email {mail_id} ({mail['kind']}): {exc}", mail_id))
            digest = None
        if digest is not None and "message_sha256" in data and digest != data["message_sha256"]:
            found.append(
                Mismatch(
                    "outbox",
                    f"email {mail_id} ({mail['kind']}): the stored message was changed after it was "
                    "queued (its SHA-256 differs from the one logged)",
                    mail_id,
                )
            )
        for label, stored, recorded in (
            ("recipient", mail["to_addr"], data.get("to")),
            ("subject", mail["subject"], data.get("subject")),
            ("kind", mail["kind"], data.get("kind")),
        ):
            if stored != recorded:
                found.append(
                    Mismatch("outbox", f"email {mail_id}: " + _differs(label, stored, recorded), mail_id)
                )
    for mail_id, data in queued.items():
        if mail_id not in mails:
            found.append(
                Mismatch(
                    "outbox",
                    f"email {mail_id} ({data.get('kind')}) is in the log but was deleted from the outbox",
                )
            )

    # Claims against claim_recorded / claim_decided.
    recorded = {d.get("claim_id"): (d, r) for k, d, r in events if k == "claim_recorded"}
    decided = {d.get("claim_id"): (d, r) for k, d, r in events if k == "claim_decided"}
    claims = {r["id"]: r for r in db.execute("SELECT * FROM claims WHERE proof_id = ?", (proof_id,))}
    for claim_id, claim in claims.items():
        entry = recorded.get(claim_id)
        if entry is None:
            found.append(
                Mismatch(
                    "claims", f"claim {claim_id} is not in the log (recorded without an event)", claim_id
                )
            )
            continue
        data, row = entry
        checks = [
            (column, claim[column], data.get(column))
            for column in (
                "kind",
                "description",
                "expected_text",
                "expected_font",
                "outcome",
                "reason",
                "approved_revision",
            )
        ]
        checks.append(("recorded_by", claim["recorded_by"], row["actor"]))
        decision = decided.get(claim_id)
        if decision is None:
            checks += [("status", claim["status"], "open"), ("resolution", claim["resolution"], None)]
        else:
            ddata, drow = decision
            checks += [
                ("status", claim["status"], "decided"),
                ("resolution", claim["resolution"], ddata.get("resolution")),
                ("decision_note", claim["decision_note"], ddata.get("note")),
                ("decided_by", claim["decided_by"], drow["actor"]),
            ]
        for column, stored, logged_value in checks:
            if stored != logged_value:
                found.append(
                    Mismatch(
                        "claims", f"claim {claim_id}: " + _differs(column, stored, logged_value), claim_id
                    )
                )
    for claim_id in recorded:
        if claim_id not in claims:
            found.append(Mismatch("claims", f"claim {claim_id} is in the log but its row was deleted"))
    return found

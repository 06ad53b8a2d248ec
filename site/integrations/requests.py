"""Proofs to prepare: personalization that reached the shop as text, without a design the
customer confirmed in the personalizer (a Shopify or WooCommerce line with only a
`Personalization` property, an Etsy order whose text staff paste in).

The text is kept exactly as it arrived, byte for byte, and shown to staff with every
character that does not draw itself made visible (`visible_characters`), so that what the
customer typed, a pasted zero-width space included, is what staff see. Staff then choose
the product and font and type the design; `prepare()` makes the proof through the proofs
service and links the request to it.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime

import sqlite_utils

from proofmark.db import transaction
from proofmark.proofs import rules
from proofmark.proofs.errors import ProofError
from proofmark.records import append_event, timestamp, utcnow

MAX_PERSONALIZATION = 20_000
SOURCES = ("shopify", "woocommerce", "etsy")
# Characters that look like nothing or like a plain space; each is shown by name.
SPACES = {
    " ": "SPACE",
    "\u00a0": "NO-BREAK SPACE",
    "\t": "TAB",
}


@dataclass(frozen=True)
class Shown:
    """One character of pasted text as staff see it: `char` drawn as itself, or `label`
    (a badge naming it) when it would not be seen."""

    char: str
    label: str | None = None
    newline: bool = False


def visible_characters(text: str) -> list[Shown]:
    """Every character of `text`, with the invisible, spacing and control ones named."""
    out = []
    for char in text:
        if char == "\n":
            out.append(Shown(char, "LINE BREAK", newline=True))
            continue
        if char == "\r":
            out.append(Shown(char, "CARRIAGE RETURN"))
            continue
        category = unicodedata.category(char)
        if char in SPACES:
            out.append(Shown(char, SPACES[char]))
        elif (
            category in ("Cc", "Cf", "Cn", "Co", "Cs", "Zl", "Zp", "Zs", "Mn", "Me")
            or char in rules.INVISIBLE_LETTERS
        ):
            name = unicodedata.name(char, "") or "UNNAMED"
            label = f"U+{ord(char):04X} {name}"
            # A combining mark is drawn on the letter before it: show it in place and name it.
            out.append(Shown(char, label))
        else:
            out.append(Shown(char))
    return out


def hidden_count(text: str) -> int:
    return sum(1 for s in visible_characters(text) if s.label and s.char not in (" ", "\n"))


def create(
    db: sqlite_utils.Database,
    *,
    source: str,
    order_ref: str,
    customer_name: str,
    customer_email: str,
    personalization: str,
    created_by: str,
    item_title: str | None = None,
    note: str | None = None,
    delivery_id: int | None = None,
    now: datetime | None = None,
) -> int:
    """Store a proof request. The personalization is stored exactly as given; the order
    fields as the platform or staff gave them (checked only when the proof is made)."""
    if source not in SOURCES:
        raise ProofError(f"Unknown source {source!r}.")
    if len(personalization) > MAX_PERSONALIZATION:
        raise ProofError(f"The personalization is too long (at most {MAX_PERSONALIZATION} characters).")
    now = now or utcnow()
    with transaction(db):
        cursor = db.execute(
            "INSERT INTO proof_requests (source, order_ref, customer_name, customer_email, item_title,"
            " personalization, note, status, delivery_id, created_by, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, 'to_prepare', ?, ?, ?, ?)",
            (
                source,
                str(order_ref)[:200],
                str(customer_name)[:400],
                str(customer_email)[:400],
                item_title,
                personalization,
                note,
                delivery_id,
                created_by,
                timestamp(now),
                timestamp(now),
            ),
        )
    return cursor.lastrowid


def create_from_paste(
    db: sqlite_utils.Database,
    *,
    order_ref: str,
    customer_name: str,
    customer_email: str,
    personalization: str,
    actor: str,
    now: datetime | None = None,
) -> int:
    """An Etsy (or other marketplace) order that staff paste in. The order fields are checked
    now (staff can correct them); the personalization is kept exactly as pasted."""
    if not personalization.strip():
        raise ProofError("Paste the order's personalization text.", "personalization")
    return create(
        db,
        source="etsy",
        order_ref=rules.clean_order_ref(order_ref),
        customer_name=rules.clean_name(customer_name),
        customer_email=rules.clean_email(customer_email),
        personalization=personalization,
        created_by=actor,
        note="Pasted from the marketplace order by staff.",
        now=now,
    )


def get(db: sqlite_utils.Database, request_id: int) -> dict | None:
    row = db.execute("SELECT * FROM proof_requests WHERE id = ?", (request_id,)).fetchone()
    return dict(row) if row else None


def to_prepare(db: sqlite_utils.Database, *, limit: int = 200) -> list[dict]:
    return [
        dict(r)
        for r in db.execute(
            "SELECT * FROM proof_requests WHERE status IN ('to_prepare', 'preparing') ORDER BY created_at, id LIMIT ?",
            (limit,),
        )
    ]


def prepare(
    db: sqlite_utils.Database,
    request_id: int,
    *,
    design,
    order_ref: str,
    customer_name: str,
    customer_email: str,
    actor: str,
    ip: str | None = None,
    user_agent: str | None = None,
    now: datetime | None = None,
) -> int:
    """Make the proof for a request (the proofs service renders it and emails the customer).
    Returns the proof id; a request already prepared returns its proof and makes nothing."""
    from proofmark import proofs

    request = get(db, request_id)
    if request is None:
        raise ProofError(f"There is no proof request #{request_id}.")
    if request["status"] == "prepared":
        return request["proof_id"]
    # Taken for this call first: a double click or a second member of staff makes no second proof.
    with transaction(db):
        taken = db.execute(
            "UPDATE proof_requests SET status = 'preparing' WHERE id = ? AND status = 'to_prepare'",
            (request_id,),
        ).rowcount
    if not taken:
        current = get(db, request_id)
        if current["status"] == "prepared":
            return current["proof_id"]
        if current["status"] == "preparing":
            raise ProofError(
                "This proof is being prepared right now (by another click or another member of staff)."
            )
        raise ProofError("This request was dismissed (its order was cancelled).")
    try:
        proof_id = proofs.create_proof(
            db,
            order_ref=order_ref,
            customer_name=customer_name,
            customer_email=customer_email,
            design=design,
            source=request["source"],
            actor=actor,
            ip=ip,
            user_agent=user_agent,
            now=now,
        )
    except BaseException:
        with transaction(db):
            db.execute(
                "UPDATE proof_requests SET status = 'to_prepare' WHERE id = ? AND status = 'preparing'",
                (request_id,),
            )
        raise
    now = now or utcnow()
    with transaction(db):
        db.execute(
            "UPDATE proof_requests SET status = 'prepared', proof_id = ?, updated_at = ? WHERE id = ?",
            (proof_id, timestamp(now), request_id),
        )
        # What the customer wrote, as it reached the shop, joins the proof's record.
        append_event(
            db,
            proof_id,
            "personalization_received",
            actor=actor,
            ip=ip,
            user_agent=user_agent,
            at=now,
            data={
                "request_id": request_id,
                "source": request["source"],
                "order_ref": request["order_ref"],
                "item_title": request["item_title"],
                "personalization": request["personalization"],
                "received_at": request["created_at"],
            },
        )
        db.execute("UPDATE order_lines SET proof_id = ? WHERE request_id = ?", (proof_id, request_id))
    return proof_id


def for_proof(db: sqlite_utils.Database, proof_id: int) -> dict | None:
    row = db.execute("SELECT * FROM proof_requests WHERE proof_id = ?", (proof_id,)).fetchone()
    return dict(row) if row else None

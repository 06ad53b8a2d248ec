"""Reading proofs, their revisions, events and emails. Proofs and revisions come back as
the typed values of proofmark.proofs.model; events and outbox rows as dicts."""

from __future__ import annotations

import json

import sqlite_utils

from proofmark.proofs.errors import ProofNotFound
from proofmark.proofs.model import Proof, Revision


def get_proof(db: sqlite_utils.Database, proof_id: int) -> Proof | None:
    """The proof, with `revision`: its current revision."""
    row = db.execute("SELECT * FROM proofs WHERE id = ?", (proof_id,)).fetchone()
    if row is None:
        return None
    return Proof.from_row(row, get_revision(db, proof_id, row["current_revision"]))


def load(db: sqlite_utils.Database, proof_id: int) -> Proof:
    """get_proof(), or ProofNotFound."""
    proof = get_proof(db, proof_id)
    if proof is None:
        raise ProofNotFound(f"There is no proof #{proof_id}.")
    return proof


def get_proof_by_public_id(db: sqlite_utils.Database, public_id: str) -> Proof | None:
    row = db.execute("SELECT id FROM proofs WHERE public_id = ?", (public_id,)).fetchone()
    return get_proof(db, row[0]) if row else None


def find_by_design_token(db: sqlite_utils.Database, nonce: str) -> int | None:
    row = db.execute("SELECT id FROM proofs WHERE design_token_nonce = ?", (nonce,)).fetchone()
    return row[0] if row else None


def get_revisions(db: sqlite_utils.Database, proof_id: int) -> list[Revision]:
    """Oldest first; each with `superseded` (a newer revision replaced it)."""
    rows = list(db.execute("SELECT * FROM revisions WHERE proof_id = ? ORDER BY number", (proof_id,)))
    last = rows[-1]["number"] if rows else 0
    return [Revision.from_row(row, superseded=row["number"] != last) for row in rows]


def get_revision(db: sqlite_utils.Database, proof_id: int, number: int) -> Revision | None:
    row = db.execute(
        "SELECT * FROM revisions WHERE proof_id = ? AND number = ?", (proof_id, number)
    ).fetchone()
    return Revision.from_row(row) if row else None


def get_events(db: sqlite_utils.Database, proof_id: int) -> list[dict]:
    events = []
    for row in db.execute("SELECT * FROM events WHERE proof_id = ? ORDER BY seq", (proof_id,)):
        event = dict(row)
        event["data"] = json.loads(event["data"])
        events.append(event)
    return events


def outbox_for(db: sqlite_utils.Database, proof_id: int) -> list[dict]:
    return [
        dict(r)
        for r in db.execute(
            "SELECT id, kind, to_addr, subject, message_id, status, attempts, next_attempt_at, last_error,"
            " created_at, sent_at, revision, link_id FROM outbox WHERE proof_id = ? ORDER BY id",
            (proof_id,),
        )
    ]

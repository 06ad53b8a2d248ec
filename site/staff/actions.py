"""Staff actions that are not proof-service calls: internal notes and return claims. Each is
an event in the proof's log with the staff member as actor, written in one transaction
with its table row."""

from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils
from babel.numbers import format_decimal
from flask_babel import get_locale, gettext

from proofmark.claims import Assessment, Claim, resolution
from proofmark.db import transaction
from proofmark.records import append_event, timestamp

# Internal notes and decision explanations go into the permanent event log (and into
# evidence packs): long enough for a phone call's summary, not for a pasted document.
MAX_NOTE = 4000
MAX_DECISION_NOTE = 2000


class ActionError(ValueError):
    """A plain-language reason the action was refused."""


@dataclass(frozen=True)
class Who:
    actor: str
    ip: str | None = None
    user_agent: str | None = None


def _proof_exists(db: sqlite_utils.Database, proof_id: int) -> None:
    if not db.execute("SELECT 1 FROM proofs WHERE id = ?", (proof_id,)).fetchone():
        raise ActionError(gettext("There is no proof #%(id)s.", id=proof_id))


def _check_text(text: str, what: str, limit: int) -> str:
    text = (text or "").replace("\r\n", "\n").strip()
    if len(text) > limit:
        raise ActionError(
            gettext(
                "%(what)s is too long: %(count)s characters, at most %(max)s.",
                what=what,
                count=format_decimal(len(text), locale=get_locale() or "en"),
                max=format_decimal(limit, locale=get_locale() or "en"),
            )
        )
    if any((ord(c) < 32 and c not in "\n\t") or ord(c) == 127 for c in text):
        raise ActionError(
            gettext("%(what)s contains a control character; retype it without pasting.", what=what)
        )
    return text


def add_note(db: sqlite_utils.Database, proof_id: int, text: str, who: Who) -> dict:
    text = _check_text(text, gettext("The note"), MAX_NOTE)
    if not text:
        raise ActionError(gettext("The note is empty."))
    with transaction(db):
        _proof_exists(db, proof_id)
        return append_event(
            db,
            proof_id,
            "note_added",
            actor=who.actor,
            data={"note": text},
            ip=who.ip,
            user_agent=who.user_agent,
        )


def record_claim(
    db: sqlite_utils.Database, proof_id: int, claim: Claim, assessment: Assessment, who: Who
) -> int:
    now = timestamp()
    with transaction(db):
        _proof_exists(db, proof_id)
        cursor = db.execute(
            "INSERT INTO claims (proof_id, kind, description, expected_text, expected_font, outcome, reason,"
            " approved_revision, recorded_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                proof_id,
                claim.kind,
                claim.description,
                claim.expected_text or None,
                claim.expected_font or None,
                assessment.outcome,
                assessment.reason,
                assessment.approved_revision,
                who.actor,
                now,
            ),
        )
        claim_id = cursor.lastrowid
        append_event(
            db,
            proof_id,
            "claim_recorded",
            actor=who.actor,
            ip=who.ip,
            user_agent=who.user_agent,
            data={
                "claim_id": claim_id,
                "kind": claim.kind,
                "description": claim.description,
                "expected_text": claim.expected_text or None,
                "expected_font": claim.expected_font or None,
                "item_matches_proof": claim.item_matches_proof,
                "outcome": assessment.outcome,
                "reason": assessment.reason,
                "notes": assessment.notes,
                "approved_revision": assessment.approved_revision,
            },
        )
    return claim_id


def decide_claim(
    db: sqlite_utils.Database, claim_id: int, resolution_id: str, note: str, configured: list[dict], who: Who
) -> dict:
    chosen = resolution(resolution_id, configured)
    if chosen is None:
        raise ActionError(gettext("Choose one of the resolutions offered."))
    note = _check_text(note, gettext("The explanation"), MAX_DECISION_NOTE)
    if chosen["explain"] and not note:
        raise ActionError(f"“{chosen['label']}” needs an explanation for the customer.")
    with transaction(db):
        row = db.execute("SELECT * FROM claims WHERE id = ?", (claim_id,)).fetchone()
        if row is None:
            raise ActionError(gettext("There is no claim #%(id)s.", id=claim_id))
        if row["status"] == "decided":
            raise ActionError(
                f"Claim #{claim_id} was already decided ({row['resolution']}) by {row['decided_by']}."
            )
        now = timestamp()
        db.execute(
            "UPDATE claims SET status = 'decided', resolution = ?, decision_note = ?, decided_by = ?, decided_at = ?"
            " WHERE id = ?",
            (chosen["id"], note or None, who.actor, now, claim_id),
        )
        append_event(
            db,
            row["proof_id"],
            "claim_decided",
            actor=who.actor,
            ip=who.ip,
            user_agent=who.user_agent,
            data={
                "claim_id": claim_id,
                "resolution": chosen["id"],
                "resolution_label": chosen["label"],
                "note": note or None,
                "outcome": row["outcome"],
            },
        )
    return chosen

"""The proofs service: the only code that creates or changes proofs.

Plain functions that take a sqlite_utils Database and run inside an app context (they
read the config and render email templates), never a request. Each public function that
writes does so in one BEGIN IMMEDIATE transaction: the proof change, its events in the
hash chain (proofmark.records) and the email it causes (proofmark.mail outbox) commit together or
not at all. Decisions re-read the proof inside that transaction, so a double click, a
replayed POST or two racing approvals yield one decision event and one outcome.

Statuses: awaiting_approval -> approved | changes_requested | expired | cancelled;
a new revision (staff, after a change request) puts the proof back to awaiting_approval.
An expired proof holds production; it is never approved by the passing of time.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlite_utils
from flask import current_app

from proofmark import storage
from proofmark.db import transaction, write
from proofmark.proofs import render_jobs, rules
from proofmark.proofs.approval_page import names, page_content, page_content_sha256
from proofmark.proofs.confirmations import (  # noqa: F401 - confirm_decision etc. are also imported from here
    CONFIRMATION_SWEEP_AFTER_SECONDS,
    after_decision,
    confirm_decision,
    queue_pending_confirmations,
)
from proofmark.proofs.emails import jpeg_for, queue_email
from proofmark.proofs.errors import OrderRefTaken, ProofChanged, ProofError, ProofExpired, ProofSuperseded
from proofmark.proofs.images import check_design
from proofmark.proofs.model import SOURCES, Proof, Revision
from proofmark.proofs.queries import find_by_design_token, get_revision, load
from proofmark.records import append_event, canonical_json, sha256_hex, timestamp, utcnow

# A person reloading the page is one view, not twenty.
VIEW_DEDUP_SECONDS = 300


@dataclass(frozen=True)
class Decision:
    """The outcome of approve()/request_changes(): the proof's status after the call and
    whether this call recorded it (False for a repeat, a replay or the loser of a race)."""

    status: str
    recorded: bool
    revision: int
    decided_at: str | None
    event_id: int | None = None


@dataclass
class ReminderReport:
    reminded: list[int] = field(default_factory=list)
    expired: list[int] = field(default_factory=list)


def _new_public_id(db: sqlite_utils.Database) -> str:
    alphabet = "23456789ABCDEFGHJKMNPQRSTVWXYZ"  # no 0/O, 1/I/L, U: read aloud on the phone
    while True:
        public_id = "P-" + "".join(secrets.choice(alphabet) for _ in range(8))
        if db.execute("SELECT 1 FROM proofs WHERE public_id = ?", (public_id,)).fetchone() is None:
            return public_id


def _token_data(design_token) -> dict | None:
    if design_token is None:
        return None
    return {
        "nonce": design_token.nonce,
        "content_key": design_token.content_key,
        "renderer_version": design_token.renderer_version,
        "options": design_token.options,
    }


def _insert_revision(
    db,
    proof_id: int,
    number: int,
    design,
    warnings: list[dict],
    *,
    actor: str,
    now: datetime,
    options: dict,
    note: str | None,
) -> Revision:
    """The revision row, without its image: `image_sha256` stays '' until its render job
    (queued here too) has stored the image."""
    from proofmark_renderer import RENDERER_VERSION

    design_json = design.canonical_json()
    row = {
        "proof_id": proof_id,
        "number": number,
        "design": design_json,
        "text": design.text_summary(),
        "font": design.font,
        "image_sha256": "",
        "renderer_version": RENDERER_VERSION,
        "nonce": secrets.token_urlsafe(12),
        "created_by": actor,
        "created_at": timestamp(now),
        "design_sha256": sha256_hex(design_json),
        "options": canonical_json(options or {}),
        "warnings": canonical_json(warnings),
        "note": note,
        "image_width": None,
        "image_height": None,
    }
    cursor = db.execute(
        f"INSERT INTO revisions ({', '.join(row)}) VALUES ({', '.join(':' + k for k in row)})", row
    )
    revision = Revision.from_row({**row, "id": cursor.lastrowid}, design=design)
    render_jobs.enqueue(db, proof_id, revision.id, now=now)
    return revision


def _revision_event_data(revision: Revision, *, supersedes: int | None, previous_status: str | None) -> dict:
    """`revision_added`: what was ordered, recorded when it is ordered. The image does not
    exist yet (`image_sha256` null); its hash is bound to the revision by the
    `image_rendered` event its render job appends."""
    product, font = names(revision.design)
    return {
        "revision": revision.number,
        "design": revision.design_dict,
        "design_sha256": revision.design_sha256,
        "text": revision.text,
        "product": product,
        "font": font,
        "image_sha256": None,
        "image_size": None,
        "renderer_version": revision.renderer_version,
        "options": revision.options,
        "warnings": revision.warnings,
        "note": revision.note,
        "supersedes": supersedes,
        "previous_status": previous_status,
    }


# --- creating and revising ----------------------------------------------------------------


def create_proof(
    db: sqlite_utils.Database,
    *,
    order_ref: str,
    customer_name: str,
    customer_email: str,
    design,
    source: str,
    actor: str,
    ip: str | None = None,
    user_agent: str | None = None,
    design_token=None,
    now: datetime | None = None,
    unique_order_ref: bool = False,
) -> int:
    """Create a proof with revision 1 and queue its email. With `unique_order_ref`, an order
    reference that a live (not cancelled) proof already has raises OrderRefTaken, checked
    under the write lock so two parallel requests cannot both create one. `design`: a renderer.Design or
    its dict; `design_token`: the verified DesignToken (or the token string) when the
    design came from the shop. A design token makes one proof: given again, the existing
    proof's id is returned and nothing new is created or sent."""
    from proofmark.tokens import DesignToken, TokenError, verify_design

    if source not in SOURCES:
        raise ProofError(f"Unknown source {source!r} (use one of {', '.join(SOURCES)}).")
    if isinstance(design_token, str):
        try:
            design_token = verify_design(design_token)
        except TokenError as exc:
            raise ProofError(str(exc)) from exc
    if design_token is not None and not isinstance(design_token, DesignToken):
        raise ProofError("The design token is not in the expected form.")
    if design is None and design_token is not None:
        design = design_token.design
    order_ref = rules.clean_order_ref(order_ref)
    customer_name = rules.clean_name(customer_name)
    customer_email = rules.clean_email(customer_email)
    actor = rules.clean_line(actor, "actor", 200)
    if design_token is not None:
        existing = find_by_design_token(db, design_token.nonce)
        if existing is not None:
            return existing
    now = now or utcnow()
    design, warnings = check_design(design)
    with transaction(db):
        if design_token is not None:
            # Re-checked under the write lock: two clicks on "Place order" make one proof.
            existing = find_by_design_token(db, design_token.nonce)
            if existing is not None:
                return existing
        if unique_order_ref:
            taken = db.execute(
                "SELECT id, public_id FROM proofs WHERE order_ref = ? AND status != 'cancelled' ORDER BY id LIMIT 1",
                (order_ref,),
            ).fetchone()
            if taken is not None:
                raise OrderRefTaken(
                    f"There is already a proof for order {order_ref} ({taken['public_id']}). Send "
                    '"new_revision": true to make this design its next revision.',
                    taken["id"],
                )
        public_id = _new_public_id(db)
        cursor = db.execute(
            "INSERT INTO proofs (public_id, order_ref, customer_name, customer_email, product, font, text,"
            " status, current_revision, source, created_at, updated_at, emailed_at, design_token_nonce)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, 'awaiting_approval', 1, ?, ?, ?, NULL, ?)",
            (
                public_id,
                order_ref,
                customer_name,
                customer_email,
                design.product,
                design.font,
                design.text_summary(),
                source,
                timestamp(now),
                timestamp(now),
                design_token.nonce if design_token else None,
            ),
        )
        proof_id = cursor.lastrowid
        options = design_token.options if design_token else {}
        revision = _insert_revision(
            db, proof_id, 1, design, warnings, actor=actor, now=now, options=options, note=None
        )
        append_event(
            db,
            proof_id,
            "proof_created",
            actor=actor,
            ip=ip,
            user_agent=user_agent,
            at=now,
            data={
                "public_id": public_id,
                "order_ref": order_ref,
                "customer_name": customer_name,
                "customer_email": customer_email,
                "source": source,
                "product": design.product,
                "design_token": _token_data(design_token),
            },
        )
        append_event(
            db,
            proof_id,
            "revision_added",
            actor=actor,
            ip=ip,
            user_agent=user_agent,
            at=now,
            data=_revision_event_data(revision, supersedes=None, previous_status=None),
        )
    # The proof image is drawn by its render job, which then queues the proof email.
    render_jobs.after_commit(db, render_jobs.job_for(db, revision.id), now=now)
    return proof_id


def add_revision(
    db: sqlite_utils.Database,
    proof_id: int,
    design,
    *,
    actor: str,
    ip: str | None = None,
    user_agent: str | None = None,
    note: str | None = None,
    now: datetime | None = None,
) -> int:
    """A new revision supersedes the current one: links to the old one can no longer
    approve, the proof awaits approval again, and the customer gets a new email."""
    actor = rules.clean_line(actor, "actor", 200)
    note = rules.clean_line(note, "note", rules.MAX_COMMENT, required=False) if note else None
    proof = load(db, proof_id)
    if proof.status == "cancelled":
        raise ProofError("This proof was cancelled; a cancelled proof cannot get a new revision.")
    now = now or utcnow()
    design, warnings = check_design(design)
    with transaction(db):
        proof = load(db, proof_id)
        if proof.status == "cancelled":
            raise ProofError("This proof was cancelled; a cancelled proof cannot get a new revision.")
        old = proof.current_revision
        number = old + 1
        revision = _insert_revision(
            db, proof_id, number, design, warnings, actor=actor, now=now, options={}, note=note
        )
        db.execute(
            "UPDATE proofs SET current_revision = ?, status = 'awaiting_approval', product = ?, font = ?,"
            " text = ?, updated_at = ?, emailed_at = NULL, reminded_at = NULL, decided_at = NULL,"
            " expired_at = NULL WHERE id = ?",
            (
                number,
                design.product,
                design.font,
                design.text_summary(),
                timestamp(now),
                proof_id,
            ),
        )
        append_event(
            db,
            proof_id,
            "revision_added",
            actor=actor,
            ip=ip,
            user_agent=user_agent,
            at=now,
            data=_revision_event_data(revision, supersedes=old, previous_status=proof.status),
        )
    # The new image is drawn by its render job, which then emails the customer.
    render_jobs.after_commit(db, render_jobs.job_for(db, revision.id), now=now)
    return number


def resend_link(
    db: sqlite_utils.Database,
    proof_id: int,
    *,
    actor: str,
    ip: str | None = None,
    user_agent: str | None = None,
    now: datetime | None = None,
) -> dict:
    """Email a fresh link for the current revision to the address on file (never another
    one). Reopens an expired proof. A customer may ask at most every
    RESEND_MIN_INTERVAL_SECONDS. Returns the `email_queued` data."""
    now = now or utcnow()
    proof = load(db, proof_id)
    if proof.revision is not None and not proof.revision.image_sha256:
        raise ProofError(
            "The proof's picture is still being prepared; its email goes out as soon as it is ready."
        )
    jpeg = jpeg_for(proof.revision)
    with transaction(db):
        proof = load(db, proof_id)
        status = proof.status
        if status == "approved":
            raise ProofError("This proof is already approved: there is nothing left to approve.")
        if status == "changes_requested":
            raise ProofError(
                "Changes were requested on this proof: the shop will send a new version to approve."
            )
        if status == "cancelled":
            raise ProofError("This proof was cancelled.")
        if actor == "customer":
            last = db.execute(
                "SELECT max(at) FROM events WHERE proof_id = ? AND kind = 'resent'", (proof_id,)
            ).fetchone()[0]
            wait = int(current_app.config["RESEND_MIN_INTERVAL_SECONDS"])
            if last and last > timestamp(now - timedelta(seconds=wait)):
                raise ProofError(
                    "We sent a fresh link a few minutes ago. Please check your inbox (and spam folder) first."
                )
        reopened = status == "expired"
        db.execute(
            "UPDATE proofs SET status = 'awaiting_approval', updated_at = ?, emailed_at = ?, reminded_at = NULL,"
            " expired_at = NULL WHERE id = ?",
            (timestamp(now), timestamp(now), proof_id),
        )
        queued = queue_email(
            db, proof, proof.revision, "resent", now=now, jpeg=jpeg, extra={"reopened": reopened}
        )
        append_event(
            db,
            proof_id,
            "resent",
            actor=actor,
            ip=ip,
            user_agent=user_agent,
            at=now,
            data={
                "revision": proof.current_revision,
                "to": proof.customer_email,
                "message_id": queued["message_id"],
                "link_id": queued["link_id"],
                "reopened": reopened,
            },
        )
    return queued


def cancel(
    db: sqlite_utils.Database,
    proof_id: int,
    *,
    actor: str,
    reason: str,
    ip: str | None = None,
    user_agent: str | None = None,
    now: datetime | None = None,
) -> bool:
    """Cancel the proof (no more approving). Returns False if it was already cancelled."""
    reason = rules.clean_multiline(reason, "reason for cancelling")
    actor = rules.clean_line(actor, "actor", 200)
    now = now or utcnow()
    with transaction(db):
        proof = load(db, proof_id)
        if proof.status == "cancelled":
            return False
        db.execute(
            "UPDATE proofs SET status = 'cancelled', updated_at = ?, cancelled_at = ? WHERE id = ?",
            (timestamp(now), timestamp(now), proof_id),
        )
        append_event(
            db,
            proof_id,
            "cancelled",
            actor=actor,
            ip=ip,
            user_agent=user_agent,
            at=now,
            data={
                "reason": reason,
                "previous_status": proof.status,
                "revision": proof.current_revision,
            },
        )
    return True


_PREPARING = (
    "Your proof is still being prepared. Please open the link again in a minute; "
    "nothing can be approved until its picture is ready."
)


# --- the customer's decision --------------------------------------------------------------


def _decision_target(db, proof_id: int, revision: int, nonce: str) -> tuple[Proof, Revision]:
    proof = load(db, proof_id)
    # load() read the current revision's row already: the link's, unless it was superseded.
    rev = proof.revision if revision == proof.current_revision else get_revision(db, proof_id, revision)
    return _check_target(proof, rev, revision, nonce)


def _check_target(proof: Proof, rev: Revision | None, revision: int, nonce: str) -> tuple[Proof, Revision]:
    if rev is None or not secrets.compare_digest(str(rev.nonce), str(nonce)):
        raise ProofError("This link does not belong to this proof.")
    if proof.status == "cancelled":
        raise ProofError("This order was cancelled, so there is nothing to approve.")
    if revision != proof.current_revision:
        raise ProofSuperseded(
            f"This is version {revision} of your proof; version {proof.current_revision} replaced it. "
            "Please use the link in the newest email."
        )
    if not rev.image_sha256:
        # Nobody approves (or rejects) a picture that does not exist yet.
        raise ProofError(_PREPARING)
    return proof, rev


def _existing_decision(proof: Proof) -> Decision | None:
    if proof.status in ("approved", "changes_requested"):
        return Decision(proof.status, False, proof.current_revision, proof.decided_at)
    if proof.status == "expired":
        raise ProofExpired(
            "This proof expired before a decision was made, so production is on hold. "
            "Ask for a fresh link to approve it."
        )
    return None


def _check_shown(presentation_sha256: str, shown_sha256: str | None) -> None:
    """`shown_sha256` (what the page posted back, if any) against the hash of what the page
    shows now."""
    # Compared as bytes: compare_digest refuses str with non-ASCII characters, and the form
    # field can hold anything a client sends.
    if shown_sha256 is not None and not secrets.compare_digest(
        str(shown_sha256).encode("utf-8", "surrogatepass"), presentation_sha256.encode()
    ):
        raise ProofChanged(
            "The proof page changed since you opened it (for example, the shop updated its terms). "
            "Please look at it again before you decide."
        )


def _decide(
    db: sqlite_utils.Database,
    proof_id: int,
    kind: str,
    *,
    revision: int,
    nonce: str,
    shown_sha256: str | None,
    link_id: str | None,
    ip: str | None,
    user_agent: str | None,
    now: datetime,
    record: Callable[[Proof, Revision, dict], dict],
    confirm: bool = True,
    before: tuple[Proof, Revision] | None = None,
) -> Decision:
    """The one way a customer's decision is recorded: in one short transaction, check the link
    and what the page showed, append the event `kind` (data from `record(proof, revision,
    shown)`, which may raise ProofError), set the status and mark its confirmation email as
    due (`decision_emails_pending`). The email (whose receipt needs the event's log position)
    is then built outside the write lock and queued in a second short transaction
    (`confirmations.after_decision`: by the approver, or after its answer by the process's
    confirmation thread); after a crash between the two, the mail worker's sweep queues it.
    Both go through `proofmark.db.write` (group commit: other approvers' writes may share the
    transaction and its fsync; each returns only once its own write is committed). Idempotent: if the proof is already decided nothing is recorded and that outcome returned.
    `confirm=False` leaves the email to the sweep (what a crash right after the decision does).
    `before`: `_decision_target`'s answer already read outside the lock by the caller (only
    used for what is prepared outside the lock; everything is read and checked again inside)."""
    # What the page showed, worked out before taking the lock; reused inside if the proof and
    # revision read there are the ones it was made from (anything else is worked out again).
    prepared = None
    try:
        proof0, rev0 = before or _decision_target(db, proof_id, revision, nonce)
        shown0 = page_content(proof0, rev0)
        prepared = (_shown_key(proof0, rev0), shown0, page_content_sha256(shown0))
    except ProofError:
        pass

    def decide(db: sqlite_utils.Database):
        proof, rev = _decision_target(db, proof_id, revision, nonce)
        existing = _existing_decision(proof)
        if existing:
            return existing, None
        if prepared and prepared[0] == _shown_key(proof, rev):
            shown, presentation = prepared[1], prepared[2]
        else:
            shown = page_content(proof, rev)
            presentation = page_content_sha256(shown)
        _check_shown(presentation, shown_sha256)
        data = record(proof, rev, shown)
        data.update(
            revision=rev.number,
            image_sha256=rev.image_sha256,
            text=shown["text"],
            product=shown["product"],
            font=shown["font"],
            nonce=rev.nonce,
            link_id=link_id,
            presentation_sha256=presentation,
        )
        decided = timestamp(now)
        event = append_event(
            db, proof_id, kind, actor="customer", ip=ip, user_agent=user_agent, at=now, data=data
        )
        db.execute(
            "UPDATE proofs SET status = ?, decided_at = ?, updated_at = ? WHERE id = ?",
            (kind, decided, decided, proof_id),
        )
        db.execute(
            "INSERT INTO decision_emails_pending (event_id, proof_id, kind, revision, decided_at, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (event["id"], proof_id, kind, rev.number, decided, timestamp(now)),
        )
        # The rows as they now are (the UPDATE above), for the confirmation email.
        event["proof"] = dataclasses.replace(proof, status=kind, decided_at=decided, updated_at=decided)
        event["revision"] = rev
        return Decision(kind, True, rev.number, decided, event["id"]), event

    # Committed through the process's group commit: with other approvers' writes, in one
    # transaction and one fsync; this returns once this decision is committed.
    decision, event = write(db, decide)
    if event is None:
        return decision
    if confirm:
        after_decision(db, event, now=now)
    return decision


def _shown_key(proof: Proof, rev: Revision) -> tuple:
    """What page_content reads from the proof and revision rows (revisions never change)."""
    return (proof.public_id, proof.order_ref, proof.current_revision, rev.id)


def approve(
    db: sqlite_utils.Database,
    proof_id: int,
    *,
    revision: int,
    nonce: str,
    statements_ticked: Iterable[str],
    shown_sha256: str | None = None,
    link_id: str | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
    now: datetime | None = None,
    confirm: bool = True,
    seen: tuple[Proof, Revision] | None = None,
) -> Decision:
    """Record the customer's approval of `revision`. Idempotent: if the proof is already
    decided (approved, or changes requested) nothing is recorded and that outcome returned.
    `seen`: the proof and the link's revision as the caller (the approval page) just read
    them, to prepare from outside the lock instead of reading them again; the decision itself
    reads and checks everything again under the lock."""
    ticked = [str(s) for s in statements_ticked]
    # Prepared before the write transaction (the lock is then held only to check and append):
    # the check that the stored image still has its hash (it reads the whole image). Inside,
    # the image's hash is compared with the one checked here. The confirmation email's JPEG
    # is read after the decision, by whoever builds that email (confirmations.after_decision).
    if seen is not None and seen[0].id == proof_id and seen[1].proof_id == proof_id:
        proof0, rev0 = seen[0], (seen[1] if seen[1].number == revision else None)
    else:
        proof0 = load(db, proof_id)
        rev0 = proof0.revision if revision == proof0.current_revision else None
    before = None
    if rev0 is not None:
        with contextlib.suppress(ProofError):  # raised again, and answered, inside
            before = _check_target(proof0, rev0, revision, nonce)
    current = proof0.revision
    if current is not None and not current.image_sha256:
        current = None  # not rendered yet: refused inside, by _decision_target
    checked = {current.image_sha256: storage.verify(current.image_sha256)} if current is not None else {}

    def record(proof: Proof, rev: Revision, shown: dict) -> dict:
        missing = [s for s in shown["statements"] if s["id"] not in ticked]
        if missing:
            raise ProofError(
                "Please tick every statement before approving: " + " ".join(f"“{s['text']}”" for s in missing)
            )
        problem = (
            checked[rev.image_sha256] if rev.image_sha256 in checked else storage.verify(rev.image_sha256)
        )
        if problem:
            raise ProofError(
                "We could not check the proof image just now, so we cannot record an approval. "
                "Please try again later or contact the shop."
            )
        return {
            "image_size": shown["image_size"],
            "design": rev.design_dict,
            "design_sha256": shown["design_sha256"],
            "renderer_version": rev.renderer_version,
            "shown_text": shown["shown_text"],
            "disclosure": shown["disclosure"],
            "statements": [s for s in shown["statements"] if s["id"] in ticked],
            "customer_email": proof.customer_email,
            # The languages the customer read: this approval page, and the confirmation step
            # (with its disclosure) when the design came through the personalizer.
            "language": shown.get("language") or "en",
            "confirmed_language": (rev.options or {}).get("language"),
        }

    return _decide(
        db,
        proof_id,
        "approved",
        revision=revision,
        nonce=nonce,
        shown_sha256=shown_sha256,
        link_id=link_id,
        ip=ip,
        user_agent=user_agent,
        now=now or utcnow(),
        record=record,
        confirm=confirm,
        before=before,
    )


def request_changes(
    db: sqlite_utils.Database,
    proof_id: int,
    *,
    revision: int,
    nonce: str,
    comment: str,
    shown_sha256: str | None = None,
    link_id: str | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
    now: datetime | None = None,
    confirm: bool = True,
) -> Decision:
    """Record the customer's change request (a comment is required). Idempotent like approve()."""
    comment = rules.clean_comment(comment)
    return _decide(
        db,
        proof_id,
        "changes_requested",
        revision=revision,
        nonce=nonce,
        shown_sha256=shown_sha256,
        link_id=link_id,
        ip=ip,
        user_agent=user_agent,
        now=now or utcnow(),
        record=lambda proof, rev, shown: {"comment": comment},
        confirm=confirm,
    )


def record_view(
    db: sqlite_utils.Database,
    proof_id: int,
    *,
    revision: int,
    link_id: str | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
    now: datetime | None = None,
    language: str | None = None,
) -> bool:
    """Append `proof_viewed` (with the language the page was shown in), unless the same person
    viewed this revision moments ago."""
    now = now or utcnow()
    since = timestamp(now - timedelta(seconds=VIEW_DEDUP_SECONDS))
    with transaction(db):
        for row in db.execute(
            "SELECT ip, user_agent, data FROM events WHERE proof_id = ? AND kind = 'proof_viewed' AND at > ?",
            (proof_id, since),
        ):
            if (
                row["ip"] == ip
                and row["user_agent"] == user_agent
                and json.loads(row["data"]).get("revision") == revision
            ):
                return False
        append_event(
            db,
            proof_id,
            "proof_viewed",
            actor="customer",
            ip=ip,
            user_agent=user_agent,
            at=now,
            data={"revision": revision, "link_id": link_id, **({"language": language} if language else {})},
        )
    return True


# --- reminders and expiry -----------------------------------------------------------------


def send_reminders(db: sqlite_utils.Database, *, now: datetime | None = None) -> ReminderReport:
    """Remind after REMINDER_AFTER_DAYS without a decision (once per emailed revision);
    expire after EXPIRE_AFTER_DAYS. Both count from the last email with a link."""
    now = now or utcnow()
    config = current_app.config
    remind_before = timestamp(now - timedelta(days=float(config["REMINDER_AFTER_DAYS"])))
    expire_before = timestamp(now - timedelta(days=float(config["EXPIRE_AFTER_DAYS"])))
    report = ReminderReport()
    due = [
        r[0]
        for r in db.execute(
            "SELECT id FROM proofs WHERE status = 'awaiting_approval' AND emailed_at <= ? ORDER BY id",
            (remind_before,),
        )
    ]
    for proof_id in due:
        proof = load(db, proof_id)
        expire = proof.emailed_at <= expire_before
        if not expire and proof.reminded_at:
            continue
        jpeg = jpeg_for(proof.revision) if not expire else None
        with transaction(db):
            proof = load(db, proof_id)  # re-read under the lock: a decision may have landed
            if proof.status != "awaiting_approval":
                continue
            if proof.emailed_at <= expire_before:
                db.execute(
                    "UPDATE proofs SET status = 'expired', expired_at = ?, updated_at = ? WHERE id = ?",
                    (timestamp(now), timestamp(now), proof_id),
                )
                append_event(
                    db,
                    proof_id,
                    "expired",
                    actor="system",
                    at=now,
                    data={
                        "revision": proof.current_revision,
                        "emailed_at": proof.emailed_at,
                        "after_days": config["EXPIRE_AFTER_DAYS"],
                        "production": "on hold",
                    },
                )
                queue_email(db, proof, proof.revision, "expired", now=now, jpeg=None)
                report.expired.append(proof_id)
            elif not proof.reminded_at:
                queued = queue_email(
                    db,
                    proof,
                    proof.revision,
                    "reminder",
                    now=now,
                    jpeg=jpeg,
                    extra={"emailed_at": proof.emailed_at},
                )
                db.execute("UPDATE proofs SET reminded_at = ? WHERE id = ?", (timestamp(now), proof_id))
                append_event(
                    db,
                    proof_id,
                    "reminder_sent",
                    actor="system",
                    at=now,
                    data={
                        "revision": proof.current_revision,
                        "message_id": queued["message_id"],
                        "link_id": queued["link_id"],
                        "after_days": config["REMINDER_AFTER_DAYS"],
                    },
                )
                report.reminded.append(proof_id)
    return report

"""The confirmation email of a customer's decision (approved, changes requested).

The decision commits with its `decision_emails_pending` row; the email (whose receipt needs the
decision's log position) is built after that, outside the write lock, and queued in a second
short write that removes the row: exactly once, whoever gets there first. Who builds it, per
PROOF_CONFIRM_AFTER_DECISION: "inline" (the approver, before its answer: tests) or "thread"
(this process's confirmation thread, after the approver has its answer: several decisions'
emails built one after another and queued in one write). A decision whose email was never
queued (the process stopped in between) is queued by the mail worker's sweep
(`queue_pending_confirmations`) once it is CONFIRMATION_SWEEP_AFTER_SECONDS old.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlite_utils
from flask import Flask, current_app

from proofmark import background, mail
from proofmark import db as dbmod
from proofmark.db import write
from proofmark.proofs.emails import PreparedEmail, jpeg_for, prepare_email, queue_prepared
from proofmark.proofs.model import Proof, Revision
from proofmark.proofs.queries import get_revision, load
from proofmark.records import timestamp, utcnow

EXTENSION_KEY = "proofmark.confirmations"

# A decision's confirmation not queued this long after it (a crash between the decision and
# its email) is queued by the sweep; younger ones are most likely being queued right now.
CONFIRMATION_SWEEP_AFTER_SECONDS = 30


def confirm_decision(
    db: sqlite_utils.Database,
    event_id: int,
    *,
    jpeg: bytes | None = None,
    event: dict | None = None,
    now: datetime | None = None,
) -> bool:
    """Queue the confirmation email of the decision `event_id` if it is still due: built here,
    outside the write lock, then queued (outbox row and `email_queued` event) in one short
    transaction that also removes its `decision_emails_pending` row. Exactly once: if another
    caller removed that row first, nothing is queued. Returns True if this call queued it."""
    return event_id in confirm_decisions(db, [Handed(event_id, event, jpeg, now or utcnow())])


@dataclass(frozen=True)
class Handed:
    """A decision whose confirmation is to be queued: its event as the decision returned it
    (None: read again), the email JPEG already at hand, the decision's time."""

    event_id: int
    event: dict | None
    jpeg: bytes | None
    now: datetime
    at: float = 0.0  # time.perf_counter() when handed over (the bench's delay)


def confirm_decisions(db: sqlite_utils.Database, handed: list[Handed]) -> list[int]:
    """`confirm_decision` for several decisions: every email built first, outside the write
    lock, then all queued in one write (each in its own savepoint: one that fails leaves its
    pending row for the sweep, the others are queued). Returns the event ids queued here."""
    prepared: list[tuple[Handed, PreparedEmail]] = []
    for item in handed:
        email = _prepare(db, item)
        if email is not None:
            prepared.append((item, email))
    if not prepared:
        return []

    def queue(db: sqlite_utils.Database) -> list[int]:
        queued = []
        for item, email in prepared:
            db.execute("SAVEPOINT proofmark_confirmation")
            try:
                taken = db.execute(
                    "DELETE FROM decision_emails_pending WHERE event_id = ?", (item.event_id,)
                ).rowcount
                if taken == 1:  # else queued by another caller (the sweep, a second worker)
                    queue_prepared(db, email, now=item.now)
                    queued.append(item.event_id)
            except Exception:  # noqa: BLE001 - this one stays pending for the sweep
                db.execute("ROLLBACK TO proofmark_confirmation")
                current_app.logger.exception("decision %s: queueing its confirmation failed", item.event_id)
            db.execute("RELEASE proofmark_confirmation")
        return queued

    return write(db, queue)


def _prepare(db: sqlite_utils.Database, item: Handed) -> PreparedEmail | None:
    """The confirmation email of one decision, built without writing; None if not due."""
    event_id, event, jpeg, now = item.event_id, item.event, item.jpeg, item.now
    pending = db.execute(
        "SELECT proof_id, kind, revision, decided_at FROM decision_emails_pending WHERE event_id = ?",
        (event_id,),
    ).fetchone()
    if pending is None:
        return None
    proof = rev = None
    if event is not None and "proof" in event:
        # From the decision just committed (its rows as written): not read again.
        proof, rev = event["proof"], event["revision"]
        if (proof.id, rev.number) != (pending["proof_id"], pending["revision"]):
            proof = rev = None
    if event is None or "leaf_hash" not in event:
        row = db.execute(
            "SELECT e.at, e.data, l.idx, l.leaf_hash FROM events e"
            " JOIN ledger_leaves l ON l.event_id = e.id WHERE e.id = ?",
            (event_id,),
        ).fetchone()
        event = {
            "id": event_id,
            "at": row["at"],
            "data": row["data"],
            "log_index": row["idx"],
            "leaf_hash": row["leaf_hash"],
        }
    data = event["data"] if isinstance(event["data"], dict) else json.loads(event["data"])
    if proof is None:
        proof = load(db, pending["proof_id"])
        rev = get_revision(db, pending["proof_id"], pending["revision"])
    kind = pending["kind"]
    decided_at = datetime.strptime(pending["decided_at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    extra: dict = {"decided_at": decided_at}
    if kind == "approved":
        extra["receipt"] = _receipt(proof, rev, event, data)
        if jpeg is None:
            jpeg = jpeg_for(rev)
    else:
        extra["comment"] = data.get("comment")
        jpeg = None
    return prepare_email(db, proof, rev, kind, now=now, jpeg=jpeg, with_link=False, extra=extra)


def _receipt(proof: Proof, rev: Revision, event: dict, data: dict) -> dict:
    """What the customer keeps: enough to show later that the shop's record of this
    approval is the one they made (the log entry's hash and position in the shop's log)."""
    text = data.get("text") or {}
    return {
        "proof": proof.public_id,
        "proof_id": proof.id,
        "revision": rev.number,
        "lines": list(text.get("lines") or []),
        "fields": dict(text.get("fields") or {}),
        "image_sha256": rev.image_sha256,
        "approved_at": event["at"],
        "event_hash": event["leaf_hash"],
        "log_position": event["log_index"],
    }


def queue_pending_confirmations(
    db: sqlite_utils.Database, *, now: datetime | None = None, limit: int = 100
) -> list[int]:
    """The sweep (the mail worker runs it before sending, and so at start): queue the
    confirmation of every decision older than CONFIRMATION_SWEEP_AFTER_SECONDS that has none.
    Returns the decision event ids it queued."""
    now = now or utcnow()
    before = timestamp(now - timedelta(seconds=CONFIRMATION_SWEEP_AFTER_SECONDS))
    queued = []
    for (event_id,) in db.execute(
        "SELECT event_id FROM decision_emails_pending WHERE created_at <= ? ORDER BY event_id LIMIT ?",
        (before, limit),
    ).fetchall():
        try:
            if confirm_decision(db, event_id, now=now):
                queued.append(event_id)
        except Exception:  # noqa: BLE001 - one broken record must not stop the others
            current_app.logger.exception("decision %s: queueing its confirmation failed", event_id)
    return queued


# --- after a decision -----------------------------------------------------------------------


def confirm_mode(app: Flask) -> str:
    return background.after_request_mode(app, "PROOF_CONFIRM_AFTER_DECISION")


def after_decision(db: sqlite_utils.Database, event: dict, *, now: datetime) -> None:
    """A decision committed: queue its confirmation per PROOF_CONFIRM_AFTER_DECISION. Never
    raises (the decision is recorded; the sweep queues an email left behind)."""
    app = current_app._get_current_object()
    handed = Handed(event["id"], event, None, now, time.perf_counter())
    try:
        if confirm_mode(app) == "thread":
            worker_for(app).hand_off(handed)
        else:
            confirm_decisions(db, [handed])
    except Exception:  # noqa: BLE001 - the decision is recorded; the sweep queues its email
        app.logger.exception("decision %s: confirmation email left to the sweep", event["id"])


class ConfirmWorker(background.QueueWorker):
    """This process's confirmation thread: takes the decisions handed to it (in memory, with
    the rows and the log position the decision returned, so nothing is read again), builds
    their emails and queues each batch in one write. Its own database connection. Records,
    for the bench, how long each waited from its hand-over until it was queued."""

    MAX_BATCH = 64

    def __init__(self, app: Flask):
        super().__init__(
            app, name="proofmark-confirmations", poll_setting="MAIL_POLL_SECONDS", work=self._work
        )
        self._handed: list[Handed] = []
        self._guard = threading.Lock()
        self.delays: list[float] = []  # seconds from hand-over to queued (or found done)
        self._db: tuple[tuple, sqlite_utils.Database] | None = None

    def hand_off(self, handed: Handed) -> None:
        with self._guard:
            self._handed.append(handed)
        self.kick()

    def take_delays(self) -> list[float]:
        """The delays recorded since the last call (the bench)."""
        with self._guard:
            delays, self.delays = self.delays, []
        return delays

    def _take(self) -> list[Handed]:
        with self._guard:
            batch, self._handed[: self.MAX_BATCH] = self._handed[: self.MAX_BATCH], []
        return batch

    def _work(self, app: Flask) -> None:
        batch = self._take()
        if not batch:
            return
        with app.app_context():
            database = self._connection(app)
            while batch:
                try:
                    queued = confirm_decisions(database, batch)
                except Exception:  # noqa: BLE001 - left pending: the sweep queues them
                    app.logger.exception("confirmations: %d left to the sweep", len(batch))
                    queued = []
                    self._db = None  # a fresh connection for the next batch
                    database.conn.close()
                    database = self._connection(app)
                done = time.perf_counter()
                with self._guard:
                    self.delays += [done - item.at for item in batch]
                if queued:
                    mail.after_commit(app)
                batch = self._take()

    def _connection(self, app: Flask) -> sqlite_utils.Database:
        """The thread's own connection, kept between batches (a new one parses the schema
        again); a new one in a forked process, or once the file was replaced (restore)."""
        path = dbmod.database_path(app)
        key = (os.getpid(), path.stat().st_ino if path.exists() else None)
        if self._db is None or self._db[0] != key:
            if self._db is not None and self._db[0][0] == os.getpid():
                self._db[1].conn.close()
            self._db = (key, dbmod.connect(path, check_writes=app.config.get("DB_CHECK_WRITES", False)))
        return self._db[1]


def worker_for(app: Flask) -> ConfirmWorker:
    return background.worker_for(app, EXTENSION_KEY, ConfirmWorker)

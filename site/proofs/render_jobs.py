"""Proof images rendered after the answer (issue 16, item 2): one durable job per revision.

Placing an order (or a staff revision) records the proof, its revision and a `render_jobs` row
in one transaction and answers; the revision's image (`revisions.image_sha256`) is '' until a
worker has rendered it. A worker claims a due job by taking a lease (RENDER_LEASE_SECONDS); if
the worker dies, the lease runs out and another claims it. Rendered, in one transaction: the
image's hash goes on the revision, an `image_rendered` event binds it to the revision in the
keyed log, and the proof email is queued (only now, so that it always shows the image). A failed
render is retried RENDER_MAX_ATTEMPTS times with growing waits, then left `failed` for staff,
who see it on the proof's page and can start it again.

Who runs jobs: in the web process a `QueueWorker` thread (RENDER_AFTER_REQUEST "thread"),
woken after each commit that queued one and every RENDER_POLL_SECONDS; operators can run
`proofmark render-proofs` (cron, or a separate worker with `--loop`); tests run them inline.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlite_utils
from flask import Flask, current_app

from proofmark import background, mail
from proofmark import db as dbmod
from proofmark.background import QueueWorker
from proofmark.db import transaction
from proofmark.proofs.emails import queue_email
from proofmark.proofs.errors import ProofError
from proofmark.proofs.images import render_checked
from proofmark.proofs.queries import get_revision, load
from proofmark.records import append_event, timestamp, utcnow

EXTENSION_KEY = "proofmark_render_worker"
MAX_ERROR_CHARS = 500


@dataclass
class RenderReport:
    claimed: int = 0
    done: int = 0
    retrying: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return f"{self.claimed} claimed, {self.done} rendered, {self.retrying} to retry, {self.failed} failed"


@dataclass(frozen=True)
class ImageState:
    """What a page shows for a revision's image: 'ready', 'preparing' or 'failed'."""

    state: str
    attempts: int = 0
    error: str | None = None
    job_id: int | None = None
    # The product's other views rendered with the image (render_jobs.view_images).
    views: tuple = ()

    @property
    def ready(self) -> bool:
        return self.state == "ready"


def enqueue(db: sqlite_utils.Database, proof_id: int, revision_id: int, *, now: datetime) -> int:
    """Queue the render of a revision's image (inside the caller's transaction)."""
    cursor = db.execute(
        "INSERT INTO render_jobs (revision_id, proof_id, status, attempts, due_at, created_at)"
        " VALUES (?, ?, 'queued', 0, ?, ?)",
        (revision_id, proof_id, timestamp(now), timestamp(now)),
    )
    return cursor.lastrowid


def image_state(db: sqlite_utils.Database, revision) -> ImageState:
    """The state of a revision's image (a Revision, a revisions row as a dict, or None)."""
    if revision is None:
        return ImageState("failed", error="The proof has no revision.")
    if isinstance(revision, dict):
        revision_id, sha = revision["id"], revision["image_sha256"]
        proof_id, number = revision.get("proof_id"), revision.get("number")
    else:
        revision_id, sha = revision.id, revision.image_sha256
        proof_id, number = revision.proof_id, revision.number
    if sha:
        views = view_images(db, proof_id, number) if proof_id is not None else []
        return ImageState("ready", views=tuple(views))
    row = db.execute(
        "SELECT id, status, attempts, last_error FROM render_jobs WHERE revision_id = ?", (revision_id,)
    ).fetchone()
    if row is None:
        return ImageState("failed", error="No render job exists for this revision.")
    if row["status"] == "failed":
        return ImageState("failed", row["attempts"], row["last_error"], row["id"])
    return ImageState("preparing", row["attempts"], row["last_error"], row["id"])


# --- claiming and running -------------------------------------------------------------------


def _claim(db: sqlite_utils.Database, now: datetime, job_id: int | None = None) -> dict | None:
    """Take the lease on one due job (or on `job_id` if it is due). A job whose worker died
    holding its lease is due again once the lease has run out."""
    config = current_app.config
    lease = timedelta(seconds=float(config["RENDER_LEASE_SECONDS"]))
    moment = timestamp(now)
    with transaction(db):
        where = "((status = 'queued' AND due_at <= :now) OR (status = 'running' AND lease_until <= :now))"
        params = {"now": moment}
        if job_id is not None:
            where += " AND id = :id"
            params["id"] = job_id
        row = db.execute(
            f"SELECT * FROM render_jobs WHERE {where} ORDER BY due_at, id LIMIT 1", params
        ).fetchone()
        if row is None:
            return None
        job = dict(row)
        if job["status"] == "running" and job["attempts"] >= int(config["RENDER_MAX_ATTEMPTS"]):
            db.execute(
                "UPDATE render_jobs SET status = 'failed', lease_until = NULL, lease_token = NULL,"
                " finished_at = ?, last_error = ? WHERE id = ?",
                (
                    moment,
                    f"The renderer stopped while drawing this proof {job['attempts']} times.",
                    job["id"],
                ),
            )
            return None
        token = secrets.token_hex(8)
        db.execute(
            "UPDATE render_jobs SET status = 'running', attempts = attempts + 1, lease_until = ?,"
            " lease_token = ? WHERE id = ?",
            (timestamp(now + lease), token, job["id"]),
        )
        job.update(status="running", attempts=job["attempts"] + 1, lease_token=token)
        return job


def _still_ours(db: sqlite_utils.Database, job: dict) -> bool:
    row = db.execute("SELECT status, lease_token FROM render_jobs WHERE id = ?", (job["id"],)).fetchone()
    return row is not None and row["status"] == "running" and row["lease_token"] == job["lease_token"]


def _fail(db: sqlite_utils.Database, job: dict, error: str, *, now: datetime, final: bool) -> bool:
    """Record a failed attempt; True if it will be retried."""
    config = current_app.config
    retry = not final and job["attempts"] < int(config["RENDER_MAX_ATTEMPTS"])
    wait = min(
        float(config["RENDER_RETRY_BASE_SECONDS"]) * 2 ** (job["attempts"] - 1),
        float(config["RENDER_RETRY_MAX_SECONDS"]),
    )
    with transaction(db):
        if not _still_ours(db, job):
            return False
        db.execute(
            "UPDATE render_jobs SET status = ?, due_at = ?, lease_until = NULL, lease_token = NULL,"
            " last_error = ?, finished_at = ? WHERE id = ?",
            (
                "queued" if retry else "failed",
                timestamp(now + timedelta(seconds=wait)),
                error[:MAX_ERROR_CHARS],
                None if retry else timestamp(now),
                job["id"],
            ),
        )
    if not retry:
        current_app.logger.error("render job %s (proof %s) failed: %s", job["id"], job["proof_id"], error)
    return retry


def _finish(db: sqlite_utils.Database, job: dict, rendered, *, now: datetime) -> bool:
    """Bind the stored image to its revision, log it and queue the proof email, in one
    transaction. False if another worker finished the job first (its lease had run out)."""
    with transaction(db):
        if not _still_ours(db, job):
            return False
        rev_row = db.execute(
            "SELECT number, image_sha256, renderer_version, design_sha256 FROM revisions WHERE id = ?",
            (job["revision_id"],),
        ).fetchone()
        db.execute(
            "UPDATE render_jobs SET status = 'done', lease_until = NULL, lease_token = NULL, finished_at = ?,"
            " last_error = NULL WHERE id = ?",
            (timestamp(now), job["id"]),
        )
        if rev_row is None or rev_row["image_sha256"]:
            return True  # already has its image: nothing to bind twice
        number = rev_row["number"]
        db.execute(
            "UPDATE revisions SET image_sha256 = ?, image_width = ?, image_height = ? WHERE id = ?",
            (rendered.image_sha256, rendered.width, rendered.height, job["revision_id"]),
        )
        append_event(
            db,
            job["proof_id"],
            "image_rendered",
            actor="system",
            at=now,
            data={
                "revision": number,
                "image_sha256": rendered.image_sha256,
                "image_size": [rendered.width, rendered.height],
                "design_sha256": rev_row["design_sha256"],
                "renderer_version": rev_row["renderer_version"],
                "attempt": job["attempts"],
            }
            # The product's other views, shown beside the proof: only when it has any, so
            # the event of a one-view product is what it always was.
            | ({"views": list(rendered.views)} if rendered.views else {}),
        )
        proof = load(db, job["proof_id"])
        # The email goes only for the revision the customer is asked about now: a revision
        # already replaced, or a proof cancelled meanwhile, keeps its image but sends nothing.
        if proof.current_revision == number and proof.status == "awaiting_approval":
            revision = get_revision(db, proof.id, number)
            db.execute("UPDATE proofs SET emailed_at = ? WHERE id = ?", (timestamp(now), proof.id))
            proof = load(db, proof.id)
            if number == 1:
                queue_email(db, proof, revision, "proof", now=now, jpeg=rendered.email_jpeg)
            else:
                queue_email(
                    db,
                    proof,
                    revision,
                    "revision",
                    now=now,
                    jpeg=rendered.email_jpeg,
                    extra={"previous_revision": number - 1, "note": revision.note},
                )
    return True


def view_images(db: sqlite_utils.Database, proof_id: int, number: int) -> list[dict]:
    """The other views rendered for revision `number` (from its `image_rendered` event), each
    {"view", "name", "image_sha256", "image_size"}; [] for a one-view product or an older
    revision rendered before views were stored."""
    row = db.execute(
        "SELECT data FROM events WHERE proof_id = ? AND kind = 'image_rendered'"
        " AND json_extract(data, '$.revision') = ? ORDER BY seq DESC LIMIT 1",
        (proof_id, number),
    ).fetchone()
    if row is None:
        return []
    views = json.loads(row["data"]).get("views") or []
    return [v for v in views if isinstance(v, dict) and v.get("image_sha256")]


def run_job(db: sqlite_utils.Database, job: dict, *, now: datetime | None = None) -> str:
    """Render one claimed job: 'done', 'retrying', 'failed' or 'lost' (another worker took it)."""
    row = db.execute("SELECT design FROM revisions WHERE id = ?", (job["revision_id"],)).fetchone()
    try:
        if row is None:
            raise ProofError("The revision of this render job was deleted.")
        rendered = render_checked(json.loads(row["design"]))
    except ProofError as exc:
        # The design cannot be made: trying again draws the same refusal.
        _fail(db, job, str(exc), now=now or utcnow(), final=True)
        return "failed"
    except Exception as exc:  # noqa: BLE001 - any render failure is retried, then shown to staff
        current_app.logger.exception("render job %s: render failed", job["id"])
        retry = _fail(db, job, f"{type(exc).__name__}: {exc}", now=now or utcnow(), final=False)
        return "retrying" if retry else "failed"
    return "done" if _finish(db, job, rendered, now=now or utcnow()) else "lost"


def run_due(
    db: sqlite_utils.Database, *, now: datetime | None = None, limit: int = 100, job_id: int | None = None
) -> RenderReport:
    """Claim and render due jobs one at a time (at most `limit`; only `job_id` if given)."""
    report = RenderReport()
    for _ in range(limit):
        job = _claim(db, now or utcnow(), job_id)
        if job is None:
            break
        report.claimed += 1
        outcome = run_job(db, job, now=now)
        if outcome == "done":
            report.done += 1
        elif outcome == "retrying":
            report.retrying += 1
        elif outcome == "failed":
            report.failed += 1
            error = db.execute("SELECT last_error FROM render_jobs WHERE id = ?", (job["id"],)).fetchone()
            report.errors.append(f"job {job['id']}: {error[0] if error else '?'}")
        if job_id is not None:
            break
    return report


def run_once(app: Flask, *, now: datetime | None = None, job_id: int | None = None) -> RenderReport:
    """Run due jobs with a connection of its own (not a request's); then deliver the mail."""
    with app.app_context():
        database = dbmod.connect(dbmod.database_path(app))
        try:
            report = run_due(database, now=now, job_id=job_id)
        finally:
            database.conn.close()
        if report.done:
            mail.after_commit(app)
        return report


def retry(db: sqlite_utils.Database, revision_id: int, *, now: datetime | None = None) -> bool:
    """Staff start a failed render again (a fresh set of attempts). False if it is not failed."""
    now = now or utcnow()
    with transaction(db):
        cursor = db.execute(
            "UPDATE render_jobs SET status = 'queued', attempts = 0, due_at = ?, finished_at = NULL"
            " WHERE revision_id = ? AND status = 'failed'",
            (timestamp(now), revision_id),
        )
        return cursor.rowcount > 0


def job_for(db: sqlite_utils.Database, revision_id: int) -> int | None:
    row = db.execute("SELECT id FROM render_jobs WHERE revision_id = ?", (revision_id,)).fetchone()
    return row[0] if row else None


def failed_jobs(db: sqlite_utils.Database, limit: int = 50) -> list[dict]:
    return [
        dict(r)
        for r in db.execute(
            "SELECT j.*, p.public_id, r.number FROM render_jobs j JOIN proofs p ON p.id = j.proof_id"
            " JOIN revisions r ON r.id = j.revision_id WHERE j.status = 'failed' ORDER BY j.id DESC LIMIT ?",
            (limit,),
        )
    ]


# --- in the web process ---------------------------------------------------------------------


class RenderWorker(QueueWorker):
    def __init__(self, app: Flask):
        super().__init__(app, name="proofmark-render", poll_setting="RENDER_POLL_SECONDS", work=_work)


def _work(app: Flask) -> None:
    while run_once(app).claimed:
        pass


def render_mode(app: Flask) -> str:
    return background.after_request_mode(app, "RENDER_AFTER_REQUEST")


def worker_for(app: Flask) -> RenderWorker:
    return background.worker_for(app, EXTENSION_KEY, RenderWorker)


def after_commit(db: sqlite_utils.Database, job_id: int, *, now: datetime | None = None) -> None:
    """A job was queued and committed: start it per RENDER_AFTER_REQUEST ('thread': the
    background worker; 'inline': now, on this connection (tests); 'off': `render-proofs`)."""
    app = current_app._get_current_object()
    mode = render_mode(app)
    if mode == "thread":
        worker_for(app).kick()
    elif mode == "inline":
        # The proof email it queues is sent like any other the request queued.
        run_due(db, job_id=job_id, now=now)


def init_app(app: Flask) -> None:
    if EXTENSION_KEY in app.extensions:
        return
    app.extensions[EXTENSION_KEY] = RenderWorker(app)

    @app.before_request
    def _start_render_worker() -> None:
        # Started with the first request, so that jobs left by a stopped process are picked up.
        if render_mode(app) == "thread":
            worker_for(app).start()

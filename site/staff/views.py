"""Records: the searchable list, a proof's full record, and the actions on it."""

from __future__ import annotations

from flask import Response, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext

from proofmark import catalog_text, mail, production, storage
from proofmark import proofs as proofs_service
from proofmark.claims import CLAIM_KINDS, OUTCOMES, char_diff, resolutions_for
from proofmark.db import get_db
from proofmark.evidence import RecordNotFound, load_record
from proofmark.proofs import render_jobs
from proofmark.staff import search as records_search
from proofmark.staff.actions import MAX_DECISION_NOTE, MAX_NOTE, ActionError, Who, add_note
from proofmark.staff.blueprint import bp, render, translated
from proofmark_renderer import catalog


def who() -> Who:
    return Who(actor=g.staff.actor, ip=request.remote_addr, user_agent=request.user_agent.string or None)


@bp.get("/")
def home():
    return redirect(url_for("staff.proofs"))


@bp.get("/proofs")
def proofs():
    products = catalog.products()
    query = records_search.SearchQuery.from_args(request.args, [p.id for p in products])
    page = records_search.search(get_db(), query)
    return render(
        "staff/proofs.html",
        "staff/_results.html",
        query=query,
        page=page,
        products=products,
        statuses=translated(records_search.STATUS_LABELS),
        product_names={p.id: catalog_text.product_name(p) for p in products},
    )


def _record_or_404(proof_id: int):
    try:
        return load_record(get_db(), proof_id)
    except RecordNotFound:
        abort(404, gettext("There is no proof #%(id)s.", id=proof_id))


def revision_changes(revisions: list[dict]) -> list[dict]:
    """Each revision with what changed from the one before it."""
    out = []
    previous = None
    for rev in revisions:
        change = {"rev": rev, "before": None, "after": None, "attributes": []}
        if previous is not None:
            change["before"], change["after"] = char_diff(previous["display_text"], rev["display_text"])
            for key, label in (("font_name", "Font"), ("product", "Product"), ("align", "Alignment")):
                if previous[key] != rev[key]:
                    change["attributes"].append((label, previous[key], rev[key]))
        out.append(change)
        previous = rev
    return out


# What a timeline entry shows at a glance; the rest of its data is one click away.
SUMMARY_KEYS = (
    "revision",
    "comment",
    "reason",
    "note",
    "description",
    "outcome",
    "resolution_label",
    "to",
    "subject",
    "message_id",
    "error",
)


def event_summary(data: dict) -> list[tuple[str, object]]:
    return [(k, data[k]) for k in SUMMARY_KEYS if isinstance(data.get(k), str | int) and data.get(k) != ""]


def pending_change_request(record) -> dict | None:
    """The customer's latest change request while it is still waiting for a new revision:
    the first thing staff need to read on the record."""
    if record.proof["status"] != "changes_requested":
        return None
    return next((e for e in reversed(record.events) if e["kind"] == "changes_requested"), None)


@bp.get("/proofs/<int:proof_id>")
def proof(proof_id: int):
    record = _record_or_404(proof_id)
    for event in record.events:
        event["summary"] = event_summary(event["data_dict"])
    outcome_of = {c["id"]: c["outcome"] for c in record.claims}
    resolutions = {
        cid: resolutions_for(outcome, current_app.config["CLAIM_RESOLUTIONS"])
        for cid, outcome in outcome_of.items()
    }
    db = get_db()
    image_states = {r["number"]: render_jobs.image_state(db, r) for r in record.revisions}
    return render(
        "staff/proof.html",
        record=record,
        image_states=image_states,
        image_preparing=any(i.state == "preparing" for i in image_states.values()),
        changes=revision_changes(record.revisions),
        claim_kinds=translated(CLAIM_KINDS),
        outcomes=translated(OUTCOMES),
        resolutions=resolutions,
        fonts=catalog.fonts(),
        statuses=translated(records_search.STATUS_LABELS),
        change_request=pending_change_request(record),
        max_note=MAX_NOTE,
        max_decision_note=MAX_DECISION_NOTE,
        production_files=production.file_names,
    )


@bp.get("/proofs/<int:proof_id>/revisions/<int:number>.png")
def revision_image(proof_id: int, number: int):
    row = (
        get_db()
        .execute("SELECT image_sha256 FROM revisions WHERE proof_id = ? AND number = ?", (proof_id, number))
        .fetchone()
    )
    if row is None:
        abort(404, "No such revision.")
    try:
        data = storage.get(row["image_sha256"])
    except (FileNotFoundError, ValueError):
        abort(404, "The stored image for this revision is missing.")
    return Response(data, mimetype="image/png", headers={"Cache-Control": "private, no-store"})


@bp.get("/proofs/<int:proof_id>/revisions/<int:number>/views/<int:view>.png")
def revision_view_image(proof_id: int, number: int, view: int):
    """One of the product's other views, as rendered and stored with the revision's proof."""
    sha = next(
        (v["image_sha256"] for v in render_jobs.view_images(get_db(), proof_id, number) if v["view"] == view),
        None,
    )
    if sha is None:
        abort(404, "This revision has no stored image of that view.")
    try:
        data = storage.get(sha)
    except (FileNotFoundError, ValueError):
        abort(404, "The stored image of this view is missing.")
    return Response(data, mimetype="image/png", headers={"Cache-Control": "private, no-store"})


def _revision_row(proof_id: int, number: int) -> dict:
    row = (
        get_db()
        .execute("SELECT * FROM revisions WHERE proof_id = ? AND number = ?", (proof_id, number))
        .fetchone()
    )
    if row is None:
        abort(404, "No such revision.")
    return dict(row)


@bp.get("/proofs/<int:proof_id>/revisions/<int:number>/progress")
def revision_progress(proof_id: int, number: int):
    """A revision's image, or its render's progress (htmx asks every 2 s while it runs)."""
    row = _revision_row(proof_id, number)
    return render_template(
        "staff/_revision_image.html",
        p={"id": proof_id},
        r=row,
        image=render_jobs.image_state(get_db(), row),
    )


@bp.post("/proofs/<int:proof_id>/revisions/<int:number>/render")
def revision_render(proof_id: int, number: int):
    """Start a failed render again (a fresh set of attempts)."""
    row = _revision_row(proof_id, number)
    if render_jobs.retry(get_db(), row["id"]):
        render_jobs.after_commit(get_db(), render_jobs.job_for(get_db(), row["id"]))
        flash(f"Rendering revision {number} again.", "ok")
    else:
        flash(f"Revision {number}'s image is not in a failed state.", "error")
    return redirect(url_for("staff.proof", proof_id=proof_id), 303)


@bp.get("/proofs/<int:proof_id>/emails/<int:email_id>.eml")
def email_file(proof_id: int, email_id: int):
    row = (
        get_db()
        .execute(
            "SELECT message, message_images FROM outbox WHERE id = ? AND proof_id = ?", (email_id, proof_id)
        )
        .fetchone()
    )
    if row is None:
        abort(404, "No such email for this proof.")
    try:
        message = mail.message_bytes(row)  # as sent: its images put back from the store
    except mail.MessageImageError as exc:
        abort(409, f"This email cannot be rebuilt: {exc}. Run verify-records for the full report.")
    return Response(
        message,
        mimetype="message/rfc822",
        headers={"Content-Disposition": f'attachment; filename="email-{email_id}.eml"'},
    )


@bp.post("/proofs/<int:proof_id>/notes")
def note(proof_id: int):
    _record_or_404(proof_id)
    try:
        add_note(get_db(), proof_id, request.form.get("note", ""), who())
        flash(gettext("Note added to the record."), "ok")
    except ActionError as exc:
        flash(str(exc), "error")
    return redirect(url_for("staff.proof", proof_id=proof_id) + "#notes")


@bp.post("/proofs/<int:proof_id>/resend")
def resend(proof_id: int):
    _record_or_404(proof_id)
    w = who()
    try:
        proofs_service.resend_link(get_db(), proof_id, actor=w.actor, ip=w.ip, user_agent=w.user_agent)
        flash(gettext("A fresh approval link was emailed to the customer."), "ok")
    except proofs_service.ProofError as exc:
        flash(str(exc), "error")
    return redirect(url_for("staff.proof", proof_id=proof_id))


@bp.post("/proofs/<int:proof_id>/cancel")
def cancel(proof_id: int):
    _record_or_404(proof_id)
    reason = (request.form.get("reason") or "").strip()
    if not reason:
        flash(gettext("Say why the proof is cancelled: the reason goes into the record."), "error")
        return redirect(url_for("staff.proof", proof_id=proof_id))
    w = who()
    try:
        proofs_service.cancel(
            get_db(), proof_id, actor=w.actor, reason=reason, ip=w.ip, user_agent=w.user_agent
        )
        flash(gettext("Proof cancelled."), "ok")
    except proofs_service.ProofError as exc:
        flash(str(exc), "error")
    return redirect(url_for("staff.proof", proof_id=proof_id))

"""Photos of the received item on a return claim: upload, and the stored copy."""

from __future__ import annotations

from flask import Response, abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext

from proofmark import claim_photos, storage
from proofmark.db import get_db
from proofmark.staff.blueprint import bp
from proofmark.staff.views import who


@bp.post("/proofs/<int:proof_id>/claims/<int:claim_id>/photos")
def add_claim_photos(proof_id: int, claim_id: int):
    db = get_db()
    claim = db.execute("SELECT id FROM claims WHERE id = ? AND proof_id = ?", (claim_id, proof_id)).fetchone()
    if claim is None:
        abort(404, gettext("There is no claim #%(id)s on this proof.", id=claim_id))
    # The whole request is bounded before the form is parsed: a few photos at the size limit.
    request.max_content_length = int(current_app.config["CLAIM_PHOTO_MAX_BYTES"]) * 4 + 64 * 1024
    uploads = [
        (f.filename or "", f.read())
        for f in request.files.getlist("photos")
        if f.filename or f.content_length
    ]
    w = who()
    try:
        added = claim_photos.add(db, claim_id, uploads, actor=w.actor, ip=w.ip, user_agent=w.user_agent)
    except claim_photos.PhotoError as exc:
        flash(str(exc), "error")
        return redirect(url_for("staff.proof", proof_id=proof_id, _anchor=f"claim-{claim_id}")), 303
    flash(gettext("%(count)s photo(s) added to claim #%(id)s.", count=len(added), id=claim_id), "ok")
    return redirect(url_for("staff.proof", proof_id=proof_id, _anchor=f"claim-{claim_id}")), 303


@bp.get("/claim-photos/<sha256>.jpg")
def claim_photo(sha256: str):
    if not get_db().execute("SELECT 1 FROM claim_photos WHERE sha256 = ?", (sha256,)).fetchone():
        abort(404, "There is no such claim photo.")
    try:
        data = claim_photos.get(sha256)
    except (storage.StoredImageMissing, ValueError):
        abort(404, "The photo's file is missing from the image store.")
    return Response(data, mimetype="image/jpeg", headers={"Cache-Control": "private, max-age=3600"})

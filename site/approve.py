"""The customer's approval pages: /approve/<token> (the link in the proof email).

Thin views over proofmark.proofs. The token (proofmark.tokens.verify_approval) says which proof,
which revision and which emailed link; everything else is read from the database.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from proofmark import i18n, proofs, storage
from proofmark.db import get_db
from proofmark.proofs import render_jobs
from proofmark.tokens import TokenExpired, TokenInvalid, verify_approval

bp = Blueprint("approve", __name__, url_prefix="/approve")


def _client() -> dict:
    return {"ip": request.remote_addr, "user_agent": (request.user_agent.string or "")[:500] or None}


def _invalid(message: str, status: int = 400):
    return render_template("approve/invalid.html", message=message), status


def _resolve(token: str):
    """(approval, proof, revision) or a response to return instead."""
    try:
        approval = verify_approval(token)
    except TokenExpired as exc:
        proof = proofs.get_proof(get_db(), exc.approval.proof_id)
        if proof is None:
            return None, _invalid(_("This approval link does not match any proof we have."))
        return None, (
            render_template(
                "approve/link_expired.html",
                proof=proof,
                token=token,
                masked_email=proofs.mask_email(proof.customer_email),
                message=str(exc),
            ),
            410,
        )
    except TokenInvalid as exc:
        return None, _invalid(str(exc))
    proof, revision = _link_target(get_db(), approval)
    if revision is None:
        return None, _invalid(_("This approval link does not match any proof we have."))
    g.proofmark_language = (revision.options or {}).get("language")
    return (approval, proof, revision), None


def _link_target(db, approval) -> tuple[proofs.Proof | None, proofs.Revision | None]:
    """The link's proof and revision, the revision None unless the link's nonce is its own. The
    proof's current revision, read with it, is the link's unless a newer one replaced it."""
    proof = proofs.get_proof(db, approval.proof_id)
    if proof is None:
        return None, None
    if approval.revision == proof.current_revision and proof.revision is not None:
        revision = proof.revision
    else:
        revision = proofs.get_revision(db, approval.proof_id, approval.revision)
    if revision is None or revision.nonce != approval.nonce:
        return proof, None
    return proof, revision


def _state(proof: proofs.Proof, revision: proofs.Revision) -> str:
    if proof.status == "cancelled":
        return "cancelled"
    if revision.number != proof.current_revision:
        return "superseded"
    if not revision.image_sha256:
        return "preparing"  # its render job has not stored the picture yet: nothing to decide on
    return proof.status


def _other_views(token: str, proof: proofs.Proof, revision: proofs.Revision) -> list[tuple]:
    """The product's other views of the same design, as (label, image address, width, height): shown beside
    the proof for a look from another side. The proof itself (the first view) is what is
    approved; these are shown alongside. A revision rendered with its views shows the images
    stored then (their hashes are in its `image_rendered` event and the evidence); an older
    one shows live previews of the same immutable product version."""
    from proofmark.personalizer.previews import preview_url
    from proofmark.personalizer.state import view_label
    from proofmark_renderer import catalog

    stored = render_jobs.view_images(get_db(), proof.id, revision.number)
    if stored:
        return [
            (
                view_label(v["name"]),
                url_for("approve.view_image", token=token, view=v["view"]),
                *(v.get("image_size") or (600, 450)),
            )
            for v in stored
        ]
    design = revision.design
    product = catalog.product(design.product)
    if product is None or len(product.view_names) < 2:
        return []
    return [
        (view_label(name), preview_url(design, 600, "jpeg", view=i), 600, 450)
        for i, name in enumerate(product.view_names)
        if i
    ]


def _decision_event(proof_id: int, kind: str, revision: int) -> dict | None:
    for event in reversed(proofs.get_events(get_db(), proof_id)):
        if event["kind"] == kind and event["data"].get("revision") == revision:
            return event
    return None


def _page(
    token: str,
    approval,
    proof: proofs.Proof,
    revision: proofs.Revision,
    *,
    error: str | None = None,
    ticked: list[str] | None = None,
    comment: str = "",
    status: int = 200,
    notice: str | None = None,
):
    state = _state(proof, revision)
    if state == "preparing":
        return render_template(
            "approve/preparing.html", token=token, proof=proof, revision=revision, error=error
        ), status
    shown = proofs.page_content(proof, revision)
    decision = None
    if state == "approved":
        decision = _decision_event(proof.id, "approved", revision.number)
    elif state == "changes_requested":
        decision = _decision_event(proof.id, "changes_requested", revision.number)
    return render_template(
        "approve/proof.html",
        token=token,
        proof=proof,
        revision=revision,
        shown=shown,
        shown_sha256=proofs.page_content_sha256(shown),
        other_views=_other_views(token, proof, revision),
        state=state,
        decision=decision,
        error=error,
        notice=notice,
        ticked=ticked or [],
        comment=comment,
        masked_email=proofs.mask_email(proof.customer_email),
        current_revision=proof.current_revision,
    ), status


@bp.get("/<token>")
def show(token: str):
    resolved, response = _resolve(token)
    if response is not None:
        return response
    approval, proof, revision = resolved
    # A page that shows no proof (cancelled, or its picture still being drawn) is no view of it.
    if _state(proof, revision) not in ("cancelled", "preparing"):
        proofs.record_view(
            get_db(),
            proof.id,
            revision=revision.number,
            link_id=approval.link_id,
            language=i18n.current_language(),
            **_client(),
        )
    notice = _NOTICES.get(request.args.get("done", ""))
    return _page(token, approval, proof, revision, notice=notice and notice())


# What the page says after a decision or a resend (`done=`), translated only when shown.
_NOTICES = {
    "approved": lambda: _("Thank you: your approval is recorded."),
    "changes": lambda: _("Thank you: your change request is recorded."),
    "resent": lambda: _("We have emailed you a fresh link."),
}


@bp.get("/<token>/image.png")
def image(token: str):
    resolved, response = _resolve(token)
    if response is not None:
        return response  # the page that says what is wrong with the link, with its status
    _, _, revision = resolved
    try:
        path = storage.path_for(revision.image_sha256)
    except ValueError:
        abort(404)
    if not path.is_file():
        abort(404)
    with path.open("rb") as fh:
        data = fh.read()
    return Response(
        data,
        mimetype="image/png",
        headers={
            "Cache-Control": "private, max-age=86400, immutable",
            "ETag": f'"{revision.image_sha256}"',
        },
    )


@bp.get("/<token>/views/<int:view>.png")
def view_image(token: str, view: int):
    """One of the product's other views, as rendered and stored with this revision's proof."""
    resolved, response = _resolve(token)
    if response is not None:
        return response
    _, proof, revision = resolved
    sha = next(
        (
            v["image_sha256"]
            for v in render_jobs.view_images(get_db(), proof.id, revision.number)
            if v["view"] == view
        ),
        None,
    )
    if sha is None:
        abort(404)
    try:
        path = storage.path_for(sha)
    except ValueError:
        abort(404)
    if not path.is_file():
        abort(404)
    return Response(
        path.read_bytes(),
        mimetype="image/png",
        headers={"Cache-Control": "private, max-age=86400, immutable", "ETag": f'"{sha}"'},
    )


@bp.post("/<token>/approve")
def approve(token: str):
    resolved, response = _resolve(token)
    if response is not None:
        return response
    approval, proof, revision = resolved
    ticked = request.form.getlist("statement")
    try:
        decision = proofs.approve(
            get_db(),
            proof.id,
            revision=approval.revision,
            nonce=approval.nonce,
            statements_ticked=ticked,
            shown_sha256=request.form.get("shown") or "",
            link_id=approval.link_id,
            seen=(proof, revision),  # just read by _resolve: prepared from, checked again inside
            **_client(),
        )
    except proofs.ProofChanged as exc:
        proof = proofs.get_proof(get_db(), proof.id)
        return _page(token, approval, proof, revision, error=str(exc), status=409)
    except (proofs.ProofSuperseded, proofs.ProofExpired):
        return redirect(url_for("approve.show", token=token), 303)
    except proofs.ProofError as exc:
        return _page(token, approval, proof, revision, error=str(exc), ticked=ticked, status=422)
    return _after(token, decision)


@bp.post("/<token>/changes")
def changes(token: str):
    resolved, response = _resolve(token)
    if response is not None:
        return response
    approval, proof, revision = resolved
    comment = request.form.get("comment", "")
    try:
        decision = proofs.request_changes(
            get_db(),
            proof.id,
            revision=approval.revision,
            nonce=approval.nonce,
            comment=comment,
            shown_sha256=request.form.get("shown") or "",
            link_id=approval.link_id,
            **_client(),
        )
    except proofs.ProofChanged as exc:
        proof = proofs.get_proof(get_db(), proof.id)
        return _page(token, approval, proof, revision, error=str(exc), comment=comment, status=409)
    except (proofs.ProofSuperseded, proofs.ProofExpired):
        return redirect(url_for("approve.show", token=token), 303)
    except proofs.ProofError as exc:
        error = exc.shopper if exc.shopper and i18n.current_language() != "en" else str(exc)
        return _page(token, approval, proof, revision, error=error, comment=comment, status=422)
    return _after(token, decision)


def _after(token: str, decision: proofs.Decision):
    """Back to the page (POST/redirect/GET), which shows the outcome that stands: for a
    repeat or the loser of a race, the earlier decision, not the one just clicked."""
    done = {"approved": "approved", "changes_requested": "changes"}.get(decision.status, "")
    return redirect(url_for("approve.show", token=token, done=done), 303)


@bp.post("/<token>/resend")
def resend(token: str):
    """A fresh link to the email address on file, for an expired link or an expired proof.
    Works with an expired token: it is still ours, and the mail goes only to the address
    the proof was sent to."""
    try:
        approval = verify_approval(token)
    except TokenExpired as exc:
        approval = exc.approval
    except TokenInvalid as exc:
        return _invalid(str(exc))
    db = get_db()
    proof, revision = _link_target(db, approval)
    if revision is None:
        return _invalid(_("This approval link does not match any proof we have."))
    try:
        proofs.resend_link(db, proof.id, actor="customer", **_client())
        error = None
    except proofs.ProofError as exc:
        error = str(exc)
    return render_template(
        "approve/resent.html",
        proof=proofs.get_proof(db, proof.id),
        error=error,
        masked_email=proofs.mask_email(proof.customer_email),
    ), (200 if error is None else 409)

"""Return claims: record what the customer says, see the assessment, decide."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext

from proofmark.claims import (
    CLAIM_KINDS,
    MAX_DESCRIPTION,
    MAX_EXPECTED_TEXT,
    OUTCOMES,
    ApprovedRevision,
    ClaimError,
    Integrity,
    RevisionText,
    assess,
)
from proofmark.db import get_db
from proofmark.evidence import ProofRecord
from proofmark.staff.actions import ActionError, decide_claim, record_claim
from proofmark.staff.blueprint import bp, translated
from proofmark.staff.forms import ClaimForm
from proofmark.staff.search import STATUS_LABELS
from proofmark.staff.views import _record_or_404, who
from proofmark_renderer import catalog


def assessment_inputs(record: ProofRecord) -> dict:
    approval = record.approval
    approved = None
    if approval is not None:
        approved = ApprovedRevision(
            number=approval["revision"] or 0,
            lines=tuple(approval["lines"]),
            fields=dict(approval["fields"]),
            font=approval["font"],
            font_name=approval["font_name"],
            product=approval["product"],
            image_sha256=approval["image_sha256"] or "",
            approved_at=approval["at"],
        )
    image_problem = record.image_problems.get(approval["image_sha256"]) if approval else None
    chain_problems = tuple(p.describe() for p in record.verification.problems if p.what == "event")
    return {
        "approved": approved,
        "status": record.proof["status"],
        "revisions": [
            RevisionText(r["number"], tuple(r["lines"]), r["fields"], r["font"]) for r in record.revisions
        ],
        "integrity": Integrity(
            chain_intact=not chain_problems, image_problem=image_problem, problems=chain_problems
        ),
    }


def _form_page(record, form, assessment=None, error=None, status=200):
    return render_template(
        "staff/claim_new.html",
        record=record,
        form=form,
        assessment=assessment,
        error=error,
        claim_kinds=translated(CLAIM_KINDS),
        outcomes=translated(OUTCOMES),
        statuses=translated(STATUS_LABELS),
        fonts=catalog.fonts(),
        max_description=MAX_DESCRIPTION,
        max_expected_text=MAX_EXPECTED_TEXT,
    ), status


@bp.route("/proofs/<int:proof_id>/claims/new", methods=["GET", "POST"])
def new_claim(proof_id: int):
    record = _record_or_404(proof_id)
    if request.method == "GET":
        return _form_page(record, ClaimForm())
    form = ClaimForm.from_form(request.form)
    try:
        assessment = assess(form.claim(), **assessment_inputs(record))
    except ClaimError as exc:
        return _form_page(record, form, error=str(exc), status=400)
    if request.form.get("action") != "record":
        # "Assess" shows the outcome first; recording is a second, deliberate step.
        return _form_page(record, form, assessment=assessment)
    claim_id = record_claim(get_db(), proof_id, form.claim(), assessment, who())
    flash(gettext("Claim #%(id)s recorded: %(label)s.", id=claim_id, label=gettext(assessment.label)), "ok")
    return redirect(url_for("staff.proof", proof_id=proof_id) + f"#claim-{claim_id}")


@bp.post("/proofs/<int:proof_id>/claims/<int:claim_id>/decide")
def decide(proof_id: int, claim_id: int):
    _record_or_404(proof_id)
    row = get_db().execute("SELECT proof_id FROM claims WHERE id = ?", (claim_id,)).fetchone()
    if row is None or row["proof_id"] != proof_id:
        flash(gettext("There is no claim #%(id)s on this proof.", id=claim_id), "error")
        return redirect(url_for("staff.proof", proof_id=proof_id))
    try:
        chosen = decide_claim(
            get_db(),
            claim_id,
            request.form.get("resolution", ""),
            request.form.get("note", ""),
            current_app.config["CLAIM_RESOLUTIONS"],
            who(),
        )
        flash(gettext("Claim #%(id)s decided: %(label)s.", id=claim_id, label=gettext(chosen["label"])), "ok")
    except ActionError as exc:
        flash(str(exc), "error")
    return redirect(url_for("staff.proof", proof_id=proof_id) + f"#claim-{claim_id}")


@bp.get("/claims")
def claims():
    status = request.args.get("status", "open")
    if status not in ("open", "decided", "all"):
        status = "open"
    sql = (
        "SELECT c.*, p.order_ref, p.customer_name, p.product FROM claims c JOIN proofs p ON p.id = c.proof_id"
        + ("" if status == "all" else " WHERE c.status = ?")
        + " ORDER BY c.created_at DESC LIMIT 200"
    )
    rows = [dict(r) for r in get_db().execute(sql, () if status == "all" else (status,))]
    return render_template(
        "staff/claims.html",
        claims=rows,
        status=status,
        outcomes=translated(OUTCOMES),
        claim_kinds=translated(CLAIM_KINDS),
        resolution_labels={
            r["id"]: gettext(r.get("label", r["id"])) for r in current_app.config["CLAIM_RESOLUTIONS"]
        },
    )

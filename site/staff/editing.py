"""Staff-made designs: a new proof from the staff form, and a new revision of a proof.
Both preview with the renderer before anything is sent, and both go through the proofs
service, which renders the proof image, records the events and emails the link."""

from __future__ import annotations

import base64

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext

from proofmark import proofs
from proofmark.db import get_db
from proofmark.staff.blueprint import bp
from proofmark.staff.forms import CustomerForm, DesignForm, products_json
from proofmark.staff.views import _record_or_404, who
from proofmark_renderer import catalog

PREVIEW_WIDTH = 900


def preview(design_form: DesignForm) -> dict:
    """What the preview panel shows: the image as a data URL and the renderer's issues."""
    design = design_form.design()
    if design is None:
        return {"image": None, "issues": [], "errors": design_form.errors}
    from proofmark_renderer import render

    try:
        result = render(design, width=PREVIEW_WIDTH, fmt="png")
    except Exception as exc:  # the renderer is another module's code: show its failure, don't 500
        current_app.logger.exception("staff preview failed")
        return {
            "image": None,
            "issues": [],
            "errors": [gettext("The preview could not be rendered: %(error)s", error=exc)],
        }
    image = "data:image/png;base64," + base64.b64encode(result.image).decode()
    return {"image": image, "issues": list(result.issues), "errors": [], "ok": result.ok}


def _page(template: str, **context):
    context.setdefault("products", catalog.products())
    context.setdefault("fonts", {f.id: f.name for f in catalog.fonts()})
    context.setdefault("products_json", products_json())
    return render_template(template, **context)


@bp.post("/preview")
def preview_partial():
    return render_template("staff/_preview.html", preview=preview(DesignForm.from_form(request.form)))


@bp.route("/proofs/new", methods=["GET", "POST"])
def new_proof():
    if request.method == "GET":
        products = catalog.products()
        first = products[0] if products else None
        design = DesignForm(product=first.id if first else "", font=first.default_font if first else "")
        return _page("staff/new_proof.html", customer=CustomerForm(), design=design, preview=None)
    customer = CustomerForm.from_form(request.form)
    design_form = DesignForm.from_form(request.form)
    design = design_form.design()
    errors = customer.errors + design_form.errors
    shown = preview(design_form)
    if shown.get("image") and not shown.get("ok", True):
        errors.append(
            gettext("The design has problems that block it (see the preview); fix them before sending.")
        )
    if errors:
        return _page(
            "staff/new_proof.html", customer=customer, design=design_form, preview=shown, errors=errors
        ), 400
    w = who()
    try:
        proof_id = proofs.create_proof(
            get_db(),
            order_ref=customer.order_ref,
            customer_name=customer.customer_name,
            customer_email=customer.customer_email,
            design=design,
            source="staff",
            actor=w.actor,
            ip=w.ip,
            user_agent=w.user_agent,
        )
    except proofs.ProofError as exc:
        return _page(
            "staff/new_proof.html", customer=customer, design=design_form, preview=shown, errors=[str(exc)]
        ), 400
    flash(
        gettext(
            "Proof created; it is emailed to %(email)s as soon as its image is rendered.",
            email=customer.customer_email,
        ),
        "ok",
    )
    return redirect(url_for("staff.proof", proof_id=proof_id))


@bp.route("/proofs/<int:proof_id>/revise", methods=["GET", "POST"])
def revise(proof_id: int):
    record = _record_or_404(proof_id)
    if request.method == "GET":
        current = record.current
        design_form = DesignForm.from_design(
            current["design_dict"] if current else {"product": record.proof["product"]}
        )
        return _page(
            "staff/revise.html", record=record, design=design_form, preview=preview(design_form), note=""
        )
    design_form = DesignForm.from_form(request.form)
    note = (request.form.get("note") or "").strip()
    design = design_form.design()
    shown = preview(design_form)
    errors = list(design_form.errors)
    if shown.get("image") and not shown.get("ok", True):
        errors.append(
            gettext("The design has problems that block it (see the preview); fix them before sending.")
        )
    if errors:
        return _page(
            "staff/revise.html", record=record, design=design_form, preview=shown, note=note, errors=errors
        ), 400
    w = who()
    try:
        number = proofs.add_revision(
            get_db(), proof_id, design, actor=w.actor, ip=w.ip, user_agent=w.user_agent, note=note or None
        )
    except proofs.ProofError as exc:
        return _page(
            "staff/revise.html",
            record=record,
            design=design_form,
            preview=shown,
            note=note,
            errors=[str(exc)],
        ), 400
    del number
    flash(
        gettext(
            "Revision added; it is emailed to %(email)s as soon as its image is rendered.",
            email=record.proof["customer_email"],
        ),
        "ok",
    )
    return redirect(url_for("staff.proof", proof_id=proof_id))

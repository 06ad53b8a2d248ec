"""Connecting the shop, for staff: received order webhooks and their outcome, proofs to
prepare (order text, pasted Etsy orders), a link or message to paste into a marketplace
conversation, and the endpoints that receive proof events with their delivery log."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext

from proofmark import proofs
from proofmark.db import get_db
from proofmark.integrations import inbound, outbound, sharing
from proofmark.integrations import requests as proof_requests
from proofmark.staff.blueprint import bp
from proofmark.staff.editing import _page, preview
from proofmark.staff.forms import CustomerForm, DesignForm
from proofmark.staff.views import _record_or_404, who
from proofmark_renderer import catalog


@bp.get("/integrations/received")
def received_webhooks():
    return render_template("staff/received.html", deliveries=inbound.recent(get_db()))


# --- proofs to prepare, and Etsy ------------------------------------------------------------


@bp.get("/to-prepare")
def to_prepare():
    rows = proof_requests.to_prepare(get_db())
    return render_template(
        "staff/to_prepare.html",
        rows=rows,
        names=inbound.PLATFORM_NAMES,
        hidden_count=proof_requests.hidden_count,
    )


@bp.route("/etsy/new", methods=["GET", "POST"])
def etsy_new():
    form = {
        k: request.form.get(k, "")
        for k in ("order_ref", "customer_name", "customer_email", "personalization")
    }
    if request.method == "GET":
        return render_template("staff/etsy_new.html", form=form)
    try:
        request_id = proof_requests.create_from_paste(
            get_db(),
            order_ref=form["order_ref"],
            customer_name=form["customer_name"],
            customer_email=form["customer_email"],
            # Exactly as pasted: not stripped, line breaks as the browser sent them.
            personalization=request.form.get("personalization", ""),
            actor=who().actor,
        )
    except proofs.ProofError as exc:
        return render_template("staff/etsy_new.html", form=form, error=str(exc)), 400
    return redirect(url_for("staff.prepare", request_id=request_id))


def _prepare_page(req: dict, customer: CustomerForm, design: DesignForm, shown=None, errors=None, status=200):
    return _page(
        "staff/prepare.html",
        req=req,
        chars=proof_requests.visible_characters(req["personalization"]),
        hidden=proof_requests.hidden_count(req["personalization"]),
        names=inbound.PLATFORM_NAMES,
        customer=customer,
        design=design,
        preview=shown,
        errors=errors or [],
    ), status


@bp.route("/to-prepare/<int:request_id>", methods=["GET", "POST"])
def prepare(request_id: int):
    db = get_db()
    req = proof_requests.get(db, request_id)
    if req is None:
        abort(404, gettext("There is no proof request #%(id)s.", id=request_id))
    if req["status"] == "prepared":
        return redirect(url_for("staff.proof", proof_id=req["proof_id"]))
    if request.method == "GET":
        products = catalog.products()
        first = products[0] if products else None
        customer = CustomerForm(
            order_ref=req["order_ref"],
            customer_name=req["customer_name"],
            customer_email=req["customer_email"],
        )
        design = DesignForm(product=first.id if first else "", font=first.default_font if first else "")
        return _prepare_page(req, customer, design)
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
        return _prepare_page(req, customer, design_form, shown, errors, 400)
    w = who()
    try:
        proof_id = proof_requests.prepare(
            db,
            request_id,
            design=design,
            order_ref=customer.order_ref,
            customer_name=customer.customer_name,
            customer_email=customer.customer_email,
            actor=w.actor,
            ip=w.ip,
            user_agent=w.user_agent,
        )
    except proofs.ProofError as exc:
        return _prepare_page(req, customer, design_form, shown, [str(exc)], 400)
    flash(
        gettext(
            "Proof created; it is emailed to %(email)s as soon as its image is rendered.",
            email=customer.customer_email,
        ),
        "ok",
    )
    return redirect(url_for("staff.proof", proof_id=proof_id, _anchor="share"))


@bp.post("/proofs/<int:proof_id>/share")
def share_link(proof_id: int):
    """A fresh approval link (recorded) and a ready message, to paste into Etsy's conversation."""
    record = _record_or_404(proof_id)
    w = who()
    try:
        shared = sharing.share_link(get_db(), proof_id, actor=w.actor, ip=w.ip, user_agent=w.user_agent)
    except proofs.ProofError as exc:
        flash(str(exc), "error")
        return redirect(url_for("staff.proof", proof_id=proof_id))
    return render_template("staff/share.html", record=record, shared=shared)


# --- webhooks out ---------------------------------------------------------------------------


@bp.route("/webhooks", methods=["GET", "POST"])
def webhook_endpoints():
    db = get_db()
    error = None
    created = None
    if request.method == "POST":
        try:
            created = outbound.add_endpoint(
                db,
                request.form.get("url", ""),
                actor=who().actor,
                description=request.form.get("description", ""),
                event_types=request.form.getlist("event_types"),
            )
        except outbound.EndpointError as exc:
            error = str(exc)
    return render_template(
        "staff/webhooks.html",
        endpoints=outbound.list_endpoints(db),
        types=outbound.ALL_TYPES,
        error=error,
        created=created,
    ), (400 if error else 200)


@bp.post("/webhooks/<int:endpoint_id>/remove")
def webhook_remove(endpoint_id: int):
    if outbound.remove_endpoint(get_db(), endpoint_id):
        flash(gettext("Endpoint #%(id)s removed; nothing more is sent to it.", id=endpoint_id), "ok")
    return redirect(url_for("staff.webhook_endpoints"))


@bp.get("/webhooks/<int:endpoint_id>")
def webhook_log(endpoint_id: int):
    db = get_db()
    endpoint = outbound.get_endpoint(db, endpoint_id)
    if endpoint is None:
        abort(404, gettext("There is no webhook endpoint #%(id)s.", id=endpoint_id))
    return render_template(
        "staff/webhook_log.html", endpoint=endpoint, deliveries=outbound.delivery_log(db, endpoint_id)
    )


@bp.post("/webhooks/deliveries/<int:delivery_id>/resend")
def webhook_resend(delivery_id: int):
    db = get_db()
    row = db.execute("SELECT endpoint_id FROM webhook_deliveries WHERE id = ?", (delivery_id,)).fetchone()
    if row is None:
        abort(404, gettext("There is no webhook delivery #%(id)s.", id=delivery_id))
    if outbound.resend(db, delivery_id):
        flash(gettext("Delivery #%(id)s queued again (same webhook-id).", id=delivery_id), "ok")
    else:
        flash(
            gettext(
                "Delivery #%(id)s cannot be resent now (being sent, or its endpoint was removed).",
                id=delivery_id,
            ),
            "error",
        )
    return redirect(url_for("staff.webhook_log", endpoint_id=row["endpoint_id"]))

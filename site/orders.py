"""The demo shop's "Place order": a verified design token becomes a proof, emailed to the
shopper for approval. (A real shop sends its orders through POST /api/proofs.)

Anonymous, and each order renders a proof and sends an email: so it is open in demo mode
(which serves this computer only) and debug, and in production only when SHOP_ORDERS is on,
then at most SHOP_ORDERS_PER_HOUR orders per client address."""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext

from proofmark import i18n, proofs
from proofmark.db import get_db, transaction
from proofmark.proofs import render_jobs
from proofmark.records import timestamp, utcnow
from proofmark.security import csrf
from proofmark.tokens import TokenError, verify_design
from proofmark_renderer.quoting import quote

bp = Blueprint("orders", __name__, url_prefix="/orders")


def orders_open() -> bool:
    config = current_app.config
    return bool(config.get("DEMO") or current_app.debug or config.get("SHOP_ORDERS"))


def _rate_limited() -> bool:
    """Count this order against the client's hourly allowance (production only)."""
    if current_app.config.get("DEMO") or current_app.debug:
        return False
    limit = int(current_app.config["SHOP_ORDERS_PER_HOUR"])
    now = utcnow()
    ip = request.remote_addr or "unknown"
    db = get_db()
    with transaction(db):
        db.execute("DELETE FROM shop_order_attempts WHERE at < ?", (timestamp(now - timedelta(days=1)),))
        used = db.execute(
            "SELECT count(*) FROM shop_order_attempts WHERE ip = ? AND at >= ?",
            (ip, timestamp(now - timedelta(hours=1))),
        ).fetchone()[0]
        if used >= limit:
            return True
        db.execute("INSERT INTO shop_order_attempts (ip, at) VALUES (?, ?)", (ip, timestamp(now)))
    return False


@bp.before_request
def _only_when_open():
    if not orders_open():
        abort(404)


def _form() -> dict:
    return {
        "design_token": request.form.get("design_token", ""),
        "customer_name": request.form.get("customer_name", ""),
        "customer_email": request.form.get("customer_email", ""),
        "order_ref": request.form.get("order_ref", ""),
    }


# No CSRF token: the button may sit inside the personalizer's iframe on the shop's site,
# where our session cookie is not sent. The signed design token is what authorises the
# order, and anyone could post it directly anyway.
@bp.post("")
@csrf.exempt
def place():
    if _rate_limited():
        limit = current_app.config["SHOP_ORDERS_PER_HOUR"]
        message = gettext(
            "This shop takes at most %(limit)s orders an hour from one address, and that many were placed. "
            "Please try again in an hour; nothing was saved.",
            limit=limit,
        )
        return render_template("orders/error.html", message=message, form=None), 429, {"Retry-After": "3600"}
    form = _form()
    try:
        design_token = verify_design(form["design_token"])
    except TokenError as exc:
        return render_template("orders/error.html", message=str(exc), form=None), 400
    # Left empty, the demo makes one up; anything typed is checked exactly as typed.
    order_ref = form["order_ref"] or "DEMO-" + "".join(
        secrets.choice("23456789ABCDEFGHJKMNPQRSTVWXYZ") for _ in range(6)
    )
    try:
        proof_id = proofs.create_proof(
            get_db(),
            order_ref=order_ref,
            customer_name=form["customer_name"],
            customer_email=form["customer_email"],
            design=design_token.design,
            source="shop",
            actor="shop",
            ip=request.remote_addr,
            user_agent=(request.user_agent.string or "")[:500] or None,
            design_token=design_token,
        )
    except proofs.ProofError as exc:
        if exc.field in form and proofs.hidden_character(form[exc.field]):
            # Shown empty: the shopper cannot see the invisible character to remove it, and
            # the form must not send the same mistake again. Anything visible is kept to edit.
            form[exc.field] = ""
        # In English the service's own words (they name the field as the form does).
        message = exc.shopper if exc.shopper and i18n.current_language() != "en" else str(exc)
        if isinstance(exc, proofs.OrderRefTaken):  # its own words are for API clients
            message = gettext(
                "There is already an order %(order)s. Leave the order reference empty or type another one.",
                order=quote(form["order_ref"], 64),
            )
        return render_template("orders/error.html", message=message, form=form, field=exc.field), 422
    if session.get("cart") == form["design_token"]:
        # Ordered: the demo cart must not still offer the same item (a second "Place
        # order" would only show this proof again).
        session.pop("cart", None)
    proof = proofs.get_proof(get_db(), proof_id)
    return redirect(url_for("orders.placed", public_id=proof.public_id, **i18n.carried_language()), 303)


@bp.get("/<public_id>")
def placed(public_id: str):
    proof = proofs.get_proof_by_public_id(get_db(), public_id)
    if proof is None:
        abort(404)
    demo = bool(current_app.config.get("DEMO") or current_app.debug)
    return render_template(
        "orders/placed.html",
        proof=proof,
        masked_email=proofs.mask_email(proof.customer_email),
        demo=demo,
        image=render_jobs.image_state(get_db(), proof.revision),
    )


@bp.get("/<public_id>/progress")
def progress(public_id: str):
    """The order-placed page's message alone (htmx asks every 2 s while the proof is drawn)."""
    proof = proofs.get_proof_by_public_id(get_db(), public_id)
    if proof is None:
        abort(404)
    return render_template(
        "orders/_progress.html",
        proof=proof,
        masked_email=proofs.mask_email(proof.customer_email),
        image=render_jobs.image_state(get_db(), proof.revision),
    )

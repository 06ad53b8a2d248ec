"""The demo shop's "Place order": a verified design token becomes a proof, emailed to the
shopper for approval. (A real shop sends its orders through POST /api/proofs.)"""

from __future__ import annotations

import secrets

from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for

from proofmark import proofs
from proofmark.db import get_db
from proofmark.security import csrf
from proofmark.tokens import TokenError, verify_design

bp = Blueprint("orders", __name__, url_prefix="/orders")


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
        return render_template("orders/error.html", message=str(exc), form=form, field=exc.field), 422
    if session.get("cart") == form["design_token"]:
        # Ordered: the demo cart must not still offer the same item (a second "Place
        # order" would only show this proof again).
        session.pop("cart", None)
    proof = proofs.get_proof(get_db(), proof_id)
    return redirect(url_for("orders.placed", public_id=proof.public_id), 303)


@bp.get("/<public_id>")
def placed(public_id: str):
    proof = proofs.get_proof_by_public_id(get_db(), public_id)
    if proof is None:
        abort(404)
    demo = bool(current_app.config.get("DEMO") or current_app.debug)
    return render_template(
        "orders/placed.html", proof=proof, masked_email=proofs.mask_email(proof.customer_email), demo=demo
    )

"""The demo shop around the personalizer: the catalog, a one-item cart and `/design/verify` (the
shopper's audience). The personalizer itself (`/p/<id>`) is proofmark.personalizer, registered
in `create_app` as `shop_personalizer`."""

from __future__ import annotations

from flask import Blueprint, jsonify, redirect, render_template, request, session, url_for
from flask_babel import gettext

from proofmark import i18n, tokens
from proofmark.personalizer import previews
from proofmark.personalizer import state as personalize
from proofmark.security import csrf
from proofmark_renderer import RENDERER_VERSION, Design, catalog

bp = Blueprint("shop", __name__)

# A sample design per product for the catalog's pictures.
SAMPLES: dict[str, dict] = {
    "pendant-round": {"lines": ["Anna", "12 June 2021"], "fields": {"rim": "always in my heart"}},
    "bar-necklace": {"lines": ["Forever Yours"]},
    "ring-band": {"lines": ["A & B · 12.06.2021"]},
    "ornament-stamped": {"lines": ["NOAH", "2019 - 2024", "LOVED"]},
    "cutting-board": {"lines": ["The Millers", "Est. 2015"]},
    "tshirt": {"lines": ["Team Bride"]},
    "mug": {"lines": ["World's Best", "Grandpa"]},
}


def sample_design(product) -> Design:
    sample = SAMPLES.get(product.id, {"lines": ["Anna"]})
    fields = {k: v for k, v in sample.get("fields", {}).items() if k in product.fields}
    lines = sample["lines"][: product.max_lines]
    return Design(product=product.id, font=product.default_font, lines=tuple(lines), fields=fields)


@bp.get("/")
def index():
    products = catalog.products()
    cards = [(p, previews.preview_url(sample_design(p), 600, "jpeg")) for p in products]
    return render_template("shop/index.html", cards=cards)


# --- the demo cart --------------------------------------------------------------------------
# One item, kept in the session as its design token: enough to show the token travelling
# from "confirm" to "place order", which is what a real shop platform would do with it.


def _cart_item(token: str):
    try:
        design_token = tokens.verify_design(token)
    except tokens.TokenError:
        return None
    state = personalize.state_from_design(design_token.design)
    if state is None:
        return None
    return {"token": token, "design_token": design_token, "state": state}


@bp.route("/cart", methods=["GET", "POST"])
def cart():
    if request.method == "POST":
        token = request.form.get("design_token", "")
        try:
            tokens.verify_design(token)
        except tokens.TokenError as exc:
            return render_template(
                "shop/error.html", title=gettext("This design cannot be added"), message=str(exc)
            ), 400
        session["cart"] = token
        return redirect(url_for("shop.cart", **i18n.carried_language()), code=303)
    item = _cart_item(session.get("cart", ""))
    return render_template("shop/cart.html", item=item)


@bp.post("/cart/remove")
def cart_remove():
    session.pop("cart", None)
    return redirect(url_for("shop.cart", **i18n.carried_language()), code=303)


# --- verifying a token --------------------------------------------------------------------


@bp.post("/design/verify")
@csrf.exempt
def verify():
    """Check a design token and re-render exactly the image it names.

    JSON in (`{"token": ...}`) or a form field `design_token`; JSON out. Changes nothing,
    so it takes no CSRF token (shops' servers call it too).
    """
    payload = request.get_json(silent=True) if request.is_json else None
    token = (payload or {}).get("token") if isinstance(payload, dict) else None
    token = token or request.form.get("design_token") or request.form.get("token") or ""
    try:
        design_token = tokens.verify_design(token)
    except tokens.TokenError as exc:
        return jsonify(valid=False, error=str(exc)), 400
    design = design_token.design
    preview = design_token.options.get("preview") or {}
    width = preview.get("width") if preview.get("width") in previews.allowed_widths() else 1600
    fmt = preview.get("fmt") if preview.get("fmt") in previews.EXTENSIONS else "jpeg"
    content_key = design.content_key(width, fmt)
    product = catalog.product(design.product)
    return jsonify(
        valid=True,
        design=design.to_dict(),
        summary=design.text_summary(),
        product_name=product.name if product else None,
        # The variant the shopper chose (metal, colour), by id and name; "" for none.
        variant=design.variant,
        variant_name=catalog.variant_name(design.product, design.variant),
        design_name=catalog.design_name(design.product, design.variant),
        renderer_version=design_token.renderer_version,
        current_renderer_version=RENDERER_VERSION,
        content_key=design_token.content_key,
        # False when the renderer has changed since the shopper confirmed: the image at
        # preview_url is then today's rendering, not the one they saw.
        same_image=content_key == design_token.content_key,
        preview_url=previews.preview_url(design, width, fmt, external=True),
        nonce=design_token.nonce,
        options=design_token.options,
    )

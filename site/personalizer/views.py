"""The personalizer's views, registered twice: on the shop blueprint (`/p/<id>`, with the
site's chrome) and on the embed blueprint (`/embed/<id>`, made for a shop's iframe).

Thin on purpose: proofmark.personalizer.state builds the state, proofmark.personalizer.previews the image URLs, and
proofmark.tokens signs what was confirmed. None of these views changes server state, so they
need no session and no CSRF token, which an iframe on another site could not carry anyway.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, current_app, make_response, render_template, request

from proofmark import tokens
from proofmark.personalizer import previews
from proofmark.personalizer import state as personalize
from proofmark.records import timestamp
from proofmark.security import csrf
from proofmark_renderer import catalog


@dataclass(frozen=True)
class Context:
    """Which of the two personalizers a template is drawing."""

    blueprint: str  # "shop" or "embed"
    embedded: bool
    origin: str | None = None  # the embedding shop's origin, checked against the allow list

    def ep(self, name: str) -> str:
        return f"{self.blueprint}.{name}"

    @property
    def extra(self) -> dict[str, str]:
        """Query arguments every personalizer URL carries."""
        return {"origin": self.origin} if self.origin else {}


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def live_preview(state: personalize.State, external: bool = False) -> str:
    return previews.preview_url(state.design, current_app.config["PREVIEW_WIDTH"], "jpeg", external=external)


def large_preview(state: personalize.State, external: bool = False) -> str:
    return previews.preview_url(
        state.design, current_app.config["CONFIRM_PREVIEW_WIDTH"], "jpeg", external=external
    )


def _product_or_404(product_id: str, ctx: Context):
    product = catalog.product(product_id)
    if product is None:
        page = render_template(
            f"{ctx.blueprint}/error.html",
            pz=ctx,
            title="No such product",
            message=f"There is no product “{product_id[:60]}” in this shop.",
        )
        abort(make_response(page, 404))
    return product


def register(bp: Blueprint, *, prefix: str, embedded: bool, context_for) -> None:
    """Add the personalize, preview and confirm routes under `prefix` (e.g. "/p")."""

    def render_page(template: str, ctx: Context, status: int = 200, **values):
        return render_template(template, pz=ctx, **values), status

    @csrf.exempt
    def personalize_page(product_id: str):
        """The full page, or with `HX-Request` the htmx update (the preview and every issue
        slot, out of band). The `/preview` URL is the same view under the address htmx posts to."""
        ctx = context_for()
        product = _product_or_404(product_id, ctx)
        form = request.form if request.method == "POST" else request.args
        state = personalize.state_from_form(product, form)
        template = "_personalizer_update.html" if is_htmx() else f"{ctx.blueprint}/personalize.html"
        return render_page(template, ctx, state=state, preview_src=live_preview(state))

    @csrf.exempt
    def confirm(product_id: str):
        ctx = context_for()
        product = _product_or_404(product_id, ctx)
        form = request.form if request.method == "POST" else request.args
        state = personalize.state_from_form(product, form, editing=False)
        values = dict(
            state=state,
            preview_src=large_preview(state),
            disclosure_text=current_app.config["DISCLOSURE_TEXT"],
            disclosure_version=current_app.config["DISCLOSURE_VERSION"],
            disclosure_sha256=personalize.disclosure_hash(current_app.config["DISCLOSURE_TEXT"]),
            preview_key=state.design.content_key(current_app.config["CONFIRM_PREVIEW_WIDTH"], "jpeg"),
        )
        if request.method == "GET":
            return render_page(f"{ctx.blueprint}/confirm.html", ctx, confirmation=None, **values)

        confirmation = personalize.confirm(
            state,
            request.form,
            disclosure_text=current_app.config["DISCLOSURE_TEXT"],
            disclosure_version=current_app.config["DISCLOSURE_VERSION"],
            preview_width=current_app.config["CONFIRM_PREVIEW_WIDTH"],
            preview_fmt="jpeg",
            channel="embed" if ctx.embedded else "shop",
        )
        if not confirmation.ok:
            return render_page(f"{ctx.blueprint}/confirm.html", ctx, 422, confirmation=confirmation, **values)
        options = dict(confirmation.options, confirmed_at=timestamp())
        if ctx.origin:
            options["embed_origin"] = ctx.origin
        width = current_app.config["CONFIRM_PREVIEW_WIDTH"]
        token = tokens.sign_design(state.design, state.design.content_key(width, "jpeg"), options)
        return render_page(
            f"{ctx.blueprint}/confirmed.html",
            ctx,
            token=token,
            options=options,
            preview_external=large_preview(state, external=True),
            thumb_external=previews.preview_url(state.design, 600, "jpeg", external=True),
            **values,
        )

    bp.add_url_rule(f"{prefix}/<product_id>", "personalize", personalize_page, methods=["GET", "POST"])
    bp.add_url_rule(f"{prefix}/<product_id>/preview", "preview", personalize_page, methods=["GET", "POST"])
    bp.add_url_rule(f"{prefix}/<product_id>/confirm", "confirm", confirm, methods=["GET", "POST"])

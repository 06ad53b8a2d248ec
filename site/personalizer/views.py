"""The personalizer's views: one blueprint, registered twice in `create_app`: as
`shop_personalizer` under `/p` (the demo shop's page, with the site's chrome) and as `embed`
under `/embed` (made for a shop's iframe). A view learns which one it serves from
`request.blueprint`.

The embed registration checks the embedding shop's origin (`?origin=`, from the `/embed.js`
loader) against EMBED_ALLOWED_ORIGINS before any of its views runs, and proofmark.security lets
only the shops on that list frame it.

Thin on purpose: proofmark.personalizer.state builds the state, proofmark.personalizer.previews the image URLs, and
proofmark.tokens signs what was confirmed. None of these views changes server state, so they
need no session and no CSRF token, which an iframe on another site could not carry anyway.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, current_app, make_response, render_template
from flask_babel import gettext as _
from htmx_flask import request

from proofmark import i18n, tokens
from proofmark.personalizer import previews
from proofmark.personalizer import state as personalize
from proofmark.records import timestamp
from proofmark.security import EMBED_BLUEPRINT, csrf
from proofmark_renderer import Design, catalog
from proofmark_renderer.quoting import quote

bp = Blueprint("personalizer", __name__)

# The registration name of the embed (`create_app`): proofmark.security frames by it as well.
EMBED = EMBED_BLUEPRINT


@dataclass(frozen=True)
class Context:
    """Which of the two personalizers a template is drawing."""

    blueprint: str  # the registration serving the request: "shop_personalizer" or "embed"
    embedded: bool
    origin: str | None = None  # the embedding shop's origin, checked against the allow list
    lang: str | None = None  # the language asked for in the address (the embed's data-lang)

    def ep(self, name: str) -> str:
        return f"{self.blueprint}.{name}"

    @property
    def templates(self) -> str:
        """The folder of this personalizer's page templates (its layout, its error page)."""
        return "embed" if self.embedded else "shop"

    @property
    def extra(self) -> dict[str, str]:
        """Query arguments every personalizer URL carries."""
        extra = {"origin": self.origin} if self.origin else {}
        if self.lang:
            extra["lang"] = self.lang
        return extra


def normalise_origin(value: str) -> str:
    return (value or "").strip().rstrip("/")


def allowed_origins() -> list[str]:
    return list(current_app.config.get("EMBED_ALLOWED_ORIGINS") or [])


def _embed_origin() -> str:
    return normalise_origin(request.values.get("origin", ""))


def context() -> Context:
    blueprint = request.blueprint or ""
    lang = i18n.carried_language().get("lang")
    if blueprint != EMBED:
        return Context(blueprint=blueprint, embedded=False, lang=lang)
    return Context(blueprint=blueprint, embedded=True, origin=_embed_origin() or None, lang=lang)


@bp.before_request
def refuse_unlisted_origins():
    """In the embed, refuse a parent origin that is not on the allow list (the shop registration
    takes no origin)."""
    if request.blueprint != EMBED:
        return None
    origin = _embed_origin()
    if not origin or origin in allowed_origins():
        return None
    page = render_template(
        "embed/error.html",
        pz=Context(blueprint=EMBED, embedded=True),
        title=_("This shop is not set up for personalisation"),
        message=_(
            "The shop at %(origin)s is not on the list of shops allowed to show this personalizer "
            "(EMBED_ALLOWED_ORIGINS), so it cannot be shown here.",
            origin=quote(origin, 100),
        ),
        # For the merchant's console: the loader logs it (the page itself may be framed by
        # anyone: it shows only this message and posts only this to its parent).
        refused_origin=origin,
    )
    response = make_response(page, 403)
    response.headers["X-Proofmark-Refused-Origin"] = "1"
    return response


def _shown_design(state: personalize.State) -> Design:
    """The design the preview draws: a form that cannot be made as sent (far too long, a line
    break, extra lines) shows the product without text next to its problems, so no address
    carries megabytes and nothing is drawn from it."""
    if state.form_problems:
        return Design(product=state.product.id, font=state.product.default_font, lines=())
    return state.design


def live_preview(state: personalize.State, external: bool = False, area: bool = False) -> str:
    return previews.preview_url(
        _shown_design(state),
        current_app.config["PREVIEW_WIDTH"],
        "jpeg",
        external=external,
        area=area,
        view=state.view,
    )


def _state(product, form, ctx: Context, **kwargs) -> personalize.State:
    """The state of a form, or a 400 page naming the variant or view the product lacks."""
    try:
        return personalize.state_from_form(product, form, **kwargs)
    except personalize.ChoiceError as exc:
        page = render_template(
            f"{ctx.templates}/error.html", pz=ctx, title=_("No such choice"), message=str(exc)
        )
        abort(make_response(page, 400))


def large_preview(state: personalize.State, external: bool = False, area: bool = False) -> str:
    return previews.preview_url(
        _shown_design(state),
        current_app.config["CONFIRM_PREVIEW_WIDTH"],
        "jpeg",
        external=external,
        area=area,
    )


def _product_or_404(product_id: str, ctx: Context):
    product = catalog.product(product_id)
    if product is None:
        page = render_template(
            f"{ctx.templates}/error.html",
            pz=ctx,
            title=_("No such product"),
            message=_("There is no product %(product)s in this shop.", product=quote(product_id, 60)),
        )
        abort(make_response(page, 404))
    return product


def _render(template: str, ctx: Context, status: int = 200, **values):
    return render_template(template, pz=ctx, **values), status


@bp.route("/<product_id>", endpoint="personalize", methods=["GET", "POST"])
@bp.route("/<product_id>/preview", endpoint="preview", methods=["GET", "POST"])
@csrf.exempt
def personalize_page(product_id: str):
    """The full page, or for an htmx request the htmx update (the preview and every issue
    slot, out of band). The `/preview` URL is the same view under the address htmx posts to."""
    ctx = context()
    product = _product_or_404(product_id, ctx)
    form = request.form if request.method == "POST" else request.args
    state = _state(product, form, ctx)
    template = "_personalizer_update.html" if request.htmx else f"{ctx.templates}/personalize.html"
    area = previews.wants_area(form)
    return _render(template, ctx, state=state, show_area=area, preview_src=live_preview(state, area=area))


@bp.route("/<product_id>/confirm", methods=["GET", "POST"])
@csrf.exempt
def confirm(product_id: str):
    ctx = context()
    product = _product_or_404(product_id, ctx)
    form = request.form if request.method == "POST" else request.args
    state = _state(product, form, ctx, editing=False)
    disclosure = i18n.disclosure()
    values = dict(
        state=state,
        preview_src=large_preview(state),
        preview_area_src=large_preview(state, area=True),
        disclosure_text=disclosure["text"],
        disclosure_version=disclosure["version"],
        disclosure_language=disclosure["language"],
        disclosure_sha256=personalize.disclosure_hash(disclosure["text"]),
        preview_key=state.design.content_key(current_app.config["CONFIRM_PREVIEW_WIDTH"], "jpeg"),
    )
    if request.method == "GET":
        return _render(f"{ctx.templates}/confirm.html", ctx, confirmation=None, **values)

    confirmation = personalize.confirm(
        state,
        request.form,
        disclosure_text=disclosure["text"],
        disclosure_version=disclosure["version"],
        preview_width=current_app.config["CONFIRM_PREVIEW_WIDTH"],
        preview_fmt="jpeg",
        channel="embed" if ctx.embedded else "shop",
    )
    if not confirmation.ok:
        return _render(f"{ctx.templates}/confirm.html", ctx, 422, confirmation=confirmation, **values)
    # The language the shopper read the page and the disclosure in (recorded in the token, and
    # from there with the order and its approval).
    options = dict(
        confirmation.options,
        confirmed_at=timestamp(),
        language=i18n.current_language(),
        disclosure_language=disclosure["language"],
    )
    if ctx.origin:
        options["embed_origin"] = ctx.origin
    width = current_app.config["CONFIRM_PREVIEW_WIDTH"]
    token = tokens.sign_design(state.design, state.design.content_key(width, "jpeg"), options)
    return _render(
        f"{ctx.templates}/confirmed.html",
        ctx,
        token=token,
        options=options,
        preview_external=large_preview(state, external=True),
        thumb_external=previews.preview_url(state.design, 600, "jpeg", external=True),
        **values,
    )

"""The personalizer for a shop's own product page: `/embed/<product_id>` in an iframe, put
there by the `/embed.js` loader the shop pastes into its page.

Every endpoint here is named `embed.*`, which is what lets proofmark.security send
`frame-ancestors <EMBED_ALLOWED_ORIGINS>` instead of `'none'`. The page learns its parent's
origin from the loader (`?origin=`), refuses origins not on the list, and posts its
messages only to that origin.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, current_app, make_response, render_template, request, send_from_directory

from proofmark.personalizer import views as personalize_views

bp = Blueprint("embed", __name__)

STATIC = Path(__file__).resolve().parent / "static"


def normalise_origin(value: str) -> str:
    return (value or "").strip().rstrip("/")


def allowed_origins() -> list[str]:
    return list(current_app.config.get("EMBED_ALLOWED_ORIGINS") or [])


def _context() -> personalize_views.Context:
    origin = normalise_origin(request.values.get("origin", ""))
    if origin and origin not in allowed_origins():
        ctx = personalize_views.Context(blueprint="embed", embedded=True)
        page = render_template(
            "embed/error.html",
            pz=ctx,
            title="This shop is not set up for personalisation",
            message=(
                f"The shop at {origin[:100]} is not on the list of shops allowed to show this "
                "personalizer (EMBED_ALLOWED_ORIGINS), so it cannot be shown here."
            ),
        )
        abort(make_response(page, 403))
    return personalize_views.Context(blueprint="embed", embedded=True, origin=origin or None)


personalize_views.register(bp, prefix="/embed", embedded=True, context_for=_context)


@bp.get("/embed.js")
def loader():
    response = send_from_directory(STATIC, "embed.js", mimetype="text/javascript", max_age=300)
    # Shops load this from their own pages; it must not be blocked as a cross-origin resource.
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response

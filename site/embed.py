"""The `/embed.js` loader a shop pastes into its own product page: it frames the personalizer's
embed registration (`/embed/<product_id>`, proofmark.personalizer, registered in `create_app`
as `embed`) and passes it the page's origin (`?origin=`).

The origin check and the framing rules belong to that registration and to proofmark.security;
this module only serves the script.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, send_from_directory

bp = Blueprint("embed_loader", __name__)

STATIC = Path(__file__).resolve().parent / "static"


@bp.get("/embed.js")
def loader():
    response = send_from_directory(STATIC, "embed.js", mimetype="text/javascript", max_age=300)
    # Shops load this from their own pages; it must not be blocked as a cross-origin resource.
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response

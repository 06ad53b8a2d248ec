"""Security headers for every response and CSRF protection for every form.

Pages are not frameable (`frame-ancestors 'none'`) except the embed pages (the personalizer's
`embed` registration, and anything under /embed/), which only the shop origins in
EMBED_ALLOWED_ORIGINS may frame. Nothing loads from another host.
"""

from __future__ import annotations

from flask import Flask, Response, request
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()

BASE_CSP = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; connect-src 'self'; font-src 'self'; form-action 'self'; base-uri 'none'; "
    "object-src 'none'"
)


# The name `create_app` registers the personalizer's embed under; the personalizer's views
# ask for it too, so the pages that act embedded are the pages that may be framed.
EMBED_BLUEPRINT = "embed"


def frame_ancestors(app: Flask, embeddable: bool) -> str:
    if not embeddable:
        return "'none'"
    origins = app.config.get("EMBED_ALLOWED_ORIGINS") or []
    return " ".join(origins) if origins else "'none'"


def init_app(app: Flask) -> None:
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    csrf.init_app(app)

    @app.after_request
    def _headers(response: Response) -> Response:
        # By path as well as by blueprint: an unknown /embed/... address has no blueprint, and its
        # error page must still show inside the shop's iframe rather than as a blocked frame.
        embeddable = request.blueprint == EMBED_BLUEPRINT or request.path.startswith("/embed/")
        response.headers.setdefault(
            "Content-Security-Policy", f"{BASE_CSP}; frame-ancestors {frame_ancestors(app, embeddable)}"
        )
        if not embeddable:
            response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        return response

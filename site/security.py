"""Security headers for every response and CSRF protection for every form.

Pages are not frameable (`frame-ancestors 'none'`) except the embed pages (the personalizer's
`embed` registration, and anything under /embed/), which only the shop origins in
EMBED_ALLOWED_ORIGINS may frame. Nothing loads from another host.
"""

from __future__ import annotations

import ipaddress

from flask import Flask, Response, abort, request
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()

BASE_CSP = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; connect-src 'self'; font-src 'self'; form-action 'self'; base-uri 'none'; "
    "object-src 'none'"
)


# Sent with every response (unless a view set its own).
_FIXED = [
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
]


# The name `create_app` registers the personalizer's embed under; the personalizer's views
# ask for it too, so the pages that act embedded are the pages that may be framed.
EMBED_BLUEPRINT = "embed"


def frame_ancestors(app: Flask, embeddable: bool) -> str:
    if not embeddable:
        return "'none'"
    origins = app.config.get("EMBED_ALLOWED_ORIGINS") or []
    return " ".join(origins) if origins else "'none'"


def _loopback(address: str | None) -> bool:
    try:
        return ipaddress.ip_address(address or "").is_loopback
    except ValueError:
        return False


def init_app(app: Flask) -> None:
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    csrf.init_app(app)

    @app.before_request
    def _demo_serves_this_computer_only():
        # `make run` binds demo mode to 127.0.0.1; this holds even if it is put behind a proxy
        # or bound elsewhere by hand: a demo's orders and staff login are for its own machine.
        if app.config.get("DEMO") and not _loopback(request.remote_addr):
            abort(
                403,
                "This Proofmark runs in demo mode, which serves only the computer it runs on. "
                "Run it in production mode (FLASK_DEMO=false) to serve other computers.",
            )

    @app.after_request
    def _headers(response: Response) -> Response:
        # By path as well as by blueprint: an unknown /embed/... address has no blueprint, and its
        # error page must still show inside the shop's iframe rather than as a blocked frame.
        embeddable = request.blueprint == EMBED_BLUEPRINT or request.path.startswith("/embed/")
        ancestors = frame_ancestors(app, embeddable)
        # The page that refuses an unlisted shop shows only that message, so that shop may frame
        # it: its owner reads why instead of a broken-frame icon (proofmark.personalizer.views).
        if embeddable and response.headers.pop("X-Proofmark-Refused-Origin", None):
            ancestors = "*"
        csp = BASE_CSP
        if embeddable and ancestors != "*" and app.config.get("EMBED_ALLOWED_ORIGINS"):
            # The embed may show the framing shop's logo (the loader's data-logo) from its origin.
            csp = csp.replace(
                "img-src 'self'", "img-src 'self' " + " ".join(app.config["EMBED_ALLOWED_ORIGINS"])
            )
        # Each header only where the view did not set its own; the names looked at once, not
        # once per header (Headers.setdefault scans the list each time: the cost of every response).
        present = {name.lower() for name, _value in response.headers}
        wanted = [("Content-Security-Policy", f"{csp}; frame-ancestors {ancestors}")]
        if not embeddable:
            wanted.append(("X-Frame-Options", "DENY"))
        response.headers.extend(
            [(name, value) for name, value in wanted + _FIXED if name.lower() not in present]
        )
        return response

"""Shop platforms' webhooks in: POST /webhooks/shopify and POST /webhooks/woocommerce.

Thin: bound the body, hand it with its headers to proofmark.integrations.inbound.receive()
(verify, store, answer) and wake the worker that processes it. No cookies are involved (the
signature is the authentication), so CSRF does not apply.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, g, jsonify, request

from proofmark.db import get_db
from proofmark.integrations import inbound
from proofmark.security import csrf

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
csrf.exempt(bp)


def _body() -> bytes:
    limit = int(current_app.config["WEBHOOK_MAX_BODY_BYTES"])
    if request.content_length is not None and request.content_length > limit:
        abort(413, f"A webhook body may be at most {limit} bytes.")
    body = request.stream.read(limit + 1)
    if len(body) > limit:
        abort(413, f"A webhook body may be at most {limit} bytes.")
    return body


@bp.post("/<platform>")
def receive(platform: str):
    if platform not in inbound.PLATFORMS:
        abort(404)
    received = inbound.receive(get_db(), platform, _body(), request.headers, remote_addr=request.remote_addr)
    if received.accepted:
        g.proofmark_integrations_work = True
    return jsonify({"delivery": received.delivery, "message": received.message}), received.status

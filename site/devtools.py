"""/dev/outbox: read the emails the app queued, in debug or demo mode only, so the demo's
whole loop (order -> proof email -> approval link) works without a mail server. Signed-in
staff only: every message holds a customer's approval link."""

from __future__ import annotations

import re
from email import message_from_bytes
from email.policy import default as default_policy

from flask import Blueprint, Response, abort, current_app, redirect, render_template, request, url_for

from proofmark import mail, staff_sessions
from proofmark.db import get_db

bp = Blueprint("devtools", __name__, url_prefix="/dev")


@bp.before_request
def _only_in_debug_or_demo():
    if not (current_app.debug or current_app.config.get("DEMO")):
        abort(404)
    # The outbox holds every customer's approval link: staff only, in demo mode too.
    if staff_sessions.current_staff_id() is None:
        target = request.full_path if request.query_string else request.path
        return redirect(url_for("staff.login", next=target))
    return None


def _row(outbox_id: int) -> dict:
    row = get_db().execute("SELECT * FROM outbox WHERE id = ?", (outbox_id,)).fetchone()
    if row is None:
        abort(404)
    row = dict(row)
    try:
        row["message"] = mail.message_bytes(row)  # as it is sent: images put back from the store
    except mail.MessageImageError as exc:
        abort(409, f"This email cannot be rebuilt: {exc}.")
    return row


def _parts(raw: bytes):
    message = message_from_bytes(raw, policy=default_policy)
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    images = {}
    for part in message.walk():
        cid = part.get("Content-ID")
        if cid and part.get_content_maintype() == "image":
            images[cid.strip("<>")] = part
    return message, (text.get_content() if text else ""), (html.get_content() if html else ""), images


@bp.get("/outbox")
def outbox():
    rows = [
        dict(r)
        for r in get_db().execute(
            "SELECT o.id, o.kind, o.to_addr, o.subject, o.status, o.attempts, o.created_at, o.sent_at, o.last_error,"
            " o.message_id, p.public_id, p.order_ref FROM outbox o LEFT JOIN proofs p ON p.id = o.proof_id"
            " ORDER BY o.id DESC LIMIT 200"
        )
    ]
    return render_template("dev/outbox.html", rows=rows)


@bp.get("/outbox/<int:outbox_id>")
def message(outbox_id: int):
    row = _row(outbox_id)
    parsed, text, _, images = _parts(row["message"])
    links = list(dict.fromkeys(re.findall(r"https?://\S+/approve/[A-Za-z0-9_.\-]+", text)))
    headers = [(k, str(v)) for k, v in parsed.items()]
    return render_template(
        "dev/message.html", row=row, headers=headers, text=text, links=links, images=sorted(images)
    )


@bp.get("/outbox/<int:outbox_id>/html")
def message_html(outbox_id: int):
    """The HTML part, shown in a sandboxed iframe; cid: images point at the route below."""
    row = _row(outbox_id)
    _, _, html, _ = _parts(row["message"])
    html = re.sub(
        r'src="cid:([^"]+)"',
        lambda m: f'src="{url_for("devtools.message_part", outbox_id=outbox_id, cid=m.group(1))}"',
        html,
    )
    response = Response(html, mimetype="text/html")
    # Framed by our own message page only, and with nothing active in it.
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'"
    )
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


@bp.get("/outbox/<int:outbox_id>/part/<path:cid>")
def message_part(outbox_id: int, cid: str):
    _, _, _, images = _parts(_row(outbox_id)["message"])
    part = images.get(cid)
    if part is None:
        abort(404)
    return Response(part.get_content(), mimetype=part.get_content_type())


@bp.get("/outbox/<int:outbox_id>.eml")
def message_raw(outbox_id: int):
    row = _row(outbox_id)
    return Response(
        row["message"],
        mimetype="message/rfc822",
        headers={"Content-Disposition": f'attachment; filename="{outbox_id:06d}-{row["kind"]}.eml"'},
    )

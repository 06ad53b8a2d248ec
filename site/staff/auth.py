"""Staff sign-in and sign-out."""

from __future__ import annotations

import unicodedata
from urllib.parse import urlsplit

from flask import current_app, g, redirect, render_template, request, url_for

from proofmark.db import get_db
from proofmark.staff import accounts
from proofmark.staff.blueprint import bp, sign_in, sign_out

# Where a sign-in may send the browser afterwards: staff pages and the demo outbox.
NEXT_PREFIXES = ("/staff/", "/staff?", "/dev/outbox")


def _safe_next(target: str | None) -> str:
    """Only same-site staff paths: never an open redirect, and never a header-breaking
    character (a line break in `next=` would otherwise reach the Location header)."""
    default = url_for("staff.proofs")
    if not target or len(target) > 2000:
        return default
    if any(c == "\\" or unicodedata.category(c)[0] in "CZ" for c in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or target.startswith("//"):
        return default
    if not (target == "/staff" or target.startswith(NEXT_PREFIXES)):
        return default
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    next_url = _safe_next(request.values.get("next"))
    if request.method == "GET":
        if g.staff is not None:
            return redirect(next_url)
        return render_template("staff/login.html", next_url=next_url, email="", error=None)
    email = request.form.get("email", "")
    result = accounts.authenticate(
        get_db(),
        email,
        request.form.get("password", ""),
        request.remote_addr or "unknown",
        current_app.config,
    )
    if result.staff is None:
        status = 429 if result.retry_after_seconds else 401
        headers = {"Retry-After": str(result.retry_after_seconds)} if result.retry_after_seconds else {}
        page = render_template("staff/login.html", next_url=next_url, email=email, error=result.error)
        return page, status, headers
    sign_in(result.staff)
    return redirect(next_url)


@bp.post("/logout")
def logout():
    sign_out()
    return redirect(url_for("staff.login"))

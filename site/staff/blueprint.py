"""The staff blueprint and what every staff page shares: sign-in required, the signed-in
staff member in `g.staff`, htmx-aware responses."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, g, redirect, render_template, session, url_for
from htmx_flask import make_response, request

from proofmark.db import get_db
from proofmark.records import timestamp, utcnow
from proofmark.staff import accounts

bp = Blueprint("staff", __name__, url_prefix="/staff")

# Reachable without signing in.
PUBLIC_ENDPOINTS = {"staff.login"}


def sign_in(staff: accounts.Staff) -> None:
    # A fresh session on sign-in: nothing from before it is carried over.
    session.clear()
    session["staff_id"] = staff.id
    session["staff_pw"] = staff.password_changed_at
    session["staff_since"] = timestamp()


def sign_out() -> None:
    for key in ("staff_id", "staff_pw", "staff_since"):
        session.pop(key, None)


def _session_staff() -> accounts.Staff | None:
    staff_id = session.get("staff_id")
    if not staff_id:
        return None
    since = session.get("staff_since", "")
    limit = timedelta(hours=current_app.config["STAFF_SESSION_HOURS"])
    if since < timestamp(utcnow() - limit):
        return None
    staff = accounts.get(get_db(), staff_id)
    # A password change ends the sessions opened before it.
    if staff is None or staff.password_changed_at != session.get("staff_pw"):
        return None
    return staff


@bp.before_request
def require_staff():
    g.staff = _session_staff()
    if g.staff is not None or request.endpoint in PUBLIC_ENDPOINTS:
        return None
    sign_out()
    target = request.full_path if request.method == "GET" else request.path
    login = url_for("staff.login", next=target.rstrip("?"))
    if request.htmx:
        # An htmx request would swap the login page into part of the page: send the browser there.
        return make_response("", 204, redirect=login)
    return redirect(login)


@bp.after_request
def no_store(response):
    # Staff pages hold customer data: keep them out of shared caches and the back-forward cache.
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def render(template: str, partial: str | None = None, **context):
    """The full page, or only its `_partial` when htmx asks for it."""
    if partial and request.htmx and not request.htmx.boosted:
        return render_template(partial, **context)
    return render_template(template, **context)

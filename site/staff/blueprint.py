"""The staff blueprint and what every staff page shares: sign-in required, the signed-in
staff member in `g.staff`, htmx-aware responses."""

from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, session, url_for
from flask_babel import gettext
from htmx_flask import make_response, request

from proofmark import staff_sessions
from proofmark.db import get_db
from proofmark.staff import accounts

bp = Blueprint("staff", __name__, url_prefix="/staff")

# Reachable without signing in.
PUBLIC_ENDPOINTS = {"staff.login"}


def translated(labels: dict[str, str]) -> dict[str, str]:
    """A {key: English label} table in the shop's language (the tables stay English for the
    evidence pack and the API; staff pages show them translated)."""
    return {key: gettext(label) for key, label in labels.items()}


def sign_in(staff: accounts.Staff) -> None:
    # A fresh session on sign-in: nothing from before it is carried over.
    session.clear()
    session[staff_sessions.COOKIE_KEY] = staff_sessions.open_session(get_db(), staff.id)


def sign_out() -> None:
    """End this browser's session server-side too: a copy of the cookie stops working."""
    sid = session.pop(staff_sessions.COOKIE_KEY, None)
    if isinstance(sid, str) and sid:
        staff_sessions.revoke(get_db(), sid, "signed out")


def _session_staff() -> accounts.Staff | None:
    staff_id = staff_sessions.current_staff_id()
    return accounts.get(get_db(), staff_id) if staff_id is not None else None


@bp.before_request
def require_staff():
    g.staff = _session_staff()
    if g.staff is not None or request.endpoint in PUBLIC_ENDPOINTS:
        return None
    session.pop(staff_sessions.COOKIE_KEY, None)
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

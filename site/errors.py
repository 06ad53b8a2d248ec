"""Answers for requests the site cannot serve: a plain-language page (or JSON under /api/)
instead of Werkzeug's generic text, integer URL parts limited to what SQLite can store,
and JSON bodies too deeply nested to parse refused like any other malformed JSON.

Views that already answer with their own page (`abort(make_response(...))`) keep it;
`abort(404, "There is no proof #7.")` keeps its specific message.
"""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask.json.provider import DefaultJSONProvider
from flask_babel import gettext
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

SQLITE_MAX_INT = 2**63 - 1


def N_(message: str) -> str:
    """Marks a message for `pybabel extract` (a default keyword); translated where it is shown."""
    return message


# (title, message) when the view gave no message of its own. Written in English here and
# translated when the page is made (the request's language: SHOP_LANGUAGE, `lang`, then the
# browser); a JSON error's `code` stays the English title's, for programs.
MESSAGES: dict[int, tuple[str, str]] = {
    400: (N_("Bad request"), N_("The request could not be read. Go back and try again; nothing was saved.")),
    404: (
        N_("Page not found"),
        N_("There is nothing at this address. Check the link, or start again from the shop."),
    ),
    405: (N_("Not allowed here"), N_("This address does not accept %(method)s requests.")),
    413: (
        N_("Too large"),
        N_("What you sent is too large. Shorten it and send it again; nothing was saved."),
    ),
    414: (N_("Address too long"), N_("This address is too long to be one of ours. Check the link.")),
    429: (
        N_("Too many attempts"),
        N_("Too many attempts in a short time. Wait a few minutes and try again."),
    ),
}
CSRF_TITLE = N_("Form expired")
CSRF_MESSAGE = N_(
    "This form was open too long or came from another page, so it was not sent. "
    "Go back, reload the page and send it again; nothing was saved."
)


class DatabaseIdConverter(IntegerConverter):
    """`<int:...>` for database ids: a number larger than SQLite can store is not an id of
    ours, so the URL does not match (404) instead of failing in the query (500)."""

    def __init__(self, map, fixed_digits=0, min=None, max=SQLITE_MAX_INT, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


class JSONProvider(DefaultJSONProvider):
    def loads(self, s, **kwargs):
        try:
            return super().loads(s, **kwargs)
        except RecursionError as exc:
            # `request.get_json(silent=True)` only swallows ValueError.
            raise ValueError("The JSON is nested too deeply.") from exc


def _message(exc: HTTPException) -> tuple[str, str, str]:
    """(code for JSON, title, message): the title and a default message in the request's
    language; a view's own message (abort(413, ...)) is already written in it."""
    if isinstance(exc, CSRFError):
        return "form_expired", gettext(CSRF_TITLE), gettext(CSRF_MESSAGE)
    known = MESSAGES.get(exc.code or 400)
    title, default = known or (exc.name, exc.description or "")
    code = title.lower().replace(" ", "_")
    # A view that called abort(404, "There is no proof #7.") said something specific.
    described = exc.description and exc.description != type(exc).description
    if described:
        message = exc.description
    elif known:
        message = gettext(default, method=request.method) if exc.code == 405 else gettext(default)
    else:
        message = default
    return code, gettext(title) if known else title, message


def handle_http_exception(exc: HTTPException):
    if exc.response is not None or exc.code is None or exc.code >= 500:
        return exc  # a view's own response, or not ours to phrase
    code, title, message = _message(exc)
    headers = {k: v for k, v in exc.get_headers() if k.lower() == "allow"}
    if (
        request.path.startswith("/api/")
        or request.is_json
        or (request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json")
    ):
        return jsonify({"error": {"code": code, "message": message}}), exc.code, headers
    return render_template("error.html", title=title, message=message, code=exc.code), exc.code, headers


def init_app(app: Flask) -> None:
    """Call before any blueprint is registered (the converter applies to rules as they are added)."""
    app.url_map.converters["int"] = DatabaseIdConverter
    app.json = JSONProvider(app)
    app.register_error_handler(HTTPException, handle_http_exception)

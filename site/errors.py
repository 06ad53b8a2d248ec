"""Answers for requests the site cannot serve: a plain-language page (or JSON under /api/)
instead of Werkzeug's generic text, integer URL parts limited to what SQLite can store,
and JSON bodies too deeply nested to parse refused like any other malformed JSON.

Views that already answer with their own page (`abort(make_response(...))`) keep it;
`abort(404, "There is no proof #7.")` keeps its specific message.
"""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask.json.provider import DefaultJSONProvider
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

SQLITE_MAX_INT = 2**63 - 1

# (title, message) when the view gave no message of its own.
MESSAGES: dict[int, tuple[str, str]] = {
    400: ("Bad request", "The request could not be read. Go back and try again; nothing was saved."),
    404: (
        "Page not found",
        "There is nothing at this address. Check the link, or start again from the shop.",
    ),
    405: ("Not allowed here", "This address does not accept {method} requests."),
    413: ("Too large", "What you sent is too large. Shorten it and send it again; nothing was saved."),
    414: ("Address too long", "This address is too long to be one of ours. Check the link."),
    429: ("Too many attempts", "Too many attempts in a short time. Wait a few minutes and try again."),
}
CSRF_MESSAGE = (
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


def _message(exc: HTTPException) -> tuple[str, str]:
    title, default = MESSAGES.get(exc.code or 400, (exc.name, exc.description or ""))
    if isinstance(exc, CSRFError):
        return "Form expired", CSRF_MESSAGE
    # A view that called abort(404, "There is no proof #7.") said something specific.
    described = exc.description and exc.description != type(exc).description
    message = exc.description if described else default
    return title, message.format(method=request.method)


def handle_http_exception(exc: HTTPException):
    if exc.response is not None or exc.code is None or exc.code >= 500:
        return exc  # a view's own response, or not ours to phrase
    title, message = _message(exc)
    headers = {k: v for k, v in exc.get_headers() if k.lower() == "allow"}
    if (
        request.path.startswith("/api/")
        or request.is_json
        or (request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json")
    ):
        code = title.lower().replace(" ", "_")
        return jsonify({"error": {"code": code, "message": message}}), exc.code, headers
    return render_template("error.html", title=title, message=message, code=exc.code), exc.code, headers


def init_app(app: Flask) -> None:
    """Call before any blueprint is registered (the converter applies to rules as they are added)."""
    app.url_map.converters["int"] = DatabaseIdConverter
    app.json = JSONProvider(app)
    app.register_error_handler(HTTPException, handle_http_exception)

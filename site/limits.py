"""Bounded work per request, decided before any of it is done.

Every request body has a ceiling (MAX_CONTENT_LENGTH for the whole site; lower ones for the
shopper's forms, which are a few lines of text), checked against `Content-Length` before a
byte is read, and a body sent without one is cut off at the same size by Werkzeug. Query
strings have a ceiling too. Shopper-facing addresses and forms must also be well-formed
percent-encoding: an escape that is not `%` and two hex digits, or bytes that are not UTF-8,
would otherwise be kept as text or silently turned into U+FFFD, so they are refused with the
field and the position.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

from flask import Flask, abort, current_app, request
from flask_babel import format_decimal, gettext

from proofmark_renderer.quoting import quote

# Registrations whose forms a shopper sends (no sign-in): their own, lower body limit.
SHOPPER_BLUEPRINTS = frozenset({"shop_personalizer", "embed", "orders", "approve", "shop"})
_BAD_ESCAPE = re.compile(rb"%(?![0-9A-Fa-f]{2})")


def body_limit() -> int | None:
    if request.blueprint in SHOPPER_BLUEPRINTS:
        site = current_app.config.get("MAX_CONTENT_LENGTH")
        shopper = int(current_app.config["SHOPPER_FORM_MAX_BYTES"])
        return min(shopper, int(site)) if site else shopper
    return None


def _too_large(sent: int, limit: int) -> None:
    # In the request's language (chosen from the query string and headers only: the refused
    # body is never read to pick it), numbers grouped as that language writes them.
    numbers = {"sent": format_decimal(sent), "limit": format_decimal(limit)}
    if request.blueprint in SHOPPER_BLUEPRINTS:
        message = gettext(
            "What you sent is far longer than anything we can make (%(sent)s bytes; at most %(limit)s "
            "are accepted). Shorten your text and send it again; nothing was saved.",
            **numbers,
        )
    else:
        message = gettext(
            "The request is too large (%(sent)s bytes; at most %(limit)s are accepted here). Nothing was saved.",
            **numbers,
        )
    abort(413, message)


def escape_problem(raw: bytes, where: str) -> str | None:
    """What is wrong with the percent-encoding of `raw` (a query string or a urlencoded
    body), naming the field and the position, or None when every value decodes exactly."""

    # Said in the request's language. Only when there is a problem: asking for the language
    # fixes it for the whole request, before a view (the approval pages) can name its own.
    def said(is_name: bool, shown_name: str) -> dict[str, str]:
        return {
            "where": gettext("The address") if where == "the address" else gettext("The form"),
            "label": gettext("in a field name")
            if is_name
            else gettext("in the field %(name)s", name=quote(shown_name, 40)),
        }

    for pair in raw.split(b"&"):
        name, _, value = pair.partition(b"=")
        shown_name = name.decode("ascii", "replace")[:40]
        for part, is_name in ((name, True), (value, False)):
            bad = _BAD_ESCAPE.search(part)
            if bad:
                snippet = part[bad.start() : bad.start() + 3].decode("ascii", "replace")
                return gettext(
                    "%(where)s has a broken %%-escape %(label)s at character %(position)d (%(snippet)s): "
                    "a %% must be followed by two hex digits. Nothing was changed or saved; send it again "
                    "with the %% written as %%25.",
                    position=bad.start() + 1,
                    snippet=quote(snippet),
                    **said(is_name, shown_name),
                )
            try:
                unquote_to_bytes(part.replace(b"+", b" ")).decode("utf-8")
            except UnicodeDecodeError as exc:
                return gettext(
                    "%(where)s has %%-escapes %(label)s that are not UTF-8 text (byte %(position)d of the "
                    "decoded value). Nothing was changed or saved; send it again as UTF-8.",
                    position=exc.start + 1,
                    **said(is_name, shown_name),
                )
    return None


def check_request() -> None:
    limit = body_limit()
    if limit is not None:
        request.max_content_length = limit
    limit = request.max_content_length
    if limit is not None and (request.content_length or 0) > limit:
        _too_large(request.content_length, limit)
    if (
        limit is not None
        and not request.environ.get("CONTENT_LENGTH")
        and "wsgi.input_terminated" in request.environ
    ):
        # Sent without a length (chunked): Werkzeug stops reading at the limit without a word,
        # which would cut the body short. Read it here (at most `limit` bytes) and refuse it whole.
        data = request.get_data(cache=True)
        if len(data) >= limit:
            _too_large(len(data), limit)
    max_query = int(current_app.config["MAX_QUERY_STRING_BYTES"])
    if len(request.query_string) > max_query:
        abort(
            414,
            gettext(
                "This address is too long to be one of ours (%(count)s characters after the ?; at most "
                "%(limit)s). Check the link.",
                count=format_decimal(len(request.query_string)),
                limit=format_decimal(max_query),
            ),
        )
    if request.blueprint not in SHOPPER_BLUEPRINTS:
        return
    problem = escape_problem(request.query_string, "the address")
    if problem is None and request.mimetype == "application/x-www-form-urlencoded":
        problem = escape_problem(request.get_data(cache=True), "the form")
    if problem is not None:
        abort(400, problem)


def init_app(app: Flask) -> None:
    app.before_request(check_request)

"""The access log, written by the app itself (WSGI middleware) rather than the server, so
that it can leave secrets out: the approval link's token (`/approve/<token>`, which approves
a proof for whoever holds it) and the design carried in an address (`d=`, `token=`,
`design_token=`: what a shopper typed) are replaced by `[redacted]`. The Referer header,
which repeats such addresses, is not logged at all.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from urllib.parse import parse_qsl, urlencode

from werkzeug.wsgi import ClosingIterator

REDACTED = "[redacted]"
SECRET_PARAMS = frozenset({"d", "token", "design_token"})
# The WSGI environ key under which an inner app leaves the address already redacted (the
# preview fast path makes that text for its own answers anyway).
LOGGED_PATH = "proofmark.logged_path"
_APPROVAL = re.compile(r"^/approve/[^/?]+")

logger = logging.getLogger("proofmark.access")


def redact(path: str, query: str = "") -> str:
    """The path and query as logged: approval tokens and designs replaced."""
    path = _APPROVAL.sub("/approve/" + REDACTED, path)
    if not query:
        return path
    try:
        pairs = parse_qsl(query, keep_blank_values=True, max_num_fields=100)
    except ValueError:
        return f"{path}?{REDACTED}"
    shown = [(k, REDACTED if k in SECRET_PARAMS else v) for k, v in pairs]
    return f"{path}?{urlencode(shown, safe='[]/')}"


def _printable(text: str, limit: int = 300) -> str:
    # A log line is one line: control characters in a header cannot forge another.
    text = text[:limit]
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text[:limit])


class AccessLog:
    """WSGI middleware: one line per request (client, method, redacted path, status, bytes,
    milliseconds, user agent)."""

    def __init__(self, wsgi_app, log: logging.Logger = logger) -> None:
        self.wsgi_app = wsgi_app
        self.log = log

    def __call__(self, environ, start_response):
        started = time.perf_counter()
        seen: dict[str, str] = {}

        def recording(status, headers, exc_info=None):
            seen["status"] = status.split(" ", 1)[0]
            seen["length"] = next((v for k, v in headers if k.lower() == "content-length"), "-")
            return start_response(status, headers, exc_info)

        def write_line():
            path = environ.get(LOGGED_PATH) or redact(
                environ.get("PATH_INFO", "").encode("latin-1", "replace").decode("utf-8", "replace"),
                environ.get("QUERY_STRING", ""),
            )
            line(
                self.log,
                environ.get("REMOTE_ADDR", "-"),
                environ.get("REQUEST_METHOD", "-"),
                path,
                environ.get("SERVER_PROTOCOL", "-"),
                seen.get("status", "-"),
                seen.get("length", "-"),
                (time.perf_counter() - started) * 1000,
                environ.get("HTTP_USER_AGENT", "-"),
            )

        # Called now, not lazily: servers read the status and headers as soon as the app returns.
        return ClosingIterator(self.wsgi_app(environ, recording), write_line)


def line(
    log: logging.Logger,
    client: str,
    method: str,
    redacted_path: str,
    protocol: str,
    status: str,
    length: str,
    ms: float,
    user_agent: str,
) -> None:
    """Write one access-log line; `redacted_path` has been through `redact` already (the
    server adapter logs the answers it sends itself with this too)."""
    if not log.isEnabledFor(logging.INFO):
        return
    log.info(
        '%s "%s %s %s" %s %s %.1fms "%s"',
        client,
        method,
        _printable(redacted_path, 2000),
        protocol,
        status,
        length,
        ms,
        _printable(user_agent),
    )


def configure() -> None:
    """Log lines to standard output (the server's own access log stays off)."""
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False

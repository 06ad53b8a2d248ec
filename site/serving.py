"""How the app meets the network in production: granian (an asynchronous Rust HTTP server)
talks ASGI to this adapter, which reads each request body asynchronously, up to the site's
size limit, before a thread runs the Flask app on it, and takes the whole answer from the
thread before sending it. So an idle connection, a client sending its headers or its body a
byte at a time, and a client slow to read the answer cost a little memory and no thread:
the threads only ever run the app on complete requests. (Granian's own WSGI mode hands the
app a body it is still receiving, so a slow body would hold a thread.)

The same object also speaks granian's RSGI interface (`__rsgi__`), which costs granian less
per request than ASGI (no per-message dicts, headers as str pairs, one call to answer):

    granian --interface rsgi proofmark.wsgi:asgi_app     (what scripts/run.sh starts)
    granian --interface asgi proofmark.wsgi:asgi_app     (the same app over ASGI)
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from proofmark import accesslog
from proofmark.balance import ConnectionBalance

# A client has this long to send its body once its headers arrived (granian limits the headers).
BODY_TIMEOUT_SECONDS = 30.0
# PROOFMARK_WORKER_HEADER=1 (set by scripts/bench_preview.py only): each answer names the
# worker process that made it, so a benchmark can count how evenly connections are spread.
WORKER_HEADER = os.environ.get("PROOFMARK_WORKER_HEADER") == "1"


class BufferedWSGI:
    """An ASGI application running a WSGI application on whole requests in a thread pool."""

    def __init__(
        self,
        wsgi_app: Callable,
        *,
        max_body: int,
        threads: int | None = None,
        shortcut: Callable[[str, str, str | None], tuple | None] | None = None,
        access_log: logging.Logger | None = None,
        queue_prefix: str | None = None,
        queue_width: int = 0,
        balance: ConnectionBalance | None = None,
    ) -> None:
        """`shortcut(path, query, if_none_match)` may answer a GET on the event loop, before
        any thread or WSGI work: (status, answer) where the answer has `headers` (ASGI
        pairs), `str_headers` (RSGI pairs), `body` and `logged` (the redacted path for the
        access log), or None to pass it on. `query` is the WSGI form (raw bytes as latin-1).
        It must be quick and must not block (a dictionary lookup: see
        proofmark.personalizer.previews.CachedPreviewFastPath.loop_answer). Its answers are
        written to `access_log` like the WSGI app's.

        `queue_width` > 0: GET requests under `queue_prefix` that reach the threads (new
        previews: renders) run at most that many at a time, in arrival order. A render holds
        the GIL most of its time, so four at once in one process share one core and all
        finish late together; one at a time, each finishes as early as it can, and the
        process's other requests still get the other threads.

        `balance`: this worker's share of the server's keep-alive connections; an answer
        given while it holds more than its share closes its connection (proofmark.balance)."""
        self.wsgi_app = wsgi_app
        self.max_body = max_body
        threads = threads or int(os.environ.get("THREADS", "4"))
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="proofmark")
        self.shortcut = shortcut
        self.access_log = access_log
        self.queue_prefix = queue_prefix
        self.queue_width = queue_width
        self._queue: asyncio.Semaphore | None = None
        self.balance = balance

    def _extra_headers(self, client, http_version: str | None) -> list[tuple[str, str]]:
        """Headers every answer to this request gets: the worker's name for a benchmark, and
        `Connection: close` when this worker serves more than its share of connections."""
        extra = [("x-proofmark-worker", str(os.getpid()))] if WORKER_HEADER else []
        if self.balance is not None and http_version == "1.1" and not self.balance.keep_alive(client):
            extra.append(("connection", "close"))
        return extra

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        client = tuple(scope.get("client") or ())
        extra = [
            (k.encode("latin-1"), v.encode("latin-1"))
            for k, v in self._extra_headers(client, scope.get("http_version"))
        ]
        if self.shortcut is not None and scope["method"] == "GET":
            started = time.perf_counter()
            if_none_match = None
            for name, value in scope["headers"]:
                if name == b"if-none-match":
                    if_none_match = value.decode("latin-1")
            found = self.shortcut(scope["path"], scope["query_string"].decode("latin-1"), if_none_match)
            if found is not None:
                await self._send_shortcut(scope, send, found, started, extra)
                return
        headers = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in scope["headers"]]
        declared = next((v for k, v in headers if k == "content-length"), None)
        try:
            length = int(declared) if declared is not None else None
        except ValueError:
            await _plain(send, 400, b"Bad Content-Length.")
            return
        body = b""
        # A body declared larger than the limit is not read: the app answers 413 from the header.
        if length is None or length <= self.max_body:
            try:
                body = await asyncio.wait_for(self._read_body(receive), BODY_TIMEOUT_SECONDS)
            except TimeoutError:
                await _plain(send, 408, b"The request body did not arrive in time.")
                return
            except ConnectionError:
                return
        environ = _environ(scope, headers, body, length)
        status, response_headers, chunks = await self._in_thread(environ, client)
        headers_out = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in response_headers]
        headers_out += extra
        await send({"type": "http.response.start", "status": status, "headers": headers_out})
        await send({"type": "http.response.body", "body": b"".join(chunks)})

    async def _in_thread(self, environ: dict, client) -> tuple[int, list[tuple[str, str]], list[bytes]]:
        """The app's answer, made on a thread; meanwhile the connection counts as this
        worker's however long it takes (proofmark.balance)."""
        if self.balance is None:
            return await self._queued(environ)
        self.balance.working(client)
        try:
            return await self._queued(environ)
        finally:
            self.balance.done(client)

    async def _queued(self, environ: dict) -> tuple[int, list[tuple[str, str]], list[bytes]]:
        loop = asyncio.get_running_loop()
        if (
            self.queue_width > 0
            and environ["REQUEST_METHOD"] == "GET"
            and environ["PATH_INFO"].startswith(self.queue_prefix or "/")
        ):
            if self._queue is None:
                self._queue = asyncio.Semaphore(self.queue_width)  # FIFO: waiters in arrival order
            async with self._queue:
                return await loop.run_in_executor(self.executor, self._run, environ)
        return await loop.run_in_executor(self.executor, self._run, environ)

    # --- RSGI (granian --interface rsgi) ----------------------------------------------------

    def __rsgi_init__(self, loop) -> None:
        pass

    def __rsgi_del__(self, loop) -> None:
        self.executor.shutdown(wait=False)
        if self.balance is not None:
            self.balance.close()

    async def __rsgi__(self, scope, protocol) -> None:
        if scope.proto != "http":
            return
        query = scope.query_string
        if not query.isascii():
            # granian decodes the raw query as UTF-8; WSGI carries the raw bytes as latin-1.
            query = query.encode("utf-8", "surrogateescape").decode("latin-1")
        extra = self._extra_headers(scope.client, scope.http_version)
        if self.shortcut is not None and scope.method == "GET":
            started = time.perf_counter()
            found = self.shortcut(scope.path, query, scope.headers.get("if-none-match"))
            if found is not None:
                status, answer = found
                headers = [*answer.str_headers, *extra] if extra else answer.str_headers
                protocol.response_bytes(status, headers, answer.body)
                self._log_rsgi(scope, status, answer, started)
                return
        headers = scope.headers.items()
        declared = scope.headers.get("content-length")
        try:
            length = int(declared) if declared is not None else None
        except ValueError:
            protocol.response_bytes(400, _PLAIN_CLOSE, b"Bad Content-Length.")
            return
        body = b""
        if length is None or length <= self.max_body:
            try:
                body = await asyncio.wait_for(self._read_rsgi_body(protocol), BODY_TIMEOUT_SECONDS)
            except TimeoutError:
                protocol.response_bytes(408, _PLAIN_CLOSE, b"The request body did not arrive in time.")
                return
            # granian's ProtocolClosed and ProtocolError are RuntimeErrors.
            except (ConnectionError, RuntimeError):
                return
            if length is not None and len(body) < length:
                return  # the client went away before its whole body arrived: nothing to run
        environ = _rsgi_environ(scope, headers, query, body, length)
        status, response_headers, chunks = await self._in_thread(environ, scope.client)
        response_headers += extra
        protocol.response_bytes(status, response_headers, b"".join(chunks))

    async def _read_rsgi_body(self, protocol) -> bytes:
        """As `_read_body`, from granian's RSGI protocol (an async iterator of chunks)."""
        parts, size = [], 0
        async for chunk in protocol:
            parts.append(chunk)
            size += len(chunk)
            if size > self.max_body:
                break
        return b"".join(parts)

    def _log_rsgi(self, scope, status: int, answer, started: float) -> None:
        if self.access_log is None:
            return
        accesslog.line(
            self.access_log,
            _host(scope.client),
            scope.method,
            answer.logged,
            f"HTTP/{scope.http_version}",
            str(status),
            str(len(answer.body)),
            (time.perf_counter() - started) * 1000,
            scope.headers.get("user-agent", "-"),
        )

    async def _send_shortcut(self, scope: dict, send, found: tuple, started: float, extra: list) -> None:
        status, answer = found
        headers, body, logged = answer.headers, answer.body, answer.logged
        if extra:
            headers = (*headers, *extra)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        if self.access_log is not None:
            user_agent = next((v for k, v in scope["headers"] if k == b"user-agent"), b"-")
            client = scope.get("client") or ("-", 0)
            accesslog.line(
                self.access_log,
                str(client[0]),
                scope["method"],
                logged,
                f"HTTP/{scope.get('http_version', '1.1')}",
                str(status),
                str(len(body)),
                (time.perf_counter() - started) * 1000,
                user_agent.decode("latin-1"),
            )

    async def _read_body(self, receive) -> bytes:
        """The body, or its first max_body + 1 bytes (then the app refuses it as too large)."""
        parts, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ConnectionError("client went away")
            chunk = message.get("body", b"")
            parts.append(chunk)
            size += len(chunk)
            if size > self.max_body or not message.get("more_body", False):
                return b"".join(parts)

    def _run(self, environ: dict) -> tuple[int, list[tuple[str, str]], list[bytes]]:
        started: dict = {}

        def start_response(status, headers, exc_info=None):
            if exc_info and started:
                raise exc_info[1].with_traceback(exc_info[2])
            started["status"], started["headers"] = status, headers
            return lambda data: chunks.append(data)

        chunks: list[bytes] = []
        result = self.wsgi_app(environ, start_response)
        try:
            for chunk in result:
                if chunk:
                    chunks.append(chunk)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        return int(started["status"].split(" ", 1)[0]), list(started["headers"]), chunks

    async def _lifespan(self, receive, send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.executor.shutdown(wait=False)
                if self.balance is not None:
                    self.balance.close()
                await send({"type": "lifespan.shutdown.complete"})
                return


_PLAIN_CLOSE = [("content-type", "text/plain; charset=utf-8"), ("connection", "close")]


def _host(address: str) -> str:
    """The host of granian's RSGI "host:port" ("[::1]:port" or "::1:port" for IPv6)."""
    host = address.rsplit(":", 1)[0] if ":" in address else address
    return host[1:-1] if host.startswith("[") and host.endswith("]") else host


def _port(address: str) -> str:
    return address.rsplit(":", 1)[1] if ":" in address else ""


def _rsgi_environ(scope, headers: list[tuple[str, str]], query: str, body: bytes, length: int | None) -> dict:
    """The WSGI environ of an RSGI request: the same keys as `_environ` gives for ASGI."""
    server = scope.server or "127.0.0.1:80"
    client = scope.client or ""
    return _wsgi_environ(
        scope.method,
        "",
        # WSGI carries the path as bytes in a latin-1 str.
        scope.path.encode("utf-8", "surrogateescape").decode("latin-1"),
        query,
        (_host(server), _port(server)),
        (_host(client), _port(client)),
        scope.http_version,
        scope.scheme or "http",
        headers,
        body,
        length,
    )


async def _plain(send, status: int, text: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"connection", b"close")],
        }
    )
    await send({"type": "http.response.body", "body": text})


def _environ(scope: dict, headers: list[tuple[str, str]], body: bytes, length: int | None) -> dict:
    server = scope.get("server") or ("127.0.0.1", 80)
    client = scope.get("client") or ("", 0)
    return _wsgi_environ(
        scope["method"],
        scope.get("root_path", "").encode("utf-8").decode("latin-1"),
        # WSGI carries the path as bytes in a latin-1 str.
        scope["path"].encode("utf-8").decode("latin-1"),
        scope.get("query_string", b"").decode("latin-1"),
        (str(server[0]), str(server[1])),
        (str(client[0]), str(client[1])),
        scope.get("http_version", "1.1"),
        scope.get("scheme", "http"),
        headers,
        body,
        length,
    )


def _wsgi_environ(
    method: str,
    script_name: str,
    path_info: str,
    query: str,
    server: tuple[str, str],
    client: tuple[str, str],
    http_version: str,
    scheme: str,
    headers: list[tuple[str, str]],
    body: bytes,
    length: int | None,
) -> dict:
    """The WSGI environ both interfaces hand the app."""
    environ = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": script_name,
        "PATH_INFO": path_info,
        "QUERY_STRING": query,
        "SERVER_NAME": server[0],
        "SERVER_PORT": server[1],
        "SERVER_PROTOCOL": f"HTTP/{http_version}",
        "REMOTE_ADDR": client[0],
        "REMOTE_PORT": client[1],
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scheme,
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    _add_headers(environ, headers)
    if length is None:
        # Sent without a length (chunked) and read whole (or its first max_body + 1 bytes):
        # the app sees the length it has, and refuses a body that is too large by it.
        environ["CONTENT_LENGTH"] = str(len(body))
    return environ


def _add_headers(environ: dict, headers: list[tuple[str, str]]) -> None:
    for name, value in headers:
        if name == "content-type":
            environ["CONTENT_TYPE"] = value
        elif name == "content-length":
            environ["CONTENT_LENGTH"] = value
        else:
            key = "HTTP_" + name.upper().replace("-", "_")
            environ[key] = f"{environ[key]},{value}" if key in environ else value

"""How the app meets the network in production: granian (an asynchronous Rust HTTP server)
talks ASGI to this adapter, which reads each request body asynchronously, up to the site's
size limit, before a thread runs the Flask app on it, and takes the whole answer from the
thread before sending it. So an idle connection, a client sending its headers or its body a
byte at a time, and a client slow to read the answer cost a little memory and no thread:
the threads only ever run the app on complete requests. (Granian's own WSGI mode hands the
app a body it is still receiving, so a slow body would hold a thread.)

    granian --interface asgi proofmark.wsgi:asgi_app     (what scripts/run.sh starts)
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
        shortcut: Callable[[dict], tuple | None] | None = None,
        access_log: logging.Logger | None = None,
    ) -> None:
        """`shortcut(scope)` may answer a request on the event loop, before any thread or
        WSGI work: (status, ASGI headers, body, redacted path for the access log), or None
        to pass it on. It must be quick and must not block (a dictionary lookup: see
        proofmark.personalizer.previews.CachedPreviewFastPath.asgi_answer). Its answers are
        written to `access_log` like the WSGI app's."""
        self.wsgi_app = wsgi_app
        self.max_body = max_body
        threads = threads or int(os.environ.get("THREADS", "4"))
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="proofmark")
        self.shortcut = shortcut
        self.access_log = access_log

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        if self.shortcut is not None:
            started = time.perf_counter()
            answer = self.shortcut(scope)
            if answer is not None:
                await self._send_shortcut(scope, send, answer, started)
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
        loop = asyncio.get_running_loop()
        status, response_headers, chunks = await loop.run_in_executor(self.executor, self._run, environ)
        headers_out = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in response_headers]
        if WORKER_HEADER:
            headers_out.append((b"x-proofmark-worker", str(os.getpid()).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers_out})
        await send({"type": "http.response.body", "body": b"".join(chunks)})

    async def _send_shortcut(self, scope: dict, send, answer: tuple, started: float) -> None:
        status, headers, body, logged = answer
        if WORKER_HEADER:
            headers = (*headers, (b"x-proofmark-worker", str(os.getpid()).encode()))
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
                await send({"type": "lifespan.shutdown.complete"})
                return


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
    environ = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": scope.get("root_path", "").encode("utf-8").decode("latin-1"),
        # WSGI carries the path as bytes in a latin-1 str.
        "PATH_INFO": scope["path"].encode("utf-8").decode("latin-1"),
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1]),
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "REMOTE_ADDR": str(client[0]),
        "REMOTE_PORT": str(client[1]),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for name, value in headers:
        if name == "content-type":
            environ["CONTENT_TYPE"] = value
        elif name == "content-length":
            environ["CONTENT_LENGTH"] = value
        else:
            key = "HTTP_" + name.upper().replace("-", "_")
            environ[key] = f"{environ[key]},{value}" if key in environ else value
    if length is None:
        # Sent without a length (chunked) and read whole (or its first max_body + 1 bytes):
        # the app sees the length it has, and refuses a body that is too large by it.
        environ["CONTENT_LENGTH"] = str(len(body))
    return environ

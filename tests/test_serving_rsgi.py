"""The server adapter (proofmark.serving.BufferedWSGI) over granian's RSGI interface, the
one scripts/run.sh starts: a real granian on 127.0.0.1 serving a small WSGI app behind the
adapter. Whole bodies reach the app, large ones are refused unread, the loop shortcut answers
without a thread, and requests under the queue prefix run one at a time in arrival order."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

TARGET = textwrap.dedent(
    """
    import json
    import threading
    import time
    from types import SimpleNamespace

    from proofmark.serving import BufferedWSGI

    state = {"running": 0, "most": 0, "order": []}
    lock = threading.Lock()

    def wsgi(environ, start_response):
        declared = int(environ.get("CONTENT_LENGTH") or 0)
        if declared > 1000:
            start_response("413 Request Entity Too Large", [("Content-Type", "text/plain")])
            return [b"too large"]
        body = environ["wsgi.input"].read(declared)
        path = environ["PATH_INFO"]
        state.setdefault("paths", []).append(path)
        if path.startswith("/preview/"):
            with lock:
                state["running"] += 1
                state["most"] = max(state["most"], state["running"])
                state["order"].append(environ["QUERY_STRING"])
            time.sleep(0.3)
            with lock:
                state["running"] -= 1
        if path == "/state":
            body = json.dumps(state).encode()
        seen = {
            "method": environ["REQUEST_METHOD"],
            "path": path,
            "query": environ["QUERY_STRING"],
            "remote": environ["REMOTE_ADDR"],
            "length": len(body),
            "type": environ.get("CONTENT_TYPE", ""),
            "agent": environ.get("HTTP_USER_AGENT", ""),
        }
        start_response("200 OK", [("Content-Type", "text/plain"), ("X-Seen", json.dumps(seen))])
        return [body]

    def shortcut(path, query, if_none_match):
        if path == "/preview/known.jpg" and query == "w=1":
            answer = SimpleNamespace(
                headers=(), str_headers=[("content-type", "image/jpeg"), ("x-from", "loop")],
                body=b"JPEG", logged="/preview/known.jpg?w=1",
            )
            return (304 if if_none_match else 200), answer
        return None

    app = BufferedWSGI(wsgi, max_body=1000, threads=4, shortcut=shortcut, queue_prefix="/preview/", queue_width=1)
    """
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def rsgi_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("rsgi")
    (folder / "rsgi_target.py").write_text(TARGET)
    port = _free_port()
    log = (folder / "server.log").open("w")
    granian = Path(sys.executable).parent / "granian"
    process = subprocess.Popen(
        [str(granian), "--interface", "rsgi", "--host", "127.0.0.1", "--port", str(port)]
        + ["--workers", "1", "--no-ws", "rsgi_target:app"],
        cwd=folder,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, (folder / "server.log").read_text()
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                assert time.monotonic() < deadline, (folder / "server.log").read_text()
                time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        process.wait(30)
        log.close()


def _request(port: int, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def _raw(port: int, pieces: list[bytes]) -> bytes:
    """Send a request in pieces, as a slow client does, and read the whole answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        for piece in pieces:
            try:
                s.sendall(piece)
            except (BrokenPipeError, ConnectionResetError):
                break  # answered (and closed) before the rest was sent: a refused body
            time.sleep(0.05)
        data = b""
        while b"\r\n\r\n" not in data or len(data.split(b"\r\n\r\n", 1)[1]) < _length(data):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        return data


def _length(data: bytes) -> int:
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").lower()
    for line in head.split("\r\n"):
        if line.startswith("content-length:"):
            return int(line.split(":", 1)[1])
    return 0


def test_rsgi_gives_the_app_whole_bodies_and_the_wsgi_environ(rsgi_server):
    form = b"line-1=Zo%C3%AB+%26+Ben"
    head = (
        b"POST /p/mug/preview?x=1 HTTP/1.1\r\nHost: t\r\nUser-Agent: slow-client\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n" % len(form)
    )
    answer = _raw(rsgi_server, [head, form[:5], form[5:12], form[12:]])
    assert answer.startswith(b"HTTP/1.1 200")
    headers, body = answer.split(b"\r\n\r\n", 1)
    seen = json.loads(
        next(h for h in headers.split(b"\r\n") if h.lower().startswith(b"x-seen:")).split(b":", 1)[1]
    )
    assert body == form
    assert seen == {
        "method": "POST",
        "path": "/p/mug/preview",
        "query": "x=1",
        "remote": "127.0.0.1",
        "length": len(form),
        "type": "application/x-www-form-urlencoded",
        "agent": "slow-client",
    }
    # A raw UTF-8 query reaches WSGI as its bytes in latin-1 (PEP 3333), as over ASGI.
    _, headers, _ = _request(rsgi_server, "GET", "/q?name=%C3%A9")
    assert json.loads(headers["x-seen"])["query"] == "name=%C3%A9"
    answer = _raw(rsgi_server, ["GET /q?name=\u00e9 HTTP/1.1\r\nHost: t\r\n\r\n".encode()])
    seen = next(h for h in answer.split(b"\r\n") if h.lower().startswith(b"x-seen:"))
    assert json.loads(seen.split(b":", 1)[1])["query"] == "name=\u00e9".encode().decode("latin-1")


def test_rsgi_refuses_large_bodies_unread_and_a_bad_length(rsgi_server):
    # Declared too large: the app answers from the header, the body is never read.
    status, headers, body = _request(
        rsgi_server, "POST", "/upload", headers={"Content-Length": "5000000"}, body=None
    )
    assert (status, body) == (413, b"too large")

    # Chunked (no length) and too large: cut off once past the limit, and the app refuses it.
    chunk = b"320\r\n" + b"A" * 800 + b"\r\n"
    head = b"POST /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
    answer = _raw(rsgi_server, [head, chunk, chunk, chunk, b"0\r\n\r\n"])
    assert answer.startswith(b"HTTP/1.1 413") and answer.endswith(b"too large")
    # Chunked and small: whole.
    answer = _raw(rsgi_server, [head, chunk, b"0\r\n\r\n"])
    assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(b"A" * 800)
    answer = _raw(rsgi_server, [b"POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 12abc\r\n\r\n"])
    assert answer.startswith(b"HTTP/1.1 400")  # granian's HTTP parser refuses it before the app


def test_rsgi_does_not_run_the_app_for_a_client_gone_before_its_body(rsgi_server):
    with socket.create_connection(("127.0.0.1", rsgi_server), timeout=10) as s:
        s.sendall(b"POST /gone HTTP/1.1\r\nHost: t\r\nContent-Length: 500\r\n\r\n" + b"a" * 100)
        time.sleep(0.2)
    time.sleep(0.5)  # the server notices the closed connection
    state = json.loads(_request(rsgi_server, "GET", "/state")[2])
    assert "/state" in state["paths"] and "/gone" not in state["paths"]


def test_rsgi_shortcut_answers_on_the_loop_and_passes_everything_else_on(rsgi_server):
    status, headers, body = _request(rsgi_server, "GET", "/preview/known.jpg?w=1")
    assert (status, body, headers["x-from"], headers["content-type"]) == (200, b"JPEG", "loop", "image/jpeg")
    status, headers, _ = _request(
        rsgi_server, "GET", "/preview/known.jpg?w=1", headers={"If-None-Match": '"k"'}
    )
    assert status == 304 and headers["x-from"] == "loop"
    # Another query, or another method, is the WSGI app's.
    status, headers, _ = _request(rsgi_server, "GET", "/preview/known.jpg?w=2")
    assert status == 200 and "x-from" not in headers and json.loads(headers["x-seen"])["query"] == "w=2"
    status, headers, _ = _request(rsgi_server, "POST", "/preview/known.jpg?w=1", body=b"")
    assert status == 200 and "x-from" not in headers


def test_rsgi_runs_queued_requests_one_at_a_time_in_arrival_order(rsgi_server):
    """Six renders from six connections at once: never two in the app together, and each
    started in the order it arrived; other paths are not held by the queue."""
    results: dict[int, int] = {}

    def get(n: int) -> None:
        results[n] = _request(rsgi_server, "GET", f"/preview/new.jpg?n={n}")[0]

    threads = []
    for n in range(6):
        thread = threading.Thread(target=get, args=(n,))
        thread.start()
        threads.append(thread)
        time.sleep(0.1)  # so that the arrival order is known (each one runs 0.3 s)
    # While they queue, another path is answered at once by another thread.
    status, _, body = _request(rsgi_server, "GET", "/state")
    assert status == 200 and json.loads(body)["most"] <= 1
    for thread in threads:
        thread.join()
    assert results == dict.fromkeys(range(6), 200)
    state = json.loads(_request(rsgi_server, "GET", "/state")[2])
    assert state["most"] == 1
    assert [q for q in state["order"] if q.startswith("n=")] == [f"n={n}" for n in range(6)]


BALANCED_TARGET = textwrap.dedent(
    """
    import os
    from pathlib import Path

    from proofmark.balance import ConnectionBalance
    from proofmark.serving import BufferedWSGI

    def wsgi(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [str(os.getpid()).encode()]

    # Connections counted for 5 s after their last answer (0.1 s in the site): the test's
    # rounds are sequential and may be slow on a busy machine.
    balance = ConnectionBalance(Path("workers"), window=5, returning=1)
    app = BufferedWSGI(wsgi, max_body=1000, threads=2, balance=balance)
    """
)


@pytest.fixture
def two_workers(tmp_path):
    """A real granian with two worker processes (each its own SO_REUSEPORT listener, as
    scripts/run.sh starts it) serving an app that names the worker in every answer."""
    (tmp_path / "balanced_target.py").write_text(BALANCED_TARGET)
    port = _free_port()
    log = (tmp_path / "server.log").open("w")
    granian = Path(sys.executable).parent / "granian"
    process = subprocess.Popen(
        [str(granian), "--interface", "rsgi", "--host", "127.0.0.1", "--port", str(port)]
        + ["--workers", "2", "--no-ws", "--respawn-failed-workers", "balanced_target:app"],
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        workers: set[str] = set()
        deadline = time.monotonic() + 60
        while len(workers) < 2:  # each new connection is handed to a worker by the kernel
            assert process.poll() is None and time.monotonic() < deadline, (
                tmp_path / "server.log"
            ).read_text()
            try:
                workers.add(_request(port, "GET", "/")[2].decode())
            except OSError:
                time.sleep(0.2)
        yield port, process, tmp_path
    finally:
        process.terminate()
        process.wait(30)
        log.close()


def _until_even(connections: list[http.client.HTTPConnection], limit: int = 100_000) -> list[dict[str, int]]:
    """Rounds of one request on each keep-alive connection (http.client opens a new one
    after an answer with `Connection: close`), until ten rounds in a row are answered 4:4 by
    the two workers (or `limit` rounds, or a minute); per round, how many each worker answered."""
    splits: list[dict[str, int]] = []
    deadline = time.monotonic() + 60
    while (
        len(splits) < limit
        and time.monotonic() < deadline
        and [sorted(s.values()) for s in splits[-10:]] != [[4, 4]] * 10
    ):
        split: dict[str, int] = {}
        for conn in connections:
            conn.request("GET", "/")
            worker = conn.getresponse().read().decode()
            split[worker] = split.get(worker, 0) + 1
        splits.append(split)
    return splits


def test_keep_alive_connections_are_spread_evenly_across_two_workers(two_workers):
    """Eight keep-alive clients, as the preview benchmark drives the site: however the
    kernel's hash hands out their connections, each worker comes to answer four, and it
    stays so (no connection is closed once the split is even). After a worker is killed and
    granian starts another, the split evens out again."""
    port, process, folder = two_workers
    connections = [http.client.HTTPConnection("127.0.0.1", port, timeout=10) for _ in range(8)]
    try:
        splits = _until_even(connections)
        assert [sorted(s.values()) for s in splits[-10:]] == [[4, 4]] * 10, splits[-20:]
        sockets = [conn.sock for conn in connections]
        splits = _until_even(connections, limit=20)
        assert [sorted(s.values()) for s in splits] == [[4, 4]] * 10
        assert [conn.sock for conn in connections] == sockets  # kept alive once even

        victim, survivor = (int(w) for w in splits[-1])
        os.kill(victim, signal.SIGKILL)
        for conn in connections:
            conn.close()
        replacement = None
        deadline = time.monotonic() + 60
        while replacement is None:  # granian starts another worker
            assert time.monotonic() < deadline, (folder / "server.log").read_text()
            try:
                worker = int(_request(port, "GET", "/")[2])
            except OSError:  # handed to the killed worker's listener before it closed
                continue
            replacement = worker if worker not in (victim, survivor) else None
        splits = _until_even(connections)
        assert [sorted(s.values()) for s in splits[-10:]] == [[4, 4]] * 10, splits[-20:]
        assert {int(w) for w in splits[-1]} == {survivor, replacement}
    finally:
        for conn in connections:
            conn.close()

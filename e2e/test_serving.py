"""The README's run command (`make run` -> scripts/run.sh, granian) against slow and idle
clients: with far more stalled connections open than the app has threads, /healthz and a
cached preview still answer. (Under the old gunicorn arrangement, 8 idle connections held
every thread and nothing answered.) Timings are printed by scripts/bench_slow_clients.py,
not asserted here; a request that gets no answer within its socket timeout fails."""

from __future__ import annotations

import http.client
import os
import re
import socket
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.e2e


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(port: int, path: str, timeout: float = 10) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def _env(tmp_path: Path, port: int, **extra) -> dict:
    return dict(
        os.environ,
        INSTANCE_PATH=str(tmp_path / "instance"),
        PORT=str(port),
        WORKERS="1",
        THREADS="2",
        PROOFMARK_SKIP_SETUP="1",
        **extra,
    )


@pytest.fixture
def served(tmp_path):
    port = _free_port()
    log = (tmp_path / "run.log").open("w")
    process = subprocess.Popen(
        ["bash", "scripts/run.sh"], cwd=ROOT, env=_env(tmp_path, port), stdout=log, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 180
        while True:
            assert process.poll() is None, (tmp_path / "run.log").read_text()
            try:
                if _get(port, "/healthz", 2)[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, (tmp_path / "run.log").read_text()
            time.sleep(0.5)
        yield port, tmp_path / "run.log"
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def test_slow_and_idle_clients_do_not_stall_the_site(served):
    port, log = served
    page = _get(port, "/p/mug?line-1=Anna", 60)[1].decode()
    preview = re.search(r'data-preview-src="([^"]+)"', page).group(1).replace("&amp;", "&")
    assert _get(port, preview, 60)[0] == 200  # rendered once, cached from here on
    stalled = []
    try:
        for n in range(60):  # 30 times the app's threads (1 worker x 2)
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            if n % 3 == 1:
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            elif n % 3 == 2:
                s.sendall(
                    b"POST /p/mug/preview HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 50000\r\n"
                    b"Content-Type: application/x-www-form-urlencoded\r\n\r\nline-1="
                )
            stalled.append(s)
        for _ in range(10):
            assert _get(port, "/healthz")[0] == 200
            status, body = _get(port, preview)
            assert status == 200 and body[:2] == b"\xff\xd8"
    finally:
        for s in stalled:
            s.close()
    # Whole requests still reach the app as sent: a form post, and a body far too large (413).
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    body = "line-1=Zo%C3%AB+%26+Ben&font=lato"
    conn.request("POST", "/p/mug/preview", body, {"Content-Type": "application/x-www-form-urlencoded"})
    answer = conn.getresponse()
    assert answer.status == 200 and "Zoë &amp; Ben" in answer.read().decode()
    conn.request(
        "POST",
        "/p/mug/confirm",
        b"line-1=" + b"A" * 1_000_000,
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    answer = conn.getresponse()
    assert answer.status == 413 and b"nothing was saved" in answer.read()
    conn.close()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/vendor/htmx.min.js", headers={"Accept-Encoding": "br"})
    answer = conn.getresponse()
    assert answer.getheader("Content-Encoding") == "br" and len(answer.read()) < 25_000
    conn.close()
    text = log.read_text()
    assert "DEMO MODE on http://127.0.0.1:" in text and "loopback only" in text
    # Another port needs no FLASK_PUBLIC_URL: links and the printed staff address follow it.
    port = int(re.search(r"DEMO MODE on http://127\.0\.0\.1:(\d+)", text).group(1))
    assert f"links in emails point at http://127.0.0.1:{port}" in text
    assert f"http://127.0.0.1:{port}/staff/login" in text
    # The access log is the app's own, with the design in preview addresses redacted.
    assert "d=[redacted]" in text and "&d=ey" not in text


def test_demo_mode_refuses_to_listen_beyond_this_computer(tmp_path):
    result = subprocess.run(
        ["bash", "scripts/run.sh"],
        cwd=ROOT,
        env=_env(tmp_path, _free_port(), HOST="0.0.0.0"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "demo mode serves this computer only (127.0.0.1); HOST=0.0.0.0 is refused" in result.stderr
    assert not (tmp_path / "instance").exists()  # refused before anything was set up

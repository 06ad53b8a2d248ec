"""Slow and idle clients against the server `make run` starts (scripts/run.sh: granian).

Starts the site on a free loopback port with a throwaway instance folder, renders one preview
so that it is cached, then opens N connections that never finish their request: a third only
connect, a third send half a request line and then one header byte every few seconds, a third
send headers announcing a body and dribble it. While they are all open it times, one after
the other on fresh connections, GET /healthz and GET of the cached preview, and prints
p50/p95/max in milliseconds, with the load average (the machine is shared: numbers vary).

    .venv/bin/python scripts/bench_slow_clients.py [--connections 500] [--requests 200]
    .venv/bin/python scripts/bench_slow_clients.py --server gunicorn   # the old arrangement, for comparison

With `--server gunicorn` (scripts/gunicorn.conf.py: 2 workers x 4 threads) eight idle
connections hold every thread, and the timed requests fail after --timeout seconds.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import re
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(server: str, port: int, instance: Path) -> subprocess.Popen:
    env = dict(os.environ, INSTANCE_PATH=str(instance), PORT=str(port), FLASK_DEMO="true")
    env["PROOFMARK_SKIP_SETUP"] = "1"
    if server == "granian":
        command = ["bash", str(ROOT / "scripts" / "run.sh")]
    else:
        for step in ("init-instance", "init-db"):
            subprocess.run(
                [str(ROOT / ".venv/bin/proofmark"), step], env=env, check=True, capture_output=True
            )
        env["BIND"] = f"127.0.0.1:{port}"
        command = [str(ROOT / ".venv/bin/gunicorn"), "--config", str(ROOT / "scripts" / "gunicorn.conf.py")]
    log = open(instance / "server.log", "w")  # noqa: SIM115 (open for the server's lifetime)
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def get(port: int, path: str, timeout: float) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def wait_ready(port: int, process: subprocess.Popen, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with status {process.returncode}")
        try:
            if get(port, "/healthz", 2)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit("the server did not answer /healthz in time")


class SlowClients:
    """N connections that hold the server's attention without ever completing a request."""

    def __init__(self, port: int, count: int) -> None:
        self.port, self.count = port, count
        self.sockets: list[socket.socket] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._dribble, daemon=True)

    def open(self) -> None:
        for n in range(self.count):
            s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
            kind = n % 3
            if kind == 1:
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            elif kind == 2:
                s.sendall(
                    b"POST /p/mug/preview HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 50000\r\n\r\nline-1="
                )
            self.sockets.append(s)
        self.thread.start()

    def _dribble(self) -> None:
        while not self.stop.wait(2):
            for n, s in enumerate(self.sockets):
                if n % 3:
                    with contextlib.suppress(OSError):
                        s.send(b"a")

    def alive(self) -> int:
        """How many of the connections the server still holds open."""
        count = 0
        for s in self.sockets:
            s.setblocking(False)
            try:
                count += s.recv(1, socket.MSG_PEEK) != b""
            except BlockingIOError:
                count += 1
            except OSError:
                pass
            finally:
                s.setblocking(True)
        return count

    def close(self) -> None:
        self.stop.set()
        for s in self.sockets:
            s.close()


def timed(port: int, path: str, requests: int, timeout: float) -> tuple[list[float], int]:
    times, failures = [], 0
    for _ in range(requests):
        started = time.perf_counter()
        try:
            status, _ = get(port, path, timeout)
            if status != 200:
                failures += 1
                continue
        except OSError:
            failures += 1
            continue
        times.append((time.perf_counter() - started) * 1000)
    return times, failures


def summary(name: str, times: list[float], failures: int) -> str:
    if not times:
        return f"{name:<16} no answers ({failures} failed or timed out)"
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return (
        f"{name:<16} n={len(times):<4} p50={statistics.median(ordered):7.1f} ms  p95={p95:7.1f} ms  "
        f"max={ordered[-1]:7.1f} ms  failed={failures}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--connections", type=int, default=500)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds before a timed request fails")
    parser.add_argument("--server", choices=("granian", "gunicorn"), default="granian")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, args.connections * 2 + 256)), hard))

    with tempfile.TemporaryDirectory(prefix="proofmark-bench-") as tmp:
        instance = Path(tmp) / "instance"
        instance.mkdir()
        port = free_port()
        process = start(args.server, port, instance)
        try:
            wait_ready(port, process)
            page = get(port, "/p/mug?line-1=Anna", 30)[1].decode()
            preview = re.search(r'data-preview-src="([^"]+)"', page).group(1).replace("&amp;", "&")
            assert get(port, preview, 60)[0] == 200  # rendered once; cached from here on
            print(
                f"server: {args.server} (scripts/run.sh)" if args.server == "granian" else "server: gunicorn"
            )
            base_h, f1 = timed(port, "/healthz", 50, args.timeout)
            base_p, f2 = timed(port, preview, 50, args.timeout)
            print("without slow clients:")
            print("  " + summary("/healthz", base_h, f1))
            print("  " + summary("cached preview", base_p, f2))
            slow = SlowClients(port, args.connections)
            slow.open()
            time.sleep(1)
            print(
                f"with {args.connections} slow/idle connections open ({slow.alive()} still open before timing):"
            )
            h, f1 = timed(port, "/healthz", args.requests, args.timeout)
            print("  " + summary("/healthz", h, f1))
            p, f2 = timed(port, preview, args.requests, args.timeout)
            print("  " + summary("cached preview", p, f2))
            print(f"  {slow.alive()} of {args.connections} slow connections still open after timing")
            slow.close()
            print("load average (1, 5, 15 min): " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
            print(f"cpus: {os.cpu_count()}")
        finally:
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark the live preview over HTTP, the way a typing shopper drives it.

    .venv/bin/python scripts/bench_preview.py                 # starts scripts/run.sh (granian) itself
    .venv/bin/python scripts/bench_preview.py --repeat 5      # five back-to-back runs, then 32 clients
    .venv/bin/python scripts/bench_preview.py --server gunicorn   # the old arrangement
    .venv/bin/python scripts/bench_preview.py --url http://127.0.0.1:5000   # an existing server
    .venv/bin/python scripts/bench_preview.py --json          # one JSON object instead of a table

Without --url it starts scripts/run.sh (granian, the production server; --workers/--threads,
default 2 x 4) or, with --server gunicorn, gunicorn on a free loopback port with a fresh temporary instance folder,
so every image really is rendered for the first time (built product scenes are reused from
earlier runs, see SCENES_DIR; --cold-scenes builds them). It waits until every worker answers
and has finished its start-up work. Then, with --clients concurrent
clients (default 8), each phase runs until --requests requests or --seconds have passed:

  partial   POST /p/<product>/preview (HX-Request): the fragment htmx swaps in after a
            pause in typing (validation, issue slots, the new image URL). Each request a
            new text. The image URLs it returns feed the next two phases.
  uncached  GET of those preview image URLs: each one a design never rendered before.
  cached    GET of the same URLs again: served from the preview cache.
  304       the same URLs with If-None-Match, as a browser revalidating.

It prints throughput and p50/p95/p99 latency per phase, how many requests and connections
each worker process answered (the server it starts names the worker in a response header),
the server's and the client's CPU ms per request and cores used, the load average before and
after each run, and checks the targets (p95 <= 60 ms uncached, <= 5 ms cached, at 8
concurrent clients). The clients are keep-alive connections driven by this one asyncio
process with requests prebuilt as bytes, so the client costs little of the cores it shares
with the server; its CPU per request is printed so its share can be seen. Other load on the
machine (a test run, say) shows up directly in p95: run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import http.client
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCTS = [
    "pendant-round",
    "bar-necklace",
    "ring-band",
    "ornament-stamped",
    "cutting-board",
    "tshirt",
    "mug",
]
NAMES = ["Anna", "Noah", "Mila", "Ben", "Zoë", "Luca", "Ada", "Omar", "Ivy", "Jonas", "Eli", "Rosa"]
TARGETS = {"uncached": 60.0, "cached": 5.0}
IMG_SRC = re.compile(r'class="pz-img" src="([^"]+)"')


@dataclass
class Phase:
    name: str
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    bytes: int = 0
    wall_s: float = 0.0
    client_cpu_s: float = 0.0  # the benchmark's own CPU time: it shares the machine's cores
    extras: list = field(default_factory=list)
    workers: dict = field(default_factory=dict)  # worker pid -> requests it answered
    connections: dict = field(default_factory=dict)  # worker pid -> connections it accepted
    held: dict = field(default_factory=dict)  # worker pid -> clients whose last answer it gave
    server_cpu_s: float | None = None  # the server's worker processes' CPU time during the phase

    def summary(self) -> dict:
        lat = sorted(self.latencies_ms)

        def pct(p: float) -> float | None:
            if not lat:
                return None
            return round(lat[min(len(lat) - 1, max(0, round(p / 100 * len(lat)) - 1))], 2)

        return {
            "requests": len(lat),
            "errors": len(self.errors),
            "first_error": self.errors[0] if self.errors else None,
            "seconds": round(self.wall_s, 2),
            "throughput_rps": round(len(lat) / self.wall_s, 1) if self.wall_s else None,
            "p50_ms": pct(50),
            "p95_ms": pct(95),
            "p99_ms": pct(99),
            "mean_ms": round(statistics.fmean(lat), 2) if lat else None,
            "mean_kb": round(self.bytes / len(lat) / 1024, 1) if lat else None,
            "client_cpu_share": round(self.client_cpu_s / self.wall_s, 2) if self.wall_s else None,
            "client_cpu_ms_per_request": round(self.client_cpu_s * 1000 / len(lat), 3) if lat else None,
            "server_cores": (
                round(self.server_cpu_s / self.wall_s, 2)
                if self.wall_s and self.server_cpu_s is not None
                else None
            ),
            "per_worker": sorted(self.workers.values(), reverse=True),
            "connections_per_worker": sorted(self.connections.values(), reverse=True),
            "clients_per_worker_at_end": sorted(self.held.values(), reverse=True),
            "server_cpu_ms_per_request": (
                round(self.server_cpu_s * 1000 / len(lat), 2)
                if lat and self.server_cpu_s is not None
                else None
            ),
        }


class Connection:
    """One keep-alive connection, like one browser tab: raw HTTP/1.1 on an asyncio stream,
    requests prebuilt as bytes, so the benchmark's own CPU per request stays small (it runs
    on the same cores as the server; its CPU per request is printed beside the server's)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.worker: str | None = None  # the worker process that answered the last request
        self.connected_to: list[str] = []  # the worker that answered each new connection first

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        for attempt in (1, 2):
            fresh = self.writer is None
            if fresh:
                self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            try:
                self.writer.write(raw)
                status, headers, body = await self._response()
            except (OSError, asyncio.IncompleteReadError, ValueError):
                # The server closed an idle keep-alive connection: reconnect once.
                self.close()
                if attempt == 2:
                    raise
                continue
            self.worker = headers.get(b"x-proofmark-worker")
            if fresh and self.worker:
                self.connected_to.append(self.worker.decode())
            if headers.get(b"connection", b"").lower() == b"close":
                self.close()
            return status, body
        raise AssertionError("unreachable")

    async def _response(self) -> tuple[int, dict, bytes]:
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(b":")
                headers[name.strip().lower()] = value.strip()
        if b"content-length" in headers:
            body = await self.reader.readexactly(int(headers[b"content-length"]))
        elif headers.get(b"transfer-encoding", b"").lower() == b"chunked":
            parts = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await self.reader.readuntil(b"\r\n")
                    break
                parts.append(await self.reader.readexactly(size + 2))
            body = b"".join(part[:-2] for part in parts)
        else:
            body = b""
        return status, headers, body

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def http_request(method: str, path: str, host: str, headers: dict | None = None, body: bytes = b"") -> bytes:
    """A request as the bytes sent (built before the phase, so it costs the phase nothing)."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


# The server's worker processes (pids from the x-proofmark-worker header), when it runs here:
# their CPU time is read from /proc around each phase.
server_pids: list[int] = []


def _server_cpu(pids: list[int]) -> float | None:
    """User + system CPU seconds of these processes and their threads (Linux /proc), or None."""
    if not pids:
        return None
    total = 0
    try:
        tick = os.sysconf("SC_CLK_TCK")
        for pid in pids:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    except (OSError, ValueError, IndexError):
        return None
    return total / tick


def wait_for_workers(base: str, workers: int, timeout: float = 300) -> list[int]:
    """Until every worker answers: a new connection per request (each one is handed to a
    worker by the kernel), so none is measured while still starting. The worker pids."""
    seen: set[str] = set()
    parts = urllib.parse.urlsplit(base)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(seen) < workers:
        conn = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=30)
        try:
            conn.request("GET", "/healthz")
            response = conn.getresponse()
            response.read()
            pid = response.getheader("x-proofmark-worker")
            if pid is None:
                return []  # a server that does not name its workers (--url): nothing to wait for
            seen.add(pid)
        except OSError:
            time.sleep(0.2)
        finally:
            conn.close()
    if len(seen) < workers:
        raise SystemExit(f"only {len(seen)} of {workers} workers answered within {timeout:g} s")
    return sorted(int(pid) for pid in seen)


def wait_until_quiet(pids: list[int], timeout: float = 900, idle_cpu: float = 0.1) -> float:
    """Until the server's workers are idle (under `idle_cpu` of a core over 2 s): a fresh
    worker builds every product's scene at every width in the background after it starts
    (proofmark.wsgi), and a phase measured meanwhile would count that work as the previews'.
    The seconds waited."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        before = _server_cpu(pids)
        time.sleep(2)
        after = _server_cpu(pids)
        if before is None or after is None or (after - before) / 2 < idle_cpu:
            break
    return time.monotonic() - start


def run_phase(name: str, base: str, clients: int, jobs: list, max_seconds: float, do) -> Phase:
    """Run `await do(connection, job) -> (ok, nbytes, error, extra)` over the jobs with
    `clients` concurrent keep-alive connections from this one process (asyncio); extras
    (e.g. the image URL a fragment named) in job order."""
    parts = urllib.parse.urlsplit(base)
    phase = Phase(name)
    state = {"next": 0}
    extras: list = []

    async def client() -> None:
        connection = Connection(parts.hostname, parts.port or 80)
        deadline = time.monotonic() + max_seconds
        try:
            while time.monotonic() < deadline:
                i = state["next"]
                if i >= len(jobs):
                    break
                state["next"] = i + 1
                start = time.perf_counter()
                try:
                    ok, nbytes, error, extra = await do(connection, jobs[i])
                except Exception as exc:  # noqa: BLE001 - a benchmark reports failures, it does not stop
                    ok, nbytes, error, extra = False, 0, f"{type(exc).__name__}: {exc}", None
                    connection.close()
                elapsed = (time.perf_counter() - start) * 1000
                if connection.worker:
                    pid = connection.worker.decode()
                    phase.workers[pid] = phase.workers.get(pid, 0) + 1
                if ok:
                    phase.latencies_ms.append(elapsed)
                    phase.bytes += nbytes
                    if extra is not None:
                        extras.append((i, extra))
                else:
                    phase.errors.append(error)
        finally:
            if connection.worker:
                pid = connection.worker.decode()
                phase.held[pid] = phase.held.get(pid, 0) + 1
            connection.close()
            for pid in connection.connected_to:
                phase.connections[pid] = phase.connections.get(pid, 0) + 1

    async def main() -> None:
        await asyncio.gather(*(client() for _ in range(clients)))

    server_cpu0 = _server_cpu(server_pids)
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    asyncio.run(main())
    phase.wall_s = time.perf_counter() - t0
    phase.client_cpu_s = time.process_time() - cpu0
    server_cpu1 = _server_cpu(server_pids)
    if server_cpu0 is not None and server_cpu1 is not None:
        phase.server_cpu_s = server_cpu1 - server_cpu0
    phase.extras = [extra for _, extra in sorted(extras)]
    return phase


def design_form(i: int) -> tuple[str, dict]:
    product = PRODUCTS[i % len(PRODUCTS)]
    text = f"{NAMES[i % len(NAMES)][:3]} {i % 1_000_000}"[:10]
    return product, {"line-1": text}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(workers: int, threads: int, config: dict[str, str]) -> tuple[subprocess.Popen, str, Path]:
    port = free_port()
    instance = Path(tempfile.mkdtemp(prefix="proofmark-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLASK_")}
    env.update(INSTANCE_PATH=str(instance), FLASK_SECRET_KEY="bench-secret", FLASK_DEMO="false")
    env.update({f"FLASK_{key}": value for key, value in config.items()})
    log = open(instance / "gunicorn.log", "w")  # noqa: SIM115 - lives as long as the server
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "proofmark:create_app()",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited:\n{(instance / 'gunicorn.log').read_text()}")
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2) as r:
                if r.status == 200:
                    return process, base, instance
        except OSError:
            time.sleep(0.1)
    process.terminate()
    raise SystemExit("gunicorn did not answer /healthz within 30 s")


# Built product scenes (not previews) are kept here between benchmark runs, so a run's workers
# load them in milliseconds instead of building them for minutes (--cold-scenes: build them).
SCENES_DIR = Path(tempfile.gettempdir()) / "proofmark-bench-scenes"
# The shop's own demo products (seed-demo) are keyed by their photos' paths in the instance:
# in a folder named anew each run, their scenes were built again every run (about 100 s of the
# wait on this machine, and 200 MB more in SCENES_DIR). So the throwaway instance lives at one
# of a few fixed paths, the first no other running benchmark holds (a lock), emptied first.
INSTANCE_SLOTS = 8
_held_slots: list = []


def bench_instance() -> Path:
    """An empty instance folder: the first free fixed slot, else a new temporary folder."""
    for n in range(INSTANCE_SLOTS):
        folder = Path(tempfile.gettempdir()) / f"proofmark-bench-instance-{n}"
        lock = open(f"{folder}.lock", "a")  # noqa: SIM115 - held as long as this process runs
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            continue
        _held_slots.append(lock)
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        return folder
    return Path(tempfile.mkdtemp(prefix="proofmark-bench-"))


def start_granian(
    workers: int,
    threads: int,
    config: dict[str, str],
    cold_scenes: bool = False,
    extra_env: dict[str, str] | None = None,
) -> tuple[subprocess.Popen, str, Path]:
    """scripts/run.sh (granian) on a free loopback port with a throwaway instance folder
    (its scenes shared with earlier runs through SCENES_DIR unless `cold_scenes`)."""
    port = free_port()
    instance = Path(tempfile.mkdtemp(prefix="proofmark-bench-")) if cold_scenes else bench_instance()
    if not cold_scenes:
        SCENES_DIR.mkdir(exist_ok=True)
        (instance / "scenes").symlink_to(SCENES_DIR, target_is_directory=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLASK_")}
    env.update(
        INSTANCE_PATH=str(instance),
        PORT=str(port),
        WORKERS=str(workers),
        THREADS=str(threads),
        FLASK_DEMO="true",
        FLASK_SECRET_KEY="bench-secret",
        PROOFMARK_SKIP_SETUP="1",
        PROOFMARK_WORKER_HEADER="1",
    )
    env.update({f"FLASK_{key}": value for key, value in config.items()})
    env.update(extra_env or {})
    log = open(instance / "server.log", "w")  # noqa: SIM115 - lives as long as the server
    process = subprocess.Popen(
        ["bash", str(ROOT / "scripts" / "run.sh")], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited:\n{(instance / 'server.log').read_text()}")
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2) as r:
                if r.status == 200:
                    return process, base, instance
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit("the server did not answer /healthz within 300 s")


def bench(base: str, clients: int, requests: int, seconds: float, run: int = 0, warm_up: bool = True) -> dict:
    host = urllib.parse.urlsplit(base).netloc
    hx = {"HX-Request": "true", "Content-Type": "application/x-www-form-urlencoded"}

    def partial_request(job) -> bytes:
        product, form = job
        return http_request("POST", f"/p/{product}/preview", host, hx, urllib.parse.urlencode(form).encode())

    def image_request(path: str) -> bytes:
        return http_request("GET", path, host, {"Accept": "image/avif,image/webp,image/*"})

    def revalidate_request(path: str) -> bytes:
        key = path.split("/preview/")[1].split(".")[0]
        return http_request("GET", path, host, {"If-None-Match": f'"{key}"'})

    async def partial(connection: Connection, raw: bytes):
        status, data = await connection.request(raw)
        if status != 200:
            return False, 0, f"partial HTTP {status}", None
        match = IMG_SRC.search(data.decode())
        if not match:
            return False, 0, "partial without a preview image", None
        return True, len(data), None, unescape(match.group(1))

    async def image(connection: Connection, raw: bytes):
        status, data = await connection.request(raw)
        if status != 200 or not data:
            return False, 0, f"image HTTP {status}", None
        return True, len(data), None, None

    async def revalidate(connection: Connection, raw: bytes):
        status, _ = await connection.request(raw)
        return status == 304, 0, None if status == 304 else f"revalidate HTTP {status}", None

    # Warm-up (not measured): every product several times per worker, so fonts and
    # substrate textures are loaded, as on a server that has been up for a minute.
    if warm_up:
        warm = [partial_request((p, {"line-1": f"Warm {n}"})) for n in range(clients * 2) for p in PRODUCTS]
        warm_urls = run_phase("warm", base, clients, warm, 120, partial).extras
        run_phase("warm", base, clients, [image_request(u) for u in warm_urls], 120, image)

    # Each run its own texts: every uncached image really is new.
    jobs = [partial_request(design_form(run * 100_000 + i)) for i in range(requests)]
    phases = {"partial": run_phase("partial", base, clients, jobs, seconds, partial)}
    fresh = phases["partial"].extras
    phases["uncached"] = run_phase(
        "uncached", base, clients, [image_request(u) for u in fresh], seconds, image
    )
    done = fresh[: len(phases["uncached"].latencies_ms)]
    phases["cached"] = run_phase("cached", base, clients, [image_request(u) for u in done], seconds, image)
    phases["304"] = run_phase(
        "304", base, clients, [revalidate_request(u) for u in done], seconds, revalidate
    )
    return {name: phase.summary() for name, phase in phases.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="benchmark this server instead of starting one")
    parser.add_argument("--server", choices=["granian", "gunicorn"], default="granian")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=400, help="per phase (at most)")
    parser.add_argument("--seconds", type=float, default=15.0, help="per phase (at most)")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="back-to-back runs; with more than one, a run at --wide clients follows",
    )
    parser.add_argument("--wide", type=int, default=32, help="clients of the extra run after --repeat runs")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument(
        "--config",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a setting for the server it starts, e.g. PREVIEW_WIDTH=900",
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an environment variable for the server it starts, e.g. GRANIAN_RUNTIME_THREADS=2",
    )
    parser.add_argument(
        "--cold-scenes",
        action="store_true",
        help=f"build every product scene in the fresh instance instead of reusing {SCENES_DIR}",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)

    process = instance = None
    base = args.url
    if not base:
        config = dict(item.split("=", 1) for item in args.config)
        if args.server == "granian":
            env = dict(item.split("=", 1) for item in args.env)
            process, base, instance = start_granian(args.workers, args.threads, config, args.cold_scenes, env)
        else:
            process, base, instance = start_gunicorn(args.workers, args.threads, config)
        server_pids[:] = wait_for_workers(base, args.workers)
        waited = wait_until_quiet(server_pids)
        if not args.json:
            print(
                f"server workers {server_pids} answered; waited {waited:.0f} s for their start-up work to end"
            )
    runs = []
    try:
        plan = [args.clients] * args.repeat + ([args.wide] if args.repeat > 1 else [])
        for n, clients in enumerate(plan):
            load_before = _load()
            results = bench(base.rstrip("/"), clients, args.requests, args.seconds, run=n, warm_up=n == 0)
            runs.append(
                {
                    "run": n + 1,
                    "clients": clients,
                    "load_average_before": load_before,
                    "load_average": _load(),
                    "phases": results,
                }
            )
            if not args.json:
                _print_run(runs[-1])
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=30)
            shutil.rmtree(instance, ignore_errors=True)

    def meets(results: dict) -> bool:
        return all(
            results[name]["p95_ms"] is not None
            and results[name]["p95_ms"] <= limit
            and not results[name]["errors"]
            for name, limit in TARGETS.items()
        )

    checked = [r for r in runs if r["clients"] == args.clients]
    report = {
        "server": base
        if args.url
        else f"{args.server} --workers {args.workers} --threads {args.threads}"
        + (f" ({_interface(args.env)})" if args.server == "granian" else ""),
        "clients": args.clients,
        "cpus": os.cpu_count(),
        "runs": runs,
        "phases": runs[0]["phases"],
        "targets_p95_ms": TARGETS,
        "runs_meeting_targets": sum(meets(r["phases"]) for r in checked),
        "meets_targets": all(meets(r["phases"]) for r in checked),
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(
            f"{report['server']}, {report['cpus']} CPUs: {report['runs_meeting_targets']} of {len(checked)} runs at "
            f"{args.clients} clients meet the targets"
        )
    return 0 if report["meets_targets"] else 1


def _interface(env_items: list[str]) -> str:
    """The interface scripts/run.sh starts granian with: GRANIAN_INTERFACE (--env), else rsgi."""
    env = dict(item.split("=", 1) for item in env_items)
    return env.get("GRANIAN_INTERFACE", os.environ.get("GRANIAN_INTERFACE", "rsgi"))


def _load() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def _print_run(run: dict) -> None:
    print(
        f"run {run['run']}: {run['clients']} concurrent clients, load average before "
        f"{run['load_average_before']}, after {run['load_average']}"
    )
    print(
        f"{'phase':<9}{'reqs':>6}{'err':>5}{'req/s':>8}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}{'KiB':>6}"
        f"{'srv CPU':>9}{'srv cores':>10}{'cli CPU':>9}{'cli cores':>10}  {'requests':<10}{'conns':<7}{'at end':<7}target"
    )
    for name, r in run["phases"].items():
        target = TARGETS.get(name)
        verdict = ""
        if target is not None and r["p95_ms"] is not None:
            verdict = f"p95 <= {target:g} ms: {'ok' if r['p95_ms'] <= target else 'MISSED'}"
        split = ":".join(str(n) for n in r["per_worker"]) or "-"
        conns = ":".join(str(n) for n in r["connections_per_worker"]) or "-"
        at_end = ":".join(str(n) for n in r["clients_per_worker_at_end"]) or "-"

        def num(value, width: int, digits: int = 2) -> str:
            return f"{'-' if value is None else f'{value:.{digits}f}':>{width}}"

        print(
            f"{name:<9}{r['requests']:>6}{r['errors']:>5}{r['throughput_rps'] or 0:>8.0f}"
            f"{num(r['p50_ms'], 8)}{num(r['p95_ms'], 8)}{num(r['p99_ms'], 8)}{num(r['mean_kb'], 6, 0)}"
            f"{num(r['server_cpu_ms_per_request'], 9)}{num(r['server_cores'], 10)}"
            f"{num(r['client_cpu_ms_per_request'], 9, 3)}{num(r['client_cpu_share'], 10)}  {split:<10}{conns:<7}{at_end:<7}"
            f"{verdict}"
        )
        if r["first_error"]:
            print(f"{'':<10}first error: {r['first_error']}")
    sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())

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

It prints throughput and p50/p95/p99 latency per phase, how many requests each worker
process answered (the server it starts names the worker in a response header), and checks the targets
(p95 <= 60 ms uncached, <= 5 ms cached, at 8 concurrent clients). "client CPU" is the
share of one core the benchmark itself used: it runs on the same cores as the server, so
on a 2-core machine it is part of what the numbers measure. Other load on the machine
(a test run, say) shows up directly in p95: run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
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
            "per_worker": sorted(self.workers.values(), reverse=True),
            "connections_per_worker": sorted(self.connections.values(), reverse=True),
            "server_cpu_ms_per_request": (
                round(self.server_cpu_s * 1000 / len(lat), 2)
                if lat and self.server_cpu_s is not None
                else None
            ),
        }


class Client:
    """One keep-alive connection, like one browser tab."""

    def __init__(self, base: str) -> None:
        parts = urllib.parse.urlsplit(base)
        self.host, self.port = parts.hostname, parts.port or 80
        self.conn: http.client.HTTPConnection | None = None
        self.worker: str | None = None
        self.connected_to: list[str] = []  # the worker that answered each new connection first

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        for attempt in (1, 2):
            fresh = self.conn is None
            if fresh:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
            try:
                self.conn.request(method, path, body=body, headers=headers or {})
                response = self.conn.getresponse()
                data = response.read()
                self.worker = response.getheader("x-proofmark-worker")
                if fresh and self.worker:
                    self.connected_to.append(self.worker)
                return response.status, data
            except (http.client.HTTPException, OSError):
                # The server closed an idle keep-alive connection: reconnect once.
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def _client_process(base, jobs, do, index, lock, deadline, results) -> None:
    """One client, in its own process: the clients must not queue behind each other for
    one interpreter lock, or their waiting would be counted as the server's latency."""
    client = Client(base)
    latencies, errors, extras = [], [], []
    workers: dict[str, int] = {}
    nbytes_total = 0
    cpu0 = time.process_time()
    while time.time() < deadline:
        with lock:
            i = index.value
            index.value += 1
        if i >= len(jobs):
            break
        start = time.perf_counter()
        try:
            ok, nbytes, error, extra = do(client, jobs[i])
        except Exception as exc:  # noqa: BLE001 - a benchmark reports failures, it does not stop
            ok, nbytes, error, extra = False, 0, f"{type(exc).__name__}: {exc}", None
        elapsed = (time.perf_counter() - start) * 1000
        if client.worker:
            workers[client.worker] = workers.get(client.worker, 0) + 1
        if ok:
            latencies.append(elapsed)
            nbytes_total += nbytes
            if extra is not None:
                extras.append((i, extra))
        else:
            errors.append(error)
    connections: dict[str, int] = {}
    for pid in client.connected_to:
        connections[pid] = connections.get(pid, 0) + 1
    results.put((latencies, errors, nbytes_total, extras, time.process_time() - cpu0, workers, connections))


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
    """Run `do(client, job) -> (ok, nbytes, error, extra)` over the jobs with `clients`
    concurrent client processes; extras (e.g. the image URL a fragment named) in job order."""
    ctx = multiprocessing.get_context("fork")
    index, lock, results = ctx.Value("l", 0, lock=False), ctx.Lock(), ctx.Queue()
    phase = Phase(name)
    deadline = time.time() + max_seconds
    processes = [
        ctx.Process(target=_client_process, args=(base, jobs, do, index, lock, deadline, results))
        for _ in range(clients)
    ]
    server_cpu0 = _server_cpu(server_pids)
    t0 = time.perf_counter()
    for process in processes:
        process.start()
    extras = []
    for _ in processes:
        latencies, errors, nbytes, found, cpu, workers, connections = results.get()
        for pid, n in workers.items():
            phase.workers[pid] = phase.workers.get(pid, 0) + n
        for pid, n in connections.items():
            phase.connections[pid] = phase.connections.get(pid, 0) + n
        phase.latencies_ms += latencies
        phase.errors += errors
        phase.bytes += nbytes
        phase.client_cpu_s += cpu
        extras += found
    phase.wall_s = time.perf_counter() - t0
    server_cpu1 = _server_cpu(server_pids)
    if server_cpu0 is not None and server_cpu1 is not None:
        phase.server_cpu_s = server_cpu1 - server_cpu0
    for process in processes:
        process.join()
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


def start_granian(
    workers: int, threads: int, config: dict[str, str], cold_scenes: bool = False
) -> tuple[subprocess.Popen, str, Path]:
    """scripts/run.sh (granian) on a free loopback port with a throwaway instance folder
    (its scenes shared with earlier runs through SCENES_DIR unless `cold_scenes`)."""
    port = free_port()
    instance = Path(tempfile.mkdtemp(prefix="proofmark-bench-"))
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
    hx = {"HX-Request": "true", "Content-Type": "application/x-www-form-urlencoded"}

    def partial(client: Client, job):
        product, form = job
        status, data = client.request(
            "POST", f"/p/{product}/preview", urllib.parse.urlencode(form).encode(), hx
        )
        if status != 200:
            return False, 0, f"partial HTTP {status}", None
        match = IMG_SRC.search(data.decode())
        if not match:
            return False, 0, "partial without a preview image", None
        return True, len(data), None, unescape(match.group(1))

    def image(client: Client, path: str):
        status, data = client.request("GET", path, headers={"Accept": "image/avif,image/webp,image/*"})
        if status != 200 or not data:
            return False, 0, f"image HTTP {status}", None
        return True, len(data), None, None

    def revalidate(client: Client, path: str):
        key = path.split("/preview/")[1].split(".")[0]
        status, _ = client.request("GET", path, headers={"If-None-Match": f'"{key}"'})
        return status == 304, 0, None if status == 304 else f"revalidate HTTP {status}", None

    # Warm-up (not measured): every product several times per worker, so fonts and
    # substrate textures are loaded, as on a server that has been up for a minute.
    if warm_up:
        warm = [(p, {"line-1": f"Warm {n}"}) for n in range(clients * 2) for p in PRODUCTS]
        warm_urls = run_phase("warm", base, clients, warm, 120, partial).extras
        run_phase("warm", base, clients, warm_urls, 120, image)

    # Each run its own texts: every uncached image really is new.
    jobs = [design_form(run * 100_000 + i) for i in range(requests)]
    phases = {"partial": run_phase("partial", base, clients, jobs, seconds, partial)}
    fresh = phases["partial"].extras
    phases["uncached"] = run_phase("uncached", base, clients, fresh, seconds, image)
    done = fresh[: len(phases["uncached"].latencies_ms)]
    phases["cached"] = run_phase("cached", base, clients, done, seconds, image)
    phases["304"] = run_phase("304", base, clients, done, seconds, revalidate)
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
            process, base, instance = start_granian(args.workers, args.threads, config, args.cold_scenes)
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
        "server": base if args.url else f"{args.server} --workers {args.workers} --threads {args.threads}",
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
        f"{'phase':<10}{'requests':>9}{'errors':>8}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
        f"{'KiB':>8}{'client CPU':>12}{'srv CPU ms':>11}  {'requests':<10}{'conns':<7}target"
    )
    for name, r in run["phases"].items():
        target = TARGETS.get(name)
        verdict = ""
        if target is not None and r["p95_ms"] is not None:
            verdict = f"p95 <= {target:g} ms: {'ok' if r['p95_ms'] <= target else 'MISSED'}"
        split = ":".join(str(n) for n in r["per_worker"]) or "-"
        conns = ":".join(str(n) for n in r["connections_per_worker"]) or "-"
        cpu = r["server_cpu_ms_per_request"]
        print(
            f"{name:<10}{r['requests']:>9}{r['errors']:>8}{r['throughput_rps'] or 0:>9.1f}"
            f"{r['p50_ms'] or 0:>9.2f}{r['p95_ms'] or 0:>9.2f}{r['p99_ms'] or 0:>9.2f}{r['mean_kb'] or 0:>8.1f}"
            f"{r['client_cpu_share'] or 0:>11.0%}{'-' if cpu is None else f'{cpu:.2f}':>11}  {split:<10}{conns:<7}"
            f"{verdict}"
        )
        if r["first_error"]:
            print(f"{'':<10}first error: {r['first_error']}")
    sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())

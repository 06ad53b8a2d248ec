"""Benchmark the live preview over HTTP, the way a typing shopper drives it.

    .venv/bin/python scripts/bench_preview.py                 # starts gunicorn itself
    .venv/bin/python scripts/bench_preview.py --url http://127.0.0.1:5000   # an existing server
    .venv/bin/python scripts/bench_preview.py --json          # one JSON object instead of a table

Without --url it starts gunicorn (the production server; --workers/--threads, default
2 x 4 as in scripts/run.sh) on a free loopback port with a fresh temporary instance folder,
so every image really is rendered for the first time. Then, with --clients concurrent
clients (default 8), each phase runs until --requests requests or --seconds have passed:

  partial   POST /p/<product>/preview (HX-Request): the fragment htmx swaps in after a
            pause in typing (validation, issue slots, the new image URL). Each request a
            new text. The image URLs it returns feed the next two phases.
  uncached  GET of those preview image URLs: each one a design never rendered before.
  cached    GET of the same URLs again: served from the preview cache.
  304       the same URLs with If-None-Match, as a browser revalidating.

It prints throughput and p50/p95/p99 latency per phase, and checks the targets
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
        }


class Client:
    """One keep-alive connection, like one browser tab."""

    def __init__(self, base: str) -> None:
        parts = urllib.parse.urlsplit(base)
        self.host, self.port = parts.hostname, parts.port or 80
        self.conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
            try:
                self.conn.request(method, path, body=body, headers=headers or {})
                response = self.conn.getresponse()
                data = response.read()
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
        if ok:
            latencies.append(elapsed)
            nbytes_total += nbytes
            if extra is not None:
                extras.append((i, extra))
        else:
            errors.append(error)
    results.put((latencies, errors, nbytes_total, extras, time.process_time() - cpu0))


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
    t0 = time.perf_counter()
    for process in processes:
        process.start()
    extras = []
    for _ in processes:
        latencies, errors, nbytes, found, cpu = results.get()
        phase.latencies_ms += latencies
        phase.errors += errors
        phase.bytes += nbytes
        phase.client_cpu_s += cpu
        extras += found
    phase.wall_s = time.perf_counter() - t0
    for process in processes:
        process.join()
    phase.extras = [extra for _, extra in sorted(extras)]
    return phase


def design_form(i: int) -> tuple[str, dict]:
    product = PRODUCTS[i % len(PRODUCTS)]
    text = f"{NAMES[i % len(NAMES)]} {i}"[:10]
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


def bench(base: str, clients: int, requests: int, seconds: float) -> dict:
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
    warm = [(p, {"line-1": f"Warm {n}"}) for n in range(clients * 2) for p in PRODUCTS]
    warm_urls = run_phase("warm", base, clients, warm, 120, partial).extras
    run_phase("warm", base, clients, warm_urls, 120, image)

    jobs = [design_form(i) for i in range(requests)]
    phases = {"partial": run_phase("partial", base, clients, jobs, seconds, partial)}
    fresh = phases["partial"].extras
    phases["uncached"] = run_phase("uncached", base, clients, fresh, seconds, image)
    done = fresh[: len(phases["uncached"].latencies_ms)]
    phases["cached"] = run_phase("cached", base, clients, done, seconds, image)
    phases["304"] = run_phase("304", base, clients, done, seconds, revalidate)
    return {name: phase.summary() for name, phase in phases.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="benchmark this server instead of starting gunicorn")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=700, help="per phase (at most)")
    parser.add_argument("--seconds", type=float, default=20.0, help="per phase (at most)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument(
        "--config",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a setting for the gunicorn it starts, e.g. PREVIEW_WIDTH=900",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)

    process = instance = None
    base = args.url
    if not base:
        config = dict(item.split("=", 1) for item in args.config)
        process, base, instance = start_gunicorn(args.workers, args.threads, config)
    try:
        results = bench(base.rstrip("/"), args.clients, args.requests, args.seconds)
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=10)
            shutil.rmtree(instance, ignore_errors=True)

    report = {
        "server": base if args.url else f"gunicorn --workers {args.workers} --threads {args.threads}",
        "clients": args.clients,
        "cpus": os.cpu_count(),
        "phases": results,
        "targets_p95_ms": TARGETS,
        "meets_targets": all(
            results[name]["p95_ms"] is not None
            and results[name]["p95_ms"] <= limit
            and not results[name]["errors"]
            for name, limit in TARGETS.items()
        ),
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"{report['server']}, {args.clients} concurrent clients, {report['cpus']} CPUs")
        print(
            f"{'phase':<10}{'requests':>9}{'errors':>8}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
            f"{'KiB':>8}{'client CPU':>12}  target"
        )
        for name, r in results.items():
            target = TARGETS.get(name)
            verdict = ""
            if target is not None and r["p95_ms"] is not None:
                verdict = f"p95 <= {target:g} ms: {'ok' if r['p95_ms'] <= target else 'MISSED'}"
            print(
                f"{name:<10}{r['requests']:>9}{r['errors']:>8}{r['throughput_rps'] or 0:>9.1f}"
                f"{r['p50_ms'] or 0:>9.2f}{r['p95_ms'] or 0:>9.2f}{r['p99_ms'] or 0:>9.2f}{r['mean_kb'] or 0:>8.1f}"
                f"{r['client_cpu_share'] or 0:>11.0%}   {verdict}"
            )
            if r["first_error"]:
                print(f"{'':<10}first error: {r['first_error']}")
    return 0 if report["meets_targets"] else 1


if __name__ == "__main__":
    sys.exit(main())

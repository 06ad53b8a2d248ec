"""Where the CPU of an uncached preview goes, in one process (no HTTP server, no sockets).

    .venv/bin/python scripts/bench_preview_path.py              # 280 previews, a table
    .venv/bin/python scripts/bench_preview_path.py --n 600 --json

It builds the app as the production server does (`proofmark.wsgi`: the app behind
`proofmark.serving.BufferedWSGI`, the preview fast path in front) on a throwaway instance
folder (built scenes are linked from `$TMPDIR/proofmark-bench-scenes`, as
scripts/bench_preview.py does), and hands the adapter's RSGI entry each request the way
granian would, minus granian. Like a browser, each design's htmx update (POST
/p/<product>/preview, not measured) comes first and its image (GET /preview/<key>.jpg, the
uncached request of scripts/bench_preview.py, 1000 px) right after it. Per image it prints the
process's CPU time split into the renderer's `render()`, the rest of the request thread (the
WSGI bridge, the address's checks, the caches, the access log), the event loop (the adapter,
the loop shortcut's miss, the hand-over to a thread) and the disk-cache writer thread. Then the
renderer's `check()` of a design right after its htmx update (kept from the update, or made
again), alternating per design. CPU time, not wall time: other load on the machine inflates
both, so compare two checkouts back to back (`../other/.venv/bin/python
scripts/bench_preview_path.py` runs that checkout's code) and read the load average printed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
from html import unescape
from pathlib import Path

# The same products, image links and stored scenes as the HTTP bench beside it.
from bench_preview import IMG_SRC, PRODUCTS, SCENES_DIR  # noqa: E402


class _Headers(dict):
    def items(self):  # granian's RSGI headers give a list
        return list(super().items())


class _Scope:
    """The fields of granian's RSGI scope the adapter reads."""

    def __init__(self, method: str, path: str, query: str, headers: dict) -> None:
        self.proto, self.method, self.path, self.query_string = "http", method, path, query
        self.headers = _Headers(headers)
        self.server, self.client = "127.0.0.1:5000", "127.0.0.1:40000"
        self.http_version, self.scheme = "1.1", "http"


class _Protocol:
    """granian's RSGI protocol: the body as an async iterator, one call to answer."""

    def __init__(self, body: bytes = b"") -> None:
        self.body, self.answer = body, None

    def __aiter__(self):
        async def chunks():
            if self.body:
                yield self.body

        return chunks()

    def response_bytes(self, status, headers, body) -> None:
        self.answer = (status, headers, body)


class _Clock:
    """CPU seconds spent inside named functions (each thread's own time)."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}

    def wrap(self, owner, name: str, label: str) -> None:
        inner = getattr(owner, name)

        def timed(*args, **kwargs):
            started = time.thread_time()
            try:
                return inner(*args, **kwargs)
            finally:
                self.spent[label] = self.spent.get(label, 0.0) + time.thread_time() - started

        setattr(owner, name, timed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=280, help="uncached previews to measure")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)

    instance = Path(tempfile.mkdtemp(prefix="proofmark-path-bench-"))
    SCENES_DIR.mkdir(exist_ok=True)
    (instance / "scenes").symlink_to(SCENES_DIR, target_is_directory=True)
    os.environ.update(INSTANCE_PATH=str(instance), FLASK_DEMO="true", FLASK_SECRET_KEY="bench-secret")
    os.environ.setdefault("THREADS", "4")
    import logging

    from proofmark import wsgi
    from proofmark.personalizer import previews
    from proofmark_renderer import validation

    for thread in threading.enumerate():
        if thread.name == "scene-prepare":
            thread.join()  # its work is not the previews'
    access = logging.getLogger("proofmark.access")
    for handler in access.handlers:
        handler.stream = open(os.devnull, "w")  # noqa: SIM115 - a server writes its log somewhere too
    adapter = wsgi.asgi_app
    loop = asyncio.new_event_loop()

    def call(method: str, path: str, query: str = "", headers: dict | None = None, body: bytes = b""):
        protocol = _Protocol(body)
        sent = {"host": "127.0.0.1:5000", "accept": "image/*", "user-agent": "bench", **(headers or {})}
        loop.run_until_complete(adapter.__rsgi__(_Scope(method, path, query, sent), protocol))
        return protocol.answer

    def update(i: int, prefix: str) -> tuple[str, str]:
        """The htmx update for a new text; the image address it names (path, query)."""
        body = urllib.parse.urlencode({"line-1": f"{prefix}{i}"[:10]}).encode()
        status, _, page = call(
            "POST",
            f"/p/{PRODUCTS[i % len(PRODUCTS)]}/preview",
            headers={
                "hx-request": "true",
                "content-type": "application/x-www-form-urlencoded",
                "content-length": str(len(body)),
            },
            body=body,
        )
        if status != 200:
            raise SystemExit(f"htmx update answered {status}")
        path, _, query = unescape(IMG_SRC.search(page.decode()).group(1)).partition("?")
        return path, query

    def image(path: str, query: str) -> None:
        status = call("GET", path, query)[0]
        if status != 200:
            raise SystemExit(f"preview answered {status}")

    try:
        for i in range(6 * len(PRODUCTS)):  # fonts, textures and code paths warm
            image(*update(i, "W"))
        previews.flush_disk_writes()

        clock = _Clock()
        clock.wrap(adapter, "_run", "thread")
        clock.wrap(previews, "render", "render")
        clock.wrap(previews, "_write_disk", "disk")
        loop_cpu = 0.0
        process = 0.0
        spent: dict[str, float] = {}
        for i in range(args.n):
            address = update(i, "U")
            before = dict(clock.spent)
            cpu, own = time.process_time(), time.thread_time()
            image(*address)
            previews.flush_disk_writes()
            loop_cpu += time.thread_time() - own
            process += time.process_time() - cpu
            for label, total in clock.spent.items():
                spent[label] = spent.get(label, 0.0) + total - before.get(label, 0.0)
        spent = {k: v * 1000 / args.n for k, v in spent.items()}
        per = {
            "process_ms": round(process * 1000 / args.n, 3),
            "render_ms": round(spent.get("render", 0.0), 3),
            "thread_outside_render_ms": round(spent.get("thread", 0.0) - spent.get("render", 0.0), 3),
            "event_loop_ms": round(loop_cpu * 1000 / args.n, 3),
            "disk_write_ms": round(spent.get("disk", 0.0), 3),
        }
        per["outside_render_ms"] = round(per["process_ms"] - per["render_ms"], 3)

        # check() right after the htmx update checked the same design: kept, or made again.
        kept, again = [], []
        for i in range(args.n):
            path, query = update(i, "K")
            design = previews.decode_design(urllib.parse.parse_qs(query)["d"][0])
            recent = getattr(validation, "_recent", None)
            if i % 2 and recent is not None:
                recent.clear()
            started = time.process_time()
            validation.check(design)
            (again if i % 2 or recent is None else kept).append(time.process_time() - started)
    finally:
        previews.flush_disk_writes()
        import shutil

        shutil.rmtree(instance, ignore_errors=True)

    report = {
        "checkout": str(Path(previews.__file__).resolve().parents[2]),
        "previews": args.n,
        "width": 1000,
        "per_uncached_preview": per,
        "check_after_update_us": {
            "kept": round(statistics.median(kept) * 1e6, 1) if kept else None,
            "made_again": round(statistics.median(again) * 1e6, 1),
        },
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"{report['checkout']}: {args.n} uncached 1000-px previews, load average {report['load_average']}")
    print("CPU ms per uncached preview (each right after its htmx update):")
    for name, value in per.items():
        print(f"  {name:<28}{value:8.3f}")
    check = report["check_after_update_us"]
    print(
        f"renderer check() right after the update (median us): kept {check['kept']}, made again {check['made_again']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

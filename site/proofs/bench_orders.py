"""`proofmark bench-orders`: how long a shopper waits for "Place order", right after a start.

Runs a NEW Python process on a NEW, empty instance folder (no stored scenes: everything cold),
which starts the app as a server worker does (the preview width prepared before serving, the
other widths on a background thread, the render worker in its thread) and then:

1. cold: places `count` demo-shop orders (POST /orders, the whole request) straight away,
   cycling every product, then adds a staff revision to each (the service call a staff
   "new revision" makes); each timed as the request's wall-clock and its thread's CPU time;
2. waits until every proof image exists and says how long the images took after their order;
3. warm: the same again.

Prints p50/p95 per phase (target: p95 <= 1 s, cold included), the process's CPU time and the
load average before and after (the machine may be shared: wall-clock under load is noisy).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time


def _pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))] * 1000, 1)


def _stats(walls: list[float], cpus: list[float]) -> dict:
    return {
        "n": len(walls),
        "p50_ms": _pct(walls, 50),
        "p95_ms": _pct(walls, 95),
        "max_ms": _pct(walls, 100),
        "cpu_p50_ms": _pct(cpus, 50),
        "cpu_p95_ms": _pct(cpus, 95),
    }


def _load() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def child(folder: str, count: int) -> None:
    """The measured process (started by `measure`): prints one JSON object."""
    started = time.perf_counter()
    os.environ["INSTANCE_PATH"] = folder
    from proofmark import create_app
    from proofmark.db import get_db
    from proofmark.personalizer.previews import prepare_scenes
    from proofmark.proofs import add_revision, get_proof_by_public_id, render_jobs
    from proofmark.tokens import sign_design
    from proofmark_renderer import Design, catalog

    app = create_app(
        {
            "SECRET_KEY": "bench",
            "DEMO": True,
            "MAIL_BACKEND": "file",
            "MAIL_SEND_AFTER_REQUEST": "off",
            "RENDER_AFTER_REQUEST": "thread",
        }
    )
    # As proofmark.wsgi: the preview width before serving, the rest in the background.
    prepare_scenes(app, first=(int(app.config["PREVIEW_WIDTH"]),))
    ready = time.perf_counter() - started
    products = [p.id for p in catalog.products()]

    def designs(tag: str) -> list[Design]:
        return [
            Design(product=products[i % len(products)], font="lato", lines=(f"{tag} {i:03d}",))
            for i in range(count)
        ]

    def phase(tag: str) -> dict:
        with app.app_context():
            tokens = [sign_design(d, d.content_key(1200, "jpeg"), {}) for d in designs(tag)]
        client = app.test_client()
        walls, cpus, placed_at, public_ids = [], [], {}, []
        for i, token in enumerate(tokens):
            t, c = time.perf_counter(), time.thread_time()
            response = client.post(
                "/orders",
                data={
                    "design_token": token,
                    "customer_name": "Bench",
                    "customer_email": "bench@example.com",
                    "order_ref": f"{tag}-{i}",
                },
            )
            walls.append(time.perf_counter() - t)
            cpus.append(time.thread_time() - c)
            if response.status_code != 303:
                raise SystemExit(
                    f"order {i}: HTTP {response.status_code} {response.get_data(as_text=True)[:300]}"
                )
            public_id = response.headers["Location"].rsplit("/", 1)[-1]
            public_ids.append(public_id)
            placed_at[public_id] = time.perf_counter()
        rwalls, rcpus = [], []
        with app.app_context():
            db = get_db()
            ids = [get_proof_by_public_id(db, p).id for p in public_ids]
            for i, proof_id in enumerate(ids):
                redesign = Design(
                    product=products[(i + 3) % len(products)], font="lato", lines=(f"{tag} rev {i}",)
                )
                t, c = time.perf_counter(), time.thread_time()
                add_revision(db, proof_id, redesign, actor="staff:bench")
                rwalls.append(time.perf_counter() - t)
                rcpus.append(time.thread_time() - c)
            last_queued = time.perf_counter()
            # Until every image exists (the render worker thread draws them meanwhile).
            deadline = time.monotonic() + 1800
            while time.monotonic() < deadline:
                left = db.execute(
                    "SELECT count(*) FROM render_jobs WHERE status IN ('queued', 'running')"
                ).fetchone()[0]
                if not left:
                    break
                render_jobs.worker_for(app).kick()
                time.sleep(0.1)
            drained = time.perf_counter() - last_queued
            failed = db.execute("SELECT count(*) FROM render_jobs WHERE status = 'failed'").fetchone()[0]
        return {
            "orders": _stats(walls, cpus),
            "revisions": _stats(rwalls, rcpus),
            "images_done_after_last_request_s": round(drained, 1),
            "render_failed": failed,
        }

    load_before = _load()
    cpu0 = time.process_time()
    cold = phase("cold")
    cpu_cold = time.process_time() - cpu0
    cpu0 = time.process_time()
    warm = phase("warm")
    cpu_warm = time.process_time() - cpu0
    print(
        json.dumps(
            {
                "start_to_serving_s": round(ready, 1),
                "products": len(products),
                "proof_image_width": app.config["PROOF_IMAGE_WIDTH"],
                "cold": {**cold, "process_cpu_s": round(cpu_cold, 1)},
                "warm": {**warm, "process_cpu_s": round(cpu_warm, 1)},
                "load_before": load_before,
                "load_after": _load(),
                "target_p95_ms": 1000,
            }
        )
    )


def measure(count: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="proofmark-bench-orders-") as folder:
        env = {
            **os.environ,
            "INSTANCE_PATH": folder,
            "MALLOC_ARENA_MAX": os.environ.get("MALLOC_ARENA_MAX", "2"),
        }
        code = "import sys; from proofmark.proofs.bench_orders import child; child(sys.argv[1], int(sys.argv[2]))"
        done = subprocess.run(
            [sys.executable, "-c", code, folder, str(count)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"bench-orders child failed:\n{done.stderr[-3000:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])


def table(result: dict) -> list[str]:
    lines = [
        f"new process, empty instance: serving after {result['start_to_serving_s']} s; "
        f"{result['products']} products; proof image {result['proof_image_width']} px",
        f"load average before {result['load_before']}, after {result['load_after']}",
        f"{'phase':<6}{'what':<11}{'n':>4}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'cpu p50':>9}{'cpu p95':>9}",
    ]
    for name in ("cold", "warm"):
        phase = result[name]
        for what in ("orders", "revisions"):
            s = phase[what]
            lines.append(
                f"{name:<6}{what:<11}{s['n']:>4}{s['p50_ms']:>9}{s['p95_ms']:>9}{s['max_ms']:>9}"
                f"{s['cpu_p50_ms']:>9}{s['cpu_p95_ms']:>9}"
            )
        lines.append(
            f"{name:<6}images all done {phase['images_done_after_last_request_s']} s after the last request; "
            f"{phase['render_failed']} failed; process CPU {phase['process_cpu_s']} s"
        )
    lines.append(f"target: p95 <= {result['target_p95_ms']} ms for orders and revisions, cold included")
    return lines

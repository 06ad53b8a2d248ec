"""gunicorn settings: the arrangement `make run` used before granian (scripts/run.sh), kept
for comparison (`scripts/bench_slow_clients.py --server gunicorn`). Its threads are held by
idle or slow connections: do not expose it directly. Loads the app once in the master and
builds every product's scene there, so forked workers share it."""

from __future__ import annotations

import os

bind = os.environ.get("BIND", "127.0.0.1:5000")
workers = int(os.environ.get("WORKERS", "2"))
threads = int(os.environ.get("THREADS", "4"))
worker_class = "gthread"
accesslog = "-"
preload_app = True
wsgi_app = "proofmark:create_app()"


def when_ready(server):
    from proofmark_renderer.compose import warm

    app = server.app.wsgi()
    # Only the live-preview width: it is the one a typing shopper waits for.
    server.log.info("warming product scenes at %s px", app.config["PREVIEW_WIDTH"])
    warm((app.config["PREVIEW_WIDTH"],))

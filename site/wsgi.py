"""The app as a production server loads it. `make run` (scripts/run.sh) starts
`granian --interface rsgi proofmark.wsgi:asgi_app` (`--interface asgi` works too): the Flask
app behind proofmark.serving.BufferedWSGI, so only complete requests reach its threads. `app` is the
plain WSGI app for other WSGI servers. Builds the app once per worker, prepares every product's
scene at every width the site draws (the live-preview width before serving, the rest just
after; see proofmark.personalizer.previews.prepare_scenes) so no shopper waits for a cold
one, and wraps it in the redacting access log."""

from __future__ import annotations

import gc
import os
import sys
from pathlib import Path

from proofmark import accesslog, create_app
from proofmark.balance import ConnectionBalance
from proofmark.personalizer.previews import CachedPreviewFastPath, prepare_scenes
from proofmark.serving import BufferedWSGI

app = create_app()
# The live-preview width now, every other width the site draws (proof image included) on a
# background thread; scenes another worker or an earlier start built are loaded from disk.
prepare_scenes(app, first=(int(app.config["PREVIEW_WIDTH"]),))
accesslog.configure()
# A preview this worker has answered before is sent again straight from the event loop.
fast_path = app.wsgi_app
app.wsgi_app = accesslog.AccessLog(app.wsgi_app)
asgi_app = BufferedWSGI(
    app,
    max_body=int(app.config["MAX_CONTENT_LENGTH"]),
    shortcut=fast_path.loop_answer if isinstance(fast_path, CachedPreviewFastPath) else None,
    access_log=accesslog.logger,
    # PREVIEW_RENDERS=1: new previews render one at a time per worker, in arrival order.
    # 0 (the default): no limit, up to THREADS render at once and share the GIL.
    queue_prefix="/preview/",
    queue_width=int(os.environ.get("PREVIEW_RENDERS", "0")),
    # Keep-alive connections spread evenly across the workers (PROOFMARK_BALANCE=0: as the
    # kernel's hash hands them out; see proofmark.balance).
    balance=(
        ConnectionBalance(Path(app.instance_path) / "workers")
        if os.environ.get("PROOFMARK_BALANCE", "1") != "0"
        else None
    ),
)
# The app, its templates and the scenes built so far stay for the life of the worker: moved
# out of the garbage collector's generations, so its full collections do not walk them again
# while a request waits (PROOFMARK_GC_FREEZE=0 leaves them in).
if os.environ.get("PROOFMARK_GC_FREEZE", "1") != "0":
    gc.freeze()
# PROOFMARK_SWITCH_INTERVAL (seconds, e.g. 0.001): how long a thread may hold the GIL while
# another waits for it (Python's default, 0.005, when unset). For benchmarks.
if os.environ.get("PROOFMARK_SWITCH_INTERVAL"):
    sys.setswitchinterval(float(os.environ["PROOFMARK_SWITCH_INTERVAL"]))

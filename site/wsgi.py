"""The app as a production server loads it. `make run` (scripts/run.sh) starts
`granian --interface asgi proofmark.wsgi:asgi_app`: the Flask app behind
proofmark.serving.BufferedWSGI, so only complete requests reach its threads. `app` is the
plain WSGI app for other WSGI servers. Builds the app once per worker, prepares every product's
scene at every width the site draws (the live-preview width before serving, the rest just
after; see proofmark.personalizer.previews.prepare_scenes) so no shopper waits for a cold
one, and wraps it in the redacting access log."""

from __future__ import annotations

from proofmark import accesslog, create_app
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
    shortcut=fast_path.asgi_answer if isinstance(fast_path, CachedPreviewFastPath) else None,
    access_log=accesslog.logger,
)

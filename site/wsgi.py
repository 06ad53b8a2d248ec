"""The app as a production server loads it. `make run` (scripts/run.sh) starts
`granian --interface asgi proofmark.wsgi:asgi_app`: the Flask app behind
proofmark.serving.BufferedWSGI, so only complete requests reach its threads. `app` is the
plain WSGI app for other WSGI servers. Builds the app once per worker, warms every product's
scene at the live-preview width so no shopper waits for a cold one, and wraps it in the
redacting access log."""

from __future__ import annotations

from proofmark import accesslog, create_app
from proofmark.serving import BufferedWSGI
from proofmark_renderer.compose import warm

app = create_app()
warm((app.config["PREVIEW_WIDTH"],))
accesslog.configure()
app.wsgi_app = accesslog.AccessLog(app.wsgi_app)
asgi_app = BufferedWSGI(app, max_body=int(app.config["MAX_CONTENT_LENGTH"]))

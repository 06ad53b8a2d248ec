"""The app as a production server loads it: `granian --interface wsgi proofmark.wsgi:app`
(what `make run` / scripts/run.sh start). Builds the app once per worker, warms every
product's scene at the live-preview width so no shopper waits for a cold one, and wraps it
in the redacting access log."""

from __future__ import annotations

from proofmark import accesslog, create_app
from proofmark_renderer.compose import warm

app = create_app()
warm((app.config["PREVIEW_WIDTH"],))
accesslog.configure()
app.wsgi_app = accesslog.AccessLog(app.wsgi_app)

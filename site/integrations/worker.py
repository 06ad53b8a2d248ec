"""Working the two queues from the web process and from cron: received webhook deliveries
(proofmark.integrations.inbound) and webhook messages out (proofmark.integrations.outbound).

Like the mail sender: a daemon thread per process, woken after a request that queued work
and every INTEGRATIONS_POLL_SECONDS for retries that came due, on its own database
connection; `proofmark webhooks run` does one round from cron. INTEGRATIONS_WORK_AFTER_REQUEST
picks "thread", "inline" (in the request's teardown) or "off" (cron only); None means
"inline" under TESTING and "thread" otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import Flask, g

from proofmark import background, mail
from proofmark import db as dbmod
from proofmark.background import QueueWorker
from proofmark.integrations import inbound, outbound

EXTENSION_KEY = "proofmark.integrations"


@dataclass
class RunReport:
    inbound: inbound.ProcessReport
    outbound: outbound.DeliveryReport

    def summary(self) -> str:
        return f"{self.inbound.summary()}; {self.outbound.summary()}"


def run_once(app: Flask, *, now: datetime | None = None) -> RunReport:
    """Process every due received delivery, then send due webhooks until none is due."""
    with app.app_context():
        database = dbmod.connect(
            dbmod.database_path(app), check_writes=app.config.get("DB_CHECK_WRITES", False)
        )
        try:
            received = inbound.ProcessReport()
            while True:
                batch = inbound.process_due(database, now=now)
                for name in ("claimed", "done", "retrying", "failed"):
                    setattr(received, name, getattr(received, name) + getattr(batch, name))
                received.errors += batch.errors
                if not batch.claimed or batch.done < batch.claimed:
                    break
            if received.done:
                # Proofs made from orders queued their emails: send them now, not at the next poll.
                mail.after_commit(app)
            sent = outbound.DeliveryReport()
            # Per-proof order sends one message per proof and endpoint a round: go on while
            # rounds deliver, stop at the first round with a failure (backoff) or nothing due.
            for _ in range(10_000):
                batch = outbound.deliver_due(database, now=now)
                for name in ("claimed", "delivered", "retrying", "failed"):
                    setattr(sent, name, getattr(sent, name) + getattr(batch, name))
                sent.errors += batch.errors
                if not batch.claimed or batch.delivered < batch.claimed:
                    break
            return RunReport(received, sent)
        finally:
            database.conn.close()


class BackgroundWorker(QueueWorker):
    """Works the received-order and outgoing-webhook queues (see `run_once`)."""

    def __init__(self, app: Flask):
        super().__init__(
            app, name="proofmark-integrations", poll_setting="INTEGRATIONS_POLL_SECONDS", work=run_once
        )


def work_mode(app: Flask) -> str:
    return background.after_request_mode(app, "INTEGRATIONS_WORK_AFTER_REQUEST")


def worker_for(app: Flask) -> BackgroundWorker:
    return background.worker_for(app, EXTENSION_KEY, BackgroundWorker)


def init_app(app: Flask) -> None:
    if EXTENSION_KEY in app.extensions:
        return
    app.extensions[EXTENSION_KEY] = BackgroundWorker(app)

    @app.before_request
    def _start_worker() -> None:
        if work_mode(app) == "thread":
            worker_for(app).start()

    @app.teardown_request
    def _work_after_request(exc: BaseException | None) -> None:
        if not g.pop("proofmark_integrations_work", False):
            return
        mode = work_mode(app)
        try:
            if mode == "thread":
                worker_for(app).kick()
            elif mode == "inline":
                run_once(app)
        except Exception:  # noqa: BLE001 - a webhook problem must not break the page
            app.logger.exception("integrations worker: work after the request failed")

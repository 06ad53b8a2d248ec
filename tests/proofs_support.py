"""Fixtures and helpers for the proofs, mail, approval and API tests: apps with their own
instance folders, a real SMTP server on loopback (aiosmtpd) that can be stopped and
started again on the same port, and a clock to move instead of sleeping."""

from __future__ import annotations

import socket
import threading
from contextlib import contextmanager
from datetime import datetime, timedelta
from email import message_from_bytes
from email.policy import default as default_policy

from proofmark_renderer import Design
from tests.support import T0, make_app  # noqa: F401 - the proofs tests import them from here


def design(text: str = "Ada Lovelace", product: str = "bar-necklace", font: str = "lato", **kw) -> Design:
    return Design(product=product, font=font, lines=(text,), **kw)


def new_proof(
    db, *, text: str = "Ada Lovelace", email: str = "ada@example.com", now: datetime | None = None, **kw
) -> int:
    from proofmark import proofs

    args = {
        "order_ref": "ORD-1001",
        "customer_name": "Ada Lovelace",
        "customer_email": email,
        "design": design(text),
        "source": "staff",
        "actor": "staff:owner@shop.test",
        **kw,
    }
    return proofs.create_proof(db, now=now, **args)


def all_statements(app) -> list[str]:
    return [s["id"] for s in app.config["APPROVAL_STATEMENTS"]]


def link_for(db, proof_id: int, *, revision: int | None = None, now=None) -> str:
    """An approval token for a revision (the current one by default), as an email would carry."""
    from proofmark import proofs
    from proofmark.tokens import sign_approval

    proof = proofs.get_proof(db, proof_id)
    rev = proofs.get_revision(db, proof_id, revision or proof.current_revision)
    return sign_approval(proof_id, rev.number, rev.nonce, "test-link", now=now)


def count(db, table: str, where: str = "1", params: tuple = ()) -> int:
    return db.execute(f"SELECT count(*) FROM {table} WHERE {where}", params).fetchone()[0]


def kinds(db, proof_id: int) -> list[str]:
    return [r[0] for r in db.execute("SELECT kind FROM events WHERE proof_id = ? ORDER BY seq", (proof_id,))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpSink:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it receives.
    `refuse_rcpt` makes it answer 550 to RCPT TO (a permanent failure), `defer_rcpt` 450
    (a temporary refusal of that message, like greylisting or a full mailbox)."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.messages: list = []  # email.message.EmailMessage
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refuse_rcpt = False
        self.defer_rcpt = False
        self._controller = None
        self._received = threading.Condition()

    # aiosmtpd handler hooks
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse_rcpt:
            return "550 5.1.1 No such user here"
        if self.defer_rcpt:
            return "450 4.2.1 Mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self._received:
            self.messages.append(message_from_bytes(envelope.content, policy=default_policy))
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self._received.notify_all()
        return "250 Message accepted for delivery"

    def start(self) -> SmtpSink:
        from aiosmtpd.controller import Controller

        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def wait_for(self, n: int, timeout: float = 30) -> bool:
        """Wait until n messages have arrived (a wait, not a timing assertion)."""
        with self._received:
            return self._received.wait_for(lambda: len(self.messages) >= n, timeout=timeout)

    def message_ids(self) -> list[str]:
        return [str(m["Message-ID"]) for m in self.messages]


@contextmanager
def smtp_sink(port: int | None = None):
    sink = SmtpSink(port).start()
    try:
        yield sink
    finally:
        sink.stop()


def later(days: float = 0, seconds: float = 0, start: datetime = T0, hours: float = 0) -> datetime:
    return start + timedelta(days=days, hours=hours, seconds=seconds)

"""Helpers for the staff tests: accounts, signing in, and proofs made through the proofs
service (proofmark.proofs) exactly as the shop, the approval page and staff make them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from proofmark.db import get_db
from proofmark_renderer import Design
from tests.support import (  # noqa: F401 - the staff tests import these from here
    STAFF_EMAIL,
    STAFF_PASSWORD,
    StaffLogin,
    make_app,
    make_staff,
)


def design(lines=("Sophie",), product="pendant-round", font="dancing-script", **kw) -> Design:
    return Design(product=product, font=font, lines=tuple(lines), **kw)


def create_proof(
    app,
    *,
    order_ref="A-1001",
    name="Ann Lee",
    email="ann@example.com",
    lines=("Sophie",),
    product="pendant-round",
    font="dancing-script",
    actor="staff:maker@shop.test",
) -> int:
    from proofmark import proofs

    with app.app_context():
        return proofs.create_proof(
            get_db(),
            order_ref=order_ref,
            customer_name=name,
            customer_email=email,
            design=design(lines, product, font),
            source="staff",
            actor=actor,
        )


def _current(app, proof_id):
    from proofmark import proofs

    revisions = proofs.get_revisions(get_db(), proof_id)
    return revisions[-1]


def approve(app, proof_id, ip="203.0.113.9", user_agent="Mozilla/5.0 (Test) Chromium"):
    from proofmark import proofs

    with app.app_context():
        rev = _current(app, proof_id)
        return proofs.approve(
            get_db(),
            proof_id,
            revision=rev.number,
            nonce=rev.nonce,
            statements_ticked=[s["id"] for s in proofs.statements()],
            ip=ip,
            user_agent=user_agent,
        )


def request_changes(app, proof_id, comment="Please fix the spelling", ip="203.0.113.9"):
    from proofmark import proofs

    with app.app_context():
        rev = _current(app, proof_id)
        return proofs.request_changes(
            get_db(),
            proof_id,
            revision=rev.number,
            nonce=rev.nonce,
            comment=comment,
            ip=ip,
            user_agent="Mozilla/5.0 (Test)",
        )


def add_revision(
    app, proof_id, lines, font="dancing-script", product="pendant-round", actor="staff:maker@shop.test"
):
    from proofmark import proofs

    with app.app_context():
        return proofs.add_revision(get_db(), proof_id, design(lines, product, font), actor=actor)


def page_text(html: str) -> str:
    """Visible text of a page, whitespace collapsed, for asserting what staff read."""
    text = re.sub(r"<script.*?</script>|<style.*?</style>", " ", html, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", text)
    import html as html_module

    return " ".join(html_module.unescape(text).split())


@dataclass
class World:
    """A shared instance with proofs in every interesting state (proof rendering is slow)."""

    app: object
    approved: int  # one revision, approved: "Sophie" / "12.03.2024"
    revised: int  # revision 1 "Jonh" changes requested, revision 2 "John" approved
    pending: int  # never approved
    cancelled: int


def build_world(instance_path) -> World:
    app = make_app(instance_path)
    make_staff(app)
    approved = create_proof(
        app, order_ref="A-1001", name="Ann Lee", email="ann@example.com", lines=("Sophie", "12.03.2024")
    )
    approve(app, approved)
    revised = create_proof(
        app,
        order_ref="B-2002",
        name="Bo Chan",
        email="bo@example.com",
        lines=("Jonh",),
        product="bar-necklace",
        font="playfair-display",
    )
    request_changes(app, revised, comment="The name is misspelled, it should be John")
    add_revision(app, revised, ("John",), product="bar-necklace", font="playfair-display")
    approve(app, revised)
    pending = create_proof(
        app, order_ref="C-3003", name="Cy Dorn", email="cy@example.com", lines=("Grandpa",)
    )
    cancelled = create_proof(app, order_ref="D-4004", name="Di Eck", email="di@example.com", lines=("Di",))
    from proofmark import proofs

    with app.app_context():
        proofs.cancel(get_db(), cancelled, actor="staff:maker@shop.test", reason="order refunded")
    return World(app, approved, revised, pending, cancelled)

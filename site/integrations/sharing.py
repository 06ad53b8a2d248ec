"""An approval link and a ready message for marketplaces without an API hook (Etsy): staff
paste them into the order's conversation. Each link is a fresh, recorded one (`link_shared`
event with its link id), so an approval through it is traced like one through an email."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlite_utils
from flask import current_app

from proofmark.db import transaction
from proofmark.proofs.emails import _expires_on, _link
from proofmark.proofs.errors import ProofError
from proofmark.proofs.queries import load
from proofmark.records import append_event, utcnow
from proofmark_renderer import catalog


@dataclass(frozen=True)
class SharedLink:
    url: str
    link_id: str
    expires_on: str
    message: str


def message_for(proof, url: str, expires_on: str) -> str:
    product = catalog.product(proof.product)
    first = proof.customer_name.split()[0] if proof.customer_name.split() else proof.customer_name
    return (
        f"Hi {first},\n\n"
        f"Here is the proof of your personalized {product.name if product else proof.product} "
        f"(order {proof.order_ref}). Please check every letter, number and date exactly as it will be made, "
        "then approve it or tell us what to change:\n\n"
        f"{url}\n\n"
        f"The link works until {expires_on}. We start making your item only after you approve.\n\n"
        f"Thank you!\n{current_app.config['SHOP_NAME']}"
    )


def share_link(
    db: sqlite_utils.Database,
    proof_id: int,
    *,
    actor: str,
    ip: str | None = None,
    user_agent: str | None = None,
    now: datetime | None = None,
) -> SharedLink:
    now = now or utcnow()
    with transaction(db):
        proof = load(db, proof_id)
        if proof.status != "awaiting_approval":
            raise ProofError(f"This proof is {proof.status.replace('_', ' ')}: there is nothing to approve.")
        url, _token, link_id = _link(proof, proof.revision, now)
        expires_on = _expires_on(now)
        append_event(
            db,
            proof_id,
            "link_shared",
            actor=actor,
            ip=ip,
            user_agent=user_agent,
            at=now,
            data={"revision": proof.current_revision, "link_id": link_id, "channel": "pasted by staff"},
        )
    return SharedLink(url, link_id, expires_on, message_for(proof, url, expires_on))

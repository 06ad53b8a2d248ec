"""Typed values for a proof and its revisions, built once where the rows are read
(proofmark.proofs.queries): the design parsed into the renderer's Design, options and
warnings parsed from their JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass, fields

from proofmark_renderer import Design

STATUSES = ("awaiting_approval", "approved", "changes_requested", "expired", "cancelled")
SOURCES = ("shop", "staff", "api", "shopify", "woocommerce", "etsy")
EVENT_KINDS = (
    "proof_created",
    "revision_added",
    "image_rendered",
    "email_queued",
    "email_sent",
    "email_failed",
    "proof_viewed",
    "approved",
    "changes_requested",
    "reminder_sent",
    "expired",
    "resent",
    "cancelled",
    "production_file_sent",
)


@dataclass(frozen=True)
class Revision:
    id: int
    proof_id: int
    number: int
    design: Design
    text: str
    font: str
    image_sha256: str
    renderer_version: str
    nonce: str
    created_by: str
    created_at: str
    design_sha256: str | None
    options: dict
    warnings: list
    note: str | None
    image_width: int | None
    image_height: int | None
    # A newer revision replaced this one; only known when all of a proof's revisions are read.
    superseded: bool = False

    @classmethod
    def from_row(cls, row, *, superseded: bool = False, design: Design | None = None) -> Revision:
        """From a `revisions` row; `design` when the caller already holds it parsed."""
        row = dict(row)
        return cls(
            id=row["id"],
            proof_id=row["proof_id"],
            number=row["number"],
            design=design if design is not None else Design.from_dict(json.loads(row["design"])),
            text=row["text"],
            font=row["font"],
            image_sha256=row["image_sha256"],
            renderer_version=row["renderer_version"],
            nonce=row["nonce"],
            created_by=row["created_by"],
            created_at=row["created_at"],
            design_sha256=row.get("design_sha256"),
            options=json.loads(row.get("options") or "{}"),
            warnings=json.loads(row.get("warnings") or "[]"),
            note=row.get("note"),
            image_width=row.get("image_width"),
            image_height=row.get("image_height"),
            superseded=superseded,
        )

    @property
    def design_dict(self) -> dict:
        """The design as it is stored and recorded in events (canonical form)."""
        return self.design.to_dict()


@dataclass(frozen=True)
class Proof:
    id: int
    public_id: str
    order_ref: str
    customer_name: str
    customer_email: str
    product: str
    font: str
    text: str
    status: str
    current_revision: int
    source: str
    created_at: str
    updated_at: str
    emailed_at: str | None
    reminded_at: str | None
    decided_at: str | None
    design_token_nonce: str | None
    expired_at: str | None
    cancelled_at: str | None
    # The current revision (None only for a proof whose revision row is missing).
    revision: Revision | None

    @classmethod
    def from_row(cls, row, revision: Revision | None) -> Proof:
        row = dict(row)
        names = {f.name for f in fields(cls)} - {"revision"}
        return cls(**{name: row.get(name) for name in names}, revision=revision)

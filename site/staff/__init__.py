"""Support staff: sign-in, the records, evidence packs, return claims and insights (/staff).

`bp` is the one staff blueprint; each views module adds its routes to it."""

from __future__ import annotations

from proofmark.staff import (  # noqa: F401
    auth,
    claim_photo_views,
    claims_views,
    editing,
    evidence_views,
    insights_views,
    integrations_views,
    production_views,
    products_views,
    views,
)
from proofmark.staff.blueprint import bp

__all__ = ["bp"]

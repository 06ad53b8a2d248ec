"""Support staff: sign-in, the records, evidence packs, return claims and insights (/staff).

`bp` is the one staff blueprint; each views module adds its routes to it."""

from __future__ import annotations

from proofmark.staff import auth, claims_views, editing, evidence_views, insights_views, views  # noqa: F401
from proofmark.staff.blueprint import bp

__all__ = ["bp"]

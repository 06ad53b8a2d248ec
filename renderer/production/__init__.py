"""Production files from the approved layout: SVG (1:1 in millimetres, text as outlines),
a vector PDF of the same, a PNG at the product's production resolution, and for stamped
products a job ticket. Pure: no Flask. Built from the same layout plan as the preview."""

from __future__ import annotations

from proofmark_renderer.production.geometry import Area
from proofmark_renderer.production.geometry import areas as build_areas

__all__ = ["Area", "build_areas"]

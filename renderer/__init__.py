"""Proofmark's renderer: realistic, exact previews of engraved and printed text.

Pure image and layout code; it must never import Flask.
"""

from __future__ import annotations

from proofmark_renderer import catalog
from proofmark_renderer.model import RENDERER_VERSION, Design, Issue, Layout, LineBox, RenderResult

__all__ = [
    "RENDERER_VERSION",
    "Design",
    "Issue",
    "Layout",
    "LineBox",
    "RenderResult",
    "catalog",
    "render",
    "validate",
]


def validate(design: Design) -> list[Issue]:
    from proofmark_renderer.validation import validate as _validate

    return _validate(design)


def render(
    design: Design,
    width: int = 1200,
    fmt: str = "jpeg",
    area: bool = False,
    *,
    keep_picture: bool = False,
    view: int = 0,
) -> RenderResult:
    from proofmark_renderer.compose import render as _render

    return _render(design, width=width, fmt=fmt, area=area, keep_picture=keep_picture, view=view)

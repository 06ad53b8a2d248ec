"""Engraving on metal: a cut groove with a matte floor, lit from the upper left, so the
wall on the light's side is in shadow and the opposite wall catches the light."""

from __future__ import annotations

from PIL import Image

from proofmark_renderer.finishes.common import cut_light, tint


def apply(scene, box: tuple[int, int, int, int], mask: Image.Image, seed: int) -> Image.Image:
    out = scene.image.crop(box)
    out.paste(scene.layers["floor"].crop(box), (0, 0), mask)
    # The walls slope over about 0.05 mm: one pixel each way at preview sizes, two when large.
    lit, shade = cut_light(mask, 2 if scene.scale > 60 else 1, lit_scale=0.85, shade_scale=0.7)
    tint(out, (0, 0, 0), shade)
    tint(out, scene.spark, lit)
    return out


__all__ = ["apply", "Image"]

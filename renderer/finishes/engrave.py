"""Engraving on metal: a cut groove with a matte floor, lit from the upper left, so the
wall on the light's side is in shadow and the opposite wall catches the light."""

from __future__ import annotations

from PIL import Image

from proofmark_renderer.finishes.common import cut_walls, ink_box, tint_at


def apply(scene, box: tuple[int, int, int, int], mask: Image.Image, seed: int) -> Image.Image:
    out = scene.image.crop(box)
    # The walls slope over about 0.05 mm: one pixel each way at preview sizes, two when large.
    step = 2 if scene.scale > 60 else 1
    # Everything the cut changes lies within `step` of its letters: work on that part only
    # (the box around the text is padded much wider, for the finishes that spread).
    part = ink_box(mask, step + 1)
    if part is None:
        return out
    x0, y0, x1, y1 = part
    cut = mask.crop(part)
    out.paste(scene.layers["floor"].crop((box[0] + x0, box[1] + y0, box[0] + x1, box[1] + y1)), part[:2], cut)
    lit, shade = cut_walls(cut, step, lit_scale=0.85, shade_scale=0.7)
    tint_at(out, (0, 0, 0), shade, part[:2])
    tint_at(out, scene.spark, lit, part[:2])
    return out


__all__ = ["apply", "Image"]

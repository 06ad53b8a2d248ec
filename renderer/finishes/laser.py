"""Laser engraving on wood: the beam burns the wood under it darker in its own colour
(darker still in the dense latewood lines, with the grain showing through; the scene's
char layer carries both), darker at each letter's rim, a shallow groove lit from the upper
left, and a soft scorched halo where the heat spread past the letter.

The work is done per group of letters (`common.ink_regions`), not over the box around all
of the text: the halo only where the heat reaches (the letters' ink grown by the halo's
reach), the burn, rim and walls only over the letters' own ink box. Groups lie further
apart than the halo reaches, so the result is that of the whole box, at about half of
its pixels for a sign of two lines."""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

from proofmark_renderer.finishes.common import blur_factor, blur_small, enlarge_u8, ink_regions, tint_at

SCORCH = (150, 96, 52)
RIM = (22, 11, 5)


def halo_radius(scale: float) -> float:
    return max(2.0, 0.6 * scale)


def reach(scale: float) -> float:
    """How far past the letters the halo spreads (the blur's reach), picture pixels."""
    return 3 * halo_radius(scale) + 2


def apply(scene, box: tuple[int, int, int, int], mask: Image.Image, seed: int) -> Image.Image:
    out = scene.image.crop(box)
    for part, (x0, y0, _, _) in apply_parts(scene, box, mask, seed):
        out.paste(part, (x0 - box[0], y0 - box[1]))
    return out


def apply_parts(
    scene, box: tuple[int, int, int, int], mask: Image.Image, seed: int
) -> list[tuple[Image.Image, tuple[int, int, int, int]]]:
    """`apply` as one patch per group of letters, each with its box in the picture: the
    wood around each group as far as its heat reaches, finished. Nothing outside them
    changes, so neither the box around all of the text is copied nor are the rows and
    columns between the groups encoded again."""
    parts = []
    radius = halo_radius(scene.scale)
    pad = int(math.ceil(reach(scene.scale)))
    step = 2 if scene.scale > 12 else 1
    f = blur_factor(radius)
    char = scene.layers["char"]
    m = np.asarray(mask)
    h, w = m.shape
    # Groups lie more than twice the reach apart, so their patches (the reach rounded out to
    # the blur's blocks, up to f - 1 more each side) never overlap.
    for ix0, iy0, ix1, iy1 in ink_regions(m, 2 * pad + 2 + 2 * max(0, f - 2), SPLIT_PX):
        # The heat's reach around this group of letters, in whole blocks of the blur's
        # downscale from the box's corner (the blocks a blur over the whole box would use).
        hx0, hy0 = (ix0 - pad) // f * f, (iy0 - pad) // f * f
        hx1, hy1 = hx0 + -(-(ix1 + pad - hx0) // f) * f, hy0 + -(-(iy1 + pad - hy0) // f) * f
        near = _window(m, hx0, hy0, hx1, hy1)
        # The spread heat, blurred on the blur's small map (common.blur_small) and enlarged
        # only where and as it is used: scaled for the halo over the reach, inverted for the
        # rim over the ink's box (enlarging is linear, so scaling first is the same).
        small = blur_small(near, radius)
        # The heat spreads about 0.6 mm past the beam and scorches the wood there lightly: the
        # same burn as the letters', at a fraction of their strength, so the halo too takes
        # its colour from the wood under it. The mask's own anti-aliased edge is as soft as
        # the beam's; no further blur is needed on the letters.
        cx0, cy0, cx1, cy1 = max(0, hx0), max(0, hy0), min(w, hx1), min(h, hy1)
        inside = (slice(cy0 - hy0, cy1 - hy0), slice(cx0 - hx0, cx1 - hx0))
        burn = np.maximum(near[inside], enlarge_u8(small * HALO, f)[inside])
        where = (box[0] + cx0, box[1] + cy0, box[0] + cx1, box[1] + cy1)
        out = scene.image.crop(where)
        out.paste(char.crop(where), (0, 0), Image.fromarray(burn))
        # Each letter's rim burns darker than its middle (the beam turns and slows there, and
        # the resin boils out to the edge of the cut): the letter less its own spread, 90%.
        # The small map's blocks over the ink's box, one more each side for the enlargement.
        sx0, sy0 = (ix0 - hx0) // f - 1, (iy0 - hy0) // f - 1
        sx1, sy1 = -(-(ix1 - hx0) // f) + 1, -(-(iy1 - hy0) // f) + 1
        cool = enlarge_u8((255 - small[sy0:sy1, sx0:sx1]) * RIM_SHARE, f)
        ox, oy = ix0 - hx0 - sx0 * f, iy0 - hy0 - sy0 * f
        cool = cool[oy : oy + iy1 - iy0, ox : ox + ix1 - ix0]
        # A burn is also a shallow groove (common.cut_light): its wall on the light's side
        # (upper left) is shaded, 45%, the far wall catches the light, 35%, in the colour
        # of fresh-cut wood. In 16-bit integers: shares in 1/256, the ink's 0-255 as
        # (ink + 1) / 256, so that full ink keeps the whole value.
        ink = m[iy0:iy1, ix0:ix1]
        toward = _window(m, ix0 - step, iy0 - step, ix1 - step, iy1 - step)
        away = _window(m, ix0 + step, iy0 + step, ix1 + step, iy1 + step)
        slope = np.subtract(away, toward, dtype=np.int16)
        cover = ink.astype(np.uint16)
        cover += 1
        shade = slope * np.int16(SHADE_256)
        shade >>= 8
        np.maximum(shade, cool, out=shade)  # max(rim, shaded wall): both scale with the ink
        shade = shade.view(np.uint16)
        shade *= cover
        shade >>= 8
        lit = slope * np.int16(-LIT_256)
        lit >>= 8
        np.maximum(lit, 0, out=lit)
        lit = lit.view(np.uint16)
        lit *= cover
        lit >>= 8
        at = (ix0 - cx0, iy0 - cy0)
        tint_at(out, RIM, Image.fromarray(shade.astype(np.uint8)), at)
        tint_at(out, scene.spark, Image.fromarray(lit.astype(np.uint8)), at)
        parts.append((out, where))
    return parts


def _window(a: np.ndarray, x0: int, y0: int, x1: int, y1: int) -> np.ndarray:
    """a[y0:y1, x0:x1], reading zeros outside `a`."""
    h, w = a.shape
    if x0 >= 0 and y0 >= 0 and x1 <= w and y1 <= h:
        return a[y0:y1, x0:x1]
    out = np.zeros((y1 - y0, x1 - x0), a.dtype)
    sx0, sy0, sx1, sy1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    if sx1 > sx0 and sy1 > sy0:
        out[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = a[sy0:sy1, sx0:sx1]
    return out


# Splitting the text into groups costs a few dozen image calls per group; a gap between
# letters is only cut where that saves at least this many pixels of work.
SPLIT_PX = 16_000
# The halo's strength: 45% of the spread heat in the scorch colour (SCORCH) darkens the
# wood about as much as this share of the burn's own colour.
HALO = 0.45 * 0.6
# The rim: 90% of the letter less its spread. The groove's walls: the shaded one 45%, the lit
# one 35% of the mask's slope, in 1/256.
RIM_SHARE = 0.9
SHADE_256 = 115
LIT_256 = 90

__all__ = ["apply", "apply_parts", "Image"]

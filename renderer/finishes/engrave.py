"""Engraving on metal: a cut groove with a matte floor, lit from the upper left, so the
wall on the light's side is in shadow and the opposite wall catches the light."""
from __future__ import annotations

import numpy as np
from PIL import Image

from renderer.finishes.common import arr, darken, relief, soften, to_l


def apply(scene, box: tuple[int, int, int, int], mask: Image.Image, seed: int) -> Image.Image:
    base = scene.image.crop(box)
    out = Image.composite(scene.layers["floor"].crop(box), base, mask)
    # Walls slope over about 0.05 mm: a height map from the softened mask gives their light.
    wall = max(0.6, 0.05 * scene.scale)
    depth = arr(soften(mask, wall))
    light = relief(-depth, max(1, round(wall))) * (2.6 * wall)
    out = darken(out, np.clip(-light, 0, 1) * 0.7)
    lit = np.clip(light, 0, 1) * 0.85
    return Image.composite(scene.layers["spark"].crop(box), out, to_l(lit))

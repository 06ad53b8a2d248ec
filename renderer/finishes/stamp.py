"""Hand stamping: each letter struck with a steel punch, blackened, and the face buffed.

The per-letter turn, drop and depth are drawn by compose (seeded from the design); here
the punched walls get the key light like an engraving's, deeper and softer, and the
displaced metal a faint lip around each letter."""
from __future__ import annotations

import numpy as np
from PIL import Image

from renderer.finishes.common import arr, darken, relief, soften, to_l


def apply(scene, box: tuple[int, int, int, int], mask: Image.Image, seed: int) -> Image.Image:
    base = scene.image.crop(box)
    m = arr(mask)  # each letter's depth, 0.55..1
    # A shallow strike holds less blackening: the letter is paler where the punch bit less.
    fill = np.clip(m * 3, 0, 1) * np.clip(0.45 + 0.6 * m, 0, 1)
    out = Image.composite(scene.layers["floor"].crop(box), base, to_l(fill))
    wall = max(0.8, 0.08 * scene.scale)
    depth = arr(soften(mask, wall))
    light = relief(-depth, max(1, round(wall))) * (2.4 * wall)
    lip = arr(soften(mask, wall * 3.0)) - depth
    lip_light = relief(np.clip(lip, 0, 1), max(1, round(wall))) * (6.0 * wall)
    out = darken(out, np.clip(-light, 0, 1) * 0.6 + np.clip(-lip_light, 0, 0.3))
    lit = np.clip(light, 0, 1) * 0.8 + np.clip(lip_light, 0, 0.35)
    return Image.composite(scene.layers["spark"].crop(box), out, to_l(lit))

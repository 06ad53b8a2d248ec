"""Printed ink. On cotton it sits on the tops of the knit loops and thins in the valleys;
its colour already carries the shirt's folds (the scene's ink layer). On glazed ceramic
it lies under the glaze, so the glaze's reflections pass over it (also in the layer)."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageChops

from proofmark_renderer.finishes.common import arr, to_l


def apply_cotton(scene, box: tuple[int, int, int, int], mask: Image.Image, seed: int) -> Image.Image:
    base = scene.image.crop(box)
    x0, y0, x1, y1 = box
    cover = scene.maps["cover"][y0:y1, x0:x1]
    if cover.dtype == np.uint8:  # 0..255 (the built-in shirt): one C multiply
        alpha = ImageChops.multiply(mask, Image.fromarray(np.ascontiguousarray(cover)))
    else:  # 0..1 floats
        alpha = to_l(arr(mask) * cover)
    base.paste(scene.layers["ink"].crop(box), (0, 0), alpha)
    return base


def apply(scene, box: tuple[int, int, int, int], mask: Image.Image, seed: int) -> Image.Image:
    # Pasted into the crop of the picture: Image.composite would copy that crop once more.
    out = scene.image.crop(box)
    out.paste(scene.layers["ink"].crop(box), (0, 0), mask)
    return out

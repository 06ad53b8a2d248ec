"""Laser engraving on wood: the beam chars the surface dark brown (darker in the dense
latewood lines, which the scene's char layer carries), with a soft scorched halo where
the heat spread past the letter."""
from __future__ import annotations

from PIL import Image, ImageChops

from renderer.finishes.common import soften

_HALO = [int(v * 0.6) for v in range(256)]  # the scorch is fainter than the char


def apply(scene, box: tuple[int, int, int, int], mask: Image.Image, seed: int) -> Image.Image:
    base = scene.image.crop(box)
    halo = soften(mask, max(2.0, 0.6 * scene.scale))
    halo = ImageChops.subtract(halo.point(_HALO), mask)
    out = Image.composite(scene.layers["scorch"].crop(box), base, halo)
    # The mask's own anti-aliased edge is as soft as the beam's; no further blur needed.
    return Image.composite(scene.layers["char"].crop(box), out, mask)

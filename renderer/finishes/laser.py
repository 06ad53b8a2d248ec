"""Laser engraving on wood: the beam chars the surface dark brown (darker in the dense
latewood lines, which the scene's char layer carries), with a soft scorched halo where
the heat spread past the letter."""

from __future__ import annotations

from PIL import Image, ImageChops

from proofmark_renderer.finishes.common import scaled, wide_blur

SCORCH = (150, 96, 52)


def halo_radius(scale: float) -> float:
    return max(2.0, 0.6 * scale)


def apply(scene, box: tuple[int, int, int, int], mask: Image.Image, seed: int) -> Image.Image:
    out = scene.image.crop(box)
    # The heat spreads about 0.6 mm past the beam.
    halo = ImageChops.subtract(scaled(wide_blur(mask, halo_radius(scene.scale)), 0.55), mask)
    out.paste(SCORCH, (0, 0, out.width, out.height), halo)
    # The mask's own anti-aliased edge is as soft as the beam's; no further blur needed.
    out.paste(scene.layers["char"].crop(box), (0, 0), mask)
    return out


__all__ = ["apply", "Image"]

"""Laser engraving on wood: the beam burns the wood under it darker in its own colour
(darker still in the dense latewood lines, with the grain showing through; the scene's
char layer carries both), darker at each letter's rim, a shallow groove lit from the upper
left, and a soft scorched halo where the heat spread past the letter."""

from __future__ import annotations

from PIL import Image, ImageChops

from proofmark_renderer.finishes.common import cut_light, scaled, wide_blur

SCORCH = (150, 96, 52)


def halo_radius(scale: float) -> float:
    return max(2.0, 0.6 * scale)


def apply(scene, box: tuple[int, int, int, int], mask: Image.Image, seed: int) -> Image.Image:
    out = scene.image.crop(box)
    full = (0, 0, out.width, out.height)
    # The heat spreads about 0.6 mm past the beam.
    halo = ImageChops.subtract(scaled(wide_blur(mask, halo_radius(scene.scale)), 0.45), mask)
    out.paste(SCORCH, full, halo)
    # The mask's own anti-aliased edge is as soft as the beam's; no further blur needed.
    out.paste(scene.layers["char"].crop(box), (0, 0), mask)
    # Each letter's edge burns darker than its middle: the beam turns and slows there, and
    # the resin boils out to the rim of the cut.
    edge_r = max(0.8, 0.22 * scene.scale)
    inner = wide_blur(mask, edge_r)
    rim = ImageChops.multiply(mask, ImageChops.invert(inner))
    out.paste((24, 12, 6), full, scaled(rim, 1.1))
    # A burn is a shallow groove: its shaded wall faces away from the light, its far wall
    # catches it in the colour of fresh-cut wood.
    lit, shade = cut_light(mask, 2 if scene.scale > 12 else 1)
    out.paste((0, 0, 0), full, scaled(shade, 0.45))
    out.paste(scene.spark, full, scaled(lit, 0.35))
    return out


__all__ = ["apply", "Image"]

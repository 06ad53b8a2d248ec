"""Laser engraving on wood: the beam burns the wood under it darker in its own colour
(darker still in the dense latewood lines, with the grain showing through; the scene's
char layer carries both), darker at each letter's rim, a shallow groove lit from the upper
left, and a soft scorched halo where the heat spread past the letter."""

from __future__ import annotations

from PIL import Image, ImageChops

from proofmark_renderer.finishes.common import cut_light, scaled, tint, wide_blur

SCORCH = (150, 96, 52)


def halo_radius(scale: float) -> float:
    return max(2.0, 0.6 * scale)


def apply(scene, box: tuple[int, int, int, int], mask: Image.Image, seed: int) -> Image.Image:
    out = scene.image.crop(box)
    # The heat spreads about 0.6 mm past the beam.
    spread = wide_blur(mask, halo_radius(scene.scale))
    tint(out, SCORCH, ImageChops.subtract(scaled(spread, 0.45), mask))
    # The mask's own anti-aliased edge is as soft as the beam's; no further blur needed.
    out.paste(scene.layers["char"].crop(box), (0, 0), mask)
    # Each letter's rim burns darker than its middle (the beam turns and slows there, and
    # the resin boils out to the edge of the cut): the letter less its own spread. A burn is
    # also a shallow groove: its wall on the light's side is shaded, the far wall catches
    # the light in the colour of fresh-cut wood.
    rim = ImageChops.multiply(mask, ImageChops.invert(spread))
    lit, shade = cut_light(mask, 2 if scene.scale > 12 else 1)
    tint(out, (22, 11, 5), ImageChops.lighter(scaled(rim, 0.9), scaled(shade, 0.45)))
    tint(out, scene.spark, scaled(lit, 0.35))
    return out


__all__ = ["apply", "Image"]

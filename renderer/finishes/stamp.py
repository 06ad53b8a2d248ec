"""Hand stamping: each letter struck with a steel punch, blackened, and the face buffed.

The per-letter turn, drop and depth are drawn by compose (seeded from the design); here
the punched walls get the key light like an engraving's, deeper and softer, and the
displaced metal a faint raised lip around each letter, lit the other way round."""

from __future__ import annotations

from PIL import Image, ImageChops

from proofmark_renderer.finishes.common import cut_light, tint, wall_light, wide_blur

# A shallow strike holds less blackening: the mask carries each letter's depth.
_FILL = [min(255, int(min(1.0, v / 85) * (0.45 + 0.6 * v / 255) * 255)) for v in range(256)]


def step_for(scale: float) -> int:
    return 2 if scale > 15 else 1


def lip_radius(step: int) -> float:
    return 2.5 * step + 2


def apply(scene, box: tuple[int, int, int, int], mask: Image.Image, seed: int) -> Image.Image:
    out = scene.image.crop(box)
    out.paste(scene.layers["floor"].crop(box), (0, 0), mask.point(_FILL))
    step = step_for(scene.scale)
    # The walls' light and shade, already scaled to how strongly they tint (the scales sit
    # in the lookup tables: a pass each fewer than scaling the maps afterwards).
    lit, shade = cut_light(mask, step, lit_scale=0.8, shade_scale=0.6)
    # The lip rises where the cut falls: the light meets it the other way round, outside the letters.
    toward, away = wall_light(wide_blur(mask, lip_radius(step)), step, lit_scale=0.24, shade_scale=0.4)
    outside = ImageChops.invert(mask)
    lip_lit = ImageChops.multiply(away, outside)
    lip_shade = ImageChops.multiply(toward, outside)
    tint(out, (0, 0, 0), ImageChops.lighter(shade, lip_shade))
    tint(out, scene.spark, ImageChops.lighter(lit, lip_lit))
    return out


__all__ = ["apply", "Image"]

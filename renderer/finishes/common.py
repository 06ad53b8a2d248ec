"""Small image operations the finishes share, sized for a crop around the text."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from PIL import Image, ImageChops, ImageFilter

# Towards the key light, image coordinates: upper left, as in the scenes.
LIGHT_X, LIGHT_Y = -0.62, -0.78


def soften(mask: Image.Image, radius: float) -> Image.Image:
    if radius < 0.3:
        return mask
    if radius >= 1.6:
        # Wide blurs: blur a half-size copy, which looks the same and costs a quarter.
        small = mask.reduce(2).filter(ImageFilter.GaussianBlur(radius / 2))
        return small.resize(mask.size, Image.Resampling.BILINEAR)
    return mask.filter(ImageFilter.GaussianBlur(radius))


def arr(im: Image.Image) -> np.ndarray:
    return np.asarray(im, np.float32) * (1 / 255)


def to_l(a: np.ndarray) -> Image.Image:
    return Image.fromarray((np.clip(a, 0, 1) * 255 + 0.5).astype(np.uint8))


def wall_light(
    mask: Image.Image, step: int = 1, lit_scale: float = 1.0, shade_scale: float = 1.0
) -> tuple[Image.Image, Image.Image]:
    """(lit, shade) 8-bit maps of a cut's walls under the key light (upper left).

    The light's side of the mask minus the far side: where the mask rises towards the
    light, the wall faces it (lit); where it falls, the wall is in shadow. Shifted copies
    keep this to a few C passes. The scales are folded into the lookup tables, which is
    the same as scaling the maps afterwards (with `scaled`) and saves a pass each."""
    toward = ImageChops.offset(mask, step, step)  # the value one step towards the light
    away = ImageChops.offset(mask, -step, -step)
    e = ImageChops.subtract(toward, away, 2.0, 128)
    return e.point(_wall_lut(True, lit_scale)), e.point(_wall_lut(False, shade_scale))


def cut_light(
    mask: Image.Image, step: int = 1, lit_scale: float = 1.0, shade_scale: float = 1.0
) -> tuple[Image.Image, Image.Image]:
    """wall_light for a cut: both walls are inside it, so nothing outside the letters changes."""
    lit, shade = wall_light(mask, step, lit_scale, shade_scale)
    return ImageChops.multiply(lit, mask), ImageChops.multiply(shade, mask)


_LIT = [min(255, max(0, (v - 128) * 2)) for v in range(256)]
_SHADE = [min(255, max(0, (128 - v) * 2)) for v in range(256)]


@lru_cache(maxsize=64)
def _wall_lut(lit: bool, factor: float) -> tuple[int, ...]:
    base = _LIT if lit else _SHADE
    if factor == 1.0:
        return tuple(base)
    return tuple(min(255, int(v * factor)) for v in base)


def tint(out: Image.Image, color: tuple[int, int, int], alpha: Image.Image) -> None:
    """Paint a colour into `out` through an alpha of the same size. A solid image pasted
    through it costs well under half of Pillow's paste of a bare colour."""
    out.paste(Image.new(out.mode, out.size, color), (0, 0), alpha)


def scaled(im: Image.Image, factor: float) -> Image.Image:
    return im.point(_scale_lut(factor))


@lru_cache(maxsize=64)
def _scale_lut(factor: float) -> tuple[int, ...]:
    return tuple(min(255, int(v * factor)) for v in range(256))


def wide_blur(mask: Image.Image, radius: float) -> Image.Image:
    """A wide Gaussian on a smaller copy: it looks the same at a fraction of the cost."""
    factor = 4 if radius >= 6 else 2 if radius >= 1.5 else 1
    if factor == 1 or min(mask.size) < 4 * factor:
        return mask.filter(ImageFilter.GaussianBlur(radius))
    small = mask.reduce(factor)
    return small.filter(ImageFilter.GaussianBlur(radius / factor)).resize(
        mask.size, Image.Resampling.BILINEAR
    )


def relief(height: np.ndarray, step: int = 1) -> np.ndarray:
    """Slope of a height map along the key light: positive where a wall faces the light."""
    s = max(1, step)
    gx = np.zeros_like(height)
    gy = np.zeros_like(height)
    gx[:, s:-s] = height[:, 2 * s :] - height[:, : -2 * s]
    gy[s:-s, :] = height[2 * s :, :] - height[: -2 * s, :]
    return (gx * -LIGHT_X + gy * -LIGHT_Y) * (1 / (2 * s))


def darken(im: Image.Image, amount: np.ndarray) -> Image.Image:
    """Multiply by (1 - amount), amount 0..1 per pixel."""
    f = to_l(1 - amount)
    return ImageChops.multiply(im, Image.merge("RGB", (f, f, f)))


def crop(layer: Image.Image, box: tuple[int, int, int, int]) -> Image.Image:
    return layer.crop(box)

"""Small image operations the finishes share, sized for a crop around the text."""

from __future__ import annotations

import math
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


def cut_walls(
    mask: Image.Image, step: int = 1, lit_scale: float = 1.0, shade_scale: float = 1.0
) -> tuple[Image.Image, Image.Image]:
    """cut_light in four C passes instead of six: each wall's slope is one clipped,
    scaled difference of the shifted copies (ImageChops.subtract divides by its scale), so
    no lookup is needed. Within one level of cut_light (it drops the slope's lowest bit)."""
    toward = ImageChops.offset(mask, step, step)
    away = ImageChops.offset(mask, -step, -step)
    lit = ImageChops.subtract(toward, away, 1 / lit_scale)
    shade = ImageChops.subtract(away, toward, 1 / shade_scale)
    return ImageChops.multiply(lit, mask), ImageChops.multiply(shade, mask)


def ink_box(mask: Image.Image, pad: int) -> tuple[int, int, int, int] | None:
    """The mask's ink (nonzero pixels) grown by `pad` each way within the mask, or None."""
    ink = mask.getbbox()
    if ink is None:
        return None
    w, h = mask.size
    return max(0, ink[0] - pad), max(0, ink[1] - pad), min(w, ink[2] + pad), min(h, ink[3] + pad)


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


def tint_at(out: Image.Image, color: tuple[int, int, int], alpha: Image.Image, xy: tuple[int, int]) -> None:
    """tint() of the part of `out` at `xy` the size of `alpha`."""
    out.paste(Image.new(out.mode, alpha.size, color), xy, alpha)


def ink_regions(mask: np.ndarray, gap: int, min_saving: int = 0) -> list[tuple[int, int, int, int]]:
    """Boxes (x0, y0, x1, y1) around the groups of a mask's ink that lie more than `gap`
    pixels apart: its lines (cut between rows), then the words of each line (cut between
    columns), each box fitted to its ink. A cut is made only where the empty band it
    removes, less `gap`, covers at least `min_saving` pixels."""
    w = mask.shape[1]
    boxes = []
    for y0, y1 in _runs(mask.max(axis=1), gap, min_saving // max(1, w)):
        band = mask[y0:y1]
        for x0, x1 in _runs(band.max(axis=0), gap, min_saving // max(1, y1 - y0)):
            rows = np.flatnonzero(band[:, x0:x1].max(axis=1))
            boxes.append((x0, y0 + int(rows[0]), x1, y0 + int(rows[-1]) + 1))
    return boxes


def _runs(flags: np.ndarray, gap: int, min_cut: int = 0) -> list[tuple[int, int]]:
    """[start, end) of the runs of nonzero values, joining runs that are at most `gap` or
    less than `gap + min_cut` apart."""
    idx = np.flatnonzero(flags)
    if not len(idx):
        return []
    cuts = np.flatnonzero(np.diff(idx) > max(gap, gap + min_cut))
    if not len(cuts):
        return [(int(idx[0]), int(idx[-1]) + 1)]
    starts = np.concatenate(([idx[0]], idx[cuts + 1]))
    ends = np.concatenate((idx[cuts], [idx[-1]])) + 1
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


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


def blur_factor(radius: float) -> int:
    """wide_blur's downscale for a radius."""
    return 4 if radius >= 6 else 2 if radius >= 1.5 else 1


def wide_blur_array(mask: np.ndarray, radius: float) -> np.ndarray:
    """wide_blur in numpy (float32, 0-255) for an array whose sides are multiples of
    blur_factor(radius) and whose ink lies at least the blur's reach from its edges: the
    same 2 x 2 (or 4 x 4) means, the same three-pass box blur as Pillow's GaussianBlur,
    and the same bilinear enlargement, without rounding each step to 8 bits. For the
    small radii of a preview this costs about half of the three Pillow calls."""
    f = blur_factor(radius)
    small = blur_small(mask, radius)
    # Across first, while the rows are few; then down, which copies whole rows.
    return _enlarge(_enlarge(small, f, axis=1), f, axis=0)


@lru_cache(maxsize=16)
def _gauss_kernel(radius: float, passes: int = 3) -> np.ndarray:
    """The kernel of Pillow's GaussianBlur: `passes` box blurs of a fractional radius
    (libImaging/BoxBlur.c, _gaussian_blur_radius), as one kernel."""
    sigma2 = radius * radius / passes
    big = math.sqrt(12.0 * sigma2 + 1.0)
    l = math.floor((big - 1.0) / 2.0)  # noqa: E741 - the paper's name
    a = (2 * l + 1) * (l * (l + 1) - 3 * sigma2) / (6 * (sigma2 - (l + 1) ** 2))
    one = np.array([a] + [1.0] * (2 * l + 1) + [a]) / (2 * l + 1 + 2 * a)
    kernel = one
    for _ in range(passes - 1):
        kernel = np.convolve(kernel, one)
    return kernel.astype(np.float32)


def _conv(x: np.ndarray, k: np.ndarray, axis: int) -> np.ndarray:
    """x (padded by len(k) // 2 along `axis`) convolved with the symmetric kernel k."""
    n = len(k) // 2
    size = x.shape[axis] - 2 * n

    def part(start: int) -> np.ndarray:
        return x[:, start : start + size] if axis == 1 else x[start : start + size]

    out = part(n) * k[n]
    for i in range(1, n + 1):
        pair = part(n - i) + part(n + i)
        pair *= k[n - i]
        out += pair
    return out


def _enlarge(x: np.ndarray, f: int, axis: int) -> np.ndarray:
    """Pillow's BILINEAR enlargement by a whole factor f along one axis: output pixel j
    reads the source at (j + 0.5) / f - 0.5, the edges held."""
    if f == 1:
        return x
    n = x.shape[axis]
    out = np.empty((x.shape[0], n, f) if axis == 1 else (n, f, x.shape[1]), np.float32)

    def cut(a, lo: int | None, hi: int | None):
        return a[:, lo:hi] if axis == 1 else a[lo:hi]

    weighted: dict[float, np.ndarray] = {}  # phases j and f - 1 - j share their two weights

    def times(weight: float) -> np.ndarray:
        if weight not in weighted:
            weighted[weight] = x * np.float32(weight)
        return weighted[weight]

    for j in range(f):
        t = (j + 0.5) / f - 0.5
        dest = out[:, :, j] if axis == 1 else out[:, j, :]
        if t < 0:  # between the pixel before and this one
            np.add(cut(times(1 + t), 1, None), cut(times(-t), None, -1), out=cut(dest, 1, None))
            cut(dest, 0, 1)[...] = cut(x, 0, 1)
        else:  # between this pixel and the next
            np.add(cut(times(1 - t), None, -1), cut(times(t), 1, None), out=cut(dest, None, -1))
            cut(dest, -1, None)[...] = cut(x, -1, None)
    return out.reshape((x.shape[0], n * f) if axis == 1 else (n * f, x.shape[1]))


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


def blur_small(mask: np.ndarray, radius: float) -> np.ndarray:
    """The first half of wide_blur_array: the blur_factor(radius) means of `mask` (whose
    sides are multiples of it), blurred by Pillow's GaussianBlur kernel, left small (float32,
    0-255). Enlarge it with enlarge_u8 where it is needed, at the size it is needed."""
    f = blur_factor(radius)
    if f == 1:
        small = mask.astype(np.float32)
    else:
        rows = mask[0::f].astype(np.uint16)
        for i in range(1, f):
            rows += mask[i::f]
        small = rows[:, 0::f].astype(np.float32)
        for i in range(1, f):
            small += rows[:, i::f]
        small *= 1.0 / (f * f)
    k = _gauss_kernel(radius / f)
    n = len(k) // 2
    h, w = small.shape
    # Zero borders written by hand: np.pad costs more than the blur of a small map.
    wide = np.zeros((h, w + 2 * n), np.float32)
    wide[:, n : n + w] = small
    across = _conv(wide, k, axis=1)
    tall = np.zeros((h + 2 * n, w), np.float32)
    tall[n : n + h] = across
    return _conv(tall, k, axis=0)


def enlarge_u8(small: np.ndarray, f: int) -> np.ndarray:
    """Pillow's BILINEAR enlargement by the whole factor f (as _enlarge, edges held) of a
    0-255 float map, in 16-bit integers, rounded to 8 bits: the weights of a factor f are
    multiples of 1 / (2 f), so both directions together are whole multiples of 1 / (4 f²),
    and the map is held at 1 / q of a level with q chosen so that 255 · q · 4 f² fits in 16
    bits. Within half a level of _enlarge's float result, at about half its cost."""
    if f == 1:
        return np.clip(small + 0.5, 0, 255).astype(np.uint8)
    den = 4 * f * f
    q = 65535 // (255 * den)
    x = (np.clip(small, 0, 255) * q + 0.5).astype(np.uint16)
    x = _enlarge_int(_enlarge_int(x, f, axis=1), f, axis=0)
    # Round: add half the scale and divide (a shift when the scale is a power of two).
    scale = q * den
    x += scale // 2
    if scale & (scale - 1) == 0:
        x >>= scale.bit_length() - 1
    else:
        x //= scale
    return x.astype(np.uint8)


def _enlarge_int(x: np.ndarray, f: int, axis: int) -> np.ndarray:
    """_enlarge on integers: each output pixel is a whole-number mix (sum 2 f) of two source
    pixels, so the result is 2 f times the interpolated value."""
    n = x.shape[axis]
    out = np.empty((x.shape[0], n, f) if axis == 1 else (n, f, x.shape[1]), np.uint16)

    def cut(a, lo: int | None, hi: int | None):
        return a[:, lo:hi] if axis == 1 else a[lo:hi]

    weighted: dict[int, np.ndarray] = {}

    def times(weight: int) -> np.ndarray:
        if weight not in weighted:
            weighted[weight] = x * np.uint16(weight)
        return weighted[weight]

    for j in range(f):
        # Source position (j + 0.5) / f - 0.5 = (2 j + 1 - f) / (2 f); the weights in 1 / (2 f).
        t2 = 2 * j + 1 - f
        dest = out[:, :, j] if axis == 1 else out[:, j, :]
        if t2 < 0:  # between the pixel before and this one
            np.add(cut(times(2 * f + t2), 1, None), cut(times(-t2), None, -1), out=cut(dest, 1, None))
            cut(dest, 0, 1)[...] = cut(times(2 * f), 0, 1)
        else:
            np.add(cut(times(2 * f - t2), None, -1), cut(times(t2), 1, None), out=cut(dest, None, -1))
            cut(dest, -1, None)[...] = cut(times(2 * f), -1, None)
    return out.reshape((x.shape[0], n * f) if axis == 1 else (n * f, x.shape[1]))

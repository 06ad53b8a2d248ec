"""A shop's photo as the scene: the photo fitted into the preview frame, one warp per area
(see proofmark_renderer.photo), and the finishes' layers taken from the photo itself.

- engraved: the cut's frosted floor is pale where the photo's metal is dark and darker where
  it mirrors something bright (the photo's own lighting), tinted with the metal's colour; the
  lit wall sparkles in that colour.
- laser: the burn is the wood under it, darkened and browned, so the grain shows through
  (the finish adds the scorched halo that darkens the edges).
- print: the ink is shaded by the photo's light (its luminance against its local mean, so
  folds and the curve of a mug darken it) and displaced by the photo's shading gradient,
  so it follows the texture it is printed on.
- stamped: a blackened floor that keeps the photo's shading; the per-letter depth and turn
  come from compose as for every stamped product.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageChops

from proofmark_renderer import substrates
from proofmark_renderer.catalog import Product
from proofmark_renderer.finishes.common import LIGHT_X, LIGHT_Y, ink_box, ink_regions
from proofmark_renderer.photo import Mapping, homography, region_corners
from proofmark_renderer.scenes.common import Scene, Surface, frame, frosted_floor, spark_of, to_image
from proofmark_renderer.substrates import blur
from proofmark_renderer.warp import build, build_strips

INKS = {
    "print-black": (0.07, 0.07, 0.08),
    "print-navy": (0.09, 0.12, 0.22),
    "print-white": (0.96, 0.96, 0.94),
    "print-red": (0.62, 0.08, 0.09),
}


def fit_photo(view, width: int) -> tuple[float, tuple[float, float], tuple[int, int]]:
    """Scale and offset that fit the whole photo into the preview frame (letterboxed)."""
    w, h = frame(width)
    s = min(w / view.width_px, h / view.height_px)
    return s, ((w - view.width_px * s) / 2, (h - view.height_px * s) / 2), (w, h)


def mappings(p: Product, width: int, view_index: int = 0) -> dict[str, Mapping]:
    view = p.views[view_index]
    s, off, _ = fit_photo(view, width)
    regions = {"lines": p.region} | {f.id: f.region for f in p.field_specs}
    return {a.area: Mapping(a, regions[a.area], s, off) for a in view.areas if a.area in regions}


def photo(p: Product, width: int) -> Scene:
    view = p.views[0]
    s, (ox, oy), (w, h) = fit_photo(view, width)
    with Image.open(view.path) as src:
        pic = src.convert("RGB").resize(
            (max(1, round(view.width_px * s)), max(1, round(view.height_px * s))), Image.Resampling.LANCZOS
        )
    border = np.concatenate([np.asarray(pic)[0], np.asarray(pic)[-1]]).mean(axis=0)
    canvas = Image.new("RGB", (w, h), tuple(int(c) for c in border))
    canvas.paste(pic, (round(ox), round(oy)))
    rgb = np.asarray(canvas, np.float32) / 255
    lum = rgb @ np.array([0.299, 0.587, 0.114], np.float32)

    visible = None
    if view.mask_path:
        with Image.open(view.mask_path) as m:
            mask = m.convert("L").resize(pic.size, Image.Resampling.BILINEAR)
        full = Image.new("L", (w, h), 0)
        full.paste(mask, (round(ox), round(oy)))
        visible = 1 - np.asarray(full, np.float32) / 255

    if view.light_path:
        layers_light = _light_layer(view.light_path, pic.size, (round(ox), round(oy)), (w, h))
    else:
        layers_light = None

    maps = mappings(p, width)
    main = maps.get("lines") or next(iter(maps.values()))
    scale = main.px_per_mm()
    printed = p.finish.startswith("print")
    # Ink follows the surface: a small displacement along the photo's shading gradient.
    shade = blur(lum, max(1.0, 0.4 * scale))
    gy, gx = np.gradient(shade)
    surfaces: dict[str, Surface] = {}
    for area_id, m in maps.items():
        if m.amap.kind == "flat" and visible is None and not printed:
            cs = m.px_per_mm()
            x_px, y_px = m.forward(m.region.x_mm, m.region.y_mm)
            surfaces[area_id] = Surface(cs, m.region.x_mm - x_px / cs, m.region.y_mm - y_px / cs)
            continue
        surfaces[area_id] = _warped(m, (w, h), visible, (gx, gy) if printed else None)

    # The area's own colour and light: the finishes' layers are made from them.
    x0, y0, x1, y1 = _area_box(main, (w, h))
    tint = np.median(rgb[y0:y1, x0:x1].reshape(-1, 3), axis=0) if x1 > x0 and y1 > y0 else rgb.mean((0, 1))
    local = blur(lum, max(2.0, 3 * scale))
    layers: dict[str, Image.Image] = {}
    out_maps: dict[str, np.ndarray] = {}
    if p.finish.startswith("engraved") and float(tint.max()) < 0.22:
        # A dark coating (black-coated or anodised steel): the cutter takes the coating off and
        # shows the bare steel under it, bright and neutral with a metallic sheen, high contrast.
        # The photo's light still shades it a little; the frosting gives the sheen.
        floor = 0.80 + 0.12 * np.clip(
            lum / max(float(np.median(local[y0:y1, x0:x1])) if y1 > y0 else 0.2, 1e-3) - 1, -1, 1
        )
        floor = floor + 0.8 * _frost_and_sheen(lum, (x0, y0, x1, y1), scale, p.base_id or p.id)
        layers["floor"] = to_image(np.array([0.86, 0.87, 0.89], np.float32) * floor[..., None])
        spark = (250, 251, 255)
    elif p.finish.startswith("engraved"):
        metal = np.clip(tint / max(float(tint.max()), 1e-3), 0, 1) * 0.85
        floor = frosted_floor(lum, max(1.0, 0.8 * scale), light=0.78, dark=0.32, lo=0.45, hi=0.85)
        floor = floor + _frost_and_sheen(lum, (x0, y0, x1, y1), scale, p.base_id or p.id)
        layers["floor"] = to_image(metal * floor[..., None])
        spark = spark_of(metal)
    elif p.finish.startswith("stamped"):
        layers["floor"] = to_image(np.full((h, w, 3), 0.12, np.float32) * (0.6 + 0.6 * lum)[..., None])
        spark = spark_of(tint)
    elif p.finish.startswith("laser"):
        layers["char"] = to_image(_char(rgb, lum, local, scale, p.base_id or p.id))
        spark = (246, 214, 170)  # the burn's far wall catches the light: pale fresh-cut wood
    else:
        ink = np.array(INKS.get(p.finish, INKS["print-black"]), np.float32)
        light = np.clip(
            lum / np.maximum(float(np.median(local[y0:y1, x0:x1])) if y1 > y0 else 0.6, 1e-3), 0.35, 1.25
        )
        gloss = np.clip((lum - 0.88) * 4, 0, 1) if p.finish == "print-ceramic" else 0
        layers["ink"] = to_image(ink * light[..., None] + np.asarray(gloss)[..., None] * 0.8)
        texture = lum - blur(lum, 1.5)
        out_maps["cover"] = np.clip(0.92 + 6 * texture, 0.55, 1).astype(np.float32)
        spark = (255, 255, 255)
    if layers_light is not None:
        layers["light"] = layers_light
    return Scene(p, canvas, scale, (0.0, 0.0), surfaces, out_maps, layers, spark)


def _light_layer(path: str, size: tuple[int, int], at: tuple[int, int], frame_size) -> Image.Image:
    """The view's light layer scaled and placed like the photo, neutral (128) in the bars,
    as RGB so a render lays it over the text with one C blend (ImageChops.hard_light)."""
    with Image.open(path) as src:
        a = np.asarray(src)
    if a.ndim == 3:  # LA: the grey channel
        a = a[..., 0]
    if a.dtype == bool:
        a = a.astype(np.uint8) * 255
    elif a.dtype != np.uint8:  # 16-bit
        a = np.clip(a.astype(np.float32) / 257 + 0.5, 0, 255).astype(np.uint8)
    grey = Image.fromarray(a, "L").resize(size, Image.Resampling.BILINEAR)
    full = Image.new("L", frame_size, 128)
    full.paste(grey, at)
    return Image.merge("RGB", (full, full, full))


def relight(
    scene: Scene, box: tuple[int, int, int, int], mask: Image.Image, made: Image.Image
) -> Image.Image:
    """The text the finish made (`made`, the picture's pixels in `box`) under the view's light
    layer: hard light, so 128 leaves it as it is, darker values shade it, brighter ones lift
    it towards white (a glint, a glaze's shine). Only where the text is (its coverage mask):
    the photo around the text already has its light."""
    light = scene.layers.get("light")
    if light is None:
        return made
    part = ink_box(mask, 0)  # only where the letters are; outside them it changes nothing
    if part is None:
        return made
    x0, y0, x1, y1 = part
    lit = ImageChops.hard_light(
        made.crop(part), light.crop((box[0] + x0, box[1] + y0, box[0] + x1, box[1] + y1))
    )
    made.paste(lit, part[:2], mask.crop(part))
    return made


def _seed(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big")


def _frost_and_sheen(lum: np.ndarray, box, scale: float, name: str) -> np.ndarray:
    """What makes a cut in metal read as a cut rather than print, even on a photo with no
    light in it: the diamond's frosting (a fine grit with the odd bright speck), and the
    floor's shade following the photo's own light, its luminance slope along the key light
    (upper left). Where the photo is flat (a plain grey picture of a tag), a soft diagonal
    sheen across the area stands in for the light it lacks."""
    h, w = lum.shape
    r = substrates.rng(_seed(name))
    grit = blur(r.standard_normal((h, w)).astype(np.float32), 0.6) * 0.07
    specks = np.clip(r.random((h, w), dtype=np.float32) - 0.985, 0, 1) * 14  # up to +0.21
    smooth = blur(lum, max(2.0, 1.5 * scale))
    gy, gx = np.gradient(smooth)
    slope = -(gx * LIGHT_X + gy * LIGHT_Y) * max(2.0, 1.5 * scale) * 2.5
    x0, y0, x1, y1 = box
    flatness = 1.0
    if x1 > x0 + 2 and y1 > y0 + 2:
        flatness = float(np.clip(1 - np.std(smooth[y0:y1, x0:x1]) / 0.05, 0, 1))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    across = ((xx - x0) / max(x1 - x0, 1)) * 0.7 + ((yy - y0) / max(y1 - y0, 1)) * 0.3
    sheen = flatness * 0.08 * np.cos(np.clip(across, 0, 1) * np.pi)
    return (grit + specks + np.clip(slope, -0.2, 0.2) + sheen).astype(np.float32)


def _char(rgb: np.ndarray, lum: np.ndarray, local: np.ndarray, scale: float, name: str) -> np.ndarray:
    """Laser char on the photo's wood: the wood under it, burnt (a pale strip burns lighter
    than a dark one); darker in the dense latewood, which the photo shows as lines darker
    than their surroundings and which take more heat; uneven where the beam's power and the
    wood's resin vary (a slow, large-scale mottle), and speckled with char."""
    h, w = lum.shape
    late = np.clip((1 - lum / np.maximum(local, 1e-3)) * 14, 0, 1)
    mottle = substrates.fractal(h, w, max(4.0, 6 * scale), _seed(name) % 100000, 3) * 0.14
    speck = blur(substrates.rng(_seed(name) + 1).standard_normal((h, w)).astype(np.float32), 0.7) * 0.10
    burn = np.array([0.33, 0.20, 0.12], np.float32)
    return rgb * burn * np.clip(1.12 - 0.55 * late + mottle + speck, 0.35, 1.4)[..., None]


def _area_box(m: Mapping, size: tuple[int, int], margin_mm: float = 0.0) -> tuple[int, int, int, int]:
    r = m.region
    us = np.linspace(r.x_mm - margin_mm, r.x_mm + r.w_mm + margin_mm, 33)
    vs = np.linspace(r.y_mm - margin_mm, r.y_mm + r.h_mm + margin_mm, 17)
    uu, vv = np.meshgrid(us, vs)
    xs, ys = m.forward(uu, vv)
    w, h = size
    return (
        int(max(0, np.floor(np.nanmin(xs)) - 2)),
        int(max(0, np.floor(np.nanmin(ys)) - 2)),
        int(min(w, np.ceil(np.nanmax(xs)) + 3)),
        int(min(h, np.ceil(np.nanmax(ys)) + 3)),
    )


TABLE_MAX_PIXELS = 400_000  # a perspective area's box tabulated up to this size (4.8 MB)


@dataclass(frozen=True, eq=False)
class HomographyWarp:
    """A perspective area without displacement or mask: one projective map, done by Pillow
    in C (Image.transform PERSPECTIVE) instead of a per-pixel gather."""

    canvas_size: tuple[int, int]
    box: tuple[int, int, int, int]
    coeffs: tuple[float, ...]  # output pixel (relative to box) -> canvas pixel
    forward: tuple[float, ...] = ()  # canvas pixel -> output pixel: the inverse, 3 x 3 row by row
    # Where each box pixel reads the canvas, worked out once (see `tabulate`): the flat index
    # of its upper-left source pixel in the canvas padded by one zero pixel each way (int32),
    # and its bilinear fractions across and down (float32). None: Pillow does the transform.
    index: np.ndarray | None = None
    frac_x: np.ndarray | None = None
    frac_y: np.ndarray | None = None

    def apply(self, canvas: Image.Image, x_range=None) -> Image.Image:
        """The whole box bent, or (x_range: the canvas columns that hold text) only the parts
        of the box the text's lines and words land in, on an otherwise empty box. Each part
        is the same map (every part reads the whole canvas), so the parts agree where they
        overlap and the result is the whole box's transform wherever there is text."""
        x0, y0, x1, y1 = self.box
        size = (x1 - x0, y1 - y0)
        if x_range is None:
            return canvas.transform(size, Image.Transform.PERSPECTIVE, self.coeffs, Image.Resampling.BILINEAR)
        ink = canvas.getbbox()  # the text's own extent on the canvas: rows as well as columns
        if ink is None:
            return Image.new("L", size, 0)
        lo, hi = max(x_range[0], ink[0]), min(x_range[1], ink[2])
        if self.index is not None and canvas.size == self.canvas_size:
            return self._gather(canvas, self._landing((lo, hi), (ink[1], ink[3])), size)
        # The ink's lines and words: the transform costs per output pixel, so the empty
        # space between lines (and wide gaps between words) is not bent.
        parts = ink_regions(np.asarray(canvas.crop(ink)), 6, 2500)
        out = Image.new("L", size, 0)
        a, b, c, d, e, f, g, h = self.coeffs
        for px0, py0, px1, py1 in parts:
            sub = self._landing((max(lo, ink[0] + px0), min(hi, ink[0] + px1)), (ink[1] + py0, ink[1] + py1))
            if sub is None:
                continue
            sx0, sy0, sx1, sy1 = sub
            # The same map with the output's origin moved to (sx0, sy0).
            den = 1 + g * sx0 + h * sy0
            shifted = (
                a / den,
                b / den,
                (c + a * sx0 + b * sy0) / den,
                d / den,
                e / den,
                (f + d * sx0 + e * sy0) / den,
                g / den,
                h / den,
            )
            part = canvas.transform(
                (sx1 - sx0, sy1 - sy0), Image.Transform.PERSPECTIVE, shifted, Image.Resampling.BILINEAR
            )
            out.paste(part, (sx0, sy0))
        return out

    def _gather(self, canvas: Image.Image, sub, size) -> Image.Image:
        """The transform over `sub` from the tables: Pillow's own bilinear reads (its
        coordinates, its truncation to 8 bits), about a third cheaper than its generic
        per-pixel transform because the map is not worked out again for every text."""
        out = np.zeros((size[1], size[0]), np.uint8)
        if sub is None:
            return Image.fromarray(out)
        sx0, sy0, sx1, sy1 = sub
        cw, ch = self.canvas_size
        src = np.zeros((ch + 3, cw + 2), np.uint8)
        src[1 : ch + 1, 1 : cw + 1] = np.asarray(canvas)
        flat = src.ravel()
        at = self.index[sy0:sy1, sx0:sx1]
        fx = self.frac_x[sy0:sy1, sx0:sx1]
        top = flat.take(at).astype(np.float32)
        right = flat[1:].take(at) - top
        right *= fx
        top += right
        bottom = flat[cw + 2 :].take(at).astype(np.float32)
        right = flat[cw + 3 :].take(at) - bottom
        right *= fx
        bottom += right
        bottom -= top
        bottom *= self.frac_y[sy0:sy1, sx0:sx1]
        bottom += top
        out[sy0:sy1, sx0:sx1] = bottom  # truncated, as Pillow's bilinear does
        return Image.fromarray(out)

    def tabulate(self) -> HomographyWarp:
        """This warp with its reads in tables: 12 bytes a box pixel (1.5 MB for the demo dog
        tag's 1200-px box). An area larger than TABLE_MAX_PIXELS keeps Pillow's transform."""
        x0, y0, x1, y1 = self.box
        if (x1 - x0) * (y1 - y0) > TABLE_MAX_PIXELS:
            return self
        a, b, c, d, e, f, g, h = self.coeffs
        yy, xx = np.mgrid[0 : y1 - y0, 0 : x1 - x0].astype(np.float64) + 0.5
        den = g * xx + h * yy + 1
        u = (a * xx + b * yy + c) / den - 0.5
        v = (d * xx + e * yy + f) / den - 0.5
        cw, ch = self.canvas_size
        iu, iv = np.floor(u), np.floor(v)
        # Pillow's range test (a pixel centre outside the canvas reads 0); at the canvas's
        # last row and column it repeats the edge where this reads the zero rim, which only
        # matters for ink at the canvas's very edge, and the canvas has a margin.
        inside = (den > 0) & (u >= -0.5) & (v >= -0.5) & (u < cw - 0.5) & (v < ch - 0.5)
        index = ((np.clip(iv, -1, ch) + 1) * (cw + 2) + np.clip(iu, -1, cw) + 1).astype(np.int32)
        index[~inside] = 0  # the padding's corner: a zero pixel with zero neighbours right and below
        return dataclasses.replace(
            self,
            index=index,
            frac_x=np.where(inside, u - iu, 0).astype(np.float32),
            frac_y=np.where(inside, v - iv, 0).astype(np.float32),
        )

    def _landing(self, x_range, y_range):
        """Where the canvas rectangle x_range × y_range lands in the box: the forward map of
        its corners, padded by two pixels."""
        if x_range[1] <= x_range[0] or y_range[1] <= y_range[0]:
            return None
        inv = self.forward or _inverse(self.coeffs)
        bw, bh = self.box[2] - self.box[0], self.box[3] - self.box[1]
        xs, ys = [], []
        for u in (x_range[0] - 2, x_range[1] + 2):
            for v in (y_range[0] - 2, y_range[1] + 2):
                w = inv[6] * u + inv[7] * v + inv[8]
                if w <= 0:
                    return (0, 0, bw, bh)
                xs.append((inv[0] * u + inv[1] * v + inv[2]) / w)
                ys.append((inv[3] * u + inv[4] * v + inv[5]) / w)
        sx0, sy0 = max(0, math.floor(min(xs)) - 2), max(0, math.floor(min(ys)) - 2)
        sx1, sy1 = min(bw, math.ceil(max(xs)) + 3), min(bh, math.ceil(max(ys)) + 3)
        return (sx0, sy0, sx1, sy1) if sx1 > sx0 and sy1 > sy0 else None


def _inverse(coeffs: tuple[float, ...]) -> tuple[float, ...]:
    a, b, c, d, e, f, g, h = coeffs
    return tuple(float(v) for v in np.linalg.inv(np.array([[a, b, c], [d, e, f], [g, h, 1.0]])).ravel())


def homography_warp(m: Mapping, cs: float, fx0: float, fy0: float, canvas_size, box) -> HomographyWarp:
    to_mm = homography(m._pts(), region_corners(m.region))
    shift = np.array([[1, 0, box[0]], [0, 1, box[1]], [0, 0, 1]], np.float64)
    # +0.5: Pillow samples a canvas pixel at its centre (i + 0.5), the gather warps at i.
    to_canvas = np.array([[cs, 0, 0.5 - fx0 * cs], [0, cs, 0.5 - fy0 * cs], [0, 0, 1]], np.float64)
    total = to_canvas @ to_mm @ shift
    total /= total[2, 2]
    coeffs = tuple(float(c) for c in total.ravel()[:8])
    return HomographyWarp(canvas_size, box, coeffs, _inverse(coeffs)).tabulate()


def _warped(m: Mapping, size, visible, gradient) -> Surface:
    r = m.region
    cs = m.px_per_mm()
    margin = max(1.0, 0.08 * min(r.w_mm, r.h_mm))
    fx0, fy0 = r.x_mm - margin, r.y_mm - margin
    cw = int(np.ceil((r.w_mm + 2 * margin) * cs))
    ch = int(np.ceil((r.h_mm + 2 * margin) * cs))
    box = _area_box(m, size, margin)
    amount = 0.6 * cs * 0.05  # at most about 0.03 mm of drift per unit of shading slope
    if m.amap.kind == "perspective" and visible is None and gradient is None:
        return Surface(cs, fx0, fy0, homography_warp(m, cs, fx0, fy0, (cw, ch), box))
    if m.amap.kind == "cylinder":
        # Each column of the photo reads one column of the text, affinely down it: narrow
        # strips bent by Pillow's MESH transform in C, only where the text is. A coat's shine
        # is not a bump, so printed ink is not displaced here; the light layer carries it.

        def columns(x, y):
            u, v, ok = m.inverse(x + 0.5, y + 0.5)
            return (u - fx0) * cs, (v - fy0) * cs, ok

        vis = None
        if visible is not None:
            x0, y0, x1, y1 = box
            vis = visible[y0:y1, x0:x1]
        return Surface(cs, fx0, fy0, build_strips((cw, ch), box, columns, 6, vis))

    def inverse(x, y):
        xs, ys = x + 0.5, y + 0.5
        if gradient is not None:
            gx, gy = gradient
            ix = np.clip(x.astype(np.int64), 0, gx.shape[1] - 1)
            iy = np.clip(y.astype(np.int64), 0, gx.shape[0] - 1)
            xs = xs + gx[iy, ix] * amount * 40
            ys = ys + gy[iy, ix] * amount * 40
        u, v, ok = m.inverse(xs, ys)
        return (u - fx0) * cs, (v - fy0) * cs, ok

    vis = None
    if visible is not None:
        x0, y0, x1, y1 = box
        vis = visible[y0:y1, x0:x1]
    return Surface(cs, fx0, fy0, build((cw, ch), box, inverse, vis))

"""The product as a studio photo: drawn once per product and output width, then cached.

A Scene holds the picture without any text, the mapping from millimetres on the product to
pixels (flat surfaces) or the bend (curved ones), and the lighting maps the finishes need
to put text into the picture. Everything is built procedurally from fixed seeds.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from proofmark_renderer import catalog, substrates
from proofmark_renderer.catalog import Product, Region
from proofmark_renderer.substrates import blur
from proofmark_renderer.warp import MeshWarp, Warp, build, build_strips

ASPECT = 0.75  # height / width of every preview
LIGHT = np.array([-0.62, -0.78], np.float32)  # towards the key light, image coordinates (x right, y down)


@dataclass(eq=False)
class Surface:
    """Where one group of text is drawn. Flat surfaces draw straight into the picture
    (cs = scene scale, offset = product origin); curved ones draw into a canvas that the
    warp bends into the picture."""

    cs: float  # canvas pixels per millimetre
    fx0: float  # millimetre coordinate at canvas x = 0
    fy0: float
    warp: Warp | MeshWarp | None = None


@dataclass(eq=False)
class Scene:
    product: Product
    image: Image.Image  # RGB, no text
    scale: float  # pixels per millimetre at the product's face
    origin: tuple[float, float]  # pixel position of the product's (0, 0) mm
    surfaces: dict[str, Surface]  # "lines" and named field ids
    maps: dict[str, np.ndarray] = field(default_factory=dict)  # full-frame float32 maps for finishes
    # Full-frame pictures of the material as a finish turns it (the floor of a cut, charred
    # wood, ink under this light), precomputed so a render only blends them in.
    layers: dict[str, Image.Image] = field(default_factory=dict)
    spark: tuple[int, int, int] = (255, 255, 255)  # colour of a cut wall catching the light

    @property
    def size(self) -> tuple[int, int]:
        return self.image.size

    def flat(self) -> Surface:
        return Surface(self.scale, -self.origin[0] / self.scale, -self.origin[1] / self.scale)


# --- shared pieces --------------------------------------------------------------------------


def frame(width: int) -> tuple[int, int]:
    return width, max(1, round(width * ASPECT))


def fit(
    width: int,
    height: int,
    x0: float,
    y0: float,
    x1: float,
    y1: float,
    area: tuple[float, float, float, float] = (0.08, 0.05, 0.92, 0.80),
) -> tuple[float, tuple[float, float]]:
    """Scale (px/mm) and origin so that the product's extent x0..x1, y0..y1 (mm) fills the area."""
    ax0, ay0, ax1, ay1 = area[0] * width, area[1] * height, area[2] * width, area[3] * height
    scale = min((ax1 - ax0) / (x1 - x0), (ay1 - ay0) / (y1 - y0))
    ox = (ax0 + ax1) / 2 - (x0 + x1) / 2 * scale
    oy = (ay0 + ay1) / 2 - (y0 + y1) / 2 * scale
    return scale, (ox, oy)


def backdrop(
    width: int, height: int, top: tuple[float, ...], bottom: tuple[float, ...], seed: int
) -> np.ndarray:
    """A paper sweep: a soft vertical gradient, darker corners, a little grain against banding."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    t = (yy / height)[..., None]
    rgb = np.array(top, np.float32) * (1 - t) + np.array(bottom, np.float32) * t
    cx, cy = width * 0.45, height * 0.4
    r = np.sqrt(((xx - cx) / width) ** 2 + ((yy - cy) / height) ** 2)
    rgb *= (1.0 - 0.28 * np.clip(r - 0.25, 0, 1) ** 1.3)[..., None]
    return rgb


def disc_alpha(xx: np.ndarray, yy: np.ndarray, cx: float, cy: float, r: float) -> np.ndarray:
    d = np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2)
    return np.clip(r - d + 0.5, 0, 1)


def rounded_rect_alpha(xx, yy, x0, y0, x1, y1, radius) -> np.ndarray:
    cx = np.clip(xx, x0 + radius, x1 - radius)
    cy = np.clip(yy, y0 + radius, y1 - radius)
    d = np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2)
    return np.clip(radius - d + 0.5, 0, 1)


def edge_distance(alpha: np.ndarray, radius: float) -> np.ndarray:
    """0 at the silhouette rising to 1 about `radius` px inside, for rounded edges."""
    return np.clip(blur(alpha, radius) * 2 - 1, 0, 1)


def relief_light(height: np.ndarray, strength: float) -> np.ndarray:
    """Directional shading of a height map lit by the key light: + lit, - shadow."""
    gy, gx = np.gradient(height)
    return -(gx * LIGHT[0] + gy * LIGHT[1]) * strength


def shadow(
    rgb: np.ndarray, alpha: np.ndarray, dx: float, dy: float, radius: float, opacity: float
) -> np.ndarray:
    """Soft cast shadow of alpha, offset away from the light."""
    h, w = alpha.shape
    shifted = np.zeros_like(alpha)
    ix, iy = int(round(dx)), int(round(dy))
    shifted[max(iy, 0) : h + min(iy, 0), max(ix, 0) : w + min(ix, 0)] = alpha[
        max(-iy, 0) : h - max(iy, 0), max(-ix, 0) : w - max(ix, 0)
    ]
    s = blur(shifted, radius) * opacity
    return rgb * (1 - s)[..., None]


def over(rgb: np.ndarray, color: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    a = alpha[..., None]
    return rgb * (1 - a) + color * a


def metal_wire(
    width: int, height: int, draw_fn, wire_px: float, base: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Shade a wire shape (chain links, jump rings) drawn by draw_fn as round polished metal."""
    ss = 2
    mask_im = Image.new("L", (width * ss, height * ss), 0)
    draw_fn(ImageDraw.Draw(mask_im), ss)
    mask = np.asarray(mask_im.resize((width, height), Image.Resampling.BOX), np.float32) / 255
    h = blur(mask, max(wire_px * 0.35, 1.0))
    lit = relief_light(h, wire_px * 1.4)
    tone = 0.55 + lit + 0.25 * h
    color = base * np.clip(tone, 0.12, 1.25)[..., None]
    color += np.clip(lit - 0.35, 0, 1)[..., None] * 0.8
    return np.clip(color, 0, 1), mask


def chain(
    draw: ImageDraw.ImageDraw,
    ss: int,
    p0: tuple[float, float],
    p1: tuple[float, float],
    link_px: float,
    wire_px: float,
) -> None:
    """Cable chain from p0 to p1: links alternate face-on (open ovals) and edge-on (bars)."""
    (x0, y0), (x1, y1) = p0, p1
    length = math.hypot(x1 - x0, y1 - y0)
    ux, uy = (x1 - x0) / length, (y1 - y0) / length
    step = link_px * 0.78
    n = int(length / step) + 1
    for i in range(n):
        cx, cy = x0 + ux * step * i, y0 + uy * step * i
        half_l, half_w = link_px / 2, link_px * 0.32
        pts = []
        for k in range(24):
            a = 2 * math.pi * k / 24
            lx, ly = half_l * math.cos(a), half_w * math.sin(a)
            if i % 2:
                ly *= 0.18
            pts.append(((cx + lx * ux - ly * uy) * ss, (cy + lx * uy + ly * ux) * ss))
        draw.line(pts + [pts[0]], fill=255, width=max(1, int(wire_px * ss)), joint="curve")


def ui_font(size: float) -> ImageFont.FreeTypeFont:
    font = catalog.font("lato") or catalog.font("montserrat")
    if font is not None:
        return ImageFont.truetype(str(font.path), max(6, round(size)))
    return ImageFont.load_default(max(6, round(size)))


def size_label(im: Image.Image, x0: float, x1: float, y: float, label: str) -> None:
    """A dimension line under the product, as in a catalogue: |<—— 25 mm ——>|."""
    w, h = im.size
    draw = ImageDraw.Draw(im)
    ink = (92, 88, 84)
    lw = max(1, round(w / 900))
    tick = h * 0.012
    for x in (x0, x1):
        draw.line([(x, y - tick), (x, y + tick)], fill=ink, width=lw)
    font = ui_font(h * 0.032)
    tw = draw.textlength(label, font=font)
    pad = h * 0.012
    mid = (x0 + x1) / 2
    # The line stops short of the label instead of a patch painted behind it: a patch of
    # one flat colour shows as a box on the shaded backdrop.
    if mid - tw / 2 - pad > x0:
        draw.line([(x0, y), (mid - tw / 2 - pad, y)], fill=ink, width=lw)
        draw.line([(mid + tw / 2 + pad, y), (x1, y)], fill=ink, width=lw)
    draw.text((mid, y), label, fill=ink, font=font, anchor="mm")


def gold(b: np.ndarray) -> np.ndarray:
    """Gold reflects its own colour: deep in the darks, paling towards white in the lights."""
    deep = np.array([0.55, 0.33, 0.10], np.float32)
    t = np.clip(b, 0, 1)[..., None]
    return deep * t + (substrates.GOLD - deep) * t**1.5 + np.clip(b - 0.95, 0, 1)[..., None] * 0.55


def to_image(rgb: np.ndarray) -> Image.Image:
    return Image.fromarray((np.clip(rgb, 0, 1) * 255 + 0.5).astype(np.uint8))


def smoothstep(e0: float, e1: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - e0) / (e1 - e0), 0, 1)
    return t * t * (3 - 2 * t)


def cut_metal_layers(
    h: int, w: int, color: np.ndarray, seed: int, floor: float | np.ndarray = 0.5, texture: float = 0.06
) -> dict[str, Image.Image]:
    """A cut's floor is matte: it scatters light instead of mirroring the studio, so it is the
    metal's own colour with a fine tool texture; its lit wall sparkles. `floor` may be a map."""
    grit = substrates.rng(seed).standard_normal((h, w)).astype(np.float32) * texture
    floor_rgb = color * (floor + grit)[..., None]
    return {"floor": to_image(floor_rgb)}


def frosted_floor(
    tone: np.ndarray, radius: float, light: float = 0.8, dark: float = 0.2, lo: float = 0.5, hi: float = 0.8
) -> np.ndarray:
    """The floor of a cut in polished metal, as a photo shows it: the frosted cut scatters the
    whole studio, so it reads pale grey where the mirror face shows the dark room, and dark
    where the face mirrors the bright softbox. Read clearly at any size, as real engraving does."""
    return light + (dark - light) * smoothstep(lo, hi, blur(tone, radius))


def spark_of(color: np.ndarray) -> tuple[int, int, int]:
    r, g, b = (int(min(1.0, c * 1.18 + 0.12) * 255) for c in color)
    return r, g, b


def _warp_surface(
    region: Region,
    cs: float,
    margin_mm: float,
    inverse_mm,
    box,
    visible: np.ndarray | None = None,
    cylinder: bool = False,
) -> Surface:
    """A canvas over the region's flat rectangle (plus margin) bent by inverse_mm, which maps
    output pixels to flat millimetres."""
    fx0, fy0 = region.x_mm - margin_mm, region.y_mm - margin_mm
    cw = int(math.ceil((region.w_mm + 2 * margin_mm) * cs))
    ch = int(math.ceil((region.h_mm + 2 * margin_mm) * cs))

    def inverse(x, y):
        u, v, ok = inverse_mm(x + 0.5, y + 0.5)
        return (u - fx0) * cs, (v - fy0) * cs, ok

    vis = None
    if visible is not None:
        x0, y0, x1, y1 = box
        vis = visible[y0:y1, x0:x1]
    if cylinder:
        return Surface(cs, fx0, fy0, build_strips((cw, ch), box, inverse, 4, vis))
    return Surface(cs, fx0, fy0, build((cw, ch), box, inverse, vis))


# --- the products ---------------------------------------------------------------------------


def _pendant(p: Product, width: int) -> Scene:
    w, h = frame(width)
    r = p.width_mm / 2
    scale, (ox, oy) = fit(w, h, -1, -6.5, p.width_mm + 1, p.height_mm + 0.5)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    rgb = backdrop(w, h, (0.86, 0.85, 0.83), (0.74, 0.72, 0.70), 11)
    cx, cy, rp = ox + r * scale, oy + r * scale, r * scale
    alpha = disc_alpha(xx, yy, cx, cy, rp)

    def bail(draw, ss):
        rr = 2.1 * scale
        bx, by = cx, oy - 1.2 * scale
        draw.ellipse(
            [(bx - rr * 0.55) * ss, (by - rr) * ss, (bx + rr * 0.55) * ss, (by + rr) * ss],
            outline=255,
            width=int(0.75 * scale * ss),
        )
        chain(draw, ss, (bx, by - rr * 0.9), (bx - 0.3 * w, -0.1 * h), 2.6 * scale, 0.45 * scale)
        chain(draw, ss, (bx, by - rr * 0.9), (bx + 0.3 * w, -0.1 * h), 2.6 * scale, 0.45 * scale)

    wire_rgb, wire_a = metal_wire(w, h, bail, 0.6 * scale, substrates.SILVER)
    rgb = shadow(rgb, np.maximum(alpha, wire_a), 0.5 * scale, 0.8 * scale, 0.9 * scale, 0.42)
    rgb = over(rgb, wire_rgb, wire_a * (1 - alpha))

    refl = substrates.studio_reflection(h, w, 5)
    fine = substrates.brushed(h, w, 6, streak=12.0) * 0.008  # faint polishing marks
    tone = refl + fine
    # Rounded edge: a bevel that catches the light on the upper left, falls dark lower right.
    d = np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2) + 1e-3
    bev = np.clip((d - (rp - 0.9 * scale)) / (0.9 * scale), 0, 1)
    facing = (xx - cx) / d * LIGHT[0] + (yy - cy) / d * LIGHT[1]
    tone = tone * (1 - bev) + bev * (0.55 + 0.5 * facing) * (1.0 - 0.25 * bev)
    metal = substrates.SILVER * np.clip(tone, 0, 1.3)[..., None]
    metal += np.clip(tone - 0.95, 0, 1)[..., None] * 0.5
    rgb = over(rgb, metal, alpha)
    rgb = over(
        rgb, np.zeros(3, np.float32) + 0.25, np.clip(alpha - disc_alpha(xx, yy, cx, cy, rp - 1.2), 0, 1) * 0.5
    )

    im = to_image(rgb)
    size_label(im, cx - rp, cx + rp, oy + (p.height_mm + 2.6) * scale, p.size_label)
    surfaces = {"lines": Surface(scale, -ox / scale, -oy / scale)}
    spec = p.field_spec("rim")
    if spec is not None:
        surfaces["rim"] = _arc_surface(spec.region, spec.max_letter_height_mm, scale, (ox, oy), (w, h))
    floor = frosted_floor(tone, 0.25 * scale)
    return Scene(
        p,
        im,
        scale,
        (ox, oy),
        surfaces,
        {},
        cut_metal_layers(h, w, substrates.SILVER, 7, floor),
        spark_of(substrates.SILVER),
    )


def _arc_surface(
    region: Region, letter_mm: float, scale: float, origin: tuple[float, float], size: tuple[int, int]
) -> Surface:
    """Text along a circle, centred at the top and reading clockwise; flat x is arc length
    at the baseline from the top, flat y grows towards the centre (baseline at y = r)."""
    span = math.radians(region.span_deg)
    length = region.r_mm * span
    flat = Region(
        "rect", x_mm=-length / 2, y_mm=region.r_mm - letter_mm * 1.3, w_mm=length, h_mm=letter_mm * 1.7
    )
    cx = origin[0] + region.cx_mm * scale
    cy = origin[1] + region.cy_mm * scale

    def inverse_mm(x, y):
        dx, dy = (x - cx) / scale, (y - cy) / scale
        rho = np.sqrt(dx**2 + dy**2)
        ang = np.arctan2(dx, -dy)  # clockwise from the top
        ok = np.abs(ang) <= span / 2 + 0.05
        return ang * region.r_mm, 2 * region.r_mm - rho, ok

    outer = (region.r_mm + letter_mm * 1.5) * scale
    box = (
        max(0, int(cx - outer)),
        max(0, int(cy - outer)),
        min(size[0], int(cx + outer) + 1),
        min(size[1], int(cy + outer) + 1),
    )
    return _warp_surface(flat, scale, 0.3, inverse_mm, box)


def _bar(p: Product, width: int) -> Scene:
    w, h = frame(width)
    scale, (ox, oy) = fit(w, h, -2, -9, p.width_mm + 2, p.height_mm + 6, area=(0.04, 0.05, 0.96, 0.8))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    rgb = backdrop(w, h, (0.84, 0.82, 0.80), (0.70, 0.67, 0.64), 21)
    x0, y0, x1, y1 = ox, oy, ox + p.width_mm * scale, oy + p.height_mm * scale
    alpha = rounded_rect_alpha(xx, yy, x0, y0, x1, y1, 0.9 * scale)

    def loops(draw, ss):
        for end, sign in ((x0, -1), (x1, 1)):
            lx, ly = end + sign * 0.9 * scale, y0 + p.height_mm * 0.5 * scale
            rr = 1.6 * scale
            draw.ellipse(
                [(lx - rr) * ss, (ly - rr) * ss, (lx + rr) * ss, (ly + rr) * ss],
                outline=255,
                width=int(0.55 * scale * ss),
            )
            chain(
                draw,
                ss,
                (lx + sign * rr * 0.8, ly - rr * 0.5),
                (lx + sign * 0.22 * w, -0.06 * h),
                2.2 * scale,
                0.38 * scale,
            )

    wire_rgb, wire_a = metal_wire(w, h, loops, 0.5 * scale, substrates.GOLD)
    rgb = shadow(rgb, np.maximum(alpha, wire_a), 0.35 * scale, 0.7 * scale, 0.8 * scale, 0.45)
    rgb = over(rgb, wire_rgb, wire_a * (1 - alpha))

    streaks = substrates.brushed(h, w, 23, streak=40.0)
    # Brushing along the bar smears the key light into a broad band across it.
    u = (xx - x0) / max(x1 - x0, 1)
    tone = 0.55 + 0.45 * np.exp(-(((u - 0.3) / 0.22) ** 2)) + 0.12 * np.exp(-(((u - 0.85) / 0.08) ** 2))
    tone = tone * (1 + 0.07 * streaks) - 0.06 * (yy - y0) / max(y1 - y0, 1)
    edge = edge_distance(alpha, 0.5 * scale)
    lit = relief_light(blur(alpha, 0.35 * scale), 0.35 * scale)
    tone = tone * (0.6 + 0.4 * edge) + lit * (1 - edge)
    metal = gold(tone)
    rgb = over(rgb, metal, alpha)
    im = to_image(rgb)
    size_label(im, x0, x1, y1 + 3.2 * scale, p.size_label)
    return Scene(
        p,
        im,
        scale,
        (ox, oy),
        {"lines": Surface(scale, -ox / scale, -oy / scale)},
        {},
        cut_metal_layers(h, w, substrates.GOLD, 27, 0.45),
        spark_of(substrates.GOLD),
    )


def _ornament(p: Product, width: int) -> Scene:
    w, h = frame(width)
    r = p.width_mm / 2
    scale, (ox, oy) = fit(w, h, -1, -5, p.width_mm + 1, p.height_mm + 0.5)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    rgb = backdrop(w, h, (0.62, 0.66, 0.70), (0.46, 0.50, 0.55), 31)
    cx, cy, rp = ox + r * scale, oy + r * scale, r * scale
    hx, hy, hr = cx, oy + 3.2 * scale, 1.5 * scale
    alpha = disc_alpha(xx, yy, cx, cy, rp) * (1 - disc_alpha(xx, yy, hx, hy, hr))

    def ring(draw, ss):
        rr = 3.2 * scale
        bx, by = hx, hy - rr + hr * 0.6
        draw.ellipse(
            [(bx - rr * 0.8) * ss, (by - rr) * ss, (bx + rr * 0.8) * ss, (by + rr) * ss],
            outline=255,
            width=int(0.8 * scale * ss),
        )

    wire_rgb, wire_a = metal_wire(w, h, ring, 0.8 * scale, substrates.SILVER)
    under = (yy < hy).astype(np.float32)  # the ring passes through the hole: behind the disc below it
    rgb = shadow(rgb, np.maximum(alpha, wire_a), 0.5 * scale, 0.8 * scale, 1.0 * scale, 0.45)
    rgb = over(rgb, wire_rgb, wire_a * (1 - under))
    tone = (
        0.70 + 0.07 * substrates.brushed(h, w, 33, streak=25.0) + 0.1 * substrates.studio_reflection(h, w, 34)
    )
    # Blanks are tumbled: a rounded edge and faint scuffs.
    tone += 0.02 * substrates.fractal(h, w, 6 * scale, 35, 3)
    soft = blur(alpha, 0.7 * scale)
    tone += relief_light(soft, 0.7 * scale)
    metal = substrates.ALUMINIUM * np.clip(tone, 0, 1.3)[..., None]
    rgb = over(rgb, metal, alpha)
    rgb = over(rgb, wire_rgb, wire_a * under * (1 - alpha) + wire_a * under * alpha * 0)
    im = to_image(rgb)
    size_label(im, cx - rp, cx + rp, oy + (p.height_mm + 2.6) * scale, p.size_label)
    layers = cut_metal_layers(h, w, substrates.ALUMINIUM, 37, 0.16, 0.05)
    return Scene(
        p,
        im,
        scale,
        (ox, oy),
        {"lines": Surface(scale, -ox / scale, -oy / scale)},
        {},
        layers,
        spark_of(substrates.ALUMINIUM),
    )


def _board(p: Product, width: int) -> Scene:
    w, h = frame(width)
    thick = 7.0  # the front edge seen below the top face, mm on screen
    scale, (ox, oy) = fit(w, h, -4, -4, p.width_mm + 4, p.height_mm + thick + 16)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    rgb = backdrop(w, h, (0.80, 0.80, 0.79), (0.66, 0.66, 0.65), 41)
    x0, y0, x1, y1 = ox, oy, ox + p.width_mm * scale, oy + p.height_mm * scale
    rad = 10 * scale
    top = rounded_rect_alpha(xx, yy, x0, y0, x1, y1, rad)
    side = rounded_rect_alpha(xx, yy, x0, y0 + thick * scale, x1, y1 + thick * scale, rad)
    alpha = np.maximum(top, side)
    rgb = shadow(rgb, alpha, 2 * scale, 4 * scale, 5 * scale, 0.5)
    grain, latewood = substrates.wood_grain(h, w, 43, scale, y0, p.height_mm)
    edge_rgb = grain * 0.72 * (1 - 0.25 * ((yy - y1) / (thick * scale)).clip(0, 1))[..., None]
    rgb = over(rgb, edge_rgb, side * (1 - top))
    # A sanded roundover catches the light along the top edges.
    roll = edge_distance(top, 2.5 * scale)
    lit = relief_light(blur(top, 2.0 * scale), 1.6 * scale)
    face = grain * (0.94 + 0.06 * roll + lit * (1 - roll))[..., None]
    face *= (1.02 - 0.06 * ((xx - x0) / max(x1 - x0, 1)))[..., None]  # light falls off to the right
    rgb = over(rgb, face, top)
    im = to_image(rgb)
    size_label(im, x0, x1, y1 + (thick + 13) * scale, p.size_label)
    # Laser char: deep brown, darker in the latewood, speckled where the wood flared.
    speck = substrates.rng(45).standard_normal((h, w)).astype(np.float32) * 0.07
    char = np.array([0.25, 0.14, 0.075], np.float32) * (1.15 - 0.45 * latewood + speck)[..., None]
    scorch = face * np.array([0.78, 0.62, 0.48], np.float32)
    layers = {"char": to_image(char), "scorch": to_image(scorch)}
    return Scene(
        p,
        im,
        scale,
        (ox, oy),
        {"lines": Surface(scale, -ox / scale, -oy / scale)},
        {"latewood": latewood},
        layers,
    )


SHIRT_OUTLINE = [  # flat-lay tee, mm; x from the left side seam of the body, y from the shoulder line
    (180, -12),
    (200, 8),
    (230, 22),
    (260, 26),
    (290, 22),
    (320, 8),
    (340, -12),
    (430, 10),
    (520, 40),
    (660, 210),
    (575, 265),
    (520, 205),
    (520, 720),
    (0, 720),
    (0, 205),
    (-55, 265),
    (-140, 210),
    (0, 40),
    (90, 10),
]


# Creases of a tee laid flat: (x, y, angle in degrees, length, width, height), mm.
SHIRT_CREASES = [
    (80, 300, 62, 320, 22, 1.0),
    (440, 300, 118, 320, 22, 0.9),
    (260, 120, 0, 300, 16, 0.5),
    (150, 560, 85, 300, 28, 0.8),
    (370, 540, 95, 340, 24, 0.9),
    (260, 650, 2, 420, 18, -0.6),
    (-70, 200, 35, 140, 16, 0.6),
    (590, 200, 145, 140, 16, 0.6),
    (300, 420, 80, 260, 30, -0.5),
]


def cloth_outline(
    points: list[tuple[float, float]], seed: int, wave_mm: float = 2.2
) -> list[tuple[float, float]]:
    """A cut-and-sewn edge as it lies: corners eased round (Chaikin's corner cutting) and
    the long edges not ruler-straight but gently wavy, as cloth settles."""
    pts = []
    for (ax, ay), (bx, by) in zip(points, points[1:] + points[:1], strict=True):
        k = max(1, int(math.hypot(bx - ax, by - ay) / 12))  # corners ease over about 6 mm
        pts.extend((ax + (bx - ax) * i / k, ay + (by - ay) * i / k) for i in range(k))
    pts = np.array(pts, np.float64)
    for _ in range(3):
        a, b = pts, np.roll(pts, -1, axis=0)
        pts = np.stack([0.75 * a + 0.25 * b, 0.25 * a + 0.75 * b], axis=1).reshape(-1, 2)
    # Resample densely, then push each point along the normal by a smooth random amount.
    seg = np.roll(pts, -1, axis=0) - pts
    lengths = np.hypot(seg[:, 0], seg[:, 1])
    dense = []
    for p0, d, ln in zip(pts, seg, lengths, strict=True):
        k = max(1, int(ln / 6))
        dense.extend(p0 + d * (i / k) for i in range(k))
    dense = np.array(dense)
    n = len(dense)
    tangent = np.roll(dense, -1, axis=0) - np.roll(dense, 1, axis=0)
    normal = np.stack([tangent[:, 1], -tangent[:, 0]], axis=1)
    normal /= np.maximum(np.hypot(normal[:, 0], normal[:, 1]), 1e-9)[:, None]
    step = np.hypot(*(np.roll(dense, -1, axis=0) - dense).T)
    arc = np.concatenate([[0.0], np.cumsum(step)[:-1]])
    r = substrates.rng(seed)
    wave = np.zeros(n)
    for length in (70.0, 130.0, 240.0):  # long, lazy waves, a few per edge
        wave += r.uniform(0.5, 1.0) * np.sin(
            2 * np.pi * arc / (length * r.uniform(0.8, 1.2)) + r.uniform(0, 6.3)
        )
    wave *= wave_mm / max(float(np.abs(wave).max()), 1e-9)
    dense = dense + normal * wave[:, None]
    return [(float(x), float(y)) for x, y in dense]


def _shirt(p: Product, width: int) -> Scene:
    w, h = frame(width)
    scale, (ox, oy) = fit(w, h, -150, -20, 670, 730, area=(0.06, 0.04, 0.94, 0.84))
    rgb = backdrop(w, h, (0.80, 0.75, 0.68), (0.70, 0.64, 0.57), 51)
    ss = 2

    def px(points):
        return [((ox + x * scale) * ss, (oy + y * scale) * ss) for x, y in points]

    m = Image.new("L", (w * ss, h * ss), 0)
    ImageDraw.Draw(m).polygon(px(cloth_outline(SHIRT_OUTLINE, 52)), fill=255)
    alpha = np.asarray(m.resize((w, h), Image.Resampling.BOX), np.float32) / 255
    alpha = blur(alpha, 0.6)  # cloth edges are soft
    rgb = shadow(rgb, alpha, 2.5 * scale, 3.5 * scale, 6 * scale, 0.35)

    creases = [
        (ox + x * scale, oy + y * scale, math.radians(a), ln * scale, wd * scale, ht)
        for x, y, a, ln, wd, ht in SHIRT_CREASES
    ]
    height = substrates.folds(h, w, 53, creases)
    gy, gx = np.gradient(height)
    shade = np.clip(1.0 - (gx * LIGHT[0] + gy * LIGHT[1]) * 9 * scale + 0.05 * height, 0.7, 1.2)
    # Cloth curls and darkens a little towards its edges.
    shade *= 0.82 + 0.18 * edge_distance(alpha, 10 * scale)
    knit = substrates.jersey(h, w, 55, period=max(2.0, 1.4 * scale))
    heather = substrates.fractal(h, w, 1.5, 57, 2)
    base = np.array([0.15, 0.20, 0.30], np.float32)  # navy
    cloth = base * (shade * (0.86 + 0.22 * knit) * (1 + 0.08 * heather))[..., None]

    # The neck: the inside of the back shows above the front's ribbed collar.
    neck_front = [(180, -12), (200, 18), (230, 38), (260, 44), (290, 38), (320, 18), (340, -12)]
    inside = Image.new("L", (w * ss, h * ss), 0)
    ImageDraw.Draw(inside).polygon(px(SHIRT_OUTLINE[:7] + neck_front[::-1]), fill=255)
    inside_a = np.asarray(inside.resize((w, h), Image.Resampling.BOX), np.float32) / 255
    cloth *= (1 - 0.45 * inside_a)[..., None]
    rib = Image.new("L", (w * ss, h * ss), 0)
    ImageDraw.Draw(rib).line(px(neck_front), fill=255, width=int(14 * scale * ss), joint="curve")
    rib_a = np.asarray(rib.resize((w, h), Image.Resampling.BOX), np.float32) / 255
    ribs = 0.9 + 0.1 * np.cos(np.mgrid[0:h, 0:w][1].astype(np.float32) / max(1.0, 1.3 * scale) * 2 * np.pi)
    cloth = cloth * (1 - rib_a[..., None]) + base * 1.05 * ribs[..., None] * rib_a[..., None]

    # Stitching: hems and sleeve ends, twin needle, a little lighter than the cloth.
    seams = Image.new("L", (w, h), 0)
    sd = ImageDraw.Draw(seams)
    sw = max(1, round(0.8 * scale))
    for off in (18, 24):
        sd.line(
            [(ox, oy + (720 - off) * scale), (ox + 520 * scale, oy + (720 - off) * scale)], fill=255, width=sw
        )
        for (ax, ay), (bx, by) in (((-140, 210), (-55, 265)), ((660, 210), (575, 265))):
            nx, ny = (by - ay), -(bx - ax)
            n = math.hypot(nx, ny)
            k = off if ax < 0 else -off
            sd.line(
                [
                    (ox + (ax + nx / n * k) * scale, oy + (ay + ny / n * k) * scale),
                    (ox + (bx + nx / n * k) * scale, oy + (by + ny / n * k) * scale),
                ],
                fill=255,
                width=sw,
            )
    seam = np.asarray(seams, np.float32) / 255
    cloth = cloth * (1 + 0.35 * seam)[..., None]
    rgb = over(rgb, cloth, alpha)
    im = to_image(rgb)
    size_label(
        im,
        ox,
        ox + p.width_mm * scale,
        oy + 745 * scale,
        f"chest {p.width_mm:g} mm · length {p.height_mm:g} mm",
    )

    # A print lies on the creases: it is pushed along their slopes.
    dx, dy = gx * 2.5 * scale, gy * 2.5 * scale
    region = p.region
    margin = 20.0

    def inverse_mm(x, y):
        xi = np.clip(x.astype(np.int64), 0, w - 1)
        yi = np.clip(y.astype(np.int64), 0, h - 1)
        return (x - dx[yi, xi] - ox) / scale, (y - dy[yi, xi] - oy) / scale, np.ones(x.shape, dtype=bool)

    box = (
        int(ox + (region.x_mm - margin) * scale),
        int(oy + (region.y_mm - margin) * scale),
        int(ox + (region.x_mm + region.w_mm + margin) * scale),
        int(oy + (region.y_mm + region.h_mm + margin) * scale),
    )
    surf = _warp_surface(region, scale, margin + 4, inverse_mm, box)
    ink = np.array([0.93, 0.90, 0.82], np.float32) * (shade * (0.80 + 0.26 * knit))[..., None]
    # How much ink each spot of cloth holds: full on the loops' tops, thinner in the valleys
    # and where the yarn is fuzzier; at preview sizes the loops are about a pixel, so the
    # weave shows as an uneven, slightly grainy print, not as a pattern.
    mottle = substrates.fractal(h, w, max(2.0, 3 * scale), 58, 2)
    cover = np.clip(0.72 + 0.2 * knit + 0.1 * mottle, 0, 0.97).astype(np.float32)
    return Scene(
        p, im, scale, (ox, oy), {"lines": surf}, {"knit": knit, "cover": cover}, {"ink": to_image(ink)}
    )


def _mug(p: Product, width: int) -> Scene:
    w, h = frame(width)
    R, H = p.width_mm / 2, p.height_mm
    elev = math.radians(9.0)
    se, ce = math.sin(elev), math.cos(elev)
    # Screen mm: X right from the axis, Y down from the rim's centre.
    scale, (ox, oy) = fit(
        w, h, -R - 3, -R * se - 3, R + 34, H * ce + R * se + 4, area=(0.08, 0.05, 0.92, 0.80)
    )
    cx = ox  # axis
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    X = (xx + 0.5 - cx) / scale
    Y = (yy + 0.5 - oy) / scale
    rgb = backdrop(w, h, (0.79, 0.81, 0.82), (0.60, 0.63, 0.65), 61)
    glaze = np.array([0.95, 0.95, 0.93], np.float32)

    # Outer wall, front half: theta from the facing line, height t below the rim.
    sin_t = np.clip(X / R, -1, 1)
    theta = np.arcsin(sin_t)
    cos_t = np.cos(theta)
    t = (Y - R * cos_t * se) / ce  # mm below the rim along the wall
    body = np.clip(np.minimum(R - np.abs(X), 1) * scale, 0, 1) * (t >= 0) * (t <= H)
    body = body.astype(np.float32)
    # The rim: an ellipse; inside it the inner wall at the back is visible.
    ell = (X / R) ** 2 + (Y / (R * se)) ** 2
    top = np.clip((1 - ell) * R * scale * 0.5, 0, 1).astype(np.float32)
    inner_r = R - 3.2
    ell_in = (X / inner_r) ** 2 + (Y / (inner_r * se)) ** 2
    hole = np.clip((1 - ell_in) * inner_r * scale * 0.5, 0, 1).astype(np.float32)

    # Light: a big softbox front-left and above; n.l for the wall's normal (sin, 0, cos).
    lx, lz = -0.55, 0.83
    ndl = np.clip(sin_t * lx + cos_t * lz, 0, 1)
    diffuse = 0.42 + 0.58 * ndl
    diffuse *= 1 - 0.07 * np.clip(t / H, 0, 1)  # the table bounces less light up high
    spec = 0.85 * np.exp(-(((theta + 0.42) / 0.085) ** 2)) + 0.25 * np.exp(-(((theta - 0.95) / 0.05) ** 2))
    spec *= np.clip(t / 4, 0, 1) * np.clip((H - t) / 6, 0, 1)
    rim_edge = np.clip(1 - (R - np.abs(X)) / 2.0, 0, 1)  # glossy edges mirror the room
    diffuse = diffuse * (1 - 0.3 * rim_edge)
    foot = np.clip((t - (H - 3)) / 3, 0, 1)  # unglazed foot ring
    wall = glaze * diffuse[..., None] + spec[..., None]
    wall = wall * (1 - 0.25 * foot)[..., None]

    # Handle: a tube bent into a D on the right.
    hcx, hcy = R + 6.0, H * 0.45
    hx, hy = X - hcx, (Y - R * se) - hcy
    ang = np.arctan2(hy, hx)
    ra, rb = 21.0, 30.0
    rr = np.sqrt((hx / ra) ** 2 + (hy / rb) ** 2)
    across = (rr - 1.0) * np.sqrt((ra * np.cos(ang)) ** 2 + (rb * np.sin(ang)) ** 2) / 5.0
    handle = (np.clip((1 - np.abs(across)) * 5 * scale / 2, 0, 1) * (X > R - 6)).astype(np.float32)
    nx = np.cos(ang) * across
    nz = np.sqrt(np.clip(1 - across**2, 0, 1))
    hshade = 0.45 + 0.55 * np.clip(nx * lx + nz * lz - 0.2 * np.sin(ang) * across, 0, 1)
    hspec = 0.6 * np.exp(-(((across + 0.35) / 0.12) ** 2)) * np.clip(-np.cos(ang) + 0.3, 0, 1)
    handle_rgb = glaze * hshade[..., None] + hspec[..., None]

    contact = np.exp(-((X / (R * 1.05)) ** 2 + ((Y - H * ce - R * se * 0.3) / (R * se * 1.4)) ** 2) * 2.2)
    rgb *= (1 - 0.5 * contact)[..., None]
    silhouette = np.maximum(np.maximum(body, top), handle)
    rgb = shadow(rgb, silhouette, 3 * scale, 1 * scale, 4 * scale, 0.3)
    rgb = over(rgb, handle_rgb, handle * (X > 0))
    rgb = over(rgb, wall, body)
    rim_rgb = glaze * (0.9 + 0.1 * (X / R))[..., None] + 0.05
    rgb = over(rgb, rim_rgb, top)
    inside = (
        glaze
        * (
            0.55 + 0.3 * np.clip(-(X / inner_r), -1, 1) * 0.5 + 0.25 * (1 - Y / (inner_r * se)).clip(0, 2) / 2
        )[..., None]
    )
    rgb = over(rgb, inside, hole)
    im = to_image(rgb)
    size_label(im, cx - R * scale, cx + R * scale, oy + (H * ce + R * se + 3.5) * scale, p.size_label)

    region = p.region
    mid_u = region.x_mm + region.w_mm / 2

    def inverse_mm(x, y):
        Xm = (x - cx) / scale
        Ym = (y - oy) / scale
        s = np.clip(Xm / R, -1, 1)
        th = np.arcsin(s)
        tt = (Ym - R * np.cos(th) * se) / ce
        return mid_u + R * th, tt, np.abs(Xm / R) < 0.995

    half = R * math.sin(min(region.w_mm / 2 / R + 0.1, math.pi / 2))
    box = (
        int(cx - half * scale) - 2,
        int(oy + (region.y_mm - 2) * scale),
        int(cx + half * scale) + 3,
        int(oy + (region.y_mm + region.h_mm + R * se + 3) * scale),
    )
    surf = _warp_surface(region, scale, 1.5, inverse_mm, box, visible=body, cylinder=True)
    # Ink under the glaze: lit like the glaze's body, with the glaze's reflections on top.
    ink = (
        np.array([0.09, 0.12, 0.22], np.float32) * (diffuse * (1 - 0.25 * foot))[..., None]
        + spec[..., None] * 0.95
    )
    return Scene(p, im, scale, (cx, oy), {"lines": surf}, {}, {"ink": to_image(ink)})


def _ring(p: Product, width: int) -> Scene:
    w, h = frame(width)
    Ri = p.region.radius_mm
    Ro = Ri + 1.7
    Hb = p.height_mm
    phi = math.radians(36.0)
    sp, cp = math.sin(phi), math.cos(phi)
    scale, (ox, oy) = fit(w, h, -Ro - 1, -Hb / 2 * cp - Ro * sp - 1, Ro + 1, Hb / 2 * cp + Ro * sp + 1.5)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    X = (xx + 0.5 - ox) / scale
    Y = (yy + 0.5 - oy) / scale  # down on screen; world y up, z towards the camera
    rgb = backdrop(w, h, (0.90, 0.88, 0.86), (0.76, 0.73, 0.70), 71)

    def env(rx, ry, rz):
        """The studio mirrored by polished gold: a crisp softbox overhead-left, strip lights
        at the sides, a dark room, and a pale table with the softbox's pool of light."""
        box = np.clip((0.5 - np.sqrt(((rx + 0.3) / 0.8) ** 2 + ((rz + 0.15) / 0.9) ** 2)) / 0.08, 0, 1)
        box = box * np.clip(ry * 4, 0, 1)
        room = 0.12 + 0.2 * np.clip(ry, 0, 1)
        table = (0.35 + 0.55 * np.exp(-(((rx + 0.25) / 0.35) ** 2))) * np.clip(-ry * 4, 0, 1)
        strips = np.clip((0.09 - np.abs(rx + 0.62)) / 0.03, 0, 1) + 0.7 * np.clip(
            (0.06 - np.abs(rx - 0.7)) / 0.03, 0, 1
        )
        paper = 0.55 * np.clip(-rz * 1.5, 0, 1) * np.clip(ry * 3 + 0.2, 0, 1)  # the sweep behind the ring
        return room + paper + 1.25 * box + table + 0.9 * strips * np.clip(ry + 0.6, 0, 1)

    # Polishing leaves fine lines around the band and a few stray scratches from wear; the
    # mirror shows them as a faint shimmer over its reflections.
    polish = substrates.brushed(h, w, 73, streak=12.0 * scale) * 0.02 + 0.45 * substrates.scratches(
        h, w, 74, scale, 50
    )

    def shade(nx, ny, nz):
        vx, vy, vz = 0.0, sp, cp
        d = nx * vx + ny * vy + nz * vz
        rx, ry, rz = 2 * d * nx - vx, 2 * d * ny - vy, 2 * d * nz - vz
        return gold(env(rx, ry, rz) * (1 + polish) + 0.5 * polish)

    def tilt(n, towards, amount):
        """Turn normal n towards `towards` by `amount` radians (both unit, perpendicular)."""
        c, s_ = np.cos(amount), np.sin(amount)
        return tuple(a * c + b * s_ for a, b in zip(n, towards, strict=True))

    def roll(dist):
        """A rounded-over edge of radius ER: the normal turns up to 45 degrees within ER of the
        edge (dist: mm from the edge), meeting the neighbouring face's turn halfway round."""
        u = np.clip(1 - dist / ER, 0, 1)
        return 0.5 * np.arcsin(u)

    ER = 0.45  # mm: a comfort-fit band's edges are rounded, not knife-sharp
    zero, one = np.zeros_like(X), np.ones_like(X)

    def wall(radius, sign):
        s = np.clip(X / radius, -1, 1)
        th = np.arcsin(s)
        z = sign * radius * np.cos(th)
        yw = (z * sp - Y) / cp  # world height on the wall
        inside = (np.abs(X) < radius) & (np.abs(yw) <= Hb / 2)
        return th, yw, inside

    # Inner back wall: seen through the opening, facing the camera; its top edge rounds up.
    th_i, y_i, in_i = wall(Ri, -1.0)
    n_i = (-np.sin(th_i), zero, np.cos(th_i))
    n_i = tilt(n_i, (zero, one, zero), roll(Hb / 2 - y_i))
    inner_rgb = shade(*n_i) * 0.8  # it sits in the band's own shade
    # Top face: the annulus at world y = Hb/2, rounding over into both walls.
    zt = (Y + Hb / 2 * cp) / sp
    rt = np.sqrt(X**2 + zt**2)
    in_top = (rt >= Ri) & (rt <= Ro)
    rad = (X / np.maximum(rt, 1e-3), zero, zt / np.maximum(rt, 1e-3))
    n_t = tilt((zero, one, zero), rad, roll(Ro - rt))
    n_t = tilt(n_t, tuple(-c for c in rad), roll(rt - Ri))
    top_rgb = shade(*n_t)
    top_rgb = top_rgb * (0.85 + 0.25 * np.clip(-X / Ro, -1, 1))[..., None]
    # Outer front wall, rounding up into the top face and down at the bottom edge.
    th_o, y_o, in_o = wall(Ro, 1.0)
    n_o = (np.sin(th_o), zero, np.cos(th_o))
    n_o = tilt(n_o, (zero, one, zero), roll(Hb / 2 - y_o))
    n_o = tilt(n_o, (zero, -one, zero), roll(y_o + Hb / 2))
    outer_rgb = shade(*n_o)

    def soft(mask):
        return blur(mask.astype(np.float32), 0.6)

    a_i, a_t, a_o = soft(in_i), soft(in_top), soft(in_o)
    silhouette = np.maximum(np.maximum(a_i, a_t), a_o)
    contact = np.exp(
        -((X / (Ro * 1.05)) ** 2 + ((Y - (Hb / 2 * cp + Ro * sp * 0.2)) / (Ro * sp * 1.1)) ** 2) * 2.5
    )
    rgb *= (1 - 0.35 * contact)[..., None]
    rgb = shadow(rgb, silhouette, 0.8 * scale, 1.2 * scale, 1.0 * scale, 0.35)
    rgb = over(rgb, inner_rgb, a_i)
    rgb = over(rgb, top_rgb, a_t)
    rgb = over(rgb, outer_rgb, a_o)
    # Visible part of the inner wall: what the top face and front wall do not cover.
    visible = a_i * (1 - a_t) * (1 - a_o)
    im = to_image(rgb)
    size_label(im, ox - Ro * scale, ox + Ro * scale, oy + (Hb / 2 * cp + Ro * sp + 1.0) * scale, p.size_label)

    region = p.region
    mid_u = region.x_mm + region.w_mm / 2

    def inverse_mm(x, y):
        Xm = (x - ox) / scale
        Ym = (y - oy) / scale
        s = np.clip(Xm / Ri, -1, 1)
        th = np.arcsin(s)
        yw = (-Ri * np.cos(th) * sp - Ym) / cp
        return mid_u + Ri * th, Hb / 2 - yw, np.abs(Xm / Ri) < 0.995

    box = (
        int(ox - Ri * scale),
        int(oy + (-Hb / 2 * cp - Ri * sp - 0.5) * scale),
        int(ox + Ri * scale) + 1,
        int(oy + (Hb / 2 * cp - Ri * sp * 0.0 + 0.5) * scale),
    )
    surf = _warp_surface(region, scale, 0.6, inverse_mm, box, visible=visible, cylinder=True)
    return Scene(
        p,
        im,
        scale,
        (ox, oy),
        {"lines": surf},
        {},
        cut_metal_layers(h, w, substrates.GOLD * 0.8, 77, 0.4),
        spark_of(substrates.GOLD),
    )


def _plain(p: Product, width: int) -> Scene:
    """Any product whose view this renderer does not know: a flat card at its proportions."""
    w, h = frame(width)
    scale, (ox, oy) = fit(w, h, 0, 0, p.width_mm, p.height_mm)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    rgb = backdrop(w, h, (0.9, 0.9, 0.9), (0.8, 0.8, 0.8), 81)
    alpha = rounded_rect_alpha(xx, yy, ox, oy, ox + p.width_mm * scale, oy + p.height_mm * scale, 2)
    rgb = shadow(rgb, alpha, 3, 4, 5, 0.3)
    rgb = over(rgb, np.array([0.97, 0.97, 0.96], np.float32), alpha)
    im = to_image(rgb)
    size_label(im, ox, ox + p.width_mm * scale, oy + p.height_mm * scale + h * 0.06, p.size_label)
    ink = to_image(np.zeros((h, w, 3), np.float32) + 0.1)
    return Scene(
        p, im, scale, (ox, oy), {"lines": Surface(scale, -ox / scale, -oy / scale)}, {}, {"ink": ink}
    )


VIEWS = {
    "pendant": _pendant,
    "bar": _bar,
    "ring": _ring,
    "ornament": _ornament,
    "board": _board,
    "shirt": _shirt,
    "mug": _mug,
}

_lock = threading.Lock()
_scenes: OrderedDict[tuple[Product, int], Scene] = OrderedDict()
_SCENE_CACHE = 14  # every product at two widths; about 15 MB each


def scene(product: Product, width: int) -> Scene:
    """The cached picture of a product at an output width (built on first use)."""
    key = (product, width)
    with _lock:
        hit = _scenes.get(key)
        if hit is not None:
            _scenes.move_to_end(key)
            return hit
    built = VIEWS.get(product.view, _plain)(product, width)
    with _lock:
        _scenes[key] = built
        while len(_scenes) > _SCENE_CACHE:
            _scenes.popitem(last=False)
    return built

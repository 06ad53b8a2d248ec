"""What every product scene shares: the Scene and Surface types, the studio (backdrop, light,
shadows), polished-metal helpers, the catalogue-style size label, and the plain card drawn for
a product whose view no scene knows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from proofmark_renderer import catalog, substrates
from proofmark_renderer.catalog import Product, Region
from proofmark_renderer.substrates import blur
from proofmark_renderer.warp import ColumnWarp, MeshWarp, Warp, build, build_columns

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
    warp: Warp | MeshWarp | ColumnWarp | None = None


class LayerCrop:
    """A full-frame layer kept only over the part of the picture where text can land (see
    `crop_layers`). `crop(box)` reads it in picture coordinates, as the full layer; outside
    the kept part it reads black, which no text reaches."""

    def __init__(self, image: Image.Image, origin: tuple[int, int], frame_size: tuple[int, int]) -> None:
        self.image, self.origin, self.frame_size = image, origin, frame_size

    @property
    def mode(self) -> str:
        return self.image.mode

    @property
    def size(self) -> tuple[int, int]:  # the kept part, for memory accounting
        return self.image.size

    @property
    def width(self) -> int:
        return self.image.width

    @property
    def height(self) -> int:
        return self.image.height

    def getbands(self) -> tuple[str, ...]:
        return self.image.getbands()

    def crop(self, box: tuple[int, int, int, int]) -> Image.Image:
        ox, oy = self.origin
        return self.image.crop((box[0] - ox, box[1] - oy, box[2] - ox, box[3] - oy))


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
    layers: dict[str, Image.Image | LayerCrop] = field(default_factory=dict)
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
    if warm_metal(base):
        color = warm_shade(base, np.clip(tone, 0.12, 1.25))
    else:
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
    h: int,
    w: int,
    color: np.ndarray,
    seed: int,
    floor: float | np.ndarray = 0.5,
    texture: float = 0.06,
    grain_px: float = 0.0,
) -> dict[str, Image.Image]:
    """A cut's floor is matte: it scatters light instead of mirroring the studio, so it is the
    metal's own colour with a fine tool texture; its lit wall sparkles. `floor` may be a map.
    `grain_px` softens the grit to that many pixels (a close view, where a pixel is far
    smaller than the tool's frosting would otherwise show a sandpaper grain)."""
    grit = substrates.rng(seed).standard_normal((h, w)).astype(np.float32)
    if grain_px > 0:
        grit = blur(grit, grain_px)
        grit /= max(float(grit.std()), 1e-6)
    grit *= texture
    floor_rgb = color * (floor + grit)[..., None]
    return {"floor": to_image(floor_rgb)}


def frosted_floor(
    tone: np.ndarray, radius: float, light: float = 0.8, dark: float = 0.2, lo: float = 0.5, hi: float = 0.8
) -> np.ndarray:
    """The floor of a cut in polished metal, as a photo shows it: the frosted cut scatters the
    whole studio, so it reads pale grey where the mirror face shows the dark room, and dark
    where the face mirrors the bright softbox. Read clearly at any size, as real engraving does."""
    return light + (dark - light) * smoothstep(lo, hi, blur(tone, radius))


def warm_metal(color) -> bool:
    """A gold (yellow, rose): its red clearly above its blue; silver, steel and aluminium are not."""
    return float(color[0]) - float(color[2]) > 0.15


def gold_floor(color) -> np.ndarray:
    """The colour a frosted cut in a gold scatters: the metal's colour deepened (each channel
    to a power, so the colour saturates as gold does in its own inter-reflections)."""
    return (np.asarray(color, np.float32) ** 1.8).astype(np.float32)


def warm_deep(color) -> np.ndarray:
    """What a gold shows in its shadows: its own colour reflected again and again, so deeper
    and more saturated (yellow gold goes to a brown-amber, rose gold to a copper-brown), never
    a grey or a purple as the colour times a dark tone would give."""
    return (0.6 * np.asarray(color, np.float32) ** 3).astype(np.float32)


def warm_shade(color, tone: np.ndarray) -> np.ndarray:
    """A gold of colour `color` mirroring a studio of brightness `tone` (as `gold` for the
    ring's gold): the deep colour in the darks, the metal's own colour at 1, paling above."""
    c = np.asarray(color, np.float32)
    deep = warm_deep(c)
    t = np.clip(tone, 0, 1.3)[..., None]
    return deep * t + (c - deep) * np.clip(t, 0, 1) ** 1.5 + np.clip(t - 1, 0, 1) * c


def gold_spark(color) -> tuple[int, int, int]:
    """A gold cut's lit wall: bright, and still gold (not the near-white of spark_of)."""
    c = np.asarray(color, np.float32)
    r, g, b = (int(min(1.0, v) * 255) for v in c**0.7 * 1.08)
    return r, g, b


def spark_of(color: np.ndarray) -> tuple[int, int, int]:
    r, g, b = (int(min(1.0, c * 1.18 + 0.12) * 255) for c in color)
    return r, g, b


def warp_surface(
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
        return Surface(cs, fx0, fy0, build_columns((cw, ch), box, inverse, vis))
    return Surface(cs, fx0, fy0, build((cw, ch), box, inverse, vis))


def plain(p: Product, width: int) -> Scene:
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


def text_reach_box(scene: Scene, pad_px: float) -> tuple[int, int, int, int]:
    """Where any text of the product can land in the picture: each surface's warp box, or
    its region (mm) mapped flat, grown by a quarter of the region each way (swashes, extents)
    and by `pad_px` (what the finish spreads)."""
    w, h = scene.size
    boxes = []
    for key, surf in scene.surfaces.items():
        if surf.warp is not None:
            x0, y0, x1, y1 = surf.warp.box
            boxes.append((x0 - pad_px, y0 - pad_px, x1 + pad_px, y1 + pad_px))
            continue
        spec = scene.product.field_spec(key) if key != "lines" else None
        region = spec.region if spec is not None else scene.product.region
        if region.shape in ("circle", "arc"):
            reach = region.r_mm + (spec.max_letter_height_mm if spec else scene.product.max_letter_height_mm)
            mx0, my0 = region.cx_mm - reach, region.cy_mm - reach
            mx1, my1 = region.cx_mm + reach, region.cy_mm + reach
        else:
            mx0, my0 = region.x_mm, region.y_mm
            mx1, my1 = region.x_mm + region.w_mm, region.y_mm + region.h_mm
        gx, gy = 0.25 * (mx1 - mx0) * surf.cs + pad_px, 0.25 * (my1 - my0) * surf.cs + pad_px
        boxes.append(
            (
                (mx0 - surf.fx0) * surf.cs - gx,
                (my0 - surf.fy0) * surf.cs - gy,
                (mx1 - surf.fx0) * surf.cs + gx,
                (my1 - surf.fy0) * surf.cs + gy,
            )
        )
    if not boxes:
        return (0, 0, w, h)
    return (
        max(0, int(math.floor(min(b[0] for b in boxes)))),
        max(0, int(math.floor(min(b[1] for b in boxes)))),
        min(w, int(math.ceil(max(b[2] for b in boxes)))),
        min(h, int(math.ceil(max(b[3] for b in boxes)))),
    )


def crop_layers(scene: Scene, pad_px: float) -> Scene:
    """Keep the finish layers only where text can land: they are full-frame pictures, as
    large as the scene's own, and most of each is never read (issue 16: memory)."""
    box = text_reach_box(scene, pad_px)
    w, h = scene.size
    if (box[2] - box[0]) * (box[3] - box[1]) > 0.8 * w * h:
        return scene
    for name, layer in list(scene.layers.items()):
        if isinstance(layer, Image.Image) and layer.size == (w, h):
            scene.layers[name] = LayerCrop(layer.crop(box), box[:2], (w, h))
    return scene

"""Four photo-based demo products whose photos the project draws itself (numpy and Pillow,
fixed seeds, nothing downloaded): a steel dog tag lying at an angle (perspective), a white
tumbler (cylinder), a maple sign on a wall (flat, laser) and a round maple plaque whose name
arches along its rim (arc, laser). `write(folder)` makes one
product folder each (product.toml + photo.jpg + light.png, the view's light layer), the same
format `proofmark products import` reads. Their area corners and light layers are computed
from the same geometry that drew the photo.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from proofmark_renderer import substrates
from proofmark_renderer.photo import homography
from proofmark_renderer.substrates import blur

W, H = 1600, 1200

SCRIPTS = ["great-vibes", "dancing-script", "allura", "parisienne", "eb-garamond", "playfair-display"]
SANS = ["montserrat", "lato", "noto-sans", "courier-prime"]


def _img(rgb: np.ndarray) -> Image.Image:
    return Image.fromarray((np.clip(rgb, 0, 1) * 255 + 0.5).astype(np.uint8))


def _soft(a: np.ndarray, radius: float, k: int) -> np.ndarray:
    """blur(a, radius * k) for a picture drawn k times larger: blurred at the photo's own
    size and enlarged again (a wide, soft shadow has no detail to lose; 1/k² of the work)."""
    if k == 1:
        return blur(a, radius)
    h, w = a.shape
    small = Image.fromarray(a.astype(np.float32), "F").resize((w // k, h // k), Image.Resampling.BOX)
    soft = blur(np.asarray(small, np.float32), radius)
    return np.asarray(Image.fromarray(soft, "F").resize((w, h), Image.Resampling.BILINEAR), np.float32)


def _table(seed: int, top, bottom, k: int = 1) -> np.ndarray:
    """The surface a product lies on; `k` draws it at k times the photo's size (every
    length in pixels scaled with it), for a close-up cut from the larger picture."""
    hh, ww = H * k, W * k
    yy, xx = np.mgrid[0:hh, 0:ww].astype(np.float32)
    t = (yy / hh)[..., None]
    rgb = np.array(top, np.float32) * (1 - t) + np.array(bottom, np.float32) * t
    rgb *= (1 + 0.03 * substrates.fractal(hh, ww, 80 * k, seed))[..., None]
    r = np.sqrt(((xx - ww * 0.45) / ww) ** 2 + ((yy - hh * 0.4) / hh) ** 2)
    return rgb * (1 - 0.3 * np.clip(r - 0.2, 0, 1))[..., None]


def dog_tag(k: int = 1) -> tuple[Image.Image, dict]:
    """A 50 x 28 mm stainless tag on linen, seen from above at a slant. `k` draws it at k
    times the photo's size (W x H), with the area's corners and light layer to match."""
    rgb = _table(5, (0.80, 0.78, 0.74), (0.66, 0.64, 0.60), k)
    rgb *= (1 + 0.04 * substrates.brushed(H * k, W * k, 7, streak=3.0 * k) * 0.3)[..., None]
    # The tag drawn flat at 20 px/mm (times k), then set into the photo by a homography.
    s, tw, th = 20 * k, 50.0, 28.0
    fw, fh = int(tw * s), int(th * s)
    yy, xx = np.mgrid[0:fh, 0:fw].astype(np.float32)
    rad = 6 * s
    cx = np.clip(xx, rad, fw - rad)
    cy = np.clip(yy, rad, fh - rad)
    alpha = np.clip(rad - np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2) + 0.5, 0, 1)
    hole = np.clip(np.sqrt((xx - 5.0 * s) ** 2 + (yy - fh / 2) ** 2) - 1.8 * s + 0.5, 0, 1)
    alpha *= hole
    edge = np.clip(blur(alpha, 1.2 * s) * 2 - 1, 0, 1)
    gy, gx = np.gradient(blur(alpha, 0.8 * s))
    rim = np.clip(-(gx * -0.6 + gy * -0.8) * 30, -0.4, 0.6)
    brushed = substrates.brushed(fh, fw, 11, streak=80.0)
    sky = 0.62 + 0.25 * np.clip(1 - yy / fh, 0, 1) - 0.18 * np.clip((xx / fw - 0.55) * 2, 0, 1)
    # Drawn larger (k), the finest streaks average out when the photo is reduced: deeper.
    tone = sky + 0.035 * (1 + 0.7 * (k - 1)) * brushed + rim * (1 - edge) + 0.06 * edge
    steel = np.array([0.86, 0.87, 0.90], np.float32) * np.clip(tone, 0.1, 1.2)[..., None]
    face = Image.merge("RGBA", [*_img(steel).split(), _img(alpha)])
    dst = np.array([(520, 360), (1230, 420), (1180, 820), (450, 730)], np.float64) * k
    src = np.array([(0, 0), (fw, 0), (fw, fh), (0, fh)], np.float64)
    to_face = homography(dst, src)  # Pillow wants the inverse: photo -> face
    coeffs = (to_face / to_face[2, 2]).ravel()[:8]
    size = (W * k, H * k)
    warped = face.transform(size, Image.Transform.PERSPECTIVE, tuple(coeffs), Image.Resampling.BICUBIC)
    a = np.asarray(warped.getchannel("A"), np.float32) / 255
    shadow = np.roll(np.roll(_soft(a, 14, k), 18 * k, 0), 12 * k, 1)
    rgb *= (1 - 0.35 * shadow)[..., None]
    rgb = rgb * (1 - a[..., None]) + np.asarray(warped.convert("RGB"), np.float32) / 255 * a[..., None]
    # A ball chain through the hole, sagging off to the upper left.
    hx, hy = _h(homography(src, dst), 5.0 * s, fh / 2)
    rgb, chain = _ball_chain(rgb, hx, hy, k)
    im = _img(rgb)
    # The light layer (128 neutral): the brushed face's glints where it mirrors the window
    # (a soft diagonal band and the sparkle of the frosted cut), and the room's shade at the
    # lower right; drawn on the flat tag and set into the photo like the tag itself.
    sparkle = substrates.rng(17).random((fh, fw)).astype(np.float32)
    sparkle = blur((sparkle > 1 - 0.0035 / k**2).astype(np.float32), 1.2 * k) * 9
    band = np.exp(-((((xx / fw) * 0.8 + (yy / fh) * 0.6 - 0.55) / 0.16) ** 2))
    glint = 128 + 22 * band + 110 * np.clip(sparkle, 0, 1) * (0.35 + band) - 24 * np.clip(xx / fw - 0.6, 0, 1)
    glint_im = Image.merge("LA", [_grey(glint), _img(alpha)])
    glint_w = glint_im.transform(size, Image.Transform.PERSPECTIVE, tuple(coeffs), Image.Resampling.BICUBIC)
    ga = np.asarray(glint_w.getchannel("A"), np.float32) / 255
    light = 128 * (1 - ga) + np.asarray(glint_w.getchannel("L"), np.float32) * ga
    to_photo = homography(src / s, dst)
    region = (11.0, 5.0, 36.0, 18.0)
    corners = [_h(to_photo, x, y) for x, y in _rect(region)]
    product = {
        "id": "dog-tag",
        "name": "Steel dog tag",
        "description": "Stainless steel tag, 50 by 28 mm, engraved with up to three lines.",
        "finish": "engraved-steel",
        "substrate": "stainless-steel",
        "width_mm": tw,
        "height_mm": th,
        "max_lines": 3,
        "max_chars_per_line": 16,
        "min_letter_height_mm": 2.0,
        "max_letter_height_mm": 5.0,
        "line_spacing": 1.45,
        "allowed_fonts": ["montserrat", "lato", "courier-prime", "playfair-display", "noto-sans"],
        "default_font": "montserrat",
        "region": _region(region),
        "production": {"dpi": 1000, "mirror": False},
        "views": [
            {
                "name": "angled",
                "photo": "photo.jpg",
                "light": LIGHT_FILE,
                "areas": {"lines": {"mapping": "perspective", "corners": corners}},
            }
        ],
        "_light": _grey(light),
        "_chain": _img(chain),  # for a variant that recolours the tag but not its chain
    }
    # The lens's slight softness, in the picture's own pixels (a close-up cut from the larger
    # picture is as crisp as the photo).
    return im.filter(ImageFilter.GaussianBlur(0.6)), product


def _ball_chain(rgb: np.ndarray, hx: float, hy: float, k: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """A steel ball chain from the tag's hole up and off to the upper left, sagging a little:
    round balls lit from the upper left with a crisp highlight, short links between them,
    and a soft shadow on the cloth. Also returns the chain's coverage (what lies over the tag)."""
    n, step, r = 46, 13.5 * k, 5.6 * k
    t = np.arange(n, dtype=np.float32)
    path_x = hx - step * t * 0.84
    path_y = hy - step * t * 0.52 + 0.0009 / k * (step * t) * (step * t * 0.9 - 540 * k)  # a gentle sag
    ss = 3 if k == 1 else 2
    hh, ww = rgb.shape[:2]  # the picture's own size, k times the photo's
    size = (ww * ss, hh * ss)
    balls, links = Image.new("L", size, 0), Image.new("L", size, 0)
    db, dl = ImageDraw.Draw(balls), ImageDraw.Draw(links)
    dl.line(
        [(x * ss, y * ss) for x, y in zip(path_x, path_y, strict=True)], fill=255, width=int(1.6 * k * ss)
    )
    for x, y in zip(path_x, path_y, strict=True):
        db.ellipse(((x - r) * ss, (y - r) * ss, (x + r) * ss, (y + r) * ss), fill=255)
    a = np.asarray(balls.resize((ww, hh), Image.Resampling.BOX), np.float32) / 255
    link = np.asarray(links.resize((ww, hh), Image.Resampling.BOX), np.float32) / 255
    # Each ball's height from its own centre: a sphere's normal gives its shading.
    yy, xx = np.mgrid[0:hh, 0:ww].astype(np.float32)
    nearest = np.full((hh, ww), 1e9, np.float32)
    nx = np.zeros((hh, ww), np.float32)
    ny = np.zeros((hh, ww), np.float32)
    x0, x1 = int(path_x.min() - 2 * r), int(path_x.max() + 2 * r)
    y0, y1 = int(max(0, path_y.min() - 2 * r)), int(path_y.max() + 2 * r)
    sub = (slice(max(0, y0), min(hh, y1)), slice(max(0, x0), min(ww, x1)))
    for x, y in zip(path_x, path_y, strict=True):
        d = (xx[sub] - x) ** 2 + (yy[sub] - y) ** 2
        closer = d < nearest[sub]
        nearest[sub] = np.where(closer, d, nearest[sub])
        nx[sub] = np.where(closer, (xx[sub] - x) / r, nx[sub])
        ny[sub] = np.where(closer, (yy[sub] - y) / r, ny[sub])
    nz = np.sqrt(np.clip(1 - nx**2 - ny**2, 0, 1))
    lit = np.clip(-0.55 * nx - 0.6 * ny + 0.58 * nz, 0, 1)
    spec = np.clip((lit - 0.86) / 0.1, 0, 1) ** 2
    tone = 0.18 + 0.62 * lit + 0.12 * nz + 0.9 * spec
    steel = np.array([0.80, 0.81, 0.84], np.float32) * np.clip(tone, 0, 1.4)[..., None]
    shade = np.roll(np.roll(_soft(np.maximum(a, link), 3.0, k), 5 * k, 0), 4 * k, 1)
    rgb = rgb * (1 - 0.32 * shade)[..., None]
    link_rgb = np.array([0.42, 0.42, 0.45], np.float32)
    rgb = rgb * (1 - link[..., None]) + link_rgb * link[..., None]
    return rgb * (1 - a[..., None]) + steel * a[..., None], np.maximum(a, link)


LIGHT_FILE = "light.png"


def _grey(values: np.ndarray) -> Image.Image:
    return Image.fromarray(np.clip(values + 0.5, 0, 255).astype(np.uint8), "L")


def tumbler(k: int = 1) -> tuple[Image.Image, dict]:
    """A 76 mm white tumbler, 150 mm tall, seen a little from above (`k`: as dog_tag)."""
    rgb = _table(21, (0.72, 0.78, 0.80), (0.55, 0.60, 0.62), k)
    hh, ww = H * k, W * k
    yy, xx = np.mgrid[0:hh, 0:ww].astype(np.float32)
    s = 6.0 * k  # px per mm at the axis
    radius, height = 38.0, 150.0
    cx, top_y = ww / 2, 180.0 * k
    rpx = radius * s
    tilt = 0.14
    X = (xx - cx) / rpx
    inside = np.abs(X) < 1
    sin_t = np.clip(X, -1, 1)
    cos_t = np.sqrt(1 - sin_t**2)
    y_top = top_y + tilt * rpx * cos_t
    y_bot = top_y + height * s + tilt * rpx * cos_t
    body = (inside & (yy >= y_top) & (yy <= y_bot)).astype(np.float32)
    body = blur(body, 0.7)  # an anti-aliased edge, in the picture's own pixels
    ndl = np.clip(sin_t * -0.5 + cos_t * 0.85, 0, 1)
    spec = 0.5 * np.exp(-(((np.arcsin(sin_t) + 0.45) / 0.09) ** 2)) + 0.2 * np.exp(
        -(((np.arcsin(sin_t) - 0.9) / 0.05) ** 2)
    )
    powder = 1 + 0.02 * substrates.fractal(hh, ww, 3 * k, 23)
    wall = (
        np.array([0.93, 0.93, 0.91], np.float32) * (0.45 + 0.55 * ndl * powder)[..., None] + spec[..., None]
    )
    lid_ell = ((xx - cx) / rpx) ** 2 + ((yy - top_y) / (tilt * rpx)) ** 2
    lid = np.clip((1 - lid_ell) * 40, 0, 1)
    shadow = np.roll(_soft(body, 30, k), 40 * k, 1)
    rgb *= (1 - 0.35 * shadow)[..., None]
    rgb = rgb * (1 - body[..., None]) + wall * body[..., None]
    lid_rgb = (
        np.array([0.2, 0.2, 0.22], np.float32)
        * (0.8 + 0.4 * (1 - (yy - top_y + tilt * rpx) / (2 * tilt * rpx + 1)))[..., None]
    )
    rgb = rgb * (1 - lid[..., None]) + lid_rgb * lid[..., None]
    # The light layer: the glaze-like shine of the powder coat runs over the print too
    # (the streaks, brighter than neutral), and the wall turning away darkens it a little.
    light = 128 + body * (100 * spec - 18 * np.clip(0.55 - ndl, 0, 1))
    # Unrolled: 64 mm of the 239 mm circumference, centred: ±48° round the front, where the
    # photo shows the print well (the renderer refuses more than ±65°).
    region = (0.0, 40.0, 64.0, 70.0)
    half = region[2] / 2 / radius
    xl, xr = cx - rpx * math.sin(half), cx + rpx * math.sin(half)
    lift = tilt * rpx * math.cos(half)
    yt = top_y + region[1] * s + lift
    yb = top_y + (region[1] + region[3]) * s + lift
    corners = [(xl, yt), (xr, yt), (xr, yb), (xl, yb)]
    product = {
        "id": "tumbler",
        "name": "Insulated tumbler",
        "description": "White powder-coated steel tumbler, 76 mm across, printed around the front.",
        "finish": "print-black",
        "substrate": "powder-coat",
        "width_mm": 2 * radius,
        "height_mm": height,
        "max_lines": 3,
        "max_chars_per_line": 14,
        "min_letter_height_mm": 5.0,
        "max_letter_height_mm": 18.0,
        "line_spacing": 1.35,
        "allowed_fonts": SCRIPTS + SANS,
        "default_font": "dancing-script",
        "region": _region(region) | {"shape": "band", "radius_mm": radius},
        "production": {"dpi": 300, "mirror": False},
        "views": [
            {
                "name": "front",
                "photo": "photo.jpg",
                "light": LIGHT_FILE,
                "areas": {
                    "lines": {"mapping": "cylinder", "corners": corners, "radius_mm": radius, "tilt": tilt}
                },
            }
        ],
        "_light": _grey(light),
    }
    return _img(rgb), product


def sign() -> tuple[Image.Image, dict]:
    """A 300 x 150 mm maple sign on a plastered wall, face on."""
    rgb = _table(31, (0.86, 0.85, 0.82), (0.76, 0.75, 0.72))
    rgb *= (1 + 0.025 * substrates.fractal(H, W, 6, 33))[..., None]
    s = 4.4
    x0, y0 = 140.0, 330.0
    tw, th = 300.0, 150.0
    x1, y1 = x0 + tw * s, y0 + th * s
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    rad = 8 * s
    cxp = np.clip(xx, x0 + rad, x1 - rad)
    cyp = np.clip(yy, y0 + rad, y1 - rad)
    alpha = np.clip(rad - np.sqrt((xx - cxp) ** 2 + (yy - cyp) ** 2) + 0.5, 0, 1)
    grain, _ = substrates.wood_grain(H, W, 35, s, y0, th)
    edge = np.clip(blur(alpha, 2.5 * s) * 2 - 1, 0, 1)
    face = grain * (0.9 + 0.08 * edge)[..., None] * (1.03 - 0.08 * ((xx - x0) / (x1 - x0)))[..., None]
    shadow = np.roll(np.roll(blur(alpha, 16), 14, 0), 10, 1)
    rgb *= (1 - 0.4 * shadow)[..., None]
    rgb = rgb * (1 - alpha[..., None]) + face * alpha[..., None]
    im = _img(rgb)
    draw = ImageDraw.Draw(im)
    # Twine to a nail above.
    for hx in (x0 + 40 * s, x1 - 40 * s):
        draw.ellipse((hx - 10, y0 + 14 - 10, hx + 10, y0 + 14 + 10), fill=(70, 52, 36))
        draw.line([(hx, y0 + 14), (W / 2, 120)], fill=(160, 130, 90), width=5)
    draw.ellipse((W / 2 - 9, 111, W / 2 + 9, 129), fill=(90, 90, 95))
    # No light layer: the burn is made from the photo's own wood, so it already falls off
    # with the window's light; a layer would count that light twice (and costs about 3 ms on
    # this, the largest text box of the three).
    region = (20.0, 25.0, 260.0, 100.0)
    corners = [(x0 + u * s, y0 + v * s) for u, v in _rect(region)]
    product = {
        "id": "maple-sign",
        "name": "Maple wall sign",
        "description": "Solid maple sign, 300 by 150 mm, laser engraved with up to three lines.",
        "finish": "laser-wood",
        "substrate": "maple",
        "width_mm": tw,
        "height_mm": th,
        "max_lines": 3,
        "max_chars_per_line": 22,
        "min_letter_height_mm": 8.0,
        "max_letter_height_mm": 40.0,
        "line_spacing": 1.4,
        "allowed_fonts": SCRIPTS + SANS,
        "default_font": "playfair-display",
        "region": _region(region),
        "production": {"dpi": 300, "mirror": False},
        "views": [
            {
                "name": "wall",
                "photo": "photo.jpg",
                "areas": {"lines": {"mapping": "flat", "corners": corners}},
            }
        ],
    }
    return im, product


def plaque() -> tuple[Image.Image, dict]:
    """A round maple plaque, 200 mm across, on a wall, face on; its text arches along the top
    of the rim (the arc mapping): 144 mm of text along a 75 mm radius, 110° of turn."""
    rgb = _table(41, (0.84, 0.84, 0.82), (0.72, 0.72, 0.70))
    rgb *= (1 + 0.025 * substrates.fractal(H, W, 6, 43))[..., None]
    s = 4.6
    cx, cy, r = W / 2, H / 2 + 20, 100.0 * s
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    alpha = np.clip(r - np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2) + 0.5, 0, 1)
    grain, _ = substrates.wood_grain(H, W, 47, s, cy - r, 200.0)
    edge = np.clip(blur(alpha, 3.0 * s) * 2 - 1, 0, 1)
    face = grain * (0.88 + 0.1 * edge)[..., None] * (1.04 - 0.1 * ((xx - cx + r) / (2 * r)))[..., None]
    shadow = np.roll(np.roll(blur(alpha, 18), 16, 0), 11, 1)
    rgb *= (1 - 0.4 * shadow)[..., None]
    rgb = rgb * (1 - alpha[..., None]) + face * alpha[..., None]
    # The area: x along the arc of radius 75 mm (its middle), y radially, 24 mm deep.
    bend, radius_mm, depth_mm = 110.0, 75.0, 24.0
    length = radius_mm * math.radians(bend)
    corners = []
    for side, out in ((-1, 1), (1, 1), (1, -1), (-1, -1)):  # tl, tr, br, bl
        a = math.radians(bend / 2) * side
        rr = (radius_mm + out * depth_mm / 2) * s
        corners.append((round(cx + rr * math.sin(a), 2), round(cy - rr * math.cos(a), 2)))
    # In mm the area sits where it is made: its middle arc 75 mm from the disc's centre, so
    # the production files bend it along the same arc about the centre (100, 100).
    region = (round(100.0 - length / 2, 2), 100.0 - radius_mm - depth_mm / 2, round(length, 2), depth_mm)
    product = {
        "id": "round-plaque",
        "name": "Round maple plaque",
        "description": "Solid maple plaque, 200 mm across, a name laser engraved along the top of the rim.",
        "finish": "laser-wood",
        "substrate": "maple",
        "width_mm": 200.0,
        "height_mm": 200.0,
        "max_lines": 1,
        "max_chars_per_line": 24,
        "min_letter_height_mm": 8.0,
        "max_letter_height_mm": 18.0,
        "line_spacing": 1.3,
        "allowed_fonts": SCRIPTS + SANS,
        "default_font": "playfair-display",
        "region": _region(region),
        "production": {"dpi": 300, "mirror": False},
        "views": [
            {
                "name": "wall",
                "photo": "photo.jpg",
                "areas": {"lines": {"mapping": "arc", "corners": corners, "bend_deg": bend}},
            }
        ],
    }
    return _img(rgb), product


def _rect(r):
    x, y, w, h = r
    return [(x, y), (x + w, y), (x + w, y + h), (x, y + h)]


def _region(r) -> dict:
    return {"shape": "rect", "x_mm": r[0], "y_mm": r[1], "w_mm": r[2], "h_mm": r[3]}


def _h(m, x, y) -> tuple[float, float]:
    v = m @ np.array([x, y, 1.0])
    return round(float(v[0] / v[2]), 2), round(float(v[1] / v[2]), 2)


def samples() -> list[tuple[Image.Image, dict]]:
    return [dog_tag(), tumbler(), sign(), plaque()]


def write(folder: str | Path) -> list[Path]:
    """One folder per demo product (product.toml + photo.jpg) under `folder`."""
    from proofmark_renderer.productfiles import dump_toml

    out = []
    for image, product in samples():
        target = Path(folder) / product["id"]
        target.mkdir(parents=True, exist_ok=True)
        image.save(target / "photo.jpg", "JPEG", quality=90)
        if "_light" in product:
            product["_light"].save(target / LIGHT_FILE)
        (target / "product.toml").write_text(dump_toml({"product": product}), encoding="utf-8")
        out.append(target)
    return out

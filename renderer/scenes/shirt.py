"""The flat-lay t-shirt: cloth outline, creases, knit and the print lying on them."""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw

from proofmark_renderer import substrates
from proofmark_renderer.catalog import Product
from proofmark_renderer.scenes.common import (
    LIGHT,
    Scene,
    backdrop,
    edge_distance,
    fit,
    frame,
    over,
    relief_light,
    shadow,
    size_label,
    to_image,
    warp_surface,
)
from proofmark_renderer.substrates import blur

SHIRT_OUTLINE = [  # flat-lay tee, mm; x from the left side of the body, y from the shoulder line
    (185, -10),  # left high point of the shoulder; the back neckline runs to the right one
    (210, -1),
    (235, 5),
    (260, 7),
    (285, 5),
    (310, -1),
    (335, -10),
    (505, 38),  # right shoulder point: the shoulders slope down
    (669, 153),  # the sleeve, angled out and down
    (578, 284),  # its hem
    (522, 236),  # the underarm
    (526, 470),
    (528, 722),  # the bottom hem, a little curved
    (260, 728),
    (-8, 722),
    (-6, 470),
    (-2, 236),
    (-58, 284),
    (-149, 153),
    (15, 38),
]

NECK_CENTRE = (260.0, -10.0)  # the front neckline is half an ellipse hanging from here
NECK_FRONT = (75.0, 70.0)  # its half width and depth, mm
RIB_MM = 17.0  # the collar's ribbed band


# Creases of a tee laid flat: (x, y, angle in degrees, length, width, height), mm.
SHIRT_CREASES = [
    (80, 300, 62, 320, 14, 1.0),
    (440, 300, 118, 320, 14, 0.9),
    (260, 120, 0, 300, 12, 0.5),
    (150, 560, 85, 300, 18, 0.8),
    (370, 540, 95, 340, 16, 0.9),
    (260, 650, 2, 420, 12, -0.6),
    (-70, 200, 35, 140, 10, 0.7),
    (590, 200, 145, 140, 10, 0.7),
    (-40, 150, 120, 90, 8, 0.5),
    (560, 150, 60, 90, 8, 0.5),
    (300, 420, 80, 260, 22, -0.5),
    (60, 690, 60, 70, 8, 0.6),
    (470, 695, 115, 60, 8, 0.6),
]


def _front_neck(n: int = 40, grow: float = 0.0) -> list[tuple[float, float]]:
    (cx, cy), (a, b) = NECK_CENTRE, NECK_FRONT
    return [
        (cx - (a + grow) * math.cos(math.pi * i / n), cy + (b + grow) * math.sin(math.pi * i / n))
        for i in range(n + 1)
    ]


def _dash_line(points, dash: float, gap: float):
    """A polyline (pixels) cut into dashes, for rows of stitches."""
    out, current, on, left = [], [], True, dash
    for (ax, ay), (bx, by) in zip(points, points[1:], strict=False):
        seg = math.hypot(bx - ax, by - ay)
        pos = 0.0
        while seg - pos > 1e-9:
            step = min(left, seg - pos)
            if on:
                if not current:
                    current.append((ax + (bx - ax) * pos / seg, ay + (by - ay) * pos / seg))
                current.append((ax + (bx - ax) * (pos + step) / seg, ay + (by - ay) * (pos + step) / seg))
            pos += step
            left -= step
            if left <= 1e-9:
                if on and len(current) > 1:
                    out.append(current)
                current, on = [], not on
                left = dash if on else gap
    if on and len(current) > 1:
        out.append(current)
    return out


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


def shirt(p: Product, width: int) -> Scene:
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
    shade = np.clip(1.0 - (gx * LIGHT[0] + gy * LIGHT[1]) * 13 * scale + 0.05 * height, 0.66, 1.22)
    # Cloth curls and darkens a little towards its edges.
    shade *= 0.82 + 0.18 * edge_distance(alpha, 10 * scale)
    knit = substrates.jersey(h, w, 55, period=max(2.0, 1.4 * scale))
    # A loop is about 1.4 mm: below about 1.6 px per loop the pixels average many loops, so
    # the knit's contrast fades (drawn at full strength on a 2-px period it reads as a mesh,
    # and a print on it as dotted sequins at phone sizes). Its mean (about 0.64) stays.
    fade = float(np.clip(1.4 * scale / 2.2, 0.35, 1.0))
    knit = (fade * knit + (1 - fade) * 0.64).astype(np.float32)
    heather = substrates.fractal(h, w, 1.5, 57, 2)
    # navy, or the variant's cloth colour (catalog.Variant.colour)
    base = np.array(p.tint or (0.15, 0.20, 0.30), np.float32)
    brightness = float(base @ np.array([0.299, 0.587, 0.114], np.float32))
    if brightness <= 0.25:
        cloth = base * (shade * (0.86 + 0.22 * knit) * (1 + 0.08 * heather))[..., None]
    else:
        # A light cloth shows its knit far less than a dark one (the loops' shadows are filled
        # by light scattered through the pale fibres): the texture's amplitude falls with the
        # colour, and the pixel-fine heather noise gives way to a soft mottle of lighter and
        # darker fibres, a few millimetres across, like a heathered yarn.
        soft = float(np.clip(1 - (brightness - 0.25) * 1.6, 0.25, 1))
        knit_term = 1 - 0.11 * soft * 0.64 + 0.11 * soft * knit
        # A flat-lay's creases are soft swells: on a pale cloth the same slopes show far more
        # than on navy, so they are gentler and rounder here (and the print follows them).
        shade = 1 + (blur(shade, 2.5 * scale) - 1) * 0.55
        if "heather" in p.variant:
            # Heather: light and dark fibres spun together, a fine, even fleck along the knit's
            # wales (a fibre or two across, a millimetre or two long), no blotches. Fibres are
            # far finer than a pixel at small sizes, so the fleck fades as the pixels grow.
            r = substrates.rng(59)
            fleck = r.standard_normal((h + 1, w)).astype(np.float32)
            fleck = (fleck[1:] + fleck[:-1]) * 0.7071  # a little longer than wide
            mix = 1 + float(np.clip(0.10 * scale / 2.0, 0.02, 0.09)) * np.clip(fleck, -2.2, 2.2)
        else:
            mix = 1 + 0.015 * substrates.fractal(h, w, max(5.0, 6 * scale), 59, 2)
        cloth = base * (shade * knit_term * mix)[..., None]

    # Light and cloth thickness: the edges roll over and catch the key light on the upper
    # left, and the whole garment is lit a little more from the upper left.
    roll = relief_light(blur(alpha, 3.5 * scale), 3.0 * scale)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    falloff = 1.04 - 0.08 * ((xx - ox) / (520 * scale) * 0.5 + (yy - oy) / (720 * scale) * 0.5)
    light = np.clip(falloff + roll * 0.6, 0.75, 1.2)
    cloth *= light[..., None]

    # The neck: the inside of the back shows above the front's ribbed collar, with its label.
    inside = Image.new("L", (w * ss, h * ss), 0)
    ImageDraw.Draw(inside).polygon(px(SHIRT_OUTLINE[:7] + _front_neck()[::-1]), fill=255)
    inside_a = np.asarray(inside.resize((w, h), Image.Resampling.BOX), np.float32) / 255
    # Darker inside, darkest just under the front collar, which shades it.
    under = blur(inside_a, 6 * scale)
    cloth *= (1 - inside_a * (0.38 + 0.25 * (1 - under)))[..., None]
    (ncx, ncy), (na, nb) = NECK_CENTRE, NECK_FRONT
    ang = np.arctan2((yy - (oy + ncy * scale)) / nb, (xx - (ox + ncx * scale)) / na)
    ribs = 0.86 + 0.14 * np.cos(ang * (math.pi * (na + nb) / 2 / 2.4))  # a rib every 2.4 mm round
    rib = Image.new("L", (w * ss, h * ss), 0)
    ImageDraw.Draw(rib).line(
        px(_front_neck(60, RIB_MM / 2)), fill=255, width=int(RIB_MM * scale * ss), joint="curve"
    )
    rib_a = np.asarray(rib.resize((w, h), Image.Resampling.BOX), np.float32) / 255 * alpha
    # The band is a folded tube: rounded, lit on its upper-left side.
    rib_round = relief_light(blur(rib_a, 2.0 * scale), 2.5 * scale)
    rib_rgb = base * (1.02 * ribs * np.clip(1 + rib_round, 0.75, 1.25))[..., None]
    cloth = cloth * (1 - rib_a[..., None]) + rib_rgb * rib_a[..., None]
    back_rib = Image.new("L", (w * ss, h * ss), 0)
    ImageDraw.Draw(back_rib).line(
        px(SHIRT_OUTLINE[:7]), fill=255, width=int(RIB_MM * 0.9 * scale * ss), joint="curve"
    )
    back_a = np.asarray(back_rib.resize((w, h), Image.Resampling.BOX), np.float32) / 255 * inside_a
    cloth = cloth * (1 - 0.35 * back_a[..., None]) + base * 0.62 * ribs[..., None] * 0.35 * back_a[..., None]
    label = Image.new("L", (w * ss, h * ss), 0)
    ld = ImageDraw.Draw(label)
    ld.rectangle(px([(246, 11), (274, 28)]), fill=255)
    label_a = np.asarray(label.resize((w, h), Image.Resampling.BOX), np.float32) / 255 * inside_a
    label_ink = Image.new("L", (w * ss, h * ss), 0)
    lid = ImageDraw.Draw(label_ink)
    for y in (16, 20, 24):
        lid.line(px([(250, y), (270 if y != 20 else 264, y)]), fill=255, width=max(1, int(1.4 * scale * ss)))
    label_ink_a = np.asarray(label_ink.resize((w, h), Image.Resampling.BOX), np.float32) / 255 * label_a
    label_rgb = np.array([0.74, 0.73, 0.70], np.float32) * (1 - 0.55 * label_ink_a)[..., None]
    cloth = over(cloth, label_rgb * (0.85 * under + 0.15)[..., None], label_a)

    # Seams and stitching. A seam is a shallow groove (darker) with the cloth puffed beside
    # it; topstitching is a row of short stitches in a thread a little lighter than the cloth.
    groove = Image.new("L", (w * ss, h * ss), 0)
    gd = ImageDraw.Draw(groove)
    stitches = Image.new("L", (w * ss, h * ss), 0)
    td = ImageDraw.Draw(stitches)
    seam_w = max(1, int(1.2 * scale * ss))
    thread_w = max(1, int(0.7 * scale * ss))

    def seam(points):
        gd.line(px(points), fill=255, width=seam_w, joint="curve")

    def stitch(points):
        for piece in _dash_line(px(points), 3.2 * scale * ss, 1.6 * scale * ss):
            td.line(piece, fill=255, width=thread_w)

    for sign in (1, -1):

        def mx(x, sign=sign):
            return x if sign == 1 else 520 - x

        seam([(mx(337), -2), (mx(500), 47)])  # shoulder seam, just in front of the fold
        seam([(mx(505), 38), (mx(496), 90), (mx(494), 150), (mx(505), 205), (mx(522), 236)])  # armhole
        (ax, ay), (bx, by) = (mx(669), 153), (mx(578), 284)
        nx, ny = (by - ay), -(bx - ax)
        n = math.hypot(nx, ny)
        for off in (20, 26):  # the sleeve's twin-needle hem
            k = -off * sign
            stitch([(ax + nx / n * k, ay + ny / n * k), (bx + nx / n * k, by + ny / n * k)])
        seam(
            [
                (ax - nx / n * 20 * sign, ay - ny / n * 20 * sign),
                (bx - nx / n * 20 * sign, by - ny / n * 20 * sign),
            ]
        )
    for off in (18, 24):  # the bottom hem
        stitch([(-6, 722 - off), (260, 728 - off), (526, 722 - off)])
    seam([(-6, 700), (260, 706), (526, 700)])
    stitch(_front_neck(60, RIB_MM + 1.5))  # the collar's cover stitch
    stitch(_front_neck(60, RIB_MM + 5.0))
    seam(_front_neck(60, RIB_MM))
    g = blur(np.asarray(groove.resize((w, h), Image.Resampling.BOX), np.float32) / 255, 0.5)
    puff = relief_light(blur(g, 1.5 * scale), 1.5 * scale)
    t = np.asarray(stitches.resize((w, h), Image.Resampling.BOX), np.float32) / 255
    cloth *= np.clip(1 - 0.42 * g + 1.0 * puff, 0.55, 1.25)[..., None]
    cloth = cloth * (1 + 0.45 * t)[..., None]
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
    surf = warp_surface(region, scale, margin + 4, inverse_mm, box)
    ink = (
        np.array(p.ink_tint or (0.93, 0.90, 0.82), np.float32)
        * (shade * light * (0.80 + 0.26 * knit))[..., None]
    )
    # How much ink each spot of cloth holds: full on the loops' tops, thinner in the valleys
    # and where the yarn is fuzzier; at preview sizes the loops are about a pixel, so the
    # weave shows as an uneven, slightly grainy print, not as a pattern.
    mottle = substrates.fractal(h, w, max(2.0, 3 * scale), 58, 2)
    # Kept as 8 bits (a quarter of float32's memory; the finish multiplies it in C).
    cover = (np.clip(0.72 + 0.2 * knit + 0.1 * mottle, 0, 0.97) * 255 + 0.5).astype(np.uint8)
    return Scene(p, im, scale, (ox, oy), {"lines": surf}, {"cover": cover}, {"ink": to_image(ink)})

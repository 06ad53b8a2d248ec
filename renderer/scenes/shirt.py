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
    shadow,
    size_label,
    to_image,
    warp_surface,
)
from proofmark_renderer.substrates import blur

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
    surf = warp_surface(region, scale, margin + 4, inverse_mm, box)
    ink = np.array([0.93, 0.90, 0.82], np.float32) * (shade * (0.80 + 0.26 * knit))[..., None]
    # How much ink each spot of cloth holds: full on the loops' tops, thinner in the valleys
    # and where the yarn is fuzzier; at preview sizes the loops are about a pixel, so the
    # weave shows as an uneven, slightly grainy print, not as a pattern.
    mottle = substrates.fractal(h, w, max(2.0, 3 * scale), 58, 2)
    cover = np.clip(0.72 + 0.2 * knit + 0.1 * mottle, 0, 0.97).astype(np.float32)
    return Scene(
        p, im, scale, (ox, oy), {"lines": surf}, {"knit": knit, "cover": cover}, {"ink": to_image(ink)}
    )

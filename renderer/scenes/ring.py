"""The polished gold ring band, engraved on the inside and seen from above at an angle."""

from __future__ import annotations

import math

import numpy as np

from proofmark_renderer import substrates
from proofmark_renderer.bandwarp import tabled
from proofmark_renderer.catalog import Product
from proofmark_renderer.scenes.common import (
    Scene,
    Surface,
    backdrop,
    cut_metal_layers,
    fit,
    frame,
    gold,
    gold_floor,
    gold_spark,
    over,
    shadow,
    size_label,
    to_image,
    warp_surface,
)
from proofmark_renderer.substrates import blur


def ring(p: Product, width: int) -> Scene:
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
    surf = warp_surface(region, scale, 0.6, inverse_mm, box, visible=visible, cylinder=True)
    # The band is seen at one tilt: its reads down the columns are the same for every text.
    surf = Surface(surf.cs, surf.fx0, surf.fy0, tabled(surf.warp))
    return Scene(
        p,
        im,
        scale,
        (ox, oy),
        {"lines": surf},
        {},
        # At about 40 px/mm a pixel is 0.025 mm: the diamond's frosting is a faint, fine satin
        # there, not a per-pixel sandpaper grain.
        cut_metal_layers(h, w, gold_floor(substrates.GOLD), 77, 0.5, texture=0.025, grain_px=1.2),
        gold_spark(substrates.GOLD),
    )

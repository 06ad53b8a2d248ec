"""The glazed ceramic mug, printed round its wall, with the handle on the right."""

from __future__ import annotations

import math

import numpy as np

from proofmark_renderer.catalog import Product
from proofmark_renderer.scenes.common import (
    Scene,
    backdrop,
    fit,
    frame,
    over,
    shadow,
    size_label,
    to_image,
    warp_surface,
)


def mug(p: Product, width: int) -> Scene:
    w, h = frame(width)
    R, H = p.width_mm / 2, p.height_mm
    elev = math.radians(14.0)
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
    spec = 0.72 * np.exp(-(((theta + 0.42) / 0.075) ** 2)) + 0.22 * np.exp(-(((theta - 0.95) / 0.05) ** 2))
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
    surf = warp_surface(region, scale, 1.5, inverse_mm, box, visible=body, cylinder=True)
    # Ink under the glaze: lit like the glaze's body, with the glaze's reflections on top.
    # The softbox's reflection is a mirror image on the glaze: over dark ink it shows as a
    # bright streak, but the ink's colour still shows through it (glaze reflects about a
    # third of what white glaze over a white body returns), so letters stay legible.
    ink = (
        np.array([0.09, 0.12, 0.22], np.float32) * (diffuse * (1 - 0.25 * foot))[..., None]
        + spec[..., None] * 0.38
    )
    return Scene(p, im, scale, (cx, oy), {"lines": surf}, {}, {"ink": to_image(ink)})

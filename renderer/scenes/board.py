"""The maple cutting board, laser-engraved: the top face and the front edge below it."""

from __future__ import annotations

import numpy as np

from proofmark_renderer import substrates
from proofmark_renderer.catalog import Product
from proofmark_renderer.scenes.common import (
    Scene,
    Surface,
    backdrop,
    edge_distance,
    fit,
    frame,
    over,
    relief_light,
    rounded_rect_alpha,
    shadow,
    size_label,
    to_image,
)
from proofmark_renderer.substrates import blur


def board(p: Product, width: int) -> Scene:
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
    # Laser char: the wood itself, burnt. Its colour comes from the wood under it (a pale
    # strip burns lighter than a dark one, the grain's figure stays visible through the
    # burn), darker in the dense latewood, which takes more heat, and speckled where the
    # wood flared.
    speck = substrates.rng(45).standard_normal((h, w)).astype(np.float32) * 0.06
    burn = np.array([0.36, 0.23, 0.14], np.float32)
    char = face * burn * (1.08 - 0.42 * latewood + speck)[..., None]
    layers = {"char": to_image(char)}
    return Scene(
        p,
        im,
        scale,
        (ox, oy),
        {"lines": Surface(scale, -ox / scale, -oy / scale)},
        {},
        layers,
        (246, 214, 170),  # the burn's far wall catches the light: pale fresh-cut wood
    )

"""The brushed gold bar necklace, hung between its two chains."""

from __future__ import annotations

import numpy as np

from proofmark_renderer import substrates
from proofmark_renderer.catalog import Product
from proofmark_renderer.scenes.common import (
    Scene,
    Surface,
    backdrop,
    chain,
    cut_metal_layers,
    edge_distance,
    fit,
    frame,
    gold,
    gold_floor,
    gold_spark,
    metal_wire,
    over,
    relief_light,
    rounded_rect_alpha,
    shadow,
    size_label,
    to_image,
)
from proofmark_renderer.substrates import blur


def bar(p: Product, width: int) -> Scene:
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
        cut_metal_layers(h, w, gold_floor(substrates.GOLD), 27, 0.62),
        gold_spark(substrates.GOLD),
    )

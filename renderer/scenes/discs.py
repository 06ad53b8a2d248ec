"""Metal discs: the engraved silver pendant on its chain and the hand-stamped aluminium ornament."""

from __future__ import annotations

import math

import numpy as np

from proofmark_renderer import substrates
from proofmark_renderer.catalog import Product, Region
from proofmark_renderer.scenes.common import (
    LIGHT,
    Scene,
    Surface,
    backdrop,
    chain,
    cut_metal_layers,
    disc_alpha,
    fit,
    frame,
    frosted_floor,
    gold_floor,
    gold_spark,
    metal_wire,
    over,
    relief_light,
    shadow,
    size_label,
    spark_of,
    to_image,
    warm_metal,
    warm_shade,
    warp_surface,
)
from proofmark_renderer.substrates import blur


def pendant(p: Product, width: int) -> Scene:
    w, h = frame(width)
    # The variant's metal (catalog.Variant.colour: yellow or rose gold); sterling silver by default.
    silver = np.array(p.tint, np.float32) if p.tint else substrates.SILVER
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

    wire_rgb, wire_a = metal_wire(w, h, bail, 0.6 * scale, silver)
    rgb = shadow(rgb, np.maximum(alpha, wire_a), 0.5 * scale, 0.8 * scale, 0.9 * scale, 0.42)
    rgb = over(rgb, wire_rgb, wire_a * (1 - alpha))

    refl = _silver_studio(xx, yy, cx, cy, rp)
    fine = substrates.brushed(h, w, 6, streak=12.0) * 0.008  # faint polishing marks
    tone = refl + fine
    # Rounded edge: a bevel that catches the light on the upper left, falls dark lower right.
    d = np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2) + 1e-3
    bev = np.clip((d - (rp - 0.9 * scale)) / (0.9 * scale), 0, 1)
    facing = (xx - cx) / d * LIGHT[0] + (yy - cy) / d * LIGHT[1]
    tone = tone * (1 - bev) + bev * (0.55 + 0.5 * facing) * (1.0 - 0.25 * bev)
    # Gold's shadows go to its own deeper colour (rose gold to a copper-brown), not to the
    # colour times a dark grey, which turns a rose gold mauve.
    metal = warm_shade(silver, tone) if warm_metal(silver) else silver * np.clip(tone, 0, 1.3)[..., None]
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
    # The frosted floor of the cut is a matte mid grey: darker than the mirror face nearly
    # everywhere, so the letters read dark with the lit wall as a bright bevel line.
    if warm_metal(silver):
        # Gold: the frosted floor scatters the metal's own deep colour, so a cut in gold reads
        # as a warm gold-brown (never the grey a dark silver-like floor would give), and its lit
        # wall flashes a saturated bright gold.
        floor = frosted_floor(tone, 0.25 * scale, light=0.62, dark=0.50, lo=0.5, hi=0.95)
        layers, spark = cut_metal_layers(h, w, gold_floor(silver), 7, floor), gold_spark(silver)
    else:
        floor = frosted_floor(tone, 0.25 * scale, light=0.36, dark=0.26, lo=0.5, hi=0.95)
        layers, spark = cut_metal_layers(h, w, silver, 7, floor), spark_of(silver)
    return Scene(p, im, scale, (ox, oy), surfaces, {}, layers, spark)


def _silver_studio(xx: np.ndarray, yy: np.ndarray, cx: float, cy: float, rp: float) -> np.ndarray:
    """What a polished silver disc mirrors in a jewellery studio: mostly the white sweep
    and the softboxes (silver is bright), a crisp softbox streak on the upper left, and a
    dark card at the lower right that gives the face its shape (photographers place one
    so the silver does not vanish into the white)."""
    u = ((xx - cx) * 0.8 + (yy - cy) * 0.6) / rp  # across the disc, upper left to lower right
    v = ((yy - cy) * 0.8 - (xx - cx) * 0.6) / rp
    tone = 0.80 - 0.10 * u
    tone -= 0.40 * np.exp(-(((u - 0.50) / 0.24) ** 2)) * (1 - 0.3 * np.clip(v, -1, 1))  # dark card
    tone += 0.30 * np.clip((0.16 - np.abs(u + 0.42)) / 0.04, 0, 1)  # softbox, crisp-edged
    tone += 0.12 * np.exp(-(((u + 0.42) / 0.35) ** 2))  # its glow
    tone += 0.25 * np.clip((0.05 - np.abs(u - 0.88)) / 0.025, 0, 1)  # a strip light's rim
    return tone.astype(np.float32)


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
    return warp_surface(flat, scale, 0.3, inverse_mm, box)


def ornament(p: Product, width: int) -> Scene:
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

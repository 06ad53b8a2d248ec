""" "Show area": a dashed outline of every personalization area, drawn over a preview.

Each area is outlined in its own millimetres (the product's region, and each named field's
region such as the pendant's rim) and mapped onto the picture the same way its text is:
flat areas straight onto the picture, curved ones (a mug's wrap, a ring's inside, a rim's
arc, a shirt's folds) drawn on the area's flat canvas and bent by the surface's warp, so
the outline follows the cylinder, the arc or the cloth exactly as the letters do, and is
hidden where the letters would be (behind a mug's handle, past a silhouette).
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw

from proofmark_renderer.catalog import Region
from proofmark_renderer.scenes import Scene, Surface

DASH = (24, 86, 214)  # a saturated blue reads on silver, gold, wood, navy cloth and white glaze
HALO = (255, 255, 255)


def _outline_mm(region: Region, letter_mm: float) -> list[list[tuple[float, float]]]:
    """The area's outline as closed polylines in the surface's flat millimetres."""
    if region.shape == "circle":
        n = 180
        return [
            [
                (
                    region.cx_mm + region.r_mm * math.cos(2 * math.pi * i / n),
                    region.cy_mm + region.r_mm * math.sin(2 * math.pi * i / n),
                )
                for i in range(n + 1)
            ]
        ]
    if region.shape == "arc":
        # The arc surface's flat canvas: x is arc length at the baseline from the top, y grows
        # towards the centre with the baseline at y = r (see scenes.discs._arc_surface).
        half = region.r_mm * math.radians(region.span_deg) / 2
        y0, y1 = region.r_mm - letter_mm * 1.15, region.r_mm + letter_mm * 0.3
        return [_rect(-half, y0, 2 * half, y1 - y0)]
    return [_rect(region.x_mm, region.y_mm, region.w_mm, region.h_mm)]


def _rect(x: float, y: float, w: float, h: float) -> list[tuple[float, float]]:
    """A rectangle densely sampled, so that a bend turns its sides into curves."""
    corners = [(x, y), (x + w, y), (x + w, y + h), (x, y + h), (x, y)]
    pts: list[tuple[float, float]] = []
    for (ax, ay), (bx, by) in zip(corners, corners[1:], strict=False):
        k = 48
        pts.extend((ax + (bx - ax) * i / k, ay + (by - ay) * i / k) for i in range(k))
    pts.append(corners[-1])
    return pts


def _dashes(points: list[tuple[float, float]], dash: float, gap: float) -> list[list[tuple[float, float]]]:
    """Cut a polyline (pixels) into dashes of `dash` px separated by `gap` px."""
    out: list[list[tuple[float, float]]] = []
    current: list[tuple[float, float]] = []
    on, left = True, dash
    for (ax, ay), (bx, by) in zip(points, points[1:], strict=False):
        seg = math.hypot(bx - ax, by - ay)
        pos = 0.0
        while seg - pos > 1e-9:
            step = min(left, seg - pos)
            t0, t1 = pos / seg, (pos + step) / seg
            if on:
                if not current:
                    current.append((ax + (bx - ax) * t0, ay + (by - ay) * t0))
                current.append((ax + (bx - ax) * t1, ay + (by - ay) * t1))
            pos += step
            left -= step
            if left <= 1e-9:
                if on and len(current) > 1:
                    out.append(current)
                current = []
                on = not on
                left = dash if on else gap
    if on and len(current) > 1:
        out.append(current)
    return out


def _masks(
    size: tuple[int, int], polylines: list[list[tuple[float, float]]], lw: float, stretch: float = 1.0
) -> tuple[Image.Image, Image.Image]:
    """(halo, dash) coverage masks: each dash in colour over a slightly wider white halo,
    so the outline reads on dark and light material alike."""
    ss = 2
    halo = Image.new("L", (size[0] * ss, size[1] * ss), 0)
    dash = Image.new("L", (size[0] * ss, size[1] * ss), 0)
    hd, dd = ImageDraw.Draw(halo), ImageDraw.Draw(dash)
    d = max(8.0, lw * 4.5) * stretch
    for poly in polylines:
        for piece in _dashes(poly, d, d * 0.7):
            scaled = [(x * ss, y * ss) for x, y in piece]
            hd.line(scaled, fill=200, width=max(1, round((lw + 2) * ss)), joint="curve")
            dd.line(scaled, fill=255, width=max(1, round(lw * ss)), joint="curve")
    return (
        halo.resize(size, Image.Resampling.BOX),
        dash.resize(size, Image.Resampling.BOX),
    )


def _areas(scene: Scene) -> list[tuple[Surface, Region, float]]:
    product = scene.product
    areas = [(scene.surfaces.get("lines") or scene.flat(), product.region, product.max_letter_height_mm)]
    for spec in product.field_specs:
        surf = scene.surfaces.get(spec.id) or scene.flat()
        areas.append((surf, spec.region, spec.max_letter_height_mm))
    return areas


def outline_areas(scene: Scene, image: Image.Image) -> Image.Image:
    """The picture with every personalization area outlined by a clear dashed line."""
    out = image.copy()
    w, h = out.size
    lw = max(2.0, w / 360)
    for surf, region, letter_mm in _areas(scene):
        lines_mm = _outline_mm(region, letter_mm)
        if surf.warp is None:
            lines = [[((x - surf.fx0) * surf.cs, (y - surf.fy0) * surf.cs) for x, y in ln] for ln in lines_mm]
            halo, dash = _masks((w, h), lines, lw)
            out.paste(HALO, (0, 0, w, h), halo)
            out.paste(DASH, (0, 0, w, h), dash)
            continue
        warp = surf.warp
        cw, ch = warp.canvas_size
        lines = [[((x - surf.fx0) * surf.cs, (y - surf.fy0) * surf.cs) for x, y in ln] for ln in lines_mm]
        # Keep the outline inside the canvas, where the warp reads.
        lines = [[(min(max(x, 1.0), cw - 2.0), min(max(y, 1.0), ch - 2.0)) for x, y in ln] for ln in lines]
        halo, dash = _masks((cw, ch), lines, lw)
        # Both kinds of warp bend a whole canvas when given no range.
        halo_b, dash_b = warp.apply(halo), warp.apply(dash)
        x0, y0, x1, y1 = warp.box
        box = (x0, y0, x1, y1)
        if x0 < 0 or y0 < 0 or x1 > w or y1 > h:
            cx0, cy0, cx1, cy1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
            halo_b = halo_b.crop((cx0 - x0, cy0 - y0, cx1 - x0, cy1 - y0))
            dash_b = dash_b.crop((cx0 - x0, cy0 - y0, cx1 - x0, cy1 - y0))
            box = (cx0, cy0, cx1, cy1)
        region_im = out.crop(box)
        region_im.paste(HALO, (0, 0, *region_im.size), halo_b)
        region_im.paste(DASH, (0, 0, *region_im.size), dash_b)
        out.paste(region_im, box[:2])
    return out


def area_mask(scene: Scene) -> np.ndarray:
    """The outline's coverage (0..1, full frame): for tests that check where it lands."""
    black = Image.new("RGB", scene.size, (0, 0, 0))
    drawn = np.asarray(outline_areas(scene, black), np.float32)
    return drawn.max(axis=2) / 255

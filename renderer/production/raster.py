"""The PNG production file: the engrave layer rasterised at the product's production
resolution. Each glyph is filled in its own small box at three times the resolution (contours
combined by the even-odd rule, which for a glyph's non-overlapping contours is the
non-zero rule of the SVG) and averaged down, so the cost follows the ink, not the artboard.
A test compares it with the SVG rasterised by resvg."""

from __future__ import annotations

import io
import json
import math

from PIL import Image, ImageChops, ImageDraw, PngImagePlugin

SUPERSAMPLE = 3


def _flatten(segments, k: float):
    """Glyphs as lists of contours (pixel points), from absolute mm segments."""
    glyphs: list[list[list[tuple[float, float]]]] = []
    contour: list[tuple[float, float]] = []
    current = (0.0, 0.0)
    for seg in segments:
        op = seg[0]
        if op == "G":
            glyphs.append([])
            continue
        if op == "M":
            if len(contour) > 2:
                glyphs[-1].append(contour)
            current = seg[1]
            contour = [(current[0] * k, current[1] * k)]
        elif op == "L":
            current = seg[1]
            contour.append((current[0] * k, current[1] * k))
        elif op == "Q":
            (ax, ay), (bx, by), (cx, cy) = current, seg[1], seg[2]
            n = max(
                1, min(16, math.ceil((abs(bx - ax) + abs(by - ay) + abs(cx - bx) + abs(cy - by)) * k / 4))
            )
            for i in range(1, n + 1):
                t = i / n
                u = 1 - t
                w0, w1, w2 = u * u * k, 2 * u * t * k, t * t * k
                contour.append((w0 * ax + w1 * bx + w2 * cx, w0 * ay + w1 * by + w2 * cy))
            current = seg[2]
        elif op == "C":
            (ax, ay), (bx, by), (cx, cy), (dx, dy) = current, seg[1], seg[2], seg[3]
            n = max(
                1, min(16, math.ceil((abs(bx - ax) + abs(by - ay) + abs(cx - bx) + abs(dy - cy)) * k / 4))
            )
            for i in range(1, n + 1):
                t = i / n
                u = 1 - t
                w0, w1, w2, w3 = u * u * u * k, 3 * u * u * t * k, 3 * u * t * t * k, t * t * t * k
                contour.append((w0 * ax + w1 * bx + w2 * cx + w3 * dx, w0 * ay + w1 * by + w2 * cy + w3 * dy))
            current = seg[3]
        elif op == "Z":
            if len(contour) > 2:
                glyphs[-1].append(contour)
            contour = []
    return glyphs


def mask(segments, box, dpi: int, mirror: bool) -> Image.Image:
    x0, y0, w, h = box
    k = dpi / 25.4
    size = (max(1, round(w * k)), max(1, round(h * k)))
    canvas = Image.new("L", size, 0)
    ss = SUPERSAMPLE
    for contours in _flatten(segments, k):
        if not contours:
            continue
        xs = [p[0] for c in contours for p in c]
        ys = [p[1] for c in contours for p in c]
        gx0, gy0 = math.floor(min(xs) - x0 * k) - 1, math.floor(min(ys) - y0 * k) - 1
        gx1, gy1 = math.ceil(max(xs) - x0 * k) + 1, math.ceil(max(ys) - y0 * k) + 1
        gw, gh = gx1 - gx0, gy1 - gy0
        glyph = Image.new("1", (gw * ss, gh * ss), 0)
        for c in contours:
            layer = Image.new("1", glyph.size, 0)
            pts = [((px - x0 * k - gx0) * ss, (py - y0 * k - gy0) * ss) for px, py in c]
            ImageDraw.Draw(layer).polygon(pts, fill=1)
            glyph = ImageChops.logical_xor(glyph, layer)
        small = glyph.convert("L").resize((gw, gh), Image.Resampling.BOX)
        region = (gx0, gy0, gx1, gy1)
        canvas.paste(ImageChops.lighter(canvas.crop(region), small), region[:2])
    if mirror:
        canvas = canvas.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    return canvas


def png(segments, box, dpi: int, mirror: bool, meta: dict) -> bytes:
    # Black ink on white, in grey levels (one byte a pixel: half the bytes of black on
    # transparent, and what every RIP and laser driver reads).
    image = ImageChops.invert(mask(segments, box, dpi, mirror))
    info = PngImagePlugin.PngInfo()
    info.add_itxt("proofmark", json.dumps(meta, ensure_ascii=False, sort_keys=True))
    buf = io.BytesIO()
    image.save(buf, "PNG", dpi=(dpi, dpi), pnginfo=info, compress_level=1)
    return buf.getvalue()

"""The PNG production file: the engrave layer rasterised at the product's production
resolution. Each glyph is filled in its own small box at three times the resolution (contours
combined by the even-odd rule, which for a glyph's non-overlapping contours is the
non-zero rule of the SVG) and averaged down, so the cost follows the ink, not the artboard.
A test compares it with the SVG rasterised by resvg."""

from __future__ import annotations

import json
import math
import struct
import zlib
from functools import cache

import numpy as np
from PIL import Image, ImageChops, ImageDraw

SUPERSAMPLE = 3


MAX_PIECES = 16


@cache
def _weights(degree: int, n: int) -> tuple[tuple[float, ...], ...]:
    """Bernstein weights of a quadratic (2) or cubic (3) at t = 1/n ... 1."""
    out = []
    for i in range(1, n + 1):
        t = i / n
        u = 1 - t
        out.append((u * u, 2 * u * t, t * t) if degree == 2 else (u**3, 3 * u * u * t, 3 * u * t * t, t**3))
    return tuple(out)


def _flatten(segments, k: float, ox: float, oy: float):
    """Glyphs as lists of contours: polygons in pixels of the supersampled canvas (from mm
    segments: x * k - ox), curves cut into pieces about 4 output pixels long."""
    glyphs: list[list[list[tuple[float, float]]]] = []
    contour: list[tuple[float, float]] = []
    ax = ay = 0.0
    step = 4 * SUPERSAMPLE
    for seg in segments:
        op = seg[0]
        if op == "L":
            ax, ay = seg[1][0] * k - ox, seg[1][1] * k - oy
            contour.append((ax, ay))
        elif op == "Q":
            bx, by = seg[1][0] * k - ox, seg[1][1] * k - oy
            cx, cy = seg[2][0] * k - ox, seg[2][1] * k - oy
            n = max(
                1,
                min(
                    MAX_PIECES, math.ceil((abs(bx - ax) + abs(by - ay) + abs(cx - bx) + abs(cy - by)) / step)
                ),
            )
            contour += [(a * ax + b * bx + c * cx, a * ay + b * by + c * cy) for a, b, c in _weights(2, n)]
            ax, ay = cx, cy
        elif op == "C":
            bx, by = seg[1][0] * k - ox, seg[1][1] * k - oy
            cx, cy = seg[2][0] * k - ox, seg[2][1] * k - oy
            dx, dy = seg[3][0] * k - ox, seg[3][1] * k - oy
            n = max(
                1,
                min(
                    MAX_PIECES, math.ceil((abs(bx - ax) + abs(by - ay) + abs(cx - bx) + abs(dy - cy)) / step)
                ),
            )
            contour += [
                (a * ax + b * bx + c * cx + d * dx, a * ay + b * by + c * cy + d * dy)
                for a, b, c, d in _weights(3, n)
            ]
            ax, ay = dx, dy
        elif op == "M":
            if len(contour) > 2:
                glyphs[-1].append(contour)
            ax, ay = seg[1][0] * k - ox, seg[1][1] * k - oy
            contour = [(ax, ay)]
        elif op == "Z":
            if len(contour) > 2:
                glyphs[-1].append(contour)
            contour = []
        elif op == "G":
            glyphs.append([])
    return glyphs


def _box(points) -> tuple[float, float, float, float]:
    xs, ys = zip(*points, strict=True)
    return min(xs), min(ys), max(xs), max(ys)


def _rows(segments, box, dpi: int, mirror: bool) -> np.ndarray:
    """The PNG's raw scanlines: one filter byte (0, none) then one grey byte a pixel, white
    paper (255) minus ink coverage. Each glyph's averaged box is written straight into them
    (darker wins where boxes overlap), so the page is never copied or inverted as a whole."""
    x0, y0, w, h = box
    k = dpi / 25.4
    width, height = max(1, round(w * k)), max(1, round(h * k))
    rows = np.full((height, width + 1), 255, np.uint8)
    rows[:, 0] = 0
    paper = rows[:, 1:]
    ss = SUPERSAMPLE
    for contours in _flatten(segments, k * ss, x0 * k * ss, y0 * k * ss):
        if not contours:
            continue
        boxes = [_box(c) for c in contours]
        minx = min(b[0] for b in boxes)
        miny = min(b[1] for b in boxes)
        maxx = max(b[2] for b in boxes)
        maxy = max(b[3] for b in boxes)
        # The glyph's box in output pixels with a pixel to spare, and its corner supersampled.
        gx0, gy0 = math.floor(minx / ss) - 1, math.floor(miny / ss) - 1
        gx1, gy1 = math.ceil(maxx / ss) + 1, math.ceil(maxy / ss) + 1
        sx, sy = gx0 * ss, gy0 * ss
        # Drawn at 0/255 in "L" so the 3 x 3 average needs no conversion first.
        glyph = Image.new("L", ((gx1 - gx0) * ss, (gy1 - gy0) * ss), 0)
        if len(contours) == 1:
            ImageDraw.Draw(glyph).polygon([(px - sx, py - sy) for px, py in contours[0]], fill=255)
        else:
            # Even-odd across contours: each one is filled in its own box and XORed in (the
            # difference of two 0/255 images), so a counter (the hole of an O) costs its own
            # area, not the glyph's.
            for pts, (bx0, by0, bx1, by1) in zip(contours, boxes, strict=True):
                cx0 = max(0, math.floor(bx0 - sx) - 1)
                cy0 = max(0, math.floor(by0 - sy) - 1)
                cx1 = min(glyph.width, math.ceil(bx1 - sx) + 2)
                cy1 = min(glyph.height, math.ceil(by1 - sy) + 2)
                layer = Image.new("L", (cx1 - cx0, cy1 - cy0), 0)
                dx, dy = sx + cx0, sy + cy0
                ImageDraw.Draw(layer).polygon([(px - dx, py - dy) for px, py in pts], fill=255)
                region = (cx0, cy0, cx1, cy1)
                glyph.paste(ImageChops.difference(glyph.crop(region), layer), region[:2])
        # Average each 3 x 3 block (reduce is the box filter at an integer factor, and fast),
        # then clip the glyph's box to the page (a pixel to spare may lie outside it).
        small = np.asarray(glyph.reduce(ss))
        px0, py0 = max(gx0, 0), max(gy0, 0)
        px1, py1 = min(gx1, width), min(gy1, height)
        if px0 >= px1 or py0 >= py1:
            continue
        ink = small[py0 - gy0 : py1 - gy0, px0 - gx0 : px1 - gx0]
        if mirror:
            ink = ink[:, ::-1]
            px0, px1 = width - px1, width - px0
        target = paper[py0:py1, px0:px1]
        np.minimum(target, 255 - ink, out=target)
    return rows


def mask(segments, box, dpi: int, mirror: bool) -> Image.Image:
    """Ink coverage (0 none, 255 full) at `dpi`, as an "L" image."""
    return Image.fromarray(255 - _rows(segments, box, dpi, mirror)[:, 1:])


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def encode(coverage: Image.Image, dpi: int, meta: dict) -> bytes:
    """Ink coverage as black on white: an 8-bit greyscale PNG with its resolution (pHYs, pixels per metre) and the metadata
    as UTF-8 text (iTXt "proofmark"). Written here rather than by Pillow's encoder, which
    tries every row filter on every row: a production file is mostly blank paper, where
    filter 0 (none) and zlib level 1 give the same small file several times faster."""
    width, height = coverage.size
    rows = np.empty((height, width + 1), np.uint8)
    rows[:, 0] = 0  # filter type of each row: none
    np.subtract(255, np.asarray(coverage), out=rows[:, 1:])
    return _encode_rows(rows, dpi, meta)


def _encode_rows(rows: np.ndarray, dpi: int, meta: dict) -> bytes:
    height, width = rows.shape[0], rows.shape[1] - 1
    ppm = round(dpi / 0.0254)
    text = json.dumps(meta, ensure_ascii=False, sort_keys=True).encode()
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)),
            _chunk(b"pHYs", struct.pack(">IIB", ppm, ppm, 1)),
            _chunk(b"iTXt", b"proofmark\x00\x00\x00\x00\x00" + text),
            _chunk(b"IDAT", zlib.compress(rows.data, 1)),
            _chunk(b"IEND", b""),
        )
    )


def png(segments, box, dpi: int, mirror: bool, meta: dict) -> bytes:
    # Black ink on white, in grey levels (one byte a pixel: half the bytes of black on
    # transparent, and what every RIP and laser driver reads).
    return _encode_rows(_rows(segments, box, dpi, mirror), dpi, meta)

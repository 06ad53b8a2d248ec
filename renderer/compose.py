"""render(): the checked design, its layout, the product's cached picture and the finish,
put together and encoded. Work per call is limited to the pixels around the text."""

from __future__ import annotations

import hashlib
import io
import math
import re
import struct
import threading
import weakref
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from proofmark_renderer import areas, catalog, finishes, glyphs, scenes
from proofmark_renderer import text as textmod
from proofmark_renderer.layout import PlacedLine, Plan
from proofmark_renderer.model import Design, Issue, RenderResult
from proofmark_renderer.validation import check
from proofmark_renderer.warp import ColumnWarp, MeshWarp

FORMATS = {"jpeg": "JPEG", "jpg": "JPEG", "webp": "WEBP", "png": "PNG"}
CONTENT_TYPES = {"JPEG": "image/jpeg", "WEBP": "image/webp", "PNG": "image/png"}
MIN_WIDTH, MAX_WIDTH = 64, 4096
RASTER_EM_CAP = 100.0  # px


# Full-resolution colour (4:4:4): thin gold, navy or charred strokes would bleed with the
# usual halved chroma, and the letters are what the shopper checks.
JPEG_OPTIONS = {"quality": 86, "subsampling": 0}


def encode(image: Image.Image, fmt: str) -> bytes:
    buf = io.BytesIO()
    if fmt == "JPEG":
        image.save(buf, "JPEG", **JPEG_OPTIONS)
    elif fmt == "WEBP":
        image.save(buf, "WEBP", quality=82, method=0)
    else:
        # Proof and zoom images: lossless.
        return encode_png(image)
    return buf.getvalue()


PNG_COLOUR_TYPES = {"L": 0, "RGB": 2, "RGBA": 6}
# The proof PNG: every row "Sub"-filtered (each byte minus the one a pixel to its left) and
# deflated with run-length matching at level 1. Measured on 2400-px proofs (bench
# proof-encode): about 60% less CPU than Pillow's PNG at compress_level 3 (whose adaptive
# per-row filter choice is most of its cost, even at level 0), and smaller. Lossless WebP at
# its fastest saves far less time, and mail clients and PDF readers cannot all show it.
PROOF_PNG_OPTIONS = {"filter": "sub", "zlib_level": 1, "zlib_strategy": "Z_RLE"}


def encode_png(image: Image.Image) -> bytes:
    """A standard 8-bit PNG (greyscale, RGB or RGBA) of `image`, lossless; other modes are
    converted to RGB(A) first."""
    if image.mode not in PNG_COLOUR_TYPES:
        image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    pixels = np.asarray(image)
    height, width = image.height, image.width
    channels = len(image.getbands())
    rows = pixels.reshape(height, width * channels)
    raw = np.empty((height, width * channels + 1), np.uint8)
    raw[:, 0] = 1  # filter type Sub
    raw[:, 1 : 1 + channels] = rows[:, :channels]
    np.subtract(rows[:, channels:], rows[:, :-channels], out=raw[:, 1 + channels :])
    packer = zlib.compressobj(1, zlib.DEFLATED, 15, 9, zlib.Z_RLE)
    data = packer.compress(raw) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, PNG_COLOUR_TYPES[image.mode], 0, 0, 0)
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            _png_chunk(b"IHDR", header),
            _png_chunk(b"IDAT", data),
            _png_chunk(b"IEND", b""),
        )
    )


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def design_seed(design: Design) -> int:
    """Seeds the hand-made irregularities. Together with each letter and its place (see
    _draw_stamped) this makes the same design strike the same letters every time."""
    return int.from_bytes(hashlib.sha256(f"{design.product}|{design.font}".encode()).digest()[:4], "big")


def _em_px(line: PlacedLine, font: catalog.Font, cs: float) -> float:
    return line.letter_mm * cs / textmod.metrics(font).cap


def _line_box_px(line: PlacedLine, surf: scenes.Surface) -> tuple[float, float, float, float]:
    ext, cap = line.extent, line.letter_mm
    x0 = (line.ink_left_mm - surf.fx0) * surf.cs
    x1 = x0 + line.width_mm * surf.cs
    y0 = (line.baseline_mm - max(ext.top, 1.0) * cap - surf.fy0) * surf.cs
    y1 = (line.baseline_mm + max(ext.bottom, 0.3) * cap - surf.fy0) * surf.cs
    return x0, y0, x1, y1


def _draw_shaped(
    draw: ImageDraw.ImageDraw,
    line: PlacedLine,
    font: catalog.Font,
    surf: scenes.Surface,
    dx: float,
    dy: float,
) -> None:
    em = _em_px(line, font, surf.cs)
    x = (line.origin_x_mm - surf.fx0) * surf.cs - dx
    y = (line.baseline_mm - surf.fy0) * surf.cs - dy
    # From cached glyph bitmaps when the line allows it (the same pixels; see glyphs.py).
    if not glyphs.draw_line(draw, (x, y), line.text, font, em):
        draw.text((x, y), line.text, font=textmod.pil_font(font, em), fill=255, anchor="ls")


@lru_cache(maxsize=2048)
def _punch(
    path: str, em: float, cluster: str, angle: float, depth: float, flip: bool
) -> tuple[Image.Image, int, int]:
    """One struck letter: turned, at its depth, biting deeper on one side (the punch was
    tilted in the hand). Cached: typing re-strikes the same letters at the same spots."""
    font = catalog.Font(id="", name="", group="", path=Path(path), license="")
    face = textmod.pil_font(font, em)
    cap_px = em * textmod.metrics(font).cap
    pad = int(cap_px * 0.3) + 2
    left, top, right, bottom = face.getbbox(cluster, anchor="ls")
    width = int(right - min(left, 0)) + 2 * pad
    height = int(bottom - top) + 2 * pad
    glyph = Image.new("L", (max(width, 1), max(height, 1)), 0)
    ImageDraw.Draw(glyph).text(
        (pad - min(left, 0), pad - top), cluster, font=face, fill=int(255 * depth), anchor="ls"
    )
    ramp = np.linspace(1 - 0.35 * abs(angle) / 3, 1.0, glyph.width, dtype=np.float32)
    if flip:
        ramp = ramp[::-1]
    g = (np.asarray(glyph, np.float32) * ramp[None, :]).astype(np.uint8)
    glyph = Image.fromarray(g).rotate(angle, resample=Image.Resampling.BILINEAR)
    # Where the pen origin (left end, baseline) sits inside the glyph image.
    return glyph, int(pad - min(left, 0)), int(pad - top)


def _draw_stamped(
    canvas: Image.Image,
    line: PlacedLine,
    font: catalog.Font,
    surf: scenes.Surface,
    dx: float,
    dy: float,
    seed: int,
) -> None:
    """Letter by letter, each with its own small turn, drop and depth, as a hand punch lands.
    Each letter's irregularity is seeded by the design's text at that spot, so letters
    already typed keep their place while the shopper types on."""
    em = round(_em_px(line, font, surf.cs) * 4) / 4
    pen = (line.origin_x_mm - surf.fx0) * surf.cs - dx
    base_y = (line.baseline_mm - surf.fy0) * surf.cs - dy
    cap_px = line.letter_mm * surf.cs
    for index, (cluster, advance) in enumerate(textmod.stamp_advances(font, line.text)):
        step = advance * cap_px
        if cluster.strip():
            digest = hashlib.sha256(f"{seed}|{line.line}|{line.field}|{index}|{cluster}".encode()).digest()
            rng = finishes.stamp.letter_rng(int.from_bytes(digest[:8], "big"))  # = default_rng
            # Four normal draws in one call and scalar clamps: the same numbers as drawing
            # them one by one (normal(m, s) is m + s * z), at half the cost.
            z = rng.standard_normal(4).tolist()
            angle = round(min(5.0, max(-5.0, 2.0 * z[0])) * 2) / 2
            drop = 0.045 * z[1] * cap_px
            shift = 0.03 * z[2] * cap_px
            depth = round(min(1.0, max(0.55, 0.85 + 0.1 * z[3])) * 20) / 20
            glyph, ox, oy = _punch(str(font.path), em, cluster, angle, depth, bool(rng.random() < 0.5))
            canvas.paste(glyph, (int(round(pen - ox + shift)), int(round(base_y - oy + drop))), glyph)
        pen += step


def _text_layers(scene: scenes.Scene, plan: Plan, font: catalog.Font, seed: int):
    """Yield (coverage mask, box) in picture pixels, one per surface that has text."""
    groups: dict[str, list[PlacedLine]] = {}
    for line in plan.lines:
        groups.setdefault(line.field or "lines", []).append(line)
    w, h = scene.size
    # The box must hold every effect the finish spreads past the letters (halo, lip).
    reach = finishes.reach(scene.product.finish, scene.scale)
    for key, lines in groups.items():
        surf = scene.surfaces.get(key) or scene.flat()
        boxes = [_line_box_px(ln, surf) for ln in lines]
        pad = max(0.6 * surf.cs + 4, reach + 2)
        x0 = int(math.floor(min(b[0] for b in boxes) - pad))
        y0 = int(math.floor(min(b[1] for b in boxes) - pad))
        x1 = int(math.ceil(max(b[2] for b in boxes) + pad))
        y1 = int(math.ceil(max(b[3] for b in boxes) + pad))
        if surf.warp is None:
            x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
            if x1 <= x0 or y1 <= y0:
                continue
            size, origin = (x1 - x0, y1 - y0), (x0, y0)
        else:
            size, origin = surf.warp.canvas_size, (0, 0)
        # On a flat surface the letters are drawn at their size: from cached glyph bitmaps
        # that costs no more than drawing them small and enlarging the mask (the enlargement
        # alone was 1.2 ms of a cutting board's preview), and the edges are the font's own.
        # A mesh or column warp (ring, mug) samples its whole canvas, at any scale, so there
        # large letters are drawn smaller (RASTER_EM_CAP) and the warp reads them scaled.
        # Stamped letters too: each is a turned bitmap in `_punch`'s cache, which is bounded
        # by count, so their size bounds its memory.
        k = 1.0
        if isinstance(surf.warp, (MeshWarp, ColumnWarp)) or any(ln.stamped for ln in lines):
            k = min(1.0, RASTER_EM_CAP / max(_em_px(ln, font, surf.cs) for ln in lines))
        small = scenes.Surface(surf.cs * k, surf.fx0, surf.fy0)
        canvas = Image.new("L", (max(1, round(size[0] * k)), max(1, round(size[1] * k))), 0)
        draw = ImageDraw.Draw(canvas)
        for ln in lines:
            if ln.stamped:
                _draw_stamped(canvas, ln, font, small, origin[0] * k, origin[1] * k, seed)
            else:
                _draw_shaped(draw, ln, font, small, origin[0] * k, origin[1] * k)
        if surf.warp is None:
            if k < 1.0:
                canvas = canvas.resize(size, Image.Resampling.BILINEAR)
            elif not any(ln.stamped for ln in lines):
                canvas, (x0, y0, x1, y1) = _fit_to_ink(canvas, (x0, y0, x1, y1), reach)
            yield canvas, (x0, y0, x1, y1)
            continue
        if isinstance(surf.warp, (MeshWarp, ColumnWarp)):
            bent = surf.warp.apply(canvas, (x0, x1), k, (y0, y1))
        else:
            if k < 1.0:
                canvas = canvas.resize(size, Image.Resampling.BILINEAR)
            bent = surf.warp.apply(canvas, (x0, x1))
        inner = bent.getbbox()
        if inner is None:
            continue
        bx0, by0 = surf.warp.box[0], surf.warp.box[1]
        p = int(max(0.6 * surf.cs + 4, reach + 2))
        box = (
            max(0, bx0 + inner[0] - p),
            max(0, by0 + inner[1] - p),
            min(w, bx0 + inner[2] + p),
            min(h, by0 + inner[3] + p),
        )
        if box[2] <= box[0] or box[3] <= box[1]:
            continue
        # The bent canvas covers the warp's box; cut out the part around the text.
        yield bent.crop((box[0] - bx0, box[1] - by0, box[2] - bx0, box[3] - by0)), box


# The box is cut down in steps of this many pixels, so that whatever a finish does in
# blocks from the box's corner (the laser's blur works in 2 x 2 or 4 x 4 means) lands on
# the same pixels.
FIT_STEP = 8


def _fit_to_ink(
    canvas: Image.Image, box: tuple[int, int, int, int], reach: float
) -> tuple[Image.Image, tuple[int, int, int, int]]:
    """The mask and its box without the empty margins past what the finish needs: the box
    around the lines is padded for the tallest letters and by 0.6 mm, which only a finish
    that spreads (by `reach`) uses, and the rows and columns it adds would otherwise be
    finished and encoded. The stamped finish's wide blur is enlarged to the box's own size,
    so its box is left as it is (its padding is its reach anyway)."""
    ink = canvas.getbbox()
    w, h = canvas.size
    if ink is None:
        return canvas, box
    margin = int(math.ceil(reach)) + 4  # the laser's heat reaches up to f - 1 < 4 px further
    cut = [max(0, (gap - margin) // FIT_STEP * FIT_STEP) for gap in (ink[0], ink[1], w - ink[2], h - ink[3])]
    if not any(cut):
        return canvas, box
    canvas = canvas.crop((cut[0], cut[1], w - cut[2], h - cut[3]))
    return canvas, (box[0] + cut[0], box[1] + cut[1], box[2] - cut[2], box[3] - cut[3])


def design_patches(
    scene: scenes.Scene, plan: Plan, font: catalog.Font, seed: int
) -> list[tuple[Image.Image, tuple[int, int, int, int]]]:
    """The picture's pixels around the text, finished, each with its box."""
    apply = finishes.parts_for_finish(scene.product.finish)
    patches = []
    for mask, box in _text_layers(scene, plan, font, seed):
        for made, part in apply(scene, box, mask, seed):
            if "light" in scene.layers:  # a photo view's light layer, over the text after the finish
                inner = (part[0] - box[0], part[1] - box[1], part[2] - box[0], part[3] - box[1])
                made = scenes.photo.relight(scene, part, mask if part == box else mask.crop(inner), made)
            patches.append((made, part))
    return patches


def draw_design(scene: scenes.Scene, plan: Plan, font: catalog.Font, seed: int) -> Image.Image:
    out = scene.image.copy()
    for patch, box in design_patches(scene, plan, font, seed):
        out.paste(patch, box[:2])
    return out


# --- JPEG previews: only the blocks around the text are encoded -------------------------
#
# A preview is the scene's picture with text in a part of it. The scene's picture is
# encoded once (per scene) as a baseline JPEG with a restart marker after every few 8 x 8
# blocks (a block row cut into up to JPEG_PARTS equal restart intervals): each interval is
# then coded on its own (the DC prediction starts afresh), so a preview is the scene's
# intervals with those around the text replaced by the text's, encoded now with the same
# tables. The bytes are exactly those of encoding the whole picture with the same settings
# (tests/renderer/test_preview_speed_parts.py), and its pixels those of the plain
# JPEG_OPTIONS encode; the markers add about 2.5 bytes each (about 3% at 1200 px).
JPEG_ROW = 8  # pixel rows (and columns) per block at 4:4:4
JPEG_PARTS = 6  # at most this many restart intervals across a block row
_RST = re.compile(rb"\xff[\xd0-\xd7]")


def jpeg_interval(width: int) -> int:
    """Blocks per restart interval for a picture `width` pixels wide: its block row cut into
    the most equal parts up to JPEG_PARTS, or kept whole when no such cut exists."""
    blocks = -(-width // JPEG_ROW)
    for parts in range(JPEG_PARTS, 1, -1):
        if blocks % parts == 0:
            return blocks // parts
    return blocks


@dataclass(frozen=True)
class JpegRows:
    head: bytes  # SOI .. the scan header
    rows: tuple[bytes, ...]  # entropy-coded data of each restart interval, row by row, without markers
    interval: int = 0  # blocks per restart interval
    per_row: int = 1  # restart intervals per block row
    data: bytes = b""  # the whole file
    starts: tuple[int, ...] = ()  # where each interval's data begins in `data`
    ends: tuple[int, ...] = ()  # and where it ends (its marker or EOI follows)


def _encode_intervals(image: Image.Image, interval: int) -> tuple[bytes, int, int]:
    """The JPEG file and where its entropy-coded data starts and ends."""
    buf = io.BytesIO()
    image.save(buf, "JPEG", restart_marker_blocks=interval, **JPEG_OPTIONS)
    data = buf.getvalue()
    sos = data.index(b"\xff\xda")
    return data, sos + 2 + int.from_bytes(data[sos + 2 : sos + 4], "big"), data.rindex(b"\xff\xd9")


def jpeg_rows(image: Image.Image, interval: int | None = None) -> JpegRows:
    interval = interval or jpeg_interval(image.width)
    data, start, end = _encode_intervals(image, interval)
    # In entropy-coded data a 0xFF byte is always followed by 0x00 (stuffing) or a marker.
    markers = [m.start() for m in _RST.finditer(data, start, end)]
    starts = (start, *(m + 2 for m in markers))
    ends = (*markers, end)
    blocks = -(-image.width // JPEG_ROW)
    rows = tuple(data[a:b] for a, b in zip(starts, ends, strict=True))
    return JpegRows(data[:start], rows, interval, -(-blocks // interval), data, starts, ends)


def join_jpeg(head: bytes, rows: list[bytes] | tuple[bytes, ...]) -> bytes:
    parts = [head]
    for i, row in enumerate(rows):
        if i:
            parts.append(_MARKERS[(i - 1) % 8])
        parts.append(row)
    parts.append(b"\xff\xd9")
    return b"".join(parts)


_MARKERS = tuple(bytes((0xFF, 0xD0 + i)) for i in range(8))  # RST0 .. RST7


_scene_jpegs: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_scene_jpegs_lock = threading.Lock()


def scene_jpeg(scene: scenes.Scene) -> JpegRows:
    """The scene's picture as JPEG intervals, made on first use and kept while the scene is cached."""
    with _scene_jpegs_lock:
        rows = _scene_jpegs.get(scene)
    if rows is None:
        rows = jpeg_rows(scene.image)
        with _scene_jpegs_lock:
            _scene_jpegs[scene] = rows
    return rows


def encode_on_scene(
    scene: scenes.Scene, patches: list[tuple[Image.Image, tuple[int, int, int, int]]]
) -> bytes:
    """The JPEG of the scene's picture with `patches` pasted in, encoding only the restart
    intervals that they touch: one band of intervals around each patch, patches whose
    block rows meet sharing one (so two lines of text far apart are two narrow bands, not
    one band over both and the rows between)."""
    base = scene_jpeg(scene)
    w, h = scene.size
    step = base.interval * JPEG_ROW  # pixels across per interval
    per_row = base.per_row
    block_rows = len(base.rows) // per_row
    spans = []
    for patch, box in patches:
        r0, r1 = max(0, box[1]) // JPEG_ROW, min(block_rows, -(-box[3] // JPEG_ROW))
        c0, c1 = max(0, box[0]) // step, min(per_row, -(-box[2] // step))
        if r1 > r0 and c1 > c0:
            spans.append((r0, r1, c0, c1, (patch, box)))
    bands: list[list] = []
    for r0, r1, c0, c1, patch in sorted(spans, key=lambda s: s[:4]):
        if bands and r0 < bands[-1][1]:
            band = bands[-1]
            band[1], band[2], band[3] = max(band[1], r1), min(band[2], c0), max(band[3], c1)
            band[4].append(patch)
        else:
            bands.append([r0, r1, c0, c1, [patch]])
    if not bands:
        return base.data
    # The new intervals by their number in the file (row by row), spliced between the
    # scene's bytes: its markers and the intervals around them, whose numbers do not change
    # (the count of intervals is the same).
    data, starts, ends = base.data, base.starts, base.ends
    parts = []
    done = 0
    for r0, r1, c0, c1, inside in bands:
        top, left = r0 * JPEG_ROW, c0 * step
        band = scene.image.crop((left, top, min(w, c1 * step), min(h, r1 * JPEG_ROW)))
        for patch, box in inside:
            band.paste(patch, (box[0] - left, box[1] - top))
        encoded, start, end = _encode_intervals(band, base.interval)
        new = iter(_RST.split(encoded[start:end]))
        for row in range(r0, r1):
            for index in range(row * per_row + c0, row * per_row + c1):
                parts.append(data[done : starts[index]])
                parts.append(next(new))
                done = ends[index]
    parts.append(data[done:])
    return b"".join(parts)


def warm(widths: tuple[int, ...] = (1200,)) -> None:
    """Build every product's scene ahead of the first shopper (about half a second each)."""
    for width in widths:
        for product in catalog.products():
            scenes.scene(product.with_variant(product.default_variant), width)


def placeholder(width: int, message: str) -> Image.Image:
    w, h = scenes.frame(width)
    im = Image.new("RGB", (w, h), (236, 234, 231))
    draw = ImageDraw.Draw(im)
    draw.text((w / 2, h / 2), message, fill=(120, 116, 110), font=scenes.ui_font(h * 0.04), anchor="mm")
    return im


def render(
    design: Design,
    width: int = 1200,
    fmt: str = "jpeg",
    area: bool = False,
    *,
    keep_picture: bool = False,
    view: int = 0,
) -> RenderResult:
    """`area` outlines every personalization area over the preview (proofmark_renderer.areas);
    `keep_picture` hands back the image in memory too (the proof's email JPEG is made from it).
    `view` picks one of the product's views (0, the first, is what proofs show); the design's
    variant picks the product's colours, finish and photos."""
    key = design.content_key(width, fmt, area, view)
    issues: list[Issue] = []
    pil_fmt = FORMATS.get(str(fmt).lower())
    if pil_fmt is None:
        issues.append(
            Issue(
                "format-unknown",
                "error",
                f"Unknown image format {fmt!r}; sending JPEG.",
                data={"format": str(fmt), "allowed": sorted(FORMATS)},
            )
        )
        pil_fmt = "JPEG"
    try:
        px = int(width)
    except (TypeError, ValueError):
        px = 1200
    if not MIN_WIDTH <= px <= MAX_WIDTH:
        issues.append(
            Issue(
                "width-out-of-range",
                "warning",
                f"Width must be {MIN_WIDTH} to {MAX_WIDTH} pixels; drawn at the nearest.",
                data={"width": width},
            )
        )
        px = min(max(px, MIN_WIDTH), MAX_WIDTH)

    layout = None
    data = None
    try:
        checked, plan = check(design)
        issues += checked
        product = catalog.product(design.product)
        if product is not None and design.variant and product.variant_spec(design.variant) is None:
            image = placeholder(px, "Unknown variant")
        elif product is not None and not 0 <= int(view) < len(product.view_names):
            issues.append(
                Issue(
                    "view-unknown",
                    "error",
                    f"{product.name} has no view {int(view) + 1} (it has {len(product.view_names)}).",
                    data={"view": int(view), "views": list(product.view_names)},
                )
            )
            image = placeholder(px, "Unknown view")
        elif product is None:
            image = placeholder(px, "Unknown product")
        else:
            product = product.with_variant(design.variant).with_view(int(view))
            scene = scenes.scene(product, px)
            image = scene.image
            font = catalog.font(design.font)
            patches = []
            if plan is not None and font is not None and textmod.raqm_available():
                layout = plan.layout
                if plan.lines:
                    patches = design_patches(scene, plan, font, design_seed(design))
            if pil_fmt == "JPEG" and not area and not keep_picture:
                # The common case, a shopper's preview: encode only the rows with text.
                data = encode_on_scene(scene, patches)
            else:
                if patches:
                    image = image.copy()
                    for patch, box in patches:
                        image.paste(patch, box[:2])
                if area:
                    image = areas.outline_areas(scene, image)
    except Exception as exc:  # noqa: BLE001 - the site shows a picture and a reason, never a traceback
        issues.append(
            Issue(
                "internal-error",
                "error",
                "The preview could not be drawn; please try again.",
                data={"error": f"{type(exc).__name__}: {exc}"},
            )
        )
        image = placeholder(px, "Preview unavailable")
        data = None
    if data is None:
        data = encode(image, pil_fmt)
    return RenderResult(
        image=data,
        content_type=CONTENT_TYPES[pil_fmt],
        content_key=key,
        layout=layout,
        issues=tuple(issues),
        width=image.width,
        height=image.height,
        picture=image if keep_picture else None,
    )

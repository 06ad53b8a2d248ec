"""Proof that the production file is the preview's layout: the SVG, rasterised by a real
SVG renderer (resvg), against the flat text mask the preview is drawn from, at one scale.

The reference mask is drawn by the preview's own code (proofmark_renderer.compose): each
line with Pillow and Raqm at its pen origin, stamped letters punch by punch; text on an arc
is drawn flat and then bent by sampling at the preview warp's inverse map. Intersection
over union of the two masks (threshold 50 %) must be at least 0.98.

Stamped previews turn, drop and deepen each letter a little, as a hand punch lands; the
production file strikes every letter at its nominal place, so the reference for a stamped
product is the same punches without that irregularity (`iou_with_strike_jitter` reports the
jittered preview for comparison).
"""

from __future__ import annotations

import dataclasses
import io
import math

import numpy as np
import resvg_py
from PIL import Image, ImageDraw

from proofmark_renderer import catalog, compose, scenes
from proofmark_renderer import text as textmod
from proofmark_renderer.layout import PlacedLine
from proofmark_renderer.model import Design
from proofmark_renderer.production import build_areas, svg
from proofmark_renderer.production.geometry import Area, AreaLine, _fmt

THRESHOLD = 128
TARGET_IOU = 0.98
# Each line is compared at this many pixels to the em: Pillow grid-fits (hints) each glyph
# and puts it on a whole pixel, which moves an edge by up to half a pixel at any size; at
# 1000 px to the em that is well under the 2 % the target allows, at preview sizes it is not.
EM_PX = 1000.0

# Every catalog product with text that exercises it: diacritics, Hebrew, Arabic, combining
# marks, an arc (the pendant's rim) and bands (the ring's inside, the mug's wrap).
CASES: tuple[tuple[str, Design], ...] = (
    (
        "pendant-round latin diacritics + rim arc",
        Design("pendant-round", "dancing-script", ("Zoë", "Łucja"), {"rim": "Ångström · Ñuñez 1987"}),
    ),
    ("pendant-round hebrew", Design("pendant-round", "noto-sans-hebrew", ("שלום", "אמא 1948"))),
    (
        "pendant-round arabic + rim",
        Design("pendant-round", "noto-sans-arabic", ("سلام",), {"rim": "حب إلى الأبد"}),
    ),
    ("bar-necklace latin", Design("bar-necklace", "playfair-display", ("Amélie & Søren",))),
    (
        "bar-necklace combining marks",
        Design("bar-necklace", "noto-sans", ("Ame\u0301lie Nguye\u0302\u0303n",)),
    ),
    ("ring-band band script", Design("ring-band", "great-vibes", ("Always & Forever",))),
    ("ring-band band arabic", Design("ring-band", "noto-sans-arabic", ("أحبك دائما",))),
    (
        "ornament-stamped stamped",
        Design("ornament-stamped", "courier-prime", ("IN LOVING", "MEMORY", "1O.01.2O24")),
    ),
    ("ornament-stamped stamped hebrew", Design("ornament-stamped", "noto-sans-hebrew", ("זכרון", "אבא"))),
    ("cutting-board laser", Design("cutting-board", "eb-garamond", ("The Kowalski", "Kitchen", "est. 2019"))),
    ("tshirt print", Design("tshirt", "montserrat", ("CREW 2025", "Müller"))),
    ("mug band print", Design("mug", "dancing-script", ("Café für", "Jürgen"))),
)


def _plan(design: Design):
    from proofmark_renderer.validation import check

    _, plan = check(design)
    if plan is None:
        raise ValueError(f"no layout for {design}")
    return plan


def rasterize(svg_text: str, cs: float, hide: str = "#guide, #cut { display: none; }") -> np.ndarray:
    """The engrave layer as coverage 0..255 at cs pixels per millimetre."""
    start = svg_text.index('viewBox="') + 9
    _, _, w, _ = (float(v) for v in svg_text[start : svg_text.index('"', start)].split())
    # The file's own size in millimetres at cs * 25.4 dots per inch (no width given: resvg
    # would round the size at 96 dpi first and then stretch).
    png = resvg_py.svg_to_bytes(
        svg_string=svg_text,
        dpi=cs * 25.4,
        style_sheet=hide,
        skip_system_fonts=True,
    )
    return np.asarray(Image.open(io.BytesIO(bytes(png))).getchannel("A"))


def _draw_flat(
    canvas: Image.Image, line: PlacedLine, font, surf: scenes.Surface, jitter_seed: int | None
) -> None:
    if not line.stamped:
        compose._draw_shaped(ImageDraw.Draw(canvas), line, font, surf, 0.0, 0.0)
        return
    if jitter_seed is not None:
        compose._draw_stamped(canvas, line, font, surf, 0.0, 0.0, jitter_seed)
        return
    em = round(compose._em_px(line, font, surf.cs) * 4) / 4
    pen = (line.origin_x_mm - surf.fx0) * surf.cs
    base_y = (line.baseline_mm - surf.fy0) * surf.cs
    for cluster, advance in textmod.stamp_advances(font, line.text):
        if cluster.strip():
            glyph, ox, oy = compose._punch(str(font.path), em, cluster, 0.0, 1.0, False)
            canvas.paste(glyph, (int(round(pen - ox)), int(round(base_y - oy))), glyph)
        pen += advance * line.letter_mm * surf.cs


def _arc_bend(flat: Image.Image, flat_surf: scenes.Surface, line: PlacedLine, size, x0, y0, cs) -> np.ndarray:
    """Bend the flat canvas onto the arc: each output pixel reads the flat point the
    preview's arc warp reads (proofmark_renderer.scenes.discs._arc_surface), bilinearly."""
    region = line.region
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    px = x0 + (xx + 0.5) / cs
    py = y0 + (yy + 0.5) / cs
    dx, dy = px - region.cx_mm, py - region.cy_mm
    rho = np.sqrt(dx**2 + dy**2)
    ang = np.arctan2(dx, -dy)
    # Pixel centres sit at +0.5 in the flat canvas too.
    u = (ang * region.r_mm - flat_surf.fx0) * flat_surf.cs - 0.5
    v = (2 * region.r_mm - rho - flat_surf.fy0) * flat_surf.cs - 0.5
    src = np.asarray(flat, np.float64)
    fw, fh = flat.size
    ok = (
        (u >= 0)
        & (v >= 0)
        & (u < fw - 1)
        & (v < fh - 1)
        & (np.abs(ang) <= math.radians(region.span_deg) / 2 + 0.05)
    )
    u, v = np.where(ok, u, 0), np.where(ok, v, 0)
    iu, iv = np.floor(u).astype(int), np.floor(v).astype(int)
    fu, fv = u - iu, v - iv
    out = (
        src[iv, iu] * (1 - fu) * (1 - fv)
        + src[iv, iu + 1] * fu * (1 - fv)
        + src[iv + 1, iu] * (1 - fu) * fv
        + src[iv + 1, iu + 1] * fu * fv
    )
    return np.where(ok, out, 0)


def reference_mask(al: AreaLine, font, cs: float, window, jitter_seed: int | None = None) -> np.ndarray:
    """The preview's flat text mask of one line over `window` (x, y, w, h in file mm)."""
    x0, y0, w, h = window
    size = (max(1, round(w * cs)), max(1, round(h * cs)))
    line = al.outline.line
    if line.region.shape != "arc":
        canvas = Image.new("L", size, 0)
        _draw_flat(canvas, line, font, scenes.Surface(cs, x0, y0), jitter_seed)
        return np.asarray(canvas, np.float64)
    length = line.region.r_mm * math.radians(line.region.span_deg)
    fx0, fy0 = (
        _on_grid(-length / 2 - 1, line.origin_x_mm, cs),
        _on_grid(line.region.r_mm - line.letter_mm * 2, line.baseline_mm, cs),
    )
    fsurf = scenes.Surface(cs, fx0, fy0)
    flat = Image.new("L", (math.ceil((length + 2) * cs), math.ceil(line.letter_mm * 3.5 * cs)), 0)
    _draw_flat(flat, line, font, fsurf, jitter_seed)
    return _arc_bend(flat, fsurf, line, size, x0, y0, cs)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    ma, mb = a >= THRESHOLD, b >= THRESHOLD
    union = np.count_nonzero(ma | mb)
    return 1.0 if union == 0 else float(np.count_nonzero(ma & mb) / union)


def _window_svg(svg_text: str, area: Area, keep: str, window) -> str:
    """The file itself, looking only at one line: its viewBox and size cut to `window`."""
    x0, y0, w, h = window
    ax, ay, aw, ah = area.box
    head = f'width="{_fmt(aw)}mm" height="{_fmt(ah)}mm" viewBox="{_fmt(ax)} {_fmt(ay)} {_fmt(aw)} {_fmt(ah)}"'
    if head not in svg_text:
        raise ValueError("unexpected SVG header")
    return svg_text.replace(
        head,
        f'width="{_fmt(w)}mm" height="{_fmt(h)}mm" viewBox="{_fmt(x0)} {_fmt(y0)} {_fmt(w)} {_fmt(h)}"',
        1,
    )


def _on_grid(start: float, origin: float, cs: float) -> float:
    """Move `start` (at most one pixel) so that `origin` falls on a whole pixel: Pillow puts a
    line's pen origin on a whole pixel, the SVG renderer does not round; aligning the grid to
    the layout compares the shapes rather than Pillow's rounding."""
    return origin - math.ceil((origin - start) * cs) / cs


def line_iou(
    area: Area, al: AreaLine, svg_text: str, font, jitter_seed: int | None = None
) -> tuple[float, float]:
    line = al.outline.line
    cs = EM_PX * textmod.metrics(font).cap / line.letter_mm
    bx0, by0, bx1, by1 = al.path.bbox
    pad = 0.3 * line.letter_mm
    x0, y0 = bx0 - pad, by0 - pad
    if line.region.shape != "arc":
        x0, y0 = _on_grid(x0, line.origin_x_mm, cs), _on_grid(y0, line.baseline_mm, cs)
    window = (x0, y0, bx1 - x0 + pad, by1 - y0 + pad)
    others = [x.name for x in area.lines if x.name != al.name]
    hide = "#guide, #cut" + "".join(f", #{n}" for n in others) + " { display: none; }"
    drawn = rasterize(_window_svg(svg_text, area, al.name, window), cs, hide)
    ref = reference_mask(al, font, cs, window, jitter_seed)
    h = min(drawn.shape[0], ref.shape[0])
    w = min(drawn.shape[1], ref.shape[1])
    return iou(drawn[:h, :w], ref[:h, :w]), cs


def check(design: Design) -> list[dict]:
    """IoU per line of one design (plus the jittered preview's for stamped products)."""
    plan = _plan(design)
    product = catalog.product(design.product)
    font = catalog.font(design.font)
    results = []
    for area in build_areas(plan, product, font):
        # Mirroring is a transform of the whole file, tested on its own.
        area = dataclasses.replace(area, mirror=False)
        text = svg.write(area, {})
        for al in area.lines:
            value, cs = line_iou(area, al, text, font)
            result = {
                "product": design.product,
                "finish": product.finish,
                "font": design.font,
                "area": area.id,
                "line": al.name,
                "region": al.outline.line.region.shape,
                "text": al.text,
                "px_per_mm": round(cs, 1),
                "iou": round(value, 4),
            }
            if al.outline.line.stamped:
                jittered, _ = line_iou(area, al, text, font, compose.design_seed(design))
                result["iou_with_strike_jitter"] = round(jittered, 4)
            results.append(result)
    return results


def run() -> list[dict]:
    out = []
    for name, design in CASES:
        for r in check(design):
            out.append({"case": name, **r, "pass": bool(r["iou"] >= TARGET_IOU)})
    return out

"""The production geometry of a design: every glyph as closed outlines in millimetres,
placed exactly where the preview's layout put it.

The layout (proofmark_renderer.layout.plan) gives each line its letter height and pen
origin in flat millimetres; shaping gives each glyph's position; fontTools gives each
glyph's outline. Lines on an arc are bent around the arc's centre by the same mapping the
preview's warp inverts, so the file and the preview agree point for point.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, lru_cache

from fontTools.pens.basePen import BasePen
from fontTools.ttLib import TTFont

from proofmark_renderer import text as textmod
from proofmark_renderer.catalog import Font, Product, Region
from proofmark_renderer.layout import PlacedLine, Plan
from proofmark_renderer.production.shaping import shape

Point = tuple[float, float]
# ("M", p) ("L", p) ("Q", c, p) ("C", c1, c2, p) ("Z",)
Segment = tuple


class _Recorder(BasePen):
    """Records a glyph as moves, lines, quadratic and cubic segments (components decomposed)."""

    def __init__(self, glyph_set):
        super().__init__(glyph_set)
        self.ops: list[Segment] = []

    def _moveTo(self, p):
        self.ops.append(("M", p))

    def _lineTo(self, p):
        self.ops.append(("L", p))

    def _qCurveToOne(self, c, p):
        self.ops.append(("Q", c, p))

    def _curveToOne(self, c1, c2, p):
        self.ops.append(("C", c1, c2, p))

    def _closePath(self):
        self.ops.append(("Z",))

    def _endPath(self):
        # An open contour cannot be engraved as an area; close it (fonts have none in practice).
        self.ops.append(("Z",))


_font_lock = threading.Lock()


@lru_cache(maxsize=64)
def _glyph_set(path: str):
    ttf = TTFont(path, lazy=True)
    return ttf, ttf.getGlyphSet(), ttf.getGlyphOrder()


@lru_cache(maxsize=16384)
def glyph_outline(path: str, gid: int) -> tuple[Segment, ...]:
    """A glyph's outline in font units (y up)."""
    with _font_lock:
        _, glyph_set, order = _glyph_set(path)
        pen = _Recorder(glyph_set)
        glyph_set[order[gid]].draw(pen)
    return tuple(pen.ops)


@lru_cache(maxsize=64)
def font_info(path: str) -> dict:
    """Family name and version of a font file, for the files' metadata."""
    with _font_lock:
        ttf, _, _ = _glyph_set(path)
        name = ttf["name"]
        return {
            "family": str(name.getDebugName(1) or ""),
            "full_name": str(name.getDebugName(4) or ""),
            "version": str(name.getDebugName(5) or ""),
            "revision": round(float(ttf["head"].fontRevision), 3),
        }


@dataclass(frozen=True)
class PlacedGlyph:
    """One glyph: its outline's font units map to flat millimetres by
    (x, y) -> (ox + x * scale, oy - y * scale)."""

    font_path: str
    gid: int
    ox: float
    oy: float
    scale: float  # mm per font unit


@dataclass(frozen=True)
class LineOutline:
    line: PlacedLine
    glyphs: tuple[PlacedGlyph, ...]
    advance_mm: float


def _em_mm(line: PlacedLine, font: Font) -> float:
    return line.letter_mm / textmod.metrics(font).cap


def line_glyphs(line: PlacedLine, font: Font) -> LineOutline:
    path = str(font.path)
    em_mm = _em_mm(line, font)
    if line.stamped:
        # Letter by letter at the punches' fixed pitch, each one shaped on its own (as struck).
        glyphs: list[PlacedGlyph] = []
        pen = line.origin_x_mm
        for cluster, advance in textmod.stamp_advances(font, line.text):
            if cluster.strip():
                shaped = shape(path, cluster)
                s = em_mm / shaped.upem
                glyphs += [
                    PlacedGlyph(path, g.gid, pen + g.x * s, line.baseline_mm - g.y * s, s)
                    for g in shaped.glyphs
                ]
            pen += advance * line.letter_mm
        return LineOutline(line, tuple(glyphs), pen - line.origin_x_mm)
    shaped = shape(path, line.text)
    s = em_mm / shaped.upem
    placed = tuple(
        PlacedGlyph(path, g.gid, line.origin_x_mm + g.x * s, line.baseline_mm - g.y * s, s)
        for g in shaped.glyphs
    )
    return LineOutline(line, placed, shaped.advance * s)


# --- from flat millimetres to the file's millimetres ---------------------------------------


def arc_mapping(region: Region) -> Callable[[float, float], Point]:
    """Flat x is arc length along the baseline circle from the top (clockwise), flat y grows
    towards the centre with the baseline at y = r: the inverse of the preview's arc warp."""
    r, cx, cy = region.r_mm, region.cx_mm, region.cy_mm

    def forward(u: float, v: float) -> Point:
        angle = u / r
        rho = 2 * r - v
        return cx + rho * math.sin(angle), cy - rho * math.cos(angle)

    return forward


def bent_mapping(region: Region, bend_deg: float) -> Callable[[float, float], Point]:
    """A rectangular area bent along a circular arc in millimetres, as a photo view's `arc`
    mapping shows it: x in mm runs uniformly along the arc through the area's middle (its
    length stays `w_mm`, turning through `bend_deg`), y runs radially with the same millimetres.
    The middle of the area stays where the rectangle puts it; positive bends arch upwards (the
    centre below), negative ones sag (the centre above)."""
    theta = math.radians(bend_deg)
    radius = region.w_mm / abs(theta)
    xm, ym = region.x_mm + region.w_mm / 2, region.y_mm + region.h_mm / 2
    if theta > 0:
        cy = ym + radius

        def forward(u: float, v: float) -> Point:
            a = (u - xm) / radius
            rho = radius - (v - ym)
            return xm + rho * math.sin(a), cy - rho * math.cos(a)

    else:
        cy = ym - radius

        def forward(u: float, v: float) -> Point:
            a = (u - xm) / radius
            rho = radius + (v - ym)
            return xm + rho * math.sin(a), cy + rho * math.cos(a)

    return forward


def area_bend(product: Product, area_id: str) -> float:
    """The bend (degrees) of an area whose proof view (the first) maps it with `arc`; 0 if
    the area is straight. The proof is what the customer approves, so its arc is the one made."""
    views = getattr(product, "views", ()) or ()
    amap = views[0].area(area_id) if views else None
    if amap is None or amap.kind != "arc" or not amap.bend_deg:
        return 0.0
    return float(amap.bend_deg)


def _bent_guide(region: Region, bend_deg: float) -> str:
    """The outline of a bent area: its two arcs and the radial ends."""
    forward = bent_mapping(region, bend_deg)
    x0, y0, x1, y1 = region.x_mm, region.y_mm, region.x_mm + region.w_mm, region.y_mm + region.h_mm
    radius = region.w_mm / abs(math.radians(bend_deg))
    r_top = radius + (region.h_mm / 2 if bend_deg > 0 else -region.h_mm / 2)
    r_bottom = radius - (region.h_mm / 2 if bend_deg > 0 else -region.h_mm / 2)
    large = 1 if abs(bend_deg) > 180 else 0
    sweep_top = 1 if bend_deg > 0 else 0
    pts = [forward(x0, y0), forward(x1, y0), forward(x1, y1), forward(x0, y1)]
    (ax, ay), (bx, by), (cx, cy), (dx, dy) = pts
    return (
        f"M{_fmt(ax)} {_fmt(ay)}A{_fmt(r_top)} {_fmt(r_top)} 0 {large} {sweep_top} {_fmt(bx)} {_fmt(by)}"
        f"L{_fmt(cx)} {_fmt(cy)}A{_fmt(r_bottom)} {_fmt(r_bottom)} 0 {large} {1 - sweep_top} {_fmt(dx)} {_fmt(dy)}Z"
    )


def _bezier(points: list[Point], t: float) -> Point:
    while len(points) > 1:
        points = [
            (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t)
            for a, b in zip(points, points[1:], strict=False)
        ]
    return points[0]


def _extend_bounds(xs: list[float], ys: list[float], pts: list[Point]) -> None:
    """Add a segment's exact extent: its end point, and a quadratic's or cubic's extremes."""
    xs.append(pts[-1][0])
    ys.append(pts[-1][1])
    if len(pts) == 3:
        for axis, out in ((0, xs), (1, ys)):
            a, b, c = pts[0][axis], pts[1][axis], pts[2][axis]
            den = a - 2 * b + c
            if den:
                t = (a - b) / den
                if 0 < t < 1:
                    out.append((1 - t) ** 2 * a + 2 * (1 - t) * t * b + t * t * c)
    elif len(pts) == 4:
        for i in range(1, 8):
            x, y = _bezier(pts, i / 8)
            xs.append(x)
            ys.append(y)


def _split(ctrl: list[Point], n: int) -> list[list[Point]]:
    """A Bezier segment (2, 3 or 4 control points) cut into n pieces of equal parameter."""
    pieces = []
    rest = ctrl
    for i in range(n, 0, -1):
        if i == 1:
            pieces.append(rest)
            break
        t = 1.0 / i
        # de Casteljau at t: the left part is one piece, the right part is split further.
        left, right, pts = [rest[0]], [rest[-1]], rest
        while len(pts) > 1:
            pts = [
                (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t)
                for a, b in zip(pts, pts[1:], strict=False)
            ]
            left.append(pts[0])
            right.append(pts[-1])
        pieces.append(left)
        rest = right[::-1]
    return pieces


def _fmt(v: float) -> str:
    # A tenth of a micrometre: far below any machine, and below a pixel of the fidelity check.
    r = round(v, 4)
    return repr(r).removesuffix(".0") if r else "0"


_SVG_COMMANDS = {
    "M": "M%.4f %.4f",
    "L": "L%.4f %.4f",
    "Q": "Q%.4f %.4f %.4f %.4f",
    "C": "C%.4f %.4f %.4f %.4f %.4f %.4f",
    "Z": "Z",
    "G": "",
}
# "12.5000" -> "12.5", "3.0000" -> "3", "-0.0000" -> "-0" (then "0", as _fmt writes it).
_TRAILING_ZEROS = re.compile(r"\.?0+(?=[ MLQCZ]|$)")
_NEGATIVE_ZERO = re.compile(r"(?<![0-9.])-0(?=[ MLQCZ]|$)")


@dataclass
class PathData:
    bbox: tuple[float, float, float, float] | None  # x0, y0, x1, y1 in file millimetres
    segments: list[Segment]  # absolute, in file millimetres; ("G",) marks each glyph's start

    @cached_property
    def d(self) -> str:
        """The SVG path data (absolute commands), numbers as `_fmt` writes them: formatted
        in one pass to four decimals, then trailing zeros dropped (a tenth of the time of
        formatting number by number, for the thousands of points of a large product)."""
        template = "".join([_SVG_COMMANDS[seg[0]] for seg in self.segments])
        numbers = tuple([v for seg in self.segments for point in seg[1:] for v in point])
        return _NEGATIVE_ZERO.sub("0", _TRAILING_ZEROS.sub("", template % numbers))


def glyphs_path(
    glyphs: tuple[PlacedGlyph, ...], mapping: Callable[[float, float], Point] | None, step_mm: float = 0.25
) -> PathData:
    """The outlines as one SVG path (absolute commands). With a non-linear `mapping` every
    segment is cut into pieces no longer than `step_mm` and mapped point by point."""
    segs: list[Segment] = []
    xs: list[float] = []
    ys: list[float] = []
    for g in glyphs:
        ox, oy, s = g.ox, g.oy, g.scale
        segs.append(("G",))  # a glyph starts (the PNG rasteriser fills glyph by glyph)
        current: Point = (0.0, 0.0)
        for op in glyph_outline(g.font_path, g.gid):
            kind = op[0]
            if kind == "Z":
                segs.append(("Z",))
                continue
            pts = [(ox + x * s, oy - y * s) for x, y in op[1:]]
            if mapping is None:
                segs.append((kind, *pts))
                if kind == "M" or kind == "L":
                    xs.append(pts[0][0])
                    ys.append(pts[0][1])
                else:
                    _extend_bounds(xs, ys, [current, *pts])
            elif kind == "M":
                q = mapping(*pts[0])
                segs.append(("M", q))
                xs.append(q[0])
                ys.append(q[1])
            else:
                # Cut the segment into short pieces (de Casteljau) and map each piece's
                # control points: over a piece a fraction of a millimetre long the bend is
                # all but straight, so the curve stays a curve and the error stays tiny.
                ctrl = [current, *pts]
                length = sum(math.dist(a, b) for a, b in zip(ctrl, ctrl[1:], strict=False))
                n = max(1, math.ceil(length / step_mm))
                start = mapping(*ctrl[0])
                for piece in _split(ctrl, n) if n > 1 else (ctrl,):
                    mapped = [mapping(x, y) for x, y in piece[1:]]
                    segs.append((kind, *mapped))
                    _extend_bounds(xs, ys, [start, *mapped])
                    start = mapped[-1]
            current = pts[-1]
    bbox = (min(xs), min(ys), max(xs), max(ys)) if xs else None
    return PathData(bbox, segs)


# --- areas -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AreaLine:
    """One line or field of an area, ready to write."""

    name: str  # "line-1", "field-rim"
    outline: LineOutline
    path: PathData
    text: str


@dataclass(frozen=True)
class Area:
    """One production file's worth: a surface of the product with its text.

    `face`: the flat face (lines in the product's region, arc fields around it);
    `band`: a cylinder's surface unrolled (a ring's inside, a mug's wrap)."""

    id: str
    box: tuple[float, float, float, float]  # artboard x, y, w, h in mm
    lines: tuple[AreaLine, ...]
    guides: tuple[tuple[str, str], ...]  # (id, SVG path data) of region outlines
    mirror: bool


def _region_guide(region: Region, letter_mm: float = 0.0) -> str:
    if region.shape == "circle":
        r, cx, cy = region.r_mm, region.cx_mm, region.cy_mm
        return f"M{_fmt(cx - r)} {_fmt(cy)}A{_fmt(r)} {_fmt(r)} 0 1 0 {_fmt(cx + r)} {_fmt(cy)}A{_fmt(r)} {_fmt(r)} 0 1 0 {_fmt(cx - r)} {_fmt(cy)}Z"
    if region.shape == "arc":
        # The baseline of the arc, over its span.
        half = math.radians(region.span_deg) / 2
        r, cx, cy = region.r_mm, region.cx_mm, region.cy_mm
        x0, y0 = cx - r * math.sin(half), cy - r * math.cos(half)
        x1, y1 = cx + r * math.sin(half), cy - r * math.cos(half)
        large = 1 if region.span_deg > 180 else 0
        return f"M{_fmt(x0)} {_fmt(y0)}A{_fmt(r)} {_fmt(r)} 0 {large} 1 {_fmt(x1)} {_fmt(y1)}"
    x, y, w, h = region.x_mm, region.y_mm, region.w_mm, region.h_mm
    return f"M{_fmt(x)} {_fmt(y)}H{_fmt(x + w)}V{_fmt(y + h)}H{_fmt(x)}Z"


def artboard(product: Product) -> tuple[str, tuple[float, float, float, float]]:
    region = product.region
    if region.shape == "band":
        return "band", (region.x_mm, 0.0, region.w_mm, product.height_mm)
    if product.production_artboard == "region":
        return "face", (region.x_mm, region.y_mm, region.w_mm, region.h_mm)
    return "face", (0.0, 0.0, product.width_mm, product.height_mm)


def areas(plan: Plan, product: Product, font: Font) -> list[Area]:
    """The product's one area today (every catalog product has one surface); a list so a
    product with a back or a lid can add its own."""
    area_id, box = artboard(product)
    lines: list[AreaLine] = []

    def guide(region: Region, area: str) -> str:
        bend = area_bend(product, area) if region.shape == "rect" else 0.0
        return _bent_guide(region, bend) if bend else _region_guide(region)

    guides = [("guide-region", guide(product.region, "lines"))]
    for spec in product.field_specs:
        guides.append((f"guide-{spec.id}", guide(spec.region, spec.id)))
    for placed in plan.lines:
        outline = line_glyphs(placed, font)
        mapping = None
        if placed.region.shape == "arc":
            mapping = arc_mapping(placed.region)
        elif placed.region.shape == "rect" and (bend := area_bend(product, placed.field or "lines")):
            # What the proof showed along an arc is made along the same arc (in mm).
            mapping = bent_mapping(placed.region, bend)
        name = f"field-{placed.field}" if placed.field else f"line-{placed.line}"
        lines.append(AreaLine(name, outline, glyphs_path(outline.glyphs, mapping), placed.text))
    return [Area(area_id, box, tuple(lines), tuple(guides), product.production_mirror)]

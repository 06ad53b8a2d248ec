"""Auto-fit: the letter height and the position of every line, in millimetres on the product.

The layout is computed once in millimetres and only then scaled to pixels, so a
preview at any width and the production file share one layout.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from proofmark_renderer import text as textmod
from proofmark_renderer.catalog import Font, Product, Region
from proofmark_renderer.model import Issue, Layout, LineBox

# Room below the last baseline for descenders, as a share of the letter height.
DESCENDER = 0.3


@dataclass(frozen=True)
class PlacedLine:
    """One line ready to draw. For arcs, x runs along the arc from its centre (the top)
    and baseline_mm is the arc's radius; for bands, x runs along the circumference."""

    line: int  # 1-based design line, 0 for a named field
    field: str | None
    text: str
    letter_mm: float
    origin_x_mm: float  # pen origin: left end of the advance, on the baseline
    baseline_mm: float
    extent: textmod.Extent  # per mm of letter height
    region: Region
    stamped: bool = False

    @property
    def ink_left_mm(self) -> float:
        return self.origin_x_mm + self.extent.left * self.letter_mm

    @property
    def width_mm(self) -> float:
        return self.extent.width * self.letter_mm


@dataclass(frozen=True)
class Plan:
    layout: Layout
    lines: tuple[PlacedLine, ...]
    issues: tuple[Issue, ...]


def measure(font: Font, text: str, stamped: bool) -> textmod.Extent:
    return textmod.stamped_extent(font, text) if stamped else textmod.shaped_extent(font, text)


def is_stamped(product: Product) -> bool:
    return product.finish.startswith("stamped")


def _percent_over(need: float, have: float) -> int:
    if have <= 0:
        return 100
    return max(1, math.ceil((need / have - 1.0) * 100 - 1e-9))


@dataclass(frozen=True)
class _Stack:
    """Lines stacked in a rect, circle or band at one letter height."""

    region: Region
    widths: tuple[float, ...]  # ink width per mm of letter height
    spacing: float
    align: str

    def block(self, cap: float) -> tuple[float, float]:
        """(top of the first line's capitals, total height including descenders)."""
        n = len(self.widths)
        total = cap + (n - 1) * cap * self.spacing + DESCENDER * cap
        r = self.region
        centre = r.cy_mm if r.shape == "circle" else r.y_mm + r.h_mm / 2
        return centre - total / 2, total

    def baselines(self, cap: float) -> list[float]:
        top, _ = self.block(cap)
        return [top + cap + i * cap * self.spacing for i in range(len(self.widths))]

    def available(self, cap: float) -> list[float]:
        r = self.region
        if r.shape != "circle":
            return [r.w_mm] * len(self.widths)
        chords = []
        for base in self.baselines(cap):
            d = max(abs(base - cap - r.cy_mm), abs(base + DESCENDER * cap - r.cy_mm))
            chords.append(2 * math.sqrt(max(r.r_mm**2 - d**2, 0.0)))
        if self.align != "center":
            # A shared left or right edge needs every line within the narrowest chord.
            narrowest = min(chords)
            chords = [narrowest] * len(chords)
        return chords

    def height_available(self) -> float:
        return 2 * self.region.r_mm if self.region.shape == "circle" else self.region.h_mm

    def fits(self, cap: float) -> bool:
        _, total = self.block(cap)
        if total > self.height_available() + 1e-9:
            return False
        return all(w * cap <= a + 1e-9 for w, a in zip(self.widths, self.available(cap), strict=True))

    def largest(self, lo: float, hi: float) -> float | None:
        """The largest letter height in [lo, hi] that fits (None if even lo does not)."""
        if self.region.shape == "circle":
            return _largest(self.fits, lo, hi)
        # A rectangle's test is two comparisons: the stack's height and its widest line (a
        # product w * cap rounds monotonically in w) against the region's sides. Written out
        # with the same arithmetic as `fits`, the search below gives its sizes bit for bit at
        # a fraction of the cost.
        n1, spacing = len(self.widths) - 1, self.spacing
        height = self.height_available() + 1e-9
        widest = max(self.widths)
        width = self.region.w_mm + 1e-9

        def fits(cap: float) -> bool:
            return cap + n1 * cap * spacing + DESCENDER * cap <= height and widest * cap <= width

        return _largest(fits, lo, hi)


def _largest(fits, lo: float, hi: float) -> float | None:
    if hi < lo:
        hi = lo
    if fits(hi):
        return hi
    if not fits(lo):
        return None
    for _ in range(28):
        mid = (lo + hi) / 2
        if fits(mid):
            lo = mid
        else:
            hi = mid
    return lo


def _line_issues(stack: _Stack, cap: float, numbers: list[int], product: Product) -> list[Issue]:
    issues: list[Issue] = []
    _, total = stack.block(cap)
    height = stack.height_available()
    if total > height + 1e-9:
        pct = _percent_over(total, height)
        issues.append(
            Issue(
                code="too-tall",
                severity="error",
                message=(
                    f"The text is {pct}% too tall for the {product.name.lower()} even at the smallest "
                    f"legible size ({product.min_letter_height_mm:g} mm letters). Use fewer lines."
                ),
                data={"percent": pct, "height_mm": round(total, 2), "available_mm": round(height, 2)},
            )
        )
        return issues
    for number, w, avail in zip(numbers, stack.widths, stack.available(cap), strict=True):
        need = w * cap
        if need > avail + 1e-9:
            pct = _percent_over(need, avail)
            issues.append(
                Issue(
                    code="too-wide",
                    severity="error",
                    line=number,
                    message=(
                        f"Line {number} is {pct}% too wide for the {product.name.lower()} at the smallest "
                        f"legible size ({product.min_letter_height_mm:g} mm letters). Shorten it or choose "
                        "a narrower font."
                    ),
                    data={"percent": pct, "width_mm": round(need, 2), "available_mm": round(avail, 2)},
                )
            )
    return issues


def _align_x(region: Region, avail: float, ext: textmod.Extent, cap: float, align: str) -> float:
    """Pen origin x so that the ink box sits left, centred or right in the available width."""
    if region.shape == "circle":
        left_edge, right_edge = region.cx_mm - avail / 2, region.cx_mm + avail / 2
    else:
        left_edge, right_edge = region.x_mm, region.x_mm + region.w_mm
    if align == "left":
        return left_edge - ext.left * cap
    if align == "right":
        return right_edge - ext.right * cap
    return (left_edge + right_edge) / 2 - (ext.left + ext.right) / 2 * cap


def _arc_box(region: Region, start: float, end: float, inner: float, outer: float) -> tuple[float, ...]:
    """Bounding box of text laid along the arc between arc lengths start..end (0 = top)."""
    xs, ys = [], []
    for i in range(33):
        s = start + (end - start) * i / 32
        angle = s / region.r_mm  # clockwise from the top
        for rad in (inner, outer):
            xs.append(region.cx_mm + rad * math.sin(angle))
            ys.append(region.cy_mm - rad * math.cos(angle))
    return min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)


def plan(
    design_lines: tuple[str, ...],
    fields: dict[str, str],
    align: str,
    size_mode: str,
    product: Product,
    font: Font,
) -> Plan:
    stamped = is_stamped(product)
    issues: list[Issue] = []
    placed: list[PlacedLine] = []
    boxes: list[LineBox] = []

    # Blank lines carry no engraving; they are left out of the layout but keep their numbers.
    numbered = [(i + 1, t) for i, t in enumerate(design_lines) if t.strip()]
    main_cap = 0.0
    if numbered:
        extents = [measure(font, t, stamped) for _, t in numbered]
        stack = _Stack(product.region, tuple(e.width for e in extents), product.line_spacing, align)
        lo, hi = product.min_letter_height_mm, product.max_letter_height_mm
        cap = lo if size_mode == "min" else stack.largest(lo, hi)
        if cap is None or not stack.fits(cap):
            cap = lo
            issues += _line_issues(stack, cap, [n for n, _ in numbered], product)
        main_cap = cap
        avails = stack.available(cap)
        for (number, line_text), ext, base, avail in zip(
            numbered, extents, stack.baselines(cap), avails, strict=True
        ):
            x = _align_x(product.region, avail, ext, cap, align)
            pl = PlacedLine(number, None, line_text, cap, x, base, ext, product.region, stamped)
            placed.append(pl)
            boxes.append(
                LineBox(
                    line=number,
                    text=line_text,
                    x_mm=round(pl.ink_left_mm, 3),
                    y_mm=round(base - ext.top * cap, 3),
                    width_mm=round(pl.width_mm, 3),
                    height_mm=round((ext.top + ext.bottom) * cap, 3),
                    letter_height_mm=round(cap, 3),
                )
            )

    for spec in product.field_specs:
        value = fields.get(spec.id, "")
        if not value.strip():
            continue
        region = spec.region
        ext = measure(font, value, stamped)
        length = region.r_mm * math.radians(region.span_deg)
        lo, hi = spec.min_letter_height_mm, spec.max_letter_height_mm
        cap = lo if size_mode == "min" else min(hi, length / ext.width) if ext.width > 0 else hi
        if cap < lo - 1e-9 or ext.width * cap > length + 1e-9:
            cap = lo
            pct = _percent_over(ext.width * cap, length)
            issues.append(
                Issue(
                    code="too-wide",
                    severity="error",
                    field=spec.id,
                    message=(
                        f"The text {spec.label.lower()} is {pct}% too long at the smallest legible size "
                        f"({lo:g} mm letters). Shorten it or choose a narrower font."
                    ),
                    data={
                        "percent": pct,
                        "width_mm": round(ext.width * cap, 2),
                        "available_mm": round(length, 2),
                    },
                )
            )
        # Centred on the top of the arc.
        x = -(ext.left + ext.right) / 2 * cap
        pl = PlacedLine(0, spec.id, value, cap, x, region.r_mm, ext, region, stamped)
        placed.append(pl)
        bx, by, bw, bh = _arc_box(
            region,
            pl.ink_left_mm,
            pl.ink_left_mm + pl.width_mm,
            region.r_mm - ext.bottom * cap,
            region.r_mm + ext.top * cap,
        )
        boxes.append(
            LineBox(
                line=0,
                text=value,
                x_mm=round(bx, 3),
                y_mm=round(by, 3),
                width_mm=round(bw, 3),
                height_mm=round(bh, 3),
                field=spec.id,
                letter_height_mm=round(cap, 3),
            )
        )

    if not main_cap and placed:
        main_cap = placed[0].letter_mm
    return Plan(Layout(font_size_mm=round(main_cap, 3), boxes=tuple(boxes)), tuple(placed), tuple(issues))

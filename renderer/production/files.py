"""The production files of one design, as bytes: SVG, PDF, PNG and (stamped products) the
job ticket as text and PDF. Deterministic: the same design and metadata give the same bytes,
so a file's SHA-256 recorded at download identifies it for good."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from proofmark_renderer import catalog
from proofmark_renderer import text as textmod
from proofmark_renderer.catalog import Font, Product
from proofmark_renderer.layout import is_stamped
from proofmark_renderer.model import RENDERER_VERSION, Design
from proofmark_renderer.production import pdfwrite, raster
from proofmark_renderer.production import svg as svgmod
from proofmark_renderer.production.geometry import Area, font_info, glyphs_path
from proofmark_renderer.production.geometry import areas as build_areas

KINDS = ("svg", "pdf", "png", "ticket.txt", "ticket.pdf")
CONTENT_TYPES = {
    "svg": "image/svg+xml",
    "pdf": "application/pdf",
    "png": "image/png",
    "ticket.txt": "text/plain; charset=utf-8",
    "ticket.pdf": "application/pdf",
}
HIDE_GUIDES = "#guide, #cut { display: none; }"


class ProductionError(ValueError):
    """The design cannot be made into files (no layout, unknown product or font)."""


@dataclass(frozen=True)
class ProductionFile:
    name: str  # "face.svg", "face.ticket.pdf"
    kind: str
    area: str
    content_type: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def product_version(product: Product) -> str:
    """A short hash of the product's catalog entry: a changed size or region is a new version."""
    raw = json.dumps(dataclasses.asdict(product), sort_keys=True, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()[:12]


def metadata(design: Design, product: Product, font: Font, **ids) -> dict:
    """What every file carries: the ids given (order_ref, proof_id, revision, ...), the
    product and its version, the font and its version, and the exact text."""
    info = font_info(str(font.path))
    return {
        **ids,
        "product": product.id,
        "product_version": product_version(product),
        "finish": product.with_variant(design.variant).finish
        if product.variant_spec(design.variant)
        else product.finish,
        # The variant the order is made in (a metal, a colour); "" for none.
        "variant": design.variant,
        "font": font.id,
        "font_name": info["full_name"] or font.name,
        "font_version": info["version"],
        "text": "\n".join(design.lines) + "".join(f"\n{k}: {v}" for k, v in design.fields),
        "lines": list(design.lines),
        "fields": dict(design.fields),
        "renderer_version": RENDERER_VERSION,
        "units": "mm",
    }


def plan_for(design: Design):
    from proofmark_renderer.validation import check

    issues, plan = check(design)
    errors = [i for i in issues if i.severity == "error"]
    if plan is None or errors:
        reason = errors[0].message if errors else "no layout"
        raise ProductionError(f"This design cannot be made into production files: {reason}")
    product, font = catalog.product(design.product), catalog.font(design.font)
    if product is None or font is None:
        raise ProductionError("Unknown product or font.")
    return plan, product, font


# --- PNG ----------------------------------------------------------------------------------------


def png(area: Area, dpi: int, meta: dict) -> bytes:
    return raster.png(_segments(area), area.box, dpi, area.mirror, meta)


# --- PDF ----------------------------------------------------------------------------------------


def _segments(area: Area) -> list:
    return [seg for line in area.lines for seg in line.path.segments]


def pdf(area: Area, meta: dict) -> bytes:
    info = {
        "Title": f"Order {meta.get('order_ref', '')}, proof {meta.get('proof_id', '')} revision {meta.get('revision', '')}: {area.id}",
        "Subject": meta.get("text", ""),
        "Keywords": json.dumps(meta, ensure_ascii=False, sort_keys=True),
        "Creator": "Proofmark",
        "Producer": f"Proofmark renderer {RENDERER_VERSION}",
    }
    return pdfwrite.write(_segments(area), area.box, area.mirror, info)


# --- the job ticket of a stamped product --------------------------------------------------------


def short_name(cluster: str) -> str:
    """What the punch is, in a few words that cannot be confused: "capital O", "digit zero",
    "small l", "capital I", "digit one"."""
    base = cluster[0]
    cat = unicodedata.category(base)
    name = unicodedata.name(base, f"U+{ord(base):04X}")
    if cat == "Nd":
        words = name.split()
        text = "digit " + words[-1].lower()
    elif cat in ("Lu", "Ll") and " LETTER " in name:
        letter = name.split(" LETTER ", 1)[1]
        text = f"capital {letter}" if cat == "Lu" else f"small {letter.lower()}"
    else:
        text = name.lower()
    marks = [unicodedata.name(ch, "").lower().replace("combining ", "") for ch in cluster[1:]]
    return text + "".join(f" + {m}" for m in marks if m)


@dataclass(frozen=True)
class Strike:
    number: int
    letter: str
    names: str
    x_mm: float  # pen position from the artboard's left edge
    step_mm: float  # to the next letter's pen position


def strikes(area: Area, font: Font) -> list[tuple[object, list[Strike]]]:
    """Per line (top to bottom), the letters to strike left to right with their positions."""
    out = []
    number = 0
    for al in area.lines:
        line = al.outline.line
        pen = line.origin_x_mm
        row = []
        for cluster, advance in textmod.stamp_advances(font, line.text):
            step = advance * line.letter_mm
            if cluster.strip():
                number += 1
                names = " + ".join(unicodedata.name(ch, f"U+{ord(ch):04X}") for ch in cluster)
                row.append(Strike(number, cluster, names, pen - area.box[0], step))
            pen += step
        out.append((al, row))
    return out


def ticket_text(area: Area, font: Font, meta: dict) -> str:
    rows = strikes(area, font)
    total = sum(len(r) for _, r in rows)
    counts: dict[str, int] = {}
    for _, row in rows:
        for s in row:
            counts[s.letter] = counts.get(s.letter, 0) + 1
    out = [
        "JOB TICKET: HAND STAMPING",
        f"Order {meta.get('order_ref', '')} · proof {meta.get('proof_id', '')} · revision {meta.get('revision', '')}"
        + (f" · approved {meta['approved_at']}" if meta.get("approved_at") else ""),
        f"Product {meta.get('product')} (version {meta.get('product_version')}), finish {meta.get('finish')}",
        f"Punch set: {meta.get('font_name')} ({meta.get('font_version')})",
        f"Total strikes: {total}. Positions in mm from the left and top edges of the blank; "
        "x is where each punch's left edge (pen position) goes.",
        "",
    ]
    for al, row in rows:
        line = al.outline.line
        direction = (
            " (reads right to left; strike positions are left to right)" if textmod.is_rtl(line.text) else ""
        )
        out.append(f"Line {line.line or line.field}: “{line.text}”{direction}")
        out.append(
            f"  {len(row)} strikes · letter height {line.letter_mm:.2f} mm · baseline {line.baseline_mm - area.box[1]:.2f} mm from the top"
        )
        for s in row:
            out.append(
                f"  {s.number:>3}. {s.letter}  at x {s.x_mm:6.2f} mm, then +{s.step_mm:.2f} mm  ({s.names})"
            )
        out.append("")
    out.append("Punches needed: " + ", ".join(f"{k} ×{v}" for k, v in sorted(counts.items())))
    return "\n".join(out) + "\n"


A4 = (0.0, 0.0, 210.0, 297.0)


def _rect(x: float, y: float, w: float, h: float, line: float = 0.25) -> list:
    """A rectangle's outline as two filled contours (outer clockwise, inner the other way)."""
    outer = [("M", (x, y)), ("L", (x + w, y)), ("L", (x + w, y + h)), ("L", (x, y + h)), ("Z",)]
    a, b, c, d = x + line, y + line, x + w - line, y + h - line
    inner = [("M", (a, b)), ("L", (a, d)), ("L", (c, d)), ("L", (c, b)), ("Z",)]
    return outer + inner


def _label(
    text: str, x: float, y: float, size_mm: float, font: Font | None = None, centre_w: float | None = None
) -> list:
    """Text as outlines (cap height size_mm, baseline at y), in the label font or `font`:
    the string is shaped as a whole (cached per string), and each glyph drawn from
    operators made once per glyph and size, moved to its shaped position."""
    font = font or catalog.font("noto-sans") or catalog.font("lato")
    if font is None or not text:
        return []
    placed = _shaped_label(str(font.path), font, text, size_mm)
    if placed is None:
        return []
    glyphs, width, scale = placed
    if centre_w is not None:
        x += (centre_w - width) / 2
    path = str(font.path)
    return [pdfwrite.Placed(_glyph_ops(path, gid, scale), x + gx, y + gy) for gid, gx, gy in glyphs]


@lru_cache(maxsize=4096)
def _shaped_label(_path: str, font: Font, text: str, size_mm: float):
    """(glyph id, x, y) in mm from the pen, the advance in mm, and mm per font unit."""
    from proofmark_renderer.production.shaping import shape

    shaped = shape(str(font.path), text)
    if not shaped.glyphs:
        return None
    s = size_mm / textmod.metrics(font).cap / shaped.upem
    return tuple((g.gid, g.x * s, -g.y * s) for g in shaped.glyphs), shaped.advance * s, s


@lru_cache(maxsize=8192)
def _glyph_ops(path: str, gid: int, scale: float) -> str:
    """One glyph's PDF path operators with its origin at 0, 0 (y down, millimetres)."""
    from proofmark_renderer.production.geometry import PlacedGlyph

    return pdfwrite.path_ops(glyphs_path((PlacedGlyph(path, gid, 0.0, 0.0, scale),), None).segments)


def ticket_pdf(area: Area, font: Font, meta: dict) -> bytes:
    """The job ticket on A4: every letter to strike drawn 16 mm tall from its own outline
    (no font needed to print it), numbered, named and placed; all text as outlines."""
    pages: list[list] = [[]]
    segs = pages[0]
    segs += _label("Job ticket: hand stamping", 12, 20, 4.2)
    head = [
        f"Order {meta.get('order_ref', '')} · proof {meta.get('proof_id', '')} · revision {meta.get('revision', '')}"
        + (f" · approved {meta['approved_at']} UTC" if meta.get("approved_at") else ""),
        f"Product {meta.get('product')} (version {meta.get('product_version')}) · finish {meta.get('finish')}",
        f"Punch set {meta.get('font_name')} ({meta.get('font_version')})",
    ]
    y = 28.0
    for text in head:
        segs += _label(text, 12, y, 2.3)
        y += 5
    y += 3
    cell_w, cell_h, big = 23.0, 34.0, 16.0
    for al, row in strikes(area, font):
        line = al.outline.line
        if y + 8 + cell_h > 285:
            pages.append([])
            segs, y = pages[-1], 16.0
        segs += _label(
            f"Line {line.line or line.field}: {len(row)} strikes · letter height {line.letter_mm:.2f} mm · "
            f"baseline {line.baseline_mm - area.box[1]:.2f} mm from the top",
            12,
            y + 4,
            2.6,
        )
        y += 8
        x = 12.0
        for s in row:
            if x + cell_w > 199:
                x, y = 12.0, y + cell_h + 2
            if y + cell_h > 285:
                pages.append([])
                segs, x, y = pages[-1], 12.0, 16.0
            segs += _rect(x, y, cell_w - 1.5, cell_h)
            segs += _label(s.letter, x, y + 21, big, font=font, centre_w=cell_w - 1.5)
            segs += _label(short_name(s.letter), x, y + 26, 2.0, centre_w=cell_w - 1.5)
            segs += _label(f"#{s.number} · x {s.x_mm:.2f} mm", x, y + 31, 1.6, centre_w=cell_w - 1.5)
            x += cell_w
        y += cell_h + 7
    info = {
        "Title": f"Job ticket, order {meta.get('order_ref', '')}",
        "Subject": meta.get("text", ""),
        "Keywords": json.dumps(meta, ensure_ascii=False, sort_keys=True),
        "Creator": "Proofmark",
    }
    return pdfwrite.write_pages([(p, A4, False) for p in pages], info)


# --- all files -------------------------------------------------------------------------------


def build(design: Design, **ids) -> tuple[list[ProductionFile], dict]:
    """Every production file of a design, and the metadata they carry."""
    plan, product, font = plan_for(design)
    meta = metadata(design, product, font, **ids)
    files: list[ProductionFile] = []
    for area in build_areas(plan, product, font):
        svg_text = svgmod.write(area, meta)
        files.append(
            ProductionFile(f"{area.id}.svg", "svg", area.id, CONTENT_TYPES["svg"], svg_text.encode())
        )
        files.append(ProductionFile(f"{area.id}.pdf", "pdf", area.id, CONTENT_TYPES["pdf"], pdf(area, meta)))
        files.append(
            ProductionFile(
                f"{area.id}.png",
                "png",
                area.id,
                CONTENT_TYPES["png"],
                png(area, product.production_dpi, meta),
            )
        )
        if is_stamped(product):
            files.append(
                ProductionFile(
                    f"{area.id}.ticket.txt",
                    "ticket.txt",
                    area.id,
                    CONTENT_TYPES["ticket.txt"],
                    ticket_text(area, font, meta).encode(),
                )
            )
            files.append(
                ProductionFile(
                    f"{area.id}.ticket.pdf",
                    "ticket.pdf",
                    area.id,
                    CONTENT_TYPES["ticket.pdf"],
                    ticket_pdf(area, font, meta),
                )
            )
    return files, meta

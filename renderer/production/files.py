"""The production files of one design, as bytes: SVG, PDF, PNG and (stamped products) the
job ticket as text and PDF. Deterministic: the same design and metadata give the same bytes,
so a file's SHA-256 recorded at download identifies it for good."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import struct
import unicodedata
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime

import resvg_py
from fpdf import FPDF
from fpdf.enums import PathPaintRule

from proofmark_renderer import catalog
from proofmark_renderer import text as textmod
from proofmark_renderer.catalog import Font, Product
from proofmark_renderer.layout import is_stamped
from proofmark_renderer.model import RENDERER_VERSION, Design
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
        "finish": product.finish,
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


def _chunk(kind: bytes, body: bytes) -> bytes:
    return (
        struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    )


def png(area: Area, svg_text: str, dpi: int, meta: dict) -> bytes:
    data = bytes(resvg_py.svg_to_bytes(svg_string=svg_text, dpi=float(dpi), style_sheet=HIDE_GUIDES))
    # resvg writes neither the resolution nor text: add pHYs (pixels per metre) and an
    # iTXt with the metadata right after IHDR, without decoding the image again.
    ihdr_end = 8 + 4 + 4 + 13 + 4
    ppm = round(dpi / 0.0254)
    extra = _chunk(b"pHYs", struct.pack(">IIB", ppm, ppm, 1))
    text = json.dumps(meta, ensure_ascii=False, sort_keys=True).encode()
    extra += _chunk(b"iTXt", b"proofmark\x00\x00\x00\x00\x00" + text)
    return data[:ihdr_end] + extra + data[ihdr_end:]


# --- PDF ----------------------------------------------------------------------------------------


def _pdf(meta: dict, title: str) -> FPDF:
    pdf = FPDF(unit="mm")
    pdf.set_creator("Proofmark")
    pdf.set_producer("Proofmark (fpdf2)")
    pdf.set_title(title)
    pdf.set_subject(meta.get("text", ""))
    pdf.set_keywords(json.dumps(meta, ensure_ascii=False, sort_keys=True))
    pdf.set_creation_date(datetime(2000, 1, 1, tzinfo=UTC))
    pdf.set_auto_page_break(False)
    return pdf


def _draw_segments(
    pdf: FPDF, segments, dx: float, dy: float, mirror_w: float | None = None, k: float = 1.0
) -> None:
    """Fill outlines (absolute mm segments) on the page, shifted by (dx, dy) and scaled by k."""
    if not segments:
        return

    def tr(p):
        x, y = p
        if mirror_w is not None:
            x = mirror_w - x
        return (x + dx) * k, (y + dy) * k

    with pdf.new_path() as path:
        path.style.fill_color = "#000000"
        path.style.paint_rule = PathPaintRule.FILL_NONZERO
        for seg in segments:
            op = seg[0]
            if op == "M":
                path.move_to(*tr(seg[1]))
            elif op == "L":
                path.line_to(*tr(seg[1]))
            elif op == "Q":
                path.quadratic_curve_to(*tr(seg[1]), *tr(seg[2]))
            elif op == "C":
                path.curve_to(*tr(seg[1]), *tr(seg[2]), *tr(seg[3]))
            else:
                path.close()


def pdf(area: Area, meta: dict) -> bytes:
    x, y, w, h = area.box
    doc = _pdf(meta, f"Order {meta.get('order_ref', '')}: {area.id}")
    doc.add_page(format=(w, h))
    for line in area.lines:
        mirror = (2 * x + w) if area.mirror else None
        _draw_segments(doc, line.path.segments, -x, -y, mirror)
    return bytes(doc.output())


# --- the job ticket of a stamped product --------------------------------------------------------


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


def ticket_pdf(area: Area, font: Font, meta: dict) -> bytes:
    doc = _pdf(meta, f"Job ticket, order {meta.get('order_ref', '')}")
    label_font = catalog.font("noto-sans")
    if label_font is not None:
        doc.add_font("label", "", str(label_font.path))
        face = "label"
    else:
        face = "helvetica"
    doc.add_page(format="A4")
    doc.set_font(face, size=15)
    doc.set_xy(12, 12)
    doc.cell(0, 8, "Job ticket: hand stamping", new_x="LMARGIN", new_y="NEXT")
    doc.set_font(face, size=9.5)
    head = (
        f"Order {meta.get('order_ref', '')} · proof {meta.get('proof_id', '')} · revision {meta.get('revision', '')}"
        + (f" · approved {meta['approved_at']} UTC" if meta.get("approved_at") else "")
        + f"\nProduct {meta.get('product')} (version {meta.get('product_version')}) · punch set "
        f"{meta.get('font_name')} ({meta.get('font_version')})"
    )
    doc.set_x(12)
    doc.multi_cell(186, 5, head, new_x="LMARGIN", new_y="NEXT")
    y = doc.get_y() + 4
    cell_w, cell_h, big = 22.0, 30.0, 16.0  # mm; each letter drawn 16 mm tall from its outline
    for al, row in strikes(area, font):
        line = al.outline.line
        if y > 250:
            doc.add_page(format="A4")
            y = 14
        doc.set_font(face, size=11)
        doc.set_xy(12, y)
        doc.cell(
            0,
            6,
            f"Line {line.line or line.field}: {len(row)} strikes · letter height {line.letter_mm:.2f} mm · "
            f"baseline {line.baseline_mm - area.box[1]:.2f} mm from the top",
        )
        y += 8
        x = 12.0
        for s in row:
            if x + cell_w > 198:
                x, y = 12.0, y + cell_h + 2
            if y + cell_h > 285:
                doc.add_page(format="A4")
                x, y = 12.0, 14.0
            doc.set_draw_color(150, 150, 150)
            doc.rect(x, y, cell_w - 1, cell_h)
            shaped = glyph_path_for(font, s.letter, big)
            if shaped is not None:
                segs, width = shaped
                _draw_segments(doc, segs, x + (cell_w - 1 - width) / 2, y + 19)
            doc.set_font(face, size=6)
            doc.set_xy(x, y + 21)
            doc.multi_cell(cell_w - 1, 2.4, f"#{s.number} {s.names}\nx {s.x_mm:.2f} mm", align="C")
            x += cell_w
        y += cell_h + 6
    return bytes(doc.output())


def glyph_path_for(font: Font, cluster: str, height_mm: float):
    """A cluster's outline segments with the baseline at y = 0 and cap height `height_mm`."""
    from proofmark_renderer.production.geometry import PlacedGlyph
    from proofmark_renderer.production.shaping import shape

    shaped = shape(str(font.path), cluster)
    if not shaped.glyphs:
        return None
    s = height_mm / textmod.metrics(font).cap / shaped.upem
    glyphs = tuple(PlacedGlyph(str(font.path), g.gid, g.x * s, -g.y * s, s) for g in shaped.glyphs)
    return glyphs_path(glyphs, None).segments, shaped.advance * s


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
                png(area, svg_text, product.production_dpi, meta),
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

"""Production files from the layout: SVG in millimetres with outlines only, a vector PDF, a
PNG at the product's resolution, the stamped job ticket; and fidelity against the preview."""

from __future__ import annotations

import dataclasses
import io
import json
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PIL import Image
from pypdf import PdfReader

from proofmark_renderer import catalog, render
from proofmark_renderer import text as textmod
from proofmark_renderer.model import Design
from proofmark_renderer.production import fidelity, raster, svg
from proofmark_renderer.production.files import ProductionError, build, plan_for
from proofmark_renderer.production.geometry import areas
from proofmark_renderer.production.shaping import _runs, _visual, shape

SVG_NS = "{http://www.w3.org/2000/svg}"
IDS = {
    "order_ref": "A-1001",
    "proof_id": "pf_test",
    "revision": 2,
    "approved_at": "2026-11-30T10:00:00.000000Z",
}


def files_of(design: Design) -> dict:
    files, _ = build(design, **IDS)
    return {f.name: f for f in files}


@pytest.mark.parametrize(("case", "design"), fidelity.CASES, ids=[c for c, _ in fidelity.CASES])
def test_svg_is_millimetres_outlines_only_and_matches_the_layout_boxes(case, design):
    plan, product, font = plan_for(design)
    area = areas(plan, product, font)[0]
    text = svg.write(area, {"order_ref": "A-1001"})
    root = ET.fromstring(text)
    assert root.tag == f"{SVG_NS}svg"
    x, y, w, h = area.box
    assert root.get("width") == f"{w:g}mm" and root.get("height") == f"{h:g}mm"
    assert [float(v) for v in root.get("viewBox").split()] == pytest.approx([x, y, w, h])
    assert not list(root.iter(f"{SVG_NS}text")), "live text found: the maker's machine would need the font"
    groups = {g.get("id") for g in root.iter(f"{SVG_NS}g")}
    assert {"engrave", "cut", "guide"} <= groups
    engrave = next(g for g in root.iter(f"{SVG_NS}g") if g.get("id") == "engrave")
    paths = {p.get("id"): p.get("d") for p in engrave.iter(f"{SVG_NS}path")}
    assert all(d.count("M") == d.count("Z") for d in paths.values()), "every contour must be closed"
    # Each line's outline box equals the layout's box (flat lines: ink and advance box,
    # as the layout measures them) within 0.1 mm. The layout measures ink on a hinted
    # raster at 256 px to the em, so for letters over about 15 mm its own box is only good
    # to a few of those pixels (hinting moves an accent or a round top by up to 3.3 px);
    # the bound is the larger of 0.1 mm and 3.5 such pixels.
    for box, al in zip(plan.layout.boxes, area.lines, strict=True):
        assert al.name in paths
        if al.outline.line.region.shape == "arc":
            continue  # the layout's box for an arc bounds the whole band of the arc
        line = al.outline.line
        tol = max(0.1, 3.5 * line.letter_mm / textmod.metrics(font).cap / textmod.REFERENCE_EM_PX)
        bx0, by0, bx1, by1 = al.path.bbox
        advance = al.outline.advance_mm
        if line.stamped:
            # A stamped line's box is the punches' pitch (no tracking after the last letter)
            # from the nominal cap line down to a nominal descender, not the ink.
            advance -= textmod.STAMP_TRACKING * line.letter_mm
        left = min(bx0, line.origin_x_mm)
        right = max(bx1, line.origin_x_mm + advance)
        assert left == pytest.approx(box.x_mm, abs=tol), case
        assert right - left == pytest.approx(box.width_mm, abs=tol), case
        if not line.stamped:
            assert by0 == pytest.approx(box.y_mm, abs=tol), case
            assert by1 - by0 == pytest.approx(box.height_mm, abs=tol), case


@pytest.mark.parametrize(("case", "design"), fidelity.CASES, ids=[c for c, _ in fidelity.CASES])
def test_production_svg_draws_the_preview_text_mask(case, design):
    """The SVG rasterised by resvg against the flat text mask the preview is drawn from."""
    results = fidelity.check(design)
    assert results
    for r in results:
        assert r["iou"] >= fidelity.TARGET_IOU, r


def test_the_iou_check_catches_a_shifted_outline():
    design = fidelity.CASES[3][1]
    plan, product, font = plan_for(design)
    area = areas(plan, product, font)[0]
    al = area.lines[0]
    moved = dataclasses.replace(
        al,
        path=dataclasses.replace(
            al.path, segments=[(s[0], *((x + 0.15, y) for x, y in s[1:])) for s in al.path.segments]
        ),
    )
    shifted = dataclasses.replace(area, lines=(moved,))
    value, _ = fidelity.line_iou(shifted, moved, svg.write(shifted, {}), font)
    assert value < fidelity.TARGET_IOU


def test_design_token_preview_is_still_byte_identical():
    design = fidelity.CASES[0][1]
    build(design, **IDS)
    assert render(design, 600, "png").image == render(design, 600, "png").image


def test_files_carry_ids_font_version_and_exact_text_and_are_deterministic():
    design = Design("bar-necklace", "playfair-display", ("Amélie & Søren",))
    files = files_of(design)
    assert set(files) == {"face.svg", "face.pdf", "face.png"}
    again = files_of(design)
    assert {n: f.sha256 for n, f in files.items()} == {n: f.sha256 for n, f in again.items()}
    root = ET.fromstring(files["face.svg"].data)
    meta = json.loads(root.find(f"{SVG_NS}metadata")[0].text)
    assert meta["order_ref"] == "A-1001" and meta["proof_id"] == "pf_test" and meta["revision"] == 2
    assert meta["text"] == "Amélie & Søren"
    assert meta["font"] == "playfair-display" and meta["font_version"].startswith("Version")
    assert len(meta["product_version"]) == 12
    reader = PdfReader(io.BytesIO(files["face.pdf"].data))
    assert "Amélie & Søren" in reader.metadata.subject
    assert json.loads(reader.metadata["/Keywords"])["proof_id"] == "pf_test"
    png = Image.open(io.BytesIO(files["face.png"].data))
    assert json.loads(png.info["proofmark"])["text"] == "Amélie & Søren"


def test_pdf_is_vector_paths_at_the_artboard_size():
    files = files_of(Design("pendant-round", "dancing-script", ("Zoë",), {"rim": "Ångström"}))
    reader = PdfReader(io.BytesIO(files["face.pdf"].data))
    page = reader.pages[0]
    assert float(page.mediabox.width) == pytest.approx(25 * 72 / 25.4, abs=0.01)
    assert not page.images, "text must not be embedded as a raster"
    assert "/Font" not in page.get("/Resources", {})
    content = page.get_contents().get_data().decode()
    assert content.count(" c\n") > 20 and content.count(" m\n") >= 4 and content.rstrip().endswith("f\nQ")


@pytest.mark.parametrize("product_id", [p.id for p in catalog.products()])
def test_png_has_the_declared_dpi_and_draws_what_the_svg_draws(product_id):
    product = catalog.product(product_id)
    design = Design(product_id, product.default_font, ("Ana 1987",))
    files = files_of(design)
    png = Image.open(io.BytesIO(files[next(n for n in files if n.endswith(".png"))].data))
    assert png.info["dpi"] == pytest.approx((product.production_dpi, product.production_dpi), abs=0.01)
    plan, _, font = plan_for(design)
    area = areas(plan, product, font)[0]
    assert png.size == (
        round(area.box[2] * product.production_dpi / 25.4),
        round(area.box[3] * product.production_dpi / 25.4),
    )
    ours = 255 - np.asarray(png.convert("L"), np.float64)
    theirs = fidelity.rasterize(svg.write(area, {}), product.production_dpi / 25.4).astype(np.float64)
    h, w = min(ours.shape[0], theirs.shape[0]), min(ours.shape[1], theirs.shape[1])
    assert fidelity.iou(ours[:h, :w], theirs[:h, :w]) >= 0.97


def test_mirroring_is_a_product_setting():
    design = Design("bar-necklace", "lato", ("ABC",))
    plan, product, font = plan_for(design)
    plain = areas(plan, product, font)[0]
    mirrored = areas(plan, dataclasses.replace(product, production_mirror=True), font)[0]
    assert "scale(-1 1)" in svg.write(mirrored, {}) and "scale(-1 1)" not in svg.write(plain, {})
    a = np.asarray(raster.mask([s for al in plain.lines for s in al.path.segments], plain.box, 300, False))
    b = np.asarray(
        raster.mask([s for al in mirrored.lines for s in al.path.segments], mirrored.box, 300, True)
    )
    assert np.array_equal(a[:, ::-1], b)


def test_stamped_product_gets_a_job_ticket_with_strikes_in_order():
    files = files_of(Design("ornament-stamped", "courier-prime", ("I0 Ol1",)))
    assert {"face.ticket.txt", "face.ticket.pdf"} <= set(files)
    ticket = files["face.ticket.txt"].data.decode()
    assert "A-1001" in ticket and "pf_test" in ticket and "revision 2" in ticket
    assert "Total strikes: 5." in ticket
    order = [
        line.split(".", 1)[1].strip()[0]
        for line in ticket.splitlines()
        if line.strip()[:1].isdigit() and ". " in line
    ]
    assert order == ["I", "0", "O", "l", "1"]
    for name in (
        "DIGIT ZERO",
        "LATIN CAPITAL LETTER O",
        "DIGIT ONE",
        "LATIN SMALL LETTER L",
        "LATIN CAPITAL LETTER I",
    ):
        assert name in ticket
    reader = PdfReader(io.BytesIO(files["face.ticket.pdf"].data))
    assert len(reader.pages) == 1 and not reader.pages[0].images
    assert "pf_test" in reader.metadata["/Keywords"]
    assert "face.ticket.txt" not in files_of(Design("bar-necklace", "lato", ("Ana",)))


def test_mixed_direction_runs_are_in_visual_order():
    # Hebrew with a Latin number: the number keeps its order inside the right-to-left line.
    text = "אמא 1948"
    runs = _visual(_runs(text))
    assert [text[a:b] for a, b, _, _ in runs][0] == "1948"
    font = catalog.font("noto-sans-hebrew")
    shaped = shape(str(font.path), text)
    assert [g.x for g in shaped.glyphs] == sorted(g.x for g in shaped.glyphs)


def test_a_design_with_errors_makes_no_files():
    with pytest.raises(ProductionError, match="cannot be made"):
        build(Design("bar-necklace", "lato", ("W" * 40,)), **IDS)


def _png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """The chunks of a PNG, each CRC checked."""
    import struct
    import zlib

    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        assert struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])[0] == zlib.crc32(kind + body)
        chunks.append((kind, body))
        pos += 12 + length
    return chunks


def test_png_is_8_bit_grey_whose_pixels_are_the_coverage_and_whose_checksums_hold():
    import struct
    import zlib

    design = Design("cutting-board", "eb-garamond", ("Ø 1987", "Kitchen"))
    plan, product, font = plan_for(design)
    area = areas(plan, product, font)[0]
    segments = [s for al in area.lines for s in al.path.segments]
    coverage = np.asarray(raster.mask(segments, area.box, product.production_dpi, False))
    data = files_of(design)["face.png"].data
    chunks = _png_chunks(data)
    kinds = [k for k, _ in chunks]
    assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND" and b"pHYs" in kinds and b"iTXt" in kinds
    width, height, depth, colour = struct.unpack(">IIBB", chunks[0][1][:10])
    assert (width, height, depth, colour) == (coverage.shape[1], coverage.shape[0], 8, 0)
    # zlib checks the stream's Adler-32; every row uses filter 0 and holds 255 - coverage.
    raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    rows = np.frombuffer(raw, np.uint8).reshape(height, width + 1)
    assert not rows[:, 0].any()
    assert np.array_equal(rows[:, 1:], 255 - coverage)
    assert coverage.max() == 255 and np.count_nonzero((coverage > 0) & (coverage < 255)) > 0


def test_svg_path_numbers_are_written_as_the_shortest_form_of_four_decimals():
    from proofmark_renderer.production.geometry import PathData, _fmt

    values = [0.0, -0.0, -0.00004, 0.00005, -0.00005, 3.0, -100.0, 12.34500001, 0.1 + 0.2, 1e-9, 987.65432]
    segments = [("G",), ("M", (values[0], values[1]))]
    segments += [("L", (a, b)) for a, b in zip(values, values[::-1], strict=True)]
    segments += [("Q", (1.5, -0.0), (2.25, 7.0)), ("C", (0.00001, 2.0), (3.0, -4.00004), (5.5, 6.0)), ("Z",)]
    expected = "".join(
        seg[0] + " ".join(f"{_fmt(x)} {_fmt(y)}" for x, y in seg[1:]) for seg in segments if seg[0] != "G"
    )
    assert PathData(None, segments).d == expected
    assert "-0 " not in expected and "-0Z" not in expected and ".0 " not in expected


def test_ticket_labels_are_translated_copies_of_one_outline():
    files = files_of(Design("ornament-stamped", "courier-prime", ("OO", "OO")))
    content = PdfReader(io.BytesIO(files["face.ticket.pdf"].data)).pages[0].get_contents().get_data().decode()
    # Each glyph of a label is its own filled path, moved into place by a translation.
    blocks = content.split("q 1 0 0 1 ")[1:]
    assert blocks and all("\nf\nQ" in b for b in blocks)
    bodies = [b.split(" cm\n", 1)[1].split("\nf\nQ", 1)[0] for b in blocks]

    def extent(body: str) -> float:
        return max(abs(float(v)) for v in body.split() if v not in ("m", "l", "c", "h"))

    # The four strikes of "O" draw the punch 16 mm tall from one set of operators.
    big = [body for body in bodies if body.strip() and extent(body) > 8]
    assert len(big) == 4 and len(set(big)) == 1 and big[0].count(" c\n") > 4

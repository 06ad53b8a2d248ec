"""Issue 10: what the shopper saw along an arc is what is made. A photo product whose proof
view maps an area with `arc` gets production files (SVG, PDF, PNG) whose letters follow the
same arc, in millimetres, as the preview shows them on the photo."""

from __future__ import annotations

import io
import math
import re
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from proofmark_renderer import Design, catalog, photo_samples, productfiles
from proofmark_renderer.photo import Mapping
from proofmark_renderer.production import files
from proofmark_renderer.production.geometry import glyph_outline, line_glyphs


@pytest.fixture
def shop(tmp_path):
    previous = catalog._instance_path, catalog._asset_root
    catalog.configure(tmp_path, previous[1])
    yield tmp_path
    catalog.configure(*previous)


def _publish(shop: Path, image: Image.Image, product: dict) -> str:
    target = shop / catalog.PUBLISHED_DIR / product["id"] / "1"
    target.mkdir(parents=True)
    image.save(target / "photo.jpg", "JPEG", quality=90)
    (target / "product.toml").write_text(productfiles.dump_toml({"product": product}), encoding="utf-8")
    (shop / catalog.PUBLISHED_DIR / catalog.STAMP_FILE).write_text(product["id"])
    catalog.configure(shop, catalog._asset_root)
    return f"{product['id']}@1"


def _svg_moves(svg: str, path_id: str) -> list[tuple[float, float]]:
    """The start point of every contour (`M x y`) of one engraved path, in file millimetres."""
    d = re.search(rf'<path[^>]*id="{path_id}"[^>]*d="([^"]+)"', svg) or re.search(
        rf'<path[^>]*d="([^"]+)"[^>]*id="{path_id}"', svg
    )
    assert d, f"no path {path_id} in the SVG"
    return [(float(x), float(y)) for x, y in re.findall(r"M(-?[\d.]+) (-?[\d.]+)", d.group(1))]


def _polar(points, centre):
    pts = np.asarray(points, np.float64) - np.asarray(centre, np.float64)
    return np.arctan2(pts[:, 1], pts[:, 0]), np.hypot(pts[:, 0], pts[:, 1])


@pytest.mark.parametrize("bend", [110.0, -70.0])
def test_the_production_svg_puts_every_glyph_on_the_arc_the_preview_uses(shop, bend):
    image, product = photo_samples.plaque()
    if bend < 0:
        # The same plaque with its text sagging (a smile, the centre above): corners drawn on
        # a circle whose middle radius is the area's length over the turn, as for the arch.
        amap = product["views"][0]["areas"]["lines"]
        w_mm, h_mm, scale = product["region"]["w_mm"], product["region"]["h_mm"], 4.6
        radius = w_mm / math.radians(-bend)
        cx, cy = image.width / 2, 60.0
        half = math.radians(-bend) / 2
        amap["corners"] = [
            (
                round(cx + (radius + dr) * scale * math.sin(a), 2),
                round(cy + (radius + dr) * scale * math.cos(a), 2),
            )
            for a, dr in ((-half, -h_mm / 2), (half, -h_mm / 2), (half, h_mm / 2), (-half, h_mm / 2))
        ]
        amap["bend_deg"] = bend
    pid = _publish(shop, image, product)
    design = Design(pid, "playfair-display", ("The Millers' Cabin",))
    made, _meta = files.build(design, order_ref="A-1", proof_id="P1", revision=1)
    svg = next(f for f in made if f.name.endswith(".svg")).data.decode()

    plan, prod, font = files.plan_for(design)
    [placed] = plan.lines
    outline = line_glyphs(placed, font)
    # Every contour's start, in the layout's flat millimetres (what both the preview and the
    # file start from), in the order the file writes them.
    flat = []
    for g in outline.glyphs:
        for op in glyph_outline(g.font_path, g.gid):
            if op[0] == "M":
                x, y = op[1]
                flat.append((g.ox + x * g.scale, g.oy - y * g.scale))
    made_pts = _svg_moves(svg, "line-1")
    assert len(made_pts) == len(flat) >= 16

    # The preview's arc on the photo: its centre, middle radius and px per mm (radially).
    mapping = Mapping(prod.views[0].area("lines"), prod.region)
    arc = mapping._arc()
    px_per_mm = arc["hpx"] / prod.region.h_mm
    shown = np.stack(mapping.forward(*np.asarray(flat).T), axis=1)
    shown_angle, shown_rho = _polar(shown, (arc["cx"], arc["cy"]))

    # The file's arc in mm: the same turn (110°) over the same 144 mm, about the disc's centre.
    r = prod.region
    radius = r.w_mm / math.radians(abs(bend))
    centre = (r.x_mm + r.w_mm / 2, r.y_mm + r.h_mm / 2 + math.copysign(radius, bend))
    if bend > 0:
        assert centre == pytest.approx((100.0, 100.0), abs=0.01)  # the plaque's centre
    made_angle, made_rho = _polar(made_pts, centre)

    # Angles about each arc's centre agree (the photo's upright is the file's upright: the
    # plaque is photographed face on), and the distance from the centre agrees in mm.
    turn = np.mod(made_angle - shown_angle + math.pi, 2 * math.pi) - math.pi
    along_mm = np.abs(turn) * radius
    across_mm = np.abs(made_rho - shown_rho / px_per_mm)
    assert along_mm.max() < 0.05, along_mm.max()
    assert across_mm.max() < 0.05, across_mm.max()
    # ... and the letters really are bent: the ends of the line are turned by about ±bend/2.
    assert np.degrees(np.ptp(made_angle)) > abs(bend) * 0.6
    # The guide outlines the bent area with two arcs.
    assert re.search(r'id="guide-region"[^>]*d="M[^"]*A[^"]*A', svg) or re.search(
        r'd="M[^"]*A[^"]*A[^"]*"[^>]*id="guide-region"', svg
    )


def test_a_straight_photo_area_stays_flat_in_production(shop):
    image, product = photo_samples.sign()
    pid = _publish(shop, image, product)
    design = Design(pid, product["default_font"], ("The Millers",))
    plan, prod, font = files.plan_for(design)
    made, _ = files.build(design, order_ref="A-2", proof_id="P2", revision=1)
    svg = next(f for f in made if f.name.endswith(".svg")).data.decode()
    [placed] = plan.lines
    flat = []
    for g in line_glyphs(placed, font).glyphs:
        for op in glyph_outline(g.font_path, g.gid):
            if op[0] == "M":
                x, y = op[1]
                flat.append((g.ox + x * g.scale, g.oy - y * g.scale))
    assert np.allclose(_svg_moves(svg, "line-1"), flat, atol=1e-3)


def test_the_png_and_pdf_follow_the_same_arc(shop):
    image, product = photo_samples.plaque()
    pid = _publish(shop, image, product)
    design = Design(pid, "playfair-display", ("HHHHHHHHHHHH",))
    made, _ = files.build(design, order_ref="A-3", proof_id="P3", revision=1)
    png = next(f for f in made if f.name.endswith(".png"))
    pdf = next(f for f in made if f.name.endswith(".pdf"))
    import io

    im = Image.open(io.BytesIO(png.data)).convert("L")
    dpi = im.info["dpi"][0]
    ink = np.asarray(im) < 128
    ys, xs = np.nonzero(ink)
    px = dpi / 25.4
    # In mm, the ink's top edge is lowest at the ends and highest in the middle (an arch), and
    # every inked pixel lies within the bent area's ring about the plaque's centre.
    rho = np.hypot(xs / px - 100.0, ys / px - 100.0)
    assert rho.min() > 75 - 12 - 0.5 and rho.max() < 75 + 12 + 0.5
    mid = ys[np.abs(xs / px - 100) < 5].min() / px
    left = ys[xs / px < xs.min() / px + 5].min() / px
    assert left - mid > 20  # the ends drop by tens of millimetres along a 110° arc
    # The PDF draws the same bent outlines (in mm under its page matrix) as the SVG.
    start = pdf.data.index(b"stream\n") + 7
    ops = zlib.decompress(pdf.data[start : pdf.data.index(b"\nendstream", start)]).decode()
    pdf_moves = [(float(x), float(y)) for x, y in re.findall(r"(-?[\d.]+) (-?[\d.]+) m\b", ops)]
    svg = next(f for f in made if f.name.endswith(".svg")).data.decode()
    assert len(pdf_moves) > 12
    assert np.allclose(pdf_moves, _svg_moves(svg, "line-1"), atol=2e-3)


def test_the_demo_plaque_file_shows_curved_text_inside_the_disc(shop):
    """Look at it: the SVG drawn by resvg (guides shown) is saved for a person to open."""
    import resvg_py

    from proofmark_renderer.production.fidelity import rasterize

    image, product = photo_samples.plaque()
    pid = _publish(shop, image, product)
    design = Design(pid, "great-vibes", ("Anna & Jonas",))
    made, _ = files.build(design, order_ref="A-4", proof_id="P4", revision=1)
    svg = next(f for f in made if f.name.endswith(".svg")).data.decode()
    out = Path("test-artifacts")
    out.mkdir(exist_ok=True)
    (out / "plaque-production.svg").write_text(svg, encoding="utf-8")
    picture = resvg_py.svg_to_bytes(svg_string=svg, dpi=4 * 25.4, background="white")
    (out / "plaque-production.png").write_bytes(bytes(picture))
    ink = rasterize(svg, 4.0) > 128  # the engrave layer alone, 4 px per mm
    assert ink.shape == (800, 800)  # the 200 mm plaque
    ys, xs = np.nonzero(ink)
    rho = np.hypot(xs / 4 - 100, ys / 4 - 100)
    assert rho.min() > 60 and rho.max() < 90  # along the rim, inside the 100 mm radius
    assert ys.max() / 4 < 100  # in the top half
    mid = ys[np.abs(xs / 4 - 100) < 8].min()
    ends = min(ys[xs < xs.min() + 20].min(), ys[xs > xs.max() - 20].min())
    assert ends - mid > 40  # curved: the ends are lower than the middle by over 10 mm


def test_an_approved_round_plaque_orders_files_show_the_text_curved(app, staff, tmp_path):
    """The demo plaque imported as a shop does it, ordered, approved; the file the maker
    downloads is bent as the proof shows it (the PNG is saved to look at)."""
    from proofmark import products, proofs
    from proofmark.db import get_db
    from tests.proofs_support import all_statements, new_proof

    photo_samples.write(tmp_path / "demo")
    with app.app_context():
        db = get_db()
        base, version = products.import_folder(db, tmp_path / "demo" / "round-plaque", "test")
        proof_id = new_proof(
            db, design=Design(f"{base}@{version}", "playfair-display", ("The Millers' Cabin",))
        )
        rev = proofs.get_revision(db, proof_id, 1)
        proofs.approve(db, proof_id, revision=1, nonce=rev.nonce, statements_ticked=all_statements(app))
    svg = staff.get(f"/staff/proofs/{proof_id}/production/face.svg")
    png = staff.get(f"/staff/proofs/{proof_id}/production/face.png")
    assert svg.status_code == png.status_code == 200
    out = Path("test-artifacts")
    out.mkdir(exist_ok=True)
    (out / "plaque-order-face.png").write_bytes(png.data)
    im = Image.open(io.BytesIO(png.data)).convert("L")
    px = im.info["dpi"][0] / 25.4
    ys, xs = np.nonzero(np.asarray(im) < 128)
    rho = np.hypot(xs / px - 100, ys / px - 100)
    assert rho.min() > 60 and rho.max() < 90
    mid = ys[np.abs(xs / px - 100) < 5].min() / px
    ends = min(ys[xs < xs.min() + 5 * px].min(), ys[xs > xs.max() - 5 * px].min()) / px
    assert ends - mid > 15  # mm: the line's ends sit well below its middle, along the rim

"""A shop's own products: areas in millimetres mapped onto the shop's photos (exact to a
pixel), hostile photo uploads refused and nothing stored, the staff editor, immutable
published versions that earlier proofs keep, and products as folders (CLI)."""

from __future__ import annotations

import io
import json
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw
from pypdf import PdfReader

from proofmark import products, proofs
from proofmark.db import get_db
from proofmark_renderer import Design, catalog, photo_samples, render
from proofmark_renderer.catalog import Region
from proofmark_renderer.photo import AreaMap, Mapping, ProductFileError
from proofmark_renderer.warp import build
from tests.proofs_support import all_statements, new_proof

# --- geometry -----------------------------------------------------------------------------


def _grid_through(mapping: Mapping, size: tuple[int, int], columns: int = 6, rows: int = 4):
    """Draw dots on a grid in the area's millimetres into a flat canvas, bend the canvas with
    the same inverse map the renderer builds, and return (expected px, found px) per dot."""
    r = mapping.region
    cs = 12.0  # canvas pixels per mm
    cw, ch = int(r.w_mm * cs) + 1, int(r.h_mm * cs) + 1

    def inverse(x, y):
        u, v, ok = mapping.inverse(x + 0.5, y + 0.5)
        return (u - r.x_mm) * cs, (v - r.y_mm) * cs, ok

    warp = build((cw, ch), (0, 0, *size), inverse)
    pairs = []
    us = np.linspace(r.x_mm, r.x_mm + r.w_mm, columns + 2)[1:-1]
    vs = np.linspace(r.y_mm, r.y_mm + r.h_mm, rows + 2)[1:-1]
    for u in us:
        for v in vs:
            canvas = Image.new("L", (cw, ch), 0)
            cx, cy = (u - r.x_mm) * cs, (v - r.y_mm) * cs
            ImageDraw.Draw(canvas).ellipse((cx - 9, cy - 9, cx + 9, cy + 9), fill=255)
            out = np.asarray(warp.apply(canvas), np.float64)
            ys, xs = np.nonzero(out)
            weight = out[ys, xs]
            found = ((xs + 0.5) * weight).sum() / weight.sum(), ((ys + 0.5) * weight).sum() / weight.sum()
            expected = mapping.forward(u, v)
            pairs.append((tuple(float(e) for e in expected), found))
    return pairs


@pytest.mark.parametrize(
    ("amap", "region"),
    [
        (
            AreaMap("lines", "perspective", ((120.0, 80.0), (520.0, 130.0), (500.0, 360.0), (90.0, 300.0))),
            Region("rect", x_mm=5, y_mm=5, w_mm=40, h_mm=20),
        ),
        (
            AreaMap(
                "lines",
                "cylinder",
                ((150.0, 100.0), (450.0, 100.0), (450.0, 380.0), (150.0, 380.0)),
                38.0,
                0.15,
            ),
            Region("band", x_mm=0, y_mm=30, w_mm=90, h_mm=60, radius_mm=38.0),
        ),
    ],
    ids=["perspective", "cylinder"],
)
def test_a_grid_in_millimetres_lands_within_a_pixel_of_its_computed_place(amap, region):
    mapping = Mapping(amap, region)
    pairs = _grid_through(mapping, (600, 480))
    assert len(pairs) == 24
    worst = max(np.hypot(e[0] - f[0], e[1] - f[1]) for e, f in pairs)
    assert worst <= 1.0, worst
    # And the corners are where staff put them.
    for (u, v), (x, y) in zip(
        [(region.x_mm, region.y_mm), (region.x_mm + region.w_mm, region.y_mm + region.h_mm)],
        [amap.corners[0], amap.corners[2]],
        strict=True,
    ):
        fx, fy = mapping.forward(u, v)
        assert abs(fx - x) < 1e-6 and abs(fy - y) < 1e-6


def test_the_renderers_perspective_warp_is_the_same_map_as_the_grid_test():
    """A perspective area without mask or ink displacement is bent by Pillow's PERSPECTIVE
    transform (in C); it must put every pixel where the per-pixel map above puts it."""
    from proofmark_renderer.scenes import photo as scene_photo

    amap = AreaMap("lines", "perspective", ((120.0, 80.0), (520.0, 130.0), (500.0, 360.0), (90.0, 300.0)))
    m = Mapping(amap, Region("rect", x_mm=5, y_mm=5, w_mm=40, h_mm=20))
    fast = scene_photo._warped(m, (600, 480), None, None).warp
    flat = np.zeros((480, 600), np.float32)
    exact = scene_photo._warped(m, (600, 480), None, (flat, flat)).warp
    assert type(fast).__name__ == "HomographyWarp" and fast.box == exact.box
    canvas = Image.new("L", fast.canvas_size, 0)
    ImageDraw.Draw(canvas).text((10, 20), "Rex 0123", fill=255, font_size=40)
    a = np.asarray(fast.apply(canvas), np.float32)
    b = np.asarray(exact.apply(canvas, (0, canvas.width)), np.float32)
    assert np.abs(a - b).max() <= 1 and b.sum() > 0


def test_on_a_cylinder_letters_narrow_towards_the_edges_and_the_baseline_bends():
    amap = AreaMap(
        "lines", "cylinder", ((150.0, 100.0), (450.0, 100.0), (450.0, 380.0), (150.0, 380.0)), 38.0, 0.15
    )
    m = Mapping(amap, Region("band", x_mm=0, y_mm=30, w_mm=90, h_mm=60, radius_mm=38.0))
    centre = m.forward(46, 60)[0] - m.forward(44, 60)[0]
    edge = m.forward(88, 60)[0] - m.forward(86, 60)[0]
    assert edge < 0.6 * centre
    # A straight line in mm sags at the front, like the ellipse of the rim.
    assert m.forward(45, 60)[1] > m.forward(2, 60)[1] + 5


# --- a product file's errors name the file and the field ---------------------------------------


def _sample_folder(tmp_path: Path, which: str = "dog-tag") -> Path:
    photo_samples.write(tmp_path / "src")
    return tmp_path / "src" / which


def test_product_folder_errors_name_the_file_and_the_field(app, tmp_path):
    from proofmark_renderer import productfiles

    folder = _sample_folder(tmp_path)
    toml = (folder / "product.toml").read_text()
    cases = [
        (toml.replace('mapping = "perspective"', 'mapping = "sphere"'), "view[0].areas.lines.mapping"),
        (toml.replace('finish = "engraved-steel"', 'finish = "glitter"'), "finish"),
        (toml.replace('"montserrat", "lato"', '"montserrat", "comic-sans"'), "allowed_fonts[1]"),
        (toml.replace('shape = "rect"', 'shape = "star"'), "region.shape"),
        (toml.replace('photo = "photo.jpg"', 'photo = "missing.jpg"'), "view[0].photo"),
    ]
    with app.app_context():
        for text, field in cases:
            (folder / "product.toml").write_text(text)
            with pytest.raises(ProductFileError) as caught:
                productfiles.read(folder)
            assert str(folder / "product.toml") in str(caught.value) and field in str(caught.value)


def test_a_broken_products_toml_stops_the_start_naming_the_file_and_field(tmp_path, monkeypatch):
    from tests.support import make_app

    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "products.toml").write_text(
        '[[product]]\nid = "dog-tag"\nname = "Tag"\nfinish = "engraved-steel"\nview = "tag"\n'
        "width_mm = 40\nheight_mm = 20\nmax_lines = 2\nmax_chars_per_line = 10\nmin_letter_height_mm = 2\n"
        'allowed_fonts = ["lato"]\ndefault_font = "lato"\n'
        'region = { shape = "rect", x_mm = 2, y_mm = 2, w_mm = 30, h_mm = 10 }\n'
    )
    with pytest.raises(RuntimeError, match=r"products\.toml: product 'dog-tag': view: unknown view 'tag'"):
        make_app(instance, monkeypatch)


# --- hostile uploads --------------------------------------------------------------------------


def _png_bomb(side: int = 20_000) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")

    header = side.to_bytes(4, "big") * 2 + bytes([8, 0, 0, 0, 0])
    rows = zlib.compress(b"\x00" * (side + 1) * 64, 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


def _jpeg(size=(400, 300)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (180, 180, 185)).save(out, "JPEG")
    return out.getvalue()


def _new_product(staff, data: bytes, filename: str = "tag.jpg", product_id: str = "tag"):
    return staff.post(
        "/staff/products",
        data={
            "id": product_id,
            "name": "Tag",
            "width_mm": "50",
            "height_mm": "30",
            "photo": (io.BytesIO(data), filename),
        },
        content_type="multipart/form-data",
    )


@pytest.mark.parametrize(
    ("upload", "filename", "message"),
    [
        (
            b"<svg xmlns='http://www.w3.org/2000/svg'><rect width='9' height='9'/></svg>",
            "tag.svg",
            "not a JPEG, PNG or WebP",
        ),
        (b"%PDF-1.7\n1 0 obj <<>> endobj\n", "tag.pdf", "not a JPEG, PNG or WebP"),
        (b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 500, "tag.jpg", "not a JPEG, PNG or WebP"),
        (b"MZ\x90\x00" + b"\x00" * 500, "photo.png", "not a JPEG, PNG or WebP"),
        (b"", "tag.jpg", "empty"),
        (_png_bomb(), "bomb.png", "megapixels"),
    ],
    ids=["svg", "pdf", "elf-renamed", "exe-renamed", "zero-bytes", "bomb"],
)
def test_each_hostile_upload_gets_its_4xx_and_nothing_is_stored(app, staff, upload, filename, message):
    response = _new_product(staff, upload, filename)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    store = Path(app.instance_path) / app.config["IMAGE_DIR"] / "products"
    assert not store.exists() or not any(p.is_file() for p in store.rglob("*"))
    with app.app_context():
        assert get_db().execute("SELECT count(*) FROM product_drafts").fetchone()[0] == 0


def test_a_photo_is_turned_upright_stripped_and_stored_by_its_hash(app, staff):
    image = Image.new("RGB", (80, 40), "white")
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x8825] = {2: (52.0, 31.0, 0.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    assert _new_product(staff, out.getvalue()).status_code == 303
    with app.app_context():
        data = products.draft(get_db(), "tag")
        sha = data["views"][0]["sha256"]
        stored = products.photo_path(sha)
    with Image.open(stored) as im:
        assert im.size == (40, 80) and not im.getexif()
    import hashlib

    assert hashlib.sha256(stored.read_bytes()).hexdigest() == sha


# --- editor, publish, versions --------------------------------------------------------------


def _editor_form(corners, **extra):
    form = {
        "name": "Tag",
        "finish": "engraved-steel",
        "mapping": "perspective",
        "width_mm": "50",
        "height_mm": "30",
        "region_x_mm": "5",
        "region_y_mm": "5",
        "region_w_mm": "40",
        "region_h_mm": "20",
        "max_lines": "2",
        "max_chars_per_line": "14",
        "min_letter_height_mm": "2",
        "max_letter_height_mm": "6",
        "line_spacing": "1.4",
        "allowed_fonts": ["lato", "montserrat"],
        "default_font": "lato",
        "sample_1": "Rex",
    }
    for name, (x, y) in zip(("tl", "tr", "br", "bl"), corners, strict=True):
        form[f"{name}_x"], form[f"{name}_y"] = str(x), str(y)
    form.update(extra)
    return form


def test_staff_set_up_a_product_and_publish_versions_that_designs_keep(app, staff, client):
    assert _new_product(staff, _jpeg()).status_code == 303
    page = staff.get("/staff/products/tag")
    assert page.status_code == 200 and "top left corner" in page.get_data(as_text=True)
    # The live preview (htmx) saves the draft and shows the draft's picture.
    response = staff.post(
        "/staff/products/tag",
        data=_editor_form([(60, 60), (340, 80), (330, 240), (70, 220)]),
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_data(as_text=True)
    assert 'id="product-preview"' in body and "<html" not in body
    src = body.split('<img src="')[1].split('"')[0].replace("&amp;", "&")
    image = staff.get(src)
    assert image.status_code == 200 and image.mimetype == "image/jpeg"
    # A fold-over quadrilateral is refused in words, and the draft is kept as it was.
    bad = staff.post(
        "/staff/products/tag",
        data=_editor_form([(60, 60), (330, 240), (340, 80), (70, 220)]),
        headers={"HX-Request": "true"},
    )
    assert bad.status_code == 422 and "convex" in bad.get_data(as_text=True)
    assert staff.post("/staff/products/tag/publish").status_code == 303
    with app.app_context():
        assert catalog.product("tag").id == "tag@1"
    shop = client.get("/p/tag")
    assert shop.status_code == 200 and "tag@1" in shop.get_data(as_text=True)
    # Version 2 moves the area; a design made on version 1 still draws version 1.
    staff.post("/staff/products/tag", data=_editor_form([(40, 40), (360, 60), (350, 260), (50, 240)]))
    assert staff.post("/staff/products/tag/publish").status_code == 303
    with app.app_context():
        assert catalog.product("tag").id == "tag@2"
        v1 = render(Design(product="tag@1", font="lato", lines=("Rex",)), 600, "png")
        v2 = render(Design(product="tag@2", font="lato", lines=("Rex",)), 600, "png")
        assert not v1.issues and not v2.issues and v1.image != v2.image
        version_dir = Path(app.instance_path) / "products" / "tag" / "1"
        assert (version_dir / "product.toml").is_file()


def test_publishing_a_new_version_leaves_an_approved_proof_unchanged(app, staff, runner):
    assert _new_product(staff, _jpeg()).status_code == 303
    staff.post("/staff/products/tag", data=_editor_form([(60, 60), (340, 80), (330, 240), (70, 220)]))
    staff.post("/staff/products/tag/publish")
    with app.app_context():
        db = get_db()
        proof_id = new_proof(db, design=Design(product="tag@1", font="lato", lines=("Rex",)))
        proof = proofs.get_proof(db, proof_id)
        rev = proofs.get_revision(db, proof_id, 1)
        proofs.approve(db, proof_id, revision=1, nonce=rev.nonce, statements_ticked=all_statements(app))
        image_before = (Path(app.instance_path) / app.config["IMAGE_DIR"]).rglob(f"{rev.image_sha256}*")
        image_before = [p.read_bytes() for p in image_before]
        events_before = [dict(r) for r in db.execute("SELECT * FROM events WHERE proof_id = ?", (proof_id,))]
    evidence_before = json.loads(staff.get(f"/staff/proofs/{proof_id}/evidence.json").get_data(as_text=True))
    assert evidence_before["proof"]["product_version"]["version"] == 1
    pdf = staff.get(f"/staff/proofs/{proof_id}/evidence.pdf")
    assert pdf.status_code == 200
    pdf_text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "tag version 1" in pdf_text
    assert proof.product == "tag@1"

    staff.post(
        "/staff/products/tag",
        data=_editor_form([(40, 40), (360, 60), (350, 260), (50, 240)], finish="laser-wood"),
    )
    assert staff.post("/staff/products/tag/publish").status_code == 303

    with app.app_context():
        db = get_db()
        assert catalog.product("tag").id == "tag@2"
        rev_after = proofs.get_revision(db, proof_id, 1)
        assert rev_after.image_sha256 == rev.image_sha256
        after = [
            p.read_bytes()
            for p in (Path(app.instance_path) / app.config["IMAGE_DIR"]).rglob(f"{rev.image_sha256}*")
        ]
        assert after == image_before and image_before
        assert [
            dict(r) for r in db.execute("SELECT * FROM events WHERE proof_id = ?", (proof_id,))
        ] == events_before
    evidence_after = json.loads(staff.get(f"/staff/proofs/{proof_id}/evidence.json").get_data(as_text=True))
    for key in ("proof", "approval", "revisions"):
        assert evidence_after[key] == evidence_before[key]
    # Production files are made from version 1's layout, the one the customer approved.
    svg = staff.get(f"/staff/proofs/{proof_id}/production/face.svg")
    assert svg.status_code == 200 and b"<svg" in svg.data
    result = runner.invoke(args=["verify-records"])
    assert result.exit_code == 0, result.output


# --- products as folders ---------------------------------------------------------------------


def test_products_check_import_and_export(app, runner, tmp_path):
    folder = _sample_folder(tmp_path, "maple-sign")
    assert runner.invoke(args=["products", "check", str(folder)]).exit_code == 0
    result = runner.invoke(args=["products", "import", str(folder)])
    assert result.exit_code == 0, result.output
    assert "maple-sign@1" in result.output
    with app.app_context():
        assert catalog.product("maple-sign").views[0].areas[0].kind == "flat"
        shown = render(Design(product="maple-sign", font="lato", lines=("The Millers",)), 600, "jpeg")
        assert not shown.issues
    out = tmp_path / "out"
    out.mkdir()
    result = runner.invoke(args=["products", "export", "maple-sign", str(out)])
    assert result.exit_code == 0, result.output
    assert runner.invoke(args=["products", "check", str(out / "maple-sign")]).exit_code == 0
    (folder / "photo.jpg").unlink()
    result = runner.invoke(args=["products", "check", str(folder)])
    assert result.exit_code == 1 and "view[0].photo" in result.output and "product.toml" in result.output

"""Photo-based products, the renderer's side: the arc mapping (exact to a pixel, letters along
the arc, its outline), the light layer (read, checked, hashed into the cache key, and changing
the text's pixels where it is not neutral and nothing else), and cylinders that never reach
further round than the photo shows."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from proofmark_renderer import Design, areas, catalog, photo_samples, productfiles, render, scenes
from proofmark_renderer.catalog import Region
from proofmark_renderer.photo import CYLINDER_MAX_DEG, AreaMap, Mapping, ProductFileError
from proofmark_renderer.scene_cache import product_cache_key
from tests.test_products import _grid_through

ARC_UP = AreaMap(
    "lines", "arc", ((140.0, 120.0), (460.0, 120.0), (440.0, 220.0), (160.0, 220.0)), bend_deg=70.0
)
ARC_DOWN = AreaMap(
    "lines", "arc", ((140.0, 150.0), (460.0, 150.0), (470.0, 250.0), (130.0, 250.0)), bend_deg=-90.0
)
RECT = Region("rect", x_mm=10, y_mm=8, w_mm=80, h_mm=20)


@pytest.mark.parametrize("amap", [ARC_UP, ARC_DOWN], ids=["arches-up", "sags"])
def test_an_arc_grid_in_millimetres_lands_within_a_pixel_of_its_computed_place(amap):
    mapping = Mapping(amap, RECT)
    pairs = _grid_through(mapping, (600, 480))
    assert len(pairs) == 24
    worst = max(math.hypot(e[0] - f[0], e[1] - f[1]) for e, f in pairs)
    assert worst <= 1.0, worst
    # The midpoints of the left and right edges are exactly where the corners put them.
    tl, tr, br, bl = (np.array(c) for c in amap.corners)
    for u, want in ((RECT.x_mm, (tl + bl) / 2), (RECT.x_mm + RECT.w_mm, (tr + br) / 2)):
        x, y = mapping.forward(u, RECT.y_mm + RECT.h_mm / 2)
        assert abs(x - want[0]) < 1e-6 and abs(y - want[1]) < 1e-6
    # And inverse(forward(p)) = p over the whole area.
    uu, vv = np.meshgrid(np.linspace(10, 90, 9), np.linspace(8, 28, 5))
    u2, v2, ok = mapping.inverse(*mapping.forward(uu, vv))
    assert ok.all() and np.abs(u2 - uu).max() < 1e-9 and np.abs(v2 - vv).max() < 1e-9


@pytest.mark.parametrize("amap", [ARC_UP, ARC_DOWN], ids=["arches-up", "sags"])
def test_on_an_arc_the_baseline_curves_and_letters_turn_with_it(amap):
    m = Mapping(amap, RECT)
    base = RECT.y_mm + RECT.h_mm * 0.8
    ends_y = m.forward(np.array([RECT.x_mm, RECT.x_mm + RECT.w_mm]), base)[1]
    middle_y = m.forward(50.0, base)[1]
    if amap.bend_deg > 0:
        assert middle_y < ends_y.min() - 10  # arches up
    else:
        assert middle_y > ends_y.max() + 10  # sags

    def upright(u):  # the direction a letter's stem points (from baseline to cap height)
        x0, y0 = m.forward(u, base)
        x1, y1 = m.forward(u, base - 5)
        return math.degrees(math.atan2(x1 - x0, -(y1 - y0)))

    # A letter at the middle stands upright; at the ends it is turned by half the bend.
    assert abs(upright(50.0)) < 0.5
    assert upright(RECT.x_mm) == pytest.approx(-amap.bend_deg / 2, abs=0.5)
    assert upright(RECT.x_mm + RECT.w_mm) == pytest.approx(amap.bend_deg / 2, abs=0.5)


# --- product folders ------------------------------------------------------------------------


@pytest.fixture
def shop(tmp_path):
    """An instance folder whose published products are what the test writes; the catalog is
    put back afterwards."""
    previous = catalog._instance_path, catalog._asset_root
    catalog.configure(tmp_path, previous[1])
    yield tmp_path
    catalog.configure(*previous)


def _photo_folder(folder: Path, area: dict, view: dict | None = None, region=None) -> Path:
    """A plain grey 800 x 600 photo (no light in it at all) and its product.toml."""
    folder.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (800, 600), (150, 150, 152)).save(folder / "photo.png")
    product = {
        "id": folder.name,
        "name": "Test sign",
        "finish": "print-black",
        "width_mm": 100.0,
        "height_mm": 40.0,
        "max_lines": 2,
        "max_chars_per_line": 20,
        "min_letter_height_mm": 3.0,
        "max_letter_height_mm": 12.0,
        "allowed_fonts": ["montserrat", "lato"],
        "default_font": "montserrat",
        "region": region or {"shape": "rect", "x_mm": 10.0, "y_mm": 8.0, "w_mm": 80.0, "h_mm": 20.0},
        "views": [{"name": "front", "photo": "photo.png", "areas": {"lines": area}} | (view or {})],
    }
    (folder / "product.toml").write_text(productfiles.dump_toml({"product": product}), encoding="utf-8")
    return folder


def _publish(shop: Path, folder: Path) -> str:
    target = shop / catalog.PUBLISHED_DIR / folder.name / "1"
    shutil.copytree(folder, target)
    (shop / catalog.PUBLISHED_DIR / catalog.STAMP_FILE).write_text(folder.name)
    catalog.configure(shop, catalog._asset_root)
    return f"{folder.name}@1"


ARC_AREA = {
    "mapping": "arc",
    "corners": [[180.0, 220.0], [620.0, 220.0], [600.0, 330.0], [200.0, 330.0]],
    "bend_deg": 60.0,
}


def test_an_arc_product_renders_its_text_along_the_arc_and_outlines_it(shop, tmp_path):
    pid = _publish(shop, _photo_folder(tmp_path / "src" / "arc-sign", ARC_AREA))
    product = catalog.product(pid)
    assert product is not None and product.views[0].areas[0].kind == "arc"
    blank = np.asarray(scenes.scene(product, 800).image, np.float32)
    result = render(Design(pid, "montserrat", ("HHHHHHHHHHHHHH",)), 800, "png", keep_picture=True)
    assert not [i for i in result.issues if i.severity == "error"]
    ink = np.abs(np.asarray(result.picture, np.float32) - blank).max(axis=2) > 60
    ys, xs = np.nonzero(ink)
    assert len(xs) > 500
    # The text arches: its top in the middle third is higher than at either end.
    third = (xs.max() - xs.min()) / 3
    top_mid = ys[np.abs(xs - (xs.min() + xs.max()) / 2) < third / 4].min()
    top_left = ys[xs < xs.min() + third / 4].min()
    top_right = ys[xs > xs.max() - third / 4].min()
    assert top_mid < min(top_left, top_right) - 8
    # "Show area" outlines the same arc: the outline's top edge is highest in the middle.
    scene = scenes.scene(product, 800)
    outline = areas.area_mask(scene) > 0.3
    oys, oxs = np.nonzero(outline)
    assert len(oxs) > 200
    mid = oys[np.abs(oxs - 400) < 12].min()
    ends = [oys[np.abs(oxs - x) < 12].min() for x in (oxs.min() + 20, oxs.max() - 20)]
    assert mid < min(ends) - 8


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"bend_deg": 0.0}, "areas.lines.bend_deg", "between 1° and 300°"),
        ({"bend_deg": 400.0}, "areas.lines.bend_deg", "between 1° and 300°"),
        ({"bend_deg": "lots"}, "areas.lines.bend_deg", "must be a number"),
        (
            {"bend_deg": 120.0, "corners": [[350.0, 150.0], [450.0, 150.0], [450.0, 300.0], [350.0, 300.0]]},
            "areas.lines.bend_deg",
            "letters would meet at the centre",
        ),
        (
            {"corners": [[200.0, 330.0], [600.0, 330.0], [620.0, 220.0], [180.0, 220.0]]},
            "areas.lines.corners",
            "order tl, tr, br, bl",
        ),
    ],
)
def test_arc_mistakes_name_the_file_and_field(tmp_path, change, field, words):
    folder = _photo_folder(tmp_path / "bad-arc", ARC_AREA | change)
    with pytest.raises(ProductFileError) as caught:
        productfiles.read(folder)
    message = str(caught.value)
    assert str(folder / "product.toml") in message and f"view[0].{field}" in message and words in message


# --- the light layer --------------------------------------------------------------------------

FLAT_AREA = {"mapping": "flat", "corners": [[100.0, 200.0], [700.0, 200.0], [700.0, 350.0], [100.0, 350.0]]}


def _light_png(folder: Path, right: int = 235, size=(800, 600), mode="L") -> None:
    """Neutral (128) on the photo's left half, bright on its right half."""
    im = Image.new(mode, size, 128)
    ImageDraw.Draw(im).rectangle((size[0] // 2, 0, size[0], size[1]), fill=right)
    im.save(folder / "light.png")


def test_the_light_layer_changes_the_text_where_it_is_not_neutral_and_nothing_else(shop, tmp_path):
    plain = _photo_folder(tmp_path / "src" / "plain-sign", FLAT_AREA)
    lit = _photo_folder(tmp_path / "src" / "lit-sign", FLAT_AREA, {"light": "light.png"})
    _light_png(lit)
    pid_plain = _publish(shop, plain)
    pid_lit = _publish(shop, lit)
    product = catalog.product(pid_lit)
    assert product.views[0].light_sha256 and product.views[0].light_path.endswith("light.png")
    assert "light" in scenes.scene(product, 800).layers  # prepared once, with the scene

    text = ("HHHHHHHHHHHH",)
    a = render(Design(pid_plain, "montserrat", text), 800, "png", keep_picture=True).picture
    b = render(Design(pid_lit, "montserrat", text), 800, "png", keep_picture=True).picture
    blank = np.asarray(scenes.scene(product, 800).image, np.int16)
    a, b = np.asarray(a, np.int16), np.asarray(b, np.int16)
    text_mask = np.abs(a - blank).max(axis=2) > 0
    diff = np.abs(b - a).max(axis=2)
    xs = np.nonzero(text_mask)[1]
    assert xs.min() < 360 and xs.max() > 440  # the text spans both halves
    assert diff[~text_mask].max() == 0  # nothing but the text changes
    assert diff[:, :390][text_mask[:, :390]].max() == 0  # neutral light: the text as it was
    right = text_mask[:, 410:] & (np.abs(a - blank).max(axis=2)[:, 410:] > 100)
    # Bright light lifts the black ink towards white (a shine over it).
    assert np.median((b - a)[:, 410:][right]) > 40


def test_the_light_layer_is_in_the_cache_key(shop, tmp_path):
    folder = _photo_folder(tmp_path / "src" / "key-sign", FLAT_AREA, {"light": "light.png"})
    _light_png(folder, right=200)
    first = productfiles.read(folder)[1]
    _light_png(folder, right=90)
    second = productfiles.read(folder)[1]
    assert first.views[0].light_sha256 != second.views[0].light_sha256
    assert product_cache_key(first) != product_cache_key(second)


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda f: None, "is missing from"),
        (lambda f: _light_png(f, size=(400, 300)), "it must be the photo's size, 800x600"),
        (lambda f: Image.new("RGB", (800, 600), (128, 128, 128)).save(f / "light.png"), "greyscale PNG"),
        (lambda f: Image.new("L", (800, 600), 128).save(f / "light.png", "JPEG"), "greyscale PNG"),
    ],
    ids=["missing", "wrong-size", "colour", "not-png"],
)
def test_light_layer_mistakes_name_the_file_and_field(tmp_path, make, words):
    folder = _photo_folder(tmp_path / "bad-light", FLAT_AREA, {"light": "light.png"})
    make(folder)
    with pytest.raises(ProductFileError) as caught:
        productfiles.read(folder)
    assert "view[0].light" in str(caught.value) and words in str(caught.value)


# --- cylinders stop where the photo stops showing the surface ----------------------------------


def test_a_cylinder_area_reaching_too_far_round_is_refused_naming_the_field(tmp_path):
    area = {
        "mapping": "cylinder",
        "corners": [[250.0, 150.0], [550.0, 150.0], [550.0, 450.0], [250.0, 450.0]],
        "radius_mm": 38.0,
    }
    widest = 2 * 38.0 * math.radians(CYLINDER_MAX_DEG)  # 86.2 mm
    region = {"shape": "band", "x_mm": 0.0, "y_mm": 10.0, "w_mm": 90.0, "h_mm": 20.0, "radius_mm": 38.0}
    folder = _photo_folder(tmp_path / "wide-tumbler", area, region=region)
    with pytest.raises(ProductFileError) as caught:
        productfiles.read(folder)
    assert "view[0].areas.lines.radius_mm" in str(caught.value)
    assert "at most 86.2 mm wide" in str(caught.value)
    folder = _photo_folder(tmp_path / "ok-tumbler", area, region=region | {"w_mm": math.floor(widest)})
    productfiles.read(folder)


def test_the_demo_tumbler_refuses_or_fits_a_long_line_and_never_draws_past_its_area(shop, tmp_path):
    for folder in photo_samples.write(tmp_path / "src"):
        if folder.name == "tumbler":
            pid = _publish(shop, folder)
    product = catalog.product(pid)
    amap = product.views[0].areas[0]
    assert product.region.w_mm <= 2 * amap.radius_mm * math.radians(CYLINDER_MAX_DEG)
    # Too long even at the smallest letters: refused in words, nothing drawn past the area.
    long_line = render(Design(pid, "montserrat", ("WWWWWWWWWWWWWW",)), 1200)
    assert any(i.code == "too-wide" and i.severity == "error" for i in long_line.issues)
    # What fits is drawn inside the area's columns on the photo.
    from proofmark_renderer.scenes import photo as scene_photo

    scene = scenes.scene(product, 1200)
    m = scene_photo.mappings(product, 1200)["lines"]
    left = float(m.forward(product.region.x_mm, product.region.y_mm)[0])
    right = float(m.forward(product.region.x_mm + product.region.w_mm, product.region.y_mm)[0])
    result = render(Design(pid, "dancing-script", ("Grandma's tea",)), 1200, "png", keep_picture=True)
    assert not [i for i in result.issues if i.severity == "error"]
    diff = np.abs(np.asarray(result.picture, np.int16) - np.asarray(scene.image, np.int16)).max(axis=2)
    xs = np.nonzero(diff > 40)[1]
    assert xs.min() >= left - 4 and xs.max() <= right + 4, (xs.min(), xs.max(), left, right)


# --- the staff editor: arc is a mapping choice with its bend -------------------------------------


def test_staff_choose_the_arc_mapping_and_its_bend_in_the_editor(app, staff):
    from proofmark import products
    from proofmark.db import get_db
    from tests.test_products import _editor_form, _jpeg, _new_product

    assert _new_product(staff, _jpeg()).status_code == 303
    page = staff.get("/staff/products/tag").get_data(as_text=True)
    assert ">arc</option>" in page
    assert 'name="bend_deg"' in page
    corners = [(60, 100), (340, 100), (320, 200), (80, 200)]
    ok = staff.post(
        "/staff/products/tag",
        data=_editor_form(corners, mapping="arc", bend_deg="50"),
        headers={"HX-Request": "true"},
    )
    assert ok.status_code == 200, ok.get_data(as_text=True)
    with app.app_context():
        area = products.draft(get_db(), "tag")["views"][0]["areas"]["lines"]
    assert area["mapping"] == "arc" and area["bend_deg"] == 50.0
    bad = staff.post(
        "/staff/products/tag",
        data=_editor_form(corners, mapping="arc", bend_deg="0"),
        headers={"HX-Request": "true"},
    )
    assert bad.status_code == 422 and "between 1° and 300°" in bad.get_data(as_text=True)
    assert staff.post("/staff/products/tag/publish").status_code == 303
    with app.app_context():
        published = catalog.product("tag")
        assert published.id == "tag@1" and published.views[0].areas[0].bend_deg == 50.0


def test_the_perspective_warp_bends_only_where_the_text_lands_and_the_same_way():
    """Given the text's columns, the perspective warp transforms only the part of the box the
    text lands in: the same pixels as bending the whole canvas, at a fraction of the cost."""
    from proofmark_renderer.scenes import photo as scene_photo

    amap = AreaMap("lines", "perspective", ((120.0, 80.0), (520.0, 130.0), (500.0, 360.0), (90.0, 300.0)))
    m = Mapping(amap, Region("rect", x_mm=5, y_mm=5, w_mm=40, h_mm=20))
    warp = scene_photo._warped(m, (600, 480), None, None).warp
    canvas = Image.new("L", warp.canvas_size, 0)
    ImageDraw.Draw(canvas).text((60, 70), "Rex", fill=255, font_size=40)
    whole = np.asarray(warp.apply(canvas), np.int16)
    left, _, right, _ = canvas.getbbox()
    part = np.asarray(warp.apply(canvas, (left, right)), np.int16)
    assert whole.shape == part.shape and whole.sum() > 0
    assert np.abs(whole - part).max() <= 1
    assert not np.asarray(warp.apply(Image.new("L", warp.canvas_size, 0), (0, 10))).any()


def test_the_renderers_cylinder_strips_put_the_text_where_the_exact_map_does():
    """A cylinder area is bent by narrow MESH strips (in C); the text's pixels land where the
    per-pixel map of the geometry test puts them (centroids within a tenth of a pixel)."""
    from proofmark_renderer.scenes import photo as scene_photo
    from proofmark_renderer.warp import MeshWarp

    amap = AreaMap(
        "lines", "cylinder", ((150.0, 100.0), (450.0, 100.0), (450.0, 380.0), (150.0, 380.0)), 38.0, 0.15
    )
    m = Mapping(amap, Region("band", x_mm=0, y_mm=30, w_mm=84, h_mm=60, radius_mm=38.0))
    fast = scene_photo._warped(m, (600, 480), None, None).warp
    flat = np.zeros((480, 600), np.float32)
    exact = scene_photo._warped(m, (600, 480), np.ones((480, 600), np.float32), (flat, flat)).warp
    assert isinstance(fast, MeshWarp) and fast.box == exact.box
    for x in (30, fast.canvas_size[0] // 2, fast.canvas_size[0] - 60):
        canvas = Image.new("L", fast.canvas_size, 0)
        ImageDraw.Draw(canvas).rectangle((x, 100, x + 12, 160), fill=255)
        a = np.asarray(fast.apply(canvas), np.float64)
        b = np.asarray(exact.apply(canvas), np.float64)
        for axis in (0, 1):
            ca = (a.sum(axis=1 - axis) * np.arange(a.shape[axis])).sum() / a.sum()
            cb = (b.sum(axis=1 - axis) * np.arange(b.shape[axis])).sum() / b.sum()
            assert abs(ca - cb) < 0.1, (x, axis, ca, cb)

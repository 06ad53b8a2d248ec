"""The cheaper ways the engraved products are drawn (issue 16 item 6, branch issue-16en) give
the pictures of the plain ways: the engraving's walls without lookup tables, the finish on
the ink's own box, the ring's tabled column warp, the dog tag's perspective read from
tables (or bent line by line), and the photo's light laid over the letters only."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from PIL import Image, ImageChops, ImageDraw

from proofmark_renderer import catalog, compose, scenes
from proofmark_renderer.bandwarp import TabledColumnWarp
from proofmark_renderer.catalog import Region
from proofmark_renderer.finishes import engrave
from proofmark_renderer.finishes.common import cut_light, cut_walls, ink_box, tint
from proofmark_renderer.photo import AreaMap, Mapping
from proofmark_renderer.samples import SAMPLES
from proofmark_renderer.scenes import photo as scene_photo
from proofmark_renderer.scenes.common import Scene
from proofmark_renderer.validation import check
from proofmark_renderer.warp import ColumnWarp


def _layers(design, width=600):
    product = catalog.product(design.product).with_variant(design.variant)
    scene = scenes.scene(product, width)
    _, plan = check(design)
    font = catalog.font(design.font)
    return scene, list(compose._text_layers(scene, plan, font, compose.design_seed(design)))


def _text_mask(size=(160, 70), text="Ag & 7", shift=(12, 10)) -> Image.Image:
    mask = Image.new("L", size, 0)
    ImageDraw.Draw(mask).text(shift, text, fill=255, font_size=40)
    return mask


@pytest.mark.parametrize("step", [1, 2])
def test_cut_walls_are_cut_light_within_a_level(step):
    mask = _text_mask()
    old = cut_light(mask, step, lit_scale=0.85, shade_scale=0.7)
    new = cut_walls(mask, step, lit_scale=0.85, shade_scale=0.7)
    for a, b in zip(old, new, strict=True):
        diff = np.abs(np.asarray(a, int) - np.asarray(b, int))
        assert diff.max() <= 1
        assert np.asarray(b).max() > 100  # the walls are there, not blank
    # Lit and shaded walls never overlap, and both stay inside the letters.
    lit, shade = (np.asarray(x) for x in new)
    assert not np.any((lit > 0) & (shade > 0))
    assert not np.any((lit > 0) & (np.asarray(mask) == 0))


def test_ink_box_is_the_ink_grown_within_the_mask():
    mask = Image.new("L", (50, 40), 0)
    mask.paste(255, (10, 12, 20, 15))
    assert ink_box(mask, 2) == (8, 10, 22, 17)
    assert ink_box(mask, 30) == (0, 0, 50, 40)
    assert ink_box(Image.new("L", (5, 5), 0), 2) is None


def _engrave_on_the_whole_box(scene, box, mask):
    """The finish as it was: every pass over the whole padded box, walls through lookups."""
    out = scene.image.crop(box)
    out.paste(scene.layers["floor"].crop(box), (0, 0), mask)
    lit, shade = cut_light(mask, 2 if scene.scale > 60 else 1, lit_scale=0.85, shade_scale=0.7)
    tint(out, (0, 0, 0), shade)
    tint(out, scene.spark, lit)
    return out


@pytest.mark.parametrize("product_id", ["bar-necklace", "pendant-round", "ring-band"])
def test_engraving_on_the_ink_box_is_the_engraving_on_the_whole_box(product_id):
    scene, layers = _layers(SAMPLES[product_id][0])
    for mask, box in layers:
        new = np.asarray(engrave.apply(scene, box, mask, 1), int)
        old = np.asarray(_engrave_on_the_whole_box(scene, box, mask), int)
        diff = np.abs(new - old)
        assert diff.max() <= 1 and diff.mean() < 0.05
        # The letters are cut: the floor differs from the picture where the mask is full.
        inside = np.asarray(mask) >= 0.8 * np.asarray(mask).max()
        assert inside.any()
        assert np.abs(new - np.asarray(scene.image.crop(box), int))[inside].mean() > 3


def test_engraving_with_no_ink_is_the_picture():
    design = SAMPLES["bar-necklace"][0]
    scene = scenes.scene(catalog.product(design.product), 600)
    box = (100, 100, 180, 140)
    out = engrave.apply(scene, box, Image.new("L", (80, 40), 0), 1)
    assert out.tobytes() == scene.image.crop(box).tobytes()


@pytest.mark.parametrize("width", [600, 1200])
def test_ring_tabled_warp_is_the_column_warp(width):
    for design in SAMPLES["ring-band"]:
        product = catalog.product(design.product)
        scene = scenes.scene(product, width)
        surf = scene.surfaces["lines"]
        warp = surf.warp
        assert isinstance(warp, TabledColumnWarp)
        _, plan = check(design)
        font = catalog.font(design.font)
        canvas = Image.new("L", warp.canvas_size, 0)
        draw = ImageDraw.Draw(canvas)
        for line in plan.lines:
            compose._draw_shaped(draw, line, font, surf, 0, 0)
        x_range, y_range = (0, warp.canvas_size[0]), (0, warp.canvas_size[1])
        tabled = np.asarray(warp.apply(canvas, x_range, 1.0, y_range), int)
        plain = np.asarray(ColumnWarp.apply(warp, canvas, x_range, 1.0, y_range), int)
        # The tables hold the exact bilinear weights; ColumnWarp works in 8-bit fixed point,
        # within 2 levels of exact (test_preview_speed_parts), so the two are within 3.
        assert np.abs(tabled - plain).max() <= 3 and plain.sum() > 0
        # On a smaller canvas it falls back to the plain warp.
        small = canvas.resize((canvas.width // 2, canvas.height // 2))
        a = warp.apply(small, x_range, 0.5, y_range)
        b = ColumnWarp.apply(warp, small, x_range, 0.5, y_range)
        assert a.tobytes() == b.tobytes()


def test_ring_tabled_warp_of_an_empty_canvas_is_empty():
    scene = scenes.scene(catalog.product("ring-band"), 600)
    warp = scene.surfaces["lines"].warp
    out = warp.apply(Image.new("L", warp.canvas_size, 0), (0, 50), 1.0, (0, 50))
    assert out.getbbox() is None and out.size == (warp.box[2] - warp.box[0], warp.box[3] - warp.box[1])


def _tilted_perspective():
    amap = AreaMap("lines", "perspective", ((120.0, 80.0), (520.0, 160.0), (490.0, 380.0), (90.0, 300.0)))
    m = Mapping(amap, Region("rect", x_mm=5, y_mm=5, w_mm=40, h_mm=20))
    return scene_photo._warped(m, (600, 480), None, None).warp


@pytest.mark.parametrize(
    "lines", [("REX", "07700 900123"), ("IF FOUND", "CALL 555-0199", "REWARD"), ("A   B",)]
)
def test_perspective_from_tables_or_line_by_line_is_the_whole_transform(lines):
    warp = _tilted_perspective()
    assert type(warp).__name__ == "HomographyWarp"
    canvas = Image.new("L", warp.canvas_size, 0)
    draw = ImageDraw.Draw(canvas)
    for i, text in enumerate(lines):
        draw.text((20 + 30 * i, 10 + 44 * i), text, fill=255, font_size=36)
    whole = np.asarray(warp.apply(canvas), int)  # Pillow's PERSPECTIVE over the whole box
    assert warp.index is not None  # tabulated: a render reads the tables
    tabled = np.asarray(warp.apply(canvas, (0, canvas.width)), int)
    assert np.array_equal(whole, tabled) and tabled.sum() > 0
    # Without tables (an area too large to tabulate): Pillow, line by line.
    plain = dataclasses.replace(warp, index=None, frac_x=None, frac_y=None)
    assert np.array_equal(whole, np.asarray(plain.apply(canvas, (0, canvas.width)), int))


def test_photo_light_over_the_letters_only_is_the_light_over_the_box():
    rng = np.random.default_rng(5)
    picture = Image.fromarray(rng.integers(0, 256, (60, 120, 3), dtype=np.uint8))
    light = Image.fromarray(rng.integers(0, 256, (60, 120, 3), dtype=np.uint8))
    scene = Scene(None, picture, 10.0, (0, 0), {}, {}, {"light": light})
    mask = _text_mask(size=(80, 40), text="Ok", shift=(20, 2))
    box = (20, 10, 100, 50)
    made = picture.crop(box)
    old = made.copy()
    old.paste(ImageChops.hard_light(old, light.crop(box)), (0, 0), mask)
    new = scene_photo.relight(scene, box, mask, made.copy())
    assert new.tobytes() == old.tobytes() and new.tobytes() != made.tobytes()


def test_ring_tables_only_up_to_their_size_limit():
    """12 bytes a box pixel: previews get tables, the large proof widths keep the plain warp."""
    from proofmark_renderer.bandwarp import TABLE_MAX_PIXELS

    product = catalog.product("ring-band")
    for width, tabled in ((1200, True), (2400, False)):
        warp = scenes.scene(product, width).surfaces["lines"].warp
        x0, y0, x1, y1 = warp.box
        assert isinstance(warp, TabledColumnWarp) is tabled
        assert ((x1 - x0) * (y1 - y0) <= TABLE_MAX_PIXELS) is tabled

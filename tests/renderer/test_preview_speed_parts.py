"""The parts that make a warm preview cheap (issue 16 item 6) give the same pictures as the
plain way: JPEG previews encoded row band by row band onto the scene's JPEG, the cylinder's
per-column warp, and the benchmark that compares a preview with the plain-Pillow floor."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageChops, ImageDraw, ImageFilter

from proofmark_renderer import bench, catalog, scenes
from proofmark_renderer.compose import (
    JPEG_OPTIONS,
    _text_layers,
    design_seed,
    draw_design,
    encode,
    encode_on_scene,
    join_jpeg,
    jpeg_interval,
    jpeg_rows,
    render,
)
from proofmark_renderer.model import Design
from proofmark_renderer.samples import SAMPLES
from proofmark_renderer.scenes.common import LayerCrop
from proofmark_renderer.validation import check
from proofmark_renderer.warp import build_columns, build_strips

WIDTH = 600  # 450 rows: the last row of 8 x 8 blocks is a partial one


def full_jpeg_with_row_markers(image: Image.Image) -> bytes:
    """The whole picture encoded with the preview's restart intervals (a few per block row)."""
    buf = io.BytesIO()
    image.save(buf, "JPEG", restart_marker_blocks=jpeg_interval(image.width), **JPEG_OPTIONS)
    return buf.getvalue()


def pixels(jpeg: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB"))


@pytest.mark.parametrize("product_id", list(SAMPLES))
def test_jpeg_preview_is_the_whole_picture_encoded(product_id):
    design = SAMPLES[product_id][0]
    result = render(design, WIDTH, "jpeg")
    scene = scenes.scene(catalog.product(product_id), WIDTH)
    plan = check(design)[1]
    picture = draw_design(scene, plan, catalog.font(design.font), design_seed(design))
    # Byte for byte the JPEG of the whole picture (with a restart marker per block row) ...
    assert result.image == full_jpeg_with_row_markers(picture)
    # ... whose pixels are exactly those of the plain encode with the preview's settings.
    assert np.array_equal(pixels(result.image), pixels(encode(picture, "JPEG")))
    assert (result.width, result.height) == picture.size


def test_jpeg_rows_at_the_top_and_the_partial_bottom_row():
    scene = scenes.scene(catalog.product("bar-necklace"), WIDTH)
    w, h = scene.size
    assert h % 8, "the test needs a picture whose last block row is partial"
    top = Image.new("RGB", (40, 5), (200, 10, 10))
    bottom = Image.new("RGB", (w, 3), (10, 10, 200))
    patches = [(top, (10, 0, 50, 5)), (bottom, (0, h - 3, w, h))]
    picture = scene.image.copy()
    for patch, box in patches:
        picture.paste(patch, box[:2])
    assert encode_on_scene(scene, patches) == full_jpeg_with_row_markers(picture)
    assert encode_on_scene(scene, []) == full_jpeg_with_row_markers(scene.image)


def test_jpeg_rows_split_and_join_round_trip():
    image = Image.effect_noise((123, 77), 90).convert("RGB")
    rows = jpeg_rows(image)
    assert (rows.interval, rows.per_row) == (4, 4)  # 16 blocks across: four intervals of four
    assert len(rows.rows) == -(-77 // 8) * 4
    assert join_jpeg(rows.head, rows.rows) == full_jpeg_with_row_markers(image)


def test_restart_intervals_cut_each_block_row_evenly():
    assert jpeg_interval(1200) == 25  # 150 blocks: six intervals of 200 px
    assert jpeg_interval(1000) == 25  # 125 blocks: five
    assert jpeg_interval(600) == 15  # 75 blocks: five
    assert jpeg_interval(2400) == 50  # 300 blocks: six
    assert jpeg_interval(900) == 113  # 113 blocks, a prime: the whole row is one interval


@pytest.mark.parametrize("width", [1200, 900])
def test_jpeg_patches_in_the_middle_and_at_the_right_edge(width):
    """Only the intervals the patches touch are encoded anew; the result is still the whole
    picture's JPEG, at a width cut into intervals (1200) and one that is not (900)."""
    scene = scenes.scene(catalog.product("mug"), width)
    w, h = scene.size
    middle = Image.new("RGB", (30, 20), (200, 10, 10))
    edge = Image.new("RGB", (7, 11), (10, 200, 10))
    for patches in (
        [(middle, (w // 2 - 15, 100, w // 2 + 15, 120))],
        [(middle, (w // 2 - 15, 100, w // 2 + 15, 120)), (edge, (w - 7, h - 11, w, h))],
        [(edge, (0, 41, 7, 52))],
        # Two bands (rows apart), one of them two patches whose rows meet (one band around
        # both), given out of order.
        [
            (edge, (w - 7, h - 11, w, h)),
            (middle, (w // 2 - 15, 100, w // 2 + 15, 120)),
            (middle, (10, 110, 40, 130)),
        ],
        # Block rows next to each other, not shared: two bands.
        [(middle.crop((0, 0, 30, 8)), (0, 0, 30, 8)), (middle, (w - 30, 8, w, 28))],
    ):
        picture = scene.image.copy()
        for patch, box in patches:
            picture.paste(patch, box[:2])
        made = encode_on_scene(scene, patches)
        assert made == full_jpeg_with_row_markers(picture)
        assert np.array_equal(pixels(made), pixels(encode(picture, "JPEG")))


def test_text_free_design_is_the_scene_picture():
    design = Design("mug", "lato", ())
    result = render(design, WIDTH, "jpeg")
    scene = scenes.scene(catalog.product("mug"), WIDTH)
    assert np.array_equal(pixels(result.image), pixels(encode(scene.image, "JPEG")))


def test_other_formats_and_area_outline_draw_the_same_picture():
    design = SAMPLES["cutting-board"][0]
    as_jpeg = pixels(render(design, WIDTH, "jpeg").image)
    kept = render(design, WIDTH, "png", keep_picture=True)
    assert np.array_equal(np.asarray(kept.picture.convert("RGB")), pixels(kept.image))
    assert np.array_equal(as_jpeg, pixels(encode(kept.picture, "JPEG")))
    outlined = render(design, WIDTH, "jpeg", area=True)
    assert not np.array_equal(pixels(outlined.image), as_jpeg)  # the outline is drawn over it


def _cylinder(width: int = 200, height: int = 120, canvas=(300, 90)):
    cx, r = width / 2, width * 0.48

    def inverse(x, y):
        s = np.clip((x - cx) / r, -1, 1)
        th = np.arcsin(s)
        u = canvas[0] / 2 + r * th * 0.9
        v = (y - 10) * 0.8 - 6 * np.cos(th)
        return u, v, np.abs((x - cx) / r) < 0.995

    return inverse, (10, 5, 10 + width, 5 + height)


def test_column_warp_matches_the_strips_it_replaced():
    inverse, box = _cylinder(400)  # about a mug's size at 1200 px
    canvas = Image.new("L", (300, 90), 0)
    ImageDraw.Draw(canvas).text((40, 20), "Grandma 1987", fill=255, font_size=40)
    columns = build_columns((300, 90), box, inverse).apply(canvas)
    strips = build_strips((300, 90), box, inverse, 4).apply(canvas)
    a, b = np.asarray(columns, np.int16), np.asarray(strips, np.int16)
    assert a.max() == 255  # the text is there
    assert np.abs(a - b).mean() < 0.5
    assert (np.abs(a - b) > 40).mean() < 0.002


def test_column_warp_on_a_smaller_canvas_and_within_ranges():
    inverse, box = _cylinder()
    warp = build_columns((300, 90), box, inverse)
    full = Image.new("L", (300, 90), 0)
    ImageDraw.Draw(full).text((100, 30), "Dad", fill=255, font_size=40)
    everything = np.asarray(warp.apply(full), np.int16)
    ink = full.getbbox()
    # Only the text's columns and rows are bent; nothing of the text is lost.
    ranged = np.asarray(warp.apply(full, (ink[0], ink[2]), 1.0, (ink[1], ink[3])), np.int16)
    assert np.array_equal(ranged, everything)
    # Text rasterised at half size is read as the strips read it.
    inverse, box = _cylinder(400)
    half = full.resize((150, 45), Image.Resampling.BILINEAR)
    ranges = (ink[0], ink[2]), 0.5, (ink[1], ink[3])
    a = np.asarray(build_columns((300, 90), box, inverse).apply(half, *ranges), np.int16)
    b = np.asarray(build_strips((300, 90), box, inverse, 4).apply(half, *ranges), np.int16)
    assert a.max() > 200
    assert np.abs(a - b).mean() < 0.5


def test_bench_reports_cold_and_warm_per_product_and_width_with_the_floor_cpu_and_rss():
    result = bench.run(repeat=2, photos=False, widths=(320, 360))
    assert result["widths"] == [320, 360]
    assert set(result["by_width"]) == {"320", "360"}
    # The targets are for 1200 px; without it the first width is reported at the top.
    assert result["width"] == 320 and result["products"] == result["by_width"]["320"]["products"]
    # Prepared as a worker prepares itself: glyph faces, then every sample's scene per width.
    prepare = result["prepare"]
    assert prepare["scenes"] == 2 * len(SAMPLES)
    assert prepare["glyph_faces_s"] >= 0 and prepare["rss_mb"] > 0
    for width in ("320", "360"):
        rows = result["by_width"][width]["products"]
        assert set(rows) == set(SAMPLES)
        for row in rows.values():
            for key in ("median_ms", "p95_ms", "cpu_ms", "floor_ms", "floor_cpu_ms", "first_ms", "second_ms"):
                assert row[key] > 0, key
            assert row["p95_ms"] >= row["median_ms"]
            # Both medians are rounded to 0.01 ms in the report; the ratio is of the unrounded.
            assert row["ratio"] == pytest.approx(row["median_ms"] / row["floor_ms"], rel=0.02, abs=0.01)
            # The two cold renders of each design are not among the warm samples.
            assert row["samples"] == 2 * row["designs"]
            assert row["scene_mb"] > 0 and row["scene_ms"] >= 0 and row["rss_mb"] > 0
    assert result["targets"] == {"median_ms": 8.0, "ratio": 1.5, "width": 1200}
    assert "load_average_1min" in result and "load_average_before" in result
    table = bench.run_table(result)
    assert "floor cpu" in table and "load average" in table and "1st cpu" in table
    assert "320 px" in table and "360 px" in table and "glyph faces" in table


@pytest.mark.parametrize("product_id", list(SAMPLES))
def test_the_longest_text_stays_where_the_layers_are_kept(product_id):
    """The finish layers are kept only where text can land: the widest, tallest text any
    font makes must stay inside (outside, the layer reads black)."""
    product = catalog.product(product_id)
    scene = scenes.scene(product, WIDTH)
    kept = [layer for layer in scene.layers.values() if isinstance(layer, LayerCrop)]
    fields = {f.id: "W" * f.max_chars for f in product.field_specs}
    longest = ("W" * product.max_chars_per_line,) * product.max_lines
    for font_id in product.allowed_fonts:
        for lines in (longest, ("Wg" * (product.max_chars_per_line // 2),), ("j",)):
            for size_mode in ("auto", "min"):
                design = Design(product_id, font_id, lines, fields, size_mode=size_mode)
                plan = check(design)[1]
                if plan is None or not plan.lines:
                    continue
                for mask, box in _text_layers(scene, plan, catalog.font(font_id), design_seed(design)):
                    ink = mask.getbbox()
                    if ink is None:
                        continue
                    for layer in kept:
                        ox, oy = layer.origin
                        assert box[0] + ink[0] >= ox and box[1] + ink[1] >= oy, (font_id, lines)
                        assert box[0] + ink[2] <= ox + layer.width, (font_id, lines)
                        assert box[1] + ink[3] <= oy + layer.height, (font_id, lines)


def test_wall_light_scales_folded_into_the_tables_equal_scaling_afterwards():
    """The finishes fold their tint strengths into wall_light's lookup tables (a pass each
    fewer); that is exactly the old `scaled` after the fact, and for a cut (multiplied by
    the mask afterwards) within one level of it."""
    from proofmark_renderer.finishes.common import cut_light, scaled, wall_light

    mask = Image.new("L", (120, 60), 0)
    ImageDraw.Draw(mask).ellipse((20, 10, 100, 50), fill=255)
    mask = mask.filter(ImageFilter.GaussianBlur(1.5))  # soft edges, as a letter's
    for step in (1, 2):
        lit, shade = wall_light(mask, step)
        folded = wall_light(mask, step, lit_scale=0.24, shade_scale=0.4)
        assert folded[0].tobytes() == scaled(lit, 0.24).tobytes()
        assert folded[1].tobytes() == scaled(shade, 0.4).tobytes()
        cut = cut_light(mask, step)
        cut_folded = cut_light(mask, step, lit_scale=0.85, shade_scale=0.7)
        for before, after, factor in ((cut[0], cut_folded[0], 0.85), (cut[1], cut_folded[1], 0.7)):
            old = np.asarray(scaled(before, factor), np.int16)
            assert np.abs(old - np.asarray(after, np.int16)).max() <= 1
            assert old.any()  # the walls are there at all
    # Without scales the tables are the plain ones (laser.py calls it so).
    assert cut_light(mask, 1)[0].tobytes() == ImageChops.multiply(wall_light(mask, 1)[0], mask).tobytes()


def _bilinear_columns(warp, canvas: Image.Image, k: float) -> np.ndarray:
    """ColumnWarp's map read with float64 bilinear sampling, pixel by pixel (zero outside
    the canvas): what the fixed-point passes must match."""
    src = np.pad(np.asarray(canvas, np.float64), 2)
    x0, y0, x1, y1 = warp.box
    j = np.arange(y1 - y0, dtype=np.float64)[:, None]
    u = (warp.u * k - 0.5)[None, :] + 2 + 0 * j
    v = (warp.v_top * k - 0.5)[None, :] + (warp.v_step * k)[None, :] * j + 2
    ch, cw = src.shape
    u, v = np.clip(u, 0, cw - 1.001), np.clip(v, 0, ch - 1.001)
    iu, iv = np.floor(u).astype(int), np.floor(v).astype(int)
    fu, fv = u - iu, v - iv
    out = (
        src[iv, iu] * (1 - fu) * (1 - fv)
        + src[iv, iu + 1] * fu * (1 - fv)
        + src[iv + 1, iu] * (1 - fu) * fv
        + src[iv + 1, iu + 1] * fu * fv
    )
    out *= warp.ok[None, :]
    if warp.visible is not None:
        out *= warp.visible / 255
    return out


@pytest.mark.parametrize("k", [1.0, 0.87, 0.57])
@pytest.mark.parametrize("product_id", ["mug", "ring-band"])
def test_column_warp_fixed_point_is_within_two_levels_of_exact_bilinear(product_id, k):
    warp = scenes.scene(catalog.product(product_id), 1200).surfaces["lines"].warp
    cw, ch = warp.canvas_size
    canvas = Image.new("L", (max(1, round(cw * k)), max(1, round(ch * k))), 0)
    ImageDraw.Draw(canvas).text((10, 5), "Grandma 1987 Wg", fill=255, font_size=int(60 * k) + 8)
    got = np.asarray(warp.apply(canvas, None, k), np.float64)
    want = _bilinear_columns(warp, canvas, k)
    assert got.max() >= 250  # the text is there
    assert np.abs(got - want).max() <= 2.5
    assert np.abs(got - want).mean() < 0.05


def test_letter_rng_is_numpys_default_rng_seeded_the_same():
    from proofmark_renderer.finishes.stamp import letter_rng

    rng = np.random.default_rng(16)
    seeds = [int(s) for s in rng.integers(0, 2**63, 3000, dtype=np.int64)]
    seeds += [int(s) for s in rng.integers(0, 2**32, 500, dtype=np.int64)]
    seeds += [0, 1, 2**32 - 1, 2**32, 2**63, 2**64 - 1, 2**64 + 5]
    for seed in seeds:
        want = np.random.default_rng(seed)
        got = letter_rng(seed)
        assert got.standard_normal(4).tolist() == want.standard_normal(4).tolist(), seed
        assert got.random() == want.random(), seed

"""What makes a variant look like its material (issue 10, "look at every preview as a shopper
would"): rose gold's shadows stay warm, heather is a fine even fleck, a black coat is smooth,
a ring's cut is a fine satin, and a demo close-up is drawn at its own size, not enlarged."""

from __future__ import annotations

import colorsys

import numpy as np
import pytest
from PIL import Image

from proofmark_renderer import catalog, photo_variants, scenes
from proofmark_renderer.substrates import blur

LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def _rgb(im: Image.Image) -> np.ndarray:
    return np.asarray(im.convert("RGB"), np.float32) / 255


def test_rose_gold_shadows_are_a_deep_warm_copper_never_mauve():
    p = catalog.product("pendant-round").with_variant("rose-gold")
    scene = scenes.scene(p, 600)
    rgb = _rgb(scene.image)
    (ox, oy), s = scene.origin, scene.scale
    yy, xx = np.mgrid[0 : rgb.shape[0], 0 : rgb.shape[1]]
    face = np.hypot(xx - (ox + 12.5 * s), yy - (oy + 12.5 * s)) < 10.5 * s  # inside the rim's bevel
    disc = rgb[face]
    lum = disc @ LUMA
    shadow = disc[lum < np.percentile(lum, 20)].mean(axis=0)
    hue, sat, _ = colorsys.rgb_to_hsv(*shadow)
    # Between red and yellow (a copper-brown), clearly coloured: a mauve or grey-pink shadow
    # has blue close to green and little saturation.
    assert 0 < hue * 360 < 40, shadow
    assert shadow[0] > shadow[1] > shadow[2], shadow
    assert sat > 0.2, shadow
    # And the lit face is still a pinkish gold, paler than its shadow.
    lit = disc[lum > np.percentile(lum, 60)].mean(axis=0)
    assert lit[0] > lit[1] > lit[2] and colorsys.rgb_to_hsv(*lit)[1] < sat


def test_heather_grey_is_a_fine_even_fleck_not_blotches():
    p = catalog.product("tshirt").with_variant("heather-grey")
    scene = scenes.scene(p, 1200)
    (ox, oy), s = scene.origin, scene.scale
    # A patch of the body below the print area (no seams, no collar).
    x0, x1, y0, y1 = (int(ox + 120 * s), int(ox + 400 * s), int(oy + 470 * s), int(oy + 620 * s))
    lum = _rgb(scene.image)[y0:y1, x0:x1] @ LUMA
    fine = lum - blur(lum, 1.5)  # fibre-scale fleck
    blotch = blur(lum, 1.5) - blur(lum, 8)  # a few millimetres: the felt-like mottle
    assert fine.std() > 1.5 * blotch.std(), (fine.std(), blotch.std())
    assert 0.01 < fine.std() < 0.05  # visible, but a fleck, not noise


def test_a_ring_engraving_floor_is_a_fine_satin_not_a_coarse_grain():
    p = catalog.product("ring-band")
    scene = scenes.scene(p, 1200)
    x0, y0, x1, y1 = scene.surfaces["lines"].warp.box
    floor = _rgb(scene.layers["floor"].crop((x0, y0, x1, y1))) @ LUMA
    pixel_grain = floor - blur(floor, 1.5)
    assert pixel_grain.std() < 0.012, pixel_grain.std()


@pytest.fixture(scope="module")
def demo():
    return {product["id"]: (files, product) for files, product in photo_variants.samples()}


def test_a_black_tag_is_a_smooth_coat_without_the_steel_brushing(demo):
    files, product = demo["dog-tag"]
    view = product["views"][0]
    steel, black = files[view["photo"]], files["black-" + view["photo"]]
    inside = np.asarray(photo_variants.tag_mask(steel.size, product, view), np.float32) / 255
    inside = blur(inside, 8) > 0.999  # well inside the outline: no rim, hole or chain edge
    inside &= blur((_rgb(steel) @ LUMA > 0.55).astype(np.float32), 6) > 0.999  # not the chain

    def streaks(im):
        lum = _rgb(im) @ LUMA
        return float((lum - blur(lum, 4))[inside].std())

    assert inside.sum() > 20000
    assert streaks(black) < 0.25 * streaks(steel), (streaks(black), streaks(steel))
    assert float((_rgb(black) @ LUMA)[inside].mean()) < 0.2  # and it is black


def test_a_close_up_is_drawn_at_its_own_size_not_enlarged(demo):
    # The dog tag: its brushed steel has fine detail to lose (the tumbler's powder coat is
    # smooth, so an enlargement of it is hard to tell by numbers; it is drawn the same way).
    files, product = demo["dog-tag"]
    main, close = product["views"]
    assert files[close["photo"]].size == files[main["photo"]].size
    enlarged, _ = photo_variants.close_up(files[main["photo"]], main)  # the old way

    def detail(im):  # its finest detail (the brushing): an enlargement smooths it away
        lum = _rgb(im) @ LUMA
        return float(np.abs(lum - blur(lum, 1.5)).mean())

    assert detail(files[close["photo"]]) > 1.3 * detail(enlarged)
    # The same framing: the area's corners sit where the enlargement put them (±2 px).
    assert np.allclose(
        np.array(close["areas"]["lines"]["corners"]),
        np.array(photo_variants.close_up(files[main["photo"]], main)[1]["areas"]["lines"]["corners"]),
        atol=2,
    )

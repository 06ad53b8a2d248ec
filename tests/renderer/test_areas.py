"""The show-area outline: drawn along each personalization area, bent as the text is."""

from __future__ import annotations

import math

import numpy as np
import pytest

from proofmark_renderer import Design, areas, catalog, scenes
from proofmark_renderer.compose import render


def test_flag_changes_the_key_and_leaves_the_plain_key_alone():
    d = Design("mug", "lato", ("Hi",))
    assert d.content_key(600, "png") == d.content_key(600, "png", area=False)
    assert d.content_key(600, "png", area=True) != d.content_key(600, "png")
    assert render(d, 600, "png", area=True).content_key == d.content_key(600, "png", area=True)


@pytest.mark.parametrize("product_id", [p.id for p in catalog.products()])
def test_every_product_gets_an_outline_inside_the_frame(product_id):
    product = catalog.product(product_id)
    scene = scenes.scene(product, 600)
    mask = areas.area_mask(scene)
    assert (mask > 0.5).sum() > 200, "no outline drawn"


def test_pendant_outline_is_the_engravable_circle():
    product = catalog.product("pendant-round")
    scene = scenes.scene(product, 600)
    mask = areas.area_mask(scene)
    region = product.region
    ox, oy = scene.origin
    cx, cy = ox + region.cx_mm * scene.scale, oy + region.cy_mm * scene.scale
    r = region.r_mm * scene.scale
    hits = 0
    for k in range(0, 360, 3):
        a = math.radians(k)
        x, y = cx + r * math.cos(a), cy + r * math.sin(a)
        patch = mask[int(y) - 2 : int(y) + 3, int(x) - 2 : int(x) + 3]
        hits += patch.max() > 0.5
    # A dashed line: most of the circle, not all of it.
    assert 0.45 * 120 < hits < 120
    # Nothing drawn at the centre (the outline is an outline, not a fill).
    assert mask[int(cy) - 5 : int(cy) + 5, int(cx) - 5 : int(cx) + 5].max() == 0


def test_mug_outline_follows_the_cylinder_not_a_rectangle():
    product = catalog.product("mug")
    scene = scenes.scene(product, 600)
    mask = areas.area_mask(scene) > 0.5
    rows = np.nonzero(mask.any(axis=1))[0]
    top = rows.min()
    cols = np.nonzero(mask[top : top + 40].any(axis=0))[0]
    mid = int(scene.origin[0])

    # The top edge is an arc of the rim's ellipse: lowest at the middle, higher at the sides.
    def first_row(x):
        hit = np.nonzero(mask[:, x])[0]
        return hit.min() if len(hit) else None

    centre = min(r for r in (first_row(x) for x in range(mid - 4, mid + 5)) if r is not None)
    side = min(r for r in (first_row(x) for x in cols[:6]) if r is not None)
    assert side < centre

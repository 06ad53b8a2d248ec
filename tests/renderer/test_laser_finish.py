"""The laser finish's cheaper parts (issues 10 and 16): work per group of letters instead of
the box around all of the text, the numpy half-size blur, and faces read without overlap
flags. Each gives the pixels of the plain way within a few levels, and the burn still reads
as a burn."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from proofmark_renderer import catalog, scenes
from proofmark_renderer import text as textmod
from proofmark_renderer.compose import _text_layers, design_seed
from proofmark_renderer.finishes import laser
from proofmark_renderer.finishes.common import (
    blur_factor,
    blur_small,
    enlarge_u8,
    ink_regions,
    wide_blur,
    wide_blur_array,
)
from proofmark_renderer.model import Design
from proofmark_renderer.samples import SAMPLES
from proofmark_renderer.validation import check

THREE_LINES = Design("cutting-board", "eb-garamond", ("The Kowalski", "Kitchen", "est. 2019"))


def _layers(design: Design, width: int):
    scene = scenes.scene(catalog.product(design.product), width)
    plan = check(design)[1]
    return scene, list(_text_layers(scene, plan, catalog.font(design.font), design_seed(design)))


@pytest.mark.parametrize(
    "design", [SAMPLES["cutting-board"][0], THREE_LINES], ids=["two-lines", "three-lines"]
)
@pytest.mark.parametrize("width", [600, 1200])
def test_groups_of_letters_give_the_pixels_of_one_box_around_all(design, width, monkeypatch):
    scene, layers = _layers(design, width)
    (mask, box) = layers[0]
    pad = int(np.ceil(laser.reach(scene.scale)))
    # Every gap wider than the halo's reach cut (so the design does split, else this test
    # could not fail) ...
    monkeypatch.setattr(laser, "SPLIT_PX", 0)
    assert len(ink_regions(np.asarray(mask), 2 * pad + 2, laser.SPLIT_PX)) > 2
    split = np.asarray(laser.apply(scene, box, mask, 0), np.int16)
    # ... and one group over the whole text gives the same picture.
    monkeypatch.setattr(laser, "SPLIT_PX", 10**12)
    assert len(ink_regions(np.asarray(mask), 2 * pad + 2, laser.SPLIT_PX)) == 1
    whole = np.asarray(laser.apply(scene, box, mask, 0), np.int16)
    diff = np.abs(split - whole)
    assert diff.mean() < 0.02
    assert diff.max() <= 3


def test_ink_regions_cut_lines_then_words():
    mask = np.zeros((100, 300), np.uint8)
    mask[10:30, 10:60] = 255  # line 1, word 1
    mask[10:30, 120:200] = 255  # line 1, word 2, 60 px further
    mask[70:90, 50:250] = 255  # line 2, 40 rows below
    assert ink_regions(mask, 20) == [(10, 10, 60, 30), (120, 10, 200, 30), (50, 70, 250, 90)]
    # A cut that saves too little is not made: one box per line, then one in all.
    assert ink_regions(mask, 20, 60 * 20) == [(10, 10, 200, 30), (50, 70, 250, 90)]
    assert ink_regions(mask, 50) == [(10, 10, 250, 90)]
    assert ink_regions(np.zeros((5, 5), np.uint8), 2) == []


@pytest.mark.parametrize("radius", [2.0, 3.96, 6.5])
def test_numpy_blur_matches_pillows(radius):
    rng = np.random.default_rng(3)
    mask = np.zeros((96, 160), np.uint8)
    mask[24:72, 24:136] = (rng.random((48, 112)) < 0.3) * 255
    ours = wide_blur_array(mask, radius)
    pillows = np.asarray(wide_blur(Image.fromarray(mask), radius), np.float32)
    assert np.abs(ours - pillows).mean() < 0.5
    assert np.abs(ours - pillows).max() < 3


def test_the_burn_still_reads_as_a_burn():
    """Darker at each letter's rim than in its middle, the grain through it (its colour
    follows the wood's), and a scorched halo just outside the letters."""
    design = Design("cutting-board", "montserrat", ("HOME",))
    scene, [(mask, box)] = _layers(design, 1200)
    made = np.asarray(laser.apply(scene, box, mask, 0), np.float32).mean(axis=2)
    wood = np.asarray(scene.image.crop(box), np.float32).mean(axis=2)
    m = np.asarray(mask)
    core = np.asarray(Image.fromarray(m).filter(_min_filter(7))) == 255  # well inside the strokes
    # The rim on the side away from the light (where the far wall does not catch it).
    above_left = np.zeros_like(m)
    above_left[3:, 3:] = m[:-3, :-3]
    rim = (m == 255) & ~core & (above_left == 0)
    assert made[rim].mean() < made[core].mean() - 5
    # The burn takes its colour from the wood: where the wood is lighter, so is the burn.
    assert np.corrcoef(made[core], wood[core])[0, 1] > 0.5
    # The halo: a ring just outside the letters is darker than the wood there, by less than the burn.
    near = np.asarray(Image.fromarray(m).filter(_max_filter(5))) > 0
    ring = near & (m == 0)
    drop = (wood[ring] - made[ring]).mean()
    assert 3 < drop < (wood[core] - made[core]).mean()


def _min_filter(size):
    from PIL import ImageFilter

    return ImageFilter.MinFilter(size)


def _max_filter(size):
    from PIL import ImageFilter

    return ImageFilter.MaxFilter(size)


FLAGGED = ["playfair-display", "montserrat", "eb-garamond", "dancing-script", "noto-sans"]


@pytest.mark.parametrize("font_id", FLAGGED)
def test_faces_read_fonts_without_overlap_flags_and_draw_the_same_letters(font_id):
    font = catalog.font(font_id)
    data = font.path.read_bytes()
    patched = textmod.without_overlap_flags(data)
    assert patched is not None and len(patched) == len(data)
    assert textmod.without_overlap_flags(patched) is None  # no flag left
    text = "Hamburg 1987 & Kitchen"

    def draw(face):
        im = Image.new("L", (1400, 160))
        ImageDraw.Draw(im).text((10, 120), text, font=face, fill=255, anchor="ls")
        return np.asarray(im, np.int16)

    shipped = draw(ImageFont.truetype(str(font.path), 100, layout_engine=textmod.layout_engine()))
    ours = draw(textmod.pil_font(font, 100))
    diff = np.abs(shipped - ours)
    assert (shipped > 0).sum() > 1000
    assert diff.mean() < 0.5
    assert (diff > 40).sum() <= 60  # the odd pixel where two contours' outlines cross


def test_fonts_without_overlap_flags_are_read_as_they_are():
    assert textmod.without_overlap_flags(catalog.font("great-vibes").path.read_bytes()) is None
    assert textmod.without_overlap_flags(b"OTTO" + bytes(60)) is None


@pytest.mark.parametrize("radius", [2.0, 3.96, 6.5])
def test_small_blur_enlarged_in_integers_matches_the_float_blur(radius):
    """blur_small + enlarge_u8 (the laser's halo and rim) give wide_blur_array's values,
    rounded to 8 bits, within one level; scaling the small map first is the same as scaling
    the enlarged one (the enlargement is linear)."""
    rng = np.random.default_rng(5)
    mask = np.zeros((96, 160), np.uint8)
    mask[24:72, 24:136] = (rng.random((48, 112)) < 0.3) * 255
    f = blur_factor(radius)
    small = blur_small(mask, radius)
    ours = enlarge_u8(small, f).astype(np.float32)
    floats = wide_blur_array(mask, radius)
    assert ours.shape == floats.shape
    assert np.abs(ours - floats).max() <= 1
    assert np.abs(ours - floats).mean() < 0.3
    scaled = enlarge_u8(small * 0.27, f).astype(np.float32)
    assert np.abs(scaled - floats * 0.27).max() <= 1
    # The blocks a window of the small map enlarges to are those of the whole enlargement
    # away from the window's edge.
    part = enlarge_u8(small[4:-4, 4:-4], f)
    assert np.array_equal(part[f:-f, f:-f], enlarge_u8(small, f)[5 * f : -5 * f, 5 * f : -5 * f])


@pytest.mark.parametrize(
    "design",
    [SAMPLES["cutting-board"][0], THREE_LINES],
    ids=["two-lines", "three-lines"],
)
@pytest.mark.parametrize("width", [600, 1200, 2400])
def test_a_patch_per_group_of_letters_gives_the_pixels_of_the_box(design, width, monkeypatch):
    """apply_parts hands back each group's patch alone; pasted over the picture they are
    exactly the box that apply makes, and nothing outside them changed."""
    monkeypatch.setattr(laser, "SPLIT_PX", 0)  # every gap wider than the reach cut: many groups
    scene, layers = _layers(design, width)
    (mask, box) = layers[0]
    parts = laser.apply_parts(scene, box, mask, 0)
    assert len(parts) > 1
    picture = scene.image.copy()
    for patch, where in parts:
        assert patch.size == (where[2] - where[0], where[3] - where[1])
        assert box[0] <= where[0] and box[1] <= where[1] and where[2] <= box[2] and where[3] <= box[3]
        picture.paste(patch, where[:2])
    whole = np.asarray(laser.apply(scene, box, mask, 0))
    assert np.array_equal(np.asarray(picture.crop(box)), whole)
    # The patches do not overlap, so the order they are pasted in cannot matter.
    for i, (_, a) in enumerate(parts):
        for _, b in parts[i + 1 :]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]
    # And the burn is really there: the patches differ from the wood they replace.
    changed = np.asarray(picture, np.int16) - np.asarray(scene.image, np.int16)
    assert np.abs(changed).max() > 100

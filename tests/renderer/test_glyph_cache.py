"""Lines drawn from cached glyph bitmaps (proofmark_renderer.glyphs) are the pixels Pillow's
ImageDraw.text draws, for every catalog font; lines it cannot reproduce are left to Pillow;
the cache holds glyphs, not texts, and stays within its bound."""

from __future__ import annotations

import random
import threading

import numpy as np
import pytest
from PIL import Image, ImageDraw

from proofmark_renderer import catalog, compose, glyphs
from proofmark_renderer import text as textmod
from proofmark_renderer.samples import SAMPLES

pytestmark = pytest.mark.skipif(not textmod.raqm_available(), reason="needs Raqm")

TEXTS = (
    "Olivia & James",
    "World's Best",
    "KOWALSKI",
    "ŁÓDŹ · 1987",
    "Zoë Straße fi ffl Th",
    "WAVE Ta To Yo",
    "40°42′N 74°00′W",
    "12.03.2019",
    "Coffee first,",
)
SIZES = (17.5, 40.125, 63.0, 100.0)


def pillow(text: str, font, size: float, xy, canvas: Image.Image | None = None) -> Image.Image:
    canvas = canvas or Image.new("L", (1400, 260), 0)
    ImageDraw.Draw(canvas).text(xy, text, font=textmod.pil_font(font, size), fill=255, anchor="ls")
    return canvas


def cached(text: str, font, size: float, xy, canvas: Image.Image | None = None) -> tuple[Image.Image, bool]:
    """The line drawn by glyphs.draw_line, with its (font, size) already seen once."""
    glyphs._line_font(str(font.path), max(1.0, round(size * 8) / 8))
    canvas = canvas or Image.new("L", (1400, 260), 0)
    drawn = glyphs.draw_line(ImageDraw.Draw(canvas), xy, text, font, size)
    return canvas, drawn


def test_every_font_draws_what_pillow_draws():
    rng = random.Random(16)
    drawn_lines = 0
    for font in catalog.fonts():
        for text in TEXTS:
            if textmod.missing_chars(font, text):
                continue
            for size in SIZES:
                xy = (rng.uniform(4, 40), rng.uniform(150, 200))
                want = np.asarray(pillow(text, font, size, xy))
                got, drawn = cached(text, font, size, xy)
                if not drawn:
                    assert not np.asarray(got).any(), "a line left to Pillow must draw nothing"
                    continue
                drawn_lines += 1
                diff = np.abs(want.astype(int) - np.asarray(got, int))
                assert diff.max() == 0, (font.id, text, size, xy, int(diff.max()), int((diff > 0).sum()))
    # Every Latin font takes this path for these texts.
    assert drawn_lines >= 0.8 * len(TEXTS) * len(SIZES) * sum(
        1 for f in catalog.fonts() if f.group != "fallback"
    )


def test_lines_over_lines_blend_as_pillow_does():
    font = catalog.font("great-vibes")
    want = pillow("Hello World", font, 80.0, (10.4, 120.6))
    want = pillow("Hello World", font, 80.0, (30.7, 150.2), want)
    got, first = cached("Hello World", font, 80.0, (10.4, 120.6))
    got, second = cached("Hello World", font, 80.0, (30.7, 150.2), got)
    assert first and second
    assert np.array_equal(np.asarray(want), np.asarray(got))


@pytest.mark.parametrize(
    "text",
    [
        "שרה",  # right to left
        "Anna حبيبي",  # both directions
        "Ολγα Olga",  # two scripts
        "Zoe\u0301",  # a combining mark
        "a\u200db",  # a joiner
        "Love \U0001f600",  # an emoji
    ],
)
def test_lines_it_cannot_reproduce_are_left_to_pillow(text):
    font = catalog.font("noto-sans") or catalog.fonts()[0]
    canvas, drawn = cached(text, font, 60.0, (20.0, 150.0))
    assert not drawn
    assert not np.asarray(canvas).any()


def test_a_size_is_drawn_from_the_cache_from_its_second_line_on():
    font = catalog.font("lato") or catalog.fonts()[0]
    glyphs.clear()
    for attempt in range(3):
        canvas = Image.new("L", (900, 200), 0)
        drawn = glyphs.draw_line(ImageDraw.Draw(canvas), (10.5, 150.25), "Anna Maria", font, 61.3)
        assert drawn == (attempt > 0)
        if not drawn:
            assert not np.asarray(canvas).any()
    assert glyphs.stats["misses"] > 0


def test_new_text_reuses_the_glyphs_of_earlier_text():
    font = catalog.font("lato") or catalog.fonts()[0]
    glyphs.clear()
    cached("Lima Mail", font, 55.0, (10.0, 120.0))
    misses = glyphs.stats["misses"]
    assert misses == 7  # L i m a, the space, M l
    # Different text, same letters: nothing is rasterised again, and the result is exact.
    got, drawn = cached("Mila Lima mail", font, 55.0, (10.0, 120.0))
    assert drawn
    assert glyphs.stats["misses"] == misses
    want = pillow("Mila Lima mail", font, 55.0, (10.0, 120.0))
    assert np.array_equal(np.asarray(got), np.asarray(want))


def test_cache_stays_within_its_bound(monkeypatch):
    monkeypatch.setattr(glyphs, "CACHE_BYTES", 40_000)
    font = catalog.font("playfair-display") or catalog.fonts()[0]
    glyphs.clear()
    for size in (70.0, 80.0, 90.0, 100.0):
        got, drawn = cached("The Quick Brown Fox", font, size, (10.0, 180.0))
        assert drawn
        assert glyphs.cache_bytes() <= 40_000
        want = pillow("The Quick Brown Fox", font, size, (10.0, 180.0))
        assert np.array_equal(np.asarray(got), np.asarray(want))
    assert glyphs.stats["misses"] > 0
    glyphs.clear()


def test_threads_share_the_cache():
    font = catalog.font("dancing-script") or catalog.fonts()[0]
    glyphs.clear()
    texts = ["Always & Forever", "Mon amour", "Birthday Girl", "Team Lucía"]
    results: dict[int, list] = {}

    def work(i: int) -> None:
        out = []
        for j in range(6):
            text = texts[(i + j) % len(texts)]
            canvas, drawn = cached(text, font, 48.0 + j % 2, (12.25, 140.5))
            out.append((text, j % 2, drawn, np.asarray(canvas)))
        results[i] = out

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for out in results.values():
        for text, k, drawn, pixels in out:
            assert drawn
            assert np.array_equal(pixels, np.asarray(pillow(text, font, 48.0 + k, (12.25, 140.5))))


def test_sample_previews_are_unchanged(monkeypatch):
    """Every sample design's picture, drawn with and without the glyph cache."""
    designs = [d for ds in SAMPLES.values() for d in ds]
    glyphs.clear()
    for d in designs:  # each size seen once: the second render draws from the cache
        compose.render(d, 600, "png")
    with_cache = [np.asarray(compose.render(d, 600, "png", keep_picture=True).picture) for d in designs]
    assert glyphs.stats["hits"] > 100
    monkeypatch.setattr(glyphs, "draw_line", lambda *args: False)
    for design, got in zip(designs, with_cache, strict=True):
        want = np.asarray(compose.render(design, 600, "png", keep_picture=True).picture)
        assert np.array_equal(want, got), design


def test_prepare_makes_each_fonts_glyph_face_ahead_of_the_first_line():
    glyphs._glyph_face_bytes.cache_clear()
    fonts = catalog.fonts()[:3]
    glyphs.prepare(fonts)
    info = glyphs._glyph_face_bytes.cache_info()
    assert info.currsize == 3 and info.misses == 3
    for font in fonts:
        assert glyphs._glyph_face_bytes(str(font.path)) is not None
    assert glyphs._glyph_face_bytes.cache_info().hits == 3

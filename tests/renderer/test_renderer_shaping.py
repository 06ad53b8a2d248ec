"""Shaping: right-to-left order, joined Arabic, combining marks, stamped letter order."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from proofmark_renderer import Design, catalog, render
from proofmark_renderer import text as textmod


def draw(font_id: str, text: str) -> np.ndarray:
    """The text as the renderer draws it (Raqm: bidi, shaping)."""
    face = textmod.pil_font(catalog.font(font_id), 96)
    im = Image.new("L", (900, 200), 0)
    ImageDraw.Draw(im).text((20, 150), text, font=face, fill=255, anchor="ls")
    return np.asarray(im, np.float32) / 255


def in_string_order(font_id: str, text: str) -> np.ndarray:
    """The characters strictly left to right as stored, no bidi (Pillow's basic layout)."""
    face = ImageFont.truetype(str(catalog.font(font_id).path), 96, layout_engine=ImageFont.Layout.BASIC)
    im = Image.new("L", (900, 200), 0)
    ImageDraw.Draw(im).text((20, 150), text, font=face, fill=255, anchor="ls")
    return np.asarray(im, np.float32) / 255


def same(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal up to a few pixels of side bearing."""
    best = min(float(np.abs(a - np.roll(b, shift, axis=1)).mean()) for shift in range(-4, 5))
    return best < 0.004


def test_hebrew_is_drawn_right_to_left():
    # "שלום" drawn as the renderer draws it must look like its letters laid out reversed, left to right.
    assert same(draw("noto-sans-hebrew", "שלום"), in_string_order("noto-sans-hebrew", "םולש"))
    assert not same(draw("noto-sans-hebrew", "שלום"), in_string_order("noto-sans-hebrew", "שלום"))


def test_arabic_is_joined_and_right_to_left():
    joined = draw("noto-sans-arabic", "سلام")
    # Letters in isolated forms, side by side, do not look like the shaped word.
    isolated = in_string_order("noto-sans-arabic", "مالس")
    assert not same(joined, isolated)
    # The first letter (seen) is on the right.
    cols = np.flatnonzero(joined.any(axis=0))
    seen = draw("noto-sans-arabic", "س")
    assert cols.max() > 20 + np.flatnonzero(seen.any(axis=0)).max()


def test_mixed_hebrew_and_digits_keep_numbers_left_to_right():
    # Bidi: a number inside Hebrew still reads 2024, not 4202.
    line = draw("noto-sans-hebrew", "שנת 2024")
    digits = draw("noto-sans-hebrew", "2024")
    end = int(np.flatnonzero(digits.any(axis=0)).max()) + 2
    # The number comes first from the left, in its own order.
    assert float(np.abs(line[:, :end] - digits[:, :end]).mean()) < 0.002


def test_combining_accent_is_placed_like_the_precomposed_letter():
    a = draw("eb-garamond", "Rene\u0301e")
    b = draw("eb-garamond", "Renée")
    overlap = np.minimum(a, b).sum() / np.maximum(a, b).sum()
    assert overlap > 0.85


def test_layout_box_of_rtl_text_matches_its_glyphs():
    forward = render(Design("bar-necklace", "noto-sans-hebrew", ("שרה",)), 300)
    assert forward.ok and forward.layout is not None
    box = forward.layout.boxes[0]
    assert 0 < box.width_mm < 40 and box.text == "שרה"


def test_stamped_hebrew_strikes_letters_in_visual_order():
    font = catalog.font("noto-sans-hebrew")
    assert [g for g, _ in textmod.stamp_advances(font, "אבג")] == ["ג", "ב", "א"]
    assert [g for g, _ in textmod.stamp_advances(font, "ABC")] == ["A", "B", "C"]

"""render(): the contract the site builds on, determinism, and never raising."""

from __future__ import annotations

import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from proofmark_renderer import Design, RenderResult, catalog, render
from proofmark_renderer.model import Layout

PRODUCT_IDS = [
    "pendant-round",
    "bar-necklace",
    "ring-band",
    "ornament-stamped",
    "cutting-board",
    "tshirt",
    "mug",
]


def test_the_seven_products_are_listed_with_what_the_site_needs():
    products = {p.id: p for p in catalog.products()}
    assert set(PRODUCT_IDS) <= set(products)
    assert len({p.finish for p in products.values()}) >= 5
    for p in products.values():
        assert p.name and p.description and p.width_mm > 0 and p.height_mm > 0
        assert p.default_font in p.allowed_fonts
        assert all(catalog.font(f) is not None for f in p.allowed_fonts)
        assert p.max_lines >= 1 and p.max_chars_per_line >= 1 and p.min_letter_height_mm > 0
        assert isinstance(p.fields, list)
        assert catalog.product(p.id) is p
    assert products["pendant-round"].fields == ["rim"]


@pytest.mark.parametrize("fmt", ["jpeg", "webp", "png"])
def test_render_returns_an_encoded_image_with_a_predictable_key(fmt):
    design = Design("mug", "lato", ("Coffee",))
    result = render(design, width=320, fmt=fmt)
    assert isinstance(result, RenderResult) and result.ok
    assert result.content_key == design.content_key(320, fmt)
    assert result.content_type == f"image/{fmt}"
    im = Image.open(io.BytesIO(result.image))
    assert im.size == (result.width, result.height) == (320, 240)


def test_same_design_gives_byte_identical_output():
    design = Design("ornament-stamped", "courier-prime", ("IN LOVING", "MEMORY"))
    assert render(design, 400).image == render(design, 400).image


def test_stamped_letters_vary_but_by_the_design_not_by_chance():
    a = render(Design("ornament-stamped", "courier-prime", ("AAAA",)), 400, "png").image
    b = render(Design("ornament-stamped", "courier-prime", ("AAAA",)), 400, "png").image
    assert a == b


def test_layout_is_in_millimetres_and_the_same_at_every_width():
    design = Design("pendant-round", "eb-garamond", ("Noah", "& Lily"), {"rim": "always"})
    small, large = render(design, 300), render(design, 1200)
    assert isinstance(small.layout, Layout) and small.layout == large.layout
    lines = [b for b in small.layout.boxes if b.field is None]
    assert [b.line for b in lines] == [1, 2]
    for b in lines:
        assert b.x_mm > 0 and b.x_mm + b.width_mm < 25 and 0 < b.y_mm < 25
    rim = [b for b in small.layout.boxes if b.field == "rim"][0]
    assert rim.letter_height_mm <= 1.5 and rim.y_mm < lines[0].y_mm


def test_autofit_never_goes_below_the_minimum_letter_height():
    product = catalog.product("bar-necklace")
    result = render(Design("bar-necklace", "montserrat", ("WWWWWWWWWWWWWWWW",)), 300)
    assert result.layout.font_size_mm == pytest.approx(product.min_letter_height_mm)
    short = render(Design("bar-necklace", "montserrat", ("Jo",)), 300)
    # A short name grows until the bar's height stops it, within the product's maximum.
    assert product.min_letter_height_mm < short.layout.font_size_mm <= product.max_letter_height_mm
    box = short.layout.boxes[0]
    region = product.region
    assert region.y_mm - 0.01 <= box.y_mm and box.y_mm + box.height_mm <= region.y_mm + region.h_mm + 0.01


def test_unknown_product_still_returns_a_picture_and_the_reason():
    result = render(Design("spaceship", "lato", ("x",)), 300)
    assert not result.ok and result.issues[0].code == "product-unknown"
    assert Image.open(io.BytesIO(result.image)).size == (300, 225)


@pytest.mark.parametrize("fmt,width", [("gif", 300), ("jpeg", 10), ("jpeg", 99999)])
def test_odd_output_options_are_reported_not_raised(fmt, width, monkeypatch):
    from proofmark_renderer import compose

    # The clamp, not a 4096-px mug scene, is under test: a lower ceiling keeps it quick.
    monkeypatch.setattr(compose, "MAX_WIDTH", 640)
    result = render(Design("mug", "lato", ("x",)), width, fmt)
    assert result.image and result.issues
    if fmt == "jpeg":
        assert [i.code for i in result.issues] == ["width-out-of-range"]
        assert Image.open(io.BytesIO(result.image)).width == min(max(width, compose.MIN_WIDTH), 640)


TEXT = st.text(st.characters(codec="utf-8"), max_size=24)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    product=st.sampled_from(PRODUCT_IDS),
    font=st.sampled_from([f.id for f in catalog.fonts()] + ["nope"]),
    lines=st.lists(TEXT, max_size=4),
    rim=TEXT,
    align=st.sampled_from(["center", "left", "right", "weird"]),
)
def test_any_text_gives_an_image_or_structured_issues_and_never_raises(product, font, lines, rim, align):
    design = Design(product, font, tuple(lines), {"rim": rim} if rim else {}, align=align)
    result = render(design, 200)
    assert isinstance(result, RenderResult) and result.image
    assert not [i for i in result.issues if i.code == "internal-error"], result.issues
    for issue in result.issues:
        assert issue.severity in ("error", "warning") and issue.message

"""The embed on a shop's page, as a phone shopper and as the shop owner see it: the preview stays
on screen while typing further down, the shop's colours, font, buttons and logo set on the
script tag show inside the iframe, the data-lang attribute picks the language, and the loader's
JavaScript API (Proofmark.on, Proofmark.reset) works."""

from __future__ import annotations

import functools
import http.server
import io
import threading

import pytest
from PIL import Image
from playwright.sync_api import expect

from e2e.test_embed_browser import _QuietHandler, free_port

PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Shop product page</title>
<style>body {{ font-family: Georgia, serif; margin: 0 auto; max-width: 900px; padding: 1rem; }}
.hero {{ height: 380px; background: #ddd; }}</style></head>
<body>
<h1>Engraved round pendant · €49</h1>
<div class="hero">The shop's own photos</div>
<form id="product-form" action="/cart/add" method="post">
  <div id="personalizer"></div>
  <button class="buy" type="submit">Add to cart</button>
</form>
<script src="{proofmark}/embed.js" data-product="pendant-round" data-target="#product-form"
        data-mount="#personalizer" data-required {attributes}></script>
<script src="/host.js"></script>
</body></html>
"""

# The shop's page script: uses the loader's API.
HOST_JS = """
window.confirmedDetails = [];
Proofmark.on('confirmed', function (detail) { window.confirmedDetails.push(detail); });
"""


@pytest.fixture
def shop_page(tmp_path):
    servers = []

    def start(proofmark_url: str, port: int, attributes: str = "", lang: str = "en") -> str:
        root = tmp_path / f"host-{port}"
        root.mkdir()
        (root / "product.html").write_text(
            PAGE.format(proofmark=proofmark_url, attributes=attributes, lang=lang)
        )
        (root / "host.js").write_text(HOST_JS)
        logo = io.BytesIO()
        Image.new("RGB", (240, 60), (11, 110, 79)).save(logo, "PNG")
        (root / "logo.png").write_bytes(logo.getvalue())
        handler = functools.partial(_QuietHandler, directory=str(root))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{port}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _frame(page):
    return page.frame_locator("iframe.proofmark-frame")


def test_on_a_phone_the_preview_stays_in_view_while_typing_the_third_line(
    server_factory, shop_page, browser, artifacts
):
    port = free_port()
    proofmark = server_factory({"EMBED_ALLOWED_ORIGINS": [f"http://127.0.0.1:{port}"]}, name="phone")
    host = shop_page(proofmark.url, port)
    context = browser.new_context(
        viewport={"width": 375, "height": 740}, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        page.goto(host + "/product.html")
        frame = _frame(page)
        expect(frame.locator("#input-line-1")).to_be_visible()
        page.wait_for_function(
            "() => document.querySelector('iframe.proofmark-frame').style.height !== '640px'"
        )
        third = frame.locator("[data-pz-text]").nth(2)
        frame.locator("[data-pz-text]").nth(0).fill("Anna")
        frame.locator("[data-pz-text]").nth(1).fill("Ben")
        third.tap()
        third.press_sequentially("always in my heart", delay=20)
        frame.locator("#pz-preview .pz-img[alt*='always in my heart']").wait_for()
        page.wait_for_timeout(300)  # the loader's scroll and the preview's move are one frame each
        image = frame.locator("#pz-preview .pz-img").bounding_box()
        field = third.bounding_box()
        page.screenshot(path=str(artifacts / "embed-phone-third-field.png"))
        assert image is not None and field is not None
        # In the visible viewport (the page's coordinates), and not covering the field.
        assert image["y"] >= -1 and image["y"] + image["height"] <= 740 + 1, image
        assert field["y"] >= image["y"] + image["height"] - 1 and field["y"] + field["height"] <= 740, field
        assert page.evaluate("() => window.scrollY") > 0  # it did have to scroll
    finally:
        context.close()


KEYBOARD = 320  # px an on-screen keyboard takes from a 740 px phone screen


def test_on_a_phone_with_the_keyboard_open_the_preview_and_the_third_field_stay_in_view(
    server_factory, shop_page, browser, artifacts
):
    """As on a phone: the keyboard opens after the third box gets the focus and shrinks the
    visible area (simulated by shrinking the viewport, which fires the same `resize` and
    `visualViewport` resize events). The preview and the box being typed in stay in what is
    left of the screen."""
    port = free_port()
    proofmark = server_factory({"EMBED_ALLOWED_ORIGINS": [f"http://127.0.0.1:{port}"]}, name="keyboard")
    host = shop_page(proofmark.url, port)
    context = browser.new_context(
        viewport={"width": 375, "height": 740}, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        page.goto(host + "/product.html")
        frame = _frame(page)
        expect(frame.locator("#input-line-1")).to_be_visible()
        page.wait_for_function(
            "() => document.querySelector('iframe.proofmark-frame').style.height !== '640px'"
        )
        boxes = frame.locator("[data-pz-text]")
        boxes.nth(0).fill("Anna")
        boxes.nth(1).fill("Ben")
        third = boxes.nth(2)
        third.tap()
        page.wait_for_timeout(300)  # the reveal before the keyboard
        # The keyboard slides up: the visible area shrinks to what is above it.
        visible = 740 - KEYBOARD
        page.set_viewport_size({"width": 375, "height": visible})
        page.wait_for_function(f"() => window.visualViewport.height <= {visible}")
        third.press_sequentially("always in my heart", delay=20)
        frame.locator("#pz-preview .pz-img[alt*='always in my heart']").wait_for()
        page.wait_for_timeout(300)  # the loader's scroll and the preview's move are one frame each
        assert page.evaluate("() => document.activeElement.tagName") == "IFRAME"
        image = frame.locator("#pz-preview .pz-img").bounding_box()
        field = third.bounding_box()
        page.screenshot(path=str(artifacts / "embed-phone-keyboard.png"))
        assert image is not None and field is not None
        assert image["y"] >= -1 and image["y"] + image["height"] <= visible + 1, (image, visible)
        assert field["y"] >= image["y"] + image["height"] - 1, (field, image)
        assert field["y"] + field["height"] <= visible + 1, (field, visible)
    finally:
        context.close()


def test_the_shop_sets_colours_font_buttons_and_logo_on_the_script_tag(
    server_factory, shop_page, browser, artifacts
):
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    proofmark = server_factory({"EMBED_ALLOWED_ORIGINS": [origin]}, name="theme")
    host = shop_page(
        proofmark.url,
        port,
        attributes=(
            'data-accent="#0b6e4f" data-ink="#102a43" data-background="#eef7f3" '
            'data-font="Georgia, serif" data-button-radius="0px" data-logo="/logo.png" data-lang="de"'
        ),
        lang="de",
    )
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        page.goto(host + "/product.html")
        frame = _frame(page)
        frame.locator("#input-line-1").fill("Anna")
        button = frame.locator("[data-continue]")
        expect(button).to_be_visible()
        expect(button).to_have_css("background-color", "rgb(11, 110, 79)")
        expect(button).to_have_css("border-radius", "0px")
        expect(frame.locator("body")).to_have_css("font-family", "Georgia, serif")
        expect(frame.locator("body")).to_have_css("color", "rgb(16, 42, 67)")
        logo = frame.locator("[data-embed-logo] img.embed-logo")
        expect(logo).to_be_visible()
        assert logo.evaluate("img => img.complete && img.naturalWidth") == 240
        # data-lang: the personalizer speaks German.
        expect(frame.locator(".pz-text legend")).to_have_text("Ihr Text")
        frame.locator("#pz-preview .pz-img").evaluate(
            "img => img.complete ? true : new Promise(r => img.addEventListener('load', r))"
        )
        page.screenshot(path=str(artifacts / "embed-theme.png"), full_page=True)

        # The data-required note speaks the host page's language.
        frame.locator("#input-line-1").fill("")
        page.click("button.buy")
        expect(page.locator(".proofmark-required")).to_have_text(
            "Bitte gestalten und bestätigen Sie zuerst Ihren Entwurf."
        )

        # Proofmark.on('confirmed') hears the confirmation; Proofmark.reset() starts again.
        frame.locator("#input-line-1").fill("Anna")
        frame.locator("[data-continue]").click()
        frame.locator("input[name=checked]").check()
        frame.locator("button.primary[type=submit]").click()
        page.wait_for_function("() => window.confirmedDetails.length === 1")
        assert page.evaluate("() => window.confirmedDetails[0].summary") == "Anna"
        expect(page.locator(".proofmark-required")).to_have_count(0)
        page.evaluate("() => Proofmark.reset()")
        expect(page.locator("#product-form input[name='properties[_proof_design]']")).to_have_count(0)
        expect(frame.locator("#input-line-1")).to_have_value("")
    finally:
        context.close()

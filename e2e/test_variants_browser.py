"""Variants and views in a real browser: a shopper on a phone switches the variant and the
view (the live preview follows each), and staff drag a corner handle of the product editor by
touch (Chrome DevTools touch events: touchStart, touchMove, touchEnd on the handle)."""

from __future__ import annotations

import json
import secrets
import sqlite3

from playwright.sync_api import expect

from e2e.test_personalizer_browser import shown_design, wait_for_preview
from e2e.test_products_browser import PASSWORD, shop_photo
from proofmark_renderer import photo_variants

PHONE = {
    "viewport": {"width": 375, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}


LOADED = "() => [...document.images].every(i => i.complete && i.naturalWidth > 0)"


def wait_for_view(page, view: int) -> None:
    page.wait_for_function(
        """(view) => {
            const img = document.querySelector('#pz-preview .pz-img');
            if (!img || !img.complete || !img.naturalWidth) return false;
            const v = new URL(img.src).searchParams.get('v') || '0';
            return v === String(view);
        }""",
        arg=view,
    )


def preview_bytes(page) -> bytes:
    src = page.evaluate("() => document.querySelector('#pz-preview .pz-img').src")  # absolute
    return page.request.get(src).body()


def test_a_phone_shopper_switches_variant_and_view(server_factory, browser, tmp_path, artifacts):
    server = server_factory()
    folders = photo_variants.write(tmp_path / "src")
    for folder in folders:
        imported = server.flask("products", "import", str(folder))
        assert imported.returncode == 0, imported.stderr

    context = browser.new_context(**PHONE)
    page = context.new_page()
    # A fresh server builds each product's scenes on first use (seconds on a loaded machine).
    page.set_default_timeout(120_000)
    page.goto(server.url + "/p/dog-tag", wait_until="domcontentloaded")
    page.fill("#input-line-1", "Max")
    wait_for_preview(page, ["Max"])
    assert shown_design(page)["variant"] == "steel"
    steel = preview_bytes(page)
    page.screenshot(path=str(artifacts / "variants-phone-dog-tag-steel.png"), full_page=False)

    # Tap the variant: the preview becomes the black tag (the form posts with htmx).
    page.locator("label", has=page.locator('input[name="variant"][value="black"]')).tap()
    page.wait_for_function(
        """() => { const img = document.querySelector('#pz-preview .pz-img');
                   const d = new URL(img.src).searchParams.get('d');
                   return img.complete && img.naturalWidth && atob(d.replace(/-/g, '+').replace(/_/g, '/')).includes('"black"'); }"""
    )
    black = preview_bytes(page)
    assert black != steel
    # Tap the "Close-up" view tab: the same design on the product's second photo.
    page.locator("label", has=page.locator('input[name="view"][value="1"]')).tap()
    wait_for_view(page, 1)
    assert shown_design(page)["variant"] == "black" and shown_design(page)["lines"] == ["Max"]
    close = preview_bytes(page)
    assert close not in (steel, black)
    expect(page.locator('input[name="view"][value="1"]')).to_be_checked()
    page.screenshot(path=str(artifacts / "variants-phone-dog-tag-black-close-up.png"), full_page=False)
    # Typing keeps the chosen view and variant.
    page.fill("#input-line-2", "07 1234 5678")
    wait_for_preview(page, ["Max", "07 1234 5678"])
    assert shown_design(page)["variant"] == "black"
    wait_for_view(page, 1)
    # Confirming names the variant; the confirm step shows the proof's view (the first).
    page.click("[data-continue]")
    expect(page.locator(".confirm-preview figcaption")).to_contain_text("Black")

    # Every variant and view, as a shopper sees it (screenshots for looking at).
    looks = {
        "pendant-round": ["sterling-silver", "yellow-gold", "rose-gold"],
        "tshirt": ["navy", "red", "white", "heather-grey"],
        "dog-tag": ["steel", "black"],
    }
    for product, variants in looks.items():
        for variant in variants:
            page.goto(
                f"{server.url}/p/{product}?line-1=Anna&variant={variant}", wait_until="domcontentloaded"
            )
            page.wait_for_function(
                "() => { const i = document.querySelector('#pz-preview .pz-img'); return i.complete && i.naturalWidth; }"
            )
            page.locator("#pz-preview").screenshot(path=str(artifacts / f"variants-{product}-{variant}.png"))
            if variant == variants[-1]:
                page.screenshot(path=str(artifacts / f"variants-phone-{product}-page.png"), full_page=True)
    for view in (0, 1):
        page.goto(f"{server.url}/p/tumbler?line-1=Anna&view={view}", wait_until="domcontentloaded")
        wait_for_view(page, view)
        page.locator("#pz-preview").screenshot(path=str(artifacts / f"variants-tumbler-view{view}.png"))
    context.close()


def _touch(cdp, kind: str, x: float, y: float) -> None:
    points = [] if kind == "touchEnd" else [{"x": x, "y": y, "id": 1, "radiusX": 4, "radiusY": 4, "force": 1}]
    cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})


def test_staff_drag_a_corner_handle_by_touch(server_factory, browser, tmp_path, artifacts):
    server = server_factory()
    email = f"staff-{secrets.token_hex(3)}@shop.test"
    created = server.flask("create-staff", email, "--password-stdin", input=PASSWORD + "\n")
    assert created.returncode == 0, created.stderr
    context = browser.new_context(viewport={"width": 1024, "height": 800}, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(120_000)
    page.goto(server.url + "/staff/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/staff/proofs")
    page.goto(server.url + "/staff/products")
    page.set_input_files("input[name=photo]", str(shop_photo(tmp_path / "tag.jpg")))
    page.fill("input[name=id]", "touch-tag")
    page.fill("input[name=name]", "Touch tag")
    page.fill("input[name=width_mm]", "60")
    page.fill("input[name=height_mm]", "40")
    page.click("text=Upload and set up")
    page.wait_for_url("**/staff/products/touch-tag")
    page.wait_for_function("() => [...document.images].every(i => i.complete && i.naturalWidth > 0)")
    # On a wide screen the live preview sits beside the photo, not below the form.
    photo_box = page.locator("#area-editor").bounding_box()
    preview_box = page.locator("#product-preview").bounding_box()
    assert preview_box["x"] >= photo_box["x"] + photo_box["width"] - 1
    assert preview_box["y"] < photo_box["y"] + photo_box["height"]

    before = (float(page.input_value('input[name="tl_x"]')), float(page.input_value('input[name="tl_y"]')))
    handle = page.locator('circle[data-corner="tl"]')
    page.locator("#area-editor").scroll_into_view_if_needed()
    box = handle.bounding_box()
    svg = page.locator("#area-editor").bounding_box()
    per_px = svg["width"] / 1200  # screen pixels per photo pixel
    x0, y0 = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    dx, dy = 60.0, 40.0  # screen pixels
    cdp = context.new_cdp_session(page)
    with page.expect_response(
        lambda r: r.url.endswith("/staff/products/touch-tag") and r.request.method == "POST"
    ):
        _touch(cdp, "touchStart", x0, y0)
        for step in range(1, 7):
            _touch(cdp, "touchMove", x0 + dx * step / 6, y0 + dy * step / 6)
        _touch(cdp, "touchEnd", x0 + dx, y0 + dy)
    after = (float(page.input_value('input[name="tl_x"]')), float(page.input_value('input[name="tl_y"]')))
    expected = (before[0] + dx / per_px, before[1] + dy / per_px)
    assert abs(after[0] - expected[0]) < 2.5 and abs(after[1] - expected[1]) < 2.5, (before, after, expected)
    page.wait_for_function(LOADED)
    page.screenshot(path=str(artifacts / "variants-editor-touch.png"), full_page=False)
    # The saved draft holds the new corner.
    with sqlite3.connect(server.instance_path / "proofmark.sqlite") as db:
        data = json.loads(db.execute("SELECT data FROM product_drafts WHERE id = 'touch-tag'").fetchone()[0])
    saved = data["views"][0]["areas"]["lines"]["corners"][0]
    assert abs(saved[0] - expected[0]) < 2.5 and abs(saved[1] - expected[1]) < 2.5, saved

    # On a phone the editor keeps the preview in sight: pinned at the bottom of the screen.
    page.set_viewport_size({"width": 390, "height": 800})
    page.locator('input[name="sample_1"]').scroll_into_view_if_needed()
    page.wait_for_function(LOADED)
    side = page.locator(".editor-side").bounding_box()
    assert side["y"] + side["height"] <= 801 and side["y"] > 300 and side["height"] > 120, side
    page.screenshot(path=str(artifacts / "variants-editor-phone.png"), full_page=False)
    context.close()

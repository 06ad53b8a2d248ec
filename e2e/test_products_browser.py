"""A shop's own product, end to end in a real browser: staff upload a photo, drag the area's
corners (mouse), nudge one (keyboard), type one, and publish; a shopper on a phone
personalizes that product, confirms and orders; the proof is drawn on the shop's photo."""

from __future__ import annotations

import io
import secrets

from PIL import Image, ImageDraw
from playwright.sync_api import expect

from e2e.test_personalizer_browser import shown_design, wait_for_preview
from proofmark.db import get_db
from tests.staff_support import make_app

PASSWORD = "e2e staff password"
BACKDROP = (196, 58, 150)  # a colour no built-in scene has: the proof must show this photo


def shop_photo(path):
    image = Image.new("RGB", (1200, 900), BACKDROP)
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle(
        (300, 250, 900, 650), radius=60, fill=(190, 192, 198), outline=(120, 120, 126), width=6
    )
    image.save(path, "JPEG", quality=92)
    return path


def test_staff_publish_a_photo_product_and_a_phone_shopper_orders_it(
    server_factory, browser, tmp_path, artifacts
):
    server = server_factory({"PROOF_IMAGE_WIDTH": 1200})
    email = f"staff-{secrets.token_hex(3)}@shop.test"
    created = server.flask("create-staff", email, "--password-stdin", input=PASSWORD + "\n")
    assert created.returncode == 0, created.stderr

    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.goto(server.url + "/staff/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/staff/proofs")

    page.click("nav.staff-nav >> text=Products")
    page.set_input_files("input[name=photo]", str(shop_photo(tmp_path / "tag.jpg")))
    page.fill("input[name=id]", "shop-tag")
    page.fill("input[name=name]", "Shop tag")
    page.fill("input[name=width_mm]", "60")
    page.fill("input[name=height_mm]", "40")
    page.click("text=Upload and set up")
    page.wait_for_url("**/staff/products/shop-tag")
    expect(page.locator("#product-preview img")).to_be_visible()

    # Drag the top-left corner onto the tag's corner with the mouse.
    handle = page.locator('circle[data-corner="tl"]')
    box = handle.bounding_box()
    svg = page.locator("#area-editor").bounding_box()
    per_px = svg["width"] / 1200
    start = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    target = (svg["x"] + 340 * per_px, svg["y"] + 290 * per_px)
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move((start[0] + target[0]) / 2, (start[1] + target[1]) / 2, steps=4)
    page.mouse.move(*target, steps=4)
    page.mouse.up()
    tl_x = float(page.input_value('input[name="tl_x"]'))
    assert abs(tl_x - 340) < 4, tl_x
    # Nudge the top-right corner with the keyboard; type the bottom corners.
    page.locator('circle[data-corner="tr"]').focus()
    before = float(page.input_value('input[name="tr_x"]'))
    page.keyboard.press("Shift+ArrowRight")
    assert float(page.input_value('input[name="tr_x"]')) == before + 10
    for name, value in (
        ("tr_x", "860"),
        ("tr_y", "290"),
        ("br_x", "860"),
        ("br_y", "610"),
        ("bl_x", "340"),
        ("bl_y", "610"),
    ):
        page.fill(f'input[name="{name}"]', value)
    page.fill('input[name="tl_y"]', "290")
    page.fill('input[name="sample_1"]', "REX")
    with page.expect_response(lambda r: "/preview.jpg" in r.url and r.status == 200):
        page.locator('input[name="sample_1"]').dispatch_event("change")
    expect(page.locator(".product-preview .error")).to_have_count(0)
    page.wait_for_function("() => [...document.images].every(i => i.complete && i.naturalWidth > 0)")
    page.screenshot(path=str(artifacts / "products-editor.png"), full_page=True)
    page.click("#publish")
    expect(page.locator(".flash-ok")).to_contain_text("Published shop-tag version 1")
    context.close()

    phone = browser.new_context(
        viewport={"width": 375, "height": 740}, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    shopper = phone.new_page()
    shopper.goto(server.url + "/")
    shopper.click("text=Shop tag")
    shopper.wait_for_url("**/p/shop-tag@1")
    shopper.wait_for_load_state("load")
    shopper.fill("#input-line-1", "Biscuit")
    try:
        wait_for_preview(shopper, ["Biscuit"])
    except Exception:
        shopper.screenshot(path=str(artifacts / "products-personalizer-phone-failed.png"), full_page=True)
        print(shopper.url, server.log()[-3000:])
        raise
    assert shown_design(shopper)["product"] == "shop-tag@1"
    shopper.screenshot(path=str(artifacts / "products-personalizer-phone.png"), full_page=True)
    shopper.click("[data-continue]")
    shopper.check("input[name=checked]")
    shopper.click("text=Confirm design")
    expect(shopper.locator("h1")).to_have_text("Design confirmed")
    shopper.click("text=Add to cart")
    shopper.fill("input[name=customer_name]", "Ada Lovelace")
    shopper.fill("input[name=customer_email]", "ada@example.com")
    shopper.click("text=Place order")
    expect(shopper.locator("h1")).to_contain_text("your order is placed")
    # The proof image is drawn after the answer; the page updates itself once it exists.
    expect(shopper.locator("main")).to_contain_text("Check your email", timeout=120_000)
    phone.close()

    app = make_app(
        server.instance_path, SECRET_KEY="e2e-secret", DEMO=True, PUBLIC_URL=server.url, TESTING=False
    )
    with app.app_context():
        from proofmark import proofs, storage

        db = get_db()
        row = db.execute("SELECT id, product FROM proofs ORDER BY id DESC LIMIT 1").fetchone()
        assert row["product"] == "shop-tag@1"
        rev = proofs.get_revisions(db, row["id"])[-1]
        proof_png = Image.open(io.BytesIO(storage.get(rev.image_sha256)))
    proof_png.save(artifacts / "products-proof.png")
    corner = proof_png.convert("RGB").getpixel((10, proof_png.height // 2))
    assert all(abs(a - b) < 12 for a, b in zip(corner, BACKDROP, strict=True)), corner

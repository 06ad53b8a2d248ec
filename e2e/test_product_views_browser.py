"""The staff product editor's views in a real browser, by keyboard and by accessible name:
add a view, rename it, make it the proof view, upload a mask and see it by its file name and
a thumbnail. Then the approval page of a two-view product shows the stored close-up."""

from __future__ import annotations

import secrets

from PIL import Image
from playwright.sync_api import expect

PASSWORD = "e2e staff password"


def _photo(path, size, colour):
    Image.new("RGB", size, colour).save(path, "JPEG", quality=90)
    return path


def test_staff_rename_and_reorder_views_and_see_layers_by_name_with_the_keyboard(
    server_factory, browser, tmp_path, artifacts
):
    server = server_factory()
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
    page.goto(server.url + "/staff/products")
    page.set_input_files("input[name=photo]", str(_photo(tmp_path / "tag.jpg", (800, 600), (170, 170, 176))))
    page.fill("input[name=id]", "tag")
    page.fill("input[name=name]", "Tag")
    page.fill("input[name=width_mm]", "60")
    page.fill("input[name=height_mm]", "40")
    page.click("text=Upload and set up")
    page.wait_for_url("**/staff/products/tag")

    # The editor says which view is the proof's picture.
    expect(page.locator("#proof-view-note")).to_contain_text("View 1 is the proof's picture")
    # Add a second view (its name and photo), then work on it with the keyboard only.
    add = page.locator("form[action$='/views']")
    add.locator("input[name=name]").fill("Close up")
    add.locator("input[name=photo]").set_input_files(
        str(_photo(tmp_path / "c.jpg", (800, 600), (120, 120, 130)))
    )
    add.get_by_role("button", name="Add view").click()
    page.wait_for_url("**view=1**")
    rename = page.get_by_label("Name of view 2")
    rename.focus()
    page.keyboard.press("Control+A")
    page.keyboard.type("detail")
    page.keyboard.press("Enter")
    page.wait_for_load_state("load")
    expect(page.locator("nav.editor-tabs .tab[aria-current=page]")).to_have_text("2. detail")
    # Tab from the name field to the move buttons, and press Enter on "Make it the proof view".
    page.get_by_label("Name of view 2").focus()
    proof_button = page.get_by_role("button", name="Make it the proof view")
    for _ in range(4):
        page.keyboard.press("Tab")
        if proof_button.evaluate("b => b === document.activeElement"):
            break
    assert proof_button.evaluate("b => b === document.activeElement")
    page.keyboard.press("Enter")
    page.wait_for_url("**view=0**")
    tabs = page.locator("nav.editor-tabs .tab")
    expect(tabs.nth(0)).to_have_text("1. detail")
    expect(tabs.nth(1)).to_have_text("2. main")
    expect(page.get_by_role("button", name="Move earlier")).to_have_count(0)
    expect(page.get_by_role("button", name="Make it the proof view")).to_have_count(0)
    expect(page.get_by_role("button", name="Move later")).to_be_enabled()
    expect(page.locator("#view-files")).to_contain_text("This view is the proof's picture.")

    # A mask: shown by its file name and a thumbnail with an accessible name.
    mask = tmp_path / "chain-over-tag.png"
    Image.new("L", (800, 600), 0).save(mask)
    form = page.locator("form[action$='/views/0/mask']")
    form.locator("input[type=file]").set_input_files(str(mask))
    form.get_by_role("button", name="Upload").click()
    page.wait_for_load_state("load")
    expect(page.locator("#mask-now")).to_contain_text("chain-over-tag.png")
    thumb = page.get_by_role("img", name="The mask now: chain-over-tag.png")
    expect(thumb).to_be_visible()
    assert thumb.evaluate("i => i.complete && i.naturalWidth") == 800
    expect(page.get_by_role("button", name="Remove the mask")).to_be_visible()
    page.locator("#view-files").screenshot(path=str(artifacts / "product-views-editor.png"))
    context.close()


def test_the_approval_page_shows_the_stored_close_up_beside_the_proof(
    server_factory, browser, tmp_path, artifacts
):
    from proofmark import proofs
    from proofmark.db import get_db
    from proofmark_renderer import Design, photo_variants
    from tests.proofs_support import link_for
    from tests.staff_support import make_app

    server = server_factory()
    photo_variants.write(tmp_path / "demo")
    imported = server.flask("products", "import", str(tmp_path / "demo" / "dog-tag"))
    assert imported.returncode == 0, imported.stderr
    app = make_app(server.instance_path, SECRET_KEY="e2e-secret", PUBLIC_URL=server.url, TESTING=False)
    with app.app_context():
        db = get_db()
        proof_id = proofs.create_proof(
            db,
            order_ref="VIEWS-1",
            customer_name="Ada Lovelace",
            customer_email="ada@example.com",
            design=Design("dog-tag@1", "montserrat", ("REX", "07 1234"), variant="black"),
            source="staff",
            actor="staff:e2e",
        )
        link = link_for(db, proof_id)
    context = browser.new_context(
        viewport={"width": 375, "height": 740}, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    # The server's render worker draws the proof and its close-up; the page reloads until then.
    page.goto(f"{server.url}/approve/{link}")
    close_up = page.get_by_role("img", name="Close-up")
    expect(close_up).to_be_visible(timeout=240_000)
    assert "/views/1.png" in close_up.get_attribute("src")
    page.wait_for_function("() => [...document.images].every(i => i.complete && i.naturalWidth > 0)")
    assert close_up.evaluate("i => i.naturalWidth") == 1200
    expect(page.locator(".other-views")).to_contain_text("the proof above is what you approve")
    page.screenshot(path=str(artifacts / "approval-other-views-phone.png"), full_page=True)
    context.close()

    # Staff see the same stored close-up beside the revision's proof image, with its hash.
    email = f"staff-{secrets.token_hex(3)}@shop.test"
    assert server.flask("create-staff", email, "--password-stdin", input=PASSWORD + "\n").returncode == 0
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.goto(server.url + "/staff/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/staff/proofs")
    page.goto(f"{server.url}/staff/proofs/{proof_id}")
    thumb = page.get_by_role("img", name="Close-up view, revision 1")
    expect(thumb).to_be_visible()
    page.wait_for_function("() => [...document.images].every(i => i.complete && i.naturalWidth > 0)")
    assert thumb.evaluate("i => i.naturalWidth") == 1200
    expect(
        page.get_by_role("list", name="Shown beside the proof (not part of what is approved)")
    ).to_be_visible()
    page.locator("#revisions").screenshot(path=str(artifacts / "staff-record-other-views.png"))
    context.close()

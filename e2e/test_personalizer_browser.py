"""The shopper's personalizer in headless Chromium against the live gunicorn server."""

from __future__ import annotations

import base64
import contextlib
import json
from urllib.parse import parse_qs, urlparse

from playwright.sync_api import expect


def shown_design(page) -> dict:
    """The design the preview image on the page shows (decoded from its URL)."""
    src = page.get_attribute("#pz-preview .pz-img", "src")
    d = parse_qs(urlparse(src).query)["d"][0]
    return json.loads(base64.urlsafe_b64decode(d + "=" * (-len(d) % 4)))


def wait_for_preview(page, lines: list[str], font: str | None = None) -> None:
    page.wait_for_function(
        """([lines, font]) => {
            const img = document.querySelector('#pz-preview .pz-img');
            if (!img || !img.complete || !img.naturalWidth) return false;
            const d = new URL(img.src).searchParams.get('d');
            const json = JSON.parse(new TextDecoder().decode(
                Uint8Array.from(atob(d.replace(/-/g, '+').replace(/_/g, '/')), c => c.charCodeAt(0))));
            return JSON.stringify(json.lines) === JSON.stringify(lines) && (!font || json.font === font);
        }""",
        arg=[lines, font],
    )


ALL_IMAGES_LOADED = "() => [...document.images].every(i => i.complete && i.naturalWidth > 0)"


def test_typing_updates_the_preview_after_a_pause(live_server, page, artifacts):
    posts = []
    page.on(
        "request", lambda r: posts.append(r) if r.url.endswith("/preview") and r.method == "POST" else None
    )
    page.goto(live_server.url + "/p/pendant-round")
    first_src = page.get_attribute("#pz-preview .pz-img", "src")
    page.locator("#input-line-1").press_sequentially("Anna", delay=40)
    wait_for_preview(page, ["Anna"])
    assert page.get_attribute("#pz-preview .pz-img", "src") != first_src
    expect(page.locator("#pz-preview .pz-img")).to_have_attribute(
        "alt", "Round pendant with “Anna” in Dancing Script"
    )
    # Debounced: four keystrokes in quick succession are one request, not four.
    assert 1 <= len(posts) <= 2
    expect(page.locator("#count-line-1")).to_contain_text("4")
    page.screenshot(path=str(artifacts / "personalizer-desktop.png"), full_page=True)


def test_an_overtaken_request_never_replaces_a_newer_preview(live_server, page):
    held = []

    def hold_first(route):
        # Keep the first preview request waiting until the newer one has been answered.
        if not held:
            held.append(route)
        else:
            route.continue_()

    page.route("**/p/bar-necklace/preview*", hold_first)
    page.goto(live_server.url + "/p/bar-necklace")
    page.fill("#input-line-1", "Old")
    page.wait_for_function("() => document.querySelector('#pz-stage').classList.contains('htmx-request')")
    page.fill("#input-line-1", "Newer")
    wait_for_preview(page, ["Newer"])
    # htmx has aborted the held request, which is the point; letting it go changes nothing.
    with contextlib.suppress(Exception):
        held[0].continue_()
    page.wait_for_timeout(500)
    assert shown_design(page)["lines"] == ["Newer"]
    assert page.input_value("#input-line-1") == "Newer"


def test_missing_glyph_error_and_suggestion_fixes_it(live_server, page, artifacts):
    page.goto(live_server.url + "/p/pendant-round")
    page.fill("#input-line-1", "שרה")
    error = page.locator("#issues-line-1 .issue-error")
    expect(error).to_contain_text("Dancing Script cannot draw")
    expect(page.locator("#input-line-1")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#pz-continue button")).to_be_disabled()
    page.screenshot(path=str(artifacts / "personalizer-missing-glyph.png"), full_page=True)
    page.click("#issues-line-1 button[data-use-font='noto-sans-hebrew']")
    expect(error).to_have_count(0)
    expect(page.locator("input[name=font][value='noto-sans-hebrew']")).to_be_checked()
    wait_for_preview(page, ["שרה"], font="noto-sans-hebrew")
    expect(page.locator("#input-line-1")).not_to_have_attribute("aria-invalid", "true")
    expect(page.locator("#pz-continue button")).to_be_enabled()


def test_ambiguous_date_asks_for_a_choice_and_the_checkbox_blocks(live_server, phone_page, artifacts):
    page = phone_page
    page.goto(live_server.url + "/p/pendant-round")
    page.fill("#input-line-1", "Anna")
    page.fill("#input-line-2", "03/04/2025")
    expect(page.locator("#issues-line-2 [data-code='date-ambiguous']")).to_be_visible()
    wait_for_preview(page, ["Anna", "03/04/2025"])
    page.screenshot(path=str(artifacts / "personalizer-phone.png"), full_page=True)
    page.click("[data-continue]")
    expect(page.locator("h1")).to_contain_text("Check your design before we make it")
    question = page.locator("fieldset.date-question")
    expect(question).to_contain_text("Which date do you mean?")
    expect(question.locator("input[type=radio]")).to_have_count(2)
    expect(page.locator(".letters").first.locator(".letter")).to_have_count(4)
    page.wait_for_function(ALL_IMAGES_LOADED)
    page.screenshot(path=str(artifacts / "confirm-phone.png"), full_page=True)

    confirm_url = page.url
    page.click("text=Confirm design")
    # The browser refuses: the checkbox and the date choice are required.
    assert page.url == confirm_url
    assert page.eval_on_selector("input[name=checked]", "el => !el.validity.valid")
    expect(page.locator("text=Design confirmed")).to_have_count(0)

    # The server refuses too, when the browser's check is bypassed.
    page.eval_on_selector("form.confirm-form", "f => { f.noValidate = true; }")
    page.click("text=Confirm design")
    expect(page.locator("#confirm-problems")).to_contain_text("Tick the box")
    expect(page.locator("#confirm-problems")).to_contain_text("Tell us which date")

    page.check("input[name=checked]")
    page.locator("label.choice", has_text="Thursday 3 April 2025").click()
    page.click("text=Confirm design")
    expect(page.locator("h1")).to_have_text("Design confirmed")
    page.click("text=Add to cart")
    expect(page.locator("h1")).to_have_text("Your cart")
    token = page.input_value("form.checkout input[name=design_token]")
    expect(page.locator("form.checkout")).to_have_attribute("action", "/orders")
    page.wait_for_function(ALL_IMAGES_LOADED)
    page.screenshot(path=str(artifacts / "cart-phone.png"), full_page=True)

    verified = page.request.post(live_server.url + "/design/verify", data={"token": token}).json()
    assert verified["valid"] and verified["same_image"]
    assert verified["design"]["lines"] == ["Anna", "03/04/2025"]
    assert verified["options"]["dates"][0]["reading"] == "Thursday 3 April 2025"


def test_confirmation_on_desktop(live_server, page, artifacts):
    page.goto(
        live_server.url + "/p/pendant-round/confirm?line-1=Jonh&line-2=12.06.2021&font=great-vibes"
        "&field-rim=always%20in%20my%20heart"
    )
    expect(page.locator(".letters").first.locator(".letter")).to_have_count(4)
    page.wait_for_function(ALL_IMAGES_LOADED)
    page.screenshot(path=str(artifacts / "confirm-desktop.png"), full_page=True)


def test_keyboard_alone(live_server, page):
    page.goto(live_server.url + "/p/bar-necklace")
    page.keyboard.press("Tab")
    for _ in range(10):
        if page.evaluate("document.activeElement.id") == "input-line-1":
            break
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "input-line-1"
    page.keyboard.type("Mila")
    page.keyboard.press("Enter")  # the last line: updates, does not leave the page
    wait_for_preview(page, ["Mila"])
    assert page.url.endswith("/p/bar-necklace")
    # Fonts are radios: arrow keys move through them and update the preview.
    page.focus("input[name=font]:checked")
    page.keyboard.press("ArrowRight")
    selected = page.eval_on_selector("input[name=font]:checked", "el => el.value")
    assert selected != "playfair-display"
    wait_for_preview(page, ["Mila"], font=selected)


def test_works_without_javascript(live_server, browser, artifacts):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 375, "height": 740})
    page = context.new_page()
    try:
        page.goto(live_server.url + "/p/mug")
        page.fill("#input-line-1", "Best Dad")
        page.click("button.nojs-only")
        expect(page.locator("#input-line-1")).to_have_value("Best Dad")
        assert shown_design(page)["lines"] == ["Best Dad"]
        page.click("[data-continue]")
        expect(page.locator("h1")).to_contain_text("Check your design before we make it")
        page.check("input[name=checked]")
        page.click("text=Confirm design")
        expect(page.locator("h1")).to_have_text("Design confirmed")
        page.wait_for_load_state("networkidle")  # no script runs here to ask the images
        page.screenshot(path=str(artifacts / "confirmed-nojs-phone.png"), full_page=True)
    finally:
        context.close()


def test_suggestion_by_keyboard_moves_focus_to_the_chosen_font(live_server, page):
    page.goto(live_server.url + "/p/pendant-round")
    page.focus("#input-line-1")
    page.keyboard.type("שרה")
    suggestion = page.locator("#issues-line-1 button[data-use-font='noto-sans-hebrew']")
    expect(suggestion).to_be_visible()
    page.keyboard.press("Tab")  # from the text box to the suggestion under it
    expect(suggestion).to_be_focused()
    page.keyboard.press("Enter")
    chosen = page.locator("input[name=font][value='noto-sans-hebrew']")
    expect(chosen).to_be_checked()
    # A screen reader lands on the font that was chosen, named by its label.
    expect(chosen).to_be_focused()
    wait_for_preview(page, ["שרה"], font="noto-sans-hebrew")
    expect(page.locator("#issues-line-1 .issue")).to_have_count(0)
    expect(chosen).to_be_focused()


def test_unchanged_messages_are_not_announced_again(live_server, page):
    """The issue slots are aria-live: a message that did not change stays the same node,
    so screen readers do not read it out again at every pause in typing."""
    page.goto(live_server.url + "/p/pendant-round")
    page.fill("#input-line-2", "03/04/2025")
    warning = page.locator("#issues-line-2 [data-code='date-ambiguous']")
    expect(warning).to_be_visible()
    wait_for_preview(page, ["", "03/04/2025"])
    page.eval_on_selector("#issues-line-2 .issue", "el => { window.shownWarning = el; }")
    page.locator("#input-line-1").press_sequentially("Anna", delay=30)
    wait_for_preview(page, ["Anna", "03/04/2025"])
    assert page.evaluate("document.querySelector('#issues-line-2 .issue') === window.shownWarning")
    # A changed message is swapped in.
    page.fill("#input-line-2", "04/03/2025")
    expect(page.locator("#issues-line-2")).to_contain_text("04/03/2025")
    assert not page.evaluate("document.querySelector('#issues-line-2 .issue') === window.shownWarning")


def test_enter_on_a_font_updates_the_preview_in_place(live_server, page):
    page.goto(live_server.url + "/p/bar-necklace")
    page.fill("#input-line-1", "Mila")
    wait_for_preview(page, ["Mila"])
    page.evaluate("window.notReloaded = true")
    page.focus("input[name=font]:checked")
    page.keyboard.press("ArrowRight")
    selected = page.eval_on_selector("input[name=font]:checked", "el => el.value")
    wait_for_preview(page, ["Mila"], font=selected)
    page.keyboard.press("Enter")  # implicit submission: with JavaScript, no page reload
    wait_for_preview(page, ["Mila"], font=selected)
    assert page.evaluate("window.notReloaded === true")
    expect(page.locator(f"input[name=font][value='{selected}']")).to_be_focused()


def test_show_area_toggle_outlines_the_area_and_survives_typing(live_server, phone_page, artifacts):
    page = phone_page
    page.goto(live_server.url + "/p/mug")
    box = page.get_by_label("Show where text can go")
    expect(box).not_to_be_checked()
    box.check()
    page.wait_for_function(
        "() => { const i = document.querySelector('#pz-preview .pz-img');"
        " return i && new URL(i.src).searchParams.get('area') === '1' && i.complete && i.naturalWidth > 0; }"
    )
    # Typing keeps the outline: the box sends itself with the form.
    page.locator("#input-line-1").press_sequentially("Opa", delay=40)
    wait_for_preview(page, ["Opa"])
    src = page.get_attribute("#pz-preview .pz-img", "src")
    assert parse_qs(urlparse(src).query)["area"] == ["1"]
    page.wait_for_function(ALL_IMAGES_LOADED)
    page.screenshot(path=str(artifacts / "personalizer-show-area-phone.png"), full_page=True)
    box.uncheck()
    page.wait_for_function(
        "() => { const i = document.querySelector('#pz-preview .pz-img');"
        " return i && !new URL(i.src).searchParams.has('area'); }"
    )
    assert shown_design(page)["lines"] == ["Opa"]

"""The staff pages in the shop's language, in a real browser: with SHOP_LANGUAGE set to each
shipped language (and a browser that asks for English), every staff page shows no English
catalog message left over, its dates are written out in the language, and axe-core finds no
serious or critical accessibility problem on it."""

from __future__ import annotations

import functools
import re
import secrets

import pytest
from babel.messages.pofile import read_po
from playwright.sync_api import expect

from e2e.test_languages_browser import (
    AXE,
    LONG,
    SHOWN_TEXT,
    TRANSLATIONS,
    assert_accessible,
    english_fragments,
)
from e2e.test_products_browser import shop_photo

PASSWORD = "e2e staff password"
# The staff pages in English, the shop's default, and in each language a shop may set.
LANGUAGES = ["en", "de", "fr", "es", "nl"]
# How each language writes a month in a date ("30 Nov 2026" / "30. Nov. 2026" / ...): one of
# these abbreviations must be on a proof's page, where the creation time is written out.
MONTHS = {
    "en": r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sept?|Oct|Nov|Dec) 20\d\d",
    "de": r"\d\. (Jan\.|Feb\.|März|Apr\.|Mai|Juni|Juli|Aug\.|Sept\.|Okt\.|Nov\.|Dez\.) 20\d\d",
    "fr": r"\d (janv\.|févr\.|mars|avr\.|mai|juin|juil\.|août|sept\.|oct\.|nov\.|déc\.) 20\d\d",
    "es": r"\d (ene|feb|mar|abr|may|jun|jul|ago|sept?|oct|nov|dic) 20\d\d",
    "nl": r"\d (jan|feb|mrt|apr|mei|jun|jul|aug|sep|okt|nov|dec) 20\d\d",
}


@pytest.fixture
def staff_page(browser):
    # A browser that asks for English: the staff pages must follow the shop, not the browser.
    context = browser.new_context(
        viewport={"width": 1280, "height": 900},
        bypass_csp=True,  # axe-core is injected as a script; script-src 'self' would refuse it
        locale="en-GB",
        extra_http_headers={"Accept-Language": "en-GB,en;q=0.9"},
    )
    page = context.new_page()
    page.set_default_timeout(LONG)
    yield page
    context.close()


@functools.cache
def english_left_over(lang: str) -> tuple[frozenset[str], tuple[str, ...]]:
    """english_fragments(lang), less the words that are also a translation in `lang`: French
    "Note" is the translation of "Note" though "Note:" is translated "Note :"."""
    whole, fragments = english_fragments(lang)
    with (TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f)
    translated = set()
    for message in catalog:
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        translated |= {s.strip(" .,:;“”\xa0\u202f") for s in strings if s}
    return frozenset(whole - translated), tuple(f for f in fragments if f not in translated)


def assert_no_english(page, lang: str, where: str) -> None:
    """As e2e/test_languages_browser.assert_no_english, with english_left_over()."""
    if lang == "en":
        return
    whole, fragments = english_left_over(lang)
    left = []
    for text in page.evaluate(SHOWN_TEXT):
        for piece in re.split(r"\s*[·|]\s*", text):
            if piece.strip(" .,:;“”→←▸▾") in whole:
                left.append(piece)
        left += [f"{fragment!r} in {text!r}" for fragment in fragments if fragment in text]
    assert not left, f"English left on the {where} page in {lang}: {left}"


def check(page, lang: str, where: str, artifacts) -> None:
    assert page.get_attribute("html", "lang") == lang, where
    assert_no_english(page, lang, f"staff {where}")
    assert_accessible(page, f"staff {where} ({lang})")
    page.screenshot(path=str(artifacts / f"staff-{lang}-{where.replace(' ', '-')}.png"), full_page=True)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_staff_pages_in_the_shop_language(tmp_path_factory, staff_page, artifacts, lang):
    from e2e.conftest import start_server

    assert AXE.exists(), "axe-core is installed by scripts/setup.sh (npm ci)"
    server = start_server(tmp_path_factory.mktemp(f"staff-{lang}"), {"SHOP_LANGUAGE": lang})
    try:
        page = staff_page
        staff_email = f"staff-{secrets.token_hex(3)}@shop.test"
        created = server.flask("create-staff", staff_email, "--password-stdin", input=PASSWORD + "\n")
        assert created.returncode == 0, created.stderr

        page.goto(server.url + "/staff/login")
        check(page, lang, "sign-in", artifacts)
        # A wrong password: the form error is in the language too.
        page.fill("input[name=email]", staff_email)
        page.fill("input[name=password]", "not the password")
        page.click("button[type=submit]")
        expect(page.locator("p.error")).to_be_visible()
        check(page, lang, "sign-in refused", artifacts)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/staff/proofs")
        check(page, lang, "records", artifacts)

        # A new proof, made through the staff form.
        page.goto(server.url + "/staff/proofs/new")
        check(page, lang, "new proof", artifacts)
        order_ref = f"S-{lang}-{secrets.token_hex(3).upper()}"
        page.fill("input[name=order_ref]", order_ref)
        page.fill("input[name=customer_name]", "Anna Berg")
        page.fill("input[name=customer_email]", "anna@example.com")
        page.fill("textarea[name=lines]", "Anna")
        page.click("form.editor button.primary[type=submit]")
        page.wait_for_url(re.compile(r".*/staff/proofs/\d+(#share)?$"))
        proof_url = page.url.split("#")[0]
        expect(page.locator(".flash-ok")).to_be_visible()
        expect(page.locator(".page-head .muted")).to_contain_text(re.compile(MONTHS[lang]))
        # An internal note, so the notes and the timeline show one.
        page.fill("#note", "Customer called about the gift box.")
        page.click("#notes button[type=submit]")
        expect(page.locator(".flash-ok")).to_be_visible()
        check(page, lang, "proof", artifacts)

        page.goto(server.url + f"/staff/proofs?q={order_ref}")
        expect(page.locator("#results .result-count")).to_be_visible()
        check(page, lang, "search results", artifacts)
        page.goto(server.url + "/staff/proofs?q=nothing-matches-this&status=approved")
        check(page, lang, "search without results", artifacts)

        page.goto(proof_url + "/revise")
        check(page, lang, "revise", artifacts)

        # A return claim: assessed, then recorded.
        page.goto(proof_url + "/claims/new")
        check(page, lang, "new claim", artifacts)
        page.check("input[name=kind][value=text]")
        page.fill("textarea[name=description]", "The name is spelled wrong.")
        page.fill("textarea[name=expected_text]", "Anne")
        page.click("button[value=assess]")
        expect(page.locator("#assessment")).to_be_visible()
        check(page, lang, "claim assessed", artifacts)

        page.goto(server.url + "/staff/claims?status=all")
        check(page, lang, "claims", artifacts)
        page.goto(server.url + "/staff/insights")
        check(page, lang, "insights", artifacts)
        page.goto(server.url + "/staff/webhooks")
        check(page, lang, "webhooks", artifacts)
        page.goto(server.url + "/staff/integrations/received")
        check(page, lang, "received webhooks", artifacts)
        page.goto(server.url + "/staff/to-prepare")
        check(page, lang, "to prepare", artifacts)
        page.goto(server.url + "/staff/etsy/new")
        check(page, lang, "paste an Etsy order", artifacts)
        page.goto(server.url + "/staff/verify")
        check(page, lang, "verify", artifacts)
        page.goto(server.url + "/staff/products")
        check(page, lang, "products", artifacts)

        # A product of the shop's own: a refused form (its problem in the language), then the
        # editor, a refused number in the editor's form, and a publish (its flash).
        photo = shop_photo(tmp_path_factory.mktemp(f"photo-{lang}") / "tag.jpg")
        page.set_input_files("input[name=photo]", str(photo))
        page.fill("input[name=id]", f"tag-{lang}")
        page.fill("input[name=name]", "Tag")
        page.fill("input[name=width_mm]", "0")
        page.fill("input[name=height_mm]", "40")
        page.click("form.product-new button[type=submit]")
        expect(page.locator("p.error")).to_be_visible()
        check(page, lang, "products refused", artifacts)
        page.set_input_files("input[name=photo]", str(photo))
        page.fill("input[name=width_mm]", "60")
        page.click("form.product-new button[type=submit]")
        page.wait_for_url(f"**/staff/products/tag-{lang}")
        expect(page.locator("#product-preview img")).to_be_visible()
        check(page, lang, "product editor", artifacts)
        # The corner handle's spoken position is written by product_editor.js in the language.
        page.locator('circle[data-corner="tr"]').focus()
        page.keyboard.press("ArrowLeft")
        expect(page.locator('circle[data-corner="tr"]')).to_have_attribute(
            "aria-valuetext", re.compile(r"^x \d+, y \d+$")
        )
        page.fill("input[name=max_lines]", "many")
        expect(page.locator("#product-preview p.error")).to_be_visible()
        check(page, lang, "product editor refused", artifacts)
        page.fill("input[name=max_lines]", "3")
        expect(page.locator("#product-preview img")).to_be_visible()
        page.click("#publish")
        expect(page.locator(".flash-ok")).to_be_visible()
        check(page, lang, "product published", artifacts)
    finally:
        server.stop()

"""The shopper's language in a real browser, for every shipped language: the personalizer, the
confirmation step and the approval page show no English left over (every visible text node and
label is checked against the English catalog), the dates are written out in the language, the
recorded approval names the language of each page, and axe-core finds no serious or critical
accessibility problem on those pages and on the staff pages."""

from __future__ import annotations

import email
import email.policy
import json
import re
import secrets
import time
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from playwright.sync_api import expect

from e2e.conftest import ROOT
from proofmark.db import connect

LANGUAGES = ["en", "de", "fr", "es", "nl"]
TRANSLATIONS = ROOT / "site" / "translations"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
LONG = 60_000
PASSWORD = "e2e staff password"

# What "3/4/2025, read day first" is written out as, per language (Babel's CLDR data).
THIRD_OF_APRIL = {
    "en": "Thursday 3 April 2025",
    "de": "Donnerstag, 3. April 2025",
    "fr": "jeudi 3 avril 2025",
    "es": "jueves, 3 de abril de 2025",
    "nl": "donderdag 3 april 2025",
}


def english_fragments(lang: str) -> tuple[set[str], list[str]]:
    """(whole English messages, longer English fragments) that must not show in a page in
    `lang`. A message whose translation is the same word (German "Text", Dutch "Product") is
    left out: it is translated, the words just agree. Fragments are the literal parts of a
    message around its placeholders, 12 characters or more."""
    with (TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f)
    whole: set[str] = set()
    fragments: list[str] = []
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings), f"{lang}: no translation for {ids[0]!r}"
        for msgid in ids:
            if msgid in strings:
                continue
            pieces = [p.strip(" .,:;“”") for p in re.split(r"%\(\w+\)[sd]", msgid)]
            if len(pieces) == 1:
                whole.add(pieces[0])
            fragments += [p for p in pieces if len(p) >= 12]
    return whole, fragments


SHOWN_TEXT = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    const text = node.textContent.replace(/\\s+/g, ' ').trim();
    if (!text || !el || el.closest('script, style, textarea, [hidden], .letters .glyph')) continue;
    if (!el.checkVisibility()) continue;
    // Text in another declared language (the shop's own disclosure, the customer's text).
    const declared = el.closest('[lang]');
    if (declared && declared !== document.documentElement && declared.lang !== document.documentElement.lang) continue;
    out.push(text);
  }
  for (const el of document.querySelectorAll('[placeholder], [aria-label], img[alt], [title]:not(.letter)')) {
    for (const name of ['placeholder', 'aria-label', 'alt']) {
      const value = el.getAttribute(name);
      if (value) out.push(value);
    }
  }
  out.push(document.title);
  return out;
}"""


def assert_no_english(page, lang: str, where: str) -> None:
    if lang == "en":
        return
    whole, fragments = english_fragments(lang)
    left = []
    for text in page.evaluate(SHOWN_TEXT):
        for piece in re.split(r"\s*[·|]\s*", text):
            if piece.strip(" .,:;“”→←") in whole:
                left.append(piece)
        left += [f"{fragment!r} in {text!r}" for fragment in fragments if fragment in text]
    assert not left, f"English left on the {where} page in {lang}: {left}"


def assert_accessible(page, where: str) -> None:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "() => axe.run(document, {resultTypes: ['violations']}).then(r => r.violations.map(v => "
        "({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))})))"
    )
    bad = [v for v in result if v["impact"] in ("serious", "critical")]
    assert not bad, f"axe-core on the {where} page: {json.dumps(bad, indent=1)}"


def approval_link(instance: Path, order_ref: str) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for path in sorted((instance / "outbox").glob("*.eml")):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if order_ref in str(message["Subject"]):
                text = message.get_body(("plain",)).get_content()
                return re.search(r"https?://\S+/approve/\S+", text).group(0)
        time.sleep(0.2)
    raise AssertionError(f"no proof email for {order_ref}")


def events(instance: Path, order_ref: str) -> list[dict]:
    db = connect(instance / "proofmark.sqlite")
    try:
        proof_id = db.execute("SELECT id FROM proofs WHERE order_ref = ?", (order_ref,)).fetchone()[0]
        rows = [dict(r) for r in db.execute("SELECT kind, data FROM events WHERE proof_id = ?", (proof_id,))]
    finally:
        db.conn.close()
    for row in rows:
        row["data"] = json.loads(row["data"])
    return rows


@pytest.fixture(scope="module")
def language_server(tmp_path_factory):
    from e2e.conftest import start_server

    server = start_server(tmp_path_factory.mktemp("languages"), {"MAIL_SEND_AFTER_REQUEST": "inline"})
    yield server
    server.stop()


@pytest.fixture
def a11y_page(browser):
    # axe-core is injected as a script; the pages' CSP (script-src 'self') would refuse it.
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(LONG)  # previews and proofs render on a shared, busy machine
    yield page
    context.close()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_customer_page_in_the_language(language_server, a11y_page, artifacts, lang):
    page, server = a11y_page, language_server
    # The demo shop's catalog: product names, descriptions, sizes and finishes in the language.
    page.goto(f"{server.url}/?lang={lang}")
    assert page.get_attribute("html", "lang") == lang
    page.locator(".product-card img").first.wait_for()
    assert_no_english(page, lang, "catalog")
    assert_accessible(page, f"catalog ({lang})")

    # The personalizer, as the embed's data-lang asks for it (the browser says English).
    page.goto(f"{server.url}/p/pendant-round?lang={lang}")
    assert page.get_attribute("html", "lang") == lang
    page.fill("#input-line-1", "Anna")
    page.fill("#input-line-2", "3/4/2025")
    expect(page.locator("[data-continue]")).to_be_visible()
    page.locator("#pz-preview .pz-img[alt*='Anna / 3/4/2025']").wait_for()
    assert_no_english(page, lang, "personalizer")
    assert_accessible(page, f"personalizer ({lang})")
    page.screenshot(path=str(artifacts / f"lang-{lang}-personalizer.png"), full_page=True)

    # The confirmation step: the date written out in the language, the disclosure in it.
    page.click("[data-continue]")
    expect(page.locator(".date-question")).to_be_visible()
    assert page.get_attribute("html", "lang") == lang
    expect(page.locator(".date-question")).to_contain_text(THIRD_OF_APRIL[lang])
    assert page.get_attribute(".disclosure p[lang]", "lang") == lang
    assert_no_english(page, lang, "confirmation")
    assert_accessible(page, f"confirmation ({lang})")
    page.screenshot(path=str(artifacts / f"lang-{lang}-confirm.png"), full_page=True)
    page.locator(".date-question input[value='day-month-year']").check()
    page.check("input[name=checked]")
    page.click("button.primary[type=submit]")
    expect(page.locator("form.add-to-cart")).to_be_visible()
    assert_no_english(page, lang, "confirmed")

    # The demo shop's cart and checkout (the shop's own pages, not Proofmark's) place the order.
    page.click("form.add-to-cart button")
    expect(page.locator("form.checkout")).to_be_visible()
    assert page.get_attribute("html", "lang") == lang
    assert_no_english(page, lang, "cart")
    assert_accessible(page, f"cart ({lang})")
    page.screenshot(path=str(artifacts / f"lang-{lang}-cart.png"), full_page=True)
    order_ref = f"L-{lang}-{secrets.token_hex(3).upper()}"
    page.fill("form.checkout input[name=customer_name]", "Anna Berg")
    page.fill("form.checkout input[name=customer_email]", "anna@example.com")
    page.fill("form.checkout input[name=order_ref]", order_ref)
    page.click("form.checkout button[type=submit]")
    expect(page.locator(".order-placed")).to_be_visible(timeout=LONG)
    assert page.get_attribute("html", "lang") == lang
    if lang == "en":
        expect(page.locator("h1")).to_have_text("Thank you, your order is placed")
    assert_no_english(page, lang, "order placed")
    assert_accessible(page, f"order placed ({lang})")

    # The approval page opens in the language the design was confirmed in: the link carries
    # none, and this browser asks for English.
    link = approval_link(server.instance_path, order_ref)
    page.goto(link)
    page.wait_for_function("() => document.querySelector('.proof-zoom img').naturalWidth > 0")
    assert page.get_attribute("html", "lang") == lang
    expect(page.locator(".proof-line").nth(1)).to_contain_text(THIRD_OF_APRIL[lang])
    assert_no_english(page, lang, "approval")
    assert_accessible(page, f"approval ({lang})")
    page.screenshot(path=str(artifacts / f"lang-{lang}-approve.png"), full_page=True)
    for box in page.locator("input[name=statement]").all():
        box.check()
    page.click("form.approve-form button[type=submit]")
    expect(page.locator(".banner.ok")).to_be_visible()
    assert_no_english(page, lang, "approved")

    recorded = events(server.instance_path, order_ref)
    approved = next(e["data"] for e in recorded if e["kind"] == "approved")
    assert approved["language"] == lang
    assert approved["confirmed_language"] == lang
    assert approved["disclosure"].get("language", "en") == lang
    views = [e["data"] for e in recorded if e["kind"] == "proof_viewed"]
    assert views and all(v["language"] == lang for v in views)


SUBMIT = """([action, fields]) => {
  const form = document.createElement('form');
  form.method = 'post';
  form.action = action;
  for (const [name, value] of Object.entries(fields)) {
    const box = document.createElement('textarea');
    box.name = name;
    box.value = value;
    form.appendChild(box);
  }
  document.body.appendChild(form);
  form.submit();
}"""


def post_form(page, action: str, fields: dict) -> None:
    """A form posted as a browser posts it (the error pages answer a POST)."""
    with page.expect_navigation():
        page.evaluate(SUBMIT, [action, fields])


@pytest.mark.parametrize("lang", LANGUAGES)
def test_error_pages_in_the_language(language_server, a11y_page, artifacts, lang):
    """404, 413 (a form far too long) and 422 (an order the shop cannot take) in the language the
    link asks for, while the browser asks for English; no English left, no serious axe finding."""
    page, server = a11y_page, language_server
    response = page.goto(f"{server.url}/no/such/page?lang={lang}")
    assert response.status == 404 and page.get_attribute("html", "lang") == lang
    assert_no_english(page, lang, "404")
    assert_accessible(page, f"404 ({lang})")

    page.goto(f"{server.url}/p/pendant-round?lang={lang}")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        post_form(page, f"/p/pendant-round/confirm?lang={lang}", {"line-1": "A" * 2_000_000})
    assert answer.value.status == 413 and page.get_attribute("html", "lang") == lang
    expect(page.locator("h1")).to_be_visible()
    assert_no_english(page, lang, "413")
    assert_accessible(page, f"413 ({lang})")
    page.screenshot(path=str(artifacts / f"lang-{lang}-413.png"), full_page=True)

    # An order with an address the proof cannot be sent to: the order form again, in the language.
    page.goto(f"{server.url}/p/pendant-round?lang={lang}&line-1=Anna")
    page.click("[data-continue]")
    page.check("input[name=checked]")
    page.click("button.primary[type=submit]")
    expect(page.locator("form.add-to-cart")).to_be_visible()
    token = page.input_value("form.add-to-cart input[name=design_token]")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        post_form(
            page,
            f"/orders?lang={lang}",
            {"design_token": token, "customer_name": "Anna Berg", "customer_email": "anna@", "order_ref": ""},
        )
    assert answer.value.status == 422 and page.get_attribute("html", "lang") == lang
    expect(page.locator("form.order-retry")).to_be_visible()
    assert_no_english(page, lang, "422")
    if lang != "en":
        assert "is not an email address" not in page.inner_text("#order-error")
    assert_accessible(page, f"422 ({lang})")
    page.screenshot(path=str(artifacts / f"lang-{lang}-422.png"), full_page=True)


def test_staff_pages_are_accessible(language_server, a11y_page):
    page, server = a11y_page, language_server
    staff_email = f"staff-{secrets.token_hex(3)}@shop.test"
    created = server.flask("create-staff", staff_email, "--password-stdin", input=PASSWORD + "\n")
    assert created.returncode == 0, created.stderr
    page.goto(server.url + "/staff/login")
    assert_accessible(page, "staff sign-in")
    page.fill("input[name=email]", staff_email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/staff/proofs")
    assert_accessible(page, "staff records")
    page.goto(server.url + "/staff/proofs/new")
    assert_accessible(page, "staff new proof")

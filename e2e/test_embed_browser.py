"""Embedding: a shop page on a second local origin loads /embed.js, which frames the
personalizer; the confirmed design lands in the shop's form. An origin that is not on
EMBED_ALLOWED_ORIGINS cannot show it."""

from __future__ import annotations

import functools
import http.server
import socket
import threading

import pytest
from playwright.sync_api import expect

HOST_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Shop product page</title>
<style>body {{ font-family: Georgia, serif; margin: 0 auto; max-width: 900px; padding: 1rem; }}
.buy {{ font-size: 1.2rem; padding: .7rem 1.4rem; }}</style></head>
<body>
<h1>Engraved round pendant · €49</h1>
<p>Our hand-polished sterling silver disc. Personalise it below.</p>
<form id="product-form" action="/cart/add" method="post">
  <input type="hidden" name="id" value="4711">
  <div id="personalizer"></div>
  <button class="buy" type="submit">Add to cart</button>
</form>
<script src="{proofmark}/embed.js" data-product="pendant-round" data-target="#product-form"
        data-mount="#personalizer" data-required></script>
</body></html>
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
        pass


@pytest.fixture
def host_site(tmp_path):
    """A shop's product page served from its own origin (another loopback port)."""
    servers = []

    def start(proofmark_url: str, port: int) -> str:
        root = tmp_path / f"host-{port}"
        root.mkdir()
        (root / "product.html").write_text(HOST_PAGE.format(proofmark=proofmark_url))
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


def _iframe_height(page) -> int:
    return page.eval_on_selector(
        "iframe.proofmark-frame", "el => Math.round(el.getBoundingClientRect().height)"
    )


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_embedded_personalizer_fills_the_shop_form(server_factory, host_site, browser, artifacts, viewport):
    host_port = free_port()
    host_origin = f"http://127.0.0.1:{host_port}"
    proofmark = server_factory({"EMBED_ALLOWED_ORIGINS": [host_origin]}, name="embed")
    host = host_site(proofmark.url, host_port)
    size = {"desktop": {"width": 1100, "height": 900}, "phone": {"width": 375, "height": 740}}[viewport]
    context = browser.new_context(
        viewport=size,
        device_scale_factor=2 if viewport == "phone" else 1,
        is_mobile=viewport == "phone",
        has_touch=viewport == "phone",
    )
    page = context.new_page()
    try:
        page.goto(host + "/product.html")
        frame = _frame(page)
        expect(frame.locator("#input-line-1")).to_be_visible()
        # The loader starts the iframe at 640 px; the page inside reports its real height.
        page.wait_for_function(
            "() => document.querySelector('iframe.proofmark-frame').style.height !== '640px'"
        )
        inner = frame.locator("body").evaluate("b => Math.ceil(b.getBoundingClientRect().height)")
        assert abs(_iframe_height(page) - inner) <= 2

        # data-required: the shop's form does not submit before a design is confirmed.
        page.click("button.buy")
        assert page.url == host + "/product.html"
        expect(page.locator("h1")).to_contain_text("Engraved round pendant")
        # ...and says why, next to the button, in the host page's language.
        expect(page.locator("#product-form .proofmark-required")).to_have_text(
            "Please personalise and confirm your design first."
        )

        # A message that does not come from the Proofmark iframe is ignored: here the shop's
        # own page (or a script on it) posts a forged confirmation. A listener added after
        # the loader's sees the message only once the loader has dealt with it.
        page.evaluate("""() => new Promise(resolve => {
            window.addEventListener('message', e => { if (e.data && e.data.token === 'forged') resolve(); });
            window.postMessage({source: 'proofmark', type: 'proofmark:confirmed', token: 'forged',
                                summary: 'Forged', preview_url: 'x'}, '*');
        })""")
        expect(page.locator("#product-form input[name='properties[_proof_design]']")).to_have_count(0)

        frame.locator("#input-line-1").fill("Anna")
        frame.locator("#input-line-2").fill("12 June 2021")
        frame.locator("#pz-preview .pz-img[alt*='Anna / 12 June 2021']").wait_for()
        frame.locator("#pz-preview .pz-img").evaluate(
            "img => img.complete ? true : new Promise(r => img.addEventListener('load', r))"
        )
        page.screenshot(path=str(artifacts / f"embed-host-{viewport}.png"), full_page=True)

        before = _iframe_height(page)
        frame.locator("[data-continue]").click()
        expect(frame.locator("h1")).to_contain_text("Check your design before we make it")
        # The confirmation page is taller: the iframe follows.
        page.wait_for_function(
            f"() => Math.round(document.querySelector('iframe.proofmark-frame')"
            f".getBoundingClientRect().height) !== {before}"
        )
        frame.locator("input[name=checked]").check()
        frame.locator("text=Confirm design").click()
        expect(frame.locator("h1")).to_have_text("Design confirmed")

        token_input = page.locator("#product-form input[name='properties[_proof_design]']")
        expect(token_input).to_have_count(1)
        token = token_input.input_value()
        assert (
            page.input_value("#product-form input[name='properties[Personalization]']")
            == "Anna / 12 June 2021"
        )
        preview_url = page.input_value("#product-form input[name='properties[_proof_preview]']")
        assert preview_url.startswith(proofmark.url + "/preview/")
        frame.locator("img.confirmed-thumb").evaluate(
            "img => img.complete ? true : new Promise(r => img.addEventListener('load', r))"
        )
        page.screenshot(path=str(artifacts / f"embed-confirmed-{viewport}.png"), full_page=True)

        verified = page.request.post(proofmark.url + "/design/verify", data={"token": token}).json()
        assert verified["valid"] is True and verified["same_image"] is True
        assert verified["design"]["lines"] == ["Anna", "12 June 2021"]
        assert verified["options"]["embed_origin"] == host_origin
        assert preview_url == verified["preview_url"]

        # Editing again takes the confirmed design back out of the shop's form.
        frame.locator("text=Change the design").click()
        frame.locator("#input-line-1").fill("Anne")
        expect(token_input).to_have_count(0)
    finally:
        context.close()


def test_a_shop_not_on_the_list_is_told_why(server_factory, host_site, page, artifacts):
    allowed = f"http://127.0.0.1:{free_port()}"
    proofmark = server_factory({"EMBED_ALLOWED_ORIGINS": [allowed]}, name="embed-deny")
    host = host_site(proofmark.url, free_port())  # a different port: a different origin
    console = []
    page.on("console", lambda m: console.append(m.text))
    with page.expect_response(lambda r: "/embed/pendant-round" in r.url) as embed_response:
        page.goto(host + "/product.html")
    assert embed_response.value.status == 403
    # The refusal itself may be framed by anyone (it holds only this message); the
    # personalizer never is: its pages allow only the listed shops.
    assert "frame-ancestors *" in embed_response.value.headers["content-security-policy"]
    frame = _frame(page)
    expect(frame.locator("h1")).to_have_text("This shop is not set up for personalisation")
    expect(frame.locator("[role=alert]")).to_contain_text("is not on the list of shops allowed")
    page.wait_for_function("() => document.querySelector('iframe.proofmark-frame')")
    for _ in range(50):
        if any(m.startswith("Proofmark: The shop at") for m in console):
            break
        page.wait_for_timeout(100)
    assert any("is not on the list of shops allowed" in m for m in console), console
    assert frame.locator("#pz-form").count() == 0
    assert not page.locator("#product-form input[name='properties[_proof_design]']").count()
    page.screenshot(path=str(artifacts / "embed-refused.png"), full_page=True)

    # The personalizer itself keeps its frame-ancestors to the listed shop.
    response = page.request.get(f"{proofmark.url}/embed/pendant-round?origin={allowed}")
    assert response.status == 200
    assert "frame-ancestors " + allowed in response.headers["content-security-policy"]

"""The embeddable personalizer: framing rules, origin checks, no session needed, the loader."""

from __future__ import annotations

import re
from html import unescape

import pytest

from proofmark import create_app, tokens

SHOP = "http://shop.test"


@pytest.fixture
def csrf_app(tmp_path, monkeypatch):
    """CSRF on, as in production: the embed must work without the session cookie."""
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance-csrf"))
    return create_app(
        {"TESTING": True, "SECRET_KEY": "k", "WTF_CSRF_ENABLED": True, "EMBED_ALLOWED_ORIGINS": [SHOP + "/"]}
    )


def test_embed_page_may_be_framed_by_allowed_origins_only(client):
    response = client.get("/embed/pendant-round", query_string={"origin": SHOP})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"].endswith(f"frame-ancestors {SHOP}")
    assert "X-Frame-Options" not in response.headers
    assert f'<meta name="proofmark-embed-origin" content="{SHOP}">' in html
    assert 'class="site-header"' not in html  # no shop chrome
    assert 'name="origin" value="http://shop.test"' in html
    assert 'hx-post="/embed/pendant-round/preview?origin=http://shop.test"' in html


def test_other_pages_cannot_be_framed(client):
    for url in ("/", "/p/pendant-round", "/cart"):
        response = client.get(url)
        assert response.headers["Content-Security-Policy"].endswith("frame-ancestors 'none'")
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_an_origin_not_on_the_list_is_refused(client):
    response = client.get("/embed/pendant-round", query_string={"origin": "https://evil.example"})
    html = response.get_data(as_text=True)
    assert response.status_code == 403
    assert (
        "“\u2068https://evil.example\u2069” is not on the list of shops allowed to show this personalizer"
        in html
    )
    assert '<meta name="proofmark-embed-origin" content="">' in html
    post = client.post(
        "/embed/pendant-round/confirm",
        data={"origin": "https://evil.example", "line-1": "Anna", "checked": "yes"},
    )
    assert post.status_code == 403


def test_embed_without_origin_is_standalone(client):
    response = client.get("/embed/mug")
    assert response.status_code == 200
    assert '<meta name="proofmark-embed-origin" content="">' in response.get_data(as_text=True)


def test_embed_works_without_session_or_csrf_token(csrf_app):
    client = csrf_app.test_client()
    preview = client.post(
        "/embed/mug/preview", data={"origin": SHOP, "line-1": "Hi"}, headers={"HX-Request": "true"}
    )
    assert preview.status_code == 200
    confirmed = client.post(
        "/embed/mug/confirm", data={"origin": SHOP, "line-1": "Hi", "font": "lato", "checked": "yes"}
    )
    html = confirmed.get_data(as_text=True)
    assert confirmed.status_code == 200
    token = unescape(re.search(r'data-confirmed-token="([^"]+)"', html).group(1))
    preview_url = unescape(re.search(r'data-preview-url="([^"]+)"', html).group(1))
    assert preview_url.startswith("http://localhost/preview/")
    assert 'data-summary="Hi"' in html
    with csrf_app.test_request_context():
        confirmed_token = tokens.verify_design(token)
    assert confirmed_token.options["channel"] == "embed"
    assert confirmed_token.options["embed_origin"] == SHOP
    # The design token verifies without a session as well.
    assert client.post("/design/verify", json={"token": token}).get_json()["valid"] is True


def test_the_shop_cart_still_requires_csrf(csrf_app):
    response = csrf_app.test_client().post("/cart", data={"design_token": "x"})
    assert response.status_code == 400


def test_loader_script(client):
    with client.get("/embed.js") as response:
        js = response.get_data(as_text=True)
        assert response.status_code == 200
        assert response.mimetype == "text/javascript"
        assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    for name in ("properties[_proof_design]", "properties[Personalization]", "properties[_proof_preview]"):
        assert name in js
    assert "event.origin !== base" in js and "event.source !== iframe.contentWindow" in js


def test_embed_confirm_page_has_no_inline_script(client):
    html = client.post(
        "/embed/mug/confirm", data={"origin": SHOP, "line-1": "Hi", "checked": "yes"}
    ).get_data(as_text=True)
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert not re.search(r"\son[a-z]+=", html)


def test_errors_inside_the_iframe_have_no_site_chrome(app, client):
    """A plain error page under /embed/ (proofmark.errors) is shown in the shop's iframe: no shop
    header or footer, no link into pages that refuse to be framed, and it may tell the
    listed parent its height."""
    app.config["MAX_CONTENT_LENGTH"] = 2000
    too_large = client.post(
        "/embed/mug/preview",
        query_string={"origin": SHOP},
        data={"line-1": "x" * 5000},
        headers={"HX-Request": "true"},
    )
    wrong_method = client.put("/embed/mug", query_string={"origin": SHOP})
    not_found = client.get("/embed/mug/nothing-here", query_string={"origin": "https://evil.example"})
    for response, status in ((too_large, 413), (wrong_method, 405), (not_found, 404)):
        html = response.get_data(as_text=True)
        assert response.status_code == status
        assert 'role="alert"' in html
        assert 'class="site-header"' not in html and 'class="site-footer"' not in html
        assert "Back to the shop" not in html
    assert f'<meta name="proofmark-embed-origin" content="{SHOP}">' in too_large.get_data(as_text=True)
    # An origin that is not on the list is never told anything.
    assert '<meta name="proofmark-embed-origin" content="">' in not_found.get_data(as_text=True)
    # Outside /embed/ the error page keeps the shop's chrome and its way back.
    html = client.get("/p/mug/nothing-here").get_data(as_text=True)
    assert 'class="site-header"' in html and "Back to the shop" in html

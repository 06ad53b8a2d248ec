"""The confirmation step, the design token it produces, the demo cart and token verification."""

from __future__ import annotations

import re
from html import unescape

import pytest

from proofmark import tokens
from proofmark.personalizer import state as personalize
from proofmark_renderer import Design, render

ANNA = {"line-1": "Anna", "line-2": "03/04/2025", "font": "dancing-script", "align": "center"}


def token_in(html: str) -> str:
    match = re.search(r'name="design_token" value="([^"]+)"', html)
    assert match, "no design token on the page"
    return unescape(match.group(1))


def test_confirmation_view_spells_out_letters_dates_and_disclosure(client, app):
    response = client.get("/p/pendant-round/confirm", query_string=ANNA)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    # Large preview: the confirmation width.
    # The pendant's first variant is the one shown and confirmed unless another is chosen.
    design = Design("pendant-round", "dancing-script", ("Anna", "03/04/2025"), variant="sterling-silver")
    assert f"/preview/{design.content_key(1600, 'jpeg')}.jpg" in html
    # Letter by letter, numbered.
    assert re.findall(r'<span class="glyph" aria-hidden="true">(.*?)</span>', html)[:4] == [
        "A",
        "n",
        "n",
        "a",
    ]
    # The ambiguous date is a required choice between both readings, written out.
    assert 'name="date-line-2-0" value="day-month-year" required' in html
    assert "Thursday 3 April 2025" in html and "Tuesday 4 March 2025" in html
    assert "exactly as you typed it" in html
    assert app.config["DISCLOSURE_TEXT"] in html
    assert f"Notice version {app.config['DISCLOSURE_VERSION']}" in html
    assert re.search(r'<input type="checkbox" name="checked" value="yes" required>', html)


def test_confirming_needs_the_checkbox(client):
    response = client.post("/p/pendant-round/confirm", data={**ANNA, "date-line-2-0": "day-month-year"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Tick the box" in html
    assert 'name="design_token"' not in html
    # Nothing the shopper chose is lost.
    assert re.search(r'value="day-month-year" required checked', html)


def test_confirming_needs_a_reading_for_an_ambiguous_date(client):
    response = client.post("/p/pendant-round/confirm", data={**ANNA, "checked": "yes"})
    assert response.status_code == 422
    assert "Tell us which date “03/04/2025” on line 2 means." in response.get_data(as_text=True)


def test_a_design_with_an_error_cannot_be_confirmed(client):
    data = {"line-1": "שרה", "font": "great-vibes", "checked": "yes"}
    page = client.get("/p/pendant-round/confirm", query_string=data).get_data(as_text=True)
    assert "This design cannot be made yet." in page
    assert re.search(r'<button type="submit" class="button primary" disabled>Confirm design', page)
    response = client.post("/p/pendant-round/confirm", data=data)
    assert response.status_code == 422
    assert "Great Vibes cannot draw" in response.get_data(as_text=True)
    empty = client.post("/p/pendant-round/confirm", data={"checked": "yes"})
    assert empty.status_code == 422 and "Type the text to be made." in empty.get_data(as_text=True)


def test_confirming_produces_a_token_with_what_was_shown_and_chosen(client, app):
    response = client.post(
        "/p/pendant-round/confirm", data={**ANNA, "date-line-2-0": "month-day-year", "checked": "yes"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Design confirmed" in html and "Add to cart" in html
    token = token_in(html)
    with app.test_request_context():
        confirmed = tokens.verify_design(token)
    assert confirmed.design == Design(
        "pendant-round", "dancing-script", ("Anna", "03/04/2025"), variant="sterling-silver"
    )
    assert confirmed.content_key == confirmed.design.content_key(1600, "jpeg")
    options = confirmed.options
    assert options["disclosure_version"] == app.config["DISCLOSURE_VERSION"]
    assert options["disclosure_sha256"] == personalize.disclosure_hash(app.config["DISCLOSURE_TEXT"])
    assert options["preview"] == {"width": 1600, "fmt": "jpeg"}
    assert options["made_exactly_as_typed"] is True
    [date] = options["dates"]
    assert date["typed"] == "03/04/2025" and date["ambiguous"] is True
    assert date["reading"] == "Tuesday 4 March 2025" and date["iso"] == "2025-03-04"
    assert options["channel"] == "shop" and options["confirmed_at"].endswith("Z")
    assert "date-ambiguous" in [w["code"] for w in options["warnings"]]


def test_the_cart_carries_the_token_to_the_order_form(client, app):
    app.config["SHOP_ORDERS"] = True  # production mode has no order form unless turned on
    token = token_in(
        client.post("/p/mug/confirm", data={"line-1": "Grandpa", "font": "lato", "checked": "yes"}).get_data(
            as_text=True
        )
    )
    added = client.post("/cart", data={"design_token": token})
    assert added.status_code == 303 and added.headers["Location"].endswith("/cart")
    html = client.get("/cart").get_data(as_text=True)
    assert '<form class="checkout" method="post" action="/orders">' in html
    assert token_in(html) == token
    for field in ("customer_name", "customer_email", "order_ref"):
        assert f'name="{field}"' in html
    assert "“Grandpa”" in html
    client.post("/cart/remove")
    assert "Your cart is empty" in client.get("/cart").get_data(as_text=True)


def test_a_tampered_token_cannot_go_in_the_cart(client):
    response = client.post("/cart", data={"design_token": "eyJkIjp7fX0.forged"})
    assert response.status_code == 400
    assert "not one we issued" in response.get_data(as_text=True)


def _confirmed_token(client) -> str:
    html = client.post(
        "/p/bar-necklace/confirm", data={"line-1": "Forever", "font": "eb-garamond", "checked": "yes"}
    ).get_data(as_text=True)
    return token_in(html)


def test_verify_re_renders_exactly_the_confirmed_image(client):
    token = _confirmed_token(client)
    response = client.post("/design/verify", json={"token": token})
    body = response.get_json()
    assert response.status_code == 200
    assert body["valid"] is True and body["same_image"] is True
    design = Design.from_dict(body["design"])
    assert body["content_key"] == design.content_key(1600, "jpeg")
    assert body["summary"] == "Forever"
    with client.get(body["preview_url"]) as image:
        assert image.status_code == 200
        assert image.headers["ETag"] == f'"{body["content_key"]}"'
        assert image.data == render(design, width=1600, fmt="jpeg").image
    # A form field works too (a shop's back office posting the line-item property).
    assert client.post("/design/verify", data={"design_token": token}).get_json()["valid"] is True


@pytest.mark.parametrize("how", ["flip-char", "swap-payload", "empty", "garbage"])
def test_verify_rejects_tampered_tokens_with_a_clear_error(client, how):
    token = _confirmed_token(client)
    other = _confirmed_token(client)
    forged = {
        "flip-char": token[:10] + ("A" if token[10] != "A" else "B") + token[11:],
        "swap-payload": other.split(".")[0] + "." + token.split(".")[1],
        "empty": "",
        "garbage": "not a token at all",
    }[how]
    response = client.post("/design/verify", json={"token": forged})
    assert response.status_code == 400
    body = response.get_json()
    assert body["valid"] is False
    assert body["error"] in (
        "This design token is not one we issued, or it was changed after it was issued.",
        "No design token was given.",
    )


def _hidden(html: str, name: str) -> str:
    match = re.search(rf'<input type="hidden" name="{re.escape(name)}" value="([^"]*)">', html)
    assert match, f"no hidden {name}"
    return unescape(match.group(1))


def test_confirming_is_refused_when_the_page_showed_something_else(client, app):
    """The token says what the shopper saw; if the disclosure or the preview changed while
    the confirmation page was open, the shopper sees the new one and confirms again."""
    data = {"line-1": "Grandpa", "font": "lato", "checked": "yes"}
    page = client.get("/p/mug/confirm", query_string=data).get_data(as_text=True)
    shown = {
        "disclosure_sha256": _hidden(page, "disclosure_sha256"),
        "preview_key": _hidden(page, "preview_key"),
    }
    assert shown["preview_key"] == Design("mug", "lato", ("Grandpa",)).content_key(1600, "jpeg")
    assert f"/preview/{shown['preview_key']}.jpg" in page

    app.config["DISCLOSURE_TEXT"] += " Engraving takes three days."
    response = client.post("/p/mug/confirm", data={**data, **shown})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'name="design_token"' not in html
    assert "The returns notice changed while this page was open" in html
    assert "Engraving takes three days." in html
    assert 'name="checked" value="yes" required>' in html  # to be ticked again
    # The page now carries the new notice's hash: confirming from it works.
    again = client.post(
        "/p/mug/confirm",
        data={
            **data,
            "disclosure_sha256": _hidden(html, "disclosure_sha256"),
            "preview_key": shown["preview_key"],
        },
    )
    assert again.status_code == 200 and token_in(again.get_data(as_text=True))

    # A hidden line changed behind the page's back: its preview is not what was shown.
    altered = client.post(
        "/p/mug/confirm", data={**data, "line-1": "Grandma", "preview_key": shown["preview_key"]}
    )
    assert altered.status_code == 422
    assert "The preview changed while this page was open" in altered.get_data(as_text=True)


@pytest.mark.parametrize(
    "form",
    [
        {"line-1": "Grandpa", "font": "lato"},  # no checkbox
        {"line-1": "Grandpa", "font": "lato", "checked": "no"},
        {"line-1": "Grandpa", "font": "comic-sans", "checked": "yes"},  # not a font of this product
        {"line-1": "Grandpa", "font": "lato", "align": "justify", "checked": "yes"},
        {"line-1": "Grandpa", "font": "lato", "use_font": "great-vibes-x", "checked": "yes"},
        {"line-1": "A" * 60, "font": "lato", "checked": "yes"},  # too long for the mug
        {"line-1": "x" * 500, "font": "lato", "checked": "yes"},  # refused before rendering
        {"line-1": "   ", "font": "lato", "checked": "yes"},
        {"line-1": "Born 03/04/25", "font": "lato", "checked": "yes", "date-line-1-5": "week-day-year"},
        {"line-1": "Born 03/04/25", "font": "lato", "checked": "yes", "date-line-1-0": "day-month-year"},
    ],
)
def test_no_form_gets_a_token_past_an_error_the_checkbox_or_a_date(client, form):
    for prefix in ("/p", "/embed"):
        response = client.post(f"{prefix}/mug/confirm", data=form)
        html = response.get_data(as_text=True)
        assert response.status_code == 422, html
        assert "design_token" not in html and "data-confirmed-token" not in html

"""The demo shop's "Place order" (POST /orders) and the demo outbox (/dev/outbox)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from proofmark.db import get_db
from proofmark.tokens import sign_design
from tests.proofs_support import count, design, make_app
from tests.support import STAFF_EMAIL, StaffLogin, make_staff, sign_in


def _has_staff(app) -> bool:
    with app.app_context():
        return get_db().execute("SELECT 1 FROM staff WHERE email = ?", (STAFF_EMAIL,)).fetchone() is not None


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory):
    return make_app(tmp_path_factory.mktemp("orders") / "instance", DEMO=True)


def token(app, text="Ada Lovelace") -> str:
    with app.app_context():
        d = design(text)
        return sign_design(d, d.content_key(1200, "jpeg"), {"date_readings": {}})


def _counts(app):
    with app.app_context():
        db = get_db()
        return count(db, "proofs"), count(db, "events"), count(db, "outbox")


def test_place_order_creates_a_proof_and_tells_the_shopper_to_check_email(demo_app):
    client = demo_app.test_client()
    response = client.post(
        "/orders",
        data={
            "design_token": token(demo_app),
            "customer_name": "Ada Lovelace",
            "customer_email": "ada@example.com",
            "order_ref": "SHOP-1",
        },
    )
    assert response.status_code == 303
    page = client.get(response.headers["Location"])
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Check your email" in html and "a•••" in html and "SHOP-1" in html
    assert 'href="/dev/outbox"' in html  # demo mode points at the outbox
    with demo_app.app_context():
        row = (
            get_db().execute("SELECT source, status, text FROM proofs WHERE order_ref = 'SHOP-1'").fetchone()
        )
    assert tuple(row) == ("shop", "awaiting_approval", "Ada Lovelace")
    # Sent right after the request (inline under TESTING) by the file backend.
    assert list((Path(demo_app.instance_path) / "outbox").glob("*.eml"))


def test_same_token_twice_is_one_order(demo_app):
    client = demo_app.test_client()
    form = {
        "design_token": token(demo_app, "Twice"),
        "customer_name": "Ada",
        "customer_email": "ada@example.com",
    }
    first = client.post("/orders", data=form)
    second = client.post("/orders", data=form)
    assert first.headers["Location"] == second.headers["Location"]


@pytest.mark.parametrize("bad", ["", "garbage", "eyJkIjp7fX0.forged"])
def test_tampered_design_token_is_400_and_creates_nothing(demo_app, bad):
    before = _counts(demo_app)
    response = demo_app.test_client().post(
        "/orders", data={"design_token": bad, "customer_name": "Ada", "customer_email": "ada@example.com"}
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "We could not place this order" in html and "Nothing was ordered" in html
    assert _counts(demo_app) == before


def test_altered_design_in_a_real_token_is_400(demo_app):
    good = token(demo_app)
    payload, _, signature = good.partition(".")
    forged = payload[:-3] + ("AAA" if payload[-3:] != "AAA" else "BBB") + "." + signature
    before = _counts(demo_app)
    response = demo_app.test_client().post(
        "/orders", data={"design_token": forged, "customer_name": "Ada", "customer_email": "ada@example.com"}
    )
    assert response.status_code == 400
    assert _counts(demo_app) == before


def test_bad_email_keeps_everything_for_a_retry(demo_app):
    t = token(demo_app, "Keep me")
    before = _counts(demo_app)
    response = demo_app.test_client().post(
        "/orders", data={"design_token": t, "customer_name": "Ada", "customer_email": "ada.example.com"}
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "not an email address" in html
    assert f'value="{t}"' in html and 'value="Ada"' in html and 'value="ada.example.com"' in html
    assert _counts(demo_app) == before


def test_invisible_character_in_the_name_empties_only_that_field_for_a_retry(demo_app):
    t = token(demo_app, "Retry me")
    before = _counts(demo_app)
    client = demo_app.test_client()
    response = client.post(
        "/orders",
        data={
            "design_token": t,
            "customer_name": "Ada \u202eLovelace",
            "customer_email": "ada@example.com",
            "order_ref": "SHOP-77",
        },
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "U+202E RIGHT-TO-LEFT OVERRIDE" in html and "\u202e" not in html
    # The name is asked again (it cannot be fixed by eye); the rest is kept, the order
    # reference included, and can be edited.
    assert re.search(r'name="customer_name" value=""[^>]*autofocus aria-invalid="true"', html)
    assert 'value="ada@example.com"' in html and f'value="{t}"' in html
    assert re.search(r'<input type="text" name="order_ref" value="SHOP-77" maxlength="64"', html)
    assert _counts(demo_app) == before
    retry = client.post(
        "/orders",
        data={
            "design_token": t,
            "customer_name": "Ada Lovelace",
            "customer_email": "ada@example.com",
            "order_ref": "SHOP-77",
        },
    )
    assert retry.status_code == 303


def test_an_order_reference_with_a_bidi_override_can_be_corrected(demo_app):
    t = token(demo_app, "Ref")
    response = demo_app.test_client().post(
        "/orders",
        data={
            "design_token": t,
            "customer_name": "Ada",
            "customer_email": "ada@example.com",
            "order_ref": "SHOP-\u20661",
        },
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "order reference contains an invisible character (U+2066 LEFT-TO-RIGHT ISOLATE)" in html
    assert re.search(r'name="order_ref" value="" maxlength="64"[^>]*autofocus', html)
    assert 'value="Ada"' in html


def test_dev_outbox_needs_a_staff_sign_in_even_in_demo_mode(demo_app):
    """Every message holds a customer's approval link: anonymous visitors are sent to sign in."""
    client = demo_app.test_client()
    for path in ("/dev/outbox", "/dev/outbox/1", "/dev/outbox/1/html", "/dev/outbox/1.eml"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/staff/login?next=/dev/outbox"), path
    # Signing in comes back to the outbox.
    make_staff(demo_app, "outbox@shop.test")
    response = StaffLogin(client, "outbox@shop.test").login(query_string={"next": "/dev/outbox"})
    assert response.headers["Location"] == "/dev/outbox"
    assert client.get("/dev/outbox").status_code == 200


def test_dev_outbox_lists_and_shows_messages_with_html_and_inline_image(demo_app):
    client = sign_in(demo_app, create=not _has_staff(demo_app)).client
    client.post(
        "/orders",
        data={
            "design_token": token(demo_app, "Outbox"),
            "customer_name": "Ada",
            "customer_email": "ada@example.com",
        },
    )
    listing = client.get("/dev/outbox").get_data(as_text=True)
    outbox_id = re.search(r'href="/dev/outbox/(\d+)"', listing).group(1)
    page = client.get(f"/dev/outbox/{outbox_id}").get_data(as_text=True)
    assert 'class="approval-link" href="http://proofs.test/approve/' in page
    assert f'src="/dev/outbox/{outbox_id}/html"' in page and 'sandbox=""' in page
    html = client.get(f"/dev/outbox/{outbox_id}/html")
    assert "frame-ancestors 'self'" in html.headers["Content-Security-Policy"]
    src = re.search(r'src="(/dev/outbox/\d+/part/[^"]+)"', html.get_data(as_text=True)).group(1)
    image = client.get(src)
    assert image.status_code == 200 and image.mimetype == "image/jpeg"
    raw = client.get(f"/dev/outbox/{outbox_id}.eml")
    assert raw.mimetype == "message/rfc822" and b"Message-ID:" in raw.data


def test_dev_outbox_is_hidden_outside_debug_and_demo(tmp_path):
    app = make_app(tmp_path / "instance")
    assert app.test_client().get("/dev/outbox").status_code == 404

"""Hostile, malformed and out-of-range input on every audience's routes: each gets a 4xx
with a specific, plain-language message (an HTML page, or JSON under /api/), and nothing is
created or lost. Each case here was a 500 or a silent corruption before it was fixed."""

from __future__ import annotations

import base64
import json
import re

import pytest

from proofmark import mail, proofs, tokens
from proofmark.api_keys import create as create_api_key
from proofmark.db import get_db
from proofmark_renderer import Design
from tests.proofs_support import count, link_for, make_app, new_proof
from tests.support import make_staff

HUGE = "99999999999999999999999"  # larger than any SQLite integer


@pytest.fixture
def demo_app(tmp_path):
    return make_app(tmp_path / "instance", DEMO=True)


@pytest.fixture
def proof_app(demo_app):
    return demo_app


@pytest.fixture(scope="module")
def read_only_app(tmp_path_factory):
    """One demo app with a staff account and a proof (id 1), for the tests that only look."""
    app = make_app(tmp_path_factory.mktemp("robustness") / "instance", DEMO=True)
    make_staff(app)
    with app.app_context():
        assert new_proof(get_db()) == 1
    return app


@pytest.fixture
def staff_app(read_only_app):
    return read_only_app


@pytest.fixture
def proof_id(proof):
    return proof[0]


def text(response) -> str:
    return " ".join(response.get_data(as_text=True).split())


def proofs_count(app) -> int:
    with app.app_context():
        return count(get_db(), "proofs")


# --- ids too large for the database ----------------------------------------------------------


@pytest.mark.parametrize(
    "method, url",
    [
        ("GET", f"/staff/proofs/{HUGE}"),
        ("GET", f"/staff/proofs/{HUGE}/revise"),
        ("GET", f"/staff/proofs/{HUGE}/evidence.pdf"),
        ("GET", f"/staff/proofs/{HUGE}/evidence.json"),
        ("GET", f"/staff/proofs/{HUGE}/claims/new"),
        ("GET", f"/staff/proofs/1/revisions/{HUGE}.png"),
        ("GET", f"/staff/proofs/1/emails/{HUGE}.eml"),
        ("POST", f"/staff/proofs/{HUGE}/notes"),
        ("POST", f"/staff/proofs/{HUGE}/cancel"),
        ("POST", f"/staff/proofs/{HUGE}/resend"),
        ("POST", f"/staff/proofs/1/claims/{HUGE}/decide"),
        ("GET", f"/dev/outbox/{HUGE}"),
        ("GET", f"/dev/outbox/{HUGE}/html"),
        ("GET", f"/dev/outbox/{HUGE}.eml"),
    ],
)
def test_an_id_too_large_for_the_database_is_not_found(staff, method, url):
    response = staff.open(url, method=method, data={"note": "x", "reason": "x", "resolution": "remake"})
    assert response.status_code == 404
    assert "Page not found" in text(response) and "There is nothing at this address" in text(response)


def test_a_page_cursor_with_an_id_too_large_is_refused_in_words(staff):
    cursor = base64.urlsafe_b64encode(f"2026-01-01T00:00:00Z|{HUGE}".encode()).decode()
    response = staff.get(f"/staff/proofs?after={cursor}")
    assert response.status_code == 200
    assert "That page link is no longer valid" in text(response)


@pytest.mark.parametrize("q", ["a\x00b", "Ada\x00", "\x00\x00\x00", "Ad\x1fa"])
def test_control_characters_in_the_search_do_not_break_it(staff, q):
    response = staff.get("/staff/proofs", query_string={"q": q})
    assert response.status_code == 200


# --- dates at the ends of the calendar --------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "nothing_matches"),
    [
        ({"date_from": "9999-12-31", "date_to": "9999-12-31"}, True),
        ({"date_to": "9999-12-31"}, False),
        ({"date_from": "0001-01-01", "date_to": "0001-01-01"}, True),
    ],
)
def test_search_dates_at_the_end_of_the_calendar(staff, args, nothing_matches):
    response = staff.get("/staff/proofs", query_string=args)
    assert response.status_code == 200
    if nothing_matches:
        assert "No proofs" in text(response)


@pytest.mark.parametrize(
    "args",
    [
        {"from": "9999-12-31", "to": "9999-12-31"},
        {"to": "9999-12-31"},
        {"to": "0001-01-01"},
        {"from": "0001-01-01", "to": "0001-01-05"},
    ],
)
def test_insights_dates_at_the_end_of_the_calendar(staff, args):
    assert staff.get("/staff/insights", query_string=args).status_code == 200


# --- preview addresses ------------------------------------------------------------------------


def _design_param(obj) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")


@pytest.mark.parametrize("lines", [["\ud800"], ["Anna\udfff"]])
def test_a_preview_address_with_a_lone_surrogate_is_refused(demo_app, lines):
    d = _design_param({"product": "mug", "font": "lato", "lines": lines})
    response = demo_app.test_client().get(f"/preview/{'a' * 32}.jpg?w=1000&d={d}")
    assert response.status_code == 400
    assert response.get_data(as_text=True).strip() == "The design in the preview address cannot be read."


# --- the API and JSON bodies ------------------------------------------------------------------


@pytest.fixture(scope="module")
def api_app(tmp_path_factory):
    """One demo app for the refused API calls: none of them may make a proof in it."""
    return make_app(tmp_path_factory.mktemp("robustness-api") / "instance", DEMO=True)


@pytest.fixture(scope="module")
def api_key(api_app):
    with api_app.app_context():
        return create_api_key(get_db(), "robustness")


@pytest.fixture
def api(api_app, api_key):
    return api_app.test_client(), {"Authorization": f"Bearer {api_key}"}


GOOD = {
    "order_ref": "R-1",
    "customer_name": "Ann",
    "customer_email": "ann@example.com",
    "design": {"product": "mug", "font": "lato", "lines": ["Hi"]},
}


@pytest.mark.parametrize(
    "design, says",
    [
        ({"product": "mug", "font": "lato", "lines": [None]}, "`design.lines` must be a list of strings"),
        ({"product": "mug", "font": "lato", "lines": [5]}, "`design.lines` must be a list of strings"),
        ({"product": "mug", "font": "lato", "lines": [["Hi"]]}, "`design.lines` must be a list of strings"),
        (
            {"product": "pendant-round", "font": "lato", "lines": ["Hi"], "fields": {"rim": None}},
            "values are strings",
        ),
        ({"product": 5, "font": "lato", "lines": ["Hi"]}, "`design.product` must be a string"),
        ({"product": "mug", "font": ["lato"], "lines": ["Hi"]}, "`design.font` must be a string"),
        (
            {"product": "mug", "font": "lato", "lines": ["Hi"], "align": None},
            "`design.align` must be a string",
        ),
    ],
)
def test_api_refuses_non_string_design_values_instead_of_engraving_them(api_app, api, design, says):
    client, headers = api
    response = client.post("/api/proofs", headers=headers, json={**GOOD, "design": design})
    assert response.status_code == 422
    assert response.json["error"]["code"] == "invalid_field"
    assert says in response.json["error"]["message"]
    assert proofs_count(api_app) == 0


@pytest.mark.parametrize("body", [b"[" * 100_000, b'{"a":' * 50_000])
def test_json_nested_too_deeply_is_malformed_json(api_app, api, body):
    client, headers = api
    response = client.post("/api/proofs", headers=headers, data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.json["error"] == {"code": "invalid_json", "message": "The body is not a JSON object."}
    # The shop's routes take at most SHOPPER_FORM_MAX_BYTES; still far deeper than Python recurses.
    response = client.post("/design/verify", data=body[:60_000], content_type="application/json")
    assert response.status_code == 400 and response.json == {
        "valid": False,
        "error": "No design token was given.",
    }
    assert proofs_count(api_app) == 0


@pytest.mark.parametrize(
    "email",
    ["ann\u202e@example.com", "ann\u200b@example.com", "ann@exa\ufeffmple.com", "ann\u2060@example.com"],
)
def test_invisible_characters_in_an_email_address_are_refused(api_app, api, email):
    client, headers = api
    response = client.post("/api/proofs", headers=headers, json={**GOOD, "customer_email": email})
    assert response.status_code == 422
    assert "is not an email address we can send the proof to" in response.json["error"]["message"]
    assert proofs_count(api_app) == 0


def test_an_order_with_an_invisible_character_in_the_email_is_refused_and_keeps_the_form(demo_app):
    with demo_app.test_request_context():
        token = tokens.sign_design(Design(product="bar-necklace", font="lato", lines=("Ada",)), "key")
    response = demo_app.test_client().post(
        "/orders",
        data={"design_token": token, "customer_name": "Ann", "customer_email": "ann\u202e@example.com"},
    )
    assert response.status_code == 422
    assert "is not an email address we can send the proof to" in text(response)
    assert 'value="Ann"' in response.get_data(as_text=True)  # what was typed is kept
    assert proofs_count(demo_app) == 0


# --- the approval page ------------------------------------------------------------------------


@pytest.mark.parametrize("shown", ["\u202eevil", "😀", "é" * 64, "\x00"])
def test_a_non_ascii_page_fingerprint_means_the_page_changed(demo_app, proof_id, shown):
    with demo_app.app_context():
        link = link_for(get_db(), proof_id)
    statements = [s["id"] for s in demo_app.config["APPROVAL_STATEMENTS"]]
    response = demo_app.test_client().post(
        f"/approve/{link}/approve", data={"statement": statements, "shown": shown}
    )
    assert response.status_code == 409
    assert "The proof page changed since you opened it" in text(response)
    response = demo_app.test_client().post(
        f"/approve/{link}/changes", data={"comment": "Fix it", "shown": shown}
    )
    assert response.status_code == 409
    with demo_app.app_context():
        assert proofs.get_proof(get_db(), proof_id).status == "awaiting_approval"
        assert count(get_db(), "events", "kind IN ('approved', 'changes_requested')") == 0


@pytest.mark.parametrize("token", ["x", "a.b.c", "%ff%fe", "🙂"])
def test_the_proof_image_of_a_garbled_link_says_why(demo_app, token):
    response = demo_app.test_client().get(f"/approve/{token}/image.png")
    assert response.status_code == 400
    assert "This approval link is not one we sent" in text(response) or "not complete" in text(response)


# --- pages for errors the views do not handle themselves -------------------------------------


@pytest.mark.parametrize(
    "method, url, status, says",
    [
        ("GET", "/no-such-page", 404, "There is nothing at this address"),
        ("GET", "/orders/P-NOSUCH", 404, "There is nothing at this address"),
        ("GET", "/fonts/..%2f..%2fetc%2fpasswd.ttf", 404, "There is nothing at this address"),
        ("GET", "/vendor/..%2fpackage.json", 404, "There is nothing at this address"),
        ("PUT", "/", 405, "This address does not accept PUT requests."),
        ("GET", "/orders", 405, "This address does not accept GET requests."),
        ("DELETE", "/cart", 405, "This address does not accept DELETE requests."),
    ],
)
def test_unhandled_errors_get_a_plain_page(demo_app, method, url, status, says):
    response = demo_app.test_client().open(url, method=method)
    assert response.status_code == status
    assert response.mimetype == "text/html"
    assert says in text(response)
    assert "The requested URL was not found on the server" not in text(response)
    if status == 405:
        assert response.headers["Allow"]


@pytest.mark.parametrize(
    "method, url, status, code",
    [
        ("GET", "/api/nope", 404, "page_not_found"),
        ("DELETE", "/api/proofs/P-X", 405, "not_allowed_here"),
    ],
)
def test_unhandled_api_errors_answer_json(demo_app, method, url, status, code):
    response = demo_app.test_client().open(url, method=method)
    assert response.status_code == status
    assert response.json["error"]["code"] == code and response.json["error"]["message"]


def test_a_views_own_error_message_and_page_are_kept(staff, read_only_app):
    response = staff.get("/staff/proofs/12345")
    assert response.status_code == 404 and "There is no proof #12345." in text(response)
    assert "Back to the records" in text(response)
    response = read_only_app.test_client().get("/p/no-such-product")
    assert (
        response.status_code == 404
        and "There is no product “\u2068no-such-product\u2069” in this shop." in text(response)
    )


def test_a_form_without_its_csrf_token_says_so(tmp_path):
    app = make_app(tmp_path / "instance", WTF_CSRF_ENABLED=True)
    response = app.test_client().post("/staff/login", data={"email": "a@b.co", "password": "x"})
    assert response.status_code == 400
    assert "was not sent" in text(response) and "nothing was saved" in text(response)


# --- the demo loop ----------------------------------------------------------------------------


def _confirm(client) -> str:
    form = {
        "line-1": "Anna",
        "line-2": "03/04/2025",
        "font": "dancing-script",
        "checked": "yes",
        "date-line-2-0": "day-month-year",
    }
    response = client.post("/p/pendant-round/confirm", data=form)
    assert response.status_code == 200, text(response)
    return re.search(r'name="design_token" value="([^"]+)"', response.get_data(as_text=True)).group(1)


def test_the_proof_email_repeats_the_date_reading_the_shopper_chose(demo_app):
    client = demo_app.test_client()
    token = _confirm(client)
    response = client.post(
        "/orders",
        data={"design_token": token, "customer_name": "Anna Berg", "customer_email": "anna@example.com"},
    )
    assert response.status_code == 303
    with demo_app.app_context():
        raw = mail.message_bytes(get_db().execute("SELECT * FROM outbox WHERE kind = 'proof'").fetchone())
    from email import message_from_bytes
    from email.policy import default

    message = message_from_bytes(raw, policy=default)
    plain = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "03/04/2025 = Thursday 3 April 2025, as you told us" in plain
    assert "Tuesday 4 March 2025" not in plain
    assert "Thursday 3 April 2025, as you told us" in html and "Tuesday 4 March 2025" not in html


def test_placing_the_order_empties_the_demo_cart(demo_app):
    client = demo_app.test_client()
    token = _confirm(client)
    assert client.post("/cart", data={"design_token": token}).status_code == 303
    assert "Place order" in text(client.get("/cart"))
    response = client.post(
        "/orders",
        data={"design_token": token, "customer_name": "Anna Berg", "customer_email": "anna@example.com"},
    )
    assert response.status_code == 303
    assert "Your cart is empty" in text(client.get("/cart"))

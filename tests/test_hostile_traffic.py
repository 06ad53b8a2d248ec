"""Hostile traffic and careless deployments (issue 13): each finding of the attack, reproduced
against the app and answered. Bounded work per request, nothing the customer typed changed
silently, demo versus production, staff sessions that end, idempotent API creation, safe
headers, logs and URLs."""

from __future__ import annotations

import gzip
import io
import json
import logging
import re
from email import message_from_bytes
from email.policy import default as default_policy

import brotli
import pytest

from proofmark import accesslog
from proofmark.db import get_db
from proofmark.tokens import verify_design
from tests.proofs_support import count, design, make_app
from tests.support import STAFF_EMAIL, StaffLogin, make_staff, sign_in

MB = 1_000_000
SHOPPER_POSTS = ("/p/mug/confirm", "/p/mug/preview", "/embed/mug/confirm?origin=http://shop.test", "/orders")


@pytest.fixture(scope="module")
def mapp(tmp_path_factory):
    return make_app(tmp_path_factory.mktemp("hostile") / "instance", SHOP_ORDERS=True)


@pytest.fixture(scope="module")
def api_key(mapp):
    from proofmark import api_keys

    with mapp.app_context():
        return api_keys.create(get_db(), "hostile-tests")


def _api(key: str, **headers) -> dict:
    return {"Authorization": f"Bearer {key}", **headers}


def _form_body(size: int) -> bytes:
    return b"line-1=" + b"A" * size


# --- 1. bounded work per request ---------------------------------------------------------------


@pytest.mark.parametrize("size", [MB, 10 * MB])
@pytest.mark.parametrize("path", SHOPPER_POSTS)
def test_huge_shopper_bodies_are_refused_before_they_are_read(mapp, path, size):
    response = mapp.test_client().post(
        path, data=_form_body(size), content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 413
    text = response.get_data(as_text=True)
    assert "far longer than anything we can make" in text and "nothing was saved" in text
    assert len(response.data) < 20_000  # the answer does not echo the body


@pytest.mark.parametrize("size", [MB, 10 * MB])
def test_huge_api_bodies_are_413(mapp, api_key, size):
    response = mapp.test_client().post(
        "/api/proofs", data=b"{" + b" " * size + b"}", content_type="application/json", headers=_api(api_key)
    )
    assert response.status_code == 413 and response.json["error"]["code"] == "too_large"


@pytest.mark.parametrize("size", [MB, 70_000])
def test_a_body_without_content_length_is_refused_whole_not_cut_short(mapp, size):
    """Werkzeug stops reading a chunked body at the limit without a word; it must be refused."""
    response = mapp.test_client().post(
        "/p/mug/confirm",
        input_stream=io.BytesIO(_form_body(size)),
        content_type="application/x-www-form-urlencoded",
        environ_overrides={"wsgi.input_terminated": True, "CONTENT_LENGTH": ""},
    )
    assert response.status_code == 413


def test_a_long_line_within_the_body_limit_gets_no_letter_view_and_no_layout(mapp):
    text = "W" * 20_000
    response = mapp.test_client().post("/p/mug/confirm", data={"line-1": text, "checked": "yes"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Line 1 is 20,000 characters long; the mug takes at most 18." in html
    assert 'class="letters"' not in html  # no letter-by-letter view built
    assert "design_token" not in html
    # The preview shows the product without the text, so no address carries it.
    assert all(len(src) < 1000 for src in re.findall(r'src="([^"]+)"', html))


def test_an_overlong_query_string_is_414(mapp):
    response = mapp.test_client().get("/p/mug", query_string={"line-1": "x" * 10_000})
    assert response.status_code == 414 and "too long to be one of ours" in response.get_data(as_text=True)


# --- 7. nothing changed silently ---------------------------------------------------------------


def test_more_lines_than_the_product_allows_are_refused_not_dropped(mapp):
    response = mapp.test_client().post(
        "/p/bar-necklace/confirm", data={"line-1": "Ada", "line-2": "Byron", "checked": "yes"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "The bar necklace takes at most 1 line; line 2 (“\u2068Byron\u2069”) was sent as well." in html
    assert "design_token" not in html


def test_an_unknown_field_is_refused_not_dropped(mapp):
    response = mapp.test_client().post(
        "/p/bar-necklace/confirm", data={"line-1": "Ada", "field-rim": "Always", "checked": "yes"}
    )
    assert response.status_code == 422
    assert "has no place called “\u2068rim\u2069”" in response.get_data(as_text=True)


@pytest.mark.parametrize("brk", ["\n", "\r\n", "\r", "\u2028"])
def test_a_line_break_inside_a_line_is_refused_not_turned_into_a_space(mapp, brk):
    response = mapp.test_client().post(
        "/p/bar-necklace/confirm", data={"line-1": f"Ada{brk}Byron", "checked": "yes"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Text contains a line break after “\u2068Ada\u2069”" in html
    assert "Ada Byron" not in html


def test_surrounding_spaces_in_a_line_are_kept_exactly_and_pointed_out(mapp):
    client = mapp.test_client()
    response = client.post("/p/bar-necklace/confirm", data={"line-1": " Ada ", "checked": "yes"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    token = re.search(r'name="design_token" value="([^"]+)"', html).group(1)
    with mapp.app_context():
        assert verify_design(token).design.lines == (" Ada ",)
    warned = client.post("/p/bar-necklace/preview", data={"line-1": " Ada "}, headers={"HX-Request": "true"})
    assert "starts with a space" in warned.get_data(as_text=True)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"line-1=100%zz", "broken %-escape in the field “\u2068line-1\u2069” at character 4"),
        (b"line-1=Ren%E9", "not UTF-8 text"),
        (b"line-1=Ada&line-2=%", "broken %-escape in the field “\u2068line-2\u2069”"),
    ],
)
def test_invalid_percent_escapes_are_refused_with_field_and_position(mapp, raw, expected):
    client = mapp.test_client()
    posted = client.post(
        "/p/pendant-round/confirm", data=raw, content_type="application/x-www-form-urlencoded"
    )
    assert posted.status_code == 400 and expected in posted.get_data(as_text=True)
    linked = client.get("/p/pendant-round?" + raw.decode())
    assert linked.status_code == 400 and expected in linked.get_data(as_text=True)


def test_a_literal_percent_sign_is_fine(mapp):
    response = mapp.test_client().post("/p/bar-necklace/confirm", data={"line-1": "100%", "checked": "yes"})
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("customer_name", " Ada", "customer's name begins with a space (U+0020 SPACE)"),
        ("customer_name", "Ada\u00a0", "customer's name ends with a space (U+00A0 NO-BREAK SPACE)"),
        ("order_ref", "#77 ", "order reference ends with a space"),
        ("customer_email", " ada@example.com", "email address begins with a space"),
        ("customer_name", "Ada\nBcc: x@y.z", "contains a line break (U+000A LINE FEED) at character 4"),
    ],
)
def test_customer_fields_are_never_trimmed_but_refused_with_the_reason(mapp, api_key, field, value, message):
    body = {
        "order_ref": "#TRIM",
        "customer_name": "Ada",
        "customer_email": "ada@example.com",
        "design": {"product": "bar-necklace", "font": "lato", "lines": ["Ada"]},
        field: value,
    }
    response = mapp.test_client().post("/api/proofs", json=body, headers=_api(api_key))
    assert response.status_code == 422 and message in response.json["error"]["message"]


def test_the_staff_form_keeps_the_email_address_as_typed(staff):
    response = staff.post(
        "/staff/proofs/new",
        data={
            "product": "bar-necklace",
            "font": "lato",
            "lines": "Ada",
            "align": "center",
            "order_ref": "ST-CASE",
            "customer_name": "Ada",
            "customer_email": "Ada.Lovelace@Example.COM",
        },
    )
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:2000]
    with staff.application.app_context():
        row = get_db().execute("SELECT customer_email FROM proofs WHERE order_ref = 'ST-CASE'").fetchone()
    assert row["customer_email"] == "Ada.Lovelace@Example.COM"


# --- 8. smaller findings -----------------------------------------------------------------------


def test_an_error_quoting_a_right_to_left_override_names_it_and_shows_nothing_reversed(mapp):
    client = mapp.test_client()
    html = client.post(
        "/p/bar-necklace/preview", data={"line-1": "Anna\u202eneB"}, headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    issues = re.search(r'<div id="issues-line-1"[^>]*>(.*?)</div>\s*(?:<div id=|$)', html, re.S).group(1)
    assert "U+202E RIGHT-TO-LEFT OVERRIDE" in issues and "\u202e" not in issues
    page = client.get("/p/x\u202eevil").get_data(as_text=True)
    assert "“\u2068x⟨U+202E RIGHT-TO-LEFT OVERRIDE⟩evil\u2069”" in page and "\u202e" not in page


def test_a_long_crafted_customer_name_cannot_add_a_recipient(mapp):
    from proofmark import mail

    name = "A" * 70 + " x, Eve <eve@attacker.example>"
    with mapp.app_context():
        built = mail.build_message(
            to_name=name, to_addr="ada@example.com", subject="Your proof", text="t", html="<p>t</p>"
        )
    message = message_from_bytes(built.data, policy=default_policy)
    addresses = message["To"].addresses
    assert [(a.display_name, a.addr_spec) for a in addresses] == [(name, "ada@example.com")]
    assert b"eve@attacker.example>\r\n" not in built.data


@pytest.mark.parametrize("target", ["/staff/proofs\r\nSet-Cookie: x=1", "/staff/proofs\n", "/staff/\u2028x"])
def test_a_line_break_in_next_is_ignored_not_a_500(mapp, target):
    make_staff(mapp, "next@shop.test") if not _staff_exists(mapp, "next@shop.test") else None
    client = mapp.test_client()
    assert client.get("/staff/login", query_string={"next": target}).status_code == 200
    response = StaffLogin(client, "next@shop.test").login(query_string={"next": target})
    assert response.status_code == 302 and response.headers["Location"] == "/staff/proofs"


def _staff_exists(app, email: str) -> bool:
    with app.app_context():
        return get_db().execute("SELECT 1 FROM staff WHERE email = ?", (email,)).fetchone() is not None


def test_the_access_log_redacts_approval_tokens_and_designs(mapp):
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append
    log = logging.getLogger("proofmark.test-access")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    logged = accesslog.AccessLog(mapp.wsgi_app, log)
    original, mapp.wsgi_app = mapp.wsgi_app, logged
    try:
        client = mapp.test_client()
        client.get("/approve/SECRET.approval.token/changes?x=1", buffered=True)
        client.get("/preview/abc.jpg?w=1000&d=eyJzZWNyZXQiOiJBZGEifQ", buffered=True)
        client.post(
            "/design/verify",
            data={"design_token": "DESIGN.SECRET"},
            query_string={"token": "T.SECRET"},
            buffered=True,
        )
    finally:
        mapp.wsgi_app = original
        log.removeHandler(handler)
    lines = [r.getMessage() for r in records]
    assert len(lines) == 3
    assert '"GET /approve/[redacted]/changes?x=1 HTTP/1.1"' in lines[0]
    assert "/preview/abc.jpg?w=1000&d=[redacted]" in lines[1]
    assert "token=[redacted]" in lines[2]
    assert not any("SECRET" in line or "eyJzZWNyZXQ" in line for line in lines)


def test_evidence_urls_come_from_public_url_never_from_host(staff, proof):
    proof_id, _ = proof
    client = staff.application.test_client()
    cookie = staff.client.get_cookie(staff.application.config["SESSION_COOKIE_NAME"])
    client.set_cookie(cookie.key, cookie.value, domain="evil.example")
    response = client.get(f"/staff/proofs/{proof_id}/evidence.json", base_url="http://evil.example")
    assert response.status_code == 200
    urls = re.findall(r'"url": "([^"]+)"', response.get_data(as_text=True))
    assert urls and all(u.startswith("http://proofs.test/") for u in urls)
    assert "evil.example" not in response.get_data(as_text=True)


# --- 3, 4. demo versus production -------------------------------------------------------------


def test_demo_mode_serves_this_computer_only(tmp_path, monkeypatch):
    app = make_app(tmp_path / "demo", monkeypatch, DEMO=True)
    client = app.test_client()
    assert client.get("/").status_code == 200
    far = client.get("/", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert far.status_code == 403 and "demo mode" in far.get_data(as_text=True)


def test_production_has_no_demo_order_endpoint(tmp_path, monkeypatch):
    app = make_app(tmp_path / "prod", monkeypatch)
    with app.app_context():
        d = design("Ada")
        from proofmark.tokens import sign_design

        token = sign_design(d, d.content_key(1600, "jpeg"))
    client = app.test_client()
    response = client.post(
        "/orders", data={"design_token": token, "customer_name": "Ada", "customer_email": "ada@example.com"}
    )
    assert response.status_code == 404
    with app.app_context():
        assert count(get_db(), "proofs") == 0
    client.post("/cart", data={"design_token": token})
    assert 'action="/orders"' not in client.get("/cart").get_data(as_text=True)


def test_production_orders_when_turned_on_are_rate_limited(tmp_path, monkeypatch):
    from proofmark.tokens import sign_design

    app = make_app(tmp_path / "prod-orders", monkeypatch, SHOP_ORDERS=True, SHOP_ORDERS_PER_HOUR=2)
    client = app.test_client()
    statuses = []
    for n in range(3):
        with app.app_context():
            d = design(f"Ada {n}")
            token = sign_design(d, d.content_key(1600, "jpeg"))
        response = client.post(
            "/orders",
            data={"design_token": token, "customer_name": "Ada", "customer_email": "ada@example.com"},
        )
        statuses.append(response.status_code)
    assert statuses == [303, 303, 429]
    assert "at most 2 orders an hour" in response.get_data(as_text=True)
    with app.app_context():
        assert count(get_db(), "proofs") == 2
    # Another address has its own allowance.
    other = client.post(
        "/orders",
        data={"design_token": token, "customer_name": "Ada", "customer_email": "ada@example.com"},
        environ_base={"REMOTE_ADDR": "198.51.100.4"},
    )
    assert other.status_code == 303


# --- 5. sessions that end ---------------------------------------------------------------------


def _copy_cookie(app, source):
    copy = app.test_client()
    cookie = source.get_cookie(app.config["SESSION_COOKIE_NAME"])
    copy.set_cookie(cookie.key, cookie.value, domain=cookie.domain)
    return copy


def test_logout_ends_the_session_for_a_copied_cookie_too(app):
    session = sign_in(app)
    stolen = _copy_cookie(app, session.client)
    assert stolen.get("/staff/proofs").status_code == 200
    session.client.post("/staff/logout")
    assert stolen.get("/staff/proofs").status_code == 302


def test_password_change_ends_every_session(app, runner):
    first, second = sign_in(app), sign_in(app, create=False)
    result = runner.invoke(
        args=["create-staff", STAFF_EMAIL, "--password-stdin", "--reset-password"],
        input="a new long password\n",
    )
    assert result.exit_code == 0, result.output
    assert first.client.get("/staff/proofs").status_code == 302
    assert second.client.get("/staff/proofs").status_code == 302


def test_staff_disable_and_enable_commands(app, runner):
    session = sign_in(app)
    disabled = runner.invoke(args=["staff", "disable", STAFF_EMAIL])
    assert disabled.exit_code == 0 and "1 open session(s) ended" in disabled.output
    assert session.client.get("/staff/proofs").status_code == 302
    assert StaffLogin(app.test_client()).login().status_code == 401
    # A password reset does not re-enable the account.
    reset = runner.invoke(
        args=["create-staff", STAFF_EMAIL, "--password-stdin", "--reset-password"], input="another long one\n"
    )
    assert reset.exit_code == 0 and "stays disabled" in reset.output
    assert StaffLogin(app.test_client(), password="another long one").login().status_code == 401
    enabled = runner.invoke(args=["staff", "enable", STAFF_EMAIL])
    assert enabled.exit_code == 0 and "enabled" in enabled.output
    assert StaffLogin(app.test_client(), password="another long one").login().status_code == 302
    unknown = runner.invoke(args=["staff", "disable", "nobody@shop.test"])
    assert unknown.exit_code != 0 and "no staff account" in unknown.output


# --- 6. idempotent creation -------------------------------------------------------------------


def _proof_body(ref: str, text: str = "Ada") -> dict:
    return {
        "order_ref": ref,
        "customer_name": "Ada Lovelace",
        "customer_email": "ada@example.com",
        "design": {"product": "bar-necklace", "font": "lato", "lines": [text]},
    }


def test_a_retried_request_with_the_same_key_makes_one_proof_and_one_email(mapp, api_key):
    client = mapp.test_client()
    body = json.dumps(_proof_body("#IDEM-1"))
    headers = _api(api_key, **{"Idempotency-Key": "retry-1"})
    first = client.post("/api/proofs", data=body, content_type="application/json", headers=headers)
    second = client.post("/api/proofs", data=body, content_type="application/json", headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json == second.json and second.headers["Idempotent-Replayed"] == "true"
    with mapp.app_context():
        db = get_db()
        assert count(db, "proofs", "order_ref = '#IDEM-1'") == 1
        proof_id = db.execute("SELECT id FROM proofs WHERE order_ref = '#IDEM-1'").fetchone()[0]
        assert count(db, "outbox", "proof_id = ?", (proof_id,)) == 1


def test_the_same_key_with_another_body_is_422(mapp, api_key):
    client = mapp.test_client()
    headers = _api(api_key, **{"Idempotency-Key": "retry-2"})
    assert client.post("/api/proofs", json=_proof_body("#IDEM-2"), headers=headers).status_code == 201
    other = client.post("/api/proofs", json=_proof_body("#IDEM-2", "Byron"), headers=headers)
    assert other.status_code == 422 and other.json["error"]["code"] == "idempotency_key_reused"
    with mapp.app_context():
        assert count(get_db(), "proofs", "order_ref = '#IDEM-2'") == 1


def test_a_refusal_is_replayed_too_and_a_bad_key_is_422(mapp, api_key):
    client = mapp.test_client()
    headers = _api(api_key, **{"Idempotency-Key": "retry-3"})
    bad = {**_proof_body("#IDEM-3"), "customer_email": "not an address"}
    assert client.post("/api/proofs", json=bad, headers=headers).status_code == 422
    again = client.post("/api/proofs", json=bad, headers=headers)
    assert again.status_code == 422 and again.headers["Idempotent-Replayed"] == "true"
    weird = client.post(
        "/api/proofs", json=_proof_body("#IDEM-4"), headers=_api(api_key, **{"Idempotency-Key": "a b"})
    )
    assert weird.status_code == 422 and weird.json["error"]["code"] == "invalid_idempotency_key"


def test_an_order_reference_is_unique_unless_a_new_revision_is_asked_for(mapp, api_key):
    client = mapp.test_client()
    assert client.post("/api/proofs", json=_proof_body("#UNIQ"), headers=_api(api_key)).status_code == 201
    again = client.post("/api/proofs", json=_proof_body("#UNIQ", "Ada B."), headers=_api(api_key))
    assert again.status_code == 409 and again.json["error"]["code"] == "order_ref_exists"
    revised = client.post(
        "/api/proofs", json={**_proof_body("#UNIQ", "Ada B."), "new_revision": True}, headers=_api(api_key)
    )
    assert revised.status_code == 200 and revised.json["revision"] == 2
    assert revised.json["proof"]["text"] == "Ada B."
    other_customer = client.post(
        "/api/proofs",
        json={**_proof_body("#UNIQ"), "customer_email": "eve@example.com", "new_revision": True},
        headers=_api(api_key),
    )
    assert other_customer.status_code == 422 and other_customer.json["error"]["code"] == "customer_mismatch"
    with mapp.app_context():
        assert count(get_db(), "proofs", "order_ref = '#UNIQ'") == 1


# --- compression --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/vendor/htmx.min.js", "/static/site.css", "/p/mug"])
def test_pages_styles_and_scripts_are_compressed(mapp, path):
    client = mapp.test_client()
    plain = client.get(path, buffered=True).data
    br = client.get(path, headers={"Accept-Encoding": "br"}, buffered=True)
    gz = client.get(path, headers={"Accept-Encoding": "gzip"}, buffered=True)
    assert br.headers["Content-Encoding"] == "br" and gz.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in br.headers["Vary"]
    assert brotli.decompress(br.data) == plain and gzip.decompress(gz.data) == plain
    assert len(br.data) < len(plain)


# --- 2. serving: the adapter between granian (ASGI) and the app ---------------------------------


def _asgi_call(adapter, *, method="POST", path="/p/mug/preview", headers=(), chunks=(b"",)):
    import asyncio

    sent: list[dict] = []
    queue = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)
    ]

    async def receive():
        return queue.pop(0) if queue else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "query_string": b"",
        "headers": [(k.encode(), v.encode()) for k, v in headers],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 5000),
        "scheme": "http",
        "http_version": "1.1",
    }
    asyncio.run(adapter(scope, receive, send))
    return sent[0]["status"], dict((k.decode(), v.decode()) for k, v in sent[0]["headers"]), sent[1]["body"]


def test_the_serving_adapter_gives_the_app_whole_bodies_and_refuses_large_ones_unread(mapp):
    from proofmark.serving import BufferedWSGI

    adapter = BufferedWSGI(mapp, max_body=mapp.config["MAX_CONTENT_LENGTH"], threads=2)
    form = b"line-1=Zo%C3%AB+%26+Ben"
    # The body arrives in pieces (as a slow client sends it); the app sees all of it at once.
    status, headers, body = _asgi_call(
        adapter,
        headers=[
            ("content-type", "application/x-www-form-urlencoded"),
            ("content-length", str(len(form))),
            ("hx-request", "true"),
        ],
        chunks=[form[:5], form[5:12], form[12:]],
    )
    assert status == 200 and "Zoë &amp; Ben" in body.decode()
    assert headers["content-security-policy"].startswith("default-src 'self'")
    # Declared far too large: answered from the header, the body never read.
    status, _, body = _asgi_call(
        adapter,
        headers=[("content-type", "application/x-www-form-urlencoded"), ("content-length", str(10 * MB))],
        chunks=[],
    )
    assert status == 413 and b"nothing was saved" in body
    # No length (chunked) and too large: cut off at the limit, still 413.
    status, _, _ = _asgi_call(
        adapter,
        headers=[("content-type", "application/x-www-form-urlencoded")],
        chunks=[b"line-1=" + b"A" * 400_000, b"A" * 400_000, b""],
    )
    assert status == 413
    adapter.executor.shutdown()

"""POST /api/proofs and GET /api/proofs/<id>: bearer keys, JSON in and out, clear errors."""

from __future__ import annotations

import pytest

from proofmark.db import get_db
from proofmark.records import sha256_hex
from tests.proofs_support import count, design, make_app


@pytest.fixture(scope="module")
def api_app(tmp_path_factory):
    return make_app(tmp_path_factory.mktemp("api") / "instance", MAIL_SEND_AFTER_REQUEST="off")


@pytest.fixture(scope="module")
def key(api_app):
    result = api_app.test_cli_runner().invoke(args=["create-api-key", "Shopify store"])
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()[-1]


@pytest.fixture
def client(api_app):
    return api_app.test_client()


def auth(key):
    return {"Authorization": f"Bearer {key}"}


BODY = {
    "order_ref": "#1042",
    "customer_name": "Grace Hopper",
    "customer_email": "grace@example.com",
    "design": {"product": "bar-necklace", "font": "lato", "lines": ["Grace"]},
}


def test_key_is_shown_once_and_stored_only_as_a_hash(api_app, key):
    assert key.startswith("pm_") and len(key) > 40
    with api_app.app_context():
        rows = [dict(r) for r in get_db().execute("SELECT * FROM api_keys")]
    assert rows[0]["name"] == "Shopify store"
    assert rows[0]["key_hash"] == sha256_hex(key)
    assert all(key not in str(v) for row in rows for v in row.values())


@pytest.mark.parametrize(
    "headers, message",
    [
        ({}, "Authorization: Bearer"),
        ({"Authorization": "Basic abc"}, "must be `Bearer <key>`"),
        ({"Authorization": "Bearer pm_wrong"}, "not valid"),
    ],
)
def test_requests_without_a_valid_key_are_401(client, headers, message):
    response = client.post("/api/proofs", json=BODY, headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.json["error"]["code"] == "unauthorized"
    assert message in response.json["error"]["message"]


def test_create_and_read_a_proof(api_app, client, key):
    response = client.post("/api/proofs", json=BODY, headers=auth(key))
    assert response.status_code == 201, response.json
    proof = response.json["proof"]
    assert response.json["created"] is True
    assert proof["status"] == "awaiting_approval" and proof["approved"] is False
    assert proof["order_ref"] == "#1042" and proof["revision"] == 1 and proof["source"] == "api"
    assert len(proof["image_sha256"]) == 64
    assert response.headers["Location"] == f"/api/proofs/{proof['public_id']}"

    read = client.get(response.headers["Location"], headers=auth(key))
    assert read.status_code == 200 and read.json["proof"]["id"] == proof["id"]
    with api_app.app_context():
        actor = (
            get_db()
            .execute("SELECT actor FROM events WHERE proof_id = ? AND seq = 1", (proof["id"],))
            .fetchone()[0]
        )
    assert actor == "api:Shopify store"

    missing = client.get("/api/proofs/P-NOSUCH", headers=auth(key))
    assert missing.status_code == 404 and missing.json["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    "kwargs, status, code, message",
    [
        (
            {"data": "order=1", "content_type": "application/x-www-form-urlencoded"},
            415,
            "unsupported_media_type",
            "JSON",
        ),
        ({"data": "{not json", "content_type": "application/json"}, 400, "invalid_json", "not a JSON object"),
        ({"json": [1, 2]}, 400, "invalid_json", "not a JSON object"),
        ({"json": {"order_ref": "1"}}, 422, "missing_fields", "customer_name, customer_email, design"),
        ({"json": {**BODY, "customer_email": "grace"}}, 422, "invalid_proof", "not an email address"),
        ({"json": {**BODY, "customer_name": 5}}, 422, "invalid_field", "must be a string"),
        ({"json": {**BODY, "design": "Grace"}}, 422, "invalid_field", "must be an object"),
        (
            {"json": {**BODY, "design": {**BODY["design"], "colour": "red"}}},
            422,
            "invalid_field",
            "unknown keys: colour",
        ),
        (
            {"json": {**BODY, "design": {**BODY["design"], "product": "spaceship"}}},
            422,
            "invalid_proof",
            "cannot be made",
        ),
        (
            {"json": {**BODY, "design": None, "design_token": "forged.token"}},
            400,
            "invalid_design_token",
            "not one we issued",
        ),
    ],
)
def test_errors_are_specific_json_and_create_nothing(api_app, client, key, kwargs, status, code, message):
    with api_app.app_context():
        before = count(get_db(), "proofs")
    response = client.post("/api/proofs", headers=auth(key), **kwargs)
    assert response.status_code == status
    assert response.json["error"]["code"] == code
    assert message in response.json["error"]["message"]
    with api_app.app_context():
        assert count(get_db(), "proofs") == before


@pytest.mark.parametrize(
    "kwargs, status, code, message, field",
    [
        (
            {"json": {**BODY, "customer_name": "Grace \u202eHopper"}},
            422,
            "invalid_proof",
            "invisible character (U+202E RIGHT-TO-LEFT OVERRIDE)",
            "customer_name",
        ),
        (
            {"json": {**BODY, "order_ref": "#10\u206642"}},
            422,
            "invalid_proof",
            "U+2066 LEFT-TO-RIGHT ISOLATE",
            "order_ref",
        ),
        (
            {
                "data": '{"order_ref": "#1", "customer_name": "Gr\\ud800ace", "customer_email": "g@example.com", "design": '
                '{"product": "bar-necklace", "font": "lato", "lines": ["G"]}}',
                "content_type": "application/json",
            },
            422,
            "invalid_proof",
            "not a letter or sign we can show (U+D800)",
            "customer_name",
        ),
        (
            {"json": {**BODY, "customer_name": "G" * 201}},
            422,
            "invalid_proof",
            "at most 200 characters",
            "customer_name",
        ),
        (
            {"json": {**BODY, "order_ref": "1" * 65}},
            422,
            "invalid_proof",
            "at most 64 characters",
            "order_ref",
        ),
        (
            {"json": {**BODY, "customer_email": "g" * 250 + "@example.com"}},
            422,
            "invalid_proof",
            "at most 254",
            "customer_email",
        ),
        (
            {"json": {**BODY, "design": {**BODY["design"], "lines": ["G" * 501]}}},
            422,
            "invalid_field",
            "`design.lines[0]` is too long (at most 500",
            "design.lines[0]",
        ),
        (
            {"json": {**BODY, "design": {**BODY["design"], "lines": ["G"] * 21}}},
            422,
            "invalid_field",
            "at most 20 lines",
            None,
        ),
        (
            {"json": {**BODY, "design": {**BODY["design"], "product": "p" * 65}}},
            422,
            "invalid_field",
            "`design.product` is too long to be a catalog id",
            "design.product",
        ),
        (
            {"json": {**BODY, "design": {**BODY["design"], "fields": {"f" * 65: "x"}}}},
            422,
            "invalid_field",
            "too long to be a catalog id",
            "design.fields name 'ffffffffffffffffffff'…",
        ),
        (
            {"json": {**BODY, "design": None, "design_token": "t" * 20000}},
            400,
            "invalid_design_token",
            "far longer than any we issue",
            None,
        ),
        ({"json": {**BODY, "note": "n" * 300_000}}, 413, "too_large", "larger than 256 KiB", None),
    ],
)
def test_every_text_has_a_limit_and_invisible_characters_are_refused(
    api_app, client, key, kwargs, status, code, message, field
):
    with api_app.app_context():
        before = count(get_db(), "proofs")
    response = client.post("/api/proofs", headers=auth(key), **kwargs)
    assert response.status_code == status, response.json
    error = response.json["error"]
    assert error["code"] == code and message in error["message"]
    assert len(error["message"]) < 300  # never quotes the oversized input back
    if field:
        assert error["details"][0]["field"] == field
    with api_app.app_context():
        assert count(get_db(), "proofs") == before


def test_a_hebrew_name_is_a_name(api_app, client, key):
    response = client.post(
        "/api/proofs", json={**BODY, "customer_name": "שרה כהן", "order_ref": "#2001"}, headers=auth(key)
    )
    assert response.status_code == 201 and response.json["proof"]["customer_name"] == "שרה כהן"


def test_design_token_creates_once(api_app, client, key):
    from proofmark.tokens import sign_design

    with api_app.app_context():
        d = design("Token Ada")
        token = sign_design(d, d.content_key(1200, "jpeg"))
    body = {**BODY, "order_ref": "#TOKEN-1", "design": None, "design_token": token}
    body.pop("design")
    first = client.post("/api/proofs", json=body, headers=auth(key))
    assert first.status_code == 201 and first.json["proof"]["text"] == "Token Ada"
    again = client.post("/api/proofs", json=body, headers=auth(key))
    assert again.status_code == 200 and again.json["created"] is False
    assert again.json["proof"]["id"] == first.json["proof"]["id"]


def test_revoked_key_is_refused(api_app, client):
    runner = api_app.test_cli_runner()
    new_key = runner.invoke(args=["create-api-key", "temp"]).output.strip().splitlines()[-1]
    assert client.get("/api/proofs/P-NOSUCH", headers=auth(new_key)).status_code == 404
    listed = runner.invoke(args=["list-api-keys"]).output
    assert "temp" in listed and new_key not in listed
    assert "Revoked 1 key(s)." in runner.invoke(args=["revoke-api-key", new_key[:10]]).output
    assert client.get("/api/proofs/P-NOSUCH", headers=auth(new_key)).status_code == 401


def test_create_api_key_needs_a_name(api_app):
    result = api_app.test_cli_runner().invoke(args=["create-api-key", "  "])
    assert result.exit_code != 0 and "needs a name" in result.output


def test_api_is_not_blocked_by_csrf(tmp_path):
    app = make_app(tmp_path / "instance", WTF_CSRF_ENABLED=True, MAIL_SEND_AFTER_REQUEST="off")
    key = app.test_cli_runner().invoke(args=["create-api-key", "k"]).output.strip().splitlines()[-1]
    response = app.test_client().post("/api/proofs", json=BODY, headers=auth(key))
    assert response.status_code == 201


def test_a_design_without_a_variant_is_made_in_the_first_one_and_says_so(api_app, client, key):
    """The pendant comes in three metals. An API design that names none (as every design did
    before variants) is recorded, drawn and made in the first, sterling silver, and the answer
    says so; one that names a variant keeps it; an unknown one is refused naming the choices."""
    body = {
        **BODY,
        "order_ref": "#V-1",
        "design": {"product": "pendant-round", "font": "dancing-script", "lines": ["Ada"]},
    }
    response = client.post("/api/proofs", json=body, headers=auth(key))
    assert response.status_code == 201, response.json
    proof = response.json["proof"]
    assert proof["design"]["variant"] == "sterling-silver"
    [notice] = response.json["notices"]
    assert notice["code"] == "variant_defaulted" and notice["field"] == "design.variant"
    assert notice["variant"] == "sterling-silver"
    assert notice["variants"] == ["sterling-silver", "yellow-gold", "rose-gold"]
    assert "Sterling silver (sterling-silver)" in notice["message"]
    with api_app.app_context():
        db = get_db()
        stored = db.execute(
            "SELECT design, image_sha256 FROM revisions WHERE proof_id = ?", (proof["id"],)
        ).fetchone()
        event = db.execute(
            "SELECT data FROM events WHERE proof_id = ? AND kind = 'revision_added'", (proof["id"],)
        ).fetchone()
    import json as _json

    from proofmark import storage
    from proofmark_renderer import Design, render

    # Recorded: the design, and the revision_added event in the log, name the variant.
    assert _json.loads(stored["design"])["variant"] == "sterling-silver"
    assert _json.loads(event["data"])["design"]["variant"] == "sterling-silver"
    # Drawn: the stored proof image is the sterling-silver picture, exactly.
    with api_app.app_context():
        width = api_app.config["PROOF_IMAGE_WIDTH"]
        silver = render(
            Design("pendant-round", "dancing-script", ("Ada",), variant="sterling-silver"), width, "png"
        )
        assert storage.get(stored["image_sha256"]) == silver.image

    # A design that names its variant keeps it, and gets no notice.
    named = {**body, "order_ref": "#V-2", "design": {**body["design"], "variant": "rose-gold"}}
    response = client.post("/api/proofs", json=named, headers=auth(key))
    assert response.status_code == 201 and "notices" not in response.json
    assert response.json["proof"]["design"]["variant"] == "rose-gold"
    # A new revision without a variant says the same.
    again = {**body, "order_ref": "#V-2", "new_revision": True}
    response = client.post("/api/proofs", json=again, headers=auth(key))
    assert response.status_code == 200, response.json
    assert response.json["proof"]["design"]["variant"] == "sterling-silver"
    assert response.json["notices"][0]["code"] == "variant_defaulted"

    # An unknown variant is refused, naming the ones there are; nothing is stored.
    wrong = {**body, "order_ref": "#V-3", "design": {**body["design"], "variant": "platinum"}}
    response = client.post("/api/proofs", json=wrong, headers=auth(key))
    assert response.status_code == 422
    message = response.json["error"]["message"]
    assert "platinum" in message and "sterling-silver" in message and "rose-gold" in message
    bad_type = {**body, "order_ref": "#V-4", "design": {**body["design"], "variant": 7}}
    response = client.post("/api/proofs", json=bad_type, headers=auth(key))
    assert response.status_code == 422 and "design.variant" in response.json["error"]["message"]
    with api_app.app_context():
        assert count(get_db(), "proofs", "order_ref IN ('#V-3', '#V-4')") == 0

    # A product without variants is left as it is (no variant, no notice).
    response = client.post("/api/proofs", json={**BODY, "order_ref": "#V-5"}, headers=auth(key))
    assert response.status_code == 201 and "notices" not in response.json
    assert "variant" not in response.json["proof"]["design"]


def test_old_stored_designs_without_a_variant_keep_verifying(api_app, client, key):
    """A revision stored before this change (a pendant design with no variant) is drawn and
    kept exactly as stored: the render step does not add a variant to it."""
    from proofmark.proofs.images import render_checked
    from proofmark_renderer import Design

    with api_app.app_context():
        old = Design("pendant-round", "dancing-script", ("Ada",))
        rendered = render_checked(old.to_dict())
        assert rendered.design == old and rendered.design.variant == ""
    result = api_app.test_cli_runner().invoke(args=["verify-records"])
    assert result.exit_code == 0, result.output

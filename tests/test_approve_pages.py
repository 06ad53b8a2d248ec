"""The customer's approval pages through the Flask test client."""

from __future__ import annotations

import hashlib
import re

import pytest

from proofmark import proofs
from proofmark.db import get_db
from tests.proofs_support import all_statements, count, design, kinds, link_for, make_app, new_proof


@pytest.fixture(scope="module")
def papp(tmp_path_factory):
    return make_app(tmp_path_factory.mktemp("approve") / "instance")


@pytest.fixture
def client(papp):
    return papp.test_client()


@pytest.fixture
def proof_app(papp):
    return papp


def _shown(html: str) -> str:
    return re.search(r'name="shown" value="([0-9a-f]{64})"', html).group(1)


def _events(papp, proof_id):
    with papp.app_context():
        return proofs.get_events(get_db(), proof_id)


def test_page_shows_image_text_letters_dates_product_font_disclosure_and_statements(papp, client, proof):
    proof_id, token = proof
    response = client.get(f"/approve/{token}", headers={"User-Agent": "PhoneBrowser/1.0"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Please check your proof" in html
    assert f"/approve/{token}/image.png" in html
    assert "Ada 03/04/2025" in html
    assert 'class="letter letter-space" title="space"' in html  # letter by letter, spaces visible
    assert "Thursday 3 April 2025" in html and "Tuesday 4 March 2025" in html  # date written out
    assert "Bar necklace" in html and "Lato" in html
    assert papp.config["DISCLOSURE_TEXT"] in html
    for statement in papp.config["APPROVAL_STATEMENTS"]:
        assert statement["text"] in html
    assert html.count('type="checkbox" name="statement"') == 4
    assert "Request changes" in html and 'name="comment"' in html

    with client.get(f"/approve/{token}/image.png") as image:
        assert image.status_code == 200 and image.mimetype == "image/png"
        with papp.app_context():
            sha = proofs.get_proof(get_db(), proof_id).revision.image_sha256
        assert hashlib.sha256(image.data).hexdigest() == sha

    viewed = [e for e in _events(papp, proof_id) if e["kind"] == "proof_viewed"]
    assert len(viewed) == 1 and viewed[0]["user_agent"] == "PhoneBrowser/1.0"
    client.get(f"/approve/{token}", headers={"User-Agent": "PhoneBrowser/1.0"})  # a reload
    assert len([e for e in _events(papp, proof_id) if e["kind"] == "proof_viewed"]) == 1


def test_approve_needs_all_statements_then_records_once(papp, client, proof):
    proof_id, token = proof
    shown = _shown(client.get(f"/approve/{token}").get_data(as_text=True))
    response = client.post(f"/approve/{token}/approve", data={"statement": ["spelling"], "shown": shown})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Please tick every statement" in html
    assert 'value="spelling" required checked' in html  # what was ticked is kept
    assert "approved" not in kinds_of(papp, proof_id)

    data = {"statement": all_statements(papp), "shown": shown}
    first = client.post(f"/approve/{token}/approve", data=data, headers={"User-Agent": "UA-approve"})
    assert first.status_code == 303 and first.headers["Location"].endswith("?done=approved")
    replay = client.post(f"/approve/{token}/approve", data=data)
    assert replay.status_code == 303
    page = client.get(first.headers["Location"]).get_data(as_text=True)
    assert "Your proof is approved" in page and "You approved version 1 on" in page
    assert 'name="statement"' not in page
    assert kinds_of(papp, proof_id).count("approved") == 1
    approved = [e for e in _events(papp, proof_id) if e["kind"] == "approved"][0]
    assert approved["user_agent"] == "UA-approve" and approved["ip"] == "127.0.0.1"
    assert approved["data"]["link_id"] == "test-link"
    assert approved["data"]["presentation_sha256"] == shown

    # Changes requested after approving: the same approved page, nothing recorded.
    late = client.post(f"/approve/{token}/changes", data={"comment": "wait", "shown": shown})
    assert late.status_code == 303
    assert "changes_requested" not in kinds_of(papp, proof_id)


def kinds_of(papp, proof_id):
    with papp.app_context():
        return kinds(get_db(), proof_id)


def test_the_comment_problem_is_said_in_the_pages_language(papp, client, proof):
    proof_id, token = proof
    shown = _shown(client.get(f"/approve/{token}?lang=de").get_data(as_text=True))
    empty = client.post(f"/approve/{token}/changes?lang=de", data={"comment": "  ", "shown": shown})
    text = empty.get_data(as_text=True)
    assert empty.status_code == 422 and '<html lang="de">' in text
    assert "Was sollen wir ändern?: Bitte füllen Sie dieses Feld aus." in text and "is missing" not in text
    assert "changes_requested" not in kinds_of(papp, proof_id)


def test_request_changes_needs_a_comment(papp, client, proof):
    proof_id, token = proof
    shown = _shown(client.get(f"/approve/{token}").get_data(as_text=True))
    empty = client.post(f"/approve/{token}/changes", data={"comment": "  ", "shown": shown})
    assert empty.status_code == 422 and "is missing" in empty.get_data(as_text=True)
    ok = client.post(f"/approve/{token}/changes", data={"comment": "Date should be 4 March", "shown": shown})
    assert ok.status_code == 303
    page = client.get(ok.headers["Location"]).get_data(as_text=True)
    assert "Your change request is recorded" in page and "Date should be 4 March" in page
    # Approving afterwards is refused consistently: still the change request, no approval,
    # and the page it lands on says so.
    late = client.post(f"/approve/{token}/approve", data={"statement": all_statements(papp), "shown": shown})
    assert late.status_code == 303 and late.headers["Location"].endswith("?done=changes")
    assert "Your change request is recorded" in client.get(late.headers["Location"]).get_data(as_text=True)
    assert "approved" not in kinds_of(papp, proof_id)
    assert kinds_of(papp, proof_id).count("changes_requested") == 1


def test_a_comment_with_a_bidi_override_is_refused_and_kept_for_editing(papp, client, proof):
    proof_id, token = proof
    shown = _shown(client.get(f"/approve/{token}").get_data(as_text=True))
    response = client.post(f"/approve/{token}/changes", data={"comment": "Name: \u202eAda", "shown": shown})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "invisible character (U+202E RIGHT-TO-LEFT OVERRIDE)" in html
    assert "changes_requested" not in kinds_of(papp, proof_id)
    too_long = client.post(f"/approve/{token}/changes", data={"comment": "x" * 4001, "shown": shown})
    assert too_long.status_code == 422 and "at most 4000 characters" in too_long.get_data(as_text=True)


def test_an_expired_link_to_a_decided_proof_says_so(papp, client, clock, proof):
    proof_id, old = proof
    with papp.app_context():
        db = get_db()
        rev = proofs.get_proof(db, proof_id).revision
        proofs.approve(db, proof_id, revision=1, nonce=rev.nonce, statements_ticked=all_statements(papp))
    clock.advance(days=papp.config["APPROVAL_LINK_MAX_AGE_DAYS"], seconds=1)
    response = client.get(f"/approve/{old}")
    html = response.get_data(as_text=True)
    assert response.status_code == 410 and "already approved" in html
    assert "waits for your decision" not in html and "fresh link" not in html


@pytest.mark.parametrize("token", ["garbage", "a.b.c", "x" * 3000])
def test_tampered_or_garbled_link_is_a_400_in_plain_words(client, token):
    response = client.get(f"/approve/{token}")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "We can’t open this link" in html
    assert "Traceback" not in html
    assert client.post(f"/approve/{token}/approve", data={}).status_code == 400
    with client.get(f"/approve/{token}/image.png") as image:
        assert image.status_code == 400


def test_tampered_signature_is_400(client, proof):
    _, token = proof
    # A character inside the signature, not its last one: the last base64 character carries
    # padding bits, so changing it can leave the decoded signature the same.
    i = len(token) - 10
    tampered = token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1 :]
    assert client.get(f"/approve/{tampered}").status_code == 400


def test_expired_link_offers_a_fresh_link_to_the_address_on_file_only(papp, client, clock, proof):
    proof_id, old = proof
    clock.advance(days=papp.config["APPROVAL_LINK_MAX_AGE_DAYS"], seconds=1)
    response = client.get(f"/approve/{old}")
    assert response.status_code == 410
    html = response.get_data(as_text=True)
    assert "This link has expired" in html and "a•••" in html
    assert "ada@example.com" not in html  # the address is not disclosed to whoever holds the link
    assert 'name="email"' not in html  # and no address can be typed in

    sent = client.post(f"/approve/{old}/resend", data={"email": "attacker@evil.test"})
    assert sent.status_code == 200 and "Check your email" in sent.get_data(as_text=True)
    with papp.app_context():
        outbox = proofs.outbox_for(get_db(), proof_id)
    assert outbox[-1]["kind"] == "resent"
    assert {o["to_addr"] for o in outbox} == {"ada@example.com"}
    again = client.post(f"/approve/{old}/resend")
    assert again.status_code == 409 and "few minutes ago" in again.get_data(as_text=True)


def test_superseded_revision_is_viewable_marked_replaced_and_cannot_be_approved(papp, client, proof):
    proof_id, old = proof
    with papp.app_context():
        proofs.add_revision(get_db(), proof_id, design("Ada 4 March 2025"), actor="staff:s@shop.test")
        new = link_for(get_db(), proof_id)
    page = client.get(f"/approve/{old}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Replaced by version 2" in html and "newer email" in html
    assert 'name="statement"' not in html
    with client.get(f"/approve/{old}/image.png") as image:
        assert image.status_code == 200
    response = client.post(f"/approve/{old}/approve", data={"statement": all_statements(papp)})
    assert response.status_code == 303
    assert "approved" not in kinds_of(papp, proof_id)

    fresh = client.get(f"/approve/{new}").get_data(as_text=True)
    assert "Ada 4 March 2025" in fresh and 'name="statement"' in fresh


def test_expired_proof_shows_hold_and_resend(papp, client, clock):
    with papp.app_context():
        db = get_db()
        proof_id = new_proof(db)
        clock.advance(days=30)
        proofs.send_reminders(db)
        assert proofs.get_proof(db, proof_id).status == "expired"
        token = link_for(db, proof_id)
    html = client.get(f"/approve/{token}").get_data(as_text=True)
    assert "on hold" in html and "Email me a fresh link" in html and 'name="statement"' not in html
    assert (
        client.post(f"/approve/{token}/approve", data={"statement": all_statements(papp)}).status_code == 303
    )
    assert "approved" not in kinds_of(papp, proof_id)


def test_forms_are_csrf_protected(tmp_path):
    app = make_app(tmp_path / "instance", WTF_CSRF_ENABLED=True)
    with app.app_context():
        db = get_db()
        proof_id = new_proof(db)
        token = link_for(db, proof_id)
    client = app.test_client()
    html = client.get(f"/approve/{token}").get_data(as_text=True)
    refused = client.post(f"/approve/{token}/approve", data={"statement": all_statements(app)})
    assert refused.status_code == 400
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    ok = client.post(
        f"/approve/{token}/approve",
        data={"statement": all_statements(app), "shown": _shown(html), "csrf_token": csrf},
    )
    assert ok.status_code == 303
    with app.app_context():
        assert count(get_db(), "events", "kind = 'approved'") == 1

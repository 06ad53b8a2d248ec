"""Evidence pack: the facts as JSON (with the Stripe-named section) and as a PDF with real text."""

from __future__ import annotations

import io
import json

import pytest
from pypdf import PdfReader

from tests.staff_support import build_world


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return build_world(tmp_path_factory.mktemp("evidence-world") / "instance")


@pytest.fixture
def staff_app(world):
    return world.app


def _image_sha(world, proof_id, number):
    from proofmark.db import get_db

    with world.app.app_context():
        return (
            get_db()
            .execute(
                "SELECT image_sha256 FROM revisions WHERE proof_id = ? AND number = ?", (proof_id, number)
            )
            .fetchone()[0]
        )


def test_evidence_json_holds_the_approval_and_the_chain(staff, world):
    response = staff.get(f"/staff/proofs/{world.revised}/evidence.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    facts = json.loads(response.data)
    approval = facts["approval"]
    assert approval["revision"] == 2
    assert approval["image_sha256"] == _image_sha(world, world.revised, 2)
    assert approval["image_verified"] is True
    assert approval["lines"] == ["John"] and approval["font"] == "playfair-display"
    assert approval["ip"] == "203.0.113.9" and "Chromium" in approval["user_agent"]
    assert approval["disclosure"]["version"] and approval["disclosure"]["text"]
    assert approval["disclosure"]["sha256"] == approval["disclosure"]["text_sha256_recomputed"]
    assert len(approval["statements_ticked"]) >= 3 and approval["nonce"]
    kinds = [e["kind"] for e in facts["timeline"]]
    assert kinds[0] == "proof_created" and "changes_requested" in kinds and "approved" in kinds
    assert all(len(e["sha256"]) == 64 and e["at_utc"].endswith("Z") for e in facts["timeline"])
    assert facts["verification"]["intact"] is True
    assert [r["number"] for r in facts["revisions"]] == [1, 2]


def test_stripe_section_uses_stripes_field_names(staff, world):
    facts = json.loads(staff.get(f"/staff/proofs/{world.approved}/evidence.json").data)
    stripe = facts["dispute_evidence"]["stripe"]
    assert set(stripe) == {
        "customer_name",
        "customer_email_address",
        "product_description",
        "customer_signature",
        "customer_communication",
        "refund_policy",
        "refund_policy_disclosure",
        "refund_refusal_explanation",
        "uncategorized_text",
    }
    assert stripe["customer_name"] == "Ann Lee" and stripe["customer_email_address"] == "ann@example.com"
    assert "Round pendant" in stripe["product_description"] and "Sophie" in stripe["product_description"]
    assert stripe["customer_signature"]["file"] == "evidence-A-1001.pdf"
    assert stripe["customer_signature"]["url"].endswith(f"/staff/proofs/{world.approved}/evidence.pdf")
    assert stripe["customer_communication"] and all(
        c["file"].endswith(".eml") for c in stripe["customer_communication"]
    )
    assert "2011/83/EU" in stripe["refund_policy_disclosure"]
    assert "approved" in stripe["refund_refusal_explanation"]
    # Every referenced email can be downloaded as it was built.
    eml = staff.get(stripe["customer_communication"][0]["url"].replace("http://proofs.test", ""))
    assert eml.status_code == 200 and b"Message-ID" in eml.data


def test_never_approved_evidence_says_so(staff, world):
    facts = json.loads(staff.get(f"/staff/proofs/{world.pending}/evidence.json").data)
    assert facts["approval"] is None
    assert facts["dispute_evidence"]["stripe"]["refund_refusal_explanation"] == ""
    pdf = PdfReader(io.BytesIO(staff.get(f"/staff/proofs/{world.pending}/evidence.pdf").data))
    assert "never approved" in pdf.pages[0].extract_text()


def test_evidence_pdf_is_real_text_with_the_image(staff, world):
    response = staff.get(f"/staff/proofs/{world.revised}/evidence.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert 'filename="evidence-B-2002.pdf"' in response.headers["Content-Disposition"]
    reader = PdfReader(io.BytesIO(response.data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "B-2002" in text and "Bo Chan" in text and "bo@example.com" in text
    assert _image_sha(world, world.revised, 2) in text
    assert "John" in text and "Playfair Display" in text
    assert "203.0.113.9" in text and "Record verified: intact" in text
    assert "Changes requested" in text and "Approved" in text
    assert "right of withdrawal" in text  # the disclosure that was shown
    images = [img for page in reader.pages for img in page.images]
    assert images, "the approved proof image is embedded"


def test_unicode_names_survive_in_the_pdf(world, staff):
    from tests.staff_support import approve, create_proof

    proof_id = create_proof(
        world.app,
        order_ref="U-1",
        name="Łucja Żółć",
        email="lz@example.com",
        lines=("Zoë",),
        product="pendant-round",
        font="noto-sans",
    )
    approve(world.app, proof_id)
    reader = PdfReader(io.BytesIO(staff.get(f"/staff/proofs/{proof_id}/evidence.pdf").data))
    text = reader.pages[0].extract_text()
    assert "Łucja Żółć" in text and "Zoë" in text


def _pdf_text(staff, proof_id) -> tuple[str, PdfReader]:
    reader = PdfReader(io.BytesIO(staff.get(f"/staff/proofs/{proof_id}/evidence.pdf").data))
    return "\n".join(page.extract_text() for page in reader.pages), reader


def test_evidence_pdf_holds_the_whole_log_uncut(staff, world):
    facts = json.loads(staff.get(f"/staff/proofs/{world.revised}/evidence.json").data)
    text, _ = _pdf_text(staff, world.revised)
    flat = " ".join(text.split())
    for event in facts["timeline"]:
        assert event["sha256"] in text, event["kind"]
        for key in event["data"]:
            assert f"{key}:" in text, (event["kind"], key)
    approved = next(e for e in facts["timeline"] if e["kind"] == "approved")
    # The last fields of the largest event (cut off at 600 characters before).
    assert approved["data"]["presentation_sha256"] in text
    for statement in approved["data"]["statements"]:
        assert " ".join(statement["text"].split()) in flat
    for email in facts["emails"]:
        assert email["message_sha256"] in text and email["message_id"] in text


def test_never_approved_evidence_is_plain_about_it(staff, world):
    facts = json.loads(staff.get(f"/staff/proofs/{world.pending}/evidence.json").data)
    stripe = facts["dispute_evidence"]["stripe"]
    assert stripe["uncategorized_text"].startswith("This proof was never approved by the customer")
    assert stripe["customer_signature"]["description"].startswith("No signature: the customer never approved")
    assert stripe["refund_policy_disclosure"] == ""
    assert any("never approved" in w for w in facts["dispute_evidence"]["warnings"])
    text, reader = _pdf_text(staff, world.pending)
    first = " ".join(reader.pages[0].extract_text().split())
    assert first.startswith("Proof record: never approved")
    assert "Certificate of the customer's approval" not in text
    assert "Latest proof sent (revision 1), not approved" in first and "Grandpa" in first
    assert _image_sha(world, world.pending, 1) in first
    assert reader.pages[0].images, "what the customer was sent is shown"


def test_a_claim_assessed_as_the_shops_error_withdraws_the_refusal(staff, world):
    from tests.staff_support import approve, create_proof

    proof_id = create_proof(world.app, order_ref="S-1", lines=("Mara",))
    approve(world.app, proof_id)
    staff.post(
        f"/staff/proofs/{proof_id}/claims/new",
        data={"kind": "text", "description": "Engraved Maria", "expected_text": "Mara", "action": "record"},
    )
    facts = json.loads(staff.get(f"/staff/proofs/{proof_id}/evidence.json").data)
    assert facts["claims"][0]["outcome"] == "shop_error"
    assert facts["dispute_evidence"]["stripe"]["refund_refusal_explanation"] == ""
    assert any("shop's error" in w for w in facts["dispute_evidence"]["warnings"])
    text, _ = _pdf_text(staff, proof_id)
    assert "Return claims" in text and "assessed: shop error" in text

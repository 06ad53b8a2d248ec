"""Claim assessment (pure) and the claim flow on real proofs."""

from __future__ import annotations

import pytest

from proofmark.claims import (
    ApprovedRevision,
    Claim,
    ClaimError,
    Integrity,
    RevisionText,
    assess,
    resolutions_for,
)
from proofmark.config import DEFAULTS
from tests.staff_support import build_world, page_text

APPROVED = ApprovedRevision(
    number=2,
    lines=("Sophie Marie", "12.03.2024"),
    fields={},
    font="dancing-script",
    font_name="Dancing Script",
    product="pendant-round",
    image_sha256="a" * 64,
    approved_at="2026-01-01T00:00:00Z",
)


def text_claim(expected, **kw):
    return Claim("text", "The name is wrong", expected_text=expected, **kw)


def test_claim_matching_the_approved_text_is_the_shops_error():
    result = assess(text_claim("Sophie Marie\n12.03.2024"), APPROVED, status="approved")
    assert result.outcome == "shop_error"
    assert "exactly the text they approved in revision 2" in result.reason


def test_spacing_and_blank_lines_do_not_count():
    result = assess(text_claim("  Sophie   Marie \n\n12.03.2024\n"), APPROVED, status="approved")
    assert result.outcome == "shop_error"


def test_claim_asking_for_different_text_is_the_customers_responsibility():
    result = assess(text_claim("Sofie Marie\n12.03.2024"), APPROVED, status="approved")
    assert result.outcome == "customer_responsibility"
    assert "different from what the customer approved" in result.reason
    assert ("delete", "ph") in result.approved_segments and ("insert", "f") in result.claimed_segments


def test_case_and_line_break_differences_are_named():
    case = assess(text_claim("SOPHIE MARIE\n12.03.2024"), APPROVED, status="approved")
    assert case.outcome == "customer_responsibility" and "capital letters" in case.reason
    breaks = assess(text_claim("Sophie\nMarie 12.03.2024"), APPROVED, status="approved")
    assert breaks.outcome == "customer_responsibility" and "broken into lines" in breaks.reason


def test_claim_matching_an_earlier_revision_says_so():
    revisions = [RevisionText(1, ("Sofie Marie", "12.03.2024"), {}, "dancing-script")]
    result = assess(text_claim("Sofie Marie\n12.03.2024"), APPROVED, status="approved", revisions=revisions)
    assert any("matches revision 1" in note for note in result.notes)


def test_never_approved_says_so_plainly():
    for status, words in (
        ("awaiting_approval", "still waiting"),
        ("expired", "expired"),
        ("cancelled", "cancelled"),
    ):
        result = assess(text_claim("Anything"), None, status=status)
        assert result.outcome == "not_approved"
        assert result.reason.startswith("This proof was never approved") and words in result.reason


def test_font_claims():
    same = assess(Claim("font", "Wrong font", expected_font="dancing-script"), APPROVED, status="approved")
    assert same.outcome == "shop_error"
    other = assess(Claim("font", "Wrong font", expected_font="great-vibes"), APPROVED, status="approved")
    assert other.outcome == "customer_responsibility" and "Dancing Script" in other.reason


def test_layout_claims_depend_on_the_item_check():
    def layout(matches):
        return assess(
            Claim("layout", "Too small", item_matches_proof=matches), APPROVED, status="approved"
        ).outcome

    assert layout("unknown") == "needs_inspection"
    assert layout("yes") == "customer_responsibility"
    assert layout("no") == "shop_error"
    assert assess(Claim("quality", "Scratched"), APPROVED, status="approved").outcome == "shop_error"


def test_item_that_differs_from_the_proof_is_the_shops_error_whatever_the_claim():
    result = assess(text_claim("Completely different", item_matches_proof="no"), APPROVED, status="approved")
    assert result.outcome == "shop_error"


def test_a_tampered_record_cannot_carry_a_decision_against_the_customer():
    result = assess(
        text_claim("Sofie"),
        APPROVED,
        status="approved",
        integrity=Integrity(chain_intact=False, problems=("event #3 field data changed",)),
    )
    assert result.outcome == "needs_inspection"
    assert "failed verification" in result.notes[0]


@pytest.mark.parametrize(
    "claim, message",
    [
        (Claim("", "x"), "Choose what the claim is about"),
        (Claim("text", " "), "Write down what the customer says"),
        (Claim("text", "wrong", expected_text=""), "the item should have said"),
        (Claim("font", "wrong"), "choose the font"),
    ],
)
def test_incomplete_claims_are_refused_with_a_reason(claim, message):
    with pytest.raises(ClaimError, match=message):
        assess(claim, APPROVED, status="approved")


def test_resolutions_follow_the_configuration():
    configured = DEFAULTS["CLAIM_RESOLUTIONS"]
    assert [r["id"] for r in resolutions_for("shop_error", configured)][0] == "remake"
    assert "decline" in [r["id"] for r in resolutions_for("customer_responsibility", configured)]
    assert "decline" not in [r["id"] for r in resolutions_for("shop_error", configured)]
    custom = [{"id": "voucher", "label": "10% voucher"}]
    assert resolutions_for("shop_error", custom) == [
        {"id": "voucher", "label": "10% voucher", "explain": False}
    ]


# --- the flow on real proofs ---------------------------------------------------------------


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return build_world(tmp_path_factory.mktemp("claims-world") / "instance")


@pytest.fixture
def staff_app(world):
    return world.app


def _events(world, proof_id, kind):
    import json

    from proofmark.db import get_db

    with world.app.app_context():
        rows = (
            get_db()
            .execute(
                "SELECT actor, data FROM events WHERE proof_id = ? AND kind = ? ORDER BY seq",
                (proof_id, kind),
            )
            .fetchall()
        )
    return [(r["actor"], json.loads(r["data"])) for r in rows]


def test_assess_then_record_then_decide(staff, world):
    form = {
        "kind": "text",
        "description": "Says the name should be Jon",
        "expected_text": "Jon",
        "item_matches_proof": "unknown",
    }
    assessed = staff.post(f"/staff/proofs/{world.revised}/claims/new", data={**form, "action": "assess"})
    text = page_text(assessed.get_data(as_text=True))
    assert "Customer's responsibility" in text and "revision 2" in text
    assert not _events(world, world.revised, "claim_recorded")  # assessing records nothing

    recorded = staff.post(f"/staff/proofs/{world.revised}/claims/new", data={**form, "action": "record"})
    assert recorded.status_code == 302
    [(actor, data)] = _events(world, world.revised, "claim_recorded")
    assert actor == "staff:support@shop.test"
    assert data["outcome"] == "customer_responsibility" and data["expected_text"] == "Jon"
    claim_id = data["claim_id"]

    refused = staff.post(
        f"/staff/proofs/{world.revised}/claims/{claim_id}/decide",
        data={"resolution": "decline", "note": ""},
        follow_redirects=True,
    )
    assert "needs an explanation" in refused.get_data(as_text=True)
    staff.post(
        f"/staff/proofs/{world.revised}/claims/{claim_id}/decide",
        data={"resolution": "decline", "note": "You approved John on the proof."},
    )
    [(actor, data)] = _events(world, world.revised, "claim_decided")
    assert data["resolution"] == "decline" and actor == "staff:support@shop.test"
    again = staff.post(
        f"/staff/proofs/{world.revised}/claims/{claim_id}/decide",
        data={"resolution": "remake"},
        follow_redirects=True,
    )
    assert "already decided" in again.get_data(as_text=True)
    assert len(_events(world, world.revised, "claim_decided")) == 1
    page = page_text(staff.get(f"/staff/proofs/{world.revised}").get_data(as_text=True))
    assert "You approved John on the proof." in page


def test_claim_matching_approved_text_offers_a_remake(staff, world):
    response = staff.post(
        f"/staff/proofs/{world.approved}/claims/new",
        data={
            "kind": "text",
            "description": "Engraved Sophia",
            "expected_text": "Sophie\n12.03.2024",
            "action": "record",
        },
        follow_redirects=True,
    )
    text = page_text(response.get_data(as_text=True))
    assert "Shop's error: remake" in text and "Remake at our cost" in text


def test_claim_on_a_never_approved_proof(staff, world):
    response = staff.post(
        f"/staff/proofs/{world.pending}/claims/new",
        data={
            "kind": "text",
            "description": "Wrong",
            "expected_text": "Grandma",
            "action": "assess",
        },
    )
    assert "This proof was never approved" in page_text(response.get_data(as_text=True))


def test_incomplete_claim_form_keeps_input(staff, world):
    response = staff.post(
        f"/staff/proofs/{world.approved}/claims/new",
        data={
            "kind": "text",
            "description": "Keep this description",
            "expected_text": "",
            "action": "record",
        },
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Keep this description" in html and "should have said" in html


@pytest.mark.parametrize(
    "claim, message",
    [
        (
            Claim("text", "x" * 2001, expected_text="Sophie"),
            "What the customer says is wrong is too long: 2,001",
        ),
        (
            Claim("text", "wrong", expected_text="S" * 100_000),
            "What it should have said is too long: 100,000",
        ),
        (Claim("font", "wrong", expected_font="f" * 101), "The font name is too long"),
        (Claim("text", "wrong", expected_text="Sophie\x00"), "control character"),
    ],
)
def test_overlong_or_garbled_claims_are_refused_with_a_reason(claim, message):
    with pytest.raises(ClaimError, match=message):
        assess(claim, APPROVED, status="approved")


def test_a_100000_character_claim_is_refused_and_the_form_keeps_it(staff, world):
    huge = "Sophie " * 14_286  # 100,002 characters
    response = staff.post(
        f"/staff/proofs/{world.approved}/claims/new",
        data={
            "kind": "text",
            "description": "Keep this description",
            "expected_text": huge,
            "action": "record",
        },
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "What it should have said is too long: 100,00" in page_text(html)
    assert "Keep this description" in html and huge.strip() in html
    assert 'maxlength="500"' in html and 'maxlength="2000"' in html
    assert not [
        d
        for _, d in _events(world, world.approved, "claim_recorded")
        if d["description"] == "Keep this description"
    ]


def test_overlong_decision_note_is_refused(staff, world):
    staff.post(
        f"/staff/proofs/{world.revised}/claims/new",
        data={"kind": "text", "description": "Wants Johnny", "expected_text": "Johnny", "action": "record"},
    )
    claim_id = [
        d for _, d in _events(world, world.revised, "claim_recorded") if d["expected_text"] == "Johnny"
    ][0]["claim_id"]
    response = staff.post(
        f"/staff/proofs/{world.revised}/claims/{claim_id}/decide",
        data={"resolution": "decline", "note": "n" * 2001},
        follow_redirects=True,
    )
    assert "The explanation is too long: 2,001 characters, at most 2,000" in page_text(
        response.get_data(as_text=True)
    )
    assert not [d for _, d in _events(world, world.revised, "claim_decided") if d["claim_id"] == claim_id]


def test_claim_on_a_never_approved_proof_is_recorded_as_such(staff, world):
    staff.post(
        f"/staff/proofs/{world.cancelled}/claims/new",
        data={"kind": "quality", "description": "Arrived scratched", "action": "record"},
    )
    [(_, data)] = _events(world, world.cancelled, "claim_recorded")
    assert data["outcome"] == "not_approved"
    assert data["reason"].startswith("This proof was never approved: it was cancelled.")
    page = page_text(staff.get(f"/staff/proofs/{world.cancelled}").get_data(as_text=True))
    assert "Never approved" in page and "This proof was never approved: it was cancelled." in page

"""Staff pages against a shared instance with real proofs: records, detail, actions."""

from __future__ import annotations

import re

import pytest

from tests.staff_support import build_world, page_text
from tests.support import sign_in


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return build_world(tmp_path_factory.mktemp("staff-world") / "instance")


@pytest.fixture
def staff_app(world):
    return world.app


def test_records_list_newest_first(staff, world):
    html = staff.get("/staff/proofs").get_data(as_text=True)
    order = [html.index(ref) for ref in ("D-4004", "C-3003", "B-2002", "A-1001")]
    assert order == sorted(order)
    assert "4 proofs" in page_text(html)


@pytest.mark.parametrize(
    "query, expected, absent",
    [
        ("ophi", ["A-1001"], ["B-2002", "C-3003"]),  # a fragment of the personalized text
        ("Jonh", ["B-2002"], ["A-1001"]),  # an earlier revision's text still finds the proof
        ("bo@example.com", ["B-2002"], ["A-1001"]),
        ("Cy Dorn", ["C-3003"], ["A-1001"]),
        ("A-1001", ["A-1001"], ["B-2002"]),
        ("Di", ["D-4004"], ["A-1001"]),  # two letters: LIKE fallback
        ('"', [], ["A-1001"]),  # a lone quote is not an FTS syntax error
    ],
)
def test_search(staff, query, expected, absent):
    response = staff.get("/staff/proofs", query_string={"q": query})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for ref in expected:
        assert ref in html
    for ref in absent:
        assert ref not in html


def test_filters_and_bad_filters(staff):
    html = staff.get("/staff/proofs?status=approved").get_data(as_text=True)
    assert "A-1001" in html and "B-2002" in html and "C-3003" not in html
    html = staff.get("/staff/proofs?product=bar-necklace").get_data(as_text=True)
    assert "B-2002" in html and "A-1001" not in html
    html = staff.get("/staff/proofs?date_from=2000-01-01&date_to=2000-01-02").get_data(as_text=True)
    assert "A-1001" not in html and "No proofs match" in page_text(html)
    response = staff.get("/staff/proofs?date_from=yesterday&status=bogus&after=%%%")
    assert response.status_code == 200
    text = page_text(response.get_data(as_text=True))
    assert "is not a date" in text and "Unknown status" in text


def test_htmx_search_returns_the_partial(staff):
    response = staff.get("/staff/proofs?q=Sophie", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert "A-1001" in html and "<html" not in html


def test_pagination_is_keyset(staff, world):
    from proofmark.staff import search

    with world.app.app_context():
        from proofmark.db import get_db

        first = search.search(get_db(), search.SearchQuery(limit=3))
        assert len(first.rows) == 3 and first.next_cursor
        second = search.search(get_db(), search.SearchQuery(limit=3, after=first.next_cursor))
    assert [r["order_ref"] for r in second.rows] == ["A-1001"]
    assert second.next_cursor is None


def test_detail_shows_everything(staff, world):
    html = staff.get(f"/staff/proofs/{world.revised}").get_data(as_text=True)
    text = page_text(html)
    assert "Record intact" in text
    assert "Revision 1" in text and "Revision 2" in text
    # The correction from "Jonh" to "John" is highlighted character by character.
    assert "<ins>" in html and "<del>" in html
    assert "Changes requested" in text and "The name is misspelled" in text
    assert "Approved (UTC)" in text and "203.0.113.9" in text
    assert "I have checked the spelling" in text  # statements ticked
    assert "Email log" in text and ".eml" in html
    image = staff.get(f"/staff/proofs/{world.revised}/revisions/2.png")
    assert image.status_code == 200 and image.data[:8] == b"\x89PNG\r\n\x1a\n"


def test_unknown_proof_is_404(staff):
    assert staff.get("/staff/proofs/99999").status_code == 404
    assert staff.get("/staff/proofs/99999/evidence.json").status_code == 404


def test_note_is_an_event_with_staff_actor(staff, world):
    response = staff.post(
        f"/staff/proofs/{world.pending}/notes", data={"note": "Customer phoned, will check"}
    )
    assert response.status_code == 302
    html = staff.get(f"/staff/proofs/{world.pending}").get_data(as_text=True)
    assert "Customer phoned, will check" in html
    with world.app.app_context():
        from proofmark.db import get_db

        row = (
            get_db()
            .execute(
                "SELECT actor, data FROM events WHERE proof_id = ? AND kind = 'note_added'", (world.pending,)
            )
            .fetchone()
        )
    assert row["actor"] == "staff:support@shop.test"
    response = staff.post(f"/staff/proofs/{world.pending}/notes", data={"note": "  "}, follow_redirects=True)
    assert "The note is empty" in response.get_data(as_text=True)


def test_resend_and_cancel_errors_are_plain(staff, world):
    response = staff.post(f"/staff/proofs/{world.approved}/resend", follow_redirects=True)
    assert "already approved" in response.get_data(as_text=True)
    response = staff.post(f"/staff/proofs/{world.pending}/cancel", data={"reason": ""}, follow_redirects=True)
    assert "Say why the proof is cancelled" in response.get_data(as_text=True)


def test_staff_form_validation_keeps_input(staff):
    response = staff.post(
        "/staff/proofs/new",
        data={
            "order_ref": "Z-9",
            "customer_name": "",
            "customer_email": "not-an-email",
            "product": "pendant-round",
            "font": "dancing-script",
            "lines": "Keep me",
            "align": "center",
        },
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Enter the customer&#39;s name" in html or "Enter the customer's name" in html
    assert "Keep me" in html and "Z-9" in html
    response = staff.post("/staff/proofs/new", data={"product": "no-such", "lines": "x"})
    assert response.status_code == 400 and "Choose a product" in response.get_data(as_text=True)


def test_preview_partial(staff):
    response = staff.post(
        "/staff/preview",
        data={
            "product": "pendant-round",
            "font": "dancing-script",
            "lines": "Mia",
            "align": "center",
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "data:image/png;base64," in html


def test_insights_and_claims_pages_render(staff):
    html = staff.get("/staff/insights").get_data(as_text=True)
    assert "<svg" in html and "Change-request rate by product" in html
    assert staff.get("/staff/insights?from=garbage").status_code == 200
    assert staff.get("/staff/claims?status=all").status_code == 200
    assert "4 proofs checked" in page_text(staff.get("/staff/verify").get_data(as_text=True))


def test_overlong_note_is_refused_plainly(staff, world):
    response = staff.post(
        f"/staff/proofs/{world.pending}/notes", data={"note": "n" * 4001}, follow_redirects=True
    )
    assert "The note is too long: 4,001 characters, at most 4,000" in page_text(
        response.get_data(as_text=True)
    )
    with world.app.app_context():
        from proofmark.db import get_db

        notes = get_db().execute("SELECT data FROM events WHERE kind = 'note_added' AND length(data) > 4000")
        assert notes.fetchone() is None
    assert 'maxlength="4000"' in staff.get(f"/staff/proofs/{world.pending}").get_data(as_text=True)


def test_pending_change_request_is_shown_first(tmp_path):
    from tests.staff_support import create_proof, make_app, request_changes

    app = make_app(tmp_path / "instance")
    proof_id = create_proof(app, order_ref="F-6006", lines=("Lila", "03/04/2025"))
    request_changes(app, proof_id, comment="The date should be 4 March 2025, not 3 April")
    client = sign_in(app)
    html = client.get(f"/staff/proofs/{proof_id}").get_data(as_text=True)
    box = html[html.index('id="change-request"') :]
    box = page_text(box[: box.index("</section>")])
    assert "The customer asked for changes to revision 1" in box
    assert "The date should be 4 March 2025, not 3 April" in box and "203.0.113.9" in box
    assert "New revision" in box
    # Above the verification status, the approval and the long sections.
    assert html.index('id="change-request"') < html.index('id="verification"') < html.index('id="approval"')
    # Once a new revision is sent, the request is answered: no longer at the top.
    from tests.staff_support import add_revision

    add_revision(app, proof_id, ("Lila", "04.03.2025"))
    html = client.get(f"/staff/proofs/{proof_id}").get_data(as_text=True)
    assert 'id="change-request"' not in html and "The date should be 4 March 2025" in html


def test_long_sections_fold_and_the_email_log_leads_with_the_subject(staff, world):
    html = staff.get(f"/staff/proofs/{world.revised}").get_data(as_text=True)
    for section in ("revisions", "timeline", "emails"):
        # Open in the HTML (nothing hidden without JavaScript); staff.js folds them on a phone.
        assert f'<details class="card fold" id="{section}" open data-fold-narrow>' in html
    for kept in ("verification", "approval", "claims"):
        # Never folded: what the record says and what staff decide stay in view.
        assert re.search(rf'<section class="[^"]*" id="{kept}">', html), kept
    head = html[html.index('<table class="emails">') :]
    assert head.index("Subject") < head.index("Queued (UTC)")
    assert 'data-label="Subject"' in html


def test_staff_actions_are_events_with_the_staff_member_as_actor(tmp_path):
    import json

    from proofmark.db import get_db
    from tests.staff_support import create_proof, make_app

    app = make_app(tmp_path / "instance")
    proof_id = create_proof(app, order_ref="G-7007", lines=("Ida",))
    client = sign_in(app)
    env = {"REMOTE_ADDR": "192.0.2.44", "HTTP_USER_AGENT": "StaffBrowser/1.0"}
    revised = client.post(
        f"/staff/proofs/{proof_id}/revise",
        environ_base=env,
        data={
            "product": "pendant-round",
            "font": "dancing-script",
            "lines": "Ida Rose",
            "align": "center",
            "note": "Customer phoned: add the middle name",
        },
    )
    assert revised.status_code == 302
    assert client.post(f"/staff/proofs/{proof_id}/resend", environ_base=env).status_code == 302
    assert (
        client.post(
            f"/staff/proofs/{proof_id}/notes", data={"note": "Called back"}, environ_base=env
        ).status_code
        == 302
    )
    assert (
        client.post(
            f"/staff/proofs/{proof_id}/cancel", data={"reason": "Order refunded"}, environ_base=env
        ).status_code
        == 302
    )
    with app.app_context():
        rows = (
            get_db()
            .execute(
                "SELECT kind, actor, ip, user_agent, data FROM events WHERE proof_id = ? "
                "AND actor LIKE 'staff:support%' ORDER BY seq",
                (proof_id,),
            )
            .fetchall()
        )
    kinds = [r["kind"] for r in rows]
    for kind in ("revision_added", "resent", "note_added", "cancelled"):
        assert kind in kinds, kinds
    assert all(r["ip"] == "192.0.2.44" and r["user_agent"] == "StaffBrowser/1.0" for r in rows)
    cancelled = json.loads(next(r["data"] for r in rows if r["kind"] == "cancelled"))
    assert cancelled["reason"] == "Order refunded"

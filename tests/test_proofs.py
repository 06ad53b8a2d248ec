"""The proofs service: creation, revisions, decisions (idempotent, race-safe), the hash
chain, reminders and expiry. Real SQLite, real renderer, real storage; the clock is moved
by passing `now`, never by sleeping."""

from __future__ import annotations

import hashlib
import sqlite3
import threading

import pytest

from proofmark import proofs, storage
from proofmark.db import connect, database_path, get_db
from proofmark.records import verify_chain
from tests.proofs_support import T0, all_statements, count, design, kinds, later, make_app, new_proof


@pytest.fixture(scope="module")
def papp(tmp_path_factory):
    return make_app(tmp_path_factory.mktemp("proofs") / "instance")


@pytest.fixture
def db(papp):
    with papp.app_context():
        yield get_db()


def test_create_proof_stores_revision_image_events_and_email_in_one_go(papp, db):
    proof_id = new_proof(db, text="Ada 03/04/2025", now=T0)
    proof = proofs.get_proof(db, proof_id)
    assert proof.status == "awaiting_approval"
    assert proof.current_revision == 1
    assert proof.public_id.startswith("P-")
    assert proof.emailed_at == "2026-11-02T09:30:00.000000Z"
    rev = proof.revision
    assert rev.design.lines == ("Ada 03/04/2025",)
    assert rev.image_width == papp.config["PROOF_IMAGE_WIDTH"]
    # The proof image is stored under its own SHA-256 and hashes to it.
    assert storage.verify(rev.image_sha256) is None
    assert storage.get(rev.image_sha256).startswith(b"\x89PNG")

    # The order is recorded first (the image does not exist yet); the render job then binds
    # the image to the revision and queues the email (here inline: the tests' render mode).
    assert kinds(db, proof_id) == ["proof_created", "revision_added", "image_rendered", "email_queued"]
    events = proofs.get_events(db, proof_id)
    assert events[0]["actor"] == "staff:owner@shop.test"
    assert events[0]["data"]["source"] == "staff"
    assert events[1]["data"]["image_sha256"] is None
    assert events[2]["data"]["image_sha256"] == rev.image_sha256
    assert events[2]["data"]["revision"] == 1 and events[2]["actor"] == "system"
    assert events[2]["data"]["design_sha256"] == rev.design_sha256
    queued = events[3]["data"]
    outbox = proofs.outbox_for(db, proof_id)
    assert [(o["kind"], o["status"], o["message_id"]) for o in outbox] == [
        ("proof", "pending", queued["message_id"])
    ]
    assert verify_chain(db, proof_id).intact


def test_proof_image_is_rendered_at_production_width(tmp_path):
    """The tests render proofs small (PROOF_IMAGE_WIDTH in TEST_CONFIG); this one renders at
    the production default on purpose, and checks the PNG as stored."""
    import io

    from PIL import Image

    from proofmark.config import DEFAULTS

    assert DEFAULTS["PROOF_IMAGE_WIDTH"] == 2400
    app = make_app(tmp_path / "instance", PROOF_IMAGE_WIDTH=DEFAULTS["PROOF_IMAGE_WIDTH"])
    with app.app_context():
        db = get_db()
        rev = proofs.get_proof(db, new_proof(db)).revision
        stored = Image.open(io.BytesIO(storage.get(rev.image_sha256)))
    assert stored.format == "PNG"
    assert stored.width == rev.image_width == 2400


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"customer_email": "not-an-address"}, "not an email address"),
        ({"customer_email": "ada@example.com\r\nBcc: x@evil.test"}, "line break"),
        ({"customer_name": "  "}, "customer's name is missing"),
        ({"order_ref": ""}, "order reference is missing"),
        ({"source": "fax"}, "Unknown source"),
        ({"design": design(product="no-such-product")}, "cannot be made"),
        ({"design": design("W" * 40)}, "cannot be made"),
    ],
)
def test_bad_input_creates_nothing(papp, db, changes, message):
    before = (count(db, "proofs"), count(db, "events"), count(db, "outbox"))
    args = {
        "order_ref": "ORD-2",
        "customer_name": "Ada",
        "customer_email": "ada@example.com",
        "design": design(),
        "source": "staff",
        "actor": "staff:a@b.test",
        **changes,
    }
    with pytest.raises(proofs.ProofError, match=message):
        proofs.create_proof(db, **args)
    assert (count(db, "proofs"), count(db, "events"), count(db, "outbox")) == before


@pytest.mark.parametrize("field", ["customer_name", "order_ref"])
@pytest.mark.parametrize(
    ("hidden", "named"),
    [
        ("\u202e", "U+202E RIGHT-TO-LEFT OVERRIDE"),
        ("\u202a", "U+202A LEFT-TO-RIGHT EMBEDDING"),
        ("\u2066", "U+2066 LEFT-TO-RIGHT ISOLATE"),
        ("\u2069", "U+2069 POP DIRECTIONAL ISOLATE"),
        ("\u200b", "U+200B ZERO WIDTH SPACE"),
        ("\u200f", "U+200F RIGHT-TO-LEFT MARK"),
        ("\u00ad", "U+00AD SOFT HYPHEN"),
        ("\ufeff", "U+FEFF ZERO WIDTH NO-BREAK SPACE"),
        ("\U000e0041", "U+E0041 TAG LATIN CAPITAL LETTER A"),
        ("\u2028", "U+2028 LINE SEPARATOR"),
        ("\u3164", "U+3164 HANGUL FILLER"),
        ("\u200d", "U+200D ZERO WIDTH JOINER"),  # after a space or a hyphen, joining no letters
    ],
)
def test_invisible_and_reordering_characters_are_refused_by_name(papp, db, field, hidden, named):
    # "ORD-\u202e1234" displays as "ORD-4321": the record would not read as what was stored.
    value = {"customer_name": "Ada " + hidden + "Lovelace", "order_ref": "ORD-" + hidden + "1234"}[field]
    before = (count(db, "proofs"), count(db, "events"), count(db, "outbox"))
    with pytest.raises(proofs.ProofError, match="invisible character") as raised:
        new_proof(db, **{field: value})
    assert named in str(raised.value) and raised.value.field == field
    assert (count(db, "proofs"), count(db, "events"), count(db, "outbox")) == before


def test_a_lone_surrogate_is_refused_not_a_crash(papp, db):
    with pytest.raises(proofs.ProofError, match="not a letter or sign we can show") as raised:
        new_proof(db, customer_name="Ada\ud800")
    assert raised.value.field == "customer_name"


@pytest.mark.parametrize(
    "name",
    [
        "שרה כהן",  # Hebrew
        "فاطمة الزهراء",  # Arabic
        "مهر\u200cآوا",  # Persian, spelled with a zero-width non-joiner between letters
        "क्\u200dष",  # Devanagari with a zero-width joiner
        "Zoë O’Brien-Łukasz",
        "María José 李",
    ],
)
def test_names_in_any_script_are_accepted_as_typed(papp, db, name):
    proof_id = new_proof(db, customer_name=name, order_ref="ORD-" + str(len(name)))
    assert proofs.get_proof(db, proof_id).customer_name == name


def test_a_change_request_comment_refuses_bidi_controls_but_keeps_mixed_scripts(papp, db):
    proof_id = new_proof(db)
    rev = proofs.get_proof(db, proof_id).revision
    with pytest.raises(proofs.ProofError, match="U\\+2067 RIGHT-TO-LEFT ISOLATE") as raised:
        proofs.request_changes(
            db, proof_id, revision=1, nonce=rev.nonce, comment="Make it \u2067כהן\u2069 please"
        )
    assert raised.value.field == "comment"
    assert "changes_requested" not in kinds(db, proof_id)
    comment = "Please spell it שרה\u200f, not Sara 👩\u200d👧"  # a mark and an emoji joiner stay
    proofs.request_changes(db, proof_id, revision=1, nonce=rev.nonce, comment=comment)
    assert proofs.get_events(db, proof_id)[-2]["data"]["comment"] == comment


@pytest.mark.parametrize(
    ("field", "limit"), [("customer_name", proofs.MAX_NAME), ("order_ref", proofs.MAX_ORDER_REF)]
)
def test_names_and_order_references_have_a_length_limit(papp, db, field, limit):
    with pytest.raises(proofs.ProofError, match=f"too long \\(at most {limit} characters\\)"):
        new_proof(db, **{field: "A" * (limit + 1)})
    with pytest.raises(proofs.ProofError, match="too long"):
        proofs.request_changes(
            db, new_proof(db), revision=1, nonce="x", comment="A" * (proofs.MAX_COMMENT + 1)
        )


def test_one_design_token_makes_one_proof(papp, db):
    from proofmark.tokens import sign_design, verify_design

    d = design("Grace")
    token = verify_design(sign_design(d, d.content_key(1200, "jpeg"), {"date_readings": {}}))
    args = dict(
        order_ref="SHOP-9",
        customer_name="Grace",
        customer_email="grace@example.com",
        design=d,
        source="shop",
        actor="shop",
        design_token=token,
    )
    first = proofs.create_proof(db, **args)
    second = proofs.create_proof(db, **args)
    assert first == second
    created = proofs.get_events(db, first)[0]["data"]
    assert created["design_token"]["nonce"] == token.nonce
    assert created["design_token"]["content_key"] == token.content_key
    assert count(db, "proofs", "design_token_nonce = ?", (token.nonce,)) == 1


def test_storing_the_same_image_from_many_threads_at_once_never_fails(papp):
    # Two shoppers ordering the same design render identical PNGs; their writes race.
    errors = []
    for round_ in range(20):
        data = b"\x89PNG same bytes " + str(round_).encode() * 5000
        barrier = threading.Barrier(8)

        def writer(data=data, barrier=barrier):
            with papp.app_context():
                try:
                    barrier.wait()
                    assert storage.put(data) == hashlib.sha256(data).hexdigest()
                except Exception as exc:  # noqa: BLE001
                    errors.append(exc)

        threads = [threading.Thread(target=writer) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        with papp.app_context():
            assert storage.get(hashlib.sha256(data).hexdigest()) == data
    assert errors == []


def _approve(papp, db, proof_id, *, ticked=None, **kw):
    proof = proofs.get_proof(db, proof_id)
    rev = proof.revision
    return proofs.approve(
        db,
        proof_id,
        revision=rev.number,
        nonce=rev.nonce,
        statements_ticked=all_statements(papp) if ticked is None else ticked,
        ip="203.0.113.7",
        user_agent="Mozilla/5.0 (test)",
        **kw,
    )


def test_approval_records_what_was_shown_and_is_idempotent(papp, db):
    proof_id = new_proof(db, text="Ada 03/04/2025")
    proof = proofs.get_proof(db, proof_id)
    shown = proofs.page_content(proof, proof.revision)
    decision = _approve(papp, db, proof_id, shown_sha256=proofs.page_content_sha256(shown), link_id="L1")
    assert decision.status == "approved" and decision.recorded

    event = [e for e in proofs.get_events(db, proof_id) if e["kind"] == "approved"][0]
    data = event["data"]
    assert event["actor"] == "customer"
    assert event["ip"] == "203.0.113.7" and event["user_agent"] == "Mozilla/5.0 (test)"
    assert data["revision"] == 1
    assert data["image_sha256"] == proof.revision.image_sha256
    assert data["text"] == {"lines": ["Ada 03/04/2025"], "fields": {}}
    assert data["shown_text"][0]["letters"][:4] == ["A", "d", "a", "␣"]
    assert {r["words"] for r in data["shown_text"][0]["dates"][0]["readings"]} == {
        "Thursday 3 April 2025",
        "Tuesday 4 March 2025",
    }
    assert data["product"] == {"id": "bar-necklace", "name": "Bar necklace"}
    assert data["font"]["id"] == "lato"
    assert data["disclosure"]["version"] == papp.config["DISCLOSURE_VERSION"]
    assert data["disclosure"]["text"] == papp.config["DISCLOSURE_TEXT"]
    assert len(data["disclosure"]["sha256"]) == 64
    assert [s["text"] for s in data["statements"]] == [s["text"] for s in papp.config["APPROVAL_STATEMENTS"]]
    assert data["nonce"] == proof.revision.nonce
    assert data["link_id"] == "L1"
    assert data["presentation_sha256"] == proofs.page_content_sha256(shown)

    # Double click, replay, and a change request afterwards: one outcome, one event.
    again = _approve(papp, db, proof_id)
    assert (again.status, again.recorded) == ("approved", False)
    rev = proofs.get_proof(db, proof_id).revision
    late = proofs.request_changes(db, proof_id, revision=1, nonce=rev.nonce, comment="Actually, Adah")
    assert (late.status, late.recorded) == ("approved", False)
    assert kinds(db, proof_id).count("approved") == 1
    assert "changes_requested" not in kinds(db, proof_id)
    assert [o["kind"] for o in proofs.outbox_for(db, proof_id)] == ["proof", "approved"]
    assert proofs.get_proof(db, proof_id).decided_at == decision.decided_at
    assert verify_chain(db, proof_id).intact


def test_approval_needs_every_statement(papp, db):
    proof_id = new_proof(db)
    with pytest.raises(proofs.ProofError, match="tick every statement") as info:
        _approve(papp, db, proof_id, ticked=["spelling", "dates"])
    assert "cannot be returned" in str(info.value)
    assert "approved" not in kinds(db, proof_id)
    assert proofs.get_proof(db, proof_id).status == "awaiting_approval"


def test_approval_refused_when_the_page_shown_is_stale(papp, db):
    proof_id = new_proof(db)
    proof = proofs.get_proof(db, proof_id)
    stale = proofs.page_content_sha256(proofs.page_content(proof, proof.revision))
    old_text = papp.config["DISCLOSURE_TEXT"]
    papp.config["DISCLOSURE_TEXT"] = old_text + " New terms."
    try:
        with pytest.raises(proofs.ProofChanged):
            _approve(papp, db, proof_id, shown_sha256=stale)
    finally:
        papp.config["DISCLOSURE_TEXT"] = old_text
    assert "approved" not in kinds(db, proof_id)


def test_wrong_nonce_is_refused(papp, db):
    proof_id = new_proof(db)
    with pytest.raises(proofs.ProofError, match="does not belong"):
        proofs.approve(db, proof_id, revision=1, nonce="forged", statements_ticked=all_statements(papp))


def test_two_approvals_racing_record_one_event(papp, db):
    proof_id = new_proof(db)
    rev = proofs.get_proof(db, proof_id).revision
    path = database_path(papp)
    barrier = threading.Barrier(4)
    results, errors = [], []

    def decide(i: int) -> None:
        with papp.app_context():
            own = connect(path)  # each "request" has its own connection
            try:
                barrier.wait()
                if i % 2:
                    results.append(
                        proofs.request_changes(
                            own, proof_id, revision=1, nonce=rev.nonce, comment="Please use a capital L"
                        )
                    )
                else:
                    results.append(
                        proofs.approve(
                            own,
                            proof_id,
                            revision=1,
                            nonce=rev.nonce,
                            statements_ticked=all_statements(papp),
                            ip=f"198.51.100.{i}",
                        )
                    )
            except Exception as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(exc)
            finally:
                own.conn.close()

    threads = [threading.Thread(target=decide, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    # Whoever won, everyone reports the same outcome and exactly one decision is recorded.
    final = proofs.get_proof(db, proof_id).status
    assert {r.status for r in results} == {final}
    assert sum(r.recorded for r in results) == 1
    decisions = [k for k in kinds(db, proof_id) if k in ("approved", "changes_requested")]
    assert len(decisions) == 1
    assert verify_chain(db, proof_id).intact


def test_change_request_then_new_revision_supersedes_the_old_link(papp, db):
    proof_id = new_proof(db, text="Jonh")
    rev1 = proofs.get_proof(db, proof_id).revision
    with pytest.raises(proofs.ProofError, match="missing"):
        proofs.request_changes(db, proof_id, revision=1, nonce=rev1.nonce, comment="   ")
    decision = proofs.request_changes(
        db, proof_id, revision=1, nonce=rev1.nonce, comment="It is John, not Jonh."
    )
    assert (decision.status, decision.recorded) == ("changes_requested", True)
    # Approving after asking for changes is the same consistent outcome, not an approval.
    after = proofs.approve(db, proof_id, revision=1, nonce=rev1.nonce, statements_ticked=all_statements(papp))
    assert (after.status, after.recorded) == ("changes_requested", False)

    number = proofs.add_revision(
        db, proof_id, design("John"), actor="staff:owner@shop.test", note="Fixed spelling"
    )
    assert number == 2
    proof = proofs.get_proof(db, proof_id)
    assert proof.status == "awaiting_approval" and proof.text == "John" and proof.decided_at is None
    revisions = proofs.get_revisions(db, proof_id)
    assert [(r.number, r.superseded) for r in revisions] == [(1, True), (2, False)]
    assert revisions[0].image_sha256 != revisions[1].image_sha256
    added = [e for e in proofs.get_events(db, proof_id) if e["kind"] == "revision_added"][-1]
    assert added["data"]["supersedes"] == 1 and added["data"]["previous_status"] == "changes_requested"

    with pytest.raises(proofs.ProofSuperseded, match="version 2 replaced it"):
        proofs.approve(db, proof_id, revision=1, nonce=rev1.nonce, statements_ticked=all_statements(papp))
    rev2 = proof.revision
    ok = proofs.approve(db, proof_id, revision=2, nonce=rev2.nonce, statements_ticked=all_statements(papp))
    assert (ok.status, ok.recorded, ok.revision) == ("approved", True, 2)
    assert [o["kind"] for o in proofs.outbox_for(db, proof_id)] == [
        "proof",
        "changes_requested",
        "revision",
        "approved",
    ]
    assert verify_chain(db, proof_id).intact


def test_cancel_stops_approval(papp, db):
    proof_id = new_proof(db)
    with pytest.raises(proofs.ProofError, match="reason"):
        proofs.cancel(db, proof_id, actor="staff:a@b.test", reason="")
    assert proofs.cancel(db, proof_id, actor="staff:a@b.test", reason="Order refunded") is True
    assert proofs.cancel(db, proof_id, actor="staff:a@b.test", reason="again") is False
    assert kinds(db, proof_id).count("cancelled") == 1
    with pytest.raises(proofs.ProofError, match="cancelled"):
        _approve(papp, db, proof_id)
    with pytest.raises(proofs.ProofError, match="cancelled"):
        proofs.add_revision(db, proof_id, design("Other"), actor="staff:a@b.test")


def test_event_log_refuses_update_and_delete_and_the_chain_names_a_tampered_field(papp, db):
    proof_id = new_proof(db)
    _approve(papp, db, proof_id)
    # Someone with raw access to the file (their own connection, not the app's).
    raw = sqlite3.connect(database_path(papp), isolation_level=None)
    raw.row_factory = sqlite3.Row
    try:
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            raw.execute("UPDATE events SET data = '{}' WHERE proof_id = ?", (proof_id,))
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            raw.execute("DELETE FROM events WHERE proof_id = ?", (proof_id,))

        # They drop the trigger and edit the approval: the chain says where.
        approved = raw.execute(
            "SELECT id, data FROM events WHERE proof_id = ? AND kind = 'approved'", (proof_id,)
        ).fetchone()
        raw.execute("DROP TRIGGER events_append_only_update")
        try:
            raw.execute(
                "UPDATE events SET data = replace(data, '\"revision\":1', '\"revision\":2') WHERE id = ?",
                (approved["id"],),
            )
            report = verify_chain(db, proof_id)
            assert not report.intact
            assert [(p.event_id, p.field) for p in report.problems] == [(approved["id"], "data")]
            raw.execute("UPDATE events SET data = ? WHERE id = ?", (approved["data"], approved["id"]))
            assert verify_chain(db, proof_id).intact
        finally:
            raw.execute(
                "CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events BEGIN "
                "SELECT RAISE(ABORT, 'events are append-only: UPDATE refused'); END"
            )
    finally:
        raw.close()


def test_resend_link_goes_to_the_address_on_file_and_customers_are_rate_limited(papp, db):
    proof_id = new_proof(db, email="ada@example.com", now=T0)
    queued = proofs.resend_link(db, proof_id, actor="customer", ip="203.0.113.9", now=later(0))
    assert queued["to"] == "ada@example.com"
    with pytest.raises(proofs.ProofError, match="few minutes ago"):
        proofs.resend_link(db, proof_id, actor="customer", now=later(seconds=60))
    proofs.resend_link(db, proof_id, actor="customer", now=later(seconds=301))
    proofs.resend_link(db, proof_id, actor="staff:a@b.test", now=later(seconds=302))  # staff are not limited
    resent = [e for e in proofs.get_events(db, proof_id) if e["kind"] == "resent"]
    assert [e["actor"] for e in resent] == ["customer", "customer", "staff:a@b.test"]
    assert {o["to_addr"] for o in proofs.outbox_for(db, proof_id)} == {"ada@example.com"}


def test_reminder_then_expiry_holds_production_and_never_approves(tmp_path):
    app = make_app(tmp_path / "instance", REMINDER_AFTER_DAYS=3, EXPIRE_AFTER_DAYS=14)
    with app.app_context():
        db = get_db()
        proof_id = new_proof(db, now=T0)
        decided = new_proof(db, now=T0, text="Grace")
        _approve(app, db, decided)

        assert proofs.send_reminders(db, now=later(days=2.9)).reminded == []
        report = proofs.send_reminders(db, now=later(days=3, seconds=1))
        assert (report.reminded, report.expired) == ([proof_id], [])
        # Once per emailed revision, however often cron runs.
        assert proofs.send_reminders(db, now=later(days=5)).reminded == []

        report = proofs.send_reminders(db, now=later(days=14, seconds=1))
        assert (report.reminded, report.expired) == ([], [proof_id])
        proof = proofs.get_proof(db, proof_id)
        assert proof.status == "expired" and proof.decided_at is None
        assert kinds(db, proof_id)[-4:] == ["email_queued", "reminder_sent", "expired", "email_queued"]
        assert [o["kind"] for o in proofs.outbox_for(db, proof_id)] == ["proof", "reminder", "expired"]
        assert proofs.get_proof(db, decided).status == "approved"  # decided proofs are left alone

        rev = proof.revision
        with pytest.raises(proofs.ProofExpired, match="on hold"):
            proofs.approve(db, proof_id, revision=1, nonce=rev.nonce, statements_ticked=all_statements(app))
        assert "approved" not in kinds(db, proof_id)

        # A fresh link reopens it; only then can the customer approve.
        proofs.resend_link(db, proof_id, actor="customer", now=later(days=20))
        assert proofs.get_proof(db, proof_id).status == "awaiting_approval"
        resent = [e for e in proofs.get_events(db, proof_id) if e["kind"] == "resent"][0]
        assert resent["data"]["reopened"] is True
        ok = proofs.approve(
            db,
            proof_id,
            revision=1,
            nonce=rev.nonce,
            statements_ticked=all_statements(app),
            now=later(days=20, seconds=5),
        )
        assert ok.recorded
        assert verify_chain(db, proof_id).intact


def test_send_reminders_command(tmp_path):
    app = make_app(tmp_path / "instance")
    result = app.test_cli_runner().invoke(args=["send-reminders"])
    assert result.exit_code == 0, result.output
    assert "Reminders queued: 0; proofs expired (production on hold): 0." in result.output
